"""Find every file in the inbox and decide which ones are submissions.

Subfolders are scanned (units often send a folder each). Office lock files
(~$*), hidden files and folders, and files whose extension is not a
spreadsheet's are `ignored` — listed in run.json, never an error. Every file is
hashed so run.json proves which bytes were judged.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from ..models import IGNORED, FileRecord

SPREADSHEET_SUFFIXES = {".xlsx", ".xlsm", ".xls", ".ods", ".xlsb"}


@dataclass
class InboxFile:
    path: Path  # absolute
    record: FileRecord

    @property
    def ignored(self) -> bool:
        return self.record.status == IGNORED


def discover(inbox: Path) -> list[InboxFile]:
    """All files under `inbox`, sorted by relative path, ignored ones already marked."""
    found = [_inbox_file(Path(entry.path), rel, entry.stat(follow_symlinks=False))
             for entry, rel in _regular_files(inbox, "")]
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
    """One file, named by its path relative to `inbox`, hashed, and marked if it is ignored."""
    return _inbox_file(path, path.relative_to(inbox).as_posix(), path.stat())


def _inbox_file(path: Path, rel: str, stat: os.stat_result) -> InboxFile:
    record = FileRecord(path=rel, size=stat.st_size, mtime=stat.st_mtime, sha256=sha256_of(path))
    reason = ignore_reason(rel)
    if reason:
        record.status, record.message = IGNORED, reason
    return InboxFile(path, record)


def ignore_reason(rel: str) -> str:
    """Why a path is not a submission, or "" when it is one."""
    parts = rel.split("/")
    name = parts[-1]
    if name.startswith("~$"):
        return "Office 临时锁定文件（~$ 开头），不是报送文件"
    if any(p.startswith(".") for p in parts):
        return "隐藏文件，不是报送文件"
    suffix = Path(name).suffix
    if suffix.lower() not in SPREADSHEET_SUFFIXES:
        return f"不是电子表格文件（扩展名 {suffix or '无'}），未处理"
    return ""


def sha256_of(path: Path) -> str:
    with path.open("rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()
