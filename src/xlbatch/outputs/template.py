"""The standard form (SPEC section 1), written with XlsxWriter.

`write_form` lays one form out on a worksheet the way the bureau hands it out:
merged label cells, line breaks in headers, 一级/二级 cells merged down, and
formulas for 执行率, 得分 and 总分 (with cached values, so a reader that does not
recalculate — calamine — sees the figures). `xlbatch template` writes the blank
form; tests and the sample inbox fill it with content.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import xlsxwriter

from ..form.vocabulary import (
    FUND_COLUMN,
    FUND_ROW,
    FUNDS_BLOCK,
    GOAL,
    HEADER,
    INDICATOR_COLUMN,
    NOT_IN_TEMPLATE,
    TITLE,
    TOTAL,
    role_key,
)
from ..intake.read import a1
from .formats import FormStyles


@dataclass
class IndicatorSpec:
    name: Any = "指标1："
    target: Any = None
    actual: Any = None
    weight: Any = None
    score: Any = None
    deviation: Any = None


@dataclass
class CategorySpec:
    label: str
    indicators: list[IndicatorSpec]


@dataclass
class BlockSpec:
    label: str  # "产出指标 50 分"
    categories: list[CategorySpec]


@dataclass
class FormSpec:
    """Content of one form; None leaves a cell empty."""

    year: int | None = None
    project: Any = None
    department: Any = None
    unit: Any = None
    # 年度资金总额, 当年财政拨款, 上年结转资金, 其他资金 → (年初预算数, 全年预算数, 全年执行数)
    funds: dict[str, tuple[Any, Any, Any]] = field(default_factory=dict)
    budget_weight: Any = 10
    rate: Any = "formula"  # "formula" writes =E/D with its cached value
    budget_score: Any = "formula"
    goal_expected: Any = None
    goal_actual: Any = None
    blocks: list[BlockSpec] = field(default_factory=list)
    total_reported: Any = "formula"


ATTACHMENT = "附件1"  # above the title, as the bureau's notice attaches the form
WIDTHS = {"A:A": 8, "B:C": 14, "D:D": 24, "E:H": 11, "I:I": 24}
# Narrower for A4 portrait: the columns add up to the page's width at 100%, text stays 10 pt.
HANDOUT_WIDTHS = {"A:A": 9, "B:B": 15, "C:C": 11, "D:D": 13, "E:E": 9, "F:H": 8, "I:I": 14}
# Row heights (points) of the blank form: rows to write in by hand, as on the printed form.
HANDOUT_HEIGHTS = {"title": 36, "subtitle": 20, "field": 24, "header": 30, "fund": 21, "goal": 70, "indicator": 20,
                   "total": 24}
FUND_LABELS = tuple(role.form_text for role in FUND_ROW.values())  # as printed: 其中：当年财政拨款


def _placeholders(n: int = 2) -> list[IndicatorSpec]:
    return [IndicatorSpec(name=f"指标{i + 1}：") for i in range(n)]


def standard_blocks() -> list[BlockSpec]:
    """The usual 一级/二级 structure with placeholder rows (SPEC section 1)."""
    layout = [
        ("产出指标 50 分", ["数量指标", "质量指标", "时效指标", "成本指标"]),
        ("效益指标 30 分", ["经济效益指标", "社会效益指标", "生态效益指标", "可持续影响指标"]),
        ("满意度指标 10 分", ["服务对象满意度指标"]),
    ]
    return [BlockSpec(l1, [CategorySpec(l2, _placeholders()) for l2 in l2s]) for l1, l2s in layout]


def blank_form() -> FormSpec:
    return FormSpec(blocks=standard_blocks(), budget_weight=10)


def write_form(book: xlsxwriter.Workbook, ws, spec: FormSpec, handout: bool = False) -> None:
    """Lay `spec` out on `ws` in the standard layout (columns A–I).

    `handout` writes it as the bureau hands the blank form out (`xlbatch template`): 附件1 in a row
    above the title (every row below one lower), data validation on the number cells, printed A4
    portrait one page wide like the official form. Without it, the form as tests and the sample
    inbox fill it: the title in row 1, printed landscape."""
    f = FormStyles(book)
    top = 1 if handout else 0  # rows above the title
    at = partial(_shifted, by=top)
    for columns, width in (HANDOUT_WIDTHS if handout else WIDTHS).items():
        ws.set_column(columns, width)
    if handout:
        ws.write_string("A1", ATTACHMENT, f.attachment)
        ws.set_row(0, 22)
    title = f"{spec.project}{TITLE}" if spec.project else TITLE
    ws.merge_range(at("A1:I1"), title, f.title)
    ws.set_row(top, 30)
    ws.merge_range(at("A2:I2"), f"（{spec.year} 年度）" if spec.year else "（    年度）", f.subtitle)
    ws.merge_range(at("A3:B3"), HEADER["project"].form_text, f.label)
    _merge(ws, at("C3:I3"), spec.project, f.text)
    ws.merge_range(at("A4:B4"), HEADER["department"].form_text, f.label)
    _merge(ws, at("C4:E4"), spec.department, f.text)
    ws.write(at("F4"), HEADER["unit"].form_text, f.label)
    _merge(ws, at("G4:I4"), spec.unit, f.text)
    _write_funds(ws, spec, f, top)
    ws.merge_range(at("A10:A11"), "年度\n总体\n目标", f.label)
    ws.merge_range(at("B10:E10"), GOAL["expected"].form_text, f.label)
    ws.merge_range(at("F10:I10"), GOAL["actual"].form_text, f.label)
    _merge(ws, at("B11:E11"), spec.goal_expected, f.text)
    _merge(ws, at("F11:I11"), spec.goal_actual, f.text)
    ws.set_row(10 + top, 60)
    last = _write_indicators(ws, spec, f, top)
    if handout:
        _handout_rows(ws, last)
        _validate_numbers(ws, top, last)
        _print_portrait(ws)
    else:
        ws.set_landscape()
        ws.fit_to_pages(1, 0)


def _shifted(ref: str, by: int) -> str:
    """An A1 reference, range or formula with every row number `by` rows lower."""
    return re.sub(r"\b([A-Z]{1,3})(\d+)\b", lambda m: f"{m[1]}{int(m[2]) + by}", ref) if by else ref


def _write_funds(ws, spec: FormSpec, f: FormStyles, top: int = 0) -> None:
    ws.merge_range(_shifted("A5:A9", top), FUNDS_BLOCK.form_text, f.label)
    headers = ("", *(role.form_text for role in FUND_COLUMN.values()))
    for col, text in enumerate(headers, start=1):
        ws.write(4 + top, col, text, f.label)
    ws.write_blank(4 + top, 8, None, f.label)
    for i, role in enumerate(FUND_ROW.values()):
        row = 5 + top + i
        ws.write(row, 1, role.form_text, f.label)
        values = spec.funds.get(role.label, (None, None, None))
        for col, value in zip((2, 3, 4), values, strict=True):
            _write(ws, row, col, value, f.number)
        if i == 0:
            _write(ws, row, 5, spec.budget_weight, f.points)
            rate = _ratio(values[2], values[1])
            _formula_or_value(ws, row, 6, spec.rate, _shifted('=IF(N(D6)=0,"",E6/D6)', top), rate, f.percent)
            score = _cached_budget_score(spec)
            _formula_or_value(ws, row, 7, spec.budget_score,
                              _shifted('=IF(G6="","",ROUND(MIN(G6,1)*F6,2))', top), score, f.number)
        else:
            ws.write(row, 5, "—", f.center)
            ws.write_blank(row, 6, None, f.center)
            ws.write(row, 7, "—", f.center)
        ws.write_blank(row, 8, None, f.center)


def _write_indicators(ws, spec: FormSpec, f: FormStyles, top: int = 0) -> int:
    """The indicator table from row 12 (zero-based 11) on; the zero-based row of its 总分."""
    header = tuple(role.form_text for key, role in INDICATOR_COLUMN.items()
                   if role_key("indicator_column", key) not in NOT_IN_TEMPLATE)
    first_row = 11 + top
    for col, text in enumerate(header, start=1):
        ws.write(first_row, col, text, f.label)
    ws.set_row(first_row, 30)
    row = first_row + 1
    scores: list[float] = []
    for block in spec.blocks:
        block_start = row
        for category in block.categories:
            cat_start = row
            for ind in category.indicators:
                _write(ws, row, 3, ind.name, f.text)
                _write(ws, row, 4, ind.target, f.center)
                _write(ws, row, 5, ind.actual, f.center)
                _write(ws, row, 6, ind.weight, f.center)
                _write(ws, row, 7, ind.score, f.center)
                _write(ws, row, 8, ind.deviation, f.text)
                scores.append(_num(ind.score))
                row += 1
            _merge_down(ws, cat_start, row - 1, 2, category.label, f.label)
        _merge_down(ws, block_start, row - 1, 1, block.label, f.label)
    _merge_down(ws, first_row, row - 1, 0, "绩效\n指标", f.label)
    ws.merge_range(row, 0, row, 5, TOTAL.form_text, f.label)
    ws.write_number(row, 6, 100, f.center)
    budget = _cached_budget_score(spec)
    total = budget if isinstance(budget, str) else round(sum(scores) + (budget or 0.0), 2)
    first, last = a1(first_row + 1, 7), a1(row - 1, 7)
    _formula_or_value(ws, row, 7, spec.total_reported, f"=SUM({first}:{last})+{a1(5 + top, 7)}", total, f.number)
    ws.write_blank(row, 8, None, f.center)
    return row


def _handout_rows(ws, total_row: int) -> None:
    """Row heights of the handed-out form (附件1 in row 1): tall enough to write in, one A4 page."""
    h = HANDOUT_HEIGHTS
    heights = {1: h["title"], 2: h["subtitle"], 3: h["field"], 4: h["field"], 5: h["header"],
               10: h["field"], 11: h["goal"], 12: h["header"], total_row: h["total"]}
    heights.update(dict.fromkeys(range(6, 10), h["fund"]))
    heights.update(dict.fromkeys(range(13, total_row), h["indicator"]))
    for row, height in heights.items():
        ws.set_row(row, height)


# The number cells of the handed-out form and what each takes; Excel, WPS and LibreOffice show the
# prompt when the cell is selected and refuse anything else with the message.
_AMOUNT = {"validate": "decimal", "criteria": ">=", "value": 0,
           "input_title": "金额（万元）", "input_message": "请填写以万元为单位的金额，不小于 0，如 5.4",
           "error_title": "金额有误",
           "error_message": "金额应为不小于 0 的数字，单位为万元（如 5.4），不要填写文字或单位"}
_POINTS = {"validate": "decimal", "criteria": "between", "minimum": 0, "maximum": 100,
           "error_title": "分数有误", "error_message": "应为 0～100 之间的数字，不要填写“分”等文字"}


def _validate_numbers(ws, top: int, total_row: int) -> None:
    """Data validation on the blank form's number cells: amounts ≥ 0, 分值 and 得分 0–100."""
    ws.data_validation(5 + top, 2, 8 + top, 4, _AMOUNT)
    ws.data_validation(5 + top, 5, 5 + top, 5, {**_POINTS, "input_title": "分值",
                                                 "input_message": "预算执行率的分值，一般为 10 分"})
    first, last = 12 + top, total_row - 1
    ws.data_validation(first, 6, last, 6, {**_POINTS, "input_title": "分值",
                                           "input_message": "该指标的分值（0～100），各项分值合计 100 分"})
    ws.data_validation(first, 7, last, 7, {**_POINTS, "input_title": "得分",
                                           "input_message": "该指标的自评得分，不超过其分值"})


