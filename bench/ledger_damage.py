"""Bit flips in a real ledger: how often does a run fail, or publish other figures?

Builds the outbox of two runs over the sample inbox (a full run, then a repeat: the ledger holds the
read cache, both runs, their snapshots and output hashes). Each trial: a copy of that outbox, 1-8
bits flipped at random offsets past the ledger's first page (random.Random(seed)), then a run as
cron starts it and one with --recompute (in process, serial reading). A trial fails when a run
raises (the CLI would exit 1) or publishes a projects.csv other than the undamaged one. It also
counts the warnings the defences logged.

    python bench/ledger_damage.py [--trials 300] [--start 0]
"""

from __future__ import annotations

import argparse
import collections
import json
import random
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
from sample_inbox import write_sample_inbox  # noqa: E402
from test_ledger_damage import _flip_bits  # noqa: E402

from xlbatch.config import Config  # noqa: E402
from xlbatch.nightly import run  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--trials", type=int, default=300)
    parser.add_argument("--start", type=int, default=0, help="first seed")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        inbox, clean = root / "inbox", root / "clean"
        write_sample_inbox(inbox)
        run(inbox, clean, Config())
        run(inbox, clean, Config())
        expected = (clean / "projects.csv").read_bytes()
        outcomes, warnings = collections.Counter(), collections.Counter()
        for seed in range(args.start, args.start + args.trials):
            outbox = root / "trial"
            shutil.copytree(clean, outbox, symlinks=True)
            _flip_bits(outbox / "ledger.sqlite", random.Random(seed))
            outcomes[_trial(inbox, outbox, expected, warnings)] += 1
            shutil.rmtree(outbox)
    print(f"{args.trials} trials (seeds {args.start}-{args.start + args.trials - 1}): "
          f"ok {outcomes['ok']}, run failed {outcomes['failed']}, other projects.csv {outcomes['wrong']}")
    print("warnings logged:", dict(warnings))


def _trial(inbox: Path, outbox: Path, expected: bytes, warnings: collections.Counter) -> str:
    for recompute in (False, True):
        try:
            result = run(inbox, outbox, Config(), recompute=recompute)
        except Exception as exc:
            print(f"  failed: {type(exc).__name__}: {str(exc)[:100]}", file=sys.stderr)
            return "failed"
        for line in (outbox / "runs" / result.run_id / "run.log.jsonl").read_text(encoding="utf-8").splitlines():
            entry = json.loads(line)
            if entry["level"] == "warning":
                warnings[entry["event"]] += 1
        if (outbox / "projects.csv").read_bytes() != expected:
            return "wrong"
    return "ok"


if __name__ == "__main__":
    main()
