"""Kill `xlbatch run` while its worker processes read, then start the next run: count what is left.

    .venv/bin/python tests/bench_kill.py [REPEATS] [FORMS]    # default 10 kills per signal, 80 forms

For SIGKILL and SIGTERM, REPEATS times each: start `xlbatch run` on a fresh
outbox (FORMS forms in the inbox), wait until its worker processes exist (the
process tree, through /proc), send the signal, wait for the run to end, then
count the processes of its tree still alive 5 s later and run `xlbatch run`
again. Prints, per signal, how many kills left processes behind and how many
next runs were blocked (exit 3) or failed. Leftover processes are killed
before the next repeat. First, REPEATS times: after such a kill (and a lock
file naming a PID no process has), two runs start at once; it counts the
exit-3 messages and those naming the run that held the lock. Not a test: the suite checks single kills
deterministically (tests/test_kill.py).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from bench_incremental import build_inbox
from proctree import descendants, run_command, wait_for_workers, wait_gone


def one_kill(inbox: Path, outbox: Path, sig: int) -> tuple[int, int, int | None]:
    """(processes of the killed run left after 5 s, exit status of the next run, the killed run's)."""
    proc = subprocess.Popen(run_command(inbox, outbox, "--workers", "2"), stderr=subprocess.DEVNULL)
    workers = wait_for_workers(proc)
    if not workers:
        raise SystemExit("the run ended before its workers were seen: use more forms")
    tree = set(workers) | set(descendants(proc.pid))
    proc.send_signal(sig)
    try:
        proc.wait(timeout=120)
    except subprocess.TimeoutExpired:
        print(f"  the {sig.name}ed run has not ended after 120 s", flush=True)
        tree.add(proc.pid)
    left = wait_gone(tree, 5)
    after = subprocess.run(run_command(inbox, outbox, "--workers", "2"), stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL).returncode
    for pid in left:  # do not let this repeat's leftovers spoil the next
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    return len(left), after, proc.returncode


def contended_starts(inbox: Path, outbox: Path) -> tuple[int, int]:
    """After a kill -9 during reading (its PID stays in the lock file), two runs start at once:
    (messages of runs that exited 3, those naming the other run, the one holding the lock)."""
    one_kill(inbox, outbox, signal.SIGKILL)  # leaves "进程 <dead pid>" in .xlbatch.lock
    proc = subprocess.Popen(run_command(inbox, outbox, "--workers", "2"), stderr=subprocess.DEVNULL)
    tree = set(wait_for_workers(proc))
    (outbox / ".xlbatch.lock").write_text("进程 4194000，2025-03-01 02:30:00 开始\n", encoding="utf-8")
    proc.send_signal(signal.SIGKILL)  # and a text naming no live process
    proc.wait()
    # --recompute: both evaluate (a second or two), so that they overlap
    runs = [subprocess.Popen(run_command(inbox, outbox, "--workers", "2", "--recompute"), stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE, text=True) for _ in range(2)]
    errs = [r.communicate()[1] for r in runs]
    for pid in wait_gone(tree, 5):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    messages = right = 0
    for i, run in enumerate(runs):
        if run.returncode == 3:
            messages += 1
            if f"进程 {runs[1 - i].pid}" in errs[i]:
                right += 1
            else:
                print(f"  exit 3 naming another process than run {runs[1 - i].pid}: {errs[i].strip()}", flush=True)
    return messages, right


def main() -> None:
    repeats = int(sys.argv[1]) if len(sys.argv) > 1 else 10
    forms = int(sys.argv[2]) if len(sys.argv) > 2 else 80
    with tempfile.TemporaryDirectory() as tmp:
        inbox = Path(tmp) / "inbox"
        build_inbox(inbox, forms)
        messages = right = 0
        for i in range(repeats):
            outbox = Path(tmp) / f"outbox-contended-{i}"
            got = contended_starts(inbox, outbox)
            messages, right = messages + got[0], right + got[1]
            shutil.rmtree(outbox, ignore_errors=True)
        print(f"contended starts after a killed run: {messages} exit-3 messages, {right} naming the run "
              f"that held the lock", flush=True)
        for sig in (signal.SIGKILL, signal.SIGTERM):
            leaving = blocked = failed = 0
            statuses: dict[int | None, int] = {}
            for i in range(repeats):
                outbox = Path(tmp) / f"outbox-{sig.name}-{i}"
                left, after, status = one_kill(inbox, outbox, sig)
                statuses[status] = statuses.get(status, 0) + 1
                leaving += left > 0
                blocked += after == 3
                failed += after not in (0, 3)
                print(f"{sig.name} #{i + 1}: {left} process(es) left, next run exit {after}", flush=True)
                shutil.rmtree(outbox, ignore_errors=True)
            print(f"{sig.name}: {repeats} kills during reading; left processes {leaving}, "
                  f"next run blocked (exit 3) {blocked}, next run failed otherwise {failed}; "
                  f"the killed run's exit status: {statuses}", flush=True)


if __name__ == "__main__":
    main()
