"""form/vocabulary.py: one table of the form's words, which the parser asks and the outputs show."""

from __future__ import annotations

import ast
import dataclasses
import subprocess
import sys
from pathlib import Path

import pytest
from python_calamine import CalamineWorkbook
from seed import seed_form
from variants import Formula, Grid, standard_grid

from xlbatch import models
from xlbatch.checks import score
from xlbatch.form import vocabulary
from xlbatch.form.locate import fit
from xlbatch.form.parse import parse_sheet
from xlbatch.form.values import label_key
from xlbatch.intake.read import Sheet
from xlbatch.outputs.changes import FIGURES
from xlbatch.outputs.template import FormSpec, write_workbook

ALL_ROLES = [(group, key, role) for group, roles in vocabulary.ROLES.items() for key, role in roles.items()]
ROLE_IDS = [f"{group}.{key}" for group, key, _ in ALL_ROLES]


@pytest.mark.parametrize(("group", "key", "role"), ALL_ROLES, ids=ROLE_IDS)
def test_every_role_has_a_label_and_stems_a_label_can_match(group, key, role):
    assert role.label.strip() == role.label != ""
    assert role.stems, f"{group}.{key} has no stem"
    for stem in role.stems:
        # A stem is compared with a label's key (no spaces, colons or (suffixes)): one that
        # label_key would change could never match, and a blank one would match everything.
        assert stem != "" and label_key(stem) == stem, (group, key, stem)
    assert len(set(role.stems)) == len(role.stems)
    assert role.slack >= 0


@pytest.mark.parametrize(("group", "key", "role"), ALL_ROLES, ids=ROLE_IDS)
def test_a_roles_own_label_and_printed_text_fit_it_closer_than_any_other_role_of_its_group(group, key, role):
    """年初预算数 also holds 预算数 (a 全年预算数 spelling), but it holds more of 年初预算."""
    for text in (role.label, role.form_text):
        fits = {other: found.closeness for other, r in vocabulary.ROLES[group].items()
                if (found := fit(label_key(text), r)) is not None}
        best = max(fits.values())
        assert [other for other, closeness in fits.items() if closeness == best] == [key], (text, fits)


def test_the_blank_template_prints_every_role_as_the_vocabulary_says(tmp_path):
    path = write_workbook(tmp_path / "blank.xlsx", [("自评表", FormSpec())])
    cells = {value for row in CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python()
             for value in row if isinstance(value, str)}
    for group, key, role in ALL_ROLES:
        printed = f"{group}.{key}" not in vocabulary.NOT_IN_TEMPLATE
        assert (role.form_text in cells) == printed, (group, key, role.form_text)
    assert vocabulary.TITLE in cells and vocabulary.TITLE_WORD in vocabulary.TITLE


def test_vocabulary_is_a_leaf_and_cheap_to_import():
    source = Path(vocabulary.__file__).read_text(encoding="utf-8")
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom):
            assert node.level == 0 and node.module in ("__future__", "dataclasses"), node.module
        elif isinstance(node, ast.Import):
            pytest.fail(f"vocabulary imports {[a.name for a in node.names]}")
    # Imported alone it loads no other module of xlbatch; models (imported by every stage, the
    # workers included) takes its fund keys from it and still loads no pandas.
    code = ("import sys, importlib; importlib.import_module(sys.argv[1]); "
            "print(sorted(m for m in sys.modules if m.startswith(('xlbatch', 'pandas', 'pandera'))))")

    def loaded(module: str) -> list[str]:
        out = subprocess.run([sys.executable, "-c", code, module], capture_output=True, text=True, check=True)
        return ast.literal_eval(out.stdout)

    assert loaded("xlbatch.form.vocabulary") == ["xlbatch", "xlbatch.form", "xlbatch.form.vocabulary"]
    assert not [m for m in loaded("xlbatch.models") if m.startswith("pandas")]


# --- the parser asks the table ---------------------------------------------------------------

def _sheet(grid: Grid) -> Sheet:
    """The grid as read.py hands a sheet over: cached values of formulas, merged ranges."""
    height = grid.height
    width = max((c for _r, c in grid.cells), default=-1) + 1
    rows = [[grid.cells.get((r, c)) for c in range(width)] for r in range(height)]
    rows = [[v.cached if isinstance(v, Formula) else v for v in row] for row in rows]
    return Sheet("自评表", rows, merged=[((r0, c0), (r1, c1)) for r0, c0, r1, c1 in grid.merges])


SPELLINGS = [  # (group, role, the template's label, a spelling the built-in stems lack, what it reads)
    ("header", "unit", "实施单位", "承办机构", lambda form: form.unit.value),
    ("fund_column", "full_year", "全年预算数", "核定金额", lambda form: form.funds["total"]["full_year"].value),
    ("indicator_column", "target", "年度\n指标值", "计划数", lambda form: form.indicators[0].target.value),
]


