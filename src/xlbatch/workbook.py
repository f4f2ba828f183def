"""The county workbook, consolidated.xlsx (SPEC section 4), written with XlsxWriter.

Sheets: 汇总 (one row per form), 异常清单 (one row per finding, linked to the
flagged cell, with the auditors' 复核状态/复核意见), 未受理文件, 已关闭 (reviews
of findings that went away), then one sheet per 实施单位 with its forms laid
out reported-beside-recomputed and every flagged cell filled by severity with
the rule in a comment.

Submission text is only ever written with `write_string` (and the workbook is
created with strings_to_formulas/urls off), so "=cmd|..." stays text.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import xlsxwriter

from .models import ERROR, INFO, WARNING, Finding
from .read import a1
from .reviews import ANOMALY_SHEET, CLOSED_SHEET, STATUSES, Review
from .rules import RULES
from .values import clean_text

SUMMARY_SHEET, REJECTED_SHEET = "汇总", "未受理文件"
FIXED_SHEETS = (SUMMARY_SHEET, ANOMALY_SHEET, REJECTED_SHEET, CLOSED_SHEET)
SEVERITY_NAMES = {ERROR: "错误", WARNING: "警告", INFO: "提示"}
SEVERITY_FILLS = {ERROR: "#FFC7CE", WARNING: "#FFEB9C", INFO: "#DDEBF7"}
_BAD_SHEET_CHARS = re.compile(r"[\[\]:*?/\\]")


def sheet_names(units: list[str]) -> dict[str, str]:
    """A valid, unique sheet name per unit: ≤31 chars, none of []:*?/\\, no edge apostrophes."""
    taken = {n.lower() for n in FIXED_SHEETS}
    out = {}
    for unit in units:
        base = _BAD_SHEET_CHARS.sub("_", unit).strip().strip("'") or "未填单位"
        name, n = base[:31], 1
        while name.lower() in taken:
            n += 1
            suffix = f"~{n}"
            name = base[: 31 - len(suffix)] + suffix
        taken.add(name.lower())
        out[unit] = name
    return out


def quote(sheet: str) -> str:
    return "'" + sheet.replace("'", "''") + "'"


@dataclass
class _Places:
    """Where each field of each form landed in its unit sheet: (sheet, row, col)."""

    form: dict[tuple[int, str], tuple[str, int, int]] = field(default_factory=dict)
    indicator: dict[tuple[int, str], tuple[str, int, int]] = field(default_factory=dict)
    title: dict[int, tuple[str, int, int]] = field(default_factory=dict)

    def of(self, f: Finding) -> tuple[str, int, int] | None:
        if f.indicator_id is not None:
            what = f.field.rsplit(":", 1)[-1]
            return self.indicator.get((f.indicator_id, what))
        if f.form_id is None:
            return None
        return self.form.get((f.form_id, f.field)) or self.title.get(f.form_id)


class _Styles:
    def __init__(self, book: xlsxwriter.Workbook):
        add = book.add_format
        self.header = add({"bold": True, "bg_color": "#D9E1F2", "border": 1, "text_wrap": True,
                           "valign": "vcenter", "align": "center"})
        self.text = add({"valign": "top", "text_wrap": True})
        self.plain = add({})
        self.money = add({"num_format": "#,##0.00"})
        self.score = add({"num_format": "0.00"})
        self.percent = add({"num_format": "0.00%"})
        self.link = add({"font_color": "#0563C1", "underline": 1})
        self.title = add({"bold": True, "font_size": 13})
        self.subtle = add({"font_color": "#595959"})
        self.red = add({"bg_color": "#FFC7CE", "font_color": "#9C0006"})
        self.grades = {g: add({"bg_color": c}) for g, c in
                       (("优", "#C6EFCE"), ("良", "#DDEBF7"), ("中", "#FFEB9C"), ("差", "#FFC7CE"))}
        self.flag = {}
        for sev, color in SEVERITY_FILLS.items():
            self.flag[sev] = {
                "text": add({"bg_color": color, "border": 1, "border_color": "#C00000",
                             "text_wrap": True, "valign": "top"}),
                "money": add({"bg_color": color, "border": 1, "border_color": "#C00000",
                              "num_format": "#,##0.00"}),
                "score": add({"bg_color": color, "border": 1, "border_color": "#C00000",
                              "num_format": "0.00"}),
                "percent": add({"bg_color": color, "border": 1, "border_color": "#C00000",
                                "num_format": "0.00%"}),
            }


def write_workbook(path: Path, result, reviews: dict[str, Review]) -> dict[str, Review]:
    """Write consolidated.xlsx; return the reviews now closed (written to 已关闭)."""
    book = xlsxwriter.Workbook(str(path), {"strings_to_formulas": False, "strings_to_urls": False,
                                           "strings_to_numbers": False, "nan_inf_to_errors": True})
    styles = _Styles(book)
    sheets = {name: book.add_worksheet(name) for name in FIXED_SHEETS}
    forms = result.forms
    units = sorted(forms["unit"].unique()) if not forms.empty else []
    names = sheet_names(units)
    places = _Places()
    by_form = _findings_by_form(result.findings)
    for unit in units:
        ws = book.add_worksheet(names[unit])
        _unit_sheet(ws, names[unit], forms[forms["unit"] == unit], result.indicators, by_form,
                    places, styles)
    _summary(sheets[SUMMARY_SHEET], forms, names, styles)
    _anomalies(sheets[ANOMALY_SHEET], result.findings, places, reviews, styles)
    _rejected(sheets[REJECTED_SHEET], result, styles)
    current = {f.anomaly_id for f in result.findings}
    closed = {k: v for k, v in reviews.items() if k not in current}
    for review in closed.values():
        review.closed_in = review.closed_in or result.run_id
    _closed(sheets[CLOSED_SHEET], closed, styles)
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


def _summary(ws, forms: pd.DataFrame, names: dict[str, str], st: _Styles) -> None:
    _header(ws, _SUMMARY_COLUMNS, st)
    for i, (_, f) in enumerate(forms.iterrows(), start=1):
        ws.write_number(i, 0, i)
        ws.write_string(i, 1, f["department"])
        ws.write_url(i, 2, f"internal:{quote(names[f['unit']])}!A1", st.link, f["unit"] or "（空）")
        ws.write_string(i, 3, f["project"])
        _num(ws, i, 4, f["year"], st.plain)
        _num(ws, i, 5, f["budget_initial"], st.money)
        _num(ws, i, 6, f["budget_full_year"], st.money)
        _num(ws, i, 7, f["executed"], st.money)
        _num(ws, i, 8, f["execution_rate"], st.percent)
        _num(ws, i, 9, f["total_reported"], st.score)
        _num(ws, i, 10, f["total_score"], st.score)
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
    _print_setup(ws, repeat_rows=1)


# --- 异常清单 -----------------------------------------------------------------------

_ANOMALY_COLUMNS = [
    ("编号", 13), ("严重程度", 8), ("规则", 24), ("规则名称", 14), ("实施单位", 24), ("项目名称", 26),
    ("来源文件", 26), ("工作表", 12), ("单元格", 8), ("问题说明", 60), ("填报值", 14), ("应为", 14),
    ("定位", 10), ("复核状态", 10), ("复核意见", 30),
]


def _anomalies(ws, findings: list[Finding], places: _Places, reviews: dict[str, Review],
               st: _Styles) -> None:
    _header(ws, _ANOMALY_COLUMNS, st)
    ordered = sorted(findings, key=lambda f: (_SEVERITY_ORDER[f.severity], f.unit, f.project, f.rule))
    for i, f in enumerate(ordered, start=1):
        review = reviews.get(f.anomaly_id, Review(status=STATUSES[0]))
        values = (f.anomaly_id, SEVERITY_NAMES[f.severity], f.rule, RULES[f.rule].title, f.unit,
                  f.project, f.source_file, f.sheet, f.cell, f.message, f.value, f.expected)
        for col, value in enumerate(values):
            ws.write_string(i, col, value or "", st.flag[f.severity]["text"] if col == 1 else st.text)
        _fit_row(ws, i, values, [w for _, w in _ANOMALY_COLUMNS])
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
    _print_setup(ws, repeat_rows=1)


_SEVERITY_ORDER = {ERROR: 0, WARNING: 1, INFO: 2}


# --- 未受理文件 / 已关闭 ---------------------------------------------------------------

_REJECTED_COLUMNS = [("来源文件", 36), ("工作表", 14), ("规则", 18), ("原因", 80), ("文件大小（字节）", 14),
                     ("SHA-256", 20)]


def _rejected(ws, result, st: _Styles) -> None:
    _header(ws, _REJECTED_COLUMNS, st)
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
            _fit_row(ws, row, values, [w for _, w in _REJECTED_COLUMNS])
            ws.write_number(row, 4, record.size)
            ws.write_string(row, 5, record.sha256)
            row += 1
    ws.autofilter(0, 0, max(row - 1, 1), len(_REJECTED_COLUMNS) - 1)
    ws.freeze_panes(1, 0)
    _print_setup(ws, repeat_rows=1)


_CLOSED_COLUMNS = [("编号", 13), ("规则", 24), ("实施单位", 24), ("项目名称", 26), ("问题说明", 60),
                   ("复核状态", 10), ("复核意见", 30), ("关闭于", 24)]


def _closed(ws, closed: dict[str, Review], st: _Styles) -> None:
    _header(ws, _CLOSED_COLUMNS, st)
    for i, (key, r) in enumerate(sorted(closed.items()), start=1):
        for col, value in enumerate((key, r.rule, r.unit, r.project, r.message, r.status, r.note,
                                     r.closed_in)):
            ws.write_string(i, col, value, st.text)
    ws.freeze_panes(1, 1)
    _print_setup(ws, repeat_rows=1)


# --- per-unit sheets ----------------------------------------------------------------

_FUND_ROWS = (("total", "年度资金总额"), ("current", "其中：当年财政拨款"), ("carryover", "上年结转资金"),
              ("other", "其他资金"))
_IND_COLUMNS = ["一级指标", "二级指标", "三级指标", "年度指标值", "实际完成值", "分值", "自评得分",
                "复算得分", "评分依据", "偏差原因分析及改进措施", "原表行"]


class _Grid:
    """Cells of one unit sheet, buffered so flagged cells get their fill when written."""

    def __init__(self):
        self.cells: dict[tuple[int, int], tuple[object, str]] = {}

    def put(self, row: int, col: int, value, kind: str = "text") -> None:
        self.cells[(row, col)] = (value, kind)

    def flush(self, ws, flags: dict[tuple[int, int], list[Finding]], st: _Styles) -> None:
        for (row, col), (value, kind) in sorted(self.cells.items()):
            here = flags.pop((row, col), [])
            self._write(ws, row, col, value, kind, here, st)
        for (row, col), here in flags.items():  # a flagged cell that held nothing
            self._write(ws, row, col, None, "text", here, st)

    @staticmethod
    def _write(ws, row, col, value, kind, here: list[Finding], st: _Styles) -> None:
        styles = {"text": st.text, "money": st.money, "score": st.score, "percent": st.percent,
                  "header": st.header, "title": st.title, "subtle": st.subtle, "plain": st.plain}
        fmt = styles[kind]
        if here:
            worst = min(here, key=lambda f: _SEVERITY_ORDER[f.severity]).severity
            fmt = st.flag[worst].get(kind, st.flag[worst]["text"])
            text = "\n".join(f"[{f.rule}] {f.message}" for f in here)
            ws.write_comment(row, col, text[:2000], {"x_scale": 3, "y_scale": 2.5,
                                                     "author": "xlbatch"})
        if isinstance(value, int | float) and not isinstance(value, bool):
            if math.isnan(value):
                ws.write_blank(row, col, None, fmt)
            else:
                ws.write_number(row, col, float(value), fmt)
        elif value is None:
            ws.write_blank(row, col, None, fmt)
        else:
            ws.write_string(row, col, str(value), fmt)


def _unit_sheet(ws, name: str, forms: pd.DataFrame, indicators: pd.DataFrame, by_form, places,
                st: _Styles) -> None:
    for col, width in enumerate((16, 14, 26, 14, 14, 8, 10, 10, 30, 30, 8)):
        ws.set_column(col, col, width)
    ws.write_url(0, 0, f"internal:{quote(SUMMARY_SHEET)}!A1", st.link, "← 返回汇总")
    grid, row = _Grid(), 2
    for form_id, form in forms.iterrows():
        inds = indicators[indicators["form_id"] == form_id]
        row = _unit_form(grid, name, row, int(form_id), form, inds, places) + 3
    flags: dict[tuple[int, int], list[Finding]] = {}
    for form_id in forms.index:
        for f in by_form.get(int(form_id), []):
            place = places.of(f)
            if place:
                flags.setdefault((place[1], place[2]), []).append(f)
    grid.flush(ws, flags, st)
    _print_setup(ws, repeat_rows=0)


def _unit_form(g: _Grid, sheet: str, row: int, form_id: int, f: pd.Series, inds: pd.DataFrame,
               places: _Places) -> int:
    g.put(row, 0, f"项目：{f['project']}", "title")
    places.title[form_id] = (sheet, row, 0)
    year = "" if pd.isna(f["year"]) else f"{int(f['year'])} 年度"
    state = f"；已被替代（以 {f['superseded_by']} 为准）" if f["superseded_by"] else ""
    g.put(row + 1, 0, f"主管部门：{f['department']}　{year}　来源：{f['source_file']}"
                      f" / 工作表「{f['sheet']}」{state}", "subtle")
    row += 3
    for col, title in enumerate(["资金（万元）", "年初预算数", "全年预算数", "全年执行数"]):
        g.put(row, col, title, "header")
    for i, (key, label) in enumerate(_FUND_ROWS, start=1):
        g.put(row + i, 0, label)
        for col, part in enumerate(("initial", "full_year", "executed"), start=1):
            field_name = f"fund_{key}_{part}"
            g.put(row + i, col, f[field_name], "money")
            places.form[(form_id, field_name)] = (sheet, row + i, col)
    row += 6
    for col, title in enumerate(["复算对照", "填报值", "复算值", "原表单元格"]):
        g.put(row, col, title, "header")
    lines = [
        ("执行率", "fund_total_rate", f["rate_reported"], f["execution_rate"], "percent"),
        ("预算执行率得分", "fund_total_score", f["budget_score_reported"], f["budget_score"], "score"),
        ("分值合计", "total_weight", f["weight_sum"], None, "score"),
        ("总分", "total_reported", f["total_reported"], f["total_score"], "score"),
        ("等级", "grade", f["grade_reported"], f["grade"], "text"),
    ]
    for i, (label, field_name, reported, recomputed, kind) in enumerate(lines, start=1):
        g.put(row + i, 0, label)
        g.put(row + i, 1, reported, kind)
        g.put(row + i, 2, recomputed, kind)
        g.put(row + i, 3, f["cells"].get(field_name, ""))
        places.form[(form_id, field_name)] = (sheet, row + i, 1)
    row += len(lines) + 2
    for col, title in enumerate(_IND_COLUMNS):
        g.put(row, col, title, "header")
    for i, (ind_id, ind) in enumerate(inds.iterrows(), start=1):
        r = row + i
        for col, value in enumerate((ind["level1"], ind["level2"], ind["name"],
                                     clean_text(ind["target"]), clean_text(ind["actual"]))):
            g.put(r, col, value)
        g.put(r, 5, ind["weight"], "score")
        g.put(r, 6, ind["score_reported"], "score")
        g.put(r, 7, ind["score"], "score")
        g.put(r, 8, ind["basis"])
        g.put(r, 9, ind["deviation"])
        g.put(r, 10, int(ind["row"]), "plain")
        for what, col in (("actual", 4), ("score", 6), ("deviation", 9)):
            places.indicator[(int(ind_id), what)] = (sheet, r, col)
    return row + len(inds)


# --- helpers ------------------------------------------------------------------------

def _findings_by_form(findings: list[Finding]) -> dict[int, list[Finding]]:
    out: dict[int, list[Finding]] = {}
    for f in findings:
        if f.form_id is not None:
            out.setdefault(f.form_id, []).append(f)
    return out


def _header(ws, columns, st: _Styles) -> None:
    for col, (title, width) in enumerate(columns):
        ws.write_string(0, col, title, st.header)
        ws.set_column(col, col, width)
    ws.set_row(0, 30)


def _fit_row(ws, row: int, values, widths) -> None:
    """Height for wrapped text: XlsxWriter cannot autofit rows and LibreOffice/WPS will not either."""
    lines = max((math.ceil(_display_width(v) / max(w - 1, 1)) for v, w in zip(values, widths, strict=False)),
                default=1)
    if lines > 1:
        ws.set_row(row, 15 * min(lines, 12))


def _display_width(text) -> int:
    # A CJK character takes two columns of width, as Excel measures it.
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in str(text or ""))


def _header_row(ws, row: int, titles, st: _Styles) -> None:
    for col, title in enumerate(titles):
        ws.write_string(row, col, title, st.header)


def _num(ws, row: int, col: int, value, fmt) -> None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        ws.write_blank(row, col, None, fmt)
    else:
        ws.write_number(row, col, float(value), fmt)


def _print_setup(ws, repeat_rows: int) -> None:
    ws.set_landscape()
    ws.set_paper(9)  # A4
    ws.fit_to_pages(1, 0)
    if repeat_rows:
        ws.repeat_rows(0, repeat_rows - 1)
    ws.set_footer("&L&A&R第 &P 页，共 &N 页")
