"""What `analyse_file` makes of every fixture: a dump to compare before and after a change to reading.

    python bench/read_outcomes.py build DIR        # write the fixtures (once: their bytes stay fixed)
    python bench/read_outcomes.py dump DIR OUT     # analyse each file in DIR, write OUT (JSON)
    python bench/read_outcomes.py diff A B         # name every fixture whose outcome differs
    python bench/read_outcomes.py time DIR         # per-file analyse time over DIR, serial, 3 passes

The fixtures: the sample inbox, the seed and its formula variants, the drifted workbooks of
tests/variants.py, each also as LibreOffice saved it (.xlsx, .xlsm, .xls, .ods), the hostile files
of bench/hostile.py, 300 seeded mutants (bytes flipped, cut) of the seed as .xlsx, .xls and .ods,
and mislabelled files: each real format under every other spreadsheet name
(an .ods named .xlsx, an .xls named .xlsx, …, an upper-case .XLSX), a .docx, PDF and HTML export
named .xls/.xlsx, zero bytes, truncations, a password-protected workbook (msoffcrypto-tool).

Also a pytest plugin recording every outcome the tests produce (their fixtures are rebuilt on every
run, so they are compared by test, file and call order, not by bytes):

    XLBATCH_OUTCOMES=/tmp/before.jsonl PYTHONPATH=bench .venv/bin/python -m pytest -p read_outcomes tests/...
    python bench/read_outcomes.py diff /tmp/before.jsonl /tmp/after.jsonl
"""

from __future__ import annotations

import dataclasses
import io
import json
import os
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "bench")]


def outcome_dump(outcome) -> dict:
    """Everything an outcome says (rule, message, notes, each form's cells and figures) but its hash."""
    data = dataclasses.asdict(outcome)
    data.pop("sha256")
    data.pop("read_sha256", None)
    return json.loads(json.dumps(data, default=repr, ensure_ascii=False))


# --- the fixtures ----------------------------------------------------------------------------

def build(folder: Path) -> None:
    from sample_inbox import write_sample_inbox

    folder.mkdir(parents=True, exist_ok=True)
    write_sample_inbox(folder / "sample")
    real = _real_clients(folder / "real")
    _hostile(folder / "hostile")
    _mislabelled(folder / "mislabelled", real)
    _mutants(folder / "mutants", real)


def _real_clients(folder: Path) -> dict[str, Path]:
    """The seed, its variants and the drifted workbooks as XlsxWriter wrote them and as LibreOffice saved them."""
    import tempfile

    from lo import _RECALC_ALWAYS, VARIANTS, LibreOffice, soffice_exe
    from seed import seed_form
    from variants import LO_SOURCES

    from xlbatch.outputs.template import write_workbook

    source = folder / "source"
    source.mkdir(parents=True)
    files = {name: write_workbook(source / f"{name}.xlsx", [("自评表", seed_form(**kw))])
             for name, kw in VARIANTS.items()}
    files.update({name: make(source / f"{name}.xlsx") for name, make in LO_SOURCES.items()})
    profile = Path(tempfile.mkdtemp(prefix="lo_profile"))
    (profile / "user").mkdir()
    (profile / "user" / "registrymodifications.xcu").write_text(_RECALC_ALWAYS, encoding="utf-8")
    office = LibreOffice(soffice_exe(), profile)
    out = {}
    for fmt in ("xlsx", "xlsm", "xls", "ods"):
        converted = office.convert(list(files.values()), fmt, folder / fmt)
        out.update({f"{name}.{fmt}": path for name, path in zip(files, converted, strict=True)})
    out["seed.source"] = files["seed"]
    return out


def _hostile(folder: Path) -> None:
    import hostile

    folder.mkdir(parents=True)
    hostile.bomb(folder / "bomb.xlsx")
    hostile.liar(folder / "liar.xlsx")
    hostile.far_cell(folder / "far.xlsx")


