"""`xlbatch inspect FILE`: for each form in a file, which cell each role was read from and through
which label, and for a role not found, the labels where it was expected.

This is how a bureau checks its own template once: a role read from the wrong cell, or not found
because the template spells its label otherwise, shows here before any unit submits. The file is
read as a run reads it (`analyse_file`, the same limits); nothing is checked or scored.

Each form's readings follow the vocabulary's order (vocabulary.ROLES): the header fields, the funds
columns (their value in the 年度资金总额 row), the fund rows (年初预算数 / 全年预算数 / 全年执行数 of
the row), the goals, the indicator columns (the first indicator's cell) and the 总分 row (the
reported total). The title and the funds block's own label are not roles read, and not listed.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..config import LimitSettings
from ..intake.discover import inbox_file
from ..models import Cell, Finding, RawForm
from . import vocabulary as vocab
from .analyse import FileOutcome, FileTask, analyse_file
from .locate import names
from .values import clean_text, label_key
from .vocabulary import role_key

# What each group of roles is called in the table (the vocabulary's groups, in its order), and
# what a reading of the group shows.
_AMOUNTS = " / ".join(vocab.FUND_COL_LABELS[col] for col in vocab.AMOUNT_COLS)
GROUP_NAMES = {
    "header": ("表头", ""),
    "fund_column": (vocab.FUNDS_BLOCK.label, f"{vocab.FUND_ROW['total'].label}一行的值"),
    "fund_row": ("资金来源", _AMOUNTS),
    "goal": ("年度总体目标", ""),
    "indicator_column": ("绩效指标", "第一条指标的值"),
    "total": ("自评总分", "表内报的总分"),
    "indicator_row": ("计分的指标行", "其分值即预算执行的分值"),
}


@dataclass
class Reading:
    """One role of one form: the cell its value was read from and the label it was found through."""

    key: str  # "fund_column.full_year": vocabulary.role_key of vocabulary.ROLES' group and role
    group: str
    name: str  # the role's display name (vocabulary)
    cell: str  # where the value was read ("" when the role was not found)
    value: Any
    label_cell: str
    label: str
    nearby: tuple[tuple[str, str], ...] = ()  # not found: (cell, text) of the labels where it was expected
    # Not found although a label there names it (年初预算 in a funds header row not anchored, its
    # 全年预算数 being the label missing): that label's (cell, text).
    seen: tuple[str, str] | None = None

    @property
    def found(self) -> bool:
        return bool(self.label_cell)

    @property
    def optional(self) -> bool:
        """A column of provincial layouts the official form does not print (指标性质, 度量单位)."""
        return self.key in vocab.NOT_IN_TEMPLATE


@dataclass
class FormReadings:
    sheet: str
    title: str
    year: int | None
    readings: list[Reading]


@dataclass
class Inspection:
    """A file's forms and their readings; or why none: the finding that refuses it, or why it is ignored."""

    path: str
    forms: list[FormReadings]
    finding: Finding | None = None
    ignored: str = ""


Executor = Callable[[Sequence[FileTask]], list[FileOutcome]]


def inspect_file(path: Path, limits: LimitSettings, executor: Executor | None = None,
                 labels: tuple = ()) -> Inspection:
    """The readings of every form in `path`, read in this process or by `executor` (a worker process)."""
    file = inbox_file(path.parent, path)
    record = file.record
    if file.ignored:
        return Inspection(record.path, [], ignored=record.message)
    task = FileTask(str(path), record.path, record.sha256, limits, record.size, record.mtime, labels)
    outcome = executor([task])[0] if executor is not None else analyse_file(task)
    vocab.use_labels(labels)  # the readings below ask the vocabulary as the worker did
    return Inspection(record.path, [form_readings(form) for form in outcome.forms], finding=outcome.finding)


def form_readings(form: RawForm) -> FormReadings:
    readings = []
    for group, roles in vocab.ROLES.items():
        if group not in GROUP_NAMES:
            continue
        # Where the group's roles not found were expected (one place per group: nearby.py).
        place = next((near[1] for key, near in form.nearby.items() if key.startswith(f"{group}.")), ())
        for name, role in roles.items():
            key = role_key(group, name)
            ref, value = _value(form, group, name)
            label_cell, label = form.labels.get(key, ("", ""))
            if label_cell:
                readings.append(Reading(key, group, role.label, ref, value, label_cell, label))
                continue
            nearby = form.nearby.get(key, ("", ()))[1]
            seen = None if nearby else next((lb for lb in place if names(label_key(lb[1]), role)), None)
            readings.append(Reading(key, group, role.label, "", None, "", "", nearby, seen))
    return FormReadings(form.sheet, clean_text(form.title.value), form.year, readings)


def _value(form: RawForm, group: str, name: str) -> tuple[str, Any]:
    """Where the role's value was read, and the value (a fund row's three amounts joined)."""
    if group == "header":
        return _cell(getattr(form, name))
    if group == "fund_column":
        return _cell(form.funds["total"][name])
    if group == "fund_row":
        cells = [form.funds[name][col] for col in vocab.AMOUNT_COLS]
        refs = [c.ref for c in cells if c.ref]
        shown = " / ".join(clean_text(c.value) or "（空）" for c in cells)
        if any("+" in ref for ref in refs):  # source rows added up (D14+D15 …): the block they span
            return f"{refs[0].split('+')[0]}:{refs[-1].split('+')[-1]}", f"{shown}（多行相加）"
        span = f"{refs[0]}:{refs[-1]}" if len(refs) > 1 else "".join(refs)
        return span, shown
    if group == "goal":
        return _cell(getattr(form, f"goal_{name}"))
    if group == "indicator_column":
        if not form.indicators:
            return "", None
        first = form.indicators[0]
        if not hasattr(first, name):  # 指标性质 / 度量单位 are read into the target
            return first.target.ref, f"并入{vocab.INDICATOR_COLUMN['target'].label}"
        return _cell(getattr(first, name))
    if group == "indicator_row":
        return _cell(form.funds["total"]["weight"])
    return _cell(form.total_reported)


def _cell(cell: Cell) -> tuple[str, Any]:
    return cell.ref, cell.value


def as_json(inspection: Inspection) -> dict:
    """The inspection as plain JSON data (`xlbatch inspect --json`)."""
    finding = inspection.finding
    return {
        "file": inspection.path,
        "ignored": inspection.ignored or None,
        "finding": {"rule": finding.rule, "message": finding.message} if finding else None,
        "forms": [{
            "sheet": form.sheet, "title": form.title, "year": form.year,
            "roles": [{
                "key": r.key, "group": r.group, "name": r.name, "found": r.found, "optional": r.optional,
                "cell": r.cell or None, "value": _json_value(r.value),
                "label_cell": r.label_cell or None, "label": r.label or None,
                "nearby": [{"cell": ref, "label": text} for ref, text in r.nearby],
                "seen": {"cell": r.seen[0], "label": r.seen[1]} if r.seen else None,
            } for r in form.readings],
        } for form in inspection.forms],
    }


def _json_value(value: Any) -> Any:
    """A cell's value as JSON holds it: numbers stay numbers; NaN and the infinities, dates, … as text."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    return clean_text(value)
