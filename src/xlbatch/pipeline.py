"""The pipeline, top to bottom: discover → read → parse → validate → score → rules → write.

`process()` does everything but writing and returns a `RunResult`; the nightly
job (`nightly.run`) adds the outputs, the lock, the ledger and the history.
`check_files()` is the same path for a unit checking its own forms; it also lists, beside the
finding that rejects a form, every other finding the rules can compute on what the form has.
One bad file never stops the run: whatever goes wrong inside one file becomes a
finding on that file.
"""

from __future__ import annotations

import importlib
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from .config import Config
from .form.analyse import FileTask, file_finding
from .form.values import clean_text
from .intake.discover import InboxFile, discover, inbox_files, package_message
from .intake.reports import ReportSet, match_reports, read_reports
from .intake.roster import roster_of
from .models import (
    ACCEPTED,
    IGNORED,
    OPENED,
    REJECTED,
    Arrival,
    FileRecord,
    Finding,
    FormRecord,
    Report,
    RunResult,
    new_run_id,
)
from .ops.execute import Executor, serial

if TYPE_CHECKING:
    import pandas as pd

    from .form.normalize import Submission

# The checking stages load pandas and pandera (about half a second): `evaluate` loads them
# while the worker processes read the files, not before (see `evaluate`).
CHECK_MODULES = ("pandas", "xlbatch.form.normalize", "xlbatch.checks.rules", "xlbatch.checks.score",
                 "xlbatch.checks.validate", "xlbatch.checks.season")


def process(inbox: str | Path, cfg: Config | None = None, executor: Executor = serial) -> RunResult:
    """Discover, read, parse, validate and score every file of `inbox`; nothing is written.

    `cfg` defaults to the national rules (`Config()`); `executor` to reading in this process.
    """
    started = datetime.now(UTC)
    cfg = cfg if cfg is not None else Config()
    files = discover(Path(inbox), cfg.limits)
    return evaluate(files, cfg, executor, run_id=new_run_id(started), started_at=_iso(started), inbox=str(inbox))


def check_files(paths: list[str | Path], cfg: Config | None = None, executor: Executor = serial) -> RunResult:
    """Evaluate files given on the command line, as `run` would if they were in the inbox.

    Unlike a run, a form that will be rejected is checked further: after its rejection, the
    findings lists every finding the rules can still compute on what the form has (see
    `beside_rejections`), so a unit learns them all in one round. The form stays rejected and its
    figures are in no frame of the result."""
    started = datetime.now(UTC)
    cfg = cfg if cfg is not None else Config()
    # Each named by its file name; a package (.zip) with its members, as a run would open it.
    files = [f for path in map(Path, paths) for f in inbox_files(path.parent, path, cfg.limits)]
    return evaluate(files, cfg, executor, run_id=new_run_id(started), started_at=_iso(started), inbox="",
                    whole_inbox=False, all_findings=True)


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")


