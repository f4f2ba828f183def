"""Forms as units really return them: a sheet as a plain grid, drifted, written with XlsxWriter.

`xlbatch.outputs.template.write_form` writes the standard layout only. Real submissions
drift from it (SPEC section 1): labels retyped, rows and columns inserted, titles
dropped, merges undone. Here a sheet is a `Grid` — cells by (row, col), merged
ranges and number formats — that tests build and bend:

    grid = standard_grid(seed_form())        # exactly what template.write_form lays out
    grid.relabel("全年预算数", "全年预算数（A）")
    grid.insert_rows(0, rows=[["附件1"], [], ["承德县财政局制"]])
    grid.insert_cols(0)                      # a leading blank column
    write_book(path, [("自评表", grid)])

Formulas are `Formula(expr, cached)`: written with their cached value (what a
reader without a formula engine sees) and adjusted, like a spreadsheet program
adjusts them, when rows or columns are inserted or deleted.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import xlsxwriter
from forms import category, clean_form, indicator
from seed import seed_form

from xlbatch.intake.read import a1
from xlbatch.outputs.template import FUND_LABELS, FormSpec, IndicatorSpec

Pos = tuple[int, int]  # 0-based (row, col)
Merge = tuple[int, int, int, int]  # 0-based (first row, first col, last row, last col)

_A1 = re.compile(r"^\$?([A-Z]{1,3})\$?(\d+)$")
# A cell reference inside a formula: not part of a function name, not a sheet-qualified name.
_REF = re.compile(r"(?<![A-Za-z_!])(\$?)([A-Z]{1,3})(\$?)(\d+)(?![\d(A-Za-z_])")


@dataclass(frozen=True)
class Formula:
    """A formula and the value a spreadsheet program cached for it ("#VALUE!" for an error)."""

    expr: str
    cached: Any = ""


def pos(ref: str | Pos) -> Pos:
    """"G6" → (5, 6); a (row, col) tuple passes through."""
    if isinstance(ref, tuple):
        return ref
    match = _A1.match(ref)
    if not match:
        raise ValueError(f"not an A1 reference: {ref!r}")
    letters, digits = match.groups()
    col = 0
    for ch in letters:
        col = col * 26 + ord(ch) - 64
    return int(digits) - 1, col - 1


def shift_ref(ref: str, rows: int = 0, cols: int = 0) -> str:
    """Where a cell of the standard layout lands when the form moves down/right: shift_ref("G6", 4, 2) == "I10"."""
    if not ref:
        return ref
    r, c = pos(ref)
    return a1(r + rows, c + cols)


def _shift_formula(expr: str, axis: int, at: int, delta: int) -> str:
    """Move every reference at or beyond index `at` on `axis` (0 rows, 1 cols) by `delta`."""

    def move(m: re.Match) -> str:
        r, c = pos(f"{m.group(2)}{m.group(4)}")
        if axis == 0 and r >= at:
            r += delta
        if axis == 1 and c >= at:
            c += delta
        letters, digits = re.match(r"([A-Z]+)(\d+)", a1(r, c)).groups()
        return f"{m.group(1)}{letters}{m.group(3)}{digits}"

    return _REF.sub(move, expr)


@dataclass
class Grid:
    """One sheet: values by 0-based (row, col), merged ranges, number formats."""

    cells: dict[Pos, Any] = field(default_factory=dict)
    merges: list[Merge] = field(default_factory=list)
    formats: dict[Pos, str] = field(default_factory=dict)

    @classmethod
    def from_rows(cls, rows: Sequence[Sequence[Any]], merges: Iterable[str] = (),
                  formats: dict[str, str] | None = None) -> Grid:
        """A grid from a list of rows of values; `merges` as "A1:I1", `formats` as {"G6": "0.00%"}."""
        grid = cls()
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                if value is not None:
                    grid.cells[r, c] = value
        for rng in merges:
            grid.merge(rng)
        for ref, fmt in (formats or {}).items():
            grid.formats[pos(ref)] = fmt
        return grid

    def copy(self) -> Grid:
        return copy.deepcopy(self)

    # --- reading and writing cells ------------------------------------------------

    def __getitem__(self, ref: str | Pos) -> Any:
        return self.cells.get(pos(ref))

    def __setitem__(self, ref: str | Pos, value: Any) -> None:
        self.set(ref, value)

    def set(self, ref: str | Pos, value: Any, num_format: str | None = None) -> None:
        p = pos(ref)
        if value is None:
            self.cells.pop(p, None)
        else:
            self.cells[p] = value
        if num_format:
            self.formats[p] = num_format

    def put(self, where: str, value: Any, num_format: str | None = None) -> None:
        """Write `value` in "C3" or in the merged range "C3:I3" (value in its top-left cell)."""
        first, _, last = where.partition(":")
        if last:
            self.merge(where)
        self.set(first, value, num_format)

    def merge(self, where: str) -> None:
        first, last = (pos(x) for x in where.split(":"))
        self.merges.append((*first, *last))

    def find_all(self, value: Any) -> list[Pos]:
        return sorted(p for p, v in self.cells.items() if v == value)

    def find(self, value: Any) -> Pos:
        """The only cell holding exactly `value`."""
        found = self.find_all(value)
        if len(found) != 1:
            raise LookupError(f"{value!r} is in {len(found)} cells: {[a1(*p) for p in found]}")
        return found[0]

    def relabel(self, old: Any, new: Any) -> Grid:
        """Every cell holding exactly `old` now holds `new` (at least one must)."""
        found = self.find_all(old)
        if not found:
            raise LookupError(f"no cell holds {old!r}")
        for p in found:
            self.set(p, new)
        return self

    def row_of(self, value: Any) -> int:
        return self.find(value)[0]

    @property
    def height(self) -> int:
        return max((r for r, _ in self.cells), default=-1) + 1

    # --- drift --------------------------------------------------------------------

    def insert_rows(self, at: int, n: int | None = None, rows: Sequence[Sequence[Any]] = ()) -> Grid:
        """Insert `n` rows (default: len(rows)) before 0-based row `at`, filled with `rows`."""
        n = len(rows) if n is None else n
        self._move(0, at, n)
        for i, row in enumerate(rows):
            for c, value in enumerate(row):
                if value is not None:
                    self.cells[at + i, c] = value
        return self

    def insert_cols(self, at: int, n: int = 1) -> Grid:
        self._move(1, at, n)
        return self

    def delete_rows(self, at: int, n: int = 1) -> Grid:
        """Delete rows at..at+n-1: their cells and merges go, everything below moves up."""
        gone = range(at, at + n)
        self.cells = {p: v for p, v in self.cells.items() if p[0] not in gone}
        self.formats = {p: v for p, v in self.formats.items() if p[0] not in gone}
        self.merges = [m for m in self.merges if not (m[0] in gone and m[2] in gone)]
        if any(m[0] < at + n and m[2] >= at for m in self.merges):
            raise ValueError("a merged range crosses the deleted rows: unmerge it first")
        self._move(0, at + n, -n)
        return self

    def _move(self, axis: int, at: int, delta: int) -> None:
        def moved(p: Pos) -> Pos:
            r, c = p
            if axis == 0 and r >= at:
                r += delta
            if axis == 1 and c >= at:
                c += delta
            return r, c

        def merge(m: Merge) -> Merge:
            r0, c0, r1, c1 = m
            if axis == 0:
                return (moved((r0, c0))[0], c0, r1 + delta if r1 >= at else r1, c1)
            return (r0, moved((r0, c0))[1], r1, c1 + delta if c1 >= at else c1)

        self.cells = {moved(p): self._adjust(v, axis, at, delta) for p, v in self.cells.items()}
        self.formats = {moved(p): v for p, v in self.formats.items()}
        self.merges = [merge(m) for m in self.merges]

    @staticmethod
    def _adjust(value: Any, axis: int, at: int, delta: int) -> Any:
        if isinstance(value, Formula):
            return Formula(_shift_formula(value.expr, axis, at, delta), value.cached)
        return value

    def unmerged(self, fill: bool = False) -> Grid:
        """The same values with no merged range at all: values stay in the top-left cells (Excel's
        unmerge), or with `fill` are repeated into every cell of the range (WPS 取消合并并填充内容)."""
        out = self.copy()
        if fill:
            for r0, c0, r1, c1 in self.merges:
                value = self.cells.get((r0, c0))
                for p in ((r, c) for r in range(r0, r1 + 1) for c in range(c0, c1 + 1)):
                    out.set(p, value, self.formats.get((r0, c0)))
        out.merges = []
        return out


# --- writing ------------------------------------------------------------------------

def write_book(path: Path, sheets: Iterable[tuple[str, Grid | Sequence[Sequence[Any]]]]) -> Path:
    """Write each (sheet name, grid or list of rows) with XlsxWriter; text is always text."""
    book = xlsxwriter.Workbook(str(path), {"strings_to_formulas": False, "strings_to_urls": False,
                                           "strings_to_numbers": False})
    formats: dict[str | None, Any] = {}

    def fmt(num_format: str | None):
        if num_format not in formats:
            props = {"font_name": "宋体", "font_size": 10, "text_wrap": True, "valign": "vcenter"}
            formats[num_format] = book.add_format({**props, **({"num_format": num_format}
                                                               if num_format else {})})
        return formats[num_format]

    for name, content in sheets:
        grid = content if isinstance(content, Grid) else Grid.from_rows(content)
        ws = book.add_worksheet(name)
        ws.set_column(0, 12, 12)
        covered: set[Pos] = set()
        for r0, c0, r1, c1 in grid.merges:
            ws.merge_range(r0, c0, r1, c1, "", fmt(grid.formats.get((r0, c0))))
            covered.update((r, c) for r in range(r0, r1 + 1) for c in range(c0, c1 + 1)
                           if (r, c) != (r0, c0))
        stray = sorted(covered & grid.cells.keys())
        if stray:
            raise ValueError(f"{name}: values inside merged ranges: {[a1(*p) for p in stray]}")
        for (r, c), value in sorted(grid.cells.items()):
            _write(ws, r, c, value, fmt(grid.formats.get((r, c))))
    book.close()
    return path


def _write(ws, row: int, col: int, value: Any, cell_format) -> None:
    if isinstance(value, Formula):
        ws.write_formula(row, col, value.expr, cell_format, value.cached)
    elif isinstance(value, str):
        ws.write_string(row, col, value, cell_format)  # "1,250.00" stays text, "=…" never a formula
    elif isinstance(value, bool):
        ws.write_boolean(row, col, value, cell_format)
    else:
        ws.write_number(row, col, value, cell_format)


# --- the standard layout ---------------------------------------------------------------

INDICATOR_HEADER = ("一级指标", "二级指标", "三级指标", "年度\n指标值", "实际\n完成值", "分 值", "得 分",
                    "偏差原因分析\n及改进措施")
PERCENT, AMOUNT = "0.00%", "0.00##"


def standard_grid(spec: FormSpec) -> Grid:
    """`spec` laid out cell for cell as `xlbatch.outputs.template.write_form` does (columns A–I).

    Title A1, year A2, 项目名称 A3, 主管部门/实施单位 row 4, funds header row 5 with the
    年度资金总额 row 6, goals rows 10–11, indicator header row 12, indicators from row
    13, then 总分. 执行率/得分/总分 given as "formula" become Formulas with the value
    template.write_form caches.
    """
    g = Grid()
    total_funds = spec.funds.get("年度资金总额", (None, None, None))
    rate = _ratio(total_funds[2], total_funds[1])
    g.put("A1:I1", f"{spec.project}项目支出绩效自评表" if spec.project else "项目支出绩效自评表")
    g.put("A2:I2", f"（{spec.year} 年度）" if spec.year else "（    年度）")
    g.put("A3:B3", "项目名称")
    g.put("C3:I3", spec.project)
    g.put("A4:B4", "主管部门")
    g.put("C4:E4", spec.department)
    g.put("F4", "实施单位")
    g.put("G4:I4", spec.unit)
    g.put("A5:A9", "项目资金\n（万元）")
    for col, text in enumerate(("年初预算数", "全年预算数", "全年执行数", "分值", "执行率", "得分"), start=2):
        g.set((4, col), text)
    for i, label in enumerate(FUND_LABELS):
        row = 5 + i
        g.set((row, 1), label)
        values = spec.funds.get(label.replace("其中：", ""), (None, None, None))
        for col, value in zip((2, 3, 4), values, strict=True):
            g.set((row, col), value, AMOUNT)
        if i == 0:
            g.set((row, 5), spec.budget_weight)
            g.set((row, 6), _formula(spec.rate, '=IF(N(D6)=0,"",E6/D6)', rate), PERCENT)
            g.set((row, 7), _formula(spec.budget_score, '=IF(G6="","",ROUND(MIN(G6,1)*F6,2))',
                                     _cached_budget_score(spec, rate)), AMOUNT)
        else:
            g.set((row, 5), "—")
            g.set((row, 7), "—")
    g.put("A10:A11", "年度\n总体\n目标")
    g.put("B10:E10", "预期目标")
    g.put("F10:I10", "实际完成情况")
    g.put("B11:E11", spec.goal_expected)
    g.put("F11:I11", spec.goal_actual)
    for col, text in enumerate(INDICATOR_HEADER, start=1):
        g.set((11, col), text)
    row = 12
    scores = []
    for blk in spec.blocks:
        block_start = row
        for cat in blk.categories:
            cat_start = row
            for ind in cat.indicators:
                for col, value in enumerate((ind.name, ind.target, ind.actual, ind.weight, ind.score,
                                             ind.deviation), start=3):
                    g.set((row, col), value)
                scores.append(ind.score if isinstance(ind.score, int | float) else 0.0)
                row += 1
            _merge_down(g, cat_start, row - 1, 2, cat.label)
        _merge_down(g, block_start, row - 1, 1, blk.label)
    _merge_down(g, 11, row - 1, 0, "绩效\n指标")
    g.put(f"A{row + 1}:F{row + 1}", "总分")
    g.set((row, 6), 100)
    budget = _cached_budget_score(spec, rate)
    total = budget if isinstance(budget, str) else round(sum(scores) + (budget or 0.0), 2)
    g.set((row, 7), _formula(spec.total_reported, f"=SUM(H13:H{row})+H6", total), AMOUNT)
    return g


def _formula(value: Any, expr: str, cached: Any) -> Any:
    if value != "formula":
        return value
    return Formula(expr, "" if cached is None else cached)


def _merge_down(g: Grid, first: int, last: int, col: int, value: Any) -> None:
    if last > first:
        g.merges.append((first, col, last, col))
    g.set((first, col), value)


def _ratio(executed: Any, budget: Any) -> float | None:
    if isinstance(executed, int | float) and isinstance(budget, int | float) and budget:
        return executed / budget
    return None


def _cached_budget_score(spec: FormSpec, rate: float | None) -> Any:
    """What a spreadsheet caches for 得分: #VALUE! when the 分值 is text such as "10 分"."""
    if spec.budget_score != "formula":
        return spec.budget_score if isinstance(spec.budget_score, int | float) else 0.0
    if not isinstance(spec.budget_weight, int | float):
        return "#VALUE!"
    return None if rate is None else round(min(rate, 1) * spec.budget_weight, 2)


