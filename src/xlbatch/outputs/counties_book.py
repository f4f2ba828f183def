"""The summary workbook of a run `--by county` (SPEC section 8): consolidated.xlsx over all counties.

- 各县汇总: a row per county, printed as an official table: files and forms, funds and execution rate
  (of the forms that enter the totals, as the county's own workbook counts them), the grades reported
  and recomputed, findings by severity and by rule, and links to the county's own files; a total row.
- 图表: execution rate by county, and the recomputed grades by county (native charts over 各县汇总).
- 其他文件: files lying in the inbox beside the county folders (not processed), when there are any.
- 运行说明: the run, and per county whether it was computed now or its outputs repeated.

Written from the counties' rows alone (counties.county_row): no county's data is held to write it.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import xlsxwriter

from ..checks.rules import CATALOGUE
from ..models import SEVERITY_NAMES
from ..ops.outbox import COUNTIES, NOTICES, REPORT
from .formats import (
    FOOTER,
    Heading,
    Styles,
    end_list,
    fit_row,
    no_print,
    print_table,
    printed_table,
    run_time,
    write_num,
)

SUMMARY_SHEET, CHART_SHEET, OTHERS_SHEET, INFO_SHEET = "各县汇总", "图表", "其他文件", "运行说明"
LINKS = (("县级汇总表", "consolidated.xlsx"), ("汇总报告", REPORT), ("整改通知", NOTICES))


def write_summary_book(path: Path, result, loose) -> None:
    rows = result.extra["counties"]
    book = xlsxwriter.Workbook(str(path), {"strings_to_formulas": False, "strings_to_urls": False,
                                           "strings_to_numbers": False})
    st = Styles(book, result.config.scoring.grades)
    summary = book.add_worksheet(SUMMARY_SHEET)
    charts = book.add_worksheet(CHART_SHEET)
    top, columns = _summary(summary, rows, result, st)
    _charts(book, charts, rows, top, columns, result.config.scoring.grades, st)
    if loose:
        _others(book.add_worksheet(OTHERS_SHEET), loose, _heading(result, rows), st)
    _info(book.add_worksheet(INFO_SHEET), result, st)
    book.close()


def _columns(rows: list[dict], grades: list[str]) -> list[tuple[str, str, float]]:
    """(group, title, width) per column of 各县汇总; the group heads a merged cell over its columns."""
    # The catalogue's order (every rule registered: checks.rules imports them all).
    rules = [rule for rule in CATALOGUE if any(rule.code in r["rules"] for r in rows)]
    return [("", "序号", 5), ("", "县（区）", 16), ("", "文件", 7), ("", "未受理文件", 8), ("", "自评表", 7),
            ("", "计入汇总", 8), ("", "单位", 6), ("", "全年预算数", 13), ("", "全年执行数", 13), ("", "执行率", 9),
            *(("自评等级", g, 6) for g in grades), *(("复算等级", g, 6) for g in grades),
            *(("问题", name, 7) for name in SEVERITY_NAMES.values()),
            # As wide as the code in bold: a code broken over two lines reads as two words.
            *(("各规则问题数", f"{rule.title}\n{rule.code}", max(12, round(len(rule.code) * 1.2) + 1))
              for rule in rules),
            *(("本县文件", title, 10) for title, _ in LINKS), ("", "计算于运行", 24)]


def _summary(ws, rows: list[dict], result, st: Styles) -> tuple[int, list]:
    grades = result.config.scoring.grades
    columns = _columns(rows, grades)
    head = _heading(result, rows)
    top, plan = printed_table(ws, _title(head, "汇总表"), head.facts(),
                              [w for _, _, w in columns], 2, st)
    _header(ws, top, columns, st)
    first = top + 2
    for i, row in enumerate(rows):
        _county(ws, first + i, i + 1, row, columns, result.run_id, st)
    total = first + len(rows)
    _total(ws, total, first, rows, columns, st)
    ws.freeze_panes(first, 2)
    ws.autofilter(top + 1, 0, total - 1, len(columns) - 1)
    print_table(ws, plan, top + 1, 2)
    # 计算于运行 (a run id) is for the screen: on paper it took a page of its own.
    ws.print_area(0, 0, total, len(columns) - 2)
    ws.set_footer(FOOTER)
    return first, columns


def _heading(result, rows: list[dict]) -> Heading:
    season = result.config.season
    years = Counter(r["year"] for r in rows if r.get("year"))
    year = season.year or (min(y for y, n in years.items() if n == max(years.values())) if years else None)
    started = run_time(result)
    return Heading("", year, season.issuer, f"{started.year}年{started.month}月{started.day}日")


def _title(head: Heading, what: str) -> str:
    """2024年度各县（区）项目支出绩效自评汇总表: the county workbook's title (Heading.title), of every county."""
    year = f"{head.year}年度" if head.year else ""
    return f"{year}各县（区）项目支出绩效自评{what}"


