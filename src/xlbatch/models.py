"""Plain records passed between the pipeline stages.

discover → read → parse → validate → score → rules → write. Stages hand each
other these dataclasses (one per file, form, indicator, finding); scoring and
the rule catalogue work on DataFrames built from them (normalize.py); a run's
whole result is one `RunResult`.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pandas only for the annotations: a run that repeats its outputs never loads it
    import pandas as pd

    from .config import Config

ERROR, WARNING, INFO = "error", "warning", "info"
SEVERITY_NAMES = {ERROR: "错误", WARNING: "警告", INFO: "提示"}  # as every output names them
SEVERITY_ORDER = {ERROR: 0, WARNING: 1, INFO: 2}  # the most severe first

ACCEPTED, REJECTED, IGNORED = "accepted", "rejected", "ignored"
OPENED = "opened"  # a package (.zip) whose members are listed as files of their own


@dataclass
class Cell:
    """One value as found in a sheet: the raw value and its A1 reference."""

    value: Any = None
    ref: str = ""

    def __reduce__(self):
        # Outcomes cross from the worker processes and come back from the ledger as pickles, and a
        # form is ~100 cells: as a constructor call a Cell unpickles in half the time of a dataclass
        # state dict (measured: 0.10 s against 0.21 s for 1,000 forms) and the pickles are 19% smaller.
        return (Cell, (self.value, self.ref))



@dataclass
class RawIndicator:
    """One indicator row (三级指标) of a form, values as found."""

    level1: Cell
    level2: Cell
    name: Cell
    target: Cell
    actual: Cell
    weight: Cell
    score: Cell
    deviation: Cell
    row: int  # 1-based sheet row


@dataclass
class Category:
    """A 二级指标 block and how many real (non-placeholder) indicators it holds."""

    level1: str
    level2: str
    indicators: int
    ref: str  # its 二级 label's cell
    row: int = 0  # 1-based sheet row of its label (its first row)
    # The 三级指标 cell of its first placeholder row (指标 1:, ……, or left blank): where an indicator
    # is still to be filled in; "" when every row under it is a real indicator.
    placeholder: str = ""


@dataclass
class Block:
    """A 一级指标 block with the points its label promises ("产出指标 50 分")."""

    label: str
    points: float | None
    ref: str


@dataclass
class RawForm:
    """One self-evaluation form as located in one sheet, before normalization."""

    source_file: str
    sheet: str
    title: Cell
    year: int | None
    project: Cell
    department: Cell
    unit: Cell
    funds: dict[str, dict[str, Cell]]  # vocabulary.FUND_ROWS → FUND_COLS → Cell
    goal_expected: Cell
    goal_actual: Cell
    indicators: list[RawIndicator]
    categories: list[Category]
    blocks: list[Block]
    total_weight: Cell
    total_reported: Cell
    # Where each role was found (`xlbatch inspect`): "group.role" (a key of vocabulary.ROLES and one of
    # its roles, e.g. "fund_column.full_year") → (label cell, label text) of the label it was read
    # through. Its value is the field above (the 年度资金总额 row's cell for a fund column).
    labels: dict[str, tuple[str, str]] = field(default_factory=dict)
    # Each role not found → (its name, ((cell, text), …) of the labels where it was expected: the
    # header's labels, the funds header row's …), for MISSING_FIELD and inspect; none when nothing was found there.
    nearby: dict[str, tuple[str, tuple[tuple[str, str], ...]]] = field(default_factory=dict)


def form_identity(row) -> str:
    """Who and what a form is about, independent of file name and row: 实施单位|项目名称|year.

    Keys anomaly ids, duplicate detection and the change report; a form without unit or
    project falls back to its file and sheet.
    """
    year = row["year"]
    year = "" if year is None or year != year else str(int(year))  # year != year: NaN
    if row["unit"] and row["project"]:
        return f"{row['unit']}|{row['project']}|{year}"
    return f"{row['source_file']}|{row['sheet']}"


@dataclass
class Finding:
    """One result of the rule catalogue: a rejection (error) or a flag."""

    rule: str
    severity: str
    source_file: str
    sheet: str = ""
    cell: str = ""
    unit: str = ""
    project: str = ""
    message: str = ""
    value: str = ""
    expected: str = ""
    form_id: int | None = None
    indicator_id: int | None = None
    field: str = ""  # normalized field the finding is about (for highlighting)
    identity: str = ""  # what the finding is about, independent of file name and row

    @property
    def anomaly_id(self) -> str:
        """Stable across runs for the same finding (SPEC section 4).

        Keyed on the form's identity (unit, project, year) and the field or
        indicator path rather than on file name and row, so a resubmission or
        an inserted row keeps the id — and with it the auditor's review.
        """
        basis = "|".join((self.rule, self.identity or self.source_file, self.field))
        return "A" + hashlib.sha1(basis.encode("utf-8")).hexdigest()[:11].upper()


@dataclass(frozen=True)
class Arrival:
    """When a file came into the inbox, as far as can be told (SPEC section 6, LATE_SUBMISSION).

    `first_seen`: the first run that saw this path (any version) or these bytes (under any name);
    `not_before`: it came after this moment (its modification time then, or the last run before
    that did not see it; never after `first_seen`); `version_seen`: the first run that saw the bytes
    now at this path (a unit's latest submission). Aware datetimes; ops/ledger.py keeps them.
    """

    first_seen: datetime
    not_before: datetime
    version_seen: datetime


@dataclass
class Figure:
    """One figure a 自评报告 states for a project: its budget, executed amount or execution rate."""

    kind: str  # "budget" (预算), "executed" (执行/支出/使用), "rate" (执行率)
    value: float  # 万元 for amounts (元 and 亿元 converted), a fraction for a rate (0.5685)
    text: str  # as written: "5.4 万元", "56.85%"
    where: str  # where in the report: "第 7 段", "表 1 第 2 行", "第 1 页"
    slack: float  # half a unit of the last digit written, in the value's scale: what rounding explains


@dataclass
class ReportProject:
    """A project a 自评报告 names (in a heading, a 项目名称 line or a table row), what it states for it."""

    name: str
    where: str
    figures: list[Figure] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)  # sentences giving reasons (原因, 由于, 主要是 …)

    def figure(self, kind: str) -> Figure | None:
        """The first figure of `kind` stated for the project (a report states the headline first)."""
        return next((f for f in self.figures if f.kind == kind), None)


@dataclass
class Report:
    """A unit's 自评报告 (.docx/.pdf) as read: who it is from, what it declares, or why it could not be read."""

    path: str  # relative to the inbox, with forward slashes (ARCHIVE.zip/MEMBER for an archive's member)
    unit: str = ""  # the unit the text names ("" if none)
    unit_from: str = ""  # where that name was found: 标题, 「实施单位」, 首行, 落款
    declared: int | None = None  # the number of projects it declares (共设预算项目 6 个)
    declared_text: str = ""  # that phrase as written
    declared_where: str = ""
    projects: list[ReportProject] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)  # reason sentences outside any project's section
    error: str = ""  # why it could not be read; "" when it was
    text: str = ""  # its text, paragraphs and table rows in order


