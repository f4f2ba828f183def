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

`CachingExecutor` wraps any executor: tasks whose outcome is cached are not
run, so a rerun reads only new or changed files and the pipeline itself does
not know. Cached outcomes are unpickled with an allow-list (the dataclasses of
`models` and `analyse`, date/time values): whoever can write the outbox can at
worst forge figures, never run code.
"""

from __future__ import annotations

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

from . import analyse, models, xlbatch_version
from .analyse import FileOutcome, FileTask
from .execute import Executor
from .logs import event

LEDGER_NAME = "ledger.sqlite"
SCHEMA_VERSION = "1"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS versions (
    path TEXT NOT NULL, sha256 TEXT NOT NULL, size INTEGER NOT NULL,
    first_seen TEXT NOT NULL, last_seen TEXT NOT NULL, first_run TEXT NOT NULL, last_run TEXT NOT NULL,
    status TEXT NOT NULL, code TEXT NOT NULL, message TEXT NOT NULL, forms TEXT NOT NULL,
    PRIMARY KEY (path, sha256));
CREATE TABLE IF NOT EXISTS runs (
    run_id TEXT PRIMARY KEY, started_at TEXT NOT NULL, finished_at TEXT NOT NULL,
    status TEXT NOT NULL, same_as TEXT, inputs TEXT NOT NULL, counts TEXT NOT NULL,
    read INTEGER NOT NULL, reused INTEGER NOT NULL, snapshot TEXT);
CREATE TABLE IF NOT EXISTS outputs (
    run_id TEXT NOT NULL, name TEXT NOT NULL, sha256 TEXT NOT NULL, PRIMARY KEY (run_id, name));
CREATE TABLE IF NOT EXISTS outcomes (
    sha256 TEXT NOT NULL, path TEXT NOT NULL, reader TEXT NOT NULL, limits TEXT NOT NULL,
    outcome BLOB NOT NULL, used_run TEXT NOT NULL,
    PRIMARY KEY (sha256, path, reader, limits));
"""

Progress = Callable[[str, int, int], None]  # (stage, done, total)


