"""The local engine's global step, over the side tables of pass 1, in bounded memory.

It makes the same decisions as :func:`corpusclean.decisions.make_decisions` (which works on
whole in-memory tables, for :func:`corpusclean.clean_table`), but holds for the whole corpus
only what DESIGN allows, the dedup index:

- **exact duplicates**: the key columns (doc_id, content hash, date), sorted once in Arrow; the
  output names only the duplicates;
- **near-duplicate documents and passages**: items numbered in key order (doc_id, then paragraph
  index), their MinHash **band keys** in memory (``bands × 8`` bytes, 256 per item by default)
  with an int32 number each way between item and file position, and the publication date
  (8 bytes). The **signatures** (512 bytes per item) are copied to a scratch file under
  ``_work/`` and read back row by row, a chunk of candidate pairs at a time, so they never add
  up in memory (a memory map would: every page touched stays resident until unmapped);
- **learned lines**: the short-line side table is read by ranges of its 64-bit key (pass 1
  writes it sorted by key, so Parquet statistics skip the row groups outside a range), one range
  at a time: memory bounded by the range, not the corpus.

Every table is read from the shard files again when needed rather than kept. Numbering,
candidate generation, verification and the representative rule are those of
:mod:`corpusclean.stages.dedup`, so the tables are equal to ``make_decisions(...).to_tables()``.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from corpusclean import minhash
from corpusclean.config import PipelineConfig
from corpusclean.decisions import (
    DOCUMENT_DECISION_SCHEMA,
    LEARNED_SCHEMA,
    PASSAGE_DECISION_SCHEMA,
    DecisionTables,
)
from corpusclean.minhash import MinHashParams
from corpusclean.records import Reason
from corpusclean.stages.dedup import date_rank, list_matrix

__all__ = ["LINE_RANGE_ROWS", "local_global_step"]

#: The learned-line counts are made over key ranges of about this many side-table rows each.
LINE_RANGE_ROWS = 1 << 20
#: Candidate pairs verified per chunk: a chunk reads at most twice this many signatures (8 MB).
VERIFY_CHUNK = 8192
_EMPTY_IDS = pa.array([], pa.string())


def _read(stems: Sequence[str], suffix: str, columns: list[str], excluded: pa.Array) -> Iterator[pa.Table]:
    """The given columns of each shard's ``suffix`` side table in turn, without the ``excluded``
    doc_ids (a generator: a caller that wants them all concatenates them)."""
    for stem in stems:
        table = pq.read_table(f"{stem}.{suffix}.parquet", columns=columns)
        if len(excluded):
            table = table.filter(pc.invert(pc.is_in(table["doc_id"], value_set=excluded)))
        yield table


# --- exact duplicates -------------------------------------------------------------------


def _exact_duplicates(stems: Sequence[str]) -> pa.Table:
    """``(doc_id, duplicate_of)`` of the exact duplicates: same content hash, the earliest then
    smallest doc_id kept (as :func:`corpusclean.stages.dedup.find_exact_duplicates`)."""
    keys = pa.concat_tables(_read(stems, "documents", ["doc_id", "content_hash", "published_at"], _EMPTY_IDS))
    keys = keys.filter(pc.is_valid(keys["content_hash"]))
    empty = pa.table({"doc_id": _EMPTY_IDS, "duplicate_of": _EMPTY_IDS})
    if keys.num_rows < 2:
        return empty
    ordered = keys.append_column("_date", pa.array(date_rank(keys["published_at"]))).sort_by(
        [("content_hash", "ascending"), ("_date", "ascending"), ("doc_id", "ascending")]
    )
    hashes = ordered["content_hash"]
    same = np.asarray(pc.equal(hashes.slice(1), hashes.slice(0, len(hashes) - 1)).to_numpy(zero_copy_only=False))
    same = np.concatenate([[False], same])
    if not same.any():
        return empty
    start = np.where(same, 0, np.arange(len(same)))
    representative = np.maximum.accumulate(start)
    rows = np.flatnonzero(same)
    doc_ids = ordered["doc_id"]
    return pa.table({"doc_id": doc_ids.take(rows), "duplicate_of": doc_ids.take(representative[rows])})


# --- the MinHash index ------------------------------------------------------------------


@dataclass
class _Index:
    """Items numbered in key order: band keys in memory, signatures in a scratch file."""

    count: int
    bands: np.ndarray  # (count, bands) uint64, in item order
    position: np.ndarray  # item → row of the scratch file (int32)
    owner: np.ndarray  # item → number of its document among the indexed ones (int32)
    rank: np.ndarray  # item → publication time of its document (int64, unknown last)
    signature_path: Path
    num_perm: int

    def similarity(self, pairs: np.ndarray) -> np.ndarray:
        """Estimated Jaccard similarity of item pairs (:func:`minhash.estimated_jaccard`),
        reading the signatures they need chunk by chunk."""
        result = np.empty(len(pairs), dtype=np.float64)
        if not len(pairs):
            return result
        with open(self.signature_path, "rb", buffering=0) as file:
            for lo in range(0, len(pairs), VERIFY_CHUNK):
                chunk = pairs[lo : lo + VERIFY_CHUNK]
                rows, where = np.unique(self.position[chunk], return_inverse=True)
                matrix = self._read_rows(file, rows)
                where = where.reshape(chunk.shape)
                result[lo : lo + VERIFY_CHUNK] = (matrix[where[:, 0]] == matrix[where[:, 1]]).mean(axis=1)
        return result

    def _read_rows(self, file: Any, rows: np.ndarray) -> np.ndarray:
        """Rows ``rows`` (ascending) of the signature file, read one by one: a memory map would
        bring whole neighbourhoods of the file into this process with every page it touches
        (fault-around), so its resident memory would grow to the file's size."""
        width = self.num_perm * 4
        if hasattr(os, "pread"):
            fd = file.fileno()
            data = b"".join([os.pread(fd, width, row * width) for row in rows.tolist()])
        else:  # pragma: no cover - Windows
            parts = []
            for row in rows.tolist():
                file.seek(row * width)
                parts.append(file.read(width))
            data = b"".join(parts)
        return np.frombuffer(data, dtype=np.uint32).reshape(len(rows), self.num_perm)


