"""`xlbatch run --by county` (SPEC section 8): one folder per county, each county's outputs as a single-county
run of its folder makes them, a summary workbook and the CSVs over all counties."""

from __future__ import annotations

import csv
import json
import os
import shutil
import signal
import subprocess
from pathlib import Path

import pytest
import python_calamine as calamine
from bench_incremental import build_inbox
from proctree import descendants, run_command, wait_for_workers, wait_gone
from sample_inbox import write_sample_inbox
from seed import seed_form

from xlbatch.config import Config, ConfigError
from xlbatch.counties import LOOSE, run_counties
from xlbatch.nightly import run
from xlbatch.ops.execute import local_processes, local_spread, serial
from xlbatch.outputs.template import write_workbook

COUNTIES = ("丰宁满族自治县", "承德县", "滦平县")
PER_COUNTY = ("consolidated.xlsx", "projects.csv", "anomalies.csv", "run.json", "县级绩效自评汇总报告.docx")
VOLATILE_SHEETS = {"运行说明"}  # run id, times and the outbox's path


def _county_forms(folder: Path, county: str, n: int) -> None:
    for i in range(n):
        spec = seed_form(project=f"{county}项目{i:02d}", unit=f"{county}第{i % 3 + 1}服务中心",
                         funds={"年度资金总额": (10, 10, 4 + i), "当年财政拨款": (10, 10, 4 + i)})
        unit = folder / f"{county}第{i % 3 + 1}服务中心"
        unit.mkdir(parents=True, exist_ok=True)
        write_workbook(unit / f"{i:02d}.xlsx", [("自评表", spec)])


@pytest.fixture(scope="module")
def province(tmp_path_factory) -> Path:
    """Three counties: the sample inbox (a package, a broken file, a report) and two of plain forms;
    a note lying beside the county folders."""
    inbox = tmp_path_factory.mktemp("province") / "inbox"
    write_sample_inbox(inbox / COUNTIES[0])
    _county_forms(inbox / COUNTIES[1], COUNTIES[1], 5)
    _county_forms(inbox / COUNTIES[2], COUNTIES[2], 3)
    (inbox / "说明.txt").write_text("各县材料\n", encoding="utf-8")
    return inbox


def _cells(path: Path) -> dict[str, list[list]]:
    book = calamine.CalamineWorkbook.from_path(str(path))
    return {name: book.get_sheet_by_name(name).to_python() for name in book.sheet_names
            if name not in VOLATILE_SHEETS}


def _rows(path: Path) -> list[dict]:
    return list(csv.DictReader(path.read_text(encoding="utf-8-sig").splitlines()))


@pytest.fixture(scope="module")
def local(province, tmp_path_factory) -> Path:
    outbox = tmp_path_factory.mktemp("local") / "outbox"
    run_counties(province, outbox, Config(), local_processes(2), spread=local_spread(2))
    return outbox


def test_each_county_is_what_a_single_county_run_of_its_folder_makes(province, local, tmp_path):
    for county in COUNTIES:
        single = tmp_path / county
        cfg = Config.model_validate({"season": {"county": county}})
        run(province / county, single, cfg, serial)
        folder = local / "counties" / county
        assert all((folder / name).is_file() for name in PER_COUNTY)
        for name in ("projects.csv", "anomalies.csv"):
            assert (folder / name).read_bytes() == (single / name).read_bytes(), (county, name)
        assert _cells(folder / "consolidated.xlsx") == _cells(single / "consolidated.xlsx"), county
        assert sorted(os.listdir(folder / "通知")) == sorted(os.listdir(single / "通知"))


def test_the_csvs_over_all_counties_carry_the_county_and_paths_from_the_whole_inbox(local):
    rows = _rows(local / "projects.csv")
    assert list(rows[0])[:2] == ["county", "source_file"]
    for county in COUNTIES:
        own = _rows(local / "counties" / county / "projects.csv")
        mine = [r for r in rows if r["county"] == county]
        assert len(mine) == len(own) > 0
        assert [r["source_file"] for r in mine] == [f"{county}/{r['source_file']}" for r in own]
        assert [r["total_score"] for r in mine] == [r["total_score"] for r in own]
    findings = _rows(local / "anomalies.csv")
    assert {r["county"] for r in findings} == {c for c in COUNTIES if _rows(local / "counties" / c / "anomalies.csv")}
    assert all(r["source_file"].startswith(f"{r['county']}/") for r in findings)


