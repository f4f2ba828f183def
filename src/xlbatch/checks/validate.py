"""Run the rule catalogue as pandera schemas over the whole run's frames.

Two schemas, one per frame (forms: header and funds; indicators: one row per
indicator), are built from the catalogue: each rule's check becomes a pandera
`Check` named by the rule code. Validation is lazy and runs once per stage over
the concatenated frames of the whole run (pandera's per-call overhead is large,
NOTES.md), on just the columns the schema declares and the checks read
(`Check.reads`). The failure-case table, keyed by (check name, index), becomes
one `Finding` per failing row, described from all its columns, with the row's
cell reference from its `cells` map.
"""

from __future__ import annotations

from functools import partial

import pandas as pd
import pandera.pandas as pa

from ..config import Config
from ..form.normalize import records
from ..models import Finding, form_identity
from .rules import CATALOGUE, EVALUATE, FORMS, INDICATORS, Check, Rule, explain

# pandera loads its pandas backend (and hypothesis, when installed: ~0.1 s) on the first
# validation. Load it now: the pipeline imports this module while the files are being read.
pa.DataFrameSchema.get_backend(check_type=pd.DataFrame)

_FORM_COLUMNS = {
    "source_file": pa.Column(str),
    "sheet": pa.Column(str),
    "project": pa.Column(str),
    "unit": pa.Column(str),
    "budget_full_year_raw": pa.Column(str),
    "executed_raw": pa.Column(str),
    "budget_full_year_ok": pa.Column(bool),
    "executed_ok": pa.Column(bool),
    "fund_total_full_year": pa.Column(float, nullable=True),
    "fund_total_executed": pa.Column(float, nullable=True),
    "total_reported": pa.Column(float, nullable=True),
}
_SCORED_FORM_COLUMNS = {
    "execution_rate": pa.Column(float, nullable=True),
    "budget_score": pa.Column(float, pa.Check.ge(0)),
    "total_score": pa.Column(float, pa.Check.ge(0)),
}
_INDICATOR_COLUMNS = {
    "form_id": pa.Column(int),
    "name": pa.Column(str),
    "weight": pa.Column(float, nullable=True),
    "score_reported": pa.Column(float, nullable=True),
    "row": pa.Column(int, pa.Check.ge(1)),
}
_SCORED_INDICATOR_COLUMNS = {
    "kind": pa.Column(str, pa.Check.isin(
        ["quantitative", "qualitative", "not_applicable", "incomparable", "missing_actual"])),
    "score": pa.Column(float, nullable=True),
}


def schema(frame: str, stage: str, cfg: Config) -> pa.DataFrameSchema:
    """The pandera schema of `frame` holding the catalogue's checks for `stage`."""
    if frame == FORMS:
        columns = dict(_FORM_COLUMNS, **(_SCORED_FORM_COLUMNS if stage == EVALUATE else {}))
    else:
        columns = dict(_INDICATOR_COLUMNS, **(_SCORED_INDICATOR_COLUMNS if stage == EVALUATE else {}))
    checks = [
        pa.Check(partial(check.passes, cfg=cfg), name=rule.code, ignore_na=False,
                 description=explain(rule, cfg))
        for rule, check in _checks(frame, stage)
    ]
    return pa.DataFrameSchema(columns, checks=checks, name=f"{frame}:{stage}")


def run_stage(stage: str, forms: pd.DataFrame, indicators: pd.DataFrame,
              cfg: Config) -> list[Finding]:
    """Findings of every rule of `stage` over both frames, in catalogue order."""
    indicators = _with_form_columns(indicators, forms)
    frames = {FORMS: forms, INDICATORS: indicators}
    failing = {frame: _failures(schema(frame, stage, cfg), df, _checks(frame, stage))
               for frame, df in frames.items()}
    findings = []
    for rule, check in _checks(None, stage):
        indices = failing[check.frame].get(rule.code, [])
        # One bulk lookup per rule; describe() reads each failing row as a plain dict.
        rows = records(frames[check.frame].loc[indices]) if indices else []
        findings.extend(_finding(rule, check, row, i, cfg) for i, row in zip(indices, rows, strict=True))
    return findings


def _checks(frame: str | None, stage: str) -> list[tuple[Rule, Check]]:
    return [(rule, check) for rule in CATALOGUE if rule.stage == stage
            for check in rule.checks if frame is None or check.frame == frame]


def _failures(s: pa.DataFrameSchema, df: pd.DataFrame, checks: list[tuple[Rule, Check]]) -> dict[str, list]:
    """Failing index values per check name; a failure that is no rule is a bug, not data."""
    if df.empty:
        return {}
    # pandera's failure-case table holds every column of every failing row: show it only the
    # columns the schema declares and the checks read, not the cell maps and messages.
    judged = dict.fromkeys([*s.columns, *(col for _, check in checks for col in check.reads)])
    try:
        s.validate(df[list(judged)], lazy=True, inplace=True)  # inplace: no copy; nothing is coerced
    except pa.errors.SchemaErrors as exc:
        cases = exc.failure_cases
        unexpected = cases[~cases["check"].isin([r.code for r in CATALOGUE]) | cases["index"].isna()]
        if not unexpected.empty:  # a check that raised (or returned no row-wise result) is a bug too
            raise RuntimeError(f"internal schema error in {s.name}:\n{unexpected.to_string()}") from exc
        out: dict[str, set] = {}
        for code, index in zip(cases["check"].tolist(), cases["index"].tolist(), strict=True):
            out.setdefault(code, set()).add(int(index))
        return {code: sorted(indices) for code, indices in out.items()}
    return {}


def _with_form_columns(indicators: pd.DataFrame, forms: pd.DataFrame) -> pd.DataFrame:
    cols = ["source_file", "sheet", "unit", "project", "year"]
    if indicators.empty:
        return indicators.assign(**{c: pd.Series(dtype=object) for c in cols})
    return indicators.join(forms[cols], on="form_id")


def _finding(rule: Rule, check: Check, row: dict, index, cfg: Config) -> Finding:
    detail = check.describe(row, cfg)
    is_indicator = check.frame == INDICATORS
    return Finding(
        rule=rule.code,
        severity=rule.severity,
        source_file=row["source_file"],
        sheet=row["sheet"],
        cell=detail.cell,
        unit=row["unit"],
        project=row["project"],
        message=detail.message,
        value=detail.value,
        expected=detail.expected,
        form_id=int(row["form_id"]) if is_indicator else int(index),
        indicator_id=int(index) if is_indicator else None,
        field=detail.field,
        identity=form_identity(row),
    )
