"""The submission season (SPEC section 6): [season] in xlbatch.toml, the roster, 报送情况, and
WRONG_YEAR / NOT_SUBMITTED / UNKNOWN_UNIT / LATE_SUBMISSION."""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
import subprocess
import time
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import openpyxl
import pytest
from forms import clean_form

from xlbatch.checks.rules import LATE_SUBMISSION, NOT_SUBMITTED, UNKNOWN_UNIT, WRONG_YEAR
from xlbatch.cli import main
from xlbatch.config import ConfigError, load_config, parse_config
from xlbatch.intake.roster import load_roster, unit_key
from xlbatch.nightly import run
from xlbatch.outputs.template import write_workbook
from xlbatch.pipeline import process

pytest_plugins = ["lo"]  # fixtures libreoffice, pdftotext (not imported: lo must load as a plugin)

ROOT = Path(__file__).resolve().parents[1]
BEIJING = timezone(timedelta(hours=8))
COUNTY = "承德县"
HR, EDU, HEALTH = "承德县人力资源和社会保障局", "承德县教育局", "承德县卫生健康局"
# (主管部门, 实施单位, 预期项目数): ten units, three departments.
ROSTER = [
    (HR, "承德县社会保险事业服务中心", 2), (HR, "承德县就业服务中心", 1), (HR, "承德县劳动人事争议仲裁院", 1),
    (EDU, "承德县第一中学", 1), (EDU, "承德县第二中学", 1), (EDU, "承德县实验小学", 1),
    (HEALTH, "承德县人民医院", 2), (HEALTH, "承德县疾病预防控制中心", 1), (HEALTH, "承德县妇幼保健院", None),
    (HEALTH, "承德县中医院", 1),
]
ON_TIME = datetime(2025, 3, 20, 9, 0, tzinfo=BEIJING)  # files' modification time, before the deadline
AFTER = datetime(2025, 4, 2, 10, 30, tzinfo=BEIJING)  # the late file's


def write_roster(path: Path, rows=ROSTER, note: bool = True) -> Path:
    book = openpyxl.Workbook()
    ws = book.active
    if note:
        ws.append(["报送单位花名册（2024 年度绩效自评）"])
    ws.append(["主管部门", "实施单位（全称）", "预期项目数"])
    for row in rows:
        ws.append(list(row))
    book.save(path)
    return path


def form(unit: str, department: str, project: str, **fields):
    return clean_form(unit=unit, department=department, project=project, year=2024, **fields)


def season_inbox(inbox: Path) -> Path:
    """Seven of the ten units send something: one late, one rejected, one under a near-miss name."""
    sent = {
        "承德县就业服务中心/公益岗位补贴.xlsx": form("承德县就业服务中心", HR, "公益岗位补贴"),
        # 执行率 typed wrong: RATE_MISMATCH, a warning → 有问题
        "承德县劳动人事争议仲裁院/仲裁办案经费.xlsx": form("承德县劳动人事争议仲裁院", HR, "仲裁办案经费",
                                                  rate="90.00%"),
        # Full-width letters, spaces and 县 instead of 承德县: the same unit.
        "一中/学生资助.xlsx": form("县 第一中学", EDU, "学生资助"),
        "二中/校舍维修.xlsx": form("承德县第二中学", EDU, "校舍维修"),  # late
        # 全年预算数 empty: MISSING_FIELD, rejected → 未受理待重报
        "承德县实验小学/课后服务.xlsx": form("承德县实验小学", EDU, "课后服务",
                                         funds={"年度资金总额": (5.4, None, 5.13), "当年财政拨款": (5.4, None, 5.13)}),
        "人民医院/医疗设备购置.xlsx": form("承德县人民医院", HEALTH, "医疗设备购置"),
        # 社保保险 is not 社会保险: suggested, not merged
        "社保中心/失业动态监测.xlsx": form("承德县社保保险事业服务中心", HR, "失业动态监测"),
    }
    for name, spec in sent.items():
        path = inbox / name
        path.parent.mkdir(parents=True, exist_ok=True)
        write_workbook(path, [("自评表", spec)])
        moment = AFTER if name.startswith("二中") else ON_TIME
        os.utime(path, (moment.timestamp(), moment.timestamp()))
    return inbox


