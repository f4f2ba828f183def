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
from .form.analyse import FileTask
from .form.values import clean_text
from .intake.discover import InboxFile, discover, inbox_file
from .models import ACCEPTED, REJECTED, FileRecord, Finding, FormRecord, RunResult, new_run_id
from .ops.execute import Executor, serial

if TYPE_CHECKING:
    import pandas as pd

    from .form.normalize import Submission

# The checking stages load pandas and pandera (about half a second): `evaluate` loads them
# while the worker processes read the files, not before (see `evaluate`).
CHECK_MODULES = ("pandas", "xlbatch.form.normalize", "xlbatch.checks.rules", "xlbatch.checks.score",
                 "xlbatch.checks.validate")


def process(inbox: str | Path, cfg: Config | None = None, executor: Executor = serial) -> RunResult:
    """Discover, read, parse, validate and score every file of `inbox`; nothing is written.

    `cfg` defaults to the national rules (`Config()`); `executor` to reading in this process.
    """
    started = datetime.now(UTC)
    files = discover(Path(inbox))
    cfg = cfg if cfg is not None else Config()
    return evaluate(files, cfg, executor, run_id=new_run_id(started), started_at=_iso(started), inbox=str(inbox))


def check_files(paths: list[str | Path], cfg: Config | None = None, executor: Executor = serial) -> RunResult:
    """Evaluate files given on the command line, as `run` would if they were in the inbox.

    Unlike a run, a form that will be rejected is checked further: after its rejection, the
    findings lists every finding the rules can still compute on what the form has (see
    `beside_rejections`), so a unit learns them all in one round. The form stays rejected and its
    figures are in no frame of the result."""
    started = datetime.now(UTC)
    files = [inbox_file(path.parent, path) for path in map(Path, paths)]  # each named by its file name
    cfg = cfg if cfg is not None else Config()
    return evaluate(files, cfg, executor, run_id=new_run_id(started), started_at=_iso(started), inbox="",
                    all_findings=True)


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")


def evaluate(files: list[InboxFile], cfg: Config, executor: Executor, *, run_id: str, started_at: str,
             inbox: str, progress=None, preload: tuple[str, ...] = (), all_findings: bool = False) -> RunResult:
    """Everything between discovering the files and writing the outputs.

    While the executor reads the files, this process imports the checking stages
    and the modules named in `preload` (e.g. the writer). With `all_findings` (`check`), the
    rejected forms' other findings follow their rejections (`beside_rejections`).
    """
    wanted = [f for f in files if not f.ignored]
    tasks = [FileTask(str(f.path), f.record.path, f.record.sha256, cfg.limits, f.record.size, f.record.mtime,
                      cfg.label_words) for f in wanted]

    def load() -> None:
        for name in (*CHECK_MODULES, *preload):
            importlib.import_module(name)

    outcomes = executor(tasks, meanwhile=load)
    from .checks.rules import EVALUATE, VALIDATE
    from .checks.score import mark_duplicates, score_forms, score_indicators
    from .checks.validate import run_stage
    from .form.normalize import Submission, build_frames

    findings: list[Finding] = []
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
                                                        ind_df[ind_df["form_id"].isin(rejected)], cfg)
        findings.extend(more)
    forms_df = forms_df.drop(index=list(rejected_ids))
    ind_df = ind_df[~ind_df["form_id"].isin(rejected_ids)]
    ind_df = score_indicators(ind_df, cfg.scoring)
    forms_df = mark_duplicates(score_forms(forms_df, ind_df, cfg.scoring, cfg.rules))
    flags = run_stage(EVALUATE, forms_df, ind_df, cfg)
    findings.extend(flags)
    _record_forms(submissions, owners, rejections)
    return RunResult(run_id=run_id, started_at=started_at, inbox=inbox, config=cfg, files=[f.record for f in files],
                     forms=_with_counts(forms_df, flags), indicators=ind_df, findings=findings, extra=extra)


# The columns checks/score.py derives from the 年度资金总额 row's 全年预算数 and 全年执行数. On a form
# rejected for one of those (empty, no number, a zero budget) they are no figures: a rule reading one
# is not computed there, its finding would be false (a budget score of 0 "recomputed" from nothing).
FROM_AMOUNTS = frozenset({"budget_full_year", "executed", "execution_rate", "budget_score", "total_score"})
# A rejected form enters no consolidation: it supersedes no other form and none supersedes it.
CONSOLIDATED_ONLY = frozenset({"duplicate_count"})


def beside_rejections(forms: pd.DataFrame, indicators: pd.DataFrame,
                      cfg: Config) -> tuple[list[Finding], dict[int, list[str]]]:
    """The findings of the rejected `forms` other than their rejections, and per form lacking a
    usable amount the rule codes not computed for that reason (in catalogue order).

    The forms are scored on their own and the evaluate stage run over them; a finding is kept
    only where its rule can be computed on what the form has (`not_computable`)."""
    from .checks.rules import EVALUATE
    from .checks.score import mark_duplicates, score_forms, score_indicators
    from .checks.validate import run_stage

    indicators = score_indicators(indicators, cfg.scoring)
    scored = mark_duplicates(score_forms(forms, indicators, cfg.scoring, cfg.rules))
    lacking = forms.index[~_amounts_usable(forms)].tolist()
    kept = [f for f in run_stage(EVALUATE, scored, indicators, cfg)
            if f.rule not in not_computable(f.form_id in lacking)]
    for_lack = [code for code in not_computable(True) if code not in not_computable(False)]
    return kept, {form_id: for_lack for form_id in lacking}


def not_computable(lacks_amounts: bool) -> list[str]:
    """The rule codes not computed on a rejected form: those reading whether it is consolidated, and,
    when it lacks a usable 全年预算数 or 全年执行数, those reading a figure derived from them."""
    from .checks.rules import CATALOGUE

    unknown = CONSOLIDATED_ONLY | (FROM_AMOUNTS if lacks_amounts else frozenset())
    return [rule.code for rule in CATALOGUE if any(unknown & set(check.reads) for check in rule.checks)]


def _amounts_usable(forms: pd.DataFrame) -> pd.Series:
    """Per form, whether its 全年预算数 and 全年执行数 are numbers and the budget is not 0."""
    filled = (forms["budget_full_year_raw"] != "") & (forms["executed_raw"] != "")
    valid = forms["budget_full_year_ok"].astype(bool) & forms["executed_ok"].astype(bool)
    return filled & valid & (forms["fund_total_full_year"] != 0)


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


def _with_counts(forms: pd.DataFrame, flags: list[Finding]) -> pd.DataFrame:
    """Findings per form: all of them, and by severity."""
    out = forms.copy()
    total = Counter(f.form_id for f in flags)
    by_severity = Counter((f.form_id, f.severity) for f in flags)
    out["anomaly_count"] = [total[i] for i in out.index]
    for severity in ("warning", "info"):
        out[f"{severity}_count"] = [by_severity[(i, severity)] for i in out.index]
    return out
