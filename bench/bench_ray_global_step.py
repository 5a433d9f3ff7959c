"""The global step on Ray Data against the local one: wall time and the driver's peak RSS.

Run from the repository root with the project's venv (and the ``ray`` extra)::

    python -m bench.bench_ray_global_step --docs 20000 100000 [--cpus 2] [--shards 16]

For each size, writes synthetic pass-1 side tables under ``--work`` (a temporary directory by
default; deterministic for ``--seed``, reused when present): documents (doc_id, content hash, date for half of them, one of
200 sources), MinHash band keys and signatures (128 permutations, 32 bands × 4 rows), passages
(about one per document) and short-line keys (five per document, three of them from a pool of ten
per source). A fifth of the documents are near-duplicate variants (a base signature with 5 to 45%
of its values redrawn), one in twenty an exact copy of another's content hash, and one passage in
ten a variant of one of 500 shared passages. Then, each in a child process of its own:

- local: ``decisions.global_step(config, shards).to_tables()``;
- ray: ``ray.init(num_cpus=--cpus)``, then ``engines.ray.ray_global_step(config, shards)``.

Reports wall time of the step alone, the child's RSS before the step (imports, ``ray.init``) and
its peak RSS during the step (``VmHWM`` after resetting it through ``/proc/self/clear_refs``; the
driver only: Ray's workers are other processes), and checks that both engines give equal tables. Writes ``--out`` (``bench/results/ray-global-step.json``).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import platform
import resource
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from corpusclean import PipelineConfig, minhash
from corpusclean.decisions import DOCUMENT_KEY_SCHEMA, LINE_SCHEMA
from corpusclean.stages.dedup import minhash_schema, passage_schema

RESULTS = Path(__file__).resolve().parent / "results"


def _signature_rows(rng: np.random.Generator, count: int, num_perm: int, related: float) -> np.ndarray:
    """Random signatures, ``related`` of them variants of an earlier one (groups of 2 to 5)."""
    signatures = rng.integers(0, 2**32 - 1, size=(count, num_perm), dtype=np.uint64).astype(np.uint32)
    row = 0
    while row < count:
        size = int(rng.integers(2, 6)) if rng.random() < related / 3 else 1
        for member in range(row + 1, min(row + size, count)):
            redrawn = rng.random(num_perm) < rng.uniform(0.05, 0.45)
            signatures[member] = np.where(redrawn, signatures[member], signatures[row])
        row += size
    return signatures


def write_side_tables(directory: Path, documents: int, shards: int, seed: int) -> list[Path]:
    """Synthetic pass-1 side tables of ``documents`` documents in ``shards`` shards."""
    stems = [directory / f"task-{task:06d}" for task in range(shards)]
    if all(Path(f"{stem}.lines.parquet").exists() for stem in stems):
        return stems
    directory.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    params = PipelineConfig().dedup.minhash_params()
    passage_params = PipelineConfig().dedup.minhash_params(passages=True)
    doc_ids = np.array([f"{value:032x}" for value in rng.integers(0, 2**63, size=documents)], dtype=object)
    order = rng.permutation(documents)  # variants are not neighbours in doc_id order
    signatures = _signature_rows(rng, documents, params.num_perm, related=0.2)[order]
    hashes = np.array([f"{value:032x}" for value in rng.integers(0, 2**63, size=documents)], dtype=object)
    copies = rng.random(documents) < 0.05
    hashes[copies] = hashes[rng.integers(0, documents, size=int(copies.sum()))]
    dates = np.where(rng.random(documents) < 0.5, rng.integers(1_600_000_000, 1_700_000_000, documents) * 10**6, -1)
    sources = np.array([f"site{value}.example" for value in rng.integers(0, 200, size=documents)], dtype=object)
    # passages: about one per document, one in ten a variant of a shared passage
    owners = np.repeat(np.arange(documents), rng.integers(0, 3, size=documents))
    shared = rng.integers(0, 2**32 - 1, size=(500, passage_params.num_perm), dtype=np.uint64).astype(np.uint32)
    passage_signatures = rng.integers(0, 2**32 - 1, size=(len(owners), passage_params.num_perm), dtype=np.uint64)
    passage_signatures = passage_signatures.astype(np.uint32)
    repeated = np.flatnonzero(rng.random(len(owners)) < 0.1)
    redrawn = rng.random((len(repeated), passage_params.num_perm)) < 0.1
    passage_signatures[repeated] = np.where(
        redrawn, passage_signatures[repeated], shared[rng.integers(0, 500, size=len(repeated))]
    )
    for task, stem in enumerate(stems):
        mine = np.flatnonzero(np.arange(documents) % shards == task)
        mine = mine[np.argsort(doc_ids[mine])]
        keys = pa.table(
            {
                "doc_id": pa.array(doc_ids[mine], pa.string()),
                "content_hash": pa.array(hashes[mine], pa.string()),
                "published_at": pa.array(np.where(dates[mine] < 0, None, dates[mine]).tolist(), pa.int64()).cast(
                    DOCUMENT_KEY_SCHEMA.field("published_at").type
                ),
                "source": pa.array(sources[mine], pa.string()),
            },
            schema=DOCUMENT_KEY_SCHEMA,
        )
        pq.write_table(keys, f"{stem}.documents.parquet")
        rows = signatures[mine]
        bands = minhash.band_keys(rows, params.bands, params.rows)
        pq.write_table(
            pa.Table.from_arrays(
                [
                    keys["doc_id"],
                    pa.FixedSizeListArray.from_arrays(pa.array(bands.ravel(), pa.uint64()), params.bands),
                    pa.FixedSizeListArray.from_arrays(pa.array(rows.ravel(), pa.uint32()), params.num_perm),
                ],
                schema=minhash_schema(params),
            ),
            f"{stem}.minhash.parquet",
        )
        position = {doc: index for index, doc in enumerate(mine.tolist())}
        held = np.flatnonzero(np.isin(owners, mine))
        held = held[np.lexsort((held, np.array([position[o] for o in owners[held].tolist()], dtype=np.int64)))]
        paragraph = np.zeros(len(held), dtype=np.int32)
        if len(held):
            same = np.concatenate([[False], owners[held][1:] == owners[held][:-1]])
            for index in range(1, len(held)):
                paragraph[index] = paragraph[index - 1] + 1 if same[index] else 0
        passage_rows = passage_signatures[held]
        pq.write_table(
            pa.Table.from_arrays(
                [
                    pa.array(doc_ids[owners[held]], pa.string()),
                    pa.array(paragraph, pa.int32()),
                    pa.FixedSizeListArray.from_arrays(
                        pa.array(
                            minhash.band_keys(passage_rows, passage_params.bands, passage_params.rows).ravel(),
                            pa.uint64(),
                        ),
                        passage_params.bands,
                    ),
                    pa.FixedSizeListArray.from_arrays(
                        pa.array(passage_rows.ravel(), pa.uint32()), passage_params.num_perm
                    ),
                ],
                schema=passage_schema(passage_params),
            ),
            f"{stem}.passages.parquet",
        )
        line_sources = np.repeat(sources[mine], 5)
        pool = rng.integers(0, 10, size=len(line_sources))
        own = rng.integers(1 << 40, 1 << 62, size=len(line_sources))
        common = np.tile(np.arange(5) < 3, len(mine))
        line_keys = np.where(
            common, np.array([hash_of(s) for s in line_sources.tolist()], dtype=np.int64) * 16 + pool, own
        )
        pq.write_table(
            pa.Table.from_arrays(
                [
                    pa.array(line_sources, pa.string()),
                    pa.array(np.repeat(doc_ids[mine], 5), pa.string()),
                    pa.array(line_keys, pa.int64()),
                ],
                schema=LINE_SCHEMA,
            ),
            f"{stem}.lines.parquet",
        )
    return stems


def hash_of(text: str) -> int:
    """A small stable integer per source name (its key pool)."""
    return int.from_bytes(text.encode()[-6:], "little") % (1 << 40)


def _reset_peak_rss() -> bool:
    """Reset this process's peak RSS (Linux ``VmHWM``), so the peak is that of the step alone."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def _rss_mb(field: str) -> float:
    """``VmRSS`` or ``VmHWM`` of this process in MB, else the peak from ``getrusage``."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(f"{field}:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def _measure(engine: str, stems: list[str], cpus: int, queue: Any) -> None:
    """In a child process: run one engine's global step, report time and RSS."""
    config = PipelineConfig()
    if engine == "ray":
        import ray

        from corpusclean.engines.ray import ray_global_step

        ray.init(num_cpus=cpus, include_dashboard=False, log_to_driver=False, configure_logging=False)
        import ray.data

        ray.data.DataContext.get_current().enable_progress_bars = False
        before = _rss_mb("VmRSS")
        reset = _reset_peak_rss()
        started = time.perf_counter()
        tables = ray_global_step(config, stems)
        seconds = time.perf_counter() - started
        peak = _rss_mb("VmHWM")
        ray.shutdown()
    else:
        from corpusclean.decisions import global_step

        before = _rss_mb("VmRSS")
        reset = _reset_peak_rss()
        started = time.perf_counter()
        tables = global_step(config, [Path(stem) for stem in stems]).to_tables()
        seconds = time.perf_counter() - started
        peak = _rss_mb("VmHWM")
    queue.put(
        {
            "engine": engine,
            "seconds": round(seconds, 2),
            "rss_before_mb": before,
            "peak_rss_mb": peak,
            "peak_is_of_the_step": reset,
            "rows": [tables.documents.num_rows, tables.passages.num_rows, tables.learned.num_rows],
            "tables": [_ipc(tables.documents), _ipc(tables.passages), _ipc(tables.learned)],
        }
    )


