"""Shared pieces of every workbook xlbatch writes: the palette, the formats, sheet names, small helpers.

Every colour, font, border and number format is defined here, for consolidated.xlsx (`Styles`) and the
blank form `xlbatch template` writes (`FormStyles`), both built by `_format_set`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

import xlsxwriter

from ..models import ERROR, INFO, WARNING

# --- the palette -------------------------------------------------------------------------
GREEN, BLUE, AMBER, RED = "#C6EFCE", "#DDEBF7", "#FFEB9C", "#FFC7CE"
HEADER_FILL, SUBTOTAL_FILL, BAR_GREEN = "#D9E1F2", "#F2F2F2", "#63BE7B"
LINK_BLUE, SUBTLE_GREY, FLAG_BORDER = "#0563C1", "#595959", "#C00000"
FORM_FONT, FORM_TITLE_FONT = "宋体", "黑体"
# 图表's series: execution rate and its lower limit; grades self-assessed and recomputed; the scatter.
CHART_COLOURS = {"rate": "#5B9BD5", "limit": FLAG_BORDER, "自评": "#A5A5A5", "复算": "#4472C4",
                 "points": "#ED7D31", "diagonal": "#7F7F7F"}
MONEY, SCORE, PERCENT = "#,##0.00", "0.00", "0.00%"

SEVERITY_FILLS = {ERROR: RED, WARNING: AMBER, INFO: BLUE}
# Text on a severity fill, for whole rows in that colour (Excel's "Bad" and "Neutral"; a dark blue for info).
SEVERITY_FONTS = {ERROR: "#9C0006", WARNING: "#9C5700", INFO: "#1F4E78"}
# Grades from the best to the worst: four grades get these; others a spread between them (grade_fills).
GRADE_ANCHORS = (GREEN, BLUE, AMBER, RED)
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


_NUMBERS = {"money": {"num_format": MONEY}, "score": {"num_format": SCORE}, "percent": {"num_format": PERCENT}}
_TOTAL_KINDS = {"text": {}, **_NUMBERS, "int": {"num_format": "0"}}
_FLAG_KINDS = {"text": {"text_wrap": True, "valign": "top"},
               # Unwrapped: a flagged title or fact overflows to the right instead of being cut off.
               "plain": {}, **_NUMBERS}
_FORM_CELL = {"font_name": FORM_FONT, "font_size": 10, "border": 1, "valign": "vcenter", "text_wrap": True}
_FORM_KINDS = {"label": {"bold": True, "align": "center"}, "text": {"align": "left"},
               "number": {"align": "right", "num_format": "0.00##"},
               "points": {"align": "center", "num_format": '0"分"'},
               "percent": {"align": "right", "num_format": PERCENT}, "center": {"align": "center"}}


def _format_set(book: xlsxwriter.Workbook, base: dict, kinds: dict[str, dict]) -> dict:
    """One format per kind, each `base` with the kind's own properties over it."""
    return {kind: book.add_format({**base, **props}) for kind, props in kinds.items()}


def grade_fills(grades: Sequence[str]) -> dict[str, str]:
    """A fill per grade by rank, best green to worst red: with four grades exactly GRADE_ANCHORS;
    fewer take anchors spread over the scale (3: green, amber, red); more, colours between them."""
    n, last = len(grades), len(GRADE_ANCHORS) - 1
    if n == 1:
        return {grades[0]: GRADE_ANCHORS[0]}
    if n <= len(GRADE_ANCHORS):
        return {g: GRADE_ANCHORS[math.ceil(i * last / (n - 1))] for i, g in enumerate(grades)}
    return {g: _between(i * last / (n - 1)) for i, g in enumerate(grades)}


def _between(position: float) -> str:
    """The colour at `position` (0 … last anchor) on the line through GRADE_ANCHORS."""
    low = min(int(position), len(GRADE_ANCHORS) - 2)
    t = position - low
    a, b = (bytes.fromhex(GRADE_ANCHORS[k][1:]) for k in (low, low + 1))
    return "#" + "".join(f"{round(x + (y - x) * t):02X}" for x, y in zip(a, b, strict=True))