def _mislabelled(folder: Path, real: dict[str, Path]) -> None:
    from msoffcrypto.format.ooxml import OOXMLFile

    folder.mkdir(parents=True)
    names = (".xlsx", ".xlsm", ".xls", ".ods", ".xlsb", ".XLSX", ".Xls")
    for fmt in ("source", "xlsx", "xlsm", "xls", "ods"):
        data = real[f"seed.{fmt}"].read_bytes()
        for suffix in names:
            (folder / f"{fmt}-named{suffix}").write_bytes(data)
        suffix = ".xlsx" if fmt == "source" else f".{fmt}"
        for cut in (10, 50, 90, 99):
            (folder / f"{fmt}-cut{cut}{suffix}").write_bytes(data[:len(data) * cut // 100])
    docx = io.BytesIO()
    with zipfile.ZipFile(docx, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", "<w:document/>")
    pdf = b"%PDF-1.5\n1 0 obj\n<<>>\nendobj\n%%EOF\n"
    html = "<html><table><tr><td>项目名称</td></tr></table></html>".encode()
    encrypted = io.BytesIO()
    with real["seed.source"].open("rb") as src:
        OOXMLFile(src).encrypt("123456", encrypted)
    others = {"docx": docx.getvalue(), "pdf": pdf, "html": html, "empty": b"", "encrypted": encrypted.getvalue(),
              "junk": b"\x00\x01garbage" * 100, "zip-empty": _empty_zip()}
    for kind, data in others.items():
        for suffix in (".xlsx", ".xls", ".ods"):
            (folder / f"{kind}-named{suffix}").write_bytes(data)
    with zipfile.ZipFile(folder / "ods-mimetype-only.xlsx", "w") as z:
        z.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")


def _mutants(folder: Path, real: dict[str, Path], each: int = 100) -> None:
    """Seeded bytes flipped and cut, as tests/test_hostile.py fuzzes: `each` per format, the same on every build."""
    import random

    folder.mkdir(parents=True)
    rng = random.Random(11)
    for fmt, suffix in (("source", ".xlsx"), ("xls", ".xls"), ("ods", ".ods")):
        seed = real[f"seed.{fmt}"].read_bytes()
        for n in range(each):
            data = bytearray(seed)
            for _ in range(rng.randint(1, 8)):
                data[rng.randrange(len(data))] = rng.randrange(256)
            cut = rng.randint(0, 3)
            (folder / f"{fmt}-{n:03d}{suffix}").write_bytes(bytes(data[:len(data) * cut // 4] if cut else data))


def _empty_zip() -> bytes:
    out = io.BytesIO()
    zipfile.ZipFile(out, "w").close()
    return out.getvalue()


# --- the dump ----------------------------------------------------------------------------------

def dump(folder: Path, out: Path) -> int:
    from xlbatch.config import Config
    from xlbatch.form.analyse import FileTask, analyse_file
    from xlbatch.intake.discover import sha256_of

    limits = Config().limits
    results = {}
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        rel = path.relative_to(folder).as_posix()
        stat = path.stat()
        task = FileTask(str(path), rel, sha256_of(path), limits, stat.st_size, stat.st_mtime)
        try:
            results[rel] = outcome_dump(analyse_file(task))
        except BaseException as exc:  # a panic in calamine is a finding here, not the end
            results[rel] = {"crash": f"{type(exc).__module__}.{type(exc).__name__}: {exc}"}
    out.write_text(json.dumps(results, ensure_ascii=False, indent=1, sort_keys=True), encoding="utf-8")
    return len(results)


def time_files(folder: Path, passes: int = 3) -> None:
    """analyse_file on every spreadsheet in `folder`, serially: per-file mean and median of each pass."""
    import statistics
    import time

    from xlbatch.config import Config
    from xlbatch.form.analyse import FileTask, analyse_file
    from xlbatch.intake.discover import SPREADSHEET_SUFFIXES, sha256_of

    limits = Config().limits
    paths = sorted(p for p in folder.rglob("*") if p.suffix.lower() in SPREADSHEET_SUFFIXES)
    tasks = [FileTask(str(p), p.name, sha256_of(p), limits) for p in paths]
    for n in range(passes):
        spent = []
        for task in tasks:
            start = time.perf_counter()
            analyse_file(task)
            spent.append(time.perf_counter() - start)
        print(f"pass {n + 1}: {len(tasks)} files, {sum(spent):.3f} s, mean {statistics.mean(spent) * 1e3:.3f} ms, "
              f"median {statistics.median(spent) * 1e3:.3f} ms per file")


def _load(path: Path) -> dict:
    if path.suffix == ".jsonl":  # from the plugin: keyed by test, file and call order
        seen: dict[str, int] = {}
        found = {}
        for line in path.read_text(encoding="utf-8").splitlines():
            entry = json.loads(line)
            key = f"{entry['test']} :: {entry['rel']}"
            seen[key] = seen.get(key, 0) + 1
            found[f"{key} #{seen[key]}"] = entry["outcome"]
        return found
    return json.loads(path.read_text(encoding="utf-8"))


def diff(a: Path, b: Path) -> int:
    before, after = _load(a), _load(b)
    changed = sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))
    for key in changed:
        print(f"--- {key}\n  before: {_brief(before.get(key))}\n  after:  {_brief(after.get(key))}")
    print(f"{len(before)} before, {len(after)} after, {len(changed)} differ")
    return 1 if changed else 0


def _brief(outcome: dict | None) -> str:
    if outcome is None:
        return "(absent)"
    if "crash" in outcome:
        return outcome["crash"]
    if outcome["finding"]:
        return f"{outcome['finding']['rule']}: {outcome['finding']['message']}"
    return f"{len(outcome['forms'])} forms; notes {outcome['notes']}"


# --- the pytest plugin ---------------------------------------------------------------------------

def pytest_configure(config) -> None:
    target = os.environ.get("XLBATCH_OUTCOMES")
    if not target:
        return
    import xlbatch.form.analyse as analyse
    import xlbatch.ops.execute as execute

    real = analyse.analyse_file

    def recording(task, *args, **kwargs):
        outcome = real(task, *args, **kwargs)
        entry = {"test": os.environ.get("PYTEST_CURRENT_TEST", "").rsplit(" (", 1)[0], "rel": task.rel,
                 "outcome": outcome_dump(outcome)}
        line = (json.dumps(entry, ensure_ascii=False, sort_keys=True) + "\n").encode()
        fd = os.open(target, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)  # forked workers write too
        try:
            os.write(fd, line)
        finally:
            os.close(fd)
        return outcome

    analyse.analyse_file = execute.analyse_file = recording


def main(argv: list[str]) -> int:
    command, *args = argv
    if command == "build":
        build(Path(args[0]))
        return 0
    if command == "dump":
        print(f"{dump(Path(args[0]), Path(args[1]))} files analysed")
        return 0
    if command == "diff":
        return diff(Path(args[0]), Path(args[1]))
    if command == "time":
        time_files(Path(args[0]))
        return 0
    raise SystemExit(__doc__)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
