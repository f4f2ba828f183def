"""The totals of 汇总 (SPEC sections 3 and 4): only the forms that count enter them.

A superseded copy, a rejected form and a form whose amounts look typed in 元 (AMOUNT_SCALE_SUSPECT:
"its amounts stay out of every total until a corrected file arrives") stay out of 全县合计, of each
主管部门 小计 and of their rate and averages; the suspect form's row is shown, marked. The expected
figures are computed here from projects.csv and anomalies.csv, independently of the workbook code,
and compared with the workbook's cached values, its formulas, and LibreOffice's recalculation.
Amounts that are not finite numbers never reach any output.
"""

from __future__ import annotations

import csv
import math
import os
from collections import defaultdict
from pathlib import Path

import openpyxl
import pytest
from overflow import store_numbers
from sample_inbox import farmland, relief, write_sample_inbox
from seed import seed_form

from xlbatch.config import Config
from xlbatch.nightly import run
from xlbatch.outputs.template import write_workbook

pytest_plugins = ["lo"]  # fixture libreoffice (not imported: lo must load as a plugin)

SUSPECT = "金额单位存疑，不计入合计"
RELIEF = "示例县社会救助服务中心/困难群众救助补助资金自评.xlsx"
AMOUNT_COLS = {"budget_initial": 5, "budget_full_year": 6, "executed": 7}  # 0-based columns of 汇总


def _csv(path: Path) -> list[dict]:
    return list(csv.DictReader(path.read_text(encoding="utf-8-sig").splitlines()))


def expected_totals(outbox: Path) -> dict[str, dict]:
    """{department or "": figures} of the forms that count, from the two CSVs alone."""
    suspect = {(a["source_file"], a["sheet"]) for a in _csv(outbox / "anomalies.csv")
               if a["rule"] == "AMOUNT_SCALE_SUSPECT"}
    counting = [p for p in _csv(outbox / "projects.csv")
                if not p["superseded_by"] and (p["source_file"], p["sheet"]) not in suspect]
    groups = defaultdict(list)
    for p in counting:
        groups[p["department"]].append(p)
        groups[""].append(p)  # the county
    out = {}
    for name, forms in groups.items():
        sums = {k: sum(float(p[k] or 0) for p in forms) for k in AMOUNT_COLS}
        out[name] = {**sums, "count": len(forms), "rate": sums["executed"] / sums["budget_full_year"],
                     "total_reported": _mean(p["total_reported"] for p in forms),
                     "total_score": _mean(p["total_score"] for p in forms)}
    return out


def _mean(values) -> float:
    numbers = [float(v) for v in values if v != ""]
    return sum(numbers) / len(numbers)


def total_rows(ws) -> dict[str, tuple]:
    """{department or "" for the county: its total row's values} of 汇总."""
    out = {}
    for row in ws.iter_rows(min_row=4, values_only=True):  # under the title, 编制单位 and header rows
        label = str(row[1] or "")
        if label == "全县合计":
            out[""] = row
        elif label.endswith(" 小计"):
            out[label.removesuffix(" 小计")] = row
    return out


def assert_totals_match(rows: dict[str, tuple], expected: dict[str, dict]) -> None:
    for name, want in expected.items():
        got = rows[name]
        for key, col in AMOUNT_COLS.items():
            assert got[col] == pytest.approx(want[key], abs=1e-4), (name, key)
        assert got[8] == pytest.approx(want["rate"], abs=1e-6), name
        assert got[9] == pytest.approx(want["total_reported"], abs=1e-4), name
        assert got[10] == pytest.approx(want["total_score"], abs=1e-4), name
        assert str(got[3]).startswith(f"{want['count']} 个项目计入"), name


@pytest.fixture
def sample(tmp_path):
    """The sample inbox plus an older copy of the farmland form (superseded), run once."""
    inbox, outbox = tmp_path / "inbox", tmp_path / "outbox"
    write_sample_inbox(inbox)
    older = write_workbook(inbox / "旧版_高标准农田.xlsx", [("自评表", farmland())])
    os.utime(older, (1_000_000_000, 1_000_000_000))
    run(inbox, outbox, Config())
    return inbox, outbox


