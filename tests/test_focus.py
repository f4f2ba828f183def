"""重点关注 and the order of 异常清单 (SPEC section 7: "the first sheet an auditor sees ranks what to review first").

The sample inbox's findings are known (tests/sample_inbox.py): the farmland form is inflated by 5.2 points
with wrong figures, low execution and an unexplained deviation; the public-health form is inflated by 3.02
with funds that do not add up; the relief form's amounts are in 元 and a category is empty; the school's
form is clean; one file is unreadable and one form misses its 实施单位.
"""

from __future__ import annotations

import openpyxl
import pytest
from sample_inbox import write_sample_inbox

from xlbatch.catalogue import RULES
from xlbatch.config import Config
from xlbatch.models import ERROR, Finding
from xlbatch.nightly import run
from xlbatch.outputs import focus
from xlbatch.outputs.focus import WEIGHTS, finding_order, rank_projects, weight

FARMLAND = ("示例县农业技术推广中心", "高标准农田建设项目")
HEALTH = ("示例县疾病预防控制中心", "基本公共卫生服务项目")
RELIEF = ("示例县社会救助服务中心", "城乡困难群众救助补助资金")

# 异常清单 of the sample inbox, exactly: each project by rank, its findings by weight (then rule code, cell);
# the rejections last.
EXPECTED_ANOMALIES = [
    ("SELF_SCORE_INFLATED", *FARMLAND, "H21"),
    ("BUDGET_SCORE_MISMATCH", *FARMLAND, "H6"),
    ("INDICATOR_SCORE_MISMATCH", *FARMLAND, "H13"),
    ("INDICATOR_SCORE_MISMATCH", *FARMLAND, "H16"),
    ("RATE_MISMATCH", *FARMLAND, "G6"),
    ("LOW_EXECUTION", *FARMLAND, "G6"),
    ("UNEXPLAINED_DEVIATION", *FARMLAND, "I13"),
    ("SELF_SCORE_INFLATED", *HEALTH, "H21"),
    ("FUNDS_DONT_ADD_UP", *HEALTH, "C6"),
    ("INDICATOR_SCORE_MISMATCH", *HEALTH, "H18"),
    ("UNEXPLAINED_DEVIATION", *HEALTH, "I18"),
    ("AMOUNT_SCALE_SUSPECT", *RELIEF, "C6"),
    ("REQUIRED_CATEGORY_EMPTY", *RELIEF, "D16"),
    ("FILE_UNREADABLE", "", "", ""),
    ("MISSING_FIELD", "", "乡村学校少年宫运转经费", "G4"),
]


@pytest.fixture(scope="module")
def sample_book(tmp_path_factory):
    base = tmp_path_factory.mktemp("focus")
    inbox, outbox = base / "inbox", base / "outbox"
    write_sample_inbox(inbox)
    result = run(inbox, outbox, Config.model_validate({"season": {"county": "示例县"}}))
    return result, openpyxl.load_workbook(outbox / "consolidated.xlsx")


def _focus_rows(ws) -> list[tuple]:
    """The ranking's rows: under the header (排名 …), until the first row without a rank."""
    header = next(r for r in range(1, 10) if ws.cell(r, 1).value == "排名")
    rows = []
    for row in ws.iter_rows(min_row=header + 1, values_only=True):
        if not isinstance(row[0], int):
            break
        rows.append(row)
    return rows


def test_focus_is_the_first_sheet_and_ranks_the_sample_exactly(sample_book):
    _, book = sample_book
    assert book.sheetnames[0] == "重点关注" and book.active.title == "重点关注"
    ws = book["重点关注"]
    assert ws["A1"].value == "示例县2024年度项目支出绩效自评重点关注项目"
    assert ws["A2"].value == "编制单位：示例县财政局"
    rows = _focus_rows(ws)
    assert [(r[0], r[1], r[2]) for r in rows] == [(1, *FARMLAND), (2, *HEALTH), (3, *RELIEF)]
    assert [r[5] for r in rows] == ["100、60、40、20", "100、60、20", "70、20"]  # 排序权重
    assert rows[0][4].split("\n") == [
        "自评分虚高（SELF_SCORE_INFLATED）", "预算执行得分有误（BUDGET_SCORE_MISMATCH）",
        "指标得分有误（INDICATOR_SCORE_MISMATCH） ×2", "执行率填报有误（RATE_MISMATCH）",
        "执行率偏低（LOW_EXECUTION）", "偏差未说明（UNEXPLAINED_DEVIATION）"]
    assert [r[-1] for r in rows] == [7, 4, 2]  # 问题数
    assert rows[0][-2] == pytest.approx(5.2) and rows[1][-2] == pytest.approx(3.02, abs=0.005)  # 自评−复算


def test_each_focus_row_links_to_its_unit_sheet_and_its_form(sample_book):
    _, book = sample_book
    ws = book["重点关注"]
    header = next(r for r in range(1, 10) if ws.cell(r, 1).value == "排名")
    for row in range(header + 1, header + 4):
        unit = ws.cell(row, 2)
        assert unit.hyperlink.location == f"'{unit.value}'!A1"
        sheet, ref = ws.cell(row, 4).hyperlink.location.rsplit("!", 1)
        assert sheet.strip("'") == unit.value
        assert book[unit.value][ref].value == f"项目：{ws.cell(row, 3).value}"  # the form's title in its sheet


