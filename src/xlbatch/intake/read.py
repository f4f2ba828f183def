"""Read a spreadsheet file into plain grids of cell values (python-calamine).

The file is opened once and its bytes read once (`read_file`); those same bytes
are inspected (safety.py) and handed to calamine, so a file replaced on disk
meanwhile cannot be parsed uninspected. Nothing unsafe, oversized or
mislabelled reaches calamine. Sheets whose content reaches beyond the row or
column limits are not read at all and are reported as skipped. A refusal is a
`ReadError` carrying the SPEC code and a message a clerk can act on.

calamine chooses its reader by the file's extension when given a path and by
trying each reader in turn when given bytes, keeping none of their errors
(`_parse`): the bytes go to calamine in memory wherever both choices are
provably the same, and otherwise as a private copy named like the file, so
that every file is judged exactly as a path-based read judged it.
"""

from __future__ import annotations

import hashlib
import io
import os
import stat
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import python_calamine as calamine
from xlsxwriter.utility import xl_rowcol_to_cell

from ..config import LimitSettings
from .read_rules import FILE_UNREADABLE, FILE_UNSAFE
from .safety import MB, Extent, Inspection, ReadError, inspect_ole, inspect_zip

ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"

# calamine's reader for a path, by its extension exactly as written (open_workbook_auto matches
# lower-case extensions only: "F.XLSX" is read as bytes are, trying each reader in turn).
_READER_BY_EXTENSION = {".xls": "xls", ".xla": "xls", ".xlsx": "xlsx", ".xlsm": "xlsx", ".xlam": "xlsx",
                        ".xlsb": "xlsb", ".ods": "ods"}
# Members (compared ignoring case) without which calamine's other readers cannot open an archive:
# Xlsx needs _rels/.rels, Xlsb xl/workbook.bin, Ods its mimetype (calamine 0.37's errors name them).
_OTHER_READERS_NEED = {"xlsx": ("xl/workbook.bin", "mimetype"), "ods": ("_rels/.rels", "xl/workbook.bin")}

__all__ = ["ReadError", "Sheet", "Workbook", "a1", "open_workbook", "read_file", "read_workbook", "workbook_of"]


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
    sha256: str = ""  # of the bytes read: what was judged


def read_workbook(path: Path, limits: LimitSettings) -> list[Sheet]:
    """The worksheets of `path` that are within limits, or ReadError."""
    return open_workbook(path, limits).sheets


def open_workbook(path: Path, limits: LimitSettings) -> Workbook:
    return workbook_of(read_file(path, limits), path.suffix, limits)


def read_file(path: Path, limits: LimitSettings) -> bytes:
    """The file's bytes, read in one open; a file larger than the uncompressed-size limit is refused unread.

    No spreadsheet within the limits is larger on disk than uncompressed, so the bound costs no
    real submission, and a huge file never fills memory. O_NONBLOCK: a FIFO put in the file's
    place is refused, not waited on.
    """
    bound = int(limits.max_uncompressed_mb * MB)
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    with os.fdopen(fd, "rb", buffering=0) as fh:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise ReadError(FILE_UNREADABLE, "not_regular")
        _size_limit(info.st_size, limits)
        data = fh.readall() if info.st_size < bound else fh.read(bound + 1)
    _size_limit(len(data), limits)  # it may have grown since fstat
    return data


def _size_limit(size: int, limits: LimitSettings) -> None:
    if size > limits.max_uncompressed_mb * MB:
        raise ReadError(FILE_UNSAFE, "file_size", limit_mb=limits.max_uncompressed_mb, size_mb=size / MB)


def workbook_of(data: bytes, suffix: str, limits: LimitSettings) -> Workbook:
    """Inspect `data` and read it with calamine as a file ending in `suffix` (case as written) is read.

    The workbook, or the ReadError refusing it, carries the sha256 of `data`: what was judged.
    """
    digest = hashlib.sha256(data).hexdigest()
    try:
        return _workbook(data, suffix, limits, digest)
    except ReadError as exc:
        exc.sha256 = digest
        raise


