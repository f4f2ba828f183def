"""Read a unit's 自评报告 (.docx, .pdf) for what it states, and match it to its unit (SPEC section 6).

`read_report` turns a report into its text — paragraphs and table rows in document order
(python-docx), or the lines of each page joined back into paragraphs (pypdf) — and extracts:

- the unit it is from: a 「实施单位：」/「单位名称：」 line, else the title (「XXX 2023年度项目支出绩效
  自评报告」), else a name on its own among the first lines, else the signature (落款);
- the number of projects it declares (共设预算项目 6 个, 实施项目共15个, 共涉及五项专项资金);
- each project it names (a numbered heading 「二、XXX项目目标实现情况」, a 「（XXX项目）」 line, a
  「项目名称：」 line, or a row of a table with a 项目名称 column) with the budget, executed amount
  and execution rate stated under it, and the sentences that give reasons (原因, 由于, 主要是 …).

Amounts count only with their unit written beside them: 万元 (or 万) as they are, 元 divided by
10,000, 亿元 multiplied by 10,000; a bare number is no amount. A figure is told by the nearest
keyword before it in its clause (预算 → budget, 执行/支出/使用 → executed, 执行率/执行进度 → rate;
the keyword ending last wins, the longer on a tie, so 预算执行率 is a rate and 完成预算资金 an
executed amount). Counts may be in Chinese numerals (六个).

A report that cannot be read (corrupt, encrypted, a scan without text, over the size limits)
comes back with `error` saying why: never an exception. `match_reports` then assigns each report
to a unit of the forms received; `ReportSet.reasons_for` hands the reason sentences to whatever
shows a project's findings.
"""

from __future__ import annotations

import difflib
import io
import logging
import re
import unicodedata
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from ..config import LimitSettings
from ..models import REJECTED, Figure, Report, ReportProject
from .discover import REPORT, InboxFile, file_bytes, lock_or_hidden
from .read import OLE_MAGIC, ZIP_MAGIC, read_file
from .roster import unit_key
from .safety import MB, ReadError, check_declared

if TYPE_CHECKING:
    import pandas as pd

MAX_PDF_PAGES = 200  # a self-evaluation report has a few pages; a longer PDF is read up to here


# --- text ------------------------------------------------------------------------------------

@dataclass
class _Block:
    """A paragraph, a heading or a table row, with where it is in the report."""

    text: str
    where: str
    heading: bool = False
    table: bool = False  # a table's row: its figures are read by column (`_table_projects`), not as prose


@dataclass
class _Table:
    rows: list[list[str]]
    where: str  # "表 2"


class _Unreadable(Exception):
    """The report cannot be read; the message says why, in words for the unit."""


def fold(text: str) -> str:
    """Text for matching: NFKC (full-width digits and punctuation folded), no whitespace but one space
    between two numbers (a table row's "5.4 3.07" must not read as 5.43.07)."""
    text = re.sub(r"(?<=[\d.%])\s+(?=\d)", "\0", unicodedata.normalize("NFKC", text))
    return re.sub(r"\s+", "", text).replace("\0", " ")


def _join(left: str, right: str) -> str:
    """Two pieces of one paragraph broken by a line end: a space only between Latin letters or digits."""
    if left and right and left[-1].isascii() and left[-1].isalnum() and right[0].isascii() and right[0].isalnum():
        return f"{left} {right}"
    return left + right


