"""Where each role was read from (RawForm.labels), `xlbatch inspect FILE [--json]`, and the labels a
MISSING_FIELD message names where a field was expected (issue 13).

The seed is the standard form: every role it prints is on it, each read through its own label; the
columns only provincial layouts print (指标性质, 度量单位, a header 自评得分, a 预算执行率 indicator)
are listed as optional, never as missing. The 四川 青神 layout (tests/provinces.py,
sichuan_qingshen_2023: source in its docstring) spells its funds columns 调整后预算数 / 预算执行数 /
权重 and its total row 总额: each role is read through that spelling (SPEC section 1, "Provincial
variants"); it has no 上年结转资金 row, and inspect shows the row labels where one was looked for.
The seed relabelled with spellings no vocabulary holds (本年可用数, 承办方, 资金合计数) shows what
MISSING_FIELD says of a field not found.
"""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
from pathlib import Path

import pytest
from provinces import LAYOUTS, QINGSHEN, SICHUAN_GOAL_PROMPT
from rich.cells import cell_len
from seed import seed_form
from variants import standard_grid, write_book

import xlbatch
from xlbatch.cli import main
from xlbatch.config import Config
from xlbatch.form import vocabulary as vocab
from xlbatch.form.analyse import FileTask, analyse_file
from xlbatch.form.inspect import as_json, inspect_file
from xlbatch.ops.ledger import _load
from xlbatch.outputs.template import write_workbook

LIMITS = Config().limits
HINT = "；如其中某个标签即所缺栏目的另一种写法，请改用模板的写法，或把这种写法告知财政局"
# The 四川 funds table's row labels (column A-B, rows 11-16) as the layout prints them.
SICHUAN_FUND_ROWS = (("A11", "预算执行情况(10分)"), ("B11", "年度预算数(万元)"), ("B12", "总额"),
                     ("B13", "其中:财政资金"), ("B14", "财政专户管理资金"), ("B15", "单位资金"), ("B16", "其他资金"))


@pytest.fixture
def seed_path(tmp_path: Path) -> Path:
    return write_workbook(tmp_path / "自评表.xlsx", [("自评表", seed_form())])


@pytest.fixture
def sichuan_path(tmp_path: Path) -> Path:
    layout = LAYOUTS["sichuan_qingshen_2023"]
    return layout.build(tmp_path / layout.filename)


def readings(path: Path) -> dict:
    (form,) = inspect_file(path, LIMITS).forms
    return {r.key: r for r in form.readings}


def read(reading) -> tuple:
    return reading.name, reading.cell, reading.value, reading.label_cell, reading.label


def run_cli(capsys, monkeypatch, *argv: str) -> tuple[int, str]:
    monkeypatch.setenv("COLUMNS", "80")
    code = main(["inspect", *argv])
    return code, capsys.readouterr().out


def test_the_seed_lists_every_role_with_the_cell_read_and_the_label_read_through(seed_path):
    got = readings(seed_path)
    every_role = [vocab.role_key(group, name) for group, roles in vocab.ROLES.items() if group != "funds"
                  for name in roles]
    assert list(got) == every_role
    printed = [r for r in got.values() if r.key not in vocab.NOT_IN_TEMPLATE]
    assert all(r.found and r.cell and not r.nearby and not r.optional for r in printed)
    optional = [r for r in got.values() if r.optional]
    assert [r.key for r in optional if not r.found] == ["indicator_column.nature", "indicator_column.measure",
                                                        "total.header", "indicator_row.budget"]
    assert not any(r.nearby or r.seen for r in optional)
    assert read(got["header.project"]) == ("项目名称", "C3", "失业动态监测，社会化管理服务费", "A3", "项目名称")
    assert read(got["header.unit"]) == ("实施单位", "G4", "承德县社会保险事业服务中心", "F4", "实施单位")
    assert read(got["fund_column.full_year"]) == ("全年预算数", "D6", 5.4, "D5", "全年预算数")
    assert read(got["fund_column.executed"]) == ("全年执行数", "E6", 3.07, "E5", "全年执行数")
    assert read(got["fund_row.total"]) == ("年度资金总额", "C6:E6", "5.4 / 5.4 / 3.07", "B6", "年度资金总额")
    assert read(got["fund_row.current"])[1:] == ("C7:E7", "5.4 / 5.4 / 3.07", "B7", "其中：当年财政拨款")
    assert read(got["indicator_column.name"]) == ("三级指标", "D13", "失业动态监测企业数", "D12", "三级指标")
    assert read(got["indicator_column.deviation"])[1:4:2] == ("I13", "I12")
    assert read(got["total.total"]) == ("总分", "H37", 95.7, "A37", "总分")


