"""Inspect a submission's container before any parser sees it (FILE_UNSAFE, FILE_UNREADABLE).

The inspection works on the file's bytes as read once (read.read_file), the very bytes then
handed to calamine: nothing here opens the file.

calamine has no decompression bound and aborts the whole interpreter on a
sheet with one far-away cell (NOTES.md; measured: XFD1048576 → SIGABRT). So a
zip-based workbook (.xlsx/.xlsm/.ods) is checked here first:

- the sizes and compression ratios its directory declares (limits): a bomb is
  refused without inflating a byte;
- every member is then inflated in chunks — zipfile stops a member at its
  declared size and fails its CRC if more was there, so an archive lying about
  its sizes ends as corrupt (FILE_UNREADABLE), never as a bigger read — and on
  the way XML with a DOCTYPE or ENTITY declaration (UTF-8 or UTF-16) is
  refused, never resolved;
- part names are compared as calamine compares them, ignoring the case of
  ASCII letters (it opens "XL/Worksheets/S.XML" for "xl/worksheets/s.xml"),
  and an archive holding two members whose names differ only so is refused
  (FILE_UNSAFE): which one calamine would read is not ours to guess;
- every worksheet part (by path, and every part the workbook's relationships
  name as a sheet, however the target is written) is parsed with expat, fed
  chunk by chunk, to find the farthest cell holding a value, so oversized
  sheets are never handed to calamine. A parser, not a pattern: quoting,
  namespace prefixes, ">" inside attribute values and tag lengths cannot hide
  a cell from it, and cells or rows without r="" are numbered as calamine
  numbers them.

A worksheet expat cannot parse (malformed, or declaring a multi-byte encoding
other than UTF-8/UTF-16 such as GBK, which expat does not decode) is refused as corrupt (FILE_UNREADABLE, SPEC:
"corrupt, truncated"): its extent cannot be known, so it must not reach
calamine, yet nothing in it is known to be hostile — Excel and WPS write
well-formed XML, and re-saving the file is what the clerk should do. A DTD
found anywhere still wins over that (FILE_UNSAFE), as does a broken archive.

Nothing here follows a reference, resolves an entity or runs a macro.
"""

from __future__ import annotations

import io
import posixpath
import re
import string
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Any
from xml.parsers import expat

from defusedxml import DefusedXmlException, ElementTree

from ..catalogue import READ
from ..config import LimitSettings
from .read_rules import FILE_UNREADABLE, FILE_UNSAFE

if TYPE_CHECKING:
    from ..catalogue import Rule

MB = 1024 * 1024
_CHUNK = 256 * 1024
# The DTD pattern is found by a plain byte search on every XML part, even one expat could not parse
# (VML often is not well-formed), in UTF-8 and in both UTF-16 byte orders (a part may be either).
# UTF-16 markup always holds NUL bytes, UTF-8 XML never: only a chunk with one pays for that search.
# 17 bytes of the previous chunk catch the longest marker (UTF-16 "<!DOCTYPE") split by a boundary.
_DTD = re.compile(rb"<!(?:DOCTYPE|ENTITY)")
_DTD16 = tuple(m.encode(enc) for m in ("<!DOCTYPE", "<!ENTITY") for enc in ("utf-16-le", "utf-16-be"))
_OVERLAP = max(map(len, _DTD16)) - 1
# calamine finds a part by its name ignoring the case of ASCII letters only (not "K" → "k").
_ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)
_SHEET_PART = re.compile(r"^xl/worksheets/.+\.xml$")
_REF = re.compile(r"([A-Za-z]*)([0-9]+)")
_DRIVE = re.compile(r"^[A-Za-z]:")  # a Windows drive: absolute, or relative to that drive's folder
_FAR = 10**9  # stands for a row or column number too long to be real: far beyond any limit
_REL_NS = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"