def _check_archive(data: bytes, limits: LimitSettings) -> None:
    """A .docx is a zip: refuse it on the sizes its directory declares before python-docx inflates it,
    by the limits a workbook is held to (`safety.check_declared`: total, per member, ratio)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
    except zipfile.BadZipFile as exc:
        raise _Unreadable("文件已损坏或不完整（不是有效的 .docx 压缩包），请重新保存后报送") from exc
    check_declared(members, limits)  # a ReadError: read_report lists its message


def _docx_text(data: bytes, limits: LimitSettings) -> tuple[list[_Block], list[_Table]]:
    """Paragraphs and table rows in document order; headings by style (标题) or by their numbering."""
    from docx import Document
    from docx.table import Table

    if data.startswith(OLE_MAGIC):
        raise _Unreadable("文件设置了打开密码，或是改了扩展名的旧版 .doc 文档；请取消密码并另存为 .docx 后报送")
    if not data.startswith(ZIP_MAGIC):
        raise _Unreadable("文件扩展名为 .docx，但内容不是 Word 文档；请重新保存后报送")
    _check_archive(data, limits)
    blocks, tables, paragraphs = [], [], 0
    document = Document(io.BytesIO(data))
    styles: dict[str, str] = {}  # style id → name: Word in Chinese gives its heading styles number ids
    for item in document.iter_inner_content():
        if isinstance(item, Table):
            table = _Table([[cell.text.strip() for cell in row.cells] for row in item.rows], f"表 {len(tables) + 1}")
            tables.append(table)
            blocks += [_Block(" | ".join(_distinct(row)), f"{table.where} 第 {r} 行", table=True)
                       for r, row in enumerate(table.rows, 1) if any(row)]
            continue
        text = item.text.strip()
        if text:
            paragraphs += 1
            style = _style_name(document, item._p.style, styles)
            heading = style.startswith(("heading", "title")) or _is_heading(text)
            blocks.append(_Block(text, f"第 {paragraphs} 段", heading))
    return blocks, tables


def _style_name(document, style_id: str | None, names: dict[str, str]) -> str:
    """A paragraph style's name, looked up once per id. Paragraph.style looks the document's default
    style up again on every call (measured: two thirds of the time of reading a report)."""
    if not style_id:
        return ""
    if style_id not in names:
        element = document.styles.element.get_by_id(style_id)
        names[style_id] = (element.name_val or "").lower() if element is not None else ""
    return names[style_id]


def _distinct(cells: list[str]) -> list[str]:
    """A row's cells with a merged cell's repeats (python-docx returns it once per grid column) dropped."""
    out: list[str] = []
    for cell in cells:
        if cell and (not out or out[-1] != cell):
            out.append(cell)
    return out


def _pdf_text(data: bytes) -> tuple[list[_Block], list[_Table]]:
    """The pages' lines joined back into paragraphs: a line ends one where it ends a sentence (。：！？),
    and a heading or a title line is a block of its own. Tables: see `_pdf_tables`."""
    from pypdf import PdfReader
    from pypdf.errors import FileNotDecryptedError

    # pypdf logs what it repairs in a damaged file; what matters to the unit is in report.error.
    logging.getLogger("pypdf").setLevel(logging.ERROR)
    reader = PdfReader(io.BytesIO(data))
    if reader.is_encrypted and not reader.decrypt(""):  # a PDF only restricting copying opens with ""
        raise _Unreadable("PDF 设置了打开密码（已加密），请取消密码后重新报送")
    blocks: list[_Block] = []
    tables: list[_Table] = []
    ended = True
    try:
        for number, page in enumerate(reader.pages[:MAX_PDF_PAGES], 1):
            text = page.extract_text() or ""
            for line in text.splitlines():
                ended = _add_line(blocks, line.strip(), f"第 {number} 页", ended)
            if _TABLE_HINT.search(text):
                tables += _pdf_tables(page.extract_text(extraction_mode="layout"), number, len(tables))
    except FileNotDecryptedError as exc:
        raise _Unreadable("PDF 设置了打开密码（已加密），请取消密码后重新报送") from exc
    return blocks, tables


_TABLE_HINT = re.compile(r"项目(?:名称)?\s+\S*(?:预算|执行|支出)")  # a header line with a project column


def _pdf_tables(layout: str, page: int, before: int) -> list[_Table]:
    """Tables of a page in pypdf's layout mode, where a row is one line and its cells are apart by two
    or more spaces: a header row `_table_columns` accepts (short cells), then rows of as many cells; a
    line of one cell without a figure continues the name of the row above (a name wrapped in its cell)."""
    tables: list[_Table] = []
    current: _Table | None = None
    for line in layout.splitlines():
        cells = re.split(r"\s{2,}", line.strip())
        if len(cells) >= 3 and all(len(c) <= 16 for c in cells) and _table_columns(cells) is not None:
            current = _Table([cells], f"第 {page} 页表 {before + len(tables) + 1}")
            tables.append(current)
        elif current is not None and len(cells) == len(current.rows[0]):
            current.rows.append(cells)
        elif current is not None and len(cells) == 1 and len(current.rows) > 1 and not _FIGURE.search(cells[0]):
            current.rows[-1][0] += cells[0]
        else:
            current = None
    return tables


def _add_line(blocks: list[_Block], line: str, where: str, ended: bool) -> bool:
    """Add one PDF line to the blocks; whether it ends its block."""
    if not line:
        return ended
    own = _is_heading(line) or (len(blocks) < 3 and _TITLE.search(fold(line)) is not None)  # the title: first
    if ended or own or blocks[-1].heading:
        blocks.append(_Block(line, where, own))
    else:
        blocks[-1].text = _join(blocks[-1].text, line)
    return own or line.endswith(("。", "：", ":", "！", "？"))


def _blocks_of(data: bytes, suffix: str, limits: LimitSettings) -> tuple[list[_Block], list[_Table]]:
    if suffix == ".docx":
        return _docx_text(data, limits)
    if not data.startswith(b"%PDF"):
        raise _Unreadable("文件扩展名为 .pdf，但内容不是 PDF 文档；请重新导出后报送")
    return _pdf_text(data)


def read_report(source: str | Path | bytes, name: str, limits: LimitSettings | None = None) -> Report:
    """Read the report `name` (its path in the inbox) from a file or from its bytes (an archive's member).

    Never raises for what is in the file: a report that cannot be read comes back with `error`.
    """
    limits = limits or LimitSettings()
    report = Report(path=name)
    try:
        data = source if isinstance(source, bytes) else read_file(Path(source), limits)
        if len(data) > limits.max_uncompressed_mb * MB:
            raise _Unreadable(f"文件超过 {limits.max_uncompressed_mb:g} MB 上限，拒绝读取")
        blocks, tables = _blocks_of(data, PurePosixPath(name).suffix.lower(), limits)
    except ReadError as exc:
        report.error = exc.message
        return report
    except _Unreadable as exc:
        report.error = str(exc)
        return report
    except Exception as exc:  # python-docx, lxml and pypdf raise a zoo of errors on a broken file: never a crash
        report.error = f"文件已损坏或格式不受支持，无法读取（{type(exc).__name__}: {exc}）"[:300]
        return report
    report.text = "\n".join(b.text for b in blocks)
    if not fold(report.text):
        report.error = "文件中没有可读取的文字（可能是扫描件或图片），请报送文字版的 .docx 或 .pdf"
        return report
    _extract(report, blocks, tables)
    return report


# --- what the text states --------------------------------------------------------------------

_NUMERALS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_CN = "零〇一二两三四五六七八九十百"
_COUNT = rf"(?P<n>\d+|[{_CN}]+)"
# Phrasings of the number of projects (on the text without spaces), each seen in a real report
# (tests/test_reports.py names them).
_DECLARED = [re.compile(p) for p in (
    rf"共(?:设|有|涉及|计|实施|安排)?(?:预算|支出|专项)?(?:支出)?项目(?:共计?|合计)?{_COUNT}[个项]",
    rf"(?:预算|实施|支出)项目共(?:计|有)?{_COUNT}[个项]",
    rf"涉及(?:预算|支出|专项)?项目{_COUNT}[个项]",
    rf"共(?:设|有|涉及|计|实施|安排)?{_COUNT}[个项](?:预算|支出)?(?:项目|专项资金|专项)",
)]


def chinese_count(text: str) -> int | None:
    """"6" → 6, "六" → 6, "十五" → 15, "二十一" → 21, "一百零二" → 102; None if not a count."""
    if text.isdigit():
        return int(text)
    total, digit = 0, None
    for ch in text:
        if ch in _NUMERALS:
            digit = _NUMERALS[ch]
        elif ch in "十百":
            total += (1 if digit is None else digit) * (10 if ch == "十" else 100)
            digit = None
        else:
            return None
    return total + (digit or 0)


_HEADING = re.compile(r"^(?:第[一二三四五六七八九十]+(?:部分|章|节)|[一二三四五六七八九十]+[、.．]"
                      r"|[(（][一二三四五六七八九十]+[)）]|\d{1,2}、)")
_TOP_HEADING = re.compile(r"^(?:第[一二三四五六七八九十]+(?:部分|章|节)|[一二三四五六七八九十]+[、.．])")
_TITLE = re.compile(r"^(?:关于)?(?P<unit>.{2,40}?)(?:\d{4}年度?|关于).{0,30}?(?:自评|评价)(?:工作)?的?报告")
_LABELLED_UNIT = re.compile(r"(?:实施单位|单位名称|项目单位|填报单位|报送单位|申报单位)(?:\(盖章\))?[:：]"
                            r"(?P<unit>[^,，。;；:：|()（）]{2,40})")
_ORG_END = re.compile(r"(?:局|中心|院|所|站|办公室|办|委员会|委|会|学校|校|队|馆|社|公司|街道办事处|镇|乡|政府|部)$")
_DATE = re.compile(r"\d{4}年\d{1,2}月\d{1,2}日$")
_PROJECT_LABEL = re.compile(r"项目名称[:：](?P<name>[^,，。;；|]{2,60})")
_PROJECT_HEADING = re.compile(r"^(?P<name>.+)项目"
                              r"(?=绩效|目标|资金|基本|实施|概况|情况|自评|预算|执行|支出|完成|的|\)|$)")
_PROJECT_PAREN = re.compile(r"^[(（](?P<name>.{2,60})项目[)）]$")
_GENERIC = {"预算", "支出", "专项", "部门", "单位", "本", "该", "重点", "绩效", "预算支出", "本单位", "我单位",
            "部门预算", "财政", "财政支出", "专项资金"}
_REASON = re.compile(r"原因|由于|主要是|导致|因为|但因|系因|受.{1,12}影响|致使|造成")


def _is_heading(text: str) -> bool:
    return _HEADING.match(fold(text)) is not None


def _sentences(text: str) -> list[str]:
    return [s.strip() for s in re.split(r"(?<=[。！？；!?;])", text) if s.strip()]


def _extract(report: Report, blocks: list[_Block], tables: list[_Table]) -> None:
    report.unit, report.unit_from = _unit_named(blocks)
    current: ReportProject | None = None
    for block in (b for b in blocks if not b.table):
        squeezed = re.sub(r"\s+", "", block.text)  # names and phrases as written, only without spaces
        if report.declared is None:
            _declared(report, squeezed, block.where)
        name = _project_named(block, squeezed)
        if name:
            current = _project(report, name, block.where)
        elif block.heading and _TOP_HEADING.match(squeezed):
            current = None  # a new section that names no project: what follows is the unit's
        for sentence in _sentences(block.text):
            if current is not None:
                current.figures += _figures(fold(sentence), block.where)
            if _REASON.search(sentence):
                (current.reasons if current is not None else report.reasons).append(_tidy(sentence))
    for table in tables:
        _table_projects(report, table)


def _tidy(sentence: str) -> str:
    """A sentence as shown: whitespace made one space, none beside a Chinese character (a PDF's line
    breaks and spacing then read as the Word original)."""
    text = re.sub(r"\s+", " ", sentence)
    return re.sub(r"(?<=[^\x00-\x7f]) | (?=[^\x00-\x7f])", "", text)


def _declared(report: Report, text: str, where: str) -> None:
    for pattern in _DECLARED:
        found = pattern.search(text)
        if found and (count := chinese_count(found["n"])):
            report.declared, report.declared_text, report.declared_where = count, found.group(0), where
            return


def _unit_named(blocks: list[_Block]) -> tuple[str, str]:
    """The unit the report names, and where: a labelled line, the title, a line of its own, the signature."""
    for block in blocks[:30]:
        found = _LABELLED_UNIT.search(fold(block.text))
        if found:
            return found["unit"], "「实施单位」等栏目"
    for block in blocks[:3]:
        found = _TITLE.search(fold(block.text))
        if found and _ORG_END.search(found["unit"]):
            return found["unit"], "标题"
    for block in blocks[:5]:
        text = fold(block.text)
        if len(text) <= 40 and _ORG_END.search(text) and not text.endswith((":", "：")):
            return text, "首行"
    for block in reversed(blocks[-4:]):
        text = _DATE.sub("", fold(block.text))
        if 2 <= len(text) <= 40 and _ORG_END.search(text):
            return text, "落款"
    return "", ""


def _project_named(block: _Block, text: str) -> str:
    """The project a heading, a 「（XXX项目）」 line or a 「项目名称：」 line names; "" if none."""
    found = _PROJECT_LABEL.search(text)
    if found:
        return _clean_name(found["name"])
    found = _PROJECT_PAREN.match(text)
    if found:
        return _clean_name(found["name"])
    if not block.heading:
        return ""
    first = re.split(r"[。:：]", _HEADING.sub("", text), maxsplit=1)[0]
    found = _PROJECT_HEADING.match(first)
    return _clean_name(found["name"]) if found else ""


def _clean_name(name: str) -> str:
    name = re.sub(r"^.*?\d{4}年度?", "", name.strip("「」“”\"'《》【】[]"))
    name = re.sub(r"^关于", "", name).strip("「」“”\"'《》【】[]")
    return "" if len(name) < 2 or name in _GENERIC else name


def _project(report: Report, name: str, where: str) -> ReportProject:
    for project in report.projects:
        if project.name == name:
            return project
    report.projects.append(ReportProject(name, where))
    return report.projects[-1]


# Keywords before a figure → its kind (None: a figure not compared, e.g. 年初预算, 到位资金).
_KEYWORDS: dict[str, str | None] = {
    **dict.fromkeys(("全年预算数", "全年预算", "调整后预算数", "调整后预算", "预算数", "预算资金", "预算金额",
                     "预算指标", "项目指标", "预算安排", "安排资金", "安排预算", "预算总额", "总预算", "预算"),
                    "budget"),
    **dict.fromkeys(("年初预算数", "年初预算", "实际到位", "到位资金", "到位"), None),
    **dict.fromkeys(("全年执行数", "执行数", "执行金额", "实际执行", "实际支出", "实际使用", "已支出", "支出",
                     "使用", "执行", "决算数", "完成预算资金", "完成支出", "支付", "实际支付"), "executed"),
    **dict.fromkeys(("执行率", "预算执行率", "执行进度", "预算执行进度", "资金使用率", "使用率", "支出进度",
                     "支出率"), "rate"),
}
_KEYWORD = re.compile("|".join(sorted(map(re.escape, _KEYWORDS), key=len, reverse=True)))
_NUMBER = r"(?<![\d.])(?P<int>\d{1,3}(?:,\d{3})+|\d+)(?:\.(?P<dec>\d+))?"
_FIGURE = re.compile(_NUMBER + r"(?P<unit>亿元|万元|万|元|%)")
_SCALE = {"亿元": 10000.0, "万元": 1.0, "万": 1.0, "元": 0.0001, "%": 0.01}
_CLAUSE_END = re.compile(r"[,，;；、。]")
_WINDOW = 24  # characters before a figure searched for its keyword


def _figures(sentence: str, where: str) -> list[Figure]:
    """Each amount or rate of a (folded) sentence told by the keyword nearest before it in its clause."""
    out, start = [], 0
    for found in _FIGURE.finditer(sentence):
        left = sentence[max(start, found.start() - _WINDOW):found.start()]
        left = _CLAUSE_END.split(left)[-1]
        start = found.end()
        kind = _kind(left)
        if kind is None or (kind == "rate") != (found["unit"] == "%"):
            continue
        out.append(_figure(kind, found, where))
    return out


def _kind(left: str) -> str | None:
    """The kind of the keyword ending last in `left` (the longer on a tie); None if none."""
    best: tuple[int, int, str] | None = None
    for i in range(len(left)):
        found = _KEYWORD.match(left, i)
        if found:
            key = (found.end(), len(found.group(0)), found.group(0))
            best = key if best is None or key > best else best
    return _KEYWORDS[best[2]] if best else None


def _figure(kind: str, found: re.Match, where: str, unit: str = "") -> Figure:
    """A figure from a match of _NUMBER (and its unit, or `unit` when the match has none)."""
    unit = found.groupdict().get("unit") or unit
    scale, decimals = _SCALE[unit], len(found["dec"] or "")
    value = float(found["int"].replace(",", "") + "." + (found["dec"] or "0")) * scale
    number = found["int"] + (f".{found['dec']}" if found["dec"] else "")
    return Figure(kind, value, number + (unit if unit == "%" else f" {unit}"), where, 0.5 * 10 ** -decimals * scale)


def _table_projects(report: Report, table: _Table) -> None:
    """A table with a 项目(名称) column and budget/executed/rate columns: one project per row."""
    for h, header in enumerate(table.rows[:3]):
        columns = _table_columns(header)
        if columns is None:
            continue
        name_col, kinds = columns
        for r, row in enumerate(table.rows[h + 1:], h + 2):
            name = _clean_name(re.sub(r"\s+", "", row[name_col])) if name_col < len(row) else ""
            if not name or name in ("合计", "总计", "小计"):
                continue
            project = _project(report, name, f"{table.where} 第 {r} 行")
            for col, (kind, unit) in kinds.items():
                if col < len(row):
                    project.figures += _cell_figure(kind, unit, fold(row[col]), f"{table.where} 第 {r} 行")
        return


def _table_columns(header: list[str]) -> tuple[int, dict[int, tuple[str, str]]] | None:
    """(the name column, {column: (kind, unit written in its header)}) of a header row, or None."""
    folded = [fold(cell) for cell in header]
    names = [i for i, cell in enumerate(folded) if "项目" in cell and not _KEYWORD.search(cell)]
    kinds = {}
    for i, cell in enumerate(folded):
        kind = _kind(re.sub(r"\(.*?\)", "", cell))
        if kind:
            unit = next((u for u in ("亿元", "万元", "%", "元") if u in cell), "")
            kinds[i] = (kind, unit)
    return (names[0], kinds) if names and kinds else None


def _cell_figure(kind: str, unit: str, cell: str, where: str) -> list[Figure]:
    """A table cell's figure: its own unit, else the one its column's header names; none without a unit."""
    found = re.fullmatch(_NUMBER + r"(?P<unit>亿元|万元|万|元|%)?", cell)
    written = (found["unit"] or unit) if found else ""
    if not written or (kind == "rate") != (written == "%"):
        return []
    return [_figure(kind, found, where, written)]


# --- matching reports to units ---------------------------------------------------------------

def normalize_unit(name: str, county: str = "") -> str:
    """A unit's name for matching, as the roster matches it (`roster.unit_key`: full-width folded, no
    spaces, the season's county or a leading 县 dropped), with brackets and quotes dropped too. Another
    county's prefix stays: 丰宁满族自治县教育局 and 滦平县教育局 are two units."""
    return unit_key(re.sub(r"[()（）「」《》\"“”]", "", name), county)


def _project_key(name: str) -> str:
    return re.sub(r"[^\w]", "", fold(name))


def same_project(report_name: str, form_name: str) -> bool:
    """Whether a report's project is a form's: equal or one containing the other once folded, or nearly equal."""
    a, b = _project_key(report_name), _project_key(form_name)
    if not a or not b:
        return False
    if a == b or (min(len(a), len(b)) >= 4 and (a in b or b in a)):
        return True
    return difflib.SequenceMatcher(None, a, b).ratio() >= 0.85


@dataclass
class ReportSet:
    """The reports of a run, read, and the unit each was matched to."""

    reports: list[Report] = field(default_factory=list)
    by_unit: dict[str, list[Report]] = field(default_factory=dict)  # the forms' 实施单位 → its reports
    matched_by: dict[str, str] = field(default_factory=dict)  # report path → how it was matched

    @property
    def unmatched(self) -> list[Report]:
        """Reports read and matched to no unit of the forms received."""
        return [r for r in self.reports if not r.error and r.path not in self.matched_by]

    def reasons_for(self, unit: str, project: str) -> list[str]:
        """The reason sentences the unit's reports give for `project`: those under its name; for a
        report naming no project at all, the reasons it gives for the unit."""
        out: list[str] = []
        for report in self.by_unit.get(unit, []):
            named = [p for p in report.projects if same_project(p.name, project)]
            out += [s for p in named for s in p.reasons] if report.projects else report.reasons
        return list(dict.fromkeys(out))


    def unit_of(self, report: Report) -> str:
        return next((unit for unit, reports in self.by_unit.items() if report in reports), "")

    def summary(self, report: Report) -> str:
        """What the run read from a report, as its file's message in run.json and the file lists."""
        if report.error:
            return f"自评报告，无法读取：{report.error}"
        unit = self.unit_of(report)
        named = f"（报告所署单位「{report.unit}」）" if report.unit else ""
        parts = [f"自评报告，已读取，对应实施单位「{unit}」（依据：{self.matched_by[report.path]}）" if unit
                 else f"自评报告，已读取，未能对应到已报送自评表的实施单位{named}"]
        if report.declared:
            parts.append(f"称项目共 {report.declared} 个")
        if report.projects:
            parts.append("述及项目" + "、".join(f"「{p.name}」" for p in report.projects))
        return "；".join(parts)


def match_reports(reports: Iterable[Report], forms: pd.DataFrame, county: str = "") -> ReportSet:
    """Match each readable report to one 实施单位 of `forms` (columns unit, source_file), first rule that decides:

    1. folder: the report's folder (or archive, ARCHIVE.zip/…), and the folders above it up to the
       inbox's root exclusive, the deepest first: if the forms in that folder name one unit, it is that
       unit's; if they name several, the folder decides nothing (and its parents are not asked);
    2. file name: the report's path (folders and file name) contains a unit's name; the longest wins;
    3. the text: the unit the report names (标题, 实施单位, 落款 …) is a unit's name, or one contains
       the other (a report that could not be read has no text: only 1 and 2 apply to it).

    Names are compared normalized (`normalize_unit`, with the season's `county`). A near miss
    (社保保险 for 社会保险) is not matched.
    """
    units = [u for u in dict.fromkeys(forms["unit"].tolist()) if u]
    files = list(zip(forms["source_file"].tolist(), forms["unit"].tolist(), strict=True))
    out = ReportSet(reports=list(reports))
    for report in out.reports:
        unit, how = (_by_folder(report.path, files) or _by_name(report.path, units, county)
                     or _by_text(report.unit, units, county))
        if unit:
            out.by_unit.setdefault(unit, []).append(report)
            out.matched_by[report.path] = how
    return out


def _by_folder(path: str, files: list[tuple[str, str]]) -> tuple[str, str] | None:
    for folder in PurePosixPath(path).parents:
        if str(folder) == ".":
            return None
        prefix = f"{folder}/"
        units = {unit for source, unit in files if source.startswith(prefix) and unit}
        if len(units) == 1:
            return units.pop(), f"同一文件夹 {folder}"
        if units:
            return None
    return None


def _by_name(path: str, units: list[str], county: str) -> tuple[str, str] | None:
    key = normalize_unit(path, county)
    names = {u: normalize_unit(u, county) for u in units}
    found = [u for u in units if len(names[u]) >= 2 and names[u] in key]
    if not found:
        return None
    return max(found, key=lambda u: len(names[u])), "文件名"


def _by_text(named: str, units: list[str], county: str) -> tuple[str, str]:
    key = normalize_unit(named, county)
    if len(key) < 2:
        return "", ""
    for unit in units:
        other = normalize_unit(unit, county)
        if key == other or (min(len(key), len(other)) >= 4 and (key in other or other in key)):
            return unit, "报告所署单位"
    return "", ""


def read_reports(files: Iterable[InboxFile], limits: LimitSettings) -> list[Report]:
    """Every report among the inbox files, read in order: a file's bytes, or a package member's
    inflated in memory (`discover.file_bytes`). Word's lock files (~$报告.docx) and hidden copies are no
    reports; a member refused when its package was opened has said why already."""
    out = []
    for f in files:
        if f.record.kind != REPORT or f.record.status == REJECTED or lock_or_hidden(f.record.path):
            continue
        try:
            data = file_bytes(f, limits)
        except ReadError as exc:
            out.append(Report(path=f.record.path, error=exc.message))
        except OSError as exc:  # gone since it was listed (the package moved away, the file deleted)
            out.append(Report(path=f.record.path, error=f"文件无法打开（{exc.strerror or exc}）"))
        else:
            out.append(read_report(data, f.record.path, limits))
    return out
