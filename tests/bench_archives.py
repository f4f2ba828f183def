"""What a package costs: 100 forms sent as one .zip against the same 100 forms as files.

    PYTHONPATH=src python tests/bench_archives.py [N] [REPEATS]

Times (best of REPEATS) discover alone (listing, hashing; for the zip also opening it and
inflating every member to hash it), a full evaluation in 2 worker processes, and a nightly run
over an unchanged inbox with --recompute (every outcome from the ledger).
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from seed import seed_form

from xlbatch.config import Config
from xlbatch.intake.discover import discover
from xlbatch.nightly import run
from xlbatch.ops.execute import local_processes
from xlbatch.outputs.template import write_workbook
from xlbatch.pipeline import process


def best(work, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return min(times)


def main(n: int = 100, repeats: int = 3) -> None:
    cfg = Config()
    root = Path(tempfile.mkdtemp(prefix="bench-archives-"))
    files, packed = root / "files", root / "zip"
    (files / "单位").mkdir(parents=True)
    packed.mkdir()
    with zipfile.ZipFile(packed / "单位.zip", "w", zipfile.ZIP_DEFLATED) as z:
        for i in range(n):
            path = write_workbook(files / "单位" / f"项目{i:03d}.xlsx", [("自评表", seed_form(project=f"项目{i:03d}"))])
            z.write(path, f"单位/项目{i:03d}.xlsx")
    size = sum(p.stat().st_size for p in (files / "单位").iterdir())
    print(f"{n} forms: {size / 1e6:.2f} MB as files, {(packed / '单位.zip').stat().st_size / 1e6:.2f} MB zipped")
    print(f"{'':10}{'discover':>12}{'evaluate (2 workers)':>24}{'nightly, from ledger':>24}")
    for name, inbox in (("files", files), ("zip", packed)):
        listing = best(lambda inbox=inbox: discover(inbox, cfg.limits), repeats)
        full = best(lambda inbox=inbox: process(inbox, cfg, local_processes(2)), repeats)
        outbox = root / f"out-{name}"
        run(inbox, outbox, cfg, local_processes(2))
        cached = best(lambda inbox=inbox, outbox=outbox: run(inbox, outbox, cfg, local_processes(2), recompute=True),
                      repeats)
        print(f"{name:10}{listing * 1000:>10.1f}ms{full:>22.2f} s{cached:>22.2f} s")
    shutil.rmtree(root)


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:3]))
