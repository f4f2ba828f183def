"""validate.py: pandera is shown only the columns each check names, and a check that breaks is a bug.

The rules themselves are tested form by form in test_rules.py.
"""

from __future__ import annotations

import pandas as pd
import pytest
from conftest import run_specs
from seed import seed_form

from xlbatch.checks import validate
from xlbatch.checks.rules import CATALOGUE, EVALUATE, FORMS, INDICATORS, Check, Detail, Rule
from xlbatch.checks.validate import run_stage
from xlbatch.config import Config

CFG = Config()


@pytest.fixture
def frames(inbox):
    """Scored frames of two forms on which most rules fire (a copy, low execution, bad scores)."""
    result = run_specs(inbox, seed_form(), seed_form(total_reported=None, budget_score=12))
    return {FORMS: result.forms, INDICATORS: result.indicators}


def test_each_check_reads_only_the_columns_it_names(frames):
    checks = [check for rule in CATALOGUE for check in rule.checks]
    assert checks
    for check in checks:
        df = frames[check.frame]
        narrow = check.passes(df[list(check.reads)], CFG)
        pd.testing.assert_series_equal(narrow, check.passes(df, CFG), check_names=False)


def test_a_check_that_raises_is_an_internal_error_not_a_pass(frames, monkeypatch):
    def broken(df, cfg):
        raise ValueError("a bug in a rule")

    rule = Rule("LOW_EXECUTION", "warning", "t", "d", EVALUATE,
                (Check(FORMS, ("execution_rate",), broken, lambda row, cfg: Detail("f", "A1", "m")),))
    monkeypatch.setattr(validate, "CATALOGUE", (rule,))
    with pytest.raises(RuntimeError, match="internal schema error"):
        run_stage(EVALUATE, frames[FORMS], frames[INDICATORS], CFG)


def test_findings_come_in_catalogue_order_with_their_rows(frames):
    findings = run_stage(EVALUATE, frames[FORMS], frames[INDICATORS], CFG)
    order = [rule.code for rule in CATALOGUE]
    assert [order.index(f.rule) for f in findings] == sorted(order.index(f.rule) for f in findings)
    forms = frames[FORMS]
    for f in findings:
        assert f.source_file == forms.at[f.form_id, "source_file"]
        if f.indicator_id is not None:
            assert frames[INDICATORS].at[f.indicator_id, "form_id"] == f.form_id
