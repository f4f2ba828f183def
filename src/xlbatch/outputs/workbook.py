"""The county workbook, consolidated.xlsx (SPEC section 4), written with XlsxWriter.

Sheets: 重点关注 (the projects to review first, focus.py; the sheet it opens on),
汇总 (one row per form, department and county totals, why a row is coloured in
标注原因), 异常清单 (one row per finding in 重点关注's order, linked to the flagged
cell, with the auditors' 复核状态/复核意见), 未受理文件, 变更记录 (changes since the
previous run, change_sheet.py), 已关闭 (reviews of findings that went away), 图表
and 运行说明 (overview.py), then one sheet per 实施单位 (unit_sheets.py).

重点关注, 汇总, 异常清单 and 未受理文件 print as official tables: a title and a
编制单位 / date / 单位 line above the header row (formats.letterhead), ruled cells,
never shrunk below 9 pt (formats.plan_print). 运行说明 and empty sheets print nothing.

Submission text is only ever written with `write_string` (and the workbook is
created with strings_to_formulas/urls off), so "=cmd|..." stays text.
"""

from __future__ import annotations

import functools
from pathlib import Path

import pandas as pd
import xlsxwriter
from xlsxwriter.utility import xl_col_to_name

from ..catalogue import titled
from ..checks.rules import (
    AMOUNT_SCALE_SUSPECT,
    HIGH_SCORE_LOW_EXECUTION,
    LOW_EXECUTION,
    RULES,
    SELF_SCORE_INFLATED,
    UNEXPLAINED_DEVIATION,
    WRONG_YEAR,
)
from ..checks.score import COUNTED, SCALE_SUSPECT, WRONG_SEASON, standing
from ..form.normalize import records
from ..intake.discover import ARCHIVE, OLD_FORMAT, OTHER, REPORT, SPREADSHEET
from ..intake.read import a1
from ..models import IGNORED, INFO, OPENED, SEVERITY_NAMES, WARNING, Finding
from .change_sheet import CHANGES_SHEET, write_changes
from .focus import FOCUS_SHEET, Ranked, finding_order, write_focus
from .formats import (
    BAR_GREEN,
    Columns,
    Heading,
    Styles,
    boxed_row,
    end_list,
    fit_row,
    header,
    link_width,
    no_print,
    plan_print,
    print_table,
    printed_table,
    quote,
    run_time,
    run_year,
    sheet_names,
    write_num,
)
from .overview import CHART_SHEET, INFO_SHEET, write_charts, write_run_info
from .reviews import ANOMALY_SHEET, CLOSED_SHEET, ID_HEADERS, NOTE_HEADER, STATUS_HEADER, STATUSES, Review
from .season_sheet import SEASON_SHEET, write_season
from .unit_sheets import REPORT_REASONS, SUMMARY_SHEET, Places, write_unit_sheets

REJECTED_SHEET = "未受理文件"
OTHERS_SHEET = "其他文件"
IN_MEMORY_FORMS = 5000
FIXED_SHEETS = (FOCUS_SHEET, SEASON_SHEET, SUMMARY_SHEET, CHART_SHEET, ANOMALY_SHEET, REJECTED_SHEET, OTHERS_SHEET,
                CHANGES_SHEET, CLOSED_SHEET, INFO_SHEET)


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
    reasons = _reasons(result.reports)
    places = write_unit_sheets(book, forms, result.indicators, result.findings, names, st, reasons)
    head = heading(result)
    ranked = write_focus(sheets[FOCUS_SHEET], result, head, places, names, st)
    _summary(sheets[SUMMARY_SHEET], result, head, names, st)
    rejected = _rejected(sheets[REJECTED_SHEET], result, head, st)
    _others(sheets[OTHERS_SHEET], result, head, st)
    _anomalies(sheets[ANOMALY_SHEET], result.findings, ranked, places, rejected, reviews, head, st, reasons)
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
    sheets[FOCUS_SHEET].activate()
    book.close()
    _release(book)
    return closed


def _release(book) -> None:
    """Let the written workbook be freed as soon as it is dropped. Each worksheet keeps a bound method
    of its workbook (XlsxWriter's workbook_add_format), so workbook and worksheets form a cycle, and
    their cells (300,000 objects for 1,000 forms) waited for a full collection: at the interpreter's
    exit, 0.4 s of the run. Without that one link, reference counting frees them at once."""
    for ws in book.worksheets():
        ws.workbook_add_format = None


