"""整改通知: one Word document per unit with findings, outbox/通知/UNIT.docx (SPEC section 7).

Addressed to the unit, it lists what to correct so that a clerk can act on it the same day: the
files that were not accepted first (they must be sent again), then each form (file, sheet,
project) with its findings cell by cell, in the order of the sheet, each saying what was found,
what it should be, and what to do. A standard closing text without a deadline and the issuing
office and date end it.

Who a finding concerns: the form's 实施单位; for a file refused before a unit could be read from
it (unreadable, or 实施单位 left empty), the inbox folder it came in (units send their files in
their own folder), else the 主管部门 the form names; a file with none of these goes to one notice
for files whose sender could not be told. Findings of a copy a newer submission replaced are
left out: the unit already sent the newer file, whose own findings are listed.

A unit's name becomes a file name only through `file_names`: path separators, characters
Windows refuses, leading dots, reserved device names and excess length are made safe, and two
units whose names end up alike get distinct names.
"""

from __future__ import annotations

import os
import re
import shutil
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path, PurePosixPath

from ..catalogue import RULES
from ..checks.rules import (
    BUDGET_SCORE_MISMATCH,
    DUPLICATE_SUBMISSION,
    FUNDS_DONT_ADD_UP,
    HIGH_SCORE_LOW_EXECUTION,
    INCOMPARABLE_VALUES,
    INDICATOR_SCORE_MISMATCH,
    LATE_SUBMISSION,
    LOW_EXECUTION,
    MISSING_ACTUAL,
    NOT_SUBMITTED,
    OVER_BUDGET,
    RATE_MISMATCH,
    REPORT_FIGURE_MISMATCH,
    REPORT_MISSING,
    SCORE_OUT_OF_RANGE,
    SELF_SCORE_INFLATED,
    TOTAL_MISMATCH,
    UNKNOWN_UNIT,
    WEIGHTS_INVALID,
    WRONG_YEAR,
)
from ..models import ERROR, INFO, Finding
from ..ops.outbox import NOTICES, fsync_dir, fsync_files
from .document import (
    blank,
    chinese_date,
    chinese_number,
    describe,
    heading,
    new_document,
    paragraph,
    save,
    sentence,
    signature,
)
from .formats import run_time

UNKNOWN_SENDER = "未能确定报送单位的文件"
NAME_LIMIT = 60  # characters of a file name before ".docx" (180 bytes in UTF-8, far below 255)
_UNSAFE = re.compile(r'[\\/:*?"<>|\x00-\x1f\x7f]+')
_RESERVED = re.compile(r"(CON|PRN|AUX|NUL|COM[0-9]|LPT[0-9])(\..*)?", re.IGNORECASE)
_A1 = re.compile(r"([A-Z]+)(\d+)")

# What the clerk does about a finding whose message does not already say it (most say 请…).
ACTIONS = {rule.code: action for rule, action in (
    (RATE_MISMATCH, "请更正。"),
    (BUDGET_SCORE_MISMATCH, "请更正。"),
    (INDICATOR_SCORE_MISMATCH, "请按评分规则更正得分。"),
    (TOTAL_MISMATCH, "请更正总分。"),
    (SCORE_OUT_OF_RANGE, "请更正得分。"),
    (WEIGHTS_INVALID, "请按评分办法调整分值。"),
    (SELF_SCORE_INFLATED, "请按评分规则重新核定自评分。"),
    (OVER_BUDGET, "请核实全年执行数和全年预算数；如确属超预算执行，请在偏差原因中说明。"),
    (FUNDS_DONT_ADD_UP, "请核实各项资金来源的金额并更正。"),
    (LOW_EXECUTION, "请在偏差原因分析中说明执行率偏低的原因和改进措施。"),
    (HIGH_SCORE_LOW_EXECUTION, "请对照预算执行情况重新核定自评分，或说明理由。"),
    (MISSING_ACTUAL, "请填写实际完成值。"),
    (INCOMPARABLE_VALUES, "请核实年度指标值与实际完成值的计量单位是否一致。"),
    (DUPLICATE_SUBMISSION, "汇总以最新报送的文件为准；如最新文件有误，请重新报送正确的文件。"),
    (NOT_SUBMITTED, "请尽快报送。"),
    (WRONG_YEAR, "请核实年度和单位，报送本年度、本县（区）的自评表。"),
    (UNKNOWN_UNIT, "请核实实施单位名称是否与报送单位名单一致。"),
    (LATE_SUBMISSION, ""),
    (REPORT_MISSING, "请一并报送自评报告（.docx 或 .pdf）。"),
    (REPORT_FIGURE_MISMATCH, "请核实自评报告与自评表中的数字，更正有误的一方。"),
)}
DEFAULT_ACTION = "请核实更正。"


# --- shared with the report ---------------------------------------------------------------

