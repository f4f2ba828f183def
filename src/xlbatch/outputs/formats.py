"""Shared pieces of every workbook xlbatch writes: the palette, the formats, sheet names, small helpers.

Every colour, font, border and number format is defined here, for consolidated.xlsx (`Styles`) and the
blank form `xlbatch template` writes (`FormStyles`), both built by `_format_set`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import xlsxwriter

from ..config import BEIJING
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
_TOTAL_KINDS = {"text": {"text_wrap": True, "valign": "top"}, **_NUMBERS, "int": {"num_format": "0"}}
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
        self.plain = add({"valign": "top"})  # unwrapped (a fact overflows right), top-aligned in a tall row
        self.number = add({"valign": "top"})  # a count or rank beside wrapped text
        # Top-aligned like the wrapped text beside them, so a tall row still reads as one line.
        numbers = _format_set(book, {"valign": "top"}, _NUMBERS)
        self.money, self.score, self.percent = numbers["money"], numbers["score"], numbers["percent"]
        self.link = add({"font_color": LINK_BLUE, "underline": 1, "text_wrap": True, "valign": "top"})
        self.title = add({"bold": True, "font_size": 13})
        # The letterhead of a printed table (`letterhead`): its title, then 编制单位, date and 单位.
        self.doc_title = add({"bold": True, "font_name": FORM_TITLE_FONT, "font_size": 16,
                              "align": "center", "valign": "vcenter"})
        self.doc_left = add({"valign": "vcenter"})
        self.doc_center = add({"valign": "vcenter", "align": "center"})
        self.doc_right = add({"valign": "vcenter", "align": "right"})
        self.subtle = add({"font_color": SUBTLE_GREY})
        # Whole rows or cells in a severity's colour (conditional formats in 汇总, 变更记录).
        self.row_fill = {sev: add({"bg_color": SEVERITY_FILLS[sev], "font_color": SEVERITY_FONTS[sev]})
                         for sev in SEVERITY_FILLS}
        self.red = self.row_fill[ERROR]
        self.grades = {g: add({"bg_color": c}) for g, c in grade_fills(grades).items()}
        bold = {"bold": True, "border": 1, "bg_color": SUBTOTAL_FILL, "valign": "top"}
        strong = {"bold": True, "border": 1, "top": 2, "bottom": 2, "bg_color": HEADER_FILL, "valign": "top"}
        self.subtotal = _format_set(book, bold, _TOTAL_KINDS)
        self.total = _format_set(book, strong, _TOTAL_KINDS)
        self.kinds = {"text": self.text, "number": self.number, "money": self.money, "score": self.score,
                      "percent": self.percent, "header": self.header, "title": self.title, "subtle": self.subtle,
                      "plain": self.plain}
        # The cells of a printed table (重点关注, 汇总, 异常清单, 未受理文件): ruled like the official forms.
        ruled = {"border": 1, "valign": "top"}
        self.boxed = _format_set(book, ruled, {"text": {"text_wrap": True}, "number": {}, **_NUMBERS,
                                               "link": {"font_color": LINK_BLUE, "underline": 1}})
        # Top-aligned as the unflagged cells beside them are: a flagged score in a tall row stays on its line.
        self.flag = {sev: _format_set(book, {"bg_color": color, "border": 1, "border_color": FLAG_BORDER,
                                             "valign": "top"},
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


def header(ws, columns, st: Styles, row: int = 0, widths: Sequence[float] | None = None) -> None:
    """The header row of a table, (title, width) per column; `widths` instead of the columns' own."""
    for col, (title, width) in enumerate(columns):
        ws.write_string(row, col, title, st.header)
        ws.set_column(col, col, widths[col] if widths else width)
    ws.set_row(row, 30)


def fit_row(ws, row: int, values, widths, least: int = 1) -> None:
    """Height for wrapped text: XlsxWriter cannot autofit rows and LibreOffice/WPS will not either.
    A line break in a value starts a new line; `least` lines at least."""
    lines = max((wrapped_lines(v, w) for v, w in zip(values, widths, strict=False)), default=1)
    lines = max(lines, least)
    if lines > 1:
        ws.set_row(row, LINE_PT * min(lines, 12))


LINE_PT = 15  # the height of one line of 11 pt text


def wrapped_lines(text, width: float, margin: int = 1) -> int:
    """How many lines `text` takes wrapped in a column `width` wide, `margin` characters kept free; each
    line break starts a line of its own."""
    text, room = str(text or ""), max(width - margin, 1)
    if "\n" not in text:
        # Most cells are short: a character is at most 2.5 columns wide (display_width: 4 UTF-8 bytes),
        # so a text within 2.5 × its length of the room is one line, without measuring it.
        return 1 if 5 * len(text) <= 2 * room else max(1, math.ceil(display_width(text) / room))
    return sum(max(1, math.ceil(display_width(p) / room)) for p in text.split("\n"))


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


