"""整改通知 (outbox/通知/UNIT.docx): each notice read back with python-docx, its lines checked against
anomalies.csv for that unit; unit names made safe file names; the report and notices published,
repeated and kept like the other outputs."""

from __future__ import annotations

import csv
import hashlib
import json
import os
import re
from pathlib import Path

import pytest
from docx import Document
from hypothesis import given
from hypothesis import strategies as st
from sample_inbox import farmland, write_sample_inbox
from seed import seed_form

from xlbatch.config import Config, SeasonSettings
from xlbatch.nightly import run
from xlbatch.ops.outbox import CURRENT, NOTICES, REPORT, remove_leftovers
from xlbatch.outputs import notices as notices_module
from xlbatch.outputs import write as write_module
from xlbatch.outputs.notices import NAME_LIMIT, file_names, safe_stem
from xlbatch.outputs.template import write_workbook

CFG = Config(season=SeasonSettings(county="示例县", issuer="示例县财政局"))
FARM = "示例县农业技术推广中心"
LINE = re.compile(r"^(\d+)．(.*)$")


def rows(path: Path) -> list[dict]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def lines(doc) -> list[str]:
    """The numbered lines of a notice, in order, without their numbers."""
    return [m.group(2) for p in doc.paragraphs if (m := LINE.match(p.text))]


def paragraphs(doc) -> list[str]:
    return [p.text for p in doc.paragraphs]


@pytest.fixture(scope="module")
def sample(tmp_path_factory) -> Path:
    base = tmp_path_factory.mktemp("notices")
    write_sample_inbox(base / "inbox")
    run(base / "inbox", base / "outbox", CFG)
    return base / "outbox"


# --- what a notice says -------------------------------------------------------------------

def test_one_notice_per_unit_with_findings_to_act_on(sample):
    names = sorted(p.name for p in (sample / NOTICES).iterdir())
    units = {a["unit"] for a in rows(sample / "anomalies.csv") if a["unit"] and a["severity"] != "info"}
    # Refused files whose 实施单位 could not be read go to the unit folder they came in.
    assert names == sorted([f"{u}.docx" for u in units] + ["示例县文化馆.docx", "示例县教育局.docx"])
    assert "示例县第一中学.docx" not in names  # its form is clean


def test_a_notice_lists_every_finding_of_its_unit_cell_by_cell(sample):
    doc = Document(str(sample / NOTICES / f"{FARM}.docx"))
    mine = [a for a in rows(sample / "anomalies.csv") if a["unit"] == FARM]
    got = lines(doc)
    assert len(got) == len(mine)
    for a in mine:
        assert any(line.startswith(f"工作表「{a['sheet']}」{a['cell']}：{a['message']}") for line in got), a
    cells = [re.match(r"工作表「.*?」([A-Z]+)(\d+)：", line).groups() for line in got]
    assert [int(row) for _col, row in cells] == sorted(int(row) for _col, row in cells)  # down the sheet
    # The words a clerk acts on: what was typed, what it should be, what to do.
    assert "工作表「自评表」G6：执行率填报为 80.00%，按全年执行数/全年预算数（612/850）计算应为 72.00%。请更正。" in got
    # In one cell, the wrong rate before the low execution it shows.
    g6 = [line for line in got if line.startswith("工作表「自评表」G6：")]
    assert g6[0].startswith("工作表「自评表」G6：执行率填报为") and "偏差原因分析中说明" in g6[1]


def test_a_notice_is_addressed_and_signed(sample):
    doc = Document(str(sample / NOTICES / f"{FARM}.docx"))
    text = paragraphs(doc)
    assert text[0] == "关于2024年度项目支出绩效自评表审核问题的整改通知"
    assert text[1] == f"{FARM}："
    assert text[2].startswith("经示例县财政局审核，你单位报送的2024年度项目支出绩效自评表中，1 张自评表有 7 处")
    assert text[4] == ("（一）项目「高标准农田建设项目」"
                       "（文件「示例县农业技术推广中心/高标准农田建设项目绩效自评表.xlsx」工作表「自评表」）")
    assert text[-2:] == ["示例县财政局", text[-1]] and re.fullmatch(r"\d{4}年\d{1,2}月\d{1,2}日", text[-1])
    assert not any("期限" in t or "日前" in t for t in text)  # the standard closing text sets no deadline


def test_a_refused_file_is_addressed_by_its_folder(sample):
    doc = Document(str(sample / NOTICES / "示例县文化馆.docx"))
    text = paragraphs(doc)
    assert "（未填写实施单位或无法读取的文件，按所在文件夹「示例县文化馆」确定收件单位。）" in text
    assert "一、未受理的文件（须重新报送）" in text
    broken = next(a for a in rows(sample / "anomalies.csv") if a["rule"] == "FILE_UNREADABLE")
    assert lines(doc) == [broken["message"] + "。"]  # its message already says what to do


