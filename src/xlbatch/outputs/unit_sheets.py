"""One sheet per 实施单位: each form laid out with reported and recomputed figures side by side.

Each form shows its facts, its 年度总体目标 (预期目标 / 实际完成情况), its funds, the reported figures
beside the recomputed ones with their 差额 (填报 − 复算), and its indicator table — a 二级指标 holding
only placeholder rows (指标 1:, ……) as one empty row, and a required one missing from the form as a
"（未填报）" row, so that REQUIRED_CATEGORY_EMPTY points at a row. Every flagged cell is filled by
its worst severity and carries a comment naming the rules and reasons; `Places` records where each
field landed so 异常清单 can link to it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import pandas as pd

from ..catalogue import titled
from ..checks.rules import AMOUNT_SCALE_SUSPECT
from ..checks.score import COUNTED, SCALE_SUSPECT, WRONG_SEASON, required_found, standing
from ..form.normalize import records
from ..form.values import clean_text
from ..form.vocabulary import (
    AMOUNT_COLS,
    CATEGORY_BLOCK,
    FUND_COL_LABELS,
    FUND_ROW_LABELS,
    GOAL,
    HEADER,
    INDICATOR_COLUMN,
    NOT_FILLED,
    ONLY_PLACEHOLDERS,
    TOTAL,
)
from ..models import SEVERITY_ORDER, Category, Finding
from .formats import LINE_PT, Styles, plan_print, print_table, quote, wrapped_lines

SUMMARY_SHEET = "汇总"
REPORT_REASONS = "自评报告所述原因"
CATEGORY_FIELD = "category:"  # REQUIRED_CATEGORY_EMPTY's field: category:时效；成本


@dataclass
class Places:
    """Where each field of each form landed in its unit sheet: (sheet, row, col)."""

    form: dict[tuple[int, str], tuple[str, int, int]] = field(default_factory=dict)
    indicator: dict[tuple[int, str], tuple[str, int, int]] = field(default_factory=dict)
    title: dict[int, tuple[str, int, int]] = field(default_factory=dict)
    # (form_id, required category as configured: 成本) → its 二级指标 cell in the indicator table.
    category: dict[tuple[int, str], tuple[str, int, int]] = field(default_factory=dict)

    def of(self, f: Finding) -> tuple[str, int, int] | None:
        """The cell a finding is shown at (the first of several empty categories)."""
        found = self.all_of(f)
        return found[0] if found else None

    def all_of(self, f: Finding) -> list[tuple[str, int, int]]:
        if f.indicator_id is not None:
            what = f.field.rsplit(":", 1)[-1]
            place = self.indicator.get((f.indicator_id, what))
            return [place] if place else []
        if f.form_id is None:
            return []
        if f.field.startswith(CATEGORY_FIELD):
            names = f.field.removeprefix(CATEGORY_FIELD).split("；")
            found = [self.category[(f.form_id, n)] for n in names if (f.form_id, n) in self.category]
            if found:
                return found
        place = self.form.get((f.form_id, f.field)) or self.title.get(f.form_id)
        return [place] if place else []


# The indicator table, column by column: (key, header, kind, width). Its widths are the sheet's: the
# blocks above it (facts, funds, the comparison) take the same columns. Findings point at `actual`,
# `score_reported` and `deviation`; an empty category at `level2`.
_IND_TABLE = (
    ("level1", INDICATOR_COLUMN["level1"].label, "text", 14),
    ("level2", INDICATOR_COLUMN["level2"].label, "text", 14),
    ("name", INDICATOR_COLUMN["name"].label, "text", 22),
    ("target", INDICATOR_COLUMN["target"].label, "text", 12),
    ("actual", INDICATOR_COLUMN["actual"].label, "text", 12),
    ("weight", INDICATOR_COLUMN["weight"].label, "score", 7),
    ("score_reported", "自评得分", "score", 9), ("score", "复算得分", "score", 9), ("difference", "差额", "score", 8),
    ("basis", "评分依据", "text", 26),
    ("deviation", INDICATOR_COLUMN["deviation"].label, "text", 22), ("row", "原表行", "plain", 7),
)
_IND_COL = {key: col for col, (key, _, _, _) in enumerate(_IND_TABLE)}
WIDTHS = tuple(width for *_, width in _IND_TABLE)
_MAX_LINES = 27  # lines of wrapped text in one row: 27 × LINE_PT is Excel's 409-point row


class _Grid:
    """Cells of one unit sheet, buffered so flagged cells get their fill when written and each
    row is made tall enough for its wrapped text (neither LibreOffice nor WPS fits rows on open)."""

    def __init__(self):
        self.cells: dict[tuple[int, int], tuple[object, str]] = {}
        self.merged: dict[tuple[int, int], int] = {}  # (row, first col) → last col

    def put(self, row: int, col: int, value, kind: str = "text") -> None:
        self.cells[(row, col)] = (value, kind)

    def put_across(self, row: int, first: int, last: int, value, kind: str = "text") -> None:
        """`value` in one cell merged over columns first…last (a goal's text)."""
        self.put(row, first, value, kind)
        self.merged[(row, first)] = last

    def flush(self, ws, flags: dict[tuple[int, int], list[Finding]], fills: dict[tuple[int, int], list[Finding]],
              st: Styles) -> None:
        """Write every cell: a cell in `flags` gets its fill and a comment, one in `fills` the fill only."""
        kinds, merged = st.kinds, self.merged
        for (row, col), (value, kind) in sorted(self.cells.items()):
            # Most cells are neither flagged nor filled, nor merged, and hold text: the short way for them.
            here = flags.pop((row, col), []) if flags else []
            filled = fills.pop((row, col), []) if fills else []
            fmt = _Grid._format(kind, here + filled, st) if here or filled else kinds[kind]
            if (row, col) in merged:
                ws.merge_range(row, col, row, merged[(row, col)], None, fmt)
            if here or type(value) is not str:
                _Grid._write(ws, row, col, value, kind, fmt, here)
            else:
                ws.write_string(row, col, value, fmt)
        for (row, col), here in flags.items():  # a flagged cell that held nothing
            _Grid._write(ws, row, col, None, "text", _Grid._format("text", here, st), here)
        for (row, col), here in fills.items():
            if (row, col) not in self.cells and (row, col) not in flags:
                ws.write_blank(row, col, None, _Grid._format("text", here, st))
        for row, lines in self._lines().items():
            ws.set_row(row, LINE_PT * min(lines, _MAX_LINES))

    def _lines(self) -> dict[int, int]:
        """Rows whose wrapped text needs more than one line → how many."""
        out: dict[int, int] = {}
        for (row, col), (value, kind) in self.cells.items():
            if kind not in ("text", "header") or value is None or col >= len(WIDTHS):
                continue
            width = sum(WIDTHS[col:self.merged.get((row, col), col) + 1])
            # No margin: the unit sheet's columns are measured wide already (rows would stand too tall).
            lines = wrapped_lines(value, width, margin=0)
            if lines > 1:
                out[row] = max(out.get(row, 1), lines)
        return out

    @staticmethod
    def _format(kind: str, here: list[Finding], st: Styles):
        if not here:
            return st.kinds[kind]
        worst = min(here, key=lambda f: SEVERITY_ORDER[f.severity]).severity
        flagged = st.flag[worst]  # a title overflows to the right like a fact, never cut off
        return flagged.get("plain" if kind == "title" else kind, flagged["text"])

    @staticmethod
    def _write(ws, row, col, value, kind, fmt, here: list[Finding]) -> None:
        if here:
            text = "\n".join(f"【{titled(f.rule)}】{f.message}" for f in here)
            ws.write_comment(row, col, text[:2000], {"x_scale": 3, "y_scale": 2.5, "author": "xlbatch"})
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
                      names: dict[str, str], st: Styles, reasons=None) -> Places:
    """One sheet per unit, in unit order; returns where each field landed. `reasons(unit, project)`: the
    reason sentences the unit's 自评报告 gives for the project, as one text, shown with its goals."""
    places, by_form = Places(), findings_by_form(findings)
    # Plain records grouped once: filtering the frames per unit and per form is quadratic.
    units: dict[str, list[tuple[int, dict]]] = {}
    for form in records(forms, index="form_id"):
        form["report_reasons"] = reasons(form["unit"], form["project"]) if reasons else ""
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
    for col, width in enumerate(WIDTHS):
        ws.set_column(col, col, width)
    ws.write_url(0, 0, f"internal:{quote(SUMMARY_SHEET)}!A1", st.link, "← 返回汇总")
    grid, row = _Grid(), 2
    for form_id, form in forms:
        row = _unit_form(grid, name, row, form_id, form, indicators.get(form_id, []), places) + 3
    flags: dict[tuple[int, int], list[Finding]] = {}
    fills: dict[tuple[int, int], list[Finding]] = {}
    for form_id, form in forms:
        for f in by_form.get(form_id, []):
            for place in _places_of(f, form_id, form, places):
                flags.setdefault((place[1], place[2]), []).append(f)
            if f.field.startswith(CATEGORY_FIELD):  # the rest of an empty category's row
                for _sheet, r, c in places.all_of(f):
                    for col in range(c + 1, len(WIDTHS)):
                        fills.setdefault((r, col), []).append(f)
    grid.flush(ws, flags, fills, st)
    # No header row to repeat: a unit sheet holds several forms, each with its own tables.
    print_table(ws, plan_print(WIDTHS), None)


