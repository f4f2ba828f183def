"""Inspect a submission's container before any parser sees it (FILE_UNSAFE, FILE_UNREADABLE).

calamine has no decompression bound and aborts the whole interpreter on a
sheet with one far-away cell (NOTES.md; measured: XFD1048576 → SIGABRT). So a
zip-based workbook (.xlsx/.xlsm/.ods) is checked here first:

- the sizes and compression ratios its directory declares (limits): a bomb is
  refused without inflating a byte;
- every member is then inflated in chunks — zipfile stops a member at its
  declared size and fails its CRC if more was there, so an archive lying about
  its sizes ends as corrupt (FILE_UNREADABLE), never as a bigger read — and on
  the way XML with a DOCTYPE or ENTITY declaration is refused, never resolved,
  and the farthest cell holding a value in each worksheet is found, so
  oversized sheets are never handed to calamine.

Nothing here follows a reference, resolves an entity or runs a macro.
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from defusedxml import ElementTree

from .config import LimitSettings

MB = 1024 * 1024
_CHUNK = 256 * 1024
_OVERLAP = 256  # bytes kept between chunks so a pattern split by a chunk boundary is still seen
_DTD = re.compile(rb"<!(?:DOCTYPE|ENTITY)")
# A cell with content (not self-closing): <c r="XFD1048576" t="s"><v>…  Styled empty cells end in "/>".
# A tag's first r="" counts. Any later one ends at the same ">", so it could only fail the same way:
# the atomic group spares the engine retrying them, and [^>]*+ runs to that ">" in one step.
_CELL = re.compile(rb'<c\b(?>[^>]*?\br="([A-Z]{1,3})(\d{1,7})")[^>]*+(?<!/)>')
_ROW = re.compile(rb'<row\b(?>[^>]*?\br="(\d{1,7})")[^>]*+(?<!/)>')
_SHEET_PART = re.compile(r"^xl/worksheets/[^/]+\.xml$")
_REL_NS = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"


class ReadError(Exception):
    """The file cannot be used as a submission; `code` is FILE_UNREADABLE or FILE_UNSAFE."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass
class Extent:
    rows: int = 0  # 1-based farthest row holding a value
    cols: int = 0  # 1-based farthest column holding a value
    ref: str = ""  # that cell, e.g. "XFD1048576"


@dataclass
class Inspection:
    oversized: dict[str, Extent] = field(default_factory=dict)  # sheets beyond the limits (xlsx/xlsm)
    macros: bool = False


def inspect_zip(path: Path, suffix: str, limits: LimitSettings) -> Inspection:
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
            _refuse_other_documents({m.filename for m in members}, suffix)
            _check_declared(members, limits)
            parts = _stream_members(archive, members, limits)
            oversized = {part: e for part, e in parts.items()
                         if e.rows > limits.max_rows or e.cols > limits.max_cols}
            # Sheet names are only needed for an oversized sheet: resolve them only then.
            return Inspection(oversized=_sheet_names(archive, oversized) if oversized else {},
                              macros=any(m.filename.lower().endswith("vbaproject.bin") for m in members))
    except zipfile.BadZipFile as exc:
        raise ReadError("FILE_UNREADABLE", "文件不完整或已损坏（压缩包结构无效），请重新保存后报送") from exc
    except (EOFError, zipfile.LargeZipFile, NotImplementedError, RuntimeError) as exc:
        raise ReadError("FILE_UNREADABLE", f"文件不完整或已损坏，无法解压（{exc}）") from exc


def inspect_ole(path: Path, suffix: str) -> Inspection:
    # An encrypted xlsx is an OLE container holding an "EncryptedPackage" stream.
    with path.open("rb") as fh:
        data = fh.read(4 * MB)
    if "EncryptedPackage".encode("utf-16-le") in data:
        raise ReadError("FILE_UNREADABLE", "文件设置了打开密码（已加密），请取消密码后重新报送")
    if "WordDocument".encode("utf-16-le") in data:
        raise ReadError("FILE_UNREADABLE",
                        f"文件扩展名为 {suffix}，但内容是 Word 文档，不是电子表格；请报送 Excel 格式的自评表")
    return Inspection(macros="_VBA_PROJECT".encode("utf-16-le") in data)


def _refuse_other_documents(names: set[str], suffix: str) -> None:
    if "word/document.xml" in names or "ppt/presentation.xml" in names:
        kind = "Word 文档" if "word/document.xml" in names else "PowerPoint 演示文稿"
        raise ReadError("FILE_UNREADABLE",
                        f"文件扩展名为 {suffix}，但内容是{kind}，不是电子表格；请报送 Excel 格式的自评表")


