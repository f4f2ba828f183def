"""Sheets that are not project forms (SPEC section 1, "Not project forms").

A unit's workbook often carries more than its 项目支出绩效自评表: the 部门整体支出绩效自评表
it fills in the same season, the 填报说明 the bureau handed out, a 目录, an empty Sheet1.
None of them is a broken project form: alone in a workbook they are NO_FORM_FOUND saying
what the sheet is; beside a project form they raise nothing.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from seed import seed_form
from variants import Grid, standard_grid, write_book

import xlbatch

# --- the sheets ------------------------------------------------------------------------------


def department_grid() -> Grid:
    """The 部门整体支出绩效自评表 in the blocks of the Ministry of Finance's central template.

    The central form (财政部's 部门整体支出绩效自评表, the companion of 财预〔2020〕10号's 项目支出绩效
    自评表, which departments print in their 部门决算 disclosures — e.g. 临沧市政务服务管理局 2023年度部门
    决算, item 十四「2023年度部门整体支出绩效自评表」, http://bongotimes.com/info/4561/1229214.html, and
    沧源 2024, https://cangyuan.gov.cn/zfxxgk_cyx_czj/artview/959/335904.html). Those pages name the
    form but do not print its grid, and no stored page does: the blocks below are the central
    template's as published — 部门（单位）名称; 年度主要任务 (任务名称, 主要内容, 预算数, 执行数);
    年度部门整体支出预算（万元）: 资金总额 and its split 按收入性质分 (一般公共预算, 政府性基金预算,
    国有资本经营预算, 财政专户管理资金, 单位资金) and 按支出性质分 (基本支出, 项目支出) under
    年初预算数 / 全年预算数 / 全年执行数; 年度总体目标 (预期目标, 实际完成情况); 年度绩效指标
    (一级/二级/三级指标, 年度指标值, 实际完成值, 分值, 得分, 偏差原因分析及改进措施); 总分 — with the
    column positions our own. No 项目名称: one form per department, and both of a project form's
    tables, which is why it used to parse as a project form missing its name (MISSING_FIELD).
    The figures are a county 人社局's, made up and consistent (362.5 = 320.5 + 12 + 30 = 280.3 + 82.2).
    """
    g = Grid()
    g.put("A1:J1", "部门整体支出绩效自评表")
    g.put("A2:J2", "（2023年度）")
    g.put("A3:B3", "部门（单位）名称")
    g.put("C3:J3", "承德县人力资源和社会保障局")
    g.put("A4:A7", "年度\n主要\n任务")
    for cols, text in (("B4:C4", "任务名称"), ("D4:G4", "主要内容"), ("H4:I4", "预算数"), ("J4", "执行数")):
        g.put(cols, text)
    tasks = (("就业创业服务", "发放创业担保贷款贴息，开展职业技能培训", 120.0, 112.6),
             ("社会保险经办", "城乡居民养老保险待遇发放及经办服务", 180.5, 171.2),
             ("劳动保障监察", "开展根治欠薪专项行动", 62.0, 58.0))
    for row, (name, content, budget, executed) in enumerate(tasks, start=5):
        g.put(f"B{row}:C{row}", name)
        g.put(f"D{row}:G{row}", content)
        g.put(f"H{row}:I{row}", budget)
        g.put(f"J{row}", executed)
    g.put("A8:A15", "年度部门\n整体支出\n预算\n（万元）")
    for cols, text in (("D8:E8", "年初预算数"), ("F8:G8", "全年预算数"), ("H8:I8", "全年执行数"), ("J8", "执行率")):
        g.put(cols, text)
    g.put("B9:C9", "资金总额")
    for cols, value in (("D9:E9", 350.2), ("F9:G9", 362.5), ("H9:I9", 341.8), ("J9", "94.29%")):
        g.put(cols, value)
    g.put("B10:E10", "按收入性质分")
    g.put("F10:J10", "按支出性质分")
    by_income = (("其中：一般公共预算", 320.5), ("政府性基金预算", 12.0), ("国有资本经营预算", 0),
                 ("财政专户管理资金", 0), ("单位资金", 30.0))
    by_spending = (("其中：基本支出", 280.3), ("项目支出", 82.2))
    for row, (label, value) in enumerate(by_income, start=11):
        g.put(f"B{row}:C{row}", label)
        g.put(f"D{row}:E{row}", value)
    for row, (label, value) in enumerate(by_spending, start=11):
        g.put(f"F{row}:G{row}", label)
        g.put(f"H{row}:J{row}", value)
    g.put("A16:A17", "年度\n总体\n目标")
    g.put("B16:F16", "预期目标")
    g.put("G16:J16", "实际完成情况")
    g.put("B17:F17", "全面落实就业优先政策，城镇新增就业 2000 人；养老保险待遇按时足额发放；欠薪案件动态清零。")
    g.put("G17:J17", "城镇新增就业 2156 人；待遇发放及时率 100%；受理欠薪案件全部办结。")
    header = ("一级指标", "二级指标", "三级指标", "年度指标值", "实际完成值", "分值", "得分", "偏差原因分析及改进措施")
    g.put("A18:A26", "年度\n绩效\n指标")
    for col, text in enumerate(header, start=1):
        g.set((17, col), text)
    indicators = (
        ("产出指标", "数量指标", "城镇新增就业人数", "≥2000 人", "2156 人", 10, 10),
        (None, None, "职业技能培训人次", "≥1500 人次", "1620 人次", 10, 10),
        (None, "质量指标", "待遇发放准确率", "100%", "100%", 10, 10),
        (None, "时效指标", "待遇发放及时率", "100%", "100%", 10, 10),
        (None, "成本指标", "人均培训成本", "≤800 元", "760 元", 10, 10),
        ("效益指标", "社会效益指标", "欠薪案件结案率", "≥95%", "100%", 15, 15),
        (None, "可持续影响指标", "就业形势稳定", "稳定", "稳定", 15, 15),
        ("满意度指标", "服务对象满意度指标", "群众满意度", "≥90%", "93%", 10, 9),
    )
    for row, values in enumerate(indicators, start=18):
        for col, value in enumerate(values, start=1):
            if value is not None:
                g.set((row, col), value)
    g.put("A27:F27", "总分")
    g.set((26, 6), 100)
    g.set((26, 7), 99)
    return g


def chongqing_department_grid() -> Grid:
    """A 部门整体绩效自评表 as 重庆 (西部(重庆)科学城) prints it — no 支出 in the title, 主管部门
    beside 财政处室, the funds row under 年初预算数 / 全年（调整）预算数 / 全年执行数: the 2021 form of
    a 融媒体中心 published as 部门整体绩效自评表.docx (https://m.yzwku.com/doc/98587.html): its labels
    as printed, its 执行率 76% / 权重 10 / 得分 7.6, 自评总分 97.6 and three of its indicator rows
    (预算完成率 70% → 76%, 播发稿件数量 2200 → 2859 篇 …); the amounts, garbled in the page's text, made up."""
    g = Grid()
    g.put("A1:J1", "部门整体绩效自评表")
    g.put("A2:B2", "主管部门")
    g.put("C2:E2", "西部（重庆）科学城融媒体中心")
    g.put("F2", "财政处室")
    g.put("G2:H2", "宣传文化处")
    g.put("I2", "自评总分（分）")
    g.put("J2", 97.6)
    g.put("A3:A4", "部门预算执行情况（万元）")
    for col, text in enumerate(("年初预算数", "全年（调整）预算数", "全年执行数", "执行率（%）", "执行率权重",
                                "执行率得分（分）"), start=2):
        g.set((2, col), text)
    for col, value in enumerate((1250.0, 1315.6, 999.9, "76%", 10, 7.6), start=2):
        g.set((3, col), value)
    g.put("A5:A6", "当年绩效目标")
    g.put("B5:D5", "年初绩效目标")
    g.put("E5:G5", "全年（调整）绩效目标")
    g.put("H5:J5", "全年目标实际完成情况")
    g.put("B6:D6", "保障融媒体中心正常运转，有效承担新闻宣传管理、思想文化领域建设等工作。")
    g.put("E6:G6", "无")
    g.put("H6:J6", "较好地完成了履职任务，为建设成渝地区双城经济圈营造了良好氛围。")
    header = ("指标名称", "计量单位", "指标性质", "年初指标值", "调整指标值", "全年完成值", "得分系数（%）",
              "指标权重（分）", "指标得分（分）", "是否核心指标")
    for col, text in enumerate(header):
        g.set((6, col), text)
    rows = (("预算完成率", "%", "定量指标", "70%", "", "76%", "100%", 2, 2, "是"),
            ("组织宣传活动次数", "次", "定量指标", "≥40", "", 43, "100%", 10, 10, "是"),
            ("播发稿件数量", "篇", "定量指标", "≥2200", "", 2859, "100%", 10, 10, "是"))
    for row, values in enumerate(rows, start=7):
        for col, value in enumerate(values):
            if value != "":
                g.set((row, col), value)
    return g


INSTRUCTIONS_PROSE = [
    ["填报说明"],
    ["一、本表由项目实施单位填报，每个预算项目填报一张，一个工作簿可包含多张自评表。"],
    ["二、金额单位为万元。全年预算数为调整后的预算数，全年执行数为截至12月31日的实际支出。"],
    ["三、预算执行率 10 分，产出指标 50 分，效益指标 30 分，满意度指标 10 分，总分 100 分。"],
    ["四、年度指标值、实际完成值按批复的绩效目标逐项填写；未完全达成的指标须填写偏差原因分析及改进措施。"],
    ["五、请于 2024 年 3 月 31 日前报送县财政局绩效股。"],
]
CONTENTS = [["目录"], ["一、部门整体支出绩效自评表"], ["二、项目支出绩效自评表"], ["三、绩效自评报告"]]


def seed_with_footnote() -> Grid:
    """The seed's form with the bureau's note under its 总分 row that mentions 填报说明 and 部门整体支出."""
    g = standard_grid(seed_form())
    row = g.height + 1
    g.put(f"A{row}:I{row}", "注：本表为项目支出绩效自评表，填报要求详见填报说明；部门整体支出绩效自评表另行报送。")
    return g


def titled_seed() -> Grid:
    """The seed's form titled as a county prints it: 「承德县2023年度项目支出绩效自评表」."""
    return standard_grid(seed_form()).relabel(f"{seed_form().project}项目支出绩效自评表",
                                              "承德县2023年度项目支出绩效自评表")


def check(path: Path):
    return xlbatch.check_files([path])


def findings(result) -> list[tuple]:
    """Every finding as a clerk reads it: where, which rule, which field and cell, what it says."""
    return sorted((f.source_file, f.sheet, f.rule, f.field, f.cell, f.message) for f in result.findings)


def only_finding(result, path: Path) -> str:
    """The message of the file's one finding, which must reject it as NO_FORM_FOUND."""
    (record,) = result.files
    assert (record.status, record.code, record.forms) == ("rejected", "NO_FORM_FOUND", [])
    ((source, sheet, rule, field, cell, message),) = findings(result)
    assert (source, sheet, rule, field, cell) == (path.name, "", "NO_FORM_FOUND", "file", "")
    assert record.message == message
    return message


OTHER_SHEETS = {
    "central_department": ("部门整体", department_grid),
    "chongqing_department": ("部门整体", chongqing_department_grid),
    "instructions": ("填报说明", lambda: Grid.from_rows(INSTRUCTIONS_PROSE)),
    "contents": ("目录", lambda: Grid.from_rows(CONTENTS)),
    "blank": ("Sheet1", Grid),
}
DEPARTMENT = "工作表「部门整体」是部门整体支出绩效自评表，不是项目支出绩效自评表；请报送项目支出绩效自评表"
ALONE = {
    "central_department": DEPARTMENT,
    "chongqing_department": DEPARTMENT,
    "instructions": "工作簿中只有填报说明「填报说明」，没有项目支出绩效自评表；请报送项目支出绩效自评表",
    "contents": "工作簿中只有目录「目录」，没有项目支出绩效自评表；请报送项目支出绩效自评表",
    "blank": "工作簿中只有空白工作表「Sheet1」，没有项目支出绩效自评表；请报送项目支出绩效自评表",
}


# --- alone in a workbook: NO_FORM_FOUND naming what the sheet is ---------------------------------------


@pytest.mark.parametrize("kind", OTHER_SHEETS)
def test_a_non_project_sheet_alone_is_no_form_found_saying_what_it_is(tmp_path, kind):
    name, grid = OTHER_SHEETS[kind]
    path = write_book(tmp_path / f"{kind}.xlsx", [(name, grid())])
    assert only_finding(check(path), path) == ALONE[kind]


def test_a_department_form_is_named_beside_the_other_sheets_of_its_workbook(tmp_path):
    path = write_book(tmp_path / "部门.xlsx", [("填报说明", INSTRUCTIONS_PROSE), ("2023部门整体", department_grid()),
                                             ("Sheet1", [])])
    assert only_finding(check(path), path) == (
        "工作表「2023部门整体」是部门整体支出绩效自评表，不是项目支出绩效自评表，其余工作表「填报说明」、「Sheet1」也不是；"
        "请报送项目支出绩效自评表")


def test_a_workbook_of_instructions_contents_and_a_blank_sheet_names_each(tmp_path):
    path = write_book(tmp_path / "说明.xlsx", [("说明", INSTRUCTIONS_PROSE), ("目录", CONTENTS), ("Sheet1", [])])
    assert only_finding(check(path), path) == (
        "工作簿中只有填报说明「说明」、目录「目录」、空白工作表「Sheet1」，没有项目支出绩效自评表；请报送项目支出绩效自评表")


def test_a_sheet_nothing_is_recognized_in_keeps_the_message_on_what_a_form_looks_like(tmp_path):
    """A sheet that is none of those may be a project form whose labels were not found: the clerk
    is told which labels a form has, as before, even beside a 填报说明."""
    payroll = [["2023年12月工资表"], ["姓名", "岗位工资", "薪级工资", "合计"], ["张三", 3200, 1800, 5000]]
    path = write_book(tmp_path / "工资.xlsx", [("填报说明", INSTRUCTIONS_PROSE), ("工资表", payroll)])
    assert only_finding(check(path), path) == (
        "工作簿的工作表 「填报说明」、「工资表」 中都没有找到项目支出绩效自评表（未找到「项目名称」「全年预算数」"
        "「三级指标」等栏目）；请使用财政局下发的自评表模板填报")


# --- beside a project form: nothing from the other sheet ------------------------------------------------


def _seed_alone(folder: Path, name: str):
    """The seed's form alone in a workbook of the same file name (findings name the file)."""
    folder.mkdir()
    return check(write_book(folder / name, [("自评表", standard_grid(seed_form()))]))


def _same_as_alone(result, alone, sheets: list[str]) -> None:
    """The workbook is accepted with exactly the seed's form and the seed's findings."""
    (record,) = result.files
    assert (record.status, record.code) == ("accepted", "")
    assert [(f.sheet, f.project, f.status) for f in record.forms] == [("自评表", seed_form().project, "accepted")]
    assert findings(result) == findings(alone) != []
    assert {f.sheet for f in result.findings} == {"自评表"}
    columns = ["project", "unit", "budget_full_year", "executed", "execution_rate", "total_reported", "total_score"]
    assert result.forms[columns].to_dict("records") == alone.forms[columns].to_dict("records")
    assert len(result.indicators) == len(alone.indicators)
    assert sheets  # the other sheets were in the workbook


@pytest.mark.parametrize("kind", OTHER_SHEETS)
@pytest.mark.parametrize("first", [True, False], ids=["before", "after"])
def test_a_non_project_sheet_beside_the_seed_raises_nothing(tmp_path, kind, first):
    name, grid = OTHER_SHEETS[kind]
    form = ("自评表", standard_grid(seed_form()))
    sheets = [(name, grid()), form] if first else [form, (name, grid())]
    result = check(write_book(tmp_path / "承德县社保中心.xlsx", sheets))
    _same_as_alone(result, _seed_alone(tmp_path / "alone", "承德县社保中心.xlsx"), [name])


def test_every_kind_of_other_sheet_beside_the_seed_at_once(tmp_path):
    others = [(f"{n}{i}", grid()) for i, (n, grid) in enumerate(OTHER_SHEETS.values())]
    result = check(write_book(tmp_path / "全部.xlsx", [*others[:3], ("自评表", standard_grid(seed_form())),
                                                      *others[3:]]))
    _same_as_alone(result, _seed_alone(tmp_path / "alone", "全部.xlsx"), [n for n, _ in others])


# --- project forms stay project forms -----------------------------------------------------------------


@pytest.mark.parametrize("grid", [seed_with_footnote, titled_seed], ids=["footnote", "county_title"])
def test_a_project_form_mentioning_the_other_kinds_is_still_a_project_form(tmp_path, grid):
    """A note under 总分 that names 填报说明 and the 部门整体支出绩效自评表, or a title
    「承德县2023年度项目支出绩效自评表」, leaves the seed the seed."""
    alone = _seed_alone(tmp_path / "alone", "自评.xlsx")
    result = check(write_book(tmp_path / "自评.xlsx", [("自评表", grid())]))
    _same_as_alone(result, alone, ["自评表"])


def test_a_broken_project_form_noting_the_department_form_is_still_a_broken_project_form(tmp_path):
    """Without its 项目名称 label the seed is a project form missing a field, not a department-wide
    form: the 部门整体支出 in its footnote is below its tables, not in its head."""
    grid = seed_with_footnote()
    grid.set("A3", None)
    grid.set("C3", None)
    result = check(write_book(tmp_path / "缺项目名称.xlsx", [("自评表", grid)]))
    (record,) = result.files
    assert (record.status, record.code) == ("rejected", "MISSING_FIELD")
    # check_files lists the form's other findings after its rejection (issue 14); one rejects it.
    rejecting = [(f.sheet, f.rule, f.field) for f in result.findings if f.severity == "error"]
    assert rejecting == [("自评表", "MISSING_FIELD", "project")]
    assert "「项目名称」（未找到该栏）" in result.findings[0].message
