"""Benchmark: xlbatch against reading the same files naively and against the raw calamine floor.

    python bench/bench.py [--forms 1000] [--workers N] [--keep DIR]

Generates N realistic single-form submissions (default 1,000) and times, each in
a fresh subprocess with the whole process tree's peak memory sampled:

1. `xlbatch run` end to end, cold (the full workbook included);
2. `xlbatch run` again on the unchanged inbox (it repeats the published outputs);
3. `xlbatch run --recompute` on the unchanged inbox (every file served from the ledger,
   everything checked and written again);
4. the naive approach: pandas.read_excel(sheet_name=None, header=None, engine="openpyxl") over
   every file, reading only;
5. the raw floor: python-calamine reading every sheet's values and merged ranges.

It prints the figures and the ratios the goals are stated in. It asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

NAIVE = """
import sys, pathlib, pandas as pd
for p in sorted(pathlib.Path(sys.argv[1]).rglob("*.xlsx")):
    pd.read_excel(p, sheet_name=None, header=None, engine="openpyxl")
"""
FLOOR = """
import sys, pathlib, python_calamine as pc
for p in sorted(pathlib.Path(sys.argv[1]).rglob("*.xlsx")):
    book = pc.CalamineWorkbook.from_path(str(p))
    for name in book.sheet_names:
        sheet = book.get_sheet_by_name(name)
        sheet.to_python()
        sheet.merged_cell_ranges
