"""The rule catalogue: every code registered once, in the catalogue's order, beside its checks;
every read-stage message raised in src exists with the fields it is given; no rule code is a
string literal outside the catalogue's modules."""

from __future__ import annotations

import ast
import string
import subprocess
import sys
from pathlib import Path

import pytest

import xlbatch
from xlbatch import catalogue
from xlbatch.catalogue import READ, REPORTS, SEASON, MessageError, Rule, register, template_fields
from xlbatch.checks import rules
from xlbatch.checks.rules import (
    CATALOGUE,
    RULES,
    execution,
    indicators,
    rejections,
    reports,
    scores,
    season,
    submissions,
)
from xlbatch.intake import read_rules
from xlbatch.intake.read_rules import FILE_UNREADABLE, FILE_UNSAFE, NO_FORM_FOUND
from xlbatch.intake.safety import ReadError

SRC = Path(xlbatch.__file__).parent
RULE_MODULES = (read_rules, rejections, execution, scores, indicators, submissions, season, reports)
CATALOGUE_FILES = {SRC / "catalogue.py", SRC / "intake" / "read_rules.py", *(SRC / "checks" / "rules").glob("*.py")}

# The order of the workbook's rule list, run.json's catalogue and the findings (as before the
# catalogue was split into modules): a new rule may be inserted, none may move.
ORDER = [
    "FILE_UNREADABLE", "FILE_UNSAFE", "NO_FORM_FOUND", "MISSING_FIELD", "BAD_NUMBER", "BUDGET_ZERO", "RATE_MISMATCH",
    "BUDGET_SCORE_MISMATCH", "OVER_BUDGET", "FUNDS_DONT_ADD_UP", "LOW_EXECUTION", "HIGH_SCORE_LOW_EXECUTION",
    "SCORE_OUT_OF_RANGE", "INDICATOR_SCORE_MISMATCH", "WEIGHTS_INVALID", "TOTAL_MISMATCH", "SELF_SCORE_INFLATED",
    "UNEXPLAINED_DEVIATION", "MISSING_ACTUAL", "REQUIRED_CATEGORY_EMPTY", "INCOMPARABLE_VALUES",
    "DUPLICATE_SUBMISSION", "AMOUNT_SCALE_SUSPECT", "WRONG_YEAR", "NOT_SUBMITTED", "UNKNOWN_UNIT", "LATE_SUBMISSION",
    "REPORT_MISSING", "FORMS_MISSING", "REPORT_FIGURE_MISMATCH",
]


def _sources() -> list[tuple[Path, ast.Module]]:
    return [(path, ast.parse(path.read_text(encoding="utf-8"))) for path in sorted(SRC.rglob("*.py"))]


def test_every_code_is_registered_once_in_the_catalogue_order():
    assert [rule.code for rule in CATALOGUE] == ORDER
    assert list(RULES) == ORDER and all(RULES[rule.code] is rule for rule in CATALOGUE)
    assert catalogue.registered() == CATALOGUE
    with pytest.raises(ValueError, match="RATE_MISMATCH is registered twice"):
        register(Rule("RATE_MISMATCH", "warning", "t", "d", READ))
    assert catalogue.registered() == CATALOGUE


def test_each_rule_is_a_module_level_object_named_by_its_code():
    """`from xlbatch.checks.rules import RATE_MISMATCH` is the rule: each defined in one module, by its code."""
    defined = [(module.__name__, name) for module in RULE_MODULES
               for name, value in vars(module).items() if isinstance(value, Rule)]
    assert sorted(name for _, name in defined) == sorted(ORDER)
    for module_name, name in defined:
        assert getattr(sys.modules[module_name], name) is RULES[name]
        assert getattr(rules, name) is RULES[name]


def test_read_rules_carry_messages_and_frame_rules_carry_checks():
    """Rules that judge no form row (the read stage's; the season's per roster unit or file; the reports
    stage's, forms and 自评报告 together) carry messages; the others carry frame checks."""
    for rule in CATALOGUE:
        if rule.stage in (READ, SEASON, REPORTS):
            assert rule.messages and not rule.checks, rule.code
        else:
            assert rule.checks and not rule.messages, rule.code


