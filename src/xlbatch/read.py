"""Read a spreadsheet file into plain grids of cell values (python-calamine).

Before calamine sees a file we look at what it really is: a zip-based workbook
(.xlsx/.xlsm/.ods) has its archive directory inspected against the size and
ratio limits and its XML parts checked for DOCTYPE/ENTITY declarations, because
calamine has no decompression bound (NOTES.md). A refusal is a `ReadError`
carrying the SPEC code and a message a clerk can act on.
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import python_calamine as calamine

from .config import LimitSettings

ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_DTD = re.compile(rb"<!(DOCTYPE|ENTITY)", re.IGNORECASE)
_MB = 1024 * 1024


class ReadError(Exception):
    """The file cannot be used as a submission; `code` is FILE_UNREADABLE or FILE_UNSAFE."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


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


def a1(row: int, col: int) -> str:
    """0-based (row, col) → "A1" reference."""
    letters = ""
    col += 1
    while col:
        col, rem = divmod(col - 1, 26)
        letters = chr(65 + rem) + letters
    return f"{letters}{row + 1}"


def read_workbook(path: Path, limits: LimitSettings) -> list[Sheet]:
    """All visible and hidden worksheets of `path`, or ReadError."""
    head = _head(path)
    suffix = path.suffix.lower()
    if not head:
        raise ReadError("FILE_UNREADABLE", "文件为空（0 字节），请重新导出后再报送")
    if head.startswith(ZIP_MAGIC):
        _inspect_zip(path, suffix, limits)
    elif head.startswith(OLE_MAGIC):
        _inspect_ole(path, suffix)
    else:
        raise ReadError("FILE_UNREADABLE", _not_a_spreadsheet(head, suffix))
    try:
        book = calamine.CalamineWorkbook.from_path(str(path))
        return [_sheet(book, meta.name) for meta in book.sheets_metadata
                if meta.typ == calamine.SheetTypeEnum.WorkSheet]
    except calamine.PasswordError as exc:
        raise ReadError("FILE_UNREADABLE", "文件设置了打开密码，请取消密码后重新报送") from exc
    except (calamine.CalamineError, calamine.ZipError, calamine.XmlError, ValueError, OSError) as exc:
        raise ReadError("FILE_UNREADABLE", f"文件已损坏或不完整，无法读取（{_summary(exc)}）") from exc


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


def _inspect_zip(path: Path, suffix: str, limits: LimitSettings) -> None:
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
            names = {m.filename for m in members}
            _check_sizes(members, limits)
            if "word/document.xml" in names or "ppt/presentation.xml" in names:
                kind = "Word 文档" if "word/document.xml" in names else "PowerPoint 演示文稿"
                raise ReadError(
                    "FILE_UNREADABLE",
                    f"文件扩展名为 {suffix}，但内容是{kind}，不是电子表格；请报送 Excel 格式的自评表",
                )
            for member in members:
                if member.filename.endswith((".xml", ".rels", ".vml")):
                    _check_xml(archive, member)
    except zipfile.BadZipFile as exc:
        raise ReadError("FILE_UNREADABLE", "文件不完整或已损坏（压缩包结构无效），请重新保存后报送") from exc


def _check_sizes(members: list[zipfile.ZipInfo], limits: LimitSettings) -> None:
    total = sum(m.file_size for m in members)
    if total > limits.max_uncompressed_mb * _MB:
        raise ReadError(
            "FILE_UNSAFE",
            f"解压后总大小 {total / _MB:.0f} MB，超过上限 {limits.max_uncompressed_mb:g} MB，拒绝读取",
        )
    for m in members:
        if m.file_size > limits.max_member_mb * _MB:
            raise ReadError(
                "FILE_UNSAFE",
                f"压缩包内 {m.filename} 解压后 {m.file_size / _MB:.0f} MB，"
                f"超过单个文件上限 {limits.max_member_mb:g} MB，拒绝读取",
            )
        ratio = m.file_size / max(m.compress_size, 1)
        if m.file_size > _MB and ratio > limits.max_compression_ratio:
            raise ReadError(
                "FILE_UNSAFE",
                f"压缩包内 {m.filename} 压缩比 {ratio:.0f}:1，超过上限 "
                f"{limits.max_compression_ratio:g}:1（疑似压缩炸弹），拒绝读取",
            )


def _check_xml(archive: zipfile.ZipFile, member: zipfile.ZipInfo) -> None:
    # A DTD can only appear in the prolog, before the root element: the head suffices.
    with archive.open(member) as fh:
        head = fh.read(4096)
    if _DTD.search(head):
        raise ReadError(
            "FILE_UNSAFE",
            f"{member.filename} 含有 DOCTYPE/ENTITY 声明（可能引用外部文件），拒绝读取",
        )


def _inspect_ole(path: Path, suffix: str) -> None:
    # An encrypted xlsx is an OLE container holding an "EncryptedPackage" stream.
    with path.open("rb") as fh:
        data = fh.read(1 << 20)
    if "EncryptedPackage".encode("utf-16-le") in data:
        raise ReadError("FILE_UNREADABLE", "文件设置了打开密码（已加密），请取消密码后重新报送")
    if "WordDocument".encode("utf-16-le") in data:
        raise ReadError(
            "FILE_UNREADABLE",
            f"文件扩展名为 {suffix}，但内容是 Word 文档，不是电子表格；请报送 Excel 格式的自评表",
        )


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
