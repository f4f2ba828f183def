"""Forms the tests build and edit: the seed made clean (`clean_form`), an indicator or a category
found by name, one changed field; and the one form of a run's result."""

from __future__ import annotations

from seed import seed_form

from xlbatch.models import Finding
from xlbatch.outputs.template import BlockSpec, CategorySpec, FormSpec, IndicatorSpec
from xlbatch.pipeline import RunResult

P = IndicatorSpec

SATISFACTION = "企业退休人员满意率"  # ≥95%, 10 分, row 34
STABILITY = "维护社会稳定"  # qualitative 得到提升, 10 分, row 26
COST = "人均管理服务成本"  # ≤200 元, 4 分, row 21 (added by clean_form)


def clean_form(**overrides) -> FormSpec:
    """The seed with 95% of its budget executed and a 成本指标: no finding at all.

    Funds 5.4 / 5.4 / 5.13 万元 → execution 95.00%, budget score 9.5; the 时效 indicator
    业务处理及时性 gives 4 of its 8 points to the new 成本 indicator, so 产出 still
    adds up to 50 and the total to 100; reported total 9.5 + 90 = 99.5.
    """
    spec = seed_form(
        funds={"年度资金总额": (5.4, 5.4, 5.13), "当年财政拨款": (5.4, 5.4, 5.13)},
        rate="95.00%",
        budget_score=9.5,
        total_reported=99.5,
    )
    timely = indicator(spec, "业务处理及时性 (%)")
    timely.weight, timely.score = 4, 4
    cost = category(spec, "成本指标")
    cost.indicators[0] = P(COST, "≤200 元", "180 元", 4, 4)
    for key, value in overrides.items():
        setattr(spec, key, value)
    return spec


def indicator(spec: FormSpec, name: str) -> IndicatorSpec:
    for block in spec.blocks:
        for cat in block.categories:
            for ind in cat.indicators:
                if ind.name == name:
                    return ind
    raise KeyError(name)


def category(spec: FormSpec, label: str) -> CategorySpec:
    for block in spec.blocks:
        for cat in block.categories:
            if cat.label == label:
                return cat
    raise KeyError(label)


def block(spec: FormSpec, prefix: str) -> BlockSpec:
    return next(b for b in spec.blocks if b.label.startswith(prefix))


def edit(spec: FormSpec, name: str, **fields) -> FormSpec:
    ind = indicator(spec, name)
    for key, value in fields.items():
        setattr(ind, key, value)
    return spec


def only(result: RunResult, rule: str) -> Finding:
    found = [f for f in result.findings if f.rule == rule]
    assert len(found) == 1, [(f.rule, f.cell, f.message) for f in result.findings]
    return found[0]


def form(result: RunResult):
    assert len(result.forms) == 1
    return result.forms.iloc[0]


def recomputed_95(total_reported: float, **fields):
    """A form whose recomputed total is exactly 95 in binary floating point: funds 100% executed
    (5.4/5.4 = 1.0, budget 10), 满意率 50% against ≥100% (0.5 × 10 = 5), every other indicator
    full (80). The unit reports 6 for 满意率 (so its parts add up to 96) and `total_reported`;
    `fields` set more of the form (unit, project)."""
    spec = clean_form(**fields, funds={"年度资金总额": (5.4, 5.4, 5.4), "当年财政拨款": (5.4, 5.4, 5.4)},
                      rate="100.00%", budget_score=10, total_reported=total_reported)
    return edit(spec, SATISFACTION, target="≥100%", actual="50%", score=6, deviation="回访覆盖面不足")
