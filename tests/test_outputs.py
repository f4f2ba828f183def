"""The four outputs: SPEC columns, run.json accounting, the workbook's sheets, links and reviews."""

from __future__ import annotations

import csv
import hashlib
import json
import operator
import os
import re
from pathlib import Path

import openpyxl
import pytest
from forms import recomputed_95
from openpyxl.utils import column_index_from_string
from sample_inbox import write_sample_inbox
from seed import seed_form

from xlbatch.catalogue import titled
from xlbatch.config import Config
from xlbatch.nightly import run
from xlbatch.outputs.formats import MIN_SCALE, sheet_names
from xlbatch.outputs.template import write_workbook
from xlbatch.outputs.write import ANOMALY_COLUMNS, PROJECT_COLUMNS

SPEC_PROJECT_COLUMNS = [
    "source_file", "sheet", "department", "unit", "project", "year", "budget_initial",
    "budget_full_year", "executed", "execution_rate", "budget_weight", "budget_score_reported",
    "budget_score", "total_reported", "total_score", "grade", "grade_reported", "anomaly_count",
    "superseded_by",
]
SPEC_ANOMALY_COLUMNS = [
    "anomaly_id", "severity", "rule", "source_file", "sheet", "cell", "unit", "project", "message",
    "value", "expected",
]


def _csv(path: Path) -> list[dict]:
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf"), "CSV must carry a UTF-8 BOM for Excel"
    return list(csv.DictReader(raw.decode("utf-8-sig").splitlines()))


