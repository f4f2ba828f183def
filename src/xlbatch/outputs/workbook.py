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

from ..checks.rules import AMOUNT_SCALE_SUSPECT, RULES, WRONG_YEAR
from ..checks.score import COUNTED, SCALE_SUSPECT, WRONG_SEASON, standing
from ..form.normalize import records
from ..intake.read import a1
from ..models import INFO, SEVERITY_NAMES, SEVERITY_ORDER, WARNING, Finding
from .change_sheet import CHANGES_SHEET, write_changes
from .formats import (
    BAR_GREEN,
    Columns,
    Styles,
    fit_row,
    header,
    print_setup,
    quote,
    sheet_names,
    write_num,
)
from .overview import CHART_SHEET, INFO_SHEET, write_charts, write_run_info
from .reviews import ANOMALY_SHEET, CLOSED_SHEET, ID_HEADERS, NOTE_HEADER, STATUS_HEADER, STATUSES, Review
from .season_sheet import SEASON_SHEET, write_season
from .unit_sheets import SUMMARY_SHEET, Places, write_unit_sheets

REJECTED_SHEET = "未受理文件"
IN_MEMORY_FORMS = 5000
FIXED_SHEETS = (SUMMARY_SHEET, SEASON_SHEET, CHART_SHEET, ANOMALY_SHEET, REJECTED_SHEET, CHANGES_SHEET, CLOSED_SHEET,
                INFO_SHEET)


def write_workbook(path: Path, result, reviews: dict[str, Review]) -> dict[str, Review]:
    """Write consolidated.xlsx; return the reviews now closed (written to 已关闭)."""
    book = xlsxwriter.Workbook(str(path), {
        "strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False,
        "nan_inf_to_errors": True,
        # Sheets assembled in memory are ~15% faster (measured); very large runs use temp files.
        "in_memory": len(result.forms) <= IN_MEMORY_FORMS})
    st = Styles(book, result.config.scoring.grades)
    # 报送情况 only with a roster (checks/season.py's table in result.extra).
    sheets = {name: book.add_worksheet(name) for name in FIXED_SHEETS
              if name != SEASON_SHEET or "season" in result.extra}
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
    if SEASON_SHEET in sheets:
        write_season(sheets[SEASON_SHEET], result, book)
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

# (key, header, width, kind); key is the form record's field. The kind says how a form's value is written
# and what the subtotal and 全县合计 rows hold: text (also rejected forms), unit (a link to its sheet),
# seq and year, money and count (summed), rate (executed over budget), score (averaged), gap, grade
# (filled by rank, _summary_formats). Cells and formats go by key: moving a column is one edit here.
_SUMMARY = Columns(
    ("number", "序号", 6, "seq"), ("department", "主管部门", 22), ("unit", "实施单位", 26, "unit"),
    ("project", "项目名称", 30), ("year", "年度", 7, "year"),
    ("budget_initial", "年初预算数（万元）", 12, "money"), ("budget_full_year", "全年预算数（万元）", 12, "money"),
    ("executed", "全年执行数（万元）", 12, "money"), ("execution_rate", "执行率", 10, "rate"),
    ("total_reported", "自评总分", 9, "score"), ("total_score", "复算总分", 9, "score"),
    ("gap", "自评−复算", 9, "gap"), ("grade_reported", "自评等级", 8, "grade"), ("grade", "复算等级", 8, "grade"),
    ("warning_count", SEVERITY_NAMES[WARNING], 7, "count"), ("info_count", SEVERITY_NAMES[INFO], 7, "count"),
    ("status", "状态", 22), ("source_file", "来源文件", 30), ("sheet", "工作表", 14),
)
_FIGURE_FORMATS = {"year": "plain", "money": "money", "rate": "percent", "score": "score"}  # → Styles.kinds


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
    header(ws, _SUMMARY.header, st)
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
    ws.autofilter(0, 0, row, len(_SUMMARY) - 1)
    ws.freeze_panes(1, _SUMMARY["year"])  # 序号 to 项目名称 stay in view
    _summary_formats(ws, row, st, result.config.rules.inflation_points)
    print_setup(ws, repeat_rows=1)


def _summary_row(ws, i: int, number: int, r: dict, names: dict[str, str], st: Styles) -> None:
    ws.write_number(i, _SUMMARY["number"], number)
    for key in _SUMMARY.keys:  # what every row has, a rejected form's too
        if _SUMMARY.kinds[key] == "text":
            ws.write_string(i, _SUMMARY[key], r[key])
        elif _SUMMARY.kinds[key] == "unit":
            unit, col = r["unit"] or "（未填）", _SUMMARY["unit"]
            if r["unit"] in names:
                ws.write_url(i, col, f"internal:{quote(names[r['unit']])}!A1", st.link, unit)
            else:
                ws.write_string(i, col, unit)
    if "form_id" not in r:
        return  # a rejected form: no figures enter the consolidation
    for key in _SUMMARY.keys:
        col, kind = _SUMMARY[key], _SUMMARY.kinds[key]
        if kind in _FIGURE_FORMATS:
            write_num(ws, i, col, r[key], st.kinds[_FIGURE_FORMATS[kind]])
        elif kind == "gap" and not pd.isna(r["total_reported"]):
            ws.write_number(i, col, r["total_reported"] - r["total_score"], st.score)
        elif kind == "grade":
            ws.write_string(i, col, r[key])
        elif kind == "count":
            ws.write_number(i, col, int(r[key]))