class ReadError(Exception):
    """The file cannot be used as a submission: a read-stage rule and one of its messages (read_rules.py).

    `ReadError(FILE_UNSAFE, "dtd", part=name)` fills the rule's template "dtd"; `code` (the rule's
    code) and `message` are what the file's finding, the ledger and run.json keep. Also built
    without being raised where a file is refused after reading (form/analyse.py, ops/execute.py).
    """

    def __init__(self, rule: Rule, key: str, **fields: Any):
        if rule.stage != READ:
            raise ValueError(f"{rule.code} is not a read-stage rule")
        message = rule.message(key, **fields)
        super().__init__(message)
        self.rule = rule
        self.code = rule.code
        self.message = message
        self.sha256 = ""  # of the bytes refused, once read (read.workbook_of)


@dataclass
class Extent:
    rows: int = 0  # 1-based farthest row holding a value
    cols: int = 0  # 1-based farthest column holding a value
    ref: str = ""  # that cell, e.g. "XFD1048576"


@dataclass
class Inspection:
    oversized: dict[str, Extent] = field(default_factory=dict)  # sheets beyond the limits (xlsx/xlsm)
    macros: bool = False
    members: frozenset[str] | None = None  # an archive's member names as calamine compares them; None: OLE


def inspect_zip(data: bytes, suffix: str, limits: LimitSettings) -> Inspection:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
            folded = _by_folded_name(members)
            _refuse_other_documents(set(folded), suffix)
            check_declared(members, limits)
            misplaced = _misplaced_workbook(archive, folded)
            names = _sheet_parts(archive, folded)
            parts = _stream_members(archive, members, limits, names or {})
            if misplaced:  # after the stream, as below: a DTD anywhere is named first
                raise ReadError(FILE_UNSAFE, "misplaced_workbook", target=misplaced)
            if names is None:  # after the stream: a DTD in the workbook is refused as unsafe first
                raise ReadError(FILE_UNREADABLE, "workbook_xml")
            oversized = {part: e for part, e in parts.items()
                         if e.rows > limits.max_rows or e.cols > limits.max_cols}
            return Inspection(oversized=_by_sheet_name(oversized, names, limits),
                              macros=any(m.filename.lower().endswith("vbaproject.bin") for m in members),
                              members=frozenset(folded))
    except zipfile.BadZipFile as exc:
        raise ReadError(FILE_UNREADABLE, "bad_zip") from exc
    except (EOFError, zipfile.LargeZipFile, NotImplementedError, RuntimeError) as exc:
        raise ReadError(FILE_UNREADABLE, "unzip", why=exc) from exc


def inspect_ole(data: bytes, suffix: str) -> Inspection:
    # An encrypted xlsx is an OLE container holding an "EncryptedPackage" stream. Stream names are
    # searched for in the first 4 MB only, as when that was all this inspection read of a file.
    if _within(data, "EncryptedPackage"):
        raise ReadError(FILE_UNREADABLE, "encrypted")
    if _within(data, "WordDocument"):
        raise ReadError(FILE_UNREADABLE, "word_in_ole", suffix=suffix)
    return Inspection(macros=_within(data, "_VBA_PROJECT"))


def _within(data: bytes, stream: str) -> bool:
    return data.find(stream.encode("utf-16-le"), 0, 4 * MB) != -1


def _refuse_other_documents(names: set[str], suffix: str) -> None:
    if "word/document.xml" in names or "ppt/presentation.xml" in names:
        kind = "Word 文档" if "word/document.xml" in names else "PowerPoint 演示文稿"
        raise ReadError(FILE_UNREADABLE, "other_document", suffix=suffix, kind=kind)


def _fold(name: str) -> str:
    return name.translate(_ASCII_LOWER)


def _by_folded_name(members: list[zipfile.ZipInfo]) -> dict[str, str]:
    """Member name as calamine compares it → the member; two members it could confuse are refused."""
    found: dict[str, str] = {}
    for m in members:
        key = _fold(m.filename)
        if key in found and not m.is_dir():
            raise ReadError(FILE_UNSAFE, "case_clash", first=found[key], second=m.filename)
        found[key] = m.filename
    return found


