"""Reviews saved while a run writes (issue 11, item 5): kept as runs/RUN_ID/replaced-consolidated.xlsx by
publishing, and carried into the next run's workbook, newest workbook first, once.

The race is made deterministic: the auditor's save over the outbox's consolidated.xlsx happens inside the
run, after it has read the reviews and before it publishes (the moment the fault campaign hit 5 times in 20).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import openpyxl
import pytest
from sample_inbox import write_sample_inbox

import xlbatch.outputs.write as write_module
from xlbatch.config import Config
from xlbatch.nightly import run
from xlbatch.outputs.reviews import CARRIED, SAVED_COPY, read_reviews

CFG = Config()
STATUS, NOTE = 13, 14  # 异常清单 columns 复核状态, 复核意见 (0-based)


@pytest.fixture
def sample(tmp_path) -> tuple[Path, Path]:
    inbox, outbox = tmp_path / "inbox", tmp_path / "outbox"
    write_sample_inbox(inbox)
    return inbox, outbox


def _save_review(outbox: Path, rule: str, status: str, note: str, mtime: float | None = None) -> str:
    """An auditor opens the shown workbook, reviews the first finding of `rule` and saves as Excel does
    (a new file renamed over the name). Returns that finding's 编号."""
    book = openpyxl.load_workbook(outbox / "consolidated.xlsx")
    row = next(r for r in book["异常清单"].iter_rows(min_row=4) if r[2].value == rule)
    row[STATUS].value, row[NOTE].value = status, note
    saved = outbox / "saving.xlsx"
    book.save(saved)
    if mtime is not None:
        os.utime(saved, (mtime, mtime))
    os.replace(saved, outbox / "consolidated.xlsx")
    return row[0].value


def _shown(outbox: Path) -> dict[str, tuple[str, str]]:
    rows = openpyxl.load_workbook(outbox / "consolidated.xlsx")["异常清单"].iter_rows(min_row=4, values_only=True)
    return {r[0]: (r[STATUS], r[NOTE] or "") for r in rows if r[0]}


def _run_with_a_save_while_writing(inbox, outbox, monkeypatch, rule, status, note, mtime=None):
    """A full run during which the auditor saves a review, after the run read the reviews."""
    real = write_module.write_workbook
    saved = {}

    def write_then_save(path, result, reviews):
        out = real(path, result, reviews)
        saved["id"] = _save_review(outbox, rule, status, note, mtime)
        return out

    monkeypatch.setattr(write_module, "write_workbook", write_then_save)
    result = run(inbox, outbox, CFG, recompute=True)
    monkeypatch.setattr(write_module, "write_workbook", real)
    return result, saved["id"]


def test_a_review_saved_while_a_run_writes_is_in_the_next_workbook(sample, monkeypatch):
    inbox, outbox = sample
    run(inbox, outbox, CFG)
    racing, anomaly_id = _run_with_a_save_while_writing(inbox, outbox, monkeypatch, "RATE_MISMATCH",
                                                         "已核实", "电话核实，单位已说明")
    copy = outbox / "runs" / racing.run_id / SAVED_COPY
    assert copy.exists()  # kept, never dropped
    assert _shown(outbox)[anomaly_id] == ("待复核", "")  # the race: the published workbook lacks it
    # The next night: nothing in the inbox changed, yet it must not repeat a workbook missing a review.
    nxt = run(inbox, outbox, CFG)
    data = json.loads((outbox / "run.json").read_text(encoding="utf-8"))
    assert "outputs_from" not in data
    assert data["reviews_from"]["copies"] == [copy.relative_to(outbox).as_posix()]
    assert _shown(outbox)[anomaly_id] == ("已核实", "电话核实，单位已说明")
    assert copy.with_name(SAVED_COPY + CARRIED).read_text(encoding="utf-8").strip().endswith(nxt.run_id)
    # Carried once: the night after repeats the outputs and the review is still there.
    run(inbox, outbox, CFG)
    data = json.loads((outbox / "run.json").read_text(encoding="utf-8"))
    assert data["outputs_from"] == nxt.run_id
    assert _shown(outbox)[anomaly_id] == ("已核实", "电话核实，单位已说明")


