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
from ..models import Block, Category, Cell, RawForm, RawIndicator
from . import vocabulary as vocab
from .values import clean_text, fold, is_blank, label_key, parse_amount
from .vocabulary import FUND_COLS, FUND_ROWS, Role

# Every label is looked up in the vocabulary's tables when asked (vocab.HEADER, vocab.FUND_COLUMN …),
# never copied here: the parser holds no spellings of its own.
# "指标 1:", "指标2：", "指标三：", "....", "……", "。。。" (matched after NFKC: … is "...").
_PLACEHOLDER = re.compile(r"^(指标\s*[\d一二三四五六七八九十]*\s*[:：]?|[.。…·、]+|\s*)$")
_YEAR = re.compile(r"((?:19|20)\d{2})\s*年(?!\s*\d{1,2}\s*月)")  # "2023 年", not "2024年3月18日"
_YEAR_OF_FORM = re.compile(r"((?:19|20)\d{2})\s*年度")
_POINTS = re.compile(r"(\d+(?:\.\d+)?)\s*分")


def is_placeholder(value) -> bool:
    """"指标 1:", "指标2：", "....." and "……" stand in for indicators nobody filled in."""
    return bool(_PLACEHOLDER.match(fold(value)))


def matches(key: str, stems: Iterable[str], slack: int = 3) -> bool:
    """A cell is a label when its key starts with a stem and the rest is short (a suffix such as
    数, 合计): prose that mentions a label is not one."""
    return _matches(key, tuple(stems), slack)


def names(key: str, role: Role) -> bool:
    """Whether the label `key` names `role` (by its stems and slack)."""
    return _matches(key, role.stems, role.slack)


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

    def find(self, role: Role):
        """(row, col) of the first label naming `role`, in reading order."""
        for r, c, key in self.labels:
            if names(key, role):
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

    def right_of(self, row: int, col: int, stop: tuple[Role, ...]) -> Cell:
        """The first value right of a label, stopping at the next label (one naming a role of `stop`).

        The label repeated to its right (a merged label cell unmerged with "fill") is skipped.
        """
        own = label_key(self.sheet.value(row, col))
        end = self.merge_end(row, col)
        while label_key(self.sheet.value(row, end + 1)) == own:
            end += 1
        empty_ref = a1(row, end + 1)
        for c, value in self.filled.get(row, ()):
            if c <= col or label_key(value) == own:
                continue
            if isinstance(value, str) and any(names(label_key(value), role) for role in stop):
                break
            return Cell(value, a1(row, c))
        return Cell(None, empty_ref)

    def spans(self, row: int, roles: dict[str, Role]) -> dict[str, range]:
        """Column span of each header label in `row`: from its column up to the next label.

        A label naming several roles is the first of them in `roles`' order."""
        found = {}
        for c, key in self.row_labels.get(row, ()):
            for name, role in roles.items():
                if name not in found and names(key, role):
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
    title_pos = loc.contains(vocab.TITLE_WORD)
    project_pos = loc.find(vocab.HEADER["project"])
    funds_row = _header_row(loc, vocab.FUND_COLUMN, "full_year")
    indicator_row = _header_row(loc, vocab.INDICATOR_COLUMN, "name")
    anchors = [title_pos, project_pos, funds_row, indicator_row, loc.find(vocab.HEADER["unit"])]
    # A form has a header row — 全年预算数 beside 全年执行数 …, or 三级指标 beside 年度指标值 … —
    # and one more anchor. A 填报说明 sheet may quote every label, one per row, never the layout.
    if (funds_row is None and indicator_row is None) or sum(a is not None for a in anchors) < 2:
        return None
    if project_pos is None and _is_department_form(loc, _first(funds_row, indicator_row)):
        return None  # a 部门整体支出绩效自评表 has both tables: it is not a project form missing its name
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