def evaluate(files: list[InboxFile], cfg: Config, executor: Executor, *, run_id: str, started_at: str,
             inbox: str, progress=None, preload: tuple[str, ...] = (),
             arrivals: dict[str, Arrival] | None = None, whole_inbox: bool = True,
             all_findings: bool = False) -> RunResult:
    """Everything between discovering the files and writing the outputs.

    While the executor reads the files, this process imports the checking stages
    and the modules named in `preload` (e.g. the writer), and reads the units' reports. `arrivals` (the
    ledger's, nightly.py) says when each file came; without it, a file came at its modification time
    (`first_arrivals`). Who has not submitted and who came late speak of a whole inbox: not of files a
    unit checks (`whole_inbox` False), whose forms are still judged against the year, county and roster.
    With `all_findings` (`check`), the rejected forms' other findings follow their rejections
    (`beside_rejections`).
    """
    roster = roster_of(cfg)
    wanted = [f for f in files if f.wanted]
    tasks = [_task(f, cfg) for f in wanted]

    reports: list[Report] = []

    def load() -> None:
        for name in (*CHECK_MODULES, *preload):
            importlib.import_module(name)
        reports.extend(read_reports(files, cfg.limits))  # the units' 自评报告 (SPEC section 6), never raises

    outcomes = executor(tasks, meanwhile=load)
    from .checks.rules import VALIDATE
    from .checks.rules.reports import report_findings
    from .checks.season import review_season
    from .checks.validate import run_stage
    from .form.normalize import Submission, build_frames

    # Refused before any reading: a package as a whole, or one of its members (discover, archives.py).
    findings: list[Finding] = [file_finding(f.record.path, f.refusal) for f in files if f.refusal]
    submissions: list[Submission] = []
    owners: list[FileRecord] = []
    for item, outcome in zip(wanted, outcomes, strict=True):
        if outcome.sha256:  # the bytes judged: other than those hashed if the file was replaced in between
            item.record.sha256 = outcome.sha256
        if outcome.finding:
            _reject_file(item.record, outcome.finding)
            findings.append(outcome.finding)
            continue
        item.record.message = "；".join(outcome.notes)
        for form in outcome.forms:
            submissions.append(Submission(form, item.record.mtime))
            owners.append(item.record)
    if progress:
        progress("复算与检查", 0, 0)
    forms_df, ind_df = build_frames(submissions)
    rejections = run_stage(VALIDATE, forms_df, ind_df, cfg)
    findings.extend(rejections)
    rejected_ids = {f.form_id for f in rejections}
    extra: dict = {}
    if all_findings and rejected_ids:
        rejected = sorted(rejected_ids)
        more, extra["not_computed"] = beside_rejections(forms_df.loc[rejected],
                                                        ind_df[ind_df["form_id"].isin(rejected)], cfg, roster)
        findings.extend(more)
    forms_df = forms_df.drop(index=list(rejected_ids))
    ind_df = ind_df[~ind_df["form_id"].isin(rejected_ids)]
    forms_df, ind_df, flags = scored(forms_df, ind_df, cfg, roster)
    matched = match_reports(reports, forms_df, cfg.season.county)
    flags += report_findings(forms_df, matched, cfg)
    findings.extend(flags)
    _record_forms(submissions, owners, rejections)
    _tally_packages(files)
    _record_reports(files, matched)
    file_records = [f.record for f in files]
    season_findings, season = [], None
    if whole_inbox:
        arrivals = arrivals if arrivals is not None else first_arrivals(file_records, started_at)
        season_findings, season = review_season(cfg, roster, file_records, forms_df, findings, arrivals)
    findings.extend(season_findings)
    result = RunResult(run_id=run_id, started_at=started_at, inbox=inbox, config=cfg, files=file_records,
                       forms=_with_counts(forms_df, flags), indicators=ind_df, findings=findings, reports=matched,
                       extra=extra)
    if season is not None:
        result.extra["season"] = season
    return result


def first_arrivals(files: list[FileRecord], seen: str) -> dict[str, Arrival]:
    """With no ledger to remember earlier runs: every file first seen now, come at its modification time."""
    now = datetime.fromisoformat(seen)
    return {f.path: Arrival(now, min(datetime.fromtimestamp(f.mtime, UTC), now), now) for f in files}


# What a rejected form may lack: the fields a unit reads, and the columns checks/score.py and
# checks/season.py derive from them. A rule reading such a column is not computed on a form that
# lacks them: its finding would be false (a budget score of 0 "recomputed" from no budget, an empty
# 实施单位 "not on the roster").
NEEDS = {
    "amounts": ("全年预算数和全年执行数",
                frozenset({"budget_full_year", "executed", "execution_rate", "budget_score", "total_score"})),
    # No 年度资金总额 row found: its 分值 is the configured default, not the form's.
    "weight": ("年度资金总额一行的分值", frozenset({"weight_sum", "budget_weight"})),
    "unit": ("实施单位", frozenset({"roster_state"})),
}
# A rejected form enters no consolidation: it supersedes no other form and none supersedes it.
CONSOLIDATED_ONLY = frozenset({"duplicate_count"})


def beside_rejections(forms: pd.DataFrame, indicators: pd.DataFrame, cfg: Config,
                      roster=None) -> tuple[list[Finding], dict[int, list[tuple[str, list[str]]]]]:
    """The findings of the rejected `forms` other than their rejections; and per form that lacks a
    field other rules need, (the field, the codes of the rules not computed for want of it).

    The forms are scored on their own and the evaluate stage run over them; a finding is kept
    only where its rule can be computed on what the form has (`NEEDS`)."""
    _, _, flags = scored(forms, indicators, cfg, roster)
    lacks = _lacks(forms)
    kept = [f for f in flags
            if computed(f, CONSOLIDATED_ONLY.union(*(NEEDS[k][1] for k in lacks[f.form_id])))]
    # A rule that never applies here is not named as not computed (UNKNOWN_UNIT without a roster).
    applies = {"amounts": True, "weight": True, "unit": roster is not None}
    not_computed = {form_id: [(NEEDS[k][0], reading(NEEDS[k][1])) for k in keys if applies[k]]
                    for form_id, keys in lacks.items()}
    return kept, {form_id: named for form_id, named in not_computed.items() if named}


def scored(forms: pd.DataFrame, indicators: pd.DataFrame, cfg: Config, roster=None):
    """Recompute, mark duplicates and the season's standing, run the evaluate stage: the scored forms,
    the scored indicators and the flags. One sequence for a run and for `check`'s rejected forms."""
    from .checks.rules import EVALUATE
    from .checks.score import mark_duplicates, score_forms, score_indicators
    from .checks.season import mark_season
    from .checks.validate import run_stage

    indicators = score_indicators(indicators, cfg.scoring)
    forms = mark_season(mark_duplicates(score_forms(forms, indicators, cfg.scoring, cfg.rules)), cfg.season, roster)
    return forms, indicators, run_stage(EVALUATE, forms, indicators, cfg)