# --- editing a FormSpec before layout ----------------------------------------------------

# --- workbooks LibreOffice re-saves as .xlsx, .xlsm, .xls and .ods (lo.py) --------------------

FORMULAS = {"budget_weight": 10, "rate": "formula", "budget_score": "formula", "total_reported": "formula"}


def drifted_grid() -> Grid:
    """The seed as a unit really returned it, every kind of drift at once.

    Two notes above the title and a leading blank column (everything 3 rows down and
    1 column right: G6 → H9); labels with line breaks, spaces and suffixes; 偏差原因
    headed 未完成原因分析; 执行率, 得分, 总分 and one indicator 得分 as formulas; a
    percentage stored as a number; full-width text numbers; placeholder rows in
    other styles. Figures are the seed's; the reported ones are the formulas' results
    (执行率 3.07/5.4, 得分 5.69, 总分 95.69).
    """
    spec = seed_form(**FORMULAS)
    category(spec, "成本指标").indicators = [IndicatorSpec("指标1："), IndicatorSpec("……")]
    category(spec, "生态效益\n指标").indicators = [IndicatorSpec(None), IndicatorSpec("…")]
    quantity = indicator(spec, "失业动态监测企业数")
    quantity.target, quantity.actual = "４０家", "４０ 家"
    indicator(spec, "发放差错率 (%)").target = "≦１％"
    grid = standard_grid(spec)
    for old, new in (("项目名称", "项目\n名称"), ("实施单位", "实 施 单 位"), ("全年预算数", "全年预算数（A）"),
                     ("全年执行数", "全年执行数（B）"), ("执行率", "执行率（B/A）"), ("分 值", "分值"),
                     ("偏差原因分析\n及改进措施", "未完成原因分析"), ("总分", "总  分")):
        grid.relabel(old, new)
    row = grid.row_of("资金使用合理率")
    grid.set((row, 5), 1, "0%")  # 实际完成值 100% as a number with a % format
    row = grid.row_of("退休人员数量") + 1  # 1-based, for the formula
    grid.set((row - 1, 7), Formula(f"=IF(F{row}>=E{row},G{row},ROUND(F{row}/E{row}*G{row},2))", 8))
    grid.insert_cols(0)
    grid.insert_rows(0, rows=[[None, "附件1"], [], [None, "承德县财政局制"]])
    return grid


