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

import xlbatch.form.analyse as analyse
import xlbatch.intake.read as read
from xlbatch.config import Config, parse_config
from xlbatch.intake import safety
from xlbatch.nightly import run
from xlbatch.ops.execute import local_processes
from xlbatch.ops.outbox import NOTICES, OUTPUTS, PUBLISHED, REPORT
from xlbatch.outputs.template import write_workbook
from xlbatch.pipeline import process

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
    # The declared total (2 GiB) is what refuses it: the member and ratio limits never get a say.
    assert record.message == "解压后总大小超过上限 100 MB（至少 2048 MB），拒绝读取"
    assert opened == []  # refused on the archive directory alone


# Where a ZIP header keeps what _lying_sizes rewrites (APPNOTE 4.3.7 and 4.3.12): its signature,
# then the offsets of the file name's length, of the file name, and of the uncompressed size.
_HEADERS = (
    (b"PK\x03\x04", 26, 30, 22),  # local file header
    (b"PK\x01\x02", 28, 46, 24),  # central directory entry
)


def _lying_sizes(data: bytes, member: str, declared: int) -> bytes:
    """Rewrite a member's uncompressed size in both headers: the directory now lies."""
    buf = bytearray(data)
    name = member.encode()
    for signature, name_length_at, name_at, size_at in _HEADERS:
        start = buf.find(signature)
        while start != -1:
            n = struct.unpack_from("<H", buf, start + name_length_at)[0]
            if bytes(buf[start + name_at: start + name_at + n]) == name:
                struct.pack_into("<I", buf, start + size_at, declared)
            start = buf.find(signature, start + 4)
    return bytes(buf)


class _NoCalamine:
    """Stands in for the python_calamine module: any use of it means the file reached calamine."""

    def __getattr__(self, name):
        pytest.fail(f"calamine reached (calamine.{name})")


def test_archive_lying_about_sizes_never_reaches_the_parser(inbox, monkeypatch):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("xl/worksheets/sheet1.xml", b"<a>" + b" " * (150 << 20) + b"</a>")
    (inbox / "liar.xlsx").write_bytes(_lying_sizes(out.getvalue(), "xl/worksheets/sheet1.xml", 1000))
    with zipfile.ZipFile(inbox / "liar.xlsx") as z:  # the lie took: the directory declares 1000 bytes
        assert z.getinfo("xl/worksheets/sheet1.xml").file_size == 1000
    monkeypatch.setattr(analyse, "parse_sheet", lambda *a: pytest.fail("parser reached"))
    monkeypatch.setattr(read, "calamine", _NoCalamine())
    record = _record(process(inbox, CFG), "liar.xlsx")
    assert record.status == "rejected" and record.code in {"FILE_UNREADABLE", "FILE_UNSAFE"}
    # Python's zipfile hands out no more than the declared 1000 bytes and then fails the CRC, so the
    # inspection (safety.inspect_zip) refuses the archive as corrupt, not for its real size.
    assert record.code == "FILE_UNREADABLE"
    assert record.message == "文件不完整或已损坏（压缩包结构无效），请重新保存后报送"


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
    from xlbatch.outputs.template import write_form

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
    from xlbatch.outputs.template import write_form

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


_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"


def _worksheet(body: bytes, head: bytes = b"") -> bytes:
    return (b'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="%s"><sheetData>' % _MAIN.encode()
            + head + b'<row r="1"><c r="A1" t="inlineStr"><is><t>x</t></is></c></row>' + body
            + b"</sheetData></worksheet>")


def _long_tag_across_a_chunk() -> bytes:
    """The far cell's tag (400 bytes of attribute) starts 300 bytes before the first chunk ends."""
    tag = b'<row r="2"><c r="XFD1048576" t="inlineStr" xx="' + b"a" * 400 + b'"><is><t>y</t></is></c></row>'
    pad = safety._CHUNK - len(_worksheet(b"")) + len(b"</sheetData></worksheet>") - 300
    return _worksheet(tag, head=b"<!--" + b" " * (pad - 7) + b"-->")


# Ways a far cell was hidden from the old pattern scan; calamine reads every one of them.
_HIDDEN_FAR_CELLS = {
    "'>' in an attribute value": _worksheet(
        b'<row r="2"><c xx=">" r="XFD1048576" t="inlineStr"><is><t>y</t></is></c></row>'),
    "single quotes": _worksheet(b"<row r='2'><c r='XFD1048576' t='inlineStr'><is><t>y</t></is></c></row>"),
    "prefixed cell": _worksheet(b'<row r="2"><x:c xmlns:x="%s" r="XFD1048576" t="inlineStr"><x:is><x:t>y</x:t>'
                                b"</x:is></x:c></row>" % _MAIN.encode()),
    "prefixed row": _worksheet(b'<x:row xmlns:x="%s" r="1048576"><x:c r="XFD1048576"><x:v>1</x:v></x:c></x:row>'
                               % _MAIN.encode()),
    "long tag across a chunk boundary": _long_tag_across_a_chunk(),
}


