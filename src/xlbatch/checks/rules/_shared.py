"""What the rule modules share: a row's cell reference, numbers as messages show them, an indicator's name."""

from __future__ import annotations

import math

from ...form.values import format_number


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
