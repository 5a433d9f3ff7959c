"""Dedup: content hashes per record (pass 1) and the global exact-duplicate step.

The per-record part is a stage like the others. The global part works on small columns only
(doc_id, content_hash, published_at) as Arrow arrays, never on the texts, so it stays cheap as
the corpus grows. The representative of a group is chosen by DESIGN's deterministic rule:
earliest ``published_at`` (unknown dates last), then smallest ``doc_id``.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import regex

from corpusclean import minhash
from corpusclean.config import DedupConfig
from corpusclean.minhash import MinHashParams
from corpusclean.records import Record, Rejected, StageResult, map_records

__all__ = ["DedupStage", "content_hash", "date_rank", "find_exact_duplicates", "list_matrix", "normalize_for_hash"]

_NOT_WORD = regex.compile(r"[\W_]+")
#: The ASCII bytes ``_NOT_WORD`` matches: everything but letters and digits.
_ASCII_NOT_WORD = bytes(code for code in range(128) if _NOT_WORD.fullmatch(chr(code)))
#: ``_NOT_WORD`` once no ASCII punctuation or ``_`` is left (``\W`` alone scans twice as fast).
_NON_ASCII_NOT_WORD = regex.compile(r"\W+")


def _folded_bytes(text: str) -> bytes:
    """UTF-8 of ``normalize_for_hash(text)``. Spaces and ASCII punctuation, most of what goes,
    are deleted from the UTF-8 bytes in one C pass (an ASCII byte in UTF-8 is always that ASCII
    character); the regex then runs only on texts with non-ASCII characters left, and finds
    few matches in them (curly quotes, dashes), where it found one between every two words."""
    data = text.casefold().encode("utf-8", "surrogatepass").translate(None, _ASCII_NOT_WORD)
    if data.isascii():
        return data
    rest = _NON_ASCII_NOT_WORD.sub("", data.decode("utf-8", "surrogatepass"))
    return rest.encode("utf-8", "surrogatepass")


def normalize_for_hash(text: str) -> str:
    """Case, whitespace and punctuation folded away.

    >>> normalize_for_hash("Hello,  World!\\n")
    'helloworld'
    """
    return _folded_bytes(text).decode("utf-8", "surrogatepass")


def content_hash(text: str) -> str:
    """128-bit BLAKE2b of the normalized text, hex.

    >>> content_hash("Hello, world") == content_hash("hello world!")
    True
    """
    return hashlib.blake2b(_folded_bytes(text), digest_size=16).hexdigest()


class DedupStage:
    """Per-record part of dedup: computes ``content_hash``."""

    name = "dedup"

    def __init__(self, config: DedupConfig) -> None:
        self.config = config

    def __call__(self, batch: Sequence[Record]) -> StageResult:
        return map_records(self.name, batch, self.process)

    def process(self, record: Record) -> Record | Rejected:
        if not self.config.enabled or record.text is None:
            return record
        return dataclasses.replace(record, content_hash=content_hash(record.text))


def find_exact_duplicates(keys: pa.Table) -> dict[str, str]:
    """``{duplicate doc_id: representative doc_id}`` for a table with columns ``doc_id``,
    ``content_hash`` and ``published_at``. Rows with a null hash are never duplicates."""
    keys = keys.filter(pc.is_valid(keys["content_hash"]))
    if keys.num_rows == 0:
        return {}
    # unknown dates sort last: fill with the largest timestamp before sorting
    never = pa.scalar(2**62, type=pa.int64()).cast(pa.timestamp("us")).cast(keys["published_at"].type)
    ordered = keys.append_column("_date", pc.fill_null(keys["published_at"], never)).sort_by(
        [("content_hash", "ascending"), ("_date", "ascending"), ("doc_id", "ascending")]
    )
    hashes = ordered["content_hash"].to_pylist()
    doc_ids = ordered["doc_id"].to_pylist()
    duplicates: dict[str, str] = {}
    representative = doc_ids[0]
    for i in range(1, len(hashes)):
        if hashes[i] == hashes[i - 1]:
            duplicates[doc_ids[i]] = representative
        else:
            representative = doc_ids[i]
    return duplicates


# --- near-duplicate documents and passages (MinHash side tables, global step) -----------------


def minhash_schema(params: MinHashParams) -> pa.Schema:
    """Side table of pass 1: band keys (the LSH index) and signature of each kept document."""
    return pa.schema(
        [
            ("doc_id", pa.string()),
            ("bands", pa.list_(pa.uint64(), params.bands)),
            ("signature", pa.list_(pa.uint32(), params.num_perm)),
        ]
    )


def passage_schema(params: MinHashParams) -> pa.Schema:
    """Side table of pass 1: one row per passage (paragraph of at least ``passage_min_words``)."""
    return pa.schema(
        [
            ("doc_id", pa.string()),
            ("paragraph_index", pa.int32()),
            ("bands", pa.list_(pa.uint64(), params.bands)),
            ("signature", pa.list_(pa.uint32(), params.num_perm)),
        ]
    )


def _signature_columns(texts: Sequence[str], params: MinHashParams) -> tuple[pa.Array, pa.Array]:
    shingles = minhash.shingle_sets(texts, params.ngram)
    signature_matrix = minhash.signatures(shingles, params.num_perm, params.seed, params.scheme)
    keys = minhash.band_keys(signature_matrix, params.bands, params.rows)
    bands = pa.FixedSizeListArray.from_arrays(pa.array(keys.ravel(), pa.uint64()), params.bands)
    signature = pa.FixedSizeListArray.from_arrays(
        pa.array(signature_matrix.astype(np.uint32, copy=False).ravel(), pa.uint32()), params.num_perm
    )
    return bands, signature


def minhash_table(doc_ids: Sequence[str], texts: Sequence[str], params: MinHashParams) -> pa.Table:
    """Signatures and band keys of a batch of documents, computed together (vectorized)."""
    if not doc_ids:
        return minhash_schema(params).empty_table()
    bands, signature = _signature_columns(texts, params)
    return pa.Table.from_arrays([pa.array(doc_ids, pa.string()), bands, signature], schema=minhash_schema(params))


def passage_table(doc_ids: Sequence[str], texts: Sequence[str], params: MinHashParams, min_words: int) -> pa.Table:
    """Signatures and band keys of the passages of a batch of documents."""
    found = minhash.passages(texts, min_words)
    if not found.texts:
        return passage_schema(params).empty_table()
    bands, signature = _signature_columns(found.texts, params)
    owners = pa.array([doc_ids[i] for i in found.doc_index.tolist()], pa.string())
    return pa.Table.from_arrays(
        [owners, pa.array(found.paragraph_index, pa.int32()), bands, signature], schema=passage_schema(params)
    )


def list_matrix(column: pa.ChunkedArray, width: int, dtype: type) -> np.ndarray:
    """A fixed-size list column (band keys, signatures) as a ``(rows, width)`` numpy matrix."""
    flat = column.combine_chunks().flatten().to_numpy(zero_copy_only=False)
    return np.asarray(flat, dtype=dtype).reshape(-1, width)


def date_rank(dates: pa.ChunkedArray | pa.Array, never: int = int(np.iinfo(np.int64).max)) -> np.ndarray:
    """Publication times as integers, unknown dates as ``never`` (last: DESIGN's representative rule)."""
    as_int = pc.fill_null(pc.cast(dates, pa.int64()), never)
    return np.asarray(as_int.to_numpy(zero_copy_only=False), dtype=np.int64)


def _verified_pairs(table: pa.Table, params: MinHashParams) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    signature_matrix = list_matrix(table["signature"], params.num_perm, np.uint32)
    keys = list_matrix(table["bands"], params.bands, np.uint64)
    candidates = minhash.candidate_pairs(keys, params.max_bucket_size, params.bucket_anchors)
    pairs, similarity = minhash.verify_pairs(candidates, params.threshold, signature_matrix)
    return pairs, similarity, signature_matrix


def find_near_duplicates(
    signatures: pa.Table, published_at: pa.Table, params: MinHashParams
) -> tuple[dict[str, tuple[str, float]], dict[str, str]]:
    """Near-duplicate clusters of the documents in ``signatures`` (exact duplicates already left
    out). ``published_at``: doc_id → publication time of the same documents.

    Returns ``({duplicate doc_id: (representative doc_id, estimated similarity)},
    {doc_id of every clustered document: representative doc_id})``. Items are numbered in
    ``doc_id`` order, so the clusters never depend on file or worker order.
    """
    if signatures.num_rows < 2:
        return {}, {}
    table = signatures.sort_by("doc_id")
    dates = published_at.sort_by("doc_id")
    doc_ids = table["doc_id"].to_pylist()
    pairs, _, signature_matrix = _verified_pairs(table, params)
    labels = minhash.connected_components(len(doc_ids), pairs)
    rank = date_rank(dates["published_at"])
    duplicates: dict[str, tuple[str, float]] = {}
    clusters: dict[str, str] = {}
    for members in minhash.component_members(labels):
        # earliest published_at, then smallest doc_id (members are in doc_id order)
        representative = int(members[np.lexsort((members, rank[members]))[0]])
        others = members[members != representative]
        similarity = minhash.estimated_jaccard(
            signature_matrix, np.column_stack([others, np.full(len(others), representative)])
        )
        for member, value in zip(others.tolist(), similarity.tolist(), strict=True):
            duplicates[doc_ids[member]] = (doc_ids[representative], round(float(value), 6))
        for member in members.tolist():
            clusters[doc_ids[member]] = doc_ids[representative]
    return duplicates, clusters


def find_passage_clusters(
    passages: pa.Table, published_at: pa.Table, params: MinHashParams
) -> dict[str, list[tuple[int, str, float, bool]]]:
    """Clusters of near-duplicate passages that span at least two documents.

    ``published_at``: doc_id → publication time of the documents the passages belong to.
    Returns, per doc_id, its clustered passages as ``(paragraph_index, cluster_id, similarity to
    the cluster's representative passage, is_representative)``. The representative passage is the
    one of the earliest, then smallest, document; ``cluster_id`` is ``<its doc_id>:<its index>``.
    """
    if passages.num_rows < 2:
        return {}
    table = passages.sort_by([("doc_id", "ascending"), ("paragraph_index", "ascending")])
    owners = table["doc_id"].to_pylist()
    indexes = table["paragraph_index"].to_pylist()
    pairs, _, signature_matrix = _verified_pairs(table, params)
    owner_codes = np.asarray(
        pc.index_in(table["doc_id"], value_set=pc.unique(table["doc_id"])).to_numpy(), dtype=np.int64
    )
    if len(pairs):
        pairs = pairs[owner_codes[pairs[:, 0]] != owner_codes[pairs[:, 1]]]  # not a repeat within one document
    labels = minhash.connected_components(len(owners), pairs)
    positions = pc.index_in(table["doc_id"], value_set=published_at["doc_id"])
    rank = date_rank(pc.take(published_at["published_at"], positions))
    found: dict[str, list[tuple[int, str, float, bool]]] = {}
    for members in minhash.component_members(labels):
        if len(np.unique(owner_codes[members])) < 2:
            continue
        # members are in (doc_id, paragraph_index) order: the first of the earliest document
        representative = int(members[np.lexsort((members, rank[members]))[0]])
        cluster_id = f"{owners[representative]}:{indexes[representative]}"
        similarity = minhash.estimated_jaccard(
            signature_matrix, np.column_stack([members, np.full(len(members), representative)])
        )
        for member, value in zip(members.tolist(), similarity.tolist(), strict=True):
            found.setdefault(owners[member], []).append(
                (indexes[member], cluster_id, round(float(value), 6), member == representative)
            )
    return found