def _reasons(reports):
    """(unit, project) → the reasons its 自评报告 gives, as one text; each asked once (unit sheets and 异常清单
    both show them, and matching a project's name in a report is fuzzy)."""
    if reports is None:
        return None
    return functools.cache(lambda unit, project: "".join(reports.reasons_for(unit, project)))


def heading(result) -> Heading:
    """The letterhead of this run's printed tables: the county and 编制单位 configured ([season]), the
    year most of the forms are for, the day the run started (Beijing time)."""
    season = result.config.season
    year = run_year(result)
    started = run_time(result) if result.started_at else None
    date = f"{started.year}年{started.month}月{started.day}日" if started else ""
    return Heading(season.county, year, season.printed_office, date)


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
    ("number", "序号", 5, "seq"), ("department", "主管部门", 14), ("unit", "实施单位", 16, "unit"),
    ("project", "项目名称", 20), ("year", "年度", 6, "year"),
    ("budget_initial", "年初预算数\n（万元）", 13, "money"),
    ("budget_full_year", "全年预算数\n（万元）", 13, "money"), ("executed", "全年执行数\n（万元）", 13, "money"),
    ("execution_rate", "执行率", 9, "rate"),
    ("total_reported", "自评总分", 8, "score"), ("total_score", "复算总分", 8, "score"),
    ("gap", "自评−复算", 10, "gap"), ("grade_reported", "自评等级", 6, "grade"), ("grade", "复算等级", 6, "grade"),
    ("warning_count", SEVERITY_NAMES[WARNING], 6, "count"), ("info_count", SEVERITY_NAMES[INFO], 6, "count"),
    ("status", "状态", 18), ("reason", "标注原因", 26), ("source_file", "来源文件", 24), ("sheet", "工作表", 10),
)
_FIGURE_FORMATS = {"year": "number", "money": "money", "rate": "percent", "score": "score"}  # → Styles.boxed
_TEXT_KEYS = [key for key in _SUMMARY.keys if _SUMMARY.kinds[key] in ("text", "unit")]


def summary_rows(result) -> list[dict]:
    """Accepted forms (counted or not, `score.standing`) and rejected forms, by department, unit, project."""
    rows = []
    inflation = result.config.rules.inflation_points
    for f in records(result.forms, index="form_id"):
        f["status"] = standing(f)
        f["reason"] = _reason(f, inflation)
        rows.append(f)
    for record in result.files:
        for form in record.forms:
            if form.status == "rejected":
                rows.append({"department": form.department, "unit": form.unit, "project": form.project,
                             "source_file": record.path, "sheet": form.sheet,
                             "status": f"未受理：{titled(form.code)}", "reason": "未受理，整行红色；不计入合计"})
    return sorted(rows, key=lambda r: (r["department"], r["unit"], r["project"], r["source_file"]))


def _reason(f: dict, inflation_points: float) -> str:
    """Why the row or its cells are coloured, as _summary_formats colours them (comments do not print)."""
    reasons = []
    if f["status"] == SCALE_SUSPECT:
        reasons.append(f"{AMOUNT_SCALE_SUSPECT.title}（疑按元填报），整行黄色；不计入合计")
    if f["status"] == WRONG_SEASON:
        reasons.append(f"{WRONG_YEAR.title}，整行黄色；不计入合计")
    if not pd.isna(f["total_reported"]) and f["total_reported"] - f["total_score"] > inflation_points:
        gap = f["total_reported"] - f["total_score"]
        reasons.append(f"{SELF_SCORE_INFLATED.title} {gap:.2f} 分，总分标红")
    return "；".join(reasons)


def _summary(ws, result, head: Heading, names: dict[str, str], st: Styles) -> None:
    rows = summary_rows(result)
    widths = list(_SUMMARY.widths)
    widths[_SUMMARY["unit"]] = link_width((r["unit"] for r in rows if r["unit"] in names), 12, 30)
    keep = _SUMMARY["year"]  # 序号 to 项目名称 head every page of a split table
    top, plan = printed_table(ws, head.title("汇总表"), head.facts(), widths, keep, st)
    header(ws, _SUMMARY.header, st, row=top, widths=widths)
    row = first = top + 1
    number = 0
    for department in dict.fromkeys(r["department"] for r in rows):
        group = [r for r in rows if r["department"] == department]
        start = row
        for r in group:
            number += 1
            _summary_row(ws, row, number, r, names, widths, st)
            row += 1
        _total_row(ws, row, start, row - 1, f"{department or '（未填主管部门）'} 小计", group, widths, st.subtotal)
        row += 1
    _total_row(ws, row, first, row - 1, "全县合计", rows, widths, st.total)
    ws.autofilter(top, 0, row, len(_SUMMARY) - 1)
    ws.freeze_panes(top + 1, _SUMMARY["year"])  # 序号 to 项目名称 stay in view
    _summary_formats(ws, first, row, st, result.config.rules.inflation_points)
    print_table(ws, plan, top, keep_cols=keep)


