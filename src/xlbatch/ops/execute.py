"""Where the per-file work runs. Every executor returns outcomes in task order,
so results are identical however the work was spread.

- `serial`: in this process (tests, tiny inboxes).
- `local_processes(n)`: a pool of worker processes. calamine can abort the
  interpreter (a panic in Rust, an allocation of a whole far-away range), so
  each worker is capped in address space and in CPU seconds per file, and a
  worker that dies costs only the file it was reading: tasks lost with a broken
  pool are retried one per process, and the one that kills its process again
  becomes FILE_UNREADABLE with a plain explanation. Workers end with the run:
  the kernel kills them when the run's process dies, however it dies
  (`_end_with_parent`), and a run that stops with an exception (SIGTERM turned
  into one by the CLI, Ctrl-C) kills them instead of waiting for their files.
  A stop whose exception Python swallowed is raised again (`stopping.check_stop`).
- `dask_executor(address)`: the same function mapped over a Dask cluster.

A run `--by county` (counties.py) spreads whole counties instead of files: `local_spread(n)` over
the same guarded pool, `dask_spread(address)` over a cluster. A county whose worker died comes back
as `WorkerLost`, and the run does it again itself, file by file, as a single-county run would.
"""

from __future__ import annotations

import contextlib
import faulthandler
import gc
import os
import resource
import signal
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, replace
from multiprocessing import active_children, get_context
from pathlib import Path

from ..form.analyse import FileOutcome, FileTask, analyse_file, file_finding
from ..intake.archives import member_bytes
from ..intake.read import ReadError, read_file
from ..intake.read_rules import FILE_UNREADABLE
from .stopping import check_stop

# A run makes millions of small objects that live until it ends; at the default thresholds the cycle
# collector kept re-scanning them, about 1 s of a 5 s run (measured, 1,000 forms), finding almost nothing.
# Collections still happen: the youngest generation's 70× less often, full ones far less.
GC_THRESHOLDS = (50_000, 20, 100)

Executor = Callable[..., list[FileOutcome]]
"""`executor(tasks, on_done=None, meanwhile=None)` → the outcomes, in task order.

`on_done(n)` is told how many tasks are done as they come back (executors with
`reports_progress`). `meanwhile()` is called once while the tasks are worked on
elsewhere (the process pool, a cluster), or before them (serial): the main
process loads the modules it needs next instead of waiting idle.
"""


def serial(tasks: Sequence[FileTask], on_done: Callable[[int], None] | None = None,
           meanwhile: Callable[[], None] | None = None) -> list[FileOutcome]:
    if meanwhile:
        meanwhile()
    outcomes = []
    for task in tasks:
        outcomes.append(analyse_file(task))
        if on_done:
            on_done(len(outcomes))
    return outcomes


serial.reports_progress = True  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Budget:
    """What one worker may spend: extra address space (MB) and CPU seconds per file."""

    memory_mb: int = 2048
    seconds_per_file: int = 120

    @classmethod
    def of(cls, limits) -> Budget:
        return cls(limits.worker_memory_mb, limits.seconds_per_file)


