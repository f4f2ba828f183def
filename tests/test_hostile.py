"""Hostile and broken input: refused fast with a precise code, nothing leaked, nothing lost.

Every hostile file is built here. Timings and memory of refusing the bomb are
measured by bench/hostile.py, not asserted: these tests assert outcomes (the
code, the message, that the bomb was never inflated, that no secret leaks).
"""

from __future__ import annotations

import hashlib
import io
import os
import secrets
import shutil
import struct
import zipfile
from pathlib import Path

import pytest
import xlsxwriter
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from seed import seed_form

import xlbatch.analyse as analyse
from xlbatch.config import Config, parse_config
from xlbatch.execute import local_processes
from xlbatch.pipeline import process, run
from xlbatch.template import write_workbook

CFG = Config()


def _record(result, name):
    return next(f for f in result.files if f.path == name)


def _seed_bytes(tmp_path: Path) -> bytes:
    return write_workbook(tmp_path / "src.xlsx", [("自评表", seed_form())]).read_bytes()


def _digest(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="session")
def bomb(tmp_path_factory) -> Path:
    """A real 2 GiB decompression bomb: one worksheet of spaces, ~9 MB on disk."""
    path = tmp_path_factory.mktemp("bomb") / "自评表.xlsx"
    chunk = b" " * (8 << 20)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        with z.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as fh:
            fh.write(b"<worksheet><sheetData>")
            for _ in range(256):
                fh.write(chunk)
            fh.write(b"</sheetData></worksheet>")
    return path


def test_decompression_bomb_is_refused_without_inflating_it(bomb, inbox, monkeypatch):
    shutil.copyfile(bomb, inbox / "bomb.xlsx")
    opened = []
    real_open = zipfile.ZipFile.open

    def spy(self, name, *args, **kwargs):
        opened.append(getattr(name, "filename", name))
        return real_open(self, name, *args, **kwargs)

    monkeypatch.setattr(zipfile.ZipFile, "open", spy)
    record = _record(process(inbox, CFG), "bomb.xlsx")
    assert (record.status, record.code) == ("rejected", "FILE_UNSAFE")
    assert "100 MB" in record.message or "压缩比" in record.message
    assert opened == []  # refused on the archive directory alone


def _lying_sizes(data: bytes, member: str, declared: int) -> bytes:
    """Rewrite a member's uncompressed size in both headers: the directory now lies."""
    buf = bytearray(data)
    name = member.encode()
    local = buf.find(b"PK\x03\x04")
    while local != -1:
        n = struct.unpack_from("<H", buf, local + 26)[0]
        if bytes(buf[local + 30: local + 30 + n]) == name:
            struct.pack_into("<I", buf, local + 22, declared)
        local = buf.find(b"PK\x03\x04", local + 4)
    central = buf.find(b"PK\x01\x02")
    while central != -1:
        n = struct.unpack_from("<H", buf, central + 28)[0]
        if bytes(buf[central + 46: central + 46 + n]) == name:
            struct.pack_into("<I", buf, central + 24, declared)
        central = buf.find(b"PK\x01\x02", central + 4)
    return bytes(buf)


def test_archive_lying_about_sizes_never_reaches_the_parser(inbox, monkeypatch):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("xl/worksheets/sheet1.xml", b"<a>" + b" " * (150 << 20) + b"</a>")
    (inbox / "liar.xlsx").write_bytes(_lying_sizes(out.getvalue(), "xl/worksheets/sheet1.xml", 1000))
    monkeypatch.setattr(analyse, "parse_sheet", lambda *a: pytest.fail("parser reached"))
    record = _record(process(inbox, CFG), "liar.xlsx")
    assert record.status == "rejected" and record.code in {"FILE_UNREADABLE", "FILE_UNSAFE"}


def _with_xml(src: bytes, member: str, edit) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(src)) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            data = zin.read(item)
            zout.writestr(item, edit(data) if item.filename == member else data)
    return out.getvalue()


