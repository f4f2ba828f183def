"""The look of the Word documents the bureau hands up and sends back (report.py, notices.py).

Chinese official documents (公文) set the title in 宋体 二号 bold, first-level headings in 黑体 三号,
second-level headings in 楷体 三号 and the body in 仿宋 三号 with a two-character first-line indent,
on A4 with the page number centred at the foot; tables in 宋体 五号. The fonts are named as Chinese
Windows names them, where Word finds them; every run also names a Latin font for digits and letters.
LibreOffice without these fonts substitutes a CJK font it has (WenQuanYi Zen Hei here) for the
Chinese text, as the real-client test checks.

A document starts from a lean template built once per process: python-docx's default template
carries 780 KB of style definitions (every built-in style and its 2010 effects), which cost ten
times more to compress than a notice itself; only the styles used are kept, so a notice saves in
about 2 ms and hundreds of units stay cheap.
"""

from __future__ import annotations

import functools
from datetime import UTC, datetime
from io import BytesIO

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt, RGBColor

# Sizes by their Chinese names (GB/T 9704): 二号 22 pt, 三号 16 pt, 四号 14 pt, 五号 10.5 pt.
TITLE_PT, BODY_PT, CAPTION_PT, TABLE_PT = 22, 16, 14, 10.5
LATIN = "Times New Roman"
SONG, HEI, KAI, FANG = "宋体", "黑体", "楷体", "仿宋"
BLACK = RGBColor(0, 0, 0)
HEADER_FILL = "D9D9D9"  # light grey behind a table's header row

# Styles the documents use, by the names python-docx knows them by; every other style is dropped.
TITLE, SUBTITLE, HEADING1, HEADING2 = "公文标题", "副标题", "Heading 1", "Heading 2"
TABLE_TEXT, TABLE_CAPTION, NOTE, SIGNATURE = "表格文字", "表格标题", "注释", "落款"
FIGURE_CAPTION = "图题"  # below its picture: unlike a table's caption, not kept with what follows
_KEPT = {"Normal", "Header", "Header Char", "Footer", "Footer Char", "Heading 1", "Heading 2",
         "Heading 1 Char", "Heading 2 Char", "Default Paragraph Font", "Normal Table", "No List", "Table Grid"}
TEXT_WIDTH_CM = 21.0 - 2.8 - 2.6  # A4 less the margins below


@functools.cache
def _template() -> bytes:
    doc = Document()
    _lean(doc)
    _styles(doc)
    _page(doc)
    out = BytesIO()
    doc.save(out)
    return out.getvalue()


def new_document(title: str, author: str, when: datetime):
    """A blank document with the 公文 styles and page, its properties naming `title` and `author`."""
    doc = Document(BytesIO(_template()))
    describe(doc, title, author, when)
    return doc


def describe(doc, title: str, author: str, when: datetime) -> None:
    props = doc.core_properties
    props.title, props.author, props.last_modified_by = title, author, author
    props.created = props.modified = when.astimezone(UTC).replace(tzinfo=None)  # core.xml keeps UTC
    props.revision = 1
    props.comments = props.keywords = props.subject = ""


def blank(doc) -> None:
    """Empty the body of `doc`, keeping its page settings, to write the next document with it: opening
    the template again for each of hundreds of notices would cost more than writing them."""
    body = doc.element.body
    for child in list(body):
        if child.tag != qn("w:sectPr"):
            body.remove(child)


@functools.cache
def _style_ids() -> dict[str, str]:
    return {style.name: style.style_id for style in Document(BytesIO(_template())).styles}


def styled(para, style: str):
    """Give `para` the style named `style`, by its id: python-docx's lookup by name searches every
    style at each call, which was a third of the cost of a notice."""
    para._p.style = _style_ids()[style]
    return para


def _lean(doc) -> None:
    """Drop what the default template carries and no document here uses."""
    for style in list(doc.styles):
        if style.name not in _KEPT:
            style.delete()
    for latent in list(doc.styles.latent_styles):
        latent.delete()
    for rid, rel in list(doc.part.rels.items()):
        if rel.reltype.endswith(("/stylesWithEffects", "/customXml")):
            doc.part.drop_rel(rid)
    package = doc.part.package
    for rid, rel in list(package.rels.items()):
        if rel.reltype.endswith("/thumbnail"):
            package.rels.pop(rid)


