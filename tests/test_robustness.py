"""Whatever a cell holds, normalizing and parsing return a result or a finding, never raise.

Also the rejection codes on realistic files that need a library to build
(a password-protected workbook, encrypted with msoffcrypto-tool).
"""

from __future__ import annotations

from datetime import date, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from msoffcrypto.format.ooxml import OOXMLFile
from seed import seed_form

from xlbatch.checks.rules import EVALUATE, VALIDATE
from xlbatch.checks.score import mark_duplicates, score_forms, score_indicator, score_indicators
from xlbatch.checks.season import mark_season
from xlbatch.checks.validate import run_stage
from xlbatch.config import Config
from xlbatch.form.normalize import Submission, build_frames
from xlbatch.form.parse import parse_sheet
from xlbatch.form.values import Amount, clean_text, fold, label_key, parse_amount, parse_measure
from xlbatch.intake.read import Sheet, read_workbook
from xlbatch.outputs.template import write_workbook
from xlbatch.pipeline import process

CFG = Config()

# What calamine can hand us for a cell, plus the text clerks really type.
CLERK_TEXT = st.sampled_from([
    "≥95%", "≧９５％", "≤1%", "不低于90%", "5个工作日以内", "40 家", "80,000", "５．４", "—", "……",
    "指标 1:", "不适用", "基本完成", "未完成", "完善", "#DIV/0!", "=SUM(A1:A3)", "1e309", "NaN", "-0",
    "100%%", "≥", "％", "，", "1,2,3", "12.5.6", "万元", "10 分", "56.85%", "", " ", "\n",
])
CELL = st.one_of(
    st.none(), st.just(""), st.booleans(), st.integers(-10**12, 10**12),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=30), CLERK_TEXT,
    st.dates(min_value=date(1900, 1, 1)).map(lambda d: d),
    st.datetimes(min_value=datetime(1900, 1, 1)),
)


@given(CELL)
def test_value_normalizers_never_raise(value):
    amount = parse_amount(value)
    assert isinstance(amount, Amount)
    assert amount.value is None or isinstance(amount.value, float)
    measure = parse_measure(value)
    assert measure is None or isinstance(measure.number, float)
    for fn in (clean_text, fold, label_key):
        assert isinstance(fn(value), str)


# A 分值 is 0 or a real number of points: a subnormal one (5e-324) rounds any share of it to itself.
WEIGHT = st.floats(0, 100, allow_subnormal=False)


@given(CELL, CELL, st.one_of(st.none(), WEIGHT), st.one_of(st.none(), st.floats(-10, 110)))
def test_indicator_scoring_never_raises(target, actual, weight, reported):
    """Any cells give a result whatever was reported, and never a score above the 分值: the
    reported score capped at the 分值 where the values cannot be compared, capped at the tier's
    bound for a qualitative one, 0 without an actual; a quantitative score within [0, 分值], the
    full 分值 exactly when fully met."""
    result = score_indicator(target, actual, weight, reported, CFG.scoring)
    w = weight or 0.0
    if result.kind == "not_applicable":
        assert result.score is None
    elif result.kind == "missing_actual":
        assert (result.score, result.fully_met) == (0.0, False)
    elif result.kind == "incomparable":
        # The reported score is kept, never above the 分值; a negative one is kept too (and flagged
        # by SCORE_OUT_OF_RANGE), where a qualitative score stops at 0.
        assert result.score == (None if reported is None else min(reported, w))
        assert result.fully_met == (reported is not None and reported >= w)
    elif result.kind == "qualitative":
        cap = CFG.scoring.tier_upper.get(result.tier, 1.0) * w
        assert result.score == (0.0 if reported is None else max(min(reported, cap), 0.0))
        assert result.fully_met == (result.tier in ("achieved", "unknown"))
    else:
        assert result.kind == "quantitative"
        assert 0.0 <= result.score <= w
        assert w == 0.0 or result.fully_met == (result.score == w)


def _spec_ratio(op: str, t: int, a: int) -> float | None:
    """SPEC section 2's share of the 分值 for target `op t` and actual `a`; None where it says nothing
    (a negative figure, or a target of 0 to reach or to equal)."""
    if a < 0 or t < 0:
        return None
    if op == "≤":  # reverse: full when actual ≤ target, else target/actual
        return 1.0 if a <= t else t / a
    if t == 0:
        return None
    if op == "=":  # equal: full when equal, else min(a/t, t/a)
        return 1.0 if a == t else (min(a / t, t / a) if a else 0.0)
    return min(a / t, 1.0)  # positive: min(actual/target, 1)