def season_config(tmp_path: Path, **season) -> Path:
    write_roster(tmp_path / "花名册.xlsx")
    lines = ["[season]", f'county = "{COUNTY}"', "year = 2024", "deadline = 2025-03-31", 'roster = "花名册.xlsx"']
    lines += [f"{key} = {value}" for key, value in season.items()]
    path = tmp_path / "xlbatch.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def sheet_rows(path: Path, name: str) -> list[tuple]:
    ws = openpyxl.load_workbook(path)[name]
    return [tuple("" if v is None else v for v in row) for row in ws.iter_rows(values_only=True)]


def sheet_names(path: Path) -> list[str]:
    return openpyxl.load_workbook(path, read_only=True).sheetnames


def _beijing(iso: str) -> str:
    return datetime.fromisoformat(iso).astimezone(BEIJING).strftime("%Y-%m-%d %H:%M")


def test_the_season_sheet_and_the_findings(tmp_path, inbox):
    """Ten roster units, seven send: 报送情况 row by row, 小计 per 主管部门, 全县合计, and the findings."""
    cfg = load_config(season_config(tmp_path))
    result = run(season_inbox(inbox), tmp_path / "outbox", cfg)
    found = sorted((f.rule, f.unit, f.source_file) for f in result.findings)
    assert found == [
        (LATE_SUBMISSION.code, "承德县第二中学", "二中/校舍维修.xlsx"),
        ("MISSING_FIELD", "承德县实验小学", "承德县实验小学/课后服务.xlsx"),
        (NOT_SUBMITTED.code, "承德县中医院", ""),
        (NOT_SUBMITTED.code, "承德县妇幼保健院", ""),
        (NOT_SUBMITTED.code, "承德县实验小学", ""),
        (NOT_SUBMITTED.code, "承德县疾病预防控制中心", ""),
        (NOT_SUBMITTED.code, "承德县社会保险事业服务中心", ""),
        ("RATE_MISMATCH", "承德县劳动人事争议仲裁院", "承德县劳动人事争议仲裁院/仲裁办案经费.xlsx"),
        (UNKNOWN_UNIT.code, "承德县社保保险事业服务中心", "社保中心/失业动态监测.xlsx"),
    ]
    messages = {(f.rule, f.unit): f.message for f in result.findings}
    assert messages[(UNKNOWN_UNIT.code, "承德县社保保险事业服务中心")] == (
        "实施单位「承德县社保保险事业服务中心」不在报送单位花名册中；最相近的是「承德县社会保险事业服务中心」"
        "（主管部门：承德县人力资源和社会保障局），如为同一单位请统一名称（未自动合并）")
    assert messages[(NOT_SUBMITTED.code, "承德县社会保险事业服务中心")] == (
        "花名册中的「承德县社会保险事业服务中心」（主管部门：承德县人力资源和社会保障局）未报送自评表；"
        "收到名称相近的「承德县社保保险事业服务中心」的自评表，请核实是否为同一单位（未自动合并）")
    assert messages[(NOT_SUBMITTED.code, "承德县实验小学")] == (
        "花名册中的「承德县实验小学」（主管部门：承德县教育局）报送的文件均未受理"
        "（承德县实验小学/课后服务.xlsx「自评表」：必填项为空（MISSING_FIELD）），请通知其更正后重报")
    assert messages[(NOT_SUBMITTED.code, "承德县中医院")] == \
        "花名册中的「承德县中医院」（主管部门：承德县卫生健康局）未报送自评表"
    seen = _beijing(result.started_at)
    assert messages[(LATE_SUBMISSION.code, "承德县第二中学")] == (
        f"文件在报送截止时间 2025-03-31 23:59 之后才收到（不早于 2025-04-02 10:30；程序首次发现于 {seen}；北京时间）")
    assert {f.severity for f in result.findings if f.rule == NOT_SUBMITTED.code} == {"warning"}
    assert {f.severity for f in result.findings if f.rule in (UNKNOWN_UNIT.code, LATE_SUBMISSION.code)} == {"info"}

    book = tmp_path / "outbox" / "consolidated.xlsx"
    assert sheet_names(book)[:3] == ["重点关注", "报送情况", "汇总"]
    rows = sheet_rows(book, "报送情况")
    assert rows[0][0] == "承德县2024年度项目支出绩效自评报送情况"
    assert rows[1][0] == "编制单位：承德县财政局" and rows[1][7] == f"统计时间：{seen}（北京时间）"
    assert rows[2][0] == "报送截止：2025-03-31 23:59（北京时间）" and rows[2][7] == "单位：个（单位）、张（自评表）"
    assert rows[3] == ("序号", "主管部门", "实施单位", "报送状态", "已收自评表（张）", "预期项目数（个）",
                       "未受理（份）", "首次报送时间", "最近报送时间", "是否逾期", "备注")
    t = seen  # every file first seen by this, the first run
    assert rows[4:20] == [
        (1, HR, "承德县社会保险事业服务中心", "未报送", 0, 2, 0, "", "", "",
         "收到名称相近的「承德县社保保险事业服务中心」，请核实（未合并）"),
        (2, HR, "承德县就业服务中心", "已受理", 1, 1, 0, t, t, "按时", ""),
        (3, HR, "承德县劳动人事争议仲裁院", "有问题", 1, 1, 0, t, t, "按时", ""),
        ("", f"{HR} 小计", "已报送 2/3 个单位", "", 2, 4, 0, "", "", "", "自评表 2/4 张"),
        (4, EDU, "承德县第一中学", "已受理", 1, 1, 0, t, t, "按时", ""),
        (5, EDU, "承德县第二中学", "已受理", 1, 1, 0, t, t, "逾期", ""),
        (6, EDU, "承德县实验小学", "未受理待重报", 0, 1, 1, t, t, "按时",
         "未受理：承德县实验小学/课后服务.xlsx「自评表」：必填项为空（MISSING_FIELD）"),
        ("", f"{EDU} 小计", "已报送 2/3 个单位", "", 2, 3, 1, "", "", "", "自评表 2/3 张；逾期 1 个单位"),
        (7, HEALTH, "承德县人民医院", "已受理", 1, 2, 0, t, t, "按时", ""),
        (8, HEALTH, "承德县疾病预防控制中心", "未报送", 0, 1, 0, "", "", "", ""),
        (9, HEALTH, "承德县妇幼保健院", "未报送", 0, "", 0, "", "", "", ""),
        (10, HEALTH, "承德县中医院", "未报送", 0, 1, 0, "", "", "", ""),
        ("", f"{HEALTH} 小计", "已报送 1/4 个单位", "", 1, 4, 0, "", "", "",
         "自评表 1/4 张（1 个单位未填预期项目数）"),
        ("", "全县合计", "已报送 5/10 个单位", "", 5, 11, 1, "", "", "",
         "自评表 5/11 张（1 个单位未填预期项目数）；逾期 1 个单位"),
        ("",) * 11,
        ("花名册外单位报送的自评表（1 个单位，未计入上表）：",) + ("",) * 10,
    ]
    assert rows[20][0] == ("承德县社保保险事业服务中心（主管部门：承德县人力资源和社会保障局）：自评表 1 张；"
                           "最相近的花名册单位：「承德县社会保险事业服务中心」（未合并，请核实名称）")
    assert rows[22][0].startswith("说明：报送状态——已受理：")
    # run.json keeps the same table; the near-miss form is consolidated under its own name.
    data = json.loads((tmp_path / "outbox" / "run.json").read_text(encoding="utf-8"))
    assert [u["state"] for u in data["season"]["units"]] == [r[3] for r in rows[4:18] if r[0] != ""]
    assert "承德县社保保险事业服务中心" in set(result.forms["unit"])


