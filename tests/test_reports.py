"""The units' 自评报告 (SPEC section 6): read from .docx and .pdf, matched to their unit, checked
against the forms (FORMS_MISSING, REPORT_FIGURE_MISMATCH, REPORT_MISSING), their reasons handed on.

The seed's report (tests/seed_report.py, the text of docs/seed/ after its form) is written with
python-docx, and LibreOffice writes its PDF (as a unit exporting from Word would); the seed form
beside it. A scanned report is the seed's page rendered by pdftoppm, pasted into a .docx and
exported by LibreOffice: an image and no text. Each supported phrasing is tested with an example
from a real report, its source named (PHRASINGS, FIGURES, UNITS).
"""

from __future__ import annotations

import io
import shutil
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from docx import Document
from forms import clean_form
from msoffcrypto.format.ooxml import OOXMLFile
from pypdf import PdfReader, PdfWriter
from seed import seed_form
from seed_report import PROJECT, PROJECT_TABLE, REASONS, UNIT, seed_report, write_report_docx

from xlbatch.catalogue import titled
from xlbatch.checks.rules import FORMS_MISSING, LOW_EXECUTION, REPORT_FIGURE_MISMATCH, REPORT_MISSING
from xlbatch.intake.discover import REPORT, ignore_reason, kind_of, lock_or_hidden
from xlbatch.intake.reports import match_reports, read_report
from xlbatch.models import INFO, WARNING, Report
from xlbatch.outputs.template import write_workbook
from xlbatch.pipeline import process

pytest_plugins = ["lo"]  # fixtures libreoffice, pdftoppm

FOLDER = "社保中心"  # the unit's folder in the inbox


def _tidy(text: str) -> str:
    return "".join(text.split())


# --- fixtures: the seed's report as .docx and as the PDF LibreOffice exports ---------------------

@pytest.fixture(scope="session")
def report_files(libreoffice, pdftoppm, tmp_path_factory) -> dict[str, Path]:
    """{name: file}: the seed report and its 3.50 万元 variant as .docx and .pdf, and a scanned report
    (.pdf whose page is an image of the seed's first page, no text)."""
    from lo import _run  # here, not at the top: lo is loaded as a plugin first (pytest_plugins)

    base = tmp_path_factory.mktemp("reports")
    docs = {"seed": write_report_docx(base / "seed.docx", seed_report()),
            "variant": write_report_docx(base / "variant.docx", seed_report(executed="实际使用 3.50 万元")),
            "table": write_report_docx(base / "table.docx", seed_report()[:3], tables=[PROJECT_TABLE])}
    pdfs = _to_pdf(libreoffice, list(docs.values()), base / "pdf")
    page = base / "page"
    code, _out, err = _run([pdftoppm, "-png", "-r", "70", "-f", "1", "-l", "1", str(pdfs[0]), str(page)], 60)
    assert code == 0, err
    picture = next(base.glob("page*.png"))
    scan = Document()
    scan.add_picture(str(picture))
    scan.save(str(base / "scan.docx"))
    scanned = _to_pdf(libreoffice, [base / "scan.docx"], base / "scan")[0]
    return {"seed.docx": docs["seed"], "variant.docx": docs["variant"], "table.docx": docs["table"],
            "seed.pdf": pdfs[0], "variant.pdf": pdfs[1], "table.pdf": pdfs[2], "scan.pdf": scanned}


def _to_pdf(libreoffice, sources: list[Path], outdir: Path) -> list[Path]:
    """LibreOffice Writer's PDF export of each .docx (soffice picks writer_pdf_Export for a text document)."""
    cmd = [libreoffice.exe, f"-env:UserInstallation={libreoffice.profile.as_uri()}", "--headless", "--norestore",
           "--nologo", "--nolockcheck", "--convert-to", "pdf", "--outdir", str(outdir), *map(str, sources)]
    from lo import _run

    code, out, err = _run(cmd, 120)
    results = [outdir / f"{src.stem}.pdf" for src in sources]
    assert code == 0 and all(p.is_file() for p in results), f"{out}\n{err}"
    return results


