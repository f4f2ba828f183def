"""Units do not return the template as they got it (SPEC section 1): one workbook per variant.

Each test lays the seed form (or a near variant of it) out with the drift real
submissions show — retyped labels, moved blocks, extra or missing rows, text
numbers, formulas, other file formats, several forms per workbook, resubmissions,
merges undone — and asserts the exact normalized figures and the exact findings
(rule and cell). Layouts are built by `variants.py`; files in other formats are
LibreOffice's own (lo.py, one soffice run per format for the whole session).
"""

from __future__ import annotations

import csv
import math
import os
import shutil
from pathlib import Path

import pandas as pd
import pytest
import python_calamine as calamine
from seed import seed_form
from variants import (
    FORMULAS,
    PROJECTS,
    Formula,
    Grid,
    category,
    clean_form,
    drifted_grid,
    indicator,
    shift_ref,
    standard_grid,
    write_book,
)

from xlbatch.config import Config
from xlbatch.intake.read import a1
from xlbatch.nightly import run
from xlbatch.outputs.template import BlockSpec, CategorySpec, IndicatorSpec, write_workbook
from xlbatch.pipeline import RunResult, process

pytest_plugins = ["lo"]  # fixtures libreoffice, lo_files

P = IndicatorSpec

# --- the seed's figures (seed/000_6861aad08ff35101.txt), recomputed by SPEC section 2 ------------

RATE = 3.07 / 5.4  # 0.568518…
SEED = {
    "project": "失业动态监测，社会化管理服务费",
    "unit": "承德县社会保险事业服务中心",
    "department": "承德县人力资源和社会保障局",
    "year": 2023,
    "budget_full_year": 5.4,
    "executed": 3.07,
    "execution_rate": RATE,
    "rate_reported": 0.5685,  # typed "56.85%"
    "budget_weight": 10,  # typed "10 分"
    "budget_score_reported": 5.7,
    "budget_score": RATE * 10,
    "total_reported": 95.7,
    "total_score": RATE * 10 + 90,  # every indicator met at its full 分值
    "grade": "优",
    "grade_reported": "优",
}
SEED_NAMES = ["失业动态监测企业数", "退休人员数量", "资金使用合理率", "发放差错率 (%)", "问题整改率 (%)",
              "业务处理及时性 (%)", "完善就业失业监测统", "维护社会稳定", "工作连续的持久度", "企业退休人员满意率"]
# Standard layout: 执行率 G6, 总分 H37, the 成本指标's first placeholder row D21 (指标 1:; label in C21).
SEED_FINDINGS = [("HIGH_SCORE_LOW_EXECUTION", "H37"), ("LOW_EXECUTION", "G6"), ("REQUIRED_CATEGORY_EMPTY", "D21")]

# clean_form(): 5.4 / 5.13 万元 → 95%, budget score 9.5, indicators 90, no finding.
CLEAN = {**SEED, "executed": 5.13, "execution_rate": 0.95, "rate_reported": 0.95, "budget_score_reported": 9.5,
         "budget_score": 9.5, "total_reported": 99.5, "total_score": 99.5}
CLEAN_NAMES = [*SEED_NAMES[:6], "人均管理服务成本", *SEED_NAMES[6:]]


# --- helpers -----------------------------------------------------------------------------

def run_book(tmp_path: Path, sheets, name: str = "自评表.xlsx") -> RunResult:
    """Write `sheets` (a list of (name, Grid)) as the only file of a fresh inbox and process it."""
    inbox = tmp_path / "inbox"
    inbox.mkdir(parents=True)
    write_book(inbox / name, sheets)
    return process(inbox, Config())


def run_file(tmp_path: Path, path: Path) -> RunResult:
    inbox = tmp_path / "inbox"
    inbox.mkdir(parents=True)
    shutil.copy(path, inbox / path.name)
    return process(inbox, Config())


def only_form(result: RunResult) -> pd.Series:
    assert [(f.status, f.code) for f in result.files] == [("accepted", "")], result.findings
    assert len(result.forms) == 1
    return result.forms.iloc[0]


def figures(form: pd.Series) -> dict:
    def plain(value):
        return None if isinstance(value, float) and math.isnan(value) else value

    return {key: plain(form[key]) for key in SEED}


def found(result: RunResult) -> list[tuple[str, str]]:
    return sorted((f.rule, f.cell) for f in result.findings)


def names(result: RunResult) -> list[str]:
    return list(result.indicators["name"])


def ref(grid: Grid, value) -> str:
    """Where `value` was written in `grid` (A1)."""
    return a1(*grid.find(value))


def shifted(findings, rows: int = 0, cols: int = 0) -> list[tuple[str, str]]:
    return sorted((rule, shift_ref(cell, rows, cols)) for rule, cell in findings)


def approx(expected: dict):
    return pytest.approx(expected, abs=1e-9)


def score_of(result: RunResult, name: str) -> float:
    return result.indicators.set_index("name").loc[name, "score"]


