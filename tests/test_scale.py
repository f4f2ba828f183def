"""Parallel and distributed execution give results identical to a serial run."""

from __future__ import annotations

import csv
import socket
from pathlib import Path

import pytest
from distributed import LocalCluster
from sample_inbox import write_sample_inbox
from seed import seed_form

from xlbatch.config import Config
from xlbatch.nightly import run
from xlbatch.ops.execute import ExecutorError, dask_executor, local_processes, serial
from xlbatch.outputs.template import write_workbook

CFG = Config()


@pytest.fixture(scope="module")
def inbox(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("scale") / "inbox"
    write_sample_inbox(path)
    (path / "batch").mkdir()
    for i in range(12):
        spec = seed_form(project=f"项目{i:02d}", unit=f"示例县第{i % 4 + 1}服务中心",
                         funds={"年度资金总额": (10, 10, 5 + i / 2), "当年财政拨款": (10, 10, 5 + i / 2)})
        write_workbook(path / f"batch/{i:02d}.xlsx", [("自评表", spec)])
    return path


FORMS = 4 + 12  # the sample inbox's accepted forms and the batch


def _forms(outputs: dict[str, bytes]) -> int:
    """Rows of projects.csv: equal outputs must also be outputs of every form, not two empty runs."""
    return len(list(csv.DictReader(outputs["projects.csv"].decode("utf-8-sig").splitlines())))


def _outputs(inbox: Path, outbox: Path, executor) -> dict[str, bytes]:
    run(inbox, outbox, CFG, executor)
    outputs = {name: (outbox / name).read_bytes() for name in ("projects.csv", "anomalies.csv")}
    assert _forms(outputs) == FORMS
    return outputs


def test_process_pool_matches_serial(inbox, tmp_path):
    assert _outputs(inbox, tmp_path / "a", serial) == _outputs(inbox, tmp_path / "b", local_processes(2))


def test_dask_cluster_matches_local_run(inbox, tmp_path):
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0") as cluster:
        remote = _outputs(inbox, tmp_path / "dask", dask_executor(cluster.scheduler_address))
    assert remote == _outputs(inbox, tmp_path / "local", local_processes(2))


def test_dask_refuses_a_file_over_the_size_limit_unread_as_a_local_run_does(tmp_path, monkeypatch):
    """The client reads each file once under max_uncompressed_mb before shipping it: a file over the limit
    is never read whole into memory and gets the same finding as in a local run."""
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    write_workbook(inbox / "seed.xlsx", [("自评表", seed_form())])
    (inbox / "huge.xlsx").write_bytes(b"PK\x03\x04" + bytes(3 * 1024 * 1024))
    real = Path.read_bytes

    def tripwire(path: Path) -> bytes:
        assert path.name != "huge.xlsx", "a file over the size limit was read whole"
        return real(path)

    monkeypatch.setattr(Path, "read_bytes", tripwire)
    cfg = Config.model_validate({"limits": {"max_uncompressed_mb": 1.0, "max_member_mb": 1.0}})
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=":0") as cluster:
        remote = run(inbox, tmp_path / "dask", cfg, dask_executor(cluster.scheduler_address))
    local = run(inbox, tmp_path / "local", cfg, local_processes(1))
    fates = {f.path: (f.status, f.code, f.message) for f in remote.files}
    assert fates == {f.path: (f.status, f.code, f.message) for f in local.files}
    assert fates["huge.xlsx"][:2] == ("rejected", "FILE_UNSAFE") and "文件大小超过上限 1 MB" in fates["huge.xlsx"][2]
    assert fates["seed.xlsx"][0] == "accepted"


def test_unreachable_scheduler_fails_clearly_and_never_runs_locally(inbox, tmp_path):
    with pytest.raises(ExecutorError, match=r"无法连接 Dask 调度器 tcp://127\.0\.0\.1:9"):
        run(inbox, tmp_path / "outbox", CFG, dask_executor("tcp://127.0.0.1:9", connect_timeout=2))
    assert not (tmp_path / "outbox" / "run.json").exists()  # nothing published (the failed run's log is kept)


def test_cli_workers_1_and_2_give_identical_outputs(inbox, tmp_path):
    from xlbatch.cli import main

    outputs = []
    for workers in ("1", "2"):
        outbox = tmp_path / f"w{workers}"
        assert main(["run", "--inbox", str(inbox), "--outbox", str(outbox), "--workers", workers, "-q"]) == 0
        outputs.append({n: (outbox / n).read_bytes() for n in ("projects.csv", "anomalies.csv")})
    assert outputs[0] == outputs[1]
    assert _forms(outputs[0]) == FORMS


