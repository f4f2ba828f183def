"""The overview sheets of the county workbook: 图表 (native Excel charts) and 运行说明.

The charts answer what auditors ask first: which units spend too little
(execution rate by unit, sorted, with the `rules.low_execution` line), how the
configured grades are spread (self-assessed vs recomputed), and who scores
themselves too high (reported vs recomputed total: points above the diagonal are
inflated). Each chart reads a small data table written below it, so the figures
stay inspectable; the tables are defined once (`_Table`) and the charts refer to
their columns by title.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import pandas as pd

from ..checks.rules import CATALOGUE, explain
from ..checks.score import COUNTED, SCALE_SUSPECT, SUPERSEDED, WRONG_SEASON, counted, standings
from ..config import BEIJING
from ..form.vocabulary import ROLES
from ..models import SEVERITY_NAMES
from .formats import CHART_COLOURS, FOOTER, Styles, fit_row, header_row, no_print, write_num

CHART_SHEET, INFO_SHEET = "图表", "运行说明"
_DATA_TOP = 38  # charts occupy the rows above the data tables


@dataclass(frozen=True)
class _Table:
    """A data table below the charts: its first column, its titles, the widths it sets."""

    left: int
    titles: tuple[str, ...]
    widths: dict[str, float] = field(default_factory=dict)

    def col(self, title: str) -> int:
        return self.left + self.titles.index(title)

    def ref(self, title: str, n: int) -> list:
        """The first `n` data rows of column `title`, as a chart series reads them."""
        col = self.col(title)
        return [CHART_SHEET, _DATA_TOP + 1, col, _DATA_TOP + n, col]

    def beside(self, titles: tuple[str, ...], widths: dict[str, float] | None = None) -> _Table:
        """The next table, one empty column to the right of this one."""
        return _Table(self.left + len(self.titles) + 1, titles, widths or {})


_RATES = _Table(0, ("实施单位", "全年预算数（万元）", "全年执行数（万元）", "执行率", "下限"),
                {"实施单位": 28, "全年预算数（万元）": 16, "全年执行数（万元）": 16})
_GRADES = _RATES.beside(("等级", "自评", "复算"))
_POINTS = _GRADES.beside(("项目", "复算总分", "自评总分"), {"项目": 40})
_DIAGONAL = _POINTS.beside(("参考线：复算总分", "参考线：自评总分"), {"参考线：复算总分": 16, "参考线：自评总分": 16})
_PERCENT_TITLES = ("执行率", "下限")
_CHARTS_RIGHT = _POINTS.col("自评总分") + 1  # the last column the charts reach (the scatter ends in 项目's)


def write_charts(book, ws, forms: pd.DataFrame, cfg, st: Styles) -> None:
    forms = counted(forms)
    ws.write_string(0, 0, "图表（数据见下方表格；仅含计入汇总的自评表）", st.title)
    if forms.empty:
        ws.write_string(2, 0, "本次运行没有可汇总的自评表。")
        no_print(ws, 4, 2)
        return
    # Printed: the charts alone, on one A3 landscape page at full size (their 10 pt type stays 10 pt);
    # the tables below are their figures, for the screen.
    ws.set_landscape()
    ws.set_paper(8)
    ws.print_area(0, 0, _DATA_TOP - 1, _CHARTS_RIGHT)
    ws.fit_to_pages(1, 1)
    ws.set_footer(FOOTER)
    units = _rate_by_unit(forms)
    _table(ws, _RATES, [[u, b, e, r, cfg.rules.low_execution] for u, b, e, r in units], st)
    # Thousands of bars say nothing: the chart shows the lowest rates; the table below has all.
    shown = min(len(units), cfg.output.chart_units)
    ws.insert_chart(2, 0, _rate_chart(book, shown, len(units), cfg), {"x_scale": 1.6, "y_scale": 1.3})
    grades = _grade_counts(forms, cfg)
    _table(ws, _GRADES, grades, st)
    ws.insert_chart(22, 0, _grade_chart(book, len(grades)), {"x_scale": 1.0, "y_scale": 1.0})
    points = [[f"{r.unit}｜{r.project}", r.total_score, r.total_reported]
              for r in forms.itertuples() if not pd.isna(r.total_reported)]
    m = _table(ws, _POINTS, points, st)
    # The axes span at least the top tenth of the total, from a multiple of 10 up to the total.
    top = _axis_value(cfg.scoring.total_points)
    low = min([p[1] for p in points] + [p[2] for p in points] + [top * 0.9]) // 10 * 10
    _table(ws, _DIAGONAL, [[low, low], [float(top), float(top)]], st)
    ws.insert_chart(22, 8, _scatter_chart(book, m, low, top), {"x_scale": 1.0, "y_scale": 1.0})
    for table in (_RATES, _GRADES, _POINTS, _DIAGONAL):
        for title, width in table.widths.items():
            ws.set_column(table.col(title), table.col(title), width)


def _axis_value(value: float) -> float | int:
    """A whole number as an int, so the chart's XML says max="100" for the default total, as before."""
    return int(value) if float(value).is_integer() else value


