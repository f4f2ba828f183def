"""Published provincial layouts parse by role (issue 13, SPEC section 1 "Provincial variants").

Every layout of tests/provinces.py (each builder's docstring names its published source) is run
through the public API, `xlbatch.check_files`, and each project form's stated facts are compared
with what the source prints: header fields, year, 全年预算数 and 全年执行数 of the 年度资金总额
row, the execution rate, the reported and the recomputed total, the number of real indicators.
Then one test per structural variant pins the figure that variant is about, and `[labels]`
shows a bureau adding its own spelling.
"""

from __future__ import annotations

import functools
import math
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from provinces import DAYING_ANKE, DAYING_FIRST, LAYOUTS, QINGSHEN, Sheet, _daying_form, _sichuan_form
from seed import seed_form
from variants import standard_grid, write_book

import xlbatch
from xlbatch.config import Config, ConfigError, parse_config

COLUMNS = {"budget": "budget_full_year", "executed": "executed", "rate": "execution_rate",
           "total_recomputed": "total_score"}
TOLERANCE = {"rate": 0.00005, "total_reported": 0.01, "total_recomputed": 0.06}
NUMBERS = ("year", "budget", "executed", "rate", "total_reported", "total_recomputed")


def check(tmp_path: Path, name: str):
    layout = LAYOUTS[name]
    return xlbatch.check_files([layout.build(tmp_path / layout.filename)])


def form_row(result, project: str):
    hits = result.forms[result.forms["project"] == project]
    assert len(hits) == 1, f"{project}: {len(hits)} forms"
    return hits.iloc[0]


def rules_of(result) -> set[str]:
    return {f.rule for f in result.findings}


def test_the_layouts_come_from_five_provinces_and_a_department_form():
    project_layouts = [layout for layout in LAYOUTS.values() if layout.expected]
    assert len(project_layouts) >= 8
    assert {layout.province[:2] for layout in project_layouts} >= {"安徽", "河北", "四川", "宁夏", "湖北", "上海"}
    assert all(layout.source.startswith("http") for layout in LAYOUTS.values())


@pytest.mark.parametrize("name", [n for n, layout in LAYOUTS.items() if layout.file_status == "accepted"])
def test_every_stated_fact_of_an_accepted_layout_is_read(tmp_path, name):
    layout = LAYOUTS[name]
    result = check(tmp_path, name)
    assert result.files[0].status == "accepted"
    assert len(result.forms) == len(layout.expected)
    for exp in layout.expected:
        row = form_row(result, exp.project)
        assert (row["unit"], row["sheet"]) == (exp.unit, exp.sheet)
        if exp.department is not None:
            assert row["department"] == exp.department
        for fact in NUMBERS:
            want = getattr(exp, fact)
            if want is not None:
                assert math.isclose(float(row[COLUMNS.get(fact, fact)]), want, abs_tol=TOLERANCE.get(fact, 0.001)), fact
        assert int((result.indicators["form_id"] == row.name).sum()) == exp.indicators
        for goal in ("goal_expected", "goal_actual"):
            if getattr(exp, goal) is not None:
                assert row[goal] == getattr(exp, goal), goal
        assert set(exp.rules) <= rules_of(result)
    # The labels are recognised: nothing reads as a field not found or a broken form, unless the
    # published form itself does not add up (a rule its Expected names).
    stated = {rule for exp in layout.expected for rule in exp.rules}
    assert not (rules_of(result) - stated) & {"MISSING_FIELD", "WEIGHTS_INVALID", "NO_FORM_FOUND", "TOTAL_MISMATCH"}


def test_a_form_whose_total_row_is_zero_beside_a_filled_source_row_is_budget_zero(tmp_path):
    """安徽 贵池 as published: 年度资金总额 0 0 0 beside 其中:本年财政拨款 89.974 (anhui_guichi_2022_published)."""
    layout = LAYOUTS["anhui_guichi_2022_published"]
    result = check(tmp_path, "anhui_guichi_2022_published")
    (form,) = result.files[0].forms
    assert (result.files[0].status, form.status, form.code) == ("rejected", "rejected", "BUDGET_ZERO")
    assert (form.project, form.unit) == (layout.expected[0].project, layout.expected[0].unit)
    (finding,) = [f for f in result.findings if f.rule == "BUDGET_ZERO"]
    assert finding.cell == "D7" and "89.974" in finding.message


