"""Find every file in the inbox and decide which ones are submissions.

Subfolders are scanned (units often send a folder each). Office lock files
(~$*), hidden files and folders, and files that are neither spreadsheets,
archives nor reports are `ignored` — listed in run.json with their reason,
never an error. Every file is hashed so run.json proves which bytes were judged.

A .zip is a package (archives.py): opened in memory under the limits, never
extracted, each member listed as `ARCHIVE.zip/MEMBER` and judged like a file
of the inbox — a spreadsheet member read by the workers, the others ignored
with their reason. The archive itself is listed too (status `opened`, or
rejected when the package as a whole is refused).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from ..config import LimitSettings
from ..models import IGNORED, OPENED, REJECTED, FileRecord
from .archives import Member, is_archive, member_bytes, open_package
from .read import read_file
from .read_rules import FILE_UNREADABLE, FILE_UNSAFE
from .safety import ReadError

SPREADSHEET_SUFFIXES = {".xlsx", ".xlsm", ".xls", ".ods", ".xlsb"}
REPORT_SUFFIXES = {".docx", ".pdf"}  # 自评报告, read for SPEC section 6
OLD_FORMATS = {".doc": "Word 97-2003 文档", ".wps": "WPS 文字文档", ".et": "WPS 表格文件"}
OTHER_ARCHIVES = {".rar", ".7z", ".tar", ".gz", ".tgz", ".bz2", ".xz", ".arj", ".cab"}
# What a file is (FileRecord.kind): the report reader picks up the "report" files and members.
SPREADSHEET, ARCHIVE, REPORT, OLD_FORMAT, OTHER = "spreadsheet", "archive", "report", "old_format", "other"


@dataclass
class InboxFile:
    path: Path  # absolute: the file, or for a member of a package the archive on disk holding it
    record: FileRecord
    member: tuple[str, ...] = ()  # a member: zipfile's names from the archive at `path` down to it
    archive_sha256: str = ""  # a member: of the archive at `path`, as hashed here
    disk: tuple[int, float] = (-1, 0.0)  # (size, mtime) of the file at `path` as hashed here
    refusal: ReadError | None = None  # refused here (an archive, a member of one): never read again

    @property
    def ignored(self) -> bool:
        return self.record.status == IGNORED

    @property
    def wanted(self) -> bool:
        """A spreadsheet still to be read (not ignored, opened or already refused)."""
        return not self.record.status and self.record.kind == SPREADSHEET


def discover(inbox: Path, limits: LimitSettings | None = None) -> list[InboxFile]:
    """All files under `inbox`, and the members of its packages, sorted by relative path, ignored and
    refused ones already marked. `limits`: the bounds packages are opened under (default: Config's)."""
    limits = limits if limits is not None else LimitSettings()
    found = [f for entry, rel in _regular_files(inbox, "")
             for f in _inbox_files(Path(entry.path), rel, entry.stat(follow_symlinks=False), limits)]
    return sorted(found, key=lambda f: f.record.path)


def _regular_files(folder: Path | str, prefix: str) -> Iterator[tuple[os.DirEntry, str]]:
    """Each regular file below `folder` with its path relative to the inbox; links are not followed.

    scandir's entries know their type, so a file costs one stat (for size and mtime), not three.
    """
    try:
        with os.scandir(folder) as listing:
            entries = list(listing)
    except OSError:
        return  # as os.walk: a folder that cannot be listed is passed over
    for entry in entries:
        if entry.is_dir(follow_symlinks=False):
            yield from _regular_files(entry.path, f"{prefix}{entry.name}/")
        elif entry.is_file(follow_symlinks=False):
            yield entry, prefix + entry.name


def inbox_file(inbox: Path, path: Path) -> InboxFile:
    """One file, named by its path relative to `inbox`, hashed, and marked if it is ignored.

    A package given so (`xlbatch inspect`) is not opened: it is ignored with a message saying so
    (`inbox_files`, which `check` uses, opens it).
    """
    stat = path.stat()
    rel = path.relative_to(inbox).as_posix()
    record = FileRecord(path=rel, size=stat.st_size, mtime=stat.st_mtime, sha256=sha256_of(path), kind=kind_of(rel))
    reason = ignore_reason(rel)
    if not reason and record.kind == ARCHIVE:
        reason = ("压缩包：xlbatch inspect 只查看单个自评表，请解压后逐个查看"
                  "（xlbatch check 与 run 会在内存中打开压缩包）")
    if reason:
        record.status, record.message = IGNORED, reason
    return InboxFile(path, record, disk=(stat.st_size, stat.st_mtime))


def inbox_files(inbox: Path, path: Path, limits: LimitSettings | None = None) -> list[InboxFile]:
    """One file as `discover` lists it: a package with its members."""
    limits = limits if limits is not None else LimitSettings()
    return _inbox_files(path, path.relative_to(inbox).as_posix(), path.stat(), limits)


def _inbox_files(path: Path, rel: str, stat: os.stat_result, limits: LimitSettings) -> list[InboxFile]:
    record = FileRecord(path=rel, size=stat.st_size, mtime=stat.st_mtime, kind=kind_of(rel))
    reason = ignore_reason(rel)
    if reason or record.kind != ARCHIVE:
        record.sha256 = sha256_of(path)
        if reason:
            record.status, record.message = IGNORED, reason
        return [InboxFile(path, record, disk=(stat.st_size, stat.st_mtime))]
    return _package(path, record, limits)


def _package(path: Path, record: FileRecord, limits: LimitSettings) -> list[InboxFile]:
    """The archive at `path` and every member of it, the archive read once: the bytes hashed are the bytes opened."""
    disk = (record.size, record.mtime)
    try:
        data = read_file(path, limits)
    except ReadError as refusal:  # over the size limit, or not a regular file any more
        record.sha256 = sha256_of(path) if refusal.rule is FILE_UNSAFE else ""  # a FIFO is not hashed
        return [_refused(InboxFile(path, record, disk=disk), refusal)]
    record.sha256 = hashlib.sha256(data).hexdigest()
    archive = InboxFile(path, record, archive_sha256=record.sha256, disk=disk)
    try:
        members = open_package(data, limits, record.mtime)
    except ReadError as refusal:
        return [_refused(archive, refusal)]
    except Exception as exc:  # whatever else a broken package does costs the package, never the run
        return [_refused(archive, ReadError(FILE_UNREADABLE, "unzip", why=f"{type(exc).__name__}: {exc}"[:120]))]
    return [archive, *_listed(archive, members, ())]


def _listed(archive: InboxFile, members: list[Member], chain: tuple[str, ...]) -> list[InboxFile]:
    """The entries of `members` (of `archive`, reached through `chain`), nested ones opened; `archive` marked opened."""
    out = []
    for m in members:
        rel = f"{archive.record.path}/{m.name}"
        record = FileRecord(path=rel, size=m.size, mtime=m.mtime, sha256=m.sha256, kind=kind_of(rel),
                            archive=archive.record.path)
        entry = InboxFile(archive.path, record, member=(*chain, m.raw), archive_sha256=archive.archive_sha256,
                          disk=archive.disk)
        out.append(entry)
        reason = ignore_reason(m.name) or ("嵌套超过一层的压缩包，未打开；请解压后重新打包（最多嵌套一层）报送"
                                             if m.too_deep else "")
        if m.refusal:
            _refused(entry, m.refusal)
        elif reason:
            record.status, record.message = IGNORED, reason
        elif m.members is not None:
            out += _listed(entry, m.members, entry.member)
    _opened(archive.record, len(members))
    return out


def _opened(record: FileRecord, count: int) -> None:
    record.status, record.members = OPENED, count
    record.message = package_message(record)


def package_message(record: FileRecord, tally: str = "") -> str:
    """What became of a package opened; `tally`: of its files, once they are judged (受理 2，忽略 1)."""
    tally = f"（{tally}）" if tally else ""
    return f"压缩包已在内存中打开（未解压到磁盘）：内含 {record.members} 个文件{tally}，逐个列为 {record.path}/…"


def _refused(entry: InboxFile, refusal: ReadError) -> InboxFile:
    entry.refusal = refusal
    entry.record.status, entry.record.code, entry.record.message = REJECTED, refusal.code, refusal.message
    return entry


def kind_of(rel: str) -> str:
    suffix = PurePosixPath(rel).suffix.lower()
    if suffix in SPREADSHEET_SUFFIXES:
        return SPREADSHEET
    if is_archive(rel):
        return ARCHIVE
    if suffix in REPORT_SUFFIXES:
        return REPORT
    return OLD_FORMAT if suffix in OLD_FORMATS else OTHER


def lock_or_hidden(rel: str) -> str:
    """Why a path is no file a unit sent (an Office lock file, a hidden file), or ""."""
    parts = rel.split("/")
    if parts[-1].startswith("~$"):
        return "Office 临时锁定文件（~$ 开头），不是报送文件"
    if any(p.startswith(".") for p in parts) or "__MACOSX" in parts:
        return "隐藏文件，不是报送文件"
    return ""


def ignore_reason(rel: str) -> str:
    """Why a path is not a submission, or "" when it is one (a spreadsheet, or a package to open)."""
    name = rel.split("/")[-1]
    unsent = lock_or_hidden(rel)
    if unsent:
        return unsent
    suffix = PurePosixPath(name).suffix.lower()
    kind = kind_of(name)
    if kind in (SPREADSHEET, ARCHIVE):
        return ""
    if kind == REPORT:
        return f"自评报告（{suffix}），已登记"
    if kind == OLD_FORMAT:
        return (f"{OLD_FORMATS[suffix]}（{suffix}）无法读取：自评表请另存为 .xlsx，"
                "自评报告请另存为 .docx 后报送")
    if suffix in OTHER_ARCHIVES:
        return f"压缩格式 {suffix} 无法打开，请改用 .zip 压缩包或直接报送文件"
    return f"不是电子表格文件（扩展名 {PurePosixPath(name).suffix or '无'}），未处理"


def file_bytes(file: InboxFile, limits: LimitSettings) -> bytes:
    """The bytes of an inbox entry under the limits: a file's, or a member's, inflated in memory from its
    package (for readers other than the spreadsheet reader, e.g. of 自评报告 members)."""
    if file.member:
        return member_bytes(file.path, file.member, file.archive_sha256, limits)
    return read_file(file.path, limits)


def sha256_of(path: Path) -> str:
    with path.open("rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()