def _form_and_sheet(path: Path, sheet: bytes, target: str = "worksheets/sheet2.xml",
                    part: str = "xl/worksheets/sheet2.xml", extra: dict[str, bytes] | None = None) -> Path:
    """A real form (「自评表」) and a second sheet 「附表」 whose XML is `sheet`, stored as `part` and
    reached from the workbook by `target`; `extra` members are added as they are."""
    src = _with_far_cell(path.parent, "src-" + path.name, "附表", ref="A2")
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            data = zin.read(item)
            if item.filename == "xl/worksheets/sheet2.xml":
                zout.writestr(part, sheet)
                continue
            if item.filename == "xl/_rels/workbook.xml.rels":
                data = data.replace(b'Target="worksheets/sheet2.xml"', b'Target="%s"' % target.encode())
            zout.writestr(item, data)
        for name, data in (extra or {}).items():
            zout.writestr(name, data)
    src.unlink()
    return path


def _read_without_calamine(inbox: Path, monkeypatch):
    """process() with calamine replaced by a stand-in that fails the test if the file reaches it."""
    monkeypatch.setattr(read, "calamine", _NoCalamine())
    return process(inbox, CFG).files[0]


def _read_in_workers(inbox: Path):
    """process() in worker processes: if calamine met the far cell it would kill a worker, not pytest."""
    return process(inbox, CFG, local_processes(2)).files[0]


@pytest.mark.parametrize("how", _HIDDEN_FAR_CELLS)
def test_a_far_cell_hidden_in_the_markup_still_skips_its_sheet(inbox, how):
    _form_and_sheet(inbox / "a.xlsx", _HIDDEN_FAR_CELLS[how])
    record = _read_in_workers(inbox)
    assert (record.status, record.code) == ("accepted", "")
    assert "「附表」（最远的有内容单元格 XFD1048576）" in record.message and "未读取" in record.message


@pytest.mark.parametrize("body, ref", [
    (b"<row>" + b"<c><v>1</v></c>" * 300 + b"</row>", "KN2"),  # 300 columns, none named
    (b"<row><c><v>1</v></c></row>" * 10_001, "第 10002 行"),  # 10,001 rows after row 1, none numbered
])
def test_cells_and_rows_without_r_are_counted_as_calamine_counts_them(inbox, body, ref):
    _form_and_sheet(inbox / "a.xlsx", _worksheet(body))
    record = _read_in_workers(inbox)
    assert record.status == "accepted" and f"「附表」（最远的有内容单元格 {ref}）" in record.message


@pytest.mark.parametrize("target, part", [
    ("/xl/worksheets/sheet2.xml", "xl/worksheets/sheet2.xml"),  # absolute
    ("./worksheets/sheet2.xml", "xl/worksheets/sheet2.xml"),  # relative, normalized
    ("./worksheets/sheet2.xml", "xl/./worksheets/sheet2.xml"),  # the name calamine opens, as written
    ("../xl/other/far.xml", "xl/other/far.xml"),  # outside xl/worksheets/: once never measured
    ("other/far.xml", "xl/other/far.xml"),
])
def test_a_far_sheet_is_named_however_the_workbook_points_to_it(inbox, target, part):
    _form_and_sheet(inbox / "a.xlsx", _HIDDEN_FAR_CELLS["single quotes"], target=target, part=part)
    record = _read_in_workers(inbox)
    assert (record.status, record.code) == ("accepted", "")
    assert "「附表」（最远的有内容单元格 XFD1048576）" in record.message


@pytest.mark.parametrize("target, part, book", [
    ("worksheets/sheet2.xml", "xl/Worksheets/sheet2.xml", ""),  # the part cased otherwise than its target
    ("sheet2.xml", "XL/SHEET2.XML", ""),
    ("Worksheets/SHEET2.xml", "xl/worksheets/sheet2.xml", ""),  # the target cased otherwise
    ("/XL/Other/Far.xml", "xl/other/far.xml", ""),
    ("other/far.xml", "Xl/Other/Far.XML", "XL/Workbook.xml"),  # the workbook and its rels too
])
def test_a_far_sheet_is_found_whatever_the_case_of_its_name(inbox, target, part, book):
    """calamine opens a part by its name ignoring ASCII case: so is it measured."""
    path = _form_and_sheet(inbox / "a.xlsx", _HIDDEN_FAR_CELLS["single quotes"], target=target, part=part)
    if book:
        _rename(path, {"xl/workbook.xml": book, "xl/_rels/workbook.xml.rels": "XL/_Rels/workbook.XML.rels"})
    record = _read_in_workers(inbox)
    assert (record.status, record.code) == ("accepted", "")
    assert "「附表」（最远的有内容单元格 XFD1048576）" in record.message


