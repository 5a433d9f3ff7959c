"""A pool of worker processes for the tasks of one pass.

Each worker builds its state once (the stages for pass 1, the decision tables for pass 2) and
then runs tasks pulled from a queue until a sentinel. Nothing is shared between workers but the
queues, so a task's output depends on the task only, never on which worker ran it or when.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import queue
import traceback
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from corpusclean.errors import EngineError

__all__ = ["run_tasks"]

TaskT = TypeVar("TaskT")
ResultT = TypeVar("ResultT")


def _worker(
    init: Callable[[], Any], job: Callable[[Any, Any], Any], tasks: Any, results: Any, environ: dict[str, str]
) -> None:
    """Worker process: take the parent's environment of now (a forkserver holds the one of
    when it started: credentials or endpoints set since, such as a refreshed
    ``AWS_SESSION_TOKEN``, would be missing), build the state once, then run tasks until the
    sentinel."""
    os.environ.clear()
    os.environ.update(environ)
    try:
        state = init()
    except BaseException as exc:  # noqa: BLE001 - reported to the parent, which stops the run
        results.put(("error", f"worker start: {type(exc).__name__}: {exc}\n{traceback.format_exc()}"))
        return
    while True:
        item = tasks.get()
        if item is None:
            return
        index, task = item
        try:
            results.put(("ok", (index, job(state, task))))
        except BaseException as exc:  # noqa: BLE001 - reported to the parent, which stops the run
            results.put(("error", f"task {index}: {type(exc).__name__}: {exc}\n{traceback.format_exc()}"))


#: Modules a forkserver imports once, so that every worker forked from it starts with them.
_PRELOAD = ["corpusclean.pipeline"]


def _context() -> Any:
    """Worker processes come from a forkserver where there is one (POSIX): it imports the
    stages once and forks each worker from that clean, single-threaded process, so workers start
    in milliseconds instead of importing everything again (about 1.5 s of CPU each, in every
    pass). Elsewhere they are spawned. Never a plain fork of this process: its threads (Arrow's
    pools, the caller's) make that unsafe."""
    if "forkserver" in mp.get_all_start_methods():
        context = mp.get_context("forkserver")
        context.set_forkserver_preload(_PRELOAD)
        return context
    return mp.get_context("spawn")  # pragma: no cover - Windows


def run_tasks(
    init: Callable[[], Any],
    job: Callable[[Any, TaskT], ResultT],
    tasks: Sequence[TaskT],
    workers: int,
    on_done: Callable[[ResultT], None] | None = None,
) -> list[ResultT]:
    """``[job(init(), task) for task in tasks]``, over ``workers`` processes (in this process
    when one worker or one task is enough). ``init`` and ``job`` must be picklable (module-level
    functions or ``functools.partial`` of them). Results come back in task order; ``on_done`` is
    called in the parent as each finishes. A task that raises, or a worker that dies, stops the
    run with :class:`EngineError`.
    """
    results: dict[int, ResultT] = {}
    if workers <= 1 or len(tasks) <= 1:
        state = init() if tasks else None
        for index, task in enumerate(tasks):
            results[index] = job(state, task)
            if on_done:
                on_done(results[index])
        return [results[index] for index in range(len(tasks))]
    context = _context()
    task_queue = context.Queue()
    result_queue = context.Queue()
    for item in enumerate(tasks):
        task_queue.put(item)
    workers = min(workers, len(tasks))
    for _ in range(workers):
        task_queue.put(None)
    processes = [
        context.Process(target=_worker, args=(init, job, task_queue, result_queue, dict(os.environ)), daemon=True)
        for _ in range(workers)
    ]
    for process in processes:
        process.start()
    try:
        while len(results) < len(tasks):
            try:
                status, payload = result_queue.get(timeout=1.0)
            except queue.Empty:
                dead = [p for p in processes if p.exitcode not in (None, 0)]
                if dead:
                    raise EngineError(f"a worker process died (exit code {dead[0].exitcode})") from None
                continue
            if status == "error":
                raise EngineError(f"a worker failed: {payload}")
            index, result = payload
            results[index] = result
            if on_done:
                on_done(result)
    finally:
        for process in processes:
            if process.is_alive():
                process.terminate()
            process.join(timeout=5)
    return [results[index] for index in range(len(tasks))]
