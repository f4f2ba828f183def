"""Each file is read once: the bytes the safety inspection passed are the bytes calamine parses.

A unit re-uploading (or an attacker swapping) a file between the inspection and the parse must
not get an uninspected file parsed: the file is opened once per analysis — counted by the kernel
(inotify sees Rust's opens as well as Python's) — and whatever lands on disk afterwards is not
read. A file replaced after discover hashed it is judged as read, and the outcome says so.
"""

from __future__ import annotations

import ctypes
import hashlib
import io
import os
import struct
import zipfile
from pathlib import Path

import pytest
import python_calamine as calamine
from seed import seed_form

import xlbatch.intake.read as read
from xlbatch.config import Config, parse_config
from xlbatch.form.analyse import FileTask, analyse_file
from xlbatch.intake.discover import sha256_of
from xlbatch.nightly import run
from xlbatch.ops.execute import analyse_payload, local_processes
from xlbatch.outputs.template import write_workbook
from xlbatch.pipeline import process

pytest_plugins = ["lo"]  # lo_files: the seed as LibreOffice saved it (.xls)

CFG = Config()
IN_OPEN = 0x20
IN_NONBLOCK = os.O_NONBLOCK


class Opens:
    """How many times the kernel saw a file named `path` opened, by anyone (inotify IN_OPEN on its folder:
    whichever file bears the name when it is opened)."""

    def __init__(self, path: Path):
        self.name = os.fsencode(path.name)
        libc = ctypes.CDLL(None, use_errno=True)
        self.fd = libc.inotify_init1(IN_NONBLOCK)
        assert self.fd >= 0, os.strerror(ctypes.get_errno())
        assert libc.inotify_add_watch(self.fd, os.fsencode(path.parent), IN_OPEN) >= 0, ctypes.get_errno()

    def count(self) -> int:
        events = 0
        while True:
            try:
                data = os.read(self.fd, 4096)
            except BlockingIOError:
                return events
            at = 0
            while at < len(data):  # struct inotify_event: wd, mask, cookie, len, name[len]
                _wd, mask, _cookie, size = struct.unpack_from("iIII", data, at)
                name = data[at + 16:at + 16 + size].rstrip(b"\0")
                events += bool(mask & IN_OPEN) and name == self.name
                at += 16 + size

    def close(self) -> None:
        os.close(self.fd)


def _task(path: Path, rel: str | None = None) -> FileTask:
    stat = path.stat()
    return FileTask(str(path), rel or path.name, sha256_of(path), CFG.limits, stat.st_size, stat.st_mtime)


