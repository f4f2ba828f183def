"""A damaged ledger.sqlite never gives wrong figures and never stops the nightly runs.

The ledger is a cache and a history, never the truth: whatever damage it takes
(bits flipped anywhere past its header page, a folder in its place, a cached
outcome rewritten), the next run finishes and publishes exactly the figures a
run with an intact ledger publishes.
"""

from __future__ import annotations

import dataclasses
import json
import os
import pickle
import random
import shutil
import sqlite3
from pathlib import Path

import pytest
from sample_inbox import write_sample_inbox

import xlbatch.ops.ledger as ledger_module
from xlbatch.cli import main
from xlbatch.config import Config
from xlbatch.nightly import run
from xlbatch.ops.ledger import LEDGER_NAME

CFG = Config()
TRIALS = 50


@pytest.fixture(scope="module")
def pristine(tmp_path_factory) -> tuple[Path, Path]:
    """An inbox and the outbox of two runs over it: a full one, then a repeat. The ledger holds
    the read cache, both runs, their snapshots and output hashes."""
    root = tmp_path_factory.mktemp("pristine")
    inbox, outbox = root / "inbox", root / "outbox"
    write_sample_inbox(inbox)
    run(inbox, outbox, CFG)
    assert run(inbox, outbox, CFG).extra.get("outputs_from")
    return inbox, outbox


def _copy(outbox: Path, where: Path) -> Path:
    shutil.copytree(outbox, where, symlinks=True)  # the outputs are links through .current
    return where


def _flip_bits(path: Path, rng: random.Random) -> list[tuple[int, int]]:
    """Flip 1-8 bits at random offsets past the first page (the header, already handled)."""
    data = bytearray(path.read_bytes())
    with sqlite3.connect(path) as db:
        page = db.execute("PRAGMA page_size").fetchone()[0]
    flips = [(rng.randrange(page, len(data)), rng.randrange(8)) for _ in range(rng.randint(1, 8))]
    for offset, bit in flips:
        data[offset] ^= 1 << bit
    path.write_bytes(bytes(data))
    return flips