def categories(form: pd.Series) -> list[tuple[str, int]]:
    return [(c.level2, c.indicators) for c in form["categories"]]


# --- the layout helper itself ----------------------------------------------------------------

@pytest.mark.parametrize("kw", [{}, FORMULAS], ids=["seed", "formulas"])
def test_standard_grid_is_the_template_cell_for_cell(tmp_path, kw):
    """variants.standard_grid lays a FormSpec out exactly as xlbatch.outputs.template.write_form does."""
    (tmp_path / "a").mkdir()
    write_workbook(tmp_path / "a" / "自评表.xlsx", [("自评表", seed_form(**kw))])
    template = process(tmp_path / "a", Config())
    grid = run_book(tmp_path / "b", [("自评表", standard_grid(seed_form(**kw)))])
    pd.testing.assert_frame_equal(grid.indicators, template.indicators)
    pd.testing.assert_frame_equal(grid.forms.drop(columns="mtime"), template.forms.drop(columns="mtime"))
    assert found(grid) == found(template) == SEED_FINDINGS


def test_inserted_rows_and_columns_move_formula_references():
    grid = Grid.from_rows([[1, 2, Formula("=IF(N(A1)=0,\"\",B1/A1)+SUM($A$1:B1)+LOG10(A1)", 2)]])
    grid.insert_rows(0, 2).insert_cols(0)
    assert grid["D3"] == Formula('=IF(N(B3)=0,"",C3/B3)+SUM($B$3:C3)+LOG10(B3)', 2)
    grid.delete_rows(0, 1)
    assert grid["D2"].expr == '=IF(N(B2)=0,"",C2/B2)+SUM($B$2:C2)+LOG10(B2)'


# --- 1. labels with line breaks and spaces inside ------------------------------------------------

def test_labels_with_line_breaks_and_spaces(tmp_path):
    grid = standard_grid(seed_form())
    for old, new in (("项目名称", "项目\n名称"), ("主管部门", "主 管 部 门"), ("实施单位", "实 施 单 位"),
                     ("年初预算数", "年初\n预算数"), ("全年预算数", "全 年\n预算数"), ("全年执行数", "全年\n执行数"),
                     ("分值", "分 值"), ("执行率", "执 行 率"), ("得分", "得  分"),
                     ("年度资金总额", "年度资金\n总额"), ("其中：当年财政拨款", "其中：\n当年财政拨款"),
                     ("预期目标", "预 期 目 标"), ("一级指标", "一级\n指标"), ("二级指标", "二 级 指 标"),
                     ("三级指标", "三级\n指标"), ("实际\n完成值", "实 际\n完 成 值"), ("总分", "总  分")):
        grid.relabel(old, new)
    assert (grid["E12"], grid["G12"], grid["H12"]) == ("年度\n指标值", "分 值", "得 分")  # as handed out
    result = run_book(tmp_path, [("自评表", grid)])
    assert figures(only_form(result)) == approx(SEED)
    assert names(result) == SEED_NAMES
    assert found(result) == SEED_FINDINGS


# --- 2. label suffixes, 偏差原因 headed 未完成原因分析 ---------------------------------------------

def test_label_suffixes(tmp_path):
    """The 2020 national form's headers: 全年预算数（A）, 全年执行数（B）, 执行率（B/A）, 得分 …

    退休人员数量 falls short (11,000 of 11,857 → 7.42 of 8 points) and says why in the
    未完成原因分析 column: no UNEXPLAINED_DEVIATION, so the column was found.
    """
    spec = seed_form(total_reported=95.12)
    retirees = indicator(spec, "退休人员数量")
    retirees.actual, retirees.score, retirees.deviation = 11000, 7.42, "部分退休人员待遇资格认证未完成"
    grid = standard_grid(spec)
    for old, new in (("年初预算数", "年初预算数（万元）"), ("全年预算数", "全年预算数（A）"),
                     ("全年执行数", "全年执行数（B）"), ("执行率", "执行率（B/A）"), ("分 值", "分值"),
                     ("得 分", "得分"), ("年度\n指标值", "年度指标值（A）"), ("实际\n完成值", "实际完成值（B）"),
                     ("偏差原因分析\n及改进措施", "未完成原因分析"), ("其中：当年财政拨款", "其中：财政拨款")):
        grid.relabel(old, new)
    result = run_book(tmp_path, [("自评表", grid)])
    form = only_form(result)
    assert (form["fund_current_full_year"], form["fund_current_executed"]) == (5.4, 3.07)
    assert figures(form) == approx({**SEED, "total_reported": 95.12,
                                    "total_score": RATE * 10 + 82 + 11000 / 11857 * 8})
    assert names(result) == SEED_NAMES
    row = result.indicators.set_index("name").loc["退休人员数量"]
    assert (row["deviation"], row["cells"]["deviation"]) == ("部分退休人员待遇资格认证未完成", "I14")
    assert row["score"] == pytest.approx(11000 / 11857 * 8)
    assert found(result) == SEED_FINDINGS