def current_findings(result) -> list[Finding]:
    """The run's findings less those of copies a newer submission replaced."""
    forms = result.forms
    replaced = set(forms.index[forms["superseded_by"] != ""].tolist()) if not forms.empty else set()
    return [f for f in result.findings if f.form_id is None or f.form_id not in replaced]


def addressee(f: Finding, departments: dict[str, str]) -> tuple[str, str]:
    """(who the finding concerns, how that was told: "" for the form's 实施单位, else a note)."""
    if f.unit:
        return f.unit, ""
    parts = PurePosixPath(f.source_file).parts
    if len(parts) > 1:
        folder = re.sub(r"\.zip$", "", parts[0], flags=re.IGNORECASE)
        return folder, f"未填写实施单位或无法读取的文件，按所在文件夹「{parts[0]}」确定收件单位"
    if departments.get(f.source_file):
        return departments[f.source_file], "未填写实施单位的文件，按表中主管部门确定收件单位"
    return UNKNOWN_SENDER, "以下文件既未填写实施单位，也不在单位文件夹中，请转交报送单位"


def departments_by_file(result) -> dict[str, str]:
    """The 主管部门 each file's forms state: where a refused form's notice goes when 实施单位 is empty."""
    return {record.path: form.department for record in result.files for form in record.forms if form.department}


# --- what each notice lists ---------------------------------------------------------------

@dataclass
class Notice:
    unit: str
    notes: set[str] = field(default_factory=set)  # how the unit was told, when not by 实施单位
    pending: list[Finding] = field(default_factory=list)  # of no file: the unit has not sent (NOT_SUBMITTED)
    rejected: dict[str, list[Finding]] = field(default_factory=dict)  # file → why it was refused
    forms: dict[tuple[str, str, str], list[Finding]] = field(default_factory=dict)  # (file, sheet, project)

    @property
    def actionable(self) -> bool:
        return (bool(self.rejected) or any(f.severity != INFO for f in self.pending)
                or any(f.severity != INFO for fs in self.forms.values() for f in fs))


def gather(result) -> list[Notice]:
    """One notice per unit with a finding to act on (not only 提示), ordered by unit."""
    departments = departments_by_file(result)
    notices: dict[str, Notice] = {}
    for f in current_findings(result):
        unit, how = addressee(f, departments)
        notice = notices.setdefault(unit, Notice(unit))
        if how:
            notice.notes.add(how)
        if not f.source_file:  # a roster unit that sent nothing: about the unit, not a file
            notice.pending.append(f)
        elif f.severity == ERROR:
            notice.rejected.setdefault(f.source_file, []).append(f)
        else:
            notice.forms.setdefault((f.source_file, f.sheet, f.project), []).append(f)
    return [notices[unit] for unit in sorted(notices) if notices[unit].actionable]


def file_names(units: Iterable[str]) -> list[str]:
    """A safe, distinct file name (with .docx) for each unit, in order."""
    taken: set[str] = set()
    names = []
    for unit in units:
        base = safe_stem(unit)
        name, n = base, 1
        while name.casefold() in taken:
            n += 1
            name = f"{base[:NAME_LIMIT - 4]}（{n}）"
        taken.add(name.casefold())
        names.append(f"{name}.docx")
    return names


def safe_stem(unit: str) -> str:
    """A unit's name as a file name on Linux, Windows and Samba shares."""
    text = unicodedata.normalize("NFC", unit)
    text = _UNSAFE.sub("_", text)
    # A leading dot hides a file, a leading ~$ is what Word's lock files look like (nightly.py skips those);
    # Windows drops trailing dots and spaces.
    text = re.sub(r"^[\s.~$]+", "", text).rstrip(" .")
    text = text[:NAME_LIMIT].rstrip(" .")
    if not text:
        return "未命名单位"
    return f"{text}_" if _RESERVED.fullmatch(text) else text


# --- writing ------------------------------------------------------------------------------

def write_notices_unplaced(run_folder: Path, result, year: int | None) -> list[str]:
    """Write every notice into the temporary folder run_folder/.通知.tmp/, flushed to disk, which
    `place_notices` then renames to 通知/ whole (empty when no unit has findings); returns the names
    written, as "通知/NAME.docx"."""
    tmp = run_folder / f".{NOTICES}.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    notices = gather(result)
    names = file_names(n.unit for n in notices)
    issuer, when = result.config.season.issuing_office, run_time(result)
    doc = new_document("", issuer, when)  # one document, emptied and written again for each notice
    for notice, name in zip(notices, names, strict=True):
        write_notice(doc, tmp / name, notice, issuer, when, year)
    fsync_files([tmp / name for name in names])
    fsync_dir(tmp)
    return sorted(f"{NOTICES}/{name}" for name in names)


