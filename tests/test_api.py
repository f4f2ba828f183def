"""The public Python API in `xlbatch/__init__.py`, as the README shows it."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import xlbatch

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _readme_example() -> str:
    section = README.split("## Architecture", 1)[1]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


def test_readme_example_runs_on_the_sample_inbox(tmp_path: Path, monkeypatch, capsys):
    """The README's Architecture example, run as a user would, where the sample inbox is."""
    code = _readme_example()
    assert len(code.strip().splitlines()) == 5
    shutil.copytree(ROOT / "inbox", tmp_path / "inbox")
    monkeypatch.chdir(tmp_path)
    names: dict = {}
    exec(compile(code, "README.md", "exec"), names)
    result = names["result"]
    assert isinstance(result, xlbatch.RunResult)
    assert result.counts() == {"files": 8, "accepted": 4, "rejected": 2, "ignored": 2, "forms": 4,
                               "findings": 15}
    printed = capsys.readouterr().out
    assert "'accepted': 4" in printed and "示例县农业技术推广中心" in printed
    rates = dict(zip(result.forms["unit"], result.forms["execution_rate"].round(4), strict=True))
    assert rates["示例县农业技术推广中心"] == 0.72  # 720.00 of 1,000.00 万元 executed
    assert sorted(p.name for p in tmp_path.iterdir()) == ["inbox"]  # process() writes nothing


def test_run_publishes_from_python_with_string_paths(tmp_path: Path):
    shutil.copytree(ROOT / "inbox", tmp_path / "inbox")
    result = xlbatch.run(str(tmp_path / "inbox"), str(tmp_path / "outbox"))
    assert result.counts()["forms"] == 4
    assert {"consolidated.xlsx", "projects.csv", "anomalies.csv", "run.json"} <= {
        p.name for p in (tmp_path / "outbox").iterdir()}


def test_check_files_takes_paths_as_strings(tmp_path: Path):
    path = ROOT / "inbox" / "示例县疾病预防控制中心_基本公共卫生服务.xlsx"
    result = xlbatch.check_files([str(path)])
    assert [f.status for f in result.files] == ["accepted"]
    assert result.forms["project"].tolist() == ["基本公共卫生服务项目"]


def test_load_config_reads_toml(tmp_path: Path):
    (tmp_path / "xlbatch.toml").write_text("[rules]\nlow_execution = 0.7\n", encoding="utf-8")
    assert xlbatch.load_config(tmp_path / "xlbatch.toml").rules.low_execution == 0.7
    (tmp_path / "bad.toml").write_text("[rules]\nlow_execution = 'x'\n", encoding="utf-8")
    with pytest.raises(xlbatch.ConfigError, match="low_execution"):
        xlbatch.load_config(tmp_path / "bad.toml")


def test_every_exported_name_resolves():
    for name in xlbatch.__all__:
        assert getattr(xlbatch, name) is not None, name
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        _ = xlbatch.nothing


def test_importing_the_package_loads_nothing_heavy():
    """`import xlbatch` is what every command and worker pays: no pandas, pydantic or pandera."""
    code = "import sys, xlbatch; print(sorted(m for m in ('pandas', 'pydantic', 'pandera') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