def local_processes(workers: int, budget: Budget = Budget(), batch: int = 0) -> Executor:
    """A pool of `workers` processes; files go to workers in batches (a file takes ~1 ms, IPC is
    not free). A batch lost with a dying worker is retried file by file, each in its own process."""

    def run(tasks: Sequence[FileTask], on_done: Callable[[int], None] | None = None,
            meanwhile: Callable[[], None] | None = None) -> list[FileOutcome]:
        """`on_done(n)` is told how many files are done as batches come back (for a progress bar)."""
        size = batch or max(1, min(32, len(tasks) // (workers * 4) or 1))
        batches = [list(range(i, min(i + size, len(tasks)))) for i in range(0, len(tasks), size)]
        results: list[FileOutcome | None] = [None] * len(tasks)
        ctx = get_context("fork")  # workers inherit the loaded modules: start-up in milliseconds
        with _pool(workers, budget, ctx) as pool:
            futures = {pool.submit(_guarded_batch, [tasks[i] for i in b], budget.seconds_per_file): b
                       for b in batches}
            if meanwhile:  # the pool forked all its workers at the first submit: they start without it
                meanwhile()
            lost: list[int] = []
            done = 0
            for future in as_completed(futures):  # results still land by index: order is unchanged
                check_stop()  # inside the pool's block: stopping here kills the workers
                indices = futures[future]
                try:
                    for i, outcome in zip(indices, future.result(), strict=True):
                        results[i] = outcome
                except BrokenProcessPool:
                    lost.extend(indices)
                done += len(indices)
                if on_done:
                    on_done(done)
        for i in lost:
            results[i] = _isolated(tasks[i], budget, ctx)
        return results  # type: ignore[return-value]

    run.reports_progress = True  # type: ignore[attr-defined]
    return run


@contextlib.contextmanager
def _pool(workers: int, budget: Budget, ctx) -> Iterator[ProcessPoolExecutor]:
    """A process pool shut down when the block ends. A block that ends with an exception (the run
    is being stopped: SIGTERM, Ctrl-C) kills the workers first: what they read would be thrown away,
    and a worker deep in a hostile file may take its whole CPU budget to come back."""
    before = set(active_children())
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=_start_worker,
                               initargs=(budget.memory_mb, os.getpid()))
    try:
        yield pool
    except BaseException:
        # Every process started since, not only those the pool lists: a signal that lands between a
        # worker's start and the pool registering it leaves one the pool would never stop, and the
        # interpreter waits at exit for each process multiprocessing started (measured: a SIGTERMed
        # run hung so). One forked but not even registered yet is ended by _end_with_parent.
        for process in set(active_children()) - before:
            with contextlib.suppress(OSError):
                process.kill()
        # Not waiting: the stop may have come while the pool was starting its manager thread, which
        # cannot be joined then. Ending its dead workers, that thread ends by itself.
        manager = pool._executor_manager_thread
        # A worker killed while it sent its result leaves part of a message in the result pipe: the pool's
        # thread would wait forever for the rest, and the interpreter waits for that thread at exit
        # (seen: a SIGTERMed run --by county, whose results are large, hung so after its message). This
        # process holds the pipe's last writer: closed, the read ends, and the thread finds the pool broken.
        with contextlib.suppress(OSError, AttributeError):
            pool._result_queue._writer.close()
        pool.shutdown(wait=False, cancel_futures=True)
        # But a thread that runs is waited for (milliseconds: its workers are dead). Exiting while it
        # closes its wake-up pipe, CPython 3.11's exit hook may write to the closed pipe ("Exception
        # ignored ... OSError: Bad file descriptor" after the run's message; 3 of 40 stops measured).
        if manager is not None and manager.is_alive():
            manager.join(timeout=10)
        raise
    pool.shutdown(wait=True, cancel_futures=True)


def _isolated(task: FileTask, budget: Budget, ctx) -> FileOutcome:
    """Run one task alone in a fresh process; a second death is the file's fault."""
    with _pool(1, budget, ctx) as pool:
        try:
            return pool.submit(guarded, task, budget.seconds_per_file).result()
        except BrokenProcessPool:
            return FileOutcome(task.rel, task.sha256, finding=file_finding(task.rel, ReadError(
                FILE_UNREADABLE, "worker_died", memory_mb=budget.memory_mb, seconds=budget.seconds_per_file)))


def _start_worker(extra_mb: int, parent: int) -> None:
    """In each worker before its first file: end with the run, leave SIGTERM deadly, cap the memory."""
    # The CLI turns SIGTERM into an exception in the run's process; a worker inherits that handler.
    # Stopped with its run (systemd signals every process of the unit), a worker simply ends.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    _end_with_parent(parent)
    _limit_memory(extra_mb)


_PR_SET_PDEATHSIG = 1  # linux/prctl.h


def _end_with_parent(parent: int) -> None:
    """Have the kernel SIGKILL this worker when the run's process ends, however it ends (kill -9 too).

    A worker left behind would wait forever for files nobody sends. Linux only; elsewhere workers
    end when they next find the run gone. The signal comes when the thread that forked the worker
    ends: the pool forks all its workers at the first submit, from the thread that runs the files,
    which outlives the pool. If the run died before the request was made, the worker is already
    another process's child and no signal will come: it ends at once.
    """
    if sys.platform.startswith("linux"):
        import ctypes

        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:
        os._exit(1)


def _limit_memory(extra_mb: int) -> None:
    """Cap this worker's address space at what it already maps plus `extra_mb`."""
    faulthandler.disable()  # a worker that dies is reported as a finding, not a stack dump
    gc.freeze()  # what the worker inherited is never garbage: the collector need not scan it again
    with open("/proc/self/statm") as fh:
        mapped = int(fh.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    limit = mapped + extra_mb * 1024 * 1024
    _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))