@dataclass
class FormRecord:
    """What a form contributed to run.json."""

    sheet: str
    unit: str
    project: str
    status: str
    department: str = ""
    code: str = ""
    message: str = ""
    form_id: int | None = None


@dataclass
class FileRecord:
    """One inbox file and its fate: accepted, rejected or ignored; or a package, opened.

    A member of a package is a file of its own, named `ARCHIVE.zip/MEMBER` (`archive` names the
    package holding it; its mtime is the zip entry's date); the package itself is `opened`
    (`members`: how many it holds) or rejected.
    """

    path: str  # relative to the inbox, with forward slashes
    size: int
    mtime: float
    sha256: str = ""
    status: str = ""
    code: str = ""
    message: str = ""
    forms: list[FormRecord] = field(default_factory=list)
    kind: str = ""  # spreadsheet, archive, report (自评报告), old_format (.doc/.wps/.et), other
    archive: str = ""  # a member: the path of the package holding it
    members: int | None = None  # a package opened: how many files it holds

    def to_json(self) -> dict:
        out = {
            "path": self.path,
            "sha256": self.sha256,
            "size": self.size,
            "status": self.status,
            "code": self.code,
            "message": self.message,
            "kind": self.kind,
            "forms": [f.__dict__ for f in self.forms],
        }
        if self.archive:
            out["archive"] = self.archive
        if self.members is not None:
            out["members"] = self.members
        return out


@dataclass
class RunResult:
    """Everything a run found. `forms` and `indicators` are None for a run that repeated the
    published outputs because nothing had changed (`extra["outputs_from"]` names the run that
    computed them; `extra["counts"]` holds their counts)."""

    run_id: str
    started_at: str
    inbox: str
    config: Config
    files: list[FileRecord]
    forms: pd.DataFrame | None  # accepted forms, scored (superseded copies included, marked)
    indicators: pd.DataFrame | None  # indicators of accepted forms, scored
    findings: list[Finding]
    finished_at: str = ""
    outbox: str = ""
    extra: dict = field(default_factory=dict)
    # The units' 自评报告 read from the inbox and matched to their units (an intake.reports.ReportSet:
    # models imports no stage); `reports.reasons_for(unit, project)` gives the reasons to show beside
    # a project's findings. None for a run that repeated the published outputs.
    reports: Any = None

    def counts(self) -> dict[str, int]:
        if "counts" in self.extra:  # a run that repeated the published outputs: their counts
            return self.extra["counts"]
        # A package opened is no file of its own: its members are (files = accepted + rejected + ignored).
        opened = sum(f.status == OPENED for f in self.files)
        out = {"files": len(self.files) - opened}
        for status in ("accepted", "rejected", "ignored"):
            out[status] = sum(f.status == status for f in self.files)
        if opened:
            out["archives"] = opened
        out["forms"] = len(self.forms)
        out["findings"] = len(self.findings)
        return out


def new_run_id(now: datetime) -> str:
    return now.strftime("%Y%m%dT%H%M%SZ") + "-" + secrets.token_hex(2)
