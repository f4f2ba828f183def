"""Nightly operation: the outbox lock, atomic publication, history, the ledger, 变更记录, the operator's view.

Nothing here measures time: incremental reruns are checked through the
ledger's counters (`runs.read`, `runs.reused`) and run.json's `reading`.
tests/bench_incremental.py measures the times.
"""

from __future__ import annotations

import configparser
import csv
import hashlib
import json
import os
import pty
import re
import select
import shlex
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import openpyxl
import pytest
from bench_incremental import build_inbox
from sample_inbox import farmland, write_sample_inbox
from seed import seed_form

import xlbatch.ops.ledger as ledger_module
from xlbatch.cli import main
from xlbatch.config import Config
from xlbatch.nightly import run
from xlbatch.ops.outbox import CURRENT, LOCK, OUTPUTS, locked
from xlbatch.outputs.template import write_workbook

ROOT = Path(__file__).resolve().parents[1]
CFG = Config()
FARMLAND = "示例县农业技术推广中心/高标准农田建设项目绩效自评表.xlsx"
YOUTH = "示例县教育局/乡村学校少年宫运转经费.xlsx"


@pytest.fixture
def sample(tmp_path) -> tuple[Path, Path]:
    inbox, outbox = tmp_path / "inbox", tmp_path / "outbox"
    write_sample_inbox(inbox)
    return inbox, outbox


def _cli(inbox: Path, outbox: Path, *extra: str) -> int:
    return main(["run", "--inbox", str(inbox), "--outbox", str(outbox), *extra])


def _command(inbox: Path, outbox: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "xlbatch.cli", "run", "--inbox", str(inbox), "--outbox", str(outbox), *extra]


def _rows(path: Path) -> list[dict]:
    return list(csv.DictReader(path.read_bytes().decode("utf-8-sig").splitlines()))


def published(outbox: Path) -> str:
    """The run the outbox's four names show, after checking they are whole and belong together."""
    data = json.loads((outbox / "run.json").read_text(encoding="utf-8"))
    book = openpyxl.load_workbook(outbox / "consolidated.xlsx", read_only=True)
    try:
        info = {r[0]: r[1] for r in book["运行说明"].iter_rows(values_only=True) if r and r[0]}
        book_ids = sorted(r[0] for r in book["异常清单"].iter_rows(min_row=4, values_only=True) if r and r[0])
    finally:
        book.close()
    # The workbook names the run that computed it: this one, or the one whose outputs this run repeated.
    assert info["运行编号"] == data.get("outputs_from", data["run_id"])
    assert sorted(r["anomaly_id"] for r in _rows(outbox / "anomalies.csv")) == book_ids
    assert len(book_ids) == data["counts"]["findings"]
    assert len(_rows(outbox / "projects.csv")) == data["counts"]["forms"]
    folder = outbox / "runs" / data["run_id"]
    for name in OUTPUTS:
        assert (outbox / name).read_bytes() == (folder / name).read_bytes(), name
        if name != "run.json":
            assert hashlib.sha256((folder / name).read_bytes()).hexdigest() == data["outputs"][name]["sha256"]
    return data["run_id"]


def _contents(outbox: Path) -> dict[str, bytes]:
    return {name: (outbox / name).read_bytes() for name in OUTPUTS}


def _ledger(outbox: Path, sql: str, *args) -> list[tuple]:
    with sqlite3.connect(outbox / "ledger.sqlite") as db:
        return db.execute(sql, args).fetchall()


