"""The standard form (SPEC section 1), written with XlsxWriter.

`write_form` lays one form out on a worksheet the way the bureau hands it out:
merged label cells, line breaks in headers, 一级/二级 cells merged down, and
formulas for 执行率, 得分 and 总分 (with cached values, so a reader that does not
recalculate — calamine — sees the figures). `xlbatch template` writes the blank
form; tests and the sample inbox fill it with content.
"""

from __future__ import annotations

from dataclasses import dataclass, field
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


def write_form(book: xlsxwriter.Workbook, ws, spec: FormSpec) -> None:
    """Lay `spec` out on `ws` in the standard layout (columns A–I)."""
    f = FormStyles(book)
    ws.set_column("A:A", 8)
    ws.set_column("B:C", 14)
    ws.set_column("D:D", 24)
    ws.set_column("E:H", 11)
    ws.set_column("I:I", 24)
    title = f"{spec.project}{TITLE}" if spec.project else TITLE
    ws.merge_range("A1:I1", title, f.title)
    ws.set_row(0, 30)
    ws.merge_range("A2:I2", f"（{spec.year} 年度）" if spec.year else "（    年度）", f.subtitle)
    ws.merge_range("A3:B3", HEADER["project"].form_text, f.label)
    _merge(ws, "C3:I3", spec.project, f.text)
    ws.merge_range("A4:B4", HEADER["department"].form_text, f.label)
    _merge(ws, "C4:E4", spec.department, f.text)
    ws.write("F4", HEADER["unit"].form_text, f.label)
    _merge(ws, "G4:I4", spec.unit, f.text)
    _write_funds(ws, spec, f)
    ws.merge_range("A10:A11", "年度\n总体\n目标", f.label)
    ws.merge_range("B10:E10", GOAL["expected"].form_text, f.label)
    ws.merge_range("F10:I10", GOAL["actual"].form_text, f.label)
    _merge(ws, "B11:E11", spec.goal_expected, f.text)
    _merge(ws, "F11:I11", spec.goal_actual, f.text)
    ws.set_row(10, 60)
    _write_indicators(ws, spec, f)
    ws.set_landscape()
    ws.fit_to_pages(1, 0)


def _write_funds(ws, spec: FormSpec, f: FormStyles) -> None:
    ws.merge_range("A5:A9", FUNDS_BLOCK.form_text, f.label)
    headers = ("", *(role.form_text for role in FUND_COLUMN.values()))
    for col, text in enumerate(headers, start=1):
        ws.write(4, col, text, f.label)
    ws.write_blank(4, 8, None, f.label)
    for i, role in enumerate(FUND_ROW.values()):
        row = 5 + i
        ws.write(row, 1, role.form_text, f.label)
        values = spec.funds.get(role.label, (None, None, None))
        for col, value in zip((2, 3, 4), values, strict=True):
            _write(ws, row, col, value, f.number)
        if i == 0:
            _write(ws, row, 5, spec.budget_weight, f.points)
            rate = _ratio(values[2], values[1])
            _formula_or_value(ws, row, 6, spec.rate, '=IF(N(D6)=0,"",E6/D6)', rate, f.percent)
            score = _cached_budget_score(spec)
            _formula_or_value(ws, row, 7, spec.budget_score,
                              '=IF(G6="","",ROUND(MIN(G6,1)*F6,2))', score, f.number)
        else:
            ws.write(row, 5, "—", f.center)
            ws.write_blank(row, 6, None, f.center)
            ws.write(row, 7, "—", f.center)
        ws.write_blank(row, 8, None, f.center)


def _write_indicators(ws, spec: FormSpec, f: FormStyles) -> int:
    header = tuple(role.form_text for key, role in INDICATOR_COLUMN.items()
                   if role_key("indicator_column", key) not in NOT_IN_TEMPLATE)
    top = 11
    for col, text in enumerate(header, start=1):
        ws.write(top, col, text, f.label)
    ws.set_row(top, 30)
    row = top + 1
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
    _merge_down(ws, top, row - 1, 0, "绩效\n指标", f.label)
    ws.merge_range(row, 0, row, 5, TOTAL.form_text, f.label)
    ws.write_number(row, 6, 100, f.center)
    budget = _cached_budget_score(spec)
    total = budget if isinstance(budget, str) else round(sum(scores) + (budget or 0.0), 2)
    first, last = a1(top + 1, 7), a1(row - 1, 7)
    _formula_or_value(ws, row, 7, spec.total_reported, f"=SUM({first}:{last})+H6", total, f.number)
    ws.write_blank(row, 8, None, f.center)
    return row


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


def write_workbook(path: Path, forms: list[tuple[str, FormSpec]], extra_sheets=()) -> Path:
    """Write a workbook with one form per (sheet name, spec); `extra_sheets` are (name, rows)."""
    book = xlsxwriter.Workbook(str(path), {"strings_to_formulas": False, "strings_to_urls": False})
    for name, rows in extra_sheets:
        ws = book.add_worksheet(name)
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                _write(ws, r, c, value, None)
    for name, spec in forms:
        write_form(book, book.add_worksheet(name), spec)
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
    ]
    return write_workbook(path, [("自评表", blank_form())], extra_sheets=[("填报说明", instructions)])
