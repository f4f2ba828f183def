"""Flags on the scores as reported: out of range, off the recomputation, weights that do not add up,
a total that is not the sum of its parts, a self-score above the recomputed one.

Each rule is one block: its checks' `passes` and `describe`, then its registration.
"""

from __future__ import annotations

from ...catalogue import EVALUATE, FORMS, INDICATORS, Check, Detail, Rule, register
from ...form.values import clean_text
from ...models import WARNING
from ._shared import blank, cell_of, ind_field, ind_name, num


def _budget_range_passes(df, cfg):
    s = df["budget_score_reported"]
    return ~((s < 0) | (s > df["budget_weight"] + 1e-9))


def _budget_range_describe(row, cfg):
    return Detail("fund_total_score", cell_of(row, "fund_total_score"),
                  f"预算执行率得分填报为 {num(row['budget_score_reported'])} 分，超出 0～"
                  f"{num(row['budget_weight'])} 分的范围",
                  num(row["budget_score_reported"]), f"0～{num(row['budget_weight'])}")


def _range_passes(df, cfg):
    s = df["score_reported"]
    return ~((s < 0) | (s > df["weight"] + 1e-9))


def _range_describe(row, cfg):
    return Detail(ind_field(row, "score"), row["cells"]["score"],
                  f"指标{ind_name(row)}得分填报为 {num(row['score_reported'])} 分，"
                  f"超出 0～{num(row['weight'])} 分的范围",
                  num(row["score_reported"]), f"0～{num(row['weight'])}")


SCORE_OUT_OF_RANGE = register(Rule(
    "SCORE_OUT_OF_RANGE", WARNING, "得分超出范围",
    "某项填报得分小于 0 或大于其分值", EVALUATE,
    checks=(Check(FORMS, ("budget_score_reported", "budget_weight"), _budget_range_passes, _budget_range_describe),
            Check(INDICATORS, ("score_reported", "weight"), _range_passes, _range_describe))))


def _mismatch_passes(df, cfg):
    tol = cfg.rules.score_tolerance
    diff = df["score_reported"] - df["score"]
    quant = (df["kind"] == "quantitative") & (diff.abs() > tol)
    qual = (df["kind"] == "qualitative") & (diff > tol)
    return ~(quant | qual)


def _mismatch_describe(row, cfg):
    if row["kind"] == "qualitative":
        text = (f"指标{ind_name(row)}为定性指标，实际完成值「{clean_text(row['actual'])}」对照年度指标值"
                f"「{clean_text(row['target'])}」，{row['basis']} 分，填报为 {num(row['score_reported'])} 分")
    else:
        text = (f"指标{ind_name(row)}得分填报为 {num(row['score_reported'])} 分，按实际完成值"
                f"「{clean_text(row['actual'])}」对年度指标值「{clean_text(row['target'])}」计算"
                f"（{row['basis']}）应为 {num(row['score'])} 分")
    return Detail(ind_field(row, "score"), row["cells"]["score"], text,
                  num(row["score_reported"]), num(row["score"]))


INDICATOR_SCORE_MISMATCH = register(Rule(
    "INDICATOR_SCORE_MISMATCH", WARNING, "指标得分有误",
    "定量指标填报得分与复算得分相差超过容差；定性指标得分超过其完成档次的上限", EVALUATE,
    checks=(Check(INDICATORS, ("kind", "score_reported", "score"), _mismatch_passes, _mismatch_describe),)))


def _weights_passes(df, cfg):
    off = (df["weight_sum"] - cfg.scoring.total_points).abs() > 1e-6
    return ~off & (df["block_mismatch"].fillna("") == "")


def _weights_describe(row, cfg):
    parts = []
    if abs(row["weight_sum"] - cfg.scoring.total_points) > 1e-6:
        parts.append(f"预算执行率与各三级指标分值合计 {num(row['weight_sum'])} 分，应为 "
                     f"{num(cfg.scoring.total_points)} 分")
    if row["block_mismatch"]:
        parts.append(row["block_mismatch"])
    return Detail("total_weight", cell_of(row, "total_weight"), "分值设置有误：" + "；".join(parts),
                  num(row["weight_sum"]), num(cfg.scoring.total_points))


WEIGHTS_INVALID = register(Rule(
    "WEIGHTS_INVALID", WARNING, "分值设置有误",
    "各项分值合计不等于 {scoring.total_points:number}，或一级指标下分值合计与其标注分数不符", EVALUATE,
    checks=(Check(FORMS, ("weight_sum", "block_mismatch"), _weights_passes, _weights_describe),)))


def _total_passes(df, cfg):
    diff = (df["total_reported"] - df["reported_parts_total"]).abs()
    # A blank 总分 (often a broken formula, which reads as empty) hides every total-based rule.
    blank = df["total_reported"].isna() & (df["reported_parts_total"] > 0)
    return ~((diff > cfg.rules.score_tolerance) | blank)


def _total_describe(row, cfg):
    rescaled = "（已剔除不适用指标并折算为百分制）" if row["na_weight"] else ""
    parts = f"预算执行率得分与各指标得分之和{rescaled}为 {num(row['reported_parts_total'])} 分"
    if blank(row["total_reported"]):
        text = f"总分为空（或公式出错），但{parts}；请填写总分"
    else:
        text = f"总分填报为 {num(row['total_reported'])} 分，但{parts}"
    return Detail("total_reported", cell_of(row, "total_reported"), text,
                  num(row["total_reported"]), num(row["reported_parts_total"]))


TOTAL_MISMATCH = register(Rule(
    "TOTAL_MISMATCH", WARNING, "总分不等于各项之和",
    "填报总分为空或不等于预算执行率得分与各指标得分之和（剔除不适用指标时折算为百分制）", EVALUATE,
    checks=(Check(FORMS, ("total_reported", "reported_parts_total"), _total_passes, _total_describe),)))


def _inflated_passes(df, cfg):
    return ~(df["total_reported"] - df["total_score"] > cfg.rules.inflation_points)


def _inflated_describe(row, cfg):
    gap = row["total_reported"] - row["total_score"]
    return Detail("total_reported", cell_of(row, "total_reported"),
                  f"自评总分 {num(row['total_reported'])} 分（{row['grade_reported']}），按评分规则复算为 "
                  f"{num(row['total_score'])} 分（{row['grade']}），高出 {num(gap)} 分",
                  num(row["total_reported"]), num(row["total_score"]))


SELF_SCORE_INFLATED = register(Rule(
    "SELF_SCORE_INFLATED", WARNING, "自评分虚高",
    "填报总分比复算总分高出 {rules.inflation_points:number} 分以上", EVALUATE,
    checks=(Check(FORMS, ("total_reported", "total_score"), _inflated_passes, _inflated_describe),)))
