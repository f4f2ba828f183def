"""`xlbatch check`'s findings, grouped as a unit reads them, and as a small workbook (--format xlsx).

`grouped` orders a check's findings per file and per form: the finding that rejects a form (or the
whole file) first, then every other finding the rules computed on what the form has. The terminal
(cli.print_check) and the workbook show the same groups, in the same order.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import xlsxwriter

from ..catalogue import READ, RULES, VALIDATE
from ..models import ACCEPTED, IGNORED, OPENED, REJECTED, SEVERITY_NAMES, FileRecord, Finding, RunResult
from .formats import CheckStyles, wrapped_lines

STATUS_NAMES = {ACCEPTED: "可受理", REJECTED: "将被退回", IGNORED: "不是自评表文件，未检查",
                OPENED: "压缩包，其中的文件逐个检查如下"}
REJECTS = "会被退回"  # beside the finding that rejects a form or a file
NO_OTHER = "其余各项规则均已检查，未发现其他问题"  # a rejected form whose rejection is all there is


@dataclass
class Group:
    """One form of a file (or the file itself, `sheet` ""), its rejections and its other findings."""

    sheet: str
    status: str
    rejections: list[Finding] = field(default_factory=list)
    others: list[Finding] = field(default_factory=list)
    # (what the form lacks, the codes of the rules not computed for want of it)
    not_computed: list[tuple[str, list[str]]] = field(default_factory=list)


def rejects(finding: Finding) -> bool:
    """Whether the finding is one that rejects its form or file (read or validate stage)."""
    return RULES[finding.rule].stage in (READ, VALIDATE)


def grouped(result: RunResult) -> list[tuple[FileRecord, list[Group]]]:
    """Per file checked, in order: its groups, the file's own rejection or one per form."""
    by_form: dict[int | None, list[Finding]] = {}
    by_file: dict[str, list[Finding]] = {}
    for f in result.findings:
        if f.form_id is None:
            by_file.setdefault(f.source_file, []).append(f)
        else:
            by_form.setdefault(f.form_id, []).append(f)
    lacking = result.extra.get("not_computed", {})
    out = []
    for record in result.files:
        groups = [Group("", record.status, rejections=by_file[record.path])] if record.path in by_file else []
        for form in record.forms:
            found = by_form.get(form.form_id, [])
            groups.append(Group(form.sheet, form.status, [f for f in found if rejects(f)],
                                [f for f in found if not rejects(f)], lacking.get(form.form_id, [])))
        out.append((record, groups))
    return out


# --- the workbook ----------------------------------------------------------------------------

TITLE = "项目支出绩效自评表自查结果"
# (header, width in Excel's character units): the columns a unit reads, left to right.
# 规则 is wide enough for the longest code on a line of its own (（INDICATOR_SCORE_MISMATCH）).
COLUMNS = (("序号", 5), ("文件", 16), ("工作表", 9), ("单元格", 7), ("规则", 28), ("说明", 40),
           ("填报值", 11), ("应为", 13), ("是否导致退回", 8))
HEADER_LINES = {"是否导致退回": "是否导致\n退回"}  # broken where a reader would, not where the width falls
_LINE_HEIGHT = 14.5  # points per line of 10-point text, as LibreOffice and Excel space it


def write_check_book(result: RunResult, path: Path, checked_at: datetime | None = None) -> Path:
    """The check's findings as one printable sheet: a title, what was checked, one row per finding
    (a file with none gets a row saying so). Headers are repeated on every printed page."""
    book = xlsxwriter.Workbook(str(path), {"strings_to_formulas": False, "strings_to_urls": False})
    st = CheckStyles(book)
    ws = book.add_worksheet("自查结果")
    last = len(COLUMNS) - 1
    ws.merge_range(0, 0, 0, last, TITLE, st.title)
    ws.set_row(0, 28)
    when = (checked_at or datetime.now()).strftime("%Y年%m月%d日 %H:%M")
    summary = f"检查时间：{when}　　{check_summary(result)}"
    ws.merge_range(1, 0, 1, last, summary, st.note)
    _fit(ws, 1, [summary], [sum(w for _, w in COLUMNS)], minimum=18)
    for col, (name, width) in enumerate(COLUMNS):
        ws.write_string(HEADER_ROW, col, HEADER_LINES.get(name, name), st.header)
        ws.set_column(col, col, width)
    ws.set_row(HEADER_ROW, 30)
    rows = _rows(result)
    for row, cells in enumerate(rows, start=HEADER_ROW + 1):
        _write_row(ws, st, row, [row - HEADER_ROW, *cells])
    ws.freeze_panes(HEADER_ROW + 1, 0)
    ws.autofilter(HEADER_ROW, 0, HEADER_ROW + max(len(rows), 1), last)
    _print_setup(ws)
    book.close()
    return path


