"""What the rule modules share: a row's cell reference, numbers as messages show them, an indicator's name."""

from __future__ import annotations

import math
import string
from typing import TYPE_CHECKING

from ...form.values import format_number

if TYPE_CHECKING:
    from ...catalogue import Rule
    from ...config import Config


def cell_of(row, field: str) -> str:
    return row["cells"].get(field, "")


def num(value, digits: int = 2) -> str:
    return format_number(value, digits)


def ind_name(row) -> str:
    return f"「{row['name'] or '（未命名指标）'}」"


def ind_field(row, what: str) -> str:
    return f"indicator:{row['level1']}/{row['level2']}/{row['name']}:{what}"


def blank(value) -> bool:
    """pd.isna of one value of a float column as `describe` is given it (a Python float), or None."""
    return value is None or math.isnan(value)


class _Settings(string.Formatter):
    """Fills a description's settings: {rules.low_execution:percent} → 80%, {rules.amount_limit:number} → 10,000."""

    def format_field(self, value, format_spec):
        if format_spec == "percent":
            return format_number(value * 100) + "%"
        if format_spec == "number":
            return format_number(value)
        return super().format_field(value, format_spec)


def explain(rule: Rule, cfg: Config) -> str:
    """The rule's description with this run's settings (thresholds, total points) filled in."""
    return _Settings().format(rule.description, rules=cfg.rules, scoring=cfg.scoring)
