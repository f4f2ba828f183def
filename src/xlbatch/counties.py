"""`xlbatch run --by county`: a prefecture or province consolidates its counties (SPEC section 8).

    inbox/                          one folder per county, named as the county is
      滦平县/ ...  丰宁满族自治县/ ...
    outbox/
      consolidated.xlsx -> .current/consolidated.xlsx   the summary: a row per county (counties_book.py)
      projects.csv, anomalies.csv                        every county's rows, a `county` column first
      run.json                                           the whole run: every inbox file, each county
      counties -> .current/counties                      counties/COUNTY/: what `xlbatch run` makes of
                                                         inbox/COUNTY with `[season] county` = COUNTY

A county is exactly a single-county run of its folder (pipeline.evaluate, outputs.write.write_folder):
the same rules, files, sheets and documents, source paths relative to the county's folder. The
counties are independent of each other, so each is read, checked and written whole by one worker — a
process of the pool, or a Dask worker reading the inbox and writing the run's folder on a shared
disk — and only its summary row comes back: the run's own process never holds a county's data.

The lock, the log, the ledger, the atomic publish and the unchanged-night repeat are the run's
(nightly.session, nightly.finish). A county whose files, configuration and code are those of the
published run, and whose published outputs are as that run wrote them, is repeated: its folder is
copied, nothing read. A changed county is done again, reading only its new or changed files (the
others come from the ledger). A county whose worker died is done again in the run's own process,
its files read one per worker process as a single-county run reads them: a file that kills its
reader becomes FILE_UNREADABLE there, and the county still counts.
"""

from __future__ import annotations

import contextlib
import csv
import gc
import json
import logging
import os
import shutil
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

from .config import Config, ConfigError
from .form.analyse import FileOutcome, FileTask, analyse_file
from .intake.discover import InboxFile, discover, inbox_file, sha256_of
from .models import IGNORED, OPENED, Arrival, FileRecord, RunResult, new_run_id
from .nightly import finish, restore_fates, session, written_outputs
from .ops.execute import GC_THRESHOLDS, Executor, Spread, WorkerLost, guarded, lift_cpu_limit, local_spread, serial
from .ops.ledger import inputs_fingerprint, limits_key
from .ops.logs import event
from .ops.outbox import (
    BY_COUNTY,
    COUNTIES,
    NOTICES,
    RUNS,
    current_run,
    fsync_dir,
    fsync_files,
    run_dir,
    write_atomically,
)
from .pipeline import _task as file_task

LOOSE = "不在任何县（区）的文件夹中，未处理：按县汇总时，收件箱下的每个文件夹是一个县（区）"
SUMMARY = "各县汇总"  # the progress bar's stage while counties are written


@dataclass
class County:
    """One county's folder as discovered: its files, its configuration, the fingerprint of its inputs."""

    name: str
    folder: Path
    files: list[InboxFile]
    cfg: Config
    inputs: str
    tasks: list[FileTask]  # its spreadsheets to read, keyed as the ledger caches them


@dataclass
class CountyTask:
    """What a worker needs to do a county: everything by value but the files, read where they lie."""

    name: str
    folder: str  # the county's inbox folder
    files: list[InboxFile]
    cfg: Config
    run_id: str
    started_at: str
    arrivals: dict[str, Arrival]
    cached: dict[str, FileOutcome]  # by path relative to the county: outcomes the ledger holds
    out: str  # runs/RUN_ID/counties/COUNTY: where its outputs go
    shown: str  # outbox/counties/COUNTY: its published outputs, whose reviews are carried
    previous: str | None  # the run its 变更记录 compares with, and that run's snapshot of the county
    before: dict | None
    seconds: int  # CPU seconds per file read, in a process of its own; 0: no limit set (Dask)


@dataclass
class CountyDone:
    """What comes back from a county: small, whatever the county's size."""

    name: str
    files: list[FileRecord]
    read: dict[str, FileOutcome | None]  # newly read, for the ledger's cache (then only the names: _remember)
    row: dict  # the summary's row (county_row)
    snapshot: dict  # for the next run's 变更记录 (outputs.changes.snapshot)
    outputs: dict[str, str] = field(default_factory=dict)  # name in the county's folder → sha256
    outputs_from: str = ""  # the run that computed them (this one, or the one a repeat copied)


