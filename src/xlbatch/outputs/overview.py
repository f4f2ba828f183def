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

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

import pandas as pd

from ..checks.rules import CATALOGUE, explain
from ..checks.score import counted
from ..models import SEVERITY_NAMES
from .formats import CHART_COLOURS, Styles, header_row, print_setup, write_num

CHART_SHEET, INFO_SHEET = "图表", "运行说明"
BEIJING = timezone(timedelta(hours=8))  # China observes no daylight saving time
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
_DIAGONAL = _POINTS.beside(("参考线（自评 = 复算）", "y"), {"参考线（自评 = 复算）": 18})
_PERCENT_TITLES = ("执行率", "下限")


def write_charts(book, ws, forms: pd.DataFrame, cfg, st: Styles) -> None:
    forms = counted(forms)
    print_setup(ws, repeat_rows=0)
    ws.write_string(0, 0, "图表（数据见下方表格；仅含计入汇总的自评表）", st.title)
    if forms.empty:
        ws.write_string(2, 0, "本次运行没有可汇总的自评表。")
        return
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
    chart.set_y_axis({"num_format": "0%", "min": 0, "major_gridlines": {"visible": True}})
    chart.set_x_axis({"num_font": {"rotation": -45}})
    chart.set_legend({"position": "bottom"})
    return chart


def _grade_chart(book, n: int):
    chart = book.add_chart({"type": "column"})
    for title, name in (("自评", "自评等级"), ("复算", "复算等级")):
        chart.add_series({"name": name, "categories": _GRADES.ref("等级", n), "values": _GRADES.ref(title, n),
                          "fill": {"color": CHART_COLOURS[title]}, "data_labels": {"value": True}})
    chart.set_title({"name": "等级分布：自评与复算"})
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

def write_run_info(ws, result, st: Styles) -> None:
    ws.set_column(0, 0, 34)
    ws.set_column(1, 1, 60)
    ws.set_column(2, 3, 40)
    ws.write_string(0, 0, "运行说明", st.title)
    row = _pairs(ws, 2, _run_facts(result), st)
    row = _section(ws, row + 1, "配置（本次运行实际采用）", ["配置项", "取值", "说明"], st)
    for key, value, note in _config_rows(result.config):
        for col, text in enumerate((key, value, note)):
            ws.write_string(row, col, text, st.text)
        row += 1
    row = _section(ws, row + 1, "规则目录", ["规则", "严重程度", "名称", "说明"], st)
    for rule in CATALOGUE:
        described = explain(rule, result.config)
        for col, text in enumerate((rule.code, SEVERITY_NAMES[rule.severity], rule.title, described)):
            ws.write_string(row, col, text, st.text)
        row += 1
    print_setup(ws, repeat_rows=0)


def _run_facts(result) -> list[tuple[str, str]]:
    c = result.counts()
    severities = {s: sum(f.severity == s for f in result.findings) for s in SEVERITY_NAMES}
    forms = result.forms
    superseded = int((forms["superseded_by"] != "").sum()) if not forms.empty else 0
    outside = int(((forms["superseded_by"] == "") & (forms["wrong_year"] != "")).sum()) if not forms.empty else 0
    suspect = len(forms) - superseded - outside - len(counted(forms))  # AMOUNT_SCALE_SUSPECT, not superseded
    return [
        ("运行编号", result.run_id),
        ("开始时间（北京时间）", _beijing(result.started_at)),
        ("结束时间（北京时间）", _beijing(result.finished_at)),
        ("收件箱", result.inbox),
        ("输出目录", result.outbox),
        ("收件箱文件", f"{c['files']} 个：受理 {c['accepted']}，未受理 {c['rejected']}，忽略 {c['ignored']}"),
        ("受理的自评表", f"{c['forms']} 张，其中计入汇总 {c['forms'] - superseded - suspect - outside} 张，"
                    f"被重报替代 {superseded} 张，金额单位存疑未计入 {suspect} 张"
                    + (f"，年度或县（区）不符未计入 {outside} 张" if outside else "")),
        ("问题", "，".join(f"{SEVERITY_NAMES[s]} {n} 条" for s, n in severities.items())),
        ("之后的运行", "收件箱、配置与程序均无变化时，之后的运行不重新计算，直接沿用本工作簿和两个 CSV 文件"
                   "（其 run.json 的 outputs_from 指向本次运行）。"),
    ]


def _beijing(iso: str) -> str:
    if not iso:
        return ""
    return datetime.fromisoformat(iso).astimezone(BEIJING).strftime("%Y-%m-%d %H:%M:%S")


def _config_rows(cfg) -> list[tuple[str, str, str]]:
    rows = []
    for section_name, section in cfg:
        if not hasattr(type(section), "model_fields"):  # a top-level setting such as workers
            info = type(cfg).model_fields[section_name]
            rows.append((section_name, str(section), info.description or ""))
            continue
        for key, info in type(section).model_fields.items():
            value = getattr(section, key)
            text = json.dumps(value, ensure_ascii=False) if isinstance(value, list | dict) else \
                "（未设置）" if value is None else str(value)
            rows.append((f"{section_name}.{key}", text, info.description or ""))
    return rows


def _pairs(ws, row: int, pairs: list[tuple[str, str]], st: Styles) -> int:
    for key, value in pairs:
        ws.write_string(row, 0, key, st.header)
        ws.write_string(row, 1, value, st.text)
        row += 1
    return row


def _section(ws, row: int, title: str, columns: list[str], st: Styles) -> int:
    ws.write_string(row, 0, title, st.title)
    header_row(ws, row + 1, columns, st)
    return row + 2