def _header(ws, top: int, columns, st: Styles) -> None:
    """Two header rows: a group's name merged over its columns, each column's title below."""
    col = 0
    while col < len(columns):
        group = columns[col][0]
        span = next((j for j in range(col, len(columns)) if columns[j][0] != group), len(columns)) - col
        if group and span > 1:
            ws.merge_range(top, col, top, col + span - 1, group, st.header)
        elif group:
            ws.write_string(top, col, group, st.header)
        for j in range(col, col + span):
            if group:
                ws.write_string(top + 1, j, columns[j][1], st.header)
            else:
                ws.merge_range(top, j, top + 1, j, columns[j][1], st.header)
            ws.set_column(j, j, columns[j][2])
        col += span
    ws.set_row(top + 1, 45)


def _values(row: dict, columns) -> list:
    """The row's figures in the order of `columns` (links and the run excepted)."""
    severity = {name: row["severity"].get(code, 0) for code, name in SEVERITY_NAMES.items()}
    out = []
    for group, title, _ in columns:
        if group == "自评等级":
            out.append(row["grades_reported"].get(title, 0))
        elif group == "复算等级":
            out.append(row["grades"].get(title, 0))
        elif group == "问题":
            out.append(severity[title])
        elif group == "各规则问题数":
            out.append(row["rules"].get(title.split("\n")[1], 0))
    return out


_FIXED = (("文件", "files"), ("未受理文件", "rejected"), ("自评表", "forms"), ("计入汇总", "counted"),
          ("单位", "units"))


def _county(ws, r: int, number: int, row: dict, columns, run_id: str, st: Styles) -> None:
    ws.write_number(r, 0, number, st.boxed["number"])
    ws.write_string(r, 1, row["county"], st.boxed["text"])
    for col, (_, key) in enumerate(_FIXED, start=2):
        ws.write_number(r, col, row[key], st.boxed["number"])
    write_num(ws, r, 7, row["budget"], st.boxed["money"])
    write_num(ws, r, 8, row["executed"], st.boxed["money"])
    write_num(ws, r, 9, row["rate"], st.boxed["percent"])
    for col, value in enumerate(_values(row, columns), start=10):
        ws.write_number(r, col, value, st.boxed["number"])
    links = len(columns) - 1 - len(LINKS)
    for col, (title, name) in enumerate(LINKS, start=links):
        ws.write_url(r, col, f"external:{COUNTIES}/{row['county']}/{name}", st.boxed["link"], string=title)
    own = row["outputs_from"]
    ws.write_string(r, len(columns) - 1, "本次" if own == run_id else own, st.boxed["text"])


def _total(ws, r: int, first: int, rows: list[dict], columns, st: Styles) -> None:
    fmt = st.total
    ws.write_string(r, 0, "", fmt["text"])
    ws.write_string(r, 1, "合计", fmt["text"])
    for col, (_, key) in enumerate(_FIXED, start=2):
        ws.write_number(r, col, sum(row[key] for row in rows), fmt["int"])
    budget, executed = sum(row["budget"] for row in rows), sum(row["executed"] for row in rows)
    write_num(ws, r, 7, budget, fmt["money"])
    write_num(ws, r, 8, executed, fmt["money"])
    write_num(ws, r, 9, executed / budget if budget else None, fmt["percent"])
    sums = [sum(v) for v in zip(*(_values(row, columns) for row in rows), strict=True)] if rows else []
    for col, value in enumerate(sums or [0] * (len(columns) - 14), start=10):
        ws.write_number(r, col, value, fmt["int"])
    for col in range(len(columns) - 1 - len(LINKS), len(columns)):
        ws.write_blank(r, col, None, fmt["text"])