def place_notices(run_folder: Path) -> None:
    """The folder `write_notices_unplaced` wrote renamed to run_folder/通知/ whole."""
    final, tmp = run_folder / NOTICES, run_folder / f".{NOTICES}.tmp"
    if final.exists():
        shutil.rmtree(final)
    os.replace(tmp, final)


def write_notice(doc, path: Path, notice: Notice, issuer: str, when: datetime, year: int | None) -> None:
    """Write `notice` to `path` with `doc` (a document from `new_document`, emptied first)."""
    season = f"{year}年度" if year else ""
    title = f"关于{season}项目支出绩效自评表审核问题的整改通知"
    blank(doc)
    describe(doc, title, issuer, when)
    paragraph(doc, title, "公文标题")
    addressed = paragraph(doc, f"{notice.unit}：")
    addressed.paragraph_format.first_line_indent = 0
    for note in sorted(notice.notes):
        paragraph(doc, f"（{note}。）", "注释")
    paragraph(doc, _intro(notice, issuer, season))
    sections = []
    if notice.pending:
        sections.append(("尚未报送的自评表", [("", notice.pending)]))
    if notice.rejected:
        files = [(f"文件「{path}」", fs) for path, fs in notice.rejected.items()]
        sections.append(("未受理的文件（须重新报送）", files))
    if notice.forms:
        sections.append(("需更正或说明的自评表", [(_form_title(key), fs) for key, fs in notice.forms.items()]))
    for number, (title_text, groups) in enumerate(sections, start=1):
        heading(doc, f"{chinese_number(number)}、{title_text}")
        for i, (what, findings) in enumerate(groups, start=1):
            if what:
                heading(doc, f"（{chinese_number(i)}）{what}", level=2)
            for j, f in enumerate(_in_sheet_order(findings), start=1):
                paragraph(doc, f"{j}．{line(f)}")
    paragraph(doc, _closing(notice))
    signature(doc, issuer, chinese_date(when))
    save(doc, path)


def _closing(notice: Notice) -> str:
    """The standard closing text, without a deadline (the bureau adds its own when it sends the notice)."""
    if not notice.rejected and not notice.forms:  # only what was not sent: its line says 请尽快报送
        return "如你单位已经报送或本年度无需报送，请说明情况。"
    rejected = "未受理的文件不计入汇总，须更正后重新报送；" if notice.rejected else ""
    return ("请你单位对照以上问题逐项核实，在原自评表中更正或补充说明后，将更正后的文件重新报送。"
            f"{rejected}汇总以最新报送的文件为准。如对审核意见有异议，请附书面说明一并报送。")


def _intro(notice: Notice, issuer: str, season: str) -> str:
    lines = sum(len(fs) for fs in notice.forms.values())
    parts = []
    if notice.rejected:
        parts.append(f"{len(notice.rejected)} 个文件未受理，须重新报送")
    if notice.forms:
        parts.append(f"{len(notice.forms)} 张自评表有 {lines} 处需更正或说明")
    if not parts:  # nothing received: only what has not been sent
        return f"经{issuer}核对报送单位名单，你单位尚未报送{season}项目支出绩效自评表。具体如下："
    pending = "；另有自评表尚未报送" if notice.pending else ""
    return f"经{issuer}审核，你单位报送的{season}项目支出绩效自评表中，{'；'.join(parts)}{pending}。具体如下："


def _form_title(key: tuple[str, str, str]) -> str:
    path, sheet, project = key
    where = f"文件「{path}」" + (f"工作表「{sheet}」" if sheet else "")
    return f"项目「{project}」（{where}）" if project else where


def line(f: Finding) -> str:
    """One finding as the clerk reads it: where, what was found and should be, what to do."""
    if f.sheet and f.cell:
        where = f"工作表「{f.sheet}」{f.cell}："
    elif f.sheet:
        where = f"工作表「{f.sheet}」："
    else:
        where = ""
    text = sentence(f.message)
    action = "" if "请" in f.message else ACTIONS.get(f.rule, DEFAULT_ACTION)
    prefix = "（提示）" if f.severity == INFO else ""
    return f"{prefix}{where}{text}{action}"


def _in_sheet_order(findings: list[Finding]) -> list[Finding]:
    """Row by row, then column by column, as the clerk goes down the sheet; cell-less ones first; in one
    cell, in the catalogue's order (a wrong 执行率 before the low execution it shows)."""
    order = {code: i for i, code in enumerate(RULES)}

    def key(f: Finding):
        m = _A1.fullmatch(f.cell or "")
        row, col = 0, 0
        if m:
            letters, row = m.group(1), int(m.group(2))
            for ch in letters:
                col = col * 26 + ord(ch) - 64
        return (f.sheet, row, col, order.get(f.rule, len(order)), f.message)

    return sorted(findings, key=key)