def _log(outbox: Path, run_id: str) -> list[dict]:
    lines = (outbox / "runs" / run_id / "run.log.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines]


def _events(outbox: Path, run_id: str) -> list[str]:
    return [e["event"] for e in _log(outbox, run_id)]


def test_fifty_random_bit_flips_never_change_the_figures_or_stop_a_run(pristine, tmp_path):
    """Each trial: a run as cron starts it (it may repeat), then one with --recompute (it evaluates
    from whatever the ledger's cache offers): both publish the undamaged run's projects.csv."""
    inbox, clean = pristine
    expected = (clean / "projects.csv").read_bytes()
    failures = []
    for seed in range(TRIALS):
        outbox = _copy(clean, tmp_path / f"trial{seed:02d}")
        flips = _flip_bits(outbox / LEDGER_NAME, random.Random(seed))
        for recompute in (False, True):
            try:
                run(inbox, outbox, CFG, recompute=recompute)
            except Exception as exc:  # the CLI would exit 1
                failures.append((seed, recompute, flips, f"{type(exc).__name__}: {exc}"))
                break
            if (outbox / "projects.csv").read_bytes() != expected:
                failures.append((seed, recompute, flips, "projects.csv differs"))
                break
        shutil.rmtree(outbox)
    assert not failures, f"{len(failures)}/{TRIALS} trials failed:\n" + "\n".join(map(repr, failures))


_NOT_A_FILE = {
    "a folder": lambda path: (path.mkdir(), (path / "note.txt").write_text("someone's file")),
    "a dangling link": lambda path: path.symlink_to(path.with_name("gone.sqlite")),
    "a link to itself": lambda path: path.symlink_to(path.name),
    "a named pipe": os.mkfifo,
}


@pytest.mark.parametrize("what", list(_NOT_A_FILE))
def test_anything_but_a_file_in_place_of_the_ledger_is_set_aside(pristine, tmp_path, what):
    inbox, clean = pristine
    outbox = _copy(clean, tmp_path / "outbox")
    (outbox / LEDGER_NAME).unlink()
    _NOT_A_FILE[what](outbox / LEDGER_NAME)
    assert main(["run", "--inbox", str(inbox), "--outbox", str(outbox), "--quiet"]) == 0
    assert (outbox / "projects.csv").read_bytes() == (clean / "projects.csv").read_bytes()
    (aside,) = outbox.glob(f"{LEDGER_NAME}.damaged-*")
    if what == "a folder":
        assert (aside / "note.txt").read_text() == "someone's file"  # set aside, not deleted
    assert (outbox / LEDGER_NAME).is_file() and not (outbox / LEDGER_NAME).is_symlink()
    again = run(inbox, outbox, CFG, recompute=True)  # the new ledger serves the next night
    assert again.extra["reading"] == {"read": [], "reused": 6}


def _forge(outbox: Path, *, recompute_checksum: bool) -> str:
    """Rewrite one cached outcome as a well-formed pickle of a FileOutcome with other figures."""
    from xlbatch.ops import ledger

    with sqlite3.connect(outbox / LEDGER_NAME) as db:
        rows = db.execute("SELECT rowid, sha256, path, reader, limits, outcome FROM outcomes").fetchall()
        rowid, *key, blob = next(r for r in rows if ledger._load(r[5]).forms)
        outcome = ledger._load(blob)
        form = outcome.forms[0]  # the self-score as read from its cell, 500 points higher
        total = dataclasses.replace(form.total_reported, value=float(form.total_reported.value) + 500)
        outcome.forms[0] = dataclasses.replace(form, total_reported=total)
        forged = pickle.dumps(outcome, protocol=5)
        db.execute("UPDATE outcomes SET outcome=? WHERE rowid=?", (forged, rowid))
        if recompute_checksum:  # a forger who knows the format and has write access
            db.execute("UPDATE outcomes SET checksum=? WHERE rowid=?",
                       (ledger._checksum("outcomes", *key, forged), rowid))
    return key[1]


def test_a_cached_outcome_altered_but_well_formed_is_not_trusted(pristine, tmp_path):
    inbox, clean = pristine
    outbox = _copy(clean, tmp_path / "outbox")
    path = _forge(outbox, recompute_checksum=False)
    result = run(inbox, outbox, CFG, recompute=True)
    assert result.extra["reading"]["read"] == [path]  # that file read again, the others reused
    assert "ledger_row_damaged" in _events(outbox, result.run_id)
    assert (outbox / "projects.csv").read_bytes() == (clean / "projects.csv").read_bytes()


def test_what_the_checksum_does_not_stop_a_forger_who_recomputes_it(pristine, tmp_path):
    """The checksum catches accidental damage. Whoever can write the outbox and recomputes it can
    still forge figures (never code: the allow-list unpickler); this documents that limit."""
    inbox, clean = pristine
    outbox = _copy(clean, tmp_path / "outbox")
    _forge(outbox, recompute_checksum=True)
    result = run(inbox, outbox, CFG, recompute=True)
    assert result.extra["reading"]["read"] == []
    assert (outbox / "projects.csv").read_bytes() != (clean / "projects.csv").read_bytes()


def _current(outbox: Path) -> str:
    return json.loads((outbox / "run.json").read_text(encoding="utf-8"))["run_id"]


_ROT = {  # one value of one row changed as bit rot would, its checksum left as it was
    "a run's snapshot": "UPDATE runs SET snapshot=replace(snapshot, '\"accepted\"', '\"rejected\"') WHERE run_id=?",
    "a run's inputs": "UPDATE runs SET inputs=substr(inputs, 2) || 'f' WHERE run_id=?",
    "an output's hash": "UPDATE outputs SET sha256=upper(sha256) WHERE run_id=? AND name='projects.csv'",
}


@pytest.mark.parametrize("what", list(_ROT))
def test_a_run_on_record_that_fails_its_checksum_means_a_full_run(pristine, tmp_path, what):
    """No repeat and no 变更记录 comparison from a row that fails: a full run, the same figures."""
    inbox, clean = pristine
    outbox = _copy(clean, tmp_path / "outbox")
    with sqlite3.connect(outbox / LEDGER_NAME) as db:
        assert db.execute(_ROT[what], (_current(outbox),)).rowcount >= 1
    result = run(inbox, outbox, CFG)
    assert "outputs_from" not in result.extra and result.extra["reading"] == {"read": [], "reused": 6}
    assert "ledger_row_damaged" in _events(outbox, result.run_id)
    if what != "an output's hash":  # the run row itself is unusable: nothing to compare with
        assert result.extra["changes"]["previous_run"] is None
    assert (outbox / "projects.csv").read_bytes() == (clean / "projects.csv").read_bytes()
    assert run(inbox, outbox, CFG).extra["outputs_from"] == result.run_id  # the new rows vouch again


def test_a_cached_outcome_that_answers_for_another_file_is_not_used(pristine, tmp_path):
    """Damage to a row's key columns would make it answer for another key: the checksum covers the key."""
    inbox, clean = pristine
    outbox = _copy(clean, tmp_path / "outbox")
    with sqlite3.connect(outbox / LEDGER_NAME) as db:
        (one, path), (other, _) = db.execute("SELECT rowid, path FROM outcomes ORDER BY rowid LIMIT 2").fetchall()
        db.execute("DELETE FROM outcomes WHERE rowid=?", (one,))
        db.execute("UPDATE outcomes SET sha256=(SELECT sha256 FROM versions WHERE path=? ORDER BY rowid DESC), "
                   "path=? WHERE rowid=?", (path, path, other))
    result = run(inbox, outbox, CFG, recompute=True)
    assert path in result.extra["reading"]["read"]
    assert (outbox / "projects.csv").read_bytes() == (clean / "projects.csv").read_bytes()


def test_damage_found_during_the_run_sets_the_ledger_aside_and_the_run_goes_on(pristine, tmp_path):
    """An index entry pointing at a row that is not there: PRAGMA quick_check (which does not compare
    indexes with their tables) passes, SQLite reports the damage when the run updates the cache."""
    inbox, clean = pristine
    outbox = _copy(clean, tmp_path / "outbox")
    path = outbox / LEDGER_NAME
    with sqlite3.connect(path) as db:
        page_size = db.execute("PRAGMA page_size").fetchone()[0]
        root = db.execute("SELECT rootpage FROM sqlite_schema WHERE name='sqlite_autoindex_outcomes_1'").fetchone()[0]
        sha256, limits = db.execute("SELECT sha256, limits FROM outcomes WHERE rowid >= 2 LIMIT 1").fetchone()
    data = bytearray(path.read_bytes())
    start = (root - 1) * page_size  # the index fits one page: its root is its only leaf
    entry = data.index(sha256.encode(), start, start + page_size)
    after_key = data.index(limits.encode(), entry) + len(limits)  # the entry's last field: the row's rowid
    data[after_key] = 0x7F  # no such row
    path.write_bytes(bytes(data))
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA quick_check").fetchall() == [("ok",)]

    result = run(inbox, outbox, CFG, recompute=True)
    (found,) = [e for e in _log(outbox, result.run_id) if e["event"] == "ledger_damaged"]
    assert "运行中发现损坏" in found["message"] and "malformed" in found["error"]
    assert len(list(outbox.glob(f"{LEDGER_NAME}.damaged-*"))) == 1
    assert (outbox / "projects.csv").read_bytes() == (clean / "projects.csv").read_bytes()
    run(inbox, outbox, CFG, recompute=True)  # stores what the new ledger did not hold yet
    assert run(inbox, outbox, CFG, recompute=True).extra["reading"] == {"read": [], "reused": 6}


_SCHEMA_1 = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE versions (
    path TEXT NOT NULL, sha256 TEXT NOT NULL, size INTEGER NOT NULL,
    first_seen TEXT NOT NULL, last_seen TEXT NOT NULL, first_run TEXT NOT NULL, last_run TEXT NOT NULL,
    status TEXT NOT NULL, code TEXT NOT NULL, message TEXT NOT NULL, forms TEXT NOT NULL,
    PRIMARY KEY (path, sha256));
CREATE TABLE runs (
    run_id TEXT PRIMARY KEY, started_at TEXT NOT NULL, finished_at TEXT NOT NULL,
    status TEXT NOT NULL, same_as TEXT, inputs TEXT NOT NULL, counts TEXT NOT NULL,
    read INTEGER NOT NULL, reused INTEGER NOT NULL, snapshot TEXT);
CREATE TABLE outputs (
    run_id TEXT NOT NULL, name TEXT NOT NULL, sha256 TEXT NOT NULL, PRIMARY KEY (run_id, name));
CREATE TABLE outcomes (
    sha256 TEXT NOT NULL, path TEXT NOT NULL, reader TEXT NOT NULL, limits TEXT NOT NULL,
    outcome BLOB NOT NULL, used_run TEXT NOT NULL,
    PRIMARY KEY (sha256, path, reader, limits));
INSERT INTO meta VALUES ('schema', '1');
"""


def test_a_ledger_of_the_previous_schema_is_kept_aside_and_a_new_one_started(pristine, tmp_path):
    """Version 1 rows carry no checksums: nothing in them can be verified, so none is trusted."""
    inbox, clean = pristine
    outbox = _copy(clean, tmp_path / "outbox")
    (outbox / LEDGER_NAME).unlink()
    with sqlite3.connect(outbox / LEDGER_NAME) as db:
        db.executescript(_SCHEMA_1)
        db.execute("INSERT INTO versions VALUES ('a.xlsx', 'ab', 1, 't', 't', 'r', 'r', 'accepted', '', '', '[]')")
    result = run(inbox, outbox, CFG)
    assert "outputs_from" not in result.extra and len(result.extra["reading"]["read"]) == 6
    (aside,) = outbox.glob(f"{LEDGER_NAME}.schema1-*")
    with sqlite3.connect(aside) as db:  # kept whole, for SQL queries
        assert db.execute("SELECT path FROM versions").fetchall() == [("a.xlsx",)]
    assert "ledger_damaged" in _events(outbox, result.run_id)
    assert (outbox / "projects.csv").read_bytes() == (clean / "projects.csv").read_bytes()


def test_reader_fingerprint_covers_modules_in_subpackages(tmp_path, monkeypatch):
    """A module moved into a subfolder (issue 12) still invalidates the read cache when it changes."""
    package = tmp_path / "xlbatch"
    (package / "intake").mkdir(parents=True)
    (package / "ledger.py").write_text("# top\n", encoding="utf-8")
    (package / "intake" / "read.py").write_text("A = 1\n", encoding="utf-8")
    monkeypatch.setattr(ledger_module, "__file__", str(package / "ledger.py"))
    ledger_module.reader_fingerprint.cache_clear()
    before = ledger_module.reader_fingerprint()
    (package / "intake" / "read.py").write_text("A = 2\n", encoding="utf-8")
    ledger_module.reader_fingerprint.cache_clear()
    after = ledger_module.reader_fingerprint()
    ledger_module.reader_fingerprint.cache_clear()
    assert before != after