def _package(inbox: Path, report: Path | None, name: str = "自评报告", folder: str = FOLDER) -> Path:
    """A unit's package in its own folder: the seed form as .xlsx and `report` (if any) beside it."""
    (inbox / folder).mkdir(parents=True, exist_ok=True)
    write_workbook(inbox / folder / "自评表.xlsx", [("自评表", seed_form())])
    if report is not None:
        shutil.copy(report, inbox / folder / f"{name}{report.suffix}")
    return inbox


def _only(result, rule):
    found = [f for f in result.findings if f.rule == rule.code]
    assert len(found) == 1, [f.message for f in result.findings]
    return found[0]


# --- the seed as a unit's package -------------------------------------------------------------

@pytest.mark.parametrize("fmt", ["docx", "pdf"])
def test_the_seed_report_read_as_written(report_files, fmt):
    report = read_report(report_files[f"seed.{fmt}"], f"{FOLDER}/自评报告.{fmt}")
    assert report.error == ""
    assert (report.unit, report.unit_from) == (UNIT, "标题")
    assert (report.declared, _tidy(report.declared_text)) == (6, "共设预算项目6个")
    assert [p.name for p in report.projects] == [PROJECT]
    project = report.projects[0]
    stated = [(f.kind, round(f.value, 6), f.text) for f in project.figures]
    assert stated == [("budget", 5.4, "5.4 万元"), ("executed", 3.07, "3.07 万元"), ("rate", 0.5685, "56.85%")]
    assert [_tidy(r) for r in project.reasons] == [_tidy(r) for r in REASONS]
    assert report.reasons == []  # every reason sentence of the seed is under its project's heading
    where = {"docx": "第 7 段", "pdf": "第 1 页"}[fmt]
    assert {f.where for f in project.figures} == {where}


@pytest.mark.parametrize("fmt", ["docx", "pdf"])
def test_the_seed_package_forms_missing_and_the_reasons_beside_low_execution(report_files, tmp_path, fmt):
    result = process(_package(tmp_path / "inbox", report_files[f"seed.{fmt}"]))
    missing = _only(result, FORMS_MISSING)
    assert missing.severity == WARNING and missing.unit == UNIT
    assert (missing.value, missing.expected) == ("1", "6")
    assert missing.source_file == f"{FOLDER}/自评报告.{fmt}"
    assert missing.message == (
        f"自评报告 {FOLDER}/自评报告.{fmt}（{missing.cell}）称「共设预算项目6个」，共 6 个项目，但已受理的该单位"
        f"自评表只有 1 份（「{PROJECT}」）；尚缺 5 份，请补报其余项目的自评表")
    assert missing.cell == {"docx": "第 5 段", "pdf": "第 1 页"}[fmt]
    rules = {f.rule for f in result.findings}
    assert REPORT_FIGURE_MISMATCH.code not in rules and REPORT_MISSING.code not in rules  # the figures agree
    low = _only(result, LOW_EXECUTION)
    reasons = result.reports.reasons_for(low.unit, low.project)
    assert [_tidy(r) for r in reasons] == [_tidy(r) for r in REASONS]
    assert "年终一次性支付" in reasons[0] and "财政资金问题" in reasons[1]
    record = next(f for f in result.files if f.path.endswith(fmt))
    assert record.status == "ignored"  # not a form: nothing of it enters the totals
    assert record.message.startswith(f"自评报告，已读取，对应实施单位「{UNIT}」（依据：同一文件夹 {FOLDER}）")


@pytest.mark.parametrize("fmt", ["docx", "pdf"])
def test_the_seed_package_as_a_zip_with_gbk_names(report_files, tmp_path, fmt):
    """Issue 15: the unit's package as it arrives, a .zip written by Chinese Windows (GBK names, no UTF-8
    flag): the form and the report are read from the members in memory, with the same findings."""
    from test_archives import _zip

    form = write_workbook(tmp_path / "src.xlsx", [("自评表", seed_form())]).read_bytes()
    report_name = f"{FOLDER}/自评报告.{fmt}"
    package = _zip({f"{FOLDER}/自评表.xlsx": form, report_name: report_files[f"seed.{fmt}"].read_bytes()},
                   native={report_name: "gbk"})
    (tmp_path / "inbox").mkdir()
    (tmp_path / "inbox" / "社保中心.zip").write_bytes(package)
    result = process(tmp_path / "inbox")
    missing = _only(result, FORMS_MISSING)
    assert (missing.value, missing.expected) == ("1", "6")
    assert missing.source_file == f"社保中心.zip/{report_name}"
    assert REPORT_FIGURE_MISMATCH.code not in {f.rule for f in result.findings}
    low = _only(result, LOW_EXECUTION)
    assert "年终一次性支付" in result.reports.reasons_for(low.unit, low.project)[0]


