"""The local engine: pass 1 of the two-pass plan over worker processes.

Input files are grouped into tasks (deterministically, from the sorted file list), and a large
uncompressed JSONL, WXR or Parquet file is split into pieces, one task each (deterministically,
from its content: :func:`corpusclean.sources.plan_pieces`); each task streams its files and
runs the per-record stages and writes its shard under ``OUT/_work/pass1/`` batch by batch: kept
rows and rejected rows in input order, and the side tables, then a small JSON file that marks the task done (so
``--resume`` skips it). Workers build their stages once and pull tasks from a queue; nothing is
shared between them but the queue, so the rows do not depend on the worker count.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import re
import time
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from corpusclean.config import PipelineConfig
from corpusclean.decisions import LINE_SCHEMA, line_rows
from corpusclean.engines.memory import with_memory_pool
from corpusclean.engines.pool import run_tasks
from corpusclean.records import Document, Reason, Record, Rejected, Stage
from corpusclean.schema import DOCUMENT_COLUMNS, DOCUMENT_SCHEMA, REJECTED_COLUMNS, REJECTED_SCHEMA, validate_row
from corpusclean.sinks.parquet import write_table_atomic
from corpusclean.sources import FilePiece, InputFile, merge_piece_entries, plan_pieces, stream_file
from corpusclean.stages import build_stages, run_stages
from corpusclean.stages.dedup import minhash_schema, minhash_table, passage_schema, passage_table

__all__ = ["Task", "TaskResult", "merge_pieces", "plan_tasks", "process_records", "run_pass1", "valid_utf8"]

logger = logging.getLogger(__name__)

#: A task holds at most this many files or bytes (whichever comes first) …
FILES_PER_TASK = 256
BYTES_PER_TASK = 64 << 20
#: … and small corpora are still split into about this many tasks, so that every worker has work.
TARGET_TASKS = 64
#: An uncompressed JSONL, WXR or Parquet file larger than this is read in pieces of about this
#: size, one task each (so one large file is read by all workers, and a task never holds more).
PIECE_BYTES = 64 << 20
#: Rows per row group of the pass-1 shards (what pass 2 reads at a time).
SHARD_ROW_GROUP = 256


@dataclass(frozen=True)
class Task:
    """Whole files to read, or (``piece`` set) one piece of the one file in ``files``."""

    task_id: int
    files: tuple[InputFile, ...]
    piece: FilePiece | None = None


@dataclass
class TaskResult:
    """What a task did. ``inputs`` has the manifest entry of each file the task read whole, and
    of the first piece of a file read in pieces (so that each file counts once as it is done);
    the entries of the other pieces are in ``pieces``. :func:`merge_pieces` makes each split
    file's one entry (``run_pass1`` returns merged results)."""

    task_id: int
    inputs: list[dict[str, Any]]
    counts: dict[str, int]
    timings: dict[str, float] = field(default_factory=dict)
    pieces: list[dict[str, Any]] = field(default_factory=list)