def test_county_total_is_the_sum_of_the_forms_that_count(sample):
    _, outbox = sample
    expected = expected_totals(outbox)
    assert expected[""]["budget_full_year"] == pytest.approx(850 + 300 + 120)  # 1,270, not 2,351,270
    assert expected[""]["executed"] == pytest.approx(612 + 288 + 117.6)
    ws = openpyxl.load_workbook(outbox / "consolidated.xlsx", data_only=True)["汇总"]
    rows = total_rows(ws)
    assert_totals_match(rows, expected)
    assert rows[""][3] == "3 个项目计入，1 个金额单位存疑未计入"
    # 示例县民政局 has only the suspect form: its 小计 counts nothing, no rate, no average.
    civil = rows["示例县民政局"]
    assert civil[3] == "0 个项目计入，1 个金额单位存疑未计入"
    assert [civil[c] for c in AMOUNT_COLS.values()] == [0, 0, 0]
    assert civil[8] is None and civil[9] is None and civil[10] is None


def test_total_formulas_sum_only_the_counted_status(sample):
    _, outbox = sample
    ws = openpyxl.load_workbook(outbox / "consolidated.xlsx")["汇总"]
    county = ws.max_row
    assert ws.cell(county, 2).value == "全县合计"
    for letter in "FGHOP":
        assert ws[f"{letter}{county}"].value == (
            f'=SUMIFS({letter}4:{letter}{county - 1},$Q$4:$Q${county - 1},"计入汇总")')
    assert ws[f"I{county}"].value == f'=IF(G{county}=0,"",H{county}/G{county})'
    assert ws[f"J{county}"].value == f'=IFERROR(AVERAGEIFS(J4:J{county - 1},$Q$4:$Q${county - 1},"计入汇总"),"")'


def test_suspect_form_row_is_shown_marked_outside_the_sums(sample):
    _, outbox = sample
    book = openpyxl.load_workbook(outbox / "consolidated.xlsx", data_only=True)
    ws = book["汇总"]
    rows = [r for r in ws.iter_rows(min_row=4) if r[18].value == RELIEF]
    assert len(rows) == 1
    row = rows[0]
    assert row[16].value == SUSPECT
    assert [row[c].value for c in AMOUNT_COLS.values()] == [2_350_000, 2_350_000, 2_298_000]  # as reported
    # The whole row takes the warning colour through a rule on its 状态.
    rules = [(str(cf.sqref), rule) for cf in ws.conditional_formatting for rule in cf.rules]
    marked = [(ref, r) for ref, r in rules if r.formula == [f'$Q4="{SUSPECT}"']]
    assert len(marked) == 1
    ref, rule = marked[0]
    assert ref == f"A4:T{ws.max_row}" and rule.dxf.fill.bgColor.rgb.endswith("FFEB9C")
    assert row[17].value == "金额单位存疑（疑按元填报），整行黄色；不计入合计"  # 标注原因: the colour in words
    # The unit sheet: every amount of the form is flagged (not just the largest), and the 状态 says why.
    unit = book["示例县社会救助服务中心"]
    flagged = [c for r in unit.iter_rows() for c in r if c.comment and "（AMOUNT_SCALE_SUSPECT）】" in c.comment.text]
    assert sorted(c.value for c in flagged if isinstance(c.value, int | float)) == [
        2_298_000, 2_298_000, 2_350_000, 2_350_000, 2_350_000, 2_350_000]
    assert any(c.value == SUSPECT for c in flagged)
    # 运行说明 and the chart tables count it apart.
    info = {r[0]: r[1] for r in book["运行说明"].iter_rows(values_only=True) if r[0]}
    assert info["受理的自评表"] == "5 张，其中计入汇总 3 张，被重报替代 1 张，金额单位存疑未计入 1 张"
    chart_units = [r[0] for r in book["图表"].iter_rows(min_row=40, max_col=1, values_only=True) if r[0]]
    assert chart_units and "示例县社会救助服务中心" not in chart_units


def test_libreoffice_recalculates_the_same_totals(sample, libreoffice, tmp_path):
    _, outbox = sample
    converted = libreoffice.convert([outbox / "consolidated.xlsx"], "xlsx", tmp_path / "lo")[0]
    ws = openpyxl.load_workbook(converted, data_only=True)["汇总"]
    assert_totals_match(total_rows(ws), expected_totals(outbox))


