"""县级绩效自评汇总报告.docx: a draft of the county's summary report (SPEC section 7).

The customary structure of a county's report on the year's project self-evaluations, as counties
publish them: 一、基本情况 (units, projects, funds), 二、预算执行情况 (the county's execution rate,
how the projects spread over rate bands, the lowest ones), 三、自评结果 (the grades as the units
reported them and as recomputed, the inflated self-scores), 四、发现的主要问题 (findings by rule,
with typical cases named), 五、下一步工作 (standard text for the bureau to edit).

Every figure comes from the run: the forms that enter the totals (`score.counted`, the same set
as 汇总's 计入汇总 rows) and the findings, less those of copies a newer submission replaced. A
comment on the title says which run computed them; the document is a draft to edit, not to sign.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

import pandas as pd

from ..catalogue import RULES
from ..checks.rules import HIGH_SCORE_LOW_EXECUTION, SELF_SCORE_INFLATED
from ..checks.score import SCALE_SUSPECT, SUPERSEDED, WRONG_SEASON, counted, standings
from ..models import ERROR, INFO, SEVERITY_NAMES, SEVERITY_ORDER, Finding
from ..ops.logs import event
from . import charts
from .document import (
    FIGURE_CAPTION,
    NOTE,
    SUBTITLE,
    TEXT_WIDTH_CM,
    TITLE,
    chinese_date,
    chinese_number,
    heading,
    new_document,
    paragraph,
    save,
    sentence,
    signature,
    table,
)
from .formats import run_time, run_year
from .notices import addressee, current_findings, departments_by_file

LOWEST_SHOWN = 10  # rows of the lowest-execution and inflated-score tables
CASES_PER_RULE = 3  # typical cases named per rule
DEPARTMENTS_CHARTED = 25  # bars of the department chart (the lowest rates)
NO_DEPARTMENT = "（未填主管部门）"
AUTHOR = "xlbatch"


@dataclass
class Figures:
    """What the report states, computed once from the run."""

    county: str
    issuer: str
    year: int | None
    when: datetime
    run_id: str
    counts: dict[str, int]
    received: int  # accepted forms, those left out of the totals (superseded, suspect, outside) included
    superseded: int
    suspect: int
    outside: int  # WRONG_YEAR: of another year or county
    forms: pd.DataFrame  # the forms that enter the totals
    findings: list[Finding]  # less those of superseded copies
    senders: dict[int, str] = field(default_factory=dict)  # id(finding) → the unit it concerns
    inflated: pd.DataFrame | None = None

    @property
    def budget(self) -> float:
        return float(self.forms["budget_full_year"].sum())

    @property
    def executed(self) -> float:
        return float(self.forms["executed"].sum())

    @property
    def rate(self) -> float | None:
        return self.executed / self.budget if self.budget else None

    @property
    def place(self) -> str:
        return self.county or "全县"


def figures(result) -> Figures:
    forms = result.forms
    kept = counted(forms)
    stand = standings(forms)
    findings = current_findings(result)
    fig = Figures(county=result.config.season.county, issuer=result.config.season.issuing_office,
                  year=run_year(result), when=run_time(result), run_id=result.run_id, counts=result.counts(),
                  received=len(forms), superseded=stand[SUPERSEDED], suspect=stand[SCALE_SUSPECT],
                  outside=stand[WRONG_SEASON],
                  forms=kept, findings=findings)
    departments = departments_by_file(result)
    fig.senders = {id(f): addressee(f, departments)[0] for f in findings}
    inflated_ids = {f.form_id for f in findings if f.rule == SELF_SCORE_INFLATED.code}
    inflated = kept[kept.index.isin(inflated_ids)].copy()
    if inflated.empty:  # a run without forms has no score columns to subtract
        fig.inflated = inflated
        return fig
    inflated["gap"] = inflated["total_reported"] - inflated["total_score"]
    fig.inflated = inflated.sort_values(["gap", "unit", "project"], ascending=[False, True, True])
    return fig


def write_report(path, result) -> None:
    fig = figures(result)
    cfg = result.config
    title = f"{fig.county}{_year(fig)}项目支出绩效自评汇总报告"
    doc = new_document(title, fig.issuer, fig.when)
    lead = paragraph(doc, "", TITLE).add_run(title)
    doc.add_comment(lead, f"本报告为初稿，由 {AUTHOR} 根据运行 {fig.run_id} 的汇总结果自动生成，数字均取自该次运行"
                          f"（与汇总工作簿 consolidated.xlsx 的「计入汇总」口径一致）。第五部分为参考文本，"
                          f"请结合实际修改后使用。", author=AUTHOR, initials="XL")
    paragraph(doc, f"编制单位：{fig.issuer}　　{chinese_date(fig.when)}", SUBTITLE)
    paragraph(doc, _opening(fig))
    font = _chart_font(fig, cfg)
    numbering = _Numbering()
    _basics(doc, fig, numbering)
    _execution(doc, fig, cfg, font, numbering)
    _grades(doc, fig, cfg, font, numbering)
    _problems(doc, fig, numbering)
    _next_steps(doc, fig, cfg)
    signature(doc, fig.issuer, chinese_date(fig.when))
    save(doc, path)


@dataclass
class _Numbering:
    tables: int = 0
    charts: int = 0

    def table(self, text: str) -> str:
        self.tables += 1
        return f"表{self.tables}　{text}"

    def chart(self, text: str) -> str:
        self.charts += 1
        return f"图{self.charts}　{text}"


def _year(fig: Figures) -> str:
    return f"{fig.year}年度" if fig.year else ""


def _opening(fig: Figures) -> str:
    return (f"根据预算绩效管理工作安排，{fig.issuer}对{fig.place}各预算单位报送的{_year(fig)}项目支出绩效自评表"
            f"进行了审核汇总：逐表复核预算执行率，按评分规则重新计算各项得分和绩效等级，"
            f"并对照填报规范检查了数据的一致性和完整性。现将有关情况报告如下。")


# --- 一、基本情况 ------------------------------------------------------------------------

def _basics(doc, fig: Figures, numbering: _Numbering) -> None:
    heading(doc, "一、基本情况")
    paragraph(doc, _received(fig))
    if fig.forms.empty:
        paragraph(doc, "本次没有可计入汇总的自评表，以下各项均无数据。")
        return
    forms = fig.forms
    departments = forms["department"].replace("", NO_DEPARTMENT)
    paragraph(doc, f"计入汇总的项目共 {len(forms)} 个，涉及 {forms['unit'].nunique()} 个预算单位"
                   f"（分属 {departments.nunique()} 个主管部门）。这些项目年初预算数合计 "
                   f"{money(forms['budget_initial'].sum())} 万元，全年预算数合计 {money(fig.budget)} 万元，"
                   f"全年执行数合计 {money(fig.executed)} 万元。各主管部门情况见表{numbering.tables + 1}。")
    rows = _department_rows(forms)
    body = [[name, str(units), str(projects), money(budget), money(executed), percent(rate)]
            for name, units, projects, budget, executed, rate in rows]
    body.append(["合计", str(forms["unit"].nunique()), str(len(forms)), money(fig.budget), money(fig.executed),
                 percent(fig.rate)])
    table(doc, numbering.table("各主管部门项目支出绩效自评情况（单位：万元）"),
          ["主管部门", "预算单位（个）", "项目（个）", "全年预算数", "全年执行数", "执行率"], body,
          [5.2, 2.0, 1.7, 2.5, 2.5, 1.8], numeric={1, 2, 3, 4, 5}, total_row=True)


def _received(fig: Figures) -> str:
    """What arrived and what of it enters the totals; a count of nothing is left unsaid."""
    c = fig.counts
    text = f"本次共收到报送文件 {c['files']} 个，受理 {c['accepted']} 个"
    if c["rejected"]:
        text += f"，未受理 {c['rejected']} 个（文件无法读取或必填项缺失等，须由单位更正后重新报送）"
    if c["ignored"]:
        text += f"，另有 {c['ignored']} 个文件不是自评表（如自评报告、临时文件），未作汇总"
    text += f"。受理的文件中共有自评表 {fig.received} 张"
    left_out = [f"{fig.superseded} 张已被同一项目后报送的文件替代"] if fig.superseded else []
    left_out += [f"{fig.suspect} 张金额疑似按元填报，暂不计入合计"] if fig.suspect else []
    left_out += [f"{fig.outside} 张年度或县（区）不符，不计入合计"] if fig.outside else []
    return text + (f"，其中 {'，'.join(left_out)}。" if left_out else "。")


def _department_rows(forms: pd.DataFrame) -> list[tuple]:
    """Per 主管部门: units, projects, budget, executed, rate; the largest budget first."""
    frame = forms.assign(department=forms["department"].replace("", NO_DEPARTMENT))
    grouped = frame.groupby("department").agg(units=("unit", "nunique"), projects=("unit", "size"),
                                              budget=("budget_full_year", "sum"), executed=("executed", "sum"))
    rows = [(name, int(g.units), int(g.projects), float(g.budget), float(g.executed),
             g.executed / g.budget if g.budget else None) for name, g in grouped.iterrows()]
    return sorted(rows, key=lambda r: (-r[3], r[0]))


# --- 二、预算执行情况 --------------------------------------------------------------------

def _execution(doc, fig: Figures, cfg, font: charts.Font | None, numbering: _Numbering) -> None:
    heading(doc, "二、预算执行情况")
    if fig.forms.empty:
        paragraph(doc, "无计入汇总的项目。")
        return
    forms, line = fig.forms, cfg.rules.low_execution
    low = forms[forms["execution_rate"] < line]
    full = int((forms["execution_rate"] >= 1).sum())
    paragraph(doc, f"{fig.place}计入汇总项目全年执行数 {money(fig.executed)} 万元，占全年预算数 "
                   f"{money(fig.budget)} 万元的 {percent(fig.rate)}，即{fig.place}项目支出预算执行率为 "
                   f"{percent(fig.rate)}。其中全部执行（执行率达到 100%）的项目 {full} 个；执行率低于 "
                   f"{percent(line, 0)} 的项目 {len(low)} 个，全年预算数 {money(low['budget_full_year'].sum())} 万元，"
                   f"未执行 {money((low['budget_full_year'] - low['executed']).sum())} 万元。"
                   f"执行率分布见表{numbering.tables + 1}和图{numbering.charts + 1}。")
    bands = rate_bands(forms, cfg)
    body = [[label, str(n), percent(n / len(forms)), money(b), money(e)] for label, n, b, e, _low in bands]
    table(doc, numbering.table("项目预算执行率分布（单位：万元）"),
          ["执行率区间", "项目（个）", "占项目总数", "全年预算数", "全年执行数"], body, [4.4, 2.2, 2.4, 3.0, 3.0],
          numeric={1, 2, 3, 4})
    paragraph(doc, "注：各区间含下限、不含上限。", NOTE)
    if not font:
        no_charts_note(doc)
    else:
        _picture(doc, charts.rate_bands(font, [b[0] for b in bands], [b[1] for b in bands], [b[4] for b in bands],
                                        line, TEXT_WIDTH_CM), numbering.chart("项目预算执行率分布"))
    _department_chart(doc, fig, line, font, numbering)
    lowest = forms.sort_values(["execution_rate", "unit", "project"]).head(LOWEST_SHOWN)
    paragraph(doc, f"执行率最低的 {len(lowest)} 个项目见表{numbering.tables + 1}。")
    body = [[str(i), r.unit, r.project, money(r.budget_full_year), money(r.executed), percent(r.execution_rate)]
            for i, r in enumerate(lowest.itertuples(), start=1)]
    table(doc, numbering.table(f"执行率最低的 {len(lowest)} 个项目（单位：万元）"),
          ["序号", "实施单位", "项目名称", "全年预算数", "全年执行数", "执行率"], body, [1.3, 4.0, 4.4, 2.3, 2.3, 1.9],
          numeric={0, 3, 4, 5})


def rate_bands(forms: pd.DataFrame, cfg) -> list[tuple[str, int, float, float, bool]]:
    """(label, projects, budget, executed, below the low-execution line) per band, highest first.
    The edges: 100%, 90%, the low-execution line and the high-score-low-execution line (80% and 60%
    by default); each band holds its lower edge."""
    line = cfg.rules.low_execution
    edges = sorted({e for e in (1.0, 0.9, line, cfg.rules.high_score_low_execution) if 0 < e <= 1}, reverse=True)
    rates = forms["execution_rate"]
    out = []
    upper = None
    for edge in [*edges, None]:
        inside = (rates >= edge if edge is not None else rates.notna()) & (rates < upper if upper else True)
        if edge is None:
            label = f"{percent(upper, 0)} 以下"
        elif upper is None:
            label = f"{percent(edge, 0)} 及以上"
        else:
            label = f"{percent(edge, 0)} 至 {percent(upper, 0)}"
        chosen = forms[inside]
        out.append((label, len(chosen), float(chosen["budget_full_year"].sum()), float(chosen["executed"].sum()),
                    (upper or 2.0) <= line))
        upper = edge
    return out


def _department_chart(doc, fig: Figures, line: float, font: charts.Font | None, numbering: _Numbering) -> None:
    rows = sorted((r for r in _department_rows(fig.forms) if r[5] is not None), key=lambda r: (r[5], r[0]))
    if not font or len(rows) < 2:
        return
    shown = rows[:DEPARTMENTS_CHARTED]
    what = ("各主管部门预算执行率" if len(shown) == len(rows)
            else f"执行率最低的 {len(shown)} 个主管部门（共 {len(rows)} 个）")
    _picture(doc, charts.department_rates(font, [r[0] for r in shown], [r[5] for r in shown], line, TEXT_WIDTH_CM),
             numbering.chart(what))


# --- 三、自评结果 -------------------------------------------------------------------------

def _grades(doc, fig: Figures, cfg, font: charts.Font | None, numbering: _Numbering) -> None:
    heading(doc, "三、自评结果")
    if fig.forms.empty:
        paragraph(doc, "无计入汇总的项目。")
        return
    forms, grades = fig.forms, cfg.scoring.grades
    reported = [int((forms["grade_reported"] == g).sum()) for g in grades]
    recomputed = [int((forms["grade"] == g).sum()) for g in grades]
    blank = int((forms["grade_reported"] == "").sum())
    mix = "、".join(f"{g} {n} 个" for g, n in zip(grades, reported, strict=True))
    again = "、".join(f"{g} {n} 个" for g, n in zip(grades, recomputed, strict=True))
    blank_text = f"，另有 {blank} 个项目未填自评总分" if blank else ""
    paragraph(doc, f"各单位自评结果为：{mix}{blank_text}。按评分规则（预算执行率得分按执行率计算，各项指标按完成"
                   f"比例计分）复算后为：{again}。自评总分平均 {points(forms['total_reported'].mean())} 分，"
                   f"复算总分平均 {points(forms['total_score'].mean())} 分。对比见表{numbering.tables + 1}"
                   + (f"和图{numbering.charts + 1}。" if font else "。"))
    body = [[g, str(a), percent(a / len(forms)), str(b), percent(b / len(forms))]
            for g, a, b in zip(grades, reported, recomputed, strict=True)]
    if blank:
        body.append(["未填自评总分", str(blank), percent(blank / len(forms)), "—", "—"])
    body.append(["合计", str(len(forms)), "100.00%", str(len(forms)), "100.00%"])
    table(doc, numbering.table("绩效等级分布：单位自评与按规则复算"),
          ["绩效等级", "自评（个）", "自评占比", "复算（个）", "复算占比"], body, [3.6, 2.6, 2.6, 2.6, 2.6],
          numeric={1, 2, 3, 4}, total_row=True)
    if font:
        _picture(doc, charts.grade_mix(font, grades, reported, recomputed, TEXT_WIDTH_CM),
                 numbering.chart("绩效等级分布：单位自评与按规则复算"))
    _inflated(doc, fig, cfg, numbering)


def _inflated(doc, fig: Figures, cfg, numbering: _Numbering) -> None:
    inflated = fig.inflated
    threshold = points(cfg.rules.inflation_points)
    high_low = sum(f.rule == HIGH_SCORE_LOW_EXECUTION.code and f.form_id in fig.forms.index for f in fig.findings)
    if inflated.empty:
        paragraph(doc, f"没有自评总分高于复算总分 {threshold} 分以上的项目。")
        return
    lowered = int((inflated["grade_reported"] != inflated["grade"]).sum())
    paragraph(doc, f"自评总分高于复算总分 {threshold} 分以上（自评分虚高）的项目 {len(inflated)} 个，"
                   f"占计入汇总项目的 {percent(len(inflated) / len(fig.forms))}，平均高出 "
                   f"{points(inflated['gap'].mean())} 分，其中 {lowered} 个项目复算后绩效等级降低；"
                   f"自评高分（{points(cfg.rules.high_score)} 分及以上）而执行率低于 "
                   f"{percent(cfg.rules.high_score_low_execution, 0)} 的项目 {high_low} 个。"
                   f"高出最多的项目见表{numbering.tables + 1}。")
    shown = inflated.head(LOWEST_SHOWN)
    body = [[str(i), r.unit, r.project, points(r.total_reported), points(r.total_score), points(r.gap),
             f"{r.grade_reported}→{r.grade}" if r.grade_reported != r.grade else r.grade]
            for i, r in enumerate(shown.itertuples(), start=1)]
    caption = ("自评分虚高的项目" if len(shown) == len(inflated)
               else f"自评分虚高的项目（高出最多的 {len(shown)} 个，共 {len(inflated)} 个）")
    table(doc, numbering.table(caption), ["序号", "实施单位", "项目名称", "自评总分", "复算总分", "高出", "等级"],
          body, [1.3, 3.9, 4.2, 1.8, 1.8, 1.4, 1.8], numeric={0, 3, 4, 5})


# --- 四、发现的主要问题 -------------------------------------------------------------------

def _problems(doc, fig: Figures, numbering: _Numbering) -> None:
    heading(doc, "四、发现的主要问题")
    findings = fig.findings
    if not findings:
        paragraph(doc, "审核未发现问题。")
        return
    by_rule: dict[str, list[Finding]] = {}
    for f in findings:
        by_rule.setdefault(f.rule, []).append(f)
    order = sorted(by_rule, key=lambda code: (SEVERITY_ORDER[by_rule[code][0].severity], -len(by_rule[code]), code))
    severities = Counter(f.severity for f in findings)
    units = {fig.senders[id(f)] for f in findings}
    paragraph(doc, f"审核共发现问题 {len(findings)} 条，涉及 {len(units)} 个单位。其中"
                   + "，".join(f"{SEVERITY_NAMES[s]} {severities[s]} 条" for s in SEVERITY_NAMES)
                   + "（「错误」为文件未受理、须重新报送，「警告」为须更正或说明，「提示」供核实）。"
                   f"按问题类型统计见表{numbering.tables + 1}。")
    body = [[_rule_title(code), code, SEVERITY_NAMES[by_rule[code][0].severity], str(len(by_rule[code])),
             str(len({fig.senders[id(f)] for f in by_rule[code]}))] for code in order]
    body.append(["合计", "", "", str(len(findings)), str(len(units))])
    table(doc, numbering.table("发现的问题（按问题类型）"),
          ["问题类型", "规则代码", "严重程度", "问题（条）", "涉及单位（个）"], body, [3.7, 6.8, 1.6, 1.6, 1.9],
          numeric={3, 4}, total_row=True)
    for i, code in enumerate(order, start=1):
        cases = by_rule[code]
        heading(doc, f"（{chinese_number(i)}）{_rule_title(code)}：{len(cases)} 条。", level=2)
        for case in _typical(cases, fig):
            paragraph(doc, case)


def _rule_title(code: str) -> str:
    """The rule's Chinese title; its code stands beside it in the table of rules."""
    rule = RULES.get(code)
    return rule.title if rule else code


