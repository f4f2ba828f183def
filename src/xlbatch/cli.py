"""Command line: a thin layer over the pipeline's Python API (SPEC section 4).

Exit status: 0 the run completed (findings are not failures); 1 the run failed
(or, for `check`, a file would be rejected); 2 usage or configuration error;
3 another run holds the outbox's lock; 143 (128 + SIGTERM, as a shell reports a
process SIGTERM ended) stopped by SIGTERM: the run ends as a failed run does
(logged `failed`, worker processes ended, the previous outputs stand).

`run` on a terminal shows a progress bar on stderr; under cron or systemd
(stderr not a terminal) or with --quiet it shows none. It ends with a one-line
summary on stdout (not with --quiet). Log records go to the run's JSON-lines
log (runs/RUN_ID/run.log.jsonl) and, from WARNING up (DEBUG up with --verbose),
to stderr.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import logging
import os
import signal
import sys
import time
import traceback
from pathlib import Path

from rich.console import Console
from rich.table import Table
from rich.text import Text

from .config import Config, ConfigError, load_config
from .models import SEVERITY_NAMES
from .ops.execute import GC_THRESHOLDS, ExecutorError
from .ops.outbox import DEFAULT_KEEP, OutboxLocked
from .ops.stopping import request_stop
from .terminal import HelpFormatter, chinese, wrap

DEFAULT_CONFIG = "xlbatch.toml"
CHECK_BOOK = "自查结果.xlsx"
TEMPLATE = "项目支出绩效自评表（模板）.xlsx"


def main(argv: list[str] | None = None) -> int:
    gc.set_threshold(*GC_THRESHOLDS)  # why: ops/execute.py
    with chinese():  # argparse's own messages too: usage errors, headings, -h
        args = _parser().parse_args(argv)
    try:
        with _sigterm_raises():
            code = args.handler(args)
        # What the run left is torn down by the exit: the collector need not look at it first (0.2 s).
        # Here, not in the library: a process that goes on (tests, the Python API) must still free it.
        gc.freeze()
        return code
    except Terminated as exc:  # `check`, `template`: nothing to keep; `run` reports it itself
        print(f"xlbatch: {exc}", file=sys.stderr)
        return TERMINATED
    except ConfigError as exc:
        # Raised before anything is read or written: say so, for the cron mail.
        print(f"xlbatch: 配置错误，未做任何处理\n{exc}", file=sys.stderr)
        return 2
    except UsageError as exc:
        print(f"xlbatch: {exc}", file=sys.stderr)
        return 2


class UsageError(Exception):
    pass


TERMINATED = 143


class Terminated(BaseException):
    """SIGTERM arrived (systemctl stop, kill, a timeout in a wrapper script).

    Raised wherever the run is, it unwinds it the way a failure does: logged `failed`, its worker
    processes killed, the lock released, the previous outputs left published. Not an Exception,
    like KeyboardInterrupt: the `except Exception` that keeps one bad file or a damaged cache
    from stopping the run must not swallow it (the run would go on, e.g. without the reviews it
    was reading)."""


@contextlib.contextmanager
def _sigterm_raises():
    """SIGTERM raises Terminated in this (the main) thread while the block runs; a second SIGTERM
    ends the process at once, as by default. Called elsewhere than in the main thread, nothing changes.

    Where Python swallows the handler's exception (an at-fork or GC callback, a __del__), the stop
    is still recorded and raised again before publishing (ops.execute.request_stop); the swallowed
    one is not reported as "Exception ignored", a traceback for a stop that is honoured."""
    def stop(signum, frame):
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        raise request_stop(Terminated("收到终止信号 SIGTERM，已中止"))

    def unraisable(report):
        if not isinstance(report.exc_value, Terminated):
            hook(report)

    try:
        previous = signal.signal(signal.SIGTERM, stop)
    except ValueError:  # not the main thread
        yield
        return
    hook, sys.unraisablehook = sys.unraisablehook, unraisable
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
        sys.unraisablehook = hook
        request_stop(None)


def _parser() -> argparse.ArgumentParser:
    from . import xlbatch_version

    parser = argparse.ArgumentParser(
        prog="xlbatch", description="项目支出绩效自评表批量审核与汇总（xlbatch）", formatter_class=HelpFormatter)
    parser.add_argument("--version", action="version", version=f"xlbatch {xlbatch_version()}",
                        help="显示版本号并退出")
    sub = parser.add_subparsers(dest="command", required=True, title="命令", metavar="命令",
                                help="各命令的用法：xlbatch 命令 -h")
    run = _command(sub, "run", "审核收件箱中的全部自评表，生成全县汇总工作簿")
    run.add_argument("--inbox", default="inbox", metavar="目录", help="收件箱目录（默认 inbox）")
    run.add_argument("--outbox", default="outbox", metavar="目录", help="输出目录（默认 outbox）")
    run.add_argument("--config", default=None, metavar="文件", help=f"配置文件（默认 {DEFAULT_CONFIG}，如存在）")
    run.add_argument("--keep", type=_positive, default=None, metavar="N",
                     help=f"历史记录 runs/ 中保留最近 N 次运行（默认 {DEFAULT_KEEP}）")
    run.add_argument("--workers", type=_positive, default=None, metavar="N",
                     help="读取文件的并行进程数（默认：配置 workers，未配置则为 CPU 核数）")
    run.add_argument("--executor", choices=("local", "dask"), default="local",
                     help="local：本机进程；dask：分发到 Dask 集群（需 --scheduler）")
    run.add_argument("--scheduler", default=None, metavar="地址", help="Dask 调度器地址，如 tcp://10.0.0.5:8786")
    run.add_argument("--by", choices=("county",), default=None, metavar="county",
                     help="county：收件箱下每个文件夹是一个县（区），各县分别生成汇总工作簿（并行），另生成各县汇总表")
    run.add_argument("--recompute", action="store_true",
                     help="即使收件箱、配置与程序自上次运行以来均无变化，也重新计算并重新生成全部输出"
                          "（默认沿用上次的输出）")
    # Accepted so that cron lines written for 0.1 keep working: what it asked for is now the default.
    run.add_argument("--skip-unchanged", action="store_true", help=argparse.SUPPRESS)
    talk = run.add_mutually_exclusive_group()
    talk.add_argument("-q", "--quiet", action="store_true", help="不显示进度条和结束时的摘要，只报告错误")
    talk.add_argument("-v", "--verbose", action="store_true", help="在终端显示详细日志（每个文件）")
    run.set_defaults(handler=_run)
    check = _command(sub, "check", "报送前自查：按同样的规则检查一个或多个文件")
    check.add_argument("files", nargs="+", metavar="文件", help="要检查的自评表文件")
    check.add_argument("--config", default=None, metavar="文件", help=f"配置文件（默认 {DEFAULT_CONFIG}，如存在）")
    check.add_argument("--format", choices=("text", "xlsx"), default="text", dest="format",
                       help="text：在终端显示（默认）；xlsx：写成工作簿（用 -o 指定文件名）")
    check.add_argument("-o", "--output", default=None, metavar="文件",
                       help=f"--format xlsx 时写入的工作簿（默认 {CHECK_BOOK}）")
    check.set_defaults(handler=_check)
    inspect = _command(sub, "inspect", "核对模板：列出文件中每张自评表的各栏目从哪个单元格、通过哪个标签读取")
    inspect.add_argument("file", metavar="文件", help="要查看的自评表文件")
    inspect.add_argument("--json", action="store_true", help="以 JSON 格式输出，供其他程序使用")
    inspect.add_argument("--config", default=None, metavar="文件", help=f"配置文件（默认 {DEFAULT_CONFIG}，如存在）")
    inspect.set_defaults(handler=_inspect)
    template = _command(sub, "template", "生成空白的标准自评表模板")
    template.add_argument("-o", "--output", default=TEMPLATE, metavar="文件", help=f"写入的文件（默认 {TEMPLATE}）")
    template.set_defaults(handler=_template)
    roster = _command(sub, "roster", "报送单位花名册：生成空白花名册，或根据收件箱中已收到的自评表生成草稿")
    mode = roster.add_mutually_exclusive_group(required=True)
    mode.add_argument("--template", action="store_true", help="生成空白花名册（列：主管部门、实施单位、预期项目数）")
    mode.add_argument("--from-inbox", action="store_true",
                      help="根据收件箱中已收到的自评表生成花名册草稿（预期项目数为目前收到的张数）")
    roster.add_argument("--inbox", default="inbox", metavar="目录",
                        help="收件箱目录（默认 inbox；--from-inbox 时使用）")
    roster.add_argument("-o", "--output", default=None, metavar="文件",
                        help="输出文件，.xlsx 或 .csv（默认 报送单位花名册（模板）.xlsx 或"
                             " 报送单位花名册（草稿）.xlsx）；不覆盖已有文件")
    roster.add_argument("--config", default=None, metavar="文件", help=f"配置文件（默认 {DEFAULT_CONFIG}，如存在）")
    roster.set_defaults(handler=_roster)
    return parser


def _command(sub, name: str, text: str) -> argparse.ArgumentParser:
    """A command: its one-line text in the command list, and atop its own -h."""
    return sub.add_parser(name, help=text, description=text, formatter_class=HelpFormatter)


def _config(path: str | None, roster: bool = True) -> Config:
    if path is None:
        default = Path(DEFAULT_CONFIG)
        # A dangling link is a file meant to be there: its error beats a silent fall-back to defaults.
        if not (default.exists() or default.is_symlink()):
            return Config()
        path = str(default)
    cfg = load_config(path, roster=roster)
    from .intake.roster import roster_of

    roster_of(cfg, source=path)  # a broken roster is a configuration error too, before anything is read
    return cfg


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"应为正整数：{text}")
    return value


def _run(args) -> int:
    from .counties import run_counties
    from .nightly import run

    cfg = _config(args.config)
    inbox, outbox = Path(args.inbox), Path(args.outbox)
    if not inbox.is_dir():
        raise UsageError(f"收件箱目录不存在：{inbox}")
    executor = _executor(args, cfg)
    spread = _spread(args, cfg) if args.by else None
    started = time.monotonic()
    console = Console(stderr=True)
    bar = console.is_terminal and not args.quiet
    try:
        with _console_log(console, args, bar), _progress(console, bar) as progress:
            options = {"keep": args.keep, "recompute": args.recompute, "progress": progress}
            if args.by:
                result = run_counties(inbox, outbox, cfg, executor, spread=spread, **options)
            else:
                result = run(inbox, outbox, cfg, executor, **options)
    except OutboxLocked as exc:
        print(f"xlbatch: {exc}", file=sys.stderr)
        return 3
    except ExecutorError as exc:  # e.g. the scheduler is unreachable: say so, never run locally instead
        print(f"xlbatch: {exc}", file=sys.stderr)
        return 1
    except Terminated as exc:  # stopped from outside: no traceback, it is not a fault of the run
        print(f"xlbatch: {exc}；输出目录中的四个文件（如有）仍属于同一次完整的运行", file=sys.stderr)
        return TERMINATED
    except Exception as exc:  # unattended runs: a failed run says so and exits 1, outputs untouched
        traceback.print_exc(file=sys.stderr)
        # The exception's type and place are in the traceback above and in the run's log.
        print(f"xlbatch: 运行失败（{str(exc) or type(exc).__name__}），上次的输出保持不变；"
              f"详情见 {outbox / 'runs'} 中本次运行的 run.log.jsonl", file=sys.stderr)
        return 1
    if not args.quiet:
        print(summary_line(result, outbox, time.monotonic() - started))
    return 0


def _executor(args, cfg: Config):
    """Where the per-file work runs: worker processes here, or a Dask cluster."""
    from .ops.execute import Budget, dask_executor, local_processes

    if args.executor == "dask":
        if not args.scheduler:
            raise UsageError("--executor dask 需要用 --scheduler 指定调度器地址")
        return dask_executor(args.scheduler, connect_timeout=cfg.scheduler_timeout)
    if args.scheduler:
        raise UsageError("--scheduler 只能与 --executor dask 一起使用")
    workers = args.workers or cfg.workers or os.cpu_count() or 1
    return local_processes(workers, Budget.of(cfg.limits))


def _spread(args, cfg: Config):
    """Where whole counties are done (--by county): worker processes here, or a Dask cluster."""
    from .ops.execute import Budget, dask_spread, local_spread

    if args.executor == "dask":
        return dask_spread(args.scheduler, connect_timeout=cfg.scheduler_timeout)
    return local_spread(args.workers or cfg.workers or os.cpu_count() or 1, Budget.of(cfg.limits))


def summary_line(result, outbox: Path, seconds: float) -> str:
    """The run in one line: files, accepted, rejected, forms, findings, seconds."""
    origin = result.extra.get("outputs_from")
    c = result.counts()
    counts = (f"文件 {c['files']} 个（受理 {c['accepted']}，未受理 {c['rejected']}，忽略 {c['ignored']}），"
              f"自评表 {c['forms']} 张，问题 {c['findings']} 条")
    if origin:
        return (f"xlbatch {result.run_id}: 收件箱、配置与程序均无变化，沿用运行 {origin} 计算的输出"
                f"（{counts}），用时 {seconds:.1f} 秒 → {outbox / 'consolidated.xlsx'}")
    if result.extra.get("by") == "county":
        done = result.extra["changes"]["counts"]
        return (f"xlbatch {result.run_id}: 县（区）{c['counties']} 个（本次计算 {done['evaluated']}，"
                f"沿用上次的输出 {done['repeated']}），{counts}，用时 {seconds:.1f} 秒 → {outbox / 'consolidated.xlsx'}"
                f"（各县：{outbox / 'counties'}）")
    reading = result.extra.get("reading")
    read = f"，读取 {len(reading['read'])} 个文件（{reading['reused']} 个未变）" if reading else ""
    return f"xlbatch {result.run_id}: {counts}{read}，用时 {seconds:.1f} 秒 → {outbox / 'consolidated.xlsx'}"


LEVEL_NAMES = {logging.DEBUG: "调试", logging.INFO: "信息", logging.WARNING: "警告", logging.ERROR: "错误",
               logging.CRITICAL: "严重错误"}


class LevelNames(logging.Formatter):
    """A log record on the terminal, `prefix` and its level in Chinese before the message; the run's
    JSON-lines log keeps its own keys and values (logs.JsonFormatter), the record is left unchanged."""

    def __init__(self, prefix: str = ""):
        super().__init__("%(message)s")
        self.prefix = prefix

    def format(self, record: logging.LogRecord) -> str:
        return f"{self.prefix}{LEVEL_NAMES.get(record.levelno, record.levelname)} {super().format(record)}"


@contextlib.contextmanager
def _console_log(console: Console, args, rich: bool):
    """Log records on stderr: WARNING and up, DEBUG and up with --verbose, none with --quiet."""
    logger = logging.getLogger("xlbatch")
    if rich:
        from rich.logging import RichHandler

        # The level in Chinese (LevelNames), not RichHandler's own English column.
        handler: logging.Handler = RichHandler(console=console, show_path=False, show_level=False, markup=False)
        handler.setFormatter(LevelNames())
    else:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(LevelNames("xlbatch: "))
    handler.setLevel(logging.DEBUG if args.verbose else logging.CRITICAL + 1 if args.quiet else logging.WARNING)
    # A failed run is reported by _run itself (message and traceback), once.
    handler.addFilter(lambda record: getattr(record, "event", "") != "failed")
    logger.addHandler(handler)
    try:
        yield
    finally:
        logger.removeHandler(handler)


@contextlib.contextmanager
def _progress(console: Console, enabled: bool):
    """A progress callback drawing a rich bar per stage, or None."""
    if not enabled:
        yield None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    with Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), console=console, transient=True) as bar:
        stages: dict[str, int] = {}

        def report(stage: str, done: int, total: int) -> None:
            if stage not in stages:
                for task in stages.values():  # the previous stage is over
                    bar.update(task, completed=bar.tasks[task].total or 1, total=bar.tasks[task].total or 1)
                stages[stage] = bar.add_task(stage, total=total or None)
            bar.update(stages[stage], completed=done, total=total or None)

        yield report


def _check(args) -> int:
    from .pipeline import check_files

    cfg = _config(args.config)
    if args.output and args.format != "xlsx":
        raise UsageError("-o/--output 只能与 --format xlsx 一起使用")
    paths = [Path(p) for p in args.files]
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        raise UsageError("文件不存在：" + "、".join(missing))
    from .ops.execute import Budget, local_processes

    # One worker process: a file that crashes the reader costs that file, not the check.
    result = check_files(paths, cfg, local_processes(1, Budget.of(cfg.limits)))
    console = Console()  # the terminal's width (COLUMNS, or 80 when not a terminal)
    if args.format == "xlsx":
        from .outputs.check_book import check_summary, write_check_book

        path = write_check_book(result, Path(args.output or CHECK_BOOK))
        _indented(console, Text(f"{check_summary(result)}\n已写入自查结果：{path}"))
    else:
        print_check(result, console)
    return 1 if any(r.status == "rejected" for r in result.files) else 0


_STATUS_STYLES = {"accepted": "green", "rejected": "bold red", "ignored": "dim", "opened": "bold"}
_SEVERITY = {"error": "bold red", "warning": "yellow", "info": "cyan"}  # styles; names: models.SEVERITY_NAMES


def print_check(result, console: Console) -> None:
    """Per file and per form: the finding that rejects it first (会被退回), then every other finding,
    numbered, each as a few wrapped lines (rule, cell; message; reported value and expected) that
    fit the console's width, 80 columns included."""
    from .outputs.check_book import STATUS_NAMES, check_summary, grouped

    for record, groups in grouped(result):
        status = Text(STATUS_NAMES[record.status], style=_STATUS_STYLES[record.status])
        detail = f"（{record.message}）" if record.status == "ignored" else ""
        _indented(console, Text.assemble((record.path, "bold"), "：", status, detail))
        for group in groups:
            _print_group(group, console)
        if record.status == "accepted" and record.message:
            _indented(console, Text(f"说明：{record.message}", style="dim"), 2)
    _indented(console, Text(check_summary(result)))


