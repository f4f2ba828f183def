"""The submission season (SPEC section 6): [season] in xlbatch.toml, the roster, 报送情况, and
WRONG_YEAR / NOT_SUBMITTED / UNKNOWN_UNIT / LATE_SUBMISSION."""

from __future__ import annotations

import csv
import os
import shutil
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


def test_the_season_sheet_and_findings(tmp_path, inbox):
    cfg = load_config(season_config(tmp_path))
    result = run(season_inbox(inbox), tmp_path / "outbox", cfg)
    found = sorted((f.rule, f.unit, f.source_file) for f in result.findings)
    print(found)
    rows = sheet_rows(tmp_path / "outbox" / "consolidated.xlsx", "报送情况")
    for row in rows:
        print(row)
    assert False
