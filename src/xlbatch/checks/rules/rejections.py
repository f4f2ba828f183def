"""Rejections (validate stage): a form missing a required field, whose 全年预算数 or 全年执行数
is no usable number, or whose 全年预算数 is 0 (no execution rate), is not accepted.

Each rule is one block: its checks' `passes` and `describe`, then its registration.
"""

from __future__ import annotations

from functools import reduce
from operator import and_
from typing import TYPE_CHECKING

from ...catalogue import FORMS, VALIDATE, Check, Detail, Rule, register
from ...form.vocabulary import FUND_COL_LABELS, FUND_ROW_LABELS, HEADER, SOURCE_ROWS
from ...models import ERROR
from ._shared import blank, cell_of, num

if TYPE_CHECKING:
    import pandas as pd

    from ...config import Config

_REQUIRED = (("project", HEADER["project"].label, "project"), ("unit", HEADER["unit"].label, "unit"),
             ("budget_full_year_raw", FUND_COL_LABELS["full_year"], "fund_total_full_year"),
             ("executed_raw", FUND_COL_LABELS["executed"], "fund_total_executed"))
_REQUIRED_COLUMNS = tuple(col for col, _, _ in _REQUIRED)


def _missing_passes(df: pd.DataFrame, cfg: Config) -> pd.Series:
    # Every required column filled, row by row: pd.concat(...).all(axis=1) without importing pandas.
    return reduce(and_, [df[col].fillna("").astype(str) != "" for col in _REQUIRED_COLUMNS])


def _missing_describe(row: dict, cfg: Config) -> Detail:
    missing = [(label, field) for col, label, field in _REQUIRED if not str(row[col] or "")]
    _first_label, first_field = missing[0]
    cell = cell_of(row, first_field)
    where = [f"「{label}」（{cell_of(row, f) or '未找到该栏'}）" for label, f in missing]
    found = _labels_found(row, [f for _, f in missing if not cell_of(row, f)])
    return Detail(first_field, cell, f"必填项{'、'.join(where)}为空，请填写后重新报送{found}",
                  value="（空）", expected="、".join(label for label, _ in missing))


_LISTED = 12  # labels named per place; a longer list ends with 等 N 个


def _labels_found(row: dict, fields: list[str]) -> str:
    """For the fields whose label was not found, the labels found where each was expected (the frame's
    nearby_labels), one list per place: a clerk sees her template's spelling of the field. Whether it
    is the same field only a person can tell, so the hint asks: use the template's wording, or tell
    the bureau this one (a spelling the bureau accepts is then read; xlbatch cannot be told here)."""
    near = row.get("nearby_labels") or {}
    places: dict[tuple[str, ...], list[str]] = {}  # the labels of one place → the roles expected there
    for f in fields:
        if f in near:
            name, texts = near[f]
            roles = places.setdefault(tuple(texts), [])
            if name not in roles:
                roles.append(name)
    if not places:
        return ""
    parts = []
    for texts, roles in places.items():
        listed = "".join(f"「{t}」" for t in texts[:_LISTED])
        more = f"等 {len(texts)} 个" if len(texts) > _LISTED else ""
        parts.append(f"在应有{''.join(f'「{r}」' for r in roles)}的位置找到的标签：{listed}{more}")
    return (f"；{'；'.join(parts)}；如其中某个标签即所缺栏目的另一种写法，"
            f"请改用模板的写法，或把这种写法告知财政局")


MISSING_FIELD = register(Rule(
    "MISSING_FIELD", ERROR, "必填项为空",
    "项目名称、实施单位、全年预算数或全年执行数为空", VALIDATE,
    checks=(Check(FORMS, _REQUIRED_COLUMNS, _missing_passes, _missing_describe),)))


def _bad_number_passes(df: pd.DataFrame, cfg: Config) -> pd.Series:
    return df["budget_full_year_ok"].astype(bool) & df["executed_ok"].astype(bool)


def _bad_number_describe(row: dict, cfg: Config) -> Detail:
    bad = [(label, field, row[raw], row[why]) for raw, ok, why, label, field in (
        ("budget_full_year_raw", "budget_full_year_ok", "budget_full_year_problem", FUND_COL_LABELS["full_year"],
         "fund_total_full_year"),
        ("executed_raw", "executed_ok", "executed_problem", FUND_COL_LABELS["executed"], "fund_total_executed"))
        if not row[ok]]
    _label, field, raw, _why = bad[0]
    parts = [f"「{lb}」（{cell_of(row, f)}）填报为「{r}」，{why}" for lb, f, r, why in bad]
    return Detail(field, cell_of(row, field),
                  f"{'；'.join(parts)}；请填写以万元为单位的金额（如 5.4）",
                  value=str(raw), expected="≥ 0 的数字（万元）")


BAD_NUMBER = register(Rule(
    "BAD_NUMBER", ERROR, "金额不是数字",
    "全年预算数或全年执行数不是数字，或为无穷大、NaN、负数或不小于 1 万亿万元的数", VALIDATE,
    checks=(Check(FORMS, ("budget_full_year_ok", "executed_ok"), _bad_number_passes, _bad_number_describe),)))


def _zero_budget_passes(df: pd.DataFrame, cfg: Config) -> pd.Series:
    return ~(df["budget_full_year_ok"].astype(bool) & (df["fund_total_full_year"] == 0))


def _zero_budget_describe(row: dict, cfg: Config) -> Detail:
    # A 年度资金总额 row left at 0 beside filled source rows is a form filled on the wrong row.
    filled = [(FUND_ROW_LABELS[r], row[f"fund_{r}_full_year"]) for r in SOURCE_ROWS
              if not blank(row[f"fund_{r}_full_year"]) and row[f"fund_{r}_full_year"] > 0]
    hint = "".join(f"；「{label}」一行的全年预算数填有 {num(value, 4)} 万元" for label, value in filled)
    ask = "请把年度资金总额一行填为各资金来源之和" if filled else "请填写该项目的全年预算数（万元）"
    return Detail("fund_total_full_year", cell_of(row, "fund_total_full_year"),
                  f"「{FUND_ROW_LABELS['total']}」的「{FUND_COL_LABELS['full_year']}」"
                  f"（{cell_of(row, 'fund_total_full_year')}）为 0，无法计算预算执行率{hint}；{ask}后重新报送",
                  value="0", expected="> 0（万元）")


BUDGET_ZERO = register(Rule(
    "BUDGET_ZERO", ERROR, "全年预算数为零",
    "年度资金总额的全年预算数为 0，无法计算预算执行率", VALIDATE,
    checks=(Check(FORMS, ("budget_full_year_ok", "fund_total_full_year"), _zero_budget_passes,
                  _zero_budget_describe),)))