def test_the_docx_and_its_pdf_together_give_each_finding_once(report_files, tmp_path):
    inbox = _package(tmp_path / "inbox", report_files["seed.docx"])
    shutil.copy(report_files["variant.pdf"], inbox / FOLDER / "自评报告.pdf")
    result = process(inbox)
    assert len(result.reports.by_unit[UNIT]) == 2
    _only(result, FORMS_MISSING)
    mismatch = _only(result, REPORT_FIGURE_MISMATCH)  # only the PDF says 3.50
    assert mismatch.message.startswith(f"自评报告 {FOLDER}/自评报告.pdf（第 1 页）")
    assert len(result.reports.reasons_for(UNIT, PROJECT)) == 2  # the same sentences from both, once


@pytest.mark.parametrize("fmt", ["docx", "pdf"])
def test_a_report_saying_3_50_raises_report_figure_mismatch_naming_both_figures(report_files, tmp_path, fmt):
    result = process(_package(tmp_path / "inbox", report_files[f"variant.{fmt}"]))
    mismatch = _only(result, REPORT_FIGURE_MISMATCH)
    where = {"docx": "第 7 段", "pdf": "第 1 页"}[fmt]
    assert mismatch.message == (
        f"自评报告 {FOLDER}/自评报告.{fmt}（{where}）写明该项目执行（支出、使用）数 3.50 万元，"
        f"自评表 {FOLDER}/自评表.xlsx 单元格 E6 的全年执行数为 3.07 万元，两者不符")
    assert (mismatch.severity, mismatch.cell, mismatch.value, mismatch.expected) == (WARNING, "E6", "3.50 万元",
                                                                                     "3.07 万元")
    assert (mismatch.unit, mismatch.project, mismatch.field) == (UNIT, PROJECT, "report:executed")
    form_row = result.forms.loc[mismatch.form_id]
    assert form_row["anomaly_count"] == 4  # LOW_EXECUTION, HIGH_SCORE_LOW_EXECUTION, REQUIRED_CATEGORY_EMPTY, this
    assert titled(mismatch.rule) == "报告与自评表数字不符（REPORT_FIGURE_MISMATCH）"


def test_the_anomaly_id_holds_when_the_report_is_renamed(report_files, tmp_path):
    first = process(_package(tmp_path / "a", report_files["variant.docx"], name="报告"))
    second = process(_package(tmp_path / "b", report_files["variant.docx"], name="2023年度绩效自评报告"))
    for rule in (REPORT_FIGURE_MISMATCH, FORMS_MISSING):
        assert _only(first, rule).anomaly_id == _only(second, rule).anomaly_id


# --- REPORT_MISSING --------------------------------------------------------------------------

def _education(inbox: Path, report: Path | None = None) -> None:
    """A second unit, 承德县教育局, in its folder: one form, and `report` if given."""
    (inbox / "教育局").mkdir()
    write_workbook(inbox / "教育局" / "营养餐.xlsx", [("自评表", clean_form(unit="承德县教育局", project="营养餐"))])
    if report is not None:
        shutil.copy(report, inbox / "教育局" / f"自评报告{report.suffix}")


def test_a_unit_with_forms_and_no_report_raises_report_missing(report_files, tmp_path):
    inbox = _package(tmp_path / "inbox", report_files["seed.docx"])
    _education(inbox)
    result = process(inbox)
    missing = _only(result, REPORT_MISSING)
    assert (missing.severity, missing.unit, missing.source_file) == (INFO, "承德县教育局", "教育局/营养餐.xlsx")
    assert missing.message == ("实施单位「承德县教育局」报送了 1 份自评表（「营养餐」），但其文件中没有自评报告"
                               "（.docx 或 .pdf）；请补报自评报告")


