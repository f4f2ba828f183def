"""Flags on the indicators as filled in: a deviation unexplained, an actual missing, a required
category empty, an actual that cannot be compared with its target.

Each rule is one block: its checks' `passes` and `describe`, then its registration.
"""

from __future__ import annotations

from ...catalogue import EVALUATE, FORMS, INDICATORS, Check, Detail, Rule, register
from ...form.values import clean_text
from ...models import INFO, WARNING
from ._shared import ind_field, ind_name, num


def _unexplained_passes(df, cfg):
    judged = ~df["kind"].isin(["not_applicable", "missing_actual"])
    short = ~df["fully_met"].astype(bool) | (df["score_reported"] < df["weight"] - 1e-9)
    return ~(judged & short & (df["deviation"].fillna("") == ""))


def _unexplained_describe(row, cfg):
    return Detail(ind_field(row, "deviation"), row["cells"]["deviation"],
                  f"指标{ind_name(row)}未完全达成（年度指标值「{clean_text(row['target'])}」，实际完成值"
                  f"「{clean_text(row['actual'])}」，得分 {num(row['score_reported'])}/{num(row['weight'])}），"
                  f"但「偏差原因分析及改进措施」为空，请说明原因和改进措施",
                  "（空）", "偏差原因及改进措施")


UNEXPLAINED_DEVIATION = register(Rule(
    "UNEXPLAINED_DEVIATION", WARNING, "偏差未说明",
    "指标未完全达成（按规则或按其自评得分），但偏差原因分析为空", EVALUATE,
    checks=(Check(INDICATORS, ("kind", "fully_met", "score_reported", "weight", "deviation"),
                  _unexplained_passes, _unexplained_describe),)))


def _missing_actual_passes(df, cfg):
    has_target = df["target"].map(clean_text) != ""
    return ~((df["kind"] == "missing_actual") & has_target)


def _missing_actual_describe(row, cfg):
    return Detail(ind_field(row, "actual"), row["cells"]["actual"],
                  f"指标{ind_name(row)}设有年度指标值「{clean_text(row['target'])}」，但未填报实际完成值",
                  "（空）", "实际完成值")


MISSING_ACTUAL = register(Rule(
    "MISSING_ACTUAL", WARNING, "缺少实际完成值",
    "指标有年度指标值但没有实际完成值", EVALUATE,
    checks=(Check(INDICATORS, ("kind", "target"), _missing_actual_passes, _missing_actual_describe),)))


def _category_passes(df, cfg):
    return df["empty_required"].fillna("") == ""


def _category_describe(row, cfg):
    names = "、".join(f"「{c}指标」" for c in row["empty_required"].split("；"))
    return Detail("category:" + row["empty_required"], row["empty_required_ref"],
                  f"必填二级指标{names}未设置三级指标（仅有占位行或缺失），请补充指标、指标值和完成值",
                  row["empty_required"], "至少一个三级指标")


REQUIRED_CATEGORY_EMPTY = register(Rule(
    "REQUIRED_CATEGORY_EMPTY", WARNING, "必填二级指标为空",
    "数量、质量、时效、成本、服务对象满意度等必填二级指标缺失或只有占位行", EVALUATE,
    checks=(Check(FORMS, ("empty_required",), _category_passes, _category_describe),)))


def _incomparable_passes(df, cfg):
    return df["kind"] != "incomparable"


def _incomparable_describe(row, cfg):
    return Detail(ind_field(row, "actual"), row["cells"]["actual"],
                  f"指标{ind_name(row)}的实际完成值「{clean_text(row['actual'])}」无法与年度指标值"
                  f"「{clean_text(row['target'])}」比较（单位不同或不是数值），未复算，保留自评得分",
                  clean_text(row["actual"]), clean_text(row["target"]))


INCOMPARABLE_VALUES = register(Rule(
    "INCOMPARABLE_VALUES", INFO, "指标值无法比较",
    "定量指标的实际完成值无法与年度指标值比较（单位不同或不是数值），保留自评得分", EVALUATE,
    checks=(Check(INDICATORS, ("kind",), _incomparable_passes, _incomparable_describe),)))
