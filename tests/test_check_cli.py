"""`xlbatch check` (issue 14): every finding of a form that will be rejected, after the finding that
rejects it; output that fits 80 columns; --format xlsx; the run unchanged by any of it."""

from __future__ import annotations

import csv
import io
import re
import subprocess

import openpyxl
import pytest
from conftest import rules_of
from forms import SATISFACTION, edit
from hypothesis import given, settings
from hypothesis import strategies as st
from rich.cells import cell_len
from rich.console import Console
from sample_inbox import missing_unit
from seed import seed_form

import xlbatch
from xlbatch.cli import main, print_check
from xlbatch.nightly import run
from xlbatch.outputs.check_book import COLUMNS, NO_OTHER, grouped
from xlbatch.outputs.template import write_workbook
from xlbatch.terminal import wrap

pytest_plugins = ["lo"]  # fixtures libreoffice, pdftotext (lo must load as a plugin)

# Rules that read a figure derived from 全年预算数 and 全年执行数 (pipeline.FROM_AMOUNTS), in catalogue order.
FROM_AMOUNTS = ["RATE_MISMATCH", "BUDGET_SCORE_MISMATCH", "OVER_BUDGET", "LOW_EXECUTION", "HIGH_SCORE_LOW_EXECUTION",
                "SELF_SCORE_INFLATED"]


def busy_form(**overrides):
    """The seed with more to find: 年初预算数 sources that do not add up (5.4 against 4), 满意率 90%
    against ≥95% scored in full with no reason given; and the seed's own low execution (56.85%)
    under a 95.7 self-score, an empty 成本指标."""
    spec = seed_form(funds={"年度资金总额": (5.4, 5.4, 3.07), "当年财政拨款": (4, 5.4, 3.07)})
    edit(spec, SATISFACTION, actual="90%")
    for key, value in overrides.items():
        setattr(spec, key, value)
    return spec


def findings_of(path) -> list[tuple]:
    return [(f.rule, f.cell, f.message, f.value, f.expected) for f in xlbatch.check_files([path]).findings]


def book(tmp_path, name, spec):
    return write_workbook(tmp_path / name, [("自评表", spec)])


# --- all findings of a form that will be rejected -----------------------------------------------------

def test_the_accepted_form_has_the_findings_the_rejected_ones_are_compared_with(tmp_path):
    rules = [f[0] for f in findings_of(book(tmp_path, "好.xlsx", busy_form()))]
    assert rules == ["FUNDS_DONT_ADD_UP", "LOW_EXECUTION", "HIGH_SCORE_LOW_EXECUTION", "INDICATOR_SCORE_MISMATCH",
                     "UNEXPLAINED_DEVIATION", "REQUIRED_CATEGORY_EMPTY"]


def test_a_form_missing_its_unit_shows_its_rejection_then_every_finding_the_accepted_form_has(tmp_path):
    accepted = findings_of(book(tmp_path, "好.xlsx", busy_form()))
    path = book(tmp_path, "缺单位.xlsx", busy_form(unit=None))
    result = xlbatch.check_files([path])
    assert [(r.status, r.code) for r in result.files] == [("rejected", "MISSING_FIELD")]
    assert result.forms.empty and result.indicators.empty  # its figures enter nothing
    found = [(f.rule, f.cell, f.message, f.value, f.expected) for f in result.findings]
    assert found[0][:2] == ("MISSING_FIELD", "G4")
    assert found[1:] == accepted  # nothing in them needs the unit's name
    assert result.extra["not_computed"] == {}