def _rule_calls(tree: ast.Module):
    """(call, rule name, key node, keyword names) of every ReadError(RULE, "key", …) and RULE.message("key", …)."""
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if isinstance(func, ast.Name) and func.id == "ReadError":
            rule, key = [*node.args, None, None][:2]
        elif isinstance(func, ast.Attribute) and func.attr == "message" and isinstance(func.value, ast.Name) \
                and func.value.id in RULES:
            rule, key = func.value, (node.args or [None])[0]
        else:
            continue
        yield node, rule, key, [kw.arg for kw in node.keywords]


def test_every_message_raised_in_src_exists_with_the_fields_it_is_given():
    used = set()
    for path, tree in _sources():
        for call, rule, key, fields in _rule_calls(tree):
            where = f"{path.relative_to(SRC)}:{call.lineno}"
            if path.name == "safety.py" and isinstance(rule, ast.Name) and rule.id == "rule":
                continue  # ReadError's own definition, filling whatever it is given
            assert isinstance(rule, ast.Name) and rule.id in RULES, f"{where}: the rule is not named"
            assert isinstance(key, ast.Constant) and isinstance(key.value, str), f"{where}: the key is not a literal"
            assert None not in fields, f"{where}: fields given as **mapping cannot be checked"
            templates = RULES[rule.id].messages
            assert key.value in templates, f"{where}: {rule.id} has no message {key.value!r}"
            assert set(fields) == template_fields(templates[key.value]), f"{where}: fields of {key.value!r}"
            used.add((rule.id, key.value))
    defined = {(rule.code, key) for rule in CATALOGUE for key in rule.messages}
    assert defined - used == set(), "templates no code raises"
    assert len(used) == len(defined)


def test_no_rule_code_is_a_string_literal_outside_the_catalogue():
    found = []
    for path, tree in _sources():
        if path in CATALOGUE_FILES:
            continue
        found += [f"{path.relative_to(SRC)}:{node.lineno} {node.value}" for node in ast.walk(tree)
                  if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.strip() in RULES]
    assert found == []


def _sample(spec: str):
    return 123.456 if spec else "样例"


@pytest.mark.parametrize(("rule", "key"), [(r, k) for r in (FILE_UNREADABLE, FILE_UNSAFE, NO_FORM_FOUND)
                                           for k in r.messages])
def test_each_read_message_renders(rule, key):
    template = rule.messages[key]
    fields = {name.split(".")[0]: _sample(spec) for _, name, spec, _ in string.Formatter().parse(template) if name}
    text = rule.message(key, **fields)
    assert text and "{" not in text and "}" not in text
    error = ReadError(rule, key, **fields)
    assert (error.code, error.message, str(error), error.rule) == (rule.code, text, text, rule)


def test_read_messages_are_filled_as_the_refusals_wrote_them():
    """Format specs as before: sizes in MB, ratios rounded, the limit without trailing zeros."""
    assert FILE_UNSAFE.message("ratio", name="xl/a.xml", ratio=150.6, limit=100.0) == \
        "压缩包内 xl/a.xml 压缩比 151:1，超过上限 100:1（疑似压缩炸弹），拒绝读取"
    assert FILE_UNSAFE.message("file_size", limit_mb=200.0, size_mb=250.123) == \
        "文件大小超过上限 200 MB（250 MB），拒绝读取"
    assert FILE_UNSAFE.message("member_size", name="xl/s.xml", limit_mb=50.5, size_mb=60.7) == \
        "压缩包内 xl/s.xml 解压后超过单个文件上限 50.5 MB（至少 61 MB），拒绝读取"
    assert FILE_UNREADABLE.message("word_in_ole", suffix=".xls") == \
        "文件扩展名为 .xls，但内容是 Word 文档，不是电子表格；请报送 Excel 格式的自评表"
    assert FILE_UNREADABLE.message("other_document", suffix=".xlsx", kind="PowerPoint 演示文稿") == \
        "文件扩展名为 .xlsx，但内容是PowerPoint 演示文稿，不是电子表格；请报送 Excel 格式的自评表"


