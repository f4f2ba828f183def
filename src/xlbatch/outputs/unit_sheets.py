"""One sheet per 实施单位: each form laid out with reported and recomputed figures side by side.

Every flagged cell is filled by its worst severity and carries a comment naming
the rules and reasons; `Places` records where each field landed so 异常清单 can
link to it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import pandas as pd

from ..catalogue import titled
from ..checks.rules import AMOUNT_SCALE_SUSPECT
from ..checks.score import COUNTED, SCALE_SUSPECT, WRONG_SEASON, standing
from ..form.normalize import records
from ..form.values import clean_text
from ..form.vocabulary import AMOUNT_COLS, FUND_COL_LABELS, FUND_ROW_LABELS, HEADER, INDICATOR_COLUMN, TOTAL
from ..models import SEVERITY_ORDER, Finding
from .formats import Styles, print_setup, quote

SUMMARY_SHEET = "汇总"


@dataclass
class Places:
    """Where each field of each form landed in its unit sheet: (sheet, row, col)."""

    form: dict[tuple[int, str], tuple[str, int, int]] = field(default_factory=dict)
    indicator: dict[tuple[int, str], tuple[str, int, int]] = field(default_factory=dict)
    title: dict[int, tuple[str, int, int]] = field(default_factory=dict)

    def of(self, f: Finding) -> tuple[str, int, int] | None:
        if f.indicator_id is not None:
            what = f.field.rsplit(":", 1)[-1]
            return self.indicator.get((f.indicator_id, what))
        if f.form_id is None:
            return None
        return self.form.get((f.form_id, f.field)) or self.title.get(f.form_id)


# The indicator table, column by column: (key, header, kind). Findings point at `actual`,
# `score_reported` and `deviation`.
_IND_TABLE = (
    *((k, INDICATOR_COLUMN[k].label, "text") for k in ("level1", "level2", "name", "target", "actual")),
    ("weight", INDICATOR_COLUMN["weight"].label, "score"), ("score_reported", "自评得分", "score"),
    ("score", "复算得分", "score"), ("basis", "评分依据", "text"),
    ("deviation", INDICATOR_COLUMN["deviation"].label, "text"), ("row", "原表行", "plain"),
)
_IND_COL = {key: col for col, (key, _, _) in enumerate(_IND_TABLE)}


class _Grid:
    """Cells of one unit sheet, buffered so flagged cells get their fill when written."""

    def __init__(self):
        self.cells: dict[tuple[int, int], tuple[object, str]] = {}

    def put(self, row: int, col: int, value, kind: str = "text") -> None:
        self.cells[(row, col)] = (value, kind)

    def flush(self, ws, flags: dict[tuple[int, int], list[Finding]], st: Styles) -> None:
        for (row, col), (value, kind) in sorted(self.cells.items()):
            here = flags.pop((row, col), [])
            self._write(ws, row, col, value, kind, here, st)
        for (row, col), here in flags.items():  # a flagged cell that held nothing
            self._write(ws, row, col, None, "text", here, st)

    @staticmethod
    def _write(ws, row, col, value, kind, here: list[Finding], st: Styles) -> None:
        fmt = st.kinds[kind]
        if here:
            worst = min(here, key=lambda f: SEVERITY_ORDER[f.severity]).severity
            flagged = st.flag[worst]  # a title overflows to the right like a fact, never cut off
            fmt = flagged.get("plain" if kind == "title" else kind, flagged["text"])
            text = "\n".join(f"【{titled(f.rule)}】{f.message}" for f in here)
            ws.write_comment(row, col, text[:2000], {"x_scale": 3, "y_scale": 2.5,
                                                     "author": "xlbatch"})
        if isinstance(value, int | float) and not isinstance(value, bool):
            if not math.isfinite(value):
                if here:
                    ws.write_blank(row, col, None, fmt)
            else:
                ws.write_number(row, col, float(value), fmt)
        elif value is None:
            if here or kind == "header":  # unflagged blanks are not written: fewer cells, same look
                ws.write_blank(row, col, None, fmt)
        else:
            ws.write_string(row, col, str(value), fmt)


def write_unit_sheets(book, forms: pd.DataFrame, indicators: pd.DataFrame, findings: list[Finding],
                      names: dict[str, str], st: Styles) -> Places:
    """One sheet per unit, in unit order; returns where each field landed."""
    places, by_form = Places(), findings_by_form(findings)
    # Plain records grouped once: filtering the frames per unit and per form is quadratic.
    units: dict[str, list[tuple[int, dict]]] = {}
    for form in records(forms, index="form_id"):
        units.setdefault(form["unit"], []).append((int(form["form_id"]), form))
    inds: dict[int, list[dict]] = {}
    for ind in records(indicators, index="indicator_id"):
        inds.setdefault(int(ind["form_id"]), []).append(ind)
    for unit in sorted(names):
        ws = book.add_worksheet(names[unit])
        _unit_sheet(ws, names[unit], units.get(unit, []), inds, by_form, places, st)
    return places


def _unit_sheet(ws, name: str, forms: list[tuple[int, dict]], indicators: dict[int, list[dict]], by_form,
                places, st: Styles) -> None:
    for col, width in enumerate((16, 14, 26, 14, 14, 8, 10, 10, 30, 30, 8)):
        ws.set_column(col, col, width)
    ws.write_url(0, 0, f"internal:{quote(SUMMARY_SHEET)}!A1", st.link, "← 返回汇总")
    grid, row = _Grid(), 2
    for form_id, form in forms:
        row = _unit_form(grid, name, row, form_id, form, indicators.get(form_id, []), places) + 3
    flags: dict[tuple[int, int], list[Finding]] = {}
    for form_id, form in forms:
        for f in by_form.get(form_id, []):
            for place in _places_of(f, form_id, form, places):
                flags.setdefault((place[1], place[2]), []).append(f)
    grid.flush(ws, flags, st)
    print_setup(ws, repeat_rows=0)


def _places_of(f: Finding, form_id: int, form: dict, places: Places) -> list[tuple[str, int, int]]:
    """Where a finding is shown: its own cell; AMOUNT_SCALE_SUSPECT on every amount above the
    limit too (the whole table is in 元, not one cell), and on the form's 状态 line."""
    place = places.of(f)
    found = [place] if place else []
    if f.rule == AMOUNT_SCALE_SUSPECT.code:
        found += [places.form[(form_id, name)] for name in form["scale_fields"].split("；")
                  if (form_id, name) in places.form and places.form[(form_id, name)] != place]
        found += [places.form[(form_id, "state")]]
    return found