def _digest(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture
def sample_run(tmp_path):
    inbox, outbox = tmp_path / "inbox", tmp_path / "outbox"
    write_sample_inbox(inbox)
    before = _digest(inbox)
    result = run(inbox, outbox, Config())
    assert _digest(inbox) == before, "the inbox must never be modified"
    return inbox, outbox, result


def test_csv_columns_are_the_spec_contract():
    assert PROJECT_COLUMNS == SPEC_PROJECT_COLUMNS
    assert ANOMALY_COLUMNS == SPEC_ANOMALY_COLUMNS


def test_sample_inbox_every_file_accounted_for(sample_run):
    _, outbox, result = sample_run
    data = json.loads((outbox / "run.json").read_text(encoding="utf-8"))
    status = {f["path"]: (f["status"], f["code"]) for f in data["files"]}
    assert status == {
        "示例县农业技术推广中心/高标准农田建设项目绩效自评表.xlsx": ("accepted", ""),
        "示例县教育局/乡村学校少年宫运转经费.xlsx": ("rejected", "MISSING_FIELD"),
        "示例县文化馆/2024年度绩效自评报告.pdf": ("ignored", ""),
        "示例县文化馆/文化惠民工程自评表.xlsx": ("rejected", "FILE_UNREADABLE"),
        "示例县疾病预防控制中心_基本公共卫生服务.xlsx": ("accepted", ""),
        "示例县社会救助服务中心/困难群众救助补助资金自评.xlsx": ("accepted", ""),
        "示例县第一中学/~$农村义务教育学生营养改善计划.xlsx": ("ignored", ""),
        "示例县第一中学/农村义务教育学生营养改善计划.xlsx": ("accepted", ""),
    }
    assert data["counts"] == {"files": 8, "accepted": 4, "rejected": 2, "ignored": 2, "forms": 4,
                              "findings": 15}
    assert data["run_id"] and data["started_at"] and data["finished_at"]
    assert data["run_id"] == result.run_id and data["started_at"] <= data["finished_at"]
    assert data["config"]["rules"]["low_execution"] == 0.8
    assert all(len(f["sha256"]) == 64 for f in data["files"])
    missing = next(f for f in data["files"] if f["code"] == "MISSING_FIELD")
    assert missing["forms"][0]["status"] == "rejected" and "实施单位" in missing["message"]


def test_sample_inbox_findings_per_form(sample_run):
    _, outbox, _ = sample_run
    rows = _csv(outbox / "anomalies.csv")
    by_file: dict[str, list[str]] = {}
    for r in rows:
        by_file.setdefault(r["source_file"], []).append(r["rule"])
    assert sorted(by_file["示例县农业技术推广中心/高标准农田建设项目绩效自评表.xlsx"]) == sorted([
        "RATE_MISMATCH", "BUDGET_SCORE_MISMATCH", "LOW_EXECUTION", "INDICATOR_SCORE_MISMATCH",
        "INDICATOR_SCORE_MISMATCH", "SELF_SCORE_INFLATED", "UNEXPLAINED_DEVIATION"])
    assert sorted(by_file["示例县疾病预防控制中心_基本公共卫生服务.xlsx"]) == sorted([
        "FUNDS_DONT_ADD_UP", "INDICATOR_SCORE_MISMATCH", "SELF_SCORE_INFLATED", "UNEXPLAINED_DEVIATION"])
    assert sorted(by_file["示例县社会救助服务中心/困难群众救助补助资金自评.xlsx"]) == [
        "AMOUNT_SCALE_SUSPECT", "REQUIRED_CATEGORY_EMPTY"]
    assert "示例县第一中学/农村义务教育学生营养改善计划.xlsx" not in by_file
    assert len({r["anomaly_id"] for r in rows}) == len(rows)
    rate = next(r for r in rows if r["rule"] == "RATE_MISMATCH")
    assert rate["cell"] == "G6" and rate["value"] == "80.00%" and rate["expected"] == "72.00%"
    assert "执行率填报为 80.00%" in rate["message"] and "应为 72.00%" in rate["message"]


def test_projects_csv_figures(sample_run):
    _, outbox, _ = sample_run
    rows = {r["unit"]: r for r in _csv(outbox / "projects.csv")}
    assert set(rows) == {"示例县第一中学", "示例县农业技术推广中心", "示例县疾病预防控制中心",
                         "示例县社会救助服务中心"}
    farm = rows["示例县农业技术推广中心"]
    assert farm["execution_rate"] == "0.72" and farm["budget_full_year"] == "850.0"
    assert float(farm["total_score"]) == pytest.approx(92.8)
    assert farm["total_reported"] == "98.0" and farm["anomaly_count"] == "7"
    school = rows["示例县第一中学"]
    assert school["year"] == "2024" and school["grade"] == "优" and school["anomaly_count"] == "0"
    assert float(school["total_reported"]) == pytest.approx(99.8)  # the formula's cached value


def test_history_copy_matches_outputs(sample_run):
    _, outbox, result = sample_run
    run_dir = outbox / "runs" / result.run_id
    for name in ("consolidated.xlsx", "projects.csv", "anomalies.csv", "run.json"):
        assert (run_dir / name).read_bytes() == (outbox / name).read_bytes()


def test_workbook_sheets_flags_links_and_dropdown(sample_run):
    _, outbox, _result = sample_run
    book = openpyxl.load_workbook(outbox / "consolidated.xlsx")
    assert book.sheetnames[:9] == ["重点关注", "汇总", "图表", "异常清单", "未受理文件", "其他文件", "变更记录",
                                   "已关闭", "运行说明"]
    assert book.active.title == "重点关注"
    # Every inbox file is listed somewhere: what holds no form, with its reason, in 其他文件.
    others = [[c.value for c in r] for r in book["其他文件"].iter_rows(min_row=4)]
    listed = {r[0] for r in others}
    assert listed == {r.path for r in _result.files if r.status == "ignored"} and len(listed) == 2
    assert all(r[2] for r in others)  # each with its reason
    assert set(book.sheetnames[9:]) == {"示例县第一中学", "示例县农业技术推广中心", "示例县疾病预防控制中心",
                                        "示例县社会救助服务中心"}
    summary = book["汇总"]
    # The title, then 编制单位 / date / 单位, then the header (row 3): 5 forms, 4 subtotals, county.
    assert summary["A1"].value == "2024年度项目支出绩效自评汇总表"  # no [season] county configured
    assert summary["C3"].value == "实施单位" and summary.max_row == 13
    assert summary.freeze_panes == "E4" and summary.auto_filter.ref == "A3:T13"
    labels = [summary.cell(r, 2).value for r in range(4, 14)]
    assert labels[-1] == "全县合计" and sum(str(v).endswith(" 小计") for v in labels) == 4
    rejected_row = next(r for r in range(4, 13) if summary.cell(r, 17).value == "未受理：必填项为空（MISSING_FIELD）")
    assert summary.cell(rejected_row, 7).value is None  # no figures from a rejected form
    assert summary.cell(rejected_row, 18).value == "未受理，整行红色；不计入合计"  # 标注原因
    assert summary["G13"].value.startswith("=SUMIFS(G4:G12,")
    anomalies = book["异常清单"]
    header = [c.value for c in anomalies[3]]
    assert header[0] == "编号" and header[-3:] == ["复核状态", "复核意见", "自评报告所述原因"]
    rows = list(anomalies.iter_rows(min_row=4, values_only=True))
    assert len(rows) == 15
    validations = anomalies.data_validations.dataValidation
    assert any(v.formula1 == '"待复核,已核实,已整改,误报"' for v in validations)
    # The RATE_MISMATCH row links to the flagged cell of the unit's sheet, which carries the rule.
    row = next(r for r in anomalies.iter_rows(min_row=4) if r[2].value == "RATE_MISMATCH")
    link = row[12].hyperlink.location
    sheet, ref = link.rsplit("!", 1)
    target = book[sheet.strip("'")][ref]
    assert target.value == pytest.approx(0.8)
    assert "【执行率填报有误（RATE_MISMATCH）】" in target.comment.text and "（LOW_EXECUTION）】" in target.comment.text
    assert target.fill.fgColor.rgb.endswith("FFEB9C")
    rejected = book["未受理文件"]
    codes = sorted(r[2] for r in rejected.iter_rows(min_row=4, values_only=True))
    assert codes == ["必填项为空（MISSING_FIELD）", "文件无法读取（FILE_UNREADABLE）"]


def test_charts_and_run_info(sample_run):
    _, outbox, result = sample_run
    book = openpyxl.load_workbook(outbox / "consolidated.xlsx", data_only=True)
    charts = book["图表"]._charts
    assert len(charts) == 3
    titles = ["".join(r.t for p in c.title.tx.rich.p for r in p.r) for c in charts]
    assert titles == ["各单位预算执行率（由低到高）", "等级分布：自评与复算", "自评总分与复算总分（线上方为自评偏高）"]
    rates = [r[3] for r in charts_table(book["图表"], "实施单位")]
    assert rates == sorted(rates) and rates[0] == pytest.approx(0.72)
    grades = {r[0]: r[1:3] for r in charts_table(book["图表"], "等级")}
    # The relief form (amounts in 元, AMOUNT_SCALE_SUSPECT) is not counted: 3 forms, not 4.
    assert grades == {"优": (3, 3), "良": (0, 0), "中": (0, 0), "差": (0, 0)}
    info = {r[0]: r[1] for r in book["运行说明"].iter_rows(values_only=True) if r[0]}
    assert info["运行编号"] == result.run_id
    assert info["收件箱文件"] == "8 个：受理 4，未受理 2，忽略 2"
    assert info["执行率低于此值为执行率偏低"] == "0.8" and info["单个文件压缩比上限"] == "100"
    assert info["定性指标三档的得分上限（占分值的比例）"] == "达到：1；部分达到：0.8；未达到：0.6"
    assert info["SELF_SCORE_INFLATED"] == "自评分虚高"


def charts_table(ws, first_header: str) -> list[tuple]:
    """Rows of the chart data table whose header cell reads `first_header`."""
    for row in ws.iter_rows():
        for cell in row:
            if cell.value == first_header:
                out, r = [], cell.row + 1
                while ws.cell(r, cell.column).value is not None:
                    out.append(tuple(ws.cell(r, cell.column + k).value for k in range(4)))
                    r += 1
                return out
    raise AssertionError(first_header)


def test_summary_totals_count_only_consolidated_forms(tmp_path):
    """Department and county totals: cached values a reader sees, superseded and rejected forms left out."""
    inbox, outbox = tmp_path / "inbox", tmp_path / "outbox"
    write_sample_inbox(inbox)
    # A resubmission of the farmland form under another name, older than the original.
    from sample_inbox import farmland

    older = write_workbook(inbox / "旧版_高标准农田.xlsx", [("自评表", farmland())])
    os.utime(older, (1_000_000_000, 1_000_000_000))
    run(inbox, outbox, Config())
    ws = openpyxl.load_workbook(outbox / "consolidated.xlsx", data_only=True)["汇总"]
    rows = list(ws.iter_rows(min_row=4, values_only=True))
    county = rows[-1]
    # The relief form's amounts are in 元 (AMOUNT_SCALE_SUSPECT): shown, but outside every total.
    assert county[1] == "全县合计" and county[3] == "3 个项目计入，1 个金额单位存疑未计入"
    assert county[6] == pytest.approx(850 + 300 + 120)
    assert county[7] == pytest.approx(612 + 288 + 117.6)
    assert county[8] == pytest.approx(county[7] / county[6])
    farm = next(r for r in rows if r[1] == "示例县农业农村局 小计")
    assert farm[3] == "1 个项目计入" and farm[6] == pytest.approx(850) and farm[8] == pytest.approx(0.72)
    statuses = [r[16] for r in rows if r[2] == "示例县农业技术推广中心"]
    newest = "示例县农业技术推广中心/高标准农田建设项目绩效自评表.xlsx"
    assert sorted(statuses) == [f"已被替代（以 {newest} 为准）", "计入汇总"]


def test_reviews_survive_the_next_run_and_closed_ones_are_kept(tmp_path):
    inbox, outbox = tmp_path / "inbox", tmp_path / "outbox"
    write_sample_inbox(inbox)
    run(inbox, outbox, Config())
    book = openpyxl.load_workbook(outbox / "consolidated.xlsx")
    ws = book["异常清单"]
    reviewed = {}
    for row in ws.iter_rows(min_row=4):
        if row[2].value in ("RATE_MISMATCH", "AMOUNT_SCALE_SUSPECT"):
            row[13].value, row[14].value = "已核实", f"已电话核实（{row[2].value}）"
            reviewed[row[0].value] = row[2].value
    assert sorted(reviewed.values()) == ["AMOUNT_SCALE_SUSPECT", "RATE_MISMATCH"]  # both reviews were made
    book.save(outbox / "consolidated.xlsx")
    # The relief unit corrects its amounts to 万元: AMOUNT_SCALE_SUSPECT goes away.
    relief = inbox / "示例县社会救助服务中心" / "困难群众救助补助资金自评.xlsx"
    from sample_inbox import relief as relief_spec

    spec = relief_spec()
    spec.funds = {"年度资金总额": (235, 235, 229.8), "当年财政拨款": (235, 235, 229.8)}
    write_workbook(relief, [("自评表", spec)])
    run(inbox, outbox, Config())
    book = openpyxl.load_workbook(outbox / "consolidated.xlsx")
    open_rows = {r[0]: r for r in book["异常清单"].iter_rows(min_row=4, values_only=True)}
    closed_rows = {r[0]: r for r in book["已关闭"].iter_rows(min_row=2, values_only=True)}
    for anomaly_id, rule in reviewed.items():
        if rule == "RATE_MISMATCH":
            assert open_rows[anomaly_id][13:15] == ("已核实", "已电话核实（RATE_MISMATCH）")
        else:
            assert anomaly_id not in open_rows
            assert closed_rows[anomaly_id][1:3] == ("AMOUNT_SCALE_SUSPECT", "金额单位存疑")
            assert closed_rows[anomaly_id][6:8] == ("已核实", "已电话核实（AMOUNT_SCALE_SUSPECT）")
    # And a third run still keeps the closed review.
    run(inbox, outbox, Config())
    book = openpyxl.load_workbook(outbox / "consolidated.xlsx")
    closed_ids = [r[0] for r in book["已关闭"].iter_rows(min_row=2, values_only=True)]
    assert next(k for k, v in reviewed.items() if v == "AMOUNT_SCALE_SUSPECT") in closed_ids


def test_anomaly_ids_are_stable_across_runs_and_file_names(tmp_path):
    inbox, out1, out2 = tmp_path / "inbox", tmp_path / "o1", tmp_path / "o2"
    inbox.mkdir()
    write_workbook(inbox / "a.xlsx", [("自评表", seed_form())])
    first = {f.rule: f.anomaly_id for f in run(inbox, out1, Config()).findings}
    (inbox / "a.xlsx").rename(inbox / "重报.xlsx")
    second = {f.rule: f.anomaly_id for f in run(inbox, out2, Config()).findings}
    assert first == second and len(first) == 3


def test_submission_text_never_becomes_a_formula(tmp_path):
    inbox, outbox = tmp_path / "inbox", tmp_path / "outbox"
    inbox.mkdir()
    evil = '=HYPERLINK("http://example.invalid","点我")'
    write_workbook(inbox / "x.xlsx", [("自评表", seed_form(unit=evil, project="+SUM(1,2)",
                                                          department="@cmd"))])
    run(inbox, outbox, Config())
    projects = _csv(outbox / "projects.csv")[0]
    assert projects["unit"] == "'" + evil and projects["project"] == "'+SUM(1,2)"
    assert projects["department"] == "'@cmd"
    book = openpyxl.load_workbook(outbox / "consolidated.xlsx")
    formulas = 0
    for ws in book:
        for row in ws.iter_rows():
            for cell in row:
                if cell.data_type == "f":  # only our own totals in 汇总 are formulas
                    formulas += 1
                    label = str(ws.cell(cell.row, 2).value)
                    assert ws.title == "汇总" and (label.endswith(" 小计") or label == "全县合计"), (
                        f"{ws.title}!{cell.coordinate} became a formula")
                    assert cell.value.startswith(("=SUMIFS(", "=IF(", "=IFERROR(AVERAGEIFS("))
    assert formulas > 0  # the scan does see formulas (the totals'), so finding no other one means something
    assert book["汇总"]["C4"].value == evil
    assert book["汇总"]["C4"].data_type == "s"  # a formula would read back as the same text, typed "f"
    unit_sheet = book.sheetnames[book.sheetnames.index("运行说明") + 1]  # the first unit sheet
    assert unit_sheet == '=HYPERLINK("http___example.inva'  # ≤31 characters, no []:*?/\\
    assert book[unit_sheet]["A3"].value == "项目：+SUM(1,2)"


def test_sheet_names_are_valid_and_unique():
    long = "承德县人力资源和社会保障局所属社会保险事业服务中心（失业保险、养老保险）"
    names = sheet_names([long, long + "二", "a/b:c*d?e[f]", "'引号'", "汇总", "HUIZONG", "huizong"],
                        ("汇总", "异常清单"))
    values = list(names.values())
    assert all(len(n) <= 31 and not set(n) & set("[]:*?/\\") for n in values)
    assert len({n.lower() for n in values}) == len(values)
    assert names[long] == long[:31] and names[long + "二"] == long[:29] + "~2"
    assert names["a/b:c*d?e[f]"] == "a_b_c_d_e_f_"
    assert names["'引号'"] == "引号"
    assert names["汇总"] == "汇总~2" and names["huizong"] == "huizong~2"


def test_rejections_link_to_their_row_in_rejected_sheet(sample_run):
    _, outbox, _ = sample_run
    book = openpyxl.load_workbook(outbox / "consolidated.xlsx")
    checked = []
    for row in book["异常清单"].iter_rows(min_row=4):
        if row[2].value in ("FILE_UNREADABLE", "MISSING_FIELD"):
            sheet, ref = row[12].hyperlink.location.rsplit("!", 1)
            target = book[sheet.strip("'")][ref]
            assert sheet == "'未受理文件'" and target.value == row[6].value
            assert book["未受理文件"].cell(target.row, 3).value == titled(row[2].value)
            checked.append(row[2].value)
    assert sorted(checked) == ["FILE_UNREADABLE", "MISSING_FIELD"]  # the sample's two rejections


def test_every_sheet_prints_landscape_never_shrunk_below_9_pt_and_screen_sheets_stay_off_paper(sample_run):
    """Printed tables: landscape, either fitted to the width of an A4/A3 page the plan has checked they fit
    at ≥ 82 % (11 pt → ≥ 9 pt), or split across A3 pages at a fixed ≥ 82 % with their first columns repeated;
    the header row on every page. 运行说明 and the empty 变更记录/已关闭 print nothing: their print area is
    one empty cell (the real-client test shows LibreOffice then prints no page for them)."""
    _, outbox, _ = sample_run
    book = openpyxl.load_workbook(outbox / "consolidated.xlsx")
    headers = {"重点关注": 4, "汇总": 3, "异常清单": 3, "未受理文件": 3}
    screen_only = {"变更记录", "已关闭", "运行说明"}
    for ws in book:
        if ws.title in screen_only:
            area = ws.print_area.split("!")[-1].replace("$", "")
            assert ":" not in area or area.split(":")[0] == area.split(":")[1], (ws.title, area)
            # below everything written (so it holds nothing); checked before ws[…] creates the cell
            assert ws.max_row < int(re.sub(r"[A-Z]", "", area.split(":")[0])), ws.title
            continue
        assert ws.page_setup.orientation == "landscape", ws.title
        assert "&A" in (ws.oddFooter.left.text or "") and "&P" in (ws.oddFooter.right.text or ""), ws.title
        if ws.title not in headers:
            continue  # 图表 (its charts at full size on A3) and the unit sheets
        assert ws.print_title_rows == f"${headers[ws.title]}:${headers[ws.title]}", ws.title
        assert ws.page_setup.paperSize in (8, 9), ws.title  # A3, A4
        fitted = ws.sheet_properties.pageSetUpPr is not None and ws.sheet_properties.pageSetUpPr.fitToPage
        if fitted:
            assert ws.page_setup.fitToWidth in (None, 1) and ws.page_setup.fitToHeight == 0, ws.title
        else:
            assert ws.page_setup.scale >= MIN_SCALE and ws.print_title_cols, ws.title
    # The sample's 汇总 (20 columns) is too wide for A3 at 9 pt in a wide font: split, 序号…项目名称 repeated.
    summary = book["汇总"]
    assert summary.page_setup.paperSize == 8 and summary.print_title_cols == "$A:$D"
    assert [b.id for b in summary.col_breaks.brk]  # split at a column the plan chose, the same in every program


RED, AMBER = "FFC7CE", "FFEB9C"  # the workbook's error and warning fills
_OPERATORS = {">": operator.gt, ">=": operator.ge, "<": operator.lt, "<=": operator.le, "=": operator.eq,
              "<>": operator.ne, "greaterThan": operator.gt, "greaterThanOrEqual": operator.ge,
              "lessThan": operator.lt, "lessThanOrEqual": operator.le, "equal": operator.eq,
              "notEqual": operator.ne}
# The conditional formulas 汇总 uses: `$L2>1`, `LEFT($Q2,3)="未受理"`, `$Q2="…"`.
_FORMULA = re.compile(r'^(?:LEFT\()?\$([A-Z]+)(\d+)(?:,(\d+)\))?(>=|<=|<>|>|<|=)("[^"]*"|-?[\d.]+)$')


def _compare(value, op: str, literal: str) -> bool:
    """`value op literal` as Excel compares them: a blank cell is 0 beside a number, "" beside text."""
    if literal.startswith('"'):
        return _OPERATORS[op]("" if value is None else str(value), literal.strip('"'))
    if not isinstance(value, int | float) and value is not None:
        return False  # text beside a number: Excel's > puts text above numbers, = is False; 汇总 has none
    return _OPERATORS[op](value or 0, float(literal))


def _fill(ws, row: int, col: int) -> str:
    """The fill Excel shows on a cell: that of the first conditional format in priority order whose
    condition holds there ("" for none), evaluated on the values written."""
    rules = [(rule, rng) for cf in ws.conditional_formatting for rule in cf.rules for rng in cf.sqref.ranges
             if rng.min_row <= row <= rng.max_row and rng.min_col <= col <= rng.max_col
             and rule.dxf is not None and rule.dxf.fill is not None]
    for rule, rng in sorted(rules, key=lambda pair: pair[0].priority):
        if rule.type == "cellIs":
            holds = _compare(ws.cell(row, col).value, rule.operator, rule.formula[0])
        else:
            assert rule.type == "expression", rule.type
            match = _FORMULA.match(rule.formula[0])
            assert match, f"a conditional formula this test cannot evaluate: {rule.formula[0]}"
            column, first, chars, op, literal = match.groups()
            value = ws.cell(row - rng.min_row + int(first), column_index_from_string(column)).value
            holds = _compare(value if chars is None else str(value or "")[:int(chars)], op, literal)
        if holds:
            return rule.dxf.fill.bgColor.rgb[-6:]
    return ""


def test_summary_marks_inflated_totals_at_the_configured_threshold(tmp_path):
    """汇总 turns a self-score red where SELF_SCORE_INFLATED fires: above `rules.inflation_points`.

    Forms over a recomputed total of exactly 95 by 1 (the default threshold itself), 1.5, 3,
    5 (a threshold of 5 itself) and 6, beside the sample inbox (5.2 and 3.02 over, a rejection,
    an amount-scale suspect). Red is read as Excel shows it, from the conditional formats.
    """
    inbox = tmp_path / "inbox"
    write_sample_inbox(inbox)
    gaps = (1, 1.5, 3, 5, 6)
    for gap in gaps:
        spec = recomputed_95(95 + gap, unit=f"示例县虚高{gap:g}分单位")
        write_workbook(inbox / f"虚高{gap:g}.xlsx", [("自评表", spec)])
    for points, red in ((None, {1.5, 3, 5, 6}), (5, {6})):
        outbox = tmp_path / f"outbox{points}"
        cfg = Config() if points is None else Config.model_validate({"rules": {"inflation_points": points}})
        result = run(inbox, outbox, cfg)
        ws = openpyxl.load_workbook(outbox / "consolidated.xlsx")["汇总"]
        assert [c.value for c in ws[3]][9:12] == ["自评总分", "复算总分", "自评−复算"]
        assert ws.cell(3, 17).value == "状态" and ws.cell(3, 19).value == "来源文件"
        forms = {ws.cell(row, 19).value: row for row in range(4, ws.max_row + 1)
                 if ws.cell(row, 19).value and not ws.cell(row, 17).value.startswith("未受理")}
        assert len(forms) == 4 + len(gaps)
        for gap in gaps:
            assert ws.cell(forms[f"虚高{gap:g}.xlsx"], 12).value == gap  # exact: 95 + gap − 95
        fills = {source: {_fill(ws, row, col) for col in (10, 11, 12)} for source, row in forms.items()}
        marked = {source for source, shown in fills.items() if shown == {RED}}
        assert all(shown in ({RED}, {""}, {AMBER}) for shown in fills.values()), fills
        assert {gap for gap in gaps if f"虚高{gap:g}.xlsx" in marked} == red
        inflated = {f.source_file for f in result.findings if f.rule == "SELF_SCORE_INFLATED"}
        assert marked == inflated
        # 标注原因 says in words what the red says (comments do not print)
        reasons = {source for source, row in forms.items() if "自评分虚高" in (ws.cell(row, 18).value or "")}
        assert reasons == marked
        farmland = "示例县农业技术推广中心/高标准农田建设项目绩效自评表.xlsx"  # 5.2 over
        public_health = "示例县疾病预防控制中心_基本公共卫生服务.xlsx"  # 3.02 over
        sample = {farmland} if points else {farmland, public_health}
        assert marked - {f"虚高{gap:g}.xlsx" for gap in gaps} == sample
