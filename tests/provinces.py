"""Published provincial layouts of the self-evaluation form, rebuilt as workbooks (issue 13).

Each builder reproduces one form layout that a finance bureau or a budget unit published:
its title, header fields, fund block, indicator columns and total, with the labels spelled
as the source prints them (line breaks where the published table breaks them). What the
source does not show (an excerpt cut off, a template left blank) is filled in, and each
docstring says which figures are filler. Figures are internally consistent: execution
rate and scores follow SPEC section 2, the reported total adds up, unless the docstring
says the source itself does not.

    layout = LAYOUTS["sichuan_qingshen_2023"]
    path = layout.build(tmp_path / layout.filename)
    layout.expected[0].budget            # 251.89

The sources were found as search-result excerpts (text of the page or of an uploaded
document), not as the original .xls files: column order and merges are read from the
printed order of the cells.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from variants import Grid, write_book

from xlbatch.intake.read import a1

PERCENT = "0.00%"


# --- what a test asserts ------------------------------------------------------------------

@dataclass(frozen=True)
class Expected:
    """The facts a parser should read from one project form (None: the form does not state it)."""

    project: str
    unit: str
    department: str | None
    year: int | None
    budget: float | None  # 全年预算数 of the 年度资金总额 row (its role, whatever the label)
    executed: float | None  # 全年执行数
    rate: float | None  # executed / budget, rounded to 4 places
    total_reported: float | None  # 总分 / 合计 / 自评得分 as the form states it
    total_recomputed: float | None  # SPEC section 2, where it is determinable from the form
    indicators: int  # real indicators (placeholder rows 指标2：, …… not counted)
    goal_expected: str | None = None  # 年度总体目标: 预期目标 (项目年度目标, 年初设定目标) as printed
    goal_actual: str | None = None  # 实际完成情况 (年度目标完成情况, 年度总体目标完成情况综述) as printed
    sheet: str = "自评表"
    status: str = "accepted"  # what SPEC section 1 wants for this form
    rules: tuple[str, ...] = ()  # findings the SPEC clearly requires (not an exhaustive list)
    note: str = ""


@dataclass(frozen=True)
class Layout:
    build: Callable[[Path], Path]
    filename: str  # the name to build it under (one layout carries its year only here)
    province: str
    source: str  # URL as the search result gave it
    expected: tuple[Expected, ...]  # one per project form; empty for a workbook with none
    file_status: str = "accepted"
    file_rule: str = ""  # the rule a file with no project form gets (NO_FORM_FOUND)
    variants: tuple[str, ...] = ()  # SPEC "Provincial variants" the layout exercises


# --- laying a form out row by row -----------------------------------------------------------

class Sheet:
    """A grid written row by row: `line` places spans (value, width) left to right."""

    def __init__(self) -> None:
        self.grid = Grid()
        self.row = 0

    def line(self, *spans: Any, height: int = 1) -> int:
        """One row of spans; a span is a value (width 1) or (value, width). `None` values leave
        the cells empty (a vertical merge from above covers them). Returns the 0-based row."""
        col = 0
        for span in spans:
            value, width = span if isinstance(span, tuple) else (span, 1)
            if value is not None:
                self.put(self.row, col, value, width, height)
            col += width
        self.row += 1
        return self.row - 1

    def put(self, row: int, col: int, value: Any, width: int = 1, height: int = 1,
            num_format: str | None = None) -> None:
        first = a1(row, col)
        if width > 1 or height > 1:
            self.grid.put(f"{first}:{a1(row + height - 1, col + width - 1)}", value, num_format)
        else:
            self.grid.set(first, value, num_format)

    def down(self, col: int, first: int, last: int, value: Any) -> None:
        """`value` in column `col`, merged from row `first` to `last` (0-based, inclusive)."""
        self.put(first, col, value, 1, last - first + 1)

    def indicator_rows(self, blocks: list[tuple[str, list[tuple[str, list[tuple]]]]], level1_col: int = 0,
                       cols: tuple[int, ...] = (2, 3, 4, 5, 6, 7)) -> int:
        """Blocks of (一级 label, [(二级 label, [indicator cells…])]): 一级/二级 merged down.

        The indicator cells go to `cols` in order (三级, then the layout's own columns)."""
        count = 0
        for label1, categories in blocks:
            start1 = self.row
            for label2, rows in categories:
                start2 = self.row
                for cells in rows:
                    for col, value in zip(cols, cells, strict=False):
                        if value is not None:
                            self.put(self.row, col, value)
                    if _is_indicator(cells[0]):
                        count += 1
                    self.row += 1
                self.down(level1_col + 1, start2, self.row - 1, label2)
            self.down(level1_col, start1, self.row - 1, label1)
        return count


_PLACEHOLDER = re.compile(r"^(指标\s*\d+\s*[:：]?|[….]+)$")


def _is_indicator(name: Any) -> bool:
    """What the fixtures count: a named row, not 指标2： / …… placeholders."""
    text = str(name or "").strip()
    return bool(text) and not _PLACEHOLDER.match(text)


def _grouped(rows: list[tuple]) -> list[tuple[str, list[tuple[str, list[tuple]]]]]:
    """(一级, 二级, cells…) rows → indicator_rows' blocks, consecutive equal labels merged."""
    blocks: list[tuple[str, list[tuple[str, list[tuple]]]]] = []
    for label1, label2, *cells in rows:
        if not blocks or blocks[-1][0] != label1:
            blocks.append((label1, []))
        categories = blocks[-1][1]
        if not categories or categories[-1][0] != label2:
            categories.append((label2, []))
        categories[-1][1].append(tuple(cells))
    return blocks


def _rate(executed: float, budget: float) -> float:
    return round(executed / budget, 4)


# --- 安徽 ----------------------------------------------------------------------------------

ANHUI_SOURCE = "http://www.anthempetcare.com/upload_cz/download?id=502364&siteId=2"
ANHUI = dict(project="委托业务项目", department="219-池州市贵池区棠溪镇人民政府",
             unit="219001-池州市贵池区棠溪镇人民政府")
ANHUI_INDICATORS = [
    ("产出指标(50分)", [
        ("数量指标", [("基建工程委托业务项目数量", "≥50个", "50", 8, 8)]),
        ("质量指标", [("委托业务报告合格率", "≥100百分比", "100", 8, 8),
                  ("经费支出合规性", "严格执行相关制度规定", "达成预期指标", 8, 8)]),
        ("时效指标", [("提交报告及时性", "在项目计划完成时间内完成", "达成预期指标", 8, 8)]),
        ("成本指标", [("项目总成本", "≤90万元", "90", 8, 8),
                  ("单项业务成本", "符合相关规定", "达成预期指标", 10, 10)]),
    ]),
    ("效益指标(30分)", [
        ("社会效益指标", [("对维护基建市场公平的影响程度", "效果明显", "达成预期指标", 10, 10)]),
        ("生态效益指标", [("对控制基建项目成本影响程度", "效果明显", "达成预期指标", 10, 10)]),
        ("可持续影响指标", [("对推动基建项目“四项制度”健全和落实的持续性影响", "效果明显", "达成预期指标", 10, 10)]),
        ("经济效益指标", [("", None, None, None, None)]),
    ]),
    ("满意度指标(10分)", [
        ("满意度指标", [("公众满意度", "≥90%", "95%", 10, 10)]),
    ]),
]


def _anhui(path: Path, total_row: tuple, budget_score: float, total: float) -> Path:
    s = Sheet()
    s.line(("附件:", 9))
    s.line(("项目支出绩效自评表", 9))
    s.line(("(2022年度)", 9))
    s.line(("项目名称", 2), (ANHUI["project"], 7))
    s.line(("主管部门", 2), (ANHUI["department"], 3), "实施单位", (ANHUI["unit"], 3))
    top = s.line(None, None, "年初预算数", "全年预算数", "全年执行数", "分值", "执行率", "得分")
    s.line(None, "年度资金总额:", *total_row[:4], total_row[4], budget_score)
    s.grid.formats[top + 1, 6] = PERCENT
    s.line(None, "其中:本年财政拨款", 90, 89.974, 89.974)
    s.line(None, "上年结转资金")
    s.line(None, "其他资金")
    s.down(0, top, s.row - 1, "项目资金\n(万元)")
    goals = s.line(None, ("预期目标", 4), ("实际完成情况", 4))
    s.line(None, ("本项目共申请预算资金90万元。其中:30万元用于基建工程项目预算编制;30万元用于基建工程项目审计;"
                  "30万元用于基建工程项目设计、规划、测绘。", 4),
           ("本项目共完成预算资金89.97万元。其中:30万元用于基建工程项目预算编制;30万元用于基建工程项目审计;"
            "29.99万元用于基建工程项目设计、规划、测绘。", 4))
    s.down(0, goals, s.row - 1, "年度总体目标")
    head = s.line(None, "一级指标", "二级指标", "三级指标", "年度指标值", "实际完成值", "分值", "得分",
                  "偏差原因分析及改进措施")
    s.indicator_rows(ANHUI_INDICATORS, level1_col=1, cols=(3, 4, 5, 6, 7))
    s.down(0, head, s.row - 1, "绩效指标")
    s.line(("总分", 6), 100, total)
    return write_book(path, [("自评表", s.grid)])


def anhui_guichi_2022_published(path: Path) -> Path:
    """安徽 池州市贵池区棠溪镇人民政府, 项目支出绩效自评表 (2022年度), 委托业务项目, as published.

    Source: http://www.anthempetcare.com/upload_cz/download?id=502364&siteId=2 (a .docx of the
    bureau's upload area; text: "附件: 项目支出绩效自评表 (2022年度) 项目名称 委托业务项目 主管部门
    219-池州市贵池区棠溪镇人民政府 实施单位 219001-…"). Printed: the central layout with
    "年度资金总额:" (colon) printing 0 0 0 10 0 0 while "其中:本年财政拨款" (本年, not 当年) holds
    90 / 89.974 / 89.974; block labels 产出指标(50分), 效益指标(30分), 满意度指标(10分); every
    indicator row and score as printed. Filler: the 满意度 row (the excerpt ends at "公众满"):
    公众满意度 ≥90% / 95% / 10 / 10; the 总分 row (not in the excerpt): 100 / 90, the sum of the
    printed scores with the printed budget score 0.

    SPEC: 全年预算数 is 0 on the 年度资金总额 row → BUDGET_ZERO (rejected), however full the
    本年财政拨款 row is.
    """
    return _anhui(path, (0, 0, 0, 10, 0), 0, 90)


def anhui_guichi_2022(path: Path) -> Path:
    """The same 安徽 form (see anhui_guichi_2022_published) with its 年度资金总额 row filled.

    Filler: 年度资金总额 90 / 89.974 / 89.974, 分值 10, 执行率 100.00%, 得分 10 (what the
    本年财政拨款 row implies); 总分 100. Everything else as printed.
    Recomputed: r = 89.974 / 89.974 = 100% → 10; every indicator is met (≥50个 vs 50, ≥100 vs
    100, ≤90万元 vs 90, qualitative 达成预期指标) → 90; total 100.
    """
    return _anhui(path, (90, 89.974, 89.974, 10, 1.0), 10, 100)


# --- 河北 (the central 财预 layout as 廊坊 hands it out) ---------------------------------------

HEBEI_SOURCE = "http://www.lfsp.cn/newsinfo/1158053.html"


def hebei_langfang_2019(path: Path) -> Path:
    """河北 廊坊市食品工程学校, 办公宿舍楼、食堂及餐厅暖通改造经费 绩效自评表 (2019年度).

    Source: http://www.lfsp.cn/newsinfo/1158053.html ("办公宿舍楼、食堂及餐厅暖通改造经费 绩效自评表
    (修改)"). Printed: "附件1", title 项目支出绩效自评表, "2019年度)"; the central form's labels
    broken over two lines (年初\\n预算数, 全年\\n预算数, 全年\\n执行数, 年度\\n指标值, 实际\\n完成值,
    经济效益\\n指标 …); 年度资金总额 43.2 / 43.2 / 37.24 / 10 / 86% / 9; 其中:当年财政拨款
    43.2 / 43.2 / 37.24; goals printed as the bare amounts 43.2 and 37.24; indicator names
    prefixed with their number (指标1工程资金金额) followed by placeholder rows 指标2 / ……;
    效益指标 printed a second time for the 可持续影响 rows (the 一级 cell broken in two); no
    points in the 一级 labels. All figures as printed, including the deviation text and the
    "0" in some 偏差原因 cells. Filler: 总分 (the excerpt ends before it): 100 / 98, the sum
    of the printed scores (9 + 9 + 8 × 10).

    Recomputed: r = 37.24 / 43.2 = 86.20% → 8.62 (reported 86% and 9); 工程资金金额 37.24 of
    43.2 → 8.62 (reported 9); the other eight indicators met → 80; total 97.24.
    """
    s = Sheet()
    s.line(("附件1", 8))
    s.line(("项目支出绩效自评表", 8))
    s.line(("2019年度)", 8))
    s.line(("项目名称", 2), ("办公宿舍楼、食堂及餐厅暖通改造经费", 6))
    s.line(("主管部门", 2), ("廊坊市发改委", 2), "实施单位", ("廊坊市食品工程学校", 3))
    top = s.line(None, None, "年初\n预算数", "全年\n预算数", "全年\n执行数", "分值", "执行率", "得分")
    s.line(None, "年度资金总额", 43.2, 43.2, 37.24, 10, "86%", 9)
    s.line(None, "其中:当年财政拨款", 43.2, 43.2, 37.24)
    s.line(None, "      上年结转资金")
    s.line(None, "  其他资金")
    s.down(0, top, s.row - 1, "项目资金\n(万元)")
    goals = s.line(None, ("预期目标", 3), ("实际完成情况", 4))
    s.line(None, ("43.2", 3), ("37.24", 4))
    s.down(0, goals, s.row - 1, "年度总体目标")
    s.line("一级指标", "二级指标", "三级指标", "年度\n指标值", "实际\n完成值", "分值", "得分", "偏差原因分析及改进措施")
    ph = [("指标2",), ("……",)]
    count = s.indicator_rows([
        ("产出指标", [
            ("数量指标", [("指标1工程资金金额", "43.2", "37.24", 10, 9,
                       "已完工,剩余3%尾款未付,且最高限价低于预算金额。提高预算准确度。"), *ph]),
            ("质量指标", [("指标1工程完工率", "100", "100", 10, 10), ("指标2工程验收合格率", "100", "100", 10, 10),
                      ("……",)]),
            ("时效指标", [("指标1项目完成及时率", "100", "100", 10, 10), *ph]),
            ("成本指标", [("指标1成本控制率", "100", "100", 10, 10), *ph]),
        ]),
        ("效益指标", [
            ("经济效益\n指标", [("指标1安全率", "100", "100", 10, 10, "0"), *ph]),
            ("社会效益\n指标", [("指标1学校发展能力", "100", "100", 10, 10, "0"), *ph]),
            ("生态效益\n指标", [("指标1",), *ph]),
        ]),
        ("效益指标", [("可持续影响\n指标", [("指标1长期使用性", "100", "100", 10, 10), *ph])]),
        ("满意度\n指标", [("服务对象满意度指标", [("指标1学生满意度", "100", "100", 10, 10, "0"), *ph])]),
    ])
    assert count == 9
    s.line(("总分", 5), 100, 98)
    return write_book(path, [("自评表", s.grid)])


# --- 四川 -----------------------------------------------------------------------------------

SICHUAN_SOURCE = "https://www.scqs.gov.cn/info/13206/211004.htm"
SICHUAN_SECOND_SOURCE = "https://dyrmt.com/article-132779-22.html"


# What the published 四川 copy prints under 年度目标完成情况: the template's prompt, never filled in.
SICHUAN_GOAL_PROMPT = "对照年度目标,说明相关任务目标的完成情况(100字以内)"


def _sichuan_form(s: Sheet, project: str, department: str, unit: str, funds: dict[str, tuple],
                  score: float, goal: str, rows: list[tuple], total: float) -> int:
    """One 部门预算项目支出绩效自评表 (四川) from row `s.row` on; returns its indicator count."""
    s.line(("报表编号:510000_0013zp", 11))
    s.line(("部门预算项目支出绩效自评表(2023年度)", 11))
    s.line(("项目名称", 2), (project, 9))
    s.line(("主管部门", 2), (department, 9))
    s.line(("实施单位 (盖章)", 2), (unit, 9))
    basics = s.line(None, ("1.项目年度目标完成情况", 10))
    s.line(None, ("项目年度目标", 5), ("年度目标完成情况", 5))
    s.line(None, (goal, 5), (SICHUAN_GOAL_PROMPT, 5))
    s.line(None, ("2.项目实施内容及过程概述", 10))
    s.line(None, ("", 10))
    s.down(0, basics, s.row - 1, "项目基本情况")
    top = s.line(None, ("年度预算数(万元)", 2), "年初预算", "调整后预算数", "预算执行数", "预算执行率", "权重", "得分",
                 ("原因", 2))
    for i, (label, (initial, full, executed)) in enumerate(funds.items()):
        rate = executed / full if isinstance(full, int | float) and full else (0 if full == 0 else None)
        row = s.line(None, (label, 2), initial, full, executed, rate, 10 if i == 0 else "/",
                     score if i == 0 else "/")
        if rate is not None:
            s.grid.formats[row, 6] = PERCENT
    s.put(top + 1, 9, "1.预算执行率=预算执行数/调整后预算数,预算执行率未达到90%的需说明原因(100字以内);"
                      "2.年中发生预算调整的(追加或调减),应单独说明理由;3.其他资金包括:社会投入资金、银行贷款.",
          2, len(funds))
    s.down(0, top, s.row - 1, "预算执行情况(10分)")
    head = s.line(None, "一级指标", "二级指标", "三级指标", "指标性质", "指标值", "度量单位", "完成值", "权重", "得分",
                  "未完成原因分析")
    count = s.indicator_rows(_grouped(rows), level1_col=1,
                             cols=(3, 4, 5, 6, 7, 8, 9, 10))
    s.line(None, ("合计", 7), 100, total)
    s.down(0, head, s.row - 1, "绩效指标(90分)")
    s.line(("评价结论", 2), ("结合自评情况,说明项目自评总分,说明项目实施取得的成效或成果。(200字以内)", 9))
    s.line(("存在问题", 2), ("结合自评情况,分析存在的问题及原因。(200字以内)", 9))
    s.line(("改进措施", 2), ("针对项目自评中发现的问题,提出下一步改进完善的意见及有关政策性建议。(200字以内)", 9))
    s.line(("项目负责人:", 5), ("财务负责人:", 6))
    return count


QINGSHEN = dict(
    project="51000021R000000019951-工资性支出", department="青神县发展和改革局本级", unit="青神县发展和改革局",
    funds={"总额": (238.93, 251.89, 251.89), "其中:财政资金": (238.93, 251.89, 251.89),
           "财政专户管理资金": (0.0, 0.0, 0.0), "单位资金": (0.0, 0.0, 0.0), "其他资金": (None, None, None)},
    score=10,
    goal="严格执行相关政策,保障工资及时、足额发放或社保及时、足额缴纳,预算编制科学合理,减少结余资金。",
    rows=[("产出指标", "数量指标", "发放(缴纳)覆盖率", "=", "100", "%", "100", 60, 60),
          ("效益指标", "社会效益指标", "足额保障率(参保率)", "=", "100", "%", "100", 30, 30)],
    total=100,
)
# The second form of sichuan_qingshen_2023_stacked: indicators as dyrmt.com prints them.
SECOND = dict(
    project="51000023T000000012345-社保缴费补助", department="青神县发展和改革局本级", unit="青神县发展和改革局",
    funds={"总额": (120.5, 126.8, 120.46), "其中:财政资金": (120.5, 126.8, 120.46),
           "财政专户管理资金": (0.0, 0.0, 0.0), "单位资金": (0.0, 0.0, 0.0), "其他资金": (None, None, None)},
    score=9.5, goal="及时、足额缴纳社会保险费。",
    rows=[("产出指标", "数量指标", "足额保障率", "=", "100", "%", "100", 22.5, 22.5),
          ("产出指标", "数量指标", "科目调整次数", "≤", "10", "次", "6", 22.5, 22.5),
          ("产出指标", "时效指标", "按时发放率", "=", "100", "%", "100", 22.5, 22.5),
          ("效益指标", "经济效益指标", "结余率(计算方法为:结余数/预算数)", "≤", "5", "%", "5", 22.5, 22.5)],
    total=99.5,
)


def sichuan_qingshen_2023(path: Path) -> Path:
    """四川 青神县发展和改革局, 部门预算项目支出绩效自评表(2023年度), 工资性支出.

    Source: https://www.scqs.gov.cn/info/13206/211004.htm (the county's 决算 page). Printed:
    "报表编号:510000_0013zp"; header 项目名称 / 主管部门 / "实施单位 (盖章)"; 项目基本情况 with
    项目年度目标 / 年度目标完成情况; block "预算执行情况(10分)" headed 年度预算数(万元) | 年初预算 |
    调整后预算数 | 预算执行数 | 预算执行率 | 权重 | 得分 | 原因, rows 总额 238.93 / 251.89 /
    251.89 / 100.00% / 10, 其中:财政资金 (same), 财政专户管理资金 0.00, 单位资金 0.00, 其他资金
    (empty), "/" in 权重 and 得分 of the source rows; "绩效指标(90分)" headed 一级 | 二级 | 三级 |
    指标性质 | 指标值 | 度量单位 | 完成值 | 权重 | 得分 | 未完成原因分析; 发放(缴纳)覆盖率 = 100 %
    权重 60, 足额保障率(参保率) = 100 % 权重 30; 合计 100; 评价结论 / 存在问题 / 改进措施 and
    项目负责人 / 财务负责人. Filler (blank in the published copy): 完成值 100 and 100, 得分 60 and
    30, the budget 得分 10, 合计's 得分 100.

    Recomputed: r = 100% → 10; both indicators met → 90; total 100.
    """
    s = Sheet()
    _sichuan_form(s, **QINGSHEN)
    return write_book(path, [("自评表", s.grid)])


def sichuan_qingshen_2023_stacked(path: Path) -> Path:
    """Two 四川 forms one below the other on one sheet (the variant "several forms stacked").

    First: sichuan_qingshen_2023 exactly. Second, two blank rows below: the same template with
    the indicator rows of a second published 四川 form, https://dyrmt.com/article-132779-22.html
    (足额保障率=100% 22.5, 科目调整次数≤10次 22.5, 按时发放率=100% 22.5, 结余率(计算方法为:结余数
    /预算数)≤5% 22.5, 合计 100; its unit and amounts are not in the excerpt). Filler for the
    second: project 51000023T000000012345-社保缴费补助 of the same unit, funds 120.5 / 126.8 /
    120.46 (95.00%, 得分 9.5), actuals 100 / 6 / 100 / 5, 合计 99.5. The stacking itself is the
    fixture's arrangement (the source prints one form per table).

    Recomputed (second): r = 95% → 9.5; four indicators met → 90; total 99.5.
    """
    s = Sheet()
    _sichuan_form(s, **QINGSHEN)
    s.row += 2
    _sichuan_form(s, **SECOND)
    return write_book(path, [("自评表", s.grid)])


# --- 宁夏 银川 -----------------------------------------------------------------------------

YINCHUAN_SOURCE = "https://m.yzwku.com/doc/476505.html"
INSTRUCTIONS_SOURCE = "http://biz.doczj.com/doc/174893555.html"


YINCHUAN_GOALS = ("保障学校正常工作运行", "保障了学校正常工作运行,改善了办学条件。")  # 年初设定目标, 完成情况综述


def _yinchuan_grid() -> Grid:
    s = Sheet()
    s.line(("银川市本级部门项目支出绩效自评表(2021年)", 8))
    s.line("项目名称", ("初中公用经费", 3), "主管部门", ("银川市教育局", 3))
    s.line("实施单位", ("银川市第六中学", 3), "自评得分", 94, "财政审核评分", "")
    top = s.line(None, None, "年初预算数", "调整预算数(A)", "全年执行数(B)", ("执行率(B/A)", 3))
    s.line(None, None, 64.8, 64.8, 64.8, (1.0, 3))
    s.grid.formats[top + 1, 5] = PERCENT
    s.down(0, top, top + 1, "项目资金\n(万元)")
    s.down(1, top, top + 1, "年度资金总额")  # the row label spans the header and the value row
    goals = s.line(None, "年初设定目标", (YINCHUAN_GOALS[0], 6))
    s.line(None, "年度总体目标完成情况综述", (YINCHUAN_GOALS[1], 6))
    s.down(0, goals, s.row - 1, "年度总体\n目标")
    s.line("一级指标", "二级指标", "三级指标", "参考分值", "指标值(A)", "全年实际值(B)", "得分",
           "未完成原因分析及改进措施")
    ph = ("指标2:",)
    s.indicator_rows([
        ("项目决策(10分)", [
            ("项目目标", [("完整性", 4, "—", "目标明确、内容细化、目标量化", 4)]),
            ("项目立项", [("相关性", 2, "—", "按照学校管理标准对学校进行管理", 2),
                      ("可行性", 2, "—", "实际工作需求", 2), ("适当性", 2, "—", "有资金测算标准", 2)]),
        ]),
        ("项目管理(25分)", [
            ("投入管理", [("预算执行率", 10, "—", "100%", 9)]),
            ("财务管理", [("财务管理制度有效性", 7, "—", "财务制度健全,严格执行制度,会计核算规范", 7)]),
            ("项目实施", [("绩效监控有效性", 2, "—", "持续有效", 2),
                      ("管理制度有效性", 6, "—", "严格执行相关管理制度", 6)]),
        ]),
        ("项目产出(30分)", [
            ("数量指标(10分)", [("保障人数", 10, "2370人", "2370人", 10), ph]),
            ("质量指标(5分)", [("公用经费标准", 5, "符合相关文件要求", "符合相关文件要求", 5), ph]),
            ("时效指标(5分)", [("公用经费完成时间", 5, "2021年12月完成", "2021年12月完成", 4), ph]),
            ("成本指标(10分)", [("办公所需成本", 4, "15万元", "15万元", 4),
                            ("维修(维护)所需成本", 3, "35万元", "35万元", 3),
                            ("绿化、水电费等成本", 3, "14.8万元", "14.8万元", 3)]),
        ]),
        ("项目效益(35分)", [
            ("经济效益指标", [("指标1:",), ph]),
            ("社会效益指标", [("效果显著", 15, "改善学校的办学条件", "改善学校的办学条件", 13), ph]),
            ("生态效益指标", [("指标1:",), ph]),
            ("可持续影响指标", [("使学生和老师有个更好的学习和工作环境,做到", 10, "社会认可的办学环境",
                          "社会认可的办学环境", 8), ph]),
            ("服务对象满意度指标(10分)", [("学生和老师满意度", 10, "≥90%", "95%", 10)]),
        ]),
    ])
    return s.grid


def ningxia_yinchuan_2021(path: Path) -> Path:
    """宁夏 银川市第六中学, 银川市本级部门项目支出绩效自评表(2021年), 初中公用经费.

    Source: https://m.yzwku.com/doc/476505.html ("银川市本级部门项目支出绩效自评表.docx", OCR'd
    text). Printed: header 项目名称 / 主管部门 银川市教育局 / 实施单位 银川市第六中学 / 自评得分 98 /
    财政审核评分 (the only total: no 总分 row); 项目资金(万元) with 年度资金总额 as a row label
    beside the column headings 年初预算数 | 调整预算数(A) | 全年执行数(B) | 执行率(B/A) and the
    values 64.8 / 64.8 / 64.8 / 100% below them (the label spans both rows); no 分值/得分 in the
    fund block: 预算执行率 is an indicator (参考分值 10, actual 100%, 得分 9) under 项目管理(25分)
    / 投入管理; goals 年初设定目标 / 年度总体目标完成情况综述; indicator columns 一级 | 二级 | 三级 |
    参考分值 | 指标值(A) | 全年实际值(B) | 得分 | 未完成原因分析及改进措施; blocks 项目决策(10分),
    项目管理(25分), 项目产出(30分) with 二级 labels carrying points (数量指标(10分) …), 项目效益
    (35分); placeholder rows 指标1: / 指标2:. Every indicator figure as printed (OCR; the 二级
    grouping of 可行性/适当性 under 项目立项 is a reading of it). Filler: the 服务对象满意度 row (cut
    off at "学生和老"): 学生和老师满意度 10 / ≥90% / 95% / 10; the 完成情况综述 text; 自评得分 94
    instead of the printed 98, because the printed item scores add up to at most 94.

    Recomputed: r = 100% → the 预算执行率 indicator 10 (reported 9); other indicators as
    reported (met, or qualitative with the reported score inside its tier) → 85; total 95.
    """
    return write_book(path, [("自评表", _yinchuan_grid())])


INSTRUCTIONS = [
    ["项目支出绩效自评表填报说明"],
    ["1.定量指标若为正向指标(即指标值为≥*),则得分计算方法应用全年实际值(B)/年度指标值(A)*该指标分值;"
     "若定量指标为反向指标(即指标值≤*),则得分计算方法应用年度指标值(A)/全年实际值(B)*该指标分值。"],
    ["2.请在“未完成原因分析”中说明偏离目标、不能完成的原因及拟采取的措施。"],
    ["3.对于不适用部分评价对象的评价指标,不考核该指标,用适用指标得分汇总后按百分制对该项目折算计分。"],
    ["4.经济效益:项目完成后所具有或预期所具有的经济效益状况。"],
    ["5.项目预算执行率:对照项目申报材料和财务报销资料等判定项目预算完成率。项目预算执行率=实际报销的项目资金/项目预算。"],
    ["6.服务对象满意度:问卷调查项目承担人,获知其对项目申报、评审和管理等方面的满意程度。"],
    ["指标说明:"],
    ["1、年初设定目标:所有计划任务书中设定本年度应完成的各类指标总和。"],
    ["2、年度总体目标完成情况综述:包含所有项目实际完成的各类指标之和。"],
    ["3、项目资金管理:主管部门和项目承担单位是否针对项目资金制定有相应的管理办法。"],
    ["4、资金到位及时:项目财政资金是否及时合规拨付到项目承担单位。"],
]


def ningxia_yinchuan_2021_with_instructions(path: Path) -> Path:
    """A 填报说明 sheet before the 银川 form (ningxia_yinchuan_2021), as a unit returns the template.

    Source of the 填报说明: http://biz.doczj.com/doc/174893555.html ("项目支出绩效自评表", its notes:
    定量指标 正向/反向 scoring, 未完成原因分析, 不适用 indicators rescaled, 项目预算执行率 = 实际报销的
    项目资金/项目预算, 指标说明 1、年初设定目标 2、年度总体目标完成情况综述 …); the province is not in
    the excerpt, its wording is the 银川 form's (年初设定目标, 全年实际值(B), 未完成原因分析). The
    notes are reworded lightly from the OCR'd excerpt (typos fixed) and numbered by the fixture.
    The sheet names labels (年度指标值, 全年实际值, 项目预算执行率) without being a form.
    """
    return write_book(path, [("填报说明", INSTRUCTIONS), ("自评表", _yinchuan_grid())])


# --- 湖北 ------------------------------------------------------------------------------------

HUBEI_SOURCE = "https://m.777doc.com/doc-4336759.html"
CHANGJIANG_SOURCE = "https://1wenmi.com/doc/330418.html"


def _hubei_header(s: Sheet, project: str, department: str, unit: str, scope: str) -> None:
    s.line(("项目名称", 2), (project, 5))
    s.line(("主管部门", 2), (department, 5))
    s.line(("项目实施单位", 2), (unit, 5))
    s.line(("项目类别", 2), (f"1、部门预算项目☑  2、{scope}直专项□  3、{scope}对下转移支付项目□", 5))
    s.line(("项目属性", 2), ("1、持续性项目□  2、新增性项目☑", 5))
    s.line(("项目类型", 2), ("1、常年性项目☑  2、延续性项目□  3、一次性项目□", 5))


HBEU_BUDGET, HBEU_EXECUTED = 1670.8, 1630.54  # 23×0.8 + 612×0.5 + (4080 | 3958)×0.33 万元
HBEU_BUDGET_SCORE = round(10 * HBEU_EXECUTED / HBEU_BUDGET, 2)  # 9.76
HBEU_AID_SCORE = round(7 * 3958 / 4080, 2)  # 6.79
HBEU_TOTAL = round(HBEU_BUDGET_SCORE + 6 * 7 + HBEU_AID_SCORE + 15 + 15 + 6 + 5, 2)  # 99.55 reported
HBEU_RECOMPUTED = round(10 * HBEU_EXECUTED / HBEU_BUDGET + 6 * 7 + 7 * 3958 / 4080 + 15 + 15 + 6 + 5, 2)


def hubei_hbeu_student_aid(path: Path) -> Path:
    """湖北 湖北工程学院, 学生资助项目绩效目标自评表 (湖北省教育厅), the year only in the file name.

    Source: https://m.777doc.com/doc-4336759.html ("…年学生资助项目绩效目标自评表 填报日期: 总分: 分
    项目名称 湖北工程学院 年学生资助项目 主管部门 湖北省教育厅 项目实施单位 湖北工程学院 项目类别 1、部门
    预算项目☑、省直专项□、省对下转移支付项目□ …"). Printed: the title with its year left out
    ("  年学生资助项目绩效目标自评表"), 填报日期 and "总分:  分" under the title (the total in the
    header); 项目实施单位; 项目类别/属性/类型 checkboxes; "预算执行情况(万元)(  分)" with 预算数() |
    执行数() | 执行率() | 得分(  分*执行率) and one row 年度财政资金总额; indicator columns 一级 | 二级 |
    三级 | 年初目标值() | 实际完成值() | 得分 — no 分值 column: points only in the block labels
    "(  分)"; 一级 产出指标 (数量: 国家奖学金人数, 国家励志奖学金人数, 国家助学金人数, 应征入伍人数; 成本指标:
    three 人均资助), 效益指标 (社会效益指标: 资金发放率, 困难生完成学业率), 服务对象满意度指标, 过程指标
    (评审程序是否公正 是 / 是); the remark "因全校总人数减少,总指标数减少,但奖励、资助比例没减少".
    Filler: the year 2019 (file name only); the points (budget 10, 产出 49 = 7 each, 效益 30 = 15
    each, 满意度 6, 过程 5); every amount and value (national standards 0.8 / 0.5 / 0.33 万元 per
    student; 4080 planned and 3958 aided students; budget 1670.8, executed 1630.54 万元 → 97.59%,
    得分 9.76); the satisfaction row 受助学生满意度 ≥90% / 96%; 国家助学金人数 scored 6.79; the
    remark placed in a 偏差原因 row below the total, as the 长江禁捕 form of the same template has.

    Recomputed: 9.76 + 6 × 7 + 6.79 + 30 + 6 + 5 = 99.55 (the reported total).
    """
    s = Sheet()
    s.line(("  年学生资助项目绩效目标自评表", 7))
    s.line(("填报日期:", 4), ("总分:", 2), HBEU_TOTAL)
    _hubei_header(s, "湖北工程学院学生资助项目", "湖北省教育厅", "湖北工程学院", "省")
    top = s.line(("预算执行情况(万元)(10分)", 3), "预算数(A)", "执行数(B)", "执行率(B/A)", "得分(10分*执行率)")
    s.line(None, None, None, HBEU_BUDGET, HBEU_EXECUTED, round(HBEU_EXECUTED / HBEU_BUDGET, 4), HBEU_BUDGET_SCORE)
    s.grid.formats[top + 1, 5] = PERCENT
    s.put(top + 1, 0, "年度财政资金总额", 3)
    head = s.line(None, "一级指标", "二级指标", "三级指标", "年初目标值(A)", "实际完成值(B)", "得分")
    rows = [
        ("产出指标(49分)", "数量指标", [("国家奖学金人数", "23人", "23人", 7),
                                  ("国家励志奖学金人数", "612人", "612人", 7),
                                  ("国家助学金人数", "4080人", "3958人", HBEU_AID_SCORE),
                                  ("应征入伍人数", "35人", "35人", 7)]),
        ("产出指标(49分)", "成本指标", [("国家奖学金人均资助", "0.8万元", "0.8万元", 7),
                                  ("国家励志奖学金人均资助", "0.5万元", "0.5万元", 7),
                                  ("国家助学金人均资助", "0.33万元", "0.33万元", 7)]),
        ("效益指标(30分)", "社会效益指标", [("资金发放率", "100%", "100%", 15),
                                    ("困难生完成学业率", "≥95%", "98%", 15)]),
        ("服务对象满意度指标(6分)", "服务对象满意度指标", [("受助学生满意度", "≥90%", "96%", 6)]),
        ("过程指标(5分)", "过程指标", [("评审程序是否公正", "是", "是", 5)]),
    ]
    first = s.row
    for label1 in dict.fromkeys(r[0] for r in rows):
        start1 = s.row
        for _, label2, inds in (r for r in rows if r[0] == label1):
            start2 = s.row
            for name, target, actual, score in inds:
                s.line(None, None, None, name, target, actual, score)
            s.down(2, start2, s.row - 1, label2)
        s.down(1, start1, s.row - 1, label1)
    s.down(0, head, s.row - 1, "年度绩效目标(90分)")
    assert s.row - first == 11
    s.line(("总分", 6), HBEU_TOTAL)
    s.line(("偏差大或目标未完成原因分析", 2), ("因全校总人数减少,总指标数减少,但奖励、资助比例没减少", 5))
    s.line(("改进措施及结果应用方案", 2), ("无", 5))
    return write_book(path, [("自评表", s.grid)])


def hubei_changjiang_2020(path: Path) -> Path:
    """湖北-template city form: 2020年度长江禁捕项目自评表, 渔业成品油价格改革补贴, 20-point budget.

    Source: https://1wenmi.com/doc/330418.html ("2020年度长江禁捕项目自评表单位名称农业工作科填报日期
    .docx"). The excerpt names no province; its template is the 湖北 one of hubei_hbeu_student_aid
    with 市直专项 / 市对下转移支付项目 for 省直 / 省对下. Printed: title "2020年度长江禁捕项目自评表";
    "单位名称:农业工作科" and "填报日期:" in one cell each (label and value together); 项目名称
    渔业成品油价格改革补贴 / 主管部门 区市场监督管理局 / 项目实施单位 农业科; "预算执行情况(万元)(20分)"
    with 预算数(A) | 执行数(B) | 执行率(B/A) | 得分(20分*执行率), 年度财政资金总额 1.56 / 1.56 / 1 / 20;
    "年度绩效目标(80分)"; 年初目标值(A) | 实际完成值(B) | 得分 (no 分值 column); 补贴渔船数 6 / 6 / 20,
    渔船补贴发放率 100% / 100% / 10, a 时效 row "12月底之前完成" 10, a 效益 row 100% 10, 服务对象满意度
    退捕渔民抽样调查满意度 ≥90%; 总分 100; 偏差大或目标未完成原因分析 无; 改进措施及结果应用方案 无; the
    备注 on 预算数 (调整后财政资金总额) and on scoring. Filler: the garbled names of the 时效 and 效益
    rows (补贴发放时间, 补贴资金到位率) and the satisfaction actual and score (90%, 30; the OCR
    reads "290%40", and 30 is what makes the scores add up to the printed 总分 100).

    Recomputed total: by the SPEC's rule the block's 80 points are shared equally, 16 to each of
    the five indicators, all fully met: 20 + 5 × 16 = 100. The form gives two rows more than 16
    (20, 30) and three less (10): those scores disagree with the shared weights.
    """
    s = Sheet()
    s.line(("2020年度长江禁捕项目自评表", 7))
    s.line(("单位名称:农业工作科", 4), ("填报日期:", 3))
    _hubei_header(s, "渔业成品油价格改革补贴", "区市场监督管理局", "农业科", "市")
    top = s.line(("预算执行情况(万元)(20分)", 3), "预算数(A)", "执行数(B)", "执行率(B/A)", "得分(20分*执行率)")
    s.line(("年度财政资金总额", 3), 1.56, 1.56, 1, 20)
    s.grid.formats[top + 1, 5] = PERCENT
    head = s.line(None, "一级指标", "二级指标", "三级指标", "年初目标值(A)", "实际完成值(B)", "得分")
    for label1, label2, name, target, actual, score in [
        ("产出指标", "数量指标", "补贴渔船数", "6", "6", 20),
        ("产出指标", "质量指标", "渔船补贴发放率", "100%", "100%", 10),
        ("产出指标", "时效指标", "补贴发放时间", "12月底之前完成", "12月底之前完成", 10),
        ("效益指标", "社会效益指标", "补贴资金到位率", "100%", "100%", 10),
        ("满意度指标", "服务对象满意度", "退捕渔民抽样调查满意度", "≥90%", "90%", 30),
    ]:
        s.line(None, label1, label2, name, target, actual, score)
    s.down(0, head, s.row - 1, "年度绩效目标(80分)")
    s.line(("总分", 6), 100)
    s.line(("偏差大或目标未完成原因分析", 2), ("无", 5))
    s.line(("改进措施及结果应用方案", 2), ("无", 5))
    s.line(("备注:1.预算执行情况口径:预算数为调整后财政资金总额(包括上年结余结转),执行数为资金使用单位财政资金实际支出数。"
            "2.定量指标计分原则:正向指标(即目标值为≥X,得分=权重*B/A),反向指标(即目标值为≤X,得分=权重*A/B),"
            "得分不得突破权重总额。", 7))
    return write_book(path, [("自评表", s.grid)])


# --- 湖南: a department-wide form, not a project form ---------------------------------------

YUEYANG_SOURCE = "http://www.yueyang.gov.cn/cgj/9886/9901/content_1560779.html"
SCORE_TABLE_SOURCE = "https://wanglu.net/thread/t12-491155-4.html"


def hunan_yueyang_department_2018(path: Path) -> Path:
    """湖南 岳阳市城市管理监督指挥中心, 部门整体支出绩效自评表 (2018年度): no project at all.

    Sources: http://www.yueyang.gov.cn/cgj/9886/9901/content_1560779.html ("岳阳市城市管理监督指挥中心
    2018绩效评价自评报告及评分表(整体支出和数字城管信息采集服务费专项支出)"): 部门(单位)名称, 预算编码
    906017, 评价方式 部门(单位)绩效自评, 联系人 / 联络电话 / 人员编制 21 / 实有人数 21, 职能职责概述,
    年度主要工作内容 — all as printed (texts shortened); and the 部门整体支出绩效评价得分表 of
    https://wanglu.net/thread/t12-491155-4.html (一级 部门决策(25分) / 二级 目标任务(15分) 相关性(5分)
    明确性(5分) 合理性(5分), 预算编制(10分) 测算依据(5分) 目标管理(5分); 综合管理(30分) …) for the
    scoring rows, with its printed scores 5 5 5 2 4. The title wording 部门整体支出绩效自评表 is the
    table name 沧源 (云南) lists in its 决算公开 (https://cangyuan.gov.cn/zfxxgk_cyx_czj/artview/959/
    335904.html). Filler: the 综合管理 rows past the excerpt and the 自评得分.

    SPEC: alone in a workbook → NO_FORM_FOUND, the message naming 部门整体支出绩效自评表.
    """
    s = Sheet()
    s.line(("部门整体支出绩效自评表", 6))
    s.line(("(2018年度)", 6))
    s.line(("部门(单位)名称", 2), ("岳阳市城市管理监督指挥中心", 4))
    s.line(("预算编码", 2), ("906017", 4))
    s.line(("评价方式", 2), ("部门(单位)绩效自评", 4))
    s.line("联系人", "吴俊", "联络电话", "8690022", "人员编制", 21)
    s.line("实有人数", 21, ("自评得分", 2), (91, 2))
    s.line(("职能职责概述", 2), ("负责全市数字化城市管理监督、指挥、调度和协调工作。", 4))
    s.line(("年度主要工作内容", 2), ("1.完成数字化城市管理监督、指挥、调度和协调工作。"
                                   "2.做好全市数字化城市管理系统市级平台的日常维护和管理。", 4))
    s.line(("一级指标", 2), ("二级指标", 2), "三级指标", "得分")
    rows = [("部门决策(25分)", "目标任务(15分)", "相关性(5分)", 5), (None, None, "明确性(5分)", 5),
            (None, None, "合理性(5分)", 5), (None, "预算编制(10分)", "测算依据(5分)", 2),
            (None, None, "目标管理(5分)", 4), ("综合管理(30分)", "资金管理(15分)", "专项资金分配时限(2分)", 2),
            (None, None, "预算执行率(13分)", 12), (None, "资产管理(15分)", "资产管理规范性(15分)", 14),
            ("部门绩效(45分)", "职责履行(45分)", "重点工作完成率(45分)", 42)]
    for label1, label2, name, score in rows:
        s.line((label1, 2), (label2, 2), name, score)
    s.line(("总分", 5), 91)
    return write_book(path, [("部门整体支出绩效自评表", s.grid)])


# --- 上海 普陀 (the central layout in 元, 财政项目支出绩效自评表) ---------------------------------

PUTUO_SOURCE = "https://pdf.chddh.cn/archives/48n5zg2zkkjxn27q6rjv.html"
PUTUO = dict(department="上海市普陀区体育局", unit="上海市普陀区体育事业管理中心")
PUTUO_SETTLEMENT = "普陀体育中心与委托运营方结算费用"
PUTUO_AID = "援滇对口支援及结对帮扶经费"
# Amounts as printed, in 元: 215,457.6 of 250,000.00 (86.19% printed; 86.18% recomputed), 9,034 of 20,000.00.
PUTUO_EXECUTED, PUTUO_BUDGET = 215457.6, 250000.0
AID_EXECUTED, AID_BUDGET = 9034.0, 20000.0
AID_RATE = AID_EXECUTED / AID_BUDGET  # 45.17%
AID_TOTAL = round(10 * AID_RATE, 2) * 2 + round(20 * AID_RATE, 2) + 20 + round(30 * AID_RATE, 2) + 10
YUAN = "#,##0.00"


def _putuo_form(s: Sheet, project: str, funds: tuple, current: tuple, goals: tuple, rows: list[tuple],
                total: float) -> int:
    """One 财政项目支出绩效自评表 (上海 普陀) from row `s.row` on; returns its indicator count."""
    s.line(("财政项目支出绩效自评表", 9))
    s.line(("(2022 年度)", 9))
    s.line(("项目名称", 2), (project, 7))
    s.line(("主管部门", 2), (PUTUO["department"], 3), "实施单位", (PUTUO["unit"], 3))
    top = s.line(None, None, "年初预算数", "全年预算数", "全年执行数", "分值", "执行率", "得分")
    initial, full, executed, rate, score = funds
    row = s.line(None, "年度资金总额", initial, full, executed, 10, rate, score)
    for col in (2, 3, 4):
        s.grid.formats[row, col] = YUAN
    s.grid.formats[row, 6] = PERCENT
    s.line(None, "其中:当年财政拨款", *current, ("—", 3))
    s.line(None, "上年结转资金", None, 0, 0, ("—", 3))
    s.line(None, "其他资金", None, 0, 0, ("—", 3))
    s.down(0, top, s.row - 1, "项目资金\n(元)")
    head = s.line(None, ("预期目标", 4), ("实际完成情况", 4))
    s.line(None, (goals[0], 4), (goals[1], 4))
    s.down(0, head, s.row - 1, "年度\n总体\n目标")
    head = s.line(None, "一级指标", "二级指标", "三级指标", "年度\n指标值", "实际\n完成值", "分值", "得分",
                  "偏差原因分析及\n改进措施")
    count = s.indicator_rows(_grouped(rows), level1_col=1, cols=(3, 4, 5, 6, 7, 8))
    s.down(0, head, s.row - 1, "绩\n效\n指\n标")
    s.line(("总分", 6), 100, total)
    return count


def shanghai_putuo_2022(path: Path) -> Path:
    """上海 普陀区体育事业管理中心, 财政项目支出绩效自评表 (2022 年度): two projects, amounts in 元.

    Source: https://pdf.chddh.cn/archives/48n5zg2zkkjxn27q6rjv.html ("上海市普陀区体育事业管理中心
    2022年度项目自评价.pdf", the PDF's text): one form per page. Printed: title 财政项目支出绩效自评表
    (not 项目支出绩效自评表), "(2022 年度)"; 项目名称 / 主管部门 上海市普陀区体育局 / 实施单位
    上海市普陀区体育事业管理中心; the central fund block headed "项目资金 (元)" — amounts in 元, not
    万元; columns 年初预算数 | 全年预算数 | 全年执行数 | 分值 | 执行率 | 得分; labels broken as
    年度\\n指标值, 实际\\n完成值, 偏差原因分析及\\n改进措施, 年度\\n总体\\n目标, 绩\\n效\\n指\\n标; "—"
    in the 分值/执行率/得分 cells of the source rows; targets with ASCII operators (=100%, >=90%).
    First form, 普陀体育中心与委托运营方结算费用, as printed: 年度资金总额 250000.00 / 250000.00 /
    215,457.6 / 10 / 86.19% / 8.62; 其中:当年财政拨款 250000.00 / 250000.00 / 215457.6; 上年结转资金
    and 其他资金 0 / 0; 实际完成情况 已完成普陀体育中心与委托运营方费用结算。; 与委托运营方结算完成率
    =100% / 100% / 10 / 10, 合同结算条款完成率 =100% / 100% / 20 / 20, 费用结算及时性 及时 / 及时 /
    20 / 20, 与委托运营方合同完成率 =100% / 100% / 30 / 30, 场馆开放满意度 >=90% / 100% / 10 / 10;
    总分 100 / 98.62. Second form, 援滇对口支援及结对帮扶经费, as printed: 20000.00 / 20000.00 / 9,034 /
    10 / 45.17% / 4.52; 其中:当年财政拨款, 上年结转资金, 其他资金 each 0 / 0; 实际完成情况
    已完成援滇人员相关经费支付。; indicator names 经费使用率 (数量), 经费完成情况 (质量), 经费完成进度
    (时效), 经费使用完成情况 (社会效益), 满意度 (服务对象满意度). Filler: both 预期目标 texts; the
    second form's indicator values (the excerpt ends at its 年度指标值 heading): weights 10 / 20 /
    20 / 30 / 10 as on the first form, 经费使用率/经费完成情况/经费使用完成情况 =100% against 45.17%
    (scored pro rata), 经费完成进度 及时 / 及时, 满意度 >=90% / 95%; its 总分 the sum, 61.62. Where the
    PDF prints two 0s in a row of three amount columns, they are read as 全年预算数 and 全年执行数.
    One sheet per form (the PDF's pages).

    Recomputed: first form r = 215457.6 / 250000 = 86.18% → 8.62 (printed 86.19%, within 0.1
    point), indicators 90 → 98.62; second r = 45.17% → 4.52, total 61.62. The amounts are in 元
    as the label says: above 10,000 each, they are AMOUNT_SCALE_SUSPECT (SPEC section 3), which
    keeps them out of the county totals; the second form's source rows (0) do not add up to its
    total (20000): FUNDS_DONT_ADD_UP, as printed.
    """
    first = Sheet()
    _putuo_form(first, PUTUO_SETTLEMENT, (PUTUO_BUDGET, PUTUO_BUDGET, PUTUO_EXECUTED, 0.8619, 8.62),
                (PUTUO_BUDGET, PUTUO_BUDGET, PUTUO_EXECUTED),
                ("按合同约定完成普陀体育中心与委托运营方的费用结算。", "已完成普陀体育中心与委托运营方费用结算。"), [
                    ("产出指标", "数量指标", "与委托运营方结算完成率", "=100%", "100%", 10, 10),
                    ("产出指标", "质量指标", "合同结算条款完成率", "=100%", "100%", 20, 20),
                    ("产出指标", "时效指标", "费用结算及时性", "及时", "及时", 20, 20),
                    ("效益指标", "社会效益指标", "与委托运营方合同完成率", "=100%", "100%", 30, 30),
                    ("满意度指标", "服务对象满意度指标", "场馆开放满意度", ">=90%", "100%", 10, 10),
                ], 98.62)
    second = Sheet()
    rate = f"{AID_RATE:.2%}"
    _putuo_form(second, PUTUO_AID, (AID_BUDGET, AID_BUDGET, AID_EXECUTED, round(AID_RATE, 4), 4.52),
                (None, 0, 0),
                ("完成援滇人员相关经费支付。", "已完成援滇人员相关经费支付。"), [
                    ("产出指标", "数量指标", "经费使用率", "=100%", rate, 10, round(10 * AID_RATE, 2)),
                    ("产出指标", "质量指标", "经费完成情况", "=100%", rate, 20, round(20 * AID_RATE, 2)),
                    ("产出指标", "时效指标", "经费完成进度", "及时", "及时", 20, 20),
                    ("效益指标", "社会效益指标", "经费使用完成情况", "=100%", rate, 30, round(30 * AID_RATE, 2)),
                    ("满意度指标", "服务对象满意度指标", "满意度", ">=90%", "95%", 10, 10),
                ], round(AID_TOTAL, 2))
    return write_book(path, [("自评表1", first.grid), ("自评表2", second.grid)])


# --- 四川 大英 (the 四川 template with its header and basics on shared rows) ---------------------

DAYING_SOURCE = "https://dyxrmt.cn/article-157795-21.html"
DAYING = dict(department="大英县司法局部门", unit="大英县司法局")
# The form above the 安可 form on the same page: its tail is printed, its head is not (filler).
DAYING_FIRST = dict(
    project="51092323T000010250000-2023年社区矫正监管设施建设项目", amount=30.0,
    goal=("按规定完成社区矫正监管设施建设并支付工程款。", "完成"),
    course="2023年完成社区矫正监管设施建设,按合同支付工程款。",
    rows=[("产出指标", "经济成本指标", "成本控制数", "≤", "30", "万元", "完成", 90, 90)],
    verdict="根据财政局资金下达的管理办法,将资金支付给项目施工方。", signers=("查小兵", "唐勇"))
DAYING_ANKE = dict(
    project="51092324T000010263357-2023年全县安可替代补助资金项目", amount=3.36,
    goal=("根据要求购买安可设备,并完成项目资金支付。", "完成"),
    course="2023年购买13台安可电脑,并于12月前完成资金支付。",
    rows=[("产出指标", "质量指标", "完成安可产品购买并按要求支付资金", "=", "100", "%", "100", 90, 90)],
    verdict="按要求购买安可设备并完成资金支付。", signers=("", ""))


def sichuan_daying_2023(path: Path) -> Path:
    """四川 大英县司法局, 部门预算项目支出绩效自评表(2023年度): two forms one below the other.

    Source: https://dyxrmt.cn/article-157795-21.html (the county media site's copy of the unit's
    决算 tables, cells printed "|"-separated). The 四川 template of sichuan_qingshen_2023 in another
    arrangement: no 报表编号 line; 主管部门 | 大英县司法局部门 | 实施单位 | 大英县司法局 on one row (青神
    stacks them); 项目基本情况 with "1.项目年度目标完成情况" on the row of its 项目年度目标 | 年度目标完成情况
    headings and "2.项目实施内容及过程概述" beside its text; the unit's forms follow one another.
    Printed, first form (its tail only): 产出指标 | 经济成本指标 | 成本控制数 | ≤ | 30 | 万元 | 完成 | 90 |
    90 — a word as the 完成值 of a quantitative target; 合计 100; 评价结论 根据财政局资金下达的管理
    办法,将资金支付给项目施工方。; 存在问题 无; 改进措施 无; 项目负责人:查小兵 | 财务负责人:唐勇.
    Second form, as printed: 51092324T000010263357-2023年全县安可替代补助资金项目; 项目年度目标 根据要求
    购买安可设备,并完成项目资金支付。 / 完成; 2023年购买13台安可电脑,并于12月前完成资金支付。;
    "预算执行情况(10分)" | 年度预算数(万元) | 年初预算 | 调整后预算数 | 预算执行数 | 预算执行率 | 权重 |
    得分 | 原因; 总额 0.00 / 3.36 / 3.36 / 100.00% / 10 / 10 (a project added during the year:
    年初预算 0.00) and the printed note; 其中:财政资金 0.00 / 3.36 / 3.36 / 100.00% / "/" / "/";
    财政专户管理资金 and 单位资金 0.00 / 0.00 / 0.00 / 0.00%; 其他资金 empty; "绩效指标(90分)" headed as
    in 青神; 产出指标 | 质量指标 | 完成安可产品购买并按要求支付资金 | = | 100.
    Filler: the first form's head (project 51092323T000010250000-2023年社区矫正监管设施建设项目, goal
    and course texts, funds 总额 0.00 / 30.00 / 30.00 like the second's, its 得分 10, 合计's 得分 100);
    the second form past the excerpt's end: 度量单位 %, 完成值 100, 权重 90, 得分 90 (one indicator
    weighted 90, as the first form prints), 合计 100 / 100, 评价结论 text, 存在问题 / 改进措施 无,
    empty signatures.

    Recomputed: both r = 100% → 10. First: 完成 cannot be compared with ≤30万元
    (INCOMPARABLE_VALUES), its reported 90 kept → 100. Second: the indicator met → 90; total 100.
    """
    s = Sheet()
    _daying_form(s, **DAYING_FIRST)
    _daying_form(s, **DAYING_ANKE)
    return write_book(path, [("自评表", s.grid)])


def _daying_form(s: Sheet, project: str, amount: float, goal: tuple[str, str], course: str,
                 rows: list[tuple], verdict: str, signers: tuple[str, str]) -> None:
    """One 大英 form (sichuan_daying_2023) from row `s.row` on."""
    s.line(("部门预算项目支出绩效自评表(2023年度)", 11))
    s.line(("项目名称", 2), (project, 9))
    s.line(("主管部门", 2), (DAYING["department"], 4), ("实施单位", 2), (DAYING["unit"], 3))
    basics = s.line(None, None, ("项目年度目标", 5), ("年度目标完成情况", 4))
    s.line(None, None, (goal[0], 5), (goal[1], 4))
    s.down(1, basics, basics + 1, "1.项目年度目标完成情况")
    s.line(None, "2.项目实施内容及过程概述", (course, 9))
    s.down(0, basics, s.row - 1, "项目基本情况")
    top = s.line(None, ("年度预算数(万元)", 2), "年初预算", "调整后预算数", "预算执行数", "预算执行率", "权重", "得分",
                 ("原因", 2))
    funds = [("总额", 0.0, amount, amount, 1.0, 10, 10), ("其中:财政资金", 0.0, amount, amount, 1.0, "/", "/"),
             ("财政专户管理资金", 0.0, 0.0, 0.0, 0.0, "/", "/"), ("单位资金", 0.0, 0.0, 0.0, 0.0, "/", "/"),
             ("其他资金", None, None, None, None, "/", "/")]
    for label, *cells in funds:
        row = s.line(None, (label, 2), *cells)
        for col in (3, 4, 5):
            s.grid.formats[row, col] = "0.00"
        s.grid.formats[row, 6] = PERCENT
    s.put(top + 1, 9, "1.预算执行率=预算执行数/调整后预算数,预算执行率未达到90%的需说明原因(100字以内);"
                      "2.年中发生预算调整的(追加或调减),应单独说明理由;3.其他资金包括:社会投入资金、银行贷款.",
          2, len(funds))
    s.down(0, top, s.row - 1, "预算执行情况(10分)")
    head = s.line(None, "一级指标", "二级指标", "三级指标", "指标性质", "指标值", "度量单位", "完成值", "权重", "得分",
                  "未完成原因分析")
    s.indicator_rows(_grouped(rows), level1_col=1, cols=(3, 4, 5, 6, 7, 8, 9, 10))
    s.line(None, ("合计", 7), 100, 100)
    s.down(0, head, s.row - 1, "绩效指标(90分)")
    s.line(("评价结论", 2), (verdict, 9))
    s.line(("存在问题", 2), ("无", 9))
    s.line(("改进措施", 2), ("无", 9))
    s.line((f"项目负责人:{signers[0]}", 5), (f"财务负责人:{signers[1]}", 6))


# --- 四川 中江 (the 衔接资金 绩效目标自评表: 资金情况, 分值 before the target, 全年实际值) -----------

ZHONGJIANG_SOURCE = "https://chacewang.com/newsdetail/news242266.html"
ZHONGJIANG = dict(project="中江县农业水价综合改革精准补贴和节水奖励项目小型水库水标尺制作安装",
                  department="中江县水利局", unit="中江县水利局")
ZHONGJIANG_GOALS = ("对农村地区供水计量设施设备进行改进,对项目区农业用水计量,为项目区农业生产夯实基础,",
                    "对项目区农业用水计量,为项目区农业生产夯实基础,")
ZHONGJIANG_ROWS = [
    ("产出指标(70分)", "数量指标", "安装坡面水标尺", 10, "≥266米", "≥266米", 10),
    ("产出指标(70分)", "数量指标", "水标尺宽度", 10, "≥50厘米", "≥50厘米", 10),
    ("产出指标(70分)", "质量指标", "项目(工程)验收合格率", 20, "100%", "100%", 20),
    ("产出指标(70分)", "时效指标", "及时(按期)开工率", 10, "≥90%", "≥90%", 10),
    ("产出指标(70分)", "时效指标", "及时(按期)完工率", 10, "≥90%", "≥90%", 10),
    ("产出指标(70分)", "成本指标", "项目计划总投资", 10, "20万元", "20万元", 10),
    ("效益指标(20分)", "经济效益指标", None, None, None, None, None),
    ("效益指标(20分)", "社会效益指标", "受益脱贫(含监测对象)户人口数", 10, "≥1000人", "≥1000人", 10),
    ("效益指标(20分)", "社会效益指标", "群众生产生活条件改善状况", 10, "显著提升", "显著提升", 10),
    ("满意度指标(10分)", "服务对象满意度指标", "受益脱贫(含监测对象)户满意度", 10, "≥95%", "≥95%", 10),
    ("满意度指标(10分)", "服务对象满意度指标", "……", None, None, None, None),
]


def sichuan_zhongjiang_2022(path: Path) -> Path:
    """四川 中江县水利局, 绩效目标自评表(2022年度), a 衔接资金 (乡村振兴) project, as published.

    Source: https://chacewang.com/newsdetail/news242266.html ("中江县水利局 … 附件:2022年财政衔接资金
    实施项目绩效自评表", the page's text). The template the 衔接资金 projects use, unlike the 部门预算
    form of sichuan_qingshen_2023: title 绩效目标自评表(2022年度); 项目名称 | … | 项目负责人及电话 |
    谢凯13990260322(办公) on one row; 主管部门 | 中江县水利局 | 实施单位 | 中江县水利局; the fund block
    labelled 资金情况(万元) (not 项目资金) with 全年预算数(A) | 全年执行数(B) | 分值 | 执行率(B/A) | 得分
    and no 年初预算数 column: 年度资金总额: 20 / 20 / 10 / 100.00% / 10, 其中:本年财政拨款 20 / 20,
    其他资金 empty; goals 年初设定目标 | 年度总体目标完成情况综述; indicator columns 一级 | 二级 | 三级 |
    分值 | 年度指标值 | 全年实际值 | 得分 | 未完成原因及拟采取的改进措施 (分值 before the target);
    actuals written with their comparison (≥266米 against ≥266米); an empty 经济效益指标 row and a
    …… row; 总分 100 / 100; the printed note 注:1.一级指标分值统一设置为:产出指标50分、效益指标30分、
    满意度指标10分、预算资金执行率10分…. All figures as printed (the goal texts shortened as the page
    prints them). Filler: none; the note is cut where the page cuts it.

    As printed the form does not add up: its blocks say 产出指标(70分), 效益指标(20分), 满意度指标(10分)
    — 100 points of indicators — beside the budget's 10, where its own note says 50/30/10/10; the
    item scores add up to 110 against a 总分 of 100. SPEC section 2: the weights sum to 110, not 100
    (WEIGHTS_INVALID), and the reported total is not the sum of its parts.
    """
    s = Sheet()
    s.line(("绩效目标自评表(2022年度)", 9))
    s.line("项目名称", (ZHONGJIANG["project"], 4), ("项目负责人及电话", 2), ("谢凯13990260322(办公)", 2))
    s.line("主管部门", (ZHONGJIANG["department"], 4), ("实施单位", 2), (ZHONGJIANG["unit"], 2))
    top = s.line(None, (None, 3), "全年预算数(A)", "全年执行数(B)", "分值", "执行率(B/A)", "得分")
    row = s.line(None, ("年度资金总额:", 3), 20, 20, 10, 1.0, 10)
    s.grid.formats[row, 7] = PERCENT
    s.line(None, ("其中:本年财政拨款", 3), 20, 20)
    s.line(None, ("其他资金", 3))
    s.down(0, top, s.row - 1, "资金情况(万元)")
    goals = s.line(None, ("年初设定目标", 4), ("年度总体目标完成情况综述", 4))
    s.line(None, (ZHONGJIANG_GOALS[0], 4), (ZHONGJIANG_GOALS[1], 4))
    s.down(0, goals, s.row - 1, "年度总体目标")
    head = s.line(None, "一级指标", "二级指标", "三级指标", "分值", "年度指标值", "全年实际值", "得分",
                  "未完成原因及拟采取的改进措施")
    s.indicator_rows(_grouped(ZHONGJIANG_ROWS), level1_col=1, cols=(3, 4, 5, 6, 7))
    s.down(0, head, s.row - 1, "绩效指标")
    s.line(("总分", 4), 100, None, None, 100)
    s.line(("注:1.一级指标分值统一设置为:产出指标50分、效益指标30分、满意度指标10分、预算资金执行率10分,各部门根据"
            "各项指标重要程度确定三级指标的分值,得分最高不能超过该指标分值上限,分别按照该指标对应分值区间100-80%(含80%)、"
            "80-60%(含60%)、60-0%合理确定得分,3.定量指标若为正向", 9))
    return write_book(path, [("自评表", s.grid)])


# --- 湖南: the 项目支出绩效评价评分表 (scores only, no money) ---------------------------------------

HUNAN_SCORE_SOURCE = "https://wanglu.net/thread/t12-491155-4.html"


def hunan_project_score_table_2017(path: Path) -> Path:
    """湖南-style 项目支出绩效评价评分表 (2017年度): a project's self-evaluation as a score sheet, with
    no budget figures at all.

    Source: https://wanglu.net/thread/t12-491155-4.html (a unit's 2017 自评报告 with its score
    tables, OCR'd; the 部门整体支出绩效评价得分表 of hunan_yueyang_department_2018 comes from the same
    page). Printed: the blocks 共性指标(30分) → 项目决策(10分) → 科学决策 必要性(政策依据) 5 5,
    可行性(政策完善) 5 5 and 绩效目标 明确性 5 5, 合理性 5 5; 项目管理 → 资金管理 资金分配 3 3,
    资金使用 4 4, 项目执行 执行规范 3 2; 特性指标(70分) → 项目绩效(20分) → 项目完成 完成数量 5 5,
    完成质量 5 4, 完成时效 5 5, 完成成本 5 5; 项目效益(50分) → 经济效益(可选项) 40, 社会效益(可选项)
    40, 生态效益(可选项), 可持续效益(可选项), 公平效率(可选项), 使用效率(可选项), 服务对象满意度
    10 10; 总分. Columns: 一级 | 二级 | 三级 | 分值 | 得分 (the OCR prints 分值 then 得分 per row).
    The OCR's block points are inconsistent (项目决策(10分) over 20 points of rows); the fixture
    keeps the rows' points. Filler: the title line (项目支出绩效评价评分表, the name the 湖南 tables
    carry), 项目名称 / 实施单位 header (the excerpt starts mid-table; the project is the unit's
    专项 of the 岳阳 page, 数字城管信息采集服务费), the chosen 可选项 (社会效益 40 / 得分 36), the
    level names 共性指标/特性指标 as 一级 columns, and 总分 100 / 94.

    Not supported, on purpose: the sheet has no 项目资金 block, no 全年预算数 / 全年执行数, no
    年度指标值 / 实际完成值 — a score sheet, not a self-evaluation form (SPEC section 1): nothing to
    recompute the execution rate or an indicator from. xlbatch rejects it as MISSING_FIELD and
    names the labels it found instead.
    """
    s = Sheet()
    s.line(("项目支出绩效评价评分表", 6))
    s.line(("(2017年度)", 6))
    s.line("项目名称", ("数字城管信息采集服务费", 2), "实施单位", ("岳阳市城市管理监督指挥中心", 2))
    s.line("一级指标", "二级指标", "三级指标", "四级指标", "分值", "得分")
    rows = [("共性指标(30分)", "项目决策(10分)", "科学决策", "必要性(政策依据)", 5, 5),
            (None, None, None, "可行性(政策完善)", 5, 5),
            (None, None, "绩效目标", "明确性", 5, 5), (None, None, None, "合理性", 5, 5),
            (None, "项目管理(10分)", "资金管理", "资金分配", 3, 3), (None, None, None, "资金使用", 4, 4),
            (None, None, "项目执行", "执行规范", 3, 2),
            ("特性指标(70分)", "项目绩效(20分)", "项目完成", "完成数量", 5, 5), (None, None, None, "完成质量", 5, 4),
            (None, None, None, "完成时效", 5, 5), (None, None, None, "完成成本", 5, 5),
            (None, "项目效益(50分)", "经济效益(可选项)", None, None, None),
            (None, None, "社会效益(可选项)", None, 40, 36),
            (None, None, "生态效益(可选项)", None, None, None), (None, None, "可持续效益(可选项)", None, None, None),
            (None, None, "公平效率(可选项)", None, None, None), (None, None, "使用效率(可选项)", None, None, None),
            (None, None, "服务对象满意度", None, 10, 10)]
    for row in rows:
        s.line(*row)
    s.line(("总分", 4), 100, 94)
    return write_book(path, [("评分表", s.grid)])


# --- the catalogue -----------------------------------------------------------------------------

LAYOUTS: dict[str, Layout] = {
    "anhui_guichi_2022_published": Layout(
        anhui_guichi_2022_published, "委托业务项目绩效自评表.xlsx", "安徽", ANHUI_SOURCE,
        (Expected(**ANHUI, year=2022, budget=0, executed=0, rate=None, total_reported=90, total_recomputed=None,
                  indicators=10, status="rejected", rules=("BUDGET_ZERO",),
                  note="年度资金总额 0/0/0 beside a filled 本年财政拨款 row, as published"),),
        file_status="rejected", variants=("本年财政拨款 row", "年度资金总额 0/0/0")),
    "anhui_guichi_2022": Layout(
        anhui_guichi_2022, "委托业务项目绩效自评表.xlsx", "安徽", ANHUI_SOURCE,
        (Expected(**ANHUI, year=2022, budget=89.974, executed=89.974, rate=1.0, total_reported=100,
                  total_recomputed=100, indicators=10),),
        variants=("本年财政拨款 row", "年度资金总额: with a colon")),
    "hebei_langfang_2019": Layout(
        hebei_langfang_2019, "暖通改造经费绩效自评表.xlsx", "河北", HEBEI_SOURCE,
        (Expected(project="办公宿舍楼、食堂及餐厅暖通改造经费", unit="廊坊市食品工程学校", department="廊坊市发改委",
                  year=2019, budget=43.2, executed=37.24, rate=_rate(37.24, 43.2), total_reported=98,
                  total_recomputed=97.24, indicators=9,
                  note="central layout; names prefixed 指标1/指标2 are real indicators, bare 指标1/指标2/…… are not"),),
        variants=("labels broken over two lines", "一级 cell split in two", "numbered indicator names")),
    "sichuan_qingshen_2023": Layout(
        sichuan_qingshen_2023, "工资性支出绩效自评表.xlsx", "四川", SICHUAN_SOURCE,
        (Expected(project=QINGSHEN["project"], unit=QINGSHEN["unit"], department=QINGSHEN["department"], year=2023,
                  budget=251.89, executed=251.89, rate=1.0, total_reported=100, total_recomputed=100, indicators=2,
                  goal_expected=QINGSHEN["goal"], goal_actual=SICHUAN_GOAL_PROMPT,
                  note="项目年度目标 | 年度目标完成情况 side by side, the texts below them"),),
        variants=("调整后预算数/预算执行数", "总额 row", "other 资金来源 rows", "权重 column",
                  "指标性质/指标值/度量单位 split", "合计 row as total")),
    "sichuan_qingshen_2023_stacked": Layout(
        sichuan_qingshen_2023_stacked, "发改局项目支出绩效自评表.xlsx", "四川",
        f"{SICHUAN_SOURCE} + {SICHUAN_SECOND_SOURCE}",
        (Expected(project=QINGSHEN["project"], unit=QINGSHEN["unit"], department=QINGSHEN["department"], year=2023,
                  budget=251.89, executed=251.89, rate=1.0, total_reported=100, total_recomputed=100, indicators=2,
                  goal_expected=QINGSHEN["goal"], goal_actual=SICHUAN_GOAL_PROMPT),
         Expected(project=SECOND["project"], unit=SECOND["unit"], department=SECOND["department"], year=2023,
                  budget=126.8, executed=120.46, rate=_rate(120.46, 126.8), total_reported=99.5, total_recomputed=99.5,
                  indicators=4, goal_expected=SECOND["goal"], goal_actual=SICHUAN_GOAL_PROMPT)),
        variants=("several forms stacked on one sheet",)),
    "ningxia_yinchuan_2021": Layout(
        ningxia_yinchuan_2021, "初中公用经费绩效自评表.xlsx", "宁夏", YINCHUAN_SOURCE,
        (Expected(project="初中公用经费", unit="银川市第六中学", department="银川市教育局", year=2021, budget=64.8,
                  executed=64.8, rate=1.0, total_reported=94, total_recomputed=95, indicators=16,
                  goal_expected=YINCHUAN_GOALS[0], goal_actual=YINCHUAN_GOALS[1],
                  note="16 indicators besides the 预算执行率 row, the budget score (参考分值 10): counted once"),),
        variants=("budget execution as an indicator", "年度资金总额 merged over header and value rows",
                  "参考分值 column", "自评得分 in the header, no 总分 row", "(2021年)")),
    "ningxia_yinchuan_2021_with_instructions": Layout(
        ningxia_yinchuan_2021_with_instructions, "初中公用经费绩效自评表(含填报说明).xlsx", "宁夏",
        f"{YINCHUAN_SOURCE} + {INSTRUCTIONS_SOURCE}",
        (Expected(project="初中公用经费", unit="银川市第六中学", department="银川市教育局", year=2021, budget=64.8,
                  executed=64.8, rate=1.0, total_reported=94, total_recomputed=95, indicators=16,
                  goal_expected=YINCHUAN_GOALS[0], goal_actual=YINCHUAN_GOALS[1],
                  note="the 填报说明 sheet raises nothing"),),
        variants=("填报说明 beside a project form",)),
    "hubei_hbeu_student_aid": Layout(
        hubei_hbeu_student_aid, "2019年学生资助项目绩效目标自评表.xlsx", "湖北", HUBEI_SOURCE,
        (Expected(project="湖北工程学院学生资助项目", unit="湖北工程学院", department="湖北省教育厅", year=2019,
                  budget=HBEU_BUDGET, executed=HBEU_EXECUTED, rate=_rate(HBEU_EXECUTED, HBEU_BUDGET),
                  total_reported=HBEU_TOTAL, total_recomputed=HBEU_RECOMPUTED, indicators=11,
                  note="year only in the file name; 总分 both in the header and in a 总分 row"),),
        variants=("year only in the file name", "weights only in block labels", "项目实施单位",
                  "预算数(A)/执行数(B)", "年度财政资金总额", "年初目标值/实际完成值", "总分 in the header")),
    "hubei_changjiang_2020": Layout(
        hubei_changjiang_2020, "2020年度长江禁捕项目自评表.xlsx", "湖北 (template; province not named)",
        CHANGJIANG_SOURCE,
        (Expected(project="渔业成品油价格改革补贴", unit="农业科", department="区市场监督管理局", year=2020,
                  budget=1.56, executed=1.56, rate=1.0, total_reported=100, total_recomputed=100, indicators=5,
                  note="budget weight 20 (预算执行情况(20分)); 单位名称:农业工作科 in one cell, "
                       "项目实施单位 农业科 in the header"),),
        variants=("「单位名称:XXX」 in one cell", "budget weight 20", "no 分值 column")),
    "shanghai_putuo_2022": Layout(
        shanghai_putuo_2022, "2022年度项目自评价.xlsx", "上海", PUTUO_SOURCE,
        (Expected(project=PUTUO_SETTLEMENT, **PUTUO, year=2022, budget=PUTUO_BUDGET, executed=PUTUO_EXECUTED,
                  rate=_rate(PUTUO_EXECUTED, PUTUO_BUDGET), total_reported=98.62, total_recomputed=98.62,
                  indicators=5, sheet="自评表1", rules=("AMOUNT_SCALE_SUSPECT",),
                  goal_expected="按合同约定完成普陀体育中心与委托运营方的费用结算。",
                  goal_actual="已完成普陀体育中心与委托运营方费用结算。",
                  note="项目资金 (元): amounts in 元 as the label says, read as printed"),
         Expected(project=PUTUO_AID, **PUTUO, year=2022, budget=AID_BUDGET, executed=AID_EXECUTED,
                  rate=_rate(AID_EXECUTED, AID_BUDGET), total_reported=round(AID_TOTAL, 2),
                  total_recomputed=round(AID_TOTAL, 2), indicators=5, sheet="自评表2",
                  rules=("AMOUNT_SCALE_SUSPECT", "FUNDS_DONT_ADD_UP", "LOW_EXECUTION"),
                  goal_expected="完成援滇人员相关经费支付。", goal_actual="已完成援滇人员相关经费支付。",
                  note="source rows printed 0 under a 20000.00 total")),
        variants=("财政项目支出绩效自评表", "项目资金 (元)", "one sheet per form", "ASCII >= in targets",
                  "— in the source rows' score cells")),
    "sichuan_daying_2023": Layout(
        sichuan_daying_2023, "安可替代补助资金项目绩效自评表.xlsx", "四川", DAYING_SOURCE,
        (Expected(project=DAYING_FIRST["project"], **DAYING, year=2023, budget=30, executed=30, rate=1.0,
                  total_reported=100, total_recomputed=100, indicators=1, rules=("INCOMPARABLE_VALUES",),
                  goal_expected=DAYING_FIRST["goal"][0], goal_actual=DAYING_FIRST["goal"][1],
                  note="完成 as the 完成值 of ≤ 30 万元: not comparable, the reported 90 kept"),
         Expected(project=DAYING_ANKE["project"], **DAYING, year=2023, budget=3.36, executed=3.36, rate=1.0,
                  total_reported=100, total_recomputed=100, indicators=1,
                  goal_expected=DAYING_ANKE["goal"][0], goal_actual=DAYING_ANKE["goal"][1],
                  note="年初预算 0.00: a project added during the year")),
        variants=("主管部门 and 实施单位 on one row", "basics labels beside their headings", "年初预算 0",
                  "a word as the 完成值 of a split target", "stacked forms without 报表编号")),
    "sichuan_zhongjiang_2022": Layout(
        sichuan_zhongjiang_2022, "水标尺制作安装绩效目标自评表.xlsx", "四川", ZHONGJIANG_SOURCE,
        (Expected(**ZHONGJIANG, year=2022, budget=20, executed=20, rate=1.0, total_reported=100,
                  total_recomputed=110, indicators=9, rules=("WEIGHTS_INVALID", "TOTAL_MISMATCH"),
                  goal_expected=ZHONGJIANG_GOALS[0], goal_actual=ZHONGJIANG_GOALS[1],
                  note="as published: 100 points of indicators beside the budget's 10, 总分 100"),),
        variants=("资金情况(万元) as the funds block", "no 年初预算数 column", "分值 before 年度指标值",
                  "全年实际值", "项目负责人及电话 on the 项目名称 row", "actuals with their comparison (≥266米)")),
    "hunan_project_score_table_2017": Layout(
        hunan_project_score_table_2017, "数字城管信息采集服务费评分表.xlsx", "湖南", HUNAN_SCORE_SOURCE,
        (Expected(project="数字城管信息采集服务费", unit="岳阳市城市管理监督指挥中心", department=None, year=None,
                  budget=None, executed=None, rate=None, total_reported=None, total_recomputed=None,
                  indicators=12, sheet="评分表", status="rejected", rules=("MISSING_FIELD",),
                  note="a score sheet: no 全年预算数 / 全年执行数, no 年度指标值 / 实际完成值 (not supported)"),),
        file_status="rejected", file_rule="MISSING_FIELD",
        variants=("项目支出绩效评价评分表: scores only",)),
    "hunan_yueyang_department_2018": Layout(
        hunan_yueyang_department_2018, "部门整体支出绩效自评表.xlsx", "湖南",
        f"{YUEYANG_SOURCE} + {SCORE_TABLE_SOURCE}",
        (), file_status="rejected", file_rule="NO_FORM_FOUND",
        variants=("部门整体支出绩效自评表 alone",)),
}
