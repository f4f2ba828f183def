"""The county workbook as its readers see it: in Chinese on screen, and on paper (SPEC sections 4 and 7).

On screen: no rule code without its Chinese title beside it, no English configuration key, anywhere in
the workbook (every cell of every sheet, comments and chart titles included; read with openpyxl).

On paper (LibreOffice as the real client, pdftotext reading its PDF back):
- the title, the units and the 全县合计 totals are on the 汇总 pages;
- type stays at 9 pt or more on the printed tables. Measured: a run of Chinese characters is set one em
  per character, so a word of n ideographs that pdftotext reports w pt wide is set in w / n pt
  (checked against cells written at 8, 9 and 11 pt: 7.99, 9.01, 11.0);
- no text over text: two text lines of a page that share some width may not share more than a fifth
  of the smaller one's height (lines of adjacent rows touch at most; the rows 运行说明 used to print
  without making them taller overlapped by more than half a line);
- 运行说明 and the empty 变更记录/已关闭 print no page, and stay visible on screen.
"""

from __future__ import annotations

import re
import subprocess
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import openpyxl
import pytest
from sample_inbox import relief, write_sample_inbox

from xlbatch.catalogue import RULES
from xlbatch.config import TIERS, Config
from xlbatch.nightly import run
from xlbatch.outputs.template import write_workbook

pytest_plugins = ["lo"]  # fixtures libreoffice, pdftotext

CFG = Config.model_validate({"season": {"county": "示例县"}, "labels": {"header": {"project": ["工程名称"]}}})
PRINTED_TABLES = ("重点关注", "汇总", "异常清单", "未受理文件")
SCREEN_ONLY = ("运行说明", "变更记录", "已关闭")


def _config_keys() -> set[str]:
    keys = set(Config.model_fields) | set(TIERS)
    for info in Config.model_fields.values():
        keys |= set(getattr(info.annotation, "model_fields", {}))
    return keys


def _texts(book) -> list[tuple[str, str, str, list[str]]]:
    """(sheet, where, text, the texts beside it) for every cell, comment and chart title."""
    out = []
    for ws in book:
        for row in ws.iter_rows():
            for cell in row:
                if cell.value is not None:
                    beside = [str(ws.cell(cell.row, c).value or "") for c in (cell.column - 1, cell.column + 1)
                              if c >= 1]
                    out.append((ws.title, cell.coordinate, str(cell.value), beside))
                if cell.comment is not None:
                    out.append((ws.title, f"{cell.coordinate} comment", cell.comment.text, []))
        for i, chart in enumerate(ws._charts):
            for what, title in (("title", chart.title), ("x", chart.x_axis.title), ("y", chart.y_axis.title)):
                text = _rich(title)
                assert text and re.search(r"[\u4e00-\u9fff]", text), f"{ws.title} chart {i}: {what} {text!r}"
                out.append((ws.title, f"chart {i} {what}", text, []))
    return out


def _rich(title) -> str:
    if title is None or title.tx is None or title.tx.rich is None:
        return ""
    return "".join(r.t for p in title.tx.rich.p for r in (p.r or []))


@pytest.fixture(scope="module")
def reviewed_twice(tmp_path_factory) -> Path:
    """The sample inbox run twice: between the runs an auditor reviews the relief form's finding and the
    unit corrects its amounts, so 变更记录 and 已关闭 have rows too."""
    base = tmp_path_factory.mktemp("chinese")
    inbox, outbox = base / "inbox", base / "outbox"
    write_sample_inbox(inbox)
    run(inbox, outbox, CFG)
    book = openpyxl.load_workbook(outbox / "consolidated.xlsx")
    row = next(r for r in book["异常清单"].iter_rows(min_row=4) if r[2].value == "AMOUNT_SCALE_SUSPECT")
    row[13].value, row[14].value = "已核实", "单位确认按元填报"
    book.save(outbox / "consolidated.xlsx")
    spec = relief()
    spec.funds = {"年度资金总额": (235, 235, 229.8), "当年财政拨款": (235, 235, 229.8)}
    write_workbook(inbox / "示例县社会救助服务中心" / "困难群众救助补助资金自评.xlsx", [("自评表", spec)])
    run(inbox, outbox, CFG)
    return outbox / "consolidated.xlsx"


