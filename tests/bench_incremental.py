"""Measure reruns on 300 forms: first run, rerun (repeats the outputs), --recompute rerun, rerun after 3 resubmissions.

    .venv/bin/python tests/bench_incremental.py [N]    # default 300 forms

Builds N forms in a temporary inbox (the sample inbox's forms, one unit per
three projects), then runs `xlbatch run` as cron would (a new process each
time, wall clock including start-up) and prints each time, its share of the
first run, and what run.json says was read. Not a test: timings vary by
machine, so the suite asserts the ledger's counters instead.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from sample_inbox import farmland, nutrition, public_health, relief

from xlbatch.outputs.template import write_workbook

MAKERS = (nutrition, farmland, public_health, relief)


def form(i: int, total: float | None = None):
    spec = MAKERS[i % len(MAKERS)]()
    spec.unit = f"示例县第{i // 3 + 1:03d}单位"
    spec.project = f"{spec.project}（{i:03d}）"
    if total is not None:
        spec.total_reported = total
    return spec


def write_form(inbox: Path, i: int, total: float | None = None) -> None:
    spec = form(i, total)
    folder = inbox / spec.unit
    folder.mkdir(parents=True, exist_ok=True)
    write_workbook(folder / f"{spec.project}.xlsx", [("自评表", spec)])


def build_inbox(inbox: Path, n: int) -> None:
    for i in range(n):
        write_form(inbox, i)


def timed_run(inbox: Path, outbox: Path, *extra: str) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "xlbatch.cli", "run", "--inbox", str(inbox), "--outbox", str(outbox),
                    "--quiet", *extra], check=True)
    return time.perf_counter() - start


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 300
    with tempfile.TemporaryDirectory() as tmp:
        inbox, outbox = Path(tmp) / "inbox", Path(tmp) / "outbox"
        build_inbox(inbox, n)

        def reading() -> str:
            data = json.loads((outbox / "run.json").read_text(encoding="utf-8"))
            return f"read {len(data['reading']['read'])}, reused {data['reading']['reused']}"

        first = timed_run(inbox, outbox)
        print(f"{n} forms, first run:                      {first:5.2f} s   ({reading()})")
        projects = (outbox / "projects.csv").read_bytes()

        def same() -> str:
            return "byte-identical" if (outbox / "projects.csv").read_bytes() == projects else "DIFFERENT"

        repeated = timed_run(inbox, outbox)
        print(f"rerun, unchanged inbox (repeats outputs): {repeated:5.2f} s = {repeated / first:4.0%}  "
              f"({reading()}; projects.csv {same()})")
        full = timed_run(inbox, outbox, "--recompute")
        print(f"rerun --recompute, unchanged inbox:       {full:5.2f} s = {full / first:4.0%}  ({reading()}; "
              f"projects.csv {same()})")
        for i in range(3):
            write_form(inbox, i, total=100)
        changed = timed_run(inbox, outbox)
        print(f"rerun after 3 resubmissions:              {changed:5.2f} s = {changed / first:4.0%}  ({reading()})")

if __name__ == "__main__":
    main()
