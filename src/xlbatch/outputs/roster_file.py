"""The roster files `xlbatch roster` writes (SPEC sections 4 and 6): a blank one to fill in, or a draft
of the units seen in the inbox so far.

Both have the columns intake/roster.py reads — 主管部门, 实施单位, 预期项目数 — under a note row
that says how to fill them in (the reader finds the header row by its labels, so the note can stay).
A draft counts each unit's forms (accepted, superseded copies left out, and refused forms that name
the unit) as its 预期项目数: what has come so far, for the bureau to correct.
"""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

import xlsxwriter

from ..form.normalize import records
from ..intake.roster import HEADERS, unit_key
from ..models import REJECTED
from .formats import TableStyles
from .write import csv_safe

TEMPLATE_NOTE = ("报送单位花名册：每行一个单位。实施单位写全称，与自评表中的「实施单位」一致；预期项目数为该单位"
                 "应报送的项目支出绩效自评表张数，可留空。本行可保留或删除，列名行不可删除。")
_WIDTHS = {"department": 32, "unit": 40, "expected": 14}


def write_template(path: Path) -> Path:
    """A blank roster: the note, the header row, a whole-number check on 预期项目数."""
    return _write(path, [], TEMPLATE_NOTE)


def draft_rows(result) -> list[tuple[str, str, int]]:
    """(主管部门, 实施单位, forms) of every unit whose forms the run saw, by 主管部门 and 实施单位.

    Spellings of one unit (intake.roster.unit_key: 县第一中学 and 承德县第一中学 in 承德县) make one
    row (`_spelling`), as the roster reader would refuse two rows of one unit."""
    county = result.config.season.county
    projects: dict[str, set[str]] = {}
    names: dict[str, Counter] = {}
    departments: dict[str, Counter] = {}

    def seen(unit: str, department: str, project: str) -> None:
        key = unit_key(unit, county)
        projects.setdefault(key, set()).add(project)
        names.setdefault(key, Counter())[unit] += 1
        departments.setdefault(key, Counter())[department] += 1

    for form in records(result.forms, ["unit", "department", "project", "superseded_by"]):
        if not form["superseded_by"]:
            seen(form["unit"], form["department"], form["project"])
    for record in result.files:
        for form in record.forms:
            if form.status == REJECTED and form.unit:
                seen(form.unit, form.department, form.project)
    return sorted((departments[key].most_common(1)[0][0], _spelling(names[key]), len(found))
                  for key, found in projects.items())


def _spelling(names: Counter) -> str:
    """The spelling used most; of equally used ones the longest (the full name, county included)."""
    return max(names.items(), key=lambda item: (item[1], len(item[0]), item[0]))[0]


def write_draft(path: Path, result, inbox: str, when: str) -> int:
    """The draft roster at `path`; returns how many units it lists."""
    rows = draft_rows(result)
    note = (f"根据收件箱 {inbox} 中截至 {when}（北京时间）收到的自评表生成的花名册草稿：预期项目数为目前收到的"
            "张数。请核对单位名称和主管部门，补充尚未报送的单位，并改正预期项目数。")
    _write(path, rows, note)
    return len(rows)


def _write(path: Path, rows: list[tuple], note: str) -> Path:
    if path.suffix.lower() == ".csv":
        return _write_csv(path, rows, note)
    book = xlsxwriter.Workbook(str(path), {"strings_to_formulas": False, "strings_to_urls": False,
                                           "strings_to_numbers": False})
    st = TableStyles(book)
    ws = book.add_worksheet("花名册")
    for col, width in enumerate(_WIDTHS.values()):
        ws.set_column(col, col, width)
    ws.merge_range(0, 0, 0, len(HEADERS) - 1, note, st.note)
    ws.set_row(0, 48)
    for col, title in enumerate(HEADERS.values()):
        ws.write_string(1, col, title, st.header)
    for i, (department, unit, count) in enumerate(rows, start=2):
        ws.write_string(i, 0, department, st.text)
        ws.write_string(i, 1, unit, st.text)
        ws.write_number(i, 2, count, st.count)
    ws.data_validation(2, 2, max(len(rows) + 1, 1000), 2, {
        "validate": "integer", "criteria": ">=", "value": 0, "ignore_blank": True,
        "error_title": HEADERS["expected"], "error_message": "预期项目数应为不小于 0 的整数，或留空"})
    ws.freeze_panes(2, 0)
    ws.set_landscape()
    ws.set_paper(9)
    ws.fit_to_pages(1, 0)
    ws.repeat_rows(1)
    book.close()
    return path


def _write_csv(path: Path, rows: list[tuple], note: str) -> Path:
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow([note])
        writer.writerow(list(HEADERS.values()))
        writer.writerows([csv_safe(v) if isinstance(v, str) else v for v in row] for row in rows)
    return path