@pytest.mark.parametrize("member, where", [
    ("xl/workbook.xml", "prolog"),
    ("xl/sharedStrings.xml", "after a 10 KB comment"),
    ("xl/worksheets/sheet1.xml", "prolog"),
])
def test_xxe_is_refused_and_the_secret_never_leaks(tmp_path, member, where):
    token = secrets.token_hex(16)
    secret = tmp_path / "secret.txt"
    secret.write_text(token)
    dtd = f'<!DOCTYPE x [<!ENTITY xxe SYSTEM "file://{secret}">]>'.encode()
    pad = b"<!--" + b"x" * 10240 + b"-->" if "comment" in where else b""

    def edit(data: bytes) -> bytes:
        data = data.replace(b"?>", b"?>" + pad + dtd, 1)
        return data.replace(b"<t>", b"<t>&xxe;", 1)

    inbox, outbox = tmp_path / "inbox", tmp_path / "outbox"
    inbox.mkdir()
    (inbox / "xxe.xlsx").write_bytes(_with_xml(_seed_bytes(tmp_path), member, edit))
    write_workbook(inbox / "ok.xlsx", [("自评表", seed_form())])
    result = run(inbox, outbox, CFG)
    record = _record(result, "xxe.xlsx")
    assert (record.status, record.code) == ("rejected", "FILE_UNSAFE")
    assert member in record.message and "DOCTYPE/ENTITY" in record.message
    assert _record(result, "ok.xlsx").status == "accepted"
    for path in outbox.rglob("*"):
        if path.is_file():
            assert token.encode() not in path.read_bytes(), path


def test_macro_enabled_workbook_is_read_and_the_macro_goes_nowhere(tmp_path):
    inbox, outbox = tmp_path / "inbox", tmp_path / "outbox"
    inbox.mkdir()
    vba = tmp_path / "vbaProject.bin"
    vba.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"Attribute VB_Name = \"Evil\"\nShell(\"calc\")" * 20)
    book = xlsxwriter.Workbook(str(inbox / "自评表.xlsm"))
    from xlbatch.template import write_form

    write_form(book, book.add_worksheet("自评表"), seed_form())
    book.add_vba_project(str(vba))
    book.close()
    result = run(inbox, outbox, CFG)
    record = result.files[0]
    assert record.status == "accepted" and "VBA 宏" in record.message and "未执行" in record.message
    assert len(result.forms) == 1
    with zipfile.ZipFile(outbox / "consolidated.xlsx") as z:
        assert not [n for n in z.namelist() if "vba" in n.lower()]


def _with_far_cell(tmp_path: Path, name: str, far_sheet: str, ref: str = "XFD1048576") -> Path:
    path = tmp_path / name
    book = xlsxwriter.Workbook(str(path))
    from xlbatch.template import write_form

    form = book.add_worksheet("自评表")
    write_form(book, form, seed_form())
    other = book.add_worksheet("附表")
    other.write("A1", "受益人名单")
    (form if far_sheet == "自评表" else other).write(ref, "误输入")
    book.close()
    return path


def test_far_away_cell_in_another_sheet_skips_that_sheet_only(tmp_path, inbox):
    _with_far_cell(inbox, "a.xlsx", "附表")
    result = process(inbox, CFG)
    record = result.files[0]
    assert record.status == "accepted" and len(result.forms) == 1
    assert "「附表」" in record.message and "XFD1048576" in record.message and "未读取" in record.message


def test_far_away_cell_in_the_form_sheet_is_refused_with_the_cell(tmp_path, inbox):
    _with_far_cell(inbox, "a.xlsx", "自评表")
    record = process(inbox, CFG).files[0]
    assert (record.status, record.code) == ("rejected", "FILE_UNSAFE")
    assert "「自评表」" in record.message and "XFD1048576" in record.message and "删除" in record.message


def test_a_million_rows_is_beyond_the_limit_and_limits_are_configurable(tmp_path, inbox):
    _with_far_cell(inbox, "a.xlsx", "附表", ref="B1000000")
    record = process(inbox, CFG).files[0]
    assert record.status == "accepted" and "B1000000" in record.message
    roomy = parse_config({"limits": {"max_rows": 2_000_000}})
    assert process(inbox, roomy).files[0].message == ""