def test_a_department_wide_form_alone_is_no_form_found_saying_what_it_is(tmp_path):
    result = check(tmp_path, "hunan_yueyang_department_2018")
    record = result.files[0]
    assert (record.status, record.code) == ("rejected", "NO_FORM_FOUND")
    assert "是部门整体支出绩效自评表，不是项目支出绩效自评表" in record.message
    assert rules_of(result) == {"NO_FORM_FOUND"}


def test_an_instructions_sheet_beside_a_form_raises_nothing(tmp_path):
    (tmp_path / "alone").mkdir()
    (tmp_path / "both").mkdir()
    alone = check(tmp_path / "alone", "ningxia_yinchuan_2021")
    both = check(tmp_path / "both", "ningxia_yinchuan_2021_with_instructions")
    assert [f.rule for f in both.findings] == [f.rule for f in alone.findings]
    assert all(f.sheet != "填报说明" for f in both.findings)


def test_a_form_in_yuan_is_read_as_printed_and_flagged_as_amount_scale(tmp_path):
    """上海 普陀 (shanghai_putuo_2022): 项目资金 (元). The amounts are read as printed, so the rate
    and the scores (ratios) come out right; the amounts stay out of the county totals as
    AMOUNT_SCALE_SUSPECT, whose message tells the unit to report in 万元 — xlbatch does not convert
    a form's amounts by the unit its label states."""
    result = check(tmp_path, "shanghai_putuo_2022")
    settlement = form_row(result, "普陀体育中心与委托运营方结算费用")
    assert (settlement["budget_full_year"], settlement["executed"]) == (250000, 215457.6)
    assert (settlement["budget_score"], settlement["total_score"]) == pytest.approx((8.62, 98.62), abs=0.005)
    scale = [f for f in result.findings if f.rule == "AMOUNT_SCALE_SUSPECT"]
    assert [(f.sheet, f.cell) for f in scale] == [("自评表1", "C6"), ("自评表2", "C6")]
    assert "250,000" in scale[0].message and "疑似按元填报" in scale[0].message
    # "—" in the source rows' 分值/执行率/得分 cells is no number; >=90% is a target like ≥90%.
    assert math.isnan(settlement["fund_current_weight"]) and math.isnan(settlement["fund_current_score"])
    satisfaction = result.indicators[result.indicators["name"] == "场馆开放满意度"].iloc[0]
    assert (satisfaction["target"], satisfaction["score"]) == (">=90%", 10)
    # The second form's source rows print 0 under its 20000.00 total, as published.
    (gap,) = [f for f in result.findings if f.rule == "FUNDS_DONT_ADD_UP"]
    assert gap.sheet == "自评表2" and "20,000" in gap.message


def test_header_fields_on_one_row_and_a_project_added_during_the_year(tmp_path):
    """四川 大英 (sichuan_daying_2023): 主管部门 | … | 实施单位 | … on one row, 年初预算 0.00 beside
    调整后预算数 3.36: both header values read, the rate taken on the adjusted budget; the two forms
    one below the other are cut apart at their titles."""
    result = check(tmp_path, "sichuan_daying_2023")
    first, second = (form_row(result, p) for p in (DAYING_FIRST["project"], DAYING_ANKE["project"]))
    assert (second["department"], second["unit"]) == ("大英县司法局部门", "大英县司法局")
    assert (second["budget_initial"], second["budget_full_year"], second["execution_rate"]) == (0, 3.36, 1)
    assert (first["cells"]["unit"], second["cells"]["unit"]) == ("I3", "I22")
    assert rules_of(result) == {"REQUIRED_CATEGORY_EMPTY", "INCOMPARABLE_VALUES"}


