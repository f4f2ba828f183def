"""The county workbook, consolidated.xlsx (SPEC section 4), written with XlsxWriter.

Sheets: 汇总 (one row per form, department and county totals), 异常清单 (one
row per finding, linked to the flagged cell, with the auditors' 复核状态/复核意见),
未受理文件, 已关闭 (reviews of findings that went away), 图表 and 运行说明
(overview.py), then one sheet per 实施单位 (unit_sheets.py).

Submission text is only ever written with `write_string` (and the workbook is
created with strings_to_formulas/urls off), so "=cmd|..." stays text.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import xlsxwriter

from .models import Finding
from .read import a1
from .reviews import ANOMALY_SHEET, CLOSED_SHEET, STATUSES, Review
from .rules import RULES
from .unit_sheets import SUMMARY_SHEET, Places, quote, write_unit_sheets
from .xlsx_common import (
    SEVERITY_NAMES,
    SEVERITY_ORDER,
    Styles,
    fit_row,
    header,
    print_setup,
    sheet_names,
    write_num,
)

REJECTED_SHEET = "未受理文件"
FIXED_SHEETS = (SUMMARY_SHEET, ANOMALY_SHEET, REJECTED_SHEET, CLOSED_SHEET)


def write_workbook(path: Path, result, reviews: dict[str, Review]) -> dict[str, Review]:
    """Write consolidated.xlsx; return the reviews now closed (written to 已关闭)."""
    book = xlsxwriter.Workbook(str(path), {"strings_to_formulas": False, "strings_to_urls": False,
                                           "strings_to_numbers": False, "nan_inf_to_errors": True})
    st = Styles(book)
    sheets = {name: book.add_worksheet(name) for name in FIXED_SHEETS}
    forms = result.forms
    names = sheet_names(sorted(forms["unit"].unique()) if not forms.empty else [], FIXED_SHEETS)
    places = write_unit_sheets(book, forms, result.indicators, result.findings, names, st)
    _summary(sheets[SUMMARY_SHEET], forms, names, st)
    _anomalies(sheets[ANOMALY_SHEET], result.findings, places, reviews, st)
    _rejected(sheets[REJECTED_SHEET], result, st)
    current = {f.anomaly_id for f in result.findings}
    closed = {k: v for k, v in reviews.items() if k not in current}
    for review in closed.values():
        review.closed_in = review.closed_in or result.run_id
    _closed(sheets[CLOSED_SHEET], closed, st)
    sheets[SUMMARY_SHEET].activate()
    book.close()
    return closed


# --- 汇总 ---------------------------------------------------------------------------

_SUMMARY_COLUMNS = [
    ("序号", 6), ("主管部门", 22), ("实施单位", 26), ("项目名称", 30), ("年度", 7),
    ("年初预算数（万元）", 12), ("全年预算数（万元）", 12), ("全年执行数（万元）", 12), ("执行率", 10),
    ("自评总分", 9), ("复算总分", 9), ("自评等级", 8), ("复算等级", 8),
    ("警告", 7), ("提示", 7), ("状态", 16), ("来源文件", 30), ("工作表", 14),
]


def _summary(ws, forms: pd.DataFrame, names: dict[str, str], st: Styles) -> None:
    header(ws, _SUMMARY_COLUMNS, st)
    for i, (_, f) in enumerate(forms.iterrows(), start=1):
        ws.write_number(i, 0, i)
        ws.write_string(i, 1, f["department"])
        ws.write_url(i, 2, f"internal:{quote(names[f['unit']])}!A1", st.link, f["unit"] or "（空）")
        ws.write_string(i, 3, f["project"])
        write_num(ws, i, 4, f["year"], st.plain)
        write_num(ws, i, 5, f["budget_initial"], st.money)
        write_num(ws, i, 6, f["budget_full_year"], st.money)
        write_num(ws, i, 7, f["executed"], st.money)
        write_num(ws, i, 8, f["execution_rate"], st.percent)
        write_num(ws, i, 9, f["total_reported"], st.score)
        write_num(ws, i, 10, f["total_score"], st.score)
        ws.write_string(i, 11, f["grade_reported"])
        ws.write_string(i, 12, f["grade"])
        ws.write_number(i, 13, int(f["warning_count"]))
        ws.write_number(i, 14, int(f["info_count"]))
        status = f"已被替代（以 {f['superseded_by']} 为准）" if f["superseded_by"] else "计入汇总"
        ws.write_string(i, 15, status)
        ws.write_string(i, 16, f["source_file"])
        ws.write_string(i, 17, f["sheet"])
    last = max(len(forms), 1)
    ws.autofilter(0, 0, last, len(_SUMMARY_COLUMNS) - 1)
    ws.freeze_panes(1, 4)
    if len(forms):
        ws.conditional_format(1, 8, last, 8, {"type": "data_bar", "bar_color": "#63BE7B",
                                              "bar_solid": True, "min_type": "num", "min_value": 0,
                                              "max_type": "num", "max_value": 1})
        # Self-score more than 1 point above the recomputed one: the reported total turns red.
        ws.conditional_format(1, 9, last, 9, {"type": "formula", "criteria": "=$J2-$K2>1",
                                              "format": st.red})
        for grade, fmt in st.grades.items():
            ws.conditional_format(1, 11, last, 12, {"type": "cell", "criteria": "==",
                                                    "value": f'"{grade}"', "format": fmt})
    print_setup(ws, repeat_rows=1)


# --- 异常清单 -----------------------------------------------------------------------

_ANOMALY_COLUMNS = [
    ("编号", 13), ("严重程度", 8), ("规则", 24), ("规则名称", 14), ("实施单位", 24), ("项目名称", 26),
    ("来源文件", 26), ("工作表", 12), ("单元格", 8), ("问题说明", 60), ("填报值", 14), ("应为", 14),
    ("定位", 10), ("复核状态", 10), ("复核意见", 30),
]


def _anomalies(ws, findings: list[Finding], places: Places, reviews: dict[str, Review],
               st: Styles) -> None:
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


def _rejected(ws, result, st: Styles) -> None:
    header(ws, _REJECTED_COLUMNS, st)
    row = 1
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
            row += 1
    ws.autofilter(0, 0, max(row - 1, 1), len(_REJECTED_COLUMNS) - 1)
    ws.freeze_panes(1, 0)
    print_setup(ws, repeat_rows=1)


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


