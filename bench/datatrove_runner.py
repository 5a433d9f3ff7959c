"""datatrove 0.10.1's documented MinHash recipe over a folder of JSONL files, timed step by step.

Bench-only: ``bench/bench_pipeline.py`` runs this file with the Python of its own datatrove venv
(``bench/results/datatrove-venv``), never with the project's, because datatrove pins an older
trafilatura. It imports nothing from corpusclean.

The recipe (datatrove's ``examples/minhash_deduplication.py``, defaults of ``MinhashConfig``: word
5-grams, 14 buckets × 8 hashes, 64-bit xxhash), each step a ``LocalPipelineExecutor``:

1. ``JsonlReader`` → ``FTFYFormatter`` → ``MinhashDedupSignature``, ``tasks`` tasks;
2. ``MinhashDedupBuckets``, one task per bucket;
3. ``MinhashDedupCluster``, one task;
4. ``JsonlReader`` → ``MinhashDedupFilter`` (removed documents to ``OUT/removed`` through an
   exclusion ``JsonlWriter``) → ``JsonlWriter`` (kept documents to ``OUT/kept``), ``tasks`` tasks.

As in the recipe, step 4 reads the input again, so the kept text is the input text: FTFY only
feeds the signatures. The one addition is ``save_cluster_id``/``load_cluster_ids``, so that the
written documents carry ``metadata.minhash_cluster_id`` and the benchmark can score the clusters.

Run: ``PYTHON bench/datatrove_runner.py --input DIR --work DIR --workers W [--tasks T] --result FILE``.
The result file gets the seconds of each step and of the whole recipe (the imports excluded).
"""

from __future__ import annotations

import argparse
import json
import shutil
import time
from pathlib import Path


def run(input_dir: Path, work: Path, workers: int, tasks: int) -> dict[str, float]:
    from datatrove.executor import LocalPipelineExecutor
    from datatrove.pipeline.dedup import (
        MinhashDedupBuckets,
        MinhashDedupCluster,
        MinhashDedupFilter,
        MinhashDedupSignature,
    )
    from datatrove.pipeline.dedup.minhash import MinhashConfig
    from datatrove.pipeline.formatters import FTFYFormatter
    from datatrove.pipeline.readers import JsonlReader
    from datatrove.pipeline.writers.jsonl import JsonlWriter

    if work.exists():
        shutil.rmtree(work)
    config = MinhashConfig()
    signatures, buckets, clusters = work / "signatures", work / "buckets", work / "remove_ids"
    out, logs = work / "out", work / "logs"

    def reader() -> JsonlReader:
        return JsonlReader(str(input_dir), glob_pattern="*.jsonl")

    steps = {
        "signatures": LocalPipelineExecutor(
            pipeline=[reader(), FTFYFormatter(), MinhashDedupSignature(output_folder=str(signatures), config=config)],
            tasks=tasks,
            workers=workers,
            logging_dir=str(logs / "signatures"),
        ),
        "buckets": LocalPipelineExecutor(
            pipeline=[MinhashDedupBuckets(input_folder=str(signatures), output_folder=str(buckets), config=config)],
            tasks=config.num_buckets,
            workers=workers,
            logging_dir=str(logs / "buckets"),
        ),
        "cluster": LocalPipelineExecutor(
            pipeline=[
                MinhashDedupCluster(
                    input_folder=str(buckets), output_folder=str(clusters), config=config, save_cluster_id=True
                )
            ],
            tasks=1,
            workers=1,
            logging_dir=str(logs / "cluster"),
        ),
        "filter": LocalPipelineExecutor(
            pipeline=[
                reader(),
                MinhashDedupFilter(
                    input_folder=str(clusters),
                    exclusion_writer=JsonlWriter(str(out / "removed")),
                    load_cluster_ids=True,
                ),
                JsonlWriter(output_folder=str(out / "kept")),
            ],
            tasks=tasks,
            workers=workers,
            logging_dir=str(logs / "filter"),
        ),
    }
    seconds: dict[str, float] = {}
    started = time.perf_counter()
    for name, executor in steps.items():
        step_started = time.perf_counter()
        executor.run()
        seconds[name] = round(time.perf_counter() - step_started, 3)
    seconds["total"] = round(time.perf_counter() - started, 3)
    return seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--input", type=Path, required=True, help="folder of *.jsonl files (text, id)")
    parser.add_argument("--work", type=Path, required=True, help="folder for datatrove's files; emptied first")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--tasks", type=int, default=None, help="tasks of steps 1 and 4 (default: 4 per worker)")
    parser.add_argument("--result", type=Path, required=True)
    args = parser.parse_args()
    from importlib.metadata import version

    seconds = run(args.input, args.work, args.workers, args.tasks or 4 * args.workers)
    result = {
        "datatrove_version": version("datatrove"),
        "workers": args.workers,
        "tasks": args.tasks or 4 * args.workers,
        "seconds": seconds,
        "kept_dir": str(args.work / "out" / "kept"),
        "removed_dir": str(args.work / "out" / "removed"),
    }
    args.result.write_text(json.dumps(result, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":  # workers > 1 start processes with forkserver: the guard is required
    raise SystemExit(main())