"""


def make_form(i: int, rng: random.Random):
    """A plausible form: most targets met; some honest shortfalls; a few inflated self-scores."""
    from seed import seed_form

    from xlbatch.outputs.template import BlockSpec, CategorySpec, IndicatorSpec

    budget = round(rng.uniform(5, 900), 2)
    rate = min(rng.betavariate(6, 1.3), 1.0)
    executed = round(budget * rate, 2)
    inflated = rng.random() < 0.15  # this clerk gives full marks whatever happened
    specs = [("服务人次", "≥{}人次", 1200, 10), ("覆盖率", "≥{}%", 95, 8), ("合格率", "≥{}%", 98, 8),
             ("差错率", "≤{}%", 1, 8), ("完成及时率", "≥{}%", 95, 8), ("单位成本", "≤{}元", 200, 8),
             ("经济效益", "有所提高", None, 10), ("社会效益", "得到提升", None, 10), ("可持续影响", "长期", None, 10),
             ("满意度", "≥{}%", 90, 10)]
    inds = []
    for name, target, number, weight in specs:
        if number is None:
            inds.append(IndicatorSpec(name, target, target, weight, weight))
            continue
        t = target.format(number)
        unit = t.lstrip("≥≤").replace(str(number), "")
        if rng.random() < 0.9:
            inds.append(IndicatorSpec(name, t, f"{number}{unit}", weight, weight))
            continue
        share = rng.uniform(0.8, 0.97)
        actual = round(number * (2 - share) if t.startswith("≤") else number * share, 1)
        score = weight if inflated else round(weight * share, 2)
        note = None if inflated else "受年度资金到位时间影响，部分任务顺延，下年度加快实施进度"
        inds.append(IndicatorSpec(name, t, f"{actual}{unit}", weight, score, note))
    blocks = [
        BlockSpec("产出指标 50 分", [CategorySpec("数量指标", inds[0:2]), CategorySpec("质量指标", inds[2:4]),
                                 CategorySpec("时效指标", inds[4:5]), CategorySpec("成本指标", inds[5:6])]),
        BlockSpec("效益指标 30 分", [CategorySpec("经济效益指标", inds[6:7]), CategorySpec("社会效益指标", inds[7:8]),
                                 CategorySpec("可持续影响指标", inds[8:9])]),
        BlockSpec("满意度指标 10 分", [CategorySpec("服务对象满意度指标", inds[9:10])]),
    ]
    return seed_form(
        project=f"专项项目{i:05d}", unit=f"示例县第{i // 3 + 1:04d}服务中心", department=f"示例县第{i % 25 + 1:02d}局",
        funds={"年度资金总额": (budget, budget, executed), "当年财政拨款": (budget, budget, executed)},
        rate="formula", budget_score="formula", budget_weight=10, blocks=blocks, total_reported="formula",
    )


def _write_batch(args) -> None:
    inbox, start, stop = args
    from xlbatch.outputs.template import write_workbook

    for i in range(start, stop):
        rng = random.Random(i)
        folder = inbox / f"unit{i // 3 + 1:04d}"
        folder.mkdir(exist_ok=True)
        write_workbook(folder / f"{i:05d}.xlsx", [("自评表", make_form(i, rng))])


def generate(inbox: Path, n: int) -> None:
    inbox.mkdir(parents=True)
    step = 100
    with ProcessPoolExecutor(os.cpu_count()) as pool:
        list(pool.map(_write_batch, [(inbox, s, min(s + step, n)) for s in range(0, n, step)]))


def _tree_rss(pid: int) -> int:
    """Resident memory of a process and all its descendants, in bytes."""
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        try:
            with open(f"/proc/{p}/status") as fh:
                for line in fh:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1]) * 1024
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as fh:
                    todo.extend(int(c) for c in fh.read().split())
        except (FileNotFoundError, ProcessLookupError):
            continue
    return total


def _rss(pid: int) -> int:
    """Resident memory of the process itself, in bytes (0 once it is gone)."""
    try:
        with open(f"/proc/{pid}/status") as fh:
            return next(int(line.split()[1]) * 1024 for line in fh if line.startswith("VmRSS:"))
    except (FileNotFoundError, StopIteration):
        return 0


def measure(cmd: list[str], own: bool = False) -> tuple:
    """Wall seconds and peak resident memory (whole process tree) of `cmd`; with `own`, (seconds, peak of
    the process itself, peak of its tree)."""
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peak = mine = 0
    stop = threading.Event()

    def sample():
        nonlocal peak, mine
        while not stop.is_set():
            peak = max(peak, _tree_rss(proc.pid))
            if own:
                mine = max(mine, _rss(proc.pid))
            time.sleep(0.02)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, err = proc.communicate()
    elapsed = time.perf_counter() - started
    stop.set()
    sampler.join()
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{err.decode()[-2000:]}")
    return (elapsed, mine, peak) if own else (elapsed, peak)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--forms", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=None, help="passed to xlbatch run when given")
    parser.add_argument("--keep", type=Path, default=None, help="work in this folder and keep it")
    parser.add_argument("--skip-naive", action="store_true", help="skip the (slow) openpyxl baseline")
    args = parser.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="xlbatch-bench-"))
    inbox, outbox = work / "inbox", work / "outbox"
    if not inbox.exists():
        t = time.perf_counter()
        generate(inbox, args.forms)
        print(f"generated {args.forms} forms in {time.perf_counter() - t:.1f} s → {inbox}")
    shutil.rmtree(outbox, ignore_errors=True)
    xlbatch = [str(Path(sys.executable).with_name("xlbatch")), "run", "--inbox", str(inbox), "--outbox", str(outbox)]
    if args.workers:
        xlbatch += ["--workers", str(args.workers)]
    rows = {
        "xlbatch run (cold)": measure(xlbatch),
        "xlbatch run (unchanged inbox)": measure(xlbatch),
        "xlbatch run --recompute (unchanged)": measure([*xlbatch, "--recompute"]),
        "raw floor (calamine values + merges)": measure([sys.executable, "-c", FLOOR, str(inbox)]),
    }
    if not args.skip_naive:
        rows["naive read (pandas + openpyxl)"] = measure([sys.executable, "-c", NAIVE, str(inbox)])
    print(f"\n{args.forms} forms, {os.cpu_count()} cores")
    for name, (seconds, peak) in rows.items():
        print(f"  {name:40s} {seconds:8.2f} s   peak {peak / 2**20:7.0f} MB")
    cold, rerun = rows["xlbatch run (cold)"][0], rows["xlbatch run (unchanged inbox)"][0]
    floor = rows["raw floor (calamine values + merges)"][0]
    print(f"\n  cold run / raw floor          {cold / floor:6.2f}×   (goal ≤ 10×, aim 5×)")
    if "naive read (pandas + openpyxl)" in rows:
        naive = rows["naive read (pandas + openpyxl)"][0]
        print(f"  cold run / naive read         {cold / naive:6.3f}×  (goal ≤ 0.3×, aim 0.15×)")
    print(f"  unchanged rerun / cold run    {rerun / cold:6.3f}×  (goal ≤ 0.2×)")
    print(f"  peak memory of the cold run   {rows['xlbatch run (cold)'][1] / 2**20:6.0f} MB (goal < 500 MB)")
    if not args.keep:
        shutil.rmtree(work)


if __name__ == "__main__":
    main()