def _typical(cases: list[Finding], fig: Figures) -> list[str]:
    """Up to CASES_PER_RULE cases, one per unit while there are units enough, each naming who and what."""
    ordered = sorted(cases, key=lambda f: (fig.senders[id(f)], f.project, f.source_file, f.cell))
    firsts, units = [], set()
    for f in ordered:  # each unit's first case
        if fig.senders[id(f)] not in units:
            units.add(fig.senders[id(f)])
            firsts.append(f)
    chosen = firsts[:CASES_PER_RULE]
    if len(chosen) < CASES_PER_RULE:  # fewer units than cases to show: more cases of the same units
        taken = {id(f) for f in chosen}
        chosen += [f for f in ordered if id(f) not in taken][:CASES_PER_RULE - len(chosen)]
    texts = []
    for i, f in enumerate(chosen, start=1):
        what = f"「{f.project}」" if f.project else f"（文件「{f.source_file}」）"
        texts.append(f"{i}．{fig.senders[id(f)]}{what}：{sentence(f.message)}")
    if len(cases) > len(chosen):
        texts.append(f"其余 {len(cases) - len(chosen)} 条见汇总工作簿「异常清单」工作表。")
    return texts


# --- 五、下一步工作 ---------------------------------------------------------------------

def _next_steps(doc, fig: Figures, cfg) -> None:
    title = heading(doc, "五、下一步工作")
    doc.add_comment(title.runs, "以下为参考文本，数字取自本次汇总，请结合实际修改。", author=AUTHOR, initials="XL")
    forms = fig.forms
    low = int((forms["execution_rate"] < cfg.rules.low_execution).sum()) if not forms.empty else 0
    units = len({fig.senders[id(f)] for f in fig.findings if f.severity != INFO})
    rejected = len({f.source_file for f in fig.findings if f.severity == ERROR})
    steps = [
        ("（一）督促问题整改。", f"向审核发现问题的 {units} 个单位逐一下发整改通知，列明需更正的工作表和单元格；"
                          f"{rejected} 个未受理的文件由报送单位更正后重新报送，更正后的数据及时纳入汇总。"),
        ("（二）加快预算执行。", f"对执行率低于 {percent(cfg.rules.low_execution, 0)} 的 {low} 个项目，督促主管部门"
                          f"和实施单位分析原因，加快资金支付进度；对确实无法执行的资金，按规定及时收回统筹使用。"),
        ("（三）提高自评质量。", f"针对自评分虚高的 {len(fig.inflated)} 个项目和偏差原因未说明等问题，加强对预算单位"
                          f"的业务培训和指导，严格按评分规则如实自评，做到数据真实、依据充分、结论客观。"),
        ("（四）强化结果应用。", "将绩效自评结果作为安排以后年度预算、完善政策和改进管理的重要依据，"
                          "对绩效等级较低、执行进度滞后的项目，在以后年度预算安排中从严审核。"),
    ]
    for lead, text in steps:
        para = doc.add_paragraph()
        para.add_run(lead).bold = True
        para.add_run(text)