def _print_group(group, console: Console) -> None:
    from .outputs.check_book import NO_OTHER, REJECTS, STATUS_NAMES, not_computed

    findings = len(group.rejections) + len(group.others)
    if group.sheet:
        count = f"，问题 {findings} 条" if findings else "，未发现问题"
        _indented(console, Text.assemble(f"工作表「{group.sheet}」：",
                                         (STATUS_NAMES[group.status], _STATUS_STYLES[group.status]), count), 2)
    for f in group.rejections:
        _print_finding(console, f, Text(f"【{REJECTS}】", style="bold red"))
    if group.rejections and group.others:
        _indented(console, Text("其他问题（请一并更正）："), 4)
    elif group.rejections and group.sheet and not group.not_computed:
        _indented(console, Text(NO_OTHER, style="green"), 4)
    for number, f in enumerate(group.others, start=1):
        _print_finding(console, f, Text(f"{number}. "))
    for text in not_computed(group):
        _indented(console, Text(text, style="dim"), 4)


def _print_finding(console: Console, f, mark: Text) -> None:
    from .checks.rules import RULES

    where = f"，单元格 {f.cell}" if f.cell else ""
    head = Text.assemble(mark, (SEVERITY_NAMES[f.severity], _SEVERITY[f.severity]), " ", RULES[f.rule].titled, where)
    _indented(console, head, 4)
    _indented(console, Text(f.message), 6)
    if f.value or f.expected:
        _indented(console, Text(f"填报值：{f.value or '—'}　应为：{f.expected or '—'}", style="dim"), 6)