@pytest.mark.parametrize(("total", "rule"), [(None, "MISSING_FIELD"), ("五点四", "BAD_NUMBER"), (-5.4, "BAD_NUMBER")])
def test_a_form_without_a_usable_budget_shows_what_can_be_computed_without_it(tmp_path, total, rule):
    """No figure derived from the budget (rate, budget score, recomputed total) is stated: those rules
    are named as not computed. The 年初预算数 column's gap is still found; the 全年预算数 column,
    whose total is no figure, is not compared (its sources hold 5.4: a gap "0 against 5.4" would be
    false)."""
    accepted = findings_of(book(tmp_path, "好.xlsx", busy_form()))
    spec = busy_form(funds={"年度资金总额": (5.4, total, 3.07), "当年财政拨款": (4, 5.4, 3.07)})
    result = xlbatch.check_files([book(tmp_path, "缺预算.xlsx", spec)])
    found = [(f.rule, f.cell, f.message, f.value, f.expected) for f in result.findings]
    assert found[0][:2] == (rule, "D6")
    assert found[1:] == [f for f in accepted if f[0] not in FROM_AMOUNTS]
    gap = next(f for f in found if f[0] == "FUNDS_DONT_ADD_UP")
    assert "年初预算数" in gap[2] and "全年预算数" not in gap[2]
    assert list(result.extra["not_computed"].values()) == [[("全年预算数和全年执行数", FROM_AMOUNTS)]]


def test_a_form_without_its_executed_amount_is_treated_alike(tmp_path):
    spec = busy_form(funds={"年度资金总额": (5.4, 5.4, None), "当年财政拨款": (4, 5.4, 3.07)})
    result = xlbatch.check_files([book(tmp_path, "缺执行数.xlsx", spec)])
    assert rules_of(result) == ["FUNDS_DONT_ADD_UP", "INDICATOR_SCORE_MISMATCH", "MISSING_FIELD",
                                "REQUIRED_CATEGORY_EMPTY", "UNEXPLAINED_DEVIATION"]
    assert list(result.extra["not_computed"].values()) == [[("全年预算数和全年执行数", FROM_AMOUNTS)]]


def test_a_zero_budget_is_a_figure_its_sources_are_compared_with(tmp_path):
    """BUDGET_ZERO: no rate, so nothing derived from it; but 0 is what the form states, and its
    source rows hold 5.4: that gap is true and shown."""
    spec = busy_form(funds={"年度资金总额": (5.4, 0, 3.07), "当年财政拨款": (5.4, 5.4, 3.07)})
    result = xlbatch.check_files([book(tmp_path, "零预算.xlsx", spec)])
    assert result.findings[0].rule == "BUDGET_ZERO"
    gap = next(f for f in result.findings if f.rule == "FUNDS_DONT_ADD_UP")
    assert "全年预算数：年度资金总额 0，各来源合计 5.4" in gap.message
    assert not set(FROM_AMOUNTS) & set(rules_of(result))


def test_a_missing_unit_is_not_said_to_be_off_the_roster(tmp_path):
    """With a roster, an empty 实施单位 is no unit off the roster (UNKNOWN_UNIT would name the closest
    roster unit for it): that rule is named as not computed. A unit typed off the roster is flagged."""
    from test_season import COUNTY, write_roster

    write_roster(tmp_path / "花名册.xlsx")
    (tmp_path / "xlbatch.toml").write_text(f'[season]\ncounty = "{COUNTY}"\nyear = 2023\nroster = "花名册.xlsx"\n',
                                          encoding="utf-8")
    cfg = xlbatch.load_config(tmp_path / "xlbatch.toml")
    empty = xlbatch.check_files([book(tmp_path, "缺单位.xlsx", busy_form(unit=None))], cfg)
    assert "UNKNOWN_UNIT" not in rules_of(empty)
    assert list(empty.extra["not_computed"].values()) == [[("实施单位", ["UNKNOWN_UNIT"])]]
    typed = xlbatch.check_files([book(tmp_path, "外单位.xlsx", busy_form(unit="承德县某某中心", project=None))], cfg)
    assert typed.files[0].code == "MISSING_FIELD" and "UNKNOWN_UNIT" in rules_of(typed)
    assert typed.extra["not_computed"] == {}


def test_two_copies_of_a_rejected_form_are_no_duplicate_submission(tmp_path):
    """A rejected form enters no consolidation: it supersedes nothing, nothing supersedes it."""
    first = book(tmp_path, "一.xlsx", busy_form(unit=None))
    second = book(tmp_path, "二.xlsx", busy_form(unit=None))
    assert "DUPLICATE_SUBMISSION" not in rules_of(xlbatch.check_files([first, second]))


