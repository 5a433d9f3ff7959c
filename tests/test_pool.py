"""The local worker pool: results in task order, state built once per worker, and every way a
worker can fail stops the run with EngineError instead of hanging or losing a task."""

from __future__ import annotations

import functools
import os

import pytest

from corpusclean.engines.pool import run_tasks
from corpusclean.errors import EngineError


def _init(tag: str) -> dict[str, object]:
    return {"tag": tag, "pid": os.getpid()}


def _square(state: dict[str, object], task: int) -> tuple[str, int, int]:
    return str(state["tag"]), task * task, int(state["pid"])  # type: ignore[call-overload]


def _fail_on_three(state: dict[str, object], task: int) -> int:
    if task == 3:
        raise ValueError("task three is bad")
    return task


def _die_on_three(state: dict[str, object], task: int) -> int:
    if task == 3:
        os._exit(7)
    return task


def _bad_init() -> None:
    raise RuntimeError("no state today")


@pytest.mark.parametrize("workers", [1, 2, 3])
def test_results_come_back_in_task_order(workers):
    done = []
    results = run_tasks(functools.partial(_init, "s"), _square, list(range(20)), workers, done.append)
    assert [r[1] for r in results] == [t * t for t in range(20)]
    assert all(r[0] == "s" for r in results)
    assert sorted(r[1] for r in done) == sorted(r[1] for r in results)  # on_done once per task
    pids = {r[2] for r in results}
    if workers == 1:
        assert pids == {os.getpid()}  # one worker: in this process
    else:
        assert os.getpid() not in pids and 1 <= len(pids) <= workers


def test_an_empty_list_needs_no_worker():
    assert run_tasks(functools.partial(_init, "s"), _square, [], 2) == []


def test_a_task_that_raises_stops_the_run_with_its_error():
    with pytest.raises(EngineError, match="task three is bad"):
        run_tasks(functools.partial(_init, "s"), _fail_on_three, list(range(8)), 2)


def test_a_worker_that_dies_stops_the_run():
    with pytest.raises(EngineError, match="exit code 7"):
        run_tasks(functools.partial(_init, "s"), _die_on_three, list(range(8)), 2)


def test_a_worker_that_cannot_start_stops_the_run():
    with pytest.raises(EngineError, match="no state today"):
        run_tasks(_bad_init, _square, list(range(4)), 2)


def _environment_value(state: object, name: str) -> str | None:
    return os.environ.get(name)


def test_workers_see_the_environment_of_now_not_of_when_the_forkserver_started(monkeypatch):
    name = "CORPUSCLEAN_TEST_POOL_VARIABLE"
    monkeypatch.delenv(name, raising=False)
    assert run_tasks(functools.partial(_init, "s"), _environment_value, [name, name], 2) == [None, None]
    # the forkserver runs now; credentials set (or refreshed) after it started must reach the workers
    monkeypatch.setenv(name, "refreshed")
    assert run_tasks(functools.partial(_init, "s"), _environment_value, [name, name], 2) == ["refreshed"] * 2
    monkeypatch.delenv(name)
    assert run_tasks(functools.partial(_init, "s"), _environment_value, [name, name], 2) == [None, None]
