"""What changed since the previous run: files new, changed or withdrawn, and the figures that moved.

A run's `snapshot` (kept in the ledger) holds each inbox file's hash and status
and each accepted form's key figures and findings. `compare` sets this run's
snapshot against the one of the run the outbox showed before (its `.current`
run), so the report always reads "since the outputs you last saw". Forms are
matched by identity (实施单位 | 项目名称 | year, as anomaly ids are), so a
resubmission under a new file name is compared with the form it replaces.
Only forms from new or changed files are compared: a configuration change that
moves every recomputed score is not a change in the submissions.
"""

from __future__ import annotations

import math
from collections import defaultdict

import pandas as pd

from ..form.normalize import records
from ..form.values import format_number
from ..form.vocabulary import FUND_COL_LABELS, in_amount_unit
from ..models import form_identity

# Figures compared for a changed form, with their Chinese labels (the 变更记录 sheet); the form's own
# fields by the vocabulary's names.
FIGURES = {
    "total_reported": "自评总分",
    "total_score": "复算总分",
    "execution_rate": FUND_COL_LABELS["rate"],
    "budget_full_year": in_amount_unit(FUND_COL_LABELS["full_year"]),
    "executed": in_amount_unit(FUND_COL_LABELS["executed"]),
    "grade_reported": "自评等级",
    "grade": "复算等级",
    "anomaly_count": "问题数",
}
_DIGITS = 4  # as in projects.csv


def snapshot(result) -> dict:
    files = {f.path: {"sha256": f.sha256, "status": f.status, "code": f.code} for f in result.files}
    findings = defaultdict(list)
    for f in result.findings:
        if f.form_id is not None:
            findings[f.form_id].append([f.anomaly_id, f.rule])
    forms = []
    for row in records(result.forms, index="form_id"):
        forms.append({
            "identity": form_identity(row), "source_file": row["source_file"], "sheet": row["sheet"],
            "unit": row["unit"], "project": row["project"], "year": _value(row["year"]),
            "counted": row["superseded_by"] == "",
            "figures": {k: _value(row[k]) for k in FIGURES},
            "findings": sorted(findings.get(row["form_id"], [])),
        })
    return {"files": files, "forms": forms}


def compare(previous_run: str | None, before: dict | None, now: dict) -> dict:
    """The `changes` of run.json; `before` is None when there is no previous run to compare with."""
    if before is None:
        return {"previous_run": None, "files": [], "forms": [], "counts": _counts([], [])}
    files = _file_changes(before["files"], now["files"])
    touched = {f["path"] for f in files if f["change"] in ("new", "changed")}
    gone = {f["path"] for f in files if f["change"] in ("changed", "withdrawn")}
    forms = _form_changes(before["forms"], now["forms"], touched, gone)
    return {"previous_run": previous_run, "files": files, "forms": forms, "counts": _counts(files, forms)}


def _file_changes(before: dict, now: dict) -> list[dict]:
    out = []
    for path in sorted(before.keys() | now.keys()):
        old, new = before.get(path), now.get(path)
        if old and new and old["sha256"] == new["sha256"]:
            continue
        change = "new" if old is None else "withdrawn" if new is None else "changed"
        out.append({"change": change, "path": path,
                    "sha256_before": old["sha256"] if old else "", "sha256_after": new["sha256"] if new else "",
                    "status_before": _status(old), "status_after": _status(new)})
    return out


def _status(entry: dict | None) -> str:
    if entry is None:
        return ""
    return f"{entry['status']} {entry['code']}".strip()


def _form_changes(before: list[dict], now: list[dict], touched: set[str], gone: set[str]) -> list[dict]:
    previous = _by_identity(before)
    current = _by_identity(now)
    out = []
    for form in now:
        if form["source_file"] not in touched or current[form["identity"]] is not form:
            continue
        old = previous.get(form["identity"])
        if old is None:
            out.append(_form_entry("new", form, {}, [], []))
            continue
        moved = {k: {"before": old["figures"][k], "after": v} for k, v in form["figures"].items()
                 if not _same(old["figures"].get(k), v)}
        old_ids, new_ids = dict(map(tuple, old["findings"])), dict(map(tuple, form["findings"]))
        added = [{"anomaly_id": i, "rule": r} for i, r in new_ids.items() if i not in old_ids]
        resolved = [{"anomaly_id": i, "rule": r} for i, r in old_ids.items() if i not in new_ids]
        if moved or added or resolved:
            out.append(_form_entry("changed", form, moved, added, resolved, old))
    for identity, old in previous.items():
        if old["source_file"] in gone and identity not in current:
            out.append(_form_entry("removed", old, {}, [], []))
    return out


def _by_identity(forms: list[dict]) -> dict[str, dict]:
    """One form per identity: the one that counts (a superseded duplicate only when no other exists)."""
    out: dict[str, dict] = {}
    for form in forms:
        if form["counted"] or form["identity"] not in out:
            out[form["identity"]] = form
    return out


def _form_entry(change: str, form: dict, moved: dict, added: list, resolved: list, old: dict | None = None) -> dict:
    entry = {"change": change, **{k: form[k] for k in ("unit", "project", "year", "source_file", "sheet")},
             "moved": moved, "findings_added": added, "findings_resolved": resolved, "notes": []}
    total = moved.get("total_reported")
    flagged = old["figures"]["anomaly_count"] if old else 0
    if total and _num(total["after"]) > _num(total["before"]) and flagged:
        entry["notes"].append(f"上次被标记 {flagged} 个问题后，自评总分由 {_fmt(total['before'])} "
                              f"调高到 {_fmt(total['after'])}")
    return entry


def _counts(files: list[dict], forms: list[dict]) -> dict[str, int]:
    counts = {k: sum(f["change"] == k for f in files) for k in ("new", "changed", "withdrawn")}
    counts["forms_changed"] = len(forms)
    return counts


def _value(value):
    """A JSON-safe figure: None for a missing number, floats rounded as in projects.csv."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return None
    if isinstance(value, str):
        return value
    number = float(value)
    return int(number) if number.is_integer() and abs(number) < 2**53 else round(number, 6)


def _same(a, b) -> bool:
    if isinstance(a, int | float) and isinstance(b, int | float):
        return round(a, _DIGITS) == round(b, _DIGITS)
    return a == b


def _num(value) -> float:
    return float(value) if isinstance(value, int | float) else -math.inf


def _fmt(value) -> str:
    return format_number(value) if value is None or isinstance(value, int | float) else str(value)
