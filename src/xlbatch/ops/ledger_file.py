"""The ledger's SQLite file: its schema, a checksum on every row, and what happens when it is damaged.

`ledger.Ledger` is the only user of what is here (hence the underscore names): it
writes each row with `_checksum`, opens the file with `_connect`, and, when a
statement finds the file damaged mid-run (`_is_damage`), sets it aside and
starts a new one (`_set_aside`, `_new`).

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
unpickler's allow-list (ledger.py) limits such a forger to figures.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import logging
import os
import sqlite3
import stat
from datetime import UTC, datetime
from pathlib import Path

from .logs import event

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
CREATE TABLE IF NOT EXISTS arrivals (
    path TEXT NOT NULL, sha256 TEXT NOT NULL, first_seen TEXT NOT NULL, not_before TEXT NOT NULL,
    checksum TEXT NOT NULL, PRIMARY KEY (path, sha256));
CREATE TABLE IF NOT EXISTS outcomes (
    sha256 TEXT NOT NULL, path TEXT NOT NULL, reader TEXT NOT NULL, limits TEXT NOT NULL,
    outcome BLOB NOT NULL, used_run TEXT NOT NULL, checksum TEXT NOT NULL,
    PRIMARY KEY (sha256, path, reader, limits));
"""
_RUN_COLUMNS = ("run_id", "started_at", "finished_at", "status", "same_as", "inputs", "counts", "read", "reused",
                "snapshot")


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
