"""县级绩效自评汇总报告.docx: read back with python-docx, its figures checked against projects.csv and
anomalies.csv of the same run; printed by LibreOffice Writer, its pages checked with pdftotext.

The county's inbox is the sample inbox (a clean form, forms with findings, a form in 元, a file
without 实施单位, a truncated file) plus a resubmission that replaces an older copy, the seed (56.85%,
a high self-score) and a clean form of another unit of the seed's 主管部门. The oracle is the CSVs:
the forms that enter the totals are the rows of projects.csv not superseded and not flagged
AMOUNT_SCALE_SUSPECT in anomalies.csv; the findings are anomalies.csv less those of superseded rows.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
from collections import Counter
from pathlib import Path

import pytest
from docx import Document
from docx.oxml.ns import qn
from forms import clean_form
from sample_inbox import farmland, write_sample_inbox
from seed import seed_form

from xlbatch.config import Config, SeasonSettings
from xlbatch.nightly import run
from xlbatch.outputs import charts, report
from xlbatch.outputs.template import write_workbook

pytest_plugins = ["lo"]  # fixtures libreoffice, pdftotext (not imported: lo must load as a plugin)

REPORT = "县级绩效自评汇总报告.docx"
CFG = Config(season=SeasonSettings(county="示例县", issuer="示例县财政局"))
TITLE = "示例县2024年度项目支出绩效自评汇总报告"


def county_inbox(inbox: Path) -> Path:
    write_sample_inbox(inbox)
    for unit in ("示例县社会保险事业服务中心", "示例县就业服务中心"):
        (inbox / unit).mkdir()
    resent = farmland()
    resent.rate = "72.00%"  # the unit corrected its rate; the older copy is superseded
    path = write_workbook(inbox / "示例县农业技术推广中心" / "高标准农田建设项目绩效自评表（更正）.xlsx",
                          [("自评表", resent)])
    os.utime(path, (1_800_000_000, 1_800_000_000))
    write_workbook(inbox / "示例县社会保险事业服务中心" / "失业动态监测.xlsx",
                   [("自评表", seed_form(year=2024, unit="示例县社会保险事业服务中心",
                                        department="示例县人力资源和社会保障局"))])
    write_workbook(inbox / "示例县就业服务中心" / "就业补助资金.xlsx",
                   [("自评表", clean_form(year=2024, unit="示例县就业服务中心", project="就业补助资金",
                                         department="示例县人力资源和社会保障局"))])
    return inbox


@pytest.fixture(scope="module")
def county(tmp_path_factory) -> Path:
    base = tmp_path_factory.mktemp("county")
    run(county_inbox(base / "inbox"), base / "outbox", CFG)
    return base / "outbox"


def rows(path: Path) -> list[dict]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def counted(outbox: Path) -> list[dict]:
    suspect = {(a["source_file"], a["sheet"]) for a in rows(outbox / "anomalies.csv")
               if a["rule"] == "AMOUNT_SCALE_SUSPECT"}
    return [r for r in rows(outbox / "projects.csv")
            if not r["superseded_by"] and (r["source_file"], r["sheet"]) not in suspect]


def current_anomalies(outbox: Path) -> list[dict]:
    replaced = {(r["source_file"], r["sheet"]) for r in rows(outbox / "projects.csv") if r["superseded_by"]}
    return [a for a in rows(outbox / "anomalies.csv") if (a["source_file"], a["sheet"]) not in replaced]


def text_of(doc) -> str:
    return "\n".join(p.text for p in doc.paragraphs)


def table_headed(doc, first: str):
    return next(t for t in doc.tables if t.rows[0].cells[0].text == first)


def cells(row) -> list[str]:
    return [c.text for c in row.cells]


def num(text: str) -> float:
    return float(text.replace(",", "").rstrip("%"))


def total(values) -> float:
    return sum(float(v) for v in values)


# --- the figures ------------------------------------------------------------------------

def test_the_inbox_has_what_the_report_must_tell_apart(county):
    projects = rows(county / "projects.csv")
    assert sum(bool(r["superseded_by"]) for r in projects) == 1
    assert len(counted(county)) == len(projects) - 2  # a superseded copy, a form in 元
    assert {a["rule"] for a in rows(county / "anomalies.csv")} >= {
        "FILE_UNREADABLE", "MISSING_FIELD", "SELF_SCORE_INFLATED", "DUPLICATE_SUBMISSION", "AMOUNT_SCALE_SUSPECT"}


def test_title_issuer_and_opening(county):
    doc = Document(str(county / REPORT))
    assert doc.paragraphs[0].text == TITLE
    assert doc.paragraphs[1].text.startswith("编制单位：示例县财政局")
    assert doc.core_properties.title == TITLE and doc.core_properties.author == "示例县财政局"
    assert "示例县财政局" in doc.paragraphs[-2].text  # the signature, then the date
    assert doc.paragraphs[-1].text.endswith("日")
    headings = [p.text for p in doc.paragraphs if p.style.name == "Heading 1"]
    assert headings == ["一、基本情况", "二、预算执行情况", "三、自评结果", "四、发现的主要问题", "五、下一步工作"]


def test_units_projects_and_funds_are_those_of_projects_csv(county):
    doc, forms = Document(str(county / REPORT)), counted(county)
    units = {r["unit"] for r in forms}
    assert f"计入汇总的项目共 {len(forms)} 个，涉及 {len(units)} 个预算单位" in text_of(doc)
    table = table_headed(doc, "主管部门")
    *body, last = [cells(r) for r in table.rows[1:]]
    assert last[0] == "合计"
    assert [int(last[1]), int(last[2])] == [len(units), len(forms)]
    budget, executed = total(r["budget_full_year"] for r in forms), total(r["executed"] for r in forms)
    assert num(last[3]) == pytest.approx(budget, abs=0.005)
    assert num(last[4]) == pytest.approx(executed, abs=0.005)
    assert num(last[5]) == pytest.approx(executed / budget * 100, abs=0.005)
    by_department = {row[0]: num(row[3]) for row in body}
    expected = Counter()
    for r in forms:
        expected[r["department"]] += float(r["budget_full_year"])
    assert by_department == pytest.approx(dict(expected), abs=0.005)


def test_county_rate_bands_and_lowest_projects(county):
    doc, forms = Document(str(county / REPORT)), counted(county)
    budget, executed = total(r["budget_full_year"] for r in forms), total(r["executed"] for r in forms)
    assert f"预算执行率为 {executed / budget:.2%}" in text_of(doc)
    bands = [cells(r) for r in table_headed(doc, "执行率区间").rows[1:]]
    assert [b[0] for b in bands] == ["100% 及以上", "90% 至 100%", "80% 至 90%", "60% 至 80%", "60% 以下"]
    edges = [(1.0, 9.0), (0.9, 1.0), (0.8, 0.9), (0.6, 0.8), (-9.0, 0.6)]
    rates = [float(r["execution_rate"]) for r in forms]
    assert [int(b[1]) for b in bands] == [sum(lo <= x < hi for x in rates) for lo, hi in edges]
    lowest = [cells(r) for r in table_headed(doc, "序号").rows[1:]]
    ordered = sorted(forms, key=lambda r: float(r["execution_rate"]))
    assert [(row[1], row[2]) for row in lowest] == [(r["unit"], r["project"]) for r in ordered][:len(lowest)]
    assert num(lowest[0][5]) == pytest.approx(float(ordered[0]["execution_rate"]) * 100, abs=0.005)


def test_grades_as_reported_and_as_recomputed(county):
    doc, forms = Document(str(county / REPORT)), counted(county)
    table = [cells(r) for r in table_headed(doc, "绩效等级").rows[1:]]
    got = {row[0]: (int(row[1]), int(row[3])) for row in table if row[0] != "合计"}
    assert got == {g: (sum(r["grade_reported"] == g for r in forms), sum(r["grade"] == g for r in forms))
                   for g in CFG.scoring.grades}
    assert [table[-1][i] for i in (0, 1, 3)] == ["合计", str(len(forms)), str(len(forms))]


def test_inflated_self_scores(county):
    doc, forms = Document(str(county / REPORT)), counted(county)
    inflated = [r for r in forms if float(r["total_reported"]) - float(r["total_score"]) > 1]
    assert inflated, "the inbox must hold an inflated self-score"
    assert f"（自评分虚高）的项目 {len(inflated)} 个" in text_of(doc)
    table = next(t for t in doc.tables if cells(t.rows[0])[:4] == ["序号", "实施单位", "项目名称", "自评总分"])
    listed = {(row[1], row[2]) for row in (cells(r) for r in table.rows[1:])}
    assert listed == {(r["unit"], r["project"]) for r in inflated}


def test_problems_by_rule_with_chinese_titles_and_named_cases(county):
    doc, findings = Document(str(county / REPORT)), current_anomalies(county)
    table = [cells(r) for r in table_headed(doc, "问题类型").rows[1:]]
    *body, last = table
    assert {row[1]: int(row[3]) for row in body} == dict(Counter(a["rule"] for a in findings))
    assert int(last[3]) == len(findings)
    from xlbatch.catalogue import RULES

    assert all(row[0] == RULES[row[1]].title for row in body)
    text = text_of(doc)
    # The typical case of an inflated self-score names the unit, the project and what was found.
    case = next(a for a in findings if a["rule"] == "SELF_SCORE_INFLATED")
    assert f"{case['unit']}「{case['project']}」：{case['message']}" in text
    # A file rejected before a unit could be read is named by its folder and file.
    broken = next(a for a in findings if a["rule"] == "FILE_UNREADABLE")
    assert f"示例县文化馆（文件「{broken['source_file']}」）" in text
    # The superseded copy's own findings are not counted twice.
    assert sum(a["rule"] == "RATE_MISMATCH" for a in rows(county / "anomalies.csv")) == 1 + sum(
        a["rule"] == "RATE_MISMATCH" for a in findings)


def test_charts_are_pictures_and_fonts_are_east_asian(county):
    doc = Document(str(county / REPORT))
    assert len(doc.inline_shapes) == 3  # rate bands, department rates, grades
    captions = [p.text for p in doc.paragraphs if p.text.startswith("图")]
    assert captions == ["图1　项目预算执行率分布", "图2　各主管部门预算执行率",
                        "图3　绩效等级分布：单位自评与按规则复算"]
    fonts = {name: doc.styles[name].element.rPr.rFonts.get(qn("w:eastAsia"))
             for name in ("Normal", "Heading 1", "Heading 2", "公文标题", "表格文字")}
    assert fonts == {"Normal": "仿宋", "Heading 1": "黑体", "Heading 2": "楷体", "公文标题": "宋体", "表格文字": "宋体"}
    header = doc.tables[0].rows[0]._tr
    assert header.trPr.find(qn("w:tblHeader")) is not None  # repeated on every page


def test_without_a_chinese_font_the_report_says_it_has_no_charts(tmp_path, monkeypatch):
    monkeypatch.setattr(charts, "cjk_font", lambda sample: None)
    inbox, outbox = tmp_path / "inbox", tmp_path / "outbox"
    result = run(county_inbox(inbox), outbox, CFG)
    doc = Document(str(outbox / REPORT))
    assert len(doc.inline_shapes) == 0
    assert "未找到可显示中文的字体，未生成图表" in text_of(doc)
    log = (outbox / "runs" / result.run_id / "run.log.jsonl").read_text(encoding="utf-8").splitlines()
    assert any(json.loads(line)["event"] == "charts_skipped" for line in log)


def test_a_font_must_draw_every_character_asked_for():
    assert charts.cjk_font(charts.WORDS) is not None  # WenQuanYi Zen Hei is installed here (README)
    assert charts.cjk_font("\U000e0100" + charts.WORDS) is None  # a character no font here draws


def test_matplotlib_keeps_its_font_index_in_the_outbox_when_home_is_not_writable(tmp_path, monkeypatch):
    """Under systemd's ProtectHome=yes matplotlib would rebuild its font index in a temporary folder on
    every run and warn on stderr (mail from cron); the run points it at outbox/.matplotlib instead.
    (The tests run as root, for whom every folder is writable: the home's verdict is stood in for.)"""
    for name in ("MPLCONFIGDIR", "XDG_CONFIG_HOME", "XDG_CACHE_HOME"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    asked = []
    monkeypatch.setattr(charts, "_writable", lambda path: asked.append(path) or False)
    charts.use_private_cache(tmp_path / "outbox" / ".matplotlib")
    assert os.environ["MPLCONFIGDIR"] == str(tmp_path / "outbox" / ".matplotlib")
    assert (tmp_path / "outbox" / ".matplotlib").is_dir() and asked == [tmp_path / "home" / ".config"]
    monkeypatch.delenv("MPLCONFIGDIR")
    monkeypatch.setattr(charts, "_writable", lambda path: True)
    charts.use_private_cache(tmp_path / "outbox" / ".matplotlib")
    assert "MPLCONFIGDIR" not in os.environ  # matplotlib's own places are used
    monkeypatch.setenv("MPLCONFIGDIR", "/somewhere")
    monkeypatch.setattr(charts, "_writable", lambda path: False)
    charts.use_private_cache(tmp_path / "outbox" / ".matplotlib")
    assert os.environ["MPLCONFIGDIR"] == "/somewhere"  # the operator's choice stands


def test_a_run_without_forms_still_writes_the_report(tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "broken.xlsx").write_bytes(b"PK\x03\x04 not a workbook")
    run(inbox, tmp_path / "outbox", CFG)
    doc = Document(str(tmp_path / "outbox" / REPORT))
    assert doc.paragraphs[0].text == "示例县项目支出绩效自评汇总报告"
    assert "本次没有可计入汇总的自评表" in text_of(doc)
    assert "文件无法读取" in text_of(doc)


def test_rate_bands_follow_the_configured_lines():
    import pandas as pd

    cfg = Config(rules={"low_execution": 0.7, "high_score_low_execution": 0.5})
    forms = pd.DataFrame({"execution_rate": [1.2, 0.95, 0.85, 0.7, 0.69, 0.5, 0.1],
                          "budget_full_year": [1.0] * 7, "executed": [1.0] * 7})
    bands = report.rate_bands(forms, cfg)
    assert [(b[0], b[1], b[4]) for b in bands] == [
        ("100% 及以上", 1, False), ("90% 至 100%", 1, False), ("70% 至 90%", 2, False),
        ("50% 至 70%", 2, True), ("50% 以下", 1, True)]


# --- printed by LibreOffice ---------------------------------------------------------------

def test_the_report_prints_with_its_title_units_and_totals(county, libreoffice, pdftotext, tmp_path, capsys):
    (pdf,) = libreoffice.print_documents([county / REPORT], tmp_path / "pdf")
    text = subprocess.run([pdftotext, str(pdf), "-"], capture_output=True, text=True, timeout=60,
                          check=True).stdout
    flat = "".join(text.split())  # a long name may wrap across lines
    forms = counted(county)
    assert TITLE in flat
    for unit in {r["unit"] for r in forms} | {"示例县财政局"}:
        assert unit in flat, unit
    budget, executed = total(r["budget_full_year"] for r in forms), total(r["executed"] for r in forms)
    for figure in (f"{budget:,.2f}", f"{executed:,.2f}", f"{executed / budget:.2%}"):
        assert figure in flat, figure
    keep = os.environ.get("XLBATCH_RENDER_DIR")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        with capsys.disabled():
            print(f"\n[render] report PDF: {shutil.copy(pdf, Path(keep) / 'report.pdf')}")


def test_the_report_chinese_is_drawn_in_a_chinese_font(county, libreoffice, tmp_path):
    """Every font the PDF embeds for text is either Latin (digits) or one that has Chinese glyphs:
    the East Asian font names make LibreOffice substitute a CJK font, never a Latin one with boxes."""
    from lo import poppler_exe

    (pdf,) = libreoffice.print_documents([county / REPORT], tmp_path / "pdf")
    listing = subprocess.run([poppler_exe("pdffonts"), str(pdf)], capture_output=True, text=True, timeout=60,
                             check=True).stdout.splitlines()[2:]
    embedded = {line.split()[0].split("+")[-1] for line in listing if line.strip()}
    chinese = subprocess.run(["fc-list", ":lang=zh", "family"], capture_output=True, text=True,
                             timeout=30).stdout
    families = {name.replace(" ", "") for line in chinese.splitlines() for name in line.split(",")}
    assert any(font in families or font.split("-")[0] in families for font in embedded), (embedded, families)


def test_a_form_of_another_year_is_said_to_be_left_out_for_that_reason(tmp_path):
    """基本情况 names why each left-out form is left out: a form of another year is no amount in 元."""
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    write_workbook(inbox / "2024.xlsx", [("自评表", seed_form(year=2024))])
    write_workbook(inbox / "2023.xlsx", [("自评表", seed_form(year=2023, project="上年项目"))])
    run(inbox, tmp_path / "outbox", Config(season=SeasonSettings(year=2024)))
    text = "\n".join(p.text for p in Document(str(tmp_path / "outbox" / "县级绩效自评汇总报告.docx")).paragraphs)
    assert "受理的文件中共有自评表 2 张，其中 1 张年度或县（区）不符，不计入合计。" in text
    assert "金额疑似按元填报" not in text
    # One year in every title (formats.run_year): the season's, not the first of a tie among the forms.
    import openpyxl

    book = openpyxl.load_workbook(tmp_path / "outbox" / "consolidated.xlsx", read_only=True)
    assert book["汇总"]["A1"].value == "2024年度项目支出绩效自评汇总表"
    assert text.startswith("2024年度项目支出绩效自评汇总报告")
    (notice,) = (tmp_path / "outbox" / "通知").iterdir()
    assert Document(str(notice)).paragraphs[0].text == "关于2024年度项目支出绩效自评表审核问题的整改通知"
