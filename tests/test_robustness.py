"""Whatever a cell holds, normalizing and parsing return a result or a finding, never raise.

Also the rejection codes on realistic files that need a library to build
(a password-protected workbook, encrypted with msoffcrypto-tool).
"""

from __future__ import annotations

import math
from datetime import date, datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from msoffcrypto.format.ooxml import OOXMLFile
from seed import seed_form

from xlbatch.checks.rules import EVALUATE, VALIDATE
from xlbatch.checks.score import mark_duplicates, score_forms, score_indicator, score_indicators
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


@given(CELL, CELL, st.one_of(st.none(), st.floats(0, 100)), st.one_of(st.none(), st.floats(-10, 110)))
def test_indicator_scoring_never_raises(target, actual, weight, reported):
    result = score_indicator(target, actual, weight, reported, CFG.scoring)
    assert result.kind in {"quantitative", "qualitative", "not_applicable", "incomparable", "missing_actual"}
    if result.score is not None and weight is not None and not math.isnan(result.score):
        assert result.score <= max(weight, reported or 0) + 1e-9


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