def run_counties(inbox: str | Path, outbox: str | Path, cfg: Config | None = None, executor: Executor = serial, *,
                 spread: Spread | None = None, keep: int | None = None, recompute: bool = False,
                 progress=None) -> RunResult:
    """`xlbatch run --by county`, as nightly.run is `xlbatch run`: every county of `inbox` written by
    `spread` (default: a worker process per core), then the summary; published in `outbox`. `executor`
    reads the files of a county done again here (its worker died)."""
    cfg = cfg if cfg is not None else Config()
    spread = spread or local_spread(os.cpu_count() or 1)
    if cfg.season.roster:
        raise ConfigError("按县汇总（--by county）时不能配置 [season] roster：花名册只属于一个县（区）。"
                          "请去掉该项，或对各县分别运行 xlbatch run")
    # Absolute: a Dask worker on another machine finds the inbox and the run's folder under the same paths.
    inbox, outbox = Path(inbox).absolute(), Path(outbox).absolute()
    started = datetime.now(UTC)
    run_id = new_run_id(started)
    with session(inbox, outbox, run_id) as state:
        counties, loose = find_counties(inbox, cfg)
        stub = RunResult(run_id=run_id, started_at=started.isoformat(timespec="seconds"), inbox=str(inbox),
                         config=cfg, files=[], forms=None, indicators=None, findings=[], outbox=str(outbox))
        done = _do_counties(stub, counties, spread, executor, state.ledger, recompute, progress)
        result = _summarise(stub, counties, loose, done, state.ledger)
        finish(state, result, started, carried=False, keep=keep, names=BY_COUNTY)
        return result


def find_counties(inbox: Path, cfg: Config) -> tuple[list[County], list[FileRecord]]:
    """Each folder of `inbox` a county (sorted by name), discovered as a single-county run discovers its
    inbox; and the files lying beside them, each ignored with the reason (LOOSE)."""
    counties, loose = [], []
    for entry in sorted(inbox.iterdir(), key=lambda p: p.name):
        if entry.is_dir() and not entry.is_symlink():
            county_cfg = cfg.model_copy(update={"season": cfg.season.model_copy(update={"county": entry.name})})
            files = discover(entry, cfg.limits)
            inputs = inputs_fingerprint([f.record for f in files], county_cfg)
            tasks = [file_task(f, county_cfg) for f in files if f.wanted]
            counties.append(County(entry.name, entry, files, county_cfg, inputs, tasks))
        elif entry.is_file() and not entry.is_symlink():
            record = inbox_file(inbox, entry).record
            record.status, record.code, record.message = IGNORED, "", LOOSE
            loose.append(record)
    return counties, loose


def _do_counties(stub: RunResult, counties: list[County], spread: Spread, executor: Executor, ledger,
                 recompute: bool, progress) -> dict[str, CountyDone]:
    """Repeat the unchanged counties, spread the others; every county's CountyDone, by name."""
    outbox = Path(stub.outbox)
    previous_id = current_run(outbox)
    previous = ledger.run(previous_id) if previous_id else None
    before = ((previous or {}).get("snapshot") or {}).get("counties", {})
    recorded = ledger.outputs(previous_id) if previous_id else {}
    arrivals = _arrivals(counties, ledger, stub.started_at)
    done: dict[str, CountyDone] = {}
    tasks: list[CountyTask] = []
    # A worker of the pool is a process of its own: its CPU time per file may be limited, a Dask worker's not.
    seconds = stub.config.limits.seconds_per_file if getattr(spread, "guarded", False) else 0
    for county in counties:
        old = before.get(county.name)
        if old and old["inputs"] == county.inputs and not recompute:
            repeated = _repeat(county, outbox, previous_id, stub.run_id, old, recorded)
            if repeated is not None:
                ledger.keep(county.tasks, stub.run_id, _limits(county))
                done[county.name] = repeated
                continue
        tasks.append(_task(county, stub, arrivals[county.name], ledger, previous_id, old, seconds))
    event(logging.INFO, "counties", f"{len(counties)} 个县（区）：{len(done)} 个沿用上次的输出，"
          f"{len(tasks)} 个重新计算", counties=len(counties), repeated=sorted(done),
          evaluated=[t.name for t in tasks])
    # The largest first: two workers end together rather than one waiting on the last big county.
    tasks.sort(key=lambda t: -len(t.files))
    _report(progress, len(done), len(counties))
    if len(tasks) == 1 and getattr(spread, "guarded", False):
        # A county alone (one changed tonight) is done here, as a single-county run is: its files read by
        # the run's worker processes, its documents written beside its workbook (outputs/aside.py). In a
        # worker of the pool it would have one core. On a cluster it goes to the cluster all the same.
        _gather([(0, do_county(tasks[0], executor))], tasks, done, counties, executor, ledger, stub, progress)
        return done
    # Closed at once however the loop ends: a stopped run (SIGTERM) ends the pool's workers now, not
    # when its traceback is dropped.
    with contextlib.closing(spread(do_county, tasks)) as finished:
        _gather(finished, tasks, done, counties, executor, ledger, stub, progress)
    return done