def _indented(console: Console, text: Text, left: int = 0) -> None:
    """`text` wrapped to the console's width less `left` columns (`wrap`), each line indented by
    `left`, its styles kept."""
    width = max(console.width - left, 10)
    for start, end in wrap(text.plain, width):
        console.print(Text(" " * left) + text[start:end], highlight=False, crop=False, soft_wrap=True)


def _inspect(args) -> int:
    from .form.inspect import as_json, inspect_file
    from .ops.execute import Budget, local_processes

    cfg = _config(args.config)
    path = Path(args.file)
    if not path.is_file():
        raise UsageError(f"文件不存在：{path}")
    # As `check`: the file is read in a worker process, a reader crash costs the file, not the command.
    inspection = inspect_file(path, cfg.limits, local_processes(1, Budget.of(cfg.limits)), cfg.label_words)
    if args.json:
        print(json.dumps(as_json(inspection), ensure_ascii=False, indent=2))
    else:
        print_inspection(inspection, Console())  # the terminal's width (80 when not a terminal)
    return 0 if inspection.forms else 1


_SHOWN = 60  # characters of a value shown in the table (a goal's text runs to hundreds)


def print_inspection(inspection, console: Console) -> None:
    """Per form, a table: role, the cell read, its value, the label it was found through; below it,
    the labels found where each role not found was expected."""
    from .checks.rules import RULES
    from .form.inspect import GROUP_NAMES

    if inspection.ignored:
        console.print(Text.assemble((inspection.path, "bold"), "：", ("不是自评表文件", "dim"),
                                    f"（{inspection.ignored}）"))
        return
    if inspection.finding:
        f = inspection.finding
        console.print(Text.assemble((inspection.path, "bold"), "：", ("未找到自评表", "bold red")))
        console.print(Text(f"{f.rule}（{RULES[f.rule].title}）：{f.message}"))
        return
    console.print(Text.assemble((inspection.path, "bold"), f"：{len(inspection.forms)} 张自评表"))
    for form in inspection.forms:
        year = f"{form.year} 年度" if form.year else "未找到年度"
        console.print(Text(f"工作表「{form.sheet}」：{form.title or '（无标题）'}（{year}）", style="bold"))
        table = Table(expand=True)
        table.add_column("栏目", max_width=14, overflow="fold")
        table.add_column("单元格", no_wrap=True)
        table.add_column("内容", ratio=1, overflow="fold")
        table.add_column("读自标签", ratio=1, overflow="fold")
        group = None
        for r in form.readings:
            if r.group != group:
                if group is not None:
                    table.add_section()
                group = r.group
                name, shows = GROUP_NAMES[group]
                table.add_row(Text(name, style="bold"), "", Text(shows, style="dim"), "")
            if r.found:
                table.add_row(r.name, r.cell or "—", Text(_shown(r.value)), Text(f"{r.label_cell}「{r.label}」"))
            elif r.optional:
                table.add_row(r.name, "—", Text("本表无此栏"), Text("可选的栏目"))
            else:
                table.add_row(r.name, "—", Text("未找到", style="bold red"), Text(_unfound(r)))
        console.print(table)
        _print_nearby(form, console)


