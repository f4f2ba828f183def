"""Where a cold `xlbatch run` spends its time: wall seconds per stage, without a profiler's overhead.

    python bench/stages.py INBOX [--workers N]

Runs the nightly job once on INBOX into a fresh temporary outbox (as the CLI
does: same collector thresholds, worker pool) and prints the seconds spent in
each stage. To time them, this script loads the stages' modules (pandas,
pandera, XlsxWriter) before the run, so "imports before the run" holds what
the CLI loads while its workers read, and "reading" shows the reading alone.
The report and the notices are written in a child process while this one
writes the workbook and the CSVs (outputs/aside.py): "wait for the report and
notices" is how long the run waited for them after that, 0 when the workbook
took longer. Make an inbox with `python bench/bench.py --keep DIR` (DIR/inbox).
bench/floors.py compares the whole run with its floors. It asserts nothing.
"""

from __future__ import annotations

import argparse
import functools
import gc
import os
import tempfile
import time
from pathlib import Path

STARTED = time.perf_counter()
gc.set_threshold(50_000, 20, 100)  # as xlbatch.cli.main

import xlbatch.checks.score as score  # noqa: E402
import xlbatch.checks.validate as validate  # noqa: E402
import xlbatch.form.normalize as normalize  # noqa: E402
import xlbatch.nightly as nightly  # noqa: E402
import xlbatch.ops.ledger as ledger  # noqa: E402
import xlbatch.outputs.aside as aside  # noqa: E402
import xlbatch.outputs.changes as changes  # noqa: E402
import xlbatch.outputs.write as write  # noqa: E402
from xlbatch.config import Config  # noqa: E402
from xlbatch.ops.execute import Budget, local_processes  # noqa: E402

IMPORTED = time.perf_counter() - STARTED
SECONDS: dict[str, float] = {}

# (module or class, function, label), in pipeline order.
STAGES = [
    (nightly, "discover", "discover + sha256"),
    (ledger.CachingExecutor, "__call__", "read (2 workers) + load checks"),
    (normalize, "build_frames", "check: build frames"),
    (validate, "run_stage", "check: pandera rules (both stages)"),
    (score, "score_indicators", "check: score indicators"),
    (score, "score_forms", "check: score forms"),
    (score, "mark_duplicates", "check: duplicates"),
    (changes, "snapshot", "change report snapshot"),
    (write, "write_workbook", "write consolidated.xlsx"),
    (write, "write_projects_csv", "write projects.csv"),
    (write, "write_anomalies_csv", "write anomalies.csv"),
    (aside.Aside, "result", "wait for the report and notices (child)"),
    (write, "write_run_json", "write run.json"),
    (ledger.Ledger, "record_run", "ledger: record the run"),
    (nightly, "publish", "publish (fsync, rename)"),
]


def timed(owner, name: str, label: str) -> None:
    inner = getattr(owner, name)

    @functools.wraps(inner)
    def wrapper(*args, **kwargs):
        start = time.perf_counter()
        try:
            return inner(*args, **kwargs)
        finally:
            SECONDS[label] = SECONDS.get(label, 0.0) + time.perf_counter() - start

    setattr(owner, name, wrapper)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("inbox", type=Path)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()
    # Each function is replaced where its caller looks it up at call time (the pipeline and
    # nightly import the checking stages and the change report inside the functions that use them).
    for owner, name, label in STAGES:
        timed(owner, name, label)
    cfg = Config()
    with tempfile.TemporaryDirectory(prefix="xlbatch-stages-") as tmp:
        start = time.perf_counter()
        pool = local_processes(args.workers, Budget.of(cfg.limits))
        result = nightly.run(args.inbox, Path(tmp) / "outbox", cfg, pool)
        total = time.perf_counter() - start
    print(f"{result.counts()['forms']} forms, {args.workers} workers, {os.cpu_count()} cores")
    print(f"  {'imports before the run':40s} {IMPORTED:6.2f} s")
    for _, _, label in STAGES:
        if label in SECONDS:
            print(f"  {label:40s} {SECONDS[label]:6.2f} s")
    print(f"  {'run, end to end (after imports)':40s} {total:6.2f} s")


if __name__ == "__main__":
    main()