def test_a_run_still_reports_only_the_rejection_and_takes_no_figure(tmp_path, inbox):
    """`run` is unchanged: anomalies.csv has the rejection alone for that file, projects.csv no row."""
    book(inbox, "缺单位.xlsx", busy_form(unit=None))
    book(inbox, "缺预算.xlsx", busy_form(funds={"年度资金总额": (5.4, None, 3.07)}))
    book(inbox, "好.xlsx", busy_form(project="另一个项目"))
    run(inbox, tmp_path / "out")
    anomalies = list(csv.DictReader((tmp_path / "out" / "anomalies.csv").open(encoding="utf-8-sig")))
    by_file = {}
    for row in anomalies:
        by_file.setdefault(row["source_file"], []).append(row["rule"])
    assert by_file["缺单位.xlsx"] == ["MISSING_FIELD"] and by_file["缺预算.xlsx"] == ["MISSING_FIELD"]
    assert len(by_file["好.xlsx"]) == 6
    projects = list(csv.DictReader((tmp_path / "out" / "projects.csv").open(encoding="utf-8-sig")))
    assert [p["source_file"] for p in projects] == ["好.xlsx"]


# --- the terminal ------------------------------------------------------------------------------------

def _lines(text: str) -> list[str]:
    return text.splitlines()