def test_the_provenance_is_plain_data_that_the_ledger_cache_reloads(seed_path):
    """RawForm.labels and .nearby cross to worker processes and into the ledger's cache."""
    task = FileTask(str(seed_path), seed_path.name, "", LIMITS)
    outcome = analyse_file(task)
    again = _load(pickle.dumps(outcome))
    assert again.forms[0].labels == outcome.forms[0].labels and again.forms[0].labels["total.total"] == ("A37", "总分")
    assert again.forms[0].nearby == outcome.forms[0].nearby == {}


def test_inspect_prints_each_role_its_cell_value_and_label(seed_path, capsys, monkeypatch):
    code, out = run_cli(capsys, monkeypatch, str(seed_path))
    assert code == 0
    lines = out.splitlines()
    assert lines[:2] == ["自评表.xlsx：1 张自评表",
                         "工作表「自评表」：失业动态监测，社会化管理服务费项目支出绩效自评表（2023 年度）"]
    row = {line.split("│")[1].strip(): [cell.strip() for cell in line.split("│")[2:5]]
           for line in lines if line.startswith("│") and line.split("│")[2].strip()}
    assert row["全年预算数"] == ["D6", "5.4", "D5「全年预算数」"]
    assert row["年度资金总额"] == ["C6:E6", "5.4 / 5.4 / 3.07", "B6「年度资金总额」"]
    assert row["总分"] == ["H37", "95.7", "A37「总分」"]
    assert row["指标性质"] == ["—", "本表无此栏", "可选的栏目"]
    assert "未找到" not in out


def test_inspect_json_is_the_same_readings(seed_path, capsys, monkeypatch):
    code, out = run_cli(capsys, monkeypatch, "--json", str(seed_path))
    assert code == 0
    data = json.loads(out)
    assert data == as_json(inspect_file(seed_path, LIMITS))
    assert (data["file"], data["finding"], data["ignored"]) == ("自评表.xlsx", None, None)
    (form,) = data["forms"]
    assert (form["sheet"], form["year"]) == ("自评表", 2023)
    roles = {r["key"]: r for r in form["roles"]}
    assert roles["fund_column.full_year"] == {
        "key": "fund_column.full_year", "group": "fund_column", "name": "全年预算数", "found": True,
        "optional": False, "cell": "D6", "value": 5.4, "label_cell": "D5", "label": "全年预算数",
        "nearby": [], "seen": None}
    assert (roles["header.project"]["cell"], roles["header.project"]["label_cell"]) == ("C3", "A3")
    assert (roles["total.total"]["cell"], roles["total.total"]["value"], roles["total.total"]["label"]) == (
        "H37", 95.7, "总分")


def test_a_provincial_layout_is_read_through_its_own_spellings(sichuan_path):
    got = readings(sichuan_path)
    assert read(got["header.unit"]) == ("实施单位", "C5", "青神县发展和改革局", "A5", "实施单位 (盖章)")
    assert read(got["fund_column.initial"]) == ("年初预算数", "D12", 238.93, "D11", "年初预算")
    assert read(got["fund_column.full_year"]) == ("全年预算数", "E12", 251.89, "E11", "调整后预算数")
    assert read(got["fund_column.executed"]) == ("全年执行数", "F12", 251.89, "F11", "预算执行数")
    assert read(got["fund_column.weight"]) == ("分值", "H12", 10, "H11", "权重")
    assert read(got["fund_row.total"])[1:] == ("D12:F12", "238.93 / 251.89 / 251.89", "B12", "总额")
    assert read(got["fund_row.current"])[3:] == ("B13", "其中:财政资金")
    # 财政专户管理资金 and 单位资金 are other sources: added up into 其他资金.
    assert read(got["fund_row.other"])[1:] == ("D14:F15", "0 / 0 / 0（多行相加）", "B14", "财政专户管理资金")
    # The target is split over 指标性质 | 指标值 | 度量单位: read as one, the unit on the actual too.
    assert read(got["indicator_column.target"])[1:] == ("F18", "=100%", "F17", "指标值")
    assert read(got["indicator_column.actual"])[1:] == ("H18", "100%", "H17", "完成值")
    assert read(got["indicator_column.nature"])[3:] == ("E17", "指标性质")
    assert read(got["indicator_column.weight"])[1:] == ("I18", 60, "I17", "权重")
    assert read(got["total.total"]) == ("总分", "J20", 100, "B20", "合计")
    not_found = [key for key, r in got.items() if not r.found and not r.optional]
    assert not_found == ["fund_row.carryover"]
    assert got["fund_row.carryover"].nearby == SICHUAN_FUND_ROWS
    # 项目年度目标 | 年度目标完成情况 side by side, each text below its label.
    assert read(got["goal.expected"]) == ("预期目标", "B8", QINGSHEN["goal"], "B7", "项目年度目标")
    assert read(got["goal.actual"])[1:] == ("G8", SICHUAN_GOAL_PROMPT, "G7", "年度目标完成情况")