def test_the_weights_are_printed_on_the_sheet(sample_book):
    _, book = sample_book
    ws = book["重点关注"]
    printed = {}
    for r in ws.iter_rows(values_only=True):
        if isinstance(r[1], str) and r[1].endswith("）") and isinstance(r[4], int):
            printed[r[1]] = r[4]
    ranked_rules = [rule for rule in RULES.values() if rule.severity != ERROR]
    assert printed == {rule.titled: WEIGHTS[rule.code] for rule in ranked_rules}
    assert any("先比最高的权重" in str(c.value) for c in ws[3])  # how the order follows from them


def test_anomalies_follow_the_ranking_then_the_rule_weight(sample_book):
    _, book = sample_book
    ws = book["异常清单"]
    assert [c.value for c in ws[3]][:4] == ["编号", "严重程度", "规则", "规则名称"]
    rows = [(r[2], r[4] or "", r[5] or "", r[8] or "") for r in ws.iter_rows(min_row=4, values_only=True)]
    assert rows == EXPECTED_ANOMALIES


def test_every_rule_has_its_weight_in_the_table():
    for rule in RULES.values():
        if rule.severity == ERROR:
            assert weight(rule.code) == 0, rule.code  # rejections are not ranked
        else:
            assert rule.code in WEIGHTS, f"{rule.code} has no weight in outputs/focus.py WEIGHTS"
    # The order the issue asks for: inflated, high score with low execution, over budget, figures that do
    # not add up, then missing explanations.
    figures = ("FUNDS_DONT_ADD_UP", "TOTAL_MISMATCH", "RATE_MISMATCH", "BUDGET_SCORE_MISMATCH",
               "INDICATOR_SCORE_MISMATCH", "WEIGHTS_INVALID")
    assert WEIGHTS["SELF_SCORE_INFLATED"] > WEIGHTS["HIGH_SCORE_LOW_EXECUTION"] > WEIGHTS["OVER_BUDGET"]
    assert WEIGHTS["OVER_BUDGET"] > max(WEIGHTS[c] for c in figures)
    assert min(WEIGHTS[c] for c in figures) > max(WEIGHTS["UNEXPLAINED_DEVIATION"], WEIGHTS["MISSING_ACTUAL"])


def _finding(rule: str, form_id: int | None, unit: str = "单位", cell: str = "A1") -> Finding:
    return Finding(rule=rule, severity=RULES[rule].severity, source_file=f"{unit}.xlsx", unit=unit,
                   project=f"项目{form_id}", form_id=form_id, cell=cell)


def test_ranking_compares_weights_from_the_heaviest_then_the_gap():
    """One heavy rule outranks many lighter ones; equal weights: the larger self-score gap first;
    superseded forms and rejections are not ranked."""
    findings = [
        *(_finding(rule, 1) for rule in ("RATE_MISMATCH", "TOTAL_MISMATCH", "LOW_EXECUTION", "MISSING_ACTUAL")),
        _finding("HIGH_SCORE_LOW_EXECUTION", 2),
        _finding("SELF_SCORE_INFLATED", 3), _finding("SELF_SCORE_INFLATED", 4),
        _finding("OVER_BUDGET", 5),  # superseded: not in `current`
        _finding("MISSING_FIELD", None, unit="某单位"),
    ]
    ranked = rank_projects(findings, gaps={3: 2.0, 4: 6.5}, ranked_forms={1, 2, 3, 4})
    assert [r.form_id for r in ranked] == [4, 3, 2, 1]
    assert ranked[3].weights == (60, 40, 20)  # each rule once
    order = [(f.rule, f.form_id) for f in finding_order(findings, ranked)]
    assert order == [("SELF_SCORE_INFLATED", 4), ("SELF_SCORE_INFLATED", 3), ("HIGH_SCORE_LOW_EXECUTION", 2),
                     ("RATE_MISMATCH", 1), ("TOTAL_MISMATCH", 1), ("LOW_EXECUTION", 1), ("MISSING_ACTUAL", 1),
                     ("OVER_BUDGET", 5), ("MISSING_FIELD", None)]


def test_a_long_ranking_shows_the_top_and_says_where_the_rest_is(tmp_path, monkeypatch):
    monkeypatch.setattr(focus, "FOCUS_LIMIT", 2)
    inbox, outbox = tmp_path / "inbox", tmp_path / "outbox"
    write_sample_inbox(inbox)
    run(inbox, outbox, Config())
    ws = openpyxl.load_workbook(outbox / "consolidated.xlsx")["重点关注"]
    assert [(r[1], r[2]) for r in _focus_rows(ws)] == [FARMLAND, HEALTH]
    notes = [c.value for row in ws.iter_rows() for c in row if str(c.value or "").startswith("共 3 个项目有问题")]
    assert notes == ["共 3 个项目有问题，此处列出前 2 个；其余项目的问题见「异常清单」，按同一顺序排列。"]