def test_a_word_as_the_actual_of_a_split_target_keeps_no_unit(tmp_path):
    """大英's first form: ≤ | 30 | 万元 | 完成. The unit joins the number (target ≤30万元), not the
    word: the actual reads 完成, and the finding quotes it so."""
    result = check(tmp_path, "sichuan_daying_2023")
    cost = result.indicators[result.indicators["name"] == "成本控制数"].iloc[0]
    assert (cost["target"], cost["actual"], cost["score"]) == ("≤30万元", "完成", 90)
    (finding,) = [f for f in result.findings if f.rule == "INCOMPARABLE_VALUES"]
    assert "「完成」" in finding.message and "完成万元" not in finding.message


@pytest.mark.parametrize(("value", "unit", "actual", "read"), [
    ("30", "万元", "完成", ("≤30万元", "完成")),  # 大英 as printed: a word keeps no unit
    ("30万元", "万元", "28万元", ("≤30万元", "28万元")),  # the unit typed in the value too: once
    ("100", "%", "100%", ("≤100%", "100%")),
    ("13", "台", 13, ("≤13台", "13台")),  # a number cell takes the unit column's unit
])
def test_a_split_target_takes_its_unit_once(tmp_path, value, unit, actual, read):
    """指标性质 | 指标值 | 度量单位 | 完成值 as clerks fill them in the 大英 form (sichuan_daying_2023)."""
    s = Sheet()
    row = ("产出指标", "数量指标", "成本控制数", "≤", value, unit, actual, 90, 90)
    _daying_form(s, **dict(DAYING_FIRST, rows=[row]))
    result = xlbatch.check_files([write_book(tmp_path / "自评表.xlsx", [("自评表", s.grid)])])
    row = result.indicators.iloc[0]
    assert (row["target"], row["actual"]) == read


def test_a_form_whose_published_weights_do_not_add_up(tmp_path):
    """四川 中江 衔接资金 (sichuan_zhongjiang_2022): 资金情况(万元) with no 年初预算数 column, 分值 before
    年度指标值, 全年实际值 — every field read; the form as published scores 100 points of indicators
    beside the budget's 10 and reports 总分 100: WEIGHTS_INVALID (110) and TOTAL_MISMATCH, each at its
    cell, are the form's own, not a misreading."""
    result = check(tmp_path, "sichuan_zhongjiang_2022")
    row = form_row(result, "中江县农业水价综合改革精准补贴和节水奖励项目小型水库水标尺制作安装")
    assert (row["title"], row["year"]) == ("绩效目标自评表(2022年度)", 2022)
    assert (row["budget_weight"], row["weight_sum"], row["total_reported"]) == (10, 110, 100)
    assert math.isnan(row["budget_initial"])
    frame = result.indicators
    assert list(frame["weight"]) == [10, 10, 20, 10, 10, 10, 10, 10, 10]
    assert (frame.iloc[0]["target"], frame.iloc[0]["actual"]) == ("≥266米", "≥266米")
    assert {f.rule: f.cell for f in result.findings if f.rule in ("WEIGHTS_INVALID", "TOTAL_MISMATCH")} == {
        "WEIGHTS_INVALID": "E22", "TOTAL_MISMATCH": "H22"}


def test_a_score_sheet_without_budget_figures_is_not_supported(tmp_path):
    """湖南 项目支出绩效评价评分表 (hunan_project_score_table_2017): 一级/二级/三级/四级 with 分值 and
    得分 only — no 全年预算数, 全年执行数, 年度指标值 or 实际完成值 anywhere. Rejected as MISSING_FIELD,
    naming the two amounts; there is no funds header on the sheet, so no labels are listed beside them."""
    layout = LAYOUTS["hunan_project_score_table_2017"]
    result = check(tmp_path, "hunan_project_score_table_2017")
    record = result.files[0]
    (form,) = record.forms
    assert (record.status, form.status, form.code) == ("rejected", "rejected", "MISSING_FIELD")
    assert (form.project, form.unit) == (layout.expected[0].project, layout.expected[0].unit)
    assert "「全年预算数」（未找到该栏）" in record.message and "「全年执行数」（未找到该栏）" in record.message
    # check lists, after the rejection, what the rules compute on what the sheet has (issue 14): the
    # required 二级指标 are not there. Nothing that needs the amounts or the 年度资金总额 row's 分值
    # (the weights would add up to 10 + 100 with the configured 分值 the sheet does not have).
    assert [f.rule for f in result.findings] == ["MISSING_FIELD", "REQUIRED_CATEGORY_EMPTY"]
    needs = [needs for named in result.extra["not_computed"].values() for needs, _codes in named]
    assert needs == ["全年预算数和全年执行数", "年度资金总额一行的分值"]