class Styles:
    """The formats of consolidated.xlsx; `grades`, the configured grades best first, get fills by rank."""

    def __init__(self, book: xlsxwriter.Workbook, grades: Sequence[str]):
        self.book = book
        add = book.add_format
        self.header = add({"bold": True, "bg_color": HEADER_FILL, "border": 1, "text_wrap": True,
                           "valign": "vcenter", "align": "center"})
        self.text = add({"valign": "top", "text_wrap": True})
        self.plain = add({})
        numbers = _format_set(book, {}, _NUMBERS)
        self.money, self.score, self.percent = numbers["money"], numbers["score"], numbers["percent"]
        self.link = add({"font_color": LINK_BLUE, "underline": 1})
        self.title = add({"bold": True, "font_size": 13})
        self.subtle = add({"font_color": SUBTLE_GREY})
        # Whole rows or cells in a severity's colour (conditional formats in 汇总, 变更记录).
        self.row_fill = {sev: add({"bg_color": SEVERITY_FILLS[sev], "font_color": SEVERITY_FONTS[sev]})
                         for sev in SEVERITY_FILLS}
        self.red = self.row_fill[ERROR]
        self.grades = {g: add({"bg_color": c}) for g, c in grade_fills(grades).items()}
        bold = {"bold": True, "top": 1, "bg_color": SUBTOTAL_FILL}
        strong = {"bold": True, "top": 2, "bottom": 2, "bg_color": HEADER_FILL}
        self.subtotal = _format_set(book, bold, _TOTAL_KINDS)
        self.total = _format_set(book, strong, _TOTAL_KINDS)
        self.kinds = {"text": self.text, "money": self.money, "score": self.score, "percent": self.percent,
                      "header": self.header, "title": self.title, "subtle": self.subtle, "plain": self.plain}
        self.flag = {sev: _format_set(book, {"bg_color": color, "border": 1, "border_color": FLAG_BORDER},
                                      _FLAG_KINDS)
                     for sev, color in SEVERITY_FILLS.items()}


class FormStyles:
    """The formats of the standard form (template.py): 宋体 10 in bordered, wrapped cells."""

    def __init__(self, book: xlsxwriter.Workbook):
        self.title = book.add_format({"font_name": FORM_TITLE_FONT, "font_size": 16, "bold": True,
                                      "align": "center", "valign": "vcenter"})
        self.subtitle = book.add_format({"font_name": FORM_FONT, "font_size": 11, "align": "center"})
        self.attachment = book.add_format({"font_name": FORM_TITLE_FONT, "font_size": 12, "valign": "vcenter"})
        cells = _format_set(book, _FORM_CELL, _FORM_KINDS)
        self.label, self.text, self.number = cells["label"], cells["text"], cells["number"]
        self.points, self.percent, self.center = cells["points"], cells["percent"], cells["center"]


class Columns:
    """A sheet's columns, defined once and in order: (key, title, width) or (key, title, width, kind).
    Cells are written by key (`cols["status"]`), so adding or moving a column is one edit."""

    def __init__(self, *specs: tuple):
        self.keys = [spec[0] for spec in specs]
        self.index = {key: i for i, key in enumerate(self.keys)}
        self.kinds = {spec[0]: spec[3] if len(spec) > 3 else "text" for spec in specs}
        self.header = [(spec[1], spec[2]) for spec in specs]  # (title, width), as `header` takes them
        self.widths = [spec[2] for spec in specs]
        if len(self.index) != len(specs):
            raise ValueError(f"a column key is given twice: {self.keys}")

    def __getitem__(self, key: str) -> int:
        return self.index[key]

    def __len__(self) -> int:
        return len(self.keys)

    def of(self, kind: str) -> list[str]:
        return [key for key in self.keys if self.kinds[key] == kind]

    def spans(self, *keys: str) -> list[tuple[int, int]]:
        """The columns of `keys` as runs of adjacent columns (first, last): one range per run."""
        runs: list[tuple[int, int]] = []
        for col in sorted(self.index[k] for k in keys):
            if runs and runs[-1][1] == col - 1:
                runs[-1] = (runs[-1][0], col)
            else:
                runs.append((col, col))
        return runs


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


class CheckStyles:
    """The formats of `xlbatch check --format xlsx` (check_book.py): 宋体 10 in bordered, wrapped cells;
    the rows of a finding that rejects the form in the error colour."""

    def __init__(self, book: xlsxwriter.Workbook):
        add = book.add_format
        cell = {"font_name": FORM_FONT, "font_size": 10, "border": 1, "valign": "top", "text_wrap": True}
        self.title = add({"font_name": FORM_TITLE_FONT, "font_size": 16, "align": "center", "valign": "vcenter"})
        self.note = add({"font_name": FORM_FONT, "font_size": 10, "valign": "vcenter", "text_wrap": True})
        self.header = add({**cell, "bold": True, "bg_color": HEADER_FILL, "align": "center", "valign": "vcenter"})
        self.cell = add(cell)
        self.center = add({**cell, "align": "center"})
        rejected = {"bg_color": SEVERITY_FILLS[ERROR], "font_color": SEVERITY_FONTS[ERROR]}
        self.reject = add({**cell, **rejected})
        self.reject_center = add({**cell, **rejected, "align": "center"})