# --- 3. extra rows above the title, a leading blank column ----------------------------------------

def _notes_and_date_line(grid: Grid) -> Grid:
    """附件1 / blank / 承德县财政局制 / blank above the title (column B: column A stays blank), and a
    填报单位/填报日期 line under the year line that names another year."""
    grid.insert_rows(2, rows=[["填报单位（盖章）：承德县社会保险事业服务中心", None, None, None, None, None,
                               "填报日期：2024年3月18日"]])
    grid.insert_cols(0)
    return grid.insert_rows(0, rows=[[None, "附件1"], [], [None, "承德县财政局制"], []])


def _blank_margin(grid: Grid) -> Grid:
    """Nothing above or left of the form: it starts at C5."""
    return grid.insert_cols(0, 2).insert_rows(0, 4)


@pytest.mark.parametrize("drift, title_at, rows, cols", [
    (_notes_and_date_line, "B5", 5, 1),
    (_blank_margin, "C5", 4, 2),
], ids=["notes_and_date_line", "blank_margin"])
def test_form_below_and_right_of_extra_rows_and_columns(tmp_path, drift, title_at, rows, cols):
    grid = drift(standard_grid(seed_form()))
    assert ref(grid, "失业动态监测，社会化管理服务费项目支出绩效自评表") == title_at
    result = run_book(tmp_path, [("自评表", grid)])
    form = only_form(result)
    assert figures(form) == approx(SEED)  # the year is the title's 2023, not the 填报日期's 2024
    assert names(result) == SEED_NAMES
    assert found(result) == shifted(SEED_FINDINGS, rows, cols)
    assert form["cells"]["project"] == shift_ref("C3", rows, cols)
    assert result.indicators.iloc[0]["cells"]["target"] == shift_ref("E13", rows, cols)


def test_total_row_labelled_in_the_indicator_name_column(tmp_path):
    """合计 typed in the 三级指标 column instead of the merged A:F 总分 cell: still the total row."""
    grid = standard_grid(clean_form())
    row = grid.row_of("总分")
    grid.merges.remove((row, 0, row, 5))
    grid.set((row, 0), None)
    grid.set((row, 3), "合计")
    result = run_book(tmp_path, [("自评表", grid)])
    assert figures(only_form(result)) == approx(CLEAN)
    assert names(result) == CLEAN_NAMES
    assert found(result) == []


# --- 4. no title row at all -----------------------------------------------------------------------

def test_form_without_title_or_year_is_parsed_not_rejected(tmp_path):
    grid = standard_grid(seed_form()).delete_rows(0, 2)  # 项目名称 is now A1
    assert ref(grid, "项目名称") == "A1"
    result = run_book(tmp_path, [("自评表", grid)])
    form = only_form(result)
    assert figures(form) == approx({**SEED, "year": None})
    assert form["title"] == ""
    assert names(result) == SEED_NAMES
    assert found(result) == shifted(SEED_FINDINGS, -2)


# --- 5. inserted and deleted indicator rows ---------------------------------------------------------

def test_inserted_and_deleted_indicator_rows(tmp_path):
    """数量 with 5 indicators, 质量 with 3, 时效/成本 with one each, 社会效益 with 2, 生态效益 gone.

    Weights: 10 + 产出 (24 + 16 + 5 + 5) + 效益 (10 + 10 + 10) + 满意度 10 = 100, each block as
    its label says: no WEIGHTS_INVALID. Everything met, 95% executed: no finding at all.
    """
    spec = clean_form(blocks=[
        BlockSpec("产出指标 50 分", [
            CategorySpec("数量指标", [P("失业动态监测企业数", "40 家", "40 家", 6, 6),
                                  P("退休人员数量", 11857, 12608, 6, 6),
                                  P("新增参保人数", "≥1200人", "1260人", 4, 4),
                                  P("社保卡发放数量", "≥3000张", "3150张", 4, 4),
                                  P("待遇资格认证人数", "≥11000人", "11500人", 4, 4)]),
            CategorySpec("质量指标", [P("资金使用合理率", "≥95%", "100%", 6, 6),
                                  P("发放差错率 (%)", "≤1%", "0%", 6, 6),
                                  P("档案归档率", "≥98%", "100%", 4, 4)]),
            CategorySpec("时效指标", [P("业务处理及时性 (%)", "≥95%", "100%", 5, 5)]),
            CategorySpec("成本指标", [P("人均管理服务成本", "≤200 元", "180 元", 5, 5)]),
        ]),
        BlockSpec("效益指标 30 分", [
            CategorySpec("经济效益指标", [P("完善就业失业监测统", "完善", "完善", 10, 10)]),
            CategorySpec("社会效益指标", [P("维护社会稳定", "得到提升", "得到提升", 6, 6),
                                    P("参保群众办事便利度", "得到提升", "得到提升", 4, 4)]),
            CategorySpec("可持续影响指标", [P("工作连续的持久度", "得到提升", "得到提升", 10, 10)]),
        ]),
        BlockSpec("满意度指标 10 分", [
            CategorySpec("服务对象满意度指标", [P("企业退休人员满意率", "≥95%", "100%", 10, 10)]),
        ]),
    ])
    result = run_book(tmp_path, [("自评表", standard_grid(spec))])
    form = only_form(result)
    assert figures(form) == approx(CLEAN)
    assert names(result) == ["失业动态监测企业数", "退休人员数量", "新增参保人数", "社保卡发放数量", "待遇资格认证人数",
                             "资金使用合理率", "发放差错率 (%)", "档案归档率", "业务处理及时性 (%)", "人均管理服务成本",
                             "完善就业失业监测统", "维护社会稳定", "参保群众办事便利度", "工作连续的持久度",
                             "企业退休人员满意率"]
    assert categories(form) == [("数量指标", 5), ("质量指标", 3), ("时效指标", 1), ("成本指标", 1),
                                ("经济效益指标", 1), ("社会效益指标", 2), ("可持续影响指标", 1),
                                ("服务对象满意度指标", 1)]
    assert [(b.label, b.points) for b in form["blocks"]] == [
        ("产出指标 50 分", 50), ("效益指标 30 分", 30), ("满意度指标 10 分", 10)]
    assert form["weight_sum"] == 100
    assert found(result) == []