def check_declared(members: list[zipfile.ZipInfo], limits: LimitSettings,
                   names: dict[str, str] | None = None) -> None:
    """Refuse on the sizes the archive declares: a 2 GB bomb is refused without inflating a byte.

    Used for the parts of a workbook and for the members of a package (archives.py); `names` gives
    a member's name as the refusal should show it (a package's decoded names), else its own.
    """
    total = sum(m.file_size for m in members)
    _total_limit(total, limits)
    for m in members:
        _member_limits((names or {}).get(m.filename, m.filename), m.file_size, m.compress_size, limits)


def check_package_names(members: list[zipfile.ZipInfo], names: dict[str, str]) -> None:
    """Refuse a package (archives.py) holding a member that would land outside it were it extracted — a
    name with a ".." part, or absolute ("/x", "\\x", "C:x") — or that is a symbolic link, or two members of
    one name. Nothing is ever extracted; such a member is still no mistake a clerk makes, so the whole
    package is refused (FILE_UNSAFE), not only that member. `names`: ZipInfo.filename → decoded name."""
    seen: set[str] = set()
    for m in members:
        shown = names.get(m.filename, m.filename)
        for name in {m.filename, shown}:
            parts = name.replace("\\", "/").split("/")
            if name.startswith(("/", "\\")) or _DRIVE.match(name) or ".." in parts:
                raise ReadError(FILE_UNSAFE, "member_path", name=shown)
        if (m.external_attr >> 16) & 0o170000 == 0o120000:  # S_IFLNK in the Unix mode bits
            raise ReadError(FILE_UNSAFE, "member_link", name=shown)
        if shown in seen:
            raise ReadError(FILE_UNSAFE, "duplicate_member", name=shown)
        seen.add(shown)


def inflate(archive: zipfile.ZipFile, member: zipfile.ZipInfo, limits: LimitSettings,
            name: str = "") -> Iterator[bytes]:
    """A member's bytes, inflated chunk by chunk. zipfile stops at the declared size (checked by
    check_declared) and fails the CRC if more was there; counting what comes out is a second bound,
    so no member ever inflates beyond the member limit whatever its directory says."""
    bound, got = limits.max_member_mb * MB, 0
    with archive.open(member) as fh:
        while chunk := fh.read(_CHUNK):
            got += len(chunk)
            if got > bound:
                raise ReadError(FILE_UNSAFE, "member_size", name=name or member.filename,
                                limit_mb=limits.max_member_mb, size_mb=got / MB)
            yield chunk


def _stream_members(archive: zipfile.ZipFile, members, limits: LimitSettings,
                    sheets: dict[str, list[str]] | None = None) -> dict[str, Extent]:
    """Inflate every member; refuse DTDs in XML, measure worksheets (`sheets`: parts named by the workbook).

    A worksheet expat cannot parse is reported only after every member was read, so that a DTD in
    any part is still refused as unsafe rather than as corrupt.
    """
    extents, broken = {}, []
    for member in members:
        name, key = member.filename, _fold(member.filename)
        scan = _SheetScan(name) if key in (sheets or {}) or _SHEET_PART.match(key) else None
        is_xml = scan is not None or key.endswith((".xml", ".rels", ".vml"))
        tail = b""
        for chunk in inflate(archive, member, limits):
            if is_xml and (_has_dtd(chunk) or _has_dtd(tail + chunk[:_OVERLAP])):
                raise _dtd_found(name)
            if scan:
                scan.feed(chunk)
            tail = chunk[-_OVERLAP:]
        if scan:
            scan.feed(b"", final=True)
            extents[name] = scan.extent
            broken += [f"{name} {scan.error}"] if scan.error else []
    if broken:
        raise ReadError(FILE_UNREADABLE, "unparsable_sheets", parts="；".join(broken))
    return extents


def _has_dtd(data: bytes) -> bool:
    return _DTD.search(data) is not None or (b"\0" in data and any(m in data for m in _DTD16))


def _dtd_found(part: str) -> ReadError:
    return ReadError(FILE_UNSAFE, "dtd", part=part)