def _charts(book, ws, rows: list[dict], first: int, columns, grades: list[str], st: Styles) -> None:
    ws.write_string(0, 0, "图表（数据见「各县汇总」；仅含计入汇总的自评表）", st.title)
    ws.set_footer(FOOTER)
    if not rows:
        ws.write_string(2, 0, "本次运行没有县（区）文件夹。")
        no_print(ws, 4, 2)
        return
    # Printed: both charts on one A4 landscape page.
    ws.set_landscape()
    ws.set_paper(9)
    ws.print_area(0, 0, 2 + max(20, len(rows) * 2 + 6), 24)
    ws.fit_to_pages(1, 1)
    last = first + len(rows) - 1
    rate = book.add_chart({"type": "bar"})
    rate.add_series({"name": "执行率", "categories": [SUMMARY_SHEET, first, 1, last, 1],
                     "values": [SUMMARY_SHEET, first, 9, last, 9], "data_labels": {"value": True}})
    rate.set_title({"name": "各县（区）预算执行率"})
    rate.set_x_axis({"num_format": "0%", "min": 0})
    rate.set_y_axis({"reverse": True})
    rate.set_legend({"none": True})
    rate.set_size({"width": 720, "height": max(300, 28 * len(rows) + 80)})
    ws.insert_chart(2, 0, rate)
    mix = book.add_chart({"type": "column", "subtype": "percent_stacked"})
    start = next(i for i, c in enumerate(columns) if c[0] == "复算等级")
    for j, grade in enumerate(grades):
        mix.add_series({"name": f"复算{grade}", "categories": [SUMMARY_SHEET, first, 1, last, 1],
                        "values": [SUMMARY_SHEET, first, start + j, last, start + j]})
    mix.set_title({"name": "各县（区）复算等级构成"})
    mix.set_size({"width": 720, "height": 360})
    ws.insert_chart(2, 12, mix)


_OTHERS = (("文件", 36), ("说明", 60), ("状态", 8))  # 说明 in the middle: the letterhead's date sits over it


def _others(ws, loose, head: Heading, st: Styles) -> None:
    widths = [w for _, w in _OTHERS]
    top, plan = printed_table(ws, _title(head, "其他文件清单"),
                              head.facts(unit=False), widths, 1, st)
    for col, (title, width) in enumerate(_OTHERS):
        ws.write_string(top, col, title, st.header)
        ws.set_column(col, col, width)
    for r, record in enumerate(loose, start=top + 1):
        values = (record.path, record.message, "忽略")
        for col, value in enumerate(values):
            ws.write_string(r, col, value, st.boxed["text"])
        fit_row(ws, r, values, widths)
    end_list(ws, top, top + 1 + len(loose), plan, len(_OTHERS), "")


def _info(ws, result, st: Styles) -> None:
    counts = result.counts()
    rows = result.extra["counties"]
    facts = [("运行编号", result.run_id), ("开始时间（北京时间）", run_time(result).strftime("%Y-%m-%d %H:%M:%S")),
             ("收件箱", result.inbox), ("输出目录", result.outbox), ("县（区）", counts["counties"]),
             ("本次计算", sum(r["outputs_from"] == result.run_id for r in rows)),
             ("沿用上次的输出", sum(r["outputs_from"] != result.run_id for r in rows)),
             ("文件", counts["files"]), ("受理", counts["accepted"]), ("未受理", counts["rejected"]),
             ("忽略", counts["ignored"]), ("自评表", counts["forms"]), ("问题", counts["findings"])]
    ws.set_column(0, 0, 22)
    ws.set_column(1, 1, 60)
    no_print(ws, len(facts) + len(rows) + 6, 3)  # for the screen, as the county workbook's 运行说明
    ws.write_string(0, 0, "运行说明", st.title)
    for r, (name, value) in enumerate(facts, start=2):
        ws.write_string(r, 0, name, st.text)
        if isinstance(value, int):
            ws.write_number(r, 1, value, st.plain)
        else:
            ws.write_string(r, 1, str(value), st.text)
    r = len(facts) + 3
    ws.write_string(r, 0, "各县（区）本次读取的文件数，沿用上次输出的县（区）为 0", st.subtle)
    for i, row in enumerate(rows, start=r + 1):
        ws.write_string(i, 0, row["county"], st.text)
        ws.write_number(i, 1, row["read"], st.plain)
