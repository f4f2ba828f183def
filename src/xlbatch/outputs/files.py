"""The run's plain files, without a spreadsheet or a document library (nor pandas): the CSVs' columns
(SPEC section 4) and the guard on their text, and run.json. A run `--by county` writes its summary's
CSVs and run.json with these alone (counties.py); write.py, everything else.
"""

from __future__ import annotations

import json
from pathlib import Path

from .. import xlbatch_version
from ..checks.rules import CATALOGUE, explain

PROJECT_COLUMNS = [
    "source_file", "sheet", "department", "unit", "project", "year", "budget_initial",
    "budget_full_year", "executed", "execution_rate", "budget_weight", "budget_score_reported",
    "budget_score", "total_reported", "total_score", "grade", "grade_reported", "anomaly_count",
    "superseded_by",
]
ANOMALY_COLUMNS = ["anomaly_id", "severity", "rule", "source_file", "sheet", "cell", "unit",
                   "project", "message", "value", "expected"]
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(value) -> str:
    """Text that Excel would evaluate as a formula gets a leading apostrophe."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def write_run_json(path: Path, result, indent: int | None = 2) -> None:
    """run.json; `indent` None for a province's (tens of thousands of files): json's C encoder then
    writes it, 10× faster than the Python one an indent needs."""
    data = {
        "run_id": result.run_id,
        "xlbatch_version": xlbatch_version(),
        "started_at": result.started_at,
        "finished_at": result.finished_at,
        "inbox": result.inbox,
        "outbox": result.outbox,
        "counts": result.counts(),
        "config": result.config.model_dump(),
        "rules": [{"code": r.code, "severity": r.severity, "title": r.title,
                   "description": explain(r, result.config)} for r in CATALOGUE],
        "files": [f.to_json() for f in result.files],
        **result.extra,
    }
    path.write_text(json.dumps(data, ensure_ascii=False, indent=indent), encoding="utf-8")