def sheet_kind(sheet: Sheet) -> str:
    """What a sheet without a project form is: a key of `vocab.NOT_PROJECT_KINDS`, "" when unrecognized.

    Asked only of sheets `parse_sheet` found no form in (a NO_FORM_FOUND message names them): a
    title such as 填报说明 never turns a form into prose.
    """
    loc = _Locator(sheet)
    if not loc.filled:
        return "blank"
    if loc.find(vocab.HEADER["project"]) is None:
        tables = _header_row(loc, vocab.FUND_COLUMN, "full_year"), _header_row(loc, vocab.INDICATOR_COLUMN, "name")
        if _is_department_form(loc, _first(*tables)):
            return "department"
    titles = _title_keys(loc)
    for kind, words in vocab.NOT_PROJECT_TITLES.items():
        if any(key.endswith(word) for key in titles for word in words):
            return kind
    return ""


# A title is one of a sheet's first labels, and short: prose that mentions 说明 is not one.
_TITLE_LABELS, _TITLE_LENGTH = 3, 20


def _title_keys(loc: _Locator) -> list[str]:
    return [key for _r, _c, key in loc.labels[:_TITLE_LABELS] if len(key) <= _TITLE_LENGTH]


def _first(*rows: int | None) -> int | None:
    return min((r for r in rows if r is not None), default=None)


def _is_department_form(loc: _Locator, head_end: int | None) -> bool:
    """Whether the sheet's head names a department-wide form (部门整体支出绩效自评表, 年度部门整体支出预算):
    its title or a block label down to its first table header; without a table, its title alone.

    Only the head counts: a project form's note under its 总分 row may mention the department-wide
    form, and so may a 目录's second line ("一、部门整体支出绩效自评表").
    """
    head = _title_keys(loc)[:1] if head_end is None else [key for r, _c, key in loc.labels if r <= head_end]
    return any(word in key for key in head for word in vocab.DEPARTMENT_WORDS)


def _header_value(loc: _Locator, field: str) -> Cell:
    pos = loc.find(vocab.HEADER[field])
    if pos is None:
        return Cell()
    # The value ends at the next header label, or where the funds block begins on the same row.
    stop = (*vocab.HEADER.values(), vocab.FUNDS_BLOCK, vocab.FUND_COLUMN["initial"])
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


def _header_row(loc: _Locator, columns: dict[str, Role], key: str) -> int | None:
    """The first row holding the `key` column's label and the label of another of `columns`."""
    own = columns[key]
    others = [role for name, role in columns.items() if name != key]
    for r, _c, label in loc.labels:
        if names(label, own) and any(names(other, role) for _c2, other in loc.row_labels[r] for role in others):
            return r
    return None


def _funds(loc: _Locator, header_row: int | None, stop_row: int | None) -> dict:
    """The 年度资金总额 table: for each fund row, the cell under each column label."""
    funds = {r: {c: Cell() for c in FUND_COLS} for r in FUND_ROWS}
    if header_row is None:
        return funds
    spans = loc.spans(header_row, vocab.FUND_COLUMN)
    first_col = min((s.start for s in spans.values()), default=loc.sheet.width)
    end = stop_row if stop_row is not None else header_row + 8
    found: set[str] = set()  # the first label of a fund row wins
    for r, c, key in loc.labels:
        if not header_row < r < end or c >= first_col:
            continue
        row_name = next((name for name, role in vocab.FUND_ROW.items()
                         if name not in found and names(key, role)), None)
        if row_name:
            found.add(row_name)
            funds[row_name] = {col: loc.in_span(r, spans.get(col)) for col in FUND_COLS}
    return funds


def _goals(loc: _Locator) -> tuple[Cell, Cell]:
    expected = loc.find(vocab.GOAL["expected"])
    actual = loc.find(vocab.GOAL["actual"])
    if expected is None:
        return Cell(), Cell()
    row = expected[0]
    spans = loc.spans(row, vocab.GOAL)
    if actual is not None and actual[0] == row:
        spans["actual"] = range(actual[1], loc.sheet.width)
    return loc.in_span(row + 1, spans.get("expected")), loc.in_span(row + 1, spans.get("actual"))


def _indicators(loc: _Locator, header_row: int | None):
    """Indicator rows, 二级 categories, 一级 blocks and the 总分 row (weight, reported)."""
    if header_row is None:
        return [], [], [], (Cell(), Cell())
    spans = loc.spans(header_row, vocab.INDICATOR_COLUMN)
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
    return any(c < label_end and names(key, vocab.TOTAL)
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