def _rename(path: Path, names: dict[str, str]) -> None:
    data = path.read_bytes()
    with zipfile.ZipFile(io.BytesIO(data)) as zin, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            zout.writestr(names.get(item.filename, item.filename), zin.read(item))


@pytest.mark.filterwarnings("ignore:Duplicate name")
@pytest.mark.parametrize("twin", ["xl/Worksheets/sheet2.xml", "xl/worksheets/sheet2.xml"])
def test_two_parts_named_alike_but_for_case_refuse_the_file(inbox, monkeypatch, twin):
    """calamine would read one of them, which one is not ours to guess: the far one must not reach it."""
    far = _worksheet(b'<row r="2"><c r="XFD1048576"><v>1</v></c></row>')
    _form_and_sheet(inbox / "a.xlsx", _worksheet(b""), extra={twin: far})
    record = _read_without_calamine(inbox, monkeypatch)
    assert (record.status, record.code) == ("rejected", "FILE_UNSAFE")
    assert f"xl/worksheets/sheet2.xml 与 {twin} 的名称仅大小写不同" in record.message


@pytest.mark.parametrize("encoding", ["GBK", "GB2312"])
def test_a_worksheet_in_a_multibyte_encoding_is_refused_as_unreadable(inbox, monkeypatch, encoding):
    sheet = _worksheet(b'<row r="2"><c r="B2" t="inlineStr"><is><t>%s</t></is></c></row>'
                       % "受益人".encode(encoding)).replace(b"UTF-8", encoding.encode())
    _form_and_sheet(inbox / "a.xlsx", sheet)
    record = _read_without_calamine(inbox, monkeypatch)
    assert (record.status, record.code) == ("rejected", "FILE_UNREADABLE")
    assert "xl/worksheets/sheet2.xml 使用了 UTF-8、UTF-16 以外的编码" in record.message and "重新保存" in record.message


def test_a_dtd_after_a_multibyte_worksheet_is_still_refused_as_unsafe(inbox, monkeypatch):
    gbk = _worksheet(b"").replace(b"UTF-8", b"GBK")
    _form_and_sheet(inbox / "a.xlsx", gbk, extra={"docProps/custom.xml": b'<!DOCTYPE a [<!ENTITY e "x">]><a/>'})
    record = _read_without_calamine(inbox, monkeypatch)
    assert (record.status, record.code) == ("rejected", "FILE_UNSAFE") and "docProps/custom.xml" in record.message


def test_a_far_part_no_sheet_leads_to_refuses_the_file(inbox, monkeypatch):
    far = _worksheet(b'<row r="2"><c r="XFD1048576"><v>1</v></c></row>')
    _form_and_sheet(inbox / "a.xlsx", _worksheet(b""), extra={"xl/worksheets/sheet9.xml": far})
    record = _read_without_calamine(inbox, monkeypatch)
    assert (record.status, record.code) == ("rejected", "FILE_UNSAFE")
    assert "xl/worksheets/sheet9.xml" in record.message and "XFD1048576" in record.message
    assert "无法对应到任何工作表" in record.message


@pytest.mark.parametrize("sheet", [
    _worksheet(b'<row r="2"><c r="XFD1048576"><v>1</v></c>'),  # a row never closed
    _worksheet(b'<row r="2"><c r="B2" r="XFD1048576"><v>1</v></c></row>'),  # r given twice
    _worksheet(b'<row r="2"><c r="B2"><v>&far;</v></c></row>'),  # an entity never declared
    b"\x00" * 64,
])
def test_a_worksheet_that_is_not_well_formed_xml_is_refused_as_corrupt(inbox, monkeypatch, sheet):
    _form_and_sheet(inbox / "a.xlsx", sheet)
    record = _read_without_calamine(inbox, monkeypatch)
    assert (record.status, record.code) == ("rejected", "FILE_UNREADABLE")
    assert "xl/worksheets/sheet2.xml" in record.message and "不是格式正确的 XML" in record.message


def test_a_dtd_elsewhere_outranks_a_broken_worksheet(inbox, monkeypatch):
    broken = _worksheet(b'<row r="2">')
    _form_and_sheet(inbox / "a.xlsx", broken, extra={"docProps/custom.xml": b'<!DOCTYPE a [<!ENTITY e "x">]><a/>'})
    record = _read_without_calamine(inbox, monkeypatch)
    assert (record.status, record.code) == ("rejected", "FILE_UNSAFE") and "docProps/custom.xml" in record.message


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