def _places_of(f: Finding, form_id: int, form: dict, places: Places) -> list[tuple[str, int, int]]:
    """Where a finding is shown: its own cell (each empty category's row for REQUIRED_CATEGORY_EMPTY);
    AMOUNT_SCALE_SUSPECT on every amount above the limit too (the whole table is in 元, not one cell),
    and on the form's 状态 line."""
    found = places.all_of(f)
    if f.rule == AMOUNT_SCALE_SUSPECT.code:
        found += [places.form[(form_id, name)] for name in form["scale_fields"].split("；")
                  if (form_id, name) in places.form and places.form[(form_id, name)] not in found]
        found += [places.form[(form_id, "state")]]
    return found


def _unit_form(g: _Grid, sheet: str, row: int, form_id: int, f: dict, inds: list[dict],
               places: Places) -> int:
    row = _facts(g, sheet, row, form_id, f, places)
    row = _goals(g, row, f)
    row = _funds(g, sheet, row, form_id, f, places)
    row = _comparison(g, sheet, row, form_id, f, places)
    return _indicator_table(g, sheet, row, form_id, f, inds, places)


def _facts(g: _Grid, sheet: str, row: int, form_id: int, f: dict, places: Places) -> int:
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
    return row + len(facts) + 2


def _goals(g: _Grid, row: int, f: dict) -> int:
    """年度总体目标: 预期目标 and 实际完成情况, each text across the sheet's width, wrapped."""
    g.put(row, 0, "年度总体目标", "header")
    for i, key in enumerate(("expected", "actual"), start=1):
        g.put(row + i, 0, GOAL[key].label, "header")
        g.put_across(row + i, 1, len(WIDTHS) - 1, f[f"goal_{key}"] or NOT_FILLED)
    if f.get("report_reasons"):  # what the form's 偏差原因 cells often leave out (SPEC section 6)
        g.put(row + 3, 0, REPORT_REASONS, "header")
        g.put_across(row + 3, 1, len(WIDTHS) - 1, f["report_reasons"])
        return row + 5
    return row + 4