def test_budget_execution_scored_as_an_indicator_counts_once(tmp_path):
    """宁夏 银川: 预算执行率 is an indicator row (参考分值 10); it is the budget score, not a 17th
    indicator, and the weights add up to 100 (not 110)."""
    result = check(tmp_path, "ningxia_yinchuan_2021")
    row = form_row(result, "初中公用经费")
    assert (row["budget_weight"], row["weight_sum"]) == (10, 100)
    assert "预算执行率" not in set(result.indicators["name"])
    assert "WEIGHTS_INVALID" not in rules_of(result)


def test_the_total_merged_over_header_and_value_rows_and_the_header_self_score(tmp_path):
    """宁夏 银川: 年度资金总额 is merged down beside the 年初预算数 … header; 自评得分 94 is in the
    header, there is no 总分 row."""
    row = form_row(check(tmp_path, "ningxia_yinchuan_2021"), "初中公用经费")
    assert (row["budget_full_year"], row["executed"], row["total_reported"]) == (64.8, 64.8, 94)


def test_weights_only_in_block_labels_are_shared_equally(tmp_path):
    """湖北 长江禁捕: 预算执行情况(万元)(20分) and 年度绩效目标(80分) over five indicators: 16 each."""
    result = check(tmp_path, "hubei_changjiang_2020")
    row = form_row(result, "渔业成品油价格改革补贴")
    assert row["budget_weight"] == 20
    assert list(result.indicators["weight"]) == [16] * 5
    assert row["weight_sum"] == 100


def test_a_weight_column_and_a_target_split_over_three_columns(tmp_path):
    """四川 青神: 权重 60 / 30; 指标性质 = | 指标值 100 | 度量单位 % read as the target =100%, and the
    unit applied to the 完成值 100."""
    result = check(tmp_path, "sichuan_qingshen_2023")
    frame = result.indicators
    assert list(frame["weight"]) == [60, 30]
    assert list(frame["target"]) == ["=100%", "=100%"] and list(frame["actual"]) == ["100%", "100%"]
    assert list(frame["score"]) == [60, 30]


def sichuan_with_sources(path: Path, unit_funds: tuple) -> Path:
    """The 四川 青神 form (sichuan_qingshen_2023) with money in its other source rows."""
    funds = {"总额": (100.0, 120.0, 108.0), "其中:财政资金": (80.0, 100.0, 90.0),
             "财政专户管理资金": (15.0, 15.0, 13.0), "单位资金": unit_funds, "其他资金": (None, None, None)}
    s = Sheet()
    _sichuan_form(s, **dict(QINGSHEN, funds=funds, score=9))
    return write_book(path, [("自评表", s.grid)])


def test_other_source_rows_add_up_into_other_funds(tmp_path):
    result = xlbatch.check_files([sichuan_with_sources(tmp_path / "自评表.xlsx", (5.0, 5.0, 5.0))])
    row = form_row(result, QINGSHEN["project"])
    assert (row["fund_other_initial"], row["fund_other_full_year"], row["fund_other_executed"]) == (20, 20, 18)
    assert row["cells"]["fund_other_full_year"] == "E14+E15"
    assert "FUNDS_DONT_ADD_UP" not in rules_of(result)


def test_other_source_rows_that_do_not_add_up_are_found(tmp_path):
    result = xlbatch.check_files([sichuan_with_sources(tmp_path / "自评表.xlsx", (5.0, 5.0, 6.0))])
    (finding,) = [f for f in result.findings if f.rule == "FUNDS_DONT_ADD_UP"]
    assert "109" in finding.message and "108" in finding.message