# --- 6. placeholder rows of every style ---------------------------------------------------------------

def test_placeholder_rows_of_every_style_are_not_indicators(tmp_path):
    spec = seed_form()
    extra = {"数量指标": [P("指标3："), P("指标 4:")],
             "质量指标": [P("……")],
             "时效指标": [P("…")],
             "经济效益\n指标": [P("指标 2:"), P(".....")],
             "社会效益\n指标": [P("指标2"), P("。。。")],
             "可持续影\n响指标": [P("指标 2："), P("．．．")],
             "服务对象\n满意度指\n标": [P("指标 2:"), P("......"), P(None)]}
    for label, rows in extra.items():
        cat = category(spec, label)
        cat.indicators = [i for i in cat.indicators if i.weight is not None] + rows
    category(spec, "成本指标").indicators = [P("指标 1:"), P("指标2："), P("指标三："),
                                         P("指标 4：", "/", "/", "—", "—")]
    category(spec, "生态效益\n指标").indicators = [P(None), P(None)]  # empty named rows
    grid = standard_grid(spec)
    result = run_book(tmp_path, [("自评表", grid)])
    form = only_form(result)
    assert figures(form) == approx(SEED)
    assert names(result) == SEED_NAMES
    assert categories(form) == [("数量指标", 2), ("质量指标", 2), ("时效指标", 2), ("成本指标", 0),
                                ("经济效益指标", 1), ("社会效益指标", 1), ("生态效益指标", 0),
                                ("可持续影响指标", 1), ("服务对象满意度指标", 1)]
    # Rows 13–16 数量, 17–19 质量, 20–22 时效, 23–26 成本 (placeholders only), …, 38–41 满意度, 42 总分.
    assert (ref(grid, "成本指标"), ref(grid, "总分")) == ("C23", "A42")
    assert found(result) == [("HIGH_SCORE_LOW_EXECUTION", "H42"), ("LOW_EXECUTION", "G6"),
                             ("REQUIRED_CATEGORY_EMPTY", "D23")]


def test_blank_year_is_not_taken_from_the_fill_date(tmp_path):
    """"（    年度）" left blank and a 填报日期 under it: the year is unknown, not 2024."""
    grid = standard_grid(seed_form(year=None))
    assert grid["A2"] == "（    年度）"
    grid.insert_rows(2, rows=[["填报单位（盖章）：承德县社会保险事业服务中心", None, None, None, None, None,
                               "填报日期：2024年3月18日"]])
    result = run_book(tmp_path, [("自评表", grid)])
    assert figures(only_form(result)) == approx({**SEED, "year": None})
    assert found(result) == shifted(SEED_FINDINGS, 1)


# --- 7. numbers typed as text: thousands separators, full-width characters ---------------------------

def test_amounts_typed_as_text_with_thousands_separators(tmp_path):
    """1,250.00 万元 is a large project, not an amount in 元: no AMOUNT_SCALE_SUSPECT (only above 10,000)."""
    spec = clean_form(funds={"年度资金总额": ("1,250.00", "1,250.00", "1,187.50"),
                             "当年财政拨款": ("1,000.00", "1,000.00", "950.00"),
                             "上年结转资金": ("250.00", "250.00", "237.50")},
                      budget_weight="10", budget_score="9.50", total_reported="99.50")
    retirees = indicator(spec, "退休人员数量")
    retirees.target, retirees.actual, retirees.weight, retirees.score = "11,857", "12,608", "8", "8.0"
    result = run_book(tmp_path, [("自评表", standard_grid(spec))])
    form = only_form(result)
    assert figures(form) == approx({**CLEAN, "budget_full_year": 1250, "executed": 1187.5})
    assert form["budget_initial"] == 1250
    assert (form["fund_current_executed"], form["fund_carryover_executed"]) == (950, 237.5)
    assert score_of(result, "退休人员数量") == 8
    assert names(result) == CLEAN_NAMES
    assert found(result) == []