HEADER_ROW = 2  # zero-based: below the title and the summary
_CENTERED = {i for i, (name, _) in enumerate(COLUMNS) if name in ("序号", "单元格", "是否导致退回")}


def _write_row(ws, st: CheckStyles, row: int, cells: list) -> None:
    """One finding's row, in the error colour when it rejects the form; as tall as its wrapped text."""
    fmt, center = (st.reject, st.reject_center) if cells[-1] == "是" else (st.cell, st.center)
    for col, value in enumerate(cells):
        cell_format = center if col in _CENTERED else fmt
        if isinstance(value, int):
            ws.write_number(row, col, value, cell_format)
        elif value:
            ws.write_string(row, col, value, cell_format)
        else:  # bordered and filled like its row, and empty
            ws.write_blank(row, col, None, cell_format)
    _fit(ws, row, [str(v) for v in cells], [w for _, w in COLUMNS])


def _print_setup(ws) -> None:
    """A4 landscape, one page wide (the columns add up to its width at 100%), the header row repeated."""
    ws.set_landscape()
    ws.set_paper(9)  # A4
    ws.set_margins(left=0.4, right=0.4, top=0.6, bottom=0.6)
    ws.fit_to_pages(1, 0)
    ws.repeat_rows(HEADER_ROW)
    ws.set_footer("&C第 &P 页，共 &N 页")


def _rows(result: RunResult) -> list[list[str]]:
    rows = []
    for record, groups in grouped(result):
        if record.status == IGNORED:
            rows.append([record.path, "", "", "", f"{STATUS_NAMES[IGNORED]}（{record.message}）", "", "", "否"])
            continue
        for group in groups:
            rows.extend(_finding_row(record.path, f, "是") for f in group.rejections)
            rows.extend(_finding_row(record.path, f, "否") for f in group.others)
            rows.extend([record.path, group.sheet, "", "", text, "", "", "否"] for text in not_computed(group))
            if not group.rejections and not group.others and group.sheet:
                rows.append([record.path, group.sheet, "", "", "未发现问题", "", "", "否"])
            elif group.rejections and not group.others and group.sheet and not group.not_computed:
                rows.append([record.path, group.sheet, "", "", NO_OTHER, "", "", "否"])
    return rows


def not_computed(group: Group) -> list[str]:
    """What the terminal and the workbook say of the rules a form's missing fields kept from running."""
    return [f"未能检查（需要有效的{needs}，填写后请重新自查）：{'、'.join(RULES[code].titled for code in codes)}"
            for needs, codes in group.not_computed]


def _finding_row(path: str, f: Finding, rejected: str) -> list[str]:
    rule = RULES[f.rule]
    # The code on a line of its own: a code cut in the middle by wrapping reads as two words.
    titled = f"{SEVERITY_NAMES[f.severity]}：{rule.title}\n（{rule.code}）"
    return [path, f.sheet, f.cell, titled, f.message, f.value, f.expected, rejected]


def check_summary(result: RunResult) -> str:
    counts = {status: sum(r.status == status for r in result.files) for status in STATUS_NAMES}
    rejecting = sum(rejects(f) for f in result.findings)
    ignored = f"，不是自评表 {counts[IGNORED]} 个" if counts[IGNORED] else ""
    packages = f"（另有 {counts[OPENED]} 个压缩包，其中的文件已逐个计入）" if counts[OPENED] else ""  # no file itself
    files = len(result.files) - counts[OPENED]
    return (f"共检查 {files} 个文件{packages}：可受理 {counts[ACCEPTED]} 个，将被退回 {counts[REJECTED]} 个"
            f"{ignored}；问题 {len(result.findings)} 条，其中导致退回 {rejecting} 条")


def _fit(ws, row: int, values: list[str], widths: list[float], minimum: float = 0) -> None:
    """A row tall enough for its wrapped text: XlsxWriter cannot autofit, nor will LibreOffice."""
    lines = max((wrapped_lines(v, w) for v, w in zip(values, widths, strict=True)), default=1)
    ws.set_row(row, max(lines * _LINE_HEIGHT + 4, minimum))
