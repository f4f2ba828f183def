"""Survey: what xlbatch makes today of each published provincial layout (tests/provinces.py).

    .venv/bin/python bench/provinces.py

Builds every layout of `provinces.LAYOUTS` into a temporary folder, runs the public API
(`xlbatch.check_files`) on each file, and prints one line per layout (status, rule codes)
and one per expected project form (which expected facts were read: ✓ read, ✗ read wrong,
· not read or not stated). Asserts nothing: it measures, issue 13 fixes.
"""

from __future__ import annotations

import math
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from provinces import LAYOUTS, Expected, Layout

import xlbatch

FACTS = ("project", "unit", "department", "year", "budget", "executed", "rate", "total_reported",
         "total_recomputed", "indicators")
COLUMNS = {"budget": "budget_full_year", "executed": "executed", "rate": "execution_rate",
           "total_recomputed": "total_score"}
TOLERANCE = {"rate": 0.00005, "total_reported": 0.01, "total_recomputed": 0.06}


def main() -> int:
    ok = total = 0
    with tempfile.TemporaryDirectory(prefix="xlbatch-provinces-") as tmp:
        print(f"{'layout':40} {'province':10} {'file':9} rules")
        for name, layout in LAYOUTS.items():
            folder = Path(tmp) / name
            folder.mkdir()
            result = xlbatch.check_files([layout.build(folder / layout.filename)])
            record = result.files[0]
            rules = ",".join(sorted({f.rule for f in result.findings})) or "-"
            want = layout.file_status + (f"/{layout.file_rule}" if layout.file_rule else "")
            print(f"{name:40} {layout.province[:10]:10} {record.status:9} {rules}   (SPEC: {want})")
            if record.status != "accepted" and record.message:
                print(f"    {record.message[:160]}")
            for exp in layout.expected:
                line, good, stated = _facts(result, layout, exp)
                ok += good
                total += stated
                print(f"    {exp.project[:34]:36} {line}")
        print(f"\nexpected facts read correctly: {ok} of {total} stated")
    return 0


def _facts(result, layout: Layout, exp: Expected) -> tuple[str, int, int]:
    """One line of ✓/✗/· per fact, and the counts of facts read right and stated."""
    row = _row(result, exp)
    marks, good, stated = [], 0, 0
    for fact in FACTS:
        want = getattr(exp, fact)
        if want is None:
            marks.append(f"{fact}=-")
            continue
        stated += 1
        got = _got(result, row, fact, _record(result, exp))
        right = _same(fact, got, want)
        good += right
        marks.append(f"{fact}{'✓' if right else ('✗' if got is not None else '·')}"
                     + ("" if right else f"({_show(got)}≠{_show(want)})"))
    if row is None:
        record = _record(result, exp)
        marks.insert(0, f"[{record.status if record else 'not found'}]")
    return " ".join(marks), good, stated


def _record(result, exp: Expected):
    return next((f for f in result.files[0].forms if f.project == exp.project), None)


def _row(result, exp: Expected):
    forms = result.forms
    if forms is None or len(forms) == 0:
        return None
    hits = forms[forms["project"] == exp.project]
    return hits.iloc[0] if len(hits) else None


def _got(result, row, fact: str, record=None):
    if row is None:  # a rejected form: its header fields are on the file's record
        return getattr(record, fact, None) if fact in ("project", "unit", "department") else None
    if fact == "indicators":
        frame = result.indicators
        return None if frame is None else int((frame["form_id"] == row.name).sum()) if "form_id" in frame else None
    value = row.get(COLUMNS.get(fact, fact))
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def _same(fact: str, got, want) -> bool:
    if got is None:
        return False
    if isinstance(want, int | float) and not isinstance(want, bool):
        try:
            return abs(float(got) - float(want)) <= TOLERANCE.get(fact, 0.001)
        except (TypeError, ValueError):
            return False
    return str(got) == str(want)


def _show(value) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return "None" if value is None else str(value)[:16]


if __name__ == "__main__":
    raise SystemExit(main())