def _print_portrait(ws) -> None:
    """A4 portrait, one page wide, like the official form; no rows repeated."""
    ws.set_portrait()
    ws.set_paper(9)  # A4
    ws.set_margins(left=0.5, right=0.5, top=0.6, bottom=0.6)
    ws.center_horizontally()
    ws.fit_to_pages(1, 0)


def _cached_budget_score(spec: FormSpec) -> float | str | None:
    """What Excel would cache for H6 — including #VALUE! when the 分值 is text such as "10 分"."""
    if spec.budget_score != "formula":
        return _num(spec.budget_score)
    if not isinstance(spec.budget_weight, int | float):
        return "#VALUE!"
    total = spec.funds.get(FUND_ROW["total"].label, (None, None, None))
    rate = _ratio(total[2], total[1])
    return None if rate is None else round(min(rate, 1) * spec.budget_weight, 2)


def _formula_or_value(ws, row, col, value, formula, cached, fmt) -> None:
    if value == "formula":
        ws.write_formula(row, col, formula, fmt, "" if cached is None else cached)
    else:
        _write(ws, row, col, value, fmt)


def _merge(ws, ref: str, value, fmt) -> None:
    if value is None:
        ws.merge_range(ref, "", fmt)
    elif isinstance(value, str):
        ws.merge_range(ref, "", fmt)
        ws.write_string(ref.split(":")[0], value, fmt)
    else:
        ws.merge_range(ref, value, fmt)


