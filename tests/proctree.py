"""A process's tree as Linux shows it in /proc: for tests that kill `xlbatch run` and look at what is left."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path


def run_command(inbox: Path, outbox: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "xlbatch.cli", "run", "--inbox", str(inbox), "--outbox", str(outbox),
            "--quiet", *extra]


def children(pid: int) -> list[int]:
    """The direct children of `pid` (of any of its threads)."""
    found: list[int] = []
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            found += [int(c) for c in (task / "children").read_text().split()]
    except (FileNotFoundError, ProcessLookupError):
        pass
    return found


def descendants(pid: int) -> list[int]:
    found, todo = [], children(pid)
    while todo:
        child = todo.pop()
        found.append(child)
        todo += children(child)
    return found


def alive(pids) -> list[int]:
    """Those of `pids` still running (a zombie waiting to be reaped has ended)."""
    living = []
    for pid in pids:
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except (FileNotFoundError, ProcessLookupError):
            continue
        if stat.rsplit(")", 1)[1].split()[0] != "Z":
            living.append(pid)
    return living


def wait_for_workers(proc: subprocess.Popen, count: int = 2, seconds: float = 60) -> list[int]:
    """Poll until `proc` has `count` child processes (its worker pool is up: it is reading); [] if it ended first."""
    deadline = time.monotonic() + seconds
    while proc.poll() is None and time.monotonic() < deadline:
        found = children(proc.pid)
        if len(found) >= count:
            return found
        time.sleep(0.002)
    return []


def wait_gone(pids, seconds: float = 10) -> list[int]:
    """Poll until none of `pids` runs, at most `seconds`; those still running."""
    deadline = time.monotonic() + seconds
    while alive(pids) and time.monotonic() < deadline:
        time.sleep(0.02)
    return alive(pids)
