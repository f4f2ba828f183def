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

from xlbatch.cli import main
from xlbatch.config import Config, ConfigError, load_config, parse_config
from xlbatch.discover import discover
from xlbatch.parse import parse_sheet
from xlbatch.pipeline import process
from xlbatch.read import read_workbook
from xlbatch.rules import CATALOGUE
from xlbatch.template import write_workbook

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
    ws["C3"], ws["C4"], ws["G4"] = "乡村道路养护", "示例县交通运输局", "示例县公路养护中心"
    ws["C6"], ws["D6"], ws["E6"] = 40, 40, 38
    ws["D13"], ws["E13"], ws["F13"], ws["G13"], ws["H13"] = "养护里程", "≥120 公里", "126 公里", 50, 50
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

    monkeypatch.setattr("xlbatch.write.write_workbook", broken)
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
            assert set(documented[name]) == set(type(section_model).model_fields), name