def test_inspect_of_a_provincial_layout_in_the_terminal(sichuan_path, capsys, monkeypatch):
    code, out = run_cli(capsys, monkeypatch, str(sichuan_path))
    assert code == 0
    lines = out.splitlines()
    assert "│ 全年预算数     │ E12     │ 251.89                  │ E11「调整后预算数」     │" in lines
    assert "│ 上年结转资金   │ —       │ 未找到                  │ 附近的标签见下          │" in lines
    assert "│ 自评得分       │ —       │ 本表无此栏              │ 可选的栏目              │" in lines
    below, hint = out[out.index("未找到的栏目，在其应在之处找到的标签：\n"):].split("如某个标签即所缺栏目", 1)
    below = below.splitlines()[1:]
    places = {}  # "  names：" then the labels indented by 4, wrapped at a space: compared without spaces
    for line in below:
        if not line.startswith("    "):
            names = line.strip()
            places[names] = ""
        else:
            places[names] += line.replace(" ", "")
    assert places == {"上年结转资金：": "".join(f"{r}「{t}」" for r, t in SICHUAN_FUND_ROWS)}
    assert [line.strip() for line in hint.splitlines()[1:]] == [
        "[labels]", 'fund_row.carryover = ["…"]    # 上年结转资金']


@pytest.mark.parametrize("build", ["seed", "sichuan_qingshen_2023", "hubei_hbeu_student_aid"])
def test_inspect_fits_80_columns(tmp_path, build):
    if build == "seed":
        path = write_workbook(tmp_path / "自评表.xlsx", [("自评表", seed_form())])
    else:
        path = LAYOUTS[build].build(tmp_path / LAYOUTS[build].filename)
    env = dict(os.environ, COLUMNS="80")
    done = subprocess.run([sys.executable, "-m", "xlbatch.cli", "inspect", str(path)], env=env, cwd=tmp_path,
                          capture_output=True, text=True, check=False, timeout=120)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) > 40 and any("读自标签" in line for line in lines)
    assert max(cell_len(line) for line in lines) <= 80


def test_a_file_without_a_form_prints_the_finding_that_refuses_it(tmp_path, capsys, monkeypatch):
    layout = LAYOUTS["hunan_yueyang_department_2018"]
    department = layout.build(tmp_path / layout.filename)
    code, out = run_cli(capsys, monkeypatch, str(department))
    assert code == 1
    assert out.replace("\n", "") == (
        "部门整体支出绩效自评表.xlsx：未找到自评表NO_FORM_FOUND（未找到自评表）：工作表「部门整体支出绩效自评表」"
        "是部门整体支出绩效自评表，不是项目支出绩效自评表；请报送项目支出绩效自评表")
    broken = tmp_path / "损坏.xlsx"
    broken.write_bytes(b"PK\x03\x04 not a workbook")
    code, out = run_cli(capsys, monkeypatch, "--json", str(broken))
    data = json.loads(out)
    assert code == 1 and data["forms"] == [] and data["finding"]["rule"] == "FILE_UNREADABLE"
    assert data["finding"]["message"] == xlbatch.check_files([broken]).findings[0].message


def relabelled_missing_field(tmp_path: Path, *spellings: tuple[str, str]) -> str:
    """The MISSING_FIELD message of the seed with each (label, spelling) relabelled."""
    grid = standard_grid(seed_form())
    for label, spelling in spellings:
        grid.relabel(label, spelling)
    return missing_field(write_book(tmp_path / "改写.xlsx", [("自评表", grid)]))