def _unit_form(g: _Grid, sheet: str, row: int, form_id: int, f: dict, inds: list[dict],
               places: Places) -> int:
    g.put(row, 0, f"项目：{f['project']}", "title")
    places.title[form_id] = (sheet, row, 0)
    year = "" if pd.isna(f["year"]) else f"{int(f['year'])}"
    state = standing(f)
    if state not in (COUNTED, SCALE_SUSPECT, WRONG_SEASON):  # superseded
        state += "，不计入汇总"
    facts = ((HEADER["department"].label, f["department"]), (HEADER["unit"].label, f["unit"]), ("年度", year),
             ("来源", f"{f['source_file']} / 工作表「{f['sheet']}」"), ("状态", state))
    for i, (label, value) in enumerate(facts, start=1):
        g.put(row + i, 0, label, "header")
        g.put(row + i, 1, value, "plain")  # overflows into the empty cells to its right
    places.form[(form_id, "state")] = (sheet, row + len(facts), 1)
    row += len(facts) + 2
    for col, title in enumerate(["资金（万元）", *(FUND_COL_LABELS[c] for c in AMOUNT_COLS)]):
        g.put(row, col, title, "header")
    for i, (key, label) in enumerate(FUND_ROW_LABELS.items(), start=1):
        g.put(row + i, 0, label)
        for col, part in enumerate(AMOUNT_COLS, start=1):
            field_name = f"fund_{key}_{part}"
            g.put(row + i, col, f[field_name], "money")
            places.form[(form_id, field_name)] = (sheet, row + i, col)
    row += 6
    for col, title in enumerate(["复算对照", "填报值", "复算值", "原表单元格"]):
        g.put(row, col, title, "header")
    lines = [
        (FUND_COL_LABELS["rate"], "fund_total_rate", f["rate_reported"], f["execution_rate"], "percent"),
        ("预算执行率得分", "fund_total_score", f["budget_score_reported"], f["budget_score"], "score"),
        ("分值合计", "total_weight", f["weight_sum"], None, "score"),
        (TOTAL.label, "total_reported", f["total_reported"], f["total_score"], "score"),
        ("等级", "grade", f["grade_reported"], f["grade"], "text"),
    ]
    for i, (label, field_name, reported, recomputed, kind) in enumerate(lines, start=1):
        g.put(row + i, 0, label)
        g.put(row + i, 1, reported, kind)
        g.put(row + i, 2, recomputed, kind)
        g.put(row + i, 3, f["cells"].get(field_name, ""))
        places.form[(form_id, field_name)] = (sheet, row + i, 1)
    row += len(lines) + 2
    for col, (_, title, _) in enumerate(_IND_TABLE):
        g.put(row, col, title, "header")
    previous: tuple[str, str] = ("", "")
    for i, ind in enumerate(inds, start=1):
        r = row + i
        # 一级/二级 shown where they change, as on the form where those cells are merged down.
        level1 = ind["level1"] if ind["level1"] != previous[0] else None
        level2 = ind["level2"] if (ind["level1"], ind["level2"]) != previous else None
        previous = (ind["level1"], ind["level2"])
        shown = {"level1": level1, "level2": level2, "target": clean_text(ind["target"]),
                 "actual": clean_text(ind["actual"]), "deviation": ind["deviation"] or None, "row": int(ind["row"])}
        for col, (key, _, kind) in enumerate(_IND_TABLE):
            g.put(r, col, shown[key] if key in shown else ind[key], kind)
        # A finding's field ends in what it is about: actual, score (the reported one), deviation.
        for what, key in (("actual", "actual"), ("score", "score_reported"), ("deviation", "deviation")):
            places.indicator[(ind["indicator_id"], what)] = (sheet, r, _IND_COL[key])
    return row + len(inds)


def findings_by_form(findings: list[Finding]) -> dict[int, list[Finding]]:
    out: dict[int, list[Finding]] = {}
    for f in findings:
        if f.form_id is not None:
            out.setdefault(f.form_id, []).append(f)
    return out