def _rate_by_unit(forms: pd.DataFrame) -> list[tuple[str, float, float, float]]:
    grouped = forms.groupby("unit")[["budget_full_year", "executed"]].sum()
    rows = [(unit, b, e, e / b) for unit, (b, e) in grouped.iterrows() if b]
    return sorted(rows, key=lambda r: (r[3], r[0]))


def _grade_counts(forms: pd.DataFrame, cfg) -> list[list]:
    return [[g, int((forms["grade_reported"] == g).sum()), int((forms["grade"] == g).sum())]
            for g in cfg.scoring.grades]


def _table(ws, table: _Table, rows: list[list], st: Styles) -> int:
    header_row(ws, _DATA_TOP, table.titles, st, left=table.left)
    for i, row in enumerate(rows, start=1):
        for title, value in zip(table.titles, row, strict=True):
            col = table.col(title)
            if isinstance(value, str):
                ws.write_string(_DATA_TOP + i, col, value)
            elif isinstance(value, int):
                ws.write_number(_DATA_TOP + i, col, value, st.plain)
            else:
                write_num(ws, _DATA_TOP + i, col, value, st.percent if title in _PERCENT_TITLES else st.money)
    return len(rows)


def _rate_chart(book, n: int, total: int, cfg):
    chart = book.add_chart({"type": "column"})
    chart.add_series({"name": "执行率", "categories": _RATES.ref("实施单位", n), "values": _RATES.ref("执行率", n),
                      "fill": {"color": CHART_COLOURS["rate"]},
                      "data_labels": {"value": n <= 20, "num_format": "0%"}})
    line = book.add_chart({"type": "line"})
    line.add_series({"name": f"{cfg.rules.low_execution:.0%} 执行率下限", "categories": _RATES.ref("实施单位", n),
                     "values": _RATES.ref("下限", n), "line": {"color": CHART_COLOURS["limit"], "dash_type": "dash"},
                     "marker": {"type": "none"}})
    chart.combine(line)
    title = "各单位预算执行率（由低到高）" if n == total else f"执行率最低的 {n} 个单位（共 {total} 个，全部见下表）"
    chart.set_title({"name": title})
    chart.set_y_axis({"name": "执行率", "num_format": "0%", "min": 0, "major_gridlines": {"visible": True}})
    chart.set_x_axis({"name": "实施单位", "num_font": {"rotation": -45}})
    chart.set_legend({"position": "bottom"})
    return chart


def _grade_chart(book, n: int):
    chart = book.add_chart({"type": "column"})
    for title, name in (("自评", "自评等级"), ("复算", "复算等级")):
        chart.add_series({"name": name, "categories": _GRADES.ref("等级", n), "values": _GRADES.ref(title, n),
                          "fill": {"color": CHART_COLOURS[title]}, "data_labels": {"value": True}})
    chart.set_title({"name": "等级分布：自评与复算"})
    chart.set_x_axis({"name": "等级"})
    chart.set_y_axis({"name": "项目数", "min": 0, "num_format": "0"})
    chart.set_legend({"position": "bottom"})
    return chart


