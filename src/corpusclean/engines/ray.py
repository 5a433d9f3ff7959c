"""The global step on Ray Data: the same decisions as :func:`corpusclean.decisions.global_step`,
computed on the cluster from the pass-1 side tables, never gathered on the driver.

Every corpus-wide operation is a *shuffle*: the rows of one or more datasets are routed by a
deterministic hash of a key column into ``partitions`` groups (:func:`_shuffle`), and a
vectorized function sees all rows of each group at once (``groupby(...).map_groups``), so
grouping and joining are the same operation — a join is a shuffle of both sides by the join key.
What local :func:`~corpusclean.decisions.make_decisions` does, and here:

exact duplicates
    documents shuffled by ``content_hash``; in each hash group the earliest ``published_at``
    (unknown dates last), then the smallest ``doc_id``, is kept.
near-duplicate documents
    signatures without the exact duplicates (a shuffle with them by ``doc_id``) are exploded
    into one row per (band, band key) and shuffled by band key: each LSH bucket is whole in one
    group, where :func:`corpusclean.minhash.candidate_pairs` pairs its members in ``doc_id``
    order — the order the local engine numbers documents in, so the anchor cap of big buckets
    (``max_bucket_size``, ``bucket_anchors``) picks the same anchors. The pairs meet the
    signature of their first member (a shuffle by it, which also drops pairs found in several
    bands), then of their second, and are kept when the estimated Jaccard similarity reaches the
    threshold. Connected components by :func:`_connected_components`; each component then meets
    its members' dates and signatures, its representative is chosen by the same rule, and the
    similarity to it is rounded as locally.
passages
    the same with the passages of the documents that are not duplicates, items ordered by
    (``doc_id``, ``paragraph_index``); pairs inside one document are dropped; clusters span at
    least two documents; ``cluster_id`` is ``<doc_id>:<paragraph_index>`` of the representative.
learned lines
    lines of the documents left are counted per (source, line key), then meet the per-source
    count of documents left (all documents of the source minus its duplicates).

Results do not depend on the partition count, the block layout or the order in which rows
arrive: every function sorts what it needs ordered, and components are a property of the
graph. The driver holds the shard path list, a few counts per step (rows read, edges changed
per round of the components), and what it returns: the three decision tables, whose rows name
only documents the global step affects (exact and near duplicates with their representatives,
clustered passages, learned lines) — never signatures, band keys, candidate pairs or lines.

The side tables are read by Ray tasks with :mod:`pyarrow.parquet` through a :mod:`pyarrow.fs`
filesystem (local paths, ``s3://``, ``gs://`` …), a few files per task (:class:`_Inputs` says why
not ``ray.data.read_parquet``).

Shuffles use Ray Data's sort-based pull shuffle by default (``shuffle_strategy``): on a small or
medium corpus the global step is a chain of a few dozen small shuffles, and that strategy runs
each as plain tasks in 0.1 to 0.5 s, where the actor-based hash shuffle (``shuffle_v2``, the
default of Ray 2.60) starts aggregator actors for every one of them and takes 3 to 8 s. The choice
is set on the datasets this module creates only, never on the caller's current ``DataContext``.
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from corpusclean import minhash
from corpusclean.config import PipelineConfig
from corpusclean.decisions import (
    DOCUMENT_DECISION_SCHEMA,
    DOCUMENT_KEY_SCHEMA,
    LEARNED_SCHEMA,
    LINE_SCHEMA,
    PASSAGE_DECISION_SCHEMA,
    DecisionTables,
)
from corpusclean.errors import EngineError
from corpusclean.records import Reason
from corpusclean.stages.dedup import date_rank

if TYPE_CHECKING:
    from ray.data import Dataset

__all__ = ["DEFAULT_SHUFFLE_STRATEGY", "ray_global_step"]

logger = logging.getLogger(__name__)

#: Ray Data shuffle strategy of the global step's datasets (see the module docstring).
DEFAULT_SHUFFLE_STRATEGY = "sort_shuffle_pull_based"
#: Documents per shuffle partition when the caller does not say: a partition then holds about
#: 1.6 M band rows (32 bands) or 25 MB of signatures.
DOCUMENTS_PER_PARTITION = 50_000
#: Side-table files one reading task reads (pass-1 shards are small; a task per file costs more
#: in Ray's task overhead than the reading).
FILES_PER_READ_TASK = 8
#: Verified edges that one task contracts at once: a graph with fewer (the usual case: edges are
#: the near-duplicate pairs) has its components found in one round on one worker, unless the
#: caller chose the partition count.
EDGES_PER_PARTITION = 2_000_000
#: Rounds of :func:`_connected_components` before it gives up; it needs about log2(partitions) + 3.
MAX_COMPONENT_ROUNDS = 100

_PART = "_part"
_SIDE = "_side"
# the date that sorts after every real one: find_exact_duplicates fills unknown dates with 2**62,
# the near-duplicate and passage rules with the largest int64 (identical for real dates)
_EXACT_NEVER = 2**62
_NEAR_NEVER = int(np.iinfo(np.int64).max)

_EXACT_SCHEMA = pa.schema([("doc_id", pa.string()), ("duplicate_of", pa.string()), ("source", pa.string())])
_EXCLUDED_SCHEMA = pa.schema([("doc_id", pa.string()), ("source", pa.string())])
_PAIR_SCHEMA = pa.schema([("a", pa.string()), ("b", pa.string()), ("a_doc", pa.string()), ("b_doc", pa.string())])
_HALF_PAIR_SCHEMA = _PAIR_SCHEMA.append(pa.field("a_signature", pa.large_binary()))
_EDGE_SCHEMA = pa.schema([("u", pa.string()), ("v", pa.string())])
_END_SCHEMA = _EDGE_SCHEMA.insert(0, pa.field("node", pa.string()))
_ROUND_SCHEMA = _EDGE_SCHEMA.append(pa.field("changed", pa.int8()))
_LABEL_SCHEMA = pa.schema([("item", pa.string()), ("label", pa.string()), ("doc_id", pa.string())])
_DATE_SCHEMA = pa.schema(
    [("doc_id", pa.string()), ("published_at", DOCUMENT_KEY_SCHEMA.field("published_at").type), ("source", pa.string())]
)
_NEAR_SCHEMA = pa.schema(
    [
        ("doc_id", pa.string()),
        ("representative", pa.string()),
        ("similarity", pa.float64()),
        ("source", pa.string()),
    ]
)
_LINE_KEY_SCHEMA = pa.schema([("source", pa.string()), ("key", pa.int64())])
_LINE_COUNT_SCHEMA = _LINE_KEY_SCHEMA.append(pa.field("count", pa.int64()))
_SOURCE_WEIGHT_SCHEMA = pa.schema([("source", pa.string()), ("weight", pa.int64())])


def _item_columns(passages: bool) -> list[str]:
    return ["doc_id", "paragraph_index"] if passages else ["doc_id"]


def _band_schema(passages: bool) -> pa.Schema:
    schema = pa.schema([("doc_id", pa.string()), ("bands", pa.large_binary())])
    return schema.insert(1, pa.field("paragraph_index", pa.int32())) if passages else schema


def _band_row_schema(passages: bool) -> pa.Schema:
    schema = pa.schema([("band", pa.int32()), ("key", pa.uint64()), ("doc_id", pa.string())])
    return schema.append(pa.field("paragraph_index", pa.int32())) if passages else schema


def _signature_schema(passages: bool) -> pa.Schema:
    schema = pa.schema([("doc_id", pa.string()), ("item", pa.string()), ("signature", pa.large_binary())])
    return schema.insert(1, pa.field("paragraph_index", pa.int32())) if passages else schema


def _member_schema(passages: bool) -> pa.Schema:
    schema = _signature_schema(passages).insert(2, pa.field("label", pa.string()))
    return schema.append(_DATE_SCHEMA.field("published_at")).append(_DATE_SCHEMA.field("source"))


# --- Arrow helpers (run on the workers) ----------------------------------------------------------


def _fmix64(h: np.ndarray) -> np.ndarray:
    """MurmurHash3's 64-bit finalizer (a bijection on uint64), so nearby keys spread out."""
    h = h ^ (h >> np.uint64(33))
    h = h * np.uint64(0xFF51AFD7ED558CCD)
    h = h ^ (h >> np.uint64(33))
    h = h * np.uint64(0xC4CEB9FE1A85EC53)
    return h ^ (h >> np.uint64(33))


