"""The submission season (SPEC section 6): forms against the evaluation year, the county and the
roster; who has submitted, who has not, who came late.

Two steps in the pipeline:

- `mark_season`, before the catalogue's checks, adds to the forms frame what WRONG_YEAR and
  UNKNOWN_UNIT judge: `wrong_year` (OTHER_YEAR, OTHER_COUNTY or ""), `other_county`, and where the
  form's 实施单位 is on the roster (`roster_state`, `roster_unit`, and for a unit not on it the
  closest roster name, `roster_hint`).
- `review_season`, after them, raises NOT_SUBMITTED (one per roster unit without an accepted form
  of the season) and LATE_SUBMISSION (one per file first seen after the deadline), and, with a
  roster, returns the 报送情况 table (outputs/season_sheet.py writes it, run.json keeps it).

Names are matched by `intake.roster.unit_key` (full-width, spaces, the county's name or 县 as a
prefix); a name that differs otherwise is never merged, only suggested: the closest roster name by
difflib's ratio, when it reaches NEAR_MISS.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from datetime import datetime

import pandas as pd

from ..catalogue import titled
from ..config import BEIJING, Config, SeasonSettings
from ..form.normalize import records
from ..intake.roster import Roster, RosterUnit, unit_key
from ..models import ERROR, IGNORED, OPENED, REJECTED, WARNING, Arrival, FileRecord, Finding
from .rules.season import (
    FOREIGN,
    LATE_SUBMISSION,
    MATCHED,
    NOT_SUBMITTED,
    OTHER_COUNTY,
    OTHER_YEAR,
    UNKNOWN,
)

# difflib's ratio (2 × matching characters / both lengths) from which a roster name is offered as the
# one meant: 社保保险事业服务中心 / 社会保险事业服务中心 0.9, 第一中学 / 第二中学 0.75, 教育局 /
# 教育和体育局 0.67 are offered; 教育局 / 文化馆 0.0, 文化馆 / 文化和旅游局 0.44 are not.
NEAR_MISS = 0.6

# States of a roster unit, as 报送情况 shows them.
ACCEPTED_STATE, PROBLEM_STATE, RESUBMIT_STATE, MISSING_STATE = "已受理", "有问题", "未受理待重报", "未报送"
ON_TIME, LATE, PARTLY_LATE = "按时", "逾期", "部分逾期"

# A county-level place at the start of a name or title: 2–6 characters and 县, 区, 旗 or 市
# (丰宁满族自治县, 双桥区, 平泉市). Zones that are no county are not places of another county.
_PLACE = re.compile(r"^([\u4e00-\u9fff]{2,6}?(?:县|区|旗|市))")
_ZONES = ("开发区", "高新区", "新区", "园区", "工业区", "景区", "社区", "示范区", "保税区", "试验区", "城区", "辖区")


# --- before the checks: the forms against year, county and roster ---------------------

@dataclass
class RosterIndex:
    """The roster by matching key, with its departments and the keys difflib chooses from."""

    roster: Roster
    county: str
    units: dict[str, RosterUnit] = field(default_factory=dict)
    departments: set[str] = field(default_factory=set)

    def __post_init__(self):
        self.units = {unit_key(u.unit, self.county): u for u in self.roster.units}
        self.departments = {unit_key(u.department, self.county) for u in self.roster.units if u.department}

    def find(self, unit: str) -> RosterUnit | None:
        return self.units.get(unit_key(unit, self.county))

    def closest(self, unit: str) -> RosterUnit | None:
        near = difflib.get_close_matches(unit_key(unit, self.county), list(self.units), n=1, cutoff=NEAR_MISS)
        return self.units[near[0]] if near else None

    def knows_department(self, department: str) -> bool:
        return unit_key(department, self.county) in self.departments


# The columns mark_season adds: roster_unit / roster_hint are roster names as the roster spells them.
MARKS = ("wrong_year", "other_county", "roster_state", "roster_unit", "roster_hint", "roster_hint_department")


def mark_season(forms: pd.DataFrame, season: SeasonSettings, roster: Roster | None) -> pd.DataFrame:
    """The forms with the columns WRONG_YEAR and UNKNOWN_UNIT judge (all empty without a season)."""
    out = forms.copy()
    index = RosterIndex(roster, season.county) if roster else None
    rows = [_marks(f, season, index) for f in records(forms, ["unit", "department", "title", "year"])]
    for key in MARKS:
        out[key] = pd.Series([row[key] for row in rows], index=out.index, dtype=object)
    return out


def _marks(form: dict, season: SeasonSettings, index: RosterIndex | None) -> dict:
    marks = dict.fromkeys(MARKS, "")
    year = form["year"]
    if season.year is not None and not pd.isna(year) and int(year) != season.year:
        marks["wrong_year"] = OTHER_YEAR
    if index is None:
        return marks
    found = index.find(form["unit"])
    if found is not None:
        marks.update(roster_state=MATCHED, roster_unit=found.unit)
        return marks
    other = _other_county(form, season, index)
    if other:
        marks.update(roster_state=FOREIGN, other_county=other, wrong_year=marks["wrong_year"] or OTHER_COUNTY)
        return marks
    near = index.closest(form["unit"])
    marks.update(roster_state=UNKNOWN, roster_hint=near.unit if near else "",
                 roster_hint_department=near.department if near else "")
    return marks


def _other_county(form: dict, season: SeasonSettings, index: RosterIndex) -> str:
    """The other county a form names, when it is of another county: season.county set, neither its
    实施单位 nor its 主管部门 on the roster, and its 实施单位, 主管部门 or title (in that order)
    beginning with a county-level place that is not season.county. "" otherwise."""
    if not season.county or index.knows_department(form["department"]):
        return ""
    ours = unit_key(season.county)
    for text in (form["unit"], form["department"], form["title"]):
        place = _place(text)
        if place and place != ours:
            return place
    return ""


def _place(text: str) -> str:
    found = _PLACE.match("".join(str(text or "").split()))
    if not found or found.group(1).endswith(_ZONES):
        return ""
    return found.group(1)


# --- after the checks: who has submitted, who came late ---------------------------------

@dataclass
class _Unit:
    """What one roster unit sent: its forms of the season, the rest, its files."""

    roster: RosterUnit
    received: int = 0  # accepted forms of the season that count (a superseded copy does not)
    flagged: bool = False  # a warning on one of them, or something of the unit refused
    rejected: list[str] = field(default_factory=list)  # why each refused file or form was refused
    outside: list[str] = field(default_factory=list)  # forms of another year or county
    files: set[str] = field(default_factory=set)
    near: list[str] = field(default_factory=list)  # names of forms not on the roster that look like it


def review_season(cfg: Config, roster: Roster | None, files: list[FileRecord], forms: pd.DataFrame,
                  findings: list[Finding], arrivals: dict[str, Arrival]) -> tuple[list[Finding], dict | None]:
    """NOT_SUBMITTED and LATE_SUBMISSION findings, and the 报送情况 table (None without a roster)."""
    season = cfg.season
    late = _late_files(files, arrivals, season.deadline)
    out = [_late_finding(f, arrivals[f.path], season.deadline) for f in files if f.path in late]
    if roster is None:
        return out, None
    units = _gather(RosterIndex(roster, season.county), files, forms, findings)
    out = [f for u in units.values() if (f := _not_submitted(u)) is not None] + out
    table = {
        "year": season.year, "county": season.county, "roster": roster.path,
        "deadline": season.deadline.isoformat() if season.deadline else None,
        "units": [_row(u, arrivals, late) for u in units.values()],
        "outside": _outside(forms),
    }
    return out, table


def _late_files(files: list[FileRecord], arrivals: dict[str, Arrival], deadline: datetime | None) -> set[str]:
    """Files that came after the deadline: not before a moment past it (see models.Arrival)."""
    if deadline is None:
        return set()
    # A package opened (.zip) is judged by its members, which name their units.
    return {f.path for f in files if f.status not in (IGNORED, OPENED) and f.path in arrivals
            and arrivals[f.path].not_before > deadline}


def _late_finding(record: FileRecord, arrival: Arrival, deadline: datetime) -> Finding:
    after, due = beijing(arrival.not_before), beijing(deadline)
    unit = next((form.unit for form in record.forms if form.unit), "")
    message = LATE_SUBMISSION.message("late", deadline=due, after=after, seen=beijing(arrival.first_seen))
    return Finding(rule=LATE_SUBMISSION.code, severity=LATE_SUBMISSION.severity, source_file=record.path,
                   unit=unit, message=message, value=after, expected=f"≤ {due}", identity=f"file|{record.path}")


def _gather(index: RosterIndex, files: list[FileRecord], forms: pd.DataFrame,
            findings: list[Finding]) -> dict[str, _Unit]:
    # By the roster's own spelling: mark_season matched each form to it (roster_unit, roster_hint) once.
    units = {unit.unit: _Unit(unit) for unit in index.units.values()}
    flagged_forms = {f.form_id for f in findings if f.form_id is not None and f.severity in (WARNING, ERROR)}
    columns = ["unit", "roster_state", "roster_unit", "roster_hint", "wrong_year", "superseded_by", "source_file",
               "year", "other_county"]
    for form_id, form in zip(forms.index.tolist(), records(forms, columns), strict=True):
        if form["roster_state"] == UNKNOWN and form["roster_hint"]:
            hinted = units[form["roster_hint"]]
            if form["unit"] not in hinted.near:
                hinted.near.append(form["unit"])
        unit = units[form["roster_unit"]] if form["roster_state"] == MATCHED else None
        if unit is None:
            continue
        unit.files.add(form["source_file"])
        if form["wrong_year"]:
            unit.outside.append(_outside_what(form))
        elif not form["superseded_by"]:
            unit.received += 1
            unit.flagged |= form_id in flagged_forms
    for record in files:
        for unit, reason in _refused(record, index):
            unit_state = units[unit.unit]
            unit_state.files.add(record.path)
            unit_state.rejected.append(reason)
            unit_state.flagged = True
    return units


def _outside_what(form: dict) -> str:
    if form["wrong_year"] == OTHER_YEAR:
        return f"{int(form['year'])} 年度"
    return form["other_county"]


def _refused(record: FileRecord, index: RosterIndex) -> list[tuple[RosterUnit, str]]:
    """The roster units a refused file or form belongs to, each with why it was refused: a refused form
    by its 实施单位; a file refused as a whole (no form read) by a roster name in its folder or file name."""
    out = []
    for form in record.forms:
        if form.status == REJECTED:
            unit = index.find(form.unit) if form.unit else _named_in_path(record.path, index)
            if unit is not None:
                out.append((unit, f"{record.path}「{form.sheet}」：{titled(form.code)}"))
    if record.status == REJECTED and not record.forms:
        unit = _named_in_path(record.path, index)
        if unit is not None:
            out.append((unit, f"{record.path}：{titled(record.code)}"))
    return out


def _named_in_path(path: str, index: RosterIndex) -> RosterUnit | None:
    """The roster unit whose name (as matched) is in the file's folders or name; the longest one wins."""
    text = "".join(unit_key(part, index.county) for part in path.split("/"))
    named = [(len(key), key) for key in index.units if key and key in text]
    return index.units[max(named)[1]] if named else None