def _scatter_chart(book, n: int, low: float, top: float):
    chart = book.add_chart({"type": "scatter"})
    chart.add_series({"name": "项目", "categories": _POINTS.ref("复算总分", n), "values": _POINTS.ref("自评总分", n),
                      "marker": {"type": "circle", "size": 6, "fill": {"color": CHART_COLOURS["points"]}}})
    x, y = _DIAGONAL.titles
    chart.add_series({"name": "自评 = 复算", "categories": _DIAGONAL.ref(x, 2), "values": _DIAGONAL.ref(y, 2),
                      "line": {"color": CHART_COLOURS["diagonal"], "dash_type": "dash"}, "marker": {"type": "none"}})
    chart.set_title({"name": "自评总分与复算总分（线上方为自评偏高）"})
    chart.set_x_axis({"name": "复算总分", "min": low, "max": top})
    chart.set_y_axis({"name": "自评总分", "min": low, "max": top})
    chart.set_legend({"position": "bottom"})
    return chart


# --- 运行说明 -----------------------------------------------------------------------

_INFO_WIDTHS = (30, 56, 12, 60)


def write_run_info(ws, result, st: Styles) -> None:
    """What the run read and how it was configured, for the screen: left out of a printed workbook."""
    for col, width in enumerate(_INFO_WIDTHS):
        ws.set_column(col, col, width)
    ws.write_string(0, 0, "运行说明", st.title)
    ws.write_string(1, 0, "本表供屏幕查阅，不在打印范围内（需要打印时，请先在「页面布局」中清除打印区域）。", st.subtle)
    row = _pairs(ws, 3, _run_facts(result), st)
    row = _section(ws, row + 1, "配置（本次运行实际采用）", ["配置项", "取值", "分组"], st)
    for label, value, group in _config_rows(result.config):
        row = _line(ws, row, (label, value, group), st)
    row = _section(ws, row + 1, "规则目录", ["规则", "名称", "严重程度", "说明"], st)
    for rule in CATALOGUE:
        described = explain(rule, result.config)
        row = _line(ws, row, (rule.code, rule.title, SEVERITY_NAMES[rule.severity], described), st)
    no_print(ws, row + 1, len(_INFO_WIDTHS) + 1)
    ws.set_footer(FOOTER)  # for whoever clears the print area to print it after all


def _line(ws, row: int, texts, st: Styles) -> int:
    for col, text in enumerate(texts):
        ws.write_string(row, col, text, st.text)
    fit_row(ws, row, texts, _INFO_WIDTHS)
    return row + 1


def _run_facts(result) -> list[tuple[str, str]]:
    c = result.counts()
    severities = {s: sum(f.severity == s for f in result.findings) for s in SEVERITY_NAMES}
    stand = standings(result.forms)
    superseded, outside, suspect = stand[SUPERSEDED], stand[WRONG_SEASON], stand[SCALE_SUSPECT]
    return [
        ("运行编号", result.run_id),
        ("开始时间（北京时间）", _beijing(result.started_at)),
        ("结束时间（北京时间）", _beijing(result.finished_at)),
        ("收件箱", result.inbox),
        ("输出目录", result.outbox),
        ("收件箱文件", f"{c['files']} 个：受理 {c['accepted']}，未受理 {c['rejected']}，忽略 {c['ignored']}"
                  + (f"（另有 {c['archives']} 个压缩包在内存中打开，所含文件逐个计入）" if c.get("archives") else "")),
        ("受理的自评表", f"{c['forms']} 张，其中计入汇总 {stand[COUNTED]} 张，"
                    f"被重报替代 {superseded} 张，金额单位存疑未计入 {suspect} 张"
                    + (f"，年度或县（区）不符未计入 {outside} 张" if outside else "")),
        ("问题", "，".join(f"{SEVERITY_NAMES[s]} {n} 条" for s, n in severities.items())),
        ("之后的运行", "收件箱、配置与程序均无变化时，之后的运行不重新计算，直接沿用本工作簿和两个 CSV 文件"
                   "（那次运行的 run.json 注明输出沿用自本次运行）。"),
    ]