def test_the_sheet_prints_as_an_official_table(tmp_path, inbox):
    """Title merged across the table, header row repeated, A4 landscape one page wide, fonts ≥ 9 pt."""
    run(season_inbox(inbox), tmp_path / "outbox", load_config(season_config(tmp_path)))
    ws = openpyxl.load_workbook(tmp_path / "outbox" / "consolidated.xlsx")["报送情况"]
    assert "A1:K1" in {str(r) for r in ws.merged_cells.ranges}
    assert ws.print_title_rows == "$4:$4"
    assert ws.page_setup.orientation == "landscape" and ws.page_setup.paperSize == 9
    assert ws.sheet_properties.pageSetUpPr.fitToPage and ws.page_setup.fitToHeight == 0  # width: 1, the default
    sizes = {cell.font.sz for row in ws.iter_rows() for cell in row if cell.value is not None}
    assert min(sizes) >= 9
    assert ws.freeze_panes == "A5"


def test_libreoffice_prints_the_sheet_legibly(tmp_path, inbox, libreoffice, pdftotext):
    """As LibreOffice prints 报送情况 (its default font is wider than Excel's, so it scales the page
    down more): the title, the units and 全县合计 on A4 landscape, body text still ≥ 9 pt."""
    run(season_inbox(inbox), tmp_path / "outbox", load_config(season_config(tmp_path)))
    pdf = libreoffice.convert([tmp_path / "outbox" / "consolidated.xlsx"], "pdf", tmp_path / "pdf")[0]
    pages = subprocess.run([pdftotext, "-layout", str(pdf), "-"], capture_output=True, text=True,
                           check=True).stdout.split("\f")
    # Each page's footer names its sheet (&A) on its last line.
    numbers = [i for i, page in enumerate(pages, start=1)
               if page.strip() and page.strip().splitlines()[-1].split()[0] == "报送情况"]
    ours = [pages[i - 1] for i in numbers]
    text = "\n".join(ours)
    assert "承德县2024年度项目支出绩效自评报送情况" in text and "已报送 5/10 个单位" in text
    assert all("序号" in page for page in ours)  # the header row on every page
    first = str(numbers[0])
    words = subprocess.run([pdftotext, "-bbox", "-f", first, "-l", first, str(pdf), "-"], capture_output=True,
                           text=True, check=True).stdout
    found = re.search(r'xMin="([\d.]+)" yMin="[\d.]+" xMax="([\d.]+)" yMax="[\d.]+">承德县就业服务中心<', words)
    width = float(found.group(2)) - float(found.group(1))
    assert width / len("承德县就业服务中心") >= 9  # a CJK glyph is one em wide: the size in points
    size = re.search(r'<page width="([\d.]+)" height="([\d.]+)"', words)
    assert float(size.group(1)) > float(size.group(2)) and round(float(size.group(1))) == 842  # A4 landscape


