"""Snapshot what a run publishes, to show a refactoring changed nothing a reader or a tool sees.

    python bench/same_outputs.py corpus DIR            # build the corpus once (its bytes then stay fixed)
    python bench/same_outputs.py snap DIR OUT.json     # run xlbatch on each inbox of DIR, snapshot the outbox
    python bench/same_outputs.py diff A.json B.json    # name every difference

The corpus: the sample inbox, 300 generated forms (bench/bench.py's generator), and the 413 fixtures of
bench/read_outcomes.py (seed variants, drifted layouts, LibreOffice saves, hostile and mislabelled
files) as one inbox. A snapshot holds, per inbox: the CSVs byte for byte, run.json without its run id,
times, durations and outbox path, every published file's name, and every cell value of every sheet of
consolidated.xlsx as calamine reads it (the anomaly ids, derived from content, stay in), and the parts of
every package (consolidated.xlsx, the report, each notice) by their SHA-256, so formats, comments, merges
and the documents' text and pictures are compared too: docProps/core.xml (the time written) is left out,
consolidated.xlsx's string cells are compared by their text (运行说明's volatile values masked), and the
report's comments without their dates and run id.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from hashlib import sha256
from pathlib import Path
from xml.etree import ElementTree

from python_calamine import CalamineWorkbook

ROOT = Path(__file__).resolve().parents[1]
XLBATCH = Path(sys.executable).with_name("xlbatch")
_VOLATILE = {"run_id", "started", "finished", "seconds", "started_at", "finished_at", "duration_s",
             "as_of", "previous_run", "stages", "timings", "pid", "host", "version", "outbox"}
_VOLATILE_ROWS = {"运行编号", "开始时间（北京时间）", "结束时间（北京时间）", "输出目录"}


def build_corpus(target: Path) -> None:
    sys.path[:0] = [str(ROOT / "bench"), str(ROOT / "tests")]
    import read_outcomes

    import bench

    shutil.copytree(ROOT / "inbox", target / "sample")
    bench.generate(target / "generated", 300)
    read_outcomes.build(target / "fixtures")


def _strip(value):
    if isinstance(value, dict):
        return {k: _strip(v) for k, v in value.items() if k not in _VOLATILE}
    if isinstance(value, list):
        return [_strip(v) for v in value]
    return value


def _cells(path: Path) -> dict:
    book = CalamineWorkbook.from_path(str(path))
    sheets = {name: book.get_sheet_by_name(name).to_python() for name in book.sheet_names}
    # 运行说明's run id and clock times differ on every run
    sheets["运行说明"] = [row for row in sheets["运行说明"] if row[0] not in _VOLATILE_ROWS]
    return sheets


def _parts(path: Path, volatile: set[str] = frozenset()) -> dict:
    """Each part of a package by its hash. A workbook's cells name their shared strings by index, and
    two clock times that fall in the same second share one: so each string cell is compared by its
    text (`volatile` ones masked) and the shared strings as a list without the volatile ones."""
    out = {}
    with zipfile.ZipFile(path) as package:
        names = package.namelist()
        strings = _shared_strings(package.read("xl/sharedStrings.xml")) if "xl/sharedStrings.xml" in names else []

        def text(match) -> bytes:
            value = strings[int(match[2])]
            return match[1] + b"<v>" + ("(volatile)" if value in volatile else value).encode() + b"</v>"

        for name in sorted(names):
            if name == "docProps/core.xml":
                continue
            data = package.read(name)
            if name == "xl/sharedStrings.xml":
                out[name] = [value for value in strings if value not in volatile]
                continue
            if name.startswith("xl/worksheets/sheet"):
                data = re.sub(rb'(<c [^>]*t="s"[^>]*>)<v>(\d+)</v>', text, data)
            if name == "word/comments.xml":  # each comment is dated, one names the run
                data = re.sub(rb'w:date="[^"]*"', b'w:date=""', data)
                data = re.sub(rb"\d{8}T\d{6}Z-[0-9a-f]{4}", b"RUN_ID", data)
            out[name] = sha256(data).hexdigest()
    return out


def _shared_strings(data: bytes) -> list[str]:
    ns = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
    return ["".join(t.text or "" for t in si.iter(f"{ns}t")) for si in ElementTree.fromstring(data).iter(f"{ns}si")]


def _volatile_strings(path: Path) -> set[str]:
    book = CalamineWorkbook.from_path(str(path))
    rows = book.get_sheet_by_name("运行说明").to_python()
    return {str(value) for row in rows if row[0] in _VOLATILE_ROWS for value in row[1:] if value != ""}


def snapshot_outbox(outbox: Path) -> dict:
    snap = {"files": sorted(p.name for p in outbox.iterdir() if p.is_file())}
    for csv in sorted(outbox.glob("*.csv")):
        snap[csv.name] = csv.read_text(encoding="utf-8-sig")
    run = _strip(json.loads((outbox / "run.json").read_text(encoding="utf-8")))
    # The packages' hashes cover clock times (运行说明, core.xml, the zip's own): their parts are compared.
    run["outputs"] = {name: v for name, v in run["outputs"].items() if not name.endswith((".xlsx", ".docx"))}
    snap["run.json"] = run
    snap["consolidated.xlsx"] = _cells(outbox / "consolidated.xlsx")
    book = outbox / "consolidated.xlsx"
    packages = [book, *outbox.glob("*.docx"), *sorted(outbox.glob("通知/*.docx"))]
    snap["parts"] = {str(p.relative_to(outbox)): _parts(p, _volatile_strings(book) if p == book else set())
                     for p in packages}
    return snap


def snap(corpus: Path, out: Path) -> None:
    result = {}
    for inbox in sorted(p for p in corpus.iterdir() if p.is_dir()):
        with tempfile.TemporaryDirectory() as tmp:
            outbox = Path(tmp) / "outbox"
            subprocess.run([str(XLBATCH), "run", "-q", "--inbox", str(inbox), "--outbox", str(outbox)],
                           check=False, cwd=tmp, stderr=subprocess.DEVNULL)
            result[inbox.name] = snapshot_outbox(outbox)
    out.write_text(json.dumps(result, ensure_ascii=False, indent=1, default=str), encoding="utf-8")


def _normalized(snapshot: dict) -> dict:
    """The volatile parts dropped again, so a snapshot taken with fewer of them dropped still compares."""
    for inbox in snapshot.values():
        inbox["run.json"] = _strip(inbox["run.json"])
        notes = inbox["consolidated.xlsx"]["运行说明"]
        inbox["consolidated.xlsx"]["运行说明"] = [row for row in notes if row[0] not in _VOLATILE_ROWS]
    return snapshot


def diff(a: Path, b: Path) -> int:
    left, right = (_normalized(json.loads(p.read_text(encoding="utf-8"))) for p in (a, b))
    differences = []

    def walk(x, y, where):
        if type(x) is not type(y) or not isinstance(x, dict | list):
            if x != y:
                differences.append(f"{where}: {str(x)[:120]!r} ≠ {str(y)[:120]!r}")
            return
        if isinstance(x, list) and len(x) != len(y):
            differences.append(f"{where}: {len(x)} ≠ {len(y)} items")
        keys = x.keys() | y.keys() if isinstance(x, dict) else range(min(len(x), len(y)))
        for k in sorted(keys, key=str):
            walk(x.get(k) if isinstance(x, dict) else x[k], y.get(k) if isinstance(y, dict) else y[k],
                 f"{where}/{k}")

    walk(left, right, "")
    print("\n".join(differences[:200]) or "identical")
    cells = sum(len(r) for inbox in left.values() for sheet in inbox["consolidated.xlsx"].values() for r in sheet)
    print(f"{len(left)} inboxes, {cells} cells compared, {len(differences)} differences")
    return 1 if differences else 0


if __name__ == "__main__":
    verb, *args = sys.argv[1:]
    if verb == "corpus":
        build_corpus(Path(args[0]))
    elif verb == "snap":
        snap(Path(args[0]), Path(args[1]))
    else:
        sys.exit(diff(Path(args[0]), Path(args[1])))
