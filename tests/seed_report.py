"""The seed's 自评报告 (docs/seed/, after its form) as a .docx, built with python-docx.

The text is the seed's, paragraph by paragraph: the title names the unit, section 一 declares
共设预算项目 6 个, section 二 states 5.4 / 3.07 万元 and 56.85% and gives the reasons (年终一次性支付,
财政资金问题). Line breaks the seed's PDF origin left inside two paragraphs are joined, as the
unit's Word file had them. `seed_report(**replace)` replaces text, e.g. the executed amount.
"""

from __future__ import annotations

from pathlib import Path

from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn

UNIT = "承德县社会保险事业服务中心"
PROJECT = "失业动态监测，社会化管理服务费"

# (style, text): "title", "heading" or "body".
SEED_REPORT = [
    ("title", "承德县社会保险事业服务中心 2023 年度预算项目绩效自评工作报告"),
    ("body", "承德县财政局："),
    ("body", "为确实做好 2023 年度县级部门预算项目绩效自评工作，提高财政资金使用效益，根据《承德县财政局"
             "关于开展 2023 年度县级预算部门绩效自评工作的通知》（承县财监[2024]1 号）文件的要求"
             "，我局按照《承德县县级部门预算项目绩效自评管理办法》（承县财政字[2019]75）号文件的要求，"
             "对本单位 2023 年使用的所有专项资金开展了绩效的自评工作。现将 2023 年度本单位预算项目"
             "绩效评价工作情况汇报如下："),
    ("heading", "一、失业动态监测，社会化管理服务费项目绩效自评工作组织开展情况"),
    ("body", "结合实际，我单位组织专人对本单位预算项目绩效资金有关账目进行检查并收集整理专项资金支出相关资料进"
             "行分析、总结如下，2023 年度我单位共设预算项目 6 个，其中：机关退休人员预算项目 2 个，"
             "社保专项经费 3 个，企业退休人员预算项目 1 个，严格按财政部门预算安排和使用要求对各项资金先"
             "申请，后使用；先审批，后拨付，做到层层审核、层层把关。"),
    ("heading", "二、失业动态监测，社会化管理服务费项目目标实现情况"),
    ("body", "社保工作专项经费主要用于退休人员社会化管理以及失业动态监测等支出，按照社保工作要求已全部完成退休"
             "人员的社会化管理工作，做好了社保基金扩面征收、发放等工作，并对 40 家企业进行了失业动态监测工"
             "作，工作成效已达预期效果。社保专项经费预算项目指标为 5.4 万元，实际到位 3.07 万元，实"
             "际使用 3.07 万元，预算执行进度 56.85%。主要存在原因为失业动态监测经费和退休人员社会"
             "化管理等费用大部分为年终一次性支付。但因 2023 年财政资金问题，2023 年失业动态监测、企"
             "业社会化服务活动等费用无法支付。"),
    ("heading", "三、绩效目标设定质量情况"),
    ("body", "根据冀人社字【2014】243 号、冀人社发【2014】32 号、承人社字【2014】207 号"
             "文件规定，失业动态监测是分析研判就业形势的重要依据，为切实做好失业动态监测工作，不断提高失业动态"
             "监测数据质量，根据文件要求对承德县 40 家失业动态监测企业信息采集员业务培训，必要的交通通讯等"
             "与监测信息采集相关的支出设置失业动态监测经费，失业动态监测企业信息采集员按月向我单位报送失业动态"
             "监测为就业形势提供重要依据。根据承县办字【2005】56 号文件，冀办法【2003】28 号文件"
             "规定，按季度向社会保险事业管理局核拨退休人员活动经费。"),
    ("heading", "四、整改措施及结果应用"),
    ("body", "我单位将严格按照财政预算要求对本单位预算项目进行测算，对实施的预算项目严格管理，提高财政资金使用"
             "效益和公共服务质量，做到专款专用，确保绩效目标合理、合法真实。将对未完成的绩效目标和偏离绩效目标"
             "较大的预算预算进行单独分析因，确保今后预算更加合理、准确。"),
    ("signature", "承德县社保保险事业服务中心"),
    ("signature", "2024年3月5日"),
]

REASONS = ("主要存在原因为失业动态监测经费和退休人员社会化管理等费用大部分为年终一次性支付。",
           "但因 2023 年财政资金问题，2023 年失业动态监测、企业社会化服务活动等费用无法支付。")


def seed_report(**replace: str) -> list[tuple[str, str]]:
    """The seed's paragraphs with each `old=new` text replaced (keys are looked up in REPLACEABLE)."""
    out = []
    for style, text in SEED_REPORT:
        for key, new in replace.items():
            text = text.replace(REPLACEABLE[key], new)
        out.append((style, text))
    return out


REPLACEABLE = {"executed": "实际使用 3.07 万元", "count": "共设预算项目 6 个", "title": SEED_REPORT[0][1]}


def write_report_docx(path: Path, paragraphs: list[tuple[str, str]], tables: list[list[list[str]]] = ()) -> Path:
    """A Word document as a unit writes one: a centred title, numbered headings, body text in 仿宋, the
    signature and date set right, and `tables` (rows of cell texts, ruled) after the body."""
    doc = Document()
    normal = doc.styles["Normal"]
    normal.font.name = "FangSong"
    normal.element.rPr.rFonts.set(qn("w:eastAsia"), "仿宋")
    for style, text in paragraphs:
        if style == "title":
            doc.add_heading(text, level=1).alignment = WD_ALIGN_PARAGRAPH.CENTER
        elif style == "heading":
            doc.add_heading(text, level=2)
        elif style == "signature":
            doc.add_paragraph(text).alignment = WD_ALIGN_PARAGRAPH.RIGHT
        else:
            doc.add_paragraph(text)
    for rows in tables:
        table = doc.add_table(rows=len(rows), cols=len(rows[0]))
        table.style = "Table Grid"  # ruled, as reports' tables are
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                table.cell(r, c).text = value
    doc.save(str(path))
    return path


# A table of the unit's projects as reports give one (columns as in the 2019 专项资金 report cited in
# tests/test_reports.py), the seed's project first with its figures.
PROJECT_TABLE = [["项目名称", "预算数（万元）", "执行数（万元）", "执行率"],
                 [PROJECT, "5.4", "3.07", "56.85%"],
                 ["机关退休人员活动经费", "12.5", "12.5", "100%"]]
