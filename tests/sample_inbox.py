"""The sample inbox shipped in `inbox/`: invented units of an invented 示例县.

Regenerate with `python tests/sample_inbox.py [DIR]` (default: inbox/). The
submissions are chosen so a first run fills every sheet of the workbook: one
clean form, forms with findings, a form with a missing field, an unreadable
file, and files that are not submissions at all.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from xlbatch.outputs.template import (
    BlockSpec,
    CategorySpec,
    FormSpec,
    IndicatorSpec,
    write_workbook,
)

P = IndicatorSpec
# Fixed modification times: "newest file wins" for duplicates must not depend on checkout order.
BASE_MTIME = 1_735_000_000


def nutrition() -> FormSpec:
    """A clean form: well executed, every indicator met, every category filled."""
    return FormSpec(
        year=2024, project="农村义务教育学生营养改善计划", department="示例县教育局",
        unit="示例县第一中学",
        funds={"年度资金总额": (120, 120, 117.6), "当年财政拨款": (120, 120, 117.6)},
        rate="formula", budget_score="formula", budget_weight=10,
        goal_expected="为在校学生每天提供营养膳食补助，改善学生营养健康状况。",
        goal_actual="全年为 1,850 名学生提供营养餐 200 天，学生营养健康状况明显改善。",
        blocks=[
            BlockSpec("产出指标 50 分", [
                CategorySpec("数量指标", [P("受益学生人数", "≥1800 人", "1850 人", 10, 10),
                                      P("供餐天数", "≥200 天", "200 天", 5, 5)]),
                CategorySpec("质量指标", [P("食品安全事故发生率", "0", "0", 10, 10)]),
                CategorySpec("时效指标", [P("补助资金拨付及时率", "100%", "100%", 10, 10)]),
                CategorySpec("成本指标", [P("生均每天补助标准", "≤5 元", "5 元", 15, 15)]),
            ]),
            BlockSpec("效益指标 30 分", [
                CategorySpec("社会效益指标", [P("学生营养健康状况", "明显改善", "明显改善", 15, 15)]),
                CategorySpec("可持续影响指标", [P("营养改善长效机制", "建立健全", "建立健全", 15, 15)]),
            ]),
            BlockSpec("满意度指标 10 分", [
                CategorySpec("服务对象满意度指标", [P("学生及家长满意度", "≥90%", "96%", 10, 10)]),
            ]),
        ],
    )


def farmland() -> FormSpec:
    """Low execution, a wrong rate, and an unmet target scored in full with no explanation."""
    return FormSpec(
        year=2024, project="高标准农田建设项目", department="示例县农业农村局",
        unit="示例县农业技术推广中心",
        funds={"年度资金总额": (850, 850, 612), "当年财政拨款": (600, 600, 430),
               "上年结转资金": (250, 250, 182)},
        rate="80%", budget_score=8, budget_weight="10 分",
        goal_expected="新建高标准农田 5000 亩，配套灌溉和田间道路设施。",
        goal_actual="完成高标准农田建设 4200 亩，部分灌溉工程因汛期顺延至次年。",
        blocks=[
            BlockSpec("产出指标 50 分", [
                CategorySpec("数量指标", [P("新建高标准农田面积", "≥5000 亩", "4200 亩", 15, 15),
                                      P("新建灌溉渠道", "≥12 公里", "12.5 公里", 5, 5)]),
                CategorySpec("质量指标", [P("工程验收合格率", "≥95%", "100%", 10, 10)]),
                CategorySpec("时效指标", [P("项目完工时间", "2024 年 11 月底前", "部分工程顺延", 10, 10,
                                          "汛期影响施工，灌溉工程顺延至 2025 年 4 月")]),
                CategorySpec("成本指标", [P("亩均建设成本", "≤1700 元", "1457 元", 10, 10)]),
            ]),
            BlockSpec("效益指标 30 分", [
                CategorySpec("经济效益指标", [P("亩均粮食增产", "≥50 公斤", "55 公斤", 15, 15)]),
                CategorySpec("生态效益指标", [P("节水灌溉覆盖率", "≥80%", "85%", 15, 15)]),
            ]),
            BlockSpec("满意度指标 10 分", [
                CategorySpec("服务对象满意度指标", [P("受益农户满意度", "≥90%", "93%", 10, 10)]),
            ]),
        ],
        total_reported=98,
    )


def public_health() -> FormSpec:
    """Funds that do not add up and a qualitative indicator scored above its tier."""
    return FormSpec(
        year=2024, project="基本公共卫生服务项目", department="示例县卫生健康局",
        unit="示例县疾病预防控制中心",
        funds={"年度资金总额": (300, 300, 288), "当年财政拨款": (200, 200, 200),
               "上年结转资金": (80, 80, 88)},
        rate="96%", budget_score=9.6, budget_weight=10,
        goal_expected="为辖区常住人口提供 12 类国家基本公共卫生服务。",
        goal_actual="完成全年服务任务，慢病管理规范化水平仍需提高。",
        blocks=[
            BlockSpec("产出指标 50 分", [
                CategorySpec("数量指标", [P("居民电子健康档案建档率", "≥90%", "92.5%", 10, 10),
                                      P("65 岁以上老年人健康管理人数", "≥12,000 人", "12,430 人", 10, 10)]),
                CategorySpec("质量指标", [P("高血压患者规范管理率", "≥65%", "61%", 10, 9.4,
                                          "部分偏远村随访不及时，已增加随访频次")]),
                CategorySpec("时效指标", [P("资金拨付及时率", "100%", "100%", 10, 10)]),
                CategorySpec("成本指标", [P("人均基本公共卫生服务经费", "≤89 元", "89 元", 10, 10)]),
            ]),
            BlockSpec("效益指标 30 分", [
                CategorySpec("社会效益指标", [P("居民健康素养水平", "逐步提高", "基本完成", 15, 15)]),
                CategorySpec("可持续影响指标", [P("基层医疗卫生服务能力", "持续提升", "持续提升", 15, 15)]),
            ]),
            BlockSpec("满意度指标 10 分", [
                CategorySpec("服务对象满意度指标", [P("居民满意度", "≥85%", "88%", 10, 10)]),
            ]),
        ],
        total_reported=99,
    )


def relief() -> FormSpec:
    """Amounts typed in 元 as text with thousands separators; no 成本指标 filled in."""
    return FormSpec(
        year=2024, project="城乡困难群众救助补助资金", department="示例县民政局",
        unit="示例县社会救助服务中心",
        funds={"年度资金总额": ("2,350,000", "2,350,000", "2,298,000"),
               "当年财政拨款": ("2,350,000", "2,350,000", "2,298,000")},
        rate="97.79%", budget_score=9.78, budget_weight=10,
        goal_expected="保障城乡低保对象、特困人员基本生活。",
        goal_actual="按时足额发放救助资金，困难群众基本生活得到保障。",
        blocks=[
            BlockSpec("产出指标 50 分", [
                CategorySpec("数量指标", [P("城乡低保保障人数", "≥3200 人", "3268 人", 20, 20)]),
                CategorySpec("质量指标", [P("救助对象认定准确率", "≥98%", "99.2%", 10, 10)]),
                CategorySpec("时效指标", [P("救助资金按月发放率", "100%", "100%", 20, 20)]),
                CategorySpec("成本指标", [P("指标1："), P("指标2：")]),
            ]),
            BlockSpec("效益指标 30 分", [
                CategorySpec("社会效益指标", [P("困难群众基本生活保障", "有效保障", "有效保障", 30, 30)]),
            ]),
            BlockSpec("满意度指标 10 分", [
                CategorySpec("服务对象满意度指标", [P("救助对象满意度", "≥90%", "95%", 10, 10)]),
            ]),
        ],
        total_reported=99.78,
    )


def missing_unit() -> FormSpec:
    """实施单位 left empty: the form is rejected (MISSING_FIELD)."""
    spec = nutrition()
    spec.project, spec.department, spec.unit = "乡村学校少年宫运转经费", "示例县教育局", None
    spec.funds = {"年度资金总额": (30, 30, 29.1), "当年财政拨款": (30, 30, 29.1)}
    return spec


INSTRUCTIONS = [["填报说明"], ["本工作簿第二个工作表为自评表，请勿修改表头结构。"]]


def write_sample_inbox(inbox: Path) -> list[Path]:
    files = {
        "示例县第一中学/农村义务教育学生营养改善计划.xlsx": [("自评表", nutrition())],
        "示例县农业技术推广中心/高标准农田建设项目绩效自评表.xlsx": [("自评表", farmland())],
        "示例县疾病预防控制中心_基本公共卫生服务.xlsx": [("基本公卫", public_health())],
        "示例县社会救助服务中心/困难群众救助补助资金自评.xlsx": [("自评表", relief())],
        "示例县教育局/乡村学校少年宫运转经费.xlsx": [("自评表", missing_unit())],
    }
    written = []
    for i, (rel, forms) in enumerate(sorted(files.items())):
        path = inbox / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        extra = [("填报说明", INSTRUCTIONS)] if "基本公共卫生" in rel else ()
        written.append(write_workbook(path, forms, extra_sheets=extra))
        os.utime(path, (BASE_MTIME + i * 3600, BASE_MTIME + i * 3600))
    written += _not_submissions(inbox, written[0])
    return written


def _not_submissions(inbox: Path, good: Path) -> list[Path]:
    """A truncated workbook, a PDF report, and Word's lock file beside an open form."""
    broken = inbox / "示例县文化馆" / "文化惠民工程自评表.xlsx"
    broken.parent.mkdir(parents=True, exist_ok=True)
    broken.write_bytes(good.read_bytes()[:3000])  # cut off mid-upload
    report = inbox / "示例县文化馆" / "2024年度绩效自评报告.pdf"
    report.write_bytes(b"%PDF-1.4\n% sample report, not a form\n%%EOF\n")
    lock = inbox / "示例县第一中学" / "~$农村义务教育学生营养改善计划.xlsx"
    lock.write_bytes(b"\x0bxlbatch-user" + b"\x00" * 149)
    for path in (broken, report, lock):
        os.utime(path, (BASE_MTIME, BASE_MTIME))
    return [broken, report, lock]


if __name__ == "__main__":
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "inbox")
    for p in write_sample_inbox(target):
        print(p)