@pytest.mark.parametrize("amounts", [
    ("5.4万元", "5.4万元", "5.13万元"), ("5.4万", "5.4 万", "5.13万"), (" 5.40 ", "5.40\u3000", "\u00a05.13"),
], ids=["wan_yuan", "wan", "padded"])
def test_amounts_typed_with_their_unit_or_padding(tmp_path, amounts):
    spec = clean_form(funds={"年度资金总额": amounts, "当年财政拨款": (5.4, 5.4, 5.13)})
    result = run_book(tmp_path, [("自评表", standard_grid(spec))])
    assert figures(only_form(result)) == approx(CLEAN)
    assert found(result) == []


@pytest.mark.parametrize("budget, executed, findings", [
    ("10,000.00", "9,500.00", []),  # 1 亿元: large, but not above the limit
    ("54,000", "51,300", [("AMOUNT_SCALE_SUSPECT", "C6")]),  # 5.4 万元 typed in 元
])
def test_amount_scale_suspect_only_above_10000(tmp_path, budget, executed, findings):
    spec = clean_form(funds={"年度资金总额": (budget, budget, executed), "当年财政拨款": (budget, budget, executed)})
    result = run_book(tmp_path, [("自评表", standard_grid(spec))])
    value = float(budget.replace(",", ""))
    assert figures(only_form(result)) == approx({**CLEAN, "budget_full_year": value,
                                                 "executed": float(executed.replace(",", ""))})
    assert found(result) == findings


_FULL_WIDTH = str.maketrans({**{str(d): chr(0xFF10 + d) for d in range(10)},
                             ".": "．", ",": "，", "%": "％", "≥": "≧", "≤": "≦"})


