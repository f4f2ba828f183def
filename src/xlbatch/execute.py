"""Where the per-file work runs. Every executor returns outcomes in task order,
so results are identical however the work was spread."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from .analyse import FileOutcome, FileTask, analyse_file

Executor = Callable[[Sequence[FileTask]], list[FileOutcome]]


def serial(tasks: Sequence[FileTask]) -> list[FileOutcome]:
    return [analyse_file(t) for t in tasks]