def _funds(g: _Grid, sheet: str, row: int, form_id: int, f: dict, places: Places) -> int:
    for col, title in enumerate(["资金（万元）", *(FUND_COL_LABELS[c] for c in AMOUNT_COLS)]):
        g.put(row, col, title, "header")
    for i, (key, label) in enumerate(FUND_ROW_LABELS.items(), start=1):
        g.put(row + i, 0, label)
        for col, part in enumerate(AMOUNT_COLS, start=1):
            field_name = f"fund_{key}_{part}"
            g.put(row + i, col, f[field_name], "money")
            places.form[(form_id, field_name)] = (sheet, row + i, col)
    return row + 6


def _comparison(g: _Grid, sheet: str, row: int, form_id: int, f: dict, places: Places) -> int:
    """复算对照: each reported figure, its recomputed value and their 差额 (填报 − 复算)."""
    for col, title in enumerate(["复算对照", "填报值", "复算值", "差额\n填报−复算", "原表单元格"]):
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
        g.put(row + i, 3, difference(reported, recomputed), kind)
        g.put(row + i, 4, f["cells"].get(field_name, ""))
        places.form[(form_id, field_name)] = (sheet, row + i, 1)
    return row + len(lines) + 2


def difference(reported, recomputed) -> float | None:
    """填报 − 复算; None when either is missing or not a number (a grade has no 差额)."""
    numbers = [v for v in (reported, recomputed)
               if isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)]
    return numbers[0] - numbers[1] if len(numbers) == 2 else None


