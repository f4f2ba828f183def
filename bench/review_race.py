"""Reviews saved while a run writes: how often does the auditor's review reach the next workbook?

Each trial: a run on the sample inbox; then `xlbatch run --recompute` in a subprocess while an
"auditor" saves a review over outbox/consolidated.xlsx (as Excel does: a new file renamed over the
name) at a random moment during it; then one more `xlbatch run`. The trial counts as carried when the
review is in the workbook that last run shows.

    python bench/review_race.py [--trials 20] [--seed 1]
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import openpyxl

warnings.filterwarnings("ignore", category=UserWarning, module="openpyxl")  # data bars (x14)
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
from sample_inbox import write_sample_inbox  # noqa: E402


def xlbatch(inbox: Path, outbox: Path, *extra: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "xlbatch.cli", "run", "--inbox", str(inbox),
                             "--outbox", str(outbox), "--quiet", *extra],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def save_review(outbox: Path, note: str) -> str:
    book = openpyxl.load_workbook(outbox / "consolidated.xlsx")
    row = next(r for r in book["异常清单"].iter_rows(min_row=2) if r[2].value == "RATE_MISMATCH")
    row[13].value, row[14].value = "已核实", note
    book.save(outbox / "saving.xlsx")
    os.replace(outbox / "saving.xlsx", outbox / "consolidated.xlsx")
    return row[0].value


def shown_note(outbox: Path, anomaly_id: str):
    rows = openpyxl.load_workbook(outbox / "consolidated.xlsx", read_only=True)["异常清单"].iter_rows(
        min_row=2, values_only=True)
    return next((r[14] for r in rows if r[0] == anomaly_id), None)


def trial(rng: random.Random, work: Path, duration: float) -> tuple[bool, bool]:
    """(saved while the run was still going, review in the next workbook)."""
    inbox, outbox = work / "inbox", work / "outbox"
    write_sample_inbox(inbox)
    assert xlbatch(inbox, outbox).wait() == 0
    racing = xlbatch(inbox, outbox, "--recompute")
    time.sleep(rng.uniform(0, duration))
    note = f"核实 {rng.random():.6f}"
    anomaly_id = save_review(outbox, note)
    during = racing.poll() is None
    assert racing.wait() == 0
    assert xlbatch(inbox, outbox).wait() == 0
    return during, shown_note(outbox, anomaly_id) == note


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory() as tmp:  # how long a run takes here, to aim the saves inside it
        write_sample_inbox(Path(tmp) / "inbox")
        start = time.perf_counter()
        xlbatch(Path(tmp) / "inbox", Path(tmp) / "outbox").wait()
        duration = time.perf_counter() - start
    during = carried = 0
    for _ in range(args.trials):
        with tempfile.TemporaryDirectory() as tmp:
            was_during, was_carried = trial(rng, Path(tmp), duration)
            during += was_during
            carried += was_carried
    print(f"{args.trials} trials (a run takes {duration:.2f} s): saved while the run was going {during}, "
          f"review in the next workbook {carried}/{args.trials}")


if __name__ == "__main__":
    main()