def missing_field(path: Path) -> str:
    result = xlbatch.check_files([path])
    (finding,) = [f for f in result.findings if f.rule == "MISSING_FIELD"]
    return finding.message


def test_a_provincial_layout_raises_no_missing_field(sichuan_path):
    assert [f.rule for f in xlbatch.check_files([sichuan_path]).findings if f.rule == "MISSING_FIELD"] == []


def test_missing_field_names_the_labels_of_the_funds_header_row(tmp_path):
    """The seed with 全年执行数 spelled 本年支出合计: its funds header row's labels are named."""
    assert relabelled_missing_field(tmp_path, ("全年执行数", "本年支出合计")) == (
        "必填项「全年执行数」（未找到该栏）为空，请填写后重新报送；"
        "在应有「全年执行数」的位置找到的标签：「项目资金 （万元）」「年初预算数」「全年预算数」「本年支出合计」"
        "「分值」「执行率」「得分」" + HINT)


def test_missing_field_names_the_labels_of_each_place_a_field_was_expected(tmp_path):
    """The seed with its 全年预算数 and 实施单位 labels spelled as no vocabulary spells them: the
    header's labels for 实施单位, the funds header row's for 全年预算数 (the row is still found: its
    年初预算数 holds 预算数, but that label is read as 年初预算数 and does not name 全年预算数)."""
    assert relabelled_missing_field(tmp_path, ("全年预算数", "本年可用数"), ("实施单位", "承办方")) == (
        "必填项「实施单位」（未找到该栏）、「全年预算数」（未找到该栏）为空，请填写后重新报送；"
        "在应有「实施单位」的位置找到的标签：「项目名称」「主管部门」「承办方」；"
        "在应有「全年预算数」的位置找到的标签：「项目资金 （万元）」「年初预算数」「本年可用数」「全年执行数」"
        "「分值」「执行率」「得分」" + HINT)


def test_missing_field_names_the_row_labels_when_the_total_row_is_not_found(tmp_path):
    """(资金合计数 would be read: 合计 is a spelling of the total row, SPEC section 1.)"""
    assert relabelled_missing_field(tmp_path, ("年度资金总额", "项目资金规模")) == (
        "必填项「全年预算数」（未找到该栏）、「全年执行数」（未找到该栏）为空，请填写后重新报送；"
        "在应有「年度资金总额」的位置找到的标签：「项目资金 （万元）」「项目资金规模」「其中：当年财政拨款」"
        "「上年结转资金」「其他资金」" + HINT)


def test_a_field_found_but_left_empty_names_its_cell_and_no_labels(tmp_path):
    grid = standard_grid(seed_form())
    grid.set("C3", None)
    path = write_book(tmp_path / "缺项目名称.xlsx", [("自评表", grid)])
    assert missing_field(path) == "必填项「项目名称」（C3）为空，请填写后重新报送"


def test_the_bureau_guide_inspect_names_the_key_and_labels_makes_the_form_read(tmp_path, capsys, monkeypatch):
    """README "Provincial layouts", a template not among them: `inspect` names the role's [labels] key
    beside the labels found where it was expected; that key with the template's spelling in
    xlbatch.toml makes the same file read, with the figures of the standard spelling."""
    grid = standard_grid(seed_form())
    grid.relabel("全年预算数", "本年可用数")
    path = write_book(tmp_path / "改写.xlsx", [("自评表", grid)])
    code, out = run_cli(capsys, monkeypatch, str(path))
    assert code == 0 and "「本年可用数」" in out
    assert 'fund_column.full_year = ["…"]    # 全年预算数' in out
    assert all(cell_len(line) <= 80 for line in out.splitlines())
    config = tmp_path / "xlbatch.toml"
    config.write_text('[labels]\nfund_column.full_year = ["本年可用数"]\n', encoding="utf-8")
    read_again = xlbatch.check_files([path], xlbatch.load_config(config))
    assert [f.rule for f in read_again.findings if f.severity == "error"] == []
    standard = write_workbook(tmp_path / "标准.xlsx", [("自评表", seed_form())])
    figures = ["budget_full_year", "executed", "execution_rate", "total_score"]
    assert read_again.forms[figures].to_dict("records") == xlbatch.check_files([standard]).forms[figures].to_dict(
        "records")
    code, out = run_cli(capsys, monkeypatch, "--config", str(config), str(path))
    (row,) = [line for line in out.splitlines() if "│ 全年预算数" in line]
    assert code == 0 and "「本年可用数」" in row and "未找到" not in out
