"""The pipeline, top to bottom: discover → read → parse → validate → score → rules → write.

`process()` does everything but writing and returns a `RunResult`; `run()` adds
the outputs. `check_files()` is the same path for a unit checking its own forms.
One bad file never stops the run: whatever goes wrong inside one file becomes a
finding on that file.
"""

from __future__ import annotations

import logging
import os
import secrets
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from .analyse import FileTask
from .config import Config
from .discover import InboxFile, discover, inbox_file
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

    def counts(self) -> dict[str, int]:
        if "counts" in self.extra:  # a run that kept the published outputs: their counts
            return self.extra["counts"]
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


def check_files(paths: list[Path], cfg: Config, executor: Executor = serial) -> RunResult:
    """Evaluate files given on the command line, as `run` would if they were in the inbox."""
    started = datetime.now(UTC)
    files = [inbox_file(path.parent, path) for path in paths]  # each named by its file name
    return _evaluate(files, cfg, executor, run_id=new_run_id(started), started=started, inbox="")


def _evaluate(files: list[InboxFile], cfg: Config, executor: Executor, run_id: str, started: datetime,
              inbox: str, progress=None) -> RunResult:
    wanted = [f for f in files if not f.ignored]
    tasks = [FileTask(str(f.path), f.record.path, f.record.sha256, cfg.limits, f.record.size, f.record.mtime)
             for f in wanted]
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
    if progress:
        progress("复算与检查", 0, 0)
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
    _record_forms(submissions, owners, rejections)
    return RunResult(run_id=run_id, started_at=started.isoformat(timespec="seconds"),
                     inbox=inbox, config=cfg, files=[f.record for f in files],
                     forms=_with_counts(forms_df, flags), indicators=ind_df, findings=findings)


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


def run(inbox: Path, outbox: Path, cfg: Config, executor: Executor = serial, *, keep: int | None = None,
        skip_unchanged: bool = False, progress=None) -> RunResult:
    """Process the inbox and publish every output in the outbox, as the nightly job does.

    Under the outbox's lock (OutboxLocked at once if another run holds it), with
    a JSON-lines log in runs/RUN_ID/. Files already in the ledger are not read
    again (ledger.CachingExecutor). The outputs go to runs/RUN_ID/ and the outbox
    flips to them in one rename (outbox.py); `changes` in run.json and the
    变更记录 sheet compare with the run the outbox showed before. `keep` prunes
    the history to that many runs (default: outbox.DEFAULT_KEEP). With
    `skip_unchanged`, when the files, the configuration and xlbatch are all
    as they were for the published run, its outputs stand: nothing is written
    but the log, and the result carries `extra["unchanged_since"]` (that run)
    and `extra["counts"]` (its counts) instead of forms and findings.
    `progress(stage, done, total)` is called as the run advances.
    """
    # Ops machinery and the writer load only for a real run (`check` needs none of it).
    from .changes import compare, snapshot
    from .ledger import CachingExecutor, Ledger, inputs_fingerprint
    from .logs import event, json_log
    from .outbox import DEFAULT_KEEP, LOG_NAME, current_run, locked, prune, publish, remove_leftovers, run_dir
    from .write import write_outputs  # the writer pulls in XlsxWriter: load it last

    started = datetime.now(UTC)
    run_id = new_run_id(started)
    with locked(outbox), json_log(run_dir(outbox, run_id) / LOG_NAME):
        event(logging.INFO, "start", f"开始运行 {run_id}", run_id=run_id, inbox=str(inbox), outbox=str(outbox),
              pid=os.getpid())
        remove_leftovers(outbox)
        ledger = None
        try:
            ledger = Ledger.open(outbox)
            files = discover(inbox)
            inputs = inputs_fingerprint([f.record for f in files], cfg)
            previous_id = current_run(outbox)
            previous = ledger.run(previous_id) if previous_id else None
            if skip_unchanged and previous and previous["inputs"] == inputs:
                result = RunResult(run_id=run_id, started_at=started.isoformat(timespec="seconds"),
                                   inbox=str(inbox), config=cfg, files=[f.record for f in files],
                                   forms=pd.DataFrame(), indicators=pd.DataFrame(), findings=[],
                                   outbox=str(outbox), extra={"unchanged_since": previous_id,
                                                              "counts": previous["counts"]})
                result.finished_at = datetime.now(UTC).isoformat(timespec="seconds")
                ledger.record_run(result, status="unchanged", inputs=inputs, read=0, reused=0, same_as=previous_id)
                event(logging.INFO, "unchanged", f"收件箱、配置与程序自运行 {previous_id} 以来均无变化，输出保持不变",
                      same_as=previous_id)
            else:
                reader = CachingExecutor(executor, ledger, run_id, progress)
                result = _evaluate(files, cfg, reader, run_id=run_id, started=started, inbox=str(inbox),
                                   progress=progress)
                result.outbox = str(outbox)
                read, reused = len(reader.read), len(reader.reused)
                event(logging.INFO, "evaluated", f"读取 {read} 个文件，沿用上次结果 {reused} 个",
                      read=read, reused=reused, **result.counts())
                now = snapshot(result)
                result.extra["reading"] = {"read": reader.read, "reused": reused}
                result.extra["changes"] = compare(previous_id, previous and previous["snapshot"], now)
                if progress:
                    progress("写出汇总表", 0, 0)
                result.finished_at = datetime.now(UTC).isoformat(timespec="seconds")
                folder = write_outputs(result, outbox)
                ledger.record_run(result, status="published", inputs=inputs, read=read, reused=reused,
                                  snapshot=now)
                publish(outbox, run_id)
                event(logging.INFO, "published", f"已发布：{folder}", changes=result.extra["changes"]["counts"])
            pruned = prune(outbox, DEFAULT_KEEP if keep is None else keep)
            if pruned:
                event(logging.INFO, "pruned", f"删除最早的 {len(pruned)} 次运行记录", runs=pruned)
            event(logging.INFO, "finished", "运行完成", seconds=round((datetime.now(UTC) - started).total_seconds(), 2),
                  **result.counts())
            return result
        except Exception:
            event(logging.ERROR, "failed", "运行失败，上次的输出保持不变", exc_info=True)
            raise
        finally:
            if ledger:
                ledger.close()