def _guarded_batch(tasks: list[FileTask], seconds: int) -> list[FileOutcome]:
    return [guarded(t, seconds) for t in tasks]


def lift_cpu_limit() -> None:
    """End the CPU budget `guarded` set for the last file: what follows (checking and writing a county)
    is no file's reading."""
    _soft, hard = resource.getrlimit(resource.RLIMIT_CPU)
    resource.setrlimit(resource.RLIMIT_CPU, (hard, hard))


def guarded(task: FileTask, seconds: int) -> FileOutcome:
    """analyse_file with a CPU budget: the kernel ends a worker stuck inside native code."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    used = int(usage.ru_utime + usage.ru_stime) + 1
    _soft, hard = resource.getrlimit(resource.RLIMIT_CPU)
    soft = used + seconds if hard == resource.RLIM_INFINITY else min(used + seconds, hard)
    resource.setrlimit(resource.RLIMIT_CPU, (soft, hard))
    return analyse_file(task)


class ExecutorError(Exception):
    """The executor itself cannot run (e.g. the Dask scheduler is unreachable)."""


def dask_executor(address: str, connect_timeout: float = 5.0) -> Executor:
    """Map the per-file work over a Dask distributed cluster; only results come back.

    Files are shipped to the workers as bytes, so the cluster needs no access to
    the inbox. An unreachable scheduler is an error, never a silent local run:
    Dask retries for `connect_timeout` seconds (the setting `scheduler_timeout`),
    then the run fails.
    """
    _distributed()

    def run(tasks: Sequence[FileTask], meanwhile: Callable[[], None] | None = None) -> list[FileOutcome]:
        with _client(address, connect_timeout) as client:
            outcomes, shipped = _ship(tasks)
            futures = client.map(analyse_payload, [payload for _, payload in shipped], pure=False)
            if meanwhile:
                meanwhile()
            for (i, (task, _data)), future in zip(shipped, futures, strict=True):
                outcomes[i] = _collect(future, task)
            return outcomes

    return run


def _distributed():
    try:
        import distributed
    except ImportError as exc:  # pragma: no cover - depends on the optional extra
        raise ExecutorError("使用 --executor dask 需要安装可选依赖：pip install 'xlbatch[dask]'") from exc
    return distributed


def _client(address: str, connect_timeout: float):
    """A client of the scheduler at `address`, or ExecutorError saying why there is none."""
    started = time.monotonic()
    try:
        return _distributed().Client(address, timeout=connect_timeout, set_as_default=False)
    except ValueError as exc:  # no port, an unknown scheme: Dask says so at once
        raise ExecutorError(f"Dask 调度器地址无效：{address}（{exc}）；本次运行未处理任何文件") from exc
    except (OSError, TimeoutError) as exc:
        raise ExecutorError(_unreachable(address, connect_timeout, time.monotonic() - started, exc)) from exc


def _unreachable(address: str, timeout: float, waited: float, exc: Exception) -> str:
    """Why the scheduler was not reached, and, if the wait was the timeout, how to wait longer."""
    said = f"无法连接 Dask 调度器 {address}"
    if waited >= timeout * 0.9:  # Dask retried until the timeout: that is what elapsed
        said += (f"：连接超时，{timeout:g} 秒内未连上（{exc}）。超时时间由 xlbatch.toml 的配置项 "
                 f"scheduler_timeout 设定（秒）")
    else:
        said += f"（{exc}）"
    return said + "；本次运行未处理任何文件"


def _ship(tasks: Sequence[FileTask]) -> tuple[list[FileOutcome | None], list[tuple[int, tuple[FileTask, bytes]]]]:
    """Each file's bytes, read once here under the size limit, to ship with its index; a file that cannot
    be read so (too large, not a regular file, gone) is analysed here instead, as a local run refuses it.
    A package's member ships as its own bytes, inflated here (the package read once, archives.member_bytes
    keeps it open): not the whole package once per member."""
    outcomes: list[FileOutcome | None] = [None] * len(tasks)
    shipped = []
    for i, task in enumerate(tasks):
        try:
            if task.member:
                data = member_bytes(task.path, task.member, task.archive_sha256, task.limits)
                shipped.append((i, (replace(task, member=()), data)))
            else:
                shipped.append((i, (task, read_file(Path(task.path), task.limits))))
        except (ReadError, OSError):
            outcomes[i] = analyse_file(task)
    return outcomes, shipped


def analyse_payload(payload: tuple[FileTask, bytes]) -> FileOutcome:
    """On a worker: the file's bytes as read at home, analysed in memory as at home (named by task.rel)."""
    task, data = payload
    return analyse_file(task, data)


