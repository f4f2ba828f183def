"""Find a self-evaluation form in a sheet by anchoring on its labels.

Nothing here depends on fixed cell addresses or on merge information (ods has
none): each block is located by its labels, a header row's labels give the
column span of each field, and a value is the first non-empty cell of its span.
Merged cells hold their value in the top-left cell only, which is exactly what
"first non-empty cell of the span" and carrying 一级/二级 labels down give.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

from ..intake.read import Sheet, a1
from ..models import (
    FUND_COLS,
    FUND_ROWS,
    Block,
    Category,
    Cell,
    RawForm,
    RawIndicator,
)
from .values import clean_text, fold, is_blank, label_key, parse_amount

# Label stems per field: a cell is the label when its key starts with a stem and
# the rest is short (a suffix such as 数, 合计) — prose mentioning a label is not one.
HEADER_LABELS = {"project": "项目名称", "department": "主管部门", "unit": "实施单位"}
FUND_COL_STEMS = {
    "initial": ("年初预算",),
    "full_year": ("全年预算",),
    "executed": ("全年执行", "实际执行"),
    "weight": ("分值",),
    "rate": ("执行率",),
    "score": ("得分",),
}
FUND_ROW_STEMS = {
    "total": ("年度资金总额", "资金总额"),
    "current": ("当年财政拨款", "其中当年财政拨款", "财政拨款", "其中财政拨款"),
    "carryover": ("上年结转资金", "上年结转", "其中上年结转资金"),
    "other": ("其他资金",),
}
INDICATOR_COL_STEMS = {
    "level1": ("一级指标",),
    "level2": ("二级指标",),
    "name": ("三级指标",),
    "target": ("年度指标值", "指标值", "年度目标值"),
    "actual": ("实际完成值", "完成值", "实际值"),
    "weight": ("分值",),
    "score": ("得分",),
    "deviation": ("偏差原因", "未完成原因", "偏差原因分析及改进措施"),
}
# "指标 1:", "指标2：", "指标三：", "....", "……", "。。。" (matched after NFKC: … is "...").
_PLACEHOLDER = re.compile(r"^(指标\s*[\d一二三四五六七八九十]*\s*[:：]?|[.。…·、]+|\s*)$")
_YEAR = re.compile(r"((?:19|20)\d{2})\s*年(?!\s*\d{1,2}\s*月)")  # "2023 年", not "2024年3月18日"
_YEAR_OF_FORM = re.compile(r"((?:19|20)\d{2})\s*年度")
_POINTS = re.compile(r"(\d+(?:\.\d+)?)\s*分")


def is_placeholder(value) -> bool:
    """"指标 1:", "指标2：", "....." and "……" stand in for indicators nobody filled in."""
    return bool(_PLACEHOLDER.match(fold(value)))


def matches(key: str, stems: Iterable[str], slack: int = 3) -> bool:
    return _matches(key, tuple(stems), slack)


@lru_cache(maxsize=1 << 16)
def _matches(key: str, stems: tuple[str, ...], slack: int) -> bool:
    # Memoized: the same labels are asked about on every row of every form.
    return any(key.startswith(s) and len(key) - len(s) <= slack for s in stems)


def _has_value(value) -> bool:
    """Whether a cell shows anything, i.e. clean_text(value) != "", decided without formatting it:
    clean_text only empties whitespace (its \\s is str.isspace) and, of the floats, NaN."""
    if type(value) is str:
        return value.strip() != ""
    if type(value) is float:
        return value == value
    return value is not None and clean_text(value) != ""


class _Locator:
    """Label positions and filled cells of one sheet, indexed once for the anchoring lookups below.

    Every lookup is by row, so both indexes are kept per row: a form's dozens of rows are asked
    about eight fields each, and a scan of the whole grid per question was most of the parse time.
    """

    def __init__(self, sheet: Sheet):
        self.sheet = sheet
        self.labels: list[tuple[int, int, str]] = []  # (row, col, key), in reading order
        self.row_labels: dict[int, list[tuple[int, str]]] = {}  # row → [(col, key)], left to right
        self.filled: dict[int, list[tuple[int, object]]] = {}  # row → [(col, value)] of non-blank cells
        for r, row in enumerate(sheet.rows, sheet.row0):
            filled = [(c, v) for c, v in enumerate(row, sheet.col0) if _has_value(v)]
            if not filled:
                continue
            self.filled[r] = filled
            keys = [(c, label_key(v)) for c, v in filled if isinstance(v, str)]  # not blank: filled
            if keys:
                self.row_labels[r] = keys
                self.labels.extend((r, c, key) for c, key in keys)

    def find(self, stems: Iterable[str]):
        """(row, col) of the first label matching one of `stems`, in reading order."""
        stems = tuple(stems)
        for r, c, key in self.labels:
            if matches(key, stems):
                return r, c
        return None

    def contains(self, text: str):
        for r, c, key in self.labels:
            if text in key:
                return r, c
        return None

    def cell(self, row: int, col: int) -> Cell:
        return Cell(self.sheet.value(row, col), a1(row, col))

    def merge_end(self, row: int, col: int) -> int:
        """Last column of the merged range whose top-left is (row, col); `col` if none."""
        for (r0, c0), (_r1, c1) in self.sheet.merged or ():
            if (r0, c0) == (row, col):
                return c1
        return col

    def right_of(self, row: int, col: int, stop_keys: Iterable[str]) -> Cell:
        """The first value right of a label, stopping at the next label.

        The label repeated to its right (a merged label cell unmerged with "fill") is skipped.
        """
        stop = tuple(stop_keys)
        own = label_key(self.sheet.value(row, col))
        end = self.merge_end(row, col)
        while label_key(self.sheet.value(row, end + 1)) == own:
            end += 1
        empty_ref = a1(row, end + 1)
        for c, value in self.filled.get(row, ()):
            if c <= col or label_key(value) == own:
                continue
            if isinstance(value, str) and matches(label_key(value), stop):
                break
            return Cell(value, a1(row, c))
        return Cell(None, empty_ref)

    def spans(self, row: int, stems: dict[str, tuple[str, ...]]) -> dict[str, range]:
        """Column span of each header label in `row`: from its column up to the next label."""
        found = {}
        for c, key in self.row_labels.get(row, ()):
            for name, options in stems.items():
                if name not in found and matches(key, options):
                    found[name] = c
                    break
        cols = sorted(found.values())
        spans = {}
        for name, c in found.items():
            later = [x for x in cols if x > c]
            spans[name] = range(c, later[0] if later else c + 2)
        return spans

    def in_span(self, row: int, span: range | None) -> Cell:
        if span is None:
            return Cell(None, "")
        for c, value in self.filled.get(row, ()):
            if c >= span.stop:
                break
            if c >= span.start:
                return Cell(value, a1(row, c))
        return Cell(None, a1(row, span.start))


def parse_sheet(sheet: Sheet, source_file: str) -> RawForm | None:
    """The form in `sheet`, or None when the sheet is not a self-evaluation form."""
    loc = _Locator(sheet)
    title_pos = loc.contains("绩效自评表")
    project_pos = loc.find([HEADER_LABELS["project"]])
    funds_row = _header_row(loc, FUND_COL_STEMS, "full_year")
    indicator_row = _header_row(loc, INDICATOR_COL_STEMS, "name")
    anchors = [title_pos, project_pos, funds_row, indicator_row, loc.find(["实施单位"])]
    # A form has a header row — 全年预算数 beside 全年执行数 …, or 三级指标 beside 年度指标值 … —
    # and one more anchor. A 填报说明 sheet may quote every label, one per row, never the layout.
    if (funds_row is None and indicator_row is None) or sum(a is not None for a in anchors) < 2:
        return None
    header_top = project_pos[0] if project_pos else (funds_row or 0)
    title = loc.cell(*title_pos) if title_pos else Cell()
    funds = _funds(loc, funds_row, indicator_row)
    indicators, categories, blocks, total = _indicators(loc, indicator_row)
    goal_expected, goal_actual = _goals(loc)
    return RawForm(
        source_file=source_file,
        sheet=sheet.name,
        title=title,
        year=_year(loc, header_top),
        project=_header_value(loc, "project"),
        department=_header_value(loc, "department"),
        unit=_header_value(loc, "unit"),
        funds=funds,
        goal_expected=goal_expected,
        goal_actual=goal_actual,
        indicators=indicators,
        categories=categories,
        blocks=blocks,
        total_weight=total[0],
        total_reported=total[1],
    )


def _header_value(loc: _Locator, field: str) -> Cell:
    pos = loc.find([HEADER_LABELS[field]])
    if pos is None:
        return Cell()
    stop = [*HEADER_LABELS.values(), "项目资金", "年初预算"]
    return loc.right_of(pos[0], pos[1], stop)


def _year(loc: _Locator, above_row: int) -> int | None:
    """The form's year from the lines above its header: "（2023 年度）" first, then "2023年…"
    ("2023年项目支出绩效自评表"); a date ("填报日期：2024年3月18日") is never the year."""
    texts = [fold(loc.sheet.value(r, c)) for r, c, _key in loc.labels if r <= above_row]
    for pattern in (_YEAR_OF_FORM, _YEAR):
        for text in texts:
            match = pattern.search(text)
            if match:
                return int(match.group(1))
    return None


def _header_row(loc: _Locator, columns: dict[str, tuple[str, ...]], key: str) -> int | None:
    """The first row holding the `key` column's label and the label of another of `columns`."""
    others = tuple(stem for name, stems in columns.items() if name != key for stem in stems)
    for r, _c, label in loc.labels:
        if matches(label, columns[key]) and any(matches(other, others) for _c2, other in loc.row_labels[r]):
            return r
    return None