def test_a_wrong_key_or_wrong_fields_fail_clearly():
    with pytest.raises(MessageError, match=r"FILE_UNSAFE has no message 'dtdd' \(it has: .*dtd"):
        FILE_UNSAFE.message("dtdd", part="x")
    with pytest.raises(MessageError, match=r"takes the fields \['part'\], was given \[\]"):
        ReadError(FILE_UNSAFE, "dtd")
    with pytest.raises(MessageError, match=r"was given \['part', 'size'\]"):
        FILE_UNSAFE.message("dtd", part="x", size=1)
    with pytest.raises(MessageError, match="no valid template"):
        Rule("X", "error", "t", "d", READ, messages={"k": "{unclosed"})
    with pytest.raises(ValueError, match="not a read-stage rule"):
        ReadError(RULES["RATE_MISMATCH"], "k")


def test_the_catalogue_loads_neither_pandas_nor_pandera():
    """The read stage (worker start-up) and the whole catalogue import without pandas or pandera."""
    code = ("import sys, xlbatch.intake.read, xlbatch.form.analyse, xlbatch.checks.rules; "
            "print(sorted(m for m in ('pandas', 'pandera') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_descriptions_show_the_configured_thresholds():
    """A description names settings, not numbers: a bureau that sets its own thresholds reads them."""
    from xlbatch.checks.rules import explain
    from xlbatch.config import parse_config

    default = {r.code: explain(r, xlbatch.Config()) for r in CATALOGUE}
    assert default["LOW_EXECUTION"] == "预算执行率低于下限 80%"
    assert default["HIGH_SCORE_LOW_EXECUTION"] == "自评总分不低于 90 分而预算执行率低于 60%"
    assert default["SELF_SCORE_INFLATED"] == "填报总分比复算总分高出 1 分以上"
    assert default["AMOUNT_SCALE_SUSPECT"].startswith("金额超过 10,000 万元，")
    assert not any("{" in text or "}" in text for text in default.values())
    cfg = parse_config({"rules": {"low_execution": 0.85, "high_score": 95, "high_score_low_execution": 0.5,
                                  "inflation_points": 2.5, "amount_limit": 50000}})
    mine = {r.code: explain(r, cfg) for r in CATALOGUE}
    assert mine["LOW_EXECUTION"] == "预算执行率低于下限 85%"
    assert mine["HIGH_SCORE_LOW_EXECUTION"] == "自评总分不低于 95 分而预算执行率低于 50%"
    assert mine["SELF_SCORE_INFLATED"] == "填报总分比复算总分高出 2.5 分以上"
    assert mine["AMOUNT_SCALE_SUSPECT"].startswith("金额超过 50,000 万元，")


def test_the_run_shows_descriptions_with_its_own_settings(tmp_path: Path):
    """运行说明's rule list and run.json's catalogue are explained with the run's configuration."""
    import json
    import shutil

    from python_calamine import CalamineWorkbook

    from xlbatch.config import parse_config
    from xlbatch.nightly import run

    shutil.copytree(Path(__file__).resolve().parents[1] / "inbox", tmp_path / "inbox")
    cfg = parse_config({"rules": {"inflation_points": 3}})
    run(tmp_path / "inbox", tmp_path / "outbox", cfg)
    catalogue_json = json.loads((tmp_path / "outbox" / "run.json").read_text(encoding="utf-8"))["rules"]
    described = {r["code"]: r["description"] for r in catalogue_json}
    assert described["SELF_SCORE_INFLATED"] == "填报总分比复算总分高出 3 分以上"
    notes = CalamineWorkbook.from_path(str(tmp_path / "outbox" / "consolidated.xlsx")).get_sheet_by_name("运行说明")
    row = next(r for r in notes.to_python() if r[0] == "SELF_SCORE_INFLATED")
    assert row[3] == "填报总分比复算总分高出 3 分以上"
