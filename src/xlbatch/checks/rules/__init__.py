"""The rule catalogue (SPEC section 3): every rule, one block each, registered in catalogue order.

A rule's checks (`passes`, `describe`) and its registration sit together in
the module of its theme; the order below is the catalogue's order — the order
of the workbook's rule list, of run.json's and of the findings — so a new rule
goes into its module at the place it should take in that order.

    intake/read_rules.py  FILE_UNREADABLE, FILE_UNSAFE, NO_FORM_FOUND (read stage: messages, no check)
    rejections            MISSING_FIELD, BAD_NUMBER, BUDGET_ZERO (validate stage: the form is rejected)
    execution             RATE_MISMATCH … HIGH_SCORE_LOW_EXECUTION
    scores                SCORE_OUT_OF_RANGE … SELF_SCORE_INFLATED
    indicators            UNEXPLAINED_DEVIATION … INCOMPARABLE_VALUES
    submissions           DUPLICATE_SUBMISSION, AMOUNT_SCALE_SUSPECT
    season                WRONG_YEAR, NOT_SUBMITTED, UNKNOWN_UNIT, LATE_SUBMISSION (NOT_SUBMITTED and
                          LATE_SUBMISSION: stage SEASON, messages raised by checks/season.py)
    reports               REPORT_MISSING, FORMS_MISSING, REPORT_FIGURE_MISMATCH (reports stage: forms and
                          自评报告 together; messages, no frame check)

A description may name settings ({rules.low_execution:percent}): `explain(rule, cfg)` fills them in,
and everything a person reads shows the description so. Importing the catalogue loads neither
pandas nor pandera: validate.py runs the checks.
"""

from __future__ import annotations

from ...catalogue import (
                           EVALUATE,
                           FORMS,
                           INDICATORS,
                           READ,
                           REPORTS,
                           RULES,
                           SEASON,
                           VALIDATE,
                           Check,
                           Detail,
                           Rule,
                           registered,
)
from ._shared import explain

# isort: off
# Registration order is import order (the catalogue's order): the read stage's rules first.
from ...intake.read_rules import FILE_UNREADABLE, FILE_UNSAFE, NO_FORM_FOUND
from .rejections import BAD_NUMBER, BUDGET_ZERO, MISSING_FIELD
from .execution import (BUDGET_SCORE_MISMATCH, FUNDS_DONT_ADD_UP, HIGH_SCORE_LOW_EXECUTION, LOW_EXECUTION,
                        OVER_BUDGET, RATE_MISMATCH)
from .scores import (INDICATOR_SCORE_MISMATCH, SCORE_OUT_OF_RANGE, SELF_SCORE_INFLATED, TOTAL_MISMATCH,
                     WEIGHTS_INVALID)
from .indicators import INCOMPARABLE_VALUES, MISSING_ACTUAL, REQUIRED_CATEGORY_EMPTY, UNEXPLAINED_DEVIATION
from .submissions import AMOUNT_SCALE_SUSPECT, DUPLICATE_SUBMISSION
from .season import LATE_SUBMISSION, NOT_SUBMITTED, UNKNOWN_UNIT, WRONG_YEAR
from .reports import FORMS_MISSING, REPORT_FIGURE_MISMATCH, REPORT_MISSING
# isort: on

CATALOGUE: tuple[Rule, ...] = registered()

__all__ = [
    "AMOUNT_SCALE_SUSPECT", "BAD_NUMBER", "BUDGET_SCORE_MISMATCH", "BUDGET_ZERO", "CATALOGUE", "DUPLICATE_SUBMISSION",
    "EVALUATE", "FILE_UNREADABLE", "FILE_UNSAFE", "FORMS", "FORMS_MISSING", "FUNDS_DONT_ADD_UP",
    "HIGH_SCORE_LOW_EXECUTION", "INCOMPARABLE_VALUES", "INDICATORS", "INDICATOR_SCORE_MISMATCH", "LATE_SUBMISSION",
    "LOW_EXECUTION", "MISSING_ACTUAL", "MISSING_FIELD", "NOT_SUBMITTED", "NO_FORM_FOUND", "OVER_BUDGET",
    "RATE_MISMATCH", "READ", "REPORTS", "REPORT_FIGURE_MISMATCH", "REPORT_MISSING", "REQUIRED_CATEGORY_EMPTY", "RULES",
    "SCORE_OUT_OF_RANGE", "SEASON", "SELF_SCORE_INFLATED", "TOTAL_MISMATCH", "UNEXPLAINED_DEVIATION", "UNKNOWN_UNIT",
    "VALIDATE", "WEIGHTS_INVALID", "WRONG_YEAR", "Check", "Detail", "Rule", "explain",
]
