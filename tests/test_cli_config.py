"""Configuration, the command line, the blank template and the README's promises."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest
from conftest import rules_of, run_specs
from seed import seed_form

from xlbatch.checks.rules import CATALOGUE
from xlbatch.cli import main
from xlbatch.config import Config, ConfigError, load_config, parse_config
from xlbatch.form.parse import parse_sheet
from xlbatch.intake.discover import discover
from xlbatch.intake.read import read_workbook
from xlbatch.outputs.template import write_workbook
from xlbatch.pipeline import process

ROOT = Path(__file__).resolve().parents[1]


def test_defaults_without_a_file():
    cfg = load_config(None)
    assert cfg == Config()
    assert cfg.rules.low_execution == 0.8 and cfg.limits.max_compression_ratio == 100


def test_toml_overrides_and_thresholds_take_effect(tmp_path, inbox):
    path = tmp_path / "xlbatch.toml"
    path.write_text("[rules]\nlow_execution = 0.5\n\n[scoring]\nrequired_categories = ['数量']\n",
                    encoding="utf-8")
    cfg = load_config(path)
    assert cfg.rules.low_execution == 0.5 and cfg.rules.high_score == 90.0
    # The seed (56.85%) is no longer "low" at 50%, and 成本指标 is no longer required.
    assert rules_of(run_specs(inbox, seed_form(), config=cfg)) == ["HIGH_SCORE_LOW_EXECUTION"]


@pytest.mark.parametrize("text, key", [
    ("[rules]\nlow_executon = 0.5\n", "rules.low_executon"),
    ("worker = 4\n", "worker"),
    ("[limit]\nmax_compression_ratio = 10\n", "limit"),
])
def test_unknown_key_is_an_error_naming_it(tmp_path, text, key):
    path = tmp_path / "xlbatch.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert f"未知配置项 {key}" in str(err.value) and str(path) in str(err.value)


def test_wrong_type_and_bad_toml_are_errors(tmp_path):
    with pytest.raises(ConfigError, match=r"rules\.low_execution"):
        parse_config({"rules": {"low_execution": "八成"}})
    path = tmp_path / "bad.toml"
    path.write_text("[rules\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="不是有效的 TOML"):
        load_config(path)


def test_cli_run_exit_0_and_outputs(tmp_path, inbox, capsys):
    write_workbook(inbox / "seed.xlsx", [("自评表", seed_form())])
    (inbox / "broken.xlsx").write_bytes(b"not a workbook")
    outbox = tmp_path / "outbox"
    assert main(["run", "--inbox", str(inbox), "--outbox", str(outbox)]) == 0
    line = capsys.readouterr().out
    assert "受理 1" in line and "未受理 1" in line and "问题 4 条" in line
    data = json.loads((outbox / "run.json").read_text(encoding="utf-8"))
    assert {f["path"]: f["status"] for f in data["files"]} == {"seed.xlsx": "accepted",
                                                               "broken.xlsx": "rejected"}


def test_cli_config_error_exits_2(tmp_path, inbox, capsys):
    bad = tmp_path / "x.toml"
    bad.write_text("[rules]\nfoo = 1\n", encoding="utf-8")
    assert main(["run", "--inbox", str(inbox), "--outbox", str(tmp_path / "o"), "--config", str(bad)]) == 2
    assert "未知配置项 rules.foo" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_cli_missing_inbox_and_usage_exit_2(tmp_path, capsys):
    assert main(["run", "--inbox", str(tmp_path / "nope"), "--outbox", str(tmp_path / "o")]) == 2
    assert "收件箱目录不存在" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_:
        main(["frobnicate"])
    assert exit_.value.code == 2


def test_cli_check_exit_codes(tmp_path, capsys):
    good = write_workbook(tmp_path / "好.xlsx", [("自评表", seed_form())])
    bad = write_workbook(tmp_path / "坏.xlsx", [("自评表", seed_form(unit=None))])
    assert main(["check", str(good)]) == 0
    out = capsys.readouterr().out
    assert "可受理" in out and "LOW_EXECUTION" in out and "G6" in out and "应为" in out
    assert main(["check", str(good), str(bad)]) == 1
    out = capsys.readouterr().out
    assert "将被退回" in out and "MISSING_FIELD" in out and "G4" in out


def test_cli_template_writes_the_committed_form(tmp_path):
    out = tmp_path / "t.xlsx"
    assert main(["template", "-o", str(out)]) == 0
    committed = ROOT / "templates" / "项目支出绩效自评表（模板）.xlsx"
    for path in (out, committed):
        sheets = read_workbook(path, Config().limits)
        assert [s.name for s in sheets] == ["填报说明", "自评表"]
        assert parse_sheet(sheets[0], "t") is None  # the instructions are not a form
        form = parse_sheet(sheets[1], "t")
        assert form is not None and form.indicators == []
        levels = [(c.level1.split()[0], c.level2) for c in form.categories]
        assert levels == [("产出指标", "数量指标"), ("产出指标", "质量指标"), ("产出指标", "时效指标"),
                          ("产出指标", "成本指标"), ("效益指标", "经济效益指标"), ("效益指标", "社会效益指标"),
                          ("效益指标", "生态效益指标"), ("效益指标", "可持续影响指标"),
                          ("满意度指标", "服务对象满意度指标")]
        assert [b.points for b in form.blocks] == [50, 30, 10]
        assert form.funds["total"]["weight"].value == 10


def test_filled_template_round_trips(tmp_path, inbox):
    """A unit fills the blank template in the cells the labels point to: it is accepted as is."""
    from openpyxl import load_workbook

    shutil.copy(ROOT / "templates" / "项目支出绩效自评表（模板）.xlsx", tmp_path / "t.xlsx")
    book = load_workbook(tmp_path / "t.xlsx")
    ws = book["自评表"]
    # Row 1 holds 附件1 above the title (issue 14): the form starts one row lower than write_form's.
    ws["C4"], ws["C5"], ws["G5"] = "乡村道路养护", "示例县交通运输局", "示例县公路养护中心"
    ws["C7"], ws["D7"], ws["E7"] = 40, 40, 38
    ws["D14"], ws["E14"], ws["F14"], ws["G14"], ws["H14"] = "养护里程", "≥120 公里", "126 公里", 50, 50
    book.save(inbox / "filled.xlsx")
    result = run_specs(inbox)
    assert result.files[0].status == "accepted"
    form = result.forms.iloc[0]
    assert form["execution_rate"] == pytest.approx(0.95)
    assert form["unit"] == "示例县公路养护中心"
    assert "REQUIRED_CATEGORY_EMPTY" in rules_of(result)
    # One indicator filled in: the other required categories are empty and the 分值 add up to
    # 10 + 50. openpyxl saves formulas without their cached values, so 总分 reads as empty.
    assert rules_of(result) == ["REQUIRED_CATEGORY_EMPTY", "TOTAL_MISMATCH", "WEIGHTS_INVALID"]
    assert pd.isna(form["total_reported"]) and form["total_score"] == pytest.approx(9.5 + 50)


def test_readme_quick_start_and_ci_agree():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"## Quick start\s+```bash\n(.*?)```", readme, re.S).group(1)
    commands = [line for line in block.splitlines() if line.strip()]
    assert len(commands) == 2
    assert "xlbatch run" in commands[0] and "pytest" in commands[1]
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert commands[1] in ci


def test_readme_lists_every_rule():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for rule in CATALOGUE:
        assert f"`{rule.code}`" in readme, rule.code


def test_shipped_sample_inbox_is_the_generated_one(tmp_path):
    """The committed inbox/ holds exactly the files tests/sample_inbox.py writes."""
    from sample_inbox import write_sample_inbox

    write_sample_inbox(tmp_path)
    shipped = sorted(f.record.path for f in discover(ROOT / "inbox"))
    assert shipped == sorted(f.record.path for f in discover(tmp_path))
    # The same contents too. XlsxWriter stamps a creation time into every workbook, so the bytes
    # differ: compare what xlbatch reads from them (mtime aside: a checkout does not keep it).
    committed, generated = process(ROOT / "inbox", Config()), process(tmp_path, Config())
    assert [(f.path, f.status, f.code, f.message) for f in committed.files] == [
        (f.path, f.status, f.code, f.message) for f in generated.files]
    pd.testing.assert_frame_equal(committed.forms.drop(columns="mtime"), generated.forms.drop(columns="mtime"))
    pd.testing.assert_frame_equal(committed.indicators, generated.indicators)

    def findings(result):
        return sorted((f.anomaly_id, f.rule, f.source_file, f.cell, f.message, f.value, f.expected)
                      for f in result.findings)

    assert findings(committed) == findings(generated) and len(findings(committed)) == 15
    not_workbooks = ("示例县文化馆/2024年度绩效自评报告.pdf", "示例县第一中学/~$农村义务教育学生营养改善计划.xlsx")
    for rel in not_workbooks:
        assert (ROOT / "inbox" / rel).read_bytes() == (tmp_path / rel).read_bytes(), rel


def test_cli_run_failure_exits_1_and_keeps_previous_outputs(tmp_path, inbox, capsys, monkeypatch):
    write_workbook(inbox / "seed.xlsx", [("自评表", seed_form())])
    outbox = tmp_path / "outbox"
    assert main(["run", "--inbox", str(inbox), "--outbox", str(outbox)]) == 0
    before = (outbox / "projects.csv").read_bytes()

    def broken(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr("xlbatch.outputs.write.write_workbook", broken)
    assert main(["run", "--inbox", str(inbox), "--outbox", str(outbox), "--recompute"]) == 1
    assert "运行失败" in capsys.readouterr().err
    assert (outbox / "projects.csv").read_bytes() == before


def test_readme_configuration_block_is_the_defaults():
    """The README documents every setting with its real default."""
    import tomllib

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Configuration", 1)[1]
    block = re.search(r"```toml\n(.*?)```", section, re.S).group(1)
    documented = tomllib.loads(block)
    assert parse_config(documented) == Config()
    assert set(documented) == set(Config.model_fields)
    for name, section_model in Config():
        if hasattr(type(section_model), "model_fields"):
            # A setting that is not set by default (None: season.year, season.deadline) has no TOML
            # value: it is documented commented out, with an example.
            unset = {key for key, value in section_model if value is None}
            assert set(documented[name]) == set(type(section_model).model_fields) - unset, name
            for key in unset:
                assert re.search(rf"^# {key} = ", block, re.M), f"{name}.{key}"


# --- Configuration that cannot be meant is a usage error (issue 11, item 4) -------------------------

def _run_with(tmp_path, inbox, config, *, command="run"):
    """The real CLI with `config`; the inbox holds a real form, so a run that started would write."""
    write_workbook(inbox / "seed.xlsx", [("自评表", seed_form())])
    outbox = tmp_path / "outbox"
    if command == "run":
        argv = ["run", "--inbox", str(inbox), "--outbox", str(outbox), "--config", str(config)]
    else:
        argv = ["check", str(inbox / "seed.xlsx"), "--config", str(config)]
    return main(argv), outbox


BAD_VALUES = [
    # scoring: totals, weights and grades
    ("[scoring]\ntotal_points = -5\n", "scoring.total_points", "大于 0 的有限数字（当前为 -5）"),
    ("[scoring]\ntotal_points = 0\n", "scoring.total_points", "大于 0"),
    ("[scoring]\nbudget_weight = -10\n", "scoring.budget_weight", "不小于 0"),
    ("[scoring]\nbudget_weight = 150\n", "scoring.budget_weight", "0 到 total_points（100）"),
    ('[scoring]\ngrade_bounds = { "优" = 90, "良" = 80, "中" = -5 }\n', "scoring.grade_bounds", "「中」的下限应大于 0"),
    ("[scoring]\ngrade_bounds = {}\n", "scoring.grade_bounds", "不能为空"),
    ('[scoring]\ngrade_bounds = { "优" = 120 }\n', "scoring.grade_bounds", "不超过 total_points（100）"),
    ("[scoring]\ntotal_points = 50\n", "scoring.grade_bounds", "「优」的下限应大于 0 且不超过 total_points（50）"),
    ('[scoring]\ntotal_points = 5\ngrade_bounds = { "优" = 4 }\n', "scoring.budget_weight", "0 到 total_points（5）"),
    ('[scoring]\ngrade_bounds = { "优" = inf }\n', "scoring.grade_bounds.优", "有限数字（当前为 inf）"),
    ('[scoring]\ngrade_bounds = { "优" = nan }\n', "scoring.grade_bounds.优", "有限数字（当前为 nan）"),
    ('[scoring]\ngrade_bounds = { "中" = 60, "良" = 80, "优" = 90 }\n', "scoring.grade_bounds", "高于上一等级「中」"),
    ('[scoring]\ngrade_bounds = { "优" = 90, "良" = 90, "中" = 60 }\n', "scoring.grade_bounds", "「良」永远评不到"),
    ('[scoring]\ngrade_bounds = { "" = 90, "中" = 60 }\n', "scoring.grade_bounds", "等级名称不能为空"),
    ('[scoring]\ngrade_bounds = { " " = 90 }\n', "scoring.grade_bounds", "等级名称不能为空"),
    ("[scoring]\nlowest_grade = \"\"\n", "scoring.lowest_grade", "非空的等级名称"),
    ("[scoring]\nlowest_grade = \"中\"\n", "scoring.lowest_grade", "不能与 grade_bounds 中的等级同名"),
    # scoring: qualitative tiers
    ("[scoring]\ntier_upper = { achieved = 1.0, partly = 0.8, not_achieved = -0.6 }\n",
     "scoring.tier_upper", "not_achieved 不在 0 到 1 之间"),
    ("[scoring]\ntier_upper = { achieved = 1.0, partly = 0.8 }\n", "scoring.tier_upper", "缺少 not_achieved"),
    ("[scoring]\ntier_upper = {}\n", "scoring.tier_upper", "缺少 achieved、partly、not_achieved"),
    ("[scoring]\ntier_upper = { achieved = 1.0, partly = 0.8, not_achieved = 0.6, unknown = 0.5 }\n",
     "scoring.tier_upper", "未知的项 unknown"),
    ("[scoring]\ntier_upper = { achieved = 1.5, partly = 0.8, not_achieved = 0.6 }\n",
     "scoring.tier_upper", "achieved 不在 0 到 1 之间"),
    ("[scoring]\ntier_upper = { achieved = 1.0, partly = 0.5, not_achieved = 0.6 }\n",
     "scoring.tier_upper", "not_achieved ≤ partly ≤ achieved"),
    ("[scoring]\ntier_upper = { achieved = nan, partly = 0.8, not_achieved = 0.6 }\n",
     "scoring.tier_upper.achieved", "有限数字（当前为 nan）"),
    # scoring: words (an empty word is in every text)
    ("[scoring]\nnot_applicable_words = [\"\"]\n", "scoring.not_applicable_words", "第 1 项为空"),
    ("[scoring]\nachieved_words = [\"完成\", \"  \"]\n", "scoring.achieved_words", "第 2 项为空"),
    ("[scoring]\npartly_words = [\"\"]\n", "scoring.partly_words", "空词与任何文字都匹配"),
    ("[scoring]\nnot_achieved_words = [\"未\", \"\"]\n", "scoring.not_achieved_words", "第 2 项为空"),
    ("[scoring]\nrequired_categories = [\"数量\", \"\"]\n", "scoring.required_categories", "第 2 项为空"),
    ("[scoring]\nachieved_words = \"完成\"\n", "scoring.achieved_words", "文字列表"),
    # infinite and NaN limits and thresholds
    ("[rules]\namount_limit = inf\n", "rules.amount_limit", "大于 0 的有限数字（当前为 inf）"),
    ("[rules]\nlow_execution = nan\n", "rules.low_execution", "有限数字（当前为 nan）"),
    ("[rules]\nrate_tolerance = -inf\n", "rules.rate_tolerance", "有限数字（当前为 -inf）"),
    ("[rules]\nscore_tolerance = 1e400\n", "rules.score_tolerance", "有限数字（当前为 inf）"),
    ("[limits]\nmax_uncompressed_mb = inf\n", "limits.max_uncompressed_mb", "有限数字"),
    ("[limits]\nmax_compression_ratio = nan\n", "limits.max_compression_ratio", "大于 1 的有限数字"),
    ("[scoring]\ntotal_points = inf\n", "scoring.total_points", "有限数字"),
    # absurd counts, and values of the wrong kind
    ("workers = 100000\n", "workers", "不超过 1024 的整数（当前为 100000）"),
    ("[limits]\nmax_rows = 9223372036854775807\n", "limits.max_rows", "不超过 1000000000 的整数"),
    ("[limits]\nworker_memory_mb = 1000000000000\n", "limits.worker_memory_mb", "不超过 1048576"),
    ("[limits]\nseconds_per_file = 10000000000\n", "limits.seconds_per_file", "不超过 86400"),
    ("[output]\nunit_sheets_limit = 1000000000000\n", "output.unit_sheets_limit", "不超过 1000000000"),
    ("[output]\nchart_units = 0\n", "output.chart_units", "不小于 1"),
    ("workers = true\n", "workers", "整数（当前为 true）"),
    ("[limits]\nmax_rows = 1e4\n", "limits.max_rows", "整数（当前为 10000）"),
    ("[rules]\nlow_execution = \"0.8\"\n", "rules.low_execution", "有限数字（当前为 \"0.8\"）"),
    ("rules = 5\n", "rules", "配置节"),
]


@pytest.mark.parametrize("text, key, allowed", BAD_VALUES, ids=[k for _t, k, _a in BAD_VALUES])
def test_bad_value_is_a_usage_error_naming_key_and_allowed(tmp_path, inbox, capsys, text, key, allowed):
    config = tmp_path / "xlbatch.toml"
    config.write_text(text, encoding="utf-8")
    code, outbox = _run_with(tmp_path, inbox, config)
    err = capsys.readouterr().err
    assert code == 2
    assert "配置错误，未做任何处理" in err and "Traceback" not in err
    assert f"{config}: 配置项 {key} 无效：" in err and allowed in err, err
    assert not outbox.exists()


def test_check_refuses_a_bad_configuration_too(tmp_path, inbox, capsys):
    config = tmp_path / "xlbatch.toml"
    config.write_text("[scoring]\ngrade_bounds = {}\n", encoding="utf-8")
    code, _outbox = _run_with(tmp_path, inbox, config, command="check")
    captured = capsys.readouterr()
    assert code == 2 and "配置项 scoring.grade_bounds 无效" in captured.err
    assert "可受理" not in captured.out  # nothing was checked


def test_every_number_rejects_infinity_and_nan():
    """Every float setting, in every section, and every value of a table of numbers."""
    from pydantic import BaseModel

    sections = [(None, Config)] + [(name, f.annotation) for name, f in Config.model_fields.items()
                                   if isinstance(f.annotation, type) and issubclass(f.annotation, BaseModel)]
    tried = 0
    for section, model in sections:
        for name, field in model.model_fields.items():
            key = f"{section}.{name}" if section else name
            for bad in (float("inf"), float("-inf"), float("nan")):
                if field.annotation is float:
                    value, where = bad, key
                elif field.annotation == dict[str, float]:
                    value, where = {**field.get_default(call_default_factory=True), "achieved": bad}, key
                else:
                    continue
                data = {section: {name: value}} if section else {name: value}
                with pytest.raises(ConfigError, match=re.escape(f"配置项 {where}")):
                    parse_config(data)
                tried += 1
    assert tried >= 3 * (8 + 2 + 2 + 3)  # rules 8; scoring 2 numbers and 2 tables; limits 3; more to come


def test_gbk_file_is_named_and_said_to_be_gbk(tmp_path, inbox, capsys):
    config = tmp_path / "xlbatch.toml"
    config.write_text("[scoring]\nlowest_grade = \"差\"\nnot_applicable_words = [\"不适用\"]\n", encoding="gbk")
    code, outbox = _run_with(tmp_path, inbox, config)
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err
    assert f"配置文件 {config} 不是 UTF-8 编码" in err and "GBK" in err and "另存为 UTF-8" in err
    assert not outbox.exists()


def test_utf16_file_is_named(tmp_path, inbox, capsys):
    config = tmp_path / "xlbatch.toml"
    config.write_text("workers = 1\n", encoding="utf-16")
    code, outbox = _run_with(tmp_path, inbox, config)
    err = capsys.readouterr().err
    assert code == 2 and f"配置文件 {config} 是 UTF-16 编码，应为 UTF-8" in err and not outbox.exists()


def test_config_naming_a_folder_is_a_usage_error(tmp_path, inbox, capsys):
    folder = tmp_path / "conf.d"
    folder.mkdir()
    code, outbox = _run_with(tmp_path, inbox, folder)
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err
    assert f"配置文件 {folder} 是一个文件夹" in err and not outbox.exists()


def test_config_that_cannot_be_opened_is_a_usage_error(tmp_path, inbox, capsys):
    """A symbolic link to itself: an OSError that is neither missing nor a folder."""
    loop = tmp_path / "loop.toml"
    loop.symlink_to(loop)
    code, outbox = _run_with(tmp_path, inbox, loop)
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err
    assert f"无法读取配置文件 {loop}" in err and not outbox.exists()


def test_unreadable_config_is_a_usage_error(tmp_path):
    """Mode 000. root reads any file, so as root the CLI runs as nobody (a subprocess); the same run
    with the file readable gets past the configuration, to the missing inbox."""
    import os
    import subprocess
    import sys
    import tempfile

    # nobody must reach the file: a folder of its own outside pytest's private tmp_path.
    folder = Path(tempfile.mkdtemp(dir="/tmp" if os.geteuid() == 0 else tmp_path))
    folder.chmod(0o755)
    config = folder / "xlbatch.toml"
    config.write_text("workers = 1\n", encoding="utf-8")
    as_nobody = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"] if os.geteuid() == 0 else []
    argv = [*as_nobody, sys.executable, "-m", "xlbatch.cli", "run", "--inbox", str(folder / "inbox"),
            "--outbox", str(folder / "outbox"), "--config", str(config)]
    try:
        config.chmod(0o000)
        refused = subprocess.run(argv, capture_output=True, text=True, timeout=120)
        config.chmod(0o644)
        readable = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    finally:
        shutil.rmtree(folder)
    assert refused.returncode == 2 and f"无法读取配置文件 {config}：没有读取权限" in refused.stderr
    assert "Traceback" not in refused.stderr
    assert readable.returncode == 2 and "收件箱目录不存在" in readable.stderr


def test_dangling_default_config_is_an_error_not_the_defaults(tmp_path, inbox, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "xlbatch.toml").symlink_to(tmp_path / "moved-away.toml")
    assert main(["run", "--inbox", str(inbox), "--outbox", str(tmp_path / "o")]) == 2
    assert "配置文件不存在：xlbatch.toml" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_bad_toml_says_where_in_chinese(tmp_path, inbox, capsys):
    config = tmp_path / "xlbatch.toml"
    config.write_text("workers = 1\n[rules\n", encoding="utf-8")
    code, _outbox = _run_with(tmp_path, inbox, config)
    assert code == 2 and "不是有效的 TOML：第 2 行第" in capsys.readouterr().err
    config.write_text("x = " + "[" * 5000 + "]" * 5000 + "\n", encoding="utf-8")
    code, _outbox = _run_with(tmp_path, inbox, config)
    assert code == 2 and "嵌套过深" in capsys.readouterr().err


def test_unknown_key_lists_the_keys_of_its_section(tmp_path):
    with pytest.raises(ConfigError) as err:
        parse_config({"limits": {"max_row": 5}}, source="x.toml")
    assert "x.toml: 未知配置项 limits.max_row（[limits] 中可用的配置项：" in str(err.value)
    assert "max_rows" in str(err.value)


def test_valid_edges_are_accepted(tmp_path, inbox, capsys):
    """Two grades of our own, the bounds at their limits, empty word lists: a normal run."""
    config = tmp_path / "xlbatch.toml"
    config.write_text(
        "workers = 1\n[scoring]\ntotal_points = 100\nbudget_weight = 100\n"
        "grade_bounds = { \"达标\" = 96, \"基本达标\" = 60 }\nlowest_grade = \"不达标\"\n"
        "required_categories = []\nnot_applicable_words = []\n"
        "tier_upper = { achieved = 1.0, partly = 1.0, not_achieved = 0 }\n"
        "[limits]\nmax_rows = 1000000000\nseconds_per_file = 86400\n", encoding="utf-8")
    code, outbox = _run_with(tmp_path, inbox, config)
    assert code == 0, capsys.readouterr().err
    projects = pd.read_csv(outbox / "projects.csv", encoding="utf-8-sig")
    assert projects["grade"].tolist() == ["基本达标"]  # 95.69 < 96
    findings = pd.read_csv(outbox / "anomalies.csv", encoding="utf-8-sig")["rule"].tolist()
    assert "REQUIRED_CATEGORY_EMPTY" not in findings
    assert parse_config({"scoring": {"grade_bounds": {"满分": 100.0}}}).scoring.grade_bounds == {"满分": 100.0}
    assert parse_config({"workers": 1024, "output": {"unit_sheets_limit": 0}}).workers == 1024


def test_utf8_with_bom_is_utf8(tmp_path, inbox, capsys):
    """Notepad's 「UTF-8 with BOM」 is still UTF-8."""
    config = tmp_path / "xlbatch.toml"
    config.write_text("[scoring]\nlowest_grade = \"较差\"\n", encoding="utf-8-sig")
    assert load_config(config).scoring.lowest_grade == "较差"


def test_readme_configuration_block_runs_as_the_default_file(tmp_path, inbox, capsys, monkeypatch):
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"```toml\n(.*?)```", readme.split("## Configuration", 1)[1], re.S).group(1)
    (tmp_path / "xlbatch.toml").write_text(block, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    write_workbook(inbox / "seed.xlsx", [("自评表", seed_form())])
    assert main(["run", "--inbox", str(inbox), "--outbox", str(tmp_path / "o"), "-q"]) == 0
    assert pd.read_csv(tmp_path / "o" / "projects.csv", encoding="utf-8-sig")["grade"].tolist() == ["优"]