@given(st.sampled_from(["≥", "", "≤", "="]), st.integers(-1000, 1000), st.integers(-1000, 1000),
       st.sampled_from(["", "%", " 次"]), WEIGHT)
def test_quantitative_score_is_the_spec_formula(op, t, a, unit, weight):
    """Target and actual in one unit: the SPEC's formula where it has one (a reverse ≤0 met by 0 is
    full), and within [0, 分值] for any figures, full exactly when met."""
    s = score_indicator(f"{op}{t}{unit}", f"{a}{unit}", weight, None, CFG.scoring)
    assert s.kind == "quantitative"
    assert 0.0 <= s.score <= weight
    assert weight == 0.0 or s.fully_met == (s.score == weight)
    ratio = _spec_ratio(op, t, a)
    if ratio is not None:
        assert s.score == pytest.approx(ratio * weight, rel=1e-12, abs=1e-12)
        assert s.fully_met == (ratio == 1.0)


def _seed_grid(tmp_path_factory) -> list[list]:
    path = write_workbook(tmp_path_factory.mktemp("grid") / "seed.xlsx", [("自评表", seed_form())])
    sheet = read_workbook(path, CFG.limits)[0]
    width = sheet.width
    return [[sheet.value(r, c) for c in range(width)] for r in range(sheet.height)]


_GRID: list[list] = []


def _pipeline_on(rows: list[list]) -> list[str] | None:
    """parse → frames → validate → score → rules over one sheet held in memory: the rules that
    fired (None when the sheet is no form)."""
    form = parse_sheet(Sheet("自评表", rows), "fuzz.xlsx")
    if form is None:
        return None
    forms, indicators = build_frames([Submission(form, 0.0)])
    rejected = {f.form_id for f in run_stage(VALIDATE, forms, indicators, CFG)}
    forms = forms.drop(index=list(rejected))
    indicators = score_indicators(indicators[~indicators["form_id"].isin(rejected)], CFG.scoring)
    forms = mark_duplicates(score_forms(forms, indicators, CFG.scoring, CFG.rules))
    forms = mark_season(forms, CFG.season, None)  # the season's columns (empty without a season)
    findings = run_stage(EVALUATE, forms, indicators, CFG)
    for finding in findings:
        assert finding.rule and finding.message
    return sorted(f.rule for f in findings)


def test_the_fuzzed_pipeline_runs_the_rules_on_the_unedited_seed(tmp_path_factory):
    """The fuzz tests pass when nothing raises; they mean something only if `_pipeline_on` gets
    past parsing and runs the rules on the seed grid they start from."""
    assert _pipeline_on(_seed_grid(tmp_path_factory)) == [
        "HIGH_SCORE_LOW_EXECUTION", "LOW_EXECUTION", "REQUIRED_CATEGORY_EMPTY"]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.integers(0, 40), st.integers(0, 9), CELL), min_size=1, max_size=12))
def test_form_parser_and_rules_take_any_cell_values(tmp_path_factory, edits):
    """Random values written over the seed form's cells: a result or a finding, never an exception."""
    if not _GRID:
        _GRID.extend(_seed_grid(tmp_path_factory))
    rows = [list(r) for r in _GRID]
    for r, c, value in edits:
        if r < len(rows) and c < len(rows[r]):
            rows[r][c] = value
    _pipeline_on(rows)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(CELL, min_size=0, max_size=8), min_size=0, max_size=15))
def test_parser_takes_arbitrary_grids(rows):
    form = parse_sheet(Sheet("随机", rows), "x.xlsx")
    assert form is None or form.sheet == "随机"
    _pipeline_on(rows)


def test_password_protected_workbook_is_rejected_with_advice(inbox, tmp_path):
    plain = write_workbook(tmp_path / "plain.xlsx", [("自评表", seed_form())])
    with plain.open("rb") as src, (inbox / "加密.xlsx").open("wb") as out:
        OOXMLFile(src).encrypt("123456", out)
    result = process(inbox, CFG)
    record = result.files[0]
    assert (record.status, record.code) == ("rejected", "FILE_UNREADABLE")
    assert "密码" in record.message and "取消密码" in record.message
    assert [f.rule for f in result.findings] == ["FILE_UNREADABLE"]