def set_fonts(target, east_asia: str, size: float | None = None, bold: bool | None = None) -> None:
    """Give a style or run its Chinese (w:eastAsia) and Latin fonts, dropping the theme's fonts,
    which would otherwise win over the names in Word."""
    font = target.font
    font.name = LATIN
    if size is not None:
        font.size = Pt(size)
    if bold is not None:
        font.bold = bold
    fonts = target.element.get_or_add_rPr().get_or_add_rFonts()
    fonts.set(qn("w:eastAsia"), east_asia)
    fonts.set(qn("w:cs"), LATIN)
    for theme in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
        fonts.attrib.pop(qn(theme), None)


def _styles(doc) -> None:
    styles = doc.styles
    normal = styles["Normal"]
    set_fonts(normal, FANG, BODY_PT)
    # Chinese text, Latin digits: with w:val zh-CN as well, LibreOffice breaks lines inside numbers (80.1|3%).
    lang = OxmlElement("w:lang")
    lang.set(qn("w:val"), "en-US")
    lang.set(qn("w:eastAsia"), "zh-CN")
    normal.element.get_or_add_rPr().append(lang)
    _paragraph(normal, first_line=2 * BODY_PT, line=28)
    for name, font, size, bold, align, before, after in (
            (TITLE, SONG, TITLE_PT, True, WD_ALIGN_PARAGRAPH.CENTER, 0, 6),
            (SUBTITLE, KAI, BODY_PT, False, WD_ALIGN_PARAGRAPH.CENTER, 0, 0),
            (TABLE_CAPTION, HEI, CAPTION_PT, False, WD_ALIGN_PARAGRAPH.CENTER, 8, 4),
            (FIGURE_CAPTION, HEI, CAPTION_PT, False, WD_ALIGN_PARAGRAPH.CENTER, 2, 8),
            (TABLE_TEXT, SONG, TABLE_PT, False, None, 0, 0),
            (NOTE, SONG, TABLE_PT, False, None, 2, 6),
            (SIGNATURE, FANG, BODY_PT, False, WD_ALIGN_PARAGRAPH.RIGHT, 0, 0)):
        style = styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH)
        style.base_style = normal
        style.quick_style = True
        set_fonts(style, font, size, bold)
        _paragraph(style, first_line=0, line=None if size < BODY_PT else 28, before=before, after=after)
        if align is not None:
            style.paragraph_format.alignment = align
    styles[TITLE].paragraph_format.line_spacing = Pt(36)
    styles[TABLE_CAPTION].paragraph_format.keep_with_next = True
    # 黑体 headings are set bold too: where 黑体 is missing and one substitute draws all Chinese text
    # (WenQuanYi Zen Hei under LibreOffice), weight is what still tells a heading from the body.
    for name, font, bold in ((HEADING1, HEI, True), (HEADING2, KAI, False)):
        style = styles[name]
        set_fonts(style, font, BODY_PT, bold=bold)
        style.font.color.rgb = BLACK
        _paragraph(style, first_line=2 * BODY_PT, line=28, before=6, after=0)


def _paragraph(style, first_line: float, line: float | None, before: float = 0, after: float = 0) -> None:
    fmt = style.paragraph_format
    fmt.first_line_indent = Pt(first_line)
    fmt.space_before, fmt.space_after = Pt(before), Pt(after)
    if line is None:
        fmt.line_spacing_rule = WD_LINE_SPACING.SINGLE
    else:  # 公文: a fixed 28 pt line for 三号 text
        fmt.line_spacing = Pt(line)
        fmt.line_spacing_rule = WD_LINE_SPACING.EXACTLY


def _page(doc) -> None:
    section = doc.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = Cm(21.0), Cm(29.7)
    section.top_margin, section.bottom_margin = Cm(3.7), Cm(3.5)
    section.left_margin, section.right_margin = Cm(2.8), Cm(2.6)
    section.footer_distance = Cm(2.5)
    footer = section.footer.paragraphs[0]
    footer.alignment = WD_ALIGN_PARAGRAPH.CENTER
    set_fonts(footer.add_run("— "), SONG, CAPTION_PT)
    field = OxmlElement("w:fldSimple")
    field.set(qn("w:instr"), "PAGE")
    run = footer.add_run("1")  # the value shown until the field is updated
    set_fonts(run, SONG, CAPTION_PT)
    field.append(run._r)
    footer._p.append(field)
    set_fonts(footer.add_run(" —"), SONG, CAPTION_PT)


