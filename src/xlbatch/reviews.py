"""Auditors' review columns (复核状态, 复核意见) carried from one run's workbook to the next.

Reviews are keyed by anomaly_id (编号), which is stable for the same finding.
A review whose finding disappeared is kept in the 已关闭 sheet, so nothing an
auditor typed is ever lost. python-calamine reads the two columns back, from our
own file or from one Excel or WPS saved.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import python_calamine as calamine

ID_HEADERS = ("编号", "anomaly_id")
STATUS_HEADER, NOTE_HEADER = "复核状态", "复核意见"
ANOMALY_SHEET, CLOSED_SHEET = "异常清单", "已关闭"
STATUSES = ("待复核", "已核实", "已整改", "误报")


@dataclass
class Review:
    status: str = ""
    note: str = ""
    rule: str = ""
    unit: str = ""
    project: str = ""
    message: str = ""
    closed_in: str = ""  # run id of the run in which the finding disappeared

    @property
    def touched(self) -> bool:
        """Worth keeping: an auditor changed the status or wrote a note."""
        return bool(self.note) or self.status not in ("", STATUSES[0])


def load_reviews(path: Path) -> dict[str, Review]:
    """Reviews from a previous consolidated.xlsx (open and closed), by anomaly id."""
    if not path.exists():
        return {}
    reviews: dict[str, Review] = {}
    try:
        # calamine: ~15× faster than openpyxl here, and whatever Excel or WPS saved it reads.
        book = calamine.CalamineWorkbook.from_path(str(path))
        for name in (CLOSED_SHEET, ANOMALY_SHEET):  # open reviews win over closed ones
            if name in book.sheet_names:
                reviews.update(_read_sheet(book.get_sheet_by_name(name).to_python(skip_empty_area=False)))
    except Exception:  # a damaged previous output must not stop tonight's run
        return {}
    return reviews


def _read_sheet(table: list[list]) -> dict[str, Review]:
    rows = iter(table)
    header = next(rows, None)
    if not header:
        return {}
    col = {str(h).strip(): i for i, h in enumerate(header) if h is not None}
    id_col = next((col[h] for h in ID_HEADERS if h in col), None)
    if id_col is None:
        return {}

    def get(row, name):
        i = col.get(name)
        value = row[i] if i is not None and i < len(row) else None
        return "" if value is None or value == "" else str(value)

    out = {}
    for row in rows:
        if id_col >= len(row) or not row[id_col]:
            continue
        review = Review(status=get(row, STATUS_HEADER), note=get(row, NOTE_HEADER),
                        rule=get(row, "规则"), unit=get(row, "实施单位"),
                        project=get(row, "项目名称"), message=get(row, "问题说明"),
                        closed_in=get(row, "关闭于"))
        if review.touched:
            out[str(row[id_col])] = review
    return out
