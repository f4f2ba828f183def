"""A damaged ledger.sqlite never gives wrong figures and never stops the nightly runs.

The ledger is a cache and a history, never the truth: whatever damage it takes
(bits flipped anywhere past its header page, a folder in its place, a cached
outcome rewritten), the next run finishes and publishes exactly the figures a
run with an intact ledger publishes.
"""

from __future__ import annotations

import dataclasses
import json
import pickle
import random
import shutil
import sqlite3
from pathlib import Path

import pytest
from sample_inbox import write_sample_inbox

from xlbatch.cli import main
from xlbatch.config import Config
from xlbatch.ledger import LEDGER_NAME
from xlbatch.nightly import run

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


def _events(outbox: Path, run_id: str) -> list[str]:
    lines = (outbox / "runs" / run_id / "run.log.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line)["event"] for line in lines]


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


def test_a_folder_in_place_of_the_ledger_is_set_aside(pristine, tmp_path, capsys):
    inbox, clean = pristine
    outbox = _copy(clean, tmp_path / "outbox")
    (outbox / LEDGER_NAME).unlink()
    (outbox / LEDGER_NAME).mkdir()
    (outbox / LEDGER_NAME / "note.txt").write_text("someone's file")
    assert main(["run", "--inbox", str(inbox), "--outbox", str(outbox), "--quiet"]) == 0
    assert (outbox / "projects.csv").read_bytes() == (clean / "projects.csv").read_bytes()
    (aside,) = outbox.glob(f"{LEDGER_NAME}.damaged-*")
    assert (aside / "note.txt").read_text() == "someone's file"  # set aside, not deleted
    assert (outbox / LEDGER_NAME).is_file()
    again = run(inbox, outbox, CFG, recompute=True)  # the rebuilt ledger serves the next night
    assert again.extra["reading"] == {"read": [], "reused": 6}


def _forge(outbox: Path, *, recompute_checksum: bool) -> str:
    """Rewrite one cached outcome as a well-formed pickle of a FileOutcome with other figures."""
    from xlbatch import ledger

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
