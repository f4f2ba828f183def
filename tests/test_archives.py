"""Packages: a .zip a unit sends is opened in memory and every member accounted for as ARCHIVE.zip/MEMBER.

Every archive is built here from workbooks the tests write (tests/seed.py): member names
written in GBK or GB18030 without the UTF-8 flag (zipfile cannot write them: the name bytes
are patched in), nested archives, and hostile ones (a bomb, ../ and absolute names, a symbolic
link, an encrypted member written by Info-ZIP's zip). The tests assert the outcomes: the names
in every output, the codes, the files on disk, what was read and what the ledger served.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import shutil
import stat
import struct
import subprocess
import zipfile
import zlib
from datetime import datetime
from pathlib import Path

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from seed import seed_form

import xlbatch.form.analyse as analyse
from xlbatch.catalogue import titled
from xlbatch.config import Config, parse_config
from xlbatch.intake.archives import decoded_name
from xlbatch.intake.discover import discover, file_bytes
from xlbatch.nightly import run
from xlbatch.ops.execute import local_processes, serial
from xlbatch.outputs.template import write_workbook
from xlbatch.pipeline import evaluate, process

CFG = Config()
DAY = (2024, 3, 1, 9, 30, 0)
NATIVE = {"自评表/项目甲.xlsx": "gbk", "自评表/䶮山项目.xlsx": "gb18030"}  # names written without the UTF-8 flag


def _form(tmp: Path, project: str, **fields) -> bytes:
    return write_workbook(tmp / "src.xlsx", [("自评表", seed_form(project=project, **fields))]).read_bytes()


def _zip(members: dict[str, bytes], native: dict[str, str] | None = None) -> bytes:
    """A zip of `members` (name → bytes). A name in `native` (name → "gbk" / "gb18030") is written in
    that encoding with the UTF-8 flag off, as Chinese Windows writes it: zipfile always writes
    non-ASCII names as UTF-8, so the member is written under an ASCII stand-in of the same byte
    length, whose bytes are then replaced in the local header and the central directory."""
    native = native or {}
    out, stand_ins = io.BytesIO(), {}
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for i, (name, data) in enumerate(members.items()):
            written = name
            if name in native:
                raw = name.encode(native[name])
                written = f"~{i:03d}".ljust(len(raw), "_")
                stand_ins[written.encode()] = raw
            z.writestr(zipfile.ZipInfo(written, DAY), data, zipfile.ZIP_DEFLATED)
    data = out.getvalue()
    for stand_in, raw in stand_ins.items():
        assert data.count(stand_in) == 2  # once in the local header, once in the central directory
        data = data.replace(stand_in, raw)
    return data


def _tree(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file() and not p.is_symlink()}


def _csv(path: Path) -> list[dict]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def _record(result, path: str):
    return next(f for f in result.files if f.path == path)


# --- names, folders, nesting ---------------------------------------------------------

@pytest.fixture
def package(tmp_path: Path) -> Path:
    """社保中心.zip: two forms in nested folders (one named in GBK, one in UTF-8), one named in GB18030,
    a report, a lock file and macOS's resource fork."""
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    members = {
        "自评表/项目甲.xlsx": _form(tmp_path, "项目甲"),
        "自评表/二级/项目乙.xlsx": _form(tmp_path, "项目乙"),
        "自评表/䶮山项目.xlsx": _form(tmp_path, "䶮山项目"),
        "自评报告.docx": b"PK report",
        "~$项目甲.xlsx": b"lock",
        "__MACOSX/自评表/._项目甲.xlsx": b"fork",
    }
    (inbox / "社保中心.zip").write_bytes(_zip(members, NATIVE))
    return inbox