def test_refused_files_come_first_and_replaced_copies_are_not_listed(tmp_path):
    inbox = tmp_path / "inbox"
    write_sample_inbox(inbox)
    folder = inbox / FARM
    (folder / "退回重报.xlsx").write_bytes(b"PK\x03\x04 truncated")
    resent = farmland()
    resent.rate = "72.00%"
    path = write_workbook(folder / "高标准农田建设项目绩效自评表（更正）.xlsx", [("自评表", resent)])
    os.utime(path, (1_800_000_000, 1_800_000_000))
    run(inbox, tmp_path / "outbox", CFG)
    doc = Document(str(tmp_path / "outbox" / NOTICES / f"{FARM}.docx"))
    headings = [p.text for p in doc.paragraphs if p.style.name == "Heading 1"]
    assert headings == ["一、未受理的文件（须重新报送）", "二、需更正或说明的自评表"]
    text = "\n".join(paragraphs(doc))
    assert "文件「示例县农业技术推广中心/退回重报.xlsx」" in text
    assert "（更正）.xlsx" in text and "执行率填报为" not in text  # the old copy's wrong rate is gone
    assert "重复报送" not in text  # no codes or titles a clerk must decode: the message says it
    assert any("汇总以最新报送的文件为准" in line for line in lines(doc))


# --- names --------------------------------------------------------------------------------

@pytest.mark.parametrize(("unit", "name"), [
    ("示例县第一中学", "示例县第一中学"),
    ("../../../tmp/evil", "_.._.._tmp_evil"),
    ("县财政局\\预算股", "县财政局_预算股"),
    ("CON", "CON_"),
    ("lpt1.txt", "lpt1.txt_"),
    ("...", "未命名单位"),
    ("  示例县：教育局?  ", "示例县：教育局_"),  # a full-width colon is no separator
    ("", "未命名单位"),
    ("~$示例县文化馆", "示例县文化馆"),  # never a name like Word's lock files
])
def test_unit_names_become_safe_file_names(unit, name):
    assert safe_stem(unit) == name


def test_alike_names_stay_apart_and_long_ones_are_cut():
    long = "示例县" + "很长的单位名称" * 20
    names = file_names(["示例县/教育局", "示例县_教育局", "Unit", "UNIT", long, long + "甲"])
    assert names[:4] == ["示例县_教育局.docx", "示例县_教育局（2）.docx", "Unit.docx", "UNIT（2）.docx"]
    assert len(names[4]) == NAME_LIMIT + len(".docx") and names[5] != names[4]


@given(st.lists(st.text(max_size=120), min_size=1, max_size=8))
def test_any_unit_names_give_distinct_harmless_file_names(units):
    names = file_names(units)
    assert len({n.casefold() for n in names}) == len(names)
    for name in names:
        assert name.endswith(".docx") and not name.startswith((".", "~$"))
        assert not re.search(r'[\\/:*?"<>|\x00-\x1f]', name)
        assert len(name.encode("utf-8")) < 255