def _funds(loc: _Locator, header_row: int | None, stop_row: int | None) -> dict:
    """The 年度资金总额 table: for each fund row, the cell under each column label."""
    funds = {r: {c: Cell() for c in FUND_COLS} for r in FUND_ROWS}
    if header_row is None:
        return funds
    spans = loc.spans(header_row, FUND_COL_STEMS)
    first_col = min((s.start for s in spans.values()), default=loc.sheet.width)
    end = stop_row if stop_row is not None else header_row + 8
    found: set[str] = set()  # the first label of a fund row wins
    for r, c, key in loc.labels:
        if not header_row < r < end or c >= first_col:
            continue
        row_name = next((name for name, stems in FUND_ROW_STEMS.items()
                         if name not in found and matches(key, stems, slack=4)), None)
        if row_name:
            found.add(row_name)
            funds[row_name] = {col: loc.in_span(r, spans.get(col)) for col in FUND_COLS}
    return funds


def _goals(loc: _Locator) -> tuple[Cell, Cell]:
    expected = loc.find(["预期目标"])
    actual = loc.find(["实际完成情况"])
    if expected is None:
        return Cell(), Cell()
    row = expected[0]
    stems = {"expected": ("预期目标",), "actual": ("实际完成情况",)}
    spans = loc.spans(row, stems)
    if actual is not None and actual[0] == row:
        spans["actual"] = range(actual[1], loc.sheet.width)
    return loc.in_span(row + 1, spans.get("expected")), loc.in_span(row + 1, spans.get("actual"))