def test_only_appropriation_and_other_funds(tmp_path):
    """A funds block of 年度资金总额 / 其中：财政拨款 / 其他资金 only (no 上年结转 row)."""
    grid = standard_grid(seed_form())
    grid.relabel("其中：当年财政拨款", "其中：财政拨款")
    grid.merges.remove((4, 0, 8, 0))  # 项目资金（万元） down the block's five rows: four now
    grid.delete_rows(grid.row_of("上年结转资金"))
    grid.merge("A5:A8")
    result = xlbatch.check_files([write_book(tmp_path / "自评表.xlsx", [("自评表", grid)])])
    row = result.forms.iloc[0]
    assert (row["fund_current_full_year"], row["budget_full_year"]) == (5.4, 5.4)
    assert "MISSING_FIELD" not in rules_of(result)


def test_a_label_and_its_value_in_one_cell(tmp_path):
    """「项目名称：XXX」 in one cell, the value cell beside it left empty."""
    grid = standard_grid(seed_form())
    grid.set("A3", "项目名称：失业动态监测，社会化管理服务费")
    grid.set("C3", None)
    row = xlbatch.check_files([write_book(tmp_path / "自评表.xlsx", [("自评表", grid)])]).forms.iloc[0]
    assert row["project"] == "失业动态监测，社会化管理服务费"


@pytest.mark.parametrize(("title", "filename", "year"), [
    ("失业动态监测项目支出绩效自评表（2023年度）", "自评表.xlsx", 2023),
    ("失业动态监测项目支出绩效自评表（二〇二三年度）", "自评表.xlsx", 2023),
    ("失业动态监测项目支出绩效自评表", "2022年自评表.xlsx", 2022),
])
def test_the_year_from_the_title_or_the_file_name(tmp_path, title, filename, year):
    grid = standard_grid(seed_form())
    grid.set("A1", title)
    grid.set("A2", None)  # the seed's year line（2023 年度）
    row = xlbatch.check_files([write_book(tmp_path / filename, [("自评表", grid)])]).forms.iloc[0]
    assert row["year"] == year


@pytest.mark.parametrize("name", ["sichuan_qingshen_2023", "ningxia_yinchuan_2021"])
def test_goals_under_their_own_words_are_read(tmp_path, name):
    """四川 青神 heads its goals 项目年度目标 | 年度目标完成情况, side by side with the texts below
    them (the 完成情况 left as the template's prompt); 宁夏 银川 puts 年初设定目标 over
    年度总体目标完成情况综述, each text right of its label."""
    exp = LAYOUTS[name].expected[0]
    row = form_row(check(tmp_path, name), exp.project)
    assert (row["goal_expected"], row["goal_actual"]) == (exp.goal_expected, exp.goal_actual)
    assert row["goal_expected"] and row["goal_actual"]


def test_several_forms_stacked_on_one_sheet(tmp_path):
    result = check(tmp_path, "sichuan_qingshen_2023_stacked")
    assert [f.sheet for f in result.files[0].forms] == ["自评表", "自评表"]
    assert list(result.forms["total_score"]) == [100, 99.5]


# --- a bureau's own spellings: [labels] -----------------------------------------------------

def relabelled_seed(tmp_path: Path) -> Path:
    grid = standard_grid(seed_form()).relabel("全年预算数", "本年可用数")
    return write_book(tmp_path / "自评表.xlsx", [("自评表", grid)])


def test_a_spelling_added_in_labels_is_read(tmp_path):
    path = relabelled_seed(tmp_path)
    assert "MISSING_FIELD" in rules_of(xlbatch.check_files([path]))
    cfg = parse_config({"labels": {"fund_column": {"full_year": ["本年可用数"]}}})
    result = xlbatch.check_files([path], cfg)
    assert "MISSING_FIELD" not in rules_of(result)
    assert result.forms.iloc[0]["budget_full_year"] == 5.4
    # The vocabulary is the built-in one again for the next run without [labels].
    assert "MISSING_FIELD" in rules_of(xlbatch.check_files([path]))


