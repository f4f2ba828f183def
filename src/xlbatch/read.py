"""Read a spreadsheet file into plain grids of cell values (python-calamine).

The container is inspected first (safety.py): nothing unsafe, oversized or
mislabelled reaches calamine. Sheets whose content reaches beyond the row or
column limits are not read at all and are reported as skipped. A refusal is a
`ReadError` carrying the SPEC code and a message a clerk can act on.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import python_calamine as calamine
from xlsxwriter.utility import xl_rowcol_to_cell

from .config import LimitSettings
from .safety import Extent, Inspection, ReadError, inspect_ole, inspect_zip

ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"

__all__ = ["ReadError", "Sheet", "Workbook", "a1", "open_workbook", "read_workbook"]


@dataclass
class Sheet:
    """A sheet's values addressed by absolute 0-based (row, col)."""

    name: str
    rows: list[list[Any]]
    row0: int = 0
    col0: int = 0
    merged: list[tuple[tuple[int, int], tuple[int, int]]] | None = None

    @property
    def height(self) -> int:
        return self.row0 + len(self.rows)

    @property
    def width(self) -> int:
        return self.col0 + max((len(r) for r in self.rows), default=0)

    def value(self, row: int, col: int) -> Any:
        r, c = row - self.row0, col - self.col0
        if 0 <= r < len(self.rows) and 0 <= c < len(self.rows[r]):
            v = self.rows[r][c]
            return None if v == "" else v
        return None


@lru_cache(maxsize=1 << 16)
def a1(row: int, col: int) -> str:
    """0-based (row, col) → "A1" reference.

    Memoized: every cell a form yields carries its reference, forms repeat the same cells, and
    one string per reference is also stored once in a pickled batch of outcomes.
    """
    return xl_rowcol_to_cell(row, col)


@dataclass
class Workbook:
    sheets: list[Sheet]
    skipped: dict[str, Extent] = field(default_factory=dict)  # oversized sheets, not read
    macros: bool = False


def read_workbook(path: Path, limits: LimitSettings) -> list[Sheet]:
    """The worksheets of `path` that are within limits, or ReadError."""
    return open_workbook(path, limits).sheets


def open_workbook(path: Path, limits: LimitSettings) -> Workbook:
    inspection = _inspect(path, limits)
    skipped = inspection.oversized
    try:
        book = calamine.CalamineWorkbook.from_path(str(path))
        sheets = [_sheet(book, meta.name) for meta in book.sheets_metadata
                  if meta.typ == calamine.SheetTypeEnum.WorkSheet and meta.name not in skipped]
    except calamine.PasswordError as exc:
        raise ReadError("FILE_UNREADABLE", "文件设置了打开密码，请取消密码后重新报送") from exc
    except (calamine.CalamineError, calamine.ZipError, calamine.XmlError, ValueError, OSError) as exc:
        raise ReadError("FILE_UNREADABLE", f"文件已损坏或不完整，无法读取（{_summary(exc)}）") from exc
    return Workbook(sheets, skipped, inspection.macros)


def _inspect(path: Path, limits: LimitSettings) -> Inspection:
    head = _head(path)
    suffix = path.suffix.lower()
    if not head:
        raise ReadError("FILE_UNREADABLE", "文件为空（0 字节），请重新导出后再报送")
    if head.startswith(ZIP_MAGIC):
        return inspect_zip(path, suffix, limits)
    if head.startswith(OLE_MAGIC):
        return inspect_ole(path, suffix)
    raise ReadError("FILE_UNREADABLE", _not_a_spreadsheet(head, suffix))


def _sheet(book: calamine.CalamineWorkbook, name: str) -> Sheet:
    sheet = book.get_sheet_by_name(name)
    start = sheet.start or (0, 0)
    return Sheet(
        name=name,
        rows=sheet.to_python(),
        row0=start[0],
        col0=start[1],
        merged=sheet.merged_cell_ranges,
    )


def _head(path: Path) -> bytes:
    with path.open("rb") as fh:
        return fh.read(8)


def _not_a_spreadsheet(head: bytes, suffix: str) -> str:
    if head.startswith(b"%PDF"):
        kind = "PDF 文件"
    elif head.lstrip().startswith(b"<"):
        kind = "网页（HTML/XML）文件"  # many systems "export to Excel" as HTML named .xls
    else:
        kind = "无法识别的格式"
    return f"文件扩展名为 {suffix}，但内容是{kind}，不是电子表格；请用 Excel 或 WPS 另存为 .xlsx 后报送"


def _summary(exc: BaseException) -> str:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text[:120]