def _unfound(reading) -> str:
    if reading.nearby:
        return "附近的标签见下"
    if reading.seen:
        return f"{reading.seen[0]}「{reading.seen[1]}」，但所在的表未能定位"
    return ""


def _shown(value) -> str:
    from .form.values import clean_text

    text = clean_text(value)
    return "（空）" if not text else text if len(text) <= _SHOWN else text[:_SHOWN] + "…"


def _print_nearby(form, console: Console) -> None:
    places: dict[tuple, list] = {}  # the labels of one place → the roles not found there
    for r in form.readings:
        if not r.found and r.nearby:
            places.setdefault(r.nearby, []).append(r)
    if not places:
        return
    from rich.padding import Padding

    console.print("未找到的栏目，在其应在之处找到的标签：")
    for labels, readings in places.items():
        console.print(Padding(Text("、".join(r.name for r in readings) + "：", style="bold"), (0, 0, 0, 2)))
        console.print(Padding(Text(" ".join(f"{ref}「{text}」" for ref, text in labels)), (0, 0, 0, 4)))
    # What a bureau writes once its template's spelling is known (README "Provincial layouts").
    console.print("如某个标签即所缺栏目的另一种写法，写入 xlbatch.toml（「…」换成该写法）：")
    console.print(Padding(Text("[labels]"), (0, 0, 0, 2)))
    for readings in places.values():
        for r in readings:
            console.print(Padding(Text(f'{r.key} = ["…"]    # {r.name}'), (0, 0, 0, 2)))


