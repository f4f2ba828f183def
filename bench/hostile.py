"""How fast and how cheaply hostile files are refused (figures, not a test).

    python bench/hostile.py

Builds a 2 GiB decompression bomb, an archive whose directory lies about its
sizes, and a form with one value at XFD1048576, then times `analyse_file` on
each in a fresh subprocess and reports its wall time and peak memory.
Goal (issue 5): the bomb refused in well under 2 s with under 300 MB.
"""

from __future__ import annotations

import io
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

PROBE = """
import sys, time
from pathlib import Path
from xlbatch.form.analyse import FileTask, analyse_file
from xlbatch.config import Config
t = time.perf_counter()
out = analyse_file(FileTask(sys.argv[1], Path(sys.argv[1]).name, "", Config().limits))
elapsed = time.perf_counter() - t
# VmHWM belongs to this process image; ru_maxrss would carry over the parent's peak across exec.
peak = next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM")) / 1024
code = out.finding.rule if out.finding else "accepted"
print(f"{elapsed:.3f}\\t{peak:.0f}\\t{code}\\t{(out.finding.message if out.finding else '; '.join(out.notes))[:90]}")
"""


def bomb(path: Path) -> Path:
    chunk = b" " * (8 << 20)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        with z.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as fh:
            for _ in range(256):
                fh.write(chunk)
    return path


def liar(path: Path) -> Path:
    from test_hostile import _lying_sizes

    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("xl/worksheets/sheet1.xml", b"<a>" + b" " * (150 << 20) + b"</a>")
    path.write_bytes(_lying_sizes(out.getvalue(), "xl/worksheets/sheet1.xml", 1000))
    return path


def far_cell(path: Path) -> Path:
    import xlsxwriter
    from seed import seed_form

    from xlbatch.outputs.template import write_form

    book = xlsxwriter.Workbook(str(path))
    ws = book.add_worksheet("自评表")
    write_form(book, ws, seed_form())
    ws.write("XFD1048576", "误输入")
    book.close()
    return path


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        cases = {"2 GiB bomb": bomb(work / "bomb.xlsx"), "lying sizes (150 MB)": liar(work / "liar.xlsx"),
                 "value at XFD1048576": far_cell(work / "far.xlsx")}
        print(f"{'file':24s} {'on disk':>9s} {'seconds':>8s} {'peak MB':>8s}  outcome")
        for name, path in cases.items():
            out = subprocess.run([sys.executable, "-c", PROBE, str(path)], capture_output=True, text=True,
                                 check=True).stdout.strip()
            seconds, peak, code, message = out.split("\t")
            size = path.stat().st_size / 2**20
            print(f"{name:24s} {size:7.1f}MB {float(seconds):8.3f} {float(peak):8.0f}  {code}: {message}")


if __name__ == "__main__":
    main()