@functools.cache
def reader_fingerprint() -> str:
    """What produced a cached outcome: xlbatch's version, a hash of its source files, and calamine's version."""
    digest = hashlib.sha256()
    for path in sorted(Path(__file__).parent.glob("*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return f"{xlbatch_version()}+{digest.hexdigest()[:16]}+calamine-{_version('python-calamine')}"


def _version(package: str) -> str:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def limits_key(limits) -> str:
    return hashlib.sha256(json.dumps(limits.model_dump(), sort_keys=True).encode()).hexdigest()[:16]


def inputs_fingerprint(files, cfg) -> str:
    """Everything a run's outputs depend on but the clock: code and libraries, configuration, every file's
    bytes and mtime."""
    # The libraries that check, score and write are part of the code: an upgrade means a full run.
    libraries = {name: _version(name) for name in ("pandas", "pandera", "xlsxwriter")}
    data = {"code": reader_fingerprint(), "libraries": libraries, "config": cfg.model_dump(mode="json"),
            "files": [(f.path, f.sha256, f.size, f.mtime) for f in files]}
    return hashlib.sha256(json.dumps(data, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


class Ledger:
    def __init__(self, path: Path):
        self.path = path
        self.db = _connect(path)

    @classmethod
    def open(cls, outbox: Path) -> Ledger:
        return cls(outbox / LEDGER_NAME)

    def close(self) -> None:
        self.db.close()

    # --- the read cache ---------------------------------------------------------------

    def cached(self, task: FileTask, run_id: str, limits: str) -> FileOutcome | None:
        key = _key(task, limits)
        row = self.db.execute("SELECT outcome FROM outcomes WHERE sha256=? AND path=? AND reader=? AND limits=?",
                              key).fetchone()
        if row is None:
            return None
        try:
            outcome = _load(row[0])
        except Exception as exc:  # unreadable or forged entry: read the file again
            event(logging.WARNING, "cache_unusable", f"缓存的读取结果不可用，重新读取：{task.rel}",
                  path=task.rel, error=f"{type(exc).__name__}: {exc}")
            return None
        if not isinstance(outcome, FileOutcome) or (outcome.rel, outcome.sha256) != (task.rel, task.sha256):
            return None
        self.db.execute("UPDATE outcomes SET used_run=? WHERE sha256=? AND path=? AND reader=? AND limits=?",
                        (run_id, *key))
        return outcome

    def store(self, task: FileTask, outcome: FileOutcome, run_id: str, limits: str) -> None:
        self.db.execute("INSERT OR REPLACE INTO outcomes VALUES (?, ?, ?, ?, ?, ?)",
                        (*_key(task, limits), pickle.dumps(outcome, protocol=5), run_id))

    # --- runs and versions -------------------------------------------------------------

    def run(self, run_id: str) -> dict | None:
        row = self.db.execute("SELECT run_id, status, same_as, inputs, counts, read, reused, snapshot "
                              "FROM runs WHERE run_id=?", (run_id,)).fetchone()
        if row is None:
            return None
        keys = ("run_id", "status", "same_as", "inputs", "counts", "read", "reused", "snapshot")
        out = dict(zip(keys, row, strict=True))
        out["counts"] = json.loads(out["counts"])
        out["snapshot"] = json.loads(out["snapshot"]) if out["snapshot"] else None
        return out

    def record_run(self, result, *, status: str, inputs: str, read: int, reused: int,
                   snapshot: dict | None = None, same_as: str | None = None,
                   outputs: dict[str, str] | None = None) -> None:
        """One transaction: the run, the sha256 of each output it wrote, every file version it saw, and
        the cache trimmed to this run's files."""
        with self.db:
            self.db.executemany("INSERT OR REPLACE INTO outputs VALUES (?, ?, ?)",
                                [(result.run_id, name, sha) for name, sha in (outputs or {}).items()])
            self.db.execute("INSERT OR REPLACE INTO runs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", (
                result.run_id, result.started_at, result.finished_at, status, same_as, inputs,
                json.dumps(result.counts()), read, reused,
                json.dumps(snapshot, ensure_ascii=False) if snapshot is not None else None))
            seen = result.finished_at or result.started_at
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

    def outputs(self, run_id: str) -> dict[str, str]:
        """The sha256 of each output `run_id` wrote, as recorded when it wrote them."""
        rows = self.db.execute("SELECT name, sha256 FROM outputs WHERE run_id=?", (run_id,)).fetchall()
        return dict(rows)

    def commit(self) -> None:
        self.db.commit()


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
        key = limits_key(tasks[0].limits) if tasks else ""
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
        for i, outcome in zip(missing, results, strict=True):
            outcomes[i] = outcome
            if _unchanged_since_hashed(tasks[i]):
                self.ledger.store(tasks[i], outcome, self.run_id, key)
            else:  # replaced while we read it: what was judged may not be the bytes hashed
                event(logging.WARNING, "changed_while_read", f"文件在读取过程中被替换，本次结果不缓存：{tasks[i].rel}",
                      path=tasks[i].rel)
            event(logging.DEBUG, "read", f"已读取：{tasks[i].rel}", path=tasks[i].rel,
                  forms=len(outcome.forms), rejected=outcome.finding.rule if outcome.finding else "")
        self._report(len(tasks), len(tasks))
        self.ledger.commit()
        return outcomes

    def _report(self, done: int, total: int) -> None:
        if self.progress:
            self.progress("读取自评表", done, total)


def _key(task: FileTask, limits: str) -> tuple[str, str, str, str]:
    return task.sha256, task.rel, reader_fingerprint(), limits


def _unchanged_since_hashed(task: FileTask) -> bool:
    """The file still has the size and mtime it had when discover hashed it."""
    try:
        stat = os.stat(task.path)
    except OSError:
        return False
    return (stat.st_size, stat.st_mtime) == (task.size, task.mtime)


def _connect(path: Path) -> sqlite3.Connection:
    """Open (or create) the ledger; a damaged file is set aside and a new one started."""
    try:
        return _init(sqlite3.connect(path))
    except sqlite3.OperationalError:
        raise  # locked, unwritable or an I/O error: the ledger is fine, this run fails and says why
    except sqlite3.DatabaseError as exc:
        aside = path.with_name(f"{path.name}.damaged-{datetime.now(UTC):%Y%m%dT%H%M%SZ}")
        path.rename(aside)
        event(logging.WARNING, "ledger_damaged",
              f"台账文件损坏，已另存为 {aside.name} 并重新建立（本次将重新读取全部文件）", error=str(exc))
        return _init(sqlite3.connect(path))


def _init(db: sqlite3.Connection) -> sqlite3.Connection:
    try:
        db.executescript(_SCHEMA)
        row = db.execute("SELECT value FROM meta WHERE key='schema'").fetchone()
        if row is None:
            db.execute("INSERT INTO meta VALUES ('schema', ?)", (SCHEMA_VERSION,))
            db.commit()
        elif row[0] != SCHEMA_VERSION:
            raise sqlite3.DatabaseError(f"ledger schema {row[0]}, expected {SCHEMA_VERSION}")
    except sqlite3.DatabaseError:
        db.close()
        raise
    return db


_ALLOWED_MODULES = {"xlbatch.models": models, "xlbatch.analyse": analyse}
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
