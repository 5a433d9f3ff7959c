"""Pass 2 of the two-pass plan: apply the global step's decisions, shard by shard, on Arrow.

The global step's output (:class:`~corpusclean.decisions.DecisionTables`) is written under
``OUT/_work/decisions/``. Each pass-2 task then decides the rows of one pass-1 shard: rows the
decisions do not name (most of a corpus) pass through as Arrow, untouched; only the rows that are
duplicates, hold a clustered passage or a learned boilerplate line become Python rows for
:meth:`Decisions.decide`. A task writes its kept rows, late rejections and passage rows (each
sorted) beside the shard, then a done marker, so tasks run in any order, on any worker, and
``--resume`` skips the finished ones.

:class:`Assembler` writes the decided shards into ``documents/`` and ``rejected/`` in task order
(tasks follow the sorted input paths; rows inside a task are in input order, a task's late
rejections after its pass-1 ones), one batch at a time, so the order never depends on workers or
engine and memory never on the corpus. ``documents/`` is written while pass 2 runs, each shard
as soon as it and the shards before it are decided; ``rejected/`` after the last.
``passages/`` is in cluster order: a k-way merge over Arrow batches of the shards' passage rows,
which are few and short.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from corpusclean.config import PipelineConfig
from corpusclean.decisions import (
    DOCUMENT_DECISION_SCHEMA,
    LEARNED_SCHEMA,
    PASSAGE_DECISION_SCHEMA,
    Decisions,
    DecisionTables,
    learned_sets,
)
from corpusclean.errors import EngineError
from corpusclean.schema import PASSAGE_SCHEMA, REJECTED_SCHEMA
from corpusclean.sinks.parquet import PartitionedWriter, PartWriter, iter_batches, write_table_atomic
from corpusclean.stages.boilerplate import LIMIT_FIX

__all__ = [
    "Assembler",
    "ShardDecider",
    "decide_shard",
    "load_decider",
    "merge_sorted",
    "read_decisions",
    "write_decisions",
]

#: Rows per batch read from a shard, and per row group of the decided shards.
BATCH_ROWS = 256
#: The merge key of the decided passage rows: cluster_id, doc_id, paragraph_index as one string.
_PASSAGE_KEY = "_key"
_DECISION_FILES = {
    "documents": DOCUMENT_DECISION_SCHEMA,
    "passages": PASSAGE_DECISION_SCHEMA,
    "learned": LEARNED_SCHEMA,
}


def write_decisions(directory: Path, tables: DecisionTables) -> None:
    """Write the global step's tables, then a marker: a resumed run finding it skips the step."""
    directory.mkdir(parents=True, exist_ok=True)
    for name in _DECISION_FILES:
        write_table_atomic(getattr(tables, name), directory / f"{name}.parquet")
    counts = {
        "learned_boilerplate_lines": tables.learned.num_rows,
        "near_duplicate_clusters": pc.count_distinct(tables.documents["near_dup_cluster"]).as_py(),
    }
    marker = directory / "done.json"
    tmp = marker.with_name(".done.json.tmp")
    tmp.write_text(json.dumps(counts), encoding="utf-8")
    os.replace(tmp, marker)


def read_decisions(directory: Path) -> tuple[DecisionTables, dict[str, int]] | None:
    """The tables written by :func:`write_decisions` and their counts, or None before they are done."""
    marker = directory / "done.json"
    if not marker.exists():
        return None
    tables = DecisionTables(
        **{name: pq.read_table(directory / f"{name}.parquet").cast(schema) for name, schema in _DECISION_FILES.items()}
    )
    return tables, json.loads(marker.read_text(encoding="utf-8"))