def test_late_by_the_ledger_between_runs(tmp_path, inbox):
    """A file the ledger first saw after the deadline, when a run after the deadline had not seen it, is
    late even if its modification time is older (copied with its time kept); files seen before stay on time."""
    season = tmp_path / "cfg"
    season.mkdir()
    write_roster(season / "花名册.xlsx")
    first = form("承德县就业服务中心", HR, "公益岗位补贴")
    for name, spec in (("就业/a.xlsx", first), ("人民医院/b.xlsx", form("承德县人民医院", HEALTH, "医疗设备购置"))):
        (inbox / name).parent.mkdir(parents=True, exist_ok=True)
        write_workbook(inbox / name, [("自评表", spec)])
        os.utime(inbox / name, (ON_TIME.timestamp(), ON_TIME.timestamp()))
    config = season / "xlbatch.toml"
    outbox = tmp_path / "outbox"
    config.write_text(f'[season]\ncounty = "{COUNTY}"\nyear = 2024\nroster = "花名册.xlsx"\n', encoding="utf-8")
    run1 = run(inbox, outbox, load_config(config))
    deadline = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=1)
    while datetime.now(UTC) <= deadline + timedelta(seconds=1):
        time.sleep(0.2)
    text = f"{config.read_text(encoding='utf-8')}deadline = {deadline.astimezone(BEIJING).isoformat()}\n"
    config.write_text(text, encoding="utf-8")
    run2 = run(inbox, outbox, load_config(config))  # after the deadline: sees the same two files
    assert not [f for f in run2.findings if f.rule == LATE_SUBMISSION.code]
    time.sleep(1.1)
    (inbox / "一中").mkdir()
    write_workbook(inbox / "一中" / "c.xlsx", [("自评表", form("承德县第一中学", EDU, "学生资助"))])
    os.utime(inbox / "一中" / "c.xlsx", (ON_TIME.timestamp(), ON_TIME.timestamp()))  # an old time, kept
    write_workbook(inbox / "就业/a.xlsx", [("自评表", form("承德县就业服务中心", HR, "公益岗位补贴（更正）"))])
    run3 = run(inbox, outbox, load_config(config))
    late = [(f.source_file, f.value) for f in run3.findings if f.rule == LATE_SUBMISSION.code]
    assert late == [("一中/c.xlsx", _beijing(run2.started_at))]  # not before the run that did not see it
    units = {u["unit"]: u for u in run3.extra["season"]["units"]}
    assert (units["承德县第一中学"]["timing"], units["承德县第一中学"]["first"]) == ("逾期", run3.started_at)
    # The corrected file keeps the path's first arrival (on time); its latest version came with run 3.
    assert (units["承德县就业服务中心"]["timing"], units["承德县就业服务中心"]["first"],
            units["承德县就业服务中心"]["last"]) == ("按时", run1.started_at, run3.started_at)
    assert (units["承德县人民医院"]["first"], units["承德县人民医院"]["last"]) == (run1.started_at, run1.started_at)


