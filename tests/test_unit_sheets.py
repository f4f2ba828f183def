"""The unit sheets of consolidated.xlsx, read back from built workbooks: the 年度总体目标 texts, the 差额
beside every reported/recomputed pair, and categories without indicators shown as rows that
REQUIRED_CATEGORY_EMPTY is highlighted on and 异常清单 links to."""

from __future__ import annotations

import csv
import math
import re
from pathlib import Path

import openpyxl
import pytest
from forms import SATISFACTION, block, category, clean_form, edit, indicator, recomputed_95
from seed import seed_form

from xlbatch.config import Config
from xlbatch.nightly import run
from xlbatch.outputs.formats import display_width
from xlbatch.outputs.template import FormSpec, IndicatorSpec, write_workbook
from xlbatch.outputs.unit_sheets import WIDTHS

UNIT = "承德县社会保险事业服务中心"  # the seed's 实施单位, and its sheet's name
AMBER = "FFEB9C"  # a warning's fill


def build(tmp_path: Path, spec: FormSpec):
    """Run one form through the nightly run: (result, the workbook, anomalies.csv's rows, the source)."""
    inbox, outbox = tmp_path / "inbox", tmp_path / "outbox"
    inbox.mkdir()
    source = inbox / "form00.xlsx"
    write_workbook(source, [("自评表", spec)])
    result = run(inbox, outbox, Config())
    book = openpyxl.load_workbook(outbox / "consolidated.xlsx")
    raw = (outbox / "anomalies.csv").read_bytes().decode("utf-8-sig")
    return result, book, list(csv.DictReader(raw.splitlines())), source


def row_of(ws, label: str, col: int = 1) -> int:
    """The first row whose cell in column `col` (1-based) holds `label`."""
    return next(r for r in range(1, ws.max_row + 1) if ws.cell(r, col).value == label)


def header_cols(ws, first: str) -> dict[str, int]:
    """Column of each header of the table whose header row starts with `first`."""
    r = row_of(ws, first)
    return {ws.cell(r, c).value: c for c in range(1, ws.max_column + 1) if ws.cell(r, c).value}


def linked_cell(book, rule: str):
    """The cell 异常清单's 定位 link of the `rule` row points at."""
    anomalies = book["异常清单"]
    row = next(r for r in anomalies.iter_rows(min_row=2) if any(c.value == rule for c in r))
    (link,) = [c.hyperlink.location for c in row if c.hyperlink is not None]
    sheet, ref = link.rsplit("!", 1)
    return book[sheet.strip("'")][ref]


# --- 年度总体目标 ------------------------------------------------------------------------------

def test_the_goals_are_shown_across_the_sheet(tmp_path):
    spec = seed_form()
    _, book, _, _ = build(tmp_path, spec)
    ws = book[UNIT]
    for label, text in (("预期目标", spec.goal_expected), ("实际完成情况", spec.goal_actual)):
        r = row_of(ws, label)
        assert ws.cell(r, 2).value == text
        assert f"B{r}:{openpyxl.utils.get_column_letter(len(WIDTHS))}{r}" in {str(m) for m in ws.merged_cells.ranges}
    assert ws.cell(row_of(ws, "预期目标") - 1, 1).value == "年度总体目标"


def test_a_long_goal_gets_a_row_tall_enough_and_a_blank_one_says_so(tmp_path):
    goal = "按照上级要求及时发放失业动态监测联络员的工作补贴，按时完成退休人员的社会化管理工作。" * 6
    _, book, _, _ = build(tmp_path, seed_form(goal_expected=goal, goal_actual=None))
    ws = book[UNIT]
    r = row_of(ws, "预期目标")
    across = sum(WIDTHS[1:])  # the text's merged width, in character widths
    lines = math.ceil(display_width(goal) / across)
    assert lines >= 3 and ws.row_dimensions[r].height >= 15 * lines
    assert ws.cell(row_of(ws, "实际完成情况"), 2).value == "（未填报）"


# --- 差额 ------------------------------------------------------------------------------------