def test_corrected_resubmission_counts_again(tmp_path):
    inbox, outbox = tmp_path / "inbox", tmp_path / "outbox"
    write_sample_inbox(inbox)
    run(inbox, outbox, Config())
    spec = relief()
    spec.funds = {"年度资金总额": (235, 235, 229.8), "当年财政拨款": (235, 235, 229.8)}
    corrected = write_workbook(inbox / "示例县社会救助服务中心" / "困难群众救助补助资金自评（更正）.xlsx",
                               [("自评表", spec)])
    os.utime(corrected, (2_000_000_000, 2_000_000_000))  # newer than every sample file
    run(inbox, outbox, Config())
    expected = expected_totals(outbox)
    assert expected[""]["budget_full_year"] == pytest.approx(850 + 300 + 120 + 235)
    ws = openpyxl.load_workbook(outbox / "consolidated.xlsx", data_only=True)["汇总"]
    rows = total_rows(ws)
    assert_totals_match(rows, expected)
    assert rows[""][3] == "4 个项目计入" and rows["示例县民政局"][3] == "1 个项目计入"
    statuses = {r[18]: r[16] for r in ws.iter_rows(min_row=4, values_only=True) if r[18]}
    assert statuses[RELIEF] == f"已被替代（以 {corrected.relative_to(inbox).as_posix()} 为准）"
    assert statuses[corrected.relative_to(inbox).as_posix()] == "计入汇总"
    assert SUSPECT not in statuses.values()


INITIAL, SOURCE, TOTAL, SCORE = 111.125, 222.375, 88.625, 7.875  # placeholders, stored as below


def test_non_finite_figures_never_reach_an_output(tmp_path):
    """Infinity and NaN in every other amount and score of an accepted form: no inf, nan or error
    value anywhere in the workbook or the CSVs, and the totals stay finite."""
    inbox, outbox = tmp_path / "inbox", tmp_path / "outbox"
    inbox.mkdir()
    write_workbook(inbox / "正常.xlsx", [("自评表", seed_form(project="正常项目"))])
    spec = seed_form(funds={"年度资金总额": (INITIAL, 5.4, 3.07), "当年财政拨款": (5.4, SOURCE, 3.07)},
                     total_reported=TOTAL)
    for block in spec.blocks:  # the first indicator with a score gets a stored -inf score
        ind = next((i for c in block.categories for i in c.indicators if i.score is not None), None)
        if ind:
            ind.score = SCORE
            break
    path = write_workbook(inbox / "溢出.xlsx", [("自评表", spec)])
    store_numbers(path, {INITIAL: "1e309", SOURCE: "Infinity", TOTAL: "inf", SCORE: "-1e309"})
    result = run(inbox, outbox, Config())
    assert {f.path: f.status for f in result.files} == {"正常.xlsx": "accepted", "溢出.xlsx": "accepted"}
    for name in ("projects.csv", "anomalies.csv"):
        text = (outbox / name).read_text(encoding="utf-8-sig").lower()
        assert "inf" not in text and "nan" not in text, name
    for row in _csv(outbox / "projects.csv"):
        for key in ("budget_initial", "budget_full_year", "executed", "total_reported", "total_score"):
            assert row[key] == "" or math.isfinite(float(row[key])), (key, row[key])
    book = openpyxl.load_workbook(outbox / "consolidated.xlsx", data_only=True)
    for ws in book:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "e", f"{ws.title}!{cell.coordinate} is an error: {cell.value}"
                if isinstance(cell.value, float):
                    assert math.isfinite(cell.value), f"{ws.title}!{cell.coordinate}"
    rows = total_rows(book["汇总"])
    assert rows[""][6] == pytest.approx(5.4 * 2)  # both forms' 全年预算数
    assert_totals_match(rows, expected_totals(outbox))
    formulas = openpyxl.load_workbook(outbox / "consolidated.xlsx")
    for ws in formulas:
        for row in ws.iter_rows():
            for cell in row:
                assert "1/0" not in str(cell.value), f"{ws.title}!{cell.coordinate}"