def test_without_a_roster_the_run_is_as_before(tmp_path):
    """The repository's sample inbox with no [season]: no 报送情况, no season finding, every form counted."""
    shutil.copytree(ROOT / "inbox", tmp_path / "inbox")
    result = run(tmp_path / "inbox", tmp_path / "outbox")
    season_codes = {WRONG_YEAR.code, NOT_SUBMITTED.code, UNKNOWN_UNIT.code, LATE_SUBMISSION.code}
    assert not season_codes & {f.rule for f in result.findings}
    assert "season" not in result.extra and "报送情况" not in sheet_names(tmp_path / "outbox" / "consolidated.xlsx")
    assert set(result.forms["wrong_year"]) == {""} and set(result.forms["roster_state"]) == {""}
    # A year, a county and a deadline without a roster: the sample's 2024 forms in a 2024 season, filed
    # before a deadline still to come, change nothing either.
    cfg = parse_config({"season": {"county": "示例县", "year": 2024, "deadline": "2099-12-31"}})
    again = run(tmp_path / "inbox", tmp_path / "outbox2", cfg)
    for name in ("projects.csv", "anomalies.csv"):
        assert (tmp_path / "outbox2" / name).read_bytes() == (tmp_path / "outbox" / name).read_bytes()
    assert "season" not in again.extra


def test_wrong_year_and_another_county_stay_out_of_every_total(tmp_path, inbox):
    cfg = load_config(season_config(tmp_path))
    specs = {
        "就业.xlsx": form("承德县就业服务中心", HR, "公益岗位补贴"),
        "旧表.xlsx": clean_form(unit="承德县人民医院", department=HEALTH, project="医疗设备购置", year=2023),
        "兴隆.xlsx": form("兴隆县人民医院", "兴隆县卫生健康局", "院内感染防控"),
        # Off the roster but under a roster 主管部门: a unit of ours, not another county.
        "新单位.xlsx": form("双桥区教学研究室", EDU, "教研活动"),
        # A zone is no county: UNKNOWN_UNIT, not WRONG_YEAR.
        "园区.xlsx": form("经济开发区管委会", "经济开发区党工委", "园区维护"),
    }
    for name, spec in specs.items():
        write_workbook(inbox / name, [("自评表", spec)])
        os.utime(inbox / name, (ON_TIME.timestamp(), ON_TIME.timestamp()))
    result = run(inbox, tmp_path / "outbox", cfg)
    rules = {(f.rule, f.source_file) for f in result.findings if f.source_file}
    assert (WRONG_YEAR.code, "旧表.xlsx") in rules and (WRONG_YEAR.code, "兴隆.xlsx") in rules
    assert {code for code, file in rules if file in ("新单位.xlsx", "园区.xlsx")} == {UNKNOWN_UNIT.code}
    assert not [r for r in rules if r[1] in ("兴隆.xlsx", "就业.xlsx") and r[0] == UNKNOWN_UNIT.code]
    messages = {f.source_file: f.message for f in result.findings if f.rule == WRONG_YEAR.code}
    assert messages["旧表.xlsx"] == "自评表为 2023 年度，本次评价年度为 2024 年度；该表单独列出，不计入任何合计"
    assert messages["兴隆.xlsx"] == ("主管部门「兴隆县卫生健康局」和实施单位「兴隆县人民医院」均不在报送单位花名册中，"
                                    "且表中写明「兴隆县」，不是承德县的自评表；该表单独列出，不计入任何合计")
    # Consolidated on their own rows (projects.csv, 汇总), kept out of 全县合计.
    with (tmp_path / "outbox" / "projects.csv").open(encoding="utf-8-sig") as fh:
        assert len(list(csv.DictReader(fh))) == 5
    summary = openpyxl.load_workbook(tmp_path / "outbox" / "consolidated.xlsx", data_only=True)["汇总"]
    rows = [[c.value for c in row] for row in summary.iter_rows()]
    top = next(i for i, r in enumerate(rows) if r[0] == "序号")  # under the letterhead
    head = [(h or "").replace("\n", "") for h in rows[top]]
    status = {r[head.index("来源文件")]: r[head.index("状态")] for r in rows[top + 1:] if r[head.index("来源文件")]}
    assert status["旧表.xlsx"] == status["兴隆.xlsx"] == "年度或县（区）不符，不计入合计"
    assert status["就业.xlsx"] == status["新单位.xlsx"] == status["园区.xlsx"] == "计入汇总"
    total = next(r for r in rows if r[head.index("主管部门")] == "全县合计")
    assert total[head.index("项目名称")] == "3 个项目计入，2 个年度或县（区）不符未计入"
    assert total[head.index("全年预算数（万元）")] == pytest.approx(3 * 5.4)
    # The roster units see it too: the hospital sent only last year's form.
    units = {u["unit"]: u for u in result.extra["season"]["units"]}
    assert (units["承德县人民医院"]["state"], units["承德县人民医院"]["received"]) == ("未受理待重报", 0)
    hospital = next(f for f in result.findings if f.rule == NOT_SUBMITTED.code and f.unit == "承德县人民医院")
    assert hospital.message == ("花名册中的「承德县人民医院」（主管部门：承德县卫生健康局）只报送了年度或县（区）不符的"
                                "自评表（2023 年度），请通知其报送本年度自评表")


