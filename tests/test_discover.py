"""What discover lists: every regular file below the inbox, named relative to it, hashed; links,
and what they point to, are never followed."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from xlbatch.intake.discover import discover, inbox_file


def test_regular_files_only_named_relative_sorted_and_hashed(tmp_path):
    inbox, outside = tmp_path / "inbox", tmp_path / "outside"
    (inbox / "单位甲" / "子目录").mkdir(parents=True)
    (inbox / ".隐藏").mkdir()
    outside.mkdir()
    (outside / "secret.xlsx").write_bytes(b"outside")
    files = {"b.xlsx": b"b", "单位甲/a.xlsx": b"a" * 300_000, "单位甲/子目录/c.xls": b"", "~$b.xlsx": b"~",
             ".隐藏/d.xlsx": b"d", "说明.txt": b"t"}
    for rel, data in files.items():
        (inbox / rel).write_bytes(data)
    (inbox / "link.xlsx").symlink_to(outside / "secret.xlsx")
    (inbox / "linked_dir").symlink_to(outside, target_is_directory=True)
    os.mkfifo(inbox / "pipe.xlsx")
    found = discover(inbox)
    assert [f.record.path for f in found] == sorted(files)
    for f in found:
        assert f.path == inbox / f.record.path
        assert f.record.sha256 == hashlib.sha256(files[f.record.path]).hexdigest()
        assert f.record.size == len(files[f.record.path])
        assert f.record.mtime == f.path.stat().st_mtime
    assert {f.record.path for f in found if f.ignored} == {"~$b.xlsx", ".隐藏/d.xlsx", "说明.txt"}
    one = inbox_file(inbox, inbox / "单位甲" / "a.xlsx")
    assert one.record == next(f.record for f in found if f.record.path == "单位甲/a.xlsx")


def test_a_missing_inbox_lists_nothing(tmp_path):
    assert discover(tmp_path / "missing") == []
    assert discover(Path(tmp_path)) == []