def _template(args) -> int:
    from .outputs.template import write_template

    path = write_template(Path(args.output))
    print(f"已生成空白自评表模板：{path}")
    return 0


def _roster(args) -> int:
    from .outputs.roster_file import write_draft, write_template

    name = "报送单位花名册（模板）.xlsx" if args.template else "报送单位花名册（草稿）.xlsx"
    path = Path(args.output or name)
    if path.suffix.lower() not in (".xlsx", ".csv"):
        raise UsageError(f"花名册应为 .xlsx 或 .csv 文件：{path}")
    if path.exists() or path.is_symlink():
        raise UsageError(f"文件已存在：{path}；请换一个文件名或先移走它（不覆盖已有的花名册）")
    if args.template:
        print(f"已生成空白花名册：{write_template(path)}")
        return 0
    from datetime import datetime

    from .checks.season import beijing
    from .ops.execute import Budget, local_processes
    from .pipeline import process

    cfg = _config(args.config, roster=False)  # the roster it names may be the one being drafted
    inbox = Path(args.inbox)
    if not inbox.is_dir():
        raise UsageError(f"收件箱目录不存在：{inbox}")
    when = beijing(datetime.now().astimezone())
    result = process(inbox, cfg, local_processes(cfg.workers or os.cpu_count() or 1, Budget.of(cfg.limits)))
    units = write_draft(path, result, str(inbox), when)
    print(f"已根据 {inbox} 生成花名册草稿：{path}（{units} 个单位）；请核对后在 xlbatch.toml 的 [season] roster 中指定")
    return 0


if __name__ == "__main__":
    sys.exit(main())
