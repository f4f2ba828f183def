"""Find every file in the inbox and decide which ones are submissions.

Subfolders are scanned (units often send a folder each). Office lock files
(~$*), hidden files and folders, and files whose extension is not a
spreadsheet's are `ignored` — listed in run.json, never an error. Every file is
hashed so run.json proves which bytes were judged.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from .models import IGNORED, FileRecord

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
    found = []
    for root, dirs, files in os.walk(inbox):
        dirs.sort()
        for name in sorted(files):
            path = Path(root) / name
            if path.is_symlink() or not path.is_file():
                continue
            found.append(inbox_file(inbox, path))
    return sorted(found, key=lambda f: f.record.path)


def inbox_file(inbox: Path, path: Path) -> InboxFile:
    """One file, named by its path relative to `inbox`, hashed, and marked if it is ignored."""
    rel = path.relative_to(inbox).as_posix()
    stat = path.stat()
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
    if Path(name).suffix.lower() not in SPREADSHEET_SUFFIXES:
        return f"不是电子表格文件（扩展名 {Path(name).suffix or '无'}），未处理"
    return ""


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
