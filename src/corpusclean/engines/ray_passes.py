"""Pass 1 and pass 2 on Ray Data: the local engine's task functions, run by Ray actors.

A run on Ray is the same plan as a local run (:mod:`corpusclean.pipeline`): the same tasks
(:func:`corpusclean.engines.local.plan_tasks`), the same per-record stages run by
:func:`~corpusclean.engines.local.run_task`, the same pass-2 function
(:func:`~corpusclean.engines.pass2.decide_shard`), only scheduled by Ray Data instead of a pool
of local processes; the global step between them is :func:`corpusclean.engines.ray.ray_global_step`.
Each pass is a dataset of task rows mapped with ``map_batches`` by a pool of actors that build
their state once (the stages, or the decision tables). A task writes its shard files atomically
and then a done marker, so when Ray retries a task whose worker died, the retry writes the same
files and the output does not change.

Shards live under ``OUT/_work/`` on a filesystem every node sees (local paths in a one-machine
cluster or a shared mount); the driver holds one small result row per task.
"""

from __future__ import annotations

import json
import logging
import pickle
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa

from corpusclean.config import PipelineConfig
from corpusclean.engines.local import Task, TaskResult, load_task_result, run_task
from corpusclean.engines.memory import with_memory_pool
from corpusclean.engines.pass2 import decide_shard, load_decider
from corpusclean.errors import EngineError
from corpusclean.stages import build_stages

__all__ = ["Pass1Worker", "Pass2Worker", "connect", "run_pass1_ray", "run_pass2_ray"]

logger = logging.getLogger(__name__)


def connect(address: str | None, workers: int | None) -> Any:
    """The ``ray`` module, connected: to ``address`` (``auto``: the running cluster; None: a new
    local instance with ``workers`` CPUs), or to the instance this process already started."""
    try:
        import ray
    except ImportError as exc:
        raise EngineError("--engine ray needs Ray Data: pip install 'corpusclean[ray]'") from exc
    if not ray.is_initialized():
        options: dict[str, Any] = {"address": address, "include_dashboard": False, "log_to_driver": False}
        if address is None and workers:
            options["num_cpus"] = workers
        ray.init(**options)
    context = ray.data.DataContext.get_current()
    context.enable_progress_bars = False  # the pipeline reports progress itself
    return ray


class Pass1Worker:
    """A Ray Data actor for pass 1: builds the stages once, then runs whole tasks."""

    def __init__(self, config: PipelineConfig, shard_dir: str) -> None:
        self.config = config
        self.shard_dir = Path(shard_dir)
        self.stages = with_memory_pool(config.engine.memory_pool, build_stages, config)

    def run(self, task: Task) -> TaskResult:
        return run_task(task, self.stages, self.config, self.shard_dir)

    def __call__(self, batch: pa.Table) -> pa.Table:
        results = [self.run(pickle.loads(blob)) for blob in batch["task"].to_pylist()]
        return pa.table({"result": [json.dumps(result.__dict__, ensure_ascii=False) for result in results]})


class Pass2Worker:
    """A Ray Data actor for pass 2: loads the decision tables once, then decides whole shards."""

    def __init__(self, config: PipelineConfig, decisions_dir: str) -> None:
        self.decider = with_memory_pool(config.engine.memory_pool, load_decider, config, decisions_dir)

    def __call__(self, batch: pa.Table) -> pa.Table:
        counts = [decide_shard(self.decider, stem) for stem in batch["stem"].to_pylist()]
        return pa.table({"stem": batch["stem"], "counts": [json.dumps(c) for c in counts]})


def _map(ray: Any, rows: list[dict[str, Any]], worker: type, args: tuple[Any, ...], workers: int) -> Any:
    """``rows`` mapped one per call by a pool of ``worker`` actors. Ray Data restarts a dead
    actor and retries its task by default (``max_restarts`` and ``max_task_retries`` -1)."""
    return ray.data.from_items(rows, override_num_blocks=len(rows)).map_batches(
        worker,
        fn_constructor_args=args,
        batch_size=1,
        batch_format="pyarrow",
        compute=ray.data.ActorPoolStrategy(size=max(1, min(workers, len(rows)))),
    )


def run_pass1_ray(
    tasks: Sequence[Task],
    config: PipelineConfig,
    shard_dir: Path,
    workers: int,
    address: str | None = None,
    on_task_done: Callable[[TaskResult], None] | None = None,
) -> list[TaskResult]:
    """Pass 1 on Ray: the tasks not done yet, one per actor call; results in task order."""
    shard_dir.mkdir(parents=True, exist_ok=True)
    results: dict[int, TaskResult] = {}
    pending: list[dict[str, Any]] = []
    for task in tasks:
        done = load_task_result(shard_dir, task.task_id)
        if done is None:
            pending.append({"task": pickle.dumps(task)})
        else:
            results[task.task_id] = done
            if on_task_done:
                on_task_done(done)
    if pending:
        ray = connect(address, workers)
        dataset = _map(ray, pending, Pass1Worker, (config, str(shard_dir)), _cluster_cpus(ray, workers))
        for row in dataset.iter_rows():
            result = TaskResult(**json.loads(row["result"]))
            results[result.task_id] = result
            if on_task_done:
                on_task_done(result)
    return [results[task.task_id] for task in tasks]


def run_pass2_ray(
    stems: Sequence[str],
    config: PipelineConfig,
    decisions_dir: Path,
    workers: int,
    address: str | None = None,
    on_done: Callable[[dict[str, int]], None] | None = None,
) -> list[dict[str, int]]:
    """Pass 2 on Ray: every shard decided by an actor holding the decision tables; the counts
    in shard order (shards already decided are read back, not redone)."""
    counts: dict[str, dict[str, int]] = {}
    if stems:
        ray = connect(address, workers)
        rows = [{"stem": stem} for stem in stems]
        dataset = _map(ray, rows, Pass2Worker, (config, str(decisions_dir)), _cluster_cpus(ray, workers))
        for row in dataset.iter_rows():
            counts[row["stem"]] = json.loads(row["counts"])
            if on_done:
                on_done(counts[row["stem"]])
    return [counts[stem] for stem in stems]


def _cluster_cpus(ray: Any, workers: int) -> int:
    """Actors per pass: ``workers`` when given, else the CPUs of the cluster."""
    if workers:
        return workers
    return max(1, int(ray.cluster_resources().get("CPU", 1)))