def _indicators(loc: _Locator, header_row: int | None):
    """Indicator rows, 二级 categories, 一级 blocks and the 总分 row (weight, reported)."""
    if header_row is None:
        return [], [], [], (Cell(), Cell())
    spans = loc.spans(header_row, INDICATOR_COL_STEMS)
    indicators: list[RawIndicator] = []
    categories: list[Category] = []
    blocks: list[Block] = []
    level1 = level2 = Cell()
    total = (Cell(), Cell())
    # 总分 sits left of the indicator names, or (some forms) in the 三级指标 column itself.
    label_end = spans["name"].stop if "name" in spans else loc.sheet.width
    for row in range(header_row + 1, loc.sheet.height):
        if _is_total_row(loc, row, label_end):
            total = _total(loc, row, spans)
            break
        l1 = loc.in_span(row, spans.get("level1"))
        l2 = loc.in_span(row, spans.get("level2"))
        # A label repeated down its column (merges undone with "fill", as WPS offers) is the
        # same block or category, not a new one.
        if _starts(l1, level1):
            level1, level2 = l1, Cell()
            blocks.append(Block(clean_text(l1.value), _points(l1.value), l1.ref))
        if _starts(l2, level2):
            level2 = l2
            categories.append(Category(clean_text(level1.value), clean_text(l2.value), 0, l2.ref))
        values = {f: loc.in_span(row, spans.get(f)) for f in
                  ("name", "target", "actual", "weight", "score", "deviation")}
        if not _is_indicator(values):
            continue
        indicators.append(RawIndicator(level1=level1, level2=level2, row=row + 1, **values))
        if categories and categories[-1].level2 == clean_text(level2.value):
            categories[-1].indicators += 1
    return indicators, categories, blocks, total


def _starts(label: Cell, current: Cell) -> bool:
    """Whether a 一级/二级 cell opens a new block: filled in, not a placeholder, not a repeat."""
    return (label.value is not None and not is_placeholder(label.value)
            and clean_text(label.value) != clean_text(current.value))


def _is_indicator(values: dict[str, Cell]) -> bool:
    """A named row, or a placeholder row someone filled in; "/" or "—" in a placeholder row fills nothing."""
    if not is_placeholder(values["name"].value):
        return True
    return any(not is_blank(values[f].value) for f in ("target", "actual", "weight", "score"))


def _is_total_row(loc: _Locator, row: int, label_end: int) -> bool:
    return any(c < label_end and matches(key, ("总分", "合计"), slack=2)
               for c, key in loc.row_labels.get(row, ()))


def _total(loc: _Locator, row: int, spans: dict[str, range]) -> tuple[Cell, Cell]:
    weight = loc.in_span(row, spans.get("weight"))
    score = loc.in_span(row, spans.get("score"))
    if weight.value is None and score.value is None:
        # Some exports shift the total row by a column: take the last two numbers.
        numbers = [
            Cell(loc.sheet.value(row, c), a1(row, c)) for c in range(loc.sheet.col0, loc.sheet.width)
            if parse_amount(loc.sheet.value(row, c)).value is not None
        ]
        if len(numbers) >= 2:
            return numbers[-2], numbers[-1]
    return weight, score


def _points(label) -> float | None:
    match = _POINTS.search(fold(label))
    return float(match.group(1)) if match else None