def test_an_inbox_without_any_report_read_raises_no_report_finding(tmp_path):
    """A bureau not collecting reports sees no REPORT_MISSING: the run is as before reports were read.
    So does one whose only report could not be read (the sample inbox's placeholder PDF)."""
    inbox = _package(tmp_path / "inbox", None)
    (inbox / "教育局").mkdir()
    (inbox / "教育局" / "自评报告.pdf").write_bytes(b"%PDF-1.4\n% not a report\n%%EOF\n")
    result = process(inbox)
    assert sorted(f.rule for f in result.findings) == ["HIGH_SCORE_LOW_EXECUTION", "LOW_EXECUTION",
                                                        "REQUIRED_CATEGORY_EMPTY"]
    assert [r.path for r in result.reports.reports] == ["教育局/自评报告.pdf"]
    assert result.reports.reasons_for(UNIT, PROJECT) == []


# --- reports that cannot be read ------------------------------------------------------------

def _encrypted_pdf(source: Path, user: str, owner: str) -> bytes:
    writer = PdfWriter(clone_from=PdfReader(source))
    writer.encrypt(user_password=user, owner_password=owner, algorithm="AES-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _encrypted_docx(source: Path) -> bytes:
    out = io.BytesIO()
    with source.open("rb") as fh:
        OOXMLFile(fh).encrypt("123456", out)
    return out.getvalue()


def _unreadable(report_files) -> dict[str, tuple[bytes, str]]:
    """{file name: (bytes, the reason listed)}."""
    docx = report_files["seed.docx"].read_bytes()
    return {
        "截断.docx": (docx[: len(docx) // 2], "文件已损坏或不完整（不是有效的 .docx 压缩包），请重新保存后报送"),
        "加密.docx": (_encrypted_docx(report_files["seed.docx"]),
                      "文件设置了打开密码，或是改了扩展名的旧版 .doc 文档；请取消密码并另存为 .docx 后报送"),
        "改名.docx": (b"%PDF-1.7 not a word file", "文件扩展名为 .docx，但内容不是 Word 文档；请重新保存后报送"),
        "加密.pdf": (_encrypted_pdf(report_files["seed.pdf"], "1234", "5678"),
                     "PDF 设置了打开密码（已加密），请取消密码后重新报送"),
        "扫描件.pdf": (report_files["scan.pdf"].read_bytes(),
                       "文件中没有可读取的文字（可能是扫描件或图片），请报送文字版的 .docx 或 .pdf"),
        "截断.pdf": (report_files["seed.pdf"].read_bytes()[:400], ""),  # reason checked below
        "空.pdf": (b"", "文件扩展名为 .pdf，但内容不是 PDF 文档；请重新导出后报送"),
    }


def test_each_unreadable_report_is_listed_with_why(report_files):
    for name, (data, why) in _unreadable(report_files).items():
        report = read_report(data, name)
        assert report.error, name
        if why:
            assert report.error == why, name
        else:
            assert report.error.startswith("文件已损坏或格式不受支持，无法读取（"), report.error
        assert report.projects == [] and report.declared is None


def test_a_docx_bomb_is_refused_before_python_docx_inflates_it(report_files):
    """A member declaring 20 MB at a ratio of ~1000:1 (limits.max_compression_ratio is 100)."""
    out = io.BytesIO(report_files["seed.docx"].read_bytes())
    with zipfile.ZipFile(out, "a", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("word/media/image1.bin", b"\0" * (20 * 1024 * 1024))
    report = read_report(out.getvalue(), "炸弹.docx")
    # The message a workbook's bomb gets (safety.check_declared): the same limits, the same words.
    assert report.error == "压缩包内 word/media/image1.bin 压缩比 1029:1，超过上限 100:1（疑似压缩炸弹），拒绝读取"


def test_the_scan_is_an_image_and_no_text(report_files):
    """The scanned fixture is what a scan is: a page with an image and no text layer."""
    page = PdfReader(report_files["scan.pdf"]).pages[0]
    assert list(page.images) and page.extract_text().strip() == ""


def test_a_pdf_only_restricting_copying_is_read(report_files):
    """Owner password only (printing/copying restricted, no password to open): it opens and reads."""
    report = read_report(_encrypted_pdf(report_files["seed.pdf"], "", "5678"), "受限.pdf")
    assert report.error == "" and report.declared == 6


def test_unreadable_reports_in_the_inbox_are_listed_never_a_crash(report_files, tmp_path):
    """Another unit's report was read, so the bureau collects them: a unit whose reports are all
    unreadable gets REPORT_MISSING saying why."""
    inbox = _package(tmp_path / "inbox", None)
    for name, (data, _why) in _unreadable(report_files).items():
        (inbox / FOLDER / name).write_bytes(data)
    _education(inbox, report_files["seed.docx"])
    result = process(inbox)
    listed = {f.path: f.message for f in result.files if f.path.startswith(FOLDER) and f.path.endswith(("x", "f"))
              and not f.path.endswith(".xlsx")}
    assert len(listed) == 7
    for path, message in listed.items():
        assert message.startswith("自评报告，无法读取："), path
    missing = _only(result, REPORT_MISSING)  # the unit's reports are all unreadable
    assert missing.message.startswith(f"实施单位「{UNIT}」的自评报告 {FOLDER}/")
    assert "无法读取：" in missing.message
    assert [f.unit for f in result.findings if f.rule == FORMS_MISSING.code] == ["承德县教育局"]  # its report, read


def test_lock_files_and_hidden_files_are_no_reports():
    """What read_reports reads: a report as discover lists it, less lock files and hidden copies."""
    def readable(name: str) -> bool:
        return kind_of(name) == REPORT and not lock_or_hidden(name)

    assert [readable(n) for n in ("a/报告.docx", "报告.PDF", "a/~$报告.docx", ".x/报告.pdf", "a/.报告.docx",
                                  "报告.doc", "__MACOSX/报告.pdf")] == [True, True, False, False, False, False, False]


@pytest.mark.parametrize(("name", "message"), [
    ("报告.doc", "Word 97-2003 文档（.doc）无法读取：自评表请另存为 .xlsx，自评报告请另存为 .docx 后报送"),
    ("报告.WPS", "WPS 文字文档（.wps）无法读取：自评表请另存为 .xlsx，自评报告请另存为 .docx 后报送"),
    ("自评表.et", "WPS 表格文件（.et）无法读取：自评表请另存为 .xlsx，自评报告请另存为 .docx 后报送"),
    ("自评表.xlsx", ""),
    ("报告.docx", "自评报告（.docx），已登记"),
])
def test_legacy_formats_get_a_message_asking_for_docx_or_xlsx(name, message):
    """The message a run lists for each (discover.ignore_reason), not a second copy of it."""
    assert ignore_reason(name) == message


# --- phrasings, each from a real report ---------------------------------------------------------

def _read(*paragraphs: str, tables=()) -> Report:
    path = io.BytesIO()
    doc = Document()
    for text in paragraphs:
        doc.add_paragraph(text)
    for rows in tables:
        table = doc.add_table(rows=len(rows), cols=len(rows[0]))
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                table.cell(r, c).text = value
    doc.save(path)
    return read_report(path.getvalue(), "报告.docx")


HH = "红河州数据发展中心2024年度项目支出绩效单位自评报告 (https://www.hh.gov.cn/info/11481/1179592.htm)"
ZX = "2019年度专项资金绩效自评报告 (http://news.henyumen8.com/bzwd/202507/265379.html)"
TL = "铁路沿线环境治理经费项目支出绩效自评报告 (https://dyrmt.com/article-150275-17.html)"
WT = "池州市贵池区棠溪镇 委托业务项目 (http://www.anthempetcare.com/upload_cz/download?id=502364&siteId=2)"
GZ = "财政支出项目事前绩效评估报告 (http://meiwen.anslib.com/fanwenku/414091.html)"
SEED = "docs/seed/ (the seed's 自评报告)"

# (sentence, declared count, source)
PHRASINGS = [
    ("2023 年度我单位共设预算项目 6 个，其中：机关退休人员预算项目 2 个，社保专项经费 3 个。", 6, SEED),
    ("2024年，红河州数据发展中心实施项目共15个（含2023年转列暂付性款项项目5个）。", 15, HH),
    ("2019年，我单位共涉及五项专项资金，涵盖教育、医疗、基础设施建设、乡村振兴及环境保护等领域。", 5, ZX),
    ("2023 年度我单位共设预算项目六个。", 6, SEED + ", its figure in Chinese numerals"),
    ("本单位共有项目6个。", 6, "issue 15's list (no public report found saying it so)"),
    ("本年度涉及项目十二个。", 12, "issue 15's list (no public report found saying it so)"),
    ("续建及新开工建设项目共21个，完工项目16个。", None,
     "项目支出绩效自评报告(通用33篇) (https://www.az9.cn/gongzuofanwen/gongzuobaogao/xmzcjxzpbgty33p_11.html): "
     "construction works, not budget projects"),
]


@pytest.mark.parametrize(("sentence", "count", "source"), PHRASINGS, ids=[p[0][:14] for p in PHRASINGS])
def test_declared_project_counts(sentence, count, source):
    assert _read(sentence).declared == count, source


# (heading naming the project, sentence, [(kind, value in 万元 or fraction)], source)
FIGURES = [
    ("二、失业动态监测，社会化管理服务费项目目标实现情况",
     "社保专项经费预算项目指标为 5.4 万元，实际到位 3.07 万元，实际使用 3.07 万元，预算执行进度 56.85%。",
     [("budget", 5.4), ("executed", 3.07), ("rate", 0.5685)], SEED),
    ("（铁路沿线环境治理经费项目）", "该项目2020年预算数为15.00 万元，决算数为5.00万元。",
     [("budget", 15.0), ("executed", 5.0)], TL),
    ("项目名称：委托业务项目", "本项目共申请预算资金90万元。本项目共完成预算资金89.97万元。",
     [("budget", 90.0), ("executed", 89.97)], WT),
    ("一、环境整治经费项目基本情况", "项目预算资金54,000元，实际支出30,700.00元，执行率56.85%。",
     [("budget", 5.4), ("executed", 3.07), ("rate", 0.5685)], "constructed: amounts in 元, converted"),
    ("一、环境整治经费项目基本情况", "年初预算数6万元，全年预算数5.4万元，全年执行数3.07万元。",
     [("budget", 5.4), ("executed", 3.07)], "constructed: 年初预算 is not the budget compared"),
]


@pytest.mark.parametrize(("heading", "sentence", "figures", "source"), FIGURES, ids=[f[3][:10] for f in FIGURES])
def test_project_figures(heading, sentence, figures, source):
    report = _read(heading, sentence)
    assert len(report.projects) == 1, source
    assert [(f.kind, round(f.value, 6)) for f in report.projects[0].figures] == figures, source


def test_a_table_of_projects():
    """项目名称 | 预算金额(万元) | 实际支出(万元) | 资金使用率, as in the 2019 专项资金 report (ZX)."""
    rows = [["项目名称", "预算金额(万元)", "实际支出(万元)", "资金使用率", "项目完成率"],
            ["教育专项", "850", "830", "97.6%", "100%"], ["医疗保障专项", "620", "600", "96.8%", "95%"]]
    report = _read("2019年度专项资金绩效自评报告", tables=[rows])
    stated = {p.name: [(f.kind, round(f.value, 6)) for f in p.figures] for p in report.projects}
    assert stated == {"教育专项": [("budget", 850.0), ("executed", 830.0), ("rate", 0.976)],
                      "医疗保障专项": [("budget", 620.0), ("executed", 600.0), ("rate", 0.968)]}
    assert [{f.where for f in p.figures} for p in report.projects] == [{"表 1 第 2 行"}, {"表 1 第 3 行"}]


@pytest.mark.parametrize(("fmt", "where"), [("docx", "表 1"), ("pdf", "第 1 页表 1")])
def test_a_ruled_table_in_a_word_report_and_in_its_pdf(report_files, fmt, where):
    """The PDF's table is read from pypdf's layout text: a row per line, the cells apart, a name
    wrapped in its cell joined back."""
    report = read_report(report_files[f"table.{fmt}"], f"报告.{fmt}")
    stated = {p.name: [(f.kind, round(f.value, 6), f.where) for f in p.figures] for p in report.projects}
    assert stated == {
        PROJECT: [(kind, value, f"{where} 第 2 行") for kind, value in
                  (("budget", 5.4), ("executed", 3.07), ("rate", 0.5685))],
        "机关退休人员活动经费": [(kind, value, f"{where} 第 3 行") for kind, value in
                       (("budget", 12.5), ("executed", 12.5), ("rate", 1.0))]}


def test_a_tables_reason_column_is_no_reason_sentence():
    rows = [["项目名称", "预算数（万元）", "执行数（万元）", "未执行原因"],
            ["教育专项", "850", "830", "资金拨付周期较长"]]
    report = _read("一、基本情况", tables=[rows])
    assert report.reasons == [] and report.projects[0].reasons == []


def test_amounts_without_a_unit_are_not_amounts():
    report = _read("一、环境整治经费项目基本情况", "项目预算资金为 5.4，实际支出 3.07。")
    assert report.projects[0].figures == []


# (paragraphs, unit, where, source)
UNITS = [
    (["红河州数据发展中心2024年度项目支出绩效单位自评报告", "一、基本情况"], "红河州数据发展中心", "标题", HH),
    (["承德县教育局关于2023年度项目支出绩效自评的报告", "承德县财政局："], "承德县教育局", "标题",
     "constructed: a title 「XX关于……的报告」"),
    (["项目单位：甘孜州商务和经济合作局", "项目属性：新增"], "甘孜州商务和经济合作局", "「实施单位」等栏目", GZ),
    (["实施单位（盖章）：青神县发展和改革局"], "青神县发展和改革局", "「实施单位」等栏目",
     "部门预算项目支出绩效自评表 (https://www.scqs.gov.cn/info/13206/211004.htm)"),
    ([text for _style, text in seed_report()[1:]], "承德县社保保险事业服务中心", "落款", SEED + " without its title"),
]


@pytest.mark.parametrize(("paragraphs", "unit", "where", "source"), UNITS, ids=[u[1] for u in UNITS])
def test_the_unit_a_report_names(paragraphs, unit, where, source):
    report = _read(*paragraphs)
    assert (report.unit, report.unit_from) == (unit, where), source


def test_reasons_outside_a_project_are_the_units():
    report = _read("一、基本情况", "由于项目招标延期，资金未能在年内支付。", "全年工作顺利完成。")
    assert report.reasons == ["由于项目招标延期，资金未能在年内支付。"] and report.projects == []


# --- matching ---------------------------------------------------------------------------------

FORMS = pd.DataFrame({"unit": [UNIT, "承德县教育局", "承德县教育局"],
                      "source_file": ["社保/表.xlsx", "表1.xlsx", "共享/表2.xlsx"]})


@pytest.mark.parametrize(("path", "named", "unit", "how"), [
    ("社保/说明.docx", "", UNIT, "同一文件夹 社保"),
    ("社保/附件/说明.docx", "", UNIT, "同一文件夹 社保"),
    ("社保.zip/报告.docx", "", "", ""),  # the archive holds no form: no folder decides, no name, no text
    ("承德县社会保险事业服务中心自评报告.pdf", "", UNIT, "文件名"),
    ("社会保险事业服务中心 自评报告.pdf", "", UNIT, "文件名"),  # the county's prefix dropped
    ("报告.docx", "承德县教育局", "承德县教育局", "报告所署单位"),
    ("报告.docx", "教育局", "承德县教育局", "报告所署单位"),  # the county's prefix dropped on both sides
    ("报告.docx", "教育", "", ""),  # too short to contain or be contained
    ("报告.docx", "承德县社保保险事业服务中心", "", ""),  # a near miss is not matched
])
def test_match_reports(path, named, unit, how):
    reports = match_reports([Report(path=path, unit=named)], FORMS, county="承德县")  # [season] county
    assert (reports.unit_of(reports.reports[0]), reports.matched_by.get(path, "")) == (unit, how)
    assert reports.unmatched == ([] if unit else reports.reports)


def test_a_folder_of_several_units_decides_nothing():
    forms = pd.DataFrame({"unit": ["甲单位", "乙单位"], "source_file": ["共享/a.xlsx", "共享/b.xlsx"]})
    reports = match_reports([Report(path="共享/报告.docx", unit="乙单位")], forms)
    assert reports.matched_by == {"共享/报告.docx": "报告所署单位"}


def test_a_rejected_form_is_not_one_of_the_forms_received(report_files, tmp_path):
    """FORMS_MISSING counts the forms accepted: a form refused (here MISSING_FIELD) is still to be sent."""
    inbox = _package(tmp_path / "inbox", report_files["seed.docx"])
    write_workbook(inbox / FOLDER / "第二个项目.xlsx", [("自评表", clean_form(project=""))])
    result = process(inbox)
    assert "MISSING_FIELD" in {f.rule for f in result.findings}
    assert _only(result, FORMS_MISSING).value == "1"


def test_reports_are_read_while_worker_processes_read_the_forms(report_files, tmp_path):
    """With a process pool the reports are read in this process meanwhile: the same findings as serial."""
    from xlbatch.ops.execute import local_processes

    inbox = _package(tmp_path / "inbox", report_files["variant.docx"])
    _education(inbox)
    serial_result, pooled = process(inbox), process(inbox, executor=local_processes(2))
    assert sorted((f.rule, f.unit, f.message) for f in pooled.findings) == \
        sorted((f.rule, f.unit, f.message) for f in serial_result.findings)
    assert {f.rule for f in pooled.findings} >= {FORMS_MISSING.code, REPORT_FIGURE_MISMATCH.code, REPORT_MISSING.code}


def test_the_reasons_are_shown_beside_low_execution_and_on_the_unit_sheet(report_files, tmp_path):
    """SPEC section 6: the report explains the 56.85% the form's 偏差原因 cells leave empty; the auditor
    reads it in 异常清单's LOW_EXECUTION row and on the unit's sheet under its goals."""
    import openpyxl

    from xlbatch import run

    run(_package(tmp_path / "inbox", report_files["seed.docx"]), tmp_path / "outbox")
    book = openpyxl.load_workbook(tmp_path / "outbox" / "consolidated.xlsx")
    rows = [[c.value for c in r] for r in book["异常清单"].iter_rows()]
    top = next(i for i, r in enumerate(rows) if r[0] == "编号")
    head = rows[top]
    by_rule = {r[head.index("规则")]: r[head.index("自评报告所述原因")] for r in rows[top + 1:]}
    assert "年终一次性支付" in by_rule[LOW_EXECUTION.code] and "财政资金问题" in by_rule[LOW_EXECUTION.code]
    assert not by_rule[FORMS_MISSING.code]  # shown only beside what a reason explains
    unit = book[next(n for n in book.sheetnames if UNIT[:10] in n)]
    cells = {c.value: c for r in unit.iter_rows() for c in r if isinstance(c.value, str)}
    label = cells["自评报告所述原因"]
    beside = unit.cell(label.row, label.column + 1).value
    assert "年终一次性支付" in beside


def test_another_countys_unit_of_the_same_name_is_not_matched():
    """Names are compared as the roster compares them (roster.unit_key): only the season's county (or a
    leading 县) is dropped, so 滦平县教育局's report is not 丰宁满族自治县教育局's."""
    forms = pd.DataFrame({"unit": ["丰宁满族自治县教育局"], "source_file": ["丰宁/自评表.xlsx"]})
    assert match_reports([Report(path="共享/报告.docx", unit="滦平县教育局")], forms).by_unit == {}
    ours = match_reports([Report(path="共享/报告.docx", unit="教育局")], forms, county="丰宁满族自治县")
    assert list(ours.by_unit) == ["丰宁满族自治县教育局"]