FOOTER = "&L&A&R第 &P 页，共 &N 页"
BODY_PT, MIN_PRINT_PT = 11, 9  # cells are written in XlsxWriter's default 11 pt; none may print smaller
MIN_SCALE = math.ceil(100 * MIN_PRINT_PT / BODY_PT)  # 82 %
SPLIT_SCALE = 85  # a table too wide for A3 at MIN_SCALE: split across pages at this scale (9.35 pt)
_SIDE_MARGIN_IN = 0.4
_LANDSCAPE_WIDTH_IN = {9: 297 / 25.4, 8: 420 / 25.4}  # A4, A3 (XlsxWriter's paper codes)
# Pixels per unit of column width, counted wide: a column is as many widths of a digit of the default
# font as its width says, 7 px in Calibri, but a machine without Calibri draws it in a wider font
# (DejaVu Sans: 10 px, measured in LibreOffice here). Counting 10 keeps the table on its paper there too.
_PX_PER_UNIT, _PX_PADDING = 10, 5


@dataclass(frozen=True)
class PrintPlan:
    """How a table goes on paper: the paper, a fixed scale (None: fit to the paper's width) and the
    first column of each page after the first (a table too wide for A3 is split across pages)."""

    paper: int
    scale: int | None
    breaks: tuple[int, ...] = ()

    def first_page_last_col(self, ncols: int) -> int:
        return self.breaks[0] - 1 if self.breaks else ncols - 1


def plan_print(widths: Sequence[float], keep_cols: int = 0) -> PrintPlan:
    """Landscape, no text below MIN_PRINT_PT: A4 if the columns fit its width at MIN_SCALE or more, else A3;
    printed fit to the width (which never enlarges, and shrinks no further than to MIN_SCALE even in a
    wide substitute font). Wider still: A3 at SPLIT_SCALE, split into pages of whole columns, the first
    `keep_cols` columns repeated on each. Never fit-to-width whatever the width: that shrinks a wide
    table to unreadable type."""
    px = [w * _PX_PER_UNIT + _PX_PADDING for w in widths]
    for paper, width_in in _LANDSCAPE_WIDTH_IN.items():
        if sum(px) * MIN_SCALE / 100 <= _usable_px(width_in):
            return PrintPlan(paper, None)
    room = _usable_px(_LANDSCAPE_WIDTH_IN[8]) * 100 / SPLIT_SCALE
    kept = sum(px[:keep_cols])
    breaks, used = [], 0.0
    for col, width in enumerate(px):
        if used + width > room and col > keep_cols:
            breaks.append(col)
            used = kept
        used += width
    return PrintPlan(8, SPLIT_SCALE, tuple(breaks))


def _usable_px(width_in: float) -> float:
    return (width_in - 2 * _SIDE_MARGIN_IN) * 96


def print_table(ws, plan: PrintPlan, header: int | None, keep_cols: int = 0) -> None:
    """Print `ws` as `plan` says: landscape, row `header` (if any) repeated at the top of every page."""
    ws.set_landscape()
    ws.set_paper(plan.paper)
    ws.set_margins(left=_SIDE_MARGIN_IN, right=_SIDE_MARGIN_IN, top=0.6, bottom=0.6)
    if plan.scale is None:
        ws.fit_to_pages(1, 0)
    else:
        ws.set_print_scale(plan.scale)
        ws.set_v_pagebreaks(list(plan.breaks))
        if keep_cols:
            ws.repeat_columns(0, keep_cols - 1)
    if header is not None:
        ws.repeat_rows(header, header)
    ws.set_footer(FOOTER)


def end_list(ws, top: int, row: int, plan: PrintPlan, ncols: int, empty: str, keep_cols: int = 1) -> None:
    """After a list's rows (header at `top`, next free row `row`): a filter and frozen header; printed
    as planned, or, with no row at all, the sentence `empty` on screen and nothing on paper."""
    if row == top + 1:
        ws.write_string(row, 0, empty)
        no_print(ws, row + 2, ncols + 1)
    else:
        print_table(ws, plan, top, keep_cols=keep_cols)
    ws.autofilter(top, 0, max(row - 1, top + 1), ncols - 1)
    ws.freeze_panes(top + 1, 0)


def boxed_row(ws, row: int, ncols: int, st: Styles) -> None:
    """Rule every cell of a table row, those left empty too (a cell written after takes its own format)."""
    for col in range(ncols):
        ws.write_blank(row, col, None, st.boxed["text"])