class _SheetScan:
    """The farthest cell holding a value in one worksheet part, from expat's events in document order.

    Elements are matched by local name (calamine ignores prefixes); the attribute is calamine's
    unprefixed r. A cell holds a value once an element opens inside it (<v>, <is>, <f>): a styled
    empty cell does not count. A row counts once an element opens inside it, even an empty cell
    (the row itself reaches that far). Without r, a row follows the highest row seen and a cell the
    highest column seen in its row — calamine numbers them so, never beyond that.
    """

    def __init__(self, part: str):
        self.part, self.extent = part, Extent()
        self.error = ""
        self.row = self.top = self.col = 0  # the open row, the highest row seen, its highest column
        self.cell: tuple[int, int, str | None] | None = None  # a cell opened, not yet known to hold a value
        self.filled = False  # an element opened inside the open row
        self.parser = parser = expat.ParserCreate()
        # No DTD is ever read: a DOCTYPE is refused when it starts, before any declaration in it.
        parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
        parser.StartDoctypeDeclHandler = self._dtd
        parser.EntityDeclHandler = self._dtd
        parser.StartElementHandler = self._start
        parser.EndElementHandler = self._end

    def feed(self, chunk: bytes, final: bool = False) -> None:
        if self.error:
            return  # past the first error expat reports nothing more
        try:
            self.parser.Parse(chunk, final)
        except expat.ExpatError as exc:
            where = f"第 {exc.lineno} 行第 {exc.offset + 1} 列"
            self.error = f"不是格式正确的 XML（{where}：{expat.ErrorString(exc.code)}）"
        except ValueError:  # expat refuses a declared multi-byte encoding (GBK, GB2312…) outright
            self.error = "使用了 UTF-8、UTF-16 以外的编码（如 GBK、GB2312），无法解析"

    def _dtd(self, *_):
        raise _dtd_found(self.part)

    def _start(self, name: str, attrs: dict[str, str]) -> None:
        # Called for every element of every sheet: the common path is kept to a few comparisons.
        cell = self.cell
        if cell:  # an element inside the open cell: it holds a value
            self.cell = None
            if cell[0] > self.extent.rows or cell[1] > self.extent.cols:
                self._grow(*cell)
        self.filled = True
        if ":" in name:
            name = name.rpartition(":")[2]
        if name == "c":
            r = attrs.get("r")
            at = _cell_ref(r) if r else None
            row, col = at or (self.row, self.col + 1)  # without r: next to the previous cell
            if col > self.col:
                self.col = col
            self.cell = (row, col, r if at else None)
        elif name == "row":
            r = attrs.get("r")
            self.row = _number(r) if r and r.isascii() and r.isdigit() else self.top + 1
            self.top, self.col, self.filled = max(self.top, self.row), 0, False

    def _end(self, name: str) -> None:
        self.cell = None  # a cell closing before anything opened in it holds no value
        if name == "row" or (":" in name and name.rpartition(":")[2] == "row"):
            if self.filled and self.row > self.extent.rows:
                self.extent.rows, self.extent.ref = self.row, f"第 {self.row} 行"
            self.filled = False

    def _grow(self, row: int, col: int, ref: str | None) -> None:
        """A cell holding a value reaches further: grow to it; a cell without r is named by its row."""
        extent = self.extent
        if ref is None:
            ref = f"{_col_letters(col)}{row}" if col > extent.cols else f"第 {row} 行"
        extent.rows, extent.cols, extent.ref = max(extent.rows, row), max(extent.cols, col), ref


@lru_cache(maxsize=1 << 16)
def _cell_ref(r: str) -> tuple[int, int] | None:
    """ "B12" → (12, 2); None if r is no reference. Memoized: forms repeat the same cells."""
    match = _REF.fullmatch(r)
    return (_number(match[2]), _col_number(match[1])) if match else None


def _number(digits: str) -> int:
    return int(digits) if len(digits) < 10 else _FAR


def _col_number(letters: str) -> int:
    if len(letters) > 4:
        return _FAR
    n = 0
    for ch in letters.upper():
        n = n * 26 + ord(ch) - 64
    return n


