"""Turn parsed forms into two DataFrames: one row per form, one row per indicator.

Numbers are parsed here (text numbers, full-width digits, units, percentages);
the raw text of each required amount is kept beside its number so validation
can tell an empty cell (MISSING_FIELD) from one that is not a usable number
(BAD_NUMBER: not a number, not finite, negative or absurd; `_problem` says which).
Every other amount, score or weight that is not a finite number counts as empty,
as text in those cells always has: no infinity or NaN reaches a sum or an output.
Each frame carries a `cells` column mapping field → A1 reference so every
finding can name its cell; the forms frame a `nearby_labels` column mapping each
field whose label was not found → (the role's name, the labels found where it was
expected), which a MISSING_FIELD message lists.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from ..models import RawForm
from .values import amount_problem, clean_text, parse_amount
from .vocabulary import FUND_COLS, FUND_ROWS, HEADER, role_key


@dataclass
class Submission:
    """A parsed form plus what we know of its file (needed for duplicates)."""

    form: RawForm
    mtime: float


FUND_FIELDS = [(r, c, f"fund_{r}_{c}") for r in FUND_ROWS for c in FUND_COLS]  # row, column, field
FORM_COLUMNS = [
    "source_file", "sheet", "department", "unit", "project", "year", "title",
    *[field for _, _, field in FUND_FIELDS],
    "budget_full_year_raw", "executed_raw", "budget_full_year_ok", "executed_ok",
    "budget_full_year_problem", "executed_problem",
    "total_weight", "total_reported", "goal_expected", "goal_actual",
    "blocks", "categories", "cells", "nearby_labels", "mtime",
]
FORM_NUMBERS = ("year", *[field for _, _, field in FUND_FIELDS],
                "total_weight", "total_reported", "mtime")
INDICATOR_COLUMNS = [
    "form_id", "level1", "level2", "name", "target", "actual", "weight",
    "score_reported", "deviation", "row", "cells",
]


def build_frames(submissions: list[Submission]) -> tuple[pd.DataFrame, pd.DataFrame]:
    # Rows as tuples in column order: pandas builds a frame from them faster than from dicts.
    forms = [_form_row(sub) for sub in submissions]
    indicators = [row for form_id, sub in enumerate(submissions) for row in _indicator_rows(form_id, sub.form)]
    forms_df = _as_float(pd.DataFrame(forms, columns=FORM_COLUMNS), FORM_NUMBERS)
    forms_df.index.name = "form_id"
    ind_df = _as_float(pd.DataFrame(indicators, columns=INDICATOR_COLUMNS), ("weight", "score_reported"))
    ind_df["form_id"] = ind_df["form_id"].astype("int64")
    ind_df["row"] = ind_df["row"].astype("int64")
    ind_df.index.name = "indicator_id"
    return forms_df, ind_df


def _as_float(df: pd.DataFrame, columns) -> pd.DataFrame:
    # A column that is empty in every form would otherwise be `object`.
    for col in columns:
        df[col] = df[col].astype("float64")
    return df


def _form_row(sub: Submission) -> tuple:
    form = sub.form
    row: dict = {
        "source_file": form.source_file,
        "sheet": form.sheet,
        "department": clean_text(form.department.value),
        "unit": clean_text(form.unit.value),
        "project": clean_text(form.project.value),
        "year": form.year,
        "title": clean_text(form.title.value),
        "goal_expected": clean_text(form.goal_expected.value),
        "goal_actual": clean_text(form.goal_actual.value),
        "blocks": form.blocks,
        "categories": form.categories,
        "mtime": sub.mtime,
    }
    cells = {"project": form.project.ref, "department": form.department.ref,
             "unit": form.unit.ref, "title": form.title.ref}
    for r, c, field in FUND_FIELDS:
        cell = form.funds[r][c]
        row[field] = _amount(cell.value)
        cells[field] = cell.ref
    for name, cell in (("budget_full_year", form.funds["total"]["full_year"]),
                       ("executed", form.funds["total"]["executed"])):
        problem = amount_problem(cell.value)
        row[f"{name}_raw"] = _raw_text(cell.value)
        row[f"{name}_ok"] = problem == ""
        row[f"{name}_problem"] = problem
    row["total_weight"] = _amount(form.total_weight.value)
    row["total_reported"] = _amount(form.total_reported.value)
    cells["total_weight"] = form.total_weight.ref
    cells["total_reported"] = form.total_reported.ref
    row["cells"] = cells
    row["nearby_labels"] = _nearby_labels(form)
    return tuple(row[col] for col in FORM_COLUMNS)


def _nearby_labels(form: RawForm) -> dict[str, tuple[str, tuple[str, ...]]]:
    """RawForm.nearby by field: a header field, or a fund column's 年度资金总额 value (fund_total_*),
    → (the name of the role not found, the texts of the labels where it was expected). A fund
    column found in a table whose 年度资金总额 row was not: that row's."""
    if not form.nearby:
        return {}
    keys = {field: role_key("header", field) for field in HEADER}
    keys.update({f"fund_total_{col}": role_key("fund_column", col) for col in FUND_COLS})
    total_row = role_key("fund_row", "total")
    out = {}
    for field, key in keys.items():
        near = form.nearby.get(key)
        if near is None and field.startswith("fund_total_") and key in form.labels:
            near = form.nearby.get(total_row)
        if near is not None:
            out[field] = (near[0], tuple(text for _ref, text in near[1]))
    return out


def _indicator_rows(form_id: int, form: RawForm):
    for ind in form.indicators:
        yield (  # in INDICATOR_COLUMNS order
            form_id,
            clean_text(ind.level1.value),
            clean_text(ind.level2.value),
            clean_text(ind.name.value),
            ind.target.value,
            ind.actual.value,
            _amount(ind.weight.value),
            _amount(ind.score.value),
            clean_text(ind.deviation.value),
            ind.row,
            {
                "level1": ind.level1.ref, "level2": ind.level2.ref, "name": ind.name.ref,
                "target": ind.target.ref, "actual": ind.actual.ref, "weight": ind.weight.ref,
                "score": ind.score.ref, "deviation": ind.deviation.ref,
            },
        )


def _amount(value) -> float | None:
    """parse_amount(value).value. Most cells are a number or empty: those skip the parsing."""
    if value is None:
        return None
    if type(value) is float:
        return value if math.isfinite(value) else None
    return parse_amount(value).value


def _raw_text(value) -> str:
    """A required amount as typed; a NaN cell is not an empty one (that would be MISSING_FIELD)."""
    if isinstance(value, float) and math.isnan(value):
        return "NaN"
    return clean_text(value)


def columns(df: pd.DataFrame, *names: str):
    """Rows of the columns `names` as plain tuples: far cheaper than itertuples or to_dict."""
    return zip(*(df[name].tolist() for name in names), strict=True)


def records(df: pd.DataFrame, names=None, index: str | None = None) -> list[dict]:
    """Rows as plain dicts of `names` (default: every column), like to_dict("records") but far
    cheaper (pandas boxes every value one at a time); the row label under `index` if given."""
    names = list(df.columns if names is None else names)
    rows = [dict(zip(names, values, strict=True)) for values in columns(df, *names)]
    if index is not None:
        for row, label in zip(rows, df.index.tolist(), strict=True):
            row[index] = label
    return rows