def test_a_hand_saved_workbook_read_as_shown_is_not_read_again_as_a_copy(sample):
    """No race: the review saved between nights is read from the shown file, and the copy publishing keeps
    of it is marked carried at once, so the night after can repeat."""
    inbox, outbox = sample
    run(inbox, outbox, CFG)
    anomaly_id = _save_review(outbox, "RATE_MISMATCH", "误报", "单位口径不同")
    second = run(inbox, outbox, CFG)
    assert (outbox / "runs" / second.run_id / (SAVED_COPY + CARRIED)).exists()
    third = run(inbox, outbox, CFG)
    data = json.loads((outbox / "run.json").read_text(encoding="utf-8"))
    assert data["run_id"] == third.run_id and data["outputs_from"] == second.run_id
    assert _shown(outbox)[anomaly_id] == ("误报", "单位口径不同")


def test_the_newest_workbook_that_lists_a_finding_decides_its_review(sample, monkeypatch):
    """An older uncarried copy does not bring back a review the auditor has since cleared or changed."""
    inbox, outbox = sample
    run(inbox, outbox, CFG)
    past = 1_800_000_000.0
    _racing, anomaly_id = _run_with_a_save_while_writing(inbox, outbox, monkeypatch, "RATE_MISMATCH",
                                                         "已核实", "旧意见", mtime=past)
    other = _save_review(outbox, "LOW_EXECUTION", "已整改", "已补充说明", mtime=past + 60)
    _save_review(outbox, "RATE_MISMATCH", "待复核", None, mtime=past + 120)  # cleared, later than the copy
    run(inbox, outbox, CFG)
    shown = _shown(outbox)
    assert shown[anomaly_id] == ("待复核", "")
    assert shown[other] == ("已整改", "已补充说明")


def test_a_copy_saved_after_the_workbook_was_written_but_older_than_its_file_wins(sample, monkeypatch):
    """The run's own workbook is only as new as the reviews it read, not as its mtime: a copy saved
    after that moment wins even though the run's file was written (renamed, fsynced) later."""
    inbox, outbox = sample
    run(inbox, outbox, CFG)
    racing, anomaly_id = _run_with_a_save_while_writing(inbox, outbox, monkeypatch, "RATE_MISMATCH",
                                                         "已核实", "赶在发布前保存")
    published_file = outbox / "runs" / racing.run_id / "consolidated.xlsx"
    later = published_file.stat().st_mtime + 3600
    os.utime(published_file, (later, later))  # written "later" than the copy was saved
    run(inbox, outbox, CFG)
    assert _shown(outbox)[anomaly_id] == ("已核实", "赶在发布前保存")


def test_read_reviews_lists_every_finding_and_survives_a_damaged_file(tmp_path):
    damaged = tmp_path / "consolidated.xlsx"
    damaged.write_bytes(b"PK\x03\x04 not really")
    assert read_reviews(damaged) == {}
    assert read_reviews(tmp_path / "missing.xlsx") == {}


def test_reviews_in_a_workbook_of_the_previous_layout_are_carried(sample):
    """Workbooks before the printed letterhead had 异常清单's header in row 1: the next run finds the
    header row wherever it is among the first rows and carries the reviews typed under it."""
    inbox, outbox = sample
    run(inbox, outbox, CFG)
    book = openpyxl.load_workbook(outbox / "consolidated.xlsx")
    ws = book["异常清单"]
    ws.delete_rows(1, 2)  # the title and 编制单位 rows gone: the header is row 1, as the previous version wrote it
    assert ws["A1"].value == "编号"
    row = next(r for r in ws.iter_rows(min_row=2) if r[2].value == "RATE_MISMATCH")
    row[STATUS].value, row[NOTE].value = "已整改", "单位已重报"
    book.save(outbox / "consolidated.xlsx")
    assert read_reviews(outbox / "consolidated.xlsx")[row[0].value].note == "单位已重报"
    run(inbox, outbox, CFG)
    assert _shown(outbox)[row[0].value] == ("已整改", "单位已重报")
