"""A cold `xlbatch run` against its floors, all measured in one invocation (issue 16).

    python bench/floors.py INBOX [--workers N] [--repeat 3]

Times, each in a fresh subprocess and `--repeat` times (the minimum is printed: the machine is shared):

1. `xlbatch run` end to end, cold (a fresh outbox each time), with N workers (default: the cores);
2. the read floor: raw python-calamine reading every sheet's values and merged ranges of every inbox
   file (bench/bench.py's FLOOR), in one process and in N processes (files dealt out in chunks);
3. the workbook write floor: a raw XlsxWriter write of exactly the cells of the consolidated.xlsx the
   run produced (every sheet, every cell value as calamine reads it back) with write(), no formats,
   comments, merges, links or conditional formats, with the run's Workbook options (calamine's
   padding "" is not written: the run writes no such cell);
4. the documents write floor: python-docx (no styling) writing the same paragraphs, tables (cell
   texts) and pictures (the PNG bytes as embedded) as the run's 县级绩效自评汇总报告.docx and every
   通知/UNIT.docx, each saved to its own file; once from python-docx's default template, once from
   that template less its styles ("lean", as the run's documents start): the default template's
   780 KB of styles cost more to save than the run's whole writing, so the lean one is the floor
   the ratios use.

A write floor's subprocess first loads the cells or texts from a pickle; that load is not counted
(the subprocess prints it and it is subtracted). Python's start-up and the library's import are
counted, as they are in the run and in the read floor. The ratios: the cold run over (read floor +
workbook floor), and over (read floor + workbook floor + documents floor), with the read floor of N
processes (the run reads with N workers) and of one. It asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import pickle
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from python_calamine import CalamineWorkbook

REPORT = "县级绩效自评汇总报告.docx"
NOTICES = "通知"

READ_FLOOR = """
import sys, pathlib, python_calamine as pc
from concurrent.futures import ProcessPoolExecutor

def read(paths):
    for p in paths:
        book = pc.CalamineWorkbook.from_path(p)
        for name in book.sheet_names:
            sheet = book.get_sheet_by_name(name)
            sheet.to_python()
            sheet.merged_cell_ranges

if __name__ == "__main__":
    paths = [str(p) for p in sorted(pathlib.Path(sys.argv[1]).rglob("*.xlsx"))]
    workers = int(sys.argv[2])
    if workers == 1:
        read(paths)
    else:
        step = 25  # small chunks, so the workers finish together
        with ProcessPoolExecutor(workers) as pool:
            list(pool.map(read, [paths[i:i + step] for i in range(0, len(paths), step)]))
"""

# argv: the pickle of {sheet: rows}, the target. Prints the seconds spent loading the pickle.
WORKBOOK_FLOOR = """
import pickle, sys, time
t = time.perf_counter()
with open(sys.argv[1], "rb") as fh:
    sheets = pickle.load(fh)
load = time.perf_counter() - t
import xlsxwriter
book = xlsxwriter.Workbook(sys.argv[2], {"strings_to_formulas": False, "strings_to_urls": False,
                                         "strings_to_numbers": False, "in_memory": True})
for name, rows in sheets.items():
    ws = book.add_worksheet(name)
    for i, row in enumerate(rows):
        for j, value in enumerate(row):
            if value != "":
                ws.write(i, j, value)
book.close()
print(load)
"""

# argv: the pickle of [(file name, blocks)], the target folder, "default" or the path of the lean template.
# A block: ("p", text), ("t", rows of cell texts), ("img", PNG bytes).
DOCUMENTS_FLOOR = """
import io, pickle, sys, time
t = time.perf_counter()
with open(sys.argv[1], "rb") as fh:
    documents = pickle.load(fh)
load = time.perf_counter() - t
from pathlib import Path
from docx import Document
target, template = Path(sys.argv[2]), sys.argv[3]
for name, blocks in documents:
    doc = Document() if template == "default" else Document(template)
    for kind, content in blocks:
        if kind == "p":
            doc.add_paragraph(content)
        elif kind == "img":
            doc.add_picture(io.BytesIO(content))
        else:
            table = doc.add_table(rows=len(content), cols=max(len(r) for r in content))
            for row, values in zip(table.rows, content):
                for cell, value in zip(row.cells, values):
                    cell.text = value
    doc.save(str(target / name))