def _indicator_table(g: _Grid, sheet: str, row: int, form_id: int, f: dict, inds: list[dict],
                     places: Places) -> int:
    for col, (_, title, _, _) in enumerate(_IND_TABLE):
        g.put(row, col, title, "header")
    previous: tuple[str, str] = ("", "")
    lines = _table_lines(f, inds)
    for r, (_key, what, item) in enumerate(lines, start=row + 1):
        level1, level2 = _levels(what, item)
        # 一级/二级 shown where they change, as on the form where those cells are merged down.
        shown = {"level1": level1 if level1 != previous[0] else None,
                 "level2": level2 if (level1, level2) != previous or what != "indicator" else None}
        previous = (level1, level2)
        if what == "indicator":
            _indicator_line(g, sheet, r, item, shown, places)
        else:
            _category_line(g, sheet, r, form_id, what, item, shown, places)
    return row + len(lines)


def _indicator_line(g: _Grid, sheet: str, r: int, ind: dict, shown: dict, places: Places) -> None:
    shown |= {"target": clean_text(ind["target"]), "actual": clean_text(ind["actual"]),
              "difference": difference(ind["score_reported"], ind["score"]),
              "deviation": ind["deviation"] or None, "row": int(ind["row"])}
    for col, (key, _, kind, _) in enumerate(_IND_TABLE):
        g.put(r, col, shown[key] if key in shown else ind[key], kind)
    # A finding's field ends in what it is about: actual, score (the reported one), deviation.
    for what, key in (("actual", "actual"), ("score", "score_reported"), ("deviation", "deviation")):
        places.indicator[(ind["indicator_id"], what)] = (sheet, r, _IND_COL[key])


def _category_line(g: _Grid, sheet: str, r: int, form_id: int, what: str, item, shown: dict,
                   places: Places) -> None:
    """A category without indicators: its 一级/二级 and what is wrong, the figures empty."""
    g.put(r, _IND_COL["level1"], shown["level1"])
    g.put(r, _IND_COL["level2"], shown["level2"])
    if what == "missing":
        g.put(r, _IND_COL["name"], NOT_FILLED)
        places.category[(form_id, item[0])] = (sheet, r, _IND_COL["level2"])
        return
    category, required = item
    g.put(r, _IND_COL["name"], ONLY_PLACEHOLDERS)
    g.put(r, _IND_COL["row"], category.row, "plain")
    for name in required:
        places.category.setdefault((form_id, name), (sheet, r, _IND_COL["level2"]))


def _levels(what: str, item) -> tuple[str, str]:
    if what == "indicator":
        return item["level1"], item["level2"]
    if what == "missing":
        name, level1 = item
        return level1, f"{name}指标"
    return item[0].level1, item[0].level2


def _table_lines(f: dict, inds: list[dict]) -> list[tuple[tuple, str, object]]:
    """The indicator table's rows in the form's order: (sort key, what, item). "indicator" (a
    record), "category" ((Category, the required names it is)) for a 二级指标 with no indicator, and
    "missing" (the required name) for a required category the form lacks, placed after the last row
    of the 一级指标 it belongs under (vocabulary.CATEGORY_BLOCK), else at the end."""
    lines = [((int(ind["row"]), 1), "indicator", ind) for ind in inds]
    empty = [n for n in (f.get("empty_required") or "").split("；") if n]
    shown: dict[int, tuple[Category, list[str]]] = {}
    for c in f["categories"]:
        if c.indicators == 0 and c.placeholder:
            shown[id(c)] = (c, [])
    missing = []
    for name in empty:
        found = required_found(f["categories"], name)
        for c in found:
            shown.setdefault(id(c), (c, []))[1].append(name)
        if not found:
            missing.append(name)
    lines += [((c.row, 0), "category", (c, names)) for c, names in shown.values()]
    lines.sort(key=lambda line: line[0])
    for name in missing:
        at, level1 = _missing_at(lines, name)
        lines.insert(at, ((0, 2), "missing", (name, level1)))
    return lines


def _missing_at(lines: list, name: str) -> tuple[int, str]:
    """Where a missing required category goes, and its 一级指标 as the form spells it: after the
    last row under its 一级指标; at the end when the form has no row under it."""
    block = CATEGORY_BLOCK.get(name, "")
    under = [i for i, (_key, what, item) in enumerate(lines)
             if block and block.removesuffix("指标") in _levels(what, item)[0].replace(" ", "")]
    if not under:
        return len(lines), block
    return under[-1] + 1, _levels(lines[under[-1]][1], lines[under[-1]][2])[0]


def findings_by_form(findings: list[Finding]) -> dict[int, list[Finding]]:
    out: dict[int, list[Finding]] = {}
    for f in findings:
        if f.form_id is not None:
            out.setdefault(f.form_id, []).append(f)
    return out