def _check_declared(members: list[zipfile.ZipInfo], limits: LimitSettings) -> None:
    """Refuse on the sizes the archive declares: a 2 GB bomb is refused without inflating a byte."""
    total = sum(m.file_size for m in members)
    _total_limit(total, limits)
    for m in members:
        _member_limits(m.filename, m.file_size, m.compress_size, limits)


def _stream_members(archive: zipfile.ZipFile, members, limits: LimitSettings) -> dict[str, Extent]:
    """Inflate every member; scan XML for DTDs and worksheets for extents (sizes: see the module doc)."""
    extents = {}
    for member in members:
        is_xml = member.filename.endswith((".xml", ".rels", ".vml"))
        is_sheet = bool(_SHEET_PART.match(member.filename))
        extent, tail = Extent(), b""
        with archive.open(member) as fh:
            while chunk := fh.read(_CHUNK):
                window = tail + chunk
                if is_xml and _DTD.search(window):
                    raise ReadError("FILE_UNSAFE",
                                    f"{member.filename} 含有 DOCTYPE/ENTITY 声明（可能引用外部文件），拒绝读取")
                if is_sheet:
                    _scan_extent(window, extent)
                tail = chunk[-_OVERLAP:]
        if is_sheet:
            extents[member.filename] = extent
    return extents


def _scan_extent(window: bytes, extent: Extent) -> None:
    cells = _CELL.findall(window)
    if cells:
        _grow_to_cells(cells, extent)
    top = max(map(int, _ROW.findall(window)), default=0)
    if top > extent.rows:  # cells without r="" still sit in their row
        extent.rows, extent.ref = top, f"第 {top} 行"


def _grow_to_cells(cells: list[tuple[bytes, bytes]], extent: Extent) -> None:
    """Grow `extent` over `cells` (in document order); `ref` names the cell that grew it last.

    That cell is the first one holding the new farthest row or the first holding the new farthest
    column, whichever comes later: found with max() and index(), not a Python step per cell.
    """
    letters, digits = zip(*cells, strict=True)
    rows = list(map(int, digits))
    numbers = {col: _col_number(col) for col in set(letters)}  # a sheet has few distinct columns
    cols = list(map(numbers.__getitem__, letters))
    top_row, top_col = max(rows), max(cols)
    growers = [rows.index(top_row)] if top_row > extent.rows else []
    growers += [cols.index(top_col)] if top_col > extent.cols else []
    if growers:
        last = max(growers)
        extent.rows, extent.cols = max(extent.rows, top_row), max(extent.cols, top_col)
        extent.ref = f"{letters[last].decode()}{digits[last].decode()}"


def _col_number(letters: bytes) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ch - 64
    return n


def _sheet_names(archive: zipfile.ZipFile, parts: dict[str, Extent]) -> dict[str, Extent]:
    """Key worksheet parts by sheet name, via xl/workbook.xml and its relationships."""
    if not parts:
        return {}
    try:
        book = ElementTree.fromstring(archive.read("xl/workbook.xml"))
        rels = ElementTree.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
    except (KeyError, ElementTree.ParseError):
        return {}
    targets = {r.get("Id"): r.get("Target", "").lstrip("/") for r in rels}
    out = {}
    for sheet in book.iter():
        if sheet.tag.endswith("}sheet"):
            target = targets.get(sheet.get(f"{_REL_NS}id"), "")
            part = target if target.startswith("xl/") else f"xl/{target}"
            if part in parts:
                out[sheet.get("name", "")] = parts[part]
    return out


def _total_limit(total: int, limits: LimitSettings) -> None:
    if total > limits.max_uncompressed_mb * MB:
        raise ReadError("FILE_UNSAFE",
                        f"解压后总大小超过上限 {limits.max_uncompressed_mb:g} MB（至少 {total / MB:.0f} MB），拒绝读取")


def _member_limits(name: str, size: int, compressed: int, limits: LimitSettings) -> None:
    if size > limits.max_member_mb * MB:
        raise ReadError("FILE_UNSAFE",
                        f"压缩包内 {name} 解压后超过单个文件上限 {limits.max_member_mb:g} MB"
                        f"（至少 {size / MB:.0f} MB），拒绝读取")
    ratio = size / max(compressed, 1)
    if size > MB and ratio > limits.max_compression_ratio:
        raise ReadError("FILE_UNSAFE",
                        f"压缩包内 {name} 压缩比 {ratio:.0f}:1，超过上限 {limits.max_compression_ratio:g}:1"
                        f"（疑似压缩炸弹），拒绝读取")
