"""xlbatch: check and consolidate county budget-project performance self-evaluation forms."""

from importlib.metadata import PackageNotFoundError, version


def xlbatch_version() -> str:
    """The installed version, or "unknown" when running from an uninstalled tree."""
    try:
        return version("xlbatch")
    except PackageNotFoundError:
        return "unknown"