def test_every_inbox_file_is_accounted_for_in_the_run_json(province, local):
    data = json.loads((local / "run.json").read_text(encoding="utf-8"))
    listed = {f["path"] for f in data["files"] if f["status"] != "opened"}
    on_disk = {p.relative_to(province).as_posix() for p in province.rglob("*") if p.is_file()}
    packaged = {f["path"] for f in data["files"] if ".zip/" in f["path"]}
    assert listed - packaged == on_disk - {f["path"] for f in data["files"] if f["status"] == "opened"}
    loose = next(f for f in data["files"] if f["path"] == "说明.txt")
    assert loose["status"] == "ignored" and "不在任何县（区）的文件夹中" in loose["message"]
    assert [c["county"] for c in data["counties"]] == list(COUNTIES)
    assert data["counts"]["counties"] == 3


def test_the_summary_workbook_has_a_row_per_county_with_its_figures_and_links(local):
    book = calamine.CalamineWorkbook.from_path(str(local / "consolidated.xlsx"))
    assert book.sheet_names == ["各县汇总", "图表", "其他文件", "运行说明"]
    table = book.get_sheet_by_name("各县汇总").to_python(skip_empty_area=False)
    header = table[2]  # the fixed columns' titles, merged over the two header rows
    body = {row[1]: row for row in table[4:] if row[1]}
    assert set(body) == {*COUNTIES, "合计"}
    forms = header.index("自评表")
    budget = header.index("全年预算数")
    for county in COUNTIES:
        own = _rows(local / "counties" / county / "projects.csv")
        assert body[county][forms] == len(own)
        # The totals leave out what the county's own totals leave out: replaced copies, amounts in 元.
        out = {(r["source_file"], r["sheet"]) for r in _rows(local / "counties" / county / "anomalies.csv")
               if r["rule"] == "AMOUNT_SCALE_SUSPECT"}
        counted = [r for r in own if not r["superseded_by"] and (r["source_file"], r["sheet"]) not in out]
        assert body[county][budget] == pytest.approx(sum(float(r["budget_full_year"]) for r in counted))
    assert body["合计"][forms] == sum(body[c][forms] for c in COUNTIES)
    others = book.get_sheet_by_name("其他文件").to_python()
    assert others[3][:3] == ["说明.txt", LOOSE, "忽略"]


def test_one_worker_and_two_give_the_same_outputs(province, local, tmp_path):
    one = tmp_path / "one"
    run_counties(province, one, Config(), serial, spread=local_spread(1))
    for name in ("projects.csv", "anomalies.csv"):
        assert (one / name).read_bytes() == (local / name).read_bytes()
    for county in COUNTIES:
        assert _cells(one / "counties" / county / "consolidated.xlsx") == \
            _cells(local / "counties" / county / "consolidated.xlsx")


def test_an_unchanged_county_is_repeated_and_a_changed_one_alone_read_again(province, tmp_path):
    inbox = tmp_path / "inbox"
    shutil.copytree(province, inbox)
    outbox = tmp_path / "outbox"
    first = run_counties(inbox, outbox, Config(), serial, spread=local_spread(2))
    again = run_counties(inbox, outbox, Config(), serial, spread=local_spread(2))
    assert again.extra["changes"]["counts"] == {"evaluated": 0, "repeated": 3}
    assert [c["outputs_from"] for c in again.extra["counties"]] == [first.run_id] * 3
    for county in COUNTIES:  # repeated as written, byte for byte
        assert (outbox / "runs" / again.run_id / "counties" / county / "consolidated.xlsx").read_bytes() == \
            (outbox / "runs" / first.run_id / "counties" / county / "consolidated.xlsx").read_bytes()
    changed = inbox / COUNTIES[1] / f"{COUNTIES[1]}第1服务中心" / "00.xlsx"
    spec = seed_form(project=f"{COUNTIES[1]}项目00", unit=f"{COUNTIES[1]}第1服务中心",
                     funds={"年度资金总额": (10, 10, 9.5), "当年财政拨款": (10, 10, 9.5)})
    write_workbook(changed, [("自评表", spec)])
    third = run_counties(inbox, outbox, Config(), serial, spread=local_spread(2))
    rows = {c["county"]: c for c in third.extra["counties"]}
    assert rows[COUNTIES[1]]["outputs_from"] == third.run_id and rows[COUNTIES[1]]["read"] == 1
    assert {rows[c]["outputs_from"] for c in (COUNTIES[0], COUNTIES[2])} == {first.run_id}
    executed = [r["executed"] for r in _rows(outbox / "projects.csv")
                if r["source_file"] == changed.relative_to(inbox).as_posix()]
    assert executed == ["9.5"]


