"""Flags on a form's budget execution: the rate and its score as reported, spending over the budget,
funds that do not add up, low execution (and a high self-score despite it).

Each rule is one block: its checks' `passes` and `describe`, then its registration.
"""

from __future__ import annotations

from ...catalogue import EVALUATE, FORMS, Check, Detail, Rule, register
from ...form.values import format_percent
from ...models import WARNING
from ._shared import cell_of, num


def _rate_passes(df, cfg):
    diff = (df["rate_reported"] - df["execution_rate"]).abs()
    return ~(diff > cfg.rules.rate_tolerance)


def _rate_describe(row, cfg):
    return Detail("fund_total_rate", cell_of(row, "fund_total_rate"),
                  f"执行率填报为 {format_percent(row['rate_reported'])}，按全年执行数/全年预算数"
                  f"（{num(row['executed'], 4)}/{num(row['budget_full_year'], 4)}）计算应为 "
                  f"{format_percent(row['execution_rate'])}",
                  format_percent(row["rate_reported"]), format_percent(row["execution_rate"]))


RATE_MISMATCH = register(Rule(
    "RATE_MISMATCH", WARNING, "执行率填报有误",
    "填报的执行率与 全年执行数/全年预算数 相差超过容差", EVALUATE,
    checks=(Check(FORMS, ("rate_reported", "execution_rate"), _rate_passes, _rate_describe),)))


def _budget_score_passes(df, cfg):
    diff = (df["budget_score_reported"] - df["budget_score"]).abs()
    return ~(diff > cfg.rules.score_tolerance)


def _budget_score_describe(row, cfg):
    return Detail("fund_total_score", cell_of(row, "fund_total_score"),
                  f"预算执行率得分填报为 {num(row['budget_score_reported'])} 分，按执行率 "
                  f"{format_percent(row['execution_rate'])}（超过 100% 按 100% 计）× 分值 "
                  f"{num(row['budget_weight'])} 计算应为 {num(row['budget_score'])} 分",
                  num(row["budget_score_reported"]), num(row["budget_score"]))


BUDGET_SCORE_MISMATCH = register(Rule(
    "BUDGET_SCORE_MISMATCH", WARNING, "预算执行得分有误",
    "填报的预算执行率得分与复算得分相差超过容差", EVALUATE,
    checks=(Check(FORMS, ("budget_score_reported", "budget_score"), _budget_score_passes, _budget_score_describe),)))


def _over_budget_passes(df, cfg):
    return ~(df["executed"] > df["budget_full_year"])


def _over_budget_describe(row, cfg):
    return Detail("fund_total_executed", cell_of(row, "fund_total_executed"),
                  f"全年执行数 {num(row['executed'], 4)} 万元超过全年预算数 "
                  f"{num(row['budget_full_year'], 4)} 万元",
                  num(row["executed"], 4), f"≤ {num(row['budget_full_year'], 4)}")


OVER_BUDGET = register(Rule(
    "OVER_BUDGET", WARNING, "超预算执行",
    "全年执行数大于全年预算数", EVALUATE,
    checks=(Check(FORMS, ("executed", "budget_full_year"), _over_budget_passes, _over_budget_describe),)))


def _funds_passes(df, cfg):
    return df["funds_gap"].fillna("") == ""


def _funds_describe(row, cfg):
    field = row["funds_gap_field"]
    return Detail(field, cell_of(row, field),
                  f"年度资金总额与当年财政拨款、上年结转资金、其他资金之和不符——{row['funds_gap']}",
                  row["funds_gap_total"], f"{row['funds_gap_sources']}（各来源之和）")


FUNDS_DONT_ADD_UP = register(Rule(
    "FUNDS_DONT_ADD_UP", WARNING, "资金来源不平",
    "年度资金总额不等于当年财政拨款、上年结转资金、其他资金之和（仅核对填有来源的列）", EVALUATE,
    checks=(Check(FORMS, ("funds_gap",), _funds_passes, _funds_describe),)))


def _low_execution_passes(df, cfg):
    return ~(df["execution_rate"] < cfg.rules.low_execution)


def _low_execution_describe(row, cfg):
    return Detail("fund_total_rate", cell_of(row, "fund_total_rate"),
                  f"预算执行率 {format_percent(row['execution_rate'])}，低于 "
                  f"{format_percent(cfg.rules.low_execution)}",
                  format_percent(row["execution_rate"]), f"≥ {format_percent(cfg.rules.low_execution)}")


LOW_EXECUTION = register(Rule(
    "LOW_EXECUTION", WARNING, "执行率偏低",
    "预算执行率低于下限 {rules.low_execution:percent}", EVALUATE,
    checks=(Check(FORMS, ("execution_rate",), _low_execution_passes, _low_execution_describe),)))


def _high_low_passes(df, cfg):
    r = cfg.rules
    return ~((df["total_reported"] >= r.high_score) & (df["execution_rate"] < r.high_score_low_execution))


def _high_low_describe(row, cfg):
    r = cfg.rules
    return Detail("total_reported", cell_of(row, "total_reported"),
                  f"自评总分 {num(row['total_reported'])} 分（≥{num(r.high_score)}），但预算执行率仅 "
                  f"{format_percent(row['execution_rate'])}（低于 "
                  f"{format_percent(r.high_score_low_execution)}），自评结果与执行情况不符",
                  num(row["total_reported"]), f"执行率 ≥ {format_percent(r.high_score_low_execution)}")


HIGH_SCORE_LOW_EXECUTION = register(Rule(
    "HIGH_SCORE_LOW_EXECUTION", WARNING, "高分低执行",
    "自评总分不低于 {rules.high_score:number} 分而预算执行率低于 {rules.high_score_low_execution:percent}", EVALUATE,
    checks=(Check(FORMS, ("total_reported", "execution_rate"), _high_low_passes, _high_low_describe),)))
