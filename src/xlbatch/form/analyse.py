"""The per-file unit of work: read one file and find its forms.

`analyse_file` is a pure function of (the file's bytes, limits) returning a
picklable `FileOutcome`, so the same code runs inline, in a local process pool,
or on a Dask worker given the bytes (execute.py), and its result can be cached
by file hash. It never raises: whatever goes wrong inside one file becomes that
file's finding.

The file is read once; the bytes judged are hashed, and `FileOutcome.sha256`
is that hash. When it differs from the one discover recorded (the file was
replaced in between), the bytes read are still judged — they were inspected —
and the outcome says so; the ledger never serves it for the recorded hash.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..config import LimitSettings
from ..intake.archives import member_bytes
from ..intake.read import ReadError, Workbook, open_workbook, workbook_of
from ..intake.read_rules import FILE_UNREADABLE, FILE_UNSAFE, NO_FORM_FOUND
from ..models import ERROR, Finding, RawForm
from .parse import parse_sheet, sheet_kind, stacked_forms
from .vocabulary import NOT_PROJECT_KINDS, use_labels


@dataclass(frozen=True)
class FileTask:
    path: str  # absolute: the file, or the package on disk holding the member `member`
    rel: str  # relative to the inbox: the name in every output (ARCHIVE.zip/MEMBER for a member)
    sha256: str  # of the file's (the member's) bytes
    limits: LimitSettings
    size: int = -1  # of the file at `path` as hashed by discover: a file replaced since is not cached
    mtime: float = 0.0
    labels: tuple = ()  # the bureau's spellings (Config.label_words), added to the vocabulary
    member: tuple[str, ...] = ()  # a member of a package: zipfile's names from the archive at `path` down to it
    archive_sha256: str = ""  # a member: of the archive at `path`, as discover hashed it


@dataclass
class FileOutcome:
    rel: str
    sha256: str  # of the bytes judged: differs from FileTask.sha256 if the file was replaced after hashing
    forms: list[RawForm] = field(default_factory=list)
    finding: Finding | None = None  # set when the whole file is rejected
    notes: list[str] = field(default_factory=list)  # what a clerk should know about an accepted file


def analyse_file(task: FileTask, data: bytes | None = None) -> FileOutcome:
    """The outcome for `task`'s file, read from its path, or from `data` when given (the bytes at its path,
    shipped). A member of a package is inflated from the archive's bytes here, in the worker."""
    book = None
    use_labels(task.labels)
    try:
        if task.member:
            data = member_bytes(task.path, task.member, task.archive_sha256, task.limits, data)
        if data is None:
            book = open_workbook(Path(task.path), task.limits)
        else:
            book = workbook_of(data, Path(task.rel).suffix, task.limits)
        forms = [f for s in book.sheets for part in stacked_forms(s) if (f := parse_sheet(part, task.rel))]
    except ReadError as exc:
        return _replaced(task, exc.sha256, _rejected(task, exc))
    except Exception as exc:  # a parser crash costs this file, never the run
        crash = ReadError(FILE_UNREADABLE, "parser_crash", error=type(exc).__name__, detail=str(exc)[:120])
        rejected = _rejected(task, crash)
        return _replaced(task, book.sha256 if book else "", rejected)
    return _replaced(task, book.sha256, _judged(task, book, forms))


def _judged(task: FileTask, book: Workbook, forms: list[RawForm]) -> FileOutcome:
    if not forms and book.skipped:
        return _rejected(task, ReadError(FILE_UNSAFE, "sheets_oversized", skipped=_skipped_text(book, task)))
    if not forms:
        return _rejected(task, _no_form(book))
    notes = [_skipped_text(book, task)] if book.skipped else []
    if book.macros:
        notes.append("文件含 VBA 宏：宏未执行，也不会带入任何输出")
    return FileOutcome(task.rel, task.sha256, forms, notes=notes)


def _no_form(book: Workbook) -> ReadError:
    """NO_FORM_FOUND saying what the sheets are when each is recognized (a 部门整体支出绩效自评表,
    填报说明, 目录, a blank sheet), and today's message when one is not: that may be a project form
    whose labels were not found, and the clerk is told what a form looks like."""
    kinds = [(sheet.name, sheet_kind(sheet)) for sheet in book.sheets]
    department = [name for name, kind in kinds if kind == "department"]
    others = [name for name, kind in kinds if kind != "department"]
    if department and others:
        return ReadError(NO_FORM_FOUND, "department_form_and_others", sheets=_quoted(department),
                         others=_quoted(others))
    if department:
        return ReadError(NO_FORM_FOUND, "department_form", sheets=_quoted(department))
    if kinds and all(kind for _name, kind in kinds):
        described = "、".join(f"{NOT_PROJECT_KINDS[kind]}「{name}」" for name, kind in kinds)
        return ReadError(NO_FORM_FOUND, "not_forms", sheets=described)
    return ReadError(NO_FORM_FOUND, "no_form", sheets=_quoted([s.name for s in book.sheets]) or "（无工作表）")


def _quoted(names: list[str]) -> str:
    return "、".join(f"「{name}」" for name in names)


def _replaced(task: FileTask, judged: str, outcome: FileOutcome) -> FileOutcome:
    """The outcome carries the hash of the bytes judged; if the file changed since it was hashed, it says so.

    A file refused unread (oversized, not a regular file, gone) keeps the task's hash, as does a task
    without one (a benchmark).
    """
    if not judged or not task.sha256 or judged == task.sha256:
        return outcome
    outcome.sha256 = judged
    note = (f"文件在登记（计算 sha256）之后、读取之前被替换：本次检查的是读取时的内容（sha256 {judged[:12]}…），"
            f"不是登记的 {task.sha256[:12]}…；下次运行将重新登记并读取")
    if outcome.finding:
        outcome.finding.message += f"（{note}）"
    else:
        outcome.notes.append(note)
    return outcome


def _skipped_text(book: Workbook, task: FileTask) -> str:
    limits = task.limits
    sheets = "、".join(f"「{name}」（最远的有内容单元格 {e.ref}）" for name, e in book.skipped.items())
    return (f"工作表{sheets}超出读取上限（{limits.max_rows} 行 × {limits.max_cols} 列），未读取")


def file_finding(rel: str, refusal: ReadError) -> Finding:
    """The finding rejecting the file `rel`: the refusal's rule code and message."""
    return Finding(rule=refusal.code, severity=ERROR, source_file=rel, message=refusal.message, field="file",
                   identity=rel)


def _rejected(task: FileTask, refusal: ReadError) -> FileOutcome:
    return FileOutcome(task.rel, task.sha256, finding=file_finding(task.rel, refusal))