def computed(finding: Finding, unknown: frozenset[str]) -> bool:
    """Whether the check that found `finding` (of the indicators frame when it names an indicator)
    reads none of the `unknown` columns."""
    from .checks.rules import FORMS, INDICATORS, RULES

    frame = FORMS if finding.indicator_id is None else INDICATORS
    return not any(unknown & set(check.reads) for check in RULES[finding.rule].checks if check.frame == frame)


def reading(columns: frozenset[str]) -> list[str]:
    """The codes of the rules that read any of `columns`, in catalogue order."""
    from .checks.rules import CATALOGUE

    return [rule.code for rule in CATALOGUE if any(columns & set(check.reads) for check in rule.checks)]


def _lacks(forms: pd.DataFrame) -> dict[int, list[str]]:
    """Per form, the keys of NEEDS it lacks: usable amounts (numbers, a budget not 0), the 年度资金总额
    row's 分值 cell, a 实施单位."""
    filled = (forms["budget_full_year_raw"] != "") & (forms["executed_raw"] != "")
    valid = forms["budget_full_year_ok"].astype(bool) & forms["executed_ok"].astype(bool)
    has = {"amounts": (filled & valid & (forms["fund_total_full_year"] != 0)).tolist(),
           "weight": [bool(cells.get("fund_total_weight")) for cells in forms["cells"].tolist()],
           "unit": (forms["unit"] != "").tolist()}
    return {form_id: [key for key in NEEDS if not has[key][i]] for i, form_id in enumerate(forms.index.tolist())}


def _task(file: InboxFile, cfg: Config) -> FileTask:
    """What a worker needs to read `file`: for a member of a package, the archive on disk and the way in."""
    size, mtime = file.disk
    return FileTask(str(file.path), file.record.path, file.record.sha256, cfg.limits, size, mtime, cfg.label_words,
                    file.member, file.archive_sha256)


def _reject_file(record: FileRecord, finding: Finding) -> None:
    record.status, record.code, record.message = REJECTED, finding.rule, finding.message


def _record_forms(submissions: list[Submission], owners: list[FileRecord], rejections: list[Finding]) -> None:
    """Fill each file's `forms` list and decide accepted/rejected from its forms."""
    rejected = {f.form_id: f for f in rejections}
    for form_id, (sub, record) in enumerate(zip(submissions, owners, strict=True)):
        form = sub.form
        entry = FormRecord(sheet=form.sheet, unit=clean_text(form.unit.value),
                           project=clean_text(form.project.value), status=ACCEPTED,
                           department=clean_text(form.department.value), form_id=form_id)
        if form_id in rejected:
            entry.status, entry.code = REJECTED, rejected[form_id].rule
            entry.message = rejected[form_id].message
        record.forms.append(entry)
    for record in {id(r): r for r in owners}.values():
        accepted = [f for f in record.forms if f.status == ACCEPTED]
        if accepted:
            record.status = ACCEPTED
        else:
            first = record.forms[0]
            record.status, record.code = REJECTED, first.code
            record.message = "；".join(f"工作表「{f.sheet}」：{f.message}" for f in record.forms)


def _tally_packages(files: list[InboxFile]) -> None:
    """Each package opened says what became of the files it holds (their own entries say why)."""
    fates = Counter((f.record.archive, f.record.status) for f in files if f.record.archive)
    for f in files:
        if f.record.status == OPENED:
            tally = "，".join(f"{name} {fates[(f.record.path, status)]}" for status, name in
                             ((ACCEPTED, "受理"), (REJECTED, "未受理"), (IGNORED, "忽略"), (OPENED, "压缩包"))
                             if fates[(f.record.path, status)])
            f.record.message = package_message(f.record, tally)


def _record_reports(files: list[InboxFile], reports: ReportSet) -> None:
    """A report's file (not a form, so still `ignored`) says what was read from it, or why it was not."""
    records = {f.record.path: f.record for f in files}
    for report in reports.reports:
        records[report.path].message = reports.summary(report)


def _with_counts(forms: pd.DataFrame, flags: list[Finding]) -> pd.DataFrame:
    """Findings per form: all of them, and by severity."""
    out = forms.copy()
    total = Counter(f.form_id for f in flags)
    by_severity = Counter((f.form_id, f.severity) for f in flags)
    out["anomaly_count"] = [total[i] for i in out.index]
    for severity in ("warning", "info"):
        out[f"{severity}_count"] = [by_severity[(i, severity)] for i in out.index]
    return out