def test_a_county_whose_worker_dies_is_done_again_file_by_file_here(province, tmp_path, monkeypatch):
    """A file that kills the process reading it (a panic in calamine) costs that file, not its county."""
    import xlbatch.counties as counties
    from xlbatch.form import analyse

    real = analyse.analyse_file

    def deadly(task, data=None):
        if task.rel.endswith("01.xlsx"):
            os._exit(70)
        return real(task, data)

    monkeypatch.setattr(counties, "analyse_file", deadly)
    monkeypatch.setattr(analyse, "analyse_file", deadly)
    import xlbatch.ops.execute as execute

    monkeypatch.setattr(execute, "analyse_file", deadly)
    outbox = tmp_path / "outbox"
    result = run_counties(province, outbox, Config(), local_processes(1), spread=local_spread(2))
    fates = {f.path: (f.status, f.code) for f in result.files}
    for county in COUNTIES[1:]:
        assert fates[f"{county}/{county}第2服务中心/01.xlsx"] == ("rejected", "FILE_UNREADABLE")
        assert fates[f"{county}/{county}第1服务中心/00.xlsx"][0] == "accepted"
    log = (outbox / ".current" / "run.log.jsonl").read_text(encoding="utf-8")
    assert "county_worker_died" in log


def test_a_roster_cannot_serve_every_county(province, tmp_path):
    roster = tmp_path / "roster.csv"
    roster.write_text("主管部门,实施单位\n教育局,第一中学\n", encoding="utf-8")
    cfg = Config.model_validate({"season": {"roster": str(roster)}})
    with pytest.raises(ConfigError, match="--by county"):
        run_counties(province, tmp_path / "outbox", cfg, serial, spread=local_spread(1))


def test_switching_between_a_county_run_and_a_province_run_leaves_no_dangling_name(province, tmp_path):
    outbox = tmp_path / "outbox"
    run(province / COUNTIES[0], outbox, Config(), serial)
    assert (outbox / "通知").is_dir()
    run_counties(province, outbox, Config(), serial, spread=local_spread(1))
    assert not os.path.lexists(outbox / "通知") and not os.path.lexists(outbox / "县级绩效自评汇总报告.docx")
    assert (outbox / "counties" / COUNTIES[0] / "consolidated.xlsx").is_file()
    run(province / COUNTIES[0], outbox, Config(), serial)
    assert not os.path.lexists(outbox / "counties") and (outbox / "通知").is_dir()


def test_cli_by_county(province, tmp_path, capsys):
    from xlbatch.cli import main

    outbox = tmp_path / "outbox"
    assert main(["run", "--by", "county", "--inbox", str(province), "--outbox", str(outbox), "--workers", "2"]) == 0
    line = capsys.readouterr().out
    assert "县（区）3 个（本次计算 3，沿用上次的输出 0）" in line
    assert (outbox / "counties" / COUNTIES[2] / "consolidated.xlsx").is_file()


def test_a_dask_cluster_makes_every_output_the_local_run_makes(province, local, tmp_path):
    """A real LocalCluster (worker processes on loopback) reads the inbox and writes the run's folder where
    they lie, as a province's workers would on a shared disk."""
    from distributed import LocalCluster

    from xlbatch.ops.execute import dask_spread

    outbox = tmp_path / "dask"
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0") as cluster:
        result = run_counties(province, outbox, Config(), local_processes(1),
                              spread=dask_spread(cluster.scheduler_address))
    assert result.extra["changes"]["counts"] == {"evaluated": 3, "repeated": 0}
    for name in ("projects.csv", "anomalies.csv"):
        assert (outbox / name).read_bytes() == (local / name).read_bytes()
    assert _cells(outbox / "consolidated.xlsx") == _cells(local / "consolidated.xlsx")
    for county in COUNTIES:
        mine, theirs = outbox / "counties" / county, local / "counties" / county
        for name in ("projects.csv", "anomalies.csv"):
            assert (mine / name).read_bytes() == (theirs / name).read_bytes()
        assert _cells(mine / "consolidated.xlsx") == _cells(theirs / "consolidated.xlsx")
        assert sorted(os.listdir(mine / "通知")) == sorted(os.listdir(theirs / "通知"))
        assert (mine / "县级绩效自评汇总报告.docx").is_file()


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM], ids=["kill-9", "SIGTERM"])
def test_a_province_run_stopped_while_counties_are_written_leaves_the_previous_outputs(province, tmp_path, sig):
    """Stopped while its county workers run: no process left, nothing published, the next run completes."""
    inbox, outbox = tmp_path / "inbox", tmp_path / "outbox"
    shutil.copytree(province, inbox)
    run_counties(inbox, outbox, Config(), serial, spread=local_spread(1))
    before = os.readlink(outbox / ".current"), (outbox / "projects.csv").read_bytes()
    for county in COUNTIES[1:]:  # more to do: a second or two of work for each county's worker
        build_inbox(inbox / county / "新增", 40)
    with open(tmp_path / "stderr", "w+", encoding="utf-8") as stderr:
        proc = subprocess.Popen(run_command(inbox, outbox, "--by", "county", "--workers", "2"), stderr=stderr)
        workers = wait_for_workers(proc, 2)
        assert len(workers) == 2, "the run must be stopped while its county workers run"
        tree = set(workers) | set(descendants(proc.pid))
        proc.send_signal(sig)
        proc.wait(timeout=60)
        left = wait_gone(tree, 10)
        for pid in left:
            os.kill(pid, signal.SIGKILL)
        assert left == []
        stderr.seek(0)
        err = stderr.read()
    assert (os.readlink(outbox / ".current"), (outbox / "projects.csv").read_bytes()) == before
    assert proc.returncode == (143 if sig == signal.SIGTERM else -signal.SIGKILL), err
    after = subprocess.run(run_command(inbox, outbox, "--by", "county", "--workers", "2"), capture_output=True,
                           text=True)
    assert after.returncode == 0, after.stderr
    assert len(_rows(outbox / "projects.csv")) == len(_rows(tmp_path / "outbox" / "runs" / before[0].split("/")[-1]
                                                             / "projects.csv")) + 80


