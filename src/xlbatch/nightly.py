"""The nightly job: `xlbatch run` as cron or a systemd timer runs it, unattended.

Under the outbox's lock (outbox.py), with a JSON-lines log per run, it either

- evaluates the inbox (pipeline.py; files already in the ledger are not read
  again, ledger.CachingExecutor), writes the four outputs into runs/RUN_ID/ and
  publishes them, or
- repeats the published outputs, when nothing they depend on has changed: the
  same files (path, bytes, size, mtime), configuration and xlbatch code, and a
  published workbook nobody has saved over (the auditors' 复核状态 typed into it
  must be carried into a new workbook, so an edited workbook means a full run).
  The run's folder then gets byte-for-byte copies of the previous run's
  consolidated.xlsx, projects.csv, anomalies.csv, 县级绩效自评汇总报告.docx and
  通知/ (every notice), checked against the hashes the ledger recorded when they
  were written, and a run.json of its own that
  names the run that computed them (`outputs_from`). Evaluating again would give
  the same figures and findings at about 10× the cost (README, "Speed"); only
  the workbook's 运行说明 and 变更记录 would name this run and compare with the
  one before it, where the copy's name the run that computed it.
  `recompute=True` (`--recompute`) evaluates anyway.

This module does not load pandas or pandera until a run evaluates, so a
repeated run costs hashing the inbox and copying the outputs; a full run loads
them (and python-docx and matplotlib, for the report) while its worker
processes read the files.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from .config import Config
from .intake.discover import discover, sha256_of
from .models import IGNORED, OPENED, FormRecord, RunResult, new_run_id
from .ops.execute import Executor, serial
from .ops.ledger import CachingExecutor, Ledger, inputs_fingerprint
from .ops.logs import event, json_log
from .ops.outbox import (
    DEFAULT_KEEP,
    LOG_NAME,
    NOTICES,
    OUTPUTS,
    PUBLISHED,
    REPORT,
    current_run,
    fsync_dir,
    fsync_files,
    locked,
    prune,
    publish,
    remove_leftovers,
    run_dir,
    write_atomically,
)
from .ops.stopping import check_stop
from .outputs import charts
from .outputs.reviews import settle, uncarried_copies
from .pipeline import evaluate

COPIED = (*(name for name in OUTPUTS if name != "run.json"), REPORT)  # files; and the folder NOTICES


def run(inbox: str | Path, outbox: str | Path, cfg: Config | None = None, executor: Executor = serial, *,
        keep: int | None = None, recompute: bool = False, progress=None) -> RunResult:
    """Process the inbox and publish every output in the outbox, as the nightly job does.

    OutboxLocked at once if another run holds the outbox. `changes` in run.json
    and the 变更记录 sheet compare with the run the outbox showed before. `keep`
    prunes the history to that many runs (default: outbox.DEFAULT_KEEP).
    `progress(stage, done, total)` is called as the run advances. `cfg` defaults to `Config()`.
    A province's run, one folder per county, is counties.run_counties (`xlbatch run --by county`).
    """
    inbox, outbox, cfg = Path(inbox), Path(outbox), cfg if cfg is not None else Config()
    started = datetime.now(UTC)
    run_id = new_run_id(started)
    with session(inbox, outbox, run_id) as state:
        ledger = state.ledger
        files = discover(inbox, cfg.limits)
        inputs = inputs_fingerprint([f.record for f in files], cfg)
        arrivals = ledger.arrivals([f.record for f in files], started.isoformat(timespec="seconds"))
        previous_id = current_run(outbox)
        previous = ledger.run(previous_id) if previous_id else None
        if previous and "counties" in (previous["snapshot"] or {}):  # a run --by county: nothing to compare with
            previous = {**previous, "snapshot": None}
        kept = None  # (the published run.json, its output hashes the ledger vouches for) to repeat them
        # A saved copy of the workbook not yet carried holds reviews the published one lacks.
        if previous and previous["inputs"] == inputs and not recompute and not uncarried_copies(outbox):
            kept = _published_outputs(outbox, previous_id, ledger, [f.record for f in files])
        result = RunResult(run_id=run_id, started_at=started.isoformat(timespec="seconds"), inbox=str(inbox),
                           config=cfg, files=[f.record for f in files], forms=None, indicators=None,
                           findings=[], outbox=str(outbox))
        if kept is not None:
            _repeat(result, kept, previous_id, previous, inputs, ledger, progress)
        else:
            result = _evaluate_and_write(result, files, cfg, executor, previous_id, previous, ledger,
                                         progress, arrivals)
        finish(state, result, started, carried=kept is None, keep=keep)
        return result


@dataclass
class Session:
    """A run in progress: its outbox, id, ledger, and whether its outputs are published yet."""

    outbox: Path
    run_id: str
    ledger: Ledger | None = None
    published: bool = False


@contextlib.contextmanager
def session(inbox: Path, outbox: Path, run_id: str) -> Iterator[Session]:
    """The frame of every run: the outbox's lock, the run's JSON-lines log, the leftovers of killed runs
    removed, the ledger open; a run that ends with an exception is logged `failed` (its outputs never
    published: the previous ones stand) or, if it had published them, `stopped`."""
    with locked(outbox), json_log(run_dir(outbox, run_id) / LOG_NAME):
        event(logging.INFO, "start", f"开始运行 {run_id}", run_id=run_id, inbox=str(inbox), outbox=str(outbox),
              pid=os.getpid())
        remove_leftovers(outbox)
        state = Session(outbox, run_id)
        try:
            state.ledger = Ledger.open(outbox)
            yield state
        except BaseException:  # a run stopped by SIGTERM (cli.Terminated) or Ctrl-C is a failed run too
            if state.published:  # stopped while tidying up: what it published stands
                event(logging.WARNING, "stopped", "本次运行的输出已发布；收尾（复核带入标记、清理历史）未完成，"
                      "下次运行补做", exc_info=True)
            else:
                event(logging.ERROR, "failed", "运行失败，上次的输出保持不变", exc_info=True)
            raise
        finally:
            if state.ledger:
                state.ledger.close()


def finish(state: Session, result: RunResult, started: datetime, *, carried: bool, keep: int | None,
           names: tuple[str, ...] = PUBLISHED) -> None:
    """Publish the run's folder (`names` through the pointer), then tidy up: the last steps of every run."""
    check_stop()  # the point of no return: a stop asked for until now ends the run unpublished
    publish(state.outbox, state.run_id, names)
    state.published = True
    event(logging.INFO, "published", f"已发布：{run_dir(state.outbox, state.run_id)}",
          changes=result.extra["changes"]["counts"])
    _tidy(state.outbox, state.run_id, result, carried, keep)
    event(logging.INFO, "finished", "运行完成", seconds=round((datetime.now(UTC) - started).total_seconds(), 2),
          **result.counts())


