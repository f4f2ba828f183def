"""Where labels are in one sheet: which cell names which role, and the values beside them.

`Locator` indexes a sheet's labels and filled cells once; parse.py anchors a form's blocks with
its lookups. `names` decides whether a label names a role of the vocabulary (its stems and slack).
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache

from ..intake.read import Sheet, a1
from ..models import Cell
from .values import clean_text, label_key
from .vocabulary import Role


def role_key(group: str, name: str) -> str:
    """How RawForm.labels and RawForm.nearby name a role: "fund_column.full_year" (vocabulary.ROLES)."""
    return f"{group}.{name}"


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
