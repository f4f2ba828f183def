"""The county workbook, consolidated.xlsx (SPEC section 4), written with XlsxWriter.

Sheets: 汇总 (one row per form, department and county totals), 异常清单 (one
row per finding, linked to the flagged cell, with the auditors' 复核状态/复核意见),
未受理文件, 变更记录 (changes since the previous run, change_sheet.py), 已关闭
(reviews of findings that went away), 图表 and 运行说明 (overview.py), then one
sheet per 实施单位 (unit_sheets.py).

Submission text is only ever written with `write_string` (and the workbook is
created with strings_to_formulas/urls off), so "=cmd|..." stays text.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import xlsxwriter
from xlsxwriter.utility import xl_col_to_name

from ..checks.rules import RULES
from ..checks.score import COUNTED, SCALE_SUSPECT, standing
from ..form.normalize import records
from ..intake.read import a1
from ..models import WARNING, Finding
from .change_sheet import CHANGES_SHEET, write_changes
from .formats import (
    SEVERITY_FILLS,
    SEVERITY_NAMES,
    SEVERITY_ORDER,
    Styles,
    fit_row,
    grade_names,
    header,
    print_setup,
    quote,
    sheet_names,
    write_num,
)
from .overview import CHART_SHEET, INFO_SHEET, write_charts, write_run_info
from .reviews import ANOMALY_SHEET, CLOSED_SHEET, STATUSES, Review
from .unit_sheets import SUMMARY_SHEET, Places, write_unit_sheets

REJECTED_SHEET = "未受理文件"
IN_MEMORY_FORMS = 5000
FIXED_SHEETS = (SUMMARY_SHEET, CHART_SHEET, ANOMALY_SHEET, REJECTED_SHEET, CHANGES_SHEET, CLOSED_SHEET, INFO_SHEET)


def write_workbook(path: Path, result, reviews: dict[str, Review]) -> dict[str, Review]:
    """Write consolidated.xlsx; return the reviews now closed (written to 已关闭)."""
    book = xlsxwriter.Workbook(str(path), {
        "strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False,
        "nan_inf_to_errors": True,
        # Sheets assembled in memory are ~15% faster (measured); very large runs use temp files.
        "in_memory": len(result.forms) <= IN_MEMORY_FORMS})
    st = Styles(book, grade_names(result.config.scoring))
    sheets = {name: book.add_worksheet(name) for name in FIXED_SHEETS}
    forms = result.forms
    names = sheet_names(units_with_sheets(result), FIXED_SHEETS)
    places = write_unit_sheets(book, forms, result.indicators, result.findings, names, st)
    _summary(sheets[SUMMARY_SHEET], result, names, st)
    rejected = _rejected(sheets[REJECTED_SHEET], result, st)
    _anomalies(sheets[ANOMALY_SHEET], result.findings, places, rejected, reviews, st)
    current = {f.anomaly_id for f in result.findings}
    closed = {k: v for k, v in reviews.items() if k not in current}
    for review in closed.values():
        review.closed_in = review.closed_in or result.run_id
    _closed(sheets[CLOSED_SHEET], closed, st)
    write_charts(book, sheets[CHART_SHEET], forms, result.config, st)
    write_run_info(sheets[INFO_SHEET], result, st)
    write_changes(sheets[CHANGES_SHEET], result, st)
    sheets[SUMMARY_SHEET].activate()
    book.close()
    return closed


def units_with_sheets(result) -> list[str]:
    """Every unit gets a sheet, unless there are more than `output.unit_sheets_limit` units.

    Then only units with findings do: a workbook with thousands of sheets no longer opens
    quickly, and a clean unit (reported = recomputed, nothing flagged) has nothing to review;
    its forms stay in 汇总, projects.csv and run.json.
    """
    forms = result.forms
    units = sorted(forms["unit"].unique()) if not forms.empty else []
    if len(units) <= result.config.output.unit_sheets_limit:
        return units
    flagged = {f.unit for f in result.findings if f.form_id is not None}
    return [u for u in units if u in flagged]


# --- 汇总 ---------------------------------------------------------------------------

_SUMMARY_COLUMNS = [
    ("序号", 6), ("主管部门", 22), ("实施单位", 26), ("项目名称", 30), ("年度", 7),
    ("年初预算数（万元）", 12), ("全年预算数（万元）", 12), ("全年执行数（万元）", 12), ("执行率", 10),
    ("自评总分", 9), ("复算总分", 9), ("自评−复算", 9), ("自评等级", 8), ("复算等级", 8),
    ("警告", 7), ("提示", 7), ("状态", 22), ("来源文件", 30), ("工作表", 14),
]
_AMOUNTS = {"budget_initial": 5, "budget_full_year": 6, "executed": 7}
_STATUS_COL = 16


def summary_rows(result) -> list[dict]:
    """Accepted forms (counted or not, `score.standing`) and rejected forms, by department, unit, project."""
    rows = []
    for f in records(result.forms, index="form_id"):
        f["status"] = standing(f)
        rows.append(f)
    for record in result.files:
        for form in record.forms:
            if form.status == "rejected":
                rows.append({"department": form.department, "unit": form.unit, "project": form.project,
                             "source_file": record.path, "sheet": form.sheet,
                             "status": f"未受理：{form.code}"})
    return sorted(rows, key=lambda r: (r["department"], r["unit"], r["project"], r["source_file"]))


def _summary(ws, result, names: dict[str, str], st: Styles) -> None:
    header(ws, _SUMMARY_COLUMNS, st)
    row, number, first = 1, 0, 1
    rows = summary_rows(result)
    for department in dict.fromkeys(r["department"] for r in rows):
        group = [r for r in rows if r["department"] == department]
        start = row
        for r in group:
            number += 1
            _summary_row(ws, row, number, r, names, st)
            row += 1
        _total_row(ws, row, start, row - 1, f"{department or '（未填主管部门）'} 小计", group, st.subtotal)
        row += 1
    _total_row(ws, row, first, row - 1, "全县合计", rows, st.total)
    ws.autofilter(0, 0, row, len(_SUMMARY_COLUMNS) - 1)
    ws.freeze_panes(1, 4)
    _summary_formats(ws, row, st, result.config.rules.inflation_points)
    print_setup(ws, repeat_rows=1)


def _summary_row(ws, i: int, number: int, r: dict, names: dict[str, str], st: Styles) -> None:
    ws.write_number(i, 0, number)
    ws.write_string(i, 1, r["department"])
    unit = r["unit"] or "（未填）"
    if r["unit"] in names:
        ws.write_url(i, 2, f"internal:{quote(names[r['unit']])}!A1", st.link, unit)
    else:
        ws.write_string(i, 2, unit)
    ws.write_string(i, 3, r["project"])
    ws.write_string(i, _STATUS_COL, r["status"])
    ws.write_string(i, 17, r["source_file"])
    ws.write_string(i, 18, r["sheet"])
    if "form_id" not in r:
        return  # a rejected form: no figures enter the consolidation
    write_num(ws, i, 4, r["year"], st.plain)
    for key, col in _AMOUNTS.items():
        write_num(ws, i, col, r[key], st.money)
    write_num(ws, i, 8, r["execution_rate"], st.percent)
    write_num(ws, i, 9, r["total_reported"], st.score)
    write_num(ws, i, 10, r["total_score"], st.score)
    if not pd.isna(r["total_reported"]):
        ws.write_number(i, 11, r["total_reported"] - r["total_score"], st.score)
    ws.write_string(i, 12, r["grade_reported"])
    ws.write_string(i, 13, r["grade"])
    ws.write_number(i, 14, int(r["warning_count"]))
    ws.write_number(i, 15, int(r["info_count"]))


def _total_row(ws, i: int, top: int, bottom: int, label: str, rows: list[dict], fmt) -> None:
    """Sums and averages over the counted forms only, as live formulas: superseded, rejected and
    AMOUNT_SCALE_SUSPECT forms stay out (their 状态 is not COUNTED, which SUMIFS/AVERAGEIFS test)."""
    counted = [r for r in rows if r["status"] == COUNTED]
    suspect = sum(r["status"] == SCALE_SUSPECT for r in rows)
    for col in range(len(_SUMMARY_COLUMNS)):
        ws.write_blank(i, col, None, fmt["text"])
    ws.write_string(i, 1, label, fmt["text"])
    note = f"，{suspect} 个金额单位存疑未计入" if suspect else ""
    ws.write_string(i, 3, f"{len(counted)} 个项目计入{note}", fmt["text"])
    status = f"${_col(_STATUS_COL)}${top + 1}:${_col(_STATUS_COL)}${bottom + 1}"
    for key, col in {**_AMOUNTS, "warning_count": 14, "info_count": 15}.items():
        c = _col(col)
        cached = float(sum(r[key] or 0 for r in counted if not pd.isna(r[key])))
        ws.write_formula(i, col, f'=SUMIFS({c}{top + 1}:{c}{bottom + 1},{status},"{COUNTED}")',
                         fmt["money" if col < 14 else "int"], cached)
    budget = sum(r["budget_full_year"] or 0 for r in counted)
    executed = sum(r["executed"] or 0 for r in counted)
    rate = executed / budget if budget else ""
    ws.write_formula(i, 8, f'=IF({_col(6)}{i + 1}=0,"",{_col(7)}{i + 1}/{_col(6)}{i + 1})', fmt["percent"], rate)
    for col, key in ((9, "total_reported"), (10, "total_score")):
        values = [r[key] for r in counted if not pd.isna(r[key])]
        c = _col(col)
        ws.write_formula(i, col, f'=IFERROR(AVERAGEIFS({c}{top + 1}:{c}{bottom + 1},{status},"{COUNTED}"),"")',
                         fmt["score"], sum(values) / len(values) if values else "")


def _col(col: int) -> str:
    return xl_col_to_name(col)


def _summary_formats(ws, last: int, st: Styles, inflation_points: float) -> None:
    if last < 2:
        return
    ws.conditional_format(1, 8, last, 8, {"type": "data_bar", "bar_color": "#63BE7B", "bar_solid": True,
                                          "min_type": "num", "min_value": 0, "max_type": "num", "max_value": 1})
    # Self-score inflated (SELF_SCORE_INFLATED's threshold): reported total and gap turn red.
    ws.conditional_format(1, 9, last, 11, {"type": "formula", "criteria": f"=$L2>{inflation_points:g}",
                                           "format": st.red})
    for grade, fmt in st.grades.items():
        ws.conditional_format(1, 12, last, 13, {"type": "cell", "criteria": "==", "value": f'"{grade}"',
                                                "format": fmt})
    # A rejected form: the whole row in red. A form whose amounts look typed in 元: the whole row
    # in the warning colour of its finding, so no figure of it is read as part of the totals.
    ws.conditional_format(1, 0, last, len(_SUMMARY_COLUMNS) - 1, {
        "type": "formula", "criteria": f'=LEFT(${_col(_STATUS_COL)}2,3)="未受理"', "format": st.red})
    amber = st.book.add_format({"bg_color": SEVERITY_FILLS[WARNING], "font_color": "#9C5700"})
    ws.conditional_format(1, 0, last, len(_SUMMARY_COLUMNS) - 1, {
        "type": "formula", "criteria": f'=${_col(_STATUS_COL)}2="{SCALE_SUSPECT}"', "format": amber})


# --- 异常清单 -----------------------------------------------------------------------

_ANOMALY_COLUMNS = [
    ("编号", 13), ("严重程度", 8), ("规则", 24), ("规则名称", 14), ("实施单位", 24), ("项目名称", 26),
    ("来源文件", 26), ("工作表", 12), ("单元格", 8), ("问题说明", 60), ("填报值", 14), ("应为", 14),
    ("定位", 10), ("复核状态", 10), ("复核意见", 30),
]


def _anomalies(ws, findings: list[Finding], places: Places, rejected: dict[tuple[str, str], int],
               reviews: dict[str, Review], st: Styles) -> None:
    header(ws, _ANOMALY_COLUMNS, st)
    ordered = sorted(findings, key=lambda f: (SEVERITY_ORDER[f.severity], f.unit, f.project, f.rule))
    for i, f in enumerate(ordered, start=1):
        review = reviews.get(f.anomaly_id, Review(status=STATUSES[0]))
        values = (f.anomaly_id, SEVERITY_NAMES[f.severity], f.rule, RULES[f.rule].title, f.unit,
                  f.project, f.source_file, f.sheet, f.cell, f.message, f.value, f.expected)
        for col, value in enumerate(values):
            ws.write_string(i, col, value or "", st.flag[f.severity]["text"] if col == 1 else st.text)
        fit_row(ws, i, values, [w for _, w in _ANOMALY_COLUMNS])
        place = places.of(f)
        if place:
            sheet, row, col = place
            ws.write_url(i, 12, f"internal:{quote(sheet)}!{a1(row, col)}", st.link, "查看")
        elif (f.source_file, f.sheet) in rejected:  # a rejection: its row in 未受理文件
            row = rejected[(f.source_file, f.sheet)]
            ws.write_url(i, 12, f"internal:{quote(REJECTED_SHEET)}!A{row + 1}", st.link, "查看")
        ws.write_string(i, 13, review.status or STATUSES[0])
        ws.write_string(i, 14, review.note)
    last = max(len(ordered), 1)
    ws.data_validation(1, 13, max(last, 1000), 13, {
        "validate": "list", "source": list(STATUSES),
        "error_title": "复核状态", "error_message": "请从下拉列表中选择：" + "、".join(STATUSES)})
    ws.autofilter(0, 0, last, len(_ANOMALY_COLUMNS) - 1)
    ws.freeze_panes(1, 1)
    print_setup(ws, repeat_rows=1)




# --- 未受理文件 / 已关闭 ---------------------------------------------------------------

_REJECTED_COLUMNS = [("来源文件", 36), ("工作表", 14), ("规则", 18), ("原因", 80), ("文件大小（字节）", 14),
                     ("SHA-256", 20)]


def _rejected(ws, result, st: Styles) -> dict[tuple[str, str], int]:
    """One row per rejected file or form; returns the row of each (source file, sheet)."""
    header(ws, _REJECTED_COLUMNS, st)
    row, rows_of = 1, {}
    for record in result.files:
        rows = []
        if record.status == "rejected" and not record.forms:
            rows.append(("", record.code, record.message))
        rows += [(f.sheet, f.code, f.message) for f in record.forms if f.status == "rejected"]
        for sheet, code, message in rows:
            values = (record.path, sheet, code, message)
            for col, value in enumerate(values):
                ws.write_string(row, col, value, st.text)
            fit_row(ws, row, values, [w for _, w in _REJECTED_COLUMNS])
            ws.write_number(row, 4, record.size)
            ws.write_string(row, 5, record.sha256)
            rows_of[(record.path, sheet)] = row
            row += 1
    ws.autofilter(0, 0, max(row - 1, 1), len(_REJECTED_COLUMNS) - 1)
    ws.freeze_panes(1, 0)
    print_setup(ws, repeat_rows=1)
    return rows_of


_CLOSED_COLUMNS = [("编号", 13), ("规则", 24), ("实施单位", 24), ("项目名称", 26), ("问题说明", 60),
                   ("复核状态", 10), ("复核意见", 30), ("关闭于", 24)]


def _closed(ws, closed: dict[str, Review], st: Styles) -> None:
    header(ws, _CLOSED_COLUMNS, st)
    for i, (key, r) in enumerate(sorted(closed.items()), start=1):
        for col, value in enumerate((key, r.rule, r.unit, r.project, r.message, r.status, r.note,
                                     r.closed_in)):
            ws.write_string(i, col, value, st.text)
    ws.freeze_panes(1, 1)
    print_setup(ws, repeat_rows=1)