def _tidy(outbox: Path, run_id: str, result: RunResult, carried: bool, keep: int | None) -> None:
    """After publishing: mark the saved workbooks whose reviews this run carried, prune the history.
    Neither can change what was published, and either left undone is done by the next run (an
    unmarked copy makes it a full run): a failure here is logged and the run still succeeds."""
    try:
        if carried:
            settle(outbox, run_id, result.extra["reviews_from"])
        pruned = prune(outbox, DEFAULT_KEEP if keep is None else keep)
    except Exception:
        event(logging.WARNING, "tidy_failed", "本次运行的输出已发布；收尾（复核带入标记、清理历史）出错，下次运行补做",
              exc_info=True)
        return
    if pruned:
        event(logging.INFO, "pruned", f"删除最早的 {len(pruned)} 次运行记录", runs=pruned)


def _evaluate_and_write(stub: RunResult, files, cfg: Config, executor: Executor,
                        previous_id: str | None, previous: dict | None, ledger: Ledger, progress,
                        arrivals: dict) -> RunResult:
    """The full run: read what the ledger does not hold, evaluate everything, write runs/RUN_ID/."""
    reader = CachingExecutor(executor, ledger, stub.run_id, progress)
    charts.use_private_cache(Path(stub.outbox) / ".matplotlib")  # before matplotlib loads
    # The writer and the change report (pandas, XlsxWriter, python-docx, matplotlib) load while the workers read.
    result = evaluate(files, cfg, reader, run_id=stub.run_id, started_at=stub.started_at, inbox=stub.inbox,
                      progress=progress, preload=("xlbatch.outputs.changes", "xlbatch.outputs.write"),
                      arrivals=arrivals)
    from .outputs.changes import compare, snapshot
    from .outputs.write import write_outputs

    result.outbox = stub.outbox
    read, reused = len(reader.read), len(reader.reused)
    event(logging.INFO, "evaluated", f"读取 {read} 个文件，沿用上次结果 {reused} 个",
          read=read, reused=reused, **result.counts())
    now = snapshot(result)
    result.extra["reading"] = {"read": reader.read, "reused": reused}
    result.extra["changes"] = compare(previous_id, previous and previous["snapshot"], now)
    if progress:
        progress("写出汇总表", 0, 0)
    result.finished_at = datetime.now(UTC).isoformat(timespec="seconds")
    folder = write_outputs(result, Path(result.outbox))
    written = {name: output["sha256"] for name, output in result.extra["outputs"].items()}  # hashed as written
    # Of the bytes judged: a file replaced while it was read (and put back after) means a full run next time.
    ledger.record_run(result, status="published", inputs=inputs_fingerprint(result.files, cfg), read=read,
                      reused=reused, snapshot=now,
                      outputs={**written, "run.json": sha256_of(folder / "run.json")})
    return result


def _hashes(folder: Path, names=OUTPUTS) -> dict[str, str]:
    return {name: sha256_of(folder / name) for name in names}