# --- content ---------------------------------------------------------------------------

def heading(doc, text: str, level: int = 1):
    return styled(doc.add_paragraph(text), HEADING1 if level == 1 else HEADING2)


def paragraph(doc, text: str, style: str | None = None):
    para = doc.add_paragraph(text)
    return styled(para, style) if style else para


def table(doc, caption: str, headers: list[str], rows: list[list[str]], widths_cm: list[float],
          numeric: set[int] = frozenset(), total_row: bool = False):
    """A captioned table: header row shaded, bold and repeated on every page, numbers right-aligned,
    column widths fixed (they add up to the text width), the last row bold when it is a total."""
    if caption:
        paragraph(doc, caption, TABLE_CAPTION)
    scale = TEXT_WIDTH_CM / sum(widths_cm)
    widths = [Cm(w * scale) for w in widths_cm]
    grid = doc.add_table(rows=1 + len(rows), cols=len(headers))
    grid.style = doc.styles["Table Grid"]
    grid.alignment = WD_TABLE_ALIGNMENT.CENTER
    grid.autofit = False
    for col, width in zip(grid.columns, widths, strict=True):
        col.width = width
    for i, (row, values) in enumerate(zip(grid.rows, [headers, *rows], strict=True)):
        header = i == 0
        bold = header or (total_row and i == len(rows))
        for j, (cell, value) in enumerate(zip(row.cells, values, strict=True)):
            cell.width = widths[j]
            para = cell.paragraphs[0]
            styled(para, TABLE_TEXT)
            if header:
                para.alignment = WD_ALIGN_PARAGRAPH.CENTER
                _shade(cell, HEADER_FILL)
            elif j in numeric:
                para.alignment = WD_ALIGN_PARAGRAPH.RIGHT
            run = para.add_run(value)
            if bold:
                run.bold = True
        _keep_row_whole(row, repeat=header)
    return grid


def _shade(cell, fill: str) -> None:
    shd = OxmlElement("w:shd")
    shd.set(qn("w:val"), "clear")
    shd.set(qn("w:color"), "auto")
    shd.set(qn("w:fill"), fill)
    cell._tc.get_or_add_tcPr().append(shd)


def _keep_row_whole(row, repeat: bool) -> None:
    """A row never split across two pages; the header row repeated at the top of each page."""
    props = row._tr.get_or_add_trPr()
    for tag in ("w:cantSplit", *(("w:tblHeader",) if repeat else ())):
        flag = OxmlElement(tag)
        flag.set(qn("w:val"), "true")
        props.append(flag)


def signature(doc, issuer: str, date: str) -> None:
    """编制单位 and date at the foot, right-aligned, a blank line above; kept on one page with the
    paragraph before them (a signature alone on a page is a fault in a 公文)."""
    last = doc.paragraphs[-1] if doc.paragraphs else None
    if last is not None:
        last.paragraph_format.keep_with_next = True
    lines = [paragraph(doc, "", SIGNATURE), *(paragraph(doc, t, SIGNATURE) for t in (issuer, date) if t)]
    for para in lines[:-1]:
        para.paragraph_format.keep_with_next = True


_DIGITS = "零一二三四五六七八九"


def chinese_number(n: int) -> str:
    """1 → 一, 10 → 十, 12 → 十二, 105 → 一百零五, 1010 → 一千零一十: the （一）（二） numbering of 公文
    headings (a unit may send more than a hundred forms). From 10,000 on, Arabic digits."""
    if not 0 <= n < 10_000:
        return str(n)
    if n < 10:
        return _DIGITS[n]
    if n < 20:  # 十, 十一 … 十九: no leading 一
        return "十" + (_DIGITS[n - 10] if n > 10 else "")
    out, zero = "", False
    for place, unit in ((1000, "千"), (100, "百"), (10, "十"), (1, "")):
        digit, n = divmod(n, place)
        if digit:
            out += ("零" if zero and out else "") + _DIGITS[digit] + unit
            zero = False
        else:
            zero = True
    return out


def sentence(text: str) -> str:
    """`text` ended as a sentence: 。 added unless it ends with 。！？ already."""
    return text if text.endswith(("。", "！", "？")) else text + "。"


def chinese_date(when: datetime) -> str:
    return f"{when.year}年{when.month}月{when.day}日"


def save(doc, path) -> None:
    doc.save(str(path))