def _build_index(
    stems: Sequence[str],
    suffix: str,
    key_columns: list[str],
    excluded: pa.Array,
    dates: pa.Table,
    params: MinHashParams,
    scratch: Path,
) -> tuple[_Index, pa.Table] | None:
    """Number the items of the ``suffix`` side tables (``minhash`` or ``passages``) in
    ``key_columns`` order and load their band keys; ``dates``: doc_id → published_at of the
    documents. Returns the index and the item keys in item order (the caller drops them)."""
    keys = pa.concat_tables(_read(stems, suffix, key_columns, excluded))
    count = keys.num_rows
    if count < 2:
        return None
    order = pc.sort_indices(keys, sort_keys=[(c, "ascending") for c in key_columns]).to_numpy().astype(np.int32)
    item_of_position = np.empty(count, dtype=np.int32)
    item_of_position[order] = np.arange(count, dtype=np.int32)
    sorted_keys = keys.take(order)
    del keys
    owner_ids = sorted_keys["doc_id"]
    new_owner = np.concatenate(
        [[True], np.asarray(pc.not_equal(owner_ids.slice(1), owner_ids.slice(0, count - 1)).to_numpy(False))]
    )
    owner = (np.cumsum(new_owner) - 1).astype(np.int32)
    positions = pc.index_in(owner_ids, value_set=dates["doc_id"].combine_chunks())
    rank = date_rank(pc.take(dates["published_at"], positions))
    bands = np.empty((count, params.bands), dtype=np.uint64)
    scratch.parent.mkdir(parents=True, exist_ok=True)
    start = 0
    with open(scratch, "wb") as file:
        for table in _read(stems, suffix, ["doc_id", "bands", "signature"], excluded):
            rows = table.num_rows
            if not rows:
                continue
            items = item_of_position[start : start + rows]
            bands[items] = list_matrix(table["bands"], params.bands, np.uint64)
            list_matrix(table["signature"], params.num_perm, np.uint32).tofile(file)
            start += rows
    index = _Index(count, bands, order, owner, rank, scratch, params.num_perm)
    return index, sorted_keys


def _rounded(values: np.ndarray) -> pa.Array:
    """Similarities rounded as the in-memory step rounds them (Python's ``round``, 6 digits)."""
    return pa.array([round(float(value), 6) for value in values.tolist()], pa.float64())