def full_width(value):
    """What an IME in full-width mode types: "≥95%" → "≧９５％", 11857 → "１１，８５７"."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        value = f"{value:,}"
    return value.translate(_FULL_WIDTH) if isinstance(value, str) else value


def test_full_width_digits_and_symbols(tmp_path):
    amounts = ("５．４", "５．４", "３．０７")
    spec = seed_form(funds={"年度资金总额": amounts, "当年财政拨款": amounts}, budget_weight="１０分",
                     rate="５６．８５％", budget_score="５．７", total_reported="９５．７")
    for ind in (i for b in spec.blocks for c in b.categories for i in c.indicators if i.weight is not None):
        for key in ("target", "actual", "weight", "score"):
            setattr(ind, key, full_width(getattr(ind, key)))
    assert indicator(spec, "资金使用合理率").target == "≧９５％"
    assert indicator(spec, "退休人员数量").actual == "１２，６０８"
    result = run_book(tmp_path, [("自评表", standard_grid(spec))])
    assert figures(only_form(result)) == approx(SEED)
    assert names(result) == SEED_NAMES
    assert list(result.indicators["score"]) == [10, 8, 8, 8, 8, 8, 10, 10, 10, 10]
    assert set(result.indicators["kind"]) == {"quantitative", "qualitative"}
    assert found(result) == SEED_FINDINGS


# --- 8. values with units and operators in words -----------------------------------------------------

def test_values_with_units_and_operators_in_words(tmp_path):
    """Every target and actual carries a unit or an operator word; three fall short and say why."""
    spec = clean_form(total_reported=97.81, blocks=[
        BlockSpec("产出指标 50 分", [
            CategorySpec("数量指标", [
                P("失业动态监测企业数", "不少于40家", "40 家", 6, 6),
                P("新增参保人数", "达到1,200人", "1,150人", 6, 5.75, "部分企业停产，新增参保人数未达目标")]),
            CategorySpec("质量指标", [P("资金使用合理率", "不低于95%", "98%", 6, 6),
                                  P("发放差错率 (%)", "≤1%", "0.5%", 6, 6)]),
            CategorySpec("时效指标", [
                P("业务办理时限", "5个工作日以内", "3个工作日", 6, 6),
                P("问题整改时限", "≤5 个工作日", "6 个工作日", 6, 5, "个别问题需跨部门协调，整改时间延长")]),
            CategorySpec("成本指标", [
                P("人均管理服务成本", "不超过200元", "180元", 7, 7),
                P("单户监测成本", "≤300 元/户", "320 元/户", 7, 6.56, "监测企业分散，交通成本上升")]),
        ]),
        BlockSpec("效益指标 30 分", [
            CategorySpec("经济效益指标", [P("失业监测覆盖率", "≥ 90 %", "95 %", 10, 10)]),
            CategorySpec("社会效益指标", [P("资料归档率", "达到100%", "100%", 10, 10)]),
            CategorySpec("可持续影响指标", [P("工作连续的持久度", "得到提升", "得到提升", 10, 10)]),
        ]),
        BlockSpec("满意度指标 10 分", [
            CategorySpec("服务对象满意度指标", [P("企业退休人员满意率", "不低于95%", "96.5%", 10, 10)]),
        ]),
    ])
    result = run_book(tmp_path, [("自评表", standard_grid(spec))])
    form = only_form(result)
    short = {"新增参保人数": 1150 / 1200 * 6, "问题整改时限": 5 / 6 * 6, "单户监测成本": 300 / 320 * 7}
    assert figures(form) == approx({**CLEAN, "total_reported": 97.81,
                                    "total_score": 9.5 + 6 + 6 + 6 + 6 + 7 + 40 + sum(short.values())})
    scores = dict(zip(result.indicators["name"], result.indicators["score"], strict=True))
    assert scores == approx({"失业动态监测企业数": 6, "资金使用合理率": 6, "发放差错率 (%)": 6, "业务办理时限": 6,
                             "人均管理服务成本": 7, "失业监测覆盖率": 10, "资料归档率": 10, "工作连续的持久度": 10,
                             "企业退休人员满意率": 10, **short})
    kinds = dict(zip(result.indicators["name"], result.indicators["kind"], strict=True))
    assert {n for n, k in kinds.items() if k != "quantitative"} == {"工作连续的持久度"}
    assert found(result) == []


# --- 9. percentages as numbers with a % format vs typed as text ----------------------------------------

def _percent_form(as_numbers: bool) -> Grid:
    """clean_form with 满意率 95% → 92% (9.68 of 10, explained) and 合理率 100% → 100%, 执行率 95%:
    typed as text, or stored as fractions with a % number format (what calamine sees: 0.95)."""
    spec = clean_form(total_reported=99.18)
    satisfaction = indicator(spec, "企业退休人员满意率")
    satisfaction.target, satisfaction.actual, satisfaction.score = "95%", "92%", 9.68
    satisfaction.deviation = "部分企业反映待遇认证流程较繁琐，已简化材料"
    indicator(spec, "资金使用合理率").target = "100%"
    grid = standard_grid(spec)
    if as_numbers:
        grid.set("G6", 0.95, "0.00%")
        for name, target, actual in (("企业退休人员满意率", 0.95, 0.92), ("资金使用合理率", 1, 1)):
            row = grid.row_of(name)
            grid.set((row, 4), target, "0%")
            grid.set((row, 5), actual, "0%")
    return grid


def test_percentages_as_numbers_or_text_give_the_same_result(tmp_path):
    as_text = run_book(tmp_path / "text", [("自评表", _percent_form(as_numbers=False))])
    as_numbers = run_book(tmp_path / "numbers", [("自评表", _percent_form(as_numbers=True))])
    assert as_numbers.indicators.set_index("name").loc["企业退休人员满意率", "target"] == 0.95
    expected = {**CLEAN, "total_reported": 99.18, "total_score": 89.5 + 0.92 / 0.95 * 10}
    for result in (as_text, as_numbers):
        assert figures(only_form(result)) == approx(expected)
        assert score_of(result, "企业退休人员满意率") == pytest.approx(0.92 / 0.95 * 10)
        assert score_of(result, "资金使用合理率") == 8
        assert found(result) == []
    columns = ["name", "weight", "score_reported", "kind", "score", "fully_met", "deviation", "cells"]
    pd.testing.assert_frame_equal(as_numbers.indicators[columns], as_text.indicators[columns])


# --- 10. formulas: the cached value is the value --------------------------------------------------------

def test_formulas_use_their_cached_values(tmp_path):
    """执行率 =E6/D6, 得分 =ROUND(MIN(G6,1)*F6,2), 总分 =SUM(H13:H36)+H6 and two indicator 得分
    formulas, cached as a spreadsheet computed them: the reported figures are the cached ones
    (5.69 and 95.69, where the recomputation gives 5.685 and 95.685)."""
    grid = standard_grid(seed_form(**FORMULAS))
    for name in ("退休人员数量", "失业动态监测企业数"):
        r = grid.row_of(name) + 1
        grid.set((r - 1, 7), Formula(f"=IF(N(F{r})>=N(E{r}),G{r},ROUND(N(F{r})/N(E{r})*G{r},2))",
                                     grid[f"H{r}"]))
    assert grid["H37"] == Formula("=SUM(H13:H36)+H6", 95.69)
    result = run_book(tmp_path, [("自评表", grid)])
    assert figures(only_form(result)) == approx({**SEED, "rate_reported": RATE, "budget_score_reported": 5.69,
                                                 "total_reported": 95.69})
    assert list(result.indicators["score_reported"]) == [10, 8, 8, 8, 8, 8, 10, 10, 10, 10]
    assert found(result) == SEED_FINDINGS


# --- 11. the same drifted form as .xlsx, .xlsm, .xls and .ods ---------------------------------------------

# variants.drifted_grid(): 3 rows down, 1 column right; reported figures are its formulas' results.
DRIFTED = {**SEED, "rate_reported": RATE, "budget_score_reported": 5.69, "total_reported": 95.69}
DRIFTED_FINDINGS = [("HIGH_SCORE_LOW_EXECUTION", "I40"), ("LOW_EXECUTION", "H9"), ("REQUIRED_CATEGORY_EMPTY", "E24")]


def test_drifted_grid_is_where_the_findings_say():
    grid = drifted_grid()
    assert ref(grid, "执行率（B/A）") == "H8"
    assert grid["H9"] == Formula('=IF(N(E9)=0,"",F9/E9)', RATE)
    assert grid["I40"] == Formula("=SUM(I16:I39)+I9", 95.69)
    assert ref(grid, "成本指标") == "D24"


@pytest.mark.parametrize("fmt", ["source", "xlsx", "xlsm", "xls", "ods"])
def test_same_form_in_every_file_format(lo_files, fmt, tmp_path):
    """"source" is XlsxWriter's file; the others LibreOffice recalculated and saved (ods: no merges)."""
    path = lo_files["drifted", fmt]
    assert path.suffix == (".xlsx" if fmt == "source" else f".{fmt}")
    result = run_file(tmp_path / fmt, path)
    assert figures(only_form(result)) == approx(DRIFTED)
    assert names(result) == SEED_NAMES
    assert found(result) == DRIFTED_FINDINGS
    assert all(f.source_file == path.name and f.sheet == "自评表" for f in result.findings)
    if fmt != "source":
        base = run_file(tmp_path / "source", lo_files["drifted", "source"])
        pd.testing.assert_frame_equal(result.indicators, base.indicators)
        assert [(f.rule, f.cell, f.message) for f in result.findings] == [
            (f.rule, f.cell, f.message) for f in base.findings]
        for col in ("cells", "blocks", "categories", "weight_sum", "empty_required_ref"):
            assert result.forms.iloc[0][col] == base.forms.iloc[0][col], col


