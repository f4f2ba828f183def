"""The workbooks' formats: the blank form and sample inbox as committed, grade fills from the configuration."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest
from sample_inbox import write_sample_inbox

from xlbatch.cli import main
from xlbatch.config import Config
from xlbatch.nightly import run
from xlbatch.outputs.formats import GRADE_ANCHORS, grade_fills

ROOT = Path(__file__).resolve().parents[1]
GREEN, BLUE, AMBER, RED = "C6EFCE", "DDEBF7", "FFEB9C", "FFC7CE"


def _color(c) -> str | None:
    return None if c is None else c.rgb


def _looks(path: Path) -> dict:
    """Every sheet's cells (value and every format attribute a reader sees), merges, widths, heights."""
    book = openpyxl.load_workbook(path)
    out = {}
    for ws in book.worksheets:
        cells = {}
        for row in ws.iter_rows():
            for c in row:
                f, b, a = c.font, c.border, c.alignment
                cells[c.coordinate] = (
                    c.value, f.name, f.sz, f.b, f.i, f.u, _color(f.color),
                    c.fill.fill_type, _color(c.fill.fgColor), c.number_format,
                    tuple((getattr(b, side).style, _color(getattr(b, side).color))
                          for side in ("left", "right", "top", "bottom")),
                    a.horizontal, a.vertical, a.wrap_text)
        out[ws.title] = {"cells": cells, "merged": sorted(str(m) for m in ws.merged_cells.ranges),
                         "widths": {k: d.width for k, d in ws.column_dimensions.items()},
                         "heights": {k: d.height for k, d in ws.row_dimensions.items()}}
    return out


def _assert_same_looks(written: Path, committed: Path) -> None:
    got, want = _looks(written), _looks(committed)
    assert got.keys() == want.keys()
    for sheet in want:
        for key in ("merged", "widths", "heights"):
            assert got[sheet][key] == want[sheet][key], (committed.name, sheet, key)
        diff = {c for c in got[sheet]["cells"].keys() | want[sheet]["cells"].keys()
                if got[sheet]["cells"].get(c) != want[sheet]["cells"].get(c)}
        assert not diff, (committed.name, sheet, sorted(diff)[:10])


def test_template_writes_the_committed_form_format_for_format(tmp_path):
    """`xlbatch template` (formats.FormStyles) writes the form handed out, font, border and fill alike."""
    out = tmp_path / "t.xlsx"
    assert main(["template", "-o", str(out)]) == 0
    _assert_same_looks(out, ROOT / "templates" / "项目支出绩效自评表（模板）.xlsx")
    # One cell spelled out, beside the comparison: 附件1 in row 1 puts 项目名称 in row 4 (issue 14).
    label = openpyxl.load_workbook(out)["自评表"]["A4"]
    assert (label.value, label.font.name, label.font.sz, label.font.b, label.border.left.style) == (
        "项目名称", "宋体", 10, True, "thin")


def test_template_is_handed_out_as_the_official_form(tmp_path):
    """附件1 above the title; A4 portrait one page wide, nothing repeated; the number cells validated
    with Chinese prompts and errors: amounts ≥ 0, 分值 and 得分 0–100 (issue 14)."""
    out = tmp_path / "t.xlsx"
    assert main(["template", "-o", str(out)]) == 0
    ws = openpyxl.load_workbook(out)["自评表"]
    assert (ws["A1"].value, ws["A2"].value, ws["A1"].font.name) == ("附件1", "项目支出绩效自评表", "黑体")
    setup = ws.page_setup
    # fitToWidth is left out when 1, its OOXML default (XlsxWriter writes only what differs).
    assert (setup.orientation, int(setup.paperSize), setup.fitToWidth or 1, setup.fitToHeight) == ("portrait", 9, 1, 0)
    assert ws.sheet_properties.pageSetUpPr.fitToPage and ws.print_options.horizontalCentered
    assert ws.print_title_rows is None and ws.print_title_cols is None
    rules = {str(v.sqref): v for v in ws.data_validations.dataValidation}
    assert set(rules) == {"C7:E10", "F7", "G14:G31", "H14:H31"}
    amounts = rules["C7:E10"]
    assert (amounts.type, amounts.operator, amounts.formula1) == ("decimal", "greaterThanOrEqual", "0")
    # errorStyle "stop" (refuse the entry) and operator "between" are OOXML defaults, left out of the file.
    assert (amounts.promptTitle, amounts.errorTitle, amounts.errorStyle or "stop") == ("金额（万元）", "金额有误",
                                                                                      "stop")
    assert amounts.showErrorMessage and amounts.showInputMessage
    assert "万元" in amounts.prompt and "不小于 0" in amounts.error
    for ref, title in (("F7", "分值"), ("G14:G31", "分值"), ("H14:H31", "得分")):
        rule = rules[ref]
        assert (rule.type, rule.operator or "between", rule.formula1, rule.formula2) == ("decimal", "between", "0",
                                                                                          "100")
        assert (rule.promptTitle, rule.errorTitle) == (title, "分数有误") and "0～100" in rule.error
    assert ws["H32"].value == "=SUM(H14:H31)+H7" and ws["G7"].value == '=IF(N(D7)=0,"",E7/D7)'