def _clusters(index: _Index, params: MinHashParams, across_documents: bool) -> tuple[np.ndarray, np.ndarray]:
    """``(members, representative of each)`` of the verified clusters, members in item order.
    ``across_documents``: pairs inside one document do not count, and a cluster must span two
    documents (passages)."""
    candidates = minhash.candidate_pairs(index.bands, params.max_bucket_size, params.bucket_anchors)
    if len(candidates):
        candidates = candidates[index.similarity(candidates) >= params.threshold]
    if across_documents and len(candidates):
        candidates = candidates[index.owner[candidates[:, 0]] != index.owner[candidates[:, 1]]]
    labels = minhash.connected_components(index.count, candidates)
    members = np.flatnonzero(np.bincount(labels)[labels] >= 2)
    if across_documents and len(members):
        # owners per cluster: distinct (label, owner) pairs counted per label
        pairs = np.unique(np.column_stack([labels[members], index.owner[members]]), axis=0)
        labels_spanning = pairs[:, 0][np.concatenate([[False], pairs[1:, 0] == pairs[:-1, 0]])]
        members = members[np.isin(labels[members], labels_spanning)]
    if not len(members):
        return members, members
    # representative: earliest date, then smallest item (items are in key order)
    order = np.lexsort((members, index.rank[members], labels[members]))
    ordered = members[order]
    first = np.concatenate([[True], labels[ordered][1:] != labels[ordered][:-1]])
    representative_of_label = np.zeros(index.count, dtype=np.int64)
    representative_of_label[labels[ordered][first]] = ordered[first]
    return members, representative_of_label[labels[members]]


def _near_duplicates(
    stems: Sequence[str], excluded: pa.Array, dates: pa.Table, params: MinHashParams, scratch: Path
) -> pa.Table:
    """Decision rows (:data:`DOCUMENT_DECISION_SCHEMA`) of the near-duplicate clusters."""
    built = _build_index(stems, "minhash", ["doc_id"], excluded, dates, params, scratch)
    if built is None:
        return DOCUMENT_DECISION_SCHEMA.empty_table()
    index, keys = built
    members, representatives = _clusters(index, params, across_documents=False)
    similarity = _rounded(index.similarity(np.column_stack([members, representatives])))
    doc_ids = keys["doc_id"].combine_chunks()
    representative_ids = doc_ids.take(pa.array(representatives))
    is_duplicate = members != representatives
    return pa.table(
        {
            "doc_id": doc_ids.take(pa.array(members)),
            "reason": pa.array(np.where(is_duplicate, Reason.NEAR_DUPLICATE.value, None), pa.string()),
            "duplicate_of": pc.if_else(pa.array(is_duplicate), representative_ids, None),
            "similarity": pc.if_else(pa.array(is_duplicate), similarity, None),
            "near_dup_cluster": representative_ids,
        },
        schema=DOCUMENT_DECISION_SCHEMA,
    )


def _passages(
    stems: Sequence[str], excluded: pa.Array, dates: pa.Table, params: MinHashParams, scratch: Path
) -> pa.Table:
    """Decision rows (:data:`PASSAGE_DECISION_SCHEMA`) of the passage clusters."""
    built = _build_index(stems, "passages", ["doc_id", "paragraph_index"], excluded, dates, params, scratch)
    if built is None:
        return PASSAGE_DECISION_SCHEMA.empty_table()
    index, keys = built
    members, representatives = _clusters(index, params, across_documents=True)
    similarity = _rounded(index.similarity(np.column_stack([members, representatives])))
    cluster_ids = pc.binary_join_element_wise(
        keys["doc_id"].take(representatives), pc.cast(keys["paragraph_index"].take(representatives), pa.string()), ":"
    )
    return pa.table(
        {
            "doc_id": keys["doc_id"].take(members),
            "paragraph_index": keys["paragraph_index"].take(members),
            "cluster_id": cluster_ids,
            "similarity": similarity,
            "representative": members == representatives,
        },
        schema=PASSAGE_DECISION_SCHEMA,
    )


# --- learned lines ----------------------------------------------------------------------


