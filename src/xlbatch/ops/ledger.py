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
- `outputs`: the sha256 of each output a run wrote, as it wrote them.

The ledger is a cache and a history, never the truth, so damage to it never
stops a run or changes a figure. Every row of `runs`, `outputs` and `outcomes`
carries a `checksum`: the sha256 of the table name and every value of the row
(its key included), computed when it is written and checked whenever it is
read. A row that fails is treated as absent (a cache miss: the file is read
again; a run on record no longer vouches for a repeat or a 变更记录
comparison) and logged. A ledger that SQLite finds damaged — at open
(`PRAGMA quick_check`) or at any moment of the run — is closed, set aside as
ledger.sqlite.damaged-TIMESTAMP and started anew, and the run goes on with
what it has already verified. So is anything that is not a regular file at
its name, and a ledger of another schema version (its rows cannot be
verified). A locked ledger, an I/O error, a full disk or a read-only outbox
is not damage: the run fails and says why, and the ledger is left as it is.
The checksums catch accidental damage (bit rot, a torn or stray write), not a
forger with write access to the outbox, who can recompute them; the
allow-list below limits such a forger to figures.
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
import errno
import functools
import hashlib
import importlib.metadata
import io
import json
import logging
import os
import pickle
import sqlite3
import stat
from collections.abc import Callable, Sequence
from dataclasses import is_dataclass
from datetime import UTC, datetime
from pathlib import Path

from .. import models, xlbatch_version
from ..form import analyse
from ..form.analyse import FileOutcome, FileTask
from .execute import Executor
from .logs import event

LEDGER_NAME = "ledger.sqlite"
SCHEMA_VERSION = "2"  # 2: a checksum on every row xlbatch reads back

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
    read INTEGER NOT NULL, reused INTEGER NOT NULL, snapshot TEXT, checksum TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS outputs (
    run_id TEXT NOT NULL, name TEXT NOT NULL, sha256 TEXT NOT NULL, checksum TEXT NOT NULL,
    PRIMARY KEY (run_id, name));
CREATE TABLE IF NOT EXISTS outcomes (
    sha256 TEXT NOT NULL, path TEXT NOT NULL, reader TEXT NOT NULL, limits TEXT NOT NULL,
    outcome BLOB NOT NULL, used_run TEXT NOT NULL, checksum TEXT NOT NULL,
    PRIMARY KEY (sha256, path, reader, limits));