def _closed_port() -> int:
    """A local TCP port nothing listens on (bound for a moment, then closed)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_cli_dask_needs_a_scheduler_and_an_unreachable_one_is_exit_1(inbox, tmp_path, capsys):
    from xlbatch.cli import main

    address = f"tcp://127.0.0.1:{_closed_port()}"
    config = tmp_path / "xlbatch.toml"
    config.write_text("scheduler_timeout = 1\n", encoding="utf-8")
    base = ["run", "--inbox", str(inbox), "--outbox", str(tmp_path / "o"), "-q", "--config", str(config)]
    assert main([*base, "--executor", "dask"]) == 2
    assert "--scheduler" in capsys.readouterr().err
    assert main([*base, "--scheduler", address]) == 2
    capsys.readouterr()
    assert main([*base, "--executor", "dask", "--scheduler", address]) == 1
    err = capsys.readouterr().err
    # The message names the address, the timeout that elapsed and the setting that changes it.
    assert f"无法连接 Dask 调度器 {address}：连接超时，1 秒内未连上" in err
    assert "xlbatch.toml 的配置项 scheduler_timeout" in err and "Traceback" not in err
    assert "after 1 s" in err  # Dask's own words: it tried for the 1 s set, not the 5 s default
    assert not (tmp_path / "o" / "projects.csv").exists()


@pytest.mark.parametrize("value", ["0", "-1", "601"])
def test_scheduler_timeout_out_of_bounds_is_a_configuration_error(inbox, tmp_path, capsys, value):
    from xlbatch.cli import main

    config = tmp_path / "xlbatch.toml"
    config.write_text(f"scheduler_timeout = {value}\n", encoding="utf-8")
    assert main(["run", "--inbox", str(inbox), "--outbox", str(tmp_path / "o"), "--config", str(config),
                 "--executor", "dask", "--scheduler", f"tcp://127.0.0.1:{_closed_port()}"]) == 2
    assert "scheduler_timeout" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_process_pool_reports_progress_as_batches_complete(inbox):
    from xlbatch.form.analyse import FileTask
    from xlbatch.intake.discover import discover

    tasks = [FileTask(str(f.path), f.record.path, f.record.sha256, CFG.limits)
             for f in discover(inbox) if not f.ignored]
    seen: list[int] = []
    outcomes = local_processes(2, batch=3)(tasks, on_done=seen.append)
    assert [o.rel for o in outcomes] == [t.rel for t in tasks]  # order is the tasks' order
    assert seen == sorted(seen) and seen[-1] == len(tasks) and len(seen) == -(-len(tasks) // 3)


def test_a_package_on_dask_ships_each_member_and_matches_the_local_run(tmp_path, monkeypatch):
    """A member ships as its own bytes (inflated at home), never the whole package once per member;
    the outputs are those of a local run."""
    import zipfile

    from xlbatch.ops import execute

    inbox = tmp_path / "inbox"
    inbox.mkdir()
    with zipfile.ZipFile(inbox / "社保中心.zip", "w", zipfile.ZIP_DEFLATED) as package:
        for i in range(3):
            spec = seed_form(project=f"包内项目{i}")
            package.write(write_workbook(tmp_path / f"{i}.xlsx", [("自评表", spec)]), f"自评表/{i}.xlsx")
    sizes = []
    shipped = execute._ship

    def measured(tasks):
        outcomes, payloads = shipped(tasks)
        sizes.extend((task.rel, task.member, len(data)) for _, (task, data) in payloads)
        return outcomes, payloads

    monkeypatch.setattr(execute, "_ship", measured)
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0") as cluster:
        run(inbox, tmp_path / "dask", CFG, dask_executor(cluster.scheduler_address))
    run(inbox, tmp_path / "local", CFG, local_processes(2))
    members = {f"社保中心.zip/自评表/{i}.xlsx": (tmp_path / f"{i}.xlsx").stat().st_size for i in range(3)}
    assert sorted(sizes) == sorted((rel, (), size) for rel, size in members.items())
    for name in ("projects.csv", "anomalies.csv"):
        assert (tmp_path / "dask" / name).read_bytes() == (tmp_path / "local" / name).read_bytes()
