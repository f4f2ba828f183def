"""What clerks type, turned into numbers and measures; indicator scoring (SPEC section 2)."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from xlbatch.checks.score import grade_of, qualitative_tier, score_indicator
from xlbatch.config import ScoringSettings
from xlbatch.form import values
from xlbatch.form.values import (
    EQUAL,
    POSITIVE,
    REVERSE,
    Measure,
    clean_text,
    fold,
    is_blank,
    parse_amount,
    parse_measure,
)

CFG = ScoringSettings()


# --- parse_amount ----------------------------------------------------------------------

@pytest.mark.parametrize(("raw", "value"), [
    ("80,000", 80000.0),
    ("５．４", 5.4),
    ("８０，０００", 80000.0),
    ("10 分", 10.0),
    ("10分", 10.0),
    ("5.4 万元", 5.4),
    (" 3.07 ", 3.07),
    (5.4, 5.4),
    (3, 3.0),
    ("0", 0.0),
])
def test_parse_amount_numbers(raw, value):
    amount = parse_amount(raw)
    assert amount.ok
    assert amount.value == pytest.approx(value)
    assert not amount.percent


@pytest.mark.parametrize("raw", ["56.85%", "56.85 %", "５６．８５％"])
def test_parse_amount_percent_text(raw):
    amount = parse_amount(raw)
    assert amount.ok and amount.percent
    assert amount.value == pytest.approx(0.5685)


def test_parse_amount_percent_number_is_a_fraction():
    # A 0.5685 cell with a % format arrives as 0.5685: the same as "56.85%".
    assert parse_amount(0.5685).value == pytest.approx(parse_amount("56.85%").value)
    assert parse_amount(0.5685).value == pytest.approx(0.5685)  # both, not both None


@pytest.mark.parametrize("raw", [None, "", "   ", "—", "-", "——", "/", "无", float("nan")])
def test_parse_amount_blank(raw):
    amount = parse_amount(raw)
    assert amount.ok
    assert amount.value is None


@pytest.mark.parametrize("raw", ["abc", "见附表", "约5万", "5.4万元（含结转）", "1.2.3", True])
def test_parse_amount_not_a_number(raw):
    amount = parse_amount(raw)
    assert not amount.ok
    assert amount.value is None


@pytest.mark.parametrize("raw", [float("inf"), float("-inf"), "9" * 400, "-" + "9" * 400])
def test_parse_amount_infinite_is_not_a_number(raw):
    # calamine reads a cell stored as 1e309, Infinity or inf as float inf; 400 digits overflow float().
    amount = parse_amount(raw)
    assert not amount.ok
    assert amount.value is None


@pytest.mark.parametrize(("raw", "problem"), [
    (float("inf"), "不是有限的数值（无穷大或溢出）"),
    (float("-inf"), "不是有限的数值（无穷大或溢出）"),
    (float("nan"), "不是有限的数值（NaN）"),
    ("Infinity", "不是数字"),
    ("1e309", "不是数字"),
    (-5, "为负数，金额不能小于 0"),
    ("-0.01", "为负数，金额不能小于 0"),
    (1e12, "不小于 1,000,000,000,000 万元，不是可信的金额"),
    ("1,000,000,000,000", "不小于 1,000,000,000,000 万元，不是可信的金额"),
])
def test_amount_problem_names_why(raw, problem):
    assert values.amount_problem(raw) == problem


@pytest.mark.parametrize("raw", [0, -0.0, 5.4, "5.4 万元", 999_999_999_999.99, None, ""])
def test_amount_problem_accepts_amounts_and_blanks(raw):
    assert values.amount_problem(raw) == ""  # blanks are MISSING_FIELD's business


@pytest.mark.parametrize("raw", [float("inf"), float("-inf"), float("nan"), "9" * 400 + " 人"])
def test_parse_measure_infinite_is_no_measure(raw):
    assert parse_measure(raw) is None


# --- parse_measure ---------------------------------------------------------------------

@pytest.mark.parametrize(("raw", "expected"), [
    ("≥95%", Measure(POSITIVE, 0.95, "", percent=True)),
    ("≧９５％", Measure(POSITIVE, 0.95, "", percent=True)),
    ("40 家", Measure(POSITIVE, 40.0, "家")),
    ("≤5 个工作日", Measure(REVERSE, 5.0, "个工作日")),
    ("不低于90%", Measure(POSITIVE, 0.9, "", percent=True)),
    ("不低于 90%", Measure(POSITIVE, 0.9, "", percent=True)),
    ("5个工作日以内", Measure(REVERSE, 5.0, "个工作日")),
    ("≤200 元", Measure(REVERSE, 200.0, "元")),
    ("≤1%", Measure(REVERSE, 0.01, "", percent=True)),
    ("=100%", Measure(EQUAL, 1.0, "", percent=True)),
    ("不超过 3 次", Measure(REVERSE, 3.0, "次")),
    ("不少于12次", Measure(POSITIVE, 12.0, "次")),
    ("100%", Measure(POSITIVE, 1.0, "", percent=True)),
    ("11,857 人", Measure(POSITIVE, 11857.0, "人")),
    (11857, Measure(POSITIVE, 11857.0, "")),
    (0.95, Measure(POSITIVE, 0.95, "")),
])
def test_parse_measure(raw, expected):
    got = parse_measure(raw)
    assert got is not None
    assert (got.direction, got.unit, got.percent) == (
        expected.direction, expected.unit, expected.percent)
    assert got.number == pytest.approx(expected.number)


@pytest.mark.parametrize("raw", ["完善", "得到提升", "有效维护", "", None, "按时完成", True])
def test_parse_measure_not_a_measure(raw):
    assert parse_measure(raw) is None


def test_fold_folds_widths_and_symbols():
    assert fold("≧９５％") == "≥95%"
    assert fold("５．４") == "5.4"
    assert is_blank("——") and is_blank("—") and is_blank(None) and not is_blank("0")


def test_clean_text_keeps_what_the_clerk_typed():
    assert clean_text("失业动态监测，社会化管理服务费") == "失业动态监测，社会化管理服务费"
    assert clean_text("经济效益\n指标") == "经济效益指标"
    assert clean_text("年度\n指标值") == "年度指标值"
    assert clean_text(" 40 家 ") == "40 家"
    assert clean_text(40.0) == "40"


# --- score_indicator: quantitative -----------------------------------------------------

def _score(target, actual, weight=10.0, reported=None):
    return score_indicator(target, actual, weight, reported, CFG)


def test_positive_met():
    s = _score("≥95%", "100%", reported=10)
    assert s.kind == "quantitative"
    assert s.score == pytest.approx(10)
    assert s.fully_met


def test_positive_short():
    s = _score("≥95%", "90%", reported=10)
    assert s.kind == "quantitative"
    assert s.score == pytest.approx(90 / 95 * 10)
    assert not s.fully_met


def test_positive_bare_number_with_unit():
    s = _score("40 家", "30 家", weight=8)
    assert s.score == pytest.approx(6)
    assert _score(11857, 12608, weight=8).score == pytest.approx(8)  # more than planned: capped


@pytest.mark.parametrize("target", ["不低于95%", "不少于95%", "达到95%", ">95%", "≧９５％"])
def test_positive_words(target):
    assert _score(target, "90%").score == pytest.approx(90 / 95 * 10)


def test_reverse_met():
    s = _score("≤5 个工作日", "3 个工作日")
    assert s.score == pytest.approx(10)
    assert s.fully_met


def test_reverse_exceeded():
    s = _score("≤5 个工作日", "6 个工作日")
    assert s.score == pytest.approx(5 / 6 * 10)
    assert not s.fully_met


@pytest.mark.parametrize("target", ["5个工作日以内", "不超过5个工作日", "不高于5个工作日"])
def test_reverse_words(target):
    assert _score(target, "8个工作日").score == pytest.approx(5 / 8 * 10)


def test_reverse_zero_actual_is_met():
    assert _score("≤1%", "0%").score == pytest.approx(10)


def test_equal():
    assert _score("=100%", "100%").score == pytest.approx(10)
    assert _score("=100%", "98%").score == pytest.approx(9.8)
    assert _score("=12 次", "15 次").score == pytest.approx(12 / 15 * 10)
    assert not _score("=12 次", "15 次").fully_met


def test_percent_and_fraction_are_one_scale():
    assert _score("≥95%", 0.98).score == pytest.approx(10)  # a % formatted number
    assert _score("≥95%", 0.9).score == pytest.approx(0.9 / 0.95 * 10)
    assert _score("≥95%", "98").score == pytest.approx(10)  # 98 beside a % target is 98%
    assert _score(0.95, "90%").score == pytest.approx(0.9 / 0.95 * 10)


def test_differing_units_are_incomparable():
    s = _score("40 家", "40 个", reported=10)
    assert s.kind == "incomparable"
    assert s.score == pytest.approx(10)  # the reported score is kept
    s = _score("≤200 元", "0.018 万元", weight=4, reported=4)
    assert s.kind == "incomparable"


def test_actual_in_words_is_incomparable():
    s = _score("40 家", "已全部完成", reported=10)
    assert s.kind == "incomparable"
    assert s.score == pytest.approx(10)


def test_incomparable_keeps_reported_but_never_above_weight():
    assert _score("40 家", "40 个", reported=12).score == pytest.approx(10)


def test_missing_actual():
    s = _score("≥95%", None, reported=10)
    assert s.kind == "missing_actual"
    assert not s.fully_met


# --- score_indicator: qualitative ------------------------------------------------------

def test_qualitative_achieved_keeps_reported():
    s = _score("完善", "完善", reported=10)
    assert (s.kind, s.tier) == ("qualitative", "achieved")
    assert s.score == pytest.approx(10)
    assert s.fully_met


def test_qualitative_partly_capped_at_80_percent():
    s = _score("完成", "基本完成", reported=10)
    assert (s.kind, s.tier) == ("qualitative", "partly")
    assert s.score == pytest.approx(8)
    assert not s.fully_met


def test_qualitative_partly_below_cap_kept():
    assert _score("完成", "基本完成", reported=7).score == pytest.approx(7)


def test_qualitative_not_achieved_capped_at_60_percent():
    s = _score("完成", "未完成", reported=10)
    assert (s.kind, s.tier) == ("qualitative", "not_achieved")
    assert s.score == pytest.approx(6)
    assert not s.fully_met


@pytest.mark.parametrize(("target", "actual"), [("不适用", "不适用"), ("完善", "不适用"),
                                                ("≥95%", "不适用")])
def test_not_applicable(target, actual):
    s = _score(target, actual, reported=10)
    assert s.kind == "not_applicable"
    assert s.score is None


@pytest.mark.parametrize(("target", "actual", "tier"), [
    ("完善", "完善", "achieved"),
    ("得到提升", "得到提升", "achieved"),
    ("得到提升", "明显提升", "achieved"),
    ("有效维护", "已有效维护", "achieved"),
    ("完成", "基本完成", "partly"),
    ("得到提升", "有所提升", "partly"),
    ("完善", "部分完善", "partly"),
    ("得到提升", "一般", "partly"),
    ("完成", "未完成", "not_achieved"),
    ("完善", "没有完善", "not_achieved"),
    ("得到提升", "较差", "not_achieved"),
    ("无安全事故", "无安全事故", "achieved"),  # the target's own negation is no failure
    ("无安全事故", "全年无安全事故，已实现", "achieved"),
])
def test_qualitative_tier(target, actual, tier):
    assert qualitative_tier(target, actual, CFG) == tier


@pytest.mark.parametrize(("total", "grade"), [
    (95.685, "优"), (90, "优"), (89.99, "良"), (80, "良"), (79.9, "中"), (60, "中"),
    (59.9, "差"), (0, "差"), (None, ""),
])
def test_grade(total, grade):
    assert grade_of(total, CFG) == grade


def test_format_number_never_rounds_a_nonzero_value_to_zero():
    from xlbatch.form.values import format_number

    assert format_number(-0.0001) == "-0.0001"  # "填报为 0 分，超出 0～10 分的范围" would contradict itself
    assert format_number(0.004) == "0.004"
    assert (format_number(0.0), format_number(-0.0), format_number(5.685)) == ("0", "0", "5.68")


# --- fold: the symbol table applies to every text that holds one of its symbols ---------

@given(st.text(alphabet=st.sampled_from("≧≦⩾⩽—–≥≤-－ ％５a指标\n（）：·…"), max_size=12))
def test_fold_is_nfkc_then_the_symbol_table(text):
    expected = unicodedata.normalize("NFKC", clean_text(text)).translate(values._SYMBOLS).strip()
    assert fold(text) == expected