def test_no_rule_code_without_its_title_and_no_english_setting_in_the_workbook(reviewed_twice):
    book = openpyxl.load_workbook(reviewed_twice)
    assert book["已关闭"].max_row > 1 and book["变更记录"].max_row > 5  # both sheets were written, not empty
    codes = {code: re.compile(rf"(?<![A-Z_]){code}(?![A-Z_])") for code in RULES}
    keys = {key: re.compile(rf"(?<![A-Za-z_]){key}(?![A-Za-z_])") for key in _config_keys()}
    bare, english = [], []
    texts = _texts(book)
    for sheet, where, text, beside in texts:
        for code, pattern in codes.items():
            title = RULES[code].title
            if pattern.search(text) and title not in text and title not in beside:
                bare.append(f"{sheet}!{where}: {text[:80]}")
        english += [f"{sheet}!{where}: {key} in {text[:80]}" for key, p in keys.items() if p.search(text)]
        if re.fullmatch(r"[a-z_]+", text):  # a lone English word such as a table headed "y"
            english.append(f"{sheet}!{where}: {text}")
    assert not bare, "rule codes without their Chinese title:\n" + "\n".join(bare)
    assert not english, "English where Chinese is read:\n" + "\n".join(english)
    seen = {code for code, p in codes.items() if any(p.search(t) for _, _, t, _ in texts)}
    assert {"RATE_MISMATCH", "MISSING_FIELD", "AMOUNT_SCALE_SUSPECT", "FILE_UNREADABLE"} <= seen  # looked at


def test_configuration_reads_in_chinese(reviewed_twice):
    info = {r[0]: r[1] for r in openpyxl.load_workbook(reviewed_twice)["运行说明"].iter_rows(values_only=True)
            if r[0]}
    assert info["定性指标三档的得分上限（占分值的比例）"] == "达到：1；部分达到：0.8；未达到：0.6"
    assert info["等级下限，从高到低；低于最低下限为「差」"] == "优：90；良：80；中：60"
    assert info["本地模板中栏目标签的其他写法"] == "项目名称：工程名称"
    assert info["县（区）名称，印在汇总表、汇总报告和整改通知的标题中；空则不写"] == "示例县"


# --- on paper ------------------------------------------------------------------------------

_NS = "{http://www.w3.org/1999/xhtml}"
_IDEOGRAPHS = re.compile(r"[\u4e00-\u9fff]{2,}")


@dataclass
class Line:
    text: str
    box: tuple[float, float, float, float]  # xMin, yMin, xMax, yMax in pt
    words: list[tuple[str, float, float, float, float]]  # (text, xMin, yMin, xMax, yMax)


@dataclass
class Page:
    sheet: str  # from the footer: &A prints the sheet's name at the bottom left
    lines: list[Line]

    @property
    def text(self) -> str:
        return "\n".join(line.text for line in self.lines)


@pytest.fixture(scope="module")
def sample_workbook(tmp_path_factory) -> Path:
    base = tmp_path_factory.mktemp("print")
    write_sample_inbox(base / "inbox")
    run(base / "inbox", base / "outbox", CFG)
    return base / "outbox" / "consolidated.xlsx"


@pytest.fixture(scope="module")
def pages(libreoffice, pdftotext, sample_workbook) -> list[Page]:
    """The sample inbox's workbook, printed to PDF by LibreOffice, read back page by page."""
    return _printed(libreoffice, pdftotext, sample_workbook)


def _printed(libreoffice, pdftotext, workbook: Path) -> list[Page]:
    (pdf,) = libreoffice.convert([workbook], "pdf", workbook.parent / "pdf")
    xml = subprocess.run([pdftotext, "-bbox-layout", str(pdf), "-"], capture_output=True, timeout=60,
                         check=True).stdout
    out = []
    for page in ET.fromstring(xml).iter(f"{_NS}page"):
        height = float(page.get("height"))
        lines = []
        for line in page.iter(f"{_NS}line"):
            words = [(w.text or "", *(float(w.get(k)) for k in ("xMin", "yMin", "xMax", "yMax")))
                     for w in line.iter(f"{_NS}word")]
            box = tuple(float(line.get(k)) for k in ("xMin", "yMin", "xMax", "yMax"))
            lines.append(Line(" ".join(w[0] for w in words), box, words))
        footer = [ln.text for ln in lines if ln.box[1] > height - 50 and ln.box[0] < 100]
        out.append(Page(footer[0] if footer else "", lines))
    return out


def _sheet_pages(pages: list[Page], sheet: str) -> list[Page]:
    found = [p for p in pages if p.sheet == sheet]
    assert found, f"no page of {sheet} (pages: {[p.sheet for p in pages]})"
    return found