INSTRUCTIONS = [
    ["项目支出绩效自评表填报说明"],
    ["序号", "栏目", "填报要求"],
    [1, "项目名称", "按预算批复的项目名称填写"],
    [2, "实施单位", "填写项目实施单位全称"],
    [3, "全年预算数", "调整后的全年预算数，单位：万元"],
    [4, "全年执行数", "截至12月31日的实际支出，单位：万元"],
    [5, "执行率", "=全年执行数/全年预算数，由公式自动计算"],
    [6, "三级指标", "按批复的绩效目标逐项填写，不得只保留「指标1：」等占位行"],
    [7, "年度指标值", "按批复的绩效目标填写"],
    [8, "偏差原因分析及改进措施", "未完全达成的指标必须填写"],
]
PROJECTS = ("失业动态监测，社会化管理服务费", "退休人员社会化管理服务经费", "失业动态监测联络员工作补贴")


def several_forms_sheets() -> list[tuple[str, Grid | list]]:
    """One unit's workbook: 填报说明, 目录, three projects (the third shifted right) and a blank sheet.

    1. the seed; 2. clean_form as 退休人员社会化管理服务经费, 12 / 11.4 万元 (95%);
    3. clean_form as 失业动态监测联络员工作补贴, 3 / 3 万元 (100%, 得分 10, 总分 100).
    """
    second = clean_form(project=PROJECTS[1], funds={"年度资金总额": (12, 12, 11.4),
                                                    "当年财政拨款": (12, 12, 11.4)})
    third = clean_form(project=PROJECTS[2], funds={"年度资金总额": (3, 3, 3), "当年财政拨款": (3, 3, 3)},
                       rate="100%", budget_score=10, total_reported=100)
    contents = [["目录"], *([f"{n}、{p}项目支出绩效自评表"] for n, p in zip("一二三", PROJECTS, strict=True))]
    return [
        ("填报说明", INSTRUCTIONS),
        ("目录", contents),
        ("社会化管理服务费", standard_grid(seed_form())),
        ("退休人员管理经费", standard_grid(second)),
        ("联络员补贴", standard_grid(third).insert_cols(0, 2)),
        ("Sheet1", []),
    ]


LO_SOURCES = {
    "drifted": lambda path: write_book(path, [("自评表", drifted_grid())]),
    "several_forms": lambda path: write_book(path, several_forms_sheets()),
}