def _learned_lines(stems: Sequence[str], excluded: pa.Array, survivors: pa.Table, config: PipelineConfig) -> pa.Table:
    """The learned lines (:data:`LEARNED_SCHEMA`), counted one key range at a time."""
    boilerplate = config.boilerplate
    paths = [f"{stem}.lines.parquet" for stem in stems]
    total = sum(pq.ParquetFile(path).metadata.num_rows for path in paths)
    if total == 0:
        return LEARNED_SCHEMA.empty_table()
    per_source = survivors.group_by("source").aggregate([([], "count_all")])
    ranges = max(1, -(-total // LINE_RANGE_ROWS))
    step = (1 << 64) // ranges
    bounds = [-(1 << 63) + i * step for i in range(ranges)] + [1 << 63]
    learned: list[pa.Table] = []
    for lo, hi in itertools.pairwise(bounds):
        filters = [("key", ">=", lo)] + ([("key", "<", hi)] if hi < 1 << 63 else [])
        tables = []
        for path in paths:
            table = pq.read_table(path, columns=["source", "doc_id", "key"], filters=filters)
            if len(excluded):
                table = table.filter(pc.invert(pc.is_in(table["doc_id"], value_set=excluded)))
            tables.append(table.select(["source", "key"]))
        lines = pa.concat_tables(tables)
        if not lines.num_rows:
            continue
        counts = lines.group_by(["source", "key"]).aggregate([([], "count_all")])
        counts = counts.filter(pc.greater_equal(counts["count_all"], boilerplate.learn_min_documents))
        counts = counts.join(per_source, keys="source", right_suffix="_source")
        share = pc.multiply(pc.cast(counts["count_all_source"], pa.float64()), boilerplate.learn_min_share)
        counts = counts.filter(pc.greater_equal(pc.cast(counts["count_all"], pa.float64()), share))
        learned.append(counts.select(["source", "key"]))
    if not learned:
        return LEARNED_SCHEMA.empty_table()
    return pa.concat_tables(learned).cast(LEARNED_SCHEMA).sort_by([("source", "ascending"), ("key", "ascending")])


# --- the step ---------------------------------------------------------------------------


def local_global_step(config: PipelineConfig, stems: Sequence[str], scratch: Path) -> DecisionTables:
    """The decision tables from the pass-1 shards ``stems`` (path stems ``…/task-NNNNNN``);
    ``scratch``: a directory for the signature files (removed afterwards)."""
    dedup = config.dedup
    exact = pa.table({"doc_id": _EMPTY_IDS, "duplicate_of": _EMPTY_IDS})
    if dedup.enabled and dedup.exact:
        exact = _exact_duplicates(stems)
    rejected_ids = exact["doc_id"].combine_chunks() if exact.num_rows else _EMPTY_IDS
    documents = pa.table(
        {
            "doc_id": exact["doc_id"],
            "reason": pa.array([Reason.EXACT_DUPLICATE.value] * exact.num_rows, pa.string()),
            "duplicate_of": exact["duplicate_of"],
            "similarity": pa.array([1.0] * exact.num_rows, pa.float64()),
            "near_dup_cluster": pa.nulls(exact.num_rows, pa.string()),
        },
        schema=DOCUMENT_DECISION_SCHEMA,
    )
    survivors = pa.concat_tables(_read(stems, "documents", ["doc_id", "published_at", "source"], rejected_ids))
    passages = PASSAGE_DECISION_SCHEMA.empty_table()
    try:
        if dedup.enabled and dedup.near:
            near = _near_duplicates(stems, rejected_ids, survivors, dedup.minhash_params(), scratch / "minhash.u32")
            documents = pa.concat_tables([documents, near])
            rejected = near.filter(pc.is_valid(near["reason"]))["doc_id"]
            if len(rejected):
                rejected_ids = pa.concat_arrays([rejected_ids, rejected.combine_chunks()])
                survivors = survivors.filter(pc.invert(pc.is_in(survivors["doc_id"], value_set=rejected_ids)))
        if dedup.enabled and dedup.passages:
            params = dedup.minhash_params(passages=True)
            passages = _passages(stems, rejected_ids, survivors, params, scratch / "passages.u32")
    finally:
        for name in ("minhash.u32", "passages.u32"):
            if (scratch / name).exists():
                os.remove(scratch / name)
    learned = LEARNED_SCHEMA.empty_table()
    if config.boilerplate.enabled and config.boilerplate.learn:
        learned = _learned_lines(stems, rejected_ids, survivors, config)
    return DecisionTables(
        documents=documents.sort_by("doc_id").combine_chunks(),
        passages=passages.sort_by([("doc_id", "ascending"), ("paragraph_index", "ascending")]).combine_chunks(),
        learned=learned.combine_chunks(),
    )