def _summary_row(ws, i: int, number: int, r: dict, names: dict[str, str], widths: list[float],
                 st: Styles) -> None:
    b = st.boxed
    boxed_row(ws, i, len(_SUMMARY), st)
    ws.write_number(i, _SUMMARY["number"], number, b["number"])
    for key in _SUMMARY.keys:  # what every row has, a rejected form's too
        if _SUMMARY.kinds[key] == "text":
            ws.write_string(i, _SUMMARY[key], r[key], b["text"])
        elif _SUMMARY.kinds[key] == "unit":
            unit, col = r["unit"] or "（未填）", _SUMMARY["unit"]
            if r["unit"] in names:
                ws.write_url(i, col, f"internal:{quote(names[r['unit']])}!A1", b["link"], unit)
            else:
                ws.write_string(i, col, unit, b["text"])
    fit_row(ws, i, [r[key] for key in _TEXT_KEYS], [widths[_SUMMARY[key]] for key in _TEXT_KEYS])
    if "form_id" not in r:
        return  # a rejected form: no figures enter the consolidation
    for key in _SUMMARY.keys:
        col, kind = _SUMMARY[key], _SUMMARY.kinds[key]
        if kind in _FIGURE_FORMATS:
            write_num(ws, i, col, r[key], b[_FIGURE_FORMATS[kind]])
        elif kind == "gap" and not pd.isna(r["total_reported"]):
            ws.write_number(i, col, r["total_reported"] - r["total_score"], b["score"])
        elif kind == "grade":
            ws.write_string(i, col, r[key], b["text"])
        elif kind == "count":
            ws.write_number(i, col, int(r[key]), b["number"])


def _total_row(ws, i: int, top: int, bottom: int, label: str, rows: list[dict], widths: list[float],
               fmt) -> None:
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
    counts = f"{len(counted)} 个项目计入{note}"
    ws.write_string(i, _SUMMARY["project"], counts, fmt["text"])
    fit_row(ws, i, (label, counts), (widths[_SUMMARY["department"]], widths[_SUMMARY["project"]]))
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


def _summary_formats(ws, first: int, last: int, st: Styles, inflation_points: float) -> None:
    """Colours over the rows `first` (the first form) to `last` (全县合计); every formula is written for
    row `first` and Excel moves it along."""
    if last < first + 1:
        return
    at = first + 1  # the first form's row as Excel numbers it
    for first_col, last_col in _SUMMARY.spans(*_SUMMARY.of("rate")):
        ws.conditional_format(first, first_col, last, last_col, {
            "type": "data_bar", "bar_color": BAR_GREEN, "bar_solid": True,
            "min_type": "num", "min_value": 0, "max_type": "num", "max_value": 1})
    # Self-score inflated (SELF_SCORE_INFLATED's threshold): reported total, recomputed and gap turn red.
    for first_col, last_col in _SUMMARY.spans("total_reported", "total_score", "gap"):
        ws.conditional_format(first, first_col, last, last_col, {
            "type": "formula", "criteria": f"=${_col('gap')}{at}>{inflation_points:g}", "format": st.red})
    for first_col, last_col in _SUMMARY.spans(*_SUMMARY.of("grade")):
        for grade, fmt in st.grades.items():
            ws.conditional_format(first, first_col, last, last_col, {
                "type": "cell", "criteria": "==", "value": _excel_string(grade), "format": fmt})
    # A rejected form: the whole row in red. A form whose amounts look typed in 元: the whole row
    # in the colour of its finding's severity, so no figure of it is read as part of the totals.
    # The 标注原因 column says so in words (_reason).
    everything = (first, 0, last, len(_SUMMARY) - 1)
    ws.conditional_format(*everything, {
        "type": "formula", "criteria": f'=LEFT(${_col("status")}{at},3)="未受理"', "format": st.red})
    ws.conditional_format(*everything, {
        "type": "formula", "criteria": f'=${_col("status")}{at}="{SCALE_SUSPECT}"',
        "format": st.row_fill[AMOUNT_SCALE_SUSPECT.severity]})
    ws.conditional_format(*everything, {
        "type": "formula", "criteria": f'=${_col("status")}{at}="{WRONG_SEASON}"',
        "format": st.row_fill[WRONG_YEAR.severity]})


