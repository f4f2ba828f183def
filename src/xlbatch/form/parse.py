"""Find a self-evaluation form in a sheet by anchoring on its labels.

Nothing here depends on fixed cell addresses or on merge information (ods has
none): each block is located by its labels, a header row's labels give the
column span of each field, and a value is the first non-empty cell of its span.
Merged cells hold their value in the top-left cell only, which is exactly what
"first non-empty cell of the span" and carrying 一级/二级 labels down give.
"""

from __future__ import annotations

import re
from pathlib import PurePath

from ..intake.read import Sheet, a1
from ..models import Block, Category, Cell, RawForm, RawIndicator
from . import vocabulary as vocab
from .locate import Locator, fit, names
from .nearby import labels_near
from .values import clean_text, fold, is_blank, label_key, parse_amount
from .vocabulary import FUND_COLS, FUND_ROWS, Role, role_key

# Every label is looked up in the vocabulary's tables when asked (vocab.HEADER, vocab.FUND_COLUMN …),
# never copied here: the parser holds no spellings of its own.
# "指标 1:", "指标2：", "指标三：", "....", "……", "。。。" (matched after NFKC: … is "...").
_PLACEHOLDER = re.compile(r"^(指标\s*[\d一二三四五六七八九十]*\s*[:：]?|[.。…·、]+|\s*)$")
_YEAR = re.compile(r"((?:19|20)\d{2})\s*年(?!\s*\d{1,2}\s*月)")  # "2023 年", not "2024年3月18日"
_YEAR_OF_FORM = re.compile(r"((?:19|20)\d{2})\s*年度")
_POINTS = re.compile(r"(\d+(?:\.\d+)?)\s*分")
# 二〇二三年度: the digits of a year written in characters.
_CJK_DIGITS = str.maketrans("〇零一二三四五六七八九", "00123456789")


def is_placeholder(value) -> bool:
    """"指标 1:", "指标2：", "....." and "……" stand in for indicators nobody filled in."""
    return bool(_PLACEHOLDER.match(fold(value)))


def stacked_forms(sheet: Sheet) -> list[Sheet]:
    """`sheet` cut into one part per form, for `parse_sheet` to read each: several forms stacked
    one under another (四川's 部门预算项目支出绩效自评表 printed for each project of a unit on one
    sheet). A part starts at the title above a 项目名称 label (or at the label) that has a funds or
    indicator header of its own before the next one; a sheet of one form is one part."""
    loc = Locator(sheet)
    project = vocab.HEADER["project"]
    starts = sorted({r for r, _c, key in loc.labels if names(key, project)})
    if len(starts) < 2:
        return [sheet]
    tables = {r for r, _c, key in loc.labels
              if names(key, vocab.FUND_COLUMN["full_year"]) or names(key, vocab.INDICATOR_COLUMN["name"])}
    bounds = [*starts[1:], sheet.height]
    if not all(any(a < t < b for t in tables) for a, b in zip(starts, bounds, strict=True)):
        return [sheet]  # one form whose 项目名称 appears twice (a note under it, a repeated header)
    cuts = [_part_start(loc, start, previous) for previous, start in zip([sheet.row0, *starts], starts, strict=False)]
    cuts[0] = sheet.row0
    return [_rows(sheet, a, b) for a, b in zip(cuts, [*cuts[1:], sheet.height], strict=True)]


def _part_start(loc: Locator, project_row: int, after: int) -> int:
    """The first row of the form whose 项目名称 is on `project_row`: its title's row, or the 报表编号
    line above that, when they are within three rows above it."""
    start = project_row
    for r in range(project_row - 1, max(after, project_row - 4), -1):
        if r in loc.row_labels:
            start = r
    return start


def _rows(sheet: Sheet, first: int, end: int) -> Sheet:
    """Rows [first, end) of `sheet`, at their own addresses."""
    merged = None if sheet.merged is None else [m for m in sheet.merged if first <= m[0][0] < end]
    return Sheet(sheet.name, sheet.rows[first - sheet.row0:end - sheet.row0], first, sheet.col0, merged)


