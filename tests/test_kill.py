"""A killed run never blocks the next one: its worker processes end with it and never hold the lock.

Each kill lands while the run's worker pool is up (the pool exists only while
the files are read): the test watches the run's process tree through /proc
and signals once both workers exist. Processes that get killed are always
subprocesses of the test.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from bench_incremental import build_inbox
from proctree import alive, descendants, run_command, wait_for_workers, wait_gone
from sample_inbox import write_sample_inbox

from xlbatch.config import Config
from xlbatch.nightly import run
from xlbatch.ops.outbox import CURRENT, LOCK, OUTPUTS, locked

CFG = Config()
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def big_inbox(tmp_path_factory) -> Path:
    inbox = tmp_path_factory.mktemp("kill") / "inbox"
    build_inbox(inbox, 80)  # about a second of reading with two workers
    return inbox


def _shown(outbox: Path) -> tuple[str, dict[str, bytes]]:
    return os.readlink(outbox / CURRENT), {name: (outbox / name).read_bytes() for name in OUTPUTS}


def _published_then_grown(big_inbox: Path, tmp_path: Path) -> tuple[Path, Path]:
    """An outbox showing a run of the first unit's forms, and the inbox grown to all 80 since."""
    inbox, outbox = tmp_path / "inbox", tmp_path / "outbox"
    shutil.copytree(big_inbox, inbox)
    units = sorted(inbox.iterdir())
    later = tmp_path / "later"
    later.mkdir()
    for unit in units[1:]:
        unit.rename(later / unit.name)
    run(inbox, outbox, CFG)
    for unit in units[1:]:
        (later / unit.name).rename(unit)
    return inbox, outbox


def _log_since(outbox: Path, known: set[str]) -> list[dict]:
    """The log records of the runs not in `known` (the killed one)."""
    folders = [p for p in (outbox / "runs").iterdir() if p.name not in known]
    return [json.loads(line) for folder in folders
            for line in (folder / "run.log.jsonl").read_text(encoding="utf-8").splitlines()]


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM], ids=["kill-9", "SIGTERM"])
def test_a_run_killed_while_reading_leaves_no_process_and_the_next_run_completes(big_inbox, tmp_path, sig):
    inbox, outbox = _published_then_grown(big_inbox, tmp_path)
    before, known = _shown(outbox), {p.name for p in (outbox / "runs").iterdir()}
    # stderr to a file: a pipe would stay open as long as any process of the tree lives
    with open(tmp_path / "stderr", "w+", encoding="utf-8") as stderr:
        proc = subprocess.Popen(run_command(inbox, outbox, "--workers", "2"), stderr=stderr)
        workers = wait_for_workers(proc, 2)
        assert len(workers) == 2 and alive(workers) == workers, "the run must be killed while its workers read"
        tree = set(workers) | set(descendants(proc.pid))
        proc.send_signal(sig)
        proc.wait(timeout=60)
        try:
            assert wait_gone(tree, 10) == []  # polled: they end within milliseconds
        finally:
            _kill_all(alive(tree))  # when the assertion fails, none is left behind either
        stderr.seek(0)
        err = stderr.read()
    assert _shown(outbox) == before  # killed before publishing: the previous run, byte for byte
    if sig == signal.SIGKILL:
        assert proc.returncode == -signal.SIGKILL
    else:  # an orderly end: exit 143, a message, the run logged as failed
        assert proc.returncode == 143, err
        assert "收到终止信号 SIGTERM，已中止" in err and "Traceback" not in err
        assert [r["event"] for r in _log_since(outbox, known)][-1] == "failed"
    # The next run is not blocked (exit 3) but completes and publishes.
    after = subprocess.run(run_command(inbox, outbox, "--workers", "2"), capture_output=True, text=True)
    assert after.returncode == 0, after.stderr
    assert _shown(outbox)[0] != before[0]
    assert (outbox / LOCK).read_bytes() == b""  # a finished run leaves no PID behind