def test_the_fixture_writes_names_as_chinese_windows_does(package):
    with zipfile.ZipFile(package / "社保中心.zip") as z:
        infos = {decoded_name(i): i for i in z.infolist()}
    gbk, utf8 = infos["自评表/项目甲.xlsx"], infos["自评表/二级/项目乙.xlsx"]
    assert not gbk.flag_bits & 0x800 and gbk.orig_filename.encode("cp437") == "自评表/项目甲.xlsx".encode("gbk")
    assert utf8.flag_bits & 0x800
    odd = infos["自评表/䶮山项目.xlsx"]  # 䶮 is not in GBK: GB18030 writes it in four bytes
    assert odd.orig_filename.encode("cp437") == "自评表/䶮山项目.xlsx".encode("gb18030")
    with pytest.raises(UnicodeEncodeError):
        "䶮".encode("gbk")


def test_a_unicode_path_field_names_the_member_when_it_is_for_that_name():
    """7-Zip and WinRAR write the name in the local code page and its UTF-8 form in an Info-ZIP Unicode
    Path field (0x7075: version 1, CRC-32 of the header's name bytes, the UTF-8 name)."""
    raw = "自评表/项目甲.xlsx".encode("gbk")

    def info(name: str, crc_of: bytes) -> zipfile.ZipInfo:
        entry = zipfile.ZipInfo(raw.decode("cp437"))  # as zipfile decodes a name without the UTF-8 flag
        body = b"\x01" + struct.pack("<I", zlib.crc32(crc_of)) + name.encode()
        entry.extra = struct.pack("<HH", 0x7075, len(body)) + body
        return entry

    assert decoded_name(info("自评表/项目甲（修订）.xlsx", raw)) == "自评表/项目甲（修订）.xlsx"
    # A field left over from a renamed entry (its CRC is of another name) is not believed: the bytes are.
    assert decoded_name(info("旧名.xlsx", b"old name")) == "自评表/项目甲.xlsx"
    backslashes = zipfile.ZipInfo("自评表\\项目甲.xlsx".encode("gbk").decode("cp437"))
    assert decoded_name(backslashes) == "自评表/项目甲.xlsx"


def test_members_are_read_and_named_archive_slash_member_in_every_output(package, tmp_path):
    outbox = tmp_path / "outbox"
    result = run(package, outbox, CFG, local_processes(2))
    forms = {"社保中心.zip/自评表/项目甲.xlsx": "项目甲", "社保中心.zip/自评表/二级/项目乙.xlsx": "项目乙",
             "社保中心.zip/自评表/䶮山项目.xlsx": "䶮山项目"}
    data = json.loads((outbox / "run.json").read_text("utf-8"))
    entries = {e["path"]: e for e in data["files"]}
    archive = entries["社保中心.zip"]
    assert (archive["status"], archive["kind"], archive["members"]) == ("opened", "archive", 6)
    assert archive["sha256"] == hashlib.sha256((package / "社保中心.zip").read_bytes()).hexdigest()
    assert archive["message"].startswith("压缩包已在内存中打开（未解压到磁盘）：内含 6 个文件（受理 3，忽略 3）")
    with zipfile.ZipFile(package / "社保中心.zip") as z:
        by_name = {decoded_name(i): z.read(i) for i in z.infolist()}
    for path, project in forms.items():
        entry = entries[path]
        member = by_name[path.removeprefix("社保中心.zip/")]
        assert (entry["status"], entry["archive"], entry["kind"]) == ("accepted", "社保中心.zip", "spreadsheet")
        assert (entry["sha256"], entry["size"]) == (hashlib.sha256(member).hexdigest(), len(member))
        assert [f["project"] for f in entry["forms"]] == [project]
    ignored = {p: (e["status"], e["kind"], e["message"]) for p, e in entries.items() if e["status"] == "ignored"}
    assert ignored == {
        "社保中心.zip/自评报告.docx": ("ignored", "report",
                                      "自评报告，无法读取：文件扩展名为 .docx，但内容不是 Word 文档；请重新保存后报送"),
        "社保中心.zip/~$项目甲.xlsx": ("ignored", "spreadsheet", "Office 临时锁定文件（~$ 开头），不是报送文件"),
        "社保中心.zip/__MACOSX/自评表/._项目甲.xlsx": ("ignored", "spreadsheet", "隐藏文件，不是报送文件")}
    assert data["counts"] == {"files": 6, "accepted": 3, "rejected": 0, "ignored": 3, "archives": 1, "forms": 3,
                              "findings": result.counts()["findings"]}
    # projects.csv, anomalies.csv and the workbook's 汇总 name the member.
    assert {r["source_file"]: r["project"] for r in _csv(outbox / "projects.csv")} == forms
    assert {r["source_file"] for r in _csv(outbox / "anomalies.csv")} == set(forms)
    book = openpyxl.load_workbook(outbox / "consolidated.xlsx", read_only=True)
    cells = {c for row in book["汇总"].iter_rows(values_only=True) for c in row if isinstance(c, str)}
    assert set(forms) <= cells
    # Nothing was extracted: the inbox holds the archive alone.
    assert [p.name for p in package.iterdir()] == ["社保中心.zip"]