def parse_sheet(sheet: Sheet, source_file: str) -> RawForm | None:
    """The form in `sheet` (one form), or None when the sheet is not a self-evaluation form."""
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
    head = range(sheet.row0, _first(funds_row, indicator_row) or sheet.height)
    header = {name: _header_value(loc, name, labels, head) for name in vocab.HEADER}
    funds = _funds(loc, funds_row, indicator_row, labels)
    indicators, categories, blocks, total = _indicators(loc, indicator_row, labels)
    _budget_indicator(funds, indicators, categories, blocks, labels, loc)
    if total[1].value is None and total[0].value is None:
        total = (total[0], _header_total(loc, head, labels))
    goal_expected, goal_actual = _goals(loc, labels, indicator_row)
    values = {title.ref, *(cell.ref for cell in header.values())}
    return RawForm(
        source_file=source_file,
        sheet=sheet.name,
        title=title,
        year=_year(loc, header_top) or _year_of_name(source_file),
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


def _header_value(loc: Locator, field: str, labels: dict, head: range) -> Cell:
    role = vocab.HEADER[field]
    pos = loc.find(role)
    if pos is None:
        # 「单位名称：农业科」: label and value in one cell, in the form's head.
        found = loc.colon_label(role, head)
        if found is None:
            return Cell()
        r, c, value = found
        labels[role_key("header", field)] = loc.label(r, c)
        return Cell(value, a1(r, c))
    labels[role_key("header", field)] = loc.label(*pos)
    # The value ends at the next header label, or where the funds block begins on the same row.
    others = (r for name, r in vocab.HEADER.items() if name != field)
    stop = (*others, vocab.FUNDS_BLOCK, vocab.FUND_COLUMN["initial"], vocab.ROLES["total"]["header"])
    return loc.right_of(pos[0], pos[1], stop)


def _header_total(loc: Locator, head: range, labels: dict) -> Cell:
    """The total stated in the head (自评得分 | 94, 总分：99.55) of a form without a 总分 row."""
    role = vocab.ROLES["total"]["header"]
    pos = loc.find(role, head)
    if pos is None:
        return Cell()
    labels[role_key("total", "header")] = loc.label(*pos)
    return loc.right_of(pos[0], pos[1], tuple(vocab.HEADER.values()))


def _year(loc: Locator, above_row: int) -> int | None:
    """The form's year from the lines above its header: "（2023 年度）" first, then "2023年…"
    ("2023年项目支出绩效自评表"); a date ("填报日期：2024年3月18日") is never the year."""
    texts = [fold(loc.sheet.value(r, c)).translate(_CJK_DIGITS) for r, c, _key in loc.labels if r <= above_row]
    for pattern in (_YEAR_OF_FORM, _YEAR):
        for text in texts:
            match = pattern.search(text)
            if match:
                return int(match.group(1))
    return None


def _year_of_name(source_file: str) -> int | None:
    """The year in the file's name ("2019年学生资助项目绩效目标自评表.xlsx"), for a form whose title
    leaves it blank ("    年学生资助…")."""
    match = _YEAR.search(fold(PurePath(source_file).name).translate(_CJK_DIGITS))
    return int(match.group(1)) if match else None


def _header_row(loc: Locator, columns: dict[str, Role], key: str) -> int | None:
    """The first row holding the `key` column's label and the label of another of `columns`."""
    own = columns[key]
    others = [role for name, role in columns.items() if name != key]
    for r, _c, label in loc.labels:
        if names(label, own) and any(names(other, role) for _c2, other in loc.row_labels[r] for role in others):
            return r
    return None


def _funds(loc: Locator, header_row: int | None, stop_row: int | None, labels: dict) -> dict:
    """The 年度资金总额 table: for each fund row, the cell under each column label.

    A row label may sit in the header row itself, merged down over the value row (宁夏: 年度资金总额
    beside 年初预算数 …): its values are on the next row. Source rows beyond the four of the
    vocabulary's table (财政专户管理资金, 单位资金) add up into 其他资金."""
    funds = {r: {c: Cell() for c in FUND_COLS} for r in FUND_ROWS}
    if header_row is None:
        return funds
    spans = loc.spans(header_row, vocab.FUND_COLUMN)
    _column_labels(loc, header_row, spans, "fund_column", labels)
    first_col = min((s.start for s in spans.values()), default=loc.sheet.width)
    end = stop_row if stop_row is not None else header_row + 8
    found: dict[str, list[int]] = {}  # fund row → the sheet rows read into it
    for r, c, key in loc.labels:
        if not header_row <= r < end or c >= first_col:
            continue
        row_name = _fund_row(key)
        if row_name is None or (row_name in found and row_name != "other"):
            continue  # the first label of a fund row wins; 其他资金 rows add up
        values_row = r + 1 if r == header_row else r
        if row_name not in found:
            labels[role_key("fund_row", row_name)] = loc.label(r, c)
        found.setdefault(row_name, []).append(values_row)
    for row_name, rows in found.items():
        funds[row_name] = {col: _sum_cells([loc.in_span(r, spans.get(col)) for r in rows]) for col in FUND_COLS}
    if funds["total"]["weight"].value is None:
        funds["total"]["weight"] = _block_points(loc, header_row, first_col)
    return funds


def _fund_row(key: str) -> str | None:
    """The fund row a label names, the closest fit winning (年度财政资金总额 is the total, not 财政资金)."""
    fits = [(found.closeness, name) for name, role in vocab.FUND_ROW.items() if (found := fit(key, role))]
    return max(fits)[1] if fits else None


def _sum_cells(cells: list[Cell]) -> Cell:
    """One cell, or the sum of several source rows' cells when all that are filled are numbers."""
    filled = [cell for cell in cells if not is_blank(cell.value)]
    if len(cells) == 1 or not filled:
        return cells[0]
    amounts = [parse_amount(cell.value).value for cell in filled]
    if len(filled) == 1 or any(a is None for a in amounts):
        return filled[0]  # one source filled, or text among them: read as typed
    return Cell(sum(amounts), "+".join(cell.ref for cell in filled))


def _block_points(loc: Locator, row: int, first_col: int) -> Cell:
    """The budget's weight from the funds block's label (预算执行情况(万元)(10分)) when no column states it."""
    for c, _key in loc.row_labels.get(row, ()):
        if c < first_col and (points := _points(loc.sheet.value(row, c))) is not None:
            return Cell(points, a1(row, c))
    return Cell()


def _column_labels(loc: Locator, row: int, spans: dict[str, range], group: str, labels: dict) -> None:
    """Each column's label: the header row's cell its span starts at."""
    for name, span in spans.items():
        labels[role_key(group, name)] = loc.label(row, span.start)


def _goals(loc: Locator, labels: dict, end: int | None) -> tuple[Cell, Cell]:
    """The 预期目标 and 实际完成情况 texts, above the indicator table (an indicator named 完成年度目标
    is no goal label): under their labels when the labels sit side by side (the central form, 四川),
    right of each label when one is under the other (宁夏: 年初设定目标, 年度总体目标完成情况综述)."""
    head = range(loc.sheet.row0, loc.sheet.height if end is None else end)
    expected = loc.find(vocab.GOAL["expected"], head)
    actual = loc.find(vocab.GOAL["actual"], head)
    if expected is None:
        return Cell(), Cell()
    labels[role_key("goal", "expected")] = loc.label(*expected)
    if actual is not None:
        labels[role_key("goal", "actual")] = loc.label(*actual)
        if actual[0] != expected[0]:
            stop = tuple(vocab.GOAL.values())
            return loc.right_of(*expected, stop), loc.right_of(*actual, stop)
    row = expected[0]
    spans = loc.spans(row, vocab.GOAL)
    if actual is not None:
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
            categories.append(Category(clean_text(level1.value), clean_text(l2.value), 0, l2.ref, row + 1))
        values = {f: loc.in_span(row, spans.get(f)) for f in
                  ("name", "target", "actual", "weight", "score", "deviation")}
        if not _is_indicator(values):
            if categories and categories[-1].level2 == clean_text(level2.value) and not categories[-1].placeholder:
                categories[-1].placeholder = values["name"].ref or categories[-1].ref
            continue
        _join_split_target(values, loc.in_span(row, spans.get("nature")), loc.in_span(row, spans.get("measure")))
        indicators.append(RawIndicator(level1=level1, level2=level2, row=row + 1, **values))
        if categories and categories[-1].level2 == clean_text(level2.value):
            categories[-1].indicators += 1
    if "weight" not in spans:
        _share_block_points(indicators, _table_points(loc, header_row, spans))
    return indicators, categories, blocks, total


def _table_points(loc: Locator, header_row: int, spans: dict[str, range]) -> Cell:
    """The points of the indicator table's own label, left of its columns (年度绩效目标(80分))."""
    first_col = min(s.start for s in spans.values())
    return _block_points(loc, header_row, first_col)


def _join_split_target(values: dict[str, Cell], nature: Cell, measure: Cell) -> None:
    """指标性质 | 指标值 | 度量单位 (≥ | 95 | %) read as one target "≥95%", the unit applied to the actual.

    The unit follows a bare number only: a value typed with its unit (28万元, 100%) keeps it once, and
    an actual typed as a word (大英: ≤ | 30 | 万元 | 完成) stays 完成."""
    unit = "" if is_blank(measure.value) else clean_text(measure.value)
    op = "" if is_blank(nature.value) else clean_text(nature.value)
    for field, prefix in (("target", op), ("actual", "")):
        cell = values[field]
        if is_blank(cell.value):
            continue
        text = clean_text(cell.value)
        suffix = unit if text[-1:].isdigit() else ""
        if suffix or prefix:
            values[field] = Cell(f"{prefix}{text}{suffix}", cell.ref)


def _share_block_points(indicators: list[RawIndicator], table: Cell) -> None:
    """Without a 分值 column, the weights come from the block labels (产出指标(49分)): the points of
    an indicator's 二级 label, else of its 一级 label, else of the table's (年度绩效目标(80分)),
    shared equally among the indicators under it."""
    for level in ("level2", "level1", "table"):
        groups: dict[str, tuple[float, list[RawIndicator]]] = {}
        for ind in indicators:
            label = table if level == "table" else getattr(ind, level)
            points = label.value if level == "table" else _points(label.value)
            if ind.weight.value is None and points is not None:
                groups.setdefault(label.ref, (points, []))[1].append(ind)
        for ref, (points, members) in groups.items():
            for ind in members:
                ind.weight = Cell(round(points / len(members), 4), ref)


def _budget_indicator(funds: dict, indicators: list[RawIndicator], categories: list[Category],
                      blocks: list[Block], labels: dict, loc: Locator) -> None:
    """An indicator row scoring the budget execution (预算执行率 under 项目管理) is the form's budget
    score, counted once: its 分值 and 得分 become the funds block's, when the block states none.
    Its 一级 block's points then promise the other indicators' weights only."""
    total = funds["total"]
    if total["weight"].value is not None or total["score"].value is not None:
        return
    role = vocab.ROLES["indicator_row"]["budget"]
    row = next((ind for ind in indicators if names(label_key(ind.name.value), role)), None)
    if row is None:
        return
    indicators.remove(row)
    total["weight"], total["score"] = row.weight, row.score
    labels[role_key("indicator_row", "budget")] = (row.name.ref, clean_text(row.name.value))
    for category in categories:
        if category.ref == row.level2.ref and category.indicators:
            category.indicators -= 1
    weight = parse_amount(row.weight.value).value
    for block in blocks:
        if block.ref == row.level1.ref and block.points is not None and weight is not None:
            block.points -= weight


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
    role = vocab.ROLES["total"]["total"]
    return next((c for c, key in loc.row_labels.get(row, ()) if c < label_end and names(key, role)), None)


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
