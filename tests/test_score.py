"""score.py on frames: each indicator row scored as score_indicator scores it; duplicates marked.

Scoring rules themselves are tested value by value in test_values.py and rule by
rule in test_rules.py.
"""

from __future__ import annotations

import math

import pandas as pd

from xlbatch.checks.score import mark_duplicates, score_indicator, score_indicators
from xlbatch.config import Config

CFG = Config()


def test_repeated_indicators_score_as_each_row_alone():
    """Rows are scored once per distinct value, but 1, 1.0 and True, and 0.0 and -0.0, differ."""
    values = [("≥95%", "100%"), ("完善", "完善"), (1, 1.0), (1.0, True), (True, 1), ("40 家", "30 家"),
              ("≥95%", "100%"), ("得到提升", ""), ("5 天", "5 个")]
    weights = [10.0, 0.0, -0.0, None]
    reported = [10.0, 0.0, -0.0, None, 12.0]
    rows = [(t, a, w, r) for t, a in values for w in weights for r in reported]
    df = pd.DataFrame(rows, columns=["target", "actual", "weight", "score_reported"])
    df[["weight", "score_reported"]] = df[["weight", "score_reported"]].astype("float64")
    out = score_indicators(df, CFG.scoring)
    for (t, a, w, r), kind, score, met, tier, basis in zip(
            rows, out["kind"], out["score"], out["fully_met"], out["tier"], out["basis"], strict=True):
        alone = score_indicator(t, a, w, r, CFG.scoring)
        assert (kind, met, tier, basis) == (alone.kind, alone.fully_met, alone.tier, alone.basis)
        if alone.score is None:
            assert math.isnan(score)
        else:
            assert repr(score) == repr(alone.score)  # -0.0 stays -0.0


def test_three_copies_newest_counts_and_single_forms_untouched():
    forms = pd.DataFrame({
        "unit": ["甲", "甲", "乙", "甲"], "project": ["P", "P", "P", "P"], "year": [2023.0, 2023.0, 2023.0, 2023.0],
        "source_file": ["b.xlsx", "a.xlsx", "c.xlsx", "d.xlsx"], "sheet": ["s", "s", "s", "s"],
        "mtime": [5.0, 5.0, 1.0, 3.0],
    })
    out = mark_duplicates(forms)
    assert out["duplicate_count"].tolist() == [3, 3, 1, 3]
    assert out["duplicate_files"].tolist() == ["d.xlsx、a.xlsx、b.xlsx"] * 2 + [""] + ["d.xlsx、a.xlsx、b.xlsx"]
    assert out["superseded_by"].tolist() == ["", "b.xlsx", "", "b.xlsx"]