def test_an_archive_inside_the_archive_is_opened_one_level_deep(tmp_path, inbox):
    deepest = _zip({"项目丁.xlsx": _form(tmp_path, "项目丁")})
    inner = _zip({"项目丙.xlsx": _form(tmp_path, "项目丙"), "更深.zip": deepest})
    (inbox / "包.zip").write_bytes(_zip({"单位乙.zip": inner, "项目甲.xlsx": _form(tmp_path, "项目甲")},
                                        {"单位乙.zip": "gbk"}))
    result = process(inbox, CFG)
    fates = {f.path: (f.status, f.archive) for f in result.files}
    assert fates == {"包.zip": ("opened", ""), "包.zip/项目甲.xlsx": ("accepted", "包.zip"),
                     "包.zip/单位乙.zip": ("opened", "包.zip"),
                     "包.zip/单位乙.zip/项目丙.xlsx": ("accepted", "包.zip/单位乙.zip"),
                     "包.zip/单位乙.zip/更深.zip": ("ignored", "包.zip/单位乙.zip")}
    assert "嵌套超过一层的压缩包，未打开" in _record(result, "包.zip/单位乙.zip/更深.zip").message
    assert sorted(result.forms["source_file"]) == ["包.zip/单位乙.zip/项目丙.xlsx", "包.zip/项目甲.xlsx"]
    assert _record(result, "包.zip/单位乙.zip").sha256 == hashlib.sha256(inner).hexdigest()


def test_members_are_parsed_in_the_workers_never_in_the_run_process(package, tmp_path, monkeypatch):
    log, real = tmp_path / "pids.txt", analyse.workbook_of

    def spy(data, suffix, limits):
        with log.open("a") as fh:
            fh.write(f"{os.getpid()}\n")
        return real(data, suffix, limits)

    monkeypatch.setattr(analyse, "workbook_of", spy)  # inherited by the forked workers
    result = process(package, CFG, local_processes(2))
    pids = log.read_text().split()
    assert len(pids) == 3 and str(os.getpid()) not in pids
    assert result.counts()["accepted"] == 3


# --- the ledger: an unchanged package is not read again ---------------------------------