def _col_letters(n: int) -> str:
    letters = ""
    while n > 0:
        n, rest = divmod(n - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _misplaced_workbook(archive: zipfile.ZipFile, folded: dict[str, str]) -> str | None:
    """The officeDocument target of _rels/.rels when it is not xl/workbook.xml, else None.

    calamine follows that target and reads the sheets relative to it; the extent scan measures
    the sheets of xl/workbook.xml. Excel and WPS always write the workbook there, so a file that
    moves it is refused rather than scanned somewhere calamine does not read.
    """
    try:
        rels = ElementTree.fromstring(archive.read(folded["_rels/.rels"]))
    except KeyError:
        return None  # no package relationships: calamine falls back to xl/workbook.xml
    except (ElementTree.ParseError, DefusedXmlException, ValueError):
        return "（无法解析的 _rels/.rels）"
    for rel in rels:
        if rel.get("Type", "").endswith("/officeDocument"):
            target = rel.get("Target", "")
            if _fold(posixpath.normpath("/" + target.lstrip("/")))[1:] != "xl/workbook.xml":
                return target
    return None


def _sheet_parts(archive: zipfile.ZipFile, folded: dict[str, str]) -> dict[str, list[str]] | None:
    """Worksheet part (folded) → the names of the sheets read from it, via the workbook and its relationships.

    A target may be relative to xl/ ("worksheets/s.xml", "./…", "../xl/…") or absolute ("/xl/…"):
    each is normalized, and also taken as calamine takes it (joined to "xl/" as written), so that a
    part calamine could open under either name is measured and named. The workbook, its
    relationships and the targets are found ignoring case, as calamine finds them (`folded`: the
    archive's members by folded name). None: these cannot be parsed.
    """
    try:
        book = ElementTree.fromstring(archive.read(folded["xl/workbook.xml"]))
        rels = ElementTree.fromstring(archive.read(folded["xl/_rels/workbook.xml.rels"]))
    except KeyError:
        return {}  # no workbook: calamine finds no sheet, the paths alone say what to measure
    except (ElementTree.ParseError, DefusedXmlException, ValueError):  # ValueError: a GBK workbook
        return None
    targets = {r.get("Id"): _fold(r.get("Target", "")) for r in rels}
    parts: dict[str, list[str]] = {}
    for sheet in book.iter():
        if sheet.tag.endswith("}sheet"):
            for part in _candidates(targets.get(sheet.get(f"{_REL_NS}id"), "")):
                parts.setdefault(part, []).append(sheet.get("name", ""))
    return parts


def _candidates(target: str) -> set[str]:
    if not target:
        return set()
    if target.startswith("/"):
        return {target[1:], posixpath.normpath(target)[1:]}
    found = {f"xl/{target}", posixpath.normpath(f"xl/{target}")}
    return found | {target} if target.startswith("xl/") else found


def _by_sheet_name(oversized: dict[str, Extent], names: dict[str, list[str]],
                   limits: LimitSettings) -> dict[str, Extent]:
    """Key oversized parts by sheet name; a part no sheet name leads to is refused, never read."""
    out = {}
    for part, extent in oversized.items():
        if _fold(part) not in names:
            raise ReadError(FILE_UNSAFE, "unnamed_oversized", part=part, ref=extent.ref,
                            max_rows=limits.max_rows, max_cols=limits.max_cols)
        out.update(dict.fromkeys(names[_fold(part)], extent))
    return out


def _total_limit(total: int, limits: LimitSettings) -> None:
    if total > limits.max_uncompressed_mb * MB:
        raise ReadError(FILE_UNSAFE, "total_size", limit_mb=limits.max_uncompressed_mb, size_mb=total / MB)


def _member_limits(name: str, size: int, compressed: int, limits: LimitSettings) -> None:
    if size > limits.max_member_mb * MB:
        raise ReadError(FILE_UNSAFE, "member_size", name=name, limit_mb=limits.max_member_mb, size_mb=size / MB)
    ratio = size / max(compressed, 1)
    if size > MB and ratio > limits.max_compression_ratio:
        raise ReadError(FILE_UNSAFE, "ratio", name=name, ratio=ratio, limit=limits.max_compression_ratio)
