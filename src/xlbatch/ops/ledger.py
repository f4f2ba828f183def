"""The ledger: an SQLite file in the outbox remembering every submission version ever seen.

Tables (query them with any SQLite client):

- `versions`: one row per (path, sha256) — each version of each inbox file —
  with its size, first and last time seen (and the runs), and its parsed
  result: status, rule code, message and the forms found (JSON).
- `runs`: one row per run: counts, how many files were read and how many
  reused, the fingerprint of its inputs, and the snapshot the next run's
  变更记录 is computed against.
- `outcomes`: the read cache. `analyse_file` is a pure function of the file's
  bytes, its name, the reading code and the limits, so its picklable
  `FileOutcome` is stored under (sha256, path, reader fingerprint, limits
  hash). The path is part of the key because the outcome names its file
  (`source_file` of every form and finding) and reading depends on the
  extension; the reader fingerprint is the xlbatch version plus a hash of the
  package's source, so an upgrade or a local patch never reuses a stale
  outcome. Only outcomes used by the latest run are kept.
  A member of a package (discover.py, archives.py) is cached as a file is,
  under its own sha256 and its name `ARCHIVE.zip/MEMBER`: an unchanged package
  has every member served from here (none is read), and a package sent again
  with one member changed has only that member read. `versions` holds a row
  per package (status `opened`) and per member.
- `outputs`: the sha256 of each output a run wrote, as it wrote them.
- `arrivals`: when each version (path, sha256) was first seen (the run's start) and the moment it
  came in after (its modification time, or the last run before that did not see it): the
  submission times of 报送情况 and LATE_SUBMISSION (`Ledger.arrivals`). A table added to schema 2
  (created where missing): a ledger from before it has no arrivals, so its files count as first
  seen by the first run that records them.

The ledger is a cache and a history, never the truth, so damage to it never
stops a run or changes a figure: every row xlbatch reads back carries a
checksum, a row that fails it is treated as absent (and logged), and a file
SQLite finds damaged is set aside and started anew. `Ledger` answers from
verified rows only; ledger_file.py holds the schema, the checksums, and what
counts as damage (a locked ledger, an I/O error, a full disk or a read-only
outbox is not: the run fails and says why).
`versions` is the record kept for people querying the file; xlbatch itself
never reads it back.

`CachingExecutor` wraps any executor: tasks whose outcome is cached are not
run, so a rerun reads only new or changed files and the pipeline itself does
not know. Cached outcomes are unpickled with an allow-list (the dataclasses of
`models` and `analyse`, date/time values): whoever can write the outbox can at
worst forge figures, never run code.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import importlib.metadata
import io
import json
import logging
import os
import pickle
import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import is_dataclass
from datetime import UTC, datetime
from pathlib import Path

from .. import models, xlbatch_version
from ..form import analyse
from ..form.analyse import FileOutcome, FileTask
from ..intake.discover import sha256_of
from ..models import Arrival
from .execute import Executor
from .ledger_file import _RUN_COLUMNS, _checksum, _connect, _is_damage, _new, _set_aside
from .logs import event

LEDGER_NAME = "ledger.sqlite"

Progress = Callable[[str, int, int], None]  # (stage, done, total)


@functools.cache
def reader_fingerprint() -> str:
    """What produced a cached outcome: xlbatch's version, a hash of its source files (subpackages
    included, each by its path in the package), and calamine's version."""
    digest = hashlib.sha256()
    package = Path(__file__).parents[1]  # xlbatch/, not ops/
    for path in sorted(package.rglob("*.py")):
        digest.update(path.relative_to(package).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return f"{xlbatch_version()}+{digest.hexdigest()[:16]}+calamine-{_version('python-calamine')}"


def _version(package: str) -> str:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def limits_key(limits, labels: tuple = ()) -> str:
    """What, besides the bytes and the code, decides a file's outcome: the limits, and the bureau's
    own label spellings (a new spelling can make a rejected form readable)."""
    settings = limits.model_dump() if not labels else {**limits.model_dump(), "labels": labels}
    return hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:16]