def _collect(future, task: FileTask) -> FileOutcome:
    try:
        return future.result()
    except Exception as exc:  # KilledWorker: the file took its worker down every time it was tried
        return FileOutcome(task.rel, task.sha256, finding=file_finding(
            task.rel, ReadError(FILE_UNREADABLE, "cluster_worker_died", error=type(exc).__name__)))


# --- spreading whole counties (run --by county) ------------------------------------------------

class WorkerLost(Exception):
    """The worker doing an item died (a crash in the reader, the memory cap, a lost Dask worker)."""


Spread = Callable[[Callable, Sequence], Iterator[tuple[int, object]]]
"""`spread(work, items)` yields (index, work(item)) as items finish, in any order; a `WorkerLost` in place
of the result when the worker died. `spread.guarded`: whether `work` runs in a process of its own
whose CPU time it may limit (the pool), or shares it with others (a Dask worker's threads)."""


def local_spread(workers: int, budget: Budget = Budget()) -> Spread:
    """Items over a pool of `workers` processes guarded as `local_processes`'s are (memory cap, end with
    the run); a dying worker breaks the pool, and every item not yet done comes back `WorkerLost`."""

    def spread(work: Callable, items: Sequence) -> Iterator[tuple[int, object]]:
        with _pool(workers, budget, get_context("fork")) as pool:
            futures = {pool.submit(work, item): i for i, item in enumerate(items)}
            for future in as_completed(futures):
                check_stop()
                try:
                    result = future.result()
                except BrokenProcessPool as exc:
                    result = WorkerLost(str(exc))
                yield futures[future], result

    spread.guarded = True  # type: ignore[attr-defined]
    return spread


def dask_spread(address: str, connect_timeout: float = 5.0) -> Spread:
    """Items over a Dask cluster. Dask runs an item again when its worker dies; after
    `distributed.scheduler.allowed-failures` deaths it gives up (KilledWorker): that item is `WorkerLost`."""
    _distributed()

    def spread(work: Callable, items: Sequence) -> Iterator[tuple[int, object]]:
        with _client(address, connect_timeout) as client:
            futures = client.map(work, list(items), pure=False)
            index = {future.key: i for i, future in enumerate(futures)}
            for future in _distributed().as_completed(futures, loop=client.loop):
                check_stop()
                try:
                    result = future.result()
                except Exception as exc:
                    if type(exc).__name__ != "KilledWorker":
                        raise
                    result = WorkerLost(str(exc))
                yield index[future.key], result

    spread.guarded = False  # type: ignore[attr-defined]
    return spread