SWALLOWED = """
import gc, os, signal, sys
import xlbatch.outputs.write as write
from xlbatch.cli import main

sent = []

def sigterm_swallowed(*_):  # in a callback whose exception Python reports ("Exception ignored") and drops
    if not sent:  # once: the handler resets SIGTERM to its default
        sent.append(os.getpid())
        try:
            os.kill(os.getpid(), signal.SIGTERM)  # the handler runs as the call returns
        except BaseException as exc:
            print(f"raised in the callback: {type(exc).__name__}", flush=True)
            raise

if sys.argv[1] == "as the pool forks":  # measured: logging's at-fork callback, 6 of 30 SIGTERMs
    os.register_at_fork(after_in_parent=sigterm_swallowed)
else:  # past the reading: a garbage collection's callback, once the outputs are written
    written = write.write_outputs

    def write_outputs(*args, **kwargs):
        folder = written(*args, **kwargs)
        gc.callbacks.append(sigterm_swallowed)
        gc.collect()
        return folder

    write.write_outputs = write_outputs
sys.exit(main(sys.argv[2:]))
"""


@pytest.mark.parametrize("moment", ["as the pool forks", "once written"])
def test_a_sigterm_whose_exception_python_swallows_still_ends_the_run_unpublished(big_inbox, tmp_path, moment):
    """SIGTERM's exception is raised wherever the main thread is; where Python swallows it (an at-fork or
    GC callback, a __del__) the run still ends as failed before publishing: at the next batch read, or
    at the latest just before publishing."""
    inbox, outbox = _published_then_grown(big_inbox, tmp_path)
    before, known = _shown(outbox), {p.name for p in (outbox / "runs").iterdir()}
    arguments = run_command(inbox, outbox, "--workers", "2")[3:]  # those after `python -m xlbatch.cli`
    done = subprocess.run([sys.executable, "-c", SWALLOWED, moment, *arguments],
                          capture_output=True, text=True, timeout=120)
    assert done.stdout == "raised in the callback: Terminated\n", done.stderr
    assert done.returncode == 143, done.stderr
    assert "收到终止信号 SIGTERM，已中止" in done.stderr and "Traceback" not in done.stderr
    assert _shown(outbox) == before
    events = [r["event"] for r in _log_since(outbox, known)]
    assert events[-1] == "failed" and ("evaluated" in events) == (moment == "once written")


STOPPED = """
import sys
from concurrent.futures import process as cf
import multiprocessing.context as mc
from pathlib import Path
from xlbatch.form.analyse import FileTask
from xlbatch.config import Config
from xlbatch.intake.discover import discover
from xlbatch.ops.execute import local_processes

forked, started, starting = [], mc.ForkProcess.start, cf._ExecutorManagerThread.start

def start(self):  # a Ctrl-C landing after the second worker's fork, before the pool records it
    started(self)
    forked.append(self.pid)
    if len(forked) == 2:
        raise KeyboardInterrupt

def start_thread(self):  # a Ctrl-C landing as the pool starts the thread that watches its workers
    raise KeyboardInterrupt

if sys.argv[2] == "second fork":
    mc.ForkProcess.start = start
else:
    cf._ExecutorManagerThread.start = start_thread
tasks = [FileTask(str(f.path), f.record.path, f.record.sha256, Config().limits)
         for f in discover(Path(sys.argv[1])) if not f.ignored]
try:
    local_processes(2)(tasks)
except KeyboardInterrupt:
    print("stopped", flush=True)
"""