def _total_row(ws, i: int, top: int, bottom: int, label: str, rows: list[dict], fmt) -> None:
    """Sums (money, counts) and averages (scores) over the counted forms only, as live formulas:
    superseded, rejected and AMOUNT_SCALE_SUSPECT forms stay out (their 状态 is not COUNTED,
    which SUMIFS/AVERAGEIFS test)."""
    counted = [r for r in rows if r["status"] == COUNTED]
    suspect = sum(r["status"] == SCALE_SUSPECT for r in rows)
    outside = sum(r["status"] == WRONG_SEASON for r in rows)
    for col in range(len(_SUMMARY)):
        ws.write_blank(i, col, None, fmt["text"])
    ws.write_string(i, _SUMMARY["department"], label, fmt["text"])
    note = f"，{suspect} 个金额单位存疑未计入" if suspect else ""
    note += f"，{outside} 个年度或县（区）不符未计入" if outside else ""
    ws.write_string(i, _SUMMARY["project"], f"{len(counted)} 个项目计入{note}", fmt["text"])
    status = f"${_col('status')}${top + 1}:${_col('status')}${bottom + 1}"
    for key in _SUMMARY.of("money") + _SUMMARY.of("count"):
        c = _col(key)
        cached = float(sum(r[key] or 0 for r in counted if not pd.isna(r[key])))
        ws.write_formula(i, _SUMMARY[key], f'=SUMIFS({c}{top + 1}:{c}{bottom + 1},{status},"{COUNTED}")',
                         fmt["money" if _SUMMARY.kinds[key] == "money" else "int"], cached)
    budget = sum(r["budget_full_year"] or 0 for r in counted)
    executed = sum(r["executed"] or 0 for r in counted)
    b, e = f"{_col('budget_full_year')}{i + 1}", f"{_col('executed')}{i + 1}"
    for key in _SUMMARY.of("rate"):
        ws.write_formula(i, _SUMMARY[key], f'=IF({b}=0,"",{e}/{b})', fmt["percent"],
                         executed / budget if budget else "")
    for key in _SUMMARY.of("score"):
        values = [r[key] for r in counted if not pd.isna(r[key])]
        c = _col(key)
        ws.write_formula(i, _SUMMARY[key],
                         f'=IFERROR(AVERAGEIFS({c}{top + 1}:{c}{bottom + 1},{status},"{COUNTED}"),"")',
                         fmt["score"], sum(values) / len(values) if values else "")


def _col(key: str) -> str:
    """The letter of 汇总's column `key`."""
    return xl_col_to_name(_SUMMARY[key])


def _summary_formats(ws, last: int, st: Styles, inflation_points: float) -> None:
    if last < 2:
        return
    for first_col, last_col in _SUMMARY.spans(*_SUMMARY.of("rate")):
        ws.conditional_format(1, first_col, last, last_col, {
            "type": "data_bar", "bar_color": BAR_GREEN, "bar_solid": True,
            "min_type": "num", "min_value": 0, "max_type": "num", "max_value": 1})
    # Self-score inflated (SELF_SCORE_INFLATED's threshold): reported total, recomputed and gap turn red.
    for first_col, last_col in _SUMMARY.spans("total_reported", "total_score", "gap"):
        ws.conditional_format(1, first_col, last, last_col, {
            "type": "formula", "criteria": f"=${_col('gap')}2>{inflation_points:g}", "format": st.red})
    for first_col, last_col in _SUMMARY.spans(*_SUMMARY.of("grade")):
        for grade, fmt in st.grades.items():
            ws.conditional_format(1, first_col, last, last_col, {
                "type": "cell", "criteria": "==", "value": _excel_string(grade), "format": fmt})
    # A rejected form: the whole row in red. A form whose amounts look typed in 元: the whole row
    # in the colour of its finding's severity, so no figure of it is read as part of the totals.
    everything = (1, 0, last, len(_SUMMARY) - 1)
    ws.conditional_format(*everything, {
        "type": "formula", "criteria": f'=LEFT(${_col("status")}2,3)="未受理"', "format": st.red})
    ws.conditional_format(*everything, {
        "type": "formula", "criteria": f'=${_col("status")}2="{SCALE_SUSPECT}"',
        "format": st.row_fill[AMOUNT_SCALE_SUSPECT.severity]})
    ws.conditional_format(*everything, {
        "type": "formula", "criteria": f'=${_col("status")}2="{WRONG_SEASON}"',
        "format": st.row_fill[WRONG_YEAR.severity]})


def _excel_string(text: str) -> str:
    """`text` as an Excel string literal (a configured grade may hold a double quote)."""
    return '"' + text.replace('"', '""') + '"'


# --- 异常清单 -----------------------------------------------------------------------

