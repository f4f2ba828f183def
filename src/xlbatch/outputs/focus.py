"""重点关注: the projects to review first, the workbook's first sheet (SPEC section 7).

Each rule has a weight (`WEIGHTS`, one table, printed on the sheet). A project's findings
give it the weights of the rules it breaks, each rule once, highest first; projects are
ranked by that list compared from its top (a project with an inflated self-score comes
before any without; among those, the next-heaviest rule decides, and so on), then by
the self-score gap, then by unit and project. 异常清单 lists its findings in the same
order (`finding_order`).

Only projects enter the ranking: a rejected file or form has no figures to review — the
unit must send it again — and is listed in 未受理文件. Forms superseded by a newer copy
stay out too (the newer copy counts).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..catalogue import RULES, titled
from ..checks.rules import (
    AMOUNT_SCALE_SUSPECT,
    BUDGET_SCORE_MISMATCH,
    DUPLICATE_SUBMISSION,
    FORMS_MISSING,
    FUNDS_DONT_ADD_UP,
    HIGH_SCORE_LOW_EXECUTION,
    INCOMPARABLE_VALUES,
    INDICATOR_SCORE_MISMATCH,
    LATE_SUBMISSION,
    LOW_EXECUTION,
    MISSING_ACTUAL,
    NOT_SUBMITTED,
    OVER_BUDGET,
    RATE_MISMATCH,
    REPORT_FIGURE_MISMATCH,
    REPORT_MISSING,
    REQUIRED_CATEGORY_EMPTY,
    SCORE_OUT_OF_RANGE,
    SELF_SCORE_INFLATED,
    TOTAL_MISMATCH,
    UNEXPLAINED_DEVIATION,
    UNKNOWN_UNIT,
    WEIGHTS_INVALID,
    WRONG_YEAR,
)
from ..intake.read import a1
from ..models import ERROR, INFO, Finding
from .formats import (
    Columns,
    Styles,
    boxed_row,
    fit_row,
    header,
    link_width,
    print_table,
    printed_table,
    quote,
    write_num,
)
from .unit_sheets import difference

# The weights, heaviest first: inflated self-scores, then high score with low execution, over budget,
# amounts probably in 元, figures that do not add up, low execution, then what is missing (an explanation,
# an actual value, a category), then what is only worth knowing. Rejections (severity error) weigh 0.
_GROUPS = (
    (100, (SELF_SCORE_INFLATED,)),
    (90, (HIGH_SCORE_LOW_EXECUTION,)),
    (80, (OVER_BUDGET,)),
    (70, (AMOUNT_SCALE_SUSPECT,)),
    (60, (FUNDS_DONT_ADD_UP, TOTAL_MISMATCH, RATE_MISMATCH, BUDGET_SCORE_MISMATCH, INDICATOR_SCORE_MISMATCH,
          WEIGHTS_INVALID, SCORE_OUT_OF_RANGE)),
    (50, (REPORT_FIGURE_MISMATCH,)),
    (40, (LOW_EXECUTION,)),
    (30, (WRONG_YEAR, NOT_SUBMITTED, FORMS_MISSING)),
    (20, (UNEXPLAINED_DEVIATION, MISSING_ACTUAL, REQUIRED_CATEGORY_EMPTY, DUPLICATE_SUBMISSION)),
    (5, (INCOMPARABLE_VALUES, UNKNOWN_UNIT, LATE_SUBMISSION, REPORT_MISSING)),
)
WEIGHTS: dict[str, int] = {rule.code: w for w, rules in _GROUPS for rule in rules}  # rule code → weight
# A rule missing from the table (a new one) still counts, by its severity (tests/test_focus.py asks for
# its place in the table).
_BY_SEVERITY = {ERROR: 0, INFO: 5}
_DEFAULT = 20
# 重点关注 lists this many projects; every finding of every project is in 异常清单 in the same order.
# A review list is read from the top: past a few printed pages nobody reads on, and at 5,000 forms
# a list of all flagged projects would be as long as 汇总 itself.
FOCUS_LIMIT = 100


def weight(rule: str) -> int:
    """The weight of `rule`; rejections (severity error) weigh 0: they are not ranked."""
    if rule in WEIGHTS:
        return WEIGHTS[rule]
    known = RULES.get(rule)
    return _BY_SEVERITY.get(known.severity, _DEFAULT) if known else _DEFAULT


def weight_table() -> list[tuple[str, int]]:
    """(rule as a person reads it, weight) for every rule that ranks a project, heaviest first."""
    rules = [r for r in RULES.values() if r.severity != ERROR]
    rules.sort(key=lambda r: -weight(r.code))  # stable: catalogue order within a weight
    return [(r.titled, weight(r.code)) for r in rules]


@dataclass
class Ranked:
    """One project of the ranking: its form, its findings (heaviest first) and its weights."""

    form_id: int
    findings: list[Finding]
    weights: tuple[int, ...]  # each rule once, highest first

    @property
    def reasons(self) -> list[str]:
        """Each rule once, heaviest first, with how often it was found: 偏差未说明（UNEXPLAINED_DEVIATION）×2."""
        counts: dict[str, int] = {}
        for f in self.findings:
            counts[f.rule] = counts.get(f.rule, 0) + 1
        return [titled(rule) + (f" ×{n}" if n > 1 else "") for rule, n in counts.items()]


def rank_projects(findings: list[Finding], gaps: dict[int, float], ranked_forms: set[int]) -> list[Ranked]:
    """The projects of `ranked_forms` with findings, most to review first. `gaps`: form → self-score minus
    recomputed score (a larger inflation first among equal weights)."""
    by_form: dict[int, list[Finding]] = {}
    for f in findings:
        if f.form_id in ranked_forms:
            by_form.setdefault(f.form_id, []).append(f)
    ranked = []
    for form_id, found in by_form.items():
        found.sort(key=_finding_key)
        weights = tuple(sorted({weight(f.rule) for f in found}, reverse=True))
        ranked.append(Ranked(form_id, found, weights))
    ranked.sort(key=lambda r: (tuple(-w for w in r.weights), -gaps.get(r.form_id, 0.0),
                               r.findings[0].unit, r.findings[0].project, r.form_id))
    return ranked


def finding_order(findings: list[Finding], ranked: list[Ranked]) -> list[Finding]:
    """异常清单's order: the ranked projects' findings by rank, then each rule's weight; then the findings
    of no ranked project (a superseded copy, a unit as a whole) by weight; rejections last."""
    rank = {r.form_id: i for i, r in enumerate(ranked)}
    unranked = len(rank)

    def key(f: Finding):
        group = 2 if f.severity == ERROR else (0 if f.form_id in rank else 1)
        return (group, rank.get(f.form_id, unranked), *_finding_key(f))

    return sorted(findings, key=key)


def _finding_key(f: Finding) -> tuple:
    return (-weight(f.rule), f.unit, f.project, f.rule, f.cell, f.anomaly_id)


# --- the sheet ---------------------------------------------------------------------------

FOCUS_SHEET = "重点关注"
_COLUMNS = Columns(
    ("rank", "排名", 5), ("unit", "实施单位", 16), ("project", "项目名称", 20), ("link", "定位", 6),
    ("reasons", "问题（按权重从高到低）", 46),
    ("weights", "排序权重", 14), ("budget_full_year", "全年预算数\n（万元）", 13, "money"),
    ("execution_rate", "执行率", 9, "percent"), ("total_reported", "自评总分", 8, "score"),
    ("total_score", "复算总分", 8, "score"), ("gap", "自评−复算", 10, "score"), ("count", "问题数", 6),
)
_HOW = ("排序方法：每个项目按其问题所属规则的权重排序（同一规则只计一次）——先比最高的权重，相同再比次高的，依次类推；"
        "权重相同的，自评分高出复算分多者在前。权重见本表下方的「排序权重」。未受理的文件不参与排序，见「未受理文件」；"
        "异常清单按同一顺序排列。")


def write_focus(ws, result, heading, places, names: dict[str, str], st: Styles) -> list[Ranked]:
    """重点关注; returns the whole ranking (异常清单 follows it)."""
    forms = result.forms
    current = set() if forms.empty else set(forms.index[forms["superseded_by"] == ""])
    gaps = {} if forms.empty else (forms["total_reported"] - forms["total_score"]).dropna().to_dict()
    ranked = rank_projects(result.findings, gaps, current)
    shown = ranked[:FOCUS_LIMIT]
    widths = list(_COLUMNS.widths)
    widths[_COLUMNS["unit"]] = link_width((r.findings[0].unit for r in shown if r.findings[0].unit in names), 12, 30)
    top, plan = printed_table(ws, heading.title("重点关注项目"), heading.facts(), widths, 3, st)
    last_col = plan.first_page_last_col(len(widths))
    ws.merge_range(top, 0, top, last_col, _HOW, st.text)
    fit_row(ws, top, [_HOW], [sum(widths[: last_col + 1])], least=2)
    head = top + 1
    header(ws, _COLUMNS.header, st, row=head, widths=widths)
    row = head + 1
    if not ranked:
        ws.write_string(row, 0, "本次运行没有需要重点复核的项目。")
        row += 1
    for i, r in enumerate(shown, start=1):
        _project_row(ws, row, i, r, forms.loc[r.form_id], places, names, widths, st)
        row += 1
    if len(ranked) > FOCUS_LIMIT:
        ws.merge_range(row, 0, row, last_col, f"共 {len(ranked)} 个项目有问题，此处列出前 {FOCUS_LIMIT} 个；"
                       "其余项目的问题见「异常清单」，按同一顺序排列。", st.text)
        row += 1
    _weight_table(ws, row + 1, st)
    ws.freeze_panes(head + 1, 0)
    print_table(ws, plan, head, keep_cols=3)
    return ranked


def _project_row(ws, row: int, rank: int, r: Ranked, form, places, names: dict[str, str], widths: list[float],
                 st: Styles) -> None:
    c, b = _COLUMNS, st.boxed
    unit, project = r.findings[0].unit, r.findings[0].project
    boxed_row(ws, row, len(c), st)
    ws.write_number(row, c["rank"], rank, b["number"])
    if unit in names:
        ws.write_url(row, c["unit"], f"internal:{quote(names[unit])}!A1", b["link"], unit or "（未填）")
    else:
        ws.write_string(row, c["unit"], unit, b["text"])
    ws.write_string(row, c["project"], project, b["text"])
    place = places.title.get(r.form_id)  # the form in its unit sheet
    if place:
        sheet, at_row, at_col = place
        ws.write_url(row, c["link"], f"internal:{quote(sheet)}!{a1(at_row, at_col)}", b["link"], "查看")
    reasons = "\n".join(r.reasons)
    weights = "、".join(str(w) for w in r.weights)
    ws.write_string(row, c["reasons"], reasons, b["text"])
    ws.write_string(row, c["weights"], weights, b["text"])
    for key in ("budget_full_year", "execution_rate", "total_reported", "total_score"):
        write_num(ws, row, c[key], form[key], b[c.kinds[key]])  # blank when missing, as everywhere
    write_num(ws, row, c["gap"], difference(form["total_reported"], form["total_score"]), b["score"])
    ws.write_number(row, c["count"], len(r.findings), b["number"])
    keys = ("unit", "project", "reasons")
    fit_row(ws, row, (unit, project, reasons), [widths[c[k]] for k in keys])


def _weight_table(ws, row: int, st: Styles) -> None:
    """The weights the ranking uses, heaviest first, under the ranking."""
    ws.merge_range(row, 1, row, 3, "排序权重（规则）", st.header)
    ws.write_string(row, 4, "权重", st.header)
    for label, value in weight_table():
        row += 1
        ws.merge_range(row, 1, row, 3, label, st.boxed["text"])
        ws.write_number(row, 4, value, st.boxed["number"])
