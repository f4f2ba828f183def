"""Write the run's outputs (SPEC sections 4 and 7): consolidated.xlsx, projects.csv, anomalies.csv,
县级绩效自评汇总报告.docx, 通知/UNIT.docx and run.json.

All are written into the run's own folder runs/RUN_ID/ (each file to a
temporary name, flushed to disk and renamed; the notices into a temporary
folder renamed whole), run.json last; `outbox.publish` then flips the outbox's
`.current` pointer to that folder in one rename, so the names in the outbox
change together (see outbox.py). CSVs are UTF-8 with a BOM; submission text
that Excel would take for a formula gets a leading apostrophe.
"""

from __future__ import annotations

import csv
import math
import os
from pathlib import Path

import pandas as pd

from ..form.normalize import records
from ..intake.discover import sha256_of
from ..ops.outbox import REPORT, fsync_file, run_dir, write_atomically
from .aside import Aside
from .files import ANOMALY_COLUMNS, PROJECT_COLUMNS, csv_safe, write_run_json
from .formats import run_year
from .notices import place_notices, write_notices_unplaced
from .report import write_report
from .reviews import gather_reviews
from .workbook import write_workbook


def write_outputs(result, outbox: Path) -> Path:
    """Write every output for `result` into runs/RUN_ID/ (not yet published); returns that folder."""
    folder = run_dir(outbox, result.run_id)
    # The auditors' 复核状态/复核意见 so far: the shown workbook and the saved copies not yet carried.
    reviews, result.extra["reviews_from"] = gather_reviews(outbox)
    write_folder(folder, result, reviews)
    return folder


def write_folder(folder: Path, result, reviews: dict) -> None:
    """Every output of `result` into `folder`, run.json last; `reviews`: the auditors' so far, to carry.
    A county of a run `--by county` (counties.py) is written so, into a folder of its own."""
    # The report and the notices in a child process while this one writes the workbook (aside.py).
    documents = Aside(lambda: _write_documents(folder, result))
    try:
        closed = write_atomically(folder / "consolidated.xlsx", lambda tmp: write_workbook(tmp, result, reviews))
        write_atomically(folder / "projects.csv", lambda tmp: write_projects_csv(tmp, result.forms))
        write_atomically(folder / "anomalies.csv", lambda tmp: write_anomalies_csv(tmp, result.findings))
    except BaseException:
        documents.cancel()
        raise
    notices = documents.result()
    _place_documents(folder)
    result.extra["closed_reviews"] = len(closed)
    # What a later run checks before repeating these outputs (nightly.py), and what anyone can verify.
    names = ("consolidated.xlsx", "projects.csv", "anomalies.csv", REPORT, *notices)
    result.extra["outputs"] = {name: {"sha256": sha256_of(folder / name), "bytes": (folder / name).stat().st_size}
                               for name in names}
    write_atomically(folder / "run.json", lambda tmp: write_run_json(tmp, result))  # last: the folder is complete


def _write_documents(folder: Path, result) -> list[str]:
    """县级绩效自评汇总报告.docx and 通知/ under their temporary names, flushed to disk; returns the
    notices' names. `_place_documents` renames them, in this process: every rename into the run's
    folder is made by the run's own process, in the order the outputs have always been placed."""
    report = _unplaced(folder / REPORT)
    write_report(report, result)
    fsync_file(report)
    return write_notices_unplaced(folder, result, run_year(result))


def _place_documents(folder: Path) -> None:
    os.replace(_unplaced(folder / REPORT), folder / REPORT)
    place_notices(folder)


def _unplaced(path: Path) -> Path:
    """The temporary name `write_atomically` would write `path` under (the next run removes leftovers)."""
    return path.with_name(f".{path.name}.tmp")


def write_projects_csv(path: Path, forms: pd.DataFrame) -> None:
    rows = []
    for f in records(forms):
        row = {c: f[c] for c in PROJECT_COLUMNS}
        row["year"] = "" if pd.isna(f["year"]) else int(f["year"])
        row["execution_rate"] = _round(f["execution_rate"], 4)
        for c in ("budget_initial", "budget_full_year", "executed", "budget_weight",
                  "budget_score_reported", "budget_score", "total_reported", "total_score"):
            row[c] = _round(f[c], 4)
        rows.append(row)
    _write_csv(path, PROJECT_COLUMNS, rows, text_columns={"source_file", "sheet", "department",
                                                          "unit", "project", "superseded_by"})


def write_anomalies_csv(path: Path, findings) -> None:
    rows = [{"anomaly_id": f.anomaly_id, **{c: getattr(f, c) for c in ANOMALY_COLUMNS[1:]}}
            for f in findings]
    _write_csv(path, ANOMALY_COLUMNS, rows, text_columns=set(ANOMALY_COLUMNS))


def _write_csv(path: Path, columns, rows, text_columns: set[str]) -> None:
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=columns)
        writer.writeheader()
        for row in rows:
            writer.writerow({k: csv_safe(v) if k in text_columns else _blank(v)
                             for k, v in row.items()})


def _round(value, digits: int):
    if value is None or pd.isna(value) or not math.isfinite(value):  # never "inf" in a CSV
        return ""
    return round(float(value), digits)


def _blank(value):
    if value is None:
        return ""
    if isinstance(value, float) and pd.isna(value):
        return ""
    return value