def test_the_comparison_shows_reported_minus_recomputed(tmp_path):
    """The seed: 执行率 56.85% reported against 3.07/5.4, budget score 5.7 against 10 × 3.07/5.4,
    total 95.7 against that + 90; 分值合计 and 等级 have no 差额."""
    _, book, _, _ = build(tmp_path, seed_form())
    ws = book[UNIT]
    cols = header_cols(ws, "复算对照")
    diff = cols["差额\n填报−复算"]
    assert (cols["填报值"], cols["复算值"]) == (diff - 2, diff - 1)
    rate = 3.07 / 5.4
    expected = {"执行率": 0.5685 - rate, "预算执行率得分": 5.7 - 10 * rate, "总分": 95.7 - (10 * rate + 90)}
    for label, value in expected.items():
        r = row_of(ws, label)
        assert ws.cell(r, diff).value == pytest.approx(value, rel=1e-12, abs=1e-12), label
        assert ws.cell(r, diff).value == pytest.approx(ws.cell(r, diff - 2).value - ws.cell(r, diff - 1).value,
                                                       rel=1e-12, abs=1e-12), label
    assert ws.cell(row_of(ws, "执行率"), diff).number_format == "0.00%"
    assert ws.cell(row_of(ws, "总分"), diff).number_format == "0.00"
    for label in ("分值合计", "等级"):
        assert ws.cell(row_of(ws, label), diff).value is None, label


def test_no_difference_without_a_reported_figure(tmp_path):
    _, book, _, _ = build(tmp_path, seed_form(rate=None))
    ws = book[UNIT]
    diff = header_cols(ws, "复算对照")["差额\n填报−复算"]
    r = row_of(ws, "执行率")
    assert ws.cell(r, diff - 2).value is None and ws.cell(r, diff - 1).value == pytest.approx(3.07 / 5.4)
    assert ws.cell(r, diff).value is None


def test_each_indicator_shows_its_score_difference(tmp_path):
    """recomputed_95: 满意率 50% of ≥100% is 5 of 10, reported 6 → 差额 1; the others are met → 0;
    the total reported 97 against 95 → 2."""
    result, book, _, _ = build(tmp_path, recomputed_95(97))
    ws = book[UNIT]
    cols = header_cols(ws, "一级指标")
    r = row_of(ws, SATISFACTION, cols["三级指标"])
    assert (ws.cell(r, cols["自评得分"]).value, ws.cell(r, cols["复算得分"]).value) == (6, 5)
    assert ws.cell(r, cols["差额"]).value == 1
    assert cols["差额"] == cols["复算得分"] + 1 and ws.cell(r, cols["差额"]).number_format == "0.00"
    others = [row for row in range(row_of(ws, "一级指标") + 1, ws.max_row + 1)
              if isinstance(ws.cell(row, cols["自评得分"]).value, float | int) and row != r]
    assert len(others) == len(result.indicators) - 1
    assert all(ws.cell(row, cols["差额"]).value == 0 for row in others)
    diff = header_cols(ws, "复算对照")["差额\n填报−复算"]
    assert ws.cell(row_of(ws, "总分"), diff).value == 2


# --- categories without indicators ---------------------------------------------------------

def empty_category_row(ws, label: str) -> dict[str, object]:
    cols = header_cols(ws, "一级指标")
    r = row_of(ws, label, cols["二级指标"])
    return {title: ws.cell(r, c).value for title, c in cols.items()} | {"row": r}


def test_the_seed_shows_its_cost_category_as_the_row_the_finding_points_at(tmp_path):
    """The seed's 成本指标 holds only 指标 1: / 指标 2: (rows 21–22): a row of its own, highlighted,
    which 异常清单 links to; anomalies.csv names the placeholder row's 三级指标 cell, D21."""
    _, book, anomalies, source = build(tmp_path, seed_form())
    ws = book[UNIT]
    row = empty_category_row(ws, "成本指标")
    assert row["三级指标"] == "（仅有占位行）" and row["原表行"] == 21
    assert all(row[k] is None for k in ("年度指标值", "实际完成值", "分值", "自评得分", "复算得分", "差额"))
    target = linked_cell(book, "REQUIRED_CATEGORY_EMPTY")
    assert (target.parent.title, target.row, target.value) == (UNIT, row["row"], "成本指标")
    assert "【必填二级指标为空（REQUIRED_CATEGORY_EMPTY）】" in target.comment.text
    assert all(ws.cell(row["row"], c).fill.fgColor.rgb.endswith(AMBER) for c in range(2, len(WIDTHS) + 1))
    (line,) = [a for a in anomalies if a["rule"] == "REQUIRED_CATEGORY_EMPTY"]
    assert line["cell"] == "D21"
    assert openpyxl.load_workbook(source)["自评表"]["D21"].value == "指标 1:"
    # 生态效益指标 holds only placeholders too: shown, not flagged.
    eco = empty_category_row(ws, "生态效益指标")
    assert eco["三级指标"] == "（仅有占位行）" and ws.cell(eco["row"], 2).comment is None


