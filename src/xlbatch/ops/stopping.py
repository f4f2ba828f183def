"""A run's stop, asked for by a signal, honoured where the run can stop.

The CLI's SIGTERM handler raises `Terminated` in the main thread and records it here; the executor
(as each batch comes back) and the nightly job (before publishing) call `check_stop`.
"""

from __future__ import annotations

_stopping: BaseException | None = None  # see request_stop


def request_stop(exc: BaseException | None) -> BaseException | None:
    """Record that the run is being stopped with `exc` (None: no longer) and return it, to be raised.

    A signal handler's exception is raised wherever the main thread is, and in some places Python
    reports it and carries on ("Exception ignored in ..."): an at-fork callback, a __del__, a weakref
    or GC callback. Measured: logging's at-fork callback, run as the pool forks its second worker,
    took the CLI's Terminated in 6 of 30 SIGTERMs sent once both workers existed (test_kill, loaded
    2-core machine), and the run went on and published. `check_stop` raises it again where a run
    can stop: as each batch comes back from the workers, and before publishing (nightly.run).
    """
    global _stopping
    _stopping = exc
    return exc


def check_stop() -> None:
    """Raise the exception `request_stop` recorded, if any (without the traceback of where it was lost)."""
    if _stopping is not None:
        raise _stopping.with_traceback(None)
