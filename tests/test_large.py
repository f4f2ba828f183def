"""Large consolidations: the workbook stays navigable when a county has hundreds of units."""

from __future__ import annotations

import openpyxl
from sample_inbox import write_sample_inbox

from xlbatch.config import parse_config
from xlbatch.nightly import run


def test_above_the_limit_only_units_with_findings_get_a_sheet(tmp_path):
    inbox, outbox = tmp_path / "inbox", tmp_path / "outbox"
    write_sample_inbox(inbox)
    cfg = parse_config({"output": {"unit_sheets_limit": 3, "chart_units": 2}})
    run(inbox, outbox, cfg)
    book = openpyxl.load_workbook(outbox / "consolidated.xlsx")
    unit_sheets = [n for n in book.sheetnames if n.startswith("示例县")]
    # 示例县第一中学 has a clean form: it stays in 汇总 (without a link), not as a sheet.
    assert sorted(unit_sheets) == ["示例县农业技术推广中心", "示例县疾病预防控制中心", "示例县社会救助服务中心"]
    summary = book["汇总"]
    school = next(r for r in summary.iter_rows(min_row=2) if r[2].value == "示例县第一中学")
    assert school[2].hyperlink is None and school[16].value == "计入汇总"
    chart = book["图表"]._charts[0]
    title = "".join(r.t for p in chart.title.tx.rich.p for r in p.r)
    # 3 units: the relief unit's only form is AMOUNT_SCALE_SUSPECT, outside the totals and charts.
    assert title == "执行率最低的 2 个单位（共 3 个，全部见下表）"


def test_at_or_below_the_limit_every_unit_gets_a_sheet(tmp_path):
    inbox, outbox = tmp_path / "inbox", tmp_path / "outbox"
    write_sample_inbox(inbox)
    run(inbox, outbox, parse_config({"output": {"unit_sheets_limit": 4}}))
    book = openpyxl.load_workbook(outbox / "consolidated.xlsx")
    assert len([n for n in book.sheetnames if n.startswith("示例县")]) == 4