def _merge_down(ws, first: int, last: int, col: int, value, fmt) -> None:
    if last > first:
        ws.merge_range(first, col, last, col, "", fmt)
    _write(ws, first, col, value, fmt)


def _write(ws, row: int, col: int, value, fmt) -> None:
    if value is None:
        ws.write_blank(row, col, None, fmt)
    elif isinstance(value, str):
        ws.write_string(row, col, value, fmt)  # never a formula, never a link
    else:
        ws.write(row, col, value, fmt)


def _num(value) -> float:
    if isinstance(value, int | float):
        return float(value)
    return 0.0


def _ratio(executed, budget) -> float | None:
    if isinstance(executed, int | float) and isinstance(budget, int | float) and budget:
        return executed / budget
    return None


def write_workbook(path: Path, forms: list[tuple[str, FormSpec]], extra_sheets=(), handout: bool = False) -> Path:
    """Write a workbook with one form per (sheet name, spec); `extra_sheets` are (name, rows);
    `handout`: the forms as handed out (see `write_form`)."""
    book = xlsxwriter.Workbook(str(path), {"strings_to_formulas": False, "strings_to_urls": False})
    for name, rows in extra_sheets:
        ws = book.add_worksheet(name)
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                _write(ws, r, c, value, None)
    for name, spec in forms:
        write_form(book, book.add_worksheet(name), spec, handout)
    book.close()
    return path


def write_template(path: Path) -> Path:
    """The blank standard form, as handed out to units."""
    instructions = [
        ["填报说明"],
        ["1. 每个预算项目填报一张自评表；一个工作簿可包含多张自评表（每个工作表一张）。"],
        ["2. 金额单位为万元；执行率 = 全年执行数 ÷ 全年预算数，由公式自动计算。"],
        ["3. 预算执行率 10 分，产出指标 50 分，效益指标 30 分，满意度指标 10 分，合计 100 分。"],
        ["4. 数量、质量、时效、成本、服务对象满意度指标为必填，不得只保留「指标1：」等占位行。"],
        ["5. 未完全达成的指标须填写「偏差原因分析及改进措施」。"],
        ["6. 金额填不小于 0 的数字，分值、得分填 0～100 的数字，不带单位；选中单元格时有提示。"],
    ]
    return write_workbook(path, [("自评表", blank_form())], extra_sheets=[("填报说明", instructions)],
                          handout=True)
