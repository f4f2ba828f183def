"""The labels found where a role that was not found was expected (RawForm.nearby).

「全年预算数」（未找到该栏） alone leaves a clerk guessing; beside it the labels of the funds header row
(「年初预算」「调整后预算数」「预算执行数」…) show the spelling her template uses, which the bureau can
be told of. Where a role is expected:
- a header field (项目名称, 主管部门, 实施单位): the labels of the form's head, above its first table,
  in the columns its other header labels are in (the leftmost column when none was found) or right
  of a header value read;
- a fund column: the funds header row's labels; when the row was not anchored (its 全年预算数 label
  is the one missing), the first row above the indicator table naming two fund columns;
- a fund row (年度资金总额 …): the labels left of the fund columns, below their header row;
- an indicator column: the indicator header row's labels.
The 总分 row and the goals have no such place. Only computed for roles not found, and not for a
role one of those labels names (its table was not anchored, its label is not the one missing).
"""

from __future__ import annotations

from ..intake.read import a1
from . import vocabulary as vocab
from .locate import Locator, names
from .values import is_blank, label_key, parse_amount
from .vocabulary import role_key

Near = tuple[str, tuple[tuple[str, str], ...]]  # (the role's name, ((cell, text), …))

# A label is short: a cell of prose (a note, the 项目类别 checkboxes) is not listed. As parse's title.
_LABEL_LENGTH = 20
# How far below its header row the funds table is looked for without an indicator table (as parse._funds).
_FUND_ROWS_DEPTH = 8


def labels_near(loc: Locator, labels: dict[str, tuple[str, str]], funds_row: int | None,
                indicator_row: int | None, values: set[str]) -> dict[str, Near]:
    """RawForm.nearby: each role of the header, the funds table and the indicator table that is not
    in `labels` → its name and the labels where it was expected (roles with none there are left out).
    `values` are the cells read as values (the title, the header fields): never listed as labels."""
    funds_head = funds_row if funds_row is not None else _funds_like_row(loc, indicator_row)
    places = {
        "header": lambda: _head(loc, _first(funds_head, indicator_row), values),
        "fund_column": lambda: _row(loc, funds_head),
        "fund_row": lambda: _fund_row_labels(loc, funds_head, indicator_row),
        "indicator_column": lambda: _row(loc, indicator_row),
    }
    read_through = {ref for ref, _text in labels.values()}
    near: dict[str, Near] = {}
    for group, place in places.items():
        roles = vocab.ROLES[group]
        # A column the official form does not print (指标性质, 度量单位) is not missing when absent.
        missing = [name for name in roles
                   if role_key(group, name) not in labels and role_key(group, name) not in vocab.NOT_IN_TEMPLATE]
        found = place() if missing else ()
        # Labels another role was read through (年初预算数, which also holds 预算数) do not name this one.
        keys = [label_key(text) for ref, text in found if ref not in read_through]
        for name in missing:
            # A role whose label is there (全年执行数 in a row not taken for the funds header, its
            # 全年预算数 missing) is not spelled otherwise: its labels would mislead.
            if found and not any(names(key, roles[name]) for key in keys):
                near[role_key(group, name)] = (roles[name].label, found)
    return near


def _first(*rows: int | None) -> int | None:
    return min((r for r in rows if r is not None), default=None)


def _is_label(key: str) -> bool:
    """Whether a cell's key can be a label: not empty, not "/" or "无", not prose."""
    return 0 < len(key) <= _LABEL_LENGTH and not is_blank(key)


def _row(loc: Locator, row: int | None) -> tuple[tuple[str, str], ...]:
    """The labels of `row`, left to right; a label repeated into the next cells (a merge undone) once."""
    if row is None:
        return ()
    out: list[tuple[str, str]] = []
    previous = None
    for c, key in loc.row_labels.get(row, ()):
        if _is_label(key) and key != previous:
            out.append(loc.label(row, c))
        previous = key
    return tuple(out)


def _funds_like_row(loc: Locator, indicator_row: int | None) -> int | None:
    """The first row above the indicator table whose labels name two fund columns (年初预算 and 得分 …)."""
    for row, keys in loc.row_labels.items():  # in reading order
        if indicator_row is not None and row >= indicator_row:
            break
        named = {name for _c, key in keys for name, role in vocab.FUND_COLUMN.items() if names(key, role)}
        if len(named) >= 2:
            return row
    return None


def _fund_row_labels(loc: Locator, header: int | None, stop: int | None) -> tuple[tuple[str, str], ...]:
    """The row labels of the funds table: left of its first value column, from its header row (a
    label merged over the header and value rows starts there) down to the indicator table, or to the
    first row holding text and no amount right of them (the goals below the table)."""
    if header is None:
        return ()
    # The first value column: the first fund column's label (as parse assigns them: 年度预算数(万元)
    # left of 调整后预算数 is a block label, not a column), or a number further left.
    firsts = [span.start for span in loc.spans(header, vocab.FUND_COLUMN).values()]
    firsts += [c for r in (header + 1, header + 2) for c, v in loc.filled.get(r, ()) if _is_number(v)]
    if not firsts:
        return ()
    first = min(firsts)
    end = stop if stop is not None else header + _FUND_ROWS_DEPTH
    out = []
    for row in range(header, end):
        if row > header and not _in_table(loc, row, first):
            break
        out.extend(loc.label(row, c) for c, key in loc.row_labels.get(row, ()) if c < first and _is_label(key))
    return tuple(out)


def _is_number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _in_table(loc: Locator, row: int, first: int) -> bool:
    """Whether `row` is a row of amounts: an amount right of its label, or nothing there but "/" and blanks
    (a note beside the amounts does not end the table; a goal's text alone does)."""
    values = [v for c, v in loc.filled.get(row, ()) if c >= first]
    if any(_is_number(v) or (isinstance(v, str) and parse_amount(v).value is not None) for v in values):
        return True
    return all(is_blank(v) for v in values)


def _head(loc: Locator, end: int | None, values: set[str]) -> tuple[tuple[str, str], ...]:
    """The labels of the form's head: above row `end`, in the columns of the header labels found, or
    right of a value read (主管部门 | 承德县… | 实施单位 | …: the label after a value)."""
    found = [loc.find(role) for role in vocab.HEADER.values()]
    rows = [r for r in loc.filled if end is None or r < end]
    cols = {pos[1] for pos in found if pos is not None}
    cols = cols or {min((loc.filled[r][0][0] for r in rows), default=0)}
    out = []
    for row in rows:
        after_value = False  # a label-value pair's value is read: the next cell is the next label
        for c, value in loc.filled[row]:
            ref = a1(row, c)
            key = label_key(value) if isinstance(value, str) else ""
            if (c in cols or after_value) and ref not in values and _is_label(key) and vocab.TITLE_WORD not in key:
                out.append(loc.label(row, c))
            after_value = ref in values
    return tuple(out)