def written_outputs(folder: Path) -> list[str]:
    """Every output a run folder holds, notices by name ("通知/UNIT.docx"); OSError when one is missing."""
    # Word's lock file (~$NAME.docx) beside a notice open from the share is no output.
    notices = sorted(f"{NOTICES}/{p.name}" for p in (folder / NOTICES).iterdir() if not p.name.startswith(("~$", ".")))
    return [*OUTPUTS, REPORT, *notices]


def _published_outputs(outbox: Path, run_id: str, ledger: Ledger, files) -> tuple[dict, dict] | None:
    """The published run's run.json and the hashes of its outputs, if its outputs (the report and every
    notice included) are exactly as it wrote them and it speaks of exactly these files; else None, and the
    run evaluates.

    The hashes come from the ledger, recorded when the outputs were written (a run from before they
    were recorded, or whose rows fail their checksums, never matches). What the outbox's
    consolidated.xlsx name now holds must match too: after the auditors save their reviews into it,
    through the link or over it, it differs.
    """
    recorded, folder = ledger.outputs(run_id), outbox / "runs" / run_id
    try:
        # A run of an xlbatch that wrote no report or notices never matches: this run writes them.
        names = written_outputs(folder)
        if set(recorded) != set(names) or _hashes(folder, names) != recorded:
            return None
        shown = outbox / "consolidated.xlsx"  # usually a link to the file just hashed
        if not shown.samefile(folder / "consolidated.xlsx") and sha256_of(shown) != recorded["consolidated.xlsx"]:
            return None
        data = json.loads((folder / "run.json").read_text(encoding="utf-8"))
        listed = {(entry["path"], entry["sha256"]) for entry in data["files"]}
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return (data, recorded) if listed == {(f.path, f.sha256) for f in files} else None


def _repeat(result: RunResult, kept: tuple[dict, dict], previous_id: str, previous: dict, inputs: str,
            ledger: Ledger, progress) -> None:
    """Fill runs/RUN_ID/ with copies of the published run's outputs and a run.json of this run's own."""
    shown, recorded = kept  # hashes already checked: asked again, the ledger might have been started anew
    if progress:
        progress("沿用上次的输出", 0, 0)
    outbox = Path(result.outbox)
    source, folder = outbox / "runs" / previous_id, run_dir(outbox, result.run_id)
    for name in COPIED:
        write_atomically(folder / name, lambda tmp, name=name: shutil.copyfile(source / name, tmp))
    _copy_folder(source / NOTICES, folder / NOTICES)
    copied = [name for name in written_outputs(folder) if name != "run.json"]
    hashes = _hashes(folder, copied)
    if hashes != {name: recorded[name] for name in recorded if name != "run.json"}:
        raise RuntimeError(f"运行 {previous_id} 的输出在复制过程中被改动，本次运行未发布")  # changed since checked
    origin = shown.get("outputs_from") or previous_id
    restore_fates(result.files, shown["files"])
    nothing = {"new": 0, "changed": 0, "withdrawn": 0, "forms_changed": 0}
    result.finished_at = datetime.now(UTC).isoformat(timespec="seconds")
    result.extra.update(
        outputs_from=origin, counts=previous["counts"],
        reading={"read": [], "reused": sum(f.status not in (IGNORED, OPENED) for f in result.files)},
        changes={"previous_run": previous_id, "files": [], "forms": [], "counts": nothing})
    data = {**shown, "run_id": result.run_id, "started_at": result.started_at, "finished_at": result.finished_at,
            "inbox": result.inbox, "outbox": result.outbox, **result.extra}
    text = json.dumps(data, ensure_ascii=False, indent=2)
    write_atomically(folder / "run.json", lambda tmp: tmp.write_text(text, encoding="utf-8"))
    ledger.record_run(result, status="repeated", inputs=inputs, read=0, reused=result.extra["reading"]["reused"],
                      snapshot=previous["snapshot"], same_as=origin,
                      outputs={**hashes, **_hashes(folder, ["run.json"])})  # the copies hashed once, above
    event(logging.INFO, "repeated",
          f"收件箱、配置与程序自运行 {previous_id} 以来均无变化，沿用运行 {origin} 计算的输出", outputs_from=origin)


def _copy_folder(source: Path, target: Path) -> None:
    """A copy of the notices' folder under a temporary name, each file flushed to disk, renamed whole."""
    tmp = target.with_name(f".{target.name}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    shutil.copytree(source, tmp, ignore=shutil.ignore_patterns("~$*", ".*"))
    fsync_files(list(tmp.iterdir()))
    fsync_dir(tmp)
    os.replace(tmp, target)


def restore_fates(files, recorded: list[dict]) -> None:
    """Each file's status, reason and forms as the run that computed the outputs found them (same bytes)."""
    by_path = {entry["path"]: entry for entry in recorded}
    for record in files:
        entry = by_path[record.path]
        record.status, record.code, record.message = entry["status"], entry["code"], entry["message"]
        record.forms = [FormRecord(**form) for form in entry["forms"]]