def plan_tasks(files: Sequence[InputFile]) -> list[Task]:
    """Group the (sorted) files into tasks, a large file's pieces one task each. The plan
    depends only on the files and their content (never on the worker count), so that
    ``--resume`` with other ``--workers`` finds the same tasks."""
    files_per_task = min(FILES_PER_TASK, max(1, -(-len(files) // TARGET_TASKS)))
    tasks: list[Task] = []
    current: list[InputFile] = []
    size = 0
    for file in files:
        try:
            file_size = file.stat().size
        except OSError:
            file_size = 0
        pieces = plan_pieces(file, PIECE_BYTES) if file_size > PIECE_BYTES else ()
        if pieces:
            if current:
                tasks.append(Task(len(tasks), tuple(current)))
                current, size = [], 0
            for piece in pieces:
                tasks.append(Task(len(tasks), (file,), piece))
            continue
        if current and (len(current) >= files_per_task or size + file_size > BYTES_PER_TASK):
            tasks.append(Task(len(tasks), tuple(current)))
            current, size = [], 0
        current.append(file)
        size += file_size
    if current:
        tasks.append(Task(len(tasks), tuple(current)))
    return tasks


_SURROGATE = re.compile("[\ud800-\udfff]")


def valid_utf8(text: str | None) -> str | None:
    """``text`` with lone surrogates replaced (U+FFFD), so that it can be written as UTF-8."""
    if text is None:
        return None
    return _SURROGATE.sub("\ufffd", text)


def _rejected_row(rejected: Rejected) -> dict[str, Any]:
    row = rejected.to_row()
    for key in ("text", "title", "detail", "source_id", "url", "source"):
        row[key] = valid_utf8(row[key])
    problems = validate_row(row, REJECTED_COLUMNS)
    if problems:  # a rejection must always be writable: keep what is valid, say what was not
        row["detail"] = f"{row['detail']} (row repaired: {'; '.join(problems)})"[:2000]
        for column in REJECTED_COLUMNS:
            if column.nullable and any(p.startswith(f"{column.name}:") for p in problems):
                row[column.name] = None
    return row


@dataclass
class BatchRows:
    """What pass 1 makes of a batch: document rows, rejected rows, and side-table rows."""

    documents: list[dict[str, Any]] = field(default_factory=list)
    rejected: list[dict[str, Any]] = field(default_factory=list)
    lines: list[dict[str, Any]] = field(default_factory=list)
    minhash: list[pa.Table] = field(default_factory=list)
    passages: list[pa.Table] = field(default_factory=list)

    def extend(self, other: BatchRows) -> None:
        self.documents.extend(other.documents)
        self.rejected.extend(other.rejected)
        self.lines.extend(other.lines)
        self.minhash.extend(other.minhash)
        self.passages.extend(other.passages)

    def side_table(self, name: str, config: PipelineConfig) -> pa.Table:
        """The ``minhash`` or ``passages`` side table of all batches, sorted by doc_id."""
        params = config.dedup.minhash_params(passages=name == "passages")
        schema = minhash_schema(params) if name == "minhash" else passage_schema(params)
        tables = getattr(self, name)
        table = pa.concat_tables(tables) if tables else schema.empty_table()
        order = ["doc_id"] if name == "minhash" else ["doc_id", "paragraph_index"]
        return table.sort_by([(column, "ascending") for column in order])


def process_records(
    stages: Sequence[Stage],
    batch: Sequence[Record],
    config: PipelineConfig,
    timings: dict[str, float] | None = None,
) -> BatchRows:
    """Run the stages over a batch, validate the survivors against the document schema, and
    collect the side-table rows the global step needs."""
    result = run_stages(stages, batch, timings)
    rows = BatchRows(rejected=[_rejected_row(r) for r in result.rejected])
    for record in result.records:
        row = Document.from_record(record).to_row()
        problems = validate_row(row, DOCUMENT_COLUMNS)
        if problems:
            rejection = record.reject("write", Reason.SCHEMA_INVALID, "; ".join(problems)[:2000])
            rows.rejected.append(_rejected_row(rejection))
        else:
            rows.documents.append(row)
            rows.lines.extend(line_rows(row, config))
    dedup = config.dedup
    if dedup.enabled and rows.documents and (dedup.near or dedup.passages):
        started = time.perf_counter()
        doc_ids = [row["doc_id"] for row in rows.documents]
        texts = [row["text"] for row in rows.documents]
        if dedup.near:
            rows.minhash.append(minhash_table(doc_ids, texts, dedup.minhash_params()))
        if dedup.passages:
            rows.passages.append(
                passage_table(doc_ids, texts, dedup.minhash_params(passages=True), dedup.passage_min_words)
            )
        if timings is not None:
            timings["minhash"] = timings.get("minhash", 0.0) + time.perf_counter() - started
    return rows


def _read_batches(
    task: Task, config: PipelineConfig, inputs: list[dict[str, Any]]
) -> Iterator[tuple[list[Record], list[Rejected]]]:
    """The task's records in batches, streamed (a file is never held whole); each file's
    manifest entry goes to ``inputs`` once the file has been read."""
    batch: list[Record] = []
    early: list[Rejected] = []
    if task.piece is not None:
        streams = [stream_file(task.files[0], config.read, task.piece)]
    else:
        streams = [stream_file(file, config.read) for file in task.files]
    for stream in streams:
        for item in stream:
            if isinstance(item, Rejected):
                early.append(item)
            else:
                batch.append(item)
            if len(batch) >= config.output.batch_size:
                yield batch, early
                batch, early = [], []
        inputs.append(stream.entry)
    if batch or early:
        yield batch, early


class _ShardWriter:
    """One Parquet file of a shard, written batch by batch under a temporary name."""

    def __init__(self, path: Path, schema: pa.Schema, row_group_size: int = SHARD_ROW_GROUP) -> None:
        self.path = path
        self.tmp = path.with_name(f".{path.name}.tmp")
        self.schema = schema
        self.row_group_size = row_group_size
        self.writer = pq.ParquetWriter(self.tmp, schema, compression="zstd")
        self.rows = 0

    def write(self, table: pa.Table) -> None:
        if table.num_rows:
            self.writer.write_table(table, row_group_size=self.row_group_size)
            self.rows += table.num_rows

    def close(self) -> None:
        self.writer.close()
        os.replace(self.tmp, self.path)


def run_task(task: Task, stages: Sequence[Stage], config: PipelineConfig, shard_dir: Path) -> TaskResult:
    """Pass 1 for one task: read, run the stages, write the shard. Deterministic.

    Rows are written batch by batch, in input order (a batch's rejections after the reader's),
    so a task holds one batch of rows, whatever its size; only the short-line keys are kept
    until the end, to be written sorted by key (the global step reads them by key range).
    """
    timings: dict[str, float] = {}
    inputs: list[dict[str, Any]] = []
    stem = f"task-{task.task_id:06d}"
    writers = {
        "documents": _ShardWriter(shard_dir / f"{stem}.documents.parquet", DOCUMENT_SCHEMA),
        "rejected": _ShardWriter(shard_dir / f"{stem}.rejected.parquet", REJECTED_SCHEMA),
        "minhash": _ShardWriter(shard_dir / f"{stem}.minhash.parquet", minhash_schema(config.dedup.minhash_params())),
        "passages": _ShardWriter(
            shard_dir / f"{stem}.passages.parquet", passage_schema(config.dedup.minhash_params(passages=True))
        ),
    }
    lines: list[pa.Table] = []
    stage_errors = 0
    started = time.perf_counter()
    for batch, early in _read_batches(task, config, inputs):
        rows = BatchRows(rejected=[_rejected_row(r) for r in early])
        rows.extend(process_records(stages, batch, config, timings))
        stage_errors += sum(1 for r in rows.rejected if r["reason"] == Reason.STAGE_ERROR.value)
        writers["documents"].write(pa.Table.from_pylist(rows.documents, schema=DOCUMENT_SCHEMA))
        writers["rejected"].write(pa.Table.from_pylist(rows.rejected, schema=REJECTED_SCHEMA))
        for name in ("minhash", "passages"):
            for table in getattr(rows, name):
                writers[name].write(table)
        if rows.lines:
            lines.append(pa.Table.from_pylist(rows.lines, schema=LINE_SCHEMA))
    for writer in writers.values():
        writer.close()
    line_table = pa.concat_tables(lines) if lines else LINE_SCHEMA.empty_table()
    write_table_atomic(line_table.sort_by("key"), shard_dir / f"{stem}.lines.parquet", row_group_size=65_536)
    timings["read"] = time.perf_counter() - started - sum(timings.values())
    counts = {
        "documents": writers["documents"].rows,
        "rejected": writers["rejected"].rows,
        "stage_errors": stage_errors,
    }
    result = TaskResult(task.task_id, inputs, counts, timings)
    if task.piece is not None and task.piece.index > 0:
        result.inputs, result.pieces = [], inputs
    done = shard_dir / f"{stem}.json"
    tmp = done.with_name(f".{done.name}.tmp")
    tmp.write_text(json.dumps(result.__dict__, ensure_ascii=False), encoding="utf-8")
    os.replace(tmp, done)
    return result


def load_task_result(shard_dir: Path, task_id: int) -> TaskResult | None:
    """The result of a task finished earlier (``--resume``), or None."""
    path = shard_dir / f"task-{task_id:06d}.json"
    if not path.exists():
        return None
    return TaskResult(**json.loads(path.read_text(encoding="utf-8")))


def _run_task_job(config: PipelineConfig, shard_dir: str, stages: Sequence[Stage], task: Task) -> TaskResult:
    """A pass-1 job of the worker pool (module-level, so that worker processes can run it)."""
    return run_task(task, stages, config, Path(shard_dir))


def run_pass1(
    tasks: Sequence[Task],
    config: PipelineConfig,
    shard_dir: Path,
    workers: int,
    on_task_done: Callable[[TaskResult], None] | None = None,
) -> list[TaskResult]:
    """Run the tasks not finished yet; returns every task's result, in task order."""
    shard_dir.mkdir(parents=True, exist_ok=True)
    results: dict[int, TaskResult] = {}
    pending: list[Task] = []
    for task in tasks:
        done = load_task_result(shard_dir, task.task_id)
        if done is None:
            pending.append(task)
        else:
            results[task.task_id] = done
            if on_task_done:
                on_task_done(done)
    finished = run_tasks(
        functools.partial(with_memory_pool, config.engine.memory_pool, build_stages, config),
        functools.partial(_run_task_job, config, str(shard_dir)),
        pending,
        workers,
        on_task_done,
    )
    results.update((result.task_id, result) for result in finished)
    return merge_pieces([results[task.task_id] for task in tasks])


def merge_pieces(results: Sequence[TaskResult]) -> list[TaskResult]:
    """The results with each file read in pieces given one manifest entry (in place of its
    first piece's entry), made from the entries of all its pieces. Any engine's pass-1 results
    can go through it; results merged before come out unchanged."""
    pieces: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for result in results:
        for entry in [*result.inputs, *result.pieces]:
            if "piece" in entry:
                pieces[(entry["input"], entry["path"])].append(entry)
    if not pieces:
        return list(results)
    merged = {key: merge_piece_entries(entries) for key, entries in pieces.items()}
    return [
        replace(
            result,
            inputs=[merged[(entry["input"], entry["path"])] if "piece" in entry else entry for entry in result.inputs],
            pieces=[],
        )
        for result in results
    ]