def test_an_unchanged_package_is_served_by_the_ledger_and_a_changed_member_alone_is_read(package, tmp_path,
                                                                                         monkeypatch):
    outbox, parsed = tmp_path / "outbox", []
    real = analyse.workbook_of
    monkeypatch.setattr(analyse, "workbook_of", lambda data, suffix, limits: parsed.append(1) or
                        real(data, suffix, limits))
    first = run(package, outbox, CFG)
    assert len(parsed) == 3 and len(first.extra["reading"]["read"]) == 3
    repeated = run(package, outbox, CFG)  # nothing changed: the published outputs are repeated
    assert repeated.extra["outputs_from"] == first.run_id and len(parsed) == 3
    again = run(package, outbox, CFG, recompute=True)  # evaluated again: every member from the ledger
    assert again.extra["reading"] == {"read": [], "reused": 3} and len(parsed) == 3
    assert _csv(outbox / "projects.csv") == _csv(outbox / "runs" / first.run_id / "projects.csv")
    # One member changes; the package is sent again.
    with zipfile.ZipFile(package / "社保中心.zip") as z:
        members = {decoded_name(i): z.read(i) for i in z.infolist()}
    members["自评表/二级/项目乙.xlsx"] = _form(tmp_path, "项目乙", total_reported=90.0)
    (package / "社保中心.zip").write_bytes(_zip(members, NATIVE))
    changed = run(package, outbox, CFG)
    assert changed.extra["reading"] == {"read": ["社保中心.zip/自评表/二级/项目乙.xlsx"], "reused": 2}
    assert len(parsed) == 4
    totals = {r["project"]: r["total_reported"] for r in _csv(outbox / "projects.csv")}
    assert totals == {"项目甲": "95.7", "项目乙": "90.0", "䶮山项目": "95.7"}
    files = {f["path"]: f["change"] for f in changed.extra["changes"]["files"]}
    assert files == {"社保中心.zip": "changed", "社保中心.zip/自评表/二级/项目乙.xlsx": "changed"}
    sheet = openpyxl.load_workbook(outbox / "consolidated.xlsx", read_only=True)["变更记录"]
    rows = {r[4]: r[6:8] for r in sheet.iter_rows(values_only=True) if r[0] == "修改文件"}
    assert rows == {"社保中心.zip": ("压缩包已打开", "压缩包已打开"),
                    "社保中心.zip/自评表/二级/项目乙.xlsx": ("受理", "受理")}


# --- duplicates: a member's date is its zip entry's --------------------------------------

def test_the_newest_copy_counts_with_a_members_date_from_its_zip_entry(tmp_path, inbox):
    loose = inbox / "项目甲.xlsx"
    loose.write_bytes(_form(tmp_path, "项目甲", total_reported=80.0))
    before, after = datetime(2024, 2, 1).timestamp(), datetime(2024, 4, 1).timestamp()
    (inbox / "包.zip").write_bytes(_zip({"项目甲.xlsx": _form(tmp_path, "项目甲")}))  # dated DAY: 2024-03-01
    os.utime(loose, (before, before))
    result = process(inbox, CFG)
    assert _record(result, "包.zip/项目甲.xlsx").mtime == datetime(*DAY).timestamp()
    superseded = dict(zip(result.forms["source_file"], result.forms["superseded_by"], strict=True))
    assert superseded == {"项目甲.xlsx": "包.zip/项目甲.xlsx", "包.zip/项目甲.xlsx": ""}
    os.utime(loose, (after, after))  # the loose copy is now the newer one
    result = process(inbox, CFG)
    superseded = dict(zip(result.forms["source_file"], result.forms["superseded_by"], strict=True))
    assert superseded == {"项目甲.xlsx": "", "包.zip/项目甲.xlsx": "项目甲.xlsx"}
    assert any(f.rule == "DUPLICATE_SUBMISSION" for f in result.findings)


# --- hostile packages ----------------------------------------------------------------

def _zeros_member(name: str, mb: int) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        z.writestr(name, b"\0" * (mb << 20))
    return out.getvalue()


