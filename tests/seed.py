"""The real submission of docs/seed/ (a copy of the shared seed) (承德县社会保险事业服务中心, 2023) as a FormSpec.

Typed exactly as the seed shows it: "10 分" and "56.85%" as text, indicator
values with units ("40 家", "≥95%"), placeholder rows ("指标 1:", ".....").
"""

from __future__ import annotations

from xlbatch.outputs.template import BlockSpec, CategorySpec, FormSpec, IndicatorSpec

P = IndicatorSpec  # short alias for the table below


def seed_form(**overrides) -> FormSpec:
    spec = FormSpec(
        year=2023,
        project="失业动态监测，社会化管理服务费",
        department="承德县人力资源和社会保障局",
        unit="承德县社会保险事业服务中心",
        funds={"年度资金总额": (5.4, 5.4, 3.07), "当年财政拨款": (5.4, 5.4, 3.07)},
        budget_weight="10 分",
        rate="56.85%",
        budget_score=5.7,
        goal_expected="按照上级要求及时发放失业动态监测联络员的工作补贴，按时完成退休人员的社会化管理工作，"
        "做好社保基金扩面征收、发放等工作。",
        goal_actual="按时完成退休人员的社会化管理工作，做好社保基金扩面征收、发放等工作。"
        "失业动态监测联络员的工作正在进行中。",
        blocks=[
            BlockSpec("产出指标 50 分", [
                CategorySpec("数量指标", [P("失业动态监测企业数", "40 家", "40 家", 10, 10),
                                      P("退休人员数量", 11857, 12608, 8, 8)]),
                CategorySpec("质量指标", [P("资金使用合理率", "≥95%", "100%", 8, 8),
                                      P("发放差错率 (%)", "≤1%", "0%", 8, 8), P(".....")]),
                CategorySpec("时效指标", [P("问题整改率 (%)", "≥95%", "100%", 8, 8),
                                      P("业务处理及时性 (%)", "≥95%", "100%", 8, 8), P(".....")]),
                CategorySpec("成本指标", [P("指标 1:"), P("指标 2:")]),
            ]),
            BlockSpec("效益指标 30 分", [
                CategorySpec("经济效益\n指标", [P("完善就业失业监测统", "完善", "完善", 10, 10),
                                          P("指标 2:"), P(".....")]),
                CategorySpec("社会效益\n指标", [P("维护社会稳定", "得到提升", "得到提升", 10, 10),
                                          P("指标 2:"), P(".....")]),
                CategorySpec("生态效益\n指标", [P("指标 1:"), P("指标 2:")]),
                CategorySpec("可持续影\n响指标", [P("工作连续的持久度", "得到提升", "得到提升", 10, 10),
                                           P("指标 2:"), P(".....")]),
            ]),
            BlockSpec("满意度\n指标 10 分", [
                CategorySpec("服务对象\n满意度指\n标", [P("企业退休人员满意率", "≥95%", "100%", 10, 10),
                                                P("指标 2:"), P(".....")]),
            ]),
        ],
        total_reported=95.7,
    )
    for key, value in overrides.items():
        setattr(spec, key, value)
    return spec