# --- names ----------------------------------------------------------------------------------

def test_names_are_matched_after_normalization_and_near_misses_only_suggested():
    same = ("承德县社会保险事业服务中心", "县社会保险事业服务中心", "社会保险事业服务中心 ", "社会保险事业服务中心")
    assert {unit_key(name, COUNTY) for name in same} == {"社会保险事业服务中心"}
    assert unit_key("承德县 第一中学（本部）", COUNTY) == unit_key("承德县第一中学(本部)", COUNTY) == "第一中学(本部)"
    assert unit_key("ＡＢＣ学校", "") == "ABC学校"  # full-width letters
    assert unit_key("承德县社保保险事业服务中心", COUNTY) != unit_key("承德县社会保险事业服务中心", COUNTY)
    from xlbatch.checks.season import RosterIndex
    from xlbatch.intake.roster import Roster, RosterUnit

    index = RosterIndex(Roster("r.xlsx", tuple(RosterUnit(d, u, e, i) for i, (d, u, e) in enumerate(ROSTER))), COUNTY)
    assert index.find("县就业服务中心").unit == "承德县就业服务中心"
    assert index.find("承德县社保保险事业服务中心") is None
    assert index.closest("承德县社保保险事业服务中心").unit == "承德县社会保险事业服务中心"
    assert index.closest("承德县第三中学").unit in ("承德县第一中学", "承德县第二中学")
    assert index.closest("承德县林业和草原局") is None  # nothing near: no suggestion


# --- configuration --------------------------------------------------------------------------

def test_season_settings_from_toml(tmp_path, monkeypatch):
    path = season_config(tmp_path)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)  # cron starts the run anywhere: the roster is beside the configuration
    cfg = load_config(path)
    assert (cfg.season.year, cfg.season.county) == (2024, COUNTY)
    assert cfg.season.roster == str(tmp_path / "花名册.xlsx")
    # A date is the end of that day, Beijing time; a date-time without offset is Beijing time.
    assert cfg.season.deadline == datetime(2025, 3, 31, 23, 59, 59, tzinfo=BEIJING)
    assert cfg.season.model_dump()["deadline"] == "2025-03-31T23:59:59+08:00"  # run.json
    at = parse_config({"season": {"deadline": datetime(2025, 3, 31, 18, 0)}}).season.deadline
    assert at == datetime(2025, 3, 31, 18, 0, tzinfo=BEIJING)
    utc = parse_config({"season": {"deadline": "2025-03-31T10:00:00+00:00"}}).season.deadline
    assert utc == datetime(2025, 3, 31, 18, 0, tzinfo=BEIJING)
    assert parse_config({}).season.deadline is None and parse_config({}).season.year is None


