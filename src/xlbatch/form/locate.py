"""Where labels are in one sheet: which cell names which role, and the values beside them.

`Locator` indexes a sheet's labels and filled cells once; parse.py anchors a form's blocks with
its lookups. `fit` decides whether a label names a role of the vocabulary, and how closely: by the
role's words (a stem, with at most `before` characters of qualifier before it and `slack` of tail
after it), never by one spelling.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import NamedTuple

from ..intake.read import Sheet, a1
from ..models import Cell
from .values import clean_text, label_key
from .vocabulary import Role


class Fit(NamedTuple):
    """How a label names a role: the stem it holds (its place in the role's stems, its length) and
    how many characters it carries besides. A longer stem is the closer fit (年初预算数 holds more of
    年初预算 than of 预算数); fewer extra characters next."""

    index: int
    length: int
    extra: int

    @property
    def closeness(self) -> tuple[int, int]:
        return self.length, -self.extra


# A label is a short phrase: text holding sentence punctuation is prose that mentions one.
_PROSE = re.compile("[，。；;,]")


def fit(key: str, role: Role) -> Fit | None:
    """Whether the label `key` names `role`, and how closely (None: it does not)."""
    return _fit(key, role.stems, role.before, role.slack)


def names(key: str, role: Role) -> bool:
    """Whether the label `key` names `role` (by its stems, qualifier and tail)."""
    return fit(key, role) is not None


@lru_cache(maxsize=1 << 16)
def _fit(key: str, stems: tuple[str, ...], before: int, slack: int) -> Fit | None:
    # Memoized: the same labels are asked about on every row of every form.
    if _PROSE.search(key):
        return None
    for index, stem in enumerate(stems):
        at = key.find(stem)
        if 0 <= at <= before and len(key) - at - len(stem) <= slack:
            return Fit(index, len(stem), len(key) - len(stem))
    return None


# A label that ends a header value carries at most this many characters besides its stem (项目实施单位).
_STOP_EXTRA = 2


def _is_stop(key: str, role: Role) -> bool:
    found = fit(key, role)
    return found is not None and found.extra <= _STOP_EXTRA


def _has_value(value) -> bool:
    """Whether a cell shows anything, i.e. clean_text(value) != "", decided without formatting it:
    clean_text only empties whitespace (its \\s is str.isspace) and, of the floats, NaN."""
    if type(value) is str:
        return value.strip() != ""
    if type(value) is float:
        return value == value
    return value is not None and clean_text(value) != ""


class Locator:
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

    def find(self, role: Role, rows: range | None = None):
        """(row, col) of the label naming `role` by its most telling stem (项目实施单位 before
        单位名称), then the closest (实施单位 before a value such as 某实施单位补助), then the
        first in reading order; only in `rows` when given."""
        best, where = None, None
        for r, c, key in self.labels:
            if rows is not None and r not in rows:
                continue
            found = fit(key, role)
            if found is not None and (best is None or (found.index, found.extra) < best):
                best, where = (found.index, found.extra), (r, c)
        return where

    def colon_label(self, role: Role, rows: range | None = None) -> tuple[int, int, str] | None:
        """(row, col, value) of a "label：value" cell naming `role` (单位名称：农业科 in one cell)."""
        for r, c, _key in self.labels:
            if rows is not None and r not in rows:
                continue
            text = clean_text(self.sheet.value(r, c))
            head, colon, rest = text.replace("：", ":").partition(":")
            if colon and rest.strip() and names(label_key(head), role):
                return r, c, rest.strip()
        return None

    def contains(self, text: str):
        for r, c, key in self.labels:
            if text in key:
                return r, c
        return None

    def cell(self, row: int, col: int) -> Cell:
        return Cell(self.sheet.value(row, col), a1(row, col))

    def label(self, row: int, col: int) -> tuple[str, str]:
        """(A1 reference, text) of the label at (row, col): where a role was found, as RawForm.labels keeps it."""
        return a1(row, col), clean_text(self.sheet.value(row, col))

    def merge_end(self, row: int, col: int) -> int:
        """Last column of the merged range whose top-left is (row, col); `col` if none."""
        for (r0, c0), (_r1, c1) in self.sheet.merged or ():
            if (r0, c0) == (row, col):
                return c1
        return col

    def right_of(self, row: int, col: int, stop: tuple[Role, ...]) -> Cell:
        """The first value right of a label, stopping at the next label (one naming a role of `stop`
        closely: a value such as 县实施单位补助 holds a stem too, with more around it).

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
            if isinstance(value, str) and any(_is_stop(label_key(value), role) for role in stop):
                break
            return Cell(value, a1(row, c))
        return Cell(None, empty_ref)

    def spans(self, row: int, roles: dict[str, Role]) -> dict[str, range]:
        """Column span of each header label in `row`: from its column up to the next label.

        Each label names at most one role and each role one label, the closest fits first: a
        label that fits two roles (年初预算数: 年初预算, 预算数) is the one it fits better, and a
        role two labels fit (预算数 of 年度预算数 and 调整后预算数) goes to the better one, so
        the rest of the row decides."""
        pairs = [(found.closeness, -c, c, name) for c, key in self.row_labels.get(row, ())
                 for name, role in roles.items() if (found := fit(key, role)) is not None]
        found, taken = {}, set()
        for _closeness, _order, c, name in sorted(pairs, reverse=True):
            if name not in found and c not in taken:
                found[name] = c
                taken.add(c)
        cols = sorted(found.values())
        spans = {}
        for name, c in found.items():
            later = [x for x in cols if x > c]
            spans[name] = range(c, later[0] if later else c + 2)
        return {name: spans[name] for name in roles if name in spans}

    def in_span(self, row: int, span: range | None) -> Cell:
        if span is None:
            return Cell(None, "")
        for c, value in self.filled.get(row, ()):
            if c >= span.stop:
                break
            if c >= span.start:
                return Cell(value, a1(row, c))
        return Cell(None, a1(row, span.start))
