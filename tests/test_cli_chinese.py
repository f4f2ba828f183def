"""The command line in Chinese (issue 14): argparse's own messages (usage errors, headings, -h,
--version) through the translation table, each path with its exact text and exit status; the
terminal's log lines; nothing English left for a person."""

from __future__ import annotations

import argparse
import ast
import logging
import re
from pathlib import Path

import pytest
from rich.cells import cell_len

from xlbatch import xlbatch_version
from xlbatch.cli import LevelNames, main
from xlbatch.terminal import MESSAGES, PLURALS, chinese

RUN_USAGE = ["用法：xlbatch run [-h] [--inbox 目录] [--outbox 目录] [--config 文件] [--keep N]",
             "               [--workers N] [--executor {local,dask}] [--scheduler 地址]",
             "               [--by county] [--recompute] [-q | -v]"]
CHECK_USAGE = ["用法：xlbatch check [-h] [--config 文件] [--format {text,xlsx}] [-o 文件]",
               "                 文件 [文件 ...]"]
TOP_USAGE = ["用法：xlbatch [-h] [--version] 命令 ..."]


@pytest.fixture(autouse=True)
def columns_80(monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")  # argparse wraps to the terminal's width, as shutil reports it


def _exit(argv, capsys) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as stop:
        main(argv)
    out, err = capsys.readouterr()
    return stop.value.code, out, err


@pytest.mark.parametrize(("argv", "usage", "error"), [
    (["frobnicate"], TOP_USAGE,
     "xlbatch：错误：参数 命令：无效的选择：'frobnicate'（可选：'run', 'check', 'inspect', 'template', 'roster'）"),
    ([], TOP_USAGE, "xlbatch：错误：缺少必需的参数：命令"),
    (["check"], CHECK_USAGE, "xlbatch check：错误：缺少必需的参数：文件"),
    (["run", "--keep", "abc"], RUN_USAGE, "xlbatch run：错误：参数 --keep：应为正整数：abc"),
    (["run", "--workers", "0"], RUN_USAGE, "xlbatch run：错误：参数 --workers：应为正整数：0"),
    (["run", "--executor", "ray"], RUN_USAGE,
     "xlbatch run：错误：参数 --executor：无效的选择：'ray'（可选：'local', 'dask'）"),
    (["check", "a.xlsx", "--format", "pdf"], CHECK_USAGE,
     "xlbatch check：错误：参数 --format：无效的选择：'pdf'（可选：'text', 'xlsx'）"),
    (["run", "--bogus"], TOP_USAGE, "xlbatch：错误：无法识别的参数：--bogus"),
    (["run", "-q", "-v"], RUN_USAGE, "xlbatch run：错误：参数 -v/--verbose：不能与参数 -q/--quiet 同时使用"),
    (["run", "--inbox"], RUN_USAGE, "xlbatch run：错误：参数 --inbox：需要一个值"),
    (["roster"], ["用法：xlbatch roster [-h] (--template | --from-inbox) [--inbox 目录] [-o 文件]",
                   "                  [--config 文件]"],
     "xlbatch roster：错误：参数 --template --from-inbox 必须给出其中一个"),
    (["run", "--rec"], RUN_USAGE, None),  # a unique prefix is the option (--recompute): no error here
])
def test_usage_errors_are_chinese_with_exit_2(argv, usage, error, capsys, tmp_path, monkeypatch):
    if error is None:  # --rec is --recompute: it runs (and fails only for want of an inbox, exit 2)
        monkeypatch.chdir(tmp_path)
        assert main(argv) == 2
        assert capsys.readouterr().err == "xlbatch: 收件箱目录不存在：inbox\n"
        return
    code, out, err = _exit(argv, capsys)
    assert (code, out) == (2, "")
    assert err.splitlines() == [*usage, error]


def test_an_ambiguous_option_prefix_is_said_in_chinese(capsys):
    code, _out, err = _exit(["run", "--s"], capsys)  # --scheduler or --skip-unchanged (0.1's, kept for cron)
    assert code == 2
    assert err.splitlines()[-1] == "xlbatch run：错误：有歧义的选项：--s 可能是 --scheduler, --skip-unchanged"


def test_the_table_also_translates_what_the_cli_does_not_trigger_today():
    """A parser built under `chinese()`: an int option and a mutually required group."""
    with chinese():
        parser = argparse.ArgumentParser(prog="p", exit_on_error=False)
        parser.add_argument("--n", type=int)
        group = parser.add_mutually_exclusive_group(required=True)
        group.add_argument("--a", action="store_true")
        group.add_argument("--b", action="store_true")
        with pytest.raises(argparse.ArgumentError) as error:
            parser.parse_args(["--a", "--n", "x"])
        assert str(error.value) == "参数 --n：无效的 int 值：'x'"
        assert parser.format_usage() == "用法：p [-h] [--n N] (--a | --b)\n"
    assert argparse._("usage: ") == "usage: "  # restored after the block


@pytest.mark.parametrize("argv", [["-h"], ["run", "-h"], ["check", "-h"], ["inspect", "-h"], ["template", "-h"],
                                  ["roster", "-h"]])
def test_help_is_chinese_and_fits_80_columns(argv, capsys):
    code, out, err = _exit(argv, capsys)
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[0].startswith("用法：xlbatch")
    assert "选项：" in lines and "  -h, --help            显示本帮助信息并退出"[:14] in out
    assert max(cell_len(line) for line in lines) <= 80
    for english in ("usage", "options", "positional arguments", "show this help", "error", "subcommands"):
        assert english not in out.lower()
    # No English word but option names, choices and the program's own terms.
    words = set(re.findall(r"(?<![-\w])[A-Za-z]{2,}\b", out)) - {"xlbatch", "inspect", "template", "check", "run",
                                                                 "roster", "csv",
                                                                 "text", "xlsx", "local", "dask", "Dask", "toml",
                                                                 "runs", "JSON", "tcp", "inbox", "outbox", "CPU",
                                                                 "workers", "county"}
    assert words == set(), words


def test_help_aligns_its_text_by_display_width(capsys):
    _code, out, _err = _exit(["check", "-h"], capsys)
    rows = {line.split()[0]: line for line in out.splitlines() if line.startswith("  -") or line.startswith("  文件")}
    columns = {cell_len(line) - cell_len(line.split("  ", 2)[-1].lstrip()) for key, line in rows.items()
               if key != "-o"}
    assert columns == {24}  # every help text starts in one column, Chinese metavars or not
    assert "  -o 文件, --output 文件\n                        --format xlsx 时写入的工作簿" in out
    assert "位置参数：\n  文件                  要检查的自评表文件" in out


def test_version(capsys):
    code, out, _err = _exit(["--version"], capsys)
    assert (code, out) == (0, f"xlbatch {xlbatch_version()}\n")


def test_output_without_xlsx_is_a_chinese_usage_error(tmp_path, capsys):
    assert main(["check", str(tmp_path / "a.xlsx"), "-o", str(tmp_path / "b.xlsx")]) == 2
    assert capsys.readouterr().err == "xlbatch: -o/--output 只能与 --format xlsx 一起使用\n"


def test_every_message_id_in_the_table_is_one_argparse_has():
    """The table is keyed by argparse's own ids: a typo would silently leave a message English."""
    tree = ast.parse(Path(argparse.__file__).read_text(encoding="utf-8"))
    ids = {arg.value for node in ast.walk(tree) if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
           and node.func.id in ("_", "ngettext") for arg in node.args if isinstance(arg, ast.Constant)}
    assert set(MESSAGES) | set(PLURALS) <= ids
    # Every id a person can meet is in the table; the others are raised for a programmer.
    programmer = {m for m in ids if "conflict" in m or "dest=" in m or "invalid option string" in m
                  or "callable" in m or "merge actions" in m or ".__call__" in m or "'required'" in m
                  or "mutually exclusive arguments" in m or "multiple subparser" in m or 'argument "-"' in m}
    assert ids - programmer - set(MESSAGES) - set(PLURALS) - {"expected %s arguments"} == set()


def test_log_lines_on_the_terminal_name_their_level_in_chinese():
    record = logging.LogRecord("xlbatch", logging.WARNING, __file__, 1, "台账中的一条记录校验不符", None, None)
    assert LevelNames("xlbatch: ").format(record) == "xlbatch: 警告 台账中的一条记录校验不符"
    record.levelno, record.levelname = logging.ERROR, "ERROR"
    assert LevelNames().format(record) == "错误 台账中的一条记录校验不符"
    assert record.levelname == "ERROR"  # the record is unchanged: the JSON log keeps its own values
