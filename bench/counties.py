"""Benchmark of `xlbatch run --by county`: a province of N counties × M forms (default 20 × 500 = 10,000).

    python bench/counties.py [--counties 20] [--forms 500] [--keep DIR] [--skip-naive]

Generates the inbox (one folder per county, bench.py's realistic forms) and times, each in a fresh
subprocess, with the peak resident memory of the run's own process (the client) and of its whole
process tree (the workers included):

1. `xlbatch run --by county --workers 1`, cold;
2. the same with `--workers 2`, cold (a fresh outbox);
3. `--workers 2` again on the unchanged inbox (every county repeated);
4. `--workers 2` after one form of one county changed (that county alone done again);
5. `--executor dask` on a LocalCluster of 2 worker processes started here, cold (the workers are not
   the run's children: the tree figure is the client's);
6. the naive read (pandas.read_excel with openpyxl over every file), and the raw calamine floor.

It prints the figures and the ratios the goals are stated in (issue 16). It asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import bench
from bench import FLOOR, NAIVE, make_form

XLBATCH = str(Path(sys.executable).with_name("xlbatch"))


def _write_county(args) -> None:
    folder, county, start, stop = args
    from xlbatch.outputs.template import write_workbook

    for i in range(start, stop):
        unit = folder / f"unit{i // 3 + 1:04d}"
        unit.mkdir(parents=True, exist_ok=True)
        write_workbook(unit / f"{i:05d}.xlsx", [("自评表", make_form(county * 100_000 + i, random.Random(i)))])


def generate(inbox: Path, counties: int, forms: int) -> list[Path]:
    folders = [inbox / f"第{c + 1:02d}县" for c in range(counties)]
    jobs = [(folders[c], c, s, min(s + 100, forms)) for c in range(counties) for s in range(0, forms, 100)]
    with ProcessPoolExecutor(os.cpu_count()) as pool:
        list(pool.map(_write_county, jobs))
    return folders


def measure(cmd: list[str]) -> tuple[float, int, int]:
    """Wall seconds, peak RSS of the process itself and of its whole tree."""
    return bench.measure(cmd, own=True)


def _run(inbox: Path, outbox: Path, *extra: str) -> list[str]:
    return [XLBATCH, "run", "--by", "county", "--inbox", str(inbox), "--outbox", str(outbox), "-q", *extra]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--counties", type=int, default=20)
    parser.add_argument("--forms", type=int, default=500, help="forms per county")
    parser.add_argument("--keep", type=Path, default=None, help="work in this folder and keep it")
    parser.add_argument("--skip-naive", action="store_true", help="skip the (slow) openpyxl baseline")
    args = parser.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="xlbatch-counties-"))
    inbox = work / "inbox"
    if not inbox.exists():
        t = time.perf_counter()
        generate(inbox, args.counties, args.forms)
        print(f"generated {args.counties} × {args.forms} forms in {time.perf_counter() - t:.1f} s → {inbox}")
    rows = {}
    for workers in ("1", "2"):
        outbox = work / f"outbox-w{workers}"
        shutil.rmtree(outbox, ignore_errors=True)
        rows[f"cold, --workers {workers}"] = measure(_run(inbox, outbox, "--workers", workers))
    outbox = work / "outbox-w2"
    rows["unchanged rerun, --workers 2"] = measure(_run(inbox, outbox, "--workers", "2"))
    changed = next((inbox / "第01县").rglob("*.xlsx"))
    from xlbatch.outputs.template import write_workbook

    write_workbook(changed, [("自评表", make_form(999_999, random.Random(7)))])
    rows["one county changed, --workers 2"] = measure(_run(inbox, outbox, "--workers", "2"))
    rows["cold, Dask LocalCluster (2 workers)"] = _dask(inbox, work / "outbox-dask")
    rows["raw floor (calamine values + merges)"] = measure([sys.executable, "-c", FLOOR, str(inbox)])
    if not args.skip_naive:
        rows["naive read (pandas + openpyxl)"] = measure([sys.executable, "-c", NAIVE, str(inbox)])
    _print(rows, args.counties, args.forms)
    if not args.keep:
        shutil.rmtree(work)


def _dask(inbox: Path, outbox: Path) -> tuple[float, int, int]:
    from distributed import LocalCluster

    shutil.rmtree(outbox, ignore_errors=True)
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0") as cluster:
        return measure(_run(inbox, outbox, "--executor", "dask", "--scheduler", cluster.scheduler_address))


def _print(rows: dict, counties: int, forms: int) -> None:
    print(f"\n{counties} counties × {forms} forms = {counties * forms} forms, {os.cpu_count()} cores")
    print(f"  {'':42s} {'seconds':>8s}   {'client peak':>11s}   {'tree peak':>9s}")
    for name, (seconds, own, tree) in rows.items():
        print(f"  {name:42s} {seconds:8.2f}   {own / 2**20:8.0f} MB   {tree / 2**20:6.0f} MB")
    one, two = rows["cold, --workers 1"][0], rows["cold, --workers 2"][0]
    print(f"\n  cold --workers 2 / --workers 1       {two / one:6.3f}×  (goal ≤ 0.6×)")
    changed = rows["one county changed, --workers 2"][0]
    print(f"  one county changed / cold            {changed / two:6.3f}×  (goal ≤ 0.15×)")
    print(f"  unchanged rerun / cold               {rows['unchanged rerun, --workers 2'][0] / two:6.3f}×")
    floor = rows["raw floor (calamine values + merges)"][0]
    print(f"  cold --workers 2 / raw floor         {two / floor:6.2f}×")
    if "naive read (pandas + openpyxl)" in rows:
        naive = rows["naive read (pandas + openpyxl)"][0]
        print(f"  cold --workers 2 / naive read        {two / naive:6.3f}×  (goal ≤ 0.3×)")
        print(f"  cold Dask / naive read               {rows['cold, Dask LocalCluster (2 workers)'][0] / naive:6.3f}×")
    peak = max(own for _, own, _ in rows.values())
    print(f"  client peak memory (largest)         {peak / 2**20:6.0f} MB (goal < 1 GB)")


if __name__ == "__main__":
    main()