def test_a_unit_name_never_leaves_the_notices_folder(tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    write_workbook(inbox / "x.xlsx", [("自评表", seed_form(unit="../../../tmp/evil"))])
    result = run(inbox, tmp_path / "outbox", CFG)
    written = [p.relative_to(tmp_path) for p in tmp_path.rglob("*.docx") if not p.is_symlink()]
    assert sorted(map(str, written)) == [f"outbox/runs/{result.run_id}/{REPORT}",
                                         f"outbox/runs/{result.run_id}/{NOTICES}/_.._.._tmp_evil.docx"]


# --- published, repeated, kept ------------------------------------------------------------

def _documents(outbox: Path) -> dict[str, bytes]:
    shown = {REPORT: (outbox / REPORT).read_bytes()}
    shown.update({f"{NOTICES}/{p.name}": p.read_bytes() for p in sorted((outbox / NOTICES).iterdir())})
    return shown


def test_documents_are_published_through_the_pointer_and_listed_in_run_json(sample):
    assert os.readlink(sample / REPORT) == f"{CURRENT}/{REPORT}"
    assert os.readlink(sample / NOTICES) == f"{CURRENT}/{NOTICES}"
    outputs = json.loads((sample / "run.json").read_text(encoding="utf-8"))["outputs"]
    for name, data in _documents(sample).items():
        assert outputs[name]["sha256"] == hashlib.sha256(data).hexdigest()


def test_an_unchanged_run_repeats_the_documents(tmp_path):
    inbox, outbox = tmp_path / "inbox", tmp_path / "outbox"
    write_sample_inbox(inbox)
    first = run(inbox, outbox, CFG)
    before = _documents(outbox)
    second = run(inbox, outbox, CFG)
    assert second.extra["outputs_from"] == first.run_id
    assert os.readlink(outbox / CURRENT) == f"runs/{second.run_id}"
    assert _documents(outbox) == before
    copied = outbox / "runs" / second.run_id
    assert {f"{NOTICES}/{p.name}" for p in (copied / NOTICES).iterdir()} | {REPORT} == set(before)
    # A notice open in Word from the share leaves Word's lock file beside it: still a repeat, not copied.
    (outbox / NOTICES / f"~${FARM}.docx").write_bytes(b"\x0bclerk")
    again = run(inbox, outbox, CFG)
    assert again.extra["outputs_from"] == first.run_id
    assert not (outbox / NOTICES / f"~${FARM}.docx").exists() and _documents(outbox) == before
    # A notice changed in the published run: the next run does not repeat, it writes them anew.
    victim = outbox / NOTICES / f"{FARM}.docx"  # in the folder of the run now published
    victim.write_bytes(b"edited")
    third = run(inbox, outbox, CFG)
    assert "outputs_from" not in third.extra
    assert (outbox / NOTICES / victim.name).read_bytes().startswith(b"PK")


def test_a_failed_run_leaves_the_previous_documents(tmp_path, monkeypatch):
    inbox, outbox = tmp_path / "inbox", tmp_path / "outbox"
    write_sample_inbox(inbox)
    first = run(inbox, outbox, CFG)
    before = _documents(outbox)
    write_workbook(inbox / "新项目.xlsx", [("自评表", seed_form(unit="新单位", year=2024))])

    def broken(path, result):
        raise OSError("disk full")

    monkeypatch.setattr(write_module, "write_report", broken)
    with pytest.raises(OSError, match="disk full"):
        run(inbox, outbox, CFG)
    assert os.readlink(outbox / CURRENT) == f"runs/{first.run_id}"
    assert _documents(outbox) == before


def test_a_failed_notice_leaves_no_half_folder_and_the_next_run_tidies_it(tmp_path, monkeypatch):
    inbox, outbox = tmp_path / "inbox", tmp_path / "outbox"
    write_sample_inbox(inbox)
    calls = []

    def second_fails(doc, path, *args):
        calls.append(path)
        if len(calls) == 2:
            raise RuntimeError("killed")
        return real(doc, path, *args)

    real = notices_module.write_notice
    monkeypatch.setattr(notices_module, "write_notice", second_fails)
    with pytest.raises(RuntimeError):
        run(inbox, outbox, CFG)
    (folder,) = (outbox / "runs").iterdir()
    assert not (folder / NOTICES).exists() and (folder / f".{NOTICES}.tmp").is_dir()
    remove_leftovers(outbox)
    assert not (folder / f".{NOTICES}.tmp").exists()


def test_a_folder_made_where_the_notices_link_is_kept(tmp_path):
    inbox, outbox = tmp_path / "inbox", tmp_path / "outbox"
    write_sample_inbox(inbox)
    run(inbox, outbox, CFG)
    (outbox / NOTICES).unlink()
    (outbox / NOTICES).mkdir()
    (outbox / NOTICES / "手工整理.docx").write_bytes(b"by hand")
    result = run(inbox, outbox, CFG, recompute=True)
    assert os.readlink(outbox / NOTICES) == f"{CURRENT}/{NOTICES}"
    kept = outbox / "runs" / result.run_id / f"replaced-{NOTICES}" / "手工整理.docx"
    assert kept.read_bytes() == b"by hand"


@pytest.mark.parametrize(("n", "text"), [(1, "一"), (10, "十"), (12, "十二"), (20, "二十"), (99, "九十九"),
                                         (100, "一百"), (101, "一百零一"), (110, "一百一十"), (1010, "一千零一十"),
                                         (10000, "10000")])
def test_headings_are_numbered_in_chinese_past_a_hundred(n, text):
    from xlbatch.outputs.document import chinese_number

    assert chinese_number(n) == text


def test_a_unit_with_more_than_a_hundred_forms_gets_its_notice(tmp_path):
    """Found on a corpus of 60 copies of the seed and more: the 100th form's heading failed the run."""
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    for i in range(101):
        write_workbook(inbox / f"项目{i:03d}.xlsx", [("自评表", seed_form(project=f"项目{i:03d}"))])
    run(inbox, tmp_path / "outbox", Config())
    (notice,) = (tmp_path / "outbox" / "通知").iterdir()
    text = "\n".join(p.text for p in Document(str(notice)).paragraphs)
    assert "（一百零一）项目「项目100」" in text


def test_a_roster_unit_that_sent_nothing_is_told_so_not_about_a_file(tmp_path):
    """NOT_SUBMITTED concerns a unit, not a file: its notice says the form has not been sent (no 文件「」)."""
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    write_workbook(inbox / "seed.xlsx", [("自评表", seed_form())])
    roster = tmp_path / "roster.csv"
    roster.write_text("主管部门,实施单位,预期项目数\n承德县人力资源和社会保障局,承德县社会保险事业服务中心,1\n"
                      "承德县教育局,承德县第一中学,2\n", encoding="utf-8")
    cfg = Config(season=SeasonSettings(county="承德县", year=2023, roster=str(roster)))
    run(inbox, tmp_path / "outbox", cfg)
    text = [p.text for p in Document(str(tmp_path / "outbox" / "通知" / "承德县第一中学.docx")).paragraphs]
    assert text[2] == "经承德县财政局核对报送单位名单，你单位尚未报送2023年度项目支出绩效自评表。具体如下："
    assert text[3] == "一、尚未报送的自评表"
    assert text[4] == "1．花名册中的「承德县第一中学」（主管部门：承德县教育局）未报送自评表。请尽快报送。"
    assert text[5] == "如你单位已经报送或本年度无需报送，请说明情况。"
    assert not any("文件「」" in t for t in text)
