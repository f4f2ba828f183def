"""Find a self-evaluation form in a sheet by anchoring on its labels.

Nothing here depends on fixed cell addresses or on merge information (ods has
none): each block is located by its labels, a header row's labels give the
column span of each field, and a value is the first non-empty cell of its span.
Merged cells hold their value in the top-left cell only, which is exactly what
"first non-empty cell of the span" and carrying 一级/二级 labels down give.
"""

from __future__ import annotations

import re

from ..intake.read import Sheet, a1
from ..models import Block, Category, Cell, RawForm, RawIndicator
from . import vocabulary as vocab
from .locate import Locator, names, role_key
from .nearby import labels_near
from .values import clean_text, fold, is_blank, parse_amount
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


def parse_sheet(sheet: Sheet, source_file: str) -> RawForm | None:
    """The form in `sheet`, or None when the sheet is not a self-evaluation form."""
    loc = Locator(sheet)
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
    labels: dict[str, tuple[str, str]] = {}  # where each role was found: RawForm.labels
    header = {name: _header_value(loc, name, labels) for name in vocab.HEADER}
    funds = _funds(loc, funds_row, indicator_row, labels)
    indicators, categories, blocks, total = _indicators(loc, indicator_row, labels)
    goal_expected, goal_actual = _goals(loc, labels)
    values = {title.ref, *(cell.ref for cell in header.values())}
    return RawForm(
        source_file=source_file,
        sheet=sheet.name,
        title=title,
        year=_year(loc, header_top),
        project=header["project"],
        department=header["department"],
        unit=header["unit"],
        funds=funds,
        goal_expected=goal_expected,
        goal_actual=goal_actual,
        indicators=indicators,
        categories=categories,
        blocks=blocks,
        total_weight=total[0],
        total_reported=total[1],
        labels=labels,
        nearby=labels_near(loc, labels, funds_row, indicator_row, values),
    )


def sheet_kind(sheet: Sheet) -> str:
    """What a sheet without a project form is: a key of `vocab.NOT_PROJECT_KINDS`, "" when unrecognized.

    Asked only of sheets `parse_sheet` found no form in (a NO_FORM_FOUND message names them): a
    title such as 填报说明 never turns a form into prose.
    """
    loc = Locator(sheet)
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


def _title_keys(loc: Locator) -> list[str]:
    return [key for _r, _c, key in loc.labels[:_TITLE_LABELS] if len(key) <= _TITLE_LENGTH]


def _first(*rows: int | None) -> int | None:
    return min((r for r in rows if r is not None), default=None)


def _is_department_form(loc: Locator, head_end: int | None) -> bool:
    """Whether the sheet's head names a department-wide form (部门整体支出绩效自评表, 年度部门整体支出预算):
    its title or a block label down to its first table header; without a table, its title alone.

    Only the head counts: a project form's note under its 总分 row may mention the department-wide
    form, and so may a 目录's second line ("一、部门整体支出绩效自评表").
    """
    head = _title_keys(loc)[:1] if head_end is None else [key for r, _c, key in loc.labels if r <= head_end]
    return any(word in key for key in head for word in vocab.DEPARTMENT_WORDS)


def _header_value(loc: Locator, field: str, labels: dict) -> Cell:
    pos = loc.find(vocab.HEADER[field])
    if pos is None:
        return Cell()
    labels[role_key("header", field)] = loc.label(*pos)
    # The value ends at the next header label, or where the funds block begins on the same row.
    stop = (*vocab.HEADER.values(), vocab.FUNDS_BLOCK, vocab.FUND_COLUMN["initial"])
    return loc.right_of(pos[0], pos[1], stop)


def _year(loc: Locator, above_row: int) -> int | None:
    """The form's year from the lines above its header: "（2023 年度）" first, then "2023年…"
    ("2023年项目支出绩效自评表"); a date ("填报日期：2024年3月18日") is never the year."""
    texts = [fold(loc.sheet.value(r, c)) for r, c, _key in loc.labels if r <= above_row]
    for pattern in (_YEAR_OF_FORM, _YEAR):
        for text in texts:
            match = pattern.search(text)
            if match:
                return int(match.group(1))
    return None


def _header_row(loc: Locator, columns: dict[str, Role], key: str) -> int | None:
    """The first row holding the `key` column's label and the label of another of `columns`."""
    own = columns[key]
    others = [role for name, role in columns.items() if name != key]
    for r, _c, label in loc.labels:
        if names(label, own) and any(names(other, role) for _c2, other in loc.row_labels[r] for role in others):
            return r
    return None


def _funds(loc: Locator, header_row: int | None, stop_row: int | None, labels: dict) -> dict:
    """The 年度资金总额 table: for each fund row, the cell under each column label."""
    funds = {r: {c: Cell() for c in FUND_COLS} for r in FUND_ROWS}
    if header_row is None:
        return funds
    spans = loc.spans(header_row, vocab.FUND_COLUMN)
    _column_labels(loc, header_row, spans, "fund_column", labels)
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
            labels[role_key("fund_row", row_name)] = loc.label(r, c)
            funds[row_name] = {col: loc.in_span(r, spans.get(col)) for col in FUND_COLS}
    return funds


def _column_labels(loc: Locator, row: int, spans: dict[str, range], group: str, labels: dict) -> None:
    """Each column's label: the header row's cell its span starts at."""
    for name, span in spans.items():
        labels[role_key(group, name)] = loc.label(row, span.start)


def _goals(loc: Locator, labels: dict) -> tuple[Cell, Cell]:
    expected = loc.find(vocab.GOAL["expected"])
    actual = loc.find(vocab.GOAL["actual"])
    if expected is None:
        return Cell(), Cell()
    labels[role_key("goal", "expected")] = loc.label(*expected)
    if actual is not None:
        labels[role_key("goal", "actual")] = loc.label(*actual)
    row = expected[0]
    spans = loc.spans(row, vocab.GOAL)
    if actual is not None and actual[0] == row:
        spans["actual"] = range(actual[1], loc.sheet.width)
    return loc.in_span(row + 1, spans.get("expected")), loc.in_span(row + 1, spans.get("actual"))


def _indicators(loc: Locator, header_row: int | None, labels: dict):
    """Indicator rows, 二级 categories, 一级 blocks and the 总分 row (weight, reported)."""
    if header_row is None:
        return [], [], [], (Cell(), Cell())
    spans = loc.spans(header_row, vocab.INDICATOR_COLUMN)
    _column_labels(loc, header_row, spans, "indicator_column", labels)
    indicators: list[RawIndicator] = []
    categories: list[Category] = []
    blocks: list[Block] = []
    level1 = level2 = Cell()
    total = (Cell(), Cell())
    # 总分 sits left of the indicator names, or (some forms) in the 三级指标 column itself.
    label_end = spans["name"].stop if "name" in spans else loc.sheet.width
    for row in range(header_row + 1, loc.sheet.height):
        total_col = _total_label(loc, row, label_end)
        if total_col is not None:
            labels[role_key("total", "total")] = loc.label(row, total_col)
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


def _total_label(loc: Locator, row: int, label_end: int) -> int | None:
    """The column of the 总分 label in `row`, None when the row is no 总分 row."""
    return next((c for c, key in loc.row_labels.get(row, ()) if c < label_end and names(key, vocab.TOTAL)), None)


def _total(loc: Locator, row: int, spans: dict[str, range]) -> tuple[Cell, Cell]:
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