@pytest.mark.parametrize("word", ["本年可用数（万元）", "本年\n可用数", " 本年可用数 (A)"])
def test_a_spelling_in_labels_is_matched_as_a_label_is(tmp_path, word):
    """A bureau copies the label from its template, suffix and line break included: it reads the same."""
    cfg = parse_config({"labels": {"fund_column": {"full_year": [word]}}})
    result = xlbatch.check_files([relabelled_seed(tmp_path)], cfg)
    assert "MISSING_FIELD" not in rules_of(result)
    assert result.forms.iloc[0]["budget_full_year"] == 5.4


def test_a_spelling_of_only_a_suffix_is_a_configuration_error():
    """「（万元）」 has no words left once suffixes are dropped: as a stem it would fit every short label."""
    with pytest.raises(ConfigError) as raised:
        parse_config({"labels": {"fund_column": {"full_year": ["（万元）"]}}})
    assert "fund_column.full_year" in str(raised.value) and "去掉空格和括号内的后缀后为空" in str(raised.value)


def test_labels_naming_an_unknown_role_are_a_configuration_error():
    with pytest.raises(ConfigError) as raised:
        parse_config({"labels": {"fund_column": {"budget": ["本年可用数"]}}})
    assert "fund_column.budget" in str(raised.value) and "fund_column.full_year" in str(raised.value)
    with pytest.raises(ConfigError):
        parse_config({"labels": {"fund_column": {"full_year": []}}})


def test_the_ledger_reads_again_when_labels_change(tmp_path):
    """A nightly run caches each file's outcome; a new spelling in [labels] must re-read the file."""
    inbox, outbox = tmp_path / "inbox", tmp_path / "outbox"
    inbox.mkdir()
    relabelled_seed(inbox)
    first = xlbatch.run(inbox, outbox, Config())
    assert "MISSING_FIELD" in rules_of(first)
    second = xlbatch.run(inbox, outbox, parse_config({"labels": {"fund_column": {"full_year": ["本年可用数"]}}}))
    assert "MISSING_FIELD" not in rules_of(second)


# --- any published decoration of a label finds its role ------------------------------------

DECORATIONS = st.sampled_from(["", "(A)", "(B)", "（万元）", "(万元)", "\n（万元）", "(B/A)", "：", " "])
LABELS = ("全年预算数", "全年执行数", "年度资金总额", "三级指标", "年度\n指标值", "实际\n完成值", "实施单位")


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(suffixes=st.lists(DECORATIONS, min_size=len(LABELS), max_size=len(LABELS)),
       breaks=st.lists(st.integers(0, 3), min_size=len(LABELS), max_size=len(LABELS)))
def test_decorated_labels_read_the_same_figures(tmp_path_factory, suffixes, breaks):
    """Each label with a published suffix ((A), （万元）, a colon) and possibly a line break inside
    it: the same unit, budget, execution and total as the seed."""
    grid = standard_grid(seed_form())
    for label, suffix, at in zip(LABELS, suffixes, breaks, strict=True):
        broken = label[:at] + "\n" + label[at:] if at and "\n" not in label else label
        grid.relabel(label, broken + suffix)
    folder = tmp_path_factory.mktemp("decorated")
    result = xlbatch.check_files([write_book(folder / "自评表.xlsx", [("自评表", grid)])])
    row = result.forms.iloc[0]
    assert (row["unit"], row["budget_full_year"], row["executed"]) == ("承德县社会保险事业服务中心", 5.4, 3.07)
    assert math.isclose(row["total_score"], seed_total(), abs_tol=0.01)
    assert "MISSING_FIELD" not in rules_of(result)


@functools.cache
def seed_total() -> float:
    with tempfile.TemporaryDirectory() as tmp:
        path = write_book(Path(tmp) / "自评表.xlsx", [("自评表", standard_grid(seed_form()))])
        return float(xlbatch.check_files([path]).forms.iloc[0]["total_score"])
