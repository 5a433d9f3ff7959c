"""The corpus-level decisions of the global step, and how pass 2 applies them to a row.

The global step works on small side tables only (content hashes, MinHash band keys and
signatures, keys of short lines) and produces a :class:`Decisions`: which documents duplicate
which (exactly or nearly), which passages repeat across documents, and which lines each source
repeats. Pass 2 (and :func:`corpusclean.clean_table`) then decides every document row with
:meth:`Decisions.decide`, a pure function of the row, so the same row gets the same outcome
whichever pass or process looks at it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from corpusclean.config import PipelineConfig
from corpusclean.minhash import split_paragraphs
from corpusclean.records import Reason, Removal
from corpusclean.schema import DOCUMENT_SCHEMA, REJECTED_SCHEMA
from corpusclean.stages.boilerplate import (
    LIMIT_FIX,
    learn_repeated_lines,
    remove_learned_lines,
    removed_share,
    short_line_keys,
)
from corpusclean.stages.decode import normalize_whitespace
from corpusclean.stages.dedup import (
    content_hash,
    find_exact_duplicates,
    find_near_duplicates,
    find_passage_clusters,
)

__all__ = [
    "DOCUMENT_DECISION_SCHEMA",
    "DOCUMENT_KEY_SCHEMA",
    "LEARNED_SCHEMA",
    "LINE_SCHEMA",
    "PASSAGE_DECISION_SCHEMA",
    "PASSAGE_RULE",
    "Decision",
    "DecisionTables",
    "Decisions",
    "global_step",
    "learned_sets",
    "line_rows",
    "make_decisions",
    "rejected_row",
    "resolve_representatives",
]

#: Side table of pass 1 for learned boilerplate: one row per distinct short line of a document.
LINE_SCHEMA = pa.schema([("source", pa.string()), ("doc_id", pa.string()), ("key", pa.int64())])
#: The key columns of the kept documents of pass 1 that the global step reads.
DOCUMENT_KEY_SCHEMA = pa.schema(
    [
        ("doc_id", pa.string()),
        ("content_hash", pa.string()),
        ("published_at", pa.timestamp("us", tz="UTC")),
        ("source", pa.string()),
    ]
)
#: Decision table: one row per document the global step says something about, sorted by doc_id.
#: ``reason`` is ``exact_duplicate`` or ``near_duplicate`` for a rejected document (then
#: ``duplicate_of`` and ``similarity`` are set), null for a kept member of a near-duplicate cluster;
#: ``near_dup_cluster`` is the cluster's representative for every member of a near-duplicate
#: cluster (the representative included), null for exact duplicates.
DOCUMENT_DECISION_SCHEMA = pa.schema(
    [
        ("doc_id", pa.string()),
        ("reason", pa.string()),
        ("duplicate_of", pa.string()),
        ("similarity", pa.float64()),
        ("near_dup_cluster", pa.string()),
    ]
)
#: Decision table: the clustered passages, sorted by (doc_id, paragraph_index).
PASSAGE_DECISION_SCHEMA = pa.schema(
    [
        ("doc_id", pa.string()),
        ("paragraph_index", pa.int32()),
        ("cluster_id", pa.string()),
        ("similarity", pa.float64()),
        ("representative", pa.bool_()),
    ]
)
#: Decision table: the learned boilerplate lines, sorted by (source, key).
LEARNED_SCHEMA = pa.schema([("source", pa.string()), ("key", pa.int64())])
#: ``removed.rule`` of a passage removed because another document holds it too.
PASSAGE_RULE = "dedup.repeated_passage"


def line_rows(document: dict[str, Any], config: PipelineConfig) -> list[dict[str, Any]]:
    """The side-table rows of one kept document (none when learning is off)."""
    if not (config.boilerplate.enabled and config.boilerplate.learn):
        return []
    return [
        {"source": document["source"], "doc_id": document["doc_id"], "key": key}
        for key in short_line_keys(document["text"], config.boilerplate.learn_max_chars)
    ]


class Decision(NamedTuple):
    """The outcome for one document row: kept (with its passage rows) or rejected."""

    kept: dict[str, Any] | None
    rejected: dict[str, Any] | None
    passages: list[dict[str, Any]]


@dataclass(frozen=True)
class DecisionTables:
    """The output of a global step as Arrow tables (:data:`DOCUMENT_DECISION_SCHEMA`,
    :data:`PASSAGE_DECISION_SCHEMA`, :data:`LEARNED_SCHEMA`), each sorted by its key columns.
    The local and Ray engines must produce equal tables from the same side tables."""

    documents: pa.Table
    passages: pa.Table
    learned: pa.Table

    def equals(self, other: DecisionTables) -> bool:
        return (
            self.documents.equals(other.documents)
            and self.passages.equals(other.passages)
            and self.learned.equals(other.learned)
        )


@dataclass(frozen=True)
class Decisions:
    """What the global step decided for the corpus."""

    config: PipelineConfig
    #: doc_id of an exact duplicate → doc_id of the kept representative.
    duplicates: dict[str, str] = field(default_factory=dict)
    #: doc_id of a near-duplicate → (doc_id of the kept representative, estimated similarity).
    near_duplicates: dict[str, tuple[str, float]] = field(default_factory=dict)
    #: doc_id of every document in a near-duplicate cluster → its representative.
    near_clusters: dict[str, str] = field(default_factory=dict)
    #: doc_id → its repeated passages: (paragraph index, cluster id, similarity, is representative).
    passages: dict[str, list[tuple[int, str, float, bool]]] = field(default_factory=dict)
    #: source → keys of its learned boilerplate lines.
    learned: dict[str, frozenset[int]] = field(default_factory=dict)
    #: doc_ids that other documents name as ``duplicate_of``: they must stay kept.
    representatives: frozenset[str] = frozenset()

    def to_tables(self) -> DecisionTables:
        """The decisions as Arrow tables (what any engine's global step must produce)."""
        documents: list[dict[str, Any]] = []
        for doc_id in sorted(set(self.duplicates) | set(self.near_duplicates) | set(self.near_clusters)):
            row: dict[str, Any] = {
                "doc_id": doc_id,
                "reason": None,
                "duplicate_of": None,
                "similarity": None,
                "near_dup_cluster": self.near_clusters.get(doc_id),
            }
            if doc_id in self.duplicates:
                row.update(reason=Reason.EXACT_DUPLICATE.value, duplicate_of=self.duplicates[doc_id], similarity=1.0)
            elif doc_id in self.near_duplicates:
                representative, similarity = self.near_duplicates[doc_id]
                row.update(reason=Reason.NEAR_DUPLICATE.value, duplicate_of=representative, similarity=similarity)
            documents.append(row)
        passages = [
            {
                "doc_id": doc_id,
                "paragraph_index": index,
                "cluster_id": cluster_id,
                "similarity": similarity,
                "representative": first,
            }
            for doc_id in sorted(self.passages)
            for index, cluster_id, similarity, first in sorted(self.passages[doc_id])
        ]
        learned = [
            {"source": source, "key": key} for source in sorted(self.learned) for key in sorted(self.learned[source])
        ]
        return DecisionTables(
            documents=pa.Table.from_pylist(documents, schema=DOCUMENT_DECISION_SCHEMA),
            passages=pa.Table.from_pylist(passages, schema=PASSAGE_DECISION_SCHEMA),
            learned=pa.Table.from_pylist(learned, schema=LEARNED_SCHEMA),
        )

    @classmethod
    def from_tables(
        cls,
        config: PipelineConfig,
        tables: DecisionTables,
        *,
        learned: dict[str, frozenset[int]] | None = None,
        representatives: frozenset[str] | None = None,
    ) -> Decisions:
        """The decisions of a global step that produced ``tables``. ``learned`` and
        ``representatives`` replace what the tables say, for a caller that holds only the
        part of the tables about some documents (pass 2 decides a batch at a time)."""
        duplicates: dict[str, str] = {}
        near_duplicates: dict[str, tuple[str, float]] = {}
        near_clusters: dict[str, str] = {}
        for row in tables.documents.to_pylist():
            if row["reason"] == Reason.EXACT_DUPLICATE.value:
                duplicates[row["doc_id"]] = row["duplicate_of"]
            elif row["reason"] == Reason.NEAR_DUPLICATE.value:
                near_duplicates[row["doc_id"]] = (row["duplicate_of"], row["similarity"])
            if row["near_dup_cluster"] is not None:
                near_clusters[row["doc_id"]] = row["near_dup_cluster"]
        passages: dict[str, list[tuple[int, str, float, bool]]] = {}
        for row in tables.passages.to_pylist():
            passages.setdefault(row["doc_id"], []).append(
                (row["paragraph_index"], row["cluster_id"], row["similarity"], row["representative"])
            )
        if learned is None:
            learned = learned_sets(tables.learned)
        if representatives is None:
            representatives = frozenset(duplicates.values()) | frozenset(n[0] for n in near_duplicates.values())
        return cls(
            config=config,
            duplicates=duplicates,
            near_duplicates=near_duplicates,
            near_clusters=near_clusters,
            passages=passages,
            learned=learned,
            representatives=representatives,
        )

    @property
    def learned_line_count(self) -> int:
        return sum(len(keys) for keys in self.learned.values())

    def decide(self, row: dict[str, Any]) -> Decision:
        """The outcome for a document row of pass 1."""
        doc_id = row["doc_id"]
        representative = self.duplicates.get(doc_id)
        if representative is not None:
            return Decision(
                None,
                rejected_row(
                    row,
                    "dedup",
                    Reason.EXACT_DUPLICATE,
                    f"same normalized text as {representative}",
                    duplicate_of=representative,
                    similarity=1.0,
                ),
                [],
            )
        near = self.near_duplicates.get(doc_id)
        if near is not None:
            return Decision(
                None,
                rejected_row(
                    row,
                    "dedup",
                    Reason.NEAR_DUPLICATE,
                    f"near-duplicate of {near[0]} (estimated Jaccard similarity {near[1]:.2f})",
                    duplicate_of=near[0],
                    similarity=near[1],
                ),
                [],
            )
        if doc_id in self.near_clusters:
            row = {**row, "near_dup_cluster": self.near_clusters[doc_id]}
        text = row["text"]
        removed: list[Removal] = []
        passage_rows: list[dict[str, Any]] = []
        repeated = self.passages.get(doc_id)
        if repeated:
            paragraphs = split_paragraphs(text)
            for index, cluster_id, similarity, _ in repeated:
                passage_rows.append(
                    {
                        "cluster_id": cluster_id,
                        "doc_id": doc_id,
                        "paragraph_index": index,
                        "text": paragraphs[index],
                        "similarity": similarity,
                    }
                )
            if self.config.dedup.remove_repeated_passages:
                text, removed = _remove_paragraphs(text, {index for index, _, _, first in repeated if not first})
        keys = self.learned.get(row["source"])
        if keys:
            text, learned = remove_learned_lines(text, keys, self.config.boilerplate.learn_max_chars)
            removed.extend(learned)
        if not removed:
            return Decision(row, None, passage_rows)
        share = removed_share(row["text"], text)
        if text.strip() and share <= self.config.boilerplate.max_removed_share:
            return Decision(_with_text(row, text, removed), None, passage_rows)
        # A representative is kept unchanged rather than rejected: its duplicates' duplicate_of
        # must name a kept document.
        if self.config.boilerplate.on_excess == "keep" or doc_id in self.representatives:
            fixes = row["fixes"] if LIMIT_FIX in row["fixes"] else [*row["fixes"], LIMIT_FIX]
            return Decision({**row, "fixes": fixes}, None, passage_rows)
        detail = f"repeated lines and passages would take {share:.0%} of the text ({len(removed)} removals)"
        return Decision(None, rejected_row(row, "boilerplate", Reason.BOILERPLATE_ONLY, detail), [])


def learned_sets(learned: pa.Table) -> dict[str, frozenset[int]]:
    """A learned-lines table (:data:`LEARNED_SCHEMA`) as the line keys of each source."""
    found: dict[str, set[int]] = {}
    for source, key in zip(learned["source"].to_pylist(), learned["key"].to_pylist(), strict=True):
        found.setdefault(source, set()).add(key)
    return {source: frozenset(keys) for source, keys in found.items()}


def resolve_representatives(tables: DecisionTables) -> DecisionTables:
    """Make every ``duplicate_of`` name a kept document, whichever engine made ``tables``.

    Exact duplicates are found first and their representative X is the earliest of its group;
    X then takes part in near-duplicate clustering and may lose to an earlier document Z. Its
    copies are then near-duplicates of Z with X's similarity (their text is X's): they are
    rewritten so. Works on the decision rows only (documents the global step names).
    """
    documents = tables.documents
    near = documents.filter(pc.equal(documents["reason"], Reason.NEAR_DUPLICATE.value))
    if near.num_rows == 0:
        return tables
    position = pc.index_in(documents["duplicate_of"], value_set=near["doc_id"].combine_chunks())
    chained = pc.and_(pc.equal(documents["reason"], Reason.EXACT_DUPLICATE.value), pc.is_valid(position))
    chained = pc.fill_null(chained, False)
    if not pc.any(chained).as_py():
        return tables

    def moved(column: str) -> pa.Array:
        return pc.if_else(chained, pc.take(near[column], position), documents[column])

    resolved = documents.set_column(
        documents.schema.get_field_index("reason"),
        "reason",
        pc.if_else(chained, pa.scalar(Reason.NEAR_DUPLICATE.value), documents["reason"]),
    )
    for column in ("duplicate_of", "similarity"):
        resolved = resolved.set_column(resolved.schema.get_field_index(column), column, moved(column))
    return DecisionTables(resolved.cast(DOCUMENT_DECISION_SCHEMA), tables.passages, tables.learned)


def _remove_paragraphs(text: str, indexes: set[int]) -> tuple[str, list[Removal]]:
    """Remove paragraphs (non-empty lines, as :func:`split_paragraphs` counts them)."""
    kept: list[str] = []
    removed: list[Removal] = []
    index = -1
    for number, line in enumerate(text.split("\n"), start=1):
        if line.strip():
            index += 1
            if index in indexes:
                removed.append(Removal(PASSAGE_RULE, line.strip(), number))
                continue
        kept.append(line)
    return normalize_whitespace("\n".join(kept))[0], removed


def _with_text(row: dict[str, Any], text: str, removed: list[Removal]) -> dict[str, Any]:
    return {
        **row,
        "text": text,
        "removed": [*row["removed"], *({"rule": r.rule, "text": r.text, "line": r.line} for r in removed)],
        "char_count": len(text),
        "word_count": len(text.split()),
        "content_hash": content_hash(text) if row["content_hash"] is not None else None,
    }


#: Document columns a rejected row does not have (passthrough columns are kept).
_DOCUMENT_ONLY = frozenset(DOCUMENT_SCHEMA.names) - frozenset(REJECTED_SCHEMA.names)


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


def _without(table: pa.Table, doc_ids: set[str]) -> pa.Table:
    if not doc_ids or table.num_rows == 0:
        return table
    excluded = pa.array(sorted(doc_ids), type=pa.string())
    return table.filter(pc.invert(pc.is_in(table["doc_id"], value_set=excluded)))


def make_decisions(
    config: PipelineConfig,
    keys: pa.Table,
    lines: pa.Table | None = None,
    signatures: pa.Table | None = None,
    passages: pa.Table | None = None,
) -> Decisions:
    """The global step over the side tables of pass 1: ``keys`` (:data:`DOCUMENT_KEY_SCHEMA`,
    every kept document), ``lines`` (:data:`LINE_SCHEMA`), and the MinHash ``signatures`` and
    ``passages`` tables of :mod:`corpusclean.stages.dedup`. Exact duplicates first; near
    duplicates among the rest; passages and learned lines among the documents left, so that
    duplicates are never evidence for each other."""
    dedup = config.dedup
    duplicates: dict[str, str] = {}
    if dedup.enabled and dedup.exact:
        duplicates = find_exact_duplicates(keys.select(["doc_id", "content_hash", "published_at"]))
    survivors = _without(keys, set(duplicates))
    near_duplicates: dict[str, tuple[str, float]] = {}
    near_clusters: dict[str, str] = {}
    if dedup.enabled and dedup.near and signatures is not None:
        near_duplicates, near_clusters = find_near_duplicates(
            _without(signatures, set(duplicates)), survivors.select(["doc_id", "published_at"]), dedup.minhash_params()
        )
        survivors = _without(survivors, set(near_duplicates))
    rejected = set(duplicates) | set(near_duplicates)
    repeated: dict[str, list[tuple[int, str, float, bool]]] = {}
    if dedup.enabled and dedup.passages and passages is not None:
        repeated = find_passage_clusters(
            _without(passages, rejected),
            survivors.select(["doc_id", "published_at"]),
            dedup.minhash_params(passages=True),
        )
    learned: dict[str, frozenset[int]] = {}
    if lines is not None and lines.num_rows and config.boilerplate.enabled and config.boilerplate.learn:
        per_source = survivors.group_by("source").aggregate([([], "count_all")])
        documents_per_source = dict(
            zip(per_source["source"].to_pylist(), per_source["count_all"].to_pylist(), strict=True)
        )
        learned = learn_repeated_lines(
            _without(lines, rejected).select(["source", "key"]), documents_per_source, config.boilerplate
        )
    return Decisions(
        config=config,
        duplicates=duplicates,
        near_duplicates=near_duplicates,
        near_clusters=near_clusters,
        passages=repeated,
        learned=learned,
        representatives=frozenset(duplicates.values()) | frozenset(near[0] for near in near_duplicates.values()),
    )


def global_step(config: PipelineConfig, shards: Sequence[Path]) -> Decisions:
    """The local engine's global step over the side tables of the pass-1 shards ``shards``
    (path stems ``…/task-NNNNNN``): the key columns of ``.documents.parquet``, and
    ``.lines``, ``.minhash`` and ``.passages.parquet``."""

    def side(suffix: str, columns: list[str] | None = None) -> pa.Table | None:
        tables = [pq.read_table(f"{shard}.{suffix}.parquet", columns=columns) for shard in shards]
        return pa.concat_tables(tables) if tables else None

    keys = side("documents", DOCUMENT_KEY_SCHEMA.names)
    return make_decisions(
        config,
        keys if keys is not None else DOCUMENT_KEY_SCHEMA.empty_table(),
        lines=side("lines"),
        signatures=side("minhash"),
        passages=side("passages"),
    )