def _files_under(folder: Path) -> set[str]:
    """Every file and link below `folder` (links not followed), relative to it."""
    found = set()
    for parent, dirs, files in os.walk(folder):
        for name in files + [d for d in dirs if (Path(parent) / d).is_symlink()]:
            found.add(str((Path(parent) / name).relative_to(folder)))
    return found


def test_submission_paths_never_name_an_output(tmp_path):
    inbox, outbox = tmp_path / "inbox", tmp_path / "outbox"
    inbox.mkdir()
    write_workbook(inbox / "x.xlsx", [("逃逸..", seed_form(unit="../../../tmp/evil", project="/etc/passwd"))])
    # Where "../../../tmp/evil" lands from each folder a careless writer might start from.
    escapes = [(base / "../../../tmp/evil").resolve() for base in (outbox, outbox / "runs" / "RUN", Path.cwd())]
    existed = {path: path.exists() for path in escapes}
    result = run(inbox, outbox, CFG)
    names = {p.name for p in outbox.iterdir()}
    assert names <= {"consolidated.xlsx", "projects.csv", "anomalies.csv", "run.json", REPORT, NOTICES, "runs",
                     "ledger.sqlite", ".xlbatch.lock"} | {n for n in names if n.startswith(".")}
    assert [p.name for p in (outbox / "runs").iterdir()] == [result.run_id]
    assert not (tmp_path / "tmp").exists() and not (tmp_path.parent / "tmp" / "evil").exists()
    # Nothing was written anywhere but the fixed names: not beside the outbox, not up the tree.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["inbox", "outbox"]
    # The one name a submission lends a file, its unit's 整改通知, is made safe (notices.safe_stem).
    assert _files_under(tmp_path) == {
        "inbox/x.xlsx", "outbox/.current", "outbox/.xlbatch.lock", "outbox/ledger.sqlite",
        *(f"outbox/{name}" for name in PUBLISHED),
        *(f"outbox/runs/{result.run_id}/{name}" for name in (*OUTPUTS, REPORT, "run.log.jsonl")),
        f"outbox/runs/{result.run_id}/{NOTICES}/_.._.._tmp_evil.docx"}
    assert {path: path.exists() for path in escapes} == existed


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
    assert sorted(f.path for f in result.files) == ["clean.xlsx", "mutated.xlsx"]
    for record in result.files:
        assert record.status in {"accepted", "rejected"}
        if record.status == "rejected":
            assert record.code in {"FILE_UNREADABLE", "FILE_UNSAFE", "NO_FORM_FOUND", "MISSING_FIELD",
                                   "BAD_NUMBER"} and record.message
    assert _record(result, "clean.xlsx").status == "accepted"
    assert _digest(inbox) == before


def _pointing_to(path: Path, workbook: str) -> None:
    """Move the workbook (and its relationships) to `workbook`, and point _rels/.rels there."""
    folder = workbook.strip("/").rpartition("/")[0]
    data = path.read_bytes()
    with zipfile.ZipFile(io.BytesIO(data)) as zin, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            body, name = zin.read(item), item.filename
            if name == "_rels/.rels":
                body = body.replace(b'Target="xl/workbook.xml"', b'Target="%s"' % workbook.encode())
            elif name in ("xl/workbook.xml", "xl/_rels/workbook.xml.rels") or name.startswith("xl/worksheets/"):
                name = folder + name[2:]  # the sheets move with it: calamine reads them relative to it
            zout.writestr(name, body)


@pytest.mark.parametrize("workbook, refused", [
    ("other/workbook.xml", True),  # calamine follows it: the sheets there would not be measured
    ("xl/sub/workbook.xml", True),
    ("/xl/workbook.xml", False),  # the standard place, written as an absolute name
])
def test_a_workbook_moved_from_its_standard_place_is_refused(inbox, monkeypatch, workbook, refused):
    path = _form_and_sheet(inbox / "a.xlsx", _HIDDEN_FAR_CELLS["single quotes"])
    _pointing_to(path, workbook)
    if refused:
        record = _read_without_calamine(inbox, monkeypatch)
        assert (record.status, record.code) == ("rejected", "FILE_UNSAFE")
        assert f"工作簿主体不在标准位置 xl/workbook.xml（_rels/.rels 指向 {workbook}）" in record.message
    else:
        record = _read_in_workers(inbox)
        assert (record.status, record.code) == ("accepted", "")
        assert "「附表」（最远的有内容单元格 XFD1048576）" in record.message
