"""The run's log: JSON lines in runs/RUN_ID/run.log.jsonl, one object per event.

Every record carries `time` (UTC, ISO 8601), `level`, `event` (a stable
machine name: "read", "published", ...), `message` (Chinese, for the operator)
and the event's fields. The file handler flushes each line, so a run killed with
kill -9 leaves its log up to the last event it reached.
"""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

LOGGER = "xlbatch"
log = logging.getLogger(LOGGER)


def event(level: int, name: str, message: str, exc_info: bool = False, **fields) -> None:
    """Log `message` as event `name` with structured `fields`."""
    log.log(level, message, exc_info=exc_info, extra={"event": name, "fields": fields})


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        data = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "event": getattr(record, "event", record.name),
            "message": record.getMessage(),
            **getattr(record, "fields", {}),
        }
        if record.exc_info:
            data["exception"] = self.formatException(record.exc_info)
        return json.dumps(data, ensure_ascii=False, default=str)


@contextlib.contextmanager
def json_log(path: Path) -> Iterator[None]:
    """Send every xlbatch record (DEBUG and up) to `path` for the duration of the block."""
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(JsonFormatter())
    handler.setLevel(logging.DEBUG)
    previous = log.level
    log.setLevel(logging.DEBUG)
    log.addHandler(handler)
    try:
        yield
    finally:
        log.removeHandler(handler)
        log.setLevel(previous)
        handler.close()