@pytest.mark.parametrize("moment", ["second fork", "manager thread"])
def test_a_run_stopped_while_its_pool_starts_still_ends(tmp_path, moment):
    """A signal can land anywhere in the pool's start: after forking a worker and before recording it
    (the pool would never stop it, and the interpreter waits at exit for it: once in 10 SIGTERMs
    measured before this), or while the thread watching the workers starts (it cannot be joined)."""
    write_sample_inbox(tmp_path / "inbox")
    done = subprocess.run([sys.executable, "-c", STOPPED, str(tmp_path / "inbox"), moment],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and done.stdout == "stopped\n", done.stderr


def _kill_all(pids) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def test_a_forked_child_does_not_keep_the_outbox_locked(tmp_path):
    """The lock belongs to the open file, which a fork shares: a child outliving the run must not hold it."""
    code = ("import os, sys, time\nfrom pathlib import Path\nfrom xlbatch.ops.outbox import locked\n"
            "with locked(Path(sys.argv[1])):\n"
            "    if os.fork() == 0:  # the child speaks once it runs: the fork is complete\n"
            "        print(os.getpid(), flush=True)\n        time.sleep(600)\n        os._exit(0)\n"
            "    time.sleep(600)\n")
    holder = subprocess.Popen([sys.executable, "-c", code, str(tmp_path)], stdout=subprocess.PIPE, text=True)
    child = int(holder.stdout.readline())
    try:
        holder.kill()
        holder.wait()
        assert alive([child]) == [child]  # a plain fork: the child outlives its parent
        with locked(tmp_path):  # yet the lock went with the parent
            pass
    finally:
        os.kill(child, signal.SIGKILL)


def test_a_worker_whose_run_is_already_gone_ends_at_once():
    """Between the fork and asking for the parent-death signal the run may have died: the worker then
    has another parent and ends instead of waiting for work forever."""
    code = "import os\nfrom xlbatch.ops.execute import _end_with_parent\n_end_with_parent(os.getppid() + 1)\n"
    assert subprocess.run([sys.executable, "-c", code], timeout=60).returncode == 1


def _run_exit_3(tmp_path: Path) -> str:
    inbox = tmp_path / "inbox"
    inbox.mkdir(exist_ok=True)
    done = subprocess.run(run_command(inbox, tmp_path / "outbox"), capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 3, done.stderr
    return done.stderr


@contextlib.contextmanager
def _holding(code: str, path: Path):
    """A process running `code` with `path`, once it has printed 'held' (it holds the lock); killed after."""
    holder = subprocess.Popen([sys.executable, "-c", code, str(path)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        yield holder
    finally:
        holder.kill()
        holder.wait()


def test_the_exit_3_message_names_the_process_holding_the_lock_not_the_pid_in_the_file(tmp_path):
    outbox = tmp_path / "outbox"
    outbox.mkdir()
    stale = 4194000  # a killed run's text, left in the file; no such process
    (outbox / LOCK).write_text(f"进程 {stale}，2025-03-01 02:30:00 开始\n", encoding="utf-8")
    # The holder has taken the lock and not yet written its PID (a run between flock and pwrite).
    code = ("import fcntl, os, sys, time\nfd = os.open(sys.argv[1], os.O_RDWR)\n"
            "fcntl.flock(fd, fcntl.LOCK_EX)\nprint('held', flush=True)\ntime.sleep(600)\n")
    with _holding(code, outbox / LOCK) as holder:
        err = _run_exit_3(tmp_path)
    assert f"（进程 {holder.pid}）" in err and str(stale) not in err


def test_the_exit_3_message_gives_the_holders_start_time_when_the_file_is_its_own(tmp_path):
    outbox = tmp_path / "outbox"
    code = ("import sys, time\nfrom pathlib import Path\nfrom xlbatch.ops.outbox import locked\n"
            "with locked(Path(sys.argv[1])):\n    print('held', flush=True)\n    time.sleep(600)\n")
    with _holding(code, outbox) as holder:
        err = _run_exit_3(tmp_path)
    assert f"（进程 {holder.pid}，" in err and " 开始）" in err


def test_the_lock_file_is_emptied_when_released(tmp_path):
    with locked(tmp_path):
        assert (tmp_path / LOCK).read_text(encoding="utf-8").startswith(f"进程 {os.getpid()}，")
    assert (tmp_path / LOCK).read_bytes() == b""


def test_a_holder_letting_go_while_a_contender_looks_is_no_holder(tmp_path, monkeypatch):
    """The holder ends between a run's attempt and its look at /proc/locks: the run takes the lock
    instead of exiting 3 with nobody to name."""
    import xlbatch.ops.outbox as outbox_module

    real, refused = fcntl.flock, []

    def flock(fd, operation):
        if not refused:  # the first attempt meets a holder, gone when /proc/locks is read
            refused.append(fd)
            raise BlockingIOError
        return real(fd, operation)

    monkeypatch.setattr(outbox_module.fcntl, "flock", flock)
    with locked(tmp_path):
        assert refused and (tmp_path / LOCK).read_text(encoding="utf-8").startswith(f"进程 {os.getpid()}，")
