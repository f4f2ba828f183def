"""xlbatch: check and consolidate county budget-project performance self-evaluation forms.

The Python API, the same path the command line takes::

    import xlbatch
    cfg = xlbatch.Config()                        # the national rules; or xlbatch.load_config("xlbatch.toml")
    result = xlbatch.process("inbox", cfg)        # discover, read, parse, validate, score; writes nothing
    print(result.counts())                        # {'files': 8, 'accepted': 4, 'rejected': 2, ...}
    result.forms                                  # one row per accepted form (pandas), scored

`check_files(paths, cfg)` checks files named one by one, as `xlbatch check` does; `run(inbox,
outbox, cfg)` is the nightly job (outputs, lock, ledger, history), as `xlbatch run` does;
`run_counties(inbox, outbox, cfg)` a province's, one folder per county, as `xlbatch run --by county`.
"""

from __future__ import annotations

from importlib import import_module
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .config import Config, ConfigError, load_config
    from .counties import run_counties
    from .models import RunResult
    from .nightly import run
    from .pipeline import check_files, process

__all__ = ["Config", "ConfigError", "RunResult", "check_files", "load_config", "process", "run", "run_counties",
           "xlbatch_version"]

# Loaded on first use: `import xlbatch` (and so every `xlbatch` command's start-up and every worker
# process) stays as light as the command it serves.
_LAZY = {"Config": "config", "ConfigError": "config", "load_config": "config", "RunResult": "models",
         "run": "nightly", "run_counties": "counties", "check_files": "pipeline", "process": "pipeline"}


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module 'xlbatch' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_LAZY])


def xlbatch_version() -> str:
    """The installed version, or "unknown" when running from an uninstalled tree."""
    try:
        return version("xlbatch")
    except PackageNotFoundError:
        return "unknown"