# --- 12. several forms in one workbook, beside sheets that are not forms -----------------------------------

@pytest.mark.parametrize("fmt", ["source", "xlsx", "xlsm", "xls", "ods"])
def test_workbook_with_several_forms_and_other_sheets(lo_files, fmt, tmp_path):
    """variants.several_forms_sheets(): 填报说明 (a table quoting the form's labels), 目录, three
    projects of one unit (the third two columns right) and a blank sheet."""
    path = lo_files["several_forms", fmt]
    result = run_file(tmp_path, path)
    (record,) = result.files
    assert (record.status, record.code) == ("accepted", "")
    assert [(f.sheet, f.project, f.status) for f in record.forms] == [
        ("社会化管理服务费", PROJECTS[0], "accepted"), ("退休人员管理经费", PROJECTS[1], "accepted"),
        ("联络员补贴", PROJECTS[2], "accepted")]
    forms = result.forms.set_index("sheet")
    assert figures(forms.loc["社会化管理服务费"]) == approx(SEED)
    assert figures(forms.loc["退休人员管理经费"]) == approx({
        **CLEAN, "project": PROJECTS[1], "budget_full_year": 12, "executed": 11.4})
    assert figures(forms.loc["联络员补贴"]) == approx({
        **CLEAN, "project": PROJECTS[2], "budget_full_year": 3, "executed": 3, "execution_rate": 1,
        "rate_reported": 1, "budget_score_reported": 10, "budget_score": 10, "total_reported": 100,
        "total_score": 100})
    assert forms.loc["联络员补贴", "cells"]["project"] == "E3"
    assert sorted((f.sheet, f.rule, f.cell) for f in result.findings) == [
        ("社会化管理服务费", rule, cell) for rule, cell in SEED_FINDINGS]
    by_sheet = result.indicators.groupby("form_id")["name"].apply(list)
    assert [by_sheet[i] for i in result.forms.index] == [SEED_NAMES, CLEAN_NAMES, CLEAN_NAMES]


# --- 13. resubmissions: the same 实施单位 + 项目名称 + year more than once --------------------------------

MARCH_1 = 1_709_251_200  # 2024-03-01 00:00 UTC
DAY = 86_400


