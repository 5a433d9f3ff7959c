"""The Ray engine against the local engine on the same corpus, on one machine (issue 11).

Run from the repository root with the project's venv (Ray installed: ``pip install -e '.[dev]'``)::

    python -m bench.bench_ray_engine --docs 4000 20000 --workers 2

For each corpus size (the text corpus of ``bench/bench_pipeline.py``: news-sized JSONL texts with
near-duplicate variants; language, boilerplate and passages off as in its text path), runs in
a child process each: ``--engine local`` with ``--workers`` processes, then ``--engine ray`` on a
local Ray instance with ``--workers`` CPUs. Reports wall time (Ray start-up included, imports
excluded), documents/s, the ratio ray/local, whether the rows are equal, and the **driver's**
peak RSS (the child's own RSS, sampled every 50 ms: the driver holds the decision tables and
one row per task, never the signatures; Ray's workers are separate processes). Not
``ru_maxrss``: it survives ``execve``, so a child started right after the parent built a large
corpus reported the parent's peak (1,173 MB for both engines at 100k documents). Writes ``--out``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench.bench_pipeline import DEFAULT_DATA, DEFAULT_WORK, RESULTS, TEXT_CONFIGS, TreeSampler, build_text_corpus

DEFAULT_OUT = RESULTS / "ray-engine.json"


def _child(spec: dict[str, Any]) -> dict[str, Any]:
    from corpusclean import Pipeline, PipelineConfig

    config = PipelineConfig.from_dict(spec["config"])
    sampler = TreeSampler(os.getpid())
    sampler.start()
    started = time.perf_counter()
    if spec["engine"] == "ray":
        import ray

        ray.init(num_cpus=spec["workers"], include_dashboard=False, log_to_driver=False)
        report = Pipeline(config).run([spec["input"]], spec["out"], engine="ray", overwrite=True)
        ray.shutdown()
    else:
        report = Pipeline(config).run([spec["input"]], spec["out"], workers=spec["workers"], overwrite=True)
    seconds = time.perf_counter() - started
    sampler.stop()
    return {
        "engine": spec["engine"],
        "workers": spec["workers"],
        "docs": report.records_in,
        "seconds": round(seconds, 2),
        "documents_per_second": round(report.records_in / seconds, 1),
        "driver_peak_rss_mb": round(sampler.peak_root / 2**20, 1),
        "timings": report.manifest["timings"],
        "counts": report.manifest["counts"],
    }


def _same_rows(a: Path, b: Path) -> bool:
    import pyarrow.parquet as pq

    return all(
        pq.read_table(a / kind).equals(pq.read_table(b / kind)) for kind in ("documents", "rejected", "passages")
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--docs", type=int, nargs="+", default=[4000, 20000])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--work", type=Path, default=DEFAULT_WORK)
    parser.add_argument("--runs", type=Path, default=RESULTS / "runs")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(_child(json.loads(args.child))))
        return 0
    rows: list[dict[str, Any]] = []
    for docs in args.docs:
        corpus = build_text_corpus(args.data, args.work, docs)
        outs = {}
        for engine in ("local", "ray"):
            out = args.runs / f"engine-{engine}-{docs}"
            spec = {
                "engine": engine,
                "workers": args.workers,
                "input": str(corpus.jsonl),
                "out": str(out),
                "config": TEXT_CONFIGS["language off"],
            }
            print(f"{engine}, {docs:,} documents, {args.workers} CPUs …", flush=True)
            done = subprocess.run(
                [sys.executable, "-m", "bench.bench_ray_engine", "--child", json.dumps(spec)],
                check=True,
                capture_output=True,
                text=True,
            )
            row = json.loads(done.stdout.strip().splitlines()[-1])
            rows.append(row)
            outs[engine] = out
            print(
                f"  {row['seconds']:.1f} s, {row['documents_per_second']:.0f} docs/s, "
                f"driver peak RSS {row['driver_peak_rss_mb']:.0f} MB",
                flush=True,
            )
        local, ray_row = rows[-2], rows[-1]
        ray_row["speed_vs_local"] = round(ray_row["documents_per_second"] / local["documents_per_second"], 3)
        ray_row["same_rows_as_local"] = _same_rows(outs["local"], outs["ray"])
        print(f"  ray/local speed {ray_row['speed_vs_local']:.2f}, same rows: {ray_row['same_rows_as_local']}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"rows": rows}, indent=2) + "\n", encoding="utf-8")
    print(f"written {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