def _ipc(table: pa.Table) -> bytes:
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue().to_pybytes()


def _same_tables(first: list[bytes], second: list[bytes]) -> bool:
    return all(
        pa.ipc.open_stream(a).read_all().equals(pa.ipc.open_stream(b).read_all())
        for a, b in zip(first, second, strict=True)
    )


def run(engine: str, stems: list[str], cpus: int) -> dict[str, Any]:
    context = mp.get_context("spawn")
    queue = context.Queue()
    child = context.Process(target=_measure, args=(engine, stems, cpus, queue))
    child.start()
    result = queue.get()
    child.join()
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--docs", type=int, nargs="+", default=[20_000, 100_000])
    parser.add_argument("--shards", type=int, default=16)
    parser.add_argument("--cpus", type=int, default=2)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "corpusclean-ray-global-step")
    parser.add_argument("--out", type=Path, default=RESULTS / "ray-global-step.json")
    args = parser.parse_args(argv)
    results = []
    for documents in args.docs:
        started = time.perf_counter()
        stems = [str(s) for s in write_side_tables(args.work / f"docs-{documents}", documents, args.shards, args.seed)]
        print(f"{documents} documents: side tables ready in {time.perf_counter() - started:.1f} s", flush=True)
        local = run("local", stems, args.cpus)
        distributed = run("ray", stems, args.cpus)
        same = _same_tables(local.pop("tables"), distributed.pop("tables"))
        for result in (local, distributed):
            print(
                f"  {result['engine']:5s} {result['seconds']:7.2f} s  driver peak RSS {result['peak_rss_mb']:7.1f} MB"
                f"  (before the step {result['rss_before_mb']:.1f} MB)  rows {result['rows']}",
                flush=True,
            )
        print(f"  equal tables: {same}", flush=True)
        results.append({"documents": documents, "local": local, "ray": distributed, "equal": same})
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(
        json.dumps(
            {"cpus": args.cpus, "machine": platform.platform(), "cpu_count": os.cpu_count(), "runs": results}, indent=2
        )
        + "\n",
        encoding="utf-8",
    )
    return 0 if all(result["equal"] for result in results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
