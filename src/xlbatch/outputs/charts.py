"""Chart images for the county report (report.py), drawn with matplotlib.

Chinese labels need a font that has Chinese glyphs: without one matplotlib draws empty boxes.
`cjk_font` looks for one (WenQuanYi Zen Hei, Noto/Source Han Sans CJK, the Windows 黑体/雅黑 …),
first among the fonts matplotlib has indexed, then among the system's font files (a font
installed after matplotlib built its cache is not in its index), and accepts it only if it has
a glyph for every character a chart will show. Without such a font the report has no charts and
says so, rather than printing boxes.

matplotlib is used without pyplot (a Figure and the Agg canvas): pyplot's import alone costs
more than drawing every chart, and no window or global state is wanted in a nightly job.
"""

from __future__ import annotations

import functools
import os
from io import BytesIO
from pathlib import Path
from typing import NamedTuple

# matplotlib is not loaded while the workers read: the report is drawn in a child process forked for the
# documents while the run writes the workbook (write.py, aside.py); loaded there (0.3 s), it costs the run
# nothing, where loaded in the run's own process it took a core from the workers reading the files.

# Fonts with Chinese glyphs, the most likely on a Linux server first, then Windows and macOS.
PREFERRED = ("WenQuanYi Zen Hei", "WenQuanYi Micro Hei", "Noto Sans CJK SC", "Noto Sans SC",
             "Source Han Sans SC", "Source Han Sans CN", "Noto Serif CJK SC", "Droid Sans Fallback",
             "AR PL UMing CN", "SimHei", "Microsoft YaHei", "DengXian", "SimSun", "PingFang SC",
             "Heiti SC", "STHeiti")
# How such fonts' files are named, to find one matplotlib has not indexed.
_FILE_HINTS = ("wqy", "zenhei", "microhei", "notosanscjk", "notoserifcjk", "notosanssc", "sourcehan",
               "droidsansfallback", "uming", "ukai", "simhei", "simsun", "msyh", "deng", "pingfang")
# The Chinese the charts write themselves (their labels add the grades and names): what a font must draw.
WORDS = "项目数（个）预算执行率（红色为低于的区间）绩效等级单位自评按规则复算虚线为%"
DPI = 200
COLOURS = {"bar": "#4472C4", "low": "#C0504D", "reported": "#9BBB59", "recomputed": "#4472C4"}


def use_private_cache(folder: Path) -> None:
    """Where matplotlib keeps its font index when the home directory is not writable (a systemd
    unit with ProtectHome=yes): else it builds the index anew in a temporary folder every run and
    warns. Only when MPLCONFIGDIR is not set and the default place cannot be written."""
    if "MPLCONFIGDIR" in os.environ:
        return
    config = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    if _writable(config) and _writable(cache):  # matplotlib's own places (~/.config, ~/.cache/matplotlib)
        return
    folder.mkdir(parents=True, exist_ok=True)
    os.environ["MPLCONFIGDIR"] = str(folder)


def _writable(path: Path) -> bool:
    while not path.exists() and path != path.parent:
        path = path.parent
    return os.access(path, os.W_OK)


class Font(NamedTuple):
    name: str
    weight: int | str  # the weight the font has: asked for another, matplotlib warns on every text


@functools.cache
def cjk_font(sample: str) -> Font | None:
    """A font that draws every character of `sample`, or None."""
    from matplotlib import font_manager

    indexed = {f.name: f for f in font_manager.fontManager.ttflist}
    for name in PREFERRED:
        entry = indexed.get(name)
        if entry and _covers(entry.fname, sample):
            return Font(entry.name, entry.weight)
    # A font installed after matplotlib indexed the system's fonts: add the likely files and look again.
    known = {f.fname for f in font_manager.fontManager.ttflist}
    for path in font_manager.findSystemFonts():
        squeezed = Path(path).name.lower().replace("-", "").replace("_", "")
        if path in known or not any(hint in squeezed for hint in _FILE_HINTS) or not _covers(path, sample):
            continue
        try:
            font_manager.fontManager.addfont(path)
        except (OSError, RuntimeError, ValueError):
            continue
        entry = next(f for f in reversed(font_manager.fontManager.ttflist) if f.fname == path)
        return Font(entry.name, entry.weight)
    return None