"""
_RUN_COLUMNS = ("run_id", "started_at", "finished_at", "status", "same_as", "inputs", "counts", "read", "reused",
                "snapshot")

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
    """The ledger file of one outbox. Every method answers from verified rows only, and survives
    damage found on the way (see the module's docstring)."""

    def __init__(self, path: Path):
        self.path = path
        self.db = _connect(path)

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

    def store(self, task: FileTask, outcome: FileOutcome, run_id: str, limits: str) -> None:
        key, blob = _key(task, limits), pickle.dumps(outcome, protocol=5)
        self._safely(lambda: self.db.execute(
            "INSERT OR REPLACE INTO outcomes (sha256, path, reader, limits, outcome, used_run, checksum) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)", (*key, blob, run_id, _checksum("outcomes", *key, blob))), again=True)

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


def _checksum(table: str, *values) -> str:
    """sha256 of the table's name and a row's values, each with its type and length, so that no damage
    to a value, its type or its neighbours gives the same sum."""
    digest = hashlib.sha256(table.encode())
    for value in values:
        if value is None:
            part = b"n"
        elif isinstance(value, bytes):
            part = b"b" + value
        elif isinstance(value, str):
            part = b"s" + value.encode("utf-8", "surrogateescape")  # damaged text reads back as it is
        elif isinstance(value, int):
            part = b"i%d" % value
        else:
            part = b"r" + repr(value).encode()
        digest.update(len(part).to_bytes(8, "big") + part)
    return digest.hexdigest()


class _Unusable(sqlite3.DatabaseError):
    """The file opens but is not a ledger this code can trust: damaged, or of another schema version."""

    def __init__(self, message: str, why: str = "台账文件损坏", label: str = "damaged"):
        super().__init__(message)
        self.why, self.label = why, label


# Failures of the file's surroundings, not of its content: the run fails and the ledger is left alone.
_SURROUNDINGS = {sqlite3.SQLITE_PERM, sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED, sqlite3.SQLITE_NOMEM,
                 sqlite3.SQLITE_READONLY, sqlite3.SQLITE_INTERRUPT, sqlite3.SQLITE_IOERR, sqlite3.SQLITE_FULL,
                 sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_PROTOCOL, sqlite3.SQLITE_NOLFS, sqlite3.SQLITE_AUTH}


def _is_damage(exc: sqlite3.DatabaseError) -> bool:
    """Whether an error means the file's content is damaged. Locked, busy, unwritable, full or an I/O
    error is not; a misuse of the module is a bug, not damage. Everything else SQLite says about our own
    fixed statements (malformed, not a database, a constraint our writes always meet, an unknown table
    or column) means the file is not what we wrote."""
    if isinstance(exc, (sqlite3.ProgrammingError, sqlite3.InterfaceError)):
        return False
    code = getattr(exc, "sqlite_errorcode", None)
    return code is None or code & 0xFF not in _SURROUNDINGS  # extended codes: the low byte is the primary


def _connect(path: Path) -> sqlite3.Connection:
    """Open (or create) the ledger; a damaged or foreign file is set aside and a new one started."""
    if _not_a_file(path):
        _set_aside(path, "damaged", "台账位置上不是普通文件", None)
        return _new(path)
    try:
        return _init(_open(path))
    except sqlite3.DatabaseError as exc:
        if not _is_damage(exc):
            raise  # locked, unwritable or an I/O error: the ledger is fine, this run fails and says why
        if isinstance(exc, _Unusable):
            _set_aside(path, exc.label, exc.why, exc)
        else:
            _set_aside(path, "damaged", "台账文件损坏", exc)
        return _new(path)


def _not_a_file(path: Path) -> bool:
    """Something other than a regular file (or a link to one) holds the ledger's name: a folder, a
    dangling or looping link, a device or pipe."""
    try:
        return not stat.S_ISREG(os.stat(path).st_mode)
    except FileNotFoundError:
        return path.is_symlink()
    except OSError as exc:
        if exc.errno == errno.ELOOP:  # a link that leads back to itself
            return True
        raise


def _set_aside(path: Path, label: str, why: str, exc: Exception | None) -> None:
    """Rename the ledger (and a journal left beside it, which must not be played into the new one) out
    of the way, kept for inspection."""
    stamp = f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}"
    aside, n = path.with_name(f"{path.name}.{label}-{stamp}"), 1
    while aside.exists() or aside.is_symlink():
        aside, n = path.with_name(f"{path.name}.{label}-{stamp}-{n}"), n + 1
    with contextlib.suppress(FileNotFoundError):  # removed by hand meanwhile: nothing to keep
        path.rename(aside)
    for suffix in ("-journal", "-wal"):
        side = path.with_name(path.name + suffix)
        if side.exists():
            side.rename(aside.with_name(aside.name + suffix))
    event(logging.WARNING, "ledger_damaged", f"{why}，已另存为 {aside.name} 并重新建立（未读到的文件将重新读取）",
          aside=aside.name, error=f"{type(exc).__name__}: {exc}" if exc else "")


def _open(path: Path) -> sqlite3.Connection:
    db = sqlite3.connect(path)
    # Text that damage made invalid UTF-8 reads back as it is (and fails its checksum) instead of raising.
    db.text_factory = lambda raw: raw.decode("utf-8", "surrogateescape")
    return db


def _new(path: Path) -> sqlite3.Connection:
    return _init(_open(path))


def _old_schema(version) -> _Unusable:
    """Another version's ledger: its rows carry no checksums this code can check, so it is kept aside
    (ledger.sqlite.schemaN-TIMESTAMP, for SQL queries) rather than trusted or migrated."""
    text = str(version)
    if not (text.isascii() and text.isalnum() and len(text) <= 8):  # a damaged value: no file name of it
        return _Unusable(f"ledger schema {text!r}", "台账文件损坏")
    return _Unusable(f"ledger schema {text}, expected {SCHEMA_VERSION}",
                     f"台账为另一版本的格式（{text}，本程序使用 {SCHEMA_VERSION}），其中的记录无法校验",
                     f"schema{text}")


def _init(db: sqlite3.Connection) -> sqlite3.Connection:
    try:
        db.executescript(_SCHEMA)
        row = db.execute("SELECT value FROM meta WHERE key='schema'").fetchone()
        if row is None:
            db.execute("INSERT INTO meta VALUES ('schema', ?)", (SCHEMA_VERSION,))
            db.commit()
        elif row[0] != SCHEMA_VERSION:
            raise _old_schema(row[0])
        # Structure only (pages, cells, free list), and a pass over the file: damage inside a value is
        # for the checksums.
        problems = [r[0] for r in db.execute("PRAGMA quick_check").fetchall()]
        if problems != ["ok"]:
            raise _Unusable("quick_check: " + "; ".join(map(str, problems[:5])))
    except sqlite3.DatabaseError:
        db.close()
        raise
    return db


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