def _excel_string(text: str) -> str:
    """`text` as an Excel string literal (a configured grade may hold a double quote)."""
    return '"' + text.replace('"', '""') + '"'


# --- 异常清单 -----------------------------------------------------------------------

_ANOMALY = Columns(
    ("id", ID_HEADERS[0], 13), ("severity", "严重程度", 8), ("rule", "规则", 24), ("title", "规则名称", 14),
    ("unit", "实施单位", 18), ("project", "项目名称", 18), ("source_file", "来源文件", 20), ("sheet", "工作表", 10),
    ("cell", "单元格", 7), ("message", "问题说明", 40), ("value", "填报值", 12), ("expected", "应为", 12),
    ("link", "定位", 6), ("review_status", STATUS_HEADER, 9), ("review_note", NOTE_HEADER, 24),
    ("reasons", REPORT_REASONS, 24),  # last: the auditors' columns keep their place of earlier workbooks
)
# The findings a unit's 自评报告 may explain: its reason sentences are shown beside them (SPEC section 6).
EXPLAINED = {LOW_EXECUTION.code, UNEXPLAINED_DEVIATION.code, HIGH_SCORE_LOW_EXECUTION.code}


def _anomalies(ws, findings: list[Finding], ranked: list[Ranked], places: Places,
               rejected: dict[tuple[str, str], int], reviews: dict[str, Review], head: Heading,
               st: Styles, reasons=None) -> None:
    top, plan = printed_table(ws, head.title("异常清单"), head.facts(unit=False), _ANOMALY.widths, 1, st)
    header(ws, _ANOMALY.header, st, row=top)
    ordered = finding_order(findings, ranked)  # 重点关注's order: by project rank, then rule weight
    link, status = _ANOMALY["link"], _ANOMALY["review_status"]
    b = st.boxed
    for i, f in enumerate(ordered, start=top + 1):
        review = reviews.get(f.anomaly_id, Review(status=STATUSES[0]))
        boxed_row(ws, i, len(_ANOMALY), st)
        values = {"id": f.anomaly_id, "severity": SEVERITY_NAMES[f.severity], "rule": f.rule,
                  "title": RULES[f.rule].title, "unit": f.unit, "project": f.project, "source_file": f.source_file,
                  "sheet": f.sheet, "cell": f.cell, "message": f.message, "value": f.value,
                  "expected": f.expected,
                  "reasons": reasons(f.unit, f.project) if reasons and f.rule in EXPLAINED else ""}
        for key, value in values.items():
            fmt = st.flag[f.severity]["text"] if key == "severity" else b["text"]
            ws.write_string(i, _ANOMALY[key], value or "", fmt)
        fit_row(ws, i, [*values.values(), review.note],
                [_ANOMALY.widths[_ANOMALY[key]] for key in [*values, "review_note"]])
        place = places.of(f)
        if place:
            sheet, row, col = place
            ws.write_url(i, link, f"internal:{quote(sheet)}!{a1(row, col)}", b["link"], "查看")
        elif (f.source_file, f.sheet) in rejected:  # a rejection: its row in 未受理文件
            row = rejected[(f.source_file, f.sheet)]
            ws.write_url(i, link, f"internal:{quote(REJECTED_SHEET)}!A{row + 1}", b["link"], "查看")
        ws.write_string(i, status, review.status or STATUSES[0], b["text"])
        ws.write_string(i, _ANOMALY["review_note"], review.note, b["text"])
    last = top + max(len(ordered), 1)
    ws.data_validation(top + 1, status, max(last, 1000), status, {
        "validate": "list", "source": list(STATUSES),
        "error_title": STATUS_HEADER, "error_message": "请从下拉列表中选择：" + "、".join(STATUSES)})
    ws.autofilter(top, 0, last, len(_ANOMALY) - 1)
    ws.freeze_panes(top + 1, 1)
    print_table(ws, plan, top, keep_cols=1)