print(load)
"""


def timed(cmd: list[str]) -> tuple[float, str]:
    """Wall seconds of `cmd` (a fresh process) and what it printed."""
    start = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({done.returncode}):\n{done.stderr[-2000:]}")
    return seconds, done.stdout


def best(cmd: list[str], repeat: int, before=None) -> float:
    """The fastest of `repeat` runs of `cmd`; `before()` runs ahead of each, untimed."""
    runs = []
    for _ in range(repeat):
        if before:
            before()
        runs.append(timed(cmd)[0])
    return min(runs)


def best_less_load(cmd: list[str], repeat: int) -> float:
    """The fastest of `repeat` runs of a floor script, less the pickle load it reports."""
    return min(seconds - float(out) for seconds, out in (timed(cmd) for _ in range(repeat)))


def workbook_cells(path: Path) -> dict[str, list[list]]:
    book = CalamineWorkbook.from_path(str(path))
    return {name: book.get_sheet_by_name(name).to_python() for name in book.sheet_names}


def document_blocks(path: Path) -> list[tuple[str, object]]:
    """The body of a .docx in order: paragraph texts, the pictures they hold, tables' cell texts."""
    from docx import Document
    from docx.oxml.ns import qn
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    doc = Document(str(path))
    blocks = []
    for child in doc.element.body.iterchildren():
        if child.tag == qn("w:p"):
            pictures = list(child.iter(qn("a:blip")))
            blocks += [("img", doc.part.related_parts[blip.get(qn("r:embed"))].blob) for blip in pictures]
            text = Paragraph(child, doc).text
            if text or not pictures:
                blocks.append(("p", text))
        elif child.tag == qn("w:tbl"):
            blocks.append(("t", [[cell.text for cell in row.cells] for row in Table(child, doc).rows]))
    return blocks


def floors(inbox: Path, workers: int, repeat: int) -> dict[str, float | int]:
    python = sys.executable
    out: dict[str, float | int] = {}
    with tempfile.TemporaryDirectory(prefix="xlbatch-floors-") as tmp:
        work = Path(tmp)
        outbox = work / "outbox"
        run = [str(Path(python).with_name("xlbatch")), "run", "-q", "--inbox", str(inbox),
               "--outbox", str(outbox), "--workers", str(workers)]
        out["cold"] = best(run, repeat, before=lambda: shutil.rmtree(outbox, ignore_errors=True))
        out["read_1"] = best([python, "-c", READ_FLOOR, str(inbox), "1"], repeat)
        out["read_n"] = best([python, "-c", READ_FLOOR, str(inbox), str(workers)], repeat)

        cells = workbook_cells(outbox / "consolidated.xlsx")
        (work / "cells.pickle").write_bytes(pickle.dumps(cells))
        out["sheets"] = len(cells)
        out["cells"] = sum(value != "" for rows in cells.values() for row in rows for value in row)
        out["workbook"] = best_less_load(
            [python, "-c", WORKBOOK_FLOOR, str(work / "cells.pickle"), str(work / "floor.xlsx")], repeat)

        documents = [(REPORT, document_blocks(outbox / REPORT))]
        documents += [(p.name, document_blocks(p)) for p in sorted((outbox / NOTICES).glob("*.docx"))]
        (work / "documents.pickle").write_bytes(pickle.dumps(documents))
        (work / "docs").mkdir()
        out["documents"] = len(documents)
        templates = {"default": "default", "lean": str(_lean_template(work / "lean.docx"))}
        for name, template in templates.items():
            out[f"docs_{name}"] = best_less_load(
                [python, "-c", DOCUMENTS_FLOOR, str(work / "documents.pickle"), str(work / "docs"), template],
                repeat)
    return out


def _lean_template(path: Path) -> Path:
    """python-docx's default template less what the run's documents drop (document._lean, the run's own
    code), made here once and not timed: the run makes its own once a run."""
    from docx import Document

    from xlbatch.outputs.document import _lean

    doc = Document()
    _lean(doc)
    doc.save(str(path))
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("inbox", type=Path)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    n = args.workers
    f = floors(args.inbox, n, args.repeat)
    print(f"{len(list(args.inbox.rglob('*.xlsx')))} inbox files, {n} workers, {os.cpu_count()} cores, "
          f"best of {args.repeat}")
    rows = [("xlbatch run (cold)", f["cold"]), ("read floor, 1 process", f["read_1"]),
            (f"read floor, {n} processes", f["read_n"]),
            (f"workbook write floor ({f['sheets']} sheets, {f['cells']} cells)", f["workbook"]),
            (f"documents write floor ({f['documents']} .docx, lean template)", f["docs_lean"]),
            ("documents write floor (default template)", f["docs_default"])]
    for label, seconds in rows:
        print(f"  {label:52s} {seconds:6.2f} s")
    for label, read in ((f"{n} processes", f["read_n"]), ("1 process", f["read_1"])):
        workbook, everything = read + f["workbook"], read + f["workbook"] + f["docs_lean"]
        print(f"\n  read floor with {label}:")
        print(f"    run / (read + workbook floor)               {f['cold'] / workbook:5.2f}×")
        print(f"    run / (read + workbook + documents floor)   {f['cold'] / everything:5.2f}×   (goal ≤ 1.5×)")


if __name__ == "__main__":
    main()