def _beijing(iso: str) -> str:
    if not iso:
        return ""
    return datetime.fromisoformat(iso).astimezone(BEIJING).strftime("%Y-%m-%d %H:%M:%S")


# Sections and settings as a person reads them. A setting's label is its `description` (config.py), unless
# it has none or names command-line or TOML syntax (--workers, [labels.分组]): those are labelled here.
_SECTIONS = {"workers": "运行", "scheduler_timeout": "运行", "rules": "规则阈值", "scoring": "评分规则",
             "limits": "文件限制", "output": "工作簿版式", "season": "报送季", "labels": "栏目标签"}
_LABELS = {
    "workers": "读取文件的并行进程数（0 表示 CPU 核数；命令行指定的进程数优先）",
    "labels": "本地模板中栏目标签的其他写法",
    "scoring.total_points": "总分满分",
    "scoring.lowest_grade": "最低等级（低于所有等级下限时）",
    "scoring.achieved_words": "定性指标评为「达到」的用词",
    "scoring.partly_words": "定性指标评为「部分达到」的用词",
    "scoring.not_achieved_words": "定性指标评为「未达到」的用词",
    "scoring.not_applicable_words": "指标「不适用」的用词",
    "scoring.tier_upper": "定性指标三档的得分上限（占分值的比例）",
}
_WORDS = {"achieved": "达到", "partly": "部分达到", "not_achieved": "未达到"}


def _config_rows(cfg) -> list[tuple[str, str, str]]:
    """(label, value, section) of every setting, in Chinese."""
    rows = []
    for section_name, section in cfg:
        group = _SECTIONS.get(section_name, section_name)
        if section_name == "labels":
            rows.append((_LABELS["labels"], _labels_text(section), group))
        elif not hasattr(type(section), "model_fields"):  # a top-level setting such as workers
            info = type(cfg).model_fields[section_name]
            rows.append((_LABELS.get(section_name) or info.description or section_name, _value_text(section), group))
        else:
            for key, info in type(section).model_fields.items():
                name = f"{section_name}.{key}"
                label = _LABELS.get(name) or info.description or name
                rows.append((label, _value_text(getattr(section, key)), group))
    return rows


def _value_text(value) -> str:
    if isinstance(value, dict):
        return "；".join(f"{_WORDS.get(k, k)}：{_value_text(v)}" for k, v in value.items()) or "（无）"
    if isinstance(value, list | tuple):
        return "、".join(map(_value_text, value)) or "（无）"
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float):
        return f"{value:g}"
    if value is None:
        return "（未设置）"
    return str(value) if str(value) != "" else "（未设置）"


def _labels_text(labels: dict) -> str:
    """[labels]: each role by its label on the form, with the spellings added."""
    lines = []
    for group, roles in labels.items():
        for name, words in roles.items():
            role = ROLES.get(group, {}).get(name)
            lines.append(f"{role.label if role else name}：{'、'.join(words)}")
    return "\n".join(lines) or "（未设置）"


def _pairs(ws, row: int, pairs: list[tuple[str, str]], st: Styles) -> int:
    for key, value in pairs:
        ws.write_string(row, 0, key, st.header)
        ws.write_string(row, 1, value, st.text)
        fit_row(ws, row, (key, value), _INFO_WIDTHS)
        row += 1
    return row


def _section(ws, row: int, title: str, columns: list[str], st: Styles) -> int:
    ws.write_string(row, 0, title, st.title)
    header_row(ws, row + 1, columns, st)
    return row + 2

