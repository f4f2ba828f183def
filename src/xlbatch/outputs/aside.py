"""Work done in a forked child process while this one goes on: the report and the notices are
written beside the workbook (write.py).

Writing consolidated.xlsx is XlsxWriter's serial work on one core (about 2 s for 1,000 forms); the
report's charts and the notices take about 1.5 s more, and nothing of either depends on the other.
A forked child inherits the run's result as it is in memory (nothing is copied or pickled on the
way in), writes its files into the run's folder, and sends back only what `work` returned, or the
exception it raised, which is raised again here (its traceback as a note), so a failure reads as it
did when the documents were written in this process.

Forked only from the run's own main process on a system that can fork: a process that is itself a
worker of a pool (a county written in parallel) already has its core, and then `work` runs in place.
The child is killed with the run: by the kernel if this process dies (PR_SET_PDEATHSIG), by `cancel`
when this process stops with an exception.
"""

from __future__ import annotations

import contextlib
import gc
import multiprocessing
import os
import pickle
import signal
import sys
import traceback
from collections.abc import Callable


class Aside:
    """`work()` started in a forked child (or run at once where forking is not wanted); `result()`
    waits for it and returns what it returned."""

    def __init__(self, work: Callable[[], object]):
        self.pid = None
        if not hasattr(os, "fork") or multiprocessing.parent_process() is not None:
            self.value = work()
            return
        read, write = os.pipe()
        parent = os.getpid()
        try:
            pid = os.fork()
        except OSError:  # no process to be had (a limit on processes, no memory): in place, as before
            os.close(read)
            os.close(write)
            self.value = work()
            return
        if pid == 0:
            os.close(read)
            _child(work, write, parent)  # never returns
        os.close(write)
        self.pid, self.fd = pid, read

    def result(self):
        if self.pid is None:
            return self.value
        try:
            with os.fdopen(self.fd, "rb", closefd=False) as fh:
                data = fh.read()
        except BaseException:  # stopped while waiting (SIGTERM, Ctrl-C): the child goes too
            self.cancel()
            raise
        os.close(self.fd)
        _, status = os.waitpid(self.pid, 0)
        self.pid = None
        if not data:  # killed before it could answer
            raise RuntimeError(f"写出汇总报告和整改通知的子进程异常退出（状态 {status}）")
        ok, value = pickle.loads(data)
        if not ok:
            raise value
        return value

    def cancel(self) -> None:
        """Kill the child, if it still runs, and reap it."""
        if self.pid is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGKILL)
        os.waitpid(self.pid, 0)
        os.close(self.fd)
        self.pid = None


def _child(work: Callable[[], object], fd: int, parent: int) -> None:
    """In the child: run `work`, send back (True, value) or (False, exception), exit without running
    the parent's clean-ups (its lock, ledger and log belong to the parent)."""
    try:
        from ..ops.execute import _end_with_parent

        _end_with_parent(parent)
        gc.freeze()  # what the child inherited is never its garbage: its collections need not scan it
        answer = (True, work())
    except BaseException as exc:  # every failure goes back to the parent, which raises it
        exc.add_note("".join(traceback.format_exception(exc)).rstrip())
        answer = (False, exc)
    try:
        data = pickle.dumps(answer)
    except Exception as exc:  # what cannot be pickled goes back as its text
        data = pickle.dumps((False, RuntimeError(f"{answer[1]!r}: {exc}")))
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        sys.stdout.flush()
        sys.stderr.flush()
    finally:
        os._exit(0 if answer[0] else 1)