def test_resubmissions_newest_copy_counts(lo_files, tmp_path):
    """An .xlsx, a corrected copy in a subfolder, and an .ods re-saved two days later."""
    inbox = tmp_path / "inbox"
    (inbox / "补报").mkdir(parents=True)
    first = write_book(inbox / "承德县社会保险事业服务中心.xlsx", [("自评表", standard_grid(seed_form()))])
    again = write_book(inbox / "补报" / "自评表.xlsx", [("自评表", drifted_grid())])
    ods = Path(shutil.copy(lo_files["seed", "ods"], inbox / "承德县社会保险事业服务中心（修改稿）.ods"))
    for i, path in enumerate((first, again, ods)):
        os.utime(path, (MARCH_1 + i * DAY, MARCH_1 + i * DAY))
    newest = ods.name

    result = run(inbox, tmp_path / "outbox", Config())
    assert {f.path: (f.status, f.code) for f in result.files} == {
        first.name: ("accepted", ""), "补报/自评表.xlsx": ("accepted", ""), newest: ("accepted", "")}
    superseded = dict(zip(result.forms["source_file"], result.forms["superseded_by"], strict=True))
    assert superseded == {first.name: newest, "补报/自评表.xlsx": newest, newest: ""}
    assert list(result.forms["duplicate_count"]) == [3, 3, 3]
    assert sorted((f.source_file, f.rule, f.cell) for f in result.findings) == sorted(
        [(first.name, "DUPLICATE_SUBMISSION", "C3"), *((first.name, *f) for f in SEED_FINDINGS),
         ("补报/自评表.xlsx", "DUPLICATE_SUBMISSION", "D6"), *(("补报/自评表.xlsx", *f) for f in DRIFTED_FINDINGS),
         (newest, "DUPLICATE_SUBMISSION", "C3"), *((newest, *f) for f in SEED_FINDINGS)])
    messages = {f.source_file: f.message for f in result.findings if f.rule == "DUPLICATE_SUBMISSION"}
    assert all("共收到 3 份" in m for m in messages.values())
    assert f"以最新的 {newest} 为准" in messages[first.name]
    assert "本份为最新" in messages[newest]

    with (tmp_path / "outbox" / "projects.csv").open(encoding="utf-8-sig", newline="") as fh:
        rows = {row["source_file"]: row for row in csv.DictReader(fh)}
    assert {name: row["superseded_by"] for name, row in rows.items()} == superseded
    assert {row["year"] for row in rows.values()} == {"2023"}

    # Same mtime: the name decides — the last in (mtime, name) order is the newest.
    os.utime(again, (MARCH_1 + 2 * DAY, MARCH_1 + 2 * DAY))
    tied = process(inbox, Config())
    # A tie indeed: both copies carry the same mtime, and the name (补 U+8865 after 承 U+627F) decides.
    assert dict(zip(tied.forms["source_file"], tied.forms["mtime"], strict=True)) == {
        first.name: MARCH_1, "补报/自评表.xlsx": MARCH_1 + 2 * DAY, newest: MARCH_1 + 2 * DAY}
    assert dict(zip(tied.forms["source_file"], tied.forms["superseded_by"], strict=True)) == {
        first.name: "补报/自评表.xlsx", "补报/自评表.xlsx": "", newest: "补报/自评表.xlsx"}


# --- 14. merged cells, or the same layout without any merge ------------------------------------------------

@pytest.mark.parametrize("build, expected, expected_findings", [
    (lambda: standard_grid(seed_form()), SEED, SEED_FINDINGS),
    (drifted_grid, DRIFTED, DRIFTED_FINDINGS),
], ids=["standard", "drifted"])
def test_merged_cells_or_none_give_the_same_result(tmp_path, build, expected, expected_findings):
    """Merged; unmerged in Excel (values left in the top-left cells); unmerged with WPS's
    取消合并并填充内容 (every cell of a former range repeats its value: 一级/二级 labels on
    every indicator row, the project name across C3:I3)."""
    merged = build()
    assert len(merged.merges) > 20
    grids = {"merged": merged, "unmerged": merged.unmerged(), "filled": merged.unmerged(fill=True)}
    assert grids["filled"]["B14"] == grids["filled"]["B13"] == merged["B13"]
    results = {}
    for name, grid in grids.items():
        result = results[name] = run_book(tmp_path / name, [("自评表", grid)])
        assert figures(only_form(result)) == approx(expected)
        assert names(result) == SEED_NAMES
        assert found(result) == expected_findings
        book = calamine.CalamineWorkbook.from_path(str(tmp_path / name / "inbox" / "自评表.xlsx"))
        assert len(book.get_sheet_by_name("自评表").merged_cell_ranges or []) == len(grid.merges)
    base = results["merged"]
    for result in (results["unmerged"], results["filled"]):
        pd.testing.assert_frame_equal(result.indicators, base.indicators)
        assert [(f.rule, f.cell, f.message) for f in result.findings] == [
            (f.rule, f.cell, f.message) for f in base.findings]
        for col in ("cells", "blocks", "categories"):
            assert result.forms.iloc[0][col] == base.forms.iloc[0][col], col


@pytest.mark.parametrize("fill, cell", [(False, "B3"), (True, "C3")], ids=["unmerged", "filled"])
def test_empty_project_without_merges(tmp_path, fill, cell):
    """An empty 项目名称 is named at the cell after the label: after A3:B3 when merged (C3), after
    its repeats when filled (C3); with nothing to tell where the label ends, right beside A3 (B3)."""
    grid = standard_grid(clean_form(project=None)).unmerged(fill=fill)
    assert (grid["A3"], grid["B3"]) == ("项目名称", "项目名称" if fill else None)
    result = run_book(tmp_path, [("自评表", grid)])
    assert [(f.status, f.code) for f in result.files] == [("rejected", "MISSING_FIELD")]
    assert found(result) == [("MISSING_FIELD", cell)]
