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

import pyarrow as pa
import pyarrow.compute as pc
import regex

from corpusclean.config import DedupConfig
from corpusclean.records import Record, Rejected, StageResult, map_records

__all__ = ["DedupStage", "content_hash", "find_exact_duplicates", "normalize_for_hash"]

_NOT_WORD = regex.compile(r"[\W_]+")


def normalize_for_hash(text: str) -> str:
    """Case, whitespace and punctuation folded away.

    >>> normalize_for_hash("Hello,  World!\\n")
    'helloworld'
    """
    return _NOT_WORD.sub("", text.casefold())


def content_hash(text: str) -> str:
    """128-bit BLAKE2b of the normalized text, hex.

    >>> content_hash("Hello, world") == content_hash("hello world!")
    True
    """
    return hashlib.blake2b(normalize_for_hash(text).encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()


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