def _not_submitted(unit: _Unit) -> Finding | None:
    if unit.received:
        return None
    r = unit.roster
    department = r.department or "未填"
    if unit.rejected:
        message = NOT_SUBMITTED.message("rejected", unit=r.unit, department=department,
                                        reasons="；".join(unit.rejected))
    elif unit.outside:
        message = NOT_SUBMITTED.message("outside", unit=r.unit, department=department,
                                        forms="、".join(unit.outside))
    else:
        hint = (f"；收到名称相近的「{'」「'.join(unit.near)}」的自评表，请核实是否为同一单位（未自动合并）"
                if unit.near else "")
        message = NOT_SUBMITTED.message("nothing", unit=r.unit, department=department, hint=hint)
    return Finding(rule=NOT_SUBMITTED.code, severity=NOT_SUBMITTED.severity, source_file="", unit=r.unit,
                   message=message, value="0", expected=str(r.expected) if r.expected else "≥ 1",
                   identity=f"roster|{r.unit}")


def _state(unit: _Unit) -> str:
    if unit.received:
        return PROBLEM_STATE if unit.flagged or unit.outside else ACCEPTED_STATE
    return RESUBMIT_STATE if unit.rejected or unit.outside else MISSING_STATE


def _row(unit: _Unit, arrivals: dict[str, Arrival], late: set[str]) -> dict:
    """One roster unit as 报送情况 shows it (and run.json keeps it): plain values."""
    r = unit.roster
    seen = [arrivals[path] for path in sorted(unit.files) if path in arrivals]
    late_files = sorted(unit.files & late)
    timing = "" if not unit.files else LATE if len(late_files) == len(unit.files) else \
        PARTLY_LATE if late_files else ON_TIME
    notes = []
    if unit.rejected:
        notes.append("未受理：" + "；".join(unit.rejected))
    if unit.outside:
        notes.append("不计入：" + "、".join(unit.outside) + "的自评表")
    if unit.near and not unit.received:
        notes.append(f"收到名称相近的「{'」「'.join(unit.near)}」，请核实（未合并）")
    if timing == PARTLY_LATE:
        notes.append("截止后收到：" + "、".join(late_files))
    return {
        "department": r.department, "unit": r.unit, "expected": r.expected, "state": _state(unit),
        "received": unit.received, "rejected": len(unit.rejected), "outside": len(unit.outside),
        "first": min(a.first_seen for a in seen).isoformat() if seen else None,
        "last": max(a.version_seen for a in seen).isoformat() if seen else None,
        "timing": timing, "note": "；".join(notes),
    }


def _outside(forms: pd.DataFrame) -> list[dict]:
    """Units of accepted forms not on the roster (another county's apart): forms, closest roster name."""
    out: dict[str, dict] = {}
    for form in records(forms, ["unit", "department", "roster_state", "roster_hint", "other_county"]):
        if form["roster_state"] not in (UNKNOWN, FOREIGN):
            continue
        entry = out.setdefault(form["unit"], {"unit": form["unit"], "department": form["department"], "forms": 0,
                                              "hint": form["roster_hint"], "other_county": form["other_county"]})
        entry["forms"] += 1
    return sorted(out.values(), key=lambda e: (e["department"], e["unit"]))


def beijing(moment: datetime) -> str:
    """A moment as the bureau reads it: Beijing time to the minute."""
    return moment.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M")
