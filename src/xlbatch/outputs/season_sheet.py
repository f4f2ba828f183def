"""The 报送情况 sheet (SPEC section 6): every roster unit, whether it has submitted, and how complete
the season is per 主管部门 and for the county.

Written only with a roster (checks/season.py `review_season` builds the table, run.json keeps it).
An official table as the bureau prints it: a title, 编制单位 and the deadline above, 单位 on the
right, the header repeated on every page, A4 landscape one page wide, 宋体 10; per 主管部门 its units
and a 小计 line, then 全县合计; below, the forms of units not on the roster and what the columns mean.
"""

from __future__ import annotations

from datetime import datetime

from ..checks.season import ACCEPTED_STATE, LATE, MISSING_STATE, PROBLEM_STATE, RESUBMIT_STATE, beijing
from .formats import FOOTER, LINE_PT, Columns, TableStyles, wrapped_lines

SEASON_SHEET = "报送情况"

# Widths for A4 landscape at full size (10 pt stays ≥ 9 pt where a client's default font is wider).
_COLUMNS = Columns(
    ("number", "序号", 4), ("department", "主管部门", 15), ("unit", "实施单位", 19), ("state", "报送状态", 9),
    ("received", "已收自评表（张）", 7), ("expected", "预期项目数（个）", 7), ("rejected", "未受理（份）", 6),
    ("first", "首次报送时间", 11), ("last", "最近报送时间", 11), ("timing", "是否逾期", 6), ("note", "备注", 23),
)
_TOP = 3  # the header row: title, 编制单位 and 单位 above it
_STATE_FILL = {ACCEPTED_STATE: "done", PROBLEM_STATE: "review", RESUBMIT_STATE: "missing", MISSING_STATE: "missing"}
_SUBMITTED = (ACCEPTED_STATE, PROBLEM_STATE)


def write_season(ws, result, book) -> None:
    season, cfg = result.extra["season"], result.config.season
    st = TableStyles(book)
    for col, width in enumerate(_COLUMNS.widths):
        ws.set_column(col, col, width)
    last = len(_COLUMNS) - 1
    year = f"{season['year']}年度" if season["year"] else ""
    ws.merge_range(0, 0, 0, last, f"{cfg.county}{year}项目支出绩效自评报送情况", st.title)
    ws.set_row(0, 30)
    due = f"报送截止：{beijing(datetime.fromisoformat(season['deadline']))}（北京时间）" if season["deadline"] else \
        "报送截止：未设置"
    ws.merge_range(1, 0, 1, 6, f"编制单位：{cfg.printed_office}", st.caption)
    ws.merge_range(1, 7, 1, last, f"统计时间：{_time(result.started_at)}（北京时间）", st.caption_right)
    ws.merge_range(2, 0, 2, 6, due, st.caption)
    ws.merge_range(2, 7, 2, last, "单位：个（单位）、张（自评表）", st.caption_right)
    for col, (title, _width) in enumerate(_COLUMNS.header):
        ws.write_string(_TOP, col, title, st.header)
    ws.set_row(_TOP, 32)
    row = _units(ws, _TOP + 1, season["units"], st)
    row = _outside(ws, row + 1, season["outside"], st)
    _legend(ws, row + 1, st)
    ws.freeze_panes(_TOP + 1, 0)
    _print(ws)


def _units(ws, row: int, units: list[dict], st: TableStyles) -> int:
    number = 0
    for department in dict.fromkeys(u["department"] for u in units):
        group = [u for u in units if u["department"] == department]
        for u in group:
            number += 1
            _unit_row(ws, row, number, u, st)
            row += 1
        _total_row(ws, row, f"{department or '（未填主管部门）'} 小计", group, st)
        row += 1
    _total_row(ws, row, "全县合计", units, st)
    return row + 1


def _unit_row(ws, row: int, number: int, u: dict, st: TableStyles) -> None:
    c = _COLUMNS
    ws.write_number(row, c["number"], number, st.count)
    ws.write_string(row, c["department"], u["department"], st.text)
    ws.write_string(row, c["unit"], u["unit"], st.text)
    ws.write_string(row, c["state"], u["state"], st.state[_STATE_FILL[u["state"]]])
    ws.write_number(row, c["received"], u["received"], st.count)
    if u["expected"] is None:
        ws.write_blank(row, c["expected"], None, st.count)
    else:
        ws.write_number(row, c["expected"], u["expected"], st.count)
    ws.write_number(row, c["rejected"], u["rejected"], st.count)
    ws.write_string(row, c["first"], _time(u["first"]), st.center)
    ws.write_string(row, c["last"], _time(u["last"]), st.center)
    ws.write_string(row, c["timing"], u["timing"], st.state["review"] if u["timing"] == LATE else st.center)
    ws.write_string(row, c["note"], u["note"], st.text)
    _fit(ws, row, {**u, "first": _time(u["first"])})


