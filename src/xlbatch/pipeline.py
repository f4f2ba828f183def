"""The pipeline, top to bottom: discover → read → parse → validate → score → rules → write.

`process()` does everything but writing and returns a `RunResult`; `run()` adds
the outputs. `check_files()` is the same path for a unit checking its own forms.
One bad file never stops the run: whatever goes wrong inside one file becomes a
finding on that file.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from .analyse import FileTask
from .config import Config
from .discover import InboxFile, discover, ignore_reason, sha256_of
from .execute import Executor, serial
from .models import ACCEPTED, REJECTED, FileRecord, Finding, FormRecord
from .normalize import Submission, build_frames
from .rules import EVALUATE, VALIDATE
from .score import mark_duplicates, score_forms, score_indicators
from .validate import run_stage
from .values import clean_text


@dataclass
class RunResult:
    run_id: str
    started_at: str
    inbox: str
    config: Config
    files: list[FileRecord]
    forms: pd.DataFrame  # accepted forms, scored (superseded copies included, marked)
    indicators: pd.DataFrame  # indicators of accepted forms, scored
    findings: list[Finding]
    finished_at: str = ""
    outbox: str = ""
    extra: dict = field(default_factory=dict)

    @property
    def rejected_files(self) -> list[FileRecord]:
        return [f for f in self.files if f.status == REJECTED]

    def counts(self) -> dict[str, int]:
        out = {"files": len(self.files)}
        for status in ("accepted", "rejected", "ignored"):
            out[status] = sum(f.status == status for f in self.files)
        out["forms"] = len(self.forms)
        out["findings"] = len(self.findings)
        return out


def new_run_id(now: datetime) -> str:
    return now.strftime("%Y%m%dT%H%M%SZ") + "-" + secrets.token_hex(2)


def process(inbox: Path, cfg: Config, executor: Executor = serial) -> RunResult:
    started = datetime.now(UTC)
    files = discover(inbox)
    return _evaluate(files, cfg, executor, run_id=new_run_id(started), started=started, inbox=str(inbox))


def check_files(paths: list[Path], cfg: Config) -> RunResult:
    """Evaluate files given on the command line, as `run` would if they were in the inbox."""
    started = datetime.now(UTC)
    files = []
    for path in paths:
        stat = path.stat()
        record = FileRecord(path=path.name, size=stat.st_size, mtime=stat.st_mtime,
                            sha256=sha256_of(path))
        reason = ignore_reason(path.name)
        if reason:
            record.status, record.message = "ignored", reason
        files.append(InboxFile(path, record))
    return _evaluate(files, cfg, serial, run_id=new_run_id(started), started=started, inbox="")


def _evaluate(files: list[InboxFile], cfg: Config, executor: Executor, run_id: str, started: datetime,
              inbox: str) -> RunResult:
    wanted = [f for f in files if not f.ignored]
    tasks = [FileTask(str(f.path), f.record.path, f.record.sha256, cfg.limits) for f in wanted]
    findings: list[Finding] = []
    submissions: list[Submission] = []
    owners: list[FileRecord] = []
    for item, outcome in zip(wanted, executor(tasks), strict=True):
        if outcome.finding:
            _reject_file(item.record, outcome.finding)
            findings.append(outcome.finding)
            continue
        item.record.message = "；".join(outcome.notes)
        for form in outcome.forms:
            submissions.append(Submission(form, item.record.mtime))
            owners.append(item.record)
    forms_df, ind_df = build_frames(submissions)
    rejections = run_stage(VALIDATE, forms_df, ind_df, cfg)
    findings.extend(rejections)
    rejected_ids = {f.form_id for f in rejections}
    forms_df = forms_df.drop(index=list(rejected_ids))
    ind_df = ind_df[~ind_df["form_id"].isin(rejected_ids)]
    ind_df = score_indicators(ind_df, cfg.scoring)
    forms_df = mark_duplicates(score_forms(forms_df, ind_df, cfg.scoring, cfg.rules))
    flags = run_stage(EVALUATE, forms_df, ind_df, cfg)
    findings.extend(flags)
    _record_forms(submissions, owners, rejections, flags, forms_df)
    return RunResult(run_id=run_id, started_at=started.isoformat(timespec="seconds"),
                     inbox=inbox, config=cfg, files=[f.record for f in files],
                     forms=_with_counts(forms_df, flags), indicators=ind_df, findings=findings)


def _reject_file(record: FileRecord, finding: Finding) -> None:
    record.status, record.code, record.message = REJECTED, finding.rule, finding.message


def _record_forms(submissions, owners, rejections, flags, forms_df) -> None:
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
    out = forms.copy()
    counts = pd.Series([f.form_id for f in flags], dtype="int64").value_counts()
    out["anomaly_count"] = [int(counts.get(i, 0)) for i in out.index]
    for severity in ("warning", "info"):
        sev = pd.Series([f.form_id for f in flags if f.severity == severity],
                        dtype="int64").value_counts()
        out[f"{severity}_count"] = [int(sev.get(i, 0)) for i in out.index]
    return out


def run(inbox: Path, outbox: Path, cfg: Config, executor: Executor = serial) -> RunResult:
    """Process the inbox and write every output to the outbox."""
    from .write import write_outputs  # the writer pulls in XlsxWriter/openpyxl: load it last

    result = process(inbox, cfg, executor)
    result.outbox = str(outbox)
    result.finished_at = datetime.now(UTC).isoformat(timespec="seconds")
    write_outputs(result, outbox)
    return result