# --- charts and numbers ------------------------------------------------------------------

def _chart_font(fig: Figures, cfg) -> charts.Font | None:
    """A font that draws every Chinese character the charts show, or None: then the report has no
    charts, says so where they would be, and the run's log says why."""
    if fig.forms.empty:
        return None
    font = charts.cjk_font(charts.WORDS + "以下及以上至" + "".join(cfg.scoring.grades)
                           + "".join(fig.forms["department"].unique()) + NO_DEPARTMENT)
    if font is None:
        event(logging.WARNING, "charts_skipped", "未找到可显示中文的字体，汇总报告不含图表"
              "（安装 fonts-wqy-zenhei 或 Noto CJK 字体后重新运行即可生成）")
    return font


def _picture(doc, png, caption: str) -> None:
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Cm, Pt

    para = doc.add_paragraph()
    para.alignment = WD_ALIGN_PARAGRAPH.CENTER
    para.paragraph_format.first_line_indent = Cm(0)
    para.paragraph_format.line_spacing = 1.0
    para.paragraph_format.space_before = Pt(6)
    para.paragraph_format.keep_with_next = True
    para.add_run().add_picture(png, width=Cm(TEXT_WIDTH_CM))
    paragraph(doc, caption, FIGURE_CAPTION)


def no_charts_note(doc) -> None:
    paragraph(doc, "（本机未找到可显示中文的字体，未生成图表。安装 fonts-wqy-zenhei 或 Noto CJK 字体后"
                   "重新运行即可生成。）", NOTE)


def money(value) -> str:
    """万元 with two decimals and thousands separators: 1,270.00."""
    if value is None or pd.isna(value):
        return "—"
    return f"{float(value):,.2f}"


def percent(value, digits: int = 2) -> str:
    if value is None or pd.isna(value):
        return "—"
    return f"{float(value) * 100:.{digits}f}%"


def points(value) -> str:
    """A score: up to two decimals, no trailing zeros (92.8, 98)."""
    if value is None or pd.isna(value):
        return "—"
    return f"{float(value):.2f}".rstrip("0").rstrip(".")
