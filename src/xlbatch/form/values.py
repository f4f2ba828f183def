"""Value normalization: what clerks type into cells, turned into numbers and measures.

Cells arrive from calamine as float, int, str, bool, date or None. Clerks type
numbers as text ("80,000", "５．４"), add units ("40 家", "10 分"), write
percentages either way ("56.85%" or 0.5685 with a % format) and comparison
operators as symbols or words (≧, 不低于, 以内). NFKC folds full-width digits and
punctuation to ASCII; the few symbols NFKC leaves alone are mapped by hand.
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache, wraps
from typing import Any

from .vocabulary import BLANK_MARKERS

# NFKC leaves these as they are; clerks use them interchangeably with ≥ ≤.
_SYMBOLS = str.maketrans({"≧": "≥", "≦": "≤", "⩾": "≥", "⩽": "≤", "—": "-", "–": "-"})
# translate() looks every character up in that table; most text holds none of them, which one
# regex search tells at a fraction of the cost.
_HAS_SYMBOL = re.compile("[" + "".join(map(chr, _SYMBOLS)) + "]")
_WHITESPACE = re.compile(r"\s+")
_KEY_NOISE = re.compile(r"[\s:：]")
_NUMBER = r"[-+]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?|[-+]?\.\d+"
_AMOUNT = re.compile(rf"^({_NUMBER})\s*(%|万元|万|元|分)?$")  # "5.4万" is 5.4 万元
_CJK_BREAK = re.compile(r"(?<=[\u4e00-\u9fff])\s+(?=[\u4e00-\u9fff])")
_PARENS = re.compile(r"[(（][^()（）]*[)）]")


def _cached_for_text(fn):
    """Memoize a pure function of a cell value for text: labels and values repeat across forms."""
    cached = lru_cache(maxsize=1 << 16)(fn)

    @wraps(fn)
    def call(value):
        return cached(value) if type(value) is str else fn(value)

    return call


@_cached_for_text
def clean_text(value: Any) -> str:
    """Text of a cell as the clerk typed it, with runs of whitespace (line breaks) made one space.

    Names keep their full-width punctuation: "失业动态监测，社会化管理服务费" is a name.
    """
    if value is None:
        return ""
    if isinstance(value, float):
        if math.isnan(value):
            return ""
        return str(int(value)) if value.is_integer() else repr(value)
    text = _CJK_BREAK.sub("", str(value))  # "经济效益\n指标" is one word broken to fit a cell
    return _WHITESPACE.sub(" ", text).strip()


@_cached_for_text
def fold(value: Any) -> str:
    """Text for parsing and matching: full-width digits, ％ ，． folded to ASCII, ≧ → ≥."""
    text = unicodedata.normalize("NFKC", clean_text(value))
    return (text.translate(_SYMBOLS) if _HAS_SYMBOL.search(text) else text).strip()


@_cached_for_text
def label_key(value: Any) -> str:
    """A label reduced to what identifies it: no spaces, line breaks or (suffixes)."""
    text = fold(value)
    text = _PARENS.sub("", text)
    return _KEY_NOISE.sub("", text)


def is_blank(value: Any) -> bool:
    return fold(value) in BLANK_MARKERS


@dataclass(frozen=True)
class Amount:
    """A parsed amount: `value` is None when blank; `ok` is False when not a number."""

    value: float | None
    ok: bool = True
    percent: bool = False


@_cached_for_text
def parse_amount(value: Any) -> Amount:
    """Parse a money, score or rate cell ("5.4", "８０,０００", "10 分", "56.85%").

    Infinity is not a number (ok False, no value): calamine hands it over for a cell stored as
    1e309, Infinity or inf, and a 400-digit text overflows float() to it. NaN reads as blank
    here, as pandas' missing value does; `amount_problem` refuses it where a figure is required.
    Neither may reach a sum, a score or a written cell.
    """
    if isinstance(value, bool):
        return Amount(None, ok=False)
    if isinstance(value, int | float):
        number = float(value)
        if math.isnan(number):
            return Amount(None)
        return Amount(number) if math.isfinite(number) else Amount(None, ok=False)
    if isinstance(value, date | datetime | time | timedelta):
        return Amount(None, ok=False)
    text = fold(value).replace(" ", "")
    if text in BLANK_MARKERS:
        return Amount(None)
    match = _AMOUNT.match(text)
    if not match:
        return Amount(None, ok=False)
    number = float(match.group(1).replace(",", ""))
    if not math.isfinite(number):
        return Amount(None, ok=False)
    if match.group(2) == "%":
        return Amount(number / 100, percent=True)
    return Amount(number)


# 10^12 万元 is 10^16 元, beyond any county's budget by orders of magnitude: such a figure is a
# typing or export accident, never an amount (AMOUNT_SCALE_SUSPECT catches amounts in 元 far below).
ABSURD_AMOUNT = 1e12


def amount_problem(value: Any) -> str:
    """Why a required amount (全年预算数, 全年执行数) cannot be used, or "" when it can (or is blank).

    Not a number, not finite (1e309, Infinity, NaN), negative, or absurd (≥ ABSURD_AMOUNT).
    """
    if isinstance(value, float) and math.isnan(value):
        return "不是有限的数值（NaN）"
    amount = parse_amount(value)
    if not amount.ok:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return "不是有限的数值（无穷大或溢出）"
        return "不是数字"
    if amount.value is None:
        return ""
    if amount.value < 0:
        return "为负数，金额不能小于 0"
    if amount.value >= ABSURD_AMOUNT:
        return f"不小于 {format_number(ABSURD_AMOUNT)} 万元，不是可信的金额"
    return ""


# --- indicator values -------------------------------------------------------------

POSITIVE, REVERSE, EQUAL = "positive", "reverse", "equal"

_PREFIX_OPS = [
    ("≥", POSITIVE), (">=", POSITIVE), (">", POSITIVE), ("不低于", POSITIVE),
    ("不少于", POSITIVE), ("达到", POSITIVE), ("大于等于", POSITIVE), ("高于", POSITIVE),
    ("大于", POSITIVE), ("≤", REVERSE), ("<=", REVERSE), ("<", REVERSE),
    ("不高于", REVERSE), ("不超过", REVERSE), ("不大于", REVERSE), ("小于等于", REVERSE),
    ("低于", REVERSE), ("小于", REVERSE), ("控制在", REVERSE), ("=", EQUAL), ("等于", EQUAL),
]
_SUFFIX_OPS = [
    ("及以上", POSITIVE), ("以上", POSITIVE), ("以内", REVERSE), ("及以下", REVERSE),
    ("以下", REVERSE),
]
_MEASURE = re.compile(rf"^({_NUMBER})\s*([^\d]{{0,8}}?)$")


@dataclass(frozen=True)
class Measure:
    """A quantitative value: direction, number and unit ("" for plain numbers and %)."""

    direction: str  # positive, reverse or equal; a bare number is positive
    number: float
    unit: str
    percent: bool = False


@_cached_for_text
def parse_measure(value: Any) -> Measure | None:
    """Parse "≥95%", "40 家", "≤5 个工作日", "不低于 90%", "5 天以内"; None if not a measure."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return Measure(POSITIVE, float(value), "") if math.isfinite(value) else None
    text = fold(value)
    direction, text = _strip_operator(text)
    match = _MEASURE.match(text.replace(" ", ""))
    if not match:
        return None
    number = float(match.group(1).replace(",", ""))
    if not math.isfinite(number):  # a 400-digit figure: nothing to compare against
        return None
    unit = match.group(2)
    if unit == "%":
        return Measure(direction or POSITIVE, number / 100, "", percent=True)
    return Measure(direction or POSITIVE, number, unit)


def _strip_operator(text: str) -> tuple[str | None, str]:
    """Remove a leading and/or trailing operator; the first one found sets the direction."""
    direction = None
    for word, found in _PREFIX_OPS:
        if text.startswith(word):
            direction, text = found, text[len(word):].strip()
            break
    for word, found in _SUFFIX_OPS:
        if text.endswith(word):
            direction, text = direction or found, text[: -len(word)].strip()
            break
    return direction, text


def format_number(value: float | None, digits: int = 2) -> str:
    """Numbers in messages: up to `digits` decimals, no trailing zeros."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "（空）"
    grouping = "," if abs(value) >= 10000 else ""  # 2,350,000 reads as 元 at a glance
    text = f"{value:{grouping}.{digits}f}".rstrip("0").rstrip(".")
    if text in ("0", "-0") and value != 0:  # -0.0001 must not read as 0 in "超出 0～10 分的范围"
        return f"{value:.2g}"
    return "0" if text == "-0" else text


def format_percent(value: float | None) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "（空）"
    return f"{value * 100:.2f}%"