def _total_row(ws, row: int, label: str, units: list[dict], st: TableStyles) -> None:
    """Completeness: units submitted of the roster's, forms received of those expected."""
    c = _COLUMNS
    submitted = sum(u["state"] in _SUBMITTED for u in units)
    received = sum(u["received"] for u in units)
    expected = [u["expected"] for u in units if u["expected"] is not None]
    for col in range(len(c)):
        ws.write_blank(row, col, None, st.total_text)
    ws.write_string(row, c["department"], label, st.total_text)
    ws.write_string(row, c["unit"], f"已报送 {submitted}/{len(units)} 个单位", st.total_text)
    ws.write_number(row, c["received"], received, st.total_count)
    if expected:
        ws.write_number(row, c["expected"], sum(expected), st.total_count)
    ws.write_number(row, c["rejected"], sum(u["rejected"] for u in units), st.total_count)
    share = f"自评表 {received}/{sum(expected)} 张" if expected else f"自评表 {received} 张（未填预期项目数）"
    if expected and len(expected) < len(units):
        share += f"（{len(units) - len(expected)} 个单位未填预期项目数）"
    late = sum(u["timing"] == LATE for u in units)
    note = share + (f"；逾期 {late} 个单位" if late else "")
    ws.write_string(row, c["note"], note, st.total_text)
    _fit(ws, row, {"department": label, "unit": "", "note": note, "first": ""})


def _outside(ws, row: int, outside: list[dict], st: TableStyles) -> int:
    """Forms of units not on the roster: listed, never merged into a roster unit."""
    if not outside:
        return row
    last = len(_COLUMNS) - 1
    ws.merge_range(row, 0, row, last, f"花名册外单位报送的自评表（{len(outside)} 个单位，未计入上表）：", st.caption)
    row += 1
    for entry in outside:
        if entry["other_county"]:
            why = f"写明「{entry['other_county']}」，不是本县的自评表，不计入合计"
        elif entry["hint"]:
            why = f"最相近的花名册单位：「{entry['hint']}」（未合并，请核实名称）"
        else:
            why = "花名册中没有名称相近的单位；如为新增单位，请补入花名册"
        text = f"{entry['unit']}（主管部门：{entry['department'] or '未填'}）：自评表 {entry['forms']} 张；{why}"
        ws.merge_range(row, 0, row, last, text, st.note)
        ws.set_row(row, LINE_PT * wrapped_lines(text, sum(_COLUMNS.widths), margin=2))
        row += 1
    return row


_LEGEND = (
    "说明：报送状态——已受理：收到可受理的本年度自评表且无警告；有问题：已受理，但有警告或另有未受理的文件，"
    "见异常清单；未受理待重报：收到的文件均未受理（或年度、县区不符），需退回重报；未报送：未收到任何文件。",
    "已收自评表不含被重报替代的副本和年度、县区不符的自评表。报送时间为程序首次发现该文件的时间（每次运行扫描收件箱）；"
    "截止后首次发现、但文件在截止前已存在（修改时间早于截止时间，且截止后没有运行漏过它）的，按按时计。"
    "单位名称忽略全半角、空格和县名前缀后比较，名称相近的只提示、不合并。",
)


def _legend(ws, row: int, st: TableStyles) -> None:
    last = len(_COLUMNS) - 1
    for text in _LEGEND:
        ws.merge_range(row, 0, row, last, text, st.note)
        ws.set_row(row, LINE_PT * wrapped_lines(text, sum(_COLUMNS.widths), margin=2))
        row += 1


def _fit(ws, row: int, u: dict) -> None:
    """Height for the wrapped 实施单位 and 备注 (XlsxWriter cannot autofit, LibreOffice and WPS will not)."""
    keys = ("department", "unit", "note", "first")
    lines = max(wrapped_lines(u[key], _COLUMNS.widths[_COLUMNS[key]]) for key in keys)
    ws.set_row(row, max(20, LINE_PT * lines))


def _time(iso: str | None) -> str:
    return beijing(datetime.fromisoformat(iso)) if iso else ""


def _print(ws) -> None:
    ws.set_landscape()
    ws.set_paper(9)  # A4
    ws.set_margins(left=0.3, right=0.3, top=0.6, bottom=0.6)
    ws.center_horizontally()
    ws.fit_to_pages(1, 0)
    ws.repeat_rows(_TOP)
    ws.set_footer(FOOTER)