def link_width(texts, least: float, most: float) -> float:
    """A column of links as wide as its longest text: LibreOffice does not wrap a hyperlink's text."""
    return min(max([least, *(display_width(t) + 2 for t in texts)]), most)


def no_print(ws, below: int, right: int) -> None:
    """Leave `ws` out of a printed workbook, while it stays readable on screen: its print area is one
    cell that holds nothing (below and right of everything written). LibreOffice skips the empty page
    (its default "suppress output of empty pages"); Excel finds nothing to print on the sheet."""
    ws.print_area(below, right, below, right)


def run_time(result) -> datetime:
    """When the run started, in Beijing time: the date every printed table and document bears."""
    return datetime.fromisoformat(result.started_at).astimezone(BEIJING)


def run_year(result) -> int | None:
    """The year every title names: the season's evaluation year when configured, else the year most
    forms state (the counted ones first), else None. One rule for the workbook, report and notices."""
    from ..checks.score import counted

    if result.config.season.year is not None:
        return result.config.season.year
    forms = result.forms
    for frame in (counted(forms), forms):
        years = frame["year"].dropna() if not frame.empty else frame
        if len(years):
            return int(years.mode().min())
    return None


@dataclass(frozen=True)
class Heading:
    """What heads every printed table of one run: county, the forms' year, 编制单位, the date."""

    county: str
    year: int | None
    office: str
    date: str

    def title(self, what: str) -> str:
        """示例县2024年度项目支出绩效自评汇总表 (no county, no year: without them)."""
        year = f"{self.year}年度" if self.year else ""
        return f"{self.county}{year}项目支出绩效自评{what}"

    def facts(self, unit: bool = True) -> tuple[str, ...]:
        return (f"编制单位：{self.office}", f"编制日期：{self.date}", "单位：万元" if unit else "")


def printed_table(ws, title: str, facts: Sequence[str], widths: Sequence[float], keep_cols: int,
                  st: Styles) -> tuple[int, PrintPlan]:
    """The letterhead of a table printed as `plan_print` plans it (over its first page's columns); returns
    the row of the table's header and the plan, for `print_table` once the table is written."""
    plan = plan_print(widths, keep_cols)
    return letterhead(ws, title, facts, plan.first_page_last_col(len(widths)), st), plan


def letterhead(ws, title: str, facts: Sequence[str], last_col: int, st: Styles) -> int:
    """The title row over columns 0…`last_col` (the columns of the first printed page), then `facts`
    (编制单位, date, 单位) left, centre and right on the row below; returns the row of the table's header."""
    ws.merge_range(0, 0, 0, last_col, title, st.doc_title)
    ws.set_row(0, 30)
    thirds = [(0, last_col // 3), (last_col // 3 + 1, 2 * last_col // 3), (2 * last_col // 3 + 1, last_col)]
    fmts = (st.doc_left, st.doc_center, st.doc_right)
    for (first, last), text, fmt in zip(thirds, facts, fmts, strict=False):
        if last > first:
            ws.merge_range(1, first, 1, last, text, fmt)
        else:
            ws.write_string(1, first, text, fmt)
    ws.set_row(1, 20)
    return 2


class TableStyles:
    """An official printed table (报送情况): 黑体 title, 宋体 10.5 (五号) body in bordered cells, a grey total line;
    a state cell in the colour of how it stands (green done, amber to review, red missing)."""

    def __init__(self, book: xlsxwriter.Workbook):
        add = book.add_format
        body = {"font_name": FORM_FONT, "font_size": 10.5, "border": 1, "valign": "vcenter", "text_wrap": True}
        self.title = add({"font_name": FORM_TITLE_FONT, "font_size": 16, "bold": True, "align": "center",
                          "valign": "vcenter"})
        self.caption = add({"font_name": FORM_FONT, "font_size": 10.5, "valign": "vcenter"})
        self.caption_right = add({"font_name": FORM_FONT, "font_size": 10.5, "valign": "vcenter", "align": "right"})
        self.note = add({"font_name": FORM_FONT, "font_size": 10.5, "valign": "top", "text_wrap": True})
        self.header = add({**body, "bold": True, "align": "center", "bg_color": HEADER_FILL})
        self.text = add(body)
        self.center = add({**body, "align": "center"})
        self.count = add({**body, "align": "center", "num_format": "0"})
        total = {**body, "bold": True, "bg_color": SUBTOTAL_FILL}
        self.total_text, self.total_count = add(total), add({**total, "align": "center", "num_format": "0"})
        self.state = {name: add({**body, "align": "center", "bg_color": fill})
                      for name, fill in (("done", GREEN), ("review", AMBER), ("missing", RED))}


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
