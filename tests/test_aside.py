"""outputs/aside.py: work done in a forked child, its value or its exception brought back."""

from __future__ import annotations

import os
import time

import pytest

from xlbatch.outputs.aside import Aside


def test_the_work_runs_in_a_child_and_its_value_comes_back():
    aside = Aside(lambda: ("done", os.getpid()))
    value, pid = aside.result()
    assert value == "done" and pid != os.getpid()


def test_the_childs_exception_is_raised_here_with_its_traceback_as_a_note():
    def broken():
        raise OSError("disk full")

    aside = Aside(broken)
    with pytest.raises(OSError, match="disk full") as raised:
        aside.result()
    assert any("broken" in note for note in raised.value.__notes__)


def test_an_exception_that_cannot_be_pickled_comes_back_as_its_text():
    class Local(Exception):  # defined in a function: pickle cannot find it again
        pass

    def broken():
        raise Local("odd")

    with pytest.raises(RuntimeError, match="odd"):
        Aside(broken).result()


def test_what_the_child_writes_is_there_once_it_answers(tmp_path):
    target = tmp_path / "out.txt"
    aside = Aside(lambda: target.write_text("written", encoding="utf-8"))
    assert aside.result() == len("written") and target.read_text(encoding="utf-8") == "written"


def test_cancel_kills_and_reaps_the_child(tmp_path):
    flag = tmp_path / "finished"

    def slow():
        time.sleep(30)
        flag.touch()

    aside = Aside(slow)
    pid = aside.pid
    started = time.monotonic()
    aside.cancel()
    assert time.monotonic() - started < 10 and not flag.exists()
    with pytest.raises(ChildProcessError):
        os.waitpid(pid, 0)  # reaped already


def test_without_fork_the_work_runs_in_place(monkeypatch):
    monkeypatch.delattr(os, "fork")
    assert Aside(lambda: os.getpid()).result() == os.getpid()