def test_reviews_saved_into_a_county_workbook_are_carried_and_the_earlier_run_keeps_its_own(province, tmp_path):
    """An auditor saves 复核状态 into counties/COUNTY/consolidated.xlsx as Excel does (a new file renamed over
    the name): that county is done again and carries the review. The run before, whose file the repeated
    run shares (a second name), keeps what it wrote."""
    from test_reviews import _save_review, _shown

    outbox = tmp_path / "outbox"
    first = run_counties(province, outbox, Config(), serial, spread=local_spread(1))
    written = (outbox / "runs" / first.run_id / "counties" / COUNTIES[1] / "consolidated.xlsx").read_bytes()
    run_counties(province, outbox, Config(), serial, spread=local_spread(1))  # every county repeated
    county = outbox / "counties" / COUNTIES[1]
    anomaly = _save_review(county, "LOW_EXECUTION", "已核实", "年底集中支付")
    third = run_counties(province, outbox, Config(), serial, spread=local_spread(1))
    rows = {c["county"]: c["outputs_from"] for c in third.extra["counties"]}
    assert rows[COUNTIES[1]] == third.run_id  # done again, to carry the review
    assert {rows[c] for c in (COUNTIES[0], COUNTIES[2])} == {first.run_id}
    assert _shown(county)[anomaly] == ("已核实", "年底集中支付")
    assert (outbox / "runs" / first.run_id / "counties" / COUNTIES[1] / "consolidated.xlsx").read_bytes() == written


def test_a_dask_worker_killed_while_it_writes_a_county_costs_a_retry_not_the_run(province, local, tmp_path):
    """Every worker process dies (kill -9) once one of them writes a county: that county, at least, was
    running and is lost, so Dask must do it again on a worker its nanny restarts; the run's outputs are
    those of an undisturbed run."""
    import threading
    import time

    from distributed import LocalCluster

    from xlbatch.ops.execute import dask_spread

    outbox = tmp_path / "dask"
    killed = []

    def kill_when_writing(pids):
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not killed:
            if any((outbox / "runs").glob("*/counties/*")):  # a worker has begun writing a county
                for pid in pids:  # the one writing among them: killing one alone might miss it
                    os.kill(pid, signal.SIGKILL)
                killed.extend(pids)
            time.sleep(0.005)

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0") as cluster:
        pids = [nanny.process.process.pid for nanny in cluster.workers.values()]
        watcher = threading.Thread(target=kill_when_writing, args=(pids,), daemon=True)
        watcher.start()
        result = run_counties(province, outbox, Config(), local_processes(1),
                              spread=dask_spread(cluster.scheduler_address))
        watcher.join(timeout=1)
    assert killed, "the worker must be killed while the run writes"
    assert result.extra["changes"]["counts"] == {"evaluated": 3, "repeated": 0}
    for name in ("projects.csv", "anomalies.csv"):
        assert (outbox / name).read_bytes() == (local / name).read_bytes()
    for county in COUNTIES:
        assert _cells(outbox / "counties" / county / "consolidated.xlsx") == \
            _cells(local / "counties" / county / "consolidated.xlsx")
