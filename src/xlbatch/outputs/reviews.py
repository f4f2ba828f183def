"""Auditors' review columns (复核状态, 复核意见) carried from one run's workbook to the next.

Reviews are keyed by anomaly_id (编号), which is stable for the same finding.
A review whose finding disappeared is kept in the 已关闭 sheet, so nothing an
auditor typed is ever lost. python-calamine reads the two columns back, from our
own file or from one Excel or WPS saved.

Where reviews come from (`gather_reviews`): the workbook the outbox shows, and
every copy an auditor saved over it that a run kept (`runs/RUN_ID/replaced-
consolidated.xlsx`, outbox.publish) and no published run has carried yet. A copy
saved while a run was writing holds reviews that run never saw; without it they
would stay in the copy, out of the auditor's sight. For each finding, the newest
workbook that lists it decides its review, even when that review is empty (an
auditor may have cleared one). A workbook saved by hand is as new as its mtime;
the workbook a run wrote, unchanged since, is only as new as the reviews that
run read (`reviews_from.as_of` in its run.json), however late it was written.
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import python_calamine as calamine

ID_HEADERS = ("编号", "anomaly_id")
STATUS_HEADER, NOTE_HEADER = "复核状态", "复核意见"
ANOMALY_SHEET, CLOSED_SHEET = "异常清单", "已关闭"
STATUSES = ("待复核", "已核实", "已整改", "误报")
WORKBOOK = "consolidated.xlsx"
SAVED_COPY = f"replaced-{WORKBOOK}"  # outbox.publish keeps a hand-saved workbook under this name
CARRIED = ".carried"  # beside a saved copy once a published run has carried its reviews


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


def gather_reviews(outbox: Path) -> tuple[dict[str, Review], dict]:
    """The reviews of the shown workbook and of every saved copy not yet carried, newest source first.

    Also returns where they came from (run.json's `reviews_from`): when they were read (`as_of`,
    UTC), the sha256 of the shown workbook read, and the saved copies read (relative to the outbox),
    for `settle` once the run is published.
    """
    as_of = datetime.now(UTC).isoformat(timespec="microseconds")
    shown = outbox / WORKBOOK
    shown_sha256 = _sha256(shown)
    copies = uncarried_copies(outbox)
    sources = [(_age_of_shown(outbox, shown_sha256), shown)] + [(_mtime(p), p) for p in copies]
    decided: dict[str, Review] = {}
    for _age, path in sorted(sources, key=lambda s: s[0], reverse=True):
        for anomaly_id, review in read_reviews(path).items():
            decided.setdefault(anomaly_id, review)
    origin = {"as_of": as_of, "shown_sha256": shown_sha256,
              "copies": [p.relative_to(outbox).as_posix() for p in copies]}
    return {k: v for k, v in decided.items() if v.touched}, origin


def settle(outbox: Path, run_id: str, origin: dict) -> None:
    """After `run_id` is published: mark the saved copies its workbook carried.

    Those it read, and the one publishing kept from the workbook it read as shown (a hand-saved
    file becomes a copy only when the link is put back): later runs need not read them again.
    """
    kept = outbox / "runs" / run_id / SAVED_COPY
    carried = [outbox / rel for rel in origin.get("copies", [])]
    if kept.exists() and origin.get("shown_sha256") and _sha256(kept) == origin["shown_sha256"]:
        carried.append(kept)
    for copy in carried:
        # The run is published already: a marker that cannot be written only means one more reading.
        with contextlib.suppress(OSError):
            copy.with_name(copy.name + CARRIED).write_text(f"复核记录已带入运行 {run_id}\n", encoding="utf-8")


def uncarried_copies(outbox: Path) -> list[Path]:
    """Saved copies kept in run folders that no published run has carried yet."""
    return sorted(p for p in outbox.glob(f"runs/*/{SAVED_COPY}") if not p.with_name(p.name + CARRIED).exists())


def read_reviews(path: Path) -> dict[str, Review]:
    """Every finding one workbook lists, with its review (empty ones included), by anomaly id."""
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


def _age_of_shown(outbox: Path, sha256: str) -> str:
    """How new the reviews in the shown workbook (of this `sha256`) are: those its run read, unless it
    was saved since."""
    try:
        data = json.loads((outbox / "run.json").read_text(encoding="utf-8"))
        as_of, written = data["reviews_from"]["as_of"], data["outputs"][WORKBOOK]["sha256"]
        if sha256 == written:
            return as_of
    except (OSError, ValueError, KeyError, TypeError):
        pass
    return _mtime(outbox / WORKBOOK)


def _sha256(path: Path) -> str:
    try:
        with path.open("rb") as fh:
            return hashlib.file_digest(fh, "sha256").hexdigest()
    except OSError:
        return ""


def _mtime(path: Path) -> str:
    try:
        return datetime.fromtimestamp(path.stat().st_mtime, UTC).isoformat(timespec="microseconds")
    except OSError:
        return ""


# The header row is the first row with an id header among the first few: row 1 in workbooks of earlier
# versions, below the printed title and 编制单位 line since.
_HEADER_WITHIN = 10


def _read_sheet(table: list[list]) -> dict[str, Review]:
    rows = iter(table)
    for header in itertools.islice(rows, _HEADER_WITHIN):
        col = {str(h).strip(): i for i, h in enumerate(header or []) if h is not None}
        id_col = next((col[h] for h in ID_HEADERS if h in col), None)
        if id_col is not None:
            break
    else:
        return {}

    def get(row, name):
        i = col.get(name)
        value = row[i] if i is not None and i < len(row) else None
        return "" if value is None or value == "" else str(value)

    out = {}
    for row in rows:
        if id_col >= len(row) or not row[id_col]:
            continue
        out[str(row[id_col])] = Review(status=get(row, STATUS_HEADER), note=get(row, NOTE_HEADER),
                                       rule=get(row, "规则"), unit=get(row, "实施单位"),
                                       project=get(row, "项目名称"), message=get(row, "问题说明"),
                                       closed_in=get(row, "关闭于"))
    return out