def _raw_zip(entries: list[tuple[zipfile.ZipInfo, bytes]]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for info, data in entries:
            z.writestr(info, data, zipfile.ZIP_DEFLATED)
    return out.getvalue()


def _symlink_zip(good: bytes) -> bytes:
    link = zipfile.ZipInfo("自评表.xlsx", DAY)
    link.create_system = 3  # Unix: the mode bits below are read
    link.external_attr = (stat.S_IFLNK | 0o777) << 16
    return _raw_zip([(zipfile.ZipInfo("项目甲.xlsx", DAY), good), (link, "/etc/passwd")])


HOSTILE = {
    "bomb_ratio": lambda good: _zeros_member("自评表.xlsx", 40),  # 40 MB of zeros: ratio ~1000:1
    "bomb_nested": lambda good: _raw_zip([(zipfile.ZipInfo("项目甲.xlsx", DAY), good),
                                          (zipfile.ZipInfo("内层.zip", DAY), _zeros_member("x.xlsx", 40))]),
    "traversal": lambda good: _raw_zip([(zipfile.ZipInfo("项目甲.xlsx", DAY), good),
                                        (zipfile.ZipInfo("../../x.xlsx", DAY), good)]),
    "absolute": lambda good: _raw_zip([(zipfile.ZipInfo("项目甲.xlsx", DAY), good),
                                       (zipfile.ZipInfo("/tmp/xlbatch-evil.xlsx", DAY), good)]),
    "symlink": _symlink_zip,
}
EXPECTED = {
    "bomb_ratio": ("FILE_UNSAFE", "压缩包内 自评表.xlsx 压缩比"),
    "bomb_nested": ("FILE_UNSAFE", "压缩包内 内层.zip/x.xlsx 压缩比"),
    "traversal": ("FILE_UNSAFE", "压缩包内 ../../x.xlsx 的路径指向压缩包之外"),
    "absolute": ("FILE_UNSAFE", "压缩包内 /tmp/xlbatch-evil.xlsx 的路径指向压缩包之外"),
    "symlink": ("FILE_UNSAFE", "压缩包内 自评表.xlsx 是符号链接"),
}


@pytest.mark.parametrize("kind", sorted(HOSTILE))
def test_a_hostile_package_is_refused_whole_and_nothing_is_written_outside_the_outbox(kind, tmp_path,
                                                                                      monkeypatch):
    root = tmp_path / "root"
    inbox, outbox = root / "inbox", root / "outbox"
    inbox.mkdir(parents=True)
    (inbox / "包.zip").write_bytes(HOSTILE[kind](_form(tmp_path, "项目甲")))
    write_workbook(inbox / "单位乙.xlsx", [("自评表", seed_form(project="项目乙"))])
    before, around = _tree(inbox), {p.name for p in tmp_path.iterdir()}
    inflated = []
    real_open = zipfile.ZipFile.open
    monkeypatch.setattr(zipfile.ZipFile, "open", lambda self, name, *a, **k: inflated.append(
        getattr(name, "filename", name)) or real_open(self, name, *a, **k))
    result = run(inbox, outbox, CFG)
    code, message = EXPECTED[kind]
    record = _record(result, "包.zip")
    assert (record.status, record.code) == ("rejected", code) and record.message.startswith(message)
    assert [f.path for f in result.files] == ["包.zip", "单位乙.xlsx"]  # no member of a refused package listed
    assert _record(result, "单位乙.xlsx").status == "accepted"
    finding = next(f for f in result.findings if f.source_file == "包.zip")
    assert (finding.rule, finding.message) == (code, record.message)
    if kind.startswith("bomb"):
        assert not any(name.endswith("x.xlsx") or name == "自评表.xlsx" for name in inflated)  # never inflated
    # The inbox is as it was; outside it only the outbox was written; ../../x and /tmp/… do not exist.
    assert _tree(inbox) == before
    assert {p.name for p in tmp_path.iterdir()} == around and sorted(p.name for p in root.iterdir()) == [
        "inbox", "outbox"]
    assert not (inbox / "../../x.xlsx").exists() and not Path("/tmp/xlbatch-evil.xlsx").exists()
    assert not (outbox / "x.xlsx").exists() and not (outbox.parent.parent / "x.xlsx").exists()
    rejected = openpyxl.load_workbook(outbox / "consolidated.xlsx", read_only=True)["未受理文件"]
    rows = [r for r in rejected.iter_rows(values_only=True) if r[0] == "包.zip"]
    assert [(r[2], r[3]) for r in rows] == [(titled(code), record.message)]


def test_a_package_over_the_total_size_is_refused_before_a_byte_is_inflated(tmp_path, inbox, monkeypatch):
    cfg = parse_config({"limits": {"max_uncompressed_mb": 1.0}})
    noise = [os.urandom(200_000).hex() for _ in range(3)]  # 1.2 MB in all, zipped to ~0.7 MB: ratio ~2
    (inbox / "包.zip").write_bytes(_raw_zip([(zipfile.ZipInfo(f"{i}.xlsx", DAY), n) for i, n in enumerate(noise)]))
    inflated = []
    real_open = zipfile.ZipFile.open
    monkeypatch.setattr(zipfile.ZipFile, "open", lambda self, *a, **k: inflated.append(a) or real_open(self, *a, **k))
    result = process(inbox, cfg)
    record = _record(result, "包.zip")
    assert (record.status, record.code) == ("rejected", "FILE_UNSAFE")
    assert record.message.startswith("解压后总大小超过上限 1 MB") and inflated == []


def test_an_encrypted_member_is_unreadable_and_the_rest_of_the_package_is_read(tmp_path, inbox):
    work = tmp_path / "work"
    (work / "自评表").mkdir(parents=True)
    (work / "自评表" / "项目甲.xlsx").write_bytes(_form(tmp_path, "项目甲"))
    (work / "加密.xlsx").write_bytes(_form(tmp_path, "项目乙"))
    zipped = inbox / "包.zip"
    # Info-ZIP's zip: the encrypted member is a real ZipCrypto one; the other is added unencrypted.
    subprocess.run(["zip", "-q", "-P", "secret", str(zipped), "加密.xlsx"], cwd=work, check=True)
    subprocess.run(["zip", "-q", "-r", str(zipped), "自评表"], cwd=work, check=True)
    result = run(inbox, tmp_path / "outbox", CFG)
    fates = {f.path: (f.status, f.code) for f in result.files}
    assert fates == {"包.zip": ("opened", ""), "包.zip/加密.xlsx": ("rejected", "FILE_UNREADABLE"),
                     "包.zip/自评表/项目甲.xlsx": ("accepted", "")}
    locked = _record(result, "包.zip/加密.xlsx")
    assert "设置了密码" in locked.message
    with zipfile.ZipFile(zipped) as z:  # it cannot be inflated: its bytes as stored identify it
        # Info-ZIP writes the name's UTF-8 bytes with the flag off: decoded_name decodes them as UTF-8
        info = next(i for i in z.infolist() if decoded_name(i) == "加密.xlsx")
        assert not info.flag_bits & 0x800 and info.filename != "加密.xlsx"
        with z.open(info, pwd=b"secret") as fh:
            plain = fh.read()
    assert len(locked.sha256) == 64 and locked.sha256 != hashlib.sha256(plain).hexdigest()
    assert locked.size == len(plain) == info.file_size
    finding = next(f for f in result.findings if f.rule == "FILE_UNREADABLE")
    assert finding.source_file == "包.zip/加密.xlsx"
    assert list(result.forms["project"]) == ["项目甲"]
    rejected = openpyxl.load_workbook(tmp_path / "outbox" / "consolidated.xlsx", read_only=True)["未受理文件"]
    # The table starts under the letterhead (title, 编制单位 / date, header).
    assert [r[0] for r in rejected.iter_rows(min_row=4, values_only=True)] == ["包.zip/加密.xlsx"]


def test_a_corrupt_member_costs_itself_and_a_broken_package_is_unreadable(tmp_path, inbox):
    good, other = _form(tmp_path, "项目甲"), _form(tmp_path, "项目乙")
    data = bytearray(_raw_zip([(zipfile.ZipInfo("甲.xlsx", DAY), good), (zipfile.ZipInfo("乙.xlsx", DAY), other)]))
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as z:
        info = z.getinfo("乙.xlsx")
    at = info.header_offset + 30 + len(info.filename.encode()) + 100  # inside 乙.xlsx's deflated bytes
    data[at] ^= 0xFF
    (inbox / "包.zip").write_bytes(bytes(data))
    cut = _raw_zip([(zipfile.ZipInfo("说明.txt", DAY), "填报说明".encode() * 100)])
    (inbox / "断.zip").write_bytes(cut[:-30])  # truncated: its central directory is gone
    result = process(inbox, CFG)
    assert _record(result, "包.zip/甲.xlsx").status == "accepted"
    broken = _record(result, "包.zip/乙.xlsx")
    assert (broken.status, broken.code) == ("rejected", "FILE_UNREADABLE")
    assert broken.message.startswith("该文件在压缩包中已损坏，无法解压")
    cut = _record(result, "断.zip")
    assert (cut.status, cut.code) == ("rejected", "FILE_UNREADABLE") and "压缩包结构无效" in cut.message


def test_discover_lists_other_kinds_with_their_reason(tmp_path, inbox):
    for name in ("报告.doc", "表.et", "报告.wps", "包.rar", "自评报告.pdf"):
        (inbox / name).write_bytes(b"x")
    found = {f.record.path: (f.record.kind, f.record.status, f.record.message) for f in discover(inbox)}
    assert found["报告.doc"][:2] == ("old_format", "ignored") and "另存为 .docx" in found["报告.doc"][2]
    assert "WPS 表格文件（.et）无法读取：自评表请另存为 .xlsx" in found["表.et"][2]
    assert found["包.rar"][2] == "压缩格式 .rar 无法打开，请改用 .zip 压缩包或直接报送文件"
    assert found["自评报告.pdf"] == ("report", "ignored", "自评报告（.pdf），已登记")


def test_a_package_moved_out_of_the_way_between_listing_and_reading_is_refused_not_crashed(package, tmp_path):
    """The worker reads the archive from disk again: gone, its members are refused, never a crash."""
    files = discover(package, CFG.limits)
    wanted = sorted(f.record.path for f in files if f.wanted)
    assert len(wanted) == 3
    shutil.move(package / "社保中心.zip", tmp_path / "elsewhere.zip")
    result = evaluate(files, CFG, serial, run_id="r", started_at="2025-01-01T00:00:00+00:00", inbox=str(package))
    assert {(f.status, f.code) for f in result.files if f.path in wanted} == {("rejected", "FILE_UNREADABLE")}
    assert result.forms.empty


def test_file_bytes_gives_a_members_bytes_as_listed(package):
    files = {f.record.path: f for f in discover(package, CFG.limits)}
    report = files["社保中心.zip/自评报告.docx"]
    assert (report.record.kind, file_bytes(report, CFG.limits)) == ("report", b"PK report")
    form = files["社保中心.zip/自评表/项目甲.xlsx"]
    assert hashlib.sha256(file_bytes(form, CFG.limits)).hexdigest() == form.record.sha256


# --- fuzzing ------------------------------------------------------------------------

@pytest.fixture(scope="module")
def packed(tmp_path_factory) -> bytes:
    tmp = tmp_path_factory.mktemp("fuzz")
    return _zip({"自评表/项目甲.xlsx": _form(tmp, "项目甲"), "内层.zip": _zip({"乙.xlsx": _form(tmp, "项目乙")})},
                {"自评表/项目甲.xlsx": "gbk"})


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.integers(0, 10**9), st.integers(0, 255)), min_size=1, max_size=8), st.integers(0, 3))
def test_fuzzed_packages_end_listed_and_judged_and_the_inbox_is_untouched(tmp_path_factory, packed, flips, cut):
    inbox = tmp_path_factory.mktemp("inbox")
    data = bytearray(packed)
    for offset, value in flips:
        data[offset % len(data)] = value
    if cut:
        data = data[: len(data) * cut // 4]
    (inbox / "包.zip").write_bytes(bytes(data))
    before = _tree(inbox)
    result = process(inbox, CFG, local_processes(2))
    for record in result.files:
        assert record.status in {"opened", "accepted", "rejected", "ignored"}, record
        assert record.path == "包.zip" or record.path.startswith("包.zip/")
        if record.status == "rejected":
            assert record.code in {"FILE_UNREADABLE", "FILE_UNSAFE", "NO_FORM_FOUND", "MISSING_FIELD",
                                   "BAD_NUMBER"} and record.message
    assert _tree(inbox) == before