def inputs_fingerprint(files, cfg) -> str:
    """Everything a run's outputs depend on but the clock: code and libraries, configuration, every file's
    bytes and mtime."""
    # The libraries that check, score and write are part of the code: an upgrade means a full run.
    libraries = {name: _version(name) for name in ("pandas", "pandera", "xlsxwriter")}
    data = {"code": reader_fingerprint(), "libraries": libraries, "config": cfg.model_dump(mode="json"),
            "files": [(f.path, f.sha256, f.size, f.mtime) for f in files]}
    if cfg.season.roster:  # the roster's content, not only its name: an edited roster means a full run
        try:
            data["roster"] = sha256_of(Path(cfg.season.roster))
        except OSError as exc:
            data["roster"] = f"unreadable: {exc}"
    return hashlib.sha256(json.dumps(data, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


class Ledger:
    """The ledger file of one outbox. Every method answers from verified rows only, and survives
    damage found on the way (see the module's docstring)."""

    def __init__(self, path: Path):
        self.path = path
        self.db = _connect(path)
        self._new_arrivals: list[tuple] = []  # versions first seen by this run (`arrivals`), recorded with it

    @classmethod
    def open(cls, outbox: Path) -> Ledger:
        return cls(outbox / LEDGER_NAME)

    def close(self) -> None:
        self.db.close()

    def _safely(self, work: Callable[[], object], *, otherwise=None, again: bool = False):
        """`work()`; if it finds the ledger damaged, set the file aside, start a new one, and then
        return `otherwise` (a read: nothing on record) or do the work again there (a write)."""
        try:
            return work()
        except sqlite3.DatabaseError as exc:
            if not _is_damage(exc):
                raise
            self._start_over(exc)
        return work() if again else otherwise

    def _start_over(self, exc: sqlite3.DatabaseError) -> None:
        with contextlib.suppress(sqlite3.Error):
            self.db.close()  # what this run wrote and did not commit goes with the damaged file
        _set_aside(self.path, "damaged", "台账文件在运行中发现损坏", exc)
        self.db = _new(self.path)

    def _verified(self, table: str, row: tuple | None, key: tuple, key_columns: int) -> tuple | None:
        """The row's values if its checksum holds and it is the row asked for, else None (logged)."""
        if row is None:
            return None
        *values, checksum = row
        if tuple(values[:key_columns]) == key and _checksum(table, *values) == checksum:
            return tuple(values)
        event(logging.WARNING, "ledger_row_damaged", f"台账中的一条记录校验不符，视为没有这条记录（{table}）",
              table=table, key=[str(k) for k in key])
        return None

    # --- the read cache ---------------------------------------------------------------

    def cached(self, task: FileTask, run_id: str, limits: str) -> FileOutcome | None:
        return self._safely(lambda: self._cached(task, run_id, limits))

    def _cached(self, task: FileTask, run_id: str, limits: str) -> FileOutcome | None:
        key = _key(task, limits)
        row = self.db.execute("SELECT sha256, path, reader, limits, outcome, checksum FROM outcomes "
                              "WHERE sha256=? AND path=? AND reader=? AND limits=?", key).fetchone()
        values = self._verified("outcomes", row, key, 4)
        if values is None:
            return None
        try:
            outcome = _load(values[4])
        except Exception as exc:  # forged (the checksum holds): read the file again
            event(logging.WARNING, "cache_unusable", f"缓存的读取结果不可用，重新读取：{task.rel}",
                  path=task.rel, error=f"{type(exc).__name__}: {exc}")
            return None
        if not isinstance(outcome, FileOutcome) or (outcome.rel, outcome.sha256) != (task.rel, task.sha256):
            return None
        self.db.execute("UPDATE outcomes SET used_run=? WHERE sha256=? AND path=? AND reader=? AND limits=?",
                        (run_id, *key))
        return outcome

    def store(self, done: Sequence[tuple[FileTask, FileOutcome]], run_id: str, limits: str) -> None:
        """Cache the outcomes of the files just read, in one statement (one by one cost 0.2 s a 1,000)."""
        rows = []
        for task, outcome in done:
            key, blob = _key(task, limits), pickle.dumps(outcome, protocol=5)
            rows.append((*key, blob, run_id, _checksum("outcomes", *key, blob)))
        self._safely(lambda: self.db.executemany(
            "INSERT OR REPLACE INTO outcomes (sha256, path, reader, limits, outcome, used_run, checksum) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)", rows), again=True)

    def keep(self, tasks: Sequence[FileTask], run_id: str, limits: str) -> None:
        """Keep the cached outcomes of `tasks` as used by `run_id` without reading them: the files of a county
        whose outputs a run `--by county` repeats stay cached for the night that county changes."""
        rows = [(run_id, *_key(t, limits)) for t in tasks]
        self._safely(lambda: self.db.executemany(
            "UPDATE outcomes SET used_run=? WHERE sha256=? AND path=? AND reader=? AND limits=?", rows), again=True)

    # --- runs and versions -------------------------------------------------------------

    def run(self, run_id: str) -> dict | None:
        return self._safely(lambda: self._run(run_id))

    def _run(self, run_id: str) -> dict | None:
        row = self.db.execute(f"SELECT {', '.join(_RUN_COLUMNS)}, checksum FROM runs WHERE run_id=?",
                              (run_id,)).fetchone()
        values = self._verified("runs", row, (run_id,), 1)
        if values is None:
            return None
        out = dict(zip(_RUN_COLUMNS, values, strict=True))
        out["counts"] = json.loads(out["counts"])
        out["snapshot"] = json.loads(out["snapshot"]) if out["snapshot"] else None
        return {k: out[k] for k in ("run_id", "status", "same_as", "inputs", "counts", "read", "reused", "snapshot")}

    def record_run(self, result, *, status: str, inputs: str, read: int, reused: int,
                   snapshot: dict | None = None, same_as: str | None = None,
                   outputs: dict[str, str] | None = None) -> None:
        """One transaction: the run, the sha256 of each output it wrote, every file version it saw, and
        the cache trimmed to this run's files."""
        run = (result.run_id, result.started_at, result.finished_at, status, same_as, inputs,
               json.dumps(result.counts()), read, reused,
               json.dumps(snapshot, ensure_ascii=False) if snapshot is not None else None)
        written = [(result.run_id, name, sha) for name, sha in (outputs or {}).items()]
        self._safely(lambda: self._record_run(result, status, run, written), again=True)

    def _record_run(self, result, status: str, run: tuple, written: list[tuple]) -> None:
        with self.db:
            self.db.executemany("INSERT OR REPLACE INTO outputs (run_id, name, sha256, checksum) VALUES (?, ?, ?, ?)",
                                [(*row, _checksum("outputs", *row)) for row in written])
            self.db.execute(f"INSERT OR REPLACE INTO runs ({', '.join(_RUN_COLUMNS)}, checksum) "
                            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", (*run, _checksum("runs", *run)))
            seen = result.finished_at or result.started_at
            self.db.executemany("INSERT OR IGNORE INTO arrivals (path, sha256, first_seen, not_before, checksum) "
                                "VALUES (?, ?, ?, ?, ?)",
                                [(*row, _checksum("arrivals", *row)) for row in self._new_arrivals])
            if status == "published":
                self._record_versions(result, seen)
                self.db.execute("DELETE FROM outcomes WHERE used_run != ?", (result.run_id,))
            else:  # an unchanged run saw the same versions again; their results stand
                self.db.executemany("UPDATE versions SET last_seen=?, last_run=? WHERE path=? AND sha256=?",
                                    [(seen, result.run_id, f.path, f.sha256) for f in result.files])

    def _record_versions(self, result, seen: str) -> None:
        self.db.executemany(
            "INSERT INTO versions VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (path, sha256) DO UPDATE SET last_seen=excluded.last_seen, last_run=excluded.last_run, "
            "status=excluded.status, code=excluded.code, message=excluded.message, forms=excluded.forms",
            [(f.path, f.sha256, f.size, seen, seen, result.run_id, result.run_id, f.status, f.code, f.message,
              json.dumps(f.to_json()["forms"], ensure_ascii=False))
             for f in result.files])

    # --- arrivals ---------------------------------------------------------------------

    def arrivals(self, files, seen: str) -> dict[str, Arrival]:
        """When each of `files` came (models.Arrival), from the versions on record; a version not on
        record is first seen at `seen` (this run's start) and remembered when the run is recorded."""
        now = datetime.fromisoformat(seen)
        found = self._safely(lambda: self._arrivals(files, now), otherwise=None)
        # None: the ledger was damaged and started over (an empty inbox is {}, not a failure).
        return found if found is not None else self._arrivals_from(files, now, {}, None)

    def _arrivals(self, files, now: datetime) -> dict[str, Arrival]:
        rows = self.db.execute("SELECT path, sha256, first_seen, not_before, checksum FROM arrivals").fetchall()
        known = {}
        for row in rows:
            values = self._verified("arrivals", row, tuple(row[:2]), 2)
            if values is not None:
                known[values[:2]] = (datetime.fromisoformat(values[2]), datetime.fromisoformat(values[3]))
        # Recorded since the first arrival on record: the last run since then did not see a new file.
        since = min((first for first, _ in known.values()), default=None)
        last_run = self._last_run_since(since) if since else None
        return self._arrivals_from(files, now, known, last_run)

    def _arrivals_from(self, files, now: datetime, known: dict, last_run: datetime | None) -> dict[str, Arrival]:
        self._new_arrivals = []
        for f in files:
            if (f.path, f.sha256) not in known:
                came = datetime.fromtimestamp(f.mtime, UTC)
                came = min(max(came, last_run) if last_run else came, now)
                known[(f.path, f.sha256)] = (now, came)
                self._new_arrivals.append((f.path, f.sha256, now.isoformat(), came.isoformat()))
        # A file first came as its path's earliest version, or as these bytes under an earlier name.
        earliest: dict[tuple[str, str], tuple[datetime, datetime]] = {}
        for (path, sha), times in known.items():
            for key in (("path", path), ("sha256", sha)):
                earliest[key] = min(earliest.get(key, times), times)
        out = {}
        for f in files:
            first = min(earliest[("path", f.path)], earliest[("sha256", f.sha256)])
            out[f.path] = Arrival(first[0], first[1], known[(f.path, f.sha256)][0])
        return out

    def _last_run_since(self, since: datetime) -> datetime | None:
        # Newest first, each run's whole row read (and verified) only until one is found: a row holds
        # the run's snapshot (a province's: megabytes), and the runs of a season are many.
        starts = self.db.execute("SELECT run_id, started_at FROM runs").fetchall()
        for run_id, _started in sorted(starts, key=lambda r: str(r[1]), reverse=True):
            row = self.db.execute(f"SELECT {', '.join(_RUN_COLUMNS)}, checksum FROM runs WHERE run_id=?",
                                  (run_id,)).fetchone()
            values = self._verified("runs", row, (run_id,), 1)
            if values is None:
                continue
            start = datetime.fromisoformat(values[1])
            return start if start >= since else None
        return None

    def outputs(self, run_id: str) -> dict[str, str]:
        """The sha256 of each output `run_id` wrote, as recorded when it wrote them (verified rows only)."""
        return self._safely(lambda: self._outputs(run_id), otherwise={})

    def _outputs(self, run_id: str) -> dict[str, str]:
        rows = self.db.execute("SELECT run_id, name, sha256, checksum FROM outputs WHERE run_id=?",
                               (run_id,)).fetchall()
        verified = [self._verified("outputs", row, (run_id,), 1) for row in rows]
        return {values[1]: values[2] for values in verified if values is not None}

    def commit(self) -> None:
        self._safely(self.db.commit)  # damaged: this run's new cache entries are lost, nothing else


class CachingExecutor:
    """Run only the tasks whose outcome the ledger does not hold; remember the new outcomes.

    `read` and `reused` list the files (relative paths) of the last call. Every
    missing file goes to the inner executor in one call; executors that report
    progress (serial, the process pool) move the bar as files come back.
    """

    def __init__(self, inner: Executor, ledger: Ledger, run_id: str, progress: Progress | None = None):
        self.inner, self.ledger, self.run_id, self.progress = inner, ledger, run_id, progress
        self.read: list[str] = []
        self.reused: list[str] = []

    def __call__(self, tasks: Sequence[FileTask], meanwhile: Callable[[], None] | None = None) -> list[FileOutcome]:
        key = limits_key(tasks[0].limits, tasks[0].labels) if tasks else ""
        outcomes = [self.ledger.cached(t, self.run_id, key) for t in tasks]
        missing = [i for i, o in enumerate(outcomes) if o is None]
        self.reused = [t.rel for t, o in zip(tasks, outcomes, strict=True) if o is not None]
        self.read = [tasks[i].rel for i in missing]
        for rel in self.reused:
            event(logging.DEBUG, "reused", f"文件未变，沿用上次的读取结果：{rel}", path=rel)
        reused = len(self.reused)
        self._report(reused, len(tasks))
        todo = [tasks[i] for i in missing]
        if not todo:
            results = []
            if meanwhile:
                meanwhile()
        elif self.progress and getattr(self.inner, "reports_progress", False):
            results = self.inner(todo, on_done=lambda n: self._report(reused + n, len(tasks)), meanwhile=meanwhile)
        else:
            results = self.inner(todo, meanwhile=meanwhile)
        fresh = []
        for i, outcome in zip(missing, results, strict=True):
            outcomes[i] = outcome
            if unchanged_since_hashed(tasks[i]):
                fresh.append((tasks[i], outcome))
            else:  # replaced while we read it: what was judged may not be the bytes hashed
                event(logging.WARNING, "changed_while_read", f"文件在读取过程中被替换，本次结果不缓存：{tasks[i].rel}",
                      path=tasks[i].rel)
            event(logging.DEBUG, "read", f"已读取：{tasks[i].rel}", path=tasks[i].rel,
                  forms=len(outcome.forms), rejected=outcome.finding.rule if outcome.finding else "")
        self.ledger.store(fresh, self.run_id, key)
        self._report(len(tasks), len(tasks))
        self.ledger.commit()
        return outcomes

    def _report(self, done: int, total: int) -> None:
        if self.progress:
            self.progress("读取自评表", done, total)


def _key(task: FileTask, limits: str) -> tuple[str, str, str, str]:
    return task.sha256, task.rel, reader_fingerprint(), limits


def unchanged_since_hashed(task: FileTask) -> bool:
    """The file still has the size and mtime it had when discover hashed it (for a member of a package:
    the archive holding it)."""
    try:
        stat = os.stat(task.path)
    except OSError:
        return False
    return (stat.st_size, stat.st_mtime) == (task.size, task.mtime)




_ALLOWED_MODULES = {"xlbatch.models": models, "xlbatch.form.analyse": analyse}
_ALLOWED_GLOBALS = {("datetime", name) for name in ("datetime", "date", "time", "timedelta", "timezone")}


class _Unpickler(pickle.Unpickler):
    """Only the dataclasses a FileOutcome is made of, and date/time values (Python docs: "Restricting Globals")."""

    def find_class(self, module: str, name: str):
        if (module, name) in _ALLOWED_GLOBALS:
            return super().find_class(module, name)
        owner = _ALLOWED_MODULES.get(module)
        obj = getattr(owner, name, None) if owner is not None and "." not in name else None
        if isinstance(obj, type) and is_dataclass(obj) and obj.__module__ == module:
            return obj
        raise pickle.UnpicklingError(f"not allowed in a cached outcome: {module}.{name}")


def _load(blob: bytes) -> FileOutcome:
    return _Unpickler(io.BytesIO(blob)).load()