def _workbook(data: bytes, suffix: str, limits: LimitSettings, digest: str) -> Workbook:
    inspection = _inspect(data, suffix.lower(), limits)
    skipped = inspection.oversized
    try:
        with _parsed(data, suffix, inspection) as book:
            sheets = [_sheet(book, meta.name) for meta in book.sheets_metadata
                      if meta.typ == calamine.SheetTypeEnum.WorkSheet and meta.name not in skipped]
    except calamine.PasswordError as exc:
        raise ReadError(FILE_UNREADABLE, "password") from exc
    except (calamine.CalamineError, calamine.ZipError, calamine.XmlError, ValueError, OSError) as exc:
        raise ReadError(FILE_UNREADABLE, "corrupt", why=_summary(exc)) from exc
    except BaseException as exc:
        if not _is_panic(exc):
            raise
        raise ReadError(FILE_UNREADABLE, "corrupt", why=_summary(exc)) from exc
    return Workbook(sheets, skipped, inspection.macros, digest)


def _is_panic(exc: BaseException) -> bool:
    """A panic inside calamine (a truncated .xls can cause one) arrives as pyo3's PanicException, a
    BaseException: it is the file's fault, and it cannot even be pickled back from a worker."""
    return type(exc).__name__ == "PanicException"


@contextmanager
def _parsed(data: bytes, suffix: str, inspection: Inspection) -> Iterator[calamine.CalamineWorkbook]:
    """calamine's workbook for `data`, as calamine reads a file whose name ends in `suffix`.

    From bytes calamine tries Xls, Xlsx, Xlsb, Ods in turn and keeps the first that opens; by path
    it takes the extension's reader alone. The two agree when the extension's reader comes first
    for this content (an OLE file named .xls; an archive named .xlsx or .ods holding nothing the
    other readers need) and it succeeds: then the bytes are read in memory. Anything else — a
    failure (whose reason, PasswordError included, the in-memory read loses), a mislabelled or
    ambiguous file, .xlsb — is read as a private copy with the same extension. Should that copy
    not fit in the temporary folder, the in-memory reading stands.
    """
    reader = _READER_BY_EXTENSION.get(suffix)
    failed = None
    if reader is None or _same_reader_first(reader, inspection):
        try:
            book = _from_bytes(data)
        except calamine.CalamineError as exc:
            if reader is None:  # by path too, calamine tries every reader in the same order
                raise
            book, failed = None, exc
        if book is not None:
            yield book
            return
    folder = _private_copy(data, suffix)
    if folder is None:
        if failed:
            raise failed
        yield _from_bytes(data)
        return
    with folder:  # calamine reads its sheets from the copy: it stays until they are read
        yield calamine.CalamineWorkbook.from_path(str(Path(folder.name) / f"f{suffix}"))


def _from_bytes(data: bytes) -> calamine.CalamineWorkbook:
    return calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))


def _private_copy(data: bytes, suffix: str) -> tempfile.TemporaryDirectory | None:
    """A folder only we can enter (mkdtemp: 0700) holding `data` as f<suffix>; None if it cannot be written."""
    folder = None
    try:
        folder = tempfile.TemporaryDirectory(prefix="xlbatch-read-")
        (Path(folder.name) / f"f{suffix}").write_bytes(data)
        return folder
    except OSError:
        if folder is not None:
            folder.cleanup()
        return None


def _same_reader_first(reader: str, inspection: Inspection) -> bool:
    if inspection.members is None:  # an OLE file: Xls is tried first
        return reader == "xls"
    if reader not in _OTHER_READERS_NEED:
        return False
    return not any(name in inspection.members for name in _OTHER_READERS_NEED[reader])


def _inspect(data: bytes, suffix: str, limits: LimitSettings) -> Inspection:
    head = data[:8]
    if not head:
        raise ReadError(FILE_UNREADABLE, "empty")
    if head.startswith(ZIP_MAGIC):
        return inspect_zip(data, suffix, limits)
    if head.startswith(OLE_MAGIC):
        return inspect_ole(data, suffix)
    raise ReadError(FILE_UNREADABLE, "not_spreadsheet", suffix=suffix, kind=_content_kind(head))


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


def _content_kind(head: bytes) -> str:
    """What a file that is neither an archive nor an OLE container holds, for its refusal."""
    if head.startswith(b"%PDF"):
        return "PDF 文件"
    if head.lstrip().startswith(b"<"):
        return "网页（HTML/XML）文件"  # many systems "export to Excel" as HTML named .xls
    return "无法识别的格式"


def _summary(exc: BaseException) -> str:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text[:120]