def _covers(path: str, sample: str) -> bool:
    from matplotlib.ft2font import FT2Font

    try:
        charmap = FT2Font(path).get_charmap()
    except (OSError, RuntimeError, ValueError):
        return False
    return all(ord(ch) in charmap for ch in set(sample) if not ch.isspace() and ord(ch) > 127)


def _figure(width_cm: float, height_cm: float):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width_cm / 2.54, height_cm / 2.54), dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _png(fig) -> BytesIO:
    out = BytesIO()
    fig.savefig(out, format="png", dpi=DPI, metadata={"Software": None})
    out.seek(0)
    return out


def _style(font: Font):
    from matplotlib import rc_context

    weights = dict.fromkeys(("font.weight", "axes.labelweight", "axes.titleweight", "figure.titleweight",
                             "figure.labelweight"), font.weight)
    return rc_context({"font.family": "sans-serif", "font.sans-serif": [font.name], **weights,
                       "axes.unicode_minus": False,
                       "font.size": 10, "axes.spines.top": False, "axes.spines.right": False})


def rate_bands(font: Font, labels: list[str], counts: list[int], low: list[bool], line: float,
               width_cm: float) -> BytesIO:
    """Projects per execution-rate band; the bands below the low-execution line in red."""
    with _style(font):
        fig = _figure(width_cm, 7.5)
        ax = fig.add_subplot()
        bars = ax.bar(labels, counts, color=[COLOURS["low"] if x else COLOURS["bar"] for x in low])
        ax.bar_label(bars, labels=[f"{n} 个" for n in counts], padding=2)
        ax.set_ylabel("项目数（个）")
        ax.set_xlabel(f"预算执行率（红色为低于 {line:.0%} 的区间）")
        ax.set_ylim(0, max([*counts, 1]) * 1.18)
        ax.yaxis.get_major_locator().set_params(integer=True)
        return _png(fig)


def grade_mix(font: Font, grades: list[str], reported: list[int], recomputed: list[int], width_cm: float) -> BytesIO:
    """Projects per grade: as the units reported them beside as recomputed."""
    with _style(font):
        fig = _figure(width_cm, 7.5)
        ax = fig.add_subplot()
        x = range(len(grades))
        step = 0.38
        for offset, values, name, colour in ((-step / 2, reported, "单位自评", COLOURS["reported"]),
                                             (step / 2, recomputed, "按规则复算", COLOURS["recomputed"])):
            bars = ax.bar([i + offset for i in x], values, step, label=name, color=colour)
            ax.bar_label(bars, padding=2)
        ax.set_xticks(list(x), grades)
        ax.set_ylabel("项目数（个）")
        ax.set_xlabel("绩效等级")
        ax.set_ylim(0, max([*reported, *recomputed, 1]) * 1.2)
        ax.yaxis.get_major_locator().set_params(integer=True)
        ax.legend(frameon=False, loc="upper right")
        return _png(fig)


def department_rates(font: Font, names: list[str], rates: list[float], line: float, width_cm: float) -> BytesIO:
    """Execution rate per 主管部门 as horizontal bars, lowest at the top, with the low-execution line."""
    height = min(max(4.0, 0.55 * len(names) + 2.0), 22.0)
    with _style(font):
        fig = _figure(width_cm, height)
        ax = fig.add_subplot()
        shown = [r * 100 for r in rates]
        bars = ax.barh(names, shown, color=[COLOURS["low"] if r < line else COLOURS["bar"] for r in rates])
        ax.bar_label(bars, labels=[f"{v:.1f}%" for v in shown], padding=2, fontsize=8)
        ax.axvline(line * 100, color="#7F7F7F", linestyle="--", linewidth=1)
        ax.set_xlim(0, max([*shown, 100]) * 1.12)
        ax.set_xlabel(f"预算执行率（%），虚线为 {line:.0%}")
        ax.invert_yaxis()
        ax.tick_params(axis="y", labelsize=8)
        return _png(fig)