def test_check_prints_the_rejection_first_saying_it_rejects_the_form(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    spec = busy_form(funds={"年度资金总额": (5.4, None, 3.07), "当年财政拨款": (4, 5.4, 3.07)})
    assert main(["check", str(book(tmp_path, "缺预算.xlsx", spec))]) == 1
    lines = _lines(capsys.readouterr().out)
    assert lines[:3] == [
        "缺预算.xlsx：将被退回",
        "  工作表「自评表」：将被退回，问题 5 条",
        "    【会被退回】错误 必填项为空（MISSING_FIELD），单元格 D6",
    ]
    others = lines.index("    其他问题（请一并更正）：")
    assert others > 3
    assert lines[others + 1] == "    1. 警告 资金来源不平（FUNDS_DONT_ADD_UP），单元格 C6"
    numbered = [line.strip() for line in lines if re.match(r" {4}\d\. ", line)]
    assert numbered == ["1. 警告 资金来源不平（FUNDS_DONT_ADD_UP），单元格 C6",
                        "2. 警告 指标得分有误（INDICATOR_SCORE_MISMATCH），单元格 H34",
                        "3. 警告 偏差未说明（UNEXPLAINED_DEVIATION），单元格 I34",
                        "4. 警告 必填二级指标为空（REQUIRED_CATEGORY_EMPTY），单元格 D21"]
    text = "".join(line.strip() for line in lines)
    assert ("未能检查（需要有效的全年预算数和全年执行数，填写后请重新自查）：执行率填报有误（RATE_MISMATCH）、"
            "预算执行得分有误（BUDGET_SCORE_MISMATCH）、超预算执行（OVER_BUDGET）、执行率偏低（LOW_EXECUTION）、"
            "高分低执行（HIGH_SCORE_LOW_EXECUTION）、自评分虚高（SELF_SCORE_INFLATED）") in text
    assert lines[-1].startswith("共检查 1 个文件：可受理 0 个，将被退回 1 个；问题 5 条，其中导致退回 1 条")


def test_an_accepted_form_numbers_its_findings_and_exits_0(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    assert main(["check", str(book(tmp_path, "好.xlsx", busy_form()))]) == 0
    lines = _lines(capsys.readouterr().out)
    assert lines[:3] == ["好.xlsx：可受理", "  工作表「自评表」：可受理，问题 6 条",
                         "    1. 警告 资金来源不平（FUNDS_DONT_ADD_UP），单元格 C6"]
    assert not any("会被退回" in line for line in lines)


def test_a_rejection_with_nothing_else_says_the_rest_was_checked(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    assert main(["check", str(book(tmp_path, "少年宫.xlsx", missing_unit()))]) == 1
    lines = _lines(capsys.readouterr().out)
    assert lines[2:6] == ["    【会被退回】错误 必填项为空（MISSING_FIELD），单元格 G4",
                          "      必填项「实施单位」（G4）为空，请填写后重新报送",
                          "      填报值：（空）　应为：实施单位",
                          "    其余各项规则均已检查，未发现其他问题"]


LONG_NAME = "示例县" + "基本公共卫生服务项目补助资金" * 4 + "绩效自评表（第二次修改稿，请以此为准）.xlsx"


@pytest.fixture
def varied(tmp_path):
    """A long file name, a rejected form, a busy accepted one, a broken file and the seed."""
    broken = tmp_path / "损坏.xlsx"
    broken.write_bytes(b"PK\x03\x04 not a workbook")
    return [book(tmp_path, LONG_NAME, busy_form(unit=None)), book(tmp_path, "好.xlsx", busy_form()), broken,
            book(tmp_path, "seed.xlsx", seed_form()), book(tmp_path, "少年宫.xlsx", missing_unit())]


def test_every_line_fits_80_columns_and_says_everything(varied, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    assert main(["check", *map(str, varied)]) == 1
    out = capsys.readouterr().out
    assert max(cell_len(line) for line in _lines(out)) <= 80
    joined = re.sub(r"\s", "", out)
    result = xlbatch.check_files(varied)
    for f in result.findings:  # no text lost to the wrapping: each message is there, whole
        assert re.sub(r"\s", "", f.message) in joined
    assert LONG_NAME in joined


@pytest.mark.parametrize("width", [40, 60, 80, 100])
def test_a_narrow_console_gets_lines_no_wider_than_itself(varied, width):
    out = io.StringIO()
    print_check(xlbatch.check_files(varied), Console(file=out, width=width))
    assert max(cell_len(line) for line in _lines(out.getvalue())) <= width


def _wrapped(text: str, width: int) -> list[str]:
    return [text[a:b] for a, b in wrap(text, width)]


def test_wrap_breaks_chinese_between_characters_and_keeps_words_and_punctuation_in_place():
    text = "指标「新建高标准农田面积」未完全达成（年度指标值「≥5000 亩」，实际完成值「4200 亩」，得分 15/15）"
    lines = _wrapped(text, 30)
    # 「≥5000 亩」 does not fit: 亩 goes along with its 」 (no line starts with closing punctuation).
    assert lines == ["指标「新建高标准农田面积」未完", "全达成（年度指标值「≥5000", "亩」，实际完成值「4200 亩」，",
                     "得分 15/15）"]
    # A comma that does not fit takes the number before it along; an opening bracket goes with what follows.
    assert _wrapped("预算执行率为 72.00%，低于下限", 20) == ["预算执行率为", "72.00%，低于下限"]
    assert _wrapped("预算执行率达到了「完成」", 18) == ["预算执行率达到了", "「完成」"]
    # Less than half a line left by taking tokens along: the break stays where the width falls.
    assert _wrapped("「「「「「「「「", 6) == ["「「「", "「「「", "「「"]


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("执行率填报有误指标 abcXYZ0123456789.%，。、）「」（“”\n")),
               max_size=120), st.integers(min_value=4, max_value=50))
def test_wrap_never_exceeds_the_width_nor_loses_a_character(text, width):
    lines = _wrapped(text, width)
    assert all(cell_len(line) <= width for line in lines)
    assert "".join(lines).replace(" ", "") == text.replace(" ", "").replace("\n", "")


# --- --format xlsx --------------------------------------------------------------------------------------

HEADERS = ["序号", "文件", "工作表", "单元格", "规则", "说明", "填报值", "应为", "是否导致\n退回"]


@pytest.fixture
def check_book(varied, tmp_path, capsys):
    out = tmp_path / "自查结果.xlsx"
    assert main(["check", *map(str, varied), "--format", "xlsx", "-o", str(out)]) == 1
    said = capsys.readouterr().out
    assert f"已写入自查结果：{out}" in said.replace("\n", "")
    return out


def test_the_workbook_holds_the_findings_the_terminal_shows_in_its_order(check_book, varied):
    ws = openpyxl.load_workbook(check_book)["自查结果"]
    assert ws["A1"].value == "项目支出绩效自评表自查结果"
    assert ws["A2"].value.startswith("检查时间：") and "共检查 5 个文件：可受理 2 个，将被退回 3 个" in ws["A2"].value
    assert [c.value for c in ws[3]] == HEADERS
    rows = [[c.value for c in row] for row in ws.iter_rows(min_row=4)]
    assert [r[0] for r in rows] == list(range(1, len(rows) + 1))
    expected = []
    for record, groups in grouped(xlbatch.check_files(varied)):
        for group in groups:
            for f, rejecting in [(f, "是") for f in group.rejections] + [(f, "否") for f in group.others]:
                expected.append([record.path, f.sheet or None, f.cell or None, f.message, f.value or None,
                                 f.expected or None, rejecting])
            if group.not_computed:
                expected.append([record.path, group.sheet, None, "not computed", None, None, "否"])
            elif group.sheet and not (group.rejections or group.others):
                expected.append([record.path, group.sheet, None, "未发现问题", None, None, "否"])
            elif group.sheet and not group.others:
                expected.append([record.path, group.sheet, None, NO_OTHER, None, None, "否"])
    got = [[r[1], r[2], r[3], "not computed" if r[5].startswith("未能检查") else r[5], r[6], r[7], r[8]]
           for r in rows]
    assert got == expected
    rules = [r[4] for r in rows if r[4]]
    assert all(re.fullmatch(r"(错误|警告|提示)：\S+\n（[A-Z_]+）", rule) for rule in rules)
    assert rows[0][4] == "错误：必填项为空\n（MISSING_FIELD）" and rows[0][8] == "是"
    broken = next(r for r in rows if r[1] == "损坏.xlsx")
    assert broken[4] == "错误：文件无法读取\n（FILE_UNREADABLE）" and broken[8] == "是"
    assert next(r[5] for r in rows if r[1] == "seed.xlsx").startswith("预算执行率 56.85%")


def test_the_workbook_is_print_ready(check_book):
    ws = openpyxl.load_workbook(check_book)["自查结果"]
    setup = ws.page_setup
    assert (setup.orientation, int(setup.paperSize), setup.fitToWidth or 1, setup.fitToHeight) == (
        "landscape", 9, 1, 0)
    assert ws.print_title_rows == "$3:$3" and ws.freeze_panes == "A4" and ws.auto_filter.ref.startswith("A3:I")
    assert "第 &P 页，共 &N 页" in ws.oddFooter.center.text
    widths = [ws.column_dimensions[chr(ord("A") + i)].width for i in range(len(COLUMNS))]
    assert [round(w) for w in widths] == [round(w + 0.71) for _, w in COLUMNS]  # XlsxWriter adds the padding
    for row in ws.iter_rows(min_row=4):
        assert all(c.alignment.wrap_text for c in row)
        message = row[5].value
        assert ws.row_dimensions[row[0].row].height >= 14.5 * (1 + len(message) * 2 // 80)


def _text_lines(pdftotext: str, pdf) -> list[tuple]:
    """Every text line of the PDF: (page, xMin, yMin, xMax, yMax, text), from pdftotext -bbox-layout."""
    xml = subprocess.run([pdftotext, "-bbox-layout", str(pdf), "-"], capture_output=True, text=True,
                         check=True).stdout
    out = []
    for page, body in enumerate(xml.split("<page ")[1:]):
        for m in re.finditer(r'<line xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">(.*?)</line>',
                             body, re.S):
            out.append((page, *map(float, m.groups()[:4]), "".join(re.findall(r">([^<]*)</word>", m[5]))))
    return out


def overlapping(lines: list[tuple]) -> list[tuple[str, str]]:
    """Pairs of text lines drawn over each other: a row too short for its wrapped text runs into the next."""
    return [(a[5], b[5]) for i, a in enumerate(lines) for b in lines[i + 1:]
            if a[0] == b[0] and min(a[3], b[3]) - max(a[1], b[1]) > 1 and min(a[4], b[4]) - max(a[2], b[2]) > 1]


def test_libreoffice_prints_the_workbook_on_a4_landscape_without_overlaps(check_book, libreoffice, pdftotext,
                                                                          tmp_path):
    (pdf,) = libreoffice.convert([check_book], "pdf", tmp_path / "pdf")
    lines = _text_lines(pdftotext, pdf)
    text = "".join(line[5] for line in lines)
    for needed in ("项目支出绩效自评表自查结果", "是否导致", "（MISSING_FIELD）", "（FILE_UNREADABLE）",
                   "（INDICATOR_SCORE_MISMATCH）", "损坏.xlsx", "seed.xlsx", "第1页，共"):
        assert needed in text, needed
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    assert re.search(r"Page size:\s+841\.\d+ x 595\.\d+ pts \(A4\)", info)
    assert overlapping(lines) == []


def test_libreoffice_prints_the_template_as_one_portrait_a4_page(libreoffice, pdftotext, tmp_path, capsys):
    out = tmp_path / "模板.xlsx"
    assert main(["template", "-o", str(out)]) == 0
    (pdf,) = libreoffice.convert([out], "pdf", tmp_path / "pdf")
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    assert re.search(r"Page size:\s+595\.\d+ x 841\.\d+ pts \(A4\)", info)
    assert re.search(r"Pages:\s+2\n", info)  # 填报说明, then the form on one page
    form = [line for line in _text_lines(pdftotext, pdf) if line[0] == 1]
    texts = [line[5] for line in form]
    assert texts[0] == "附件1" and texts[1] == "项目支出绩效自评表"
    assert form[0][2] < form[1][2]  # 附件1 above the title
    assert "总分" in texts and overlapping(form) == []


def test_the_workbook_is_named_for_what_it_holds_by_default(tmp_path, monkeypatch, capsys):
    path = book(tmp_path, "好.xlsx", busy_form())
    monkeypatch.chdir(tmp_path)
    assert main(["check", str(path), "--format", "xlsx"]) == 0
    assert openpyxl.load_workbook(tmp_path / "自查结果.xlsx")["自查结果"].max_row == 3 + 6
    assert capsys.readouterr().out.splitlines()[-1] == "已写入自查结果：自查结果.xlsx"


def test_a_unit_checks_its_package_as_a_run_would_open_it(tmp_path, capsys, monkeypatch):
    """A unit about to send a .zip checks the package itself: its members are read in memory and
    checked one by one, named ARCHIVE.zip/MEMBER as the bureau's run will name them."""
    import zipfile

    monkeypatch.setenv("COLUMNS", "80")
    form = book(tmp_path, "源.xlsx", busy_form()).read_bytes()
    package = tmp_path / "社保中心.zip"
    with zipfile.ZipFile(package, "w") as z:
        z.writestr("自评表/项目甲.xlsx", form)
        z.writestr("说明.txt", "见自评表")
    assert main(["check", str(package)]) == 0
    lines = _lines(capsys.readouterr().out)
    assert lines[0] == "社保中心.zip：压缩包，其中的文件逐个检查如下"
    assert lines[1] == "社保中心.zip/自评表/项目甲.xlsx：可受理"
    assert any(line.startswith("社保中心.zip/说明.txt：不是自评表文件，未检查") for line in lines)
    start = lines.index(next(x for x in lines if x.startswith("共检查")))
    summary = "".join("".join(lines[start:]).split())  # wrapped at a space: compared without spaces
    assert summary.startswith("共检查2个文件（另有1个压缩包，其中的文件已逐个计入）：可受理1个，将被退回0个")
    assert all(cell_len(line) <= 80 for line in lines)
