"""Shared fixtures: workbooks built from FormSpecs in a temporary inbox."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from seed import seed_form

from xlbatch.config import Config
from xlbatch.outputs.template import FormSpec, write_workbook
from xlbatch.pipeline import RunResult, process


@pytest.fixture
def inbox(tmp_path: Path) -> Path:
    path = tmp_path / "inbox"
    path.mkdir()
    return path


def run_specs(inbox: Path, *specs: FormSpec, config: Config | None = None) -> RunResult:
    """Write each spec as its own workbook in `inbox` and process the inbox."""
    for i, spec in enumerate(specs):
        write_workbook(inbox / f"form{i:02d}.xlsx", [("自评表", spec)])
    return process(inbox, config or Config())


def rules_of(result: RunResult) -> list[str]:
    return sorted(f.rule for f in result.findings)


@pytest.fixture
def seed_result(inbox: Path) -> RunResult:
    return run_specs(inbox, seed_form())