def _gather(finished, tasks: list[CountyTask], done: dict[str, CountyDone], counties: list[County],
            executor: Executor, ledger, stub: RunResult, progress) -> None:
    """Each county as it finishes: done again here if its worker died, its reading cached, counted."""
    for i, outcome in finished:
        if isinstance(outcome, WorkerLost):
            event(logging.WARNING, "county_worker_died",
                  f"处理{tasks[i].name}的工作进程意外退出，改为在本进程中逐个文件重新处理", county=tasks[i].name)
            outcome = do_county(tasks[i], executor)
        _remember(ledger, counties, outcome, stub.run_id)
        done[outcome.name] = outcome
        _report(progress, len(done), len(counties))


def _report(progress, done: int, total: int) -> None:
    if progress:
        progress(SUMMARY, done, total)


def _arrivals(counties: list[County], ledger, seen: str) -> dict[str, dict[str, Arrival]]:
    """When each file came, as the ledger knows it under its path in the whole inbox (COUNTY/...), by
    county and path within it. One call: the ledger remembers the versions it saw for the run's record."""
    named = [SimpleNamespace(path=f"{c.name}/{f.record.path}", sha256=f.record.sha256, mtime=f.record.mtime)
             for c in counties for f in c.files]
    known = ledger.arrivals(named, seen)
    return {c.name: {f.record.path: known[f"{c.name}/{f.record.path}"] for f in c.files} for c in counties}


def _limits(county: County) -> str:
    return limits_key(county.cfg.limits, county.cfg.label_words)


def _task(county: County, stub: RunResult, arrivals: dict, ledger, previous_id: str | None,
          old: dict | None, seconds: int) -> CountyTask:
    key = _limits(county)
    cached = {}
    for task in county.tasks:
        outcome = ledger.cached(task, stub.run_id, key)
        if outcome is not None:
            cached[task.rel] = outcome
    outbox = Path(stub.outbox)
    return CountyTask(county.name, str(county.folder), county.files, county.cfg, stub.run_id, stub.started_at,
                      arrivals, cached, str(run_dir(outbox, stub.run_id) / COUNTIES / county.name),
                      str(outbox / COUNTIES / county.name), previous_id, old and old["snapshot"], seconds)


def _remember(ledger, counties: list[County], outcome: CountyDone, run_id: str) -> None:
    """Cache what the county's worker read (a file replaced while it was read is not cached)."""
    from .ops.ledger import unchanged_since_hashed

    county = next(c for c in counties if c.name == outcome.name)
    key = _limits(county)
    ledger.store([(task, outcome.read[task.rel]) for task in county.tasks
                  if task.rel in outcome.read and unchanged_since_hashed(task)], run_id, key)
    ledger.commit()
    # Cached now: keep only the names. Held till the end for 20 counties, the outcomes cost ~0.5 GB.
    outcome.read = dict.fromkeys(outcome.read)


# --- in a worker ---------------------------------------------------------------------------------

def do_county(task: CountyTask, executor: Executor | None = None) -> CountyDone:
    """Read, check and write one county as a single-county run would, into `task.out`; runs in a worker
    (or, with `executor` to read its files, in the run's own process). Returns its summary row."""
    from .outputs.changes import compare, snapshot
    from .outputs.reviews import gather_reviews
    from .outputs.write import write_folder
    from .pipeline import evaluate

    gc.set_threshold(*GC_THRESHOLDS)  # as the command line sets it: a Dask worker keeps Python's default
    reader = _Reader(task.cached, executor, task.seconds)
    result = evaluate(task.files, task.cfg, reader, run_id=task.run_id, started_at=task.started_at,
                      inbox=task.folder, arrivals=task.arrivals)
    result.outbox = task.shown
    now = snapshot(result)
    result.extra["reading"] = {"read": sorted(reader.read), "reused": len(reader.reused)}
    result.extra["changes"] = compare(task.previous, task.before, now)
    result.finished_at = datetime.now(UTC).isoformat(timespec="seconds")
    out = Path(task.out)
    out.mkdir(parents=True, exist_ok=True)
    reviews, result.extra["reviews_from"] = gather_reviews(Path(task.shown))
    write_folder(out, result, reviews)
    outputs = {name: o["sha256"] for name, o in result.extra["outputs"].items()}
    outputs["run.json"] = sha256_of(out / "run.json")
    return CountyDone(task.name, result.files, reader.read, county_row(task.name, result), now, outputs,
                      task.run_id)


