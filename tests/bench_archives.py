"""What a package costs: 100 forms sent as one .zip against the same 100 forms as files.

    PYTHONPATH=src python tests/bench_archives.py [N] [REPEATS]

Times (best of REPEATS) discover alone (listing, hashing; for the zip also opening it and
inflating every member to hash it), reading and parsing every form in one process (what the
workers do; for the zip each member is inflated again from the archive's bytes), a full
evaluation in 2 worker processes, and a nightly run over an unchanged inbox with --recompute
(every outcome from the ledger).
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
from xlbatch.ops.execute import local_processes, serial
from xlbatch.outputs.template import write_workbook
from xlbatch.pipeline import _task, process


def timed(work) -> float:
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


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
    inboxes = {"files": files, "zip": packed}
    for name, inbox in inboxes.items():
        run(inbox, root / f"out-{name}", cfg, local_processes(2))  # the ledger the last column reads from
    stages = {
        "discover": lambda inbox, name: discover(inbox, cfg.limits),
        # what the workers do, without the pool; for the zip each member is inflated from the archive's bytes
        "read, 1 process": lambda inbox, name: serial([_task(f, cfg) for f in discover(inbox, cfg.limits)
                                                       if f.wanted]),
        "evaluate, 2 workers": lambda inbox, name: process(inbox, cfg, local_processes(2)),
        "nightly, from ledger": lambda inbox, name: run(inbox, root / f"out-{name}", cfg, local_processes(2),
                                                        recompute=True),
    }
    best = {(stage, name): float("inf") for stage in stages for name in inboxes}
    for _ in range(repeats):  # interleaved, so that a busy moment of the machine hits both alike
        for stage, work in stages.items():
            for name, inbox in inboxes.items():
                best[(stage, name)] = min(best[(stage, name)], timed(lambda: work(inbox, name)))  # noqa: B023
    print(f"{'':8}" + "".join(f"{stage:>24}" for stage in stages))
    for name in inboxes:
        print(f"{name:8}" + "".join(f"{best[(stage, name)]:>22.3f} s" for stage in stages))
    shutil.rmtree(root)


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:3]))