@pytest.mark.parametrize("text, message", [
    ("deadline = \"三月底\"", 'season.deadline 无效：应为日期或日期时间，如 deadline = 2024-03-31'),
    ("deadline = 18:00:00", "season.deadline 无效：应为日期或日期时间"),
    ("deadline = 20250331", "season.deadline 无效：应为日期或日期时间"),
    ("year = \"2024\"", "season.year 无效：应为不小于 2000、不超过 2100 的整数（当前为 \"2024\"）"),
    ("year = 24", "season.year 无效：应为不小于 2000、不超过 2100 的整数（当前为 24）"),
    ("roster = \"花名册.docx\"", 'season.roster 无效：应为 .xlsx 或 .csv 文件的路径（当前为 "花名册.docx"）'),
    ("rooster = \"花名册.xlsx\"",
     "未知配置项 season.rooster（[season] 中可用的配置项：county、issuer、year、deadline、roster）"),
])
def test_bad_season_settings_are_errors_naming_the_key(tmp_path, text, message):
    path = tmp_path / "xlbatch.toml"
    path.write_text(f"[season]\n{text}\n", encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert message in str(err.value) and str(path) in str(err.value)


def _roster_error(tmp_path, path: Path, capsys) -> str:
    """What `xlbatch run` says of the roster `path` (exit 2, nothing read or written)."""
    config = tmp_path / "xlbatch.toml"
    config.write_text(f'[season]\nroster = "{path.name}"\n', encoding="utf-8")
    inbox, outbox = tmp_path / "inbox", tmp_path / "outbox"
    inbox.mkdir(exist_ok=True)
    assert main(["run", "--inbox", str(inbox), "--outbox", str(outbox), "--config", str(config)]) == 2
    assert not outbox.exists()
    text = capsys.readouterr().err
    assert text.startswith(f"xlbatch: 配置错误，未做任何处理\n{config}: 配置项 season.roster 无效：")
    assert str(tmp_path / path.name) in text
    return text


def test_a_missing_or_broken_roster_is_a_configuration_error(tmp_path, capsys):
    assert "花名册文件不存在" in _roster_error(tmp_path, tmp_path / "没有.xlsx", capsys)
    book = openpyxl.Workbook()
    book.active.append(["主管部门", "单位编码", "预期项目数"])
    book.active.append([EDU, "001", 1])
    book.save(tmp_path / "无单位列.xlsx")
    assert "中没有找到「实施单位」列：前 20 行中应有一行列名（主管部门、实施单位、预期项目数；预期项目数可省略）" \
        in _roster_error(tmp_path, tmp_path / "无单位列.xlsx", capsys)
    write_roster(tmp_path / "计数.xlsx", [(EDU, "承德县第一中学", 1), (EDU, "承德县第二中学", "三个")])
    assert "第 4 行：预期项目数应为不小于 0 的整数或留空（当前为「三个」）" \
        in _roster_error(tmp_path, tmp_path / "计数.xlsx", capsys)
    write_roster(tmp_path / "重复.xlsx", [(EDU, "第一中学", 1), (EDU, "县 第一中学", 1)], note=False)
    assert "第 3 行：单位「县第一中学」与第 2 行的「第一中学」是同一单位" \
        in _roster_error(tmp_path, tmp_path / "重复.xlsx", capsys)
    write_roster(tmp_path / "空名.xlsx", [(EDU, "承德县第一中学", 1), (EDU, None, 1)])
    assert "第 4 行：实施单位为空（主管部门「承德县教育局」）" \
        in _roster_error(tmp_path, tmp_path / "空名.xlsx", capsys)
    (tmp_path / "坏.xlsx").write_bytes(b"PK\x03\x04 not really a workbook")
    assert "无法读取（文件损坏、设置了密码或不是电子表格" in _roster_error(tmp_path, tmp_path / "坏.xlsx", capsys)


    (tmp_path / "xlbatch.toml").write_text('[season]\nroster = "没有.csv"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="花名册文件不存在"):  # as the configuration is loaded
        load_config(tmp_path / "xlbatch.toml")
    with pytest.raises(ConfigError, match="第 4 行：实施单位为空"):  # and where it is used
        process(tmp_path / "inbox", parse_config({"season": {"roster": str(tmp_path / "空名.xlsx")}}))


def test_cli_exits_2_on_a_broken_roster_before_reading_anything(tmp_path, inbox, capsys):
    config = tmp_path / "xlbatch.toml"
    config.write_text('[season]\nroster = "没有.csv"\n', encoding="utf-8")
    code = main(["run", "--inbox", str(inbox), "--outbox", str(tmp_path / "outbox"), "--config", str(config)])
    assert code == 2 and not (tmp_path / "outbox").exists()
    assert f"花名册文件不存在：{tmp_path / '没有.csv'}" in capsys.readouterr().err


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk"])
def test_a_csv_roster_in_utf8_or_gbk(tmp_path, encoding):
    text = "主管部门,实施单位,预期项目数\n" + "".join(f"{d},{u},{'' if e is None else e}\n" for d, u, e in ROSTER)
    (tmp_path / "花名册.csv").write_bytes(text.encode(encoding))
    roster = load_roster(tmp_path / "花名册.csv", COUNTY)
    assert [(u.department, u.unit, u.expected) for u in roster.units] == ROSTER
    assert [u.row for u in roster.units][:2] == [2, 3]


def test_the_roster_is_part_of_what_a_repeat_depends_on(tmp_path, inbox):
    """An edited roster (same name) means a full run, not a copy of the last outputs."""
    cfg = load_config(season_config(tmp_path))
    write_workbook(inbox / "a.xlsx", [("自评表", form("承德县就业服务中心", HR, "公益岗位补贴"))])
    run(inbox, tmp_path / "outbox", cfg)
    assert run(inbox, tmp_path / "outbox", cfg).extra.get("outputs_from")  # unchanged: repeated
    write_roster(tmp_path / "花名册.xlsx", ROSTER[:2])
    again = run(inbox, tmp_path / "outbox", load_config(tmp_path / "xlbatch.toml"))
    assert not again.extra.get("outputs_from")
    assert [u["unit"] for u in again.extra["season"]["units"]] == [ROSTER[0][1], ROSTER[1][1]]


# --- xlbatch roster ---------------------------------------------------------------------------

def test_roster_template_is_a_blank_roster_the_reader_takes(tmp_path, capsys):
    path = tmp_path / "花名册模板.xlsx"
    assert main(["roster", "--template", "-o", str(path)]) == 0
    assert f"已生成空白花名册：{path}" in capsys.readouterr().out
    rows = sheet_rows(path, "花名册")
    assert rows[0][0].startswith("报送单位花名册：每行一个单位。") and rows[1] == ("主管部门", "实施单位", "预期项目数")
    assert len(rows) == 2
    with pytest.raises(ConfigError, match="没有任何单位"):
        load_roster(path)
    book = openpyxl.load_workbook(path)  # filled in as a clerk would
    for row in ROSTER[:3]:
        book["花名册"].append(list(row))
    book.save(path)
    assert [u.unit for u in load_roster(path, COUNTY).units] == [r[1] for r in ROSTER[:3]]
    assert main(["roster", "--template", "-o", str(path)]) == 2  # never over a roster
    assert "文件已存在" in capsys.readouterr().err


def test_roster_from_inbox_drafts_the_units_seen(tmp_path, capsys):
    inbox = season_inbox(tmp_path / "inbox")
    write_workbook(inbox / "就业2.xlsx", [("自评表", form("县就业服务中心", HR, "职业培训补贴"))])
    out = tmp_path / "草稿.xlsx"
    config = tmp_path / "xlbatch.toml"
    # 县就业服务中心 is 承德县's; the roster named is the one being drafted, not there yet.
    config.write_text(f'[season]\ncounty = "{COUNTY}"\nroster = "草稿.xlsx"\n', encoding="utf-8")
    assert main(["roster", "--from-inbox", "--inbox", str(inbox), "-o", str(out), "--config", str(config)]) == 0
    assert f"生成花名册草稿：{out}（7 个单位）" in capsys.readouterr().out
    rows = sheet_rows(out, "花名册")
    assert rows[0][0].startswith(f"根据收件箱 {inbox} 中截至 ") and rows[1] == ("主管部门", "实施单位", "预期项目数")
    assert rows[2:] == [
        (HR, "承德县劳动人事争议仲裁院", 1),
        (HR, "承德县就业服务中心", 2),  # two spellings, one unit, two forms
        (HR, "承德县社保保险事业服务中心", 1),
        (HEALTH, "承德县人民医院", 1),
        (EDU, "县第一中学", 1),  # as the form spells it: the bureau corrects the draft
        (EDU, "承德县实验小学", 1),  # its form was refused: still a unit with a project
        (EDU, "承德县第二中学", 1),
    ]
    drafted = load_roster(out)  # the draft is a roster the reader takes as it is
    assert len(drafted.units) == 7
    csv_out = tmp_path / "草稿.csv"
    assert main(["roster", "--from-inbox", "--inbox", str(inbox), "-o", str(csv_out), "--config", str(config)]) == 0
    assert [(u.department, u.unit, u.expected) for u in load_roster(csv_out).units] == \
        [(u.department, u.unit, u.expected) for u in drafted.units]


def test_a_unit_checking_its_own_form_sees_no_other_units(tmp_path, inbox):
    """`xlbatch check` with the bureau's configuration: the form is judged against year, county and roster,
    but who else has not submitted (or came late) is no business of the unit's check."""
    from xlbatch.pipeline import check_files

    cfg = load_config(season_config(tmp_path))
    write_workbook(inbox / "mine.xlsx", [("自评表", clean_form(unit="承德县就业服务中心", department=HR,
                                                               project="公益岗位补贴", year=2023))])
    result = check_files([inbox / "mine.xlsx"], cfg)
    assert [f.rule for f in result.findings] == [WRONG_YEAR.code]
    assert "season" not in result.extra