def _id_keys(ids: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """doc_ids as a numpy array of fixed-width UTF-8 bytes, which sort and compare as Arrow
    sorts strings (bytewise)."""
    if isinstance(ids, pa.ChunkedArray):
        ids = ids.combine_chunks() if ids.num_chunks else pa.array([], pa.string())
    if not len(ids):
        return np.array([], dtype="S1")
    return pc.cast(ids, pa.binary()).to_numpy(zero_copy_only=False).astype(np.bytes_)


def _members(sorted_keys: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """Which of ``keys`` are in ``sorted_keys`` (ascending): two binary searches each."""
    return np.searchsorted(sorted_keys, keys, "right") > np.searchsorted(sorted_keys, keys, "left")


@dataclass(frozen=True)
class _SortedLookup:
    """The rows of a decision table by doc_id, through the sorted array of its doc_ids: a
    batch's lookup costs ``log(rows)`` per id, where ``pc.is_in`` against the whole table builds
    a hash set of it for every batch (pass 2 then grew with the square of the corpus)."""

    table: pa.Table  # sorted by doc_id (stable: the order within one doc_id is the table's)
    keys: np.ndarray

    @classmethod
    def of(cls, table: pa.Table) -> _SortedLookup:
        keys = _id_keys(table["doc_id"])
        order = np.argsort(keys, kind="stable")
        return cls(table.take(pa.array(order, pa.int64())), keys[order])

    def _ranges(self, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return np.searchsorted(self.keys, ids, "left"), np.searchsorted(self.keys, ids, "right")

    def contains(self, ids: np.ndarray) -> np.ndarray:
        return _members(self.keys, ids)

    def rows(self, ids: np.ndarray) -> pa.Table:
        """The rows of ``ids``, in table order."""
        left, right = self._ranges(ids)
        lengths = right - left
        ends = np.cumsum(lengths)
        total = int(ends[-1]) if len(ends) else 0
        positions = np.repeat(left - (ends - lengths), lengths) + np.arange(total)
        return self.table.take(pa.array(np.unique(positions), pa.int64()))


@dataclass(frozen=True)
class ShardDecider:
    """What a pass-2 worker holds: the decision tables as Arrow arrays (a few dozen bytes per
    affected document) with sorted doc_id keys to find a batch's rows, plus the learned lines
    as sets for the rows that need them."""

    config: PipelineConfig
    tables: DecisionTables
    documents: _SortedLookup
    passages: _SortedLookup
    representatives: np.ndarray  # sorted keys of the doc_ids named in duplicate_of
    learned: dict[str, frozenset[int]]

    @classmethod
    def from_tables(cls, config: PipelineConfig, tables: DecisionTables) -> ShardDecider:
        return cls(
            config=config,
            tables=tables,
            documents=_SortedLookup.of(tables.documents),
            passages=_SortedLookup.of(tables.passages),
            representatives=np.unique(_id_keys(pc.drop_null(tables.documents["duplicate_of"]))),
            learned=learned_sets(tables.learned),
        )

    def affected(self, keys: np.ndarray) -> np.ndarray:
        """Which of the doc_ids ``keys`` (:func:`_id_keys`) the decision tables name."""
        return self.documents.contains(keys) | self.passages.contains(keys)

    def decisions_for(self, doc_ids: pa.Array) -> Decisions:
        """The :class:`Decisions` about ``doc_ids`` only (small: the rows of one batch)."""
        keys = _id_keys(doc_ids)
        named = _members(self.representatives, keys)
        return Decisions.from_tables(
            self.config,
            DecisionTables(self.documents.rows(keys), self.passages.rows(keys), LEARNED_SCHEMA.empty_table()),
            learned=self.learned,
            representatives=frozenset(doc_ids.filter(pa.array(named)).to_pylist()),
        )


def _distinct(values: pa.ChunkedArray | pa.Array) -> pa.Array:
    """The distinct strings of a column as one array (a value set for ``pc.is_in``)."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks() if values.num_chunks else pa.array([], values.type)
    return pc.unique(values)


def load_decider(config: PipelineConfig, directory: str) -> ShardDecider:
    """The state of a pass-2 worker (module-level, so that worker processes can call it)."""
    found = read_decisions(Path(directory))
    if found is None:  # pragma: no cover - the run writes them before pass 2 starts
        raise FileNotFoundError(f"no decisions under {directory}")
    return ShardDecider.from_tables(config, found[0])


def _learned_hits(decider: ShardDecider, stem: str) -> pa.Array:
    """doc_ids of the shard that hold at least one learned line (from its line side table)."""
    if not decider.learned:
        return pa.array([], pa.string())
    lines = pq.read_table(f"{stem}.lines.parquet", columns=["source", "doc_id", "key"])
    if lines.num_rows == 0:
        return pa.array([], pa.string())
    hits = lines.join(decider.tables.learned, keys=["source", "key"], join_type="inner")
    return _distinct(hits["doc_id"])


def _passage_table(rows: list[dict[str, Any]]) -> pa.Table:
    table = pa.Table.from_pylist(rows, schema=PASSAGE_SCHEMA)
    key = [f"{r['cluster_id']}\0{r['doc_id']}\0{r['paragraph_index']:010d}" for r in rows]
    return table.append_column(_PASSAGE_KEY, pa.array(key, pa.string())).sort_by(_PASSAGE_KEY)


def decide_shard(decider: ShardDecider, stem: str) -> dict[str, int]:
    """Pass 2 for one pass-1 shard (path stem ``…/task-NNNNNN``): writes ``.kept``, ``.late``
    (rejections of the global step) and ``.passage_rows`` beside it, then ``.pass2.json``.
    Returns the counts the manifest needs. Deterministic; a done shard is not redone."""
    marker = Path(f"{stem}.pass2.json")
    if marker.exists():
        return json.loads(marker.read_text(encoding="utf-8"))
    learned_hits = _learned_hits(decider, stem)
    schema = pq.read_schema(f"{stem}.documents.parquet")
    kept_writer = pq.ParquetWriter(Path(f"{stem}.kept.parquet.tmp"), schema, compression="zstd")
    late_rows: list[dict[str, Any]] = []
    passage_rows: list[dict[str, Any]] = []
    kept = kept_unchanged = 0
    try:
        for batch in iter_batches(f"{stem}.documents.parquet", batch_size=BATCH_ROWS):
            table = pa.Table.from_batches([batch], schema=schema)
            ids = table["doc_id"]
            learned = pc.is_in(ids, value_set=learned_hits).to_numpy(zero_copy_only=False)
            affected = pa.array(decider.affected(_id_keys(ids)) | learned)
            positions = pa.array(np.arange(table.num_rows))
            untouched = table.filter(pc.invert(affected))
            untouched_positions = positions.filter(pc.invert(affected))
            kept_rows: list[dict[str, Any]] = []
            kept_positions: list[int] = []
            changed = table.filter(affected)
            if changed.num_rows:
                decisions = decider.decisions_for(changed["doc_id"].combine_chunks())
                changed_positions = positions.filter(affected).to_pylist()
                for position, row in zip(changed_positions, changed.to_pylist(), strict=True):
                    decision = decisions.decide(row)
                    if decision.kept is not None:
                        kept_rows.append(decision.kept)
                        kept_positions.append(position)
                        passage_rows.extend(decision.passages)
                        kept_unchanged += LIMIT_FIX in decision.kept["fixes"]
                    else:
                        late_rows.append(decision.rejected)
            # kept rows stay in the order of the shard (its input order)
            out = pa.concat_tables([untouched, pa.Table.from_pylist(kept_rows, schema=schema)])
            order = pc.sort_indices(pa.concat_arrays([untouched_positions, pa.array(kept_positions, pa.int64())]))
            out = out.take(order)
            kept += out.num_rows
            if out.num_rows:
                kept_writer.write_table(out)
    finally:
        kept_writer.close()
    os.replace(f"{stem}.kept.parquet.tmp", f"{stem}.kept.parquet")
    write_table_atomic(pa.Table.from_pylist(late_rows, schema=REJECTED_SCHEMA), Path(f"{stem}.late.parquet"))
    write_table_atomic(_passage_table(passage_rows), Path(f"{stem}.passage_rows.parquet"))
    counts = {"kept": kept, "kept_unchanged": kept_unchanged, "late_rejected": len(late_rows)}
    tmp = marker.with_name(f".{marker.name}.tmp")
    tmp.write_text(json.dumps(counts), encoding="utf-8")
    os.replace(tmp, marker)
    return counts


def merge_sorted(paths: Sequence[str | Path], key: str, batch_rows: int = BATCH_ROWS) -> Iterator[pa.Table]:
    """The rows of Parquet files that are each sorted by the string column ``key``, as tables in
    ``key`` order (keys are unique across files). A k-way merge over batches: each step takes,
    from every file's current batch, the rows up to the smallest last key among those batches,
    so it holds about one batch per file and never a row-by-row Python loop."""
    readers = [iter_batches(path, batch_size=batch_rows) for path in paths]
    heads: dict[int, pa.Table] = {}
    while True:
        for index, reader in enumerate(readers):
            while reader is not None and (index not in heads or heads[index].num_rows == 0):
                batch = next(reader, None)
                if batch is None:
                    heads.pop(index, None)
                    readers[index] = None  # type: ignore[call-overload]
                    break
                heads[index] = pa.Table.from_batches([batch])
        if not heads:
            return
        bound = min(head[key][-1].as_py() for head in heads.values())
        parts: list[pa.Table] = []
        for index in sorted(heads):
            head = heads[index]
            count = pc.sum(pc.less_equal(head[key], bound)).as_py() or 0
            if count:
                parts.append(head.slice(0, count))
                heads[index] = head.slice(count)
        yield parts[0] if len(parts) == 1 else pa.concat_tables(parts).sort_by(key)


def _writer(out: Path, name: str, schema: pa.Schema, config: PipelineConfig, partition_by: str | None = None) -> Any:
    output = config.output
    options: dict[str, Any] = dict(
        rows_per_file=output.rows_per_file,
        row_group_size=output.row_group_size,
        compression=output.compression,
        relative_to=out,
    )
    if partition_by:
        return PartitionedWriter(out / name, schema, partition_by, **options)
    return PartWriter(out / name, schema, **options)


class Assembler:
    """Writes the decided shards into the dataset. ``documents/`` is written shard by shard in
    task order as soon as a shard and every shard before it are decided (:meth:`advance`, called
    as pass-2 tasks finish), so that writing the parts overlaps pass 2 in the workers instead of
    following it on one core; :meth:`finish` writes the rest of ``documents/``, then
    ``rejected/`` and ``passages/``. A shard is decided when its ``.pass2.json`` marker exists,
    whichever engine or earlier attempt decided it."""

    def __init__(self, out: Path, stems: Sequence[str], config: PipelineConfig) -> None:
        from corpusclean.schema import DOCUMENT_SCHEMA

        self.out = out
        self.stems = list(stems)
        self.config = config
        self._written = 0  # shards whose kept rows are in documents/
        self._documents = _writer(out, "documents", DOCUMENT_SCHEMA, config, config.output.partition_by)

    def advance(self) -> None:
        """Write the kept rows of the decided shards that follow the ones written."""
        while self._written < len(self.stems) and Path(f"{self.stems[self._written]}.pass2.json").exists():
            for batch in iter_batches(f"{self.stems[self._written]}.kept.parquet", batch_size=BATCH_ROWS):
                self._documents.write_table(pa.Table.from_batches([batch]))
            self._written += 1

    def finish(self, shard_counts: Sequence[dict[str, int]]) -> tuple[dict[str, Any], dict[str, Any]]:
        """Write the rest once every shard is decided. Returns the outputs and counts of the
        manifest."""
        self.advance()
        if self._written < len(self.stems):  # pragma: no cover - pass 2 returns only when all are decided
            raise EngineError(f"pass 2 has not decided {self.stems[self._written]}")
        out, stems, config = self.out, self.stems, self.config
        # documents/ writes its last row group before the next writer fills one
        outputs = {"documents": self._documents.close()}
        rejected = _writer(out, "rejected", REJECTED_SCHEMA, config)
        by_reason: Counter[str] = Counter()
        by_stage: Counter[str] = Counter()
        for path in (f"{stem}.{kind}.parquet" for stem in stems for kind in ("rejected", "late")):
            for batch in iter_batches(path, batch_size=BATCH_ROWS):
                table = pa.Table.from_batches([batch])
                for column, counter in (("reason", by_reason), ("stage", by_stage)):
                    for item in pc.value_counts(table[column]).to_pylist():
                        counter[item["values"]] += item["counts"]
                rejected.write_table(table)
        outputs["rejected"] = rejected.close()
        # a passage cluster is listed when it still spans two kept documents
        passage_paths = [f"{s}.passage_rows.parquet" for s in stems]
        members = pa.concat_tables(
            [pq.read_table(p, columns=["cluster_id", "doc_id"]) for p in passage_paths]
            or [PASSAGE_SCHEMA.empty_table().select(["cluster_id", "doc_id"])]
        )
        spans = members.group_by("cluster_id").aggregate([("doc_id", "count_distinct")])
        listed = spans.filter(pc.greater_equal(spans["doc_id_count_distinct"], 2))["cluster_id"].combine_chunks()
        passages = _writer(out, "passages", PASSAGE_SCHEMA, config)
        passage_count = 0
        for table in merge_sorted(passage_paths, _PASSAGE_KEY):
            table = table.filter(pc.is_in(table["cluster_id"], value_set=listed)).drop_columns([_PASSAGE_KEY])
            passage_count += table.num_rows
            passages.write_table(table)
        outputs["passages"] = passages.close()
        kept = sum(c["kept"] for c in shard_counts)
        rejected_total = sum(by_reason.values())
        counts = {
            "records_in": kept + rejected_total,
            "kept": kept,
            "rejected": rejected_total,
            "by_reason": dict(sorted(by_reason.items())),
            "by_stage": dict(sorted(by_stage.items())),
            "boilerplate_kept_unchanged": sum(c["kept_unchanged"] for c in shard_counts),
            "passages": passage_count,
            "passage_clusters": len(listed),
        }
        return outputs, counts