def _column_hash(column: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """uint64 hash of every value, the same in every process (Python's ``hash`` is salted per
    process, so it could send equal keys to different partitions)."""
    if pa.types.is_string(column.type) or pa.types.is_large_string(column.type) or pa.types.is_binary(column.type):
        from pandas.util import hash_array  # pandas comes with ray[data]; its hash has a fixed key

        return hash_array(np.asarray(column.to_numpy(zero_copy_only=False), dtype=object), categorize=False)
    values = np.asarray(column.to_numpy(zero_copy_only=False))
    return _fmix64(values.astype(np.uint64, copy=False))


def _partition_of(columns: Sequence[pa.ChunkedArray], partitions: int, salt: int) -> np.ndarray:
    """The partition (``0 … partitions-1``) of each row from the values of its key columns."""
    combined = np.full(len(columns[0]), np.uint64(0x9E3779B97F4A7C15) * np.uint64(salt + 1), dtype=np.uint64)
    for column in columns:
        combined = _fmix64(combined * np.uint64(0x100000001B3) + _column_hash(column))
    return (combined % np.uint64(partitions)).astype(np.int64)


def _to_binary(column: pa.ChunkedArray | pa.Array) -> pa.Array:
    """A fixed-size list column (band keys, signature) as one binary value per row: a null of
    it costs an offset, where a null fixed-size list still allocates its values (shuffled rows of
    other tables carry the column as nulls)."""
    array = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    if array.null_count:
        raise EngineError("a pass-1 side table has a null signature or band key row")
    data = np.ascontiguousarray(array.flatten().to_numpy(zero_copy_only=False))
    width = data.dtype.itemsize * array.type.list_size
    offsets = np.arange(len(array) + 1, dtype=np.int64) * width
    return pa.Array.from_buffers(pa.large_binary(), len(array), [None, pa.py_buffer(offsets), pa.py_buffer(data)])


def _binary_matrix(column: pa.ChunkedArray | pa.Array, width: int, dtype: type) -> np.ndarray:
    """``(rows, width)`` array from a column written by :func:`_to_binary` (no copy)."""
    array = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    if len(array) == 0:
        return np.zeros((0, width), dtype=dtype)
    array = array.cast(pa.large_binary())
    offsets = np.frombuffer(array.buffers()[1], dtype=np.int64)[array.offset : array.offset + len(array) + 1]
    if not (np.diff(offsets) == width * np.dtype(dtype).itemsize).all():
        raise EngineError("a signature or band key row has the wrong length")
    data = np.frombuffer(array.buffers()[2], dtype=np.uint8)[offsets[0] : offsets[-1]]
    return data.view(dtype).reshape(len(array), width)


def _item_keys(doc_ids: pa.ChunkedArray | pa.Array, indexes: pa.ChunkedArray | pa.Array | None) -> pa.ChunkedArray:
    """One string per item: the doc_id, or ``<doc_id>:<paragraph_index>`` for a passage (also the
    cluster id of a representative passage). Unique, since an index holds no colon."""
    if indexes is None:
        return doc_ids if isinstance(doc_ids, pa.ChunkedArray) else pa.chunked_array([doc_ids])
    result = pc.binary_join_element_wise(doc_ids, pc.cast(indexes, pa.string()), ":")
    return result if isinstance(result, pa.ChunkedArray) else pa.chunked_array([result])


def _distinct(table: pa.Table) -> pa.Table:
    return table.group_by(table.column_names, use_threads=False).aggregate([]) if table.num_rows else table


def _lookup(keys: pa.ChunkedArray, value_set: pa.ChunkedArray) -> pa.Array:
    """Position of each key in ``value_set`` (unique values), for a many-to-one join."""
    positions = pc.index_in(keys, value_set=value_set.combine_chunks())
    if positions.null_count:
        raise EngineError("a side table row refers to an item missing from another side table")
    return positions


def _without(table: pa.Table, excluded: pa.Table) -> pa.Table:
    if excluded.num_rows == 0 or table.num_rows == 0:
        return table
    return table.filter(pc.invert(pc.is_in(table["doc_id"], value_set=excluded["doc_id"].combine_chunks())))


def _rounded_similarities(num_perm: int) -> np.ndarray:
    """``round(k / num_perm, 6)`` for every count ``k`` of equal signature values: the local
    engine's ``round(float(mean), 6)``, since the mean of ``k`` ones is exactly ``k / num_perm``."""
    return np.array([round(k / num_perm, 6) for k in range(num_perm + 1)], dtype=np.float64)


def _runs(sorted_labels: pa.ChunkedArray | pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """For a sorted column: the start of each row's run of equal values, and the run starts."""
    codes = np.asarray(pc.dictionary_encode(sorted_labels).combine_chunks().indices.to_numpy(), dtype=np.int64)
    starts = np.flatnonzero(np.concatenate([[True], codes[1:] != codes[:-1]])) if len(codes) else codes
    sizes = np.diff(np.append(starts, len(codes)))
    return np.repeat(starts, sizes), starts


# --- shuffles ------------------------------------------------------------------------------------


class _Side(NamedTuple):
    """One input of a shuffle: its rows, the columns that route them, and their schema."""

    dataset: Dataset
    key: tuple[str, ...]
    schema: pa.Schema


def _tag(
    batch: pa.Table, *, side: int, key: tuple[str, ...], schema: pa.Schema, partitions: int, salt: int
) -> pa.Table:
    """Rows of one side in the union schema of a shuffle: partition, side, the side's columns,
    nulls for the other sides' columns."""
    rows = batch.num_rows
    part = _partition_of([batch[name] for name in key], partitions, salt) if rows else np.zeros(0, np.int64)
    columns: list[pa.ChunkedArray] = []
    for field in schema:
        if field.name == _PART:
            columns.append(pa.chunked_array([pa.array(part, pa.int64())]))
        elif field.name == _SIDE:
            columns.append(pa.chunked_array([pa.array(np.full(rows, side, np.int8))]))
        elif field.name in batch.column_names:
            columns.append(batch[field.name].cast(field.type))
        else:
            columns.append(pa.chunked_array([pa.nulls(rows, field.type)]))
    return pa.Table.from_arrays(columns, schema=schema)


def _apply(
    table: pa.Table, *, fn: Callable[..., pa.Table], schemas: list[pa.Schema], kwargs: dict[str, Any]
) -> pa.Table:
    """Split one partition into its sides and call the step's function on them."""
    sides = np.asarray(table[_SIDE].to_numpy(zero_copy_only=False))
    tables = [
        table.filter(pa.array(sides == index)).select(schema.names).cast(schema) for index, schema in enumerate(schemas)
    ]
    return fn(*tables, **kwargs)


def _shuffle(
    sides: Sequence[_Side], fn: Callable[..., pa.Table], partitions: int, *, salt: int = 0, **kwargs: Any
) -> Dataset:
    """``fn(*tables)`` on every partition, where ``tables`` are the rows of each side whose key
    hashes to that partition: a group-by when there is one side, a join (or anti-join) of the
    sides on their keys when there are several. Keys of the sides must have the same types."""
    fields: dict[str, pa.Field] = {}
    for side in sides:
        for field in side.schema:
            known = fields.setdefault(field.name, field.with_nullable(True))
            if known.type != field.type:
                raise TypeError(f"column {field.name} is {known.type} on one side and {field.type} on another")
    union_schema = pa.schema([pa.field(_PART, pa.int64()), pa.field(_SIDE, pa.int8()), *fields.values()])
    tagged = [
        side.dataset.map_batches(
            _tag,
            batch_format="pyarrow",
            batch_size=None,
            fn_kwargs={"side": index, "key": side.key, "schema": union_schema, "partitions": partitions, "salt": salt},
        )
        for index, side in enumerate(sides)
    ]
    combined = tagged[0].union(*tagged[1:]) if len(tagged) > 1 else tagged[0]
    return combined.groupby(_PART, num_partitions=partitions).map_groups(
        _apply,
        batch_format="pyarrow",
        fn_kwargs={"fn": fn, "schemas": [side.schema for side in sides], "kwargs": kwargs},
    )


def _collect(dataset: Dataset, schema: pa.Schema) -> pa.Table:
    """A small result on the driver (decision rows only)."""
    tables = [batch.select(schema.names).cast(schema) for batch in dataset.iter_batches(batch_format="pyarrow")]
    tables = [table for table in tables if table.num_rows]
    return pa.concat_tables(tables).combine_chunks() if tables else schema.empty_table()


def _count(dataset: Dataset) -> int:
    return int(dataset.count())


# --- step functions (each sees whole groups) ------------------------------------------------------


def _exact_groups(keys: pa.Table) -> pa.Table:
    """Exact duplicates among documents whose content hashes share a partition: the rule of
    :func:`corpusclean.stages.dedup.find_exact_duplicates`."""
    keys = keys.filter(pc.is_valid(keys["content_hash"]))
    if keys.num_rows < 2:
        return _EXACT_SCHEMA.empty_table()
    ordered = keys.append_column("_date", pa.array(date_rank(keys["published_at"], _EXACT_NEVER))).sort_by(
        [("content_hash", "ascending"), ("_date", "ascending"), ("doc_id", "ascending")]
    )
    first, _ = _runs(ordered["content_hash"])
    duplicate = first != np.arange(ordered.num_rows)
    rows = pa.array(np.flatnonzero(duplicate))
    return pa.Table.from_arrays(
        [
            ordered["doc_id"].take(rows),
            ordered["doc_id"].take(pa.array(first[duplicate])),
            ordered["source"].take(rows),
        ],
        schema=_EXACT_SCHEMA,
    )


def _exact_exclusions(exact: pa.Table) -> pa.Table:
    """(doc_id, source) of the exact duplicates."""
    return exact.select(_EXCLUDED_SCHEMA.names)


def _near_exclusions(near: pa.Table) -> pa.Table:
    """(doc_id, source) of the near duplicates that are not their cluster's representative."""
    return near.filter(pc.not_equal(near["doc_id"], near["representative"])).select(_EXCLUDED_SCHEMA.names)


def _date_columns(documents: pa.Table) -> pa.Table:
    return documents.select(_DATE_SCHEMA.names)


def _with_binary(batch: pa.Table, *, columns: tuple[str, ...], passages: bool) -> pa.Table:
    """Side-table rows with their list columns as binary (and the item key for signatures)."""
    for name in columns:
        batch = batch.set_column(batch.schema.get_field_index(name), name, _to_binary(batch[name]))
    if "signature" in columns:
        item = _item_keys(batch["doc_id"], batch["paragraph_index"] if passages else None)
        batch = batch.add_column(1 + passages, "item", item)
    return batch


def _explode(items: pa.Table, *, bands: int, passages: bool) -> pa.Table:
    """One row per (item, band) with a non-empty band key."""
    schema = _band_row_schema(passages)
    if items.num_rows == 0:
        return schema.empty_table()
    keys = _binary_matrix(items["bands"], bands, np.uint64)
    rows = keys.ravel()
    present = rows != np.uint64(minhash.EMPTY_KEY)
    owner = pa.array(np.repeat(np.arange(items.num_rows), bands)[present])
    columns = [pa.array(np.tile(np.arange(bands, dtype=np.int32), items.num_rows)[present]), pa.array(rows[present])]
    columns += [items[name].take(owner) for name in _item_columns(passages)]
    return pa.Table.from_arrays(columns, schema=schema)


def _explode_without(items: pa.Table, excluded: pa.Table, *, bands: int, passages: bool) -> pa.Table:
    return _explode(_without(items, excluded), bands=bands, passages=passages)


def _explode_batch(batch: pa.Table, *, bands: int, passages: bool) -> pa.Table:
    return _explode(batch.select(_band_schema(passages).names), bands=bands, passages=passages)


def _bucket_pairs(rows: pa.Table, *, max_bucket_size: int, bucket_anchors: int, passages: bool) -> pa.Table:
    """Candidate pairs of the LSH buckets in one partition: per band, members in item order
    (``doc_id``, then ``paragraph_index``), as the local engine numbers them, through
    :func:`corpusclean.minhash.candidate_pairs` itself (so its anchor cap applies unchanged)."""
    if rows.num_rows < 2:
        return _PAIR_SCHEMA.empty_table()
    order = [(name, "ascending") for name in _item_columns(passages)]
    bands = np.asarray(rows["band"].to_numpy(zero_copy_only=False))
    found: list[pa.Table] = []
    for band in np.unique(bands).tolist():
        members = rows.filter(pa.array(bands == band)).sort_by(order)
        keys = np.asarray(members["key"].to_numpy(zero_copy_only=False), dtype=np.uint64)
        pairs = minhash.candidate_pairs(keys[:, None], max_bucket_size, bucket_anchors)
        if len(pairs) == 0:
            continue
        items = _item_keys(members["doc_id"], members["paragraph_index"] if passages else None)
        first, second = pa.array(pairs[:, 0]), pa.array(pairs[:, 1])
        table = pa.Table.from_arrays(
            [items.take(first), items.take(second), members["doc_id"].take(first), members["doc_id"].take(second)],
            schema=_PAIR_SCHEMA,
        )
        if passages:  # passages of one document are not a repeat across documents
            table = table.filter(pc.not_equal(table["a_doc"], table["b_doc"]))
        found.append(table)
    return _distinct(pa.concat_tables(found)) if found else _PAIR_SCHEMA.empty_table()


def _with_first_signature(pairs: pa.Table, signatures: pa.Table) -> pa.Table:
    """Distinct pairs with the signature of their first item (all pairs of a first item meet
    here, so a pair that several bands found is kept once)."""
    if pairs.num_rows == 0:
        return _HALF_PAIR_SCHEMA.empty_table()
    pairs = _distinct(pairs)
    first = signatures["signature"].take(_lookup(pairs["a"], signatures["item"]))
    return pairs.append_column("a_signature", first).cast(_HALF_PAIR_SCHEMA)


def _verified_edges(pairs: pa.Table, signatures: pa.Table, *, num_perm: int, threshold: float) -> pa.Table:
    """The pairs whose estimated Jaccard similarity reaches the threshold, computed as
    :func:`corpusclean.minhash.estimated_jaccard` does (share of equal signature values)."""
    if pairs.num_rows == 0:
        return _EDGE_SCHEMA.empty_table()
    first = _binary_matrix(pairs["a_signature"], num_perm, np.uint32)
    second = _binary_matrix(signatures["signature"].take(_lookup(pairs["b"], signatures["item"])), num_perm, np.uint32)
    equal = (first == second).sum(axis=1)
    keep = pa.array(equal.astype(np.float64) / num_perm >= threshold)
    return pa.Table.from_arrays([pairs["a"].filter(keep), pairs["b"].filter(keep)], schema=_EDGE_SCHEMA)


def _both_ends(edges: pa.Table) -> pa.Table:
    """Each edge once under each of its items, so that a partition holds every edge of the
    items that hash to it."""
    edges = edges.select(_EDGE_SCHEMA.names)
    by_u = edges.add_column(0, "node", edges["u"])
    by_v = edges.add_column(0, "node", edges["v"])
    return pa.concat_tables([by_u, by_v]).cast(_END_SCHEMA)


def _contract(edges: pa.Table) -> pa.Table:
    """One round of :func:`_connected_components` in one partition: the components of the
    partition's edges, each replaced by a star from its smallest item to the others, and whether
    that changed the partition's edges."""
    if edges.num_rows == 0:
        return _ROUND_SCHEMA.empty_table()
    u, v = edges["u"].combine_chunks(), edges["v"].combine_chunks()
    nodes = pc.unique(pa.concat_arrays([u, v]))
    nodes = nodes.take(pc.sort_indices(nodes))
    count = len(nodes)
    first = np.asarray(pc.index_in(u, value_set=nodes).to_numpy(), dtype=np.int64)
    second = np.asarray(pc.index_in(v, value_set=nodes).to_numpy(), dtype=np.int64)
    codes = np.unique(np.minimum(first, second) * count + np.maximum(first, second))
    labels = minhash.connected_components(count, np.stack([codes // count, codes % count], axis=1))
    leaves = np.flatnonzero(labels != np.arange(count))
    star = np.sort(labels[leaves] * count + leaves)
    changed = 0 if np.array_equal(star, codes) else 1
    return pa.Table.from_arrays(
        [
            nodes.take(pa.array(labels[leaves])),
            nodes.take(pa.array(leaves)),
            pa.array(np.full(len(leaves), changed, np.int8)),
        ],
        schema=_ROUND_SCHEMA,
    )


def _labels(edges: pa.Table, *, passages: bool) -> pa.Table:
    """(item, component label, doc_id) from the stars of the last round (with repeats)."""
    edges = edges.select(_EDGE_SCHEMA.names)
    items = pa.concat_arrays([edges["u"].combine_chunks(), edges["v"].combine_chunks()])
    labels = pa.concat_arrays([edges["u"].combine_chunks(), edges["u"].combine_chunks()])
    if passages:
        doc_ids = pc.list_element(pc.split_pattern(items, ":", max_splits=1, reverse=True), 0)
    else:
        doc_ids = items
    return pa.Table.from_arrays([items, labels, doc_ids], schema=_LABEL_SCHEMA)


def _members(labels: pa.Table, dates: pa.Table, signatures: pa.Table, *, passages: bool) -> pa.Table:
    """Clustered items with their label, document date, source and signature."""
    schema = _member_schema(passages)
    if labels.num_rows == 0:
        return schema.empty_table()
    labels = _distinct(labels)
    signed = signatures.take(_lookup(labels["item"], signatures["item"]))
    dated = dates.take(_lookup(labels["doc_id"], dates["doc_id"]))
    table = signed.add_column(2, "label", labels["label"])
    return (
        table.append_column("published_at", dated["published_at"]).append_column("source", dated["source"]).cast(schema)
    )


def _ordered_clusters(members: pa.Table, passages: bool) -> tuple[pa.Table, np.ndarray]:
    """Members sorted by (label, date rank, item order), and each row's representative row (the
    first of its label): the earliest date, unknown last, then the smallest item."""
    ranked = members.append_column("_date", pa.array(date_rank(members["published_at"], _NEAR_NEVER)))
    order = [("label", "ascending"), ("_date", "ascending")] + [(c, "ascending") for c in _item_columns(passages)]
    ordered = ranked.sort_by(order)
    representative, _ = _runs(ordered["label"])
    return ordered, representative


def _near_representatives(members: pa.Table, *, num_perm: int) -> pa.Table:
    """Every member of each near-duplicate cluster with its representative and its rounded
    estimated similarity to it (null for the representative itself)."""
    if members.num_rows == 0:
        return _NEAR_SCHEMA.empty_table()
    ordered, representative = _ordered_clusters(members, passages=False)
    signatures = _binary_matrix(ordered["signature"], num_perm, np.uint32)
    equal = (signatures == signatures[representative]).sum(axis=1)
    is_representative = representative == np.arange(ordered.num_rows)
    similarity = pa.array(_rounded_similarities(num_perm)[equal], mask=is_representative)
    return pa.Table.from_arrays(
        [ordered["doc_id"], ordered["doc_id"].take(pa.array(representative)), similarity, ordered["source"]],
        schema=_NEAR_SCHEMA,
    )


def _passage_clusters(members: pa.Table, *, num_perm: int) -> pa.Table:
    """Decision rows of the passage clusters that span at least two documents."""
    if members.num_rows == 0:
        return PASSAGE_DECISION_SCHEMA.empty_table()
    spans = members.group_by("label", use_threads=False).aggregate([("doc_id", "count_distinct")])
    wide = spans.filter(pc.greater_equal(spans["doc_id_count_distinct"], 2))["label"]
    members = members.filter(pc.is_in(members["label"], value_set=wide.combine_chunks()))
    if members.num_rows == 0:
        return PASSAGE_DECISION_SCHEMA.empty_table()
    ordered, representative = _ordered_clusters(members, passages=True)
    signatures = _binary_matrix(ordered["signature"], num_perm, np.uint32)
    equal = (signatures == signatures[representative]).sum(axis=1)
    return pa.Table.from_arrays(
        [
            ordered["doc_id"],
            ordered["paragraph_index"],
            ordered["item"].take(pa.array(representative)),  # <doc_id>:<paragraph_index> of the representative
            pa.array(_rounded_similarities(num_perm)[equal]),
            pa.array(representative == np.arange(ordered.num_rows)),
        ],
        schema=PASSAGE_DECISION_SCHEMA,
    )


def _lines_without(lines: pa.Table, excluded: pa.Table) -> pa.Table:
    return _without(lines, excluded).select(_LINE_KEY_SCHEMA.names)


def _line_keys(batch: pa.Table) -> pa.Table:
    return batch.select(_LINE_KEY_SCHEMA.names)


def _line_counts(lines: pa.Table, *, min_documents: int) -> pa.Table:
    """Documents holding each (source, line key), where at least ``min_documents`` do."""
    if lines.num_rows == 0:
        return _LINE_COUNT_SCHEMA.empty_table()
    counts = lines.group_by(["source", "key"], use_threads=False).aggregate([([], "count_all")])
    counts = counts.filter(pc.greater_equal(counts["count_all"], min_documents))
    return pa.Table.from_arrays([counts["source"], counts["key"], counts["count_all"]], schema=_LINE_COUNT_SCHEMA)


def _source_weights(batch: pa.Table, *, weight: int) -> pa.Table:
    return pa.Table.from_arrays(
        [batch["source"], pa.array(np.full(batch.num_rows, weight, np.int64))], schema=_SOURCE_WEIGHT_SCHEMA
    )


def _learned(counts: pa.Table, documents: pa.Table, *, min_share: float) -> pa.Table:
    """The rule of :func:`corpusclean.stages.boilerplate.learn_repeated_lines`: a line is learned
    when its count reaches ``min_share`` of the source's documents left (documents weigh +1,
    rejected duplicates -1)."""
    if counts.num_rows == 0:
        return LEARNED_SCHEMA.empty_table()
    per_source = documents.group_by("source", use_threads=False).aggregate([("weight", "sum")])
    positions = pc.index_in(counts["source"], value_set=per_source["source"].combine_chunks())
    totals = pc.fill_null(pc.take(per_source["weight_sum"], positions), 0)
    documents_left = np.asarray(totals.to_numpy(zero_copy_only=False), dtype=np.int64)
    count = np.asarray(counts["count"].to_numpy(zero_copy_only=False), dtype=np.int64)
    keep = pa.array(count >= min_share * documents_left)
    return counts.filter(keep).select(LEARNED_SCHEMA.names).cast(LEARNED_SCHEMA)


# --- the global step ------------------------------------------------------------------------------


def _read_files(batch: pa.Table, *, filesystem: pafs.FileSystem, columns: list[str]) -> Iterator[pa.Table]:
    """The rows of some Parquet files, a row group at a time."""
    for path in batch["path"].to_pylist():
        with filesystem.open_input_file(path) as handle:
            parquet = pq.ParquetFile(handle)
            for index in range(parquet.num_row_groups):
                yield parquet.read_row_group(index, columns=columns)


def _file_rows(batch: pa.Table, *, filesystem: pafs.FileSystem) -> pa.Table:
    """The row count of each Parquet file, from its footer."""
    rows = []
    for path in batch["path"].to_pylist():
        with filesystem.open_input_file(path) as handle:
            rows.append(pq.ParquetFile(handle).metadata.num_rows)
    return pa.table({"rows": pa.array(rows, pa.int64())})


class _Inputs:
    """The pass-1 side tables as Ray datasets (read lazily, again for each use).

    Files are read by Ray tasks with :mod:`pyarrow.parquet` through a :mod:`pyarrow.fs`
    filesystem, :data:`FILES_PER_READ_TASK` files per task, rather than with
    ``ray.data.read_parquet``: in Ray 2.60 each ``read_parquet`` costs 1.5 to 5 s before the
    first row on a local disk (listing and metadata tasks of its datasource), where this costs
    0.2 s, and the global step reads a side table a dozen times; its path check also races on an
    ``fsspec`` import when ``aiohttp`` is absent (reading two or more files then fails).
    """

    def __init__(
        self, shard_paths: Sequence[str | os.PathLike[str]], filesystem: pafs.FileSystem | None, strategy: str
    ) -> None:
        names = [os.fspath(path) for path in shard_paths]
        if filesystem is None:
            if "://" in names[0]:
                filesystem = pafs.FileSystem.from_uri(names[0])[0]
                names = [pafs.FileSystem.from_uri(name)[1] for name in names]
            else:
                filesystem = pafs.LocalFileSystem()
                names = [os.path.abspath(name) for name in names]
        self.filesystem = filesystem
        self.stems = names
        self.strategy = strategy

    def _files(self, suffix: str) -> Dataset:
        import ray.data

        dataset = ray.data.from_items([{"path": f"{stem}.{suffix}.parquet"} for stem in self.stems])
        # the datasets derived from this one share its context (a copy of the caller's current one)
        dataset.context.shuffle_strategy = self.strategy
        return dataset

    def read(self, suffix: str, columns: list[str]) -> Dataset:
        return self._files(suffix).map_batches(
            _read_files,
            batch_format="pyarrow",
            batch_size=FILES_PER_READ_TASK,
            fn_kwargs={"filesystem": self.filesystem, "columns": columns},
        )

    def rows(self, suffix: str) -> int:
        counts = self._files(suffix).map_batches(
            _file_rows,
            batch_format="pyarrow",
            batch_size=FILES_PER_READ_TASK,
            fn_kwargs={"filesystem": self.filesystem},
        )
        return int(counts.sum("rows") or 0)

    def binary(self, suffix: str, columns: list[str], binary: tuple[str, ...], passages: bool) -> Dataset:
        return self.read(suffix, columns).map_batches(
            _with_binary, batch_format="pyarrow", batch_size=None, fn_kwargs={"columns": binary, "passages": passages}
        )


def _connected_components(edges: Dataset, partitions: int, passages: bool) -> Dataset:
    """(item, label, doc_id) rows of the components of the ``edges`` graph, computed on the
    cluster; the label is the component's smallest item, each item is listed (maybe repeatedly).

    Each round shuffles the edges by each of their two items (with a new hash salt each round),
    and in every partition replaces each connected component of its edges by a star from its
    smallest item (:func:`_contract`). That keeps the components of the whole graph, since a
    star spans what it replaces. When no partition changes anything, every item holds, in its own
    partition, all of its edges and is either a centre with only larger neighbours or a leaf with
    one smaller neighbour: the graph is a set of stars centred on the smallest item of each
    component. Rounds never raise an item's smallest neighbour, and a partition's stars are final
    once its items' neighbourhoods stop changing; in simulations (random graphs up to 12 items and
    5 partitions with fixed, adversarial hashing, 20,000 cases; chains up to 5,000 items) no case
    took more than about log2(partitions) + 3 rounds — a partition contracts every stretch of a
    chain it holds at once — where plain min-label propagation needs as many rounds as the
    longest shortest path. :data:`MAX_COMPONENT_ROUNDS` turns a case that would not end into an
    error instead of a hang.
    """
    for round_number in range(1, MAX_COMPONENT_ROUNDS + 1):
        ends = edges.map_batches(_both_ends, batch_format="pyarrow", batch_size=None)
        contracted = _shuffle([_Side(ends, ("node",), _END_SCHEMA)], _contract, partitions, salt=round_number)
        contracted = contracted.materialize()
        # one partition holds the whole graph: its stars are final after one round
        changed = (contracted.sum("changed") or 0) if partitions > 1 else 0
        logger.debug("connected components: round %d, %d edges in partitions that changed", round_number, changed)
        edges = contracted
        if not changed:
            return edges.map_batches(_labels, batch_format="pyarrow", batch_size=None, fn_kwargs={"passages": passages})
    raise EngineError(f"connected components did not converge in {MAX_COMPONENT_ROUNDS} rounds")


def _clusters(
    inputs: _Inputs,
    excluded: Dataset | None,
    dates: Dataset,
    params: minhash.MinHashParams,
    partitions: int,
    passages: bool,
    fixed_partitions: bool,
) -> Dataset | None:
    """Clustered items with their label, date, source and signature (None when there is no
    candidate pair): banding, buckets, verification and components of documents or passages.
    ``fixed_partitions``: the caller chose ``partitions``, use it for the components too."""
    suffix = "passages" if passages else "minhash"
    items = _item_columns(passages)
    band_rows_kwargs = {"bands": params.bands, "passages": passages}
    band_items = inputs.binary(suffix, [*items, "bands"], ("bands",), passages)
    if excluded is None:
        band_rows = band_items.map_batches(
            _explode_batch, batch_format="pyarrow", batch_size=None, fn_kwargs=band_rows_kwargs
        )
    else:
        band_rows = _shuffle(
            [_Side(band_items, ("doc_id",), _band_schema(passages)), _Side(excluded, ("doc_id",), _EXCLUDED_SCHEMA)],
            _explode_without,
            partitions,
            **band_rows_kwargs,
        )
    pairs = _shuffle(
        [_Side(band_rows, ("key",), _band_row_schema(passages))],
        _bucket_pairs,
        partitions,
        max_bucket_size=params.max_bucket_size,
        bucket_anchors=params.bucket_anchors,
        passages=passages,
    ).materialize()
    if _count(pairs) == 0:
        return None
    signature_schema = _signature_schema(passages)

    def signatures() -> Dataset:
        return inputs.binary(suffix, [*items, "signature"], ("signature",), passages)

    half = _shuffle(
        [_Side(pairs, ("a_doc",), _PAIR_SCHEMA), _Side(signatures(), ("doc_id",), signature_schema)],
        _with_first_signature,
        partitions,
    )
    edges = _shuffle(
        [_Side(half, ("b_doc",), _HALF_PAIR_SCHEMA), _Side(signatures(), ("doc_id",), signature_schema)],
        _verified_edges,
        partitions,
        num_perm=params.num_perm,
        threshold=params.threshold,
    ).materialize()
    edge_count = _count(edges)
    if edge_count == 0:
        return None
    component_partitions = partitions
    if not fixed_partitions:
        component_partitions = min(partitions, math.ceil(edge_count / EDGES_PER_PARTITION))
    labels = _connected_components(edges, component_partitions, passages)
    return _shuffle(
        [
            _Side(labels, ("doc_id",), _LABEL_SCHEMA),
            _Side(dates, ("doc_id",), _DATE_SCHEMA),
            _Side(signatures(), ("doc_id",), signature_schema),
        ],
        _members,
        partitions,
        passages=passages,
    )


def _union(datasets: Sequence[Dataset | None]) -> Dataset | None:
    present = [dataset for dataset in datasets if dataset is not None]
    if not present:
        return None
    return present[0].union(*present[1:]) if len(present) > 1 else present[0]


def ray_global_step(
    config: PipelineConfig,
    shard_paths: Sequence[str | os.PathLike[str]],
    *,
    filesystem: pafs.FileSystem | None = None,
    partitions: int | None = None,
    shuffle_strategy: str = DEFAULT_SHUFFLE_STRATEGY,
) -> DecisionTables:
    """The global step over the pass-1 shards ``shard_paths`` (stems ``…/task-NNNNNN``; local
    paths, or URIs such as ``s3://bucket/out/_work/pass1/task-000000`` resolved by
    :mod:`pyarrow.fs`, or paths inside ``filesystem``), computed on the Ray cluster (started by
    Ray Data when none is). Returns exactly ``global_step(config, shards).to_tables()``.

    ``partitions``: hash partitions of each shuffle (default: the cluster's CPUs, or one per
    :data:`DOCUMENTS_PER_PARTITION` documents when that is more; and for the connected
    components, one per :data:`EDGES_PER_PARTITION` verified pairs); the result never depends on
    it. ``shuffle_strategy``: Ray Data's shuffle for these datasets (see the module docstring).
    The driver holds only the decision rows it returns and a few counts.
    """
    try:
        import ray
    except ImportError as exc:
        raise EngineError("the Ray engine needs Ray Data: pip install 'corpusclean[ray]'") from exc
    if not shard_paths:
        return DecisionTables(
            DOCUMENT_DECISION_SCHEMA.empty_table(), PASSAGE_DECISION_SCHEMA.empty_table(), LEARNED_SCHEMA.empty_table()
        )
    inputs = _Inputs(shard_paths, filesystem, shuffle_strategy)
    dedup, boilerplate = config.dedup, config.boilerplate

    def documents() -> Dataset:
        return inputs.read("documents", DOCUMENT_KEY_SCHEMA.names)

    document_count = inputs.rows("documents")
    fixed = partitions is not None
    if partitions is None:
        cpus = int(ray.cluster_resources().get("CPU", 1)) if ray.is_initialized() else (os.cpu_count() or 1)
        partitions = max(1, cpus, math.ceil(document_count / DOCUMENTS_PER_PARTITION))

    exact = exact_rows = None
    if dedup.enabled and dedup.exact and document_count > 1:
        exact = _shuffle(
            [_Side(documents(), ("content_hash",), DOCUMENT_KEY_SCHEMA)], _exact_groups, partitions
        ).materialize()
        exact_rows = _collect(exact, _EXACT_SCHEMA)
        if exact_rows.num_rows == 0:
            exact = None
    excluded_exact = (
        exact.map_batches(_exact_exclusions, batch_format="pyarrow", batch_size=None) if exact is not None else None
    )

    def dates() -> Dataset:
        return documents().map_batches(_date_columns, batch_format="pyarrow", batch_size=None)

    near_rows = None
    near = None
    if dedup.enabled and dedup.near and inputs.rows("minhash") > 1:
        members = _clusters(
            inputs, excluded_exact, dates(), dedup.minhash_params(), partitions, passages=False, fixed_partitions=fixed
        )
        if members is not None:
            near = _shuffle(
                [_Side(members, ("label",), _member_schema(False))],
                _near_representatives,
                partitions,
                num_perm=dedup.num_perm,
            ).materialize()
            near_rows = _collect(near, _NEAR_SCHEMA)
    excluded_near = (
        near.map_batches(_near_exclusions, batch_format="pyarrow", batch_size=None) if near is not None else None
    )
    excluded = _union([excluded_exact, excluded_near])

    passage_rows = PASSAGE_DECISION_SCHEMA.empty_table()
    if dedup.enabled and dedup.passages and inputs.rows("passages") > 1:
        params = dedup.minhash_params(passages=True)
        members = _clusters(inputs, excluded, dates(), params, partitions, passages=True, fixed_partitions=fixed)
        if members is not None:
            clusters = _shuffle(
                [_Side(members, ("label",), _member_schema(True))],
                _passage_clusters,
                partitions,
                num_perm=params.num_perm,
            )
            passage_rows = _collect(clusters, PASSAGE_DECISION_SCHEMA)

    learned_rows = LEARNED_SCHEMA.empty_table()
    if boilerplate.enabled and boilerplate.learn and inputs.rows("lines") > 0:
        lines = inputs.read("lines", ["source", "doc_id", "key"])
        if excluded is None:
            kept_lines = lines.map_batches(_line_keys, batch_format="pyarrow", batch_size=None)
        else:
            kept_lines = _shuffle(
                [
                    _Side(lines, ("doc_id",), LINE_SCHEMA),
                    _Side(excluded, ("doc_id",), _EXCLUDED_SCHEMA),
                ],
                _lines_without,
                partitions,
            )
        counts = _shuffle(
            [_Side(kept_lines, ("source", "key"), _LINE_KEY_SCHEMA)],
            _line_counts,
            partitions,
            min_documents=boilerplate.learn_min_documents,
        )
        weights = documents().map_batches(
            _source_weights, batch_format="pyarrow", batch_size=None, fn_kwargs={"weight": 1}
        )
        if excluded is not None:
            weights = weights.union(
                excluded.map_batches(_source_weights, batch_format="pyarrow", batch_size=None, fn_kwargs={"weight": -1})
            )
        learned = _shuffle(
            [
                _Side(counts, ("source",), _LINE_COUNT_SCHEMA),
                _Side(weights, ("source",), _SOURCE_WEIGHT_SCHEMA),
            ],
            _learned,
            partitions,
            min_share=boilerplate.learn_min_share,
        )
        learned_rows = _collect(learned, LEARNED_SCHEMA)

    return DecisionTables(
        documents=_document_decisions(exact_rows, near_rows),
        passages=passage_rows.sort_by([("doc_id", "ascending"), ("paragraph_index", "ascending")]),
        learned=learned_rows.sort_by([("source", "ascending"), ("key", "ascending")]),
    )


def _document_decisions(exact: pa.Table | None, near: pa.Table | None) -> pa.Table:
    """The document decision table from the exact-duplicate and near-duplicate rows (on the
    driver: one row per affected document)."""
    parts: list[pa.Table] = []
    if exact is not None and exact.num_rows:
        rows = exact.num_rows
        parts.append(
            pa.Table.from_arrays(
                [
                    exact["doc_id"],
                    pa.array([Reason.EXACT_DUPLICATE.value] * rows, pa.string()),
                    exact["duplicate_of"],
                    pa.array(np.ones(rows), pa.float64()),
                    pa.nulls(rows, pa.string()),
                ],
                schema=DOCUMENT_DECISION_SCHEMA,
            )
        )
    if near is not None and near.num_rows:
        rejected = pc.not_equal(near["doc_id"], near["representative"])
        parts.append(
            pa.Table.from_arrays(
                [
                    near["doc_id"],
                    pc.if_else(rejected, pa.scalar(Reason.NEAR_DUPLICATE.value), pa.scalar(None, pa.string())),
                    pc.if_else(rejected, near["representative"], pa.scalar(None, pa.string())),
                    near["similarity"],
                    near["representative"],
                ],
                schema=DOCUMENT_DECISION_SCHEMA,
            )
        )
    if not parts:
        return DOCUMENT_DECISION_SCHEMA.empty_table()
    return pa.concat_tables(parts).sort_by("doc_id").combine_chunks()