# --- 未受理文件 / 已关闭 ---------------------------------------------------------------

_REJECTED = Columns(("source_file", "来源文件", 30), ("sheet", "工作表", 12), ("rule", "规则", 30),
                    ("reason", "原因", 50), ("size", "文件大小\n（字节）", 10), ("sha256", "SHA-256", 34))


def _rejected(ws, result, head: Heading, st: Styles) -> dict[tuple[str, str], int]:
    """One row per rejected file or form; returns the row of each (source file, sheet)."""
    top, plan = printed_table(ws, head.title("未受理文件清单"), head.facts(unit=False), _REJECTED.widths, 1, st)
    header(ws, _REJECTED.header, st, row=top)
    row, rows_of = top + 1, {}
    for record in result.files:
        rows = []
        if record.status == "rejected" and not record.forms:
            rows.append(("", record.code, record.message))
        rows += [(f.sheet, f.code, f.message) for f in record.forms if f.status == "rejected"]
        for sheet, code, message in rows:
            values = {"source_file": record.path, "sheet": sheet, "rule": titled(code), "reason": message,
                      "sha256": record.sha256}
            for key, value in values.items():
                ws.write_string(row, _REJECTED[key], value, st.boxed["text"])
            fit_row(ws, row, values.values(), [_REJECTED.widths[_REJECTED[key]] for key in values])
            ws.write_number(row, _REJECTED["size"], record.size, st.boxed["number"])
            rows_of[(record.path, sheet)] = row
            row += 1
    end_list(ws, top, row, plan, len(_REJECTED), "本次运行没有未受理的文件。")
    return rows_of


# --- 其他文件 ----------------------------------------------------------------------------------

_OTHERS = Columns(("source_file", "文件", 40), ("kind", "类别", 12), ("reason", "说明", 70),
                  ("size", "文件大小\n（字节）", 10))
_KINDS = {SPREADSHEET: "电子表格", ARCHIVE: "压缩包", REPORT: "自评报告", OLD_FORMAT: "旧格式文档", OTHER: "其他文件"}


def _others(ws, result, head: Heading, st: Styles) -> None:
    """Every inbox file (and package member) that holds no form: ignored with its reason, a report with
    what was read from it, a package opened with what it held. Nothing in the inbox goes unlisted."""
    top, plan = printed_table(ws, head.title("其他文件清单"), head.facts(unit=False), _OTHERS.widths, 1, st)
    header(ws, _OTHERS.header, st, row=top)
    row = top + 1
    for record in result.files:
        if record.status not in (IGNORED, OPENED):
            continue
        values = {"source_file": record.path, "kind": _KINDS.get(record.kind, "其他文件"), "reason": record.message}
        for key, value in values.items():
            ws.write_string(row, _OTHERS[key], value or "", st.boxed["text"])
        fit_row(ws, row, values.values(), [_OTHERS.widths[_OTHERS[key]] for key in values])
        ws.write_number(row, _OTHERS["size"], record.size, st.boxed["number"])
        row += 1
    end_list(ws, top, row, plan, len(_OTHERS), "本次运行收件箱中没有自评表以外的文件。")


_CLOSED = Columns(("id", ID_HEADERS[0], 13), ("rule", "规则", 24), ("title", "规则名称", 14),
                  ("unit", "实施单位", 16), ("project", "项目名称", 18), ("message", "问题说明", 40),
                  ("status", STATUS_HEADER, 9), ("note", NOTE_HEADER, 24), ("closed_in", "关闭于", 24))


def _closed(ws, closed: dict[str, Review], st: Styles) -> None:
    """Reviews of findings that went away. Read back by the next run (reviews.py) by its header row."""
    header(ws, _CLOSED.header, st)
    for i, (key, r) in enumerate(sorted(closed.items()), start=1):
        rule = RULES.get(r.rule)
        values = {"id": key, "rule": r.rule, "title": rule.title if rule else "", "unit": r.unit,
                  "project": r.project, "message": r.message, "status": r.status, "note": r.note,
                  "closed_in": r.closed_in}
        for column, value in values.items():
            ws.write_string(i, _CLOSED[column], value, st.text)
        fit_row(ws, i, values.values(), _CLOSED.widths)
    ws.freeze_panes(1, 1)
    if closed:
        print_table(ws, plan_print(_CLOSED.widths, 1), 0, keep_cols=1)
    else:
        no_print(ws, 2, len(_CLOSED) + 1)