def _log(outbox: Path, run_id: str) -> list[dict]:
    lines = (outbox / "runs" / run_id / "run.log.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines]


def _add_seed(inbox: Path) -> None:
    (inbox / "新增").mkdir()
    write_workbook(inbox / "新增" / "seed.xlsx", [("自评表", seed_form())])


def _resubmit_farmland(inbox: Path, total: float) -> None:
    spec = farmland()
    spec.total_reported = total
    path = inbox / FARMLAND
    write_workbook(path, [("自评表", spec)])
    os.utime(path, (1_800_000_000, 1_800_000_000))


# --- the lock ---------------------------------------------------------------------------

def _hold_lock(outbox: Path) -> subprocess.Popen:
    """Another process holding the outbox lock the way a run does, until killed."""
    code = ("import sys, time\nfrom pathlib import Path\nfrom xlbatch.ops.outbox import locked\n"
            "with locked(Path(sys.argv[1])):\n    print('held', flush=True)\n    time.sleep(600)\n")
    holder = subprocess.Popen([sys.executable, "-c", code, str(outbox)], stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "held"
    return holder


def test_second_run_exits_3_at_once_and_touches_nothing(sample, capsys):
    inbox, outbox = sample
    holder = _hold_lock(outbox)
    try:
        assert _cli(inbox, outbox) == 3
    finally:
        holder.kill()
        holder.wait()
    err = capsys.readouterr().err
    assert f"另一个 xlbatch 运行正在使用输出目录 {outbox}" in err and f"进程 {holder.pid}" in err
    assert sorted(p.name for p in outbox.iterdir()) == [LOCK]  # no run folder, no outputs


def test_lock_left_by_a_killed_run_does_not_block_the_next(sample):
    inbox, outbox = sample
    holder = _hold_lock(outbox)
    holder.send_signal(signal.SIGKILL)
    holder.wait()
    assert (outbox / LOCK).exists()  # the file stays; the kernel dropped the lock with the process
    assert _cli(inbox, outbox) == 0
    published(outbox)


def test_lock_is_exclusive_within_one_process_too(tmp_path):
    from xlbatch.ops.outbox import OutboxLocked

    with locked(tmp_path), pytest.raises(OutboxLocked, match="另一个 xlbatch 运行"), locked(tmp_path):
        pass
    with locked(tmp_path):  # released
        pass


# --- atomic publication -------------------------------------------------------------------

class Crash(Exception):
    pass


def test_crash_at_every_rename_leaves_previous_outputs_whole_and_consistent(sample, monkeypatch):
    inbox, outbox = sample
    run(inbox, outbox, CFG)
    _resubmit_farmland(inbox, 100)  # the next run's outputs differ from these
    real, n = os.replace, 0
    while True:
        before_id, before = published(outbox), _contents(outbox)
        calls: list[str] = []

        def crashing(src, dst, *args, **kwargs):
            if len(calls) == n:  # noqa: B023 - the n of this attempt
                raise Crash(dst)
            calls.append(str(dst))  # noqa: B023
            return real(src, dst, *args, **kwargs)

        monkeypatch.setattr(os, "replace", crashing)
        try:
            result = run(inbox, outbox, CFG)
        except Crash:
            result = None
        finally:
            monkeypatch.setattr(os, "replace", real)
        if result is None:
            assert published(outbox) == before_id and _contents(outbox) == before, f"crash at rename {n}"
            n += 1
            continue
        assert published(outbox) == result.run_id
        break
    # Four outputs into the run's folder, then the pointer: the crash points covered.
    assert n == 5 and calls[-1] == str(outbox / CURRENT)


@pytest.fixture(scope="module")
def big_inbox(tmp_path_factory) -> Path:
    inbox = tmp_path_factory.mktemp("big") / "inbox"
    build_inbox(inbox, 80)
    return inbox


def _newest_run(outbox: Path, known: set[str]) -> Path | None:
    fresh = sorted(p for p in (outbox / "runs").iterdir() if p.name not in known)
    return fresh[-1] if fresh else None


_MOMENTS = {
    "reading": lambda folder: (folder / "run.log.jsonl").exists(),
    "writing the workbook": lambda folder: "evaluated" in (folder / "run.log.jsonl").read_text(encoding="utf-8"),
    "between the outputs": lambda folder: (folder / "consolidated.xlsx").exists(),
    "outputs complete": lambda folder: (folder / "run.json").exists(),
}
# Moments long before publication (reading, then the workbook takes most of the run): the kill
# surely lands in a running process, and the outbox must still show the previous run. Later
# moments are milliseconds from the end, where the run may finish first.
_EARLY = ("reading", "writing the workbook")


@pytest.mark.parametrize("moment", list(_MOMENTS))
def test_kill_9_at_any_moment_leaves_one_whole_consistent_run(big_inbox, tmp_path, moment):
    inbox = tmp_path / "inbox"
    shutil.copytree(big_inbox, inbox)
    outbox = tmp_path / "outbox"
    run(inbox, outbox, CFG)
    before_id, before = published(outbox), _contents(outbox)
    victim = next(inbox.rglob("*.xlsx"))
    write_workbook(victim, [("自评表", seed_form(unit="示例县重报单位"))])
    known = {p.name for p in (outbox / "runs").iterdir()}
    proc = subprocess.Popen(_command(inbox, outbox, "--quiet"), stderr=subprocess.PIPE)
    folder, caught = None, False
    while proc.poll() is None:
        folder = folder or _newest_run(outbox, known)
        try:
            if folder and _MOMENTS[moment](folder):
                caught = True
                break
        except FileNotFoundError:
            pass
        time.sleep(0.001)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    shown = published(outbox)
    if moment in _EARLY:  # else the test would only have watched a run finish
        assert caught and proc.returncode == -signal.SIGKILL, (caught, proc.returncode)
        assert shown == before_id
    if shown == before_id:
        assert _contents(outbox) == before
    else:  # killed after the pointer moved: the new run, complete
        assert proc.returncode in (0, -signal.SIGKILL) and shown == _newest_run(outbox, known).name
    # The next run is not blocked, tidies the killed run's temporary files, and publishes.
    result = run(inbox, outbox, CFG)
    assert published(outbox) == result.run_id
    assert not list(outbox.glob("runs/*/.*.tmp")) and not list(outbox.glob(".*.tmp"))


def test_outputs_are_links_through_one_pointer(sample):
    inbox, outbox = sample
    result = run(inbox, outbox, CFG)
    assert os.readlink(outbox / CURRENT) == f"runs/{result.run_id}"
    for name in OUTPUTS:
        assert os.readlink(outbox / name) == f"{CURRENT}/{name}"


def test_a_workbook_saved_over_the_link_gives_its_reviews_and_the_link_comes_back(sample):
    inbox, outbox = sample
    run(inbox, outbox, CFG)
    book = openpyxl.load_workbook(outbox / "consolidated.xlsx")
    row = next(r for r in book["异常清单"].iter_rows(min_row=4) if r[2].value == "RATE_MISMATCH")
    row[13].value, row[14].value = "已核实", "电话核实"
    saved = outbox / "saved.xlsx"
    book.save(saved)
    os.replace(saved, outbox / "consolidated.xlsx")  # what Excel does when it saves
    assert not (outbox / "consolidated.xlsx").is_symlink()
    hand_saved = (outbox / "consolidated.xlsx").read_bytes()
    second = run(inbox, outbox, CFG)
    assert os.readlink(outbox / "consolidated.xlsx") == f"{CURRENT}/consolidated.xlsx"
    # The file saved by hand is kept, not deleted: reviews saved while a run writes are not lost.
    assert (outbox / "runs" / second.run_id / "replaced-consolidated.xlsx").read_bytes() == hand_saved
    published(outbox)
    rows = openpyxl.load_workbook(outbox / "consolidated.xlsx")["异常清单"].iter_rows(min_row=4, values_only=True)
    assert next(r for r in rows if r[2] == "RATE_MISMATCH")[13:15] == ("已核实", "电话核实")


# --- history --------------------------------------------------------------------------

def test_keep_prunes_the_oldest_runs_and_never_the_current_one(sample, capsys):
    inbox, outbox = sample
    (outbox / "runs" / "备份 2025-03-01").mkdir(parents=True)  # not a run's: never pruned
    ids = [run(inbox, outbox, CFG, keep=2, recompute=True).run_id for _ in range(3)]
    (outbox / "runs" / "备份 2025-03-01").rmdir()
    assert {p.name for p in (outbox / "runs").iterdir()} == set(ids[1:])
    assert published(outbox) == ids[-1]
    # Runs that repeated the outputs are runs like any other: the newest two stay.
    repeated = [run(inbox, outbox, CFG, keep=2).run_id for _ in range(3)]
    assert {p.name for p in (outbox / "runs").iterdir()} == set(repeated[1:])
    assert published(outbox) == repeated[-1]
    # A run that failed leaves only its log: those are kept apart, the newest two of them.
    (outbox / "runs" / "20000101T000000Z-dead").mkdir()
    (outbox / "runs" / "20000101T000000Z-dead" / "run.log.jsonl").write_text("{}\n")
    run(inbox, outbox, CFG, keep=2)
    assert (outbox / "runs" / "20000101T000000Z-dead").is_dir()
    assert _cli(inbox, outbox, "--keep", "1") == 0
    assert len([p for p in (outbox / "runs").iterdir() if (p / "run.json").exists()]) == 1
    with pytest.raises(SystemExit) as exit_:
        _cli(inbox, outbox, "--keep", "0")
    assert exit_.value.code == 2 and "应为正整数" in capsys.readouterr().err


# --- the ledger and incremental reruns --------------------------------------------------

def test_rerun_reads_only_new_or_changed_files(sample, tmp_path):
    inbox, outbox = sample
    first = run(inbox, outbox, CFG)
    submissions = sorted(f.path for f in first.files if f.status != "ignored")
    assert sorted(first.extra["reading"]["read"]) == submissions and first.extra["reading"]["reused"] == 0

    _resubmit_farmland(inbox, 100)
    _add_seed(inbox)
    (inbox / YOUTH).unlink()
    second = run(inbox, outbox, CFG)
    assert sorted(second.extra["reading"]["read"]) == sorted([FARMLAND, "新增/seed.xlsx"])
    assert second.extra["reading"]["reused"] == len(submissions) - 2
    assert _ledger(outbox, "SELECT read, reused, status FROM runs WHERE run_id=?", second.run_id) == [
        (2, len(submissions) - 2, "published")]
    # Both versions of the resubmitted file are on record, each with its own first and last run.
    versions = _ledger(outbox, "SELECT sha256, first_run, last_run, status FROM versions WHERE path=? "
                               "ORDER BY rowid", FARMLAND)
    assert [(v[1], v[2]) for v in versions] == [(first.run_id, first.run_id), (second.run_id, second.run_id)]
    assert versions[0][0] != versions[1][0] and {v[3] for v in versions} == {"accepted"}
    withdrawn = _ledger(outbox, "SELECT last_run, status, code FROM versions WHERE path=?", YOUTH)
    assert withdrawn == [(first.run_id, "rejected", "MISSING_FIELD")]
    # Cached outcomes give exactly what reading everything afresh gives.
    fresh = tmp_path / "fresh"
    run(inbox, fresh, CFG)
    for name in ("projects.csv", "anomalies.csv"):
        assert (outbox / name).read_bytes() == (fresh / name).read_bytes(), name


def test_unchanged_inbox_rerun_is_byte_identical(sample):
    inbox, outbox = sample
    first = run(inbox, outbox, CFG)
    projects, anomalies = (outbox / "projects.csv").read_bytes(), (outbox / "anomalies.csv").read_bytes()
    second = run(inbox, outbox, CFG, recompute=True)
    assert second.extra["reading"]["read"] == [] and second.extra["reading"]["reused"] == 6
    assert (outbox / "projects.csv").read_bytes() == projects
    assert (outbox / "anomalies.csv").read_bytes() == anomalies
    assert published(outbox) == second.run_id and "outputs_from" not in second.extra
    assert {f.anomaly_id for f in second.findings} == {f.anomaly_id for f in first.findings}


def test_unchanged_inbox_repeats_the_published_outputs(sample, capsys):
    inbox, outbox = sample
    first = run(inbox, outbox, CFG)
    repeated = run(inbox, outbox, CFG)
    assert repeated.extra["outputs_from"] == first.run_id and repeated.forms is None
    assert published(outbox) == repeated.run_id  # a run of its own, with all four outputs
    for name in ("consolidated.xlsx", "projects.csv", "anomalies.csv"):
        assert (outbox / name).read_bytes() == (outbox / "runs" / first.run_id / name).read_bytes()
    data = json.loads((outbox / "run.json").read_text(encoding="utf-8"))
    assert data["run_id"] == repeated.run_id and data["outputs_from"] == first.run_id
    assert data["changes"]["previous_run"] == first.run_id and data["changes"]["counts"]["forms_changed"] == 0
    assert data["reading"] == {"read": [], "reused": 6}
    assert [f["status"] for f in data["files"]] == [f.status for f in first.files]
    assert [f.status for f in repeated.files] == [f.status for f in first.files]
    assert "repeated" in [e["event"] for e in _log(outbox, repeated.run_id)]
    assert _ledger(outbox, "SELECT status, same_as FROM runs WHERE run_id=?", repeated.run_id) == [
        ("repeated", first.run_id)]
    recorded = _ledger(outbox, "SELECT counts FROM runs WHERE run_id=?", repeated.run_id)[0][0]
    assert json.loads(recorded) == first.counts() and repeated.counts() == first.counts()
    assert _ledger(outbox, "SELECT DISTINCT last_run FROM versions") == [(repeated.run_id,)]
    # A repeat of a repeat still names the run that computed the outputs.
    assert _cli(inbox, outbox, "--skip-unchanged") == 0  # the 0.1 flag: now what a run does anyway
    assert f"沿用运行 {first.run_id} 计算的输出" in capsys.readouterr().out
    assert json.loads((outbox / "run.json").read_text(encoding="utf-8"))["outputs_from"] == first.run_id


def test_what_stops_a_repeat(sample):
    """Anything the outputs depend on forces a full run: an output gone or altered, the
    auditors' saved reviews, the configuration, --recompute."""
    inbox, outbox = sample
    run(inbox, outbox, CFG)
    (outbox / "projects.csv").unlink()
    after_loss = run(inbox, outbox, CFG)
    assert "outputs_from" not in after_loss.extra
    assert published(outbox) == after_loss.run_id
    folder = outbox / "runs" / after_loss.run_id
    with (folder / "anomalies.csv").open("ab") as fh:  # altered in the history folder
        fh.write(b"\n")
    assert "outputs_from" not in run(inbox, outbox, CFG).extra
    book = openpyxl.load_workbook(outbox / "consolidated.xlsx")  # the auditors save their reviews
    book["异常清单"]["N4"] = "已核实"  # the first finding's 复核状态 (the header is row 3)
    book.save(outbox / "consolidated.xlsx")
    reviewed = run(inbox, outbox, CFG)
    assert "outputs_from" not in reviewed.extra and reviewed.extra["reading"]["read"] == []
    rows = openpyxl.load_workbook(outbox / "consolidated.xlsx")["异常清单"].iter_rows(min_row=4, values_only=True)
    assert next(rows)[13] == "已核实"
    assert run(inbox, outbox, CFG).extra["outputs_from"] == reviewed.run_id
    cfg = Config.model_validate({"rules": {"low_execution": 0.5}})
    third = run(inbox, outbox, cfg)
    assert "outputs_from" not in third.extra and third.extra["reading"] == {"read": [], "reused": 6}
    recomputed = run(inbox, outbox, cfg, recompute=True)
    assert "outputs_from" not in recomputed.extra and published(outbox) == recomputed.run_id


def test_a_tampered_run_json_or_an_upgraded_library_means_a_full_run(sample, monkeypatch):
    """A repeat takes each file's fate from the published run.json: only when the ledger's hash of it
    matches. A library that checks, scores or writes is part of the code."""
    inbox, outbox = sample
    first = run(inbox, outbox, CFG)
    recorded = _ledger(outbox, "SELECT name FROM outputs WHERE run_id=? ORDER BY name", first.run_id)
    assert [r[0] for r in recorded] == sorted(OUTPUTS)
    path = outbox / "runs" / first.run_id / "run.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    rejected = next(f for f in data["files"] if f["status"] == "rejected")
    rejected.update(status="accepted", message="FORGED")
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    second = run(inbox, outbox, CFG)
    assert "outputs_from" not in second.extra  # evaluated again, not copied
    statuses = {f["path"]: f["status"] for f in json.loads((outbox / "run.json").read_text("utf-8"))["files"]}
    assert statuses[rejected["path"]] == "rejected" and "FORGED" not in (outbox / "run.json").read_text("utf-8")
    data = json.loads((outbox / "runs" / second.run_id / "run.json").read_text(encoding="utf-8"))
    data["files"].pop()  # a file missing from the record: a full run, not a crash
    (outbox / "runs" / second.run_id / "run.json").write_text(json.dumps(data), encoding="utf-8")
    full = run(inbox, outbox, CFG)
    assert "outputs_from" not in full.extra
    assert run(inbox, outbox, CFG).extra["outputs_from"] == full.run_id  # that full run, repeated
    real = ledger_module._version
    monkeypatch.setattr(ledger_module, "_version", lambda name: "99.0" if name == "pandas" else real(name))
    assert "outputs_from" not in run(inbox, outbox, CFG).extra


def test_a_damaged_ledger_is_set_aside_and_the_run_goes_on(sample):
    inbox, outbox = sample
    run(inbox, outbox, CFG)
    (outbox / "ledger.sqlite").write_bytes(b"this is not a database" * 100)
    result = run(inbox, outbox, CFG)
    assert len(result.extra["reading"]["read"]) == 6 and result.extra["changes"]["previous_run"] is None
    assert len(list(outbox.glob("ledger.sqlite.damaged-*"))) == 1
    assert any(e["event"] == "ledger_damaged" for e in _log(outbox, result.run_id))


def test_a_locked_ledger_fails_the_run_and_is_never_set_aside(sample):
    """Someone holding the ledger open (the README invites SQL clients) is not damage."""
    inbox, outbox = sample
    first = run(inbox, outbox, CFG)
    holder = sqlite3.connect(outbox / "ledger.sqlite", timeout=0)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            run(inbox, outbox, CFG)
    finally:
        holder.rollback()
        holder.close()
    assert list(outbox.glob("ledger.sqlite.damaged-*")) == []
    assert published(outbox) == first.run_id
    again = run(inbox, outbox, CFG)  # the ledger and its cache are intact
    assert again.extra["reading"] == {"read": [], "reused": 6}


def test_a_file_replaced_while_it_is_read_is_not_cached(sample, monkeypatch):
    import xlbatch.form.analyse as analyse

    inbox, outbox = sample
    victim = inbox / "示例县第一中学" / "农村义务教育学生营养改善计划.xlsx"
    real = analyse.open_workbook

    def replace_then_read(path, limits):
        if path == victim:  # a unit re-uploads between hashing and reading
            os.utime(victim, (time.time() + 60, time.time() + 60))
        return real(path, limits)

    monkeypatch.setattr(analyse, "open_workbook", replace_then_read)
    first = run(inbox, outbox, CFG)
    assert any(e["event"] == "changed_while_read" for e in _log(outbox, first.run_id))
    monkeypatch.setattr(analyse, "open_workbook", real)
    second = run(inbox, outbox, CFG)
    assert second.extra["reading"]["read"] == ["示例县第一中学/农村义务教育学生营养改善计划.xlsx"]


def test_a_forged_cache_entry_is_never_unpickled_into_code(sample):
    import pickle

    inbox, outbox = sample
    run(inbox, outbox, CFG)

    class Boom:
        def __reduce__(self):
            return (os.system, ("echo pwned > /dev/null",))

    # A forger who also recomputes each row's checksum (a blob changed without it is simply not trusted).
    forged = pickle.dumps(Boom())
    for key in _ledger(outbox, "SELECT sha256, path, reader, limits FROM outcomes"):
        _ledger(outbox, "UPDATE outcomes SET outcome=?, checksum=? WHERE sha256=? AND path=? AND reader=? "
                        "AND limits=?", forged, ledger_module._checksum("outcomes", *key, forged), *key)
    result = run(inbox, outbox, CFG, recompute=True)
    assert len(result.extra["reading"]["read"]) == 6  # every entry refused, every file read again
    refused = [e["error"] for e in _log(outbox, result.run_id) if e["event"] == "cache_unusable"]
    assert len(refused) == 6 and all("not allowed in a cached outcome: posix.system" in e for e in refused)


# --- 变更记录 ------------------------------------------------------------------------------

def test_changed_submission_report(sample):
    inbox, outbox = sample
    first = run(inbox, outbox, CFG)
    assert first.extra["changes"]["previous_run"] is None
    sheet = openpyxl.load_workbook(outbox / "consolidated.xlsx")["变更记录"]
    assert "首次运行" in sheet["A2"].value

    # The farmland unit, flagged 7 times for 98 points, resubmits claiming 100; one file goes, one comes.
    _resubmit_farmland(inbox, 100)
    (inbox / YOUTH).unlink()
    _add_seed(inbox)
    second = run(inbox, outbox, CFG)
    changes = json.loads((outbox / "run.json").read_text(encoding="utf-8"))["changes"]
    assert changes == json.loads(json.dumps(second.extra["changes"]))
    assert changes["previous_run"] == first.run_id
    assert {(f["change"], f["path"]) for f in changes["files"]} == {
        ("changed", FARMLAND), ("withdrawn", YOUTH), ("new", "新增/seed.xlsx")}
    assert changes["counts"] == {"new": 1, "changed": 1, "withdrawn": 1, "forms_changed": 2}
    farm = next(f for f in changes["forms"] if f["source_file"] == FARMLAND)
    assert farm["change"] == "changed" and farm["unit"] == "示例县农业技术推广中心"
    assert farm["moved"]["total_reported"] == {"before": 98, "after": 100}
    assert set(farm["moved"]) == {"total_reported", "anomaly_count"}
    assert farm["moved"]["anomaly_count"]["before"] == 7
    assert [x["rule"] for x in farm["findings_added"]] == ["TOTAL_MISMATCH"]
    assert farm["notes"] == ["上次被标记 7 个问题后，自评总分由 98 调高到 100"]
    new = next(f for f in changes["forms"] if f["source_file"] == "新增/seed.xlsx")
    assert new["change"] == "new" and new["moved"] == {}

    book = openpyxl.load_workbook(outbox / "consolidated.xlsx")
    ws = book["变更记录"]
    assert first.run_id in ws["A2"].value
    header = [c.value for c in ws[5]]
    assert header == ["变更", "实施单位", "项目名称", "年度", "来源文件", "数据项", "上次", "本次", "变动", "说明"]
    rows = [r for r in ws.iter_rows(min_row=6, values_only=True)]
    total = next(r for r in rows if r[5] == "自评总分")
    assert total[:5] == ("数据变动", "示例县农业技术推广中心", "高标准农田建设项目", "2024", FARMLAND)
    assert total[6:10] == (98, 100, 2, "上次被标记 7 个问题后，自评总分由 98 调高到 100")
    assert next(r for r in rows if r[5] == "新增问题")[7] == "总分不等于各项之和（TOTAL_MISMATCH）"
    assert {(r[0], r[4]) for r in rows if r[5] == "文件状态"} == {
        ("修改文件", FARMLAND), ("撤回文件", YOUTH), ("新增文件", "新增/seed.xlsx")}
    withdrawn = next(r for r in rows if r[0] == "撤回文件")
    assert withdrawn[6:8] == ("未受理：必填项为空（MISSING_FIELD）", "—")
    # The raised self-score is painted red over all its rows.
    red_rows = set()
    for rng in ws.conditional_formatting:
        for rule in rng.rules:
            if rule.dxf and rule.dxf.fill and rule.dxf.fill.bgColor.rgb.endswith("FFC7CE"):
                red_rows |= {r for cells in rng.sqref.ranges for r in range(cells.min_row, cells.max_row + 1)}
    farm_rows = {i for i, r in enumerate(rows, start=6) if r[4] == FARMLAND and r[0] == "数据变动"}
    assert red_rows == farm_rows and len(farm_rows) == 3


def test_resubmission_under_a_new_name_is_compared_with_the_form_it_replaces(sample):
    inbox, outbox = sample
    run(inbox, outbox, CFG)
    (inbox / FARMLAND).unlink()
    spec = farmland()
    spec.funds = {"年度资金总额": (850, 850, 800), "当年财政拨款": (600, 600, 600), "上年结转资金": (250, 250, 200)}
    (inbox / "重报").mkdir()
    write_workbook(inbox / "重报" / "农田.xlsx", [("自评表", spec)])
    changes = run(inbox, outbox, CFG).extra["changes"]
    form = next(f for f in changes["forms"] if f["unit"] == "示例县农业技术推广中心")
    assert form["change"] == "changed" and form["source_file"] == "重报/农田.xlsx"
    assert form["moved"]["executed"] == {"before": 612, "after": 800}
    assert form["moved"]["execution_rate"]["before"] == pytest.approx(0.72)
    # 612 → 800 of 850 executed (72% → 94%): LOW_EXECUTION goes, and nothing new comes.
    assert [x["rule"] for x in form["findings_resolved"]] == ["LOW_EXECUTION"] and form["findings_added"] == []
    assert not any(f["change"] == "removed" for f in changes["forms"])


# --- the operator's view ------------------------------------------------------------------

def test_log_is_json_lines_per_run_and_a_failed_run_logs_its_traceback(sample, monkeypatch, capsys):
    inbox, outbox = sample
    before = datetime.now(UTC)
    result = run(inbox, outbox, CFG)
    wall = (datetime.now(UTC) - before).total_seconds()
    events = _log(outbox, result.run_id)
    assert [e["event"] for e in events if e["level"] == "info"] == ["start", "evaluated", "published", "finished"]
    assert all({"time", "level", "event", "message"} <= set(e) for e in events)
    assert sum(e["event"] == "read" for e in events) == 6
    assert events[-1]["findings"] == 15
    # `seconds` is the run's duration, rounded to 0.01: within the time measured around the call, and
    # the span from the start record to the finished one (the clock starts a few ms before the first).
    logged = [datetime.fromisoformat(events[i]["time"]) for i in (0, -1)]
    span = (logged[1] - logged[0]).total_seconds()
    assert 0 < events[-1]["seconds"] <= wall + 0.005
    assert events[-1]["seconds"] == pytest.approx(span, abs=0.05)

    def broken(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr("xlbatch.outputs.write.write_workbook", broken)
    assert _cli(inbox, outbox, "--recompute") == 1
    err = capsys.readouterr().err
    assert "运行失败" in err and "run.log.jsonl" in err
    (failed,) = [p.name for p in (outbox / "runs").iterdir() if not (p / "run.json").exists()]
    last = _log(outbox, failed)[-1]
    assert last["event"] == "failed" and "RuntimeError: disk on fire" in last["exception"]
    assert published(outbox) == result.run_id


def test_quiet_verbose_and_the_summary_line(sample, capsys):
    inbox, outbox = sample
    assert _cli(inbox, outbox) == 0
    out, err = capsys.readouterr()
    assert err == ""  # not a terminal: no progress bar, and no log records below WARNING
    assert re.fullmatch(r"xlbatch \S+: 文件 8 个（受理 4，未受理 2，忽略 2），自评表 4 张，问题 15 条，"
                        r"读取 6 个文件（0 个未变），用时 \d+\.\d 秒 → \S+consolidated\.xlsx\n", out)
    assert _cli(inbox, outbox, "--quiet") == 0
    assert capsys.readouterr() == ("", "")
    assert _cli(inbox, outbox, "--verbose", "--recompute") == 0
    err = capsys.readouterr().err
    assert err.count("文件未变，沿用上次的读取结果") == 6 and "已发布" in err


def _on_a_terminal(args: list[str]) -> tuple[int, str, str]:
    """Run with stderr on a pseudo-terminal, as an operator at a console does."""
    master, slave = pty.openpty()
    proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=slave)
    os.close(slave)
    chunks = []
    while True:
        ready, _, _ = select.select([master], [], [], 60)
        if not ready:
            break
        try:
            data = os.read(master, 65536)
        except OSError:  # EIO: the other end closed
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    out = proc.stdout.read().decode()
    return proc.wait(), out, b"".join(chunks).decode("utf-8", "replace")


def test_progress_bar_on_a_terminal_only(sample):
    inbox, outbox = sample
    code, out, terminal = _on_a_terminal(_command(inbox, outbox))
    assert code == 0 and "读取自评表" in terminal and "6/6" in terminal and "受理 4" in out
    code, out, terminal = _on_a_terminal(_command(inbox, outbox, "--quiet"))
    assert code == 0 and terminal == "" and out == ""
    cron = subprocess.run(_command(inbox, outbox), capture_output=True, text=True)
    assert cron.returncode == 0 and cron.stderr == "" and "受理 4" in cron.stdout


# --- the README's cron line and systemd units ----------------------------------------------

def _readme_section() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    return re.search(r"^## Nightly operation.*?(?=^## )", readme, re.S | re.M).group(0)


def _blocks(lang: str) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", _readme_section(), re.S)


def _installed(tmp_path: Path) -> Path:
    """/srv/xlbatch as the README lays it out: this checkout's venv, a sample inbox."""
    root = tmp_path / "srv-xlbatch"
    root.mkdir()
    (root / ".venv").symlink_to(ROOT / ".venv")
    write_sample_inbox(root / "inbox")
    return root


def _units() -> dict[str, str]:
    return {re.match(r"# (\S+)\n", block).group(1): block for block in _blocks("ini")}


def _ini(text: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None, strict=True, comment_prefixes=("#", ";"))
    parser.optionxform = str  # systemd keys are case-sensitive
    parser.read_string(text)
    return parser


def test_readme_systemd_units_parse_verify_and_their_command_works(tmp_path):
    units = _units()
    assert set(units) == {"xlbatch.service", "xlbatch.timer"}
    service, timer = _ini(units["xlbatch.service"]), _ini(units["xlbatch.timer"])
    assert service["Service"]["Type"] == "oneshot"
    exec_start = shlex.split(service["Service"]["ExecStart"])
    assert exec_start[:2] == ["/srv/xlbatch/.venv/bin/xlbatch", "run"] and "--inbox" in exec_start
    assert service["Service"]["ReadWritePaths"] == exec_start[exec_start.index("--outbox") + 1]
    assert timer["Timer"]["OnCalendar"] and timer["Install"]["WantedBy"] == "timers.target"

    root = _installed(tmp_path)
    folder = tmp_path / "units"
    folder.mkdir()
    for name, text in units.items():
        (folder / name).write_text(text.replace("/srv/xlbatch", str(root)), encoding="utf-8")
    if shutil.which("systemd-analyze"):
        verify = subprocess.run(["systemd-analyze", "verify", str(folder / "xlbatch.service"),
                                 str(folder / "xlbatch.timer")], capture_output=True, text=True)
        assert verify.returncode == 0, verify.stderr
    relocated = _ini((folder / "xlbatch.service").read_text(encoding="utf-8"))["Service"]
    done = subprocess.run(shlex.split(relocated["ExecStart"]), cwd=relocated["WorkingDirectory"],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "受理 4" in done.stdout and published(root / "outbox")


def test_readme_cron_line_is_valid_and_its_command_works(tmp_path):
    (line,) = [x for block in _blocks("cron") for x in block.splitlines() if x.strip()]
    fields = line.split(None, 5)
    for field, (low, high) in zip(fields[:5], ((0, 59), (0, 23), (1, 31), (1, 12), (0, 7)), strict=True):
        assert field == "*" or low <= int(field) <= high, field
    root = _installed(tmp_path)
    done = subprocess.run(["/bin/sh", "-c", fields[5].replace("/srv/xlbatch", str(root))],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "" and done.stderr == ""  # --quiet: cron mails only when something is wrong
    assert published(root / "outbox")


def _events(outbox: Path, run_id: str) -> list[dict]:
    lines = (outbox / "runs" / run_id / "run.log.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines]


def test_a_failing_tidy_up_after_publishing_does_not_fail_the_run(sample, monkeypatch):
    """Marking carried reviews and pruning come after publication and change nothing published: their
    failure is logged, the run succeeds, and the next run does what was left."""
    inbox, outbox = sample

    def broken(*args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("xlbatch.nightly.prune", broken)
    result = run(inbox, outbox, Config())
    assert os.readlink(outbox / CURRENT) == f"runs/{result.run_id}"
    events = [e["event"] for e in _events(outbox, result.run_id)]
    assert events[-3:] == ["published", "tidy_failed", "finished"]


def test_stopped_after_publishing_says_the_outputs_stand(sample, monkeypatch):
    """A stop (SIGTERM, Ctrl-C) while tidying up ends the run with the stop, but the log does not
    claim the previous outputs stayed: this run's are published."""
    inbox, outbox = sample
    first = run(inbox, outbox, Config())

    def stopped(*args):
        raise KeyboardInterrupt

    monkeypatch.setattr("xlbatch.nightly.prune", stopped)
    (inbox / "示例县教育局" / "乡村学校少年宫运转经费.xlsx").unlink()  # something changed: a full run
    with pytest.raises(KeyboardInterrupt):
        run(inbox, outbox, Config())
    shown = os.readlink(outbox / CURRENT).removeprefix("runs/")
    assert shown != first.run_id
    last = _events(outbox, shown)[-1]
    assert (last["event"], last["level"]) == ("stopped", "warning")
    assert "本次运行的输出已发布" in last["message"]
