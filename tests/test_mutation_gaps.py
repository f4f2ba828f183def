"""Cases the suite let through when the code was mutated (issue 12): each fails on its mutation.

- A reverse indicator whose target and actual are both 0 (≤0 次 安全事故, 投诉) is fully met:
  mutating `an <= tn` to `an < tn`, or treating a 0 target as no target, scored it 0.
- SELF_SCORE_INFLATED fires above `rules.inflation_points`, not at it: mutating `>` to `>=`
  made a form exactly 1 point over fire.

Forms are the clean form of test_rules.py (no finding at all) with one change, run through the
real pipeline; the scores they must get are worked out by hand in each test.
(The third gap, 汇总's red highlight, is tested in test_outputs.py.)
"""

from __future__ import annotations

import pytest
from conftest import rules_of, run_specs
from forms import clean_form, edit, form, indicator, recomputed_95

from xlbatch.checks.score import score_indicator
from xlbatch.config import Config

CFG = Config()
ERROR_RATE = "发放差错率 (%)"  # ≤1% against 0%, 8 分, in clean_form's 质量指标


# --- a reverse indicator met at 0 ---------------------------------------------------------------

@pytest.mark.parametrize("target, actual", [
    ("≤0 次", "0 次"), ("≤0", 0), ("不超过0起", "0起"), ("0 起以内", "0 起"), ("控制在0次", "0次"), ("≤0%", "0%"),
])
def test_reverse_zero_target_met_at_zero_scores_full(target, actual):
    s = score_indicator(target, actual, 5.0, 5.0, CFG.scoring)
    assert (s.kind, s.score, s.fully_met) == ("quantitative", 5.0, True)


def test_reverse_zero_target_missed_scores_nothing():
    # One accident against none allowed: 0/1 of the points, and not met.
    s = score_indicator("≤0 次", "1 次", 5.0, 5.0, CFG.scoring)
    assert (s.kind, s.score, s.fully_met) == ("quantitative", 0.0, False)


def _accidents(actual: str, deviation: str | None = None):
    """clean_form with its 发放差错率 (≤1%, 0%, 8 of 8 分) made 安全生产事故 ≤0 次."""
    spec = edit(clean_form(), ERROR_RATE, target="≤0 次", actual=actual, deviation=deviation)
    indicator(spec, ERROR_RATE).name = "安全生产事故发生次数"
    return spec


def test_no_accident_allowed_and_none_happened_is_clean(inbox):
    r = run_specs(inbox, _accidents("0 次"))
    assert r.findings == []
    (row,) = r.indicators[r.indicators["target"] == "≤0 次"].itertuples()
    assert (row.kind, row.score, row.fully_met) == ("quantitative", 8.0, True)
    assert form(r)["total_score"] == pytest.approx(99.5)


def test_an_accident_where_none_is_allowed_loses_the_points(inbox):
    # Reported 8 of 8 with one accident: recomputed 0, total 99.5 - 8 = 91.5.
    r = run_specs(inbox, _accidents("1 次", deviation="发生一起轻微事故，已整改"))
    assert rules_of(r) == ["INDICATOR_SCORE_MISMATCH", "SELF_SCORE_INFLATED"]
    assert form(r)["total_score"] == pytest.approx(91.5)


# --- SELF_SCORE_INFLATED at its threshold -----------------------------------------------------

@pytest.mark.parametrize("points, total_reported, inflated", [
    (None, 96, False),  # exactly 1 over the default threshold of 1: not inflated
    (None, 96.01, True),
    (3, 98, False),  # exactly at a configured threshold
    (3, 98.01, True),
    (0, 95, False),  # the threshold 0: only a total above the recomputed one
    (0, 95.01, True),
])
def test_inflated_only_above_the_threshold(inbox, points, total_reported, inflated):
    cfg = Config() if points is None else Config.model_validate({"rules": {"inflation_points": points}})
    r = run_specs(inbox, recomputed_95(total_reported), config=cfg)
    row = form(r)
    assert row["total_score"] == 95.0  # exact: the boundary case is really at the boundary
    assert row["total_reported"] == total_reported
    # Parts 96: the totals 95 and 98 also differ from the sum of their parts (TOTAL_MISMATCH).
    expected = ["INDICATOR_SCORE_MISMATCH"]
    if abs(total_reported - 96) > 0.1:
        expected.append("TOTAL_MISMATCH")
    if inflated:
        expected.append("SELF_SCORE_INFLATED")
    assert rules_of(r) == sorted(expected)