class _Reader:
    """An executor over the county's files: those the ledger holds as given, the others read — one after
    another here, each under `seconds` of CPU when given (a process of the pool), or by `inner`."""

    def __init__(self, cached: dict[str, FileOutcome], inner: Executor | None, seconds: int):
        self.cached, self.inner, self.seconds = cached, inner, seconds
        self.read: dict[str, FileOutcome] = {}
        self.reused: list[str] = []

    def __call__(self, tasks, on_done=None, meanwhile=None) -> list[FileOutcome]:
        todo = [t for t in tasks if t.rel not in self.cached]
        self.reused = [t.rel for t in tasks if t.rel in self.cached]
        if self.inner is not None:
            fresh = self.inner(todo, meanwhile=meanwhile)
        else:
            if meanwhile:
                meanwhile()
            fresh = [guarded(t, self.seconds) if self.seconds else analyse_file(t) for t in todo]
            if self.seconds:
                lift_cpu_limit()
        self.read = {t.rel: o for t, o in zip(todo, fresh, strict=True)}
        return [self.cached.get(t.rel) or self.read[t.rel] for t in tasks]


def county_row(name: str, result: RunResult) -> dict:
    """The county in figures, as its own workbook counts them (forms that enter the totals: score.counted)."""
    from collections import Counter

    from .checks.score import counted
    from .outputs.formats import run_year

    forms = counted(result.forms)
    budget = float(forms["budget_full_year"].sum()) if len(forms) else 0.0
    executed = float(forms["executed"].sum()) if len(forms) else 0.0
    grades = result.config.scoring.grades
    counts = result.counts()
    return {
        "county": name, "year": run_year(result), "files": counts["files"], "accepted": counts["accepted"],
        "rejected": counts["rejected"],
        "forms": counts["forms"], "counted": len(forms), "units": int(forms["unit"].nunique()) if len(forms) else 0,
        "budget": round(budget, 6), "executed": round(executed, 6),
        "rate": round(executed / budget, 6) if budget else None,
        "grades_reported": {g: int((forms["grade_reported"] == g).sum()) for g in grades} if len(forms) else {},
        "grades": {g: int((forms["grade"] == g).sum()) for g in grades} if len(forms) else {},
        "severity": dict(Counter(f.severity for f in result.findings)),
        "rules": dict(sorted(Counter(f.rule for f in result.findings).items())),
        "findings": len(result.findings),
    }


# --- an unchanged county -----------------------------------------------------------------------

def _repeat(county: County, outbox: Path, previous_id: str, run_id: str, old: dict,
            recorded: dict[str, str]) -> CountyDone | None:
    """Copy the county's published folder into this run's, if it is exactly as the ledger says it was
    written (an auditor who saved reviews into its workbook changed it: then None, and it is done again)."""
    prefix = f"{COUNTIES}/{county.name}/"
    mine = {name[len(prefix):]: sha for name, sha in recorded.items() if name.startswith(prefix)}
    source = outbox / RUNS / previous_id / COUNTIES / county.name
    target = run_dir(outbox, run_id) / COUNTIES / county.name
    try:
        names = written_outputs(source)
        if not mine or set(names) != set(mine) or any(sha256_of(source / n) != mine[n] for n in names):
            return None
        _link(source, target, names)
        shown = json.loads((target / "run.json").read_text(encoding="utf-8"))
        files = [f.record for f in county.files]
        restore_fates(files, shown["files"])
    except (OSError, ValueError, KeyError, TypeError):
        shutil.rmtree(target, ignore_errors=True)
        return None
    return CountyDone(county.name, files, {}, old["row"], old["snapshot"], mine,
                      old.get("outputs_from") or previous_id)


def _link(source: Path, target: Path, names: list[str]) -> None:
    """Each of `names` in `target` as a second name of the file in `source`: no copy of a county's 4 MB,
    and no second hashing (the same file was just hashed). A program saving over a published file
    replaces it (a rename): the earlier run keeps its own. Copied where the filesystem has no links."""
    (target / NOTICES).mkdir(parents=True, exist_ok=True)
    copied = []
    for name in names:
        try:
            os.link(source / name, target / name)
        except OSError:
            shutil.copyfile(source / name, target / name)
            copied.append(target / name)
    fsync_files(copied)
    fsync_dir(target / NOTICES)
    fsync_dir(target)


# --- the run's own outputs -------------------------------------------------------------------------