def test_placeholder_only_timeliness_rows(tmp_path):
    """A clean form whose 时效指标 holds only 指标 1: / ……: its row on the unit sheet is where the
    finding is shown, and the finding's source cell is the placeholder row's 三级指标 cell."""
    spec = clean_form()
    category(spec, "时效指标").indicators = [IndicatorSpec("指标 1:"), IndicatorSpec("……")]
    edit(spec, "资金使用合理率", weight=20, score=20)  # 时效's 8 + 4 points: 产出 still adds up to 50
    result, book, anomalies, source = build(tmp_path, spec)
    assert [f.rule for f in result.findings] == ["REQUIRED_CATEGORY_EMPTY"]
    ws = book[UNIT]
    row = empty_category_row(ws, "时效指标")
    target = linked_cell(book, "REQUIRED_CATEGORY_EMPTY")
    assert (target.row, target.column) == (row["row"], 2)
    assert target.fill.fgColor.rgb.endswith(AMBER)
    (line,) = anomalies
    cell = openpyxl.load_workbook(source)["自评表"][line["cell"]]
    assert cell.value == "指标 1:" and cell.column_letter == "D"
    assert row["原表行"] == cell.row
    # In the form's order: after the 质量 rows, before the 成本 indicator.
    names = [ws.cell(r, 3).value for r in range(row["row"] - 1, row["row"] + 2)]
    assert names == ["发放差错率 (%)", "（仅有占位行）", "人均管理服务成本"]


def test_a_required_category_missing_from_the_form_is_a_row_under_its_block(tmp_path):
    spec = clean_form()
    cost = category(spec, "成本指标")
    block(spec, "产出").categories.remove(cost)
    edit(spec, "业务处理及时性 (%)", weight=8, score=8)  # 成本's 4 points back to 时效
    _, book, anomalies, _ = build(tmp_path, spec)
    ws = book[UNIT]
    row = empty_category_row(ws, "成本指标")
    assert row["三级指标"] == "（未填报）" and row["原表行"] is None
    # Under 产出指标, after its last indicator (业务处理及时性), before 效益指标.
    assert ws.cell(row["row"] - 1, 3).value == "业务处理及时性 (%)"
    assert str(ws.cell(row["row"] + 1, 1).value).startswith("效益指标")
    target = linked_cell(book, "REQUIRED_CATEGORY_EMPTY")
    assert (target.row, target.value) == (row["row"], "成本指标")
    (line,) = anomalies
    assert line["cell"] == ""  # nothing on the form to point at


def test_two_empty_categories_are_both_highlighted_and_the_link_goes_to_the_first(tmp_path):
    spec = seed_form()
    category(spec, "时效指标").indicators = [IndicatorSpec("指标 1:"), IndicatorSpec("指标 2:")]
    indicator(spec, "资金使用合理率").weight = 24
    indicator(spec, "资金使用合理率").score = 24
    _, book, anomalies, _ = build(tmp_path, spec)
    ws = book[UNIT]
    timely, cost = empty_category_row(ws, "时效指标"), empty_category_row(ws, "成本指标")
    for row in (timely, cost):
        assert "（REQUIRED_CATEGORY_EMPTY）】" in ws.cell(row["row"], 2).comment.text
    assert linked_cell(book, "REQUIRED_CATEGORY_EMPTY").row == timely["row"]
    (line,) = [a for a in anomalies if a["rule"] == "REQUIRED_CATEGORY_EMPTY"]
    assert line["cell"] == "D18"


# --- what a person reads --------------------------------------------------------------------

_CODE = re.compile(r"[A-Z][A-Z_]{3,}[A-Z]")


def test_every_rule_code_on_the_unit_sheet_comes_with_its_chinese_title(tmp_path):
    spec = recomputed_95(97)
    spec.rate = "90.00%"  # RATE_MISMATCH beside SELF_SCORE_INFLATED and TOTAL_MISMATCH
    _, book, _, _ = build(tmp_path, spec)
    ws = book[UNIT]
    texts = [str(c.value) for row in ws.iter_rows() for c in row if isinstance(c.value, str)]
    texts += [c.comment.text for row in ws.iter_rows() for c in row if c.comment]
    assert any("】" in t for t in texts)
    for text in texts:
        for match in _CODE.finditer(text.split(".xlsx")[0]):
            assert text[match.start() - 1] == "（" and text[match.end()] == "）", text


def test_the_unit_sheet_prints_on_a3_landscape(tmp_path):
    _, book, _, _ = build(tmp_path, seed_form())
    ws = book[UNIT]
    assert ws.page_setup.paperSize == 8 and ws.page_setup.orientation == "landscape"
