"""The corpus-level decisions of the global step, and how pass 2 applies them to a row.

The global step works on small side tables only (content hashes, keys of short lines) and
produces a :class:`Decisions`: which documents duplicate which, and which lines each source
repeats. Pass 2 (and :func:`corpusclean.clean_table`) then decides every document row by
:meth:`Decisions.decide`, a pure function of the row, so the same row gets the same outcome
whichever pass or process looks at it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from corpusclean.config import PipelineConfig
from corpusclean.records import Reason
from corpusclean.stages.boilerplate import (
    LIMIT_FIX,
    learn_repeated_lines,
    remove_learned_lines,
    removed_share,
    short_line_keys,
)
from corpusclean.stages.dedup import content_hash, find_exact_duplicates

__all__ = ["DUPLICATE_KEY_SCHEMA", "LINE_SCHEMA", "Decisions", "line_rows", "make_decisions", "rejected_row"]

#: Side table of pass 1 for learned boilerplate: one row per distinct short line of a document.
LINE_SCHEMA = pa.schema([("source", pa.string()), ("doc_id", pa.string()), ("key", pa.int64())])
DUPLICATE_KEY_SCHEMA = pa.schema(
    [("doc_id", pa.string()), ("content_hash", pa.string()), ("published_at", pa.timestamp("us", tz="UTC"))]
)


def line_rows(document: dict[str, Any], config: PipelineConfig) -> list[dict[str, Any]]:
    """The side-table rows of one kept document (none when learning is off)."""
    if not (config.boilerplate.enabled and config.boilerplate.learn):
        return []
    return [
        {"source": document["source"], "doc_id": document["doc_id"], "key": key}
        for key in short_line_keys(document["text"], config.boilerplate.learn_max_chars)
    ]


@dataclass(frozen=True)
class Decisions:
    """What the global step decided for the corpus."""

    config: PipelineConfig
    #: doc_id of a duplicate → doc_id of the kept representative.
    duplicates: dict[str, str] = field(default_factory=dict)
    #: source → keys of its learned boilerplate lines.
    learned: dict[str, frozenset[int]] = field(default_factory=dict)

    def decide(self, row: dict[str, Any]) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
        """``(kept row, None)`` or ``(None, rejected row)`` for a document row of pass 1."""
        representative = self.duplicates.get(row["doc_id"])
        if representative is not None:
            return None, rejected_row(
                row,
                "dedup",
                Reason.EXACT_DUPLICATE,
                f"same normalized text as {representative}",
                duplicate_of=representative,
                similarity=1.0,
            )
        keys = self.learned.get(row["source"])
        if not keys:
            return row, None
        boilerplate = self.config.boilerplate
        text, removed = remove_learned_lines(row["text"], keys, boilerplate.learn_max_chars)
        if not removed:
            return row, None
        share = removed_share(row["text"], text)
        if text.strip() and share <= boilerplate.max_removed_share:
            return _with_text(row, text, removed), None
        if boilerplate.on_excess == "keep":
            return {**row, "fixes": [*row["fixes"], LIMIT_FIX] if LIMIT_FIX not in row["fixes"] else row["fixes"]}, None
        detail = f"lines repeated across its source would take {share:.0%} of the text ({len(removed)} lines)"
        return None, rejected_row(row, "boilerplate", Reason.BOILERPLATE_ONLY, detail)

    @property
    def learned_line_count(self) -> int:
        return sum(len(keys) for keys in self.learned.values())


def _with_text(row: dict[str, Any], text: str, removed: Iterable[Any]) -> dict[str, Any]:
    return {
        **row,
        "text": text,
        "removed": [*row["removed"], *({"rule": r.rule, "text": r.text, "line": r.line} for r in removed)],
        "char_count": len(text),
        "word_count": len(text.split()),
        "content_hash": content_hash(text) if row["content_hash"] is not None else None,
    }


def rejected_row(
    row: dict[str, Any],
    stage: str,
    reason: Reason,
    detail: str,
    *,
    duplicate_of: str | None = None,
    similarity: float | None = None,
) -> dict[str, Any]:
    """The rejected row for a document row decided against in pass 2 (passthrough columns kept)."""
    rejected = {key: value for key, value in row.items() if key not in _DOCUMENT_ONLY}
    rejected.update(stage=stage, reason=reason.value, detail=detail, duplicate_of=duplicate_of, similarity=similarity)
    return rejected


_DOCUMENT_ONLY = {
    "author",
    "site_name",
    "published_at",
    "modified_at",
    "categories",
    "tags",
    "language",
    "language_score",
    "source_encoding",
    "fixes",
    "removed",
    "content_hash",
    "near_dup_cluster",
    "char_count",
    "word_count",
}


def make_decisions(
    config: PipelineConfig, duplicate_keys: pa.Table, sources: pa.Table, lines: pa.Table | None
) -> Decisions:
    """The global step over the side tables: ``duplicate_keys`` (doc_id, content_hash,
    published_at), ``sources`` (doc_id, source) of every kept document of pass 1, ``lines``
    (source, doc_id, key)."""
    duplicates: dict[str, str] = {}
    if config.dedup.enabled and config.dedup.exact:
        duplicates = find_exact_duplicates(duplicate_keys)
    learned: dict[str, frozenset[int]] = {}
    if lines is not None and lines.num_rows and config.boilerplate.enabled and config.boilerplate.learn:
        excluded = pa.array(sorted(duplicates), type=pa.string())
        counted_lines = lines.filter(pc.invert(pc.is_in(lines["doc_id"], value_set=excluded)))
        counted_sources = sources.filter(pc.invert(pc.is_in(sources["doc_id"], value_set=excluded)))
        per_source = counted_sources.group_by("source").aggregate([([], "count_all")])
        documents_per_source = dict(
            zip(per_source["source"].to_pylist(), per_source["count_all"].to_pylist(), strict=True)
        )
        learned = learn_repeated_lines(
            counted_lines.select(["source", "key"]), documents_per_source, config.boilerplate
        )
    return Decisions(config=config, duplicates=duplicates, learned=learned)