def test_sample_inbox_is_written_as_committed_format_for_format(tmp_path):
    """tests/sample_inbox.py (template.write_workbook, with an extra sheet) writes inbox/ as committed."""
    workbooks = [p for p in write_sample_inbox(tmp_path) if p.suffix == ".xlsx" and p.stat().st_size > 3000]
    assert len(workbooks) == 5
    for path in workbooks:
        _assert_same_looks(path, ROOT / "inbox" / path.relative_to(tmp_path))


def test_grade_fills_by_rank():
    assert GRADE_ANCHORS == ("#" + GREEN, "#" + BLUE, "#" + AMBER, "#" + RED)
    assert grade_fills(["优", "良", "中", "差"]) == dict(zip("优良中差", GRADE_ANCHORS, strict=True))
    assert grade_fills(["甲", "乙", "丙"]) == {"甲": "#" + GREEN, "乙": "#" + AMBER, "丙": "#" + RED}
    assert grade_fills(["合格", "不合格"]) == {"合格": "#" + GREEN, "不合格": "#" + RED}
    five = list(grade_fills(["A", "B", "C", "D", "E"]).values())
    assert five[0] == "#" + GREEN and five[-1] == "#" + RED and len(set(five)) == 5
    assert five[2] == "#EEEBCA"  # halfway between the blue and the amber


def _grade_fills_shown(ws) -> tuple[dict[str, str], set[str]]:
    """Each grade written in 自评等级/复算等级 → the fill its conditional format gives it; and every
    literal that a conditional format of the sheet compares a cell with."""
    headers = {c.value: c.column for c in ws[3]}  # 汇总's header row, under the title and 编制单位 rows
    columns = (headers["自评等级"], headers["复算等级"])
    rules = [(rule, rng) for cf in ws.conditional_formatting for rule in cf.rules for rng in cf.sqref.ranges]
    literals = {f for rule, _ in rules if rule.type == "cellIs" for f in rule.formula}
    shown = {}
    for row in range(4, ws.max_row + 1):
        for col in columns:
            value = ws.cell(row, col).value
            if not value:
                continue
            fills = [rule.dxf.fill.bgColor.rgb[-6:] for rule, rng in rules
                     if rule.type == "cellIs" and rule.operator == "equal" and rule.formula == [f'"{value}"']
                     and rng.min_row <= row <= rng.max_row and rng.min_col <= col <= rng.max_col]
            assert len(fills) == 1, (row, col, value, fills)
            assert shown.setdefault(value, fills[0]) == fills[0]
    return shown, literals


@pytest.mark.parametrize(("scoring", "expected"), [
    ({}, {"优": GREEN}),  # the sample inbox's forms are all 优; the rules exist for 良, 中, 差 too
    ({"grade_bounds": {"甲": 99.0, "乙": 95.0}, "lowest_grade": "丙"}, {"甲": GREEN, "乙": AMBER, "丙": RED}),
])
def test_summary_colours_the_configured_grades(tmp_path, scoring, expected):
    inbox, outbox = tmp_path / "inbox", tmp_path / "outbox"
    write_sample_inbox(inbox)
    cfg = Config.model_validate({"scoring": scoring})
    run(inbox, outbox, cfg)
    book = openpyxl.load_workbook(outbox / "consolidated.xlsx")
    shown, literals = _grade_fills_shown(book["汇总"])
    assert shown == expected
    grades = [*cfg.scoring.grade_bounds, cfg.scoring.lowest_grade]
    assert literals == {f'"{g}"' for g in grades}  # one rule per configured grade, no other (no 优 for 甲乙丙)
    table = [c.value for c in book["图表"]["G"] if c.value is not None]
    assert table[table.index("等级") + 1:] == grades  # 图表 counts the same grades, best first