def _summarise(stub: RunResult, counties: list[County], loose: list[FileRecord], done: dict[str, CountyDone],
               ledger) -> RunResult:
    """Write the summary workbook, the two CSVs over all counties and run.json; record the run."""
    from .outputs.counties_book import write_summary_book

    result = stub
    order = [done[c.name] for c in counties]
    result.files = [replace(f, path=f"{d.name}/{f.path}", archive=f"{d.name}/{f.archive}" if f.archive else "")
                    for d in order for f in d.files] + loose
    result.extra["counts"] = _counts(result.files, order)
    result.extra["by"] = "county"
    result.extra["counties"] = [{**d.row, "outputs_from": d.outputs_from,
                                 "read": len(d.read), "folder": f"{COUNTIES}/{d.name}"} for d in order]
    result.extra["changes"] = {"counts": {"evaluated": sum(d.outputs_from == stub.run_id for d in order),
                                          "repeated": sum(d.outputs_from != stub.run_id for d in order)}}
    result.finished_at = datetime.now(UTC).isoformat(timespec="seconds")
    folder = run_dir(Path(stub.outbox), stub.run_id)
    write_atomically(folder / "consolidated.xlsx", lambda tmp: write_summary_book(tmp, result, loose))
    for name, key in (("projects.csv", ("source_file", "superseded_by")), ("anomalies.csv", ("source_file",))):
        write_atomically(folder / name, lambda tmp, name=name, key=key: _combine(tmp, folder, order, name, key))
    names = ("consolidated.xlsx", "projects.csv", "anomalies.csv")
    result.extra["outputs"] = {n: {"sha256": sha256_of(folder / n), "bytes": (folder / n).stat().st_size}
                               for n in names}
    from .outputs.files import write_run_json

    write_atomically(folder / "run.json", lambda tmp: write_run_json(tmp, result, indent=None))
    outputs = {n: result.extra["outputs"][n]["sha256"] for n in names}
    outputs["run.json"] = sha256_of(folder / "run.json")
    for d in order:
        outputs.update({f"{COUNTIES}/{d.name}/{n}": sha for n, sha in d.outputs.items()})
    snapshot = {"counties": {d.name: {"inputs": c.inputs, "row": d.row, "snapshot": d.snapshot,
                                      "outputs_from": d.outputs_from} for d, c in zip(order, counties, strict=True)}}
    everything = [f for c in counties for f in c.files]
    inputs = inputs_fingerprint([*(f.record for f in everything), *loose], stub.config)
    ledger.record_run(result, status="published", inputs=inputs, read=sum(len(d.read) for d in order),
                      reused=sum(d.outputs_from != stub.run_id for d in order), snapshot=snapshot, outputs=outputs)
    return result


def _counts(files: list[FileRecord], order: list[CountyDone]) -> dict[str, int]:
    opened = sum(f.status == OPENED for f in files)
    out = {"counties": len(order), "files": len(files) - opened}
    for status in ("accepted", "rejected", "ignored"):
        out[status] = sum(f.status == status for f in files)
    if opened:
        out["archives"] = opened
    out["forms"] = sum(d.row["forms"] for d in order)
    out["findings"] = sum(d.row["findings"] for d in order)
    return out


def _combine(path: Path, folder: Path, order: list[CountyDone], name: str, paths: tuple[str, ...]) -> None:
    """One CSV over all counties: each county's rows as its own CSV has them, `county` first, the
    source paths made relative to the whole inbox (COUNTY/...)."""
    from .outputs.files import ANOMALY_COLUMNS, PROJECT_COLUMNS, csv_safe

    header = PROJECT_COLUMNS if name == "projects.csv" else ANOMALY_COLUMNS
    where = [header.index(column) for column in paths]
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["county", *header])
        for d in order:
            with (folder / COUNTIES / d.name / name).open(encoding="utf-8-sig", newline="") as source:
                rows = csv.reader(source)
                if next(rows, None) != header:  # written by this code a moment ago, or copied and checked
                    raise RuntimeError(f"{d.name} 的 {name} 表头与规定的列不符")
                county = csv_safe(d.name)
                for row in rows:
                    for i in where:
                        if row[i]:
                            row[i] = csv_safe(f"{d.name}/{_unguarded(row[i])}")
                    writer.writerow([county, *row])


def _unguarded(text: str) -> str:
    """A path as it was before write.csv_safe guarded it: prefixed with its county, it needs no guard."""
    from .outputs.files import _FORMULA_START

    return text[1:] if text.startswith("'") and text[1:].startswith(_FORMULA_START) else text
