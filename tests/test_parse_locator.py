"""The shortcuts the parser's index takes must agree with the definitions they stand for."""

from __future__ import annotations

import sys
from datetime import date, datetime, time, timedelta

from xlsxwriter.utility import xl_rowcol_to_cell

from xlbatch.form.locate import _has_value
from xlbatch.form.values import clean_text
from xlbatch.intake.read import a1

_SPACES = [chr(i) for i in range(sys.maxunicode + 1) if chr(i).isspace()]


def test_a_cell_has_a_value_exactly_when_its_clean_text_is_not_empty():
    values = [None, "", "x", " x ", "\u200b", "经济效益\n指标", *_SPACES, "".join(_SPACES),
              0.0, -0.0, 1.5, float("nan"), float("inf"), 0, 7, True, False,
              date(2024, 3, 18), datetime(2024, 3, 18, 9), time(9), timedelta(0)]
    for value in values:
        assert _has_value(value) == (value is not None and clean_text(value) != ""), repr(value)


def test_a1_is_xlsxwriters_reference():
    for row in (0, 1, 9, 99, 1048575):
        for col in (0, 1, 25, 26, 27, 51, 52, 701, 702, 703, 16383):
            assert a1(row, col) == xl_rowcol_to_cell(row, col)
