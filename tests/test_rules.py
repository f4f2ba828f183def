"""The rule catalogue (SPEC sections 2 and 3), rule by rule, on realistic forms.

Every test starts from `clean_form()`: the real seed submission with its budget
95% executed and a 成本指标 filled in, which yields no finding at all. Each test
then changes one thing and checks that exactly the expected rules fire, on the
expected cell, with the reported and the expected figures in the message; its
near-identical twin checks that the rule stays silent.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from conftest import rules_of, run_specs
from forms import COST, SATISFACTION, STABILITY, P, block, category, clean_form, edit, form, only
from overflow import store_numbers
from seed import seed_form

from xlbatch.checks.rules import CATALOGUE, EVALUATE, VALIDATE
from xlbatch.config import Config
from xlbatch.models import Finding
from xlbatch.outputs.template import FormSpec, write_workbook
from xlbatch.pipeline import RunResult, process

# --- the catalogue is covered -----------------------------------------------------------

FRAME_RULES = {
    "MISSING_FIELD", "BAD_NUMBER", "BUDGET_ZERO", "RATE_MISMATCH", "BUDGET_SCORE_MISMATCH", "OVER_BUDGET",
    "FUNDS_DONT_ADD_UP", "LOW_EXECUTION", "HIGH_SCORE_LOW_EXECUTION", "SCORE_OUT_OF_RANGE",
    "INDICATOR_SCORE_MISMATCH", "WEIGHTS_INVALID", "TOTAL_MISMATCH", "SELF_SCORE_INFLATED",
    "UNEXPLAINED_DEVIATION", "MISSING_ACTUAL", "REQUIRED_CATEGORY_EMPTY", "INCOMPARABLE_VALUES",
    "DUPLICATE_SUBMISSION", "AMOUNT_SCALE_SUSPECT", "WRONG_YEAR", "UNKNOWN_UNIT",
}


def test_every_frame_rule_is_tested_here():
    with_checks = {r.code for r in CATALOGUE if r.stage in (VALIDATE, EVALUATE) and r.checks}
    assert with_checks == FRAME_RULES


# --- the seed submission ---------------------------------------------------------------

def test_seed_findings(seed_result):
    assert rules_of(seed_result) == sorted(
        ["LOW_EXECUTION", "HIGH_SCORE_LOW_EXECUTION", "REQUIRED_CATEGORY_EMPTY"])
    assert only(seed_result, "LOW_EXECUTION").cell == "G6"
    assert only(seed_result, "HIGH_SCORE_LOW_EXECUTION").cell == "H37"
    empty = only(seed_result, "REQUIRED_CATEGORY_EMPTY")
    assert empty.cell == "D21"  # 指标 1: of the 成本指标, where an indicator is to be filled in
    assert "「成本指标」" in empty.message


def test_seed_figures(seed_result):
    row = form(seed_result)
    assert row["budget_full_year"] == pytest.approx(5.4)
    assert row["executed"] == pytest.approx(3.07)
    assert round(row["execution_rate"], 4) == 0.5685
    assert row["total_score"] == pytest.approx(3.07 / 5.4 * 10 + 90)  # every indicator met
    assert row["grade"] == "优"
    assert row["total_reported"] == pytest.approx(95.7)
    assert row["grade_reported"] == "优"
    assert row["budget_weight"] == 10  # typed as "10 分"
    assert row["budget_score"] == pytest.approx(3.07 / 5.4 * 10)
    assert row["anomaly_count"] == 3


def test_seed_messages_carry_figures(seed_result):
    low = only(seed_result, "LOW_EXECUTION")
    assert "56.85%" in low.message and "80.00%" in low.message
    high = only(seed_result, "HIGH_SCORE_LOW_EXECUTION")
    assert "95.7" in high.message and "56.85%" in high.message and "60.00%" in high.message


def _summary(result: RunResult):
    cols = ["budget_full_year", "executed", "execution_rate", "rate_reported", "budget_score",
            "total_score", "grade", "total_reported"]
    findings = sorted((f.rule, f.cell, f.message, f.value, f.expected) for f in result.findings)
    return form(result)[cols].to_dict(), findings


def test_rate_as_number_equals_rate_as_text(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    as_text = run_specs(tmp_path / "a", seed_form(rate="56.85%"))
    as_number = run_specs(tmp_path / "b", seed_form(rate=0.5685))  # 0.00% number format
    assert form(as_number)["rate_reported"] == pytest.approx(0.5685)
    assert _summary(as_text) == _summary(as_number)


def test_formula_cells_give_their_cached_values(inbox):
    # As handed out: 分值 a number (a formula over "10 分" text would be #VALUE! in Excel).
    spec = seed_form(budget_weight=10, rate="formula", budget_score="formula",
                     total_reported="formula")
    r = run_specs(inbox, spec)
    row = form(r)
    assert row["rate_reported"] == pytest.approx(3.07 / 5.4)
    assert row["budget_score_reported"] == pytest.approx(5.69)  # ROUND(MIN(G6,1)*F6,2)
    assert row["total_reported"] == pytest.approx(95.69)  # SUM(H13:H36)+H6
    assert rules_of(r) == sorted(
        ["LOW_EXECUTION", "HIGH_SCORE_LOW_EXECUTION", "REQUIRED_CATEGORY_EMPTY"])


# --- the clean baseline ----------------------------------------------------------------

def test_clean_form_has_no_findings(inbox):
    r = run_specs(inbox, clean_form())
    assert r.findings == []
    row = form(r)
    assert row["execution_rate"] == pytest.approx(0.95)
    assert row["budget_score"] == pytest.approx(9.5)
    assert row["total_score"] == pytest.approx(99.5)
    assert row["grade"] == "优"
    assert row["anomaly_count"] == 0
    assert r.files[0].status == "accepted"


def test_clean_form_with_formulas_has_no_findings(inbox):
    r = run_specs(inbox, clean_form(budget_weight=10, rate="formula", budget_score="formula",
                                    total_reported="formula"))
    assert r.findings == []


# --- MISSING_FIELD / BAD_NUMBER (rejections) --------------------------------------------

def _assert_rejected(r: RunResult, code: str) -> Finding:
    assert rules_of(r) == [code]
    record = r.files[0]
    assert record.status == "rejected"
    assert record.code == code
    assert [f.status for f in record.forms] == ["rejected"]
    assert r.forms.empty
    assert r.indicators.empty
    finding = only(r, code)
    assert finding.severity == "error"
    return finding


def test_missing_unit_rejects_the_form(inbox):
    f = _assert_rejected(run_specs(inbox, clean_form(unit=None)), "MISSING_FIELD")
    assert f.cell == "G4"
    assert "「实施单位」" in f.message


def test_missing_project_rejects_the_form(inbox):
    f = _assert_rejected(run_specs(inbox, clean_form(project=None)), "MISSING_FIELD")
    assert f.cell == "C3"
    assert "「项目名称」" in f.message


def test_missing_executed_rejects_the_form(inbox):
    spec = clean_form(funds={"年度资金总额": (5.4, 5.4, None), "当年财政拨款": (5.4, 5.4, None)})
    f = _assert_rejected(run_specs(inbox, spec), "MISSING_FIELD")
    assert f.cell == "E6"
    assert "「全年执行数」" in f.message


def test_missing_budget_rejects_the_form(inbox):
    spec = clean_form(funds={"年度资金总额": (5.4, None, 5.13), "当年财政拨款": (5.4, None, 5.13)})
    f = _assert_rejected(run_specs(inbox, spec), "MISSING_FIELD")
    assert f.cell == "D6"
    assert "「全年预算数」" in f.message


def test_filled_fields_do_not_reject(inbox):
    # Same form, the amounts typed as text with a unit: still numbers.
    spec = clean_form(funds={"年度资金总额": ("5.4", "5.4 万元", "５．１３"),
                             "当年财政拨款": (5.4, 5.4, 5.13)})
    r = run_specs(inbox, spec)
    assert r.findings == []
    assert r.files[0].status == "accepted"
    assert form(r)["executed"] == pytest.approx(5.13)


def test_bad_executed_rejects_the_form(inbox):
    spec = clean_form(funds={"年度资金总额": (5.4, 5.4, "见附表"), "当年财政拨款": (5.4, 5.4, 5.13)})
    f = _assert_rejected(run_specs(inbox, spec), "BAD_NUMBER")
    assert f.cell == "E6"
    assert "「全年执行数」" in f.message and "「见附表」" in f.message
    assert f.value == "见附表"


def test_bad_budget_rejects_the_form(inbox):
    spec = clean_form(funds={"年度资金总额": (5.4, "5.4万元（含结转）", 5.13),
                             "当年财政拨款": (5.4, 5.4, 5.13)})
    f = _assert_rejected(run_specs(inbox, spec), "BAD_NUMBER")
    assert f.cell == "D6"
    assert "「全年预算数」" in f.message


def test_bad_number_rejects_only_its_own_file(inbox):
    write_workbook(inbox / "bad.xlsx", [("自评表", clean_form(
        funds={"年度资金总额": (5.4, 5.4, "见附表"), "当年财政拨款": (5.4, 5.4, 5.13)}))])
    write_workbook(inbox / "good.xlsx", [("自评表", clean_form(project="另一个项目"))])
    r = process(inbox, Config())
    status = {f.path: (f.status, f.code) for f in r.files}
    assert status == {"bad.xlsx": ("rejected", "BAD_NUMBER"), "good.xlsx": ("accepted", "")}
    assert list(r.forms["source_file"]) == ["good.xlsx"]
    assert rules_of(r) == ["BAD_NUMBER"]


BUDGET_CELL, EXECUTED_CELL = 777.125, 666.375  # placeholders store_numbers rewrites


def _stored(inbox: Path, budget: str = "5.4", executed: str = "5.13") -> RunResult:
    """The clean form with 全年预算数 and 全年执行数 (D6, E6) stored as the given cell values."""
    spec = clean_form(funds={"年度资金总额": (5.4, BUDGET_CELL, EXECUTED_CELL), "当年财政拨款": (5.4, 5.4, 5.13)})
    path = write_workbook(inbox / "form00.xlsx", [("自评表", spec)])
    store_numbers(path, {BUDGET_CELL: budget, EXECUTED_CELL: executed})
    return process(inbox, Config())


@pytest.mark.parametrize(("stored", "shown", "why"), [
    ("1e309", "inf", "不是有限的数值（无穷大或溢出）"),
    ("Infinity", "inf", "不是有限的数值（无穷大或溢出）"),
    ("inf", "inf", "不是有限的数值（无穷大或溢出）"),
    ("-5", "-5", "为负数，金额不能小于 0"),
    ("1e12", "1000000000000", "不小于 1,000,000,000,000 万元，不是可信的金额"),
])
def test_budget_not_finite_negative_or_absurd_is_bad_number(inbox, stored, shown, why):
    f = _assert_rejected(_stored(inbox, budget=stored), "BAD_NUMBER")
    assert f.cell == "D6" and f.value == shown
    assert f.message.startswith(f"「全年预算数」（D6）填报为「{shown}」，{why}；")


def test_budget_stored_as_nan_is_rejected_as_empty(inbox):
    # calamine reads <v>NaN</v> as NaN, which the locator takes for an empty cell (as for any NaN):
    # the form is rejected all the same, and no NaN reaches a total. Typed "NaN" is BAD_NUMBER (below).
    f = _assert_rejected(_stored(inbox, budget="NaN"), "MISSING_FIELD")
    assert f.cell == "D6" and "「全年预算数」" in f.message


def test_executed_minus_infinity_is_bad_number(inbox):
    # -1e309 once made the county execution rate read 0.00%.
    f = _assert_rejected(_stored(inbox, executed="-1e309"), "BAD_NUMBER")
    assert f.cell == "E6"
    assert "「全年执行数」（E6）填报为「-inf」，不是有限的数值（无穷大或溢出）" in f.message


def test_both_amounts_bad_are_named_in_one_finding(inbox):
    f = _assert_rejected(_stored(inbox, budget="Infinity", executed="-5"), "BAD_NUMBER")
    assert f.cell == "D6"
    assert "「全年预算数」（D6）填报为「inf」" in f.message and "「全年执行数」（E6）填报为「-5」，为负数" in f.message


@pytest.mark.parametrize("typed", ["Infinity", "inf", "1e309", "NaN", "-5", "1,000,000,000,000"])
def test_typed_text_not_a_usable_amount_is_bad_number(inbox, typed):
    spec = clean_form(funds={"年度资金总额": (5.4, typed, 5.13), "当年财政拨款": (5.4, 5.4, 5.13)})
    f = _assert_rejected(run_specs(inbox, spec), "BAD_NUMBER")
    assert f.cell == "D6" and f.value == typed and f"填报为「{typed}」" in f.message


@pytest.mark.parametrize("budget", ["999999", "999999999999"])
def test_large_but_finite_amount_is_no_bad_number(inbox, budget):
    # Below 10^12 万元 the form is consolidated; amounts typed in 元 are AMOUNT_SCALE_SUSPECT.
    r = _stored(inbox, budget=budget, executed="5.13")
    assert r.files[0].status == "accepted"
    # No BAD_NUMBER; what a budget that size implies, with 5.13 executed of it (a rate of ~0%).
    assert rules_of(r) == ["AMOUNT_SCALE_SUSPECT", "BUDGET_SCORE_MISMATCH", "FUNDS_DONT_ADD_UP",
                           "HIGH_SCORE_LOW_EXECUTION", "LOW_EXECUTION", "RATE_MISMATCH", "SELF_SCORE_INFLATED"]
    assert only(r, "AMOUNT_SCALE_SUSPECT").cell == "D6"
    assert form(r)["budget_full_year"] == float(budget)


# --- RATE_MISMATCH ---------------------------------------------------------------------

def test_rate_mismatch_fires(inbox):
    r = run_specs(inbox, clean_form(rate="90.00%"))
    assert rules_of(r) == ["RATE_MISMATCH"]
    f = only(r, "RATE_MISMATCH")
    assert f.cell == "G6"
    assert "执行率填报为 90.00%" in f.message
    assert "应为 95.00%" in f.message
    assert (f.value, f.expected) == ("90.00%", "95.00%")


def test_rate_within_tolerance_does_not_fire(inbox):
    r = run_specs(inbox, clean_form(rate="95.05%"))  # 0.05 point off, tolerance 0.1
    assert r.findings == []


def test_rate_typed_as_percentage_points_does_not_fire(inbox):
    r = run_specs(inbox, clean_form(rate=95))  # "95" in a % column means 95%
    assert r.findings == []


def test_rate_as_number_mismatch_fires(inbox):
    r = run_specs(inbox, clean_form(rate=0.9))
    assert rules_of(r) == ["RATE_MISMATCH"]
    assert "执行率填报为 90.00%" in only(r, "RATE_MISMATCH").message


# --- BUDGET_SCORE_MISMATCH --------------------------------------------------------------

def test_budget_score_mismatch_fires(inbox):
    r = run_specs(inbox, clean_form(budget_score=9, total_reported=99))
    assert rules_of(r) == ["BUDGET_SCORE_MISMATCH"]
    f = only(r, "BUDGET_SCORE_MISMATCH")
    assert f.cell == "H6"
    assert "得分填报为 9 分" in f.message and "应为 9.5 分" in f.message
    assert (f.value, f.expected) == ("9", "9.5")


def test_budget_score_within_tolerance_does_not_fire(inbox):
    r = run_specs(inbox, clean_form(budget_score=9.45, total_reported=99.45))
    assert r.findings == []


# --- OVER_BUDGET ----------------------------------------------------------------------

def test_over_budget_fires(inbox):
    spec = clean_form(funds={"年度资金总额": (5.4, 5.4, 5.5), "当年财政拨款": (5.4, 5.4, 5.5)},
                      rate="101.85%", budget_score=10, total_reported=100)
    r = run_specs(inbox, spec)
    assert rules_of(r) == ["OVER_BUDGET"]
    f = only(r, "OVER_BUDGET")
    assert f.cell == "E6"
    assert "全年执行数 5.5 万元超过全年预算数 5.4 万元" in f.message
    assert form(r)["budget_score"] == pytest.approx(10)  # rate above 100% counts as 100%


def test_fully_executed_is_not_over_budget(inbox):
    spec = clean_form(funds={"年度资金总额": (5.4, 5.4, 5.4), "当年财政拨款": (5.4, 5.4, 5.4)},
                      rate="100.00%", budget_score=10, total_reported=100)
    assert run_specs(inbox, spec).findings == []


# --- FUNDS_DONT_ADD_UP -----------------------------------------------------------------

def _split_funds(carryover_executed: float) -> dict:
    return {"年度资金总额": (5.4, 5.4, 5.13), "当年财政拨款": (5.0, 5.0, 4.8),
            "上年结转资金": (0.4, 0.4, carryover_executed)}


def test_funds_dont_add_up_fires(inbox):
    r = run_specs(inbox, clean_form(funds=_split_funds(0.3)))  # 4.8 + 0.3 = 5.1 ≠ 5.13
    assert rules_of(r) == ["FUNDS_DONT_ADD_UP"]
    f = only(r, "FUNDS_DONT_ADD_UP")
    assert f.cell == "E6"
    assert "全年执行数" in f.message and "5.13" in f.message and "5.1" in f.message


def test_funds_adding_up_do_not_fire(inbox):
    r = run_specs(inbox, clean_form(funds=_split_funds(0.33)))  # 4.8 + 0.33 = 5.13
    assert r.findings == []


def test_funds_only_checked_where_a_source_is_filled(inbox):
    # 年初预算数 has no source breakdown: not compared.
    spec = clean_form(funds={"年度资金总额": (5.4, 5.4, 5.13), "当年财政拨款": (None, 5.4, 5.13)})
    assert run_specs(inbox, spec).findings == []


# --- LOW_EXECUTION ----------------------------------------------------------------------

def test_low_execution_fires(inbox):
    spec = clean_form(funds={"年度资金总额": (5.4, 5.4, 4.05), "当年财政拨款": (5.4, 5.4, 4.05)},
                      rate="75.00%", budget_score=7.5, total_reported=97.5)
    r = run_specs(inbox, spec)
    assert rules_of(r) == ["LOW_EXECUTION"]
    f = only(r, "LOW_EXECUTION")
    assert f.cell == "G6"
    assert "预算执行率 75.00%，低于 80.00%" in f.message


def test_execution_at_80_percent_is_not_low(inbox):
    spec = clean_form(funds={"年度资金总额": (5.4, 5.4, 4.32), "当年财政拨款": (5.4, 5.4, 4.32)},
                      rate="80.00%", budget_score=8, total_reported=98)
    assert run_specs(inbox, spec).findings == []


# --- HIGH_SCORE_LOW_EXECUTION -----------------------------------------------------------

def test_high_score_low_execution_fires(inbox):
    spec = clean_form(funds={"年度资金总额": (5.4, 5.4, 3.07), "当年财政拨款": (5.4, 5.4, 3.07)},
                      rate="56.85%", budget_score=5.69, total_reported=95.69)
    r = run_specs(inbox, spec)
    assert rules_of(r) == ["HIGH_SCORE_LOW_EXECUTION", "LOW_EXECUTION"]
    f = only(r, "HIGH_SCORE_LOW_EXECUTION")
    assert f.cell == "H37"
    assert "自评总分 95.69 分" in f.message and "56.85%" in f.message


def test_execution_at_60_percent_is_not_high_score_low_execution(inbox):
    spec = clean_form(funds={"年度资金总额": (5.4, 5.4, 3.24), "当年财政拨款": (5.4, 5.4, 3.24)},
                      rate="60.00%", budget_score=6, total_reported=96)
    assert rules_of(run_specs(inbox, spec)) == ["LOW_EXECUTION"]


def test_low_score_low_execution_is_not_high_score(inbox):
    # 56.85% executed, but the unit scored itself 89.69: honest, only LOW_EXECUTION.
    spec = clean_form(funds={"年度资金总额": (5.4, 5.4, 3.07), "当年财政拨款": (5.4, 5.4, 3.07)},
                      rate="56.85%", budget_score=5.69, total_reported=89.69)
    edit(spec, STABILITY, actual="有所提升", score=4, deviation="宣传覆盖面不足，明年加强宣传")
    r = run_specs(inbox, spec)
    assert rules_of(r) == ["LOW_EXECUTION"]


# --- SCORE_OUT_OF_RANGE -----------------------------------------------------------------

def _fully_executed(**overrides) -> FormSpec:
    base = {"funds": {"年度资金总额": (5.4, 5.4, 5.4), "当年财政拨款": (5.4, 5.4, 5.4)},
            "rate": "100.00%", "budget_score": 10, "total_reported": 100}
    return clean_form(**{**base, **overrides})


def test_budget_score_out_of_range_fires(inbox):
    # 10.05 of 10 points: within the 0.1 tolerance of the recomputed 10, but out of range.
    r = run_specs(inbox, _fully_executed(budget_score=10.05, total_reported=100.05))
    assert rules_of(r) == ["SCORE_OUT_OF_RANGE"]
    f = only(r, "SCORE_OUT_OF_RANGE")
    assert f.cell == "H6"
    assert "10.05" in f.message and "0～10 分" in f.message


def test_budget_score_at_its_weight_is_in_range(inbox):
    assert run_specs(inbox, _fully_executed()).findings == []


def test_budget_score_far_out_of_range_fires_with_mismatch(inbox):
    r = run_specs(inbox, _fully_executed(budget_score=12, total_reported=102))
    assert rules_of(r) == ["BUDGET_SCORE_MISMATCH", "SCORE_OUT_OF_RANGE", "SELF_SCORE_INFLATED"]


def test_indicator_score_out_of_range_fires(inbox):
    spec = edit(clean_form(total_reported=99.55), STABILITY, score=10.05)
    r = run_specs(inbox, spec)
    assert rules_of(r) == ["SCORE_OUT_OF_RANGE"]
    f = only(r, "SCORE_OUT_OF_RANGE")
    assert f.cell == "H26"
    assert f"「{STABILITY}」" in f.message and "10.05" in f.message and "0～10 分" in f.message


def test_negative_indicator_score_is_out_of_range(inbox):
    spec = edit(clean_form(total_reported=89.5), SATISFACTION, score=-0.0001,
                deviation="调查样本不足")
    r = run_specs(inbox, spec)
    assert only(r, "SCORE_OUT_OF_RANGE").cell == "H34"
    # 100% against ≥95% is worth the full 10: the negative score is also a mismatch, nothing else.
    assert rules_of(r) == ["INDICATOR_SCORE_MISMATCH", "SCORE_OUT_OF_RANGE"]
    assert only(r, "INDICATOR_SCORE_MISMATCH").expected == "10"
    assert "超出 0～10 分的范围" in only(r, "SCORE_OUT_OF_RANGE").message


def test_indicator_score_at_its_weight_is_in_range(inbox):
    spec = edit(clean_form(), STABILITY, score=10)
    assert run_specs(inbox, spec).findings == []


# --- INDICATOR_SCORE_MISMATCH -----------------------------------------------------------

REASON = "部分退休人员对办理时限不满意，下一步延长窗口服务时间"


def test_quantitative_score_mismatch_fires(inbox):
    # ≥95% target, 90% actual → 90/95 × 10 = 9.47, reported 10.
    spec = edit(clean_form(), SATISFACTION, actual="90%", deviation=REASON)
    r = run_specs(inbox, spec)
    assert rules_of(r) == ["INDICATOR_SCORE_MISMATCH"]
    f = only(r, "INDICATOR_SCORE_MISMATCH")
    assert f.cell == "H34"
    assert "得分填报为 10 分" in f.message and "应为 9.47 分" in f.message
    assert (f.value, f.expected) == ("10", "9.47")


def test_quantitative_score_matching_does_not_fire(inbox):
    spec = edit(clean_form(total_reported=98.97), SATISFACTION, actual="90%", score=9.47,
                deviation=REASON)
    assert run_specs(inbox, spec).findings == []


def test_reverse_indicator_score_mismatch_fires(inbox):
    # ≤200 元 target, 250 元 actual → 200/250 × 4 = 3.2, reported 4.
    spec = edit(clean_form(), COST, actual="250 元", deviation="物价上涨，人工成本增加")
    r = run_specs(inbox, spec)
    assert rules_of(r) == ["INDICATOR_SCORE_MISMATCH"]
    f = only(r, "INDICATOR_SCORE_MISMATCH")
    assert f.cell == "H21"
    assert "应为 3.2 分" in f.message


def test_reverse_indicator_met_does_not_fire(inbox):
    spec = edit(clean_form(), COST, actual="200 元")
    assert run_specs(inbox, spec).findings == []


def test_qualitative_score_above_tier_fires(inbox):
    # 基本得到提升 is the "partly" tier: at most 80% of 10 points; 8.5 reported.
    spec = edit(clean_form(total_reported=98), STABILITY, actual="基本得到提升", score=8.5,
                deviation="个别群体诉求未及时回应，下一步完善回访机制")
    r = run_specs(inbox, spec)
    assert rules_of(r) == ["INDICATOR_SCORE_MISMATCH"]
    f = only(r, "INDICATOR_SCORE_MISMATCH")
    assert f.cell == "H26"
    assert "定性指标" in f.message and "「基本得到提升」" in f.message and "「得到提升」" in f.message
    assert "得分上限 8" in f.message and "填报为 8.5 分" in f.message
    assert (f.value, f.expected) == ("8.5", "8")


def test_qualitative_full_score_when_partly_met_is_inflated(inbox):
    spec = edit(clean_form(), STABILITY, actual="基本得到提升",
                deviation="个别群体诉求未及时回应，下一步完善回访机制")
    r = run_specs(inbox, spec)
    assert rules_of(r) == ["INDICATOR_SCORE_MISMATCH", "SELF_SCORE_INFLATED"]
    assert "复算为 97.5 分" in only(r, "SELF_SCORE_INFLATED").message


@pytest.mark.parametrize("score", [8, 7])
def test_qualitative_score_within_tier_does_not_fire(inbox, score):
    spec = edit(clean_form(total_reported=89.5 + score), STABILITY, actual="基本得到提升",
                score=score, deviation="个别群体诉求未及时回应，下一步完善回访机制")
    assert run_specs(inbox, spec).findings == []


def test_qualitative_not_achieved_caps_at_60_percent(inbox):
    spec = edit(clean_form(total_reported=96), STABILITY, actual="未得到明显提升", score=6.5,
                deviation="受疫情影响，活动未开展")
    r = run_specs(inbox, spec)
    assert rules_of(r) == ["INDICATOR_SCORE_MISMATCH"]
    assert only(r, "INDICATOR_SCORE_MISMATCH").expected == "6"


# --- WEIGHTS_INVALID -------------------------------------------------------------------

def _satisfaction_unlabelled(weight: float) -> FormSpec:
    spec = clean_form(total_reported=89.5 + weight)
    block(spec, "满意度").label = "满意度指标"  # no points in the label: only the sum counts
    return edit(spec, SATISFACTION, weight=weight, score=weight)


def test_weights_not_adding_to_100_fire(inbox):
    r = run_specs(inbox, _satisfaction_unlabelled(8))
    assert rules_of(r) == ["WEIGHTS_INVALID"]
    f = only(r, "WEIGHTS_INVALID")
    assert f.cell == "G37"
    assert "合计 98 分，应为 100 分" in f.message
    assert (f.value, f.expected) == ("98", "100")


def test_weights_adding_to_100_do_not_fire(inbox):
    assert run_specs(inbox, _satisfaction_unlabelled(10)).findings == []


def _moved_points(labels: tuple[str, str]) -> FormSpec:
    # Two points move from 产出 (问题整改率 8 → 6) to 效益 (维护社会稳定 10 → 12): still 100.
    spec = clean_form()
    edit(spec, "问题整改率 (%)", weight=6, score=6)
    edit(spec, STABILITY, weight=12, score=12)
    block(spec, "产出").label, block(spec, "效益").label = labels
    return spec


def test_block_differing_from_its_label_fires(inbox):
    r = run_specs(inbox, _moved_points(("产出指标 50 分", "效益指标 30 分")))
    assert rules_of(r) == ["WEIGHTS_INVALID"]
    f = only(r, "WEIGHTS_INVALID")
    assert f.cell == "G37"
    assert "「产出指标」标注 50 分，其三级指标分值合计 48 分" in f.message
    assert "「效益指标」标注 30 分，其三级指标分值合计 32 分" in f.message
    assert "应为 100 分" not in f.message  # the sum itself is right


def test_blocks_matching_their_labels_do_not_fire(inbox):
    assert run_specs(inbox, _moved_points(("产出指标 48 分", "效益指标 32 分"))).findings == []


# --- TOTAL_MISMATCH --------------------------------------------------------------------

def test_total_mismatch_fires(inbox):
    r = run_specs(inbox, clean_form(total_reported=98.5))
    assert rules_of(r) == ["TOTAL_MISMATCH"]
    f = only(r, "TOTAL_MISMATCH")
    assert f.cell == "H37"
    assert "总分填报为 98.5 分" in f.message and "为 99.5 分" in f.message
    assert "不适用" not in f.message


def test_total_within_tolerance_does_not_fire(inbox):
    assert run_specs(inbox, clean_form(total_reported=99.55)).findings == []


def _not_applicable(total_reported) -> FormSpec:
    # 工作连续的持久度 (10 分) does not apply: 9.5 + 80 over 90 points → 99.44 of 100.
    spec = clean_form(total_reported=total_reported)
    return edit(spec, "工作连续的持久度", target="不适用", actual="不适用", score=None)


def test_total_rescaled_without_not_applicable_does_not_fire(inbox):
    r = run_specs(inbox, _not_applicable(99.44))
    assert r.findings == []
    row = form(r)
    assert row["na_weight"] == pytest.approx(10)
    assert row["total_score"] == pytest.approx(89.5 * 100 / 90)


def test_total_not_rescaled_with_not_applicable_fires(inbox):
    r = run_specs(inbox, _not_applicable(89.5))
    assert rules_of(r) == ["TOTAL_MISMATCH"]
    f = only(r, "TOTAL_MISMATCH")
    assert f.cell == "H37"
    assert "已剔除不适用指标并折算为百分制" in f.message
    assert "总分填报为 89.5 分" in f.message and "99.44 分" in f.message


# --- SELF_SCORE_INFLATED ---------------------------------------------------------------

def test_self_score_inflated_fires(inbox):
    # 80% against ≥95%: 8.42 of 10, reported 10 → recomputed total 97.92, reported 99.5.
    spec = edit(clean_form(), SATISFACTION, actual="80%", deviation=REASON)
    r = run_specs(inbox, spec)
    assert rules_of(r) == ["INDICATOR_SCORE_MISMATCH", "SELF_SCORE_INFLATED"]
    f = only(r, "SELF_SCORE_INFLATED")
    assert f.cell == "H37"
    assert "自评总分 99.5 分（优）" in f.message
    assert "复算为 97.92 分（优）" in f.message and "高出 1.58 分" in f.message


def test_inflation_up_to_one_point_does_not_fire(inbox):
    spec = edit(clean_form(), SATISFACTION, actual="90%", deviation=REASON)  # 0.53 above
    assert rules_of(run_specs(inbox, spec)) == ["INDICATOR_SCORE_MISMATCH"]


def test_inflated_budget_score_fires_inflation(inbox):
    spec = clean_form(funds={"年度资金总额": (5.4, 5.4, 4.32), "当年财政拨款": (5.4, 5.4, 4.32)},
                      rate="80.00%", budget_score=10, total_reported=100)
    r = run_specs(inbox, spec)
    assert rules_of(r) == ["BUDGET_SCORE_MISMATCH", "SELF_SCORE_INFLATED"]
    assert "高出 2 分" in only(r, "SELF_SCORE_INFLATED").message


# --- UNEXPLAINED_DEVIATION -------------------------------------------------------------

def test_unexplained_deviation_fires(inbox):
    spec = edit(clean_form(total_reported=98.97), SATISFACTION, actual="90%", score=9.47)
    r = run_specs(inbox, spec)
    assert rules_of(r) == ["UNEXPLAINED_DEVIATION"]
    f = only(r, "UNEXPLAINED_DEVIATION")
    assert f.cell == "I34"
    assert f"「{SATISFACTION}」" in f.message and "≥95%" in f.message and "90%" in f.message
    assert "9.47/10" in f.message


def test_explained_deviation_does_not_fire(inbox):
    spec = edit(clean_form(total_reported=98.97), SATISFACTION, actual="90%", score=9.47,
                deviation=REASON)
    assert run_specs(inbox, spec).findings == []


def test_unexplained_deviation_by_own_score_fires(inbox):
    # Fully met by the rules, but the unit itself took a point off and did not say why.
    spec = edit(clean_form(total_reported=98.5), STABILITY, score=9)
    r = run_specs(inbox, spec)
    assert rules_of(r) == ["UNEXPLAINED_DEVIATION"]
    assert only(r, "UNEXPLAINED_DEVIATION").cell == "I26"


def test_unit_taking_a_point_off_with_reason_does_not_fire(inbox):
    spec = edit(clean_form(total_reported=98.5), STABILITY, score=9, deviation="宣传力度不够")
    assert run_specs(inbox, spec).findings == []


# --- MISSING_ACTUAL --------------------------------------------------------------------

def test_missing_actual_fires(inbox):
    spec = edit(clean_form(total_reported=89.5), SATISFACTION, actual=None, score=None)
    r = run_specs(inbox, spec)
    assert rules_of(r) == ["MISSING_ACTUAL"]
    f = only(r, "MISSING_ACTUAL")
    assert f.cell == "F34"
    assert f"「{SATISFACTION}」" in f.message and "≥95%" in f.message


def test_missing_actual_with_full_score_fires(inbox):
    # No actual scores 0: the reported 10 points make the total 10 points too high.
    spec = edit(clean_form(), SATISFACTION, actual=None)
    r = run_specs(inbox, spec)
    assert rules_of(r) == ["MISSING_ACTUAL", "SELF_SCORE_INFLATED"]
    assert only(r, "MISSING_ACTUAL").cell == "F34"


def test_missing_qualitative_actual_fires(inbox):
    spec = edit(clean_form(total_reported=89.5), STABILITY, actual=None, score=None)
    r = run_specs(inbox, spec)
    assert rules_of(r) == ["MISSING_ACTUAL"]
    assert only(r, "MISSING_ACTUAL").cell == "F26"


def test_actual_filled_does_not_fire(inbox):
    spec = edit(clean_form(), SATISFACTION, actual="96%")
    assert run_specs(inbox, spec).findings == []


# --- REQUIRED_CATEGORY_EMPTY -----------------------------------------------------------

def _cost_placeholders(*names: str) -> FormSpec:
    spec = clean_form()
    edit(spec, "业务处理及时性 (%)", weight=8, score=8)  # the seed's weights again
    category(spec, "成本指标").indicators = [P(n) for n in names]
    return spec


@pytest.mark.parametrize("names", [("指标 1:", "指标 2:"), ("指标1：", "……"), (".....",)])
def test_required_category_with_placeholders_fires(inbox, names):
    r = run_specs(inbox, _cost_placeholders(*names))
    assert rules_of(r) == ["REQUIRED_CATEGORY_EMPTY"]
    f = only(r, "REQUIRED_CATEGORY_EMPTY")
    assert f.cell == "D21"
    assert "「成本指标」" in f.message
    assert f.value == "成本"


def test_required_category_missing_fires(inbox):
    spec = _cost_placeholders()
    block(spec, "产出").categories.remove(category(spec, "成本指标"))
    r = run_specs(inbox, spec)
    assert rules_of(r) == ["REQUIRED_CATEGORY_EMPTY"]
    assert "「成本指标」" in only(r, "REQUIRED_CATEGORY_EMPTY").message


def test_required_category_with_one_indicator_does_not_fire(inbox):
    spec = clean_form()
    category(spec, "成本指标").indicators[1] = P("……")
    assert run_specs(inbox, spec).findings == []


def test_two_required_categories_empty(inbox):
    spec = _cost_placeholders("指标 1:", "指标 2:")
    category(spec, "时效指标").indicators = [P("指标 1:"), P("指标 2:")]
    edit(spec, "资金使用合理率", weight=24, score=24)  # keep 产出 at 50
    r = run_specs(inbox, spec)
    assert rules_of(r) == ["REQUIRED_CATEGORY_EMPTY"]  # one finding naming both
    f = only(r, "REQUIRED_CATEGORY_EMPTY")
    assert "「时效指标」" in f.message and "「成本指标」" in f.message
    assert f.cell == "D18"  # the 三级指标 cell of 时效's first placeholder row


# --- INCOMPARABLE_VALUES ---------------------------------------------------------------

def test_incomparable_units_fire(inbox):
    spec = edit(clean_form(), COST, actual="0.018 万元")
    r = run_specs(inbox, spec)
    assert rules_of(r) == ["INCOMPARABLE_VALUES"]
    f = only(r, "INCOMPARABLE_VALUES")
    assert f.severity == "info"
    assert f.cell == "F21"
    assert "「0.018 万元」" in f.message and "「≤200 元」" in f.message
    assert form(r)["total_score"] == pytest.approx(99.5)  # the reported score is kept


def test_actual_in_words_is_incomparable(inbox):
    spec = edit(clean_form(), "失业动态监测企业数", actual="已全部完成")
    r = run_specs(inbox, spec)
    assert rules_of(r) == ["INCOMPARABLE_VALUES"]
    assert only(r, "INCOMPARABLE_VALUES").cell == "F13"


def test_same_units_are_comparable(inbox):
    spec = edit(clean_form(), COST, actual="180元")
    assert run_specs(inbox, spec).findings == []


# --- DUPLICATE_SUBMISSION --------------------------------------------------------------

def _write_two(inbox: Path, older: FormSpec, newer: FormSpec) -> RunResult:
    # Names sort the other way round, so only the mtime can tell which is newer.
    write_workbook(inbox / "b_first.xlsx", [("自评表", older)])
    write_workbook(inbox / "a_resubmitted.xlsx", [("自评表", newer)])
    os.utime(inbox / "b_first.xlsx", (1_700_000_000, 1_700_000_000))
    os.utime(inbox / "a_resubmitted.xlsx", (1_700_086_400, 1_700_086_400))
    return process(inbox, Config())


def test_duplicate_submission_fires_on_both_copies(inbox):
    r = _write_two(inbox, clean_form(total_reported=98.5), clean_form())
    assert rules_of(r) == ["DUPLICATE_SUBMISSION", "DUPLICATE_SUBMISSION", "TOTAL_MISMATCH"]
    dups = {f.source_file: f for f in r.findings if f.rule == "DUPLICATE_SUBMISSION"}
    assert set(dups) == {"b_first.xlsx", "a_resubmitted.xlsx"}
    assert all(f.cell == "C3" for f in dups.values())
    assert "共收到 2 份" in dups["b_first.xlsx"].message
    assert "以最新的 a_resubmitted.xlsx 为准" in dups["b_first.xlsx"].message
    assert "本份为最新" in dups["a_resubmitted.xlsx"].message
    superseded = dict(zip(r.forms["source_file"], r.forms["superseded_by"], strict=True))
    assert superseded == {"b_first.xlsx": "a_resubmitted.xlsx", "a_resubmitted.xlsx": ""}


def test_duplicate_newest_wins_by_mtime_not_name(inbox):
    r = _write_two(inbox, clean_form(), clean_form())
    row = r.forms.set_index("source_file")
    assert row.loc["b_first.xlsx", "superseded_by"] == "a_resubmitted.xlsx"
    assert row.loc["a_resubmitted.xlsx", "superseded_by"] == ""
    assert list(row["duplicate_count"]) == [2, 2]


def test_different_year_is_no_duplicate(inbox):
    r = _write_two(inbox, clean_form(year=2022), clean_form(year=2023))
    assert r.findings == []
    assert list(r.forms["superseded_by"]) == ["", ""]


def test_different_project_is_no_duplicate(inbox):
    r = _write_two(inbox, clean_form(), clean_form(project="失业动态监测联络员工作补贴"))
    assert r.findings == []


# --- AMOUNT_SCALE_SUSPECT --------------------------------------------------------------

def test_amount_in_yuan_fires(inbox):
    spec = clean_form(funds={"年度资金总额": (54000, 54000, 51300),
                             "当年财政拨款": (54000, 54000, 51300)})
    r = run_specs(inbox, spec)
    assert rules_of(r) == ["AMOUNT_SCALE_SUSPECT"]
    f = only(r, "AMOUNT_SCALE_SUSPECT")
    assert f.cell == "C6"
    assert "「年初预算数」填报为 54,000" in f.message and "超过 10,000 万元" in f.message


def test_amount_in_yuan_only_in_executed_fires(inbox):
    spec = clean_form(funds={"年度资金总额": (5.4, 5.4, 51300), "当年财政拨款": (5.4, 5.4, 51300)},
                      rate="95.00%")
    r = run_specs(inbox, spec)
    # Executed 51,300 of 5.4: the rate, the budget score and the budget are all off too.
    assert rules_of(r) == ["AMOUNT_SCALE_SUSPECT", "BUDGET_SCORE_MISMATCH", "OVER_BUDGET", "RATE_MISMATCH"]
    f = only(r, "AMOUNT_SCALE_SUSPECT")
    assert f.cell == "E6"
    assert "「全年执行数」填报为 51,300" in f.message


def test_large_amount_in_wan_yuan_does_not_fire(inbox):
    spec = clean_form(funds={"年度资金总额": (9800, 9800, 9310),
                             "当年财政拨款": (9800, 9800, 9310)})
    assert run_specs(inbox, spec).findings == []


# --- one bad form never stops the run ---------------------------------------------------

def test_zero_budget_is_rejected_budget_zero(inbox):
    """A cancelled project: 全年预算数 0, nothing executed; r = 0/0 is undefined, so the form cannot
    be consolidated (SPEC section 3: BUDGET_ZERO), and says so on its 全年预算数 cell."""
    spec = clean_form(funds={"年度资金总额": (0, 0, 0), "当年财政拨款": (0, 0, 0)}, rate=None,
                      budget_score=0, total_reported=90)
    r = run_specs(inbox, spec)
    assert (r.files[0].status, r.files[0].code) == ("rejected", "BUDGET_ZERO")
    f = only(r, "BUDGET_ZERO")
    assert (f.severity, f.cell, f.value, f.expected) == ("error", "D6", "0", "> 0（万元）")
    assert f.message == ("「年度资金总额」的「全年预算数」（D6）为 0，无法计算预算执行率；"
                         "请填写该项目的全年预算数（万元）后重新报送")
    assert len(r.forms) == 0


def test_zero_total_row_beside_filled_sources_names_the_source_row(inbox):
    """The 年度资金总额 row left at 0/0/0 while 当年财政拨款 carries the money (a form filled on the
    wrong row): rejected, and the message points at the row that holds the figures."""
    spec = clean_form(funds={"年度资金总额": (0, 0, 0), "当年财政拨款": (5.4, 5.4, 5.13)}, rate=None,
                      budget_score=9.5, total_reported=99.5)
    f = only(run_specs(inbox, spec), "BUDGET_ZERO")
    assert f.message == ("「年度资金总额」的「全年预算数」（D6）为 0，无法计算预算执行率；"
                         "「当年财政拨款」一行的全年预算数填有 5.4 万元；"
                         "请把年度资金总额一行填为各资金来源之和后重新报送")


def test_a_small_budget_is_not_zero(inbox):
    spec = clean_form(funds={"年度资金总额": (0.01, 0.01, 0.0095), "当年财政拨款": (0.01, 0.01, 0.0095)})
    r = run_specs(inbox, spec)
    assert (r.files[0].status, r.files[0].code) == ("accepted", "")
    assert rules_of(r) == []  # 0.0095 of 0.01 万元: 95%, as the clean form
    assert form(r)["execution_rate"] == pytest.approx(0.95)


def test_all_indicators_not_applicable_does_not_crash_the_run(inbox):
    spec = clean_form(total_reported=100)
    for blk in spec.blocks:
        for cat in blk.categories:
            for ind in cat.indicators:
                if ind.target is not None:
                    ind.target, ind.actual, ind.score = "不适用", "不适用", None
    r = run_specs(inbox, spec)
    assert r.files[0].status == "accepted"
    assert set(r.indicators["kind"]) == {"not_applicable"}


# --- WRONG_YEAR, UNKNOWN_UNIT (the season: tests/test_season.py has the roster's whole story) --------

def _season(tmp_path, **season) -> Config:
    from xlbatch.config import parse_config

    roster = tmp_path / "roster.csv"
    roster.write_text("主管部门,实施单位\n承德县人力资源和社会保障局,承德县社会保险事业服务中心\n", encoding="utf-8")
    return parse_config({"season": {"roster": str(roster), **season}})


def test_wrong_year_fires_on_another_year(inbox, tmp_path):
    r = run_specs(inbox, clean_form(), config=_season(tmp_path, year=2024))  # the clean form is of 2023
    f = only(r, "WRONG_YEAR")
    assert (f.severity, f.cell, f.value, f.expected) == ("warning", "A1", "2023 年度", "2024 年度")
    assert rules_of(r) == ["NOT_SUBMITTED", "WRONG_YEAR"]  # the unit has sent no form of 2024


def test_wrong_year_is_silent_for_the_season_year(inbox, tmp_path):
    assert run_specs(inbox, clean_form(), config=_season(tmp_path, year=2023)).findings == []


def test_unknown_unit_fires_off_the_roster(inbox, tmp_path):
    r = run_specs(inbox, clean_form(unit="承德县社保保险事业服务中心"), config=_season(tmp_path, county="承德县"))
    f = only(r, "UNKNOWN_UNIT")
    assert (f.severity, f.cell, f.value, f.expected) == ("info", "G4", "承德县社保保险事业服务中心",
                                                         "承德县社会保险事业服务中心")
    assert rules_of(r) == ["NOT_SUBMITTED", "UNKNOWN_UNIT"]  # the roster's one unit sent nothing


def test_unknown_unit_is_silent_for_a_roster_unit_however_spelt(inbox, tmp_path):
    r = run_specs(inbox, clean_form(unit="县社会保险事业服务中心"), config=_season(tmp_path, county="承德县"))
    assert r.findings == []