def test_parser_exception_is_summarized_for_that_file_only(inbox, monkeypatch):
    write_workbook(inbox / "a.xlsx", [("自评表", seed_form())])
    write_workbook(inbox / "b.xlsx", [("自评表", seed_form(project="另一项目"))])
    real = analyse.parse_sheet

    def flaky(sheet, rel):
        if rel == "a.xlsx":
            raise IndexError("list index out of range")
        return real(sheet, rel)

    monkeypatch.setattr(analyse, "parse_sheet", flaky)
    result = process(inbox, CFG)
    a, b = _record(result, "a.xlsx"), _record(result, "b.xlsx")
    assert (a.status, a.code) == ("rejected", "FILE_UNREADABLE") and "IndexError" in a.message
    assert b.status == "accepted"


def test_a_file_that_kills_its_process_costs_only_that_file(inbox, monkeypatch):
    for i in range(6):
        write_workbook(inbox / f"f{i}.xlsx", [("自评表", seed_form(project=f"项目{i}"))])
    real = analyse.open_workbook

    def abort_on_f2(path, limits):  # stands in for a panic inside calamine
        if path.name == "f2.xlsx":
            os.abort()
        return real(path, limits)

    monkeypatch.setattr(analyse, "open_workbook", abort_on_f2)  # workers are forked: they inherit it
    result = process(inbox, CFG, local_processes(2, batch=2))
    status = {f.path: (f.status, f.code) for f in result.files}
    assert status.pop("f2.xlsx") == ("rejected", "FILE_UNREADABLE")
    assert set(status.values()) == {("accepted", "")} and len(result.forms) == 5
    assert "异常终止" in _record(result, "f2.xlsx").message


def test_submission_paths_never_name_an_output(tmp_path):
    inbox, outbox = tmp_path / "inbox", tmp_path / "outbox"
    inbox.mkdir()
    write_workbook(inbox / "x.xlsx", [("逃逸..", seed_form(unit="../../../tmp/evil", project="/etc/passwd"))])
    result = run(inbox, outbox, CFG)
    names = {p.name for p in outbox.iterdir()}
    assert names <= {"consolidated.xlsx", "projects.csv", "anomalies.csv", "run.json", "runs", "ledger.sqlite",
                     ".xlbatch.lock"} | {n for n in names if n.startswith(".")}
    assert [p.name for p in (outbox / "runs").iterdir()] == [result.run_id]
    assert not (tmp_path / "tmp").exists() and not (tmp_path.parent / "tmp" / "evil").exists()


# --- fuzzing ------------------------------------------------------------------------

@pytest.fixture(scope="module")
def seed_xlsx(tmp_path_factory) -> bytes:
    return write_workbook(tmp_path_factory.mktemp("fuzz") / "s.xlsx", [("自评表", seed_form())]).read_bytes()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.integers(0, 10**9), st.integers(0, 255)), min_size=1, max_size=8),
       st.integers(0, 3))
def test_fuzzed_archives_end_accepted_or_rejected_and_the_inbox_is_untouched(
        tmp_path_factory, seed_xlsx, flips, truncate):
    inbox = tmp_path_factory.mktemp("inbox")
    data = bytearray(seed_xlsx)
    for offset, value in flips:
        data[offset % len(data)] = value
    if truncate:
        data = data[: len(data) * truncate // 4]
    (inbox / "mutated.xlsx").write_bytes(bytes(data))
    write_workbook(inbox / "clean.xlsx", [("自评表", seed_form())])
    before = _digest(inbox)
    result = process(inbox, CFG, local_processes(2))
    for record in result.files:
        assert record.status in {"accepted", "rejected"}
        if record.status == "rejected":
            assert record.code in {"FILE_UNREADABLE", "FILE_UNSAFE", "NO_FORM_FOUND", "MISSING_FIELD",
                                   "BAD_NUMBER"} and record.message
    assert _record(result, "clean.xlsx").status == "accepted"
    assert _digest(inbox) == before
