"""Shared pieces of the consolidated workbook: formats, sheet names, small writing helpers."""

from __future__ import annotations

import math
import re

import xlsxwriter

from ..models import ERROR, INFO, WARNING

SEVERITY_NAMES = {ERROR: "错误", WARNING: "警告", INFO: "提示"}
SEVERITY_FILLS = {ERROR: "#FFC7CE", WARNING: "#FFEB9C", INFO: "#DDEBF7"}
SEVERITY_ORDER = {ERROR: 0, WARNING: 1, INFO: 2}
_BAD_SHEET_CHARS = re.compile(r"[\[\]:*?/\\]")


def sheet_names(units: list[str], reserved: tuple[str, ...]) -> dict[str, str]:
    """A valid, unique sheet name per unit: ≤31 chars, none of []:*?/\\, no edge apostrophes."""
    taken = {n.lower() for n in reserved}
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


_TOTAL_KINDS = {"text": {}, "money": {"num_format": "#,##0.00"}, "percent": {"num_format": "0.00%"},
                "score": {"num_format": "0.00"}, "int": {"num_format": "0"}}


class Styles:
    def __init__(self, book: xlsxwriter.Workbook):
        self.book = book
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
        bold = {"bold": True, "top": 1, "bg_color": "#F2F2F2"}
        strong = {"bold": True, "top": 2, "bottom": 2, "bg_color": "#D9E1F2"}
        self.subtotal = {k: add({**bold, **v}) for k, v in _TOTAL_KINDS.items()}
        self.total = {k: add({**strong, **v}) for k, v in _TOTAL_KINDS.items()}
        self.flag = {}
        self.kinds = {"text": self.text, "money": self.money, "score": self.score, "percent": self.percent,
                      "header": self.header, "title": self.title, "subtle": self.subtle, "plain": self.plain}
        for sev, color in SEVERITY_FILLS.items():
            self.flag[sev] = {
                "text": add({"bg_color": color, "border": 1, "border_color": "#C00000",
                             "text_wrap": True, "valign": "top"}),
                # Unwrapped: a flagged title or fact overflows to the right instead of being cut off.
                "plain": add({"bg_color": color, "border": 1, "border_color": "#C00000"}),
                "money": add({"bg_color": color, "border": 1, "border_color": "#C00000",
                              "num_format": "#,##0.00"}),
                "score": add({"bg_color": color, "border": 1, "border_color": "#C00000",
                              "num_format": "0.00"}),
                "percent": add({"bg_color": color, "border": 1, "border_color": "#C00000",
                                "num_format": "0.00%"}),
            }


def header(ws, columns, st: Styles) -> None:
    for col, (title, width) in enumerate(columns):
        ws.write_string(0, col, title, st.header)
        ws.set_column(col, col, width)
    ws.set_row(0, 30)


def fit_row(ws, row: int, values, widths) -> None:
    """Height for wrapped text: XlsxWriter cannot autofit rows and LibreOffice/WPS will not either."""
    lines = max((math.ceil(display_width(v) / max(w - 1, 1)) for v, w in zip(values, widths, strict=False)),
                default=1)
    if lines > 1:
        ws.set_row(row, 15 * min(lines, 12))


def display_width(text) -> int:
    # A CJK character takes two columns of width, as Excel measures it. UTF-8 spends three bytes
    # on one and one byte on ASCII, so (bytes + characters) / 2 counts that without a Python loop.
    text = str(text or "")
    return (len(text.encode("utf-8")) + len(text)) // 2


def header_row(ws, row: int, titles, st: Styles, left: int = 0) -> None:
    for col, title in enumerate(titles, start=left):
        ws.write_string(row, col, title, st.header)


def write_num(ws, row: int, col: int, value, fmt) -> None:
    """A number, or a blank cell for a missing one. Never inf or NaN: with nan_inf_to_errors,
    XlsxWriter would write them as =1/0 errors, which break every sum over the column."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        ws.write_blank(row, col, None, fmt)
    else:
        ws.write_number(row, col, float(value), fmt)


def print_setup(ws, repeat_rows: int) -> None:
    ws.set_landscape()
    ws.set_paper(9)  # A4
    ws.fit_to_pages(1, 0)
    if repeat_rows:
        ws.repeat_rows(0, repeat_rows - 1)
    ws.set_footer("&L&A&R第 &P 页，共 &N 页")
