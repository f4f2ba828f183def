"""Rules over the forms and the units' 自评报告 together (SPEC section 6): a unit without a report,
a report declaring more projects than forms arrived, a figure a report states that its form does not.

Each rule is one block: its registration (messages, no frame check: the reports are not a frame),
then the function raising it. `report_findings` runs them in catalogue order over the accepted
forms and the reports `intake.reports.match_reports` assigned to their units.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...catalogue import REPORTS, Rule, register
from ...form.values import format_number, format_percent
from ...form.vocabulary import FUND_COL_LABELS
from ...intake.reports import ReportSet, same_project
from ...models import INFO, WARNING, Finding, Report, form_identity
from ._shared import blank, cell_of

if TYPE_CHECKING:
    import pandas as pd

    from ...config import Config

REPORT_MISSING = register(Rule(
    "REPORT_MISSING", INFO, "缺自评报告",
    "有自评表而无可读取的自评报告（本次至少读取了一份自评报告时才检查）", REPORTS,
    messages={
        "no_report": "实施单位「{unit}」报送了 {forms} 份自评表（{projects}），但其文件中没有自评报告"
                     "（.docx 或 .pdf）；请补报自评报告",
        "unreadable": "实施单位「{unit}」的自评报告 {report} 无法读取：{why}",
    }))


def _report_missing(unit: str, rows: list[dict], reports: list[Report]) -> list[Finding]:
    readable = [r for r in reports if not r.error]
    if readable:
        return []
    first = rows[0]
    if reports:
        message = REPORT_MISSING.message("unreadable", unit=unit, report=reports[0].path, why=reports[0].error)
        return [_unit_finding(REPORT_MISSING, unit, reports[0].path, "", message, "report_unreadable")]
    message = REPORT_MISSING.message("no_report", unit=unit, forms=len(rows), projects=_projects(rows))
    return [_unit_finding(REPORT_MISSING, unit, first["source_file"], "", message, "report_missing")]


FORMS_MISSING = register(Rule(
    "FORMS_MISSING", WARNING, "自评表未报齐",
    "自评报告所述项目个数多于已受理的该单位自评表份数", REPORTS,
    messages={
        "fewer_forms": "自评报告 {report}（{where}）称「{phrase}」，共 {declared} 个项目，但已受理的该单位自评表"
                       "只有 {received} 份（{projects}）；尚缺 {missing} 份，请补报其余项目的自评表",
    }))


def _forms_missing(unit: str, rows: list[dict], reports: list[Report]) -> list[Finding]:
    report = next((r for r in reports if r.declared), None)
    received = len({row["project"] for row in rows})
    if report is None or report.declared <= received:
        return []
    message = FORMS_MISSING.message("fewer_forms", report=report.path, where=report.declared_where,
                                    phrase=report.declared_text, declared=report.declared, received=received,
                                    projects=_projects(rows), missing=report.declared - received)
    finding = _unit_finding(FORMS_MISSING, unit, report.path, report.declared_where, message, "forms_missing")
    finding.value, finding.expected = str(received), str(report.declared)
    return [finding]


REPORT_FIGURE_MISMATCH = register(Rule(
    "REPORT_FIGURE_MISMATCH", WARNING, "报告与自评表数字不符",
    "自评报告写明的项目预算、执行数或执行率与自评表不符", REPORTS,
    messages={
        "figure": "自评报告 {report}（{where}）写明该项目{what} {stated}，自评表 {form_file} 单元格 {cell} 的"
                  "{label}为 {form_value}，两者不符",
    }))

# A figure's kind → (what the report calls it, the form's field, its cell, the form's label).
_FIELDS = {
    "budget": ("预算", "budget_full_year", "fund_total_full_year", FUND_COL_LABELS["full_year"]),
    "executed": ("执行（支出、使用）数", "executed", "fund_total_executed", FUND_COL_LABELS["executed"]),
    "rate": ("执行率", "rate_reported", "fund_total_rate", FUND_COL_LABELS["rate"]),
}


def _figure_mismatch(unit: str, rows: list[dict], reports: list[Report], cfg: Config) -> list[Finding]:
    out: dict[tuple[int, str], Finding] = {}  # one per form and figure, from the first report stating it
    for report in reports:
        for project in report.projects:
            row = next((r for r in rows if same_project(project.name, r["project"])), None)
            if row is None:
                continue
            for kind in _FIELDS:
                figure = project.figure(kind)
                if figure is not None and (row["form_id"], kind) not in out:
                    finding = _compare(report, figure, row, cfg)
                    if finding:
                        out[(row["form_id"], kind)] = finding
    return list(out.values())


def _compare(report: Report, figure, row: dict, cfg: Config) -> Finding | None:
    what, column, cell_field, label = _FIELDS[figure.kind]
    form_value = row[column]
    if figure.kind == "rate" and blank(form_value):
        form_value, label = row["execution_rate"], f"{label}（按全年执行数/全年预算数计算）"
    if blank(form_value):
        return None
    slack = max(figure.slack, cfg.rules.rate_tolerance) if figure.kind == "rate" else figure.slack
    if abs(figure.value - form_value) <= slack + 1e-9:
        return None
    shown = format_percent(form_value) if figure.kind == "rate" else f"{format_number(form_value, 4)} 万元"
    cell = cell_of(row, cell_field)
    message = REPORT_FIGURE_MISMATCH.message("figure", report=report.path, where=figure.where, what=what,
                                             stated=figure.text, form_file=row["source_file"], cell=cell,
                                             label=label, form_value=shown)
    return Finding(rule=REPORT_FIGURE_MISMATCH.code, severity=REPORT_FIGURE_MISMATCH.severity,
                   source_file=row["source_file"], sheet=row["sheet"], cell=cell, unit=row["unit"],
                   project=row["project"], message=message, value=figure.text, expected=shown,
                   form_id=int(row["form_id"]), field=f"report:{figure.kind}", identity=form_identity(row))


def _projects(rows: list[dict]) -> str:
    return "、".join(dict.fromkeys(f"「{row['project']}」" for row in rows))


def _unit_finding(rule: Rule, unit: str, source: str, where: str, message: str, field: str) -> Finding:
    """A finding about a unit as a whole: keyed on the unit, so its id holds across runs."""
    return Finding(rule=rule.code, severity=rule.severity, source_file=source, cell=where, unit=unit,
                   message=message, field=field, identity=f"{unit}|自评报告")


def report_findings(forms: pd.DataFrame, reports: ReportSet, cfg: Config) -> list[Finding]:
    """The findings of the three rules, in catalogue order, over the forms that count (a superseded
    copy does not) and the reports matched to their units. REPORT_MISSING only when the run read at
    least one report: an inbox where none was read is a bureau not (yet) collecting them, and its
    units are not told of a report nobody asked for."""
    from ...form.normalize import records  # pandas: not loaded by the catalogue's import

    if forms.empty:
        return []
    live = forms[forms["superseded_by"] == ""]
    columns = ["source_file", "sheet", "unit", "project", "year", *[c for _, c, _, _ in _FIELDS.values()],
               "execution_rate", "cells"]
    rows = records(live, columns, index="form_id")
    by_unit: dict[str, list[dict]] = {}
    for row in rows:
        if row["unit"]:
            by_unit.setdefault(row["unit"], []).append(row)
    collecting = any(not r.error for r in reports.reports)
    missing, fewer, figures = [], [], []
    for unit, unit_rows in by_unit.items():
        matched = reports.by_unit.get(unit, [])
        if collecting:
            missing += _report_missing(unit, unit_rows, matched)
        readable = [r for r in matched if not r.error]
        fewer += _forms_missing(unit, unit_rows, readable)
        figures += _figure_mismatch(unit, unit_rows, readable, cfg)
    return [*missing, *fewer, *figures]