_ANOMALY = Columns(
    ("id", ID_HEADERS[0], 13), ("severity", "严重程度", 8), ("rule", "规则", 24), ("title", "规则名称", 14),
    ("unit", "实施单位", 24), ("project", "项目名称", 26), ("source_file", "来源文件", 26), ("sheet", "工作表", 12),
    ("cell", "单元格", 8), ("message", "问题说明", 60), ("value", "填报值", 14), ("expected", "应为", 14),
    ("link", "定位", 10), ("review_status", STATUS_HEADER, 10), ("review_note", NOTE_HEADER, 30),
)


def _anomalies(ws, findings: list[Finding], places: Places, rejected: dict[tuple[str, str], int],
               reviews: dict[str, Review], st: Styles) -> None:
    header(ws, _ANOMALY.header, st)
    ordered = sorted(findings, key=lambda f: (SEVERITY_ORDER[f.severity], f.unit, f.project, f.rule))
    link, status = _ANOMALY["link"], _ANOMALY["review_status"]
    for i, f in enumerate(ordered, start=1):
        review = reviews.get(f.anomaly_id, Review(status=STATUSES[0]))
        values = {"id": f.anomaly_id, "severity": SEVERITY_NAMES[f.severity], "rule": f.rule,
                  "title": RULES[f.rule].title, "unit": f.unit, "project": f.project, "source_file": f.source_file,
                  "sheet": f.sheet, "cell": f.cell, "message": f.message, "value": f.value,
                  "expected": f.expected}
        for key, value in values.items():
            fmt = st.flag[f.severity]["text"] if key == "severity" else st.text
            ws.write_string(i, _ANOMALY[key], value or "", fmt)
        fit_row(ws, i, values.values(), [_ANOMALY.widths[_ANOMALY[key]] for key in values])
        place = places.of(f)
        if place:
            sheet, row, col = place
            ws.write_url(i, link, f"internal:{quote(sheet)}!{a1(row, col)}", st.link, "查看")
        elif (f.source_file, f.sheet) in rejected:  # a rejection: its row in 未受理文件
            row = rejected[(f.source_file, f.sheet)]
            ws.write_url(i, link, f"internal:{quote(REJECTED_SHEET)}!A{row + 1}", st.link, "查看")
        ws.write_string(i, status, review.status or STATUSES[0])
        ws.write_string(i, _ANOMALY["review_note"], review.note)
    last = max(len(ordered), 1)
    ws.data_validation(1, status, max(last, 1000), status, {
        "validate": "list", "source": list(STATUSES),
        "error_title": STATUS_HEADER, "error_message": "请从下拉列表中选择：" + "、".join(STATUSES)})
    ws.autofilter(0, 0, last, len(_ANOMALY) - 1)
    ws.freeze_panes(1, 1)
    print_setup(ws, repeat_rows=1)


# --- 未受理文件 / 已关闭 ---------------------------------------------------------------

_REJECTED = Columns(("source_file", "来源文件", 36), ("sheet", "工作表", 14), ("rule", "规则", 18),
                    ("reason", "原因", 80), ("size", "文件大小（字节）", 14), ("sha256", "SHA-256", 20))


def _rejected(ws, result, st: Styles) -> dict[tuple[str, str], int]:
    """One row per rejected file or form; returns the row of each (source file, sheet)."""
    header(ws, _REJECTED.header, st)
    row, rows_of = 1, {}
    for record in result.files:
        rows = []
        if record.status == "rejected" and not record.forms:
            rows.append(("", record.code, record.message))
        rows += [(f.sheet, f.code, f.message) for f in record.forms if f.status == "rejected"]
        for sheet, code, message in rows:
            values = {"source_file": record.path, "sheet": sheet, "rule": code, "reason": message}
            for key, value in values.items():
                ws.write_string(row, _REJECTED[key], value, st.text)
            fit_row(ws, row, values.values(), [_REJECTED.widths[_REJECTED[key]] for key in values])
            ws.write_number(row, _REJECTED["size"], record.size)
            ws.write_string(row, _REJECTED["sha256"], record.sha256)
            rows_of[(record.path, sheet)] = row
            row += 1
    ws.autofilter(0, 0, max(row - 1, 1), len(_REJECTED) - 1)
    ws.freeze_panes(1, 0)
    print_setup(ws, repeat_rows=1)
    return rows_of


_CLOSED = Columns(("id", ID_HEADERS[0], 13), ("rule", "规则", 24), ("unit", "实施单位", 24),
                  ("project", "项目名称", 26), ("message", "问题说明", 60), ("status", STATUS_HEADER, 10),
                  ("note", NOTE_HEADER, 30), ("closed_in", "关闭于", 24))


def _closed(ws, closed: dict[str, Review], st: Styles) -> None:
    header(ws, _CLOSED.header, st)
    for i, (key, r) in enumerate(sorted(closed.items()), start=1):
        values = {"id": key, "rule": r.rule, "unit": r.unit, "project": r.project, "message": r.message,
                  "status": r.status, "note": r.note, "closed_in": r.closed_in}
        for column, value in values.items():
            ws.write_string(i, _CLOSED[column], value, st.text)
    ws.freeze_panes(1, 1)
    print_setup(ws, repeat_rows=1)