@pytest.mark.parametrize(("group", "key", "printed", "spelling", "read"), SPELLINGS,
                         ids=[f"{g}.{k}" for g, k, *_ in SPELLINGS])
def test_a_spelling_added_to_the_table_is_found_by_the_parser(monkeypatch, group, key, printed, spelling, read):
    spec = seed_form()
    expected = read(parse_sheet(_sheet(standard_grid(spec)), "seed.xlsx"))
    assert expected not in (None, "")
    sheet = _sheet(standard_grid(spec).relabel(printed, spelling))
    unknown = parse_sheet(sheet, "seed.xlsx")
    assert unknown is None or read(unknown) != expected  # not found by today's words
    roles = vocabulary.ROLES[group]
    monkeypatch.setitem(roles, key, dataclasses.replace(roles[key], stems=(*roles[key].stems, spelling)))
    assert read(parse_sheet(sheet, "seed.xlsx")) == expected


def test_a_roles_slack_is_the_one_the_parser_applies(monkeypatch):
    """The 总分 row: "总分合计" (2 after 总分, or 2 before 合计) closes the table; with slack 1 and
    nothing allowed before a stem the row reads as an indicator."""
    grid = standard_grid(seed_form()).relabel("总分", "总分合计")
    form = parse_sheet(_sheet(grid), "seed.xlsx")
    assert (form.total_weight.value, form.total_reported.value, len(form.indicators)) == (100, 95.7, 10)
    tight = dataclasses.replace(vocabulary.TOTAL, slack=1, before=0)
    monkeypatch.setitem(vocabulary.ROLES["total"], "total", tight)
    tight = parse_sheet(_sheet(grid), "seed.xlsx")
    assert (tight.total_weight.value, tight.total_reported.value, len(tight.indicators)) == (None, None, 11)


# --- the names the outputs show are today's ----------------------------------------------------

def test_display_labels_are_the_strings_the_outputs_showed():
    assert list(vocabulary.FUND_ROW_LABELS.items()) == [
        ("total", "年度资金总额"), ("current", "当年财政拨款"), ("carryover", "上年结转资金"), ("other", "其他资金")]
    assert list(vocabulary.FUND_COL_LABELS.items()) == [
        ("initial", "年初预算数"), ("full_year", "全年预算数"), ("executed", "全年执行数"),
        ("weight", "分值"), ("rate", "执行率"), ("score", "得分")]
    assert vocabulary.FUND_ROWS == ("total", "current", "carryover", "other")
    assert vocabulary.FUND_COLS == ("initial", "full_year", "executed", "weight", "rate", "score")
    assert [r.label for r in vocabulary.HEADER.values()] == ["项目名称", "主管部门", "实施单位"]
    assert [r.label for r in vocabulary.INDICATOR_COLUMN.values()] == [
        "一级指标", "二级指标", "三级指标", "年度指标值", "实际完成值", "分值", "得分", "偏差原因分析及改进措施",
        "指标性质", "度量单位"]  # the last two: columns of forms that split the target (四川)
    assert vocabulary.TOTAL.label == "总分"
    assert FIGURES == {"total_reported": "自评总分", "total_score": "复算总分", "execution_rate": "执行率",
                       "budget_full_year": "全年预算数（万元）", "executed": "全年执行数（万元）",
                       "grade_reported": "自评等级", "grade": "复算等级", "anomaly_count": "问题数"}
    assert vocabulary.TIER_LABELS == {"achieved": "已完成", "partly": "部分完成", "not_achieved": "未完成",
                                      "unknown": "无法判断完成程度"}
    assert set(vocabulary.BLANK_MARKERS) == {"", "-", "--", "/", "\\", "无", "——"}


def test_the_fund_names_live_only_in_the_vocabulary():
    """No module defines the funds block's keys or labels again: the ones that use them import them."""
    src = Path(vocabulary.__file__).parents[1]
    names = {"FUND_ROWS", "FUND_COLS", "FUND_ROW_LABELS", "FUND_COL_LABELS", "AMOUNT_COLS", "SOURCE_ROWS"}
    for path in src.rglob("*.py"):
        if path.name == "vocabulary.py":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        defined = {t.id for node in ast.walk(tree) if isinstance(node, ast.Assign)
                   for t in node.targets if isinstance(t, ast.Name)}
        assert not defined & names, f"{path.relative_to(src)} defines {sorted(defined & names)}"
    assert not hasattr(models, "FUND_COL_LABELS")
    assert score.AMOUNT_COLS is vocabulary.AMOUNT_COLS == ("initial", "full_year", "executed")