def _with_dtd(src: bytes) -> bytes:
    """The same workbook with an XXE declaration in its shared strings: the inspection refuses it."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(src)) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            data = zin.read(item)
            if item.filename == "xl/sharedStrings.xml":
                data = data.replace(b"?>", b'?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>', 1)
            zout.writestr(item, data)
    return out.getvalue()


def _swap_after_reading(monkeypatch, path: Path, replacement: bytes) -> None:
    """Once analyse has read `path`, a file holding `replacement` is renamed over it (as uploads land)."""
    real = read.read_file

    def read_then_swap(p, limits):
        data = real(p, limits)
        if Path(p) == path:
            landing = path.with_name("upload.part")
            landing.write_bytes(replacement)
            os.replace(landing, path)
        return data

    monkeypatch.setattr(read, "read_file", read_then_swap)


def test_a_file_swapped_after_inspection_is_not_what_calamine_parses(inbox, monkeypatch):
    path = write_workbook(inbox / "form.xlsx", [("自评表", seed_form(project="检查过的项目"))])
    hostile = _with_dtd(write_workbook(inbox.parent / "evil.xlsx",
                                       [("自评表", seed_form(project="未检查的项目"))]).read_bytes())
    task = _task(path)
    _swap_after_reading(monkeypatch, path, hostile)
    opens = Opens(path)
    try:
        outcome = analyse_file(task)
        assert opens.count() == 1  # the inspection and calamine shared one read
    finally:
        opens.close()
    assert outcome.finding is None
    assert [f.project.value for f in outcome.forms] == ["检查过的项目"]
    assert outcome.sha256 == task.sha256 and outcome.notes == []
    # What is on disk now is refused when it is what gets read.
    refused = analyse_file(_task(path))
    assert refused.finding.rule == "FILE_UNSAFE" and "DOCTYPE/ENTITY" in refused.finding.message


def test_an_unsafe_file_swapped_for_a_good_one_after_inspection_is_still_refused(inbox, monkeypatch):
    good = write_workbook(inbox.parent / "good.xlsx", [("自评表", seed_form())]).read_bytes()
    path = inbox / "form.xlsx"
    path.write_bytes(_with_dtd(good))
    _swap_after_reading(monkeypatch, path, good)
    outcome = analyse_file(_task(path))
    assert outcome.finding.rule == "FILE_UNSAFE" and outcome.forms == []


@pytest.mark.parametrize("fmt", ["xls", "ods", "xlsx", "xlsm"])
def test_every_format_is_opened_once_also_when_it_is_mislabelled(lo_files, fmt, tmp_path):
    """Right and wrong extensions: calamine reads in memory or from a private copy, never the file again."""
    source = lo_files[("seed", fmt)]
    for suffix in (f".{fmt}", ".xlsx", ".xls", ".ods", ".XLSX"):
        path = tmp_path / f"{fmt}-as{suffix}"
        path.write_bytes(source.read_bytes())
        opens = Opens(path)
        try:
            outcome = analyse_file(_task(path))
            assert opens.count() == 1, suffix
        finally:
            opens.close()
        readable = suffix.lower() == f".{fmt}" or (fmt, suffix) == ("xlsm", ".xlsx") or suffix == ".XLSX"
        assert (outcome.finding is None) == readable, (suffix, outcome.finding)


def test_a_file_replaced_after_hashing_is_judged_as_read_and_never_cached_for_the_old_hash(tmp_path, monkeypatch):
    """Replaced between discover's hash and the read, keeping size and mtime (cp -p): the ledger's
    size/mtime check cannot tell. The outcome carries the hash of what was read, says so, and is not
    served when the original comes back."""
    inbox, outbox = tmp_path / "inbox", tmp_path / "outbox"
    inbox.mkdir()
    path = write_workbook(inbox / "form.xlsx", [("自评表", seed_form(project="原来的项目名称"))])
    original = path.read_bytes()
    other = _same_size(write_workbook(tmp_path / "b.xlsx", [("自评表", seed_form(project="替换"))]).read_bytes(),
                       len(original))
    stamp = path.stat().st_mtime_ns
    real = read.read_file

    def replaced_before_reading(p, limits):
        path.write_bytes(other)
        os.utime(path, ns=(stamp, stamp))
        return real(p, limits)

    monkeypatch.setattr(read, "read_file", replaced_before_reading)
    first = run(inbox, outbox, CFG)
    monkeypatch.setattr(read, "read_file", real)
    assert [f.project for f in first.files[0].forms] == ["替换"]  # what was read is what was judged
    assert "被替换" in first.files[0].message and hashlib.sha256(other).hexdigest()[:12] in first.files[0].message
    path.write_bytes(original)  # the original is back, with the same size and mtime
    os.utime(path, ns=(stamp, stamp))
    assert first.files[0].sha256 == hashlib.sha256(other).hexdigest()  # run.json names the bytes judged
    second = run(inbox, outbox, CFG)  # not a repeat of outputs judged on other bytes, nor their cached outcome
    assert "outputs_from" not in second.extra
    assert second.extra["reading"]["read"] == ["form.xlsx"]  # the outcome judged on other bytes is not reused
    assert [f.project for f in second.files[0].forms] == ["原来的项目名称"]
    assert "被替换" not in second.files[0].message


def _same_size(data: bytes, size: int) -> bytes:
    """`data` padded with a zip comment to `size` bytes."""
    assert len(data) <= size
    out = io.BytesIO(data)
    with zipfile.ZipFile(out, "a") as z:
        z.comment = b"x" * (size - len(data))
    assert len(out.getvalue()) == size
    return out.getvalue()


def test_a_file_over_the_size_limit_is_refused_unread(inbox, monkeypatch):
    cfg = parse_config({"limits": {"max_uncompressed_mb": 1}})
    path = inbox / "big.xls"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * (2 << 20))
    monkeypatch.setattr(read, "_inspect", lambda *a: pytest.fail("inspected"))
    record = process(inbox, cfg).files[0]
    assert (record.status, record.code) == ("rejected", "FILE_UNSAFE")
    assert record.message == "文件大小超过上限 1 MB（2 MB），拒绝读取"


def test_a_fifo_in_place_of_the_file_is_refused_not_waited_on(inbox):
    path = write_workbook(inbox / "form.xlsx", [("自评表", seed_form())])
    task = _task(path)
    path.unlink()
    os.mkfifo(path)
    outcome = analyse_file(task)
    assert outcome.finding.rule == "FILE_UNREADABLE" and "不是普通文件" in outcome.finding.message


def test_a_truncated_xls_that_panics_calamine_costs_only_that_file(lo_files, inbox):
    """Cut mid-upload, a LibreOffice .xls can make calamine panic (a BaseException that cannot even be
    pickled back from a worker): every cut is FILE_UNREADABLE and the run goes on."""
    data = lo_files[("seed", "xls")].read_bytes()
    cuts = {f"cut{p:02d}.xls": data[:len(data) * p // 100] for p in range(5, 100, 5)}
    panics = 0
    for name, cut in cuts.items():
        (inbox / name).write_bytes(cut)
        try:
            calamine.CalamineWorkbook.from_filelike(io.BytesIO(cut))
        except calamine.CalamineError:
            pass
        except BaseException as exc:  # pyo3's PanicException
            assert type(exc).__name__ == "PanicException"
            panics += 1
    assert panics  # the panic path is exercised
    write_workbook(inbox / "good.xlsx", [("自评表", seed_form())])
    result = process(inbox, CFG, local_processes(2, batch=3))
    status = {f.path: (f.status, f.code) for f in result.files}
    assert status.pop("good.xlsx") == ("accepted", "")
    assert set(status.values()) == {("rejected", "FILE_UNREADABLE")} and len(status) == len(cuts)


def test_shipped_bytes_are_analysed_as_the_file_is(inbox):
    """A Dask worker gets the bytes, not the file: same outcome, nothing written to disk."""
    path = write_workbook(inbox / "form.xlsx", [("自评表", seed_form())])
    task = _task(path)
    here = analyse_file(task)
    there = analyse_payload((FileTask("/nonexistent/form.xlsx", task.rel, task.sha256, CFG.limits),
                             path.read_bytes()))
    assert there == here
