"""Files that are not usable submissions: each gets its SPEC code and a message a clerk understands."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from conftest import run_specs
from seed import seed_form

from xlbatch.config import Config, parse_config
from xlbatch.outputs.template import write_workbook
from xlbatch.pipeline import process


def _only_file(result, name):
    return next(f for f in result.files if f.path == name)


def _seed_bytes(tmp_path: Path) -> bytes:
    return write_workbook(tmp_path / "seed_src.xlsx", [("自评表", seed_form())]).read_bytes()


def test_truncated_workbook_is_unreadable_and_run_goes_on(inbox, tmp_path):
    (inbox / "cut.xlsx").write_bytes(_seed_bytes(tmp_path)[:2500])
    result = run_specs(inbox, seed_form())
    record = _only_file(result, "cut.xlsx")
    assert (record.status, record.code) == ("rejected", "FILE_UNREADABLE")
    assert "损坏" in record.message or "不完整" in record.message
    # Cut inside the archive: its directory is gone, so the inspection refuses it before calamine.
    assert record.message == "文件不完整或已损坏（压缩包结构无效），请重新保存后报送"
    assert _only_file(result, "form00.xlsx").status == "accepted"
    assert len(result.forms) == 1


def test_zero_byte_file(inbox):
    (inbox / "empty.xlsx").write_bytes(b"")
    record = _only_file(process(inbox, Config()), "empty.xlsx")
    assert (record.status, record.code) == ("rejected", "FILE_UNREADABLE")
    assert "0 字节" in record.message


def test_pdf_renamed_xls(inbox):
    (inbox / "report.xls").write_bytes(b"%PDF-1.5\n1 0 obj\n<<>>\nendobj\n%%EOF\n")
    record = _only_file(process(inbox, Config()), "report.xls")
    assert (record.status, record.code) == ("rejected", "FILE_UNREADABLE")
    assert "PDF" in record.message and ".xls" in record.message


def test_docx_renamed_xlsx(inbox):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", "<w:document/>")
    (inbox / "自评报告.xlsx").write_bytes(buffer.getvalue())
    record = _only_file(process(inbox, Config()), "自评报告.xlsx")
    assert (record.status, record.code) == ("rejected", "FILE_UNREADABLE")
    assert "Word" in record.message


def test_html_export_named_xls(inbox):
    (inbox / "导出.xls").write_text("<html><table><tr><td>项目名称</td></tr></table></html>")
    record = _only_file(process(inbox, Config()), "导出.xls")
    assert (record.status, record.code) == ("rejected", "FILE_UNREADABLE")
    assert "HTML" in record.message


def test_workbook_without_a_form_is_no_form_found(inbox):
    write_workbook(inbox / "说明.xlsx", [], extra_sheets=[
        ("填报说明", [["填报说明"], ["请在自评表中填写项目名称、实施单位等信息。"]]),
        ("目录", [["一、项目支出绩效自评表"]]),
    ])
    result = process(inbox, Config())
    record = _only_file(result, "说明.xlsx")
    assert (record.status, record.code) == ("rejected", "NO_FORM_FOUND")
    assert "「填报说明」" in record.message and "「目录」" in record.message
    assert [f.rule for f in result.findings] == ["NO_FORM_FOUND"]


def test_instruction_sheet_beside_a_form_is_passed_over(inbox):
    write_workbook(inbox / "a.xlsx", [("自评表", seed_form())],
                   extra_sheets=[("填报说明", [["项目名称：填写预算批复的项目名称"]])])
    result = process(inbox, Config())
    assert _only_file(result, "a.xlsx").status == "accepted"
    assert list(result.forms["sheet"]) == ["自评表"]


def _with_doctype(src: bytes) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(src)) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            data = zin.read(item)
            if item.filename == "xl/workbook.xml":
                data = data.replace(b"?>", b'?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>', 1)
            zout.writestr(item, data)
    return out.getvalue()


def test_xml_with_doctype_is_unsafe(inbox, tmp_path):
    (inbox / "xxe.xlsx").write_bytes(_with_doctype(_seed_bytes(tmp_path)))
    result = process(inbox, Config())
    record = _only_file(result, "xxe.xlsx")
    assert (record.status, record.code) == ("rejected", "FILE_UNSAFE")
    assert "DOCTYPE" in record.message
    assert "root:" not in str([f.message for f in result.findings])


def test_highly_compressed_member_is_unsafe(inbox):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("xl/worksheets/sheet1.xml", b"<a>" + b" " * (3 * 1024 * 1024) + b"</a>")
    (inbox / "bomb.xlsx").write_bytes(buffer.getvalue())
    record = _only_file(process(inbox, Config()), "bomb.xlsx")
    assert (record.status, record.code) == ("rejected", "FILE_UNSAFE")
    assert "压缩比" in record.message


def test_genuine_form_is_within_default_limits_and_limits_are_configurable(inbox):
    result = run_specs(inbox, seed_form())
    assert _only_file(result, "form00.xlsx").status == "accepted"
    strict = parse_config({"limits": {"max_uncompressed_mb": 0.001}})
    record = _only_file(process(inbox, strict), "form00.xlsx")
    assert (record.status, record.code) == ("rejected", "FILE_UNSAFE")
    assert "0.001 MB" in record.message


def test_ignored_files_are_listed_not_errors(inbox):
    run_specs(inbox, seed_form())
    (inbox / "~$form00.xlsx").write_bytes(b"lock")
    (inbox / ".hidden.xlsx").write_bytes(b"x")
    (inbox / "报告.docx").write_bytes(b"PK")
    (inbox / "说明.txt").write_text("hello")
    result = process(inbox, Config())
    status = {f.path: f.status for f in result.files}
    assert status == {"form00.xlsx": "accepted", "~$form00.xlsx": "ignored", ".hidden.xlsx": "ignored",
                      "报告.docx": "ignored", "说明.txt": "ignored"}
    assert [f.rule for f in result.findings if f.source_file != "form00.xlsx"] == []
    assert all(f.sha256 and len(f.sha256) == 64 for f in result.files)


def test_subfolders_are_scanned_with_relative_paths(inbox):
    sub = inbox / "承德县社会保险事业服务中心"
    sub.mkdir()
    write_workbook(sub / "自评表.xlsx", [("自评表", seed_form())])
    result = process(inbox, Config())
    assert [f.path for f in result.files] == ["承德县社会保险事业服务中心/自评表.xlsx"]
    assert list(result.forms["source_file"]) == ["承德县社会保险事业服务中心/自评表.xlsx"]