def test_summary_pages_carry_the_title_the_units_and_the_county_totals(pages):
    text = "\n".join(p.text for p in _sheet_pages(pages, "汇总"))
    assert "示例县2024年度项目支出绩效自评汇总表" in text
    assert "编制单位：示例县财政局" in text and "单位：万元" in text
    for unit in ("示例县农业技术推广中心", "示例县疾病预防控制中心", "示例县社会救助服务中心", "示例县第一中学"):
        assert unit in text, unit
    page = _sheet_pages(pages, "汇总")[0]
    label = next(w for line in page.lines for w in line.words if w[0] == "全县合计")
    middle = (label[2] + label[4]) / 2  # the words of its row: across the middle of the label's height
    row = sorted((w for line in page.lines for w in line.words if w[2] < middle < w[4]), key=lambda w: w[1])
    figures = [w[0] for w in row if re.fullmatch(r"[\d,]+\.\d+%?", w[0])]
    # 年初预算数, 全年预算数, 全年执行数, 执行率, 自评总分 and 复算总分 (averages)
    assert figures == ["1,270.00", "1,270.00", "1,017.60", "80.13%", "98.93", "96.19"], figures
    assert "标注原因" in text and "自评分虚高 5.20 分，总分标红" in text  # why the red, on paper


def test_printed_tables_keep_9_pt_type(pages):
    for sheet in PRINTED_TABLES:
        sizes = [(x_max - x_min) / len(word) for p in _sheet_pages(pages, sheet) for line in p.lines
                 for word, x_min, _, x_max, _ in line.words if _IDEOGRAPHS.fullmatch(word)]
        assert sizes and min(sizes) >= 9.0 - 0.05, (sheet, min(sizes))


UNIT_SHEETS = ("示例县农业技术推广中心", "示例县疾病预防控制中心", "示例县社会救助服务中心", "示例县第一中学")


def test_unit_sheets_print_at_9_pt_with_no_text_over_other_text(pages):
    """A unit sheet holds several tables and no one header row: planned like the others all the same."""
    for sheet in UNIT_SHEETS:
        sizes = [(x_max - x_min) / len(word) for p in _sheet_pages(pages, sheet) for line in p.lines
                 for word, x_min, _, x_max, _ in line.words if _IDEOGRAPHS.fullmatch(word)]
        assert sizes and min(sizes) >= 9.0 - 0.05, (sheet, min(sizes))
    _assert_no_overlap(pages, UNIT_SHEETS)


def _assert_no_overlap(pages: list[Page], sheets) -> None:
    for sheet in sheets:
        for page in _sheet_pages(pages, sheet):
            lines = page.lines
            for i, a in enumerate(lines):
                for b in lines[i + 1:]:
                    wide = min(a.box[2], b.box[2]) - max(a.box[0], b.box[0])
                    high = min(a.box[3], b.box[3]) - max(a.box[1], b.box[1])
                    smaller = min(a.box[3] - a.box[1], b.box[3] - b.box[1])
                    assert not (wide > 0.5 and high > smaller / 5), f"{sheet}: {a.text!r} over {b.text!r}"


def test_no_text_prints_over_other_text(pages):
    _assert_no_overlap(pages, (*PRINTED_TABLES, "图表"))


def test_run_info_rows_fit_their_wrapped_text(libreoffice, pdftotext, sample_workbook, tmp_path):
    """运行说明 prints nothing, but its rows are as tall as on paper: printed after all (its print area set
    to what it holds, as a reader would), no line of it runs over another."""
    book = openpyxl.load_workbook(sample_workbook)
    for name in book.sheetnames:
        if name != "运行说明":
            del book[name]
    ws = book["运行说明"]
    ws.print_area = f"A1:D{ws.max_row}"
    book.save(tmp_path / "运行说明.xlsx")
    pages = _printed(libreoffice, pdftotext, tmp_path / "运行说明.xlsx")
    assert len(pages) >= 2 and "SELF_SCORE_INFLATED" in "\n".join(p.text for p in pages)
    _assert_no_overlap(pages, ("运行说明",))


def test_screen_sheets_print_no_page_and_stay_visible(pages, reviewed_twice):
    printed = {p.sheet for p in pages}
    assert set(PRINTED_TABLES) <= printed
    assert not printed & set(SCREEN_ONLY), printed  # the sample's first run: 变更记录 and 已关闭 are empty
    book = openpyxl.load_workbook(reviewed_twice)
    assert all(book[name].sheet_state == "visible" for name in SCREEN_ONLY)
