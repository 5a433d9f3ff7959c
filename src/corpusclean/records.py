"""The values that flow between stages: records in progress, rejections, and their reasons.

A :class:`Record` is immutable; a stage returns a changed copy (``dataclasses.replace``), so
stages stay pure functions of their input batch and any engine can run them anywhere.
"""

from __future__ import annotations

import dataclasses
import enum
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

__all__ = [
    "Document",
    "Reason",
    "Record",
    "Rejected",
    "Removal",
    "Stage",
    "StageResult",
    "map_records",
]

logger = logging.getLogger(__name__)


class Reason(str, enum.Enum):
    """Why a record was not kept. A closed set, documented in ``schemas/rejected.schema.json``."""

    #: The file could not be opened, decompressed or parsed at all.
    UNREADABLE = "unreadable"
    #: A file or document is larger than its limit (``read.max_record_bytes``,
    #: ``read.max_document_bytes``, ``extract.max_markup_bytes``).
    TOO_LARGE = "too_large"
    #: HTML nested deeper or with more elements than ``extract.max_nesting_depth`` /
    #: ``extract.max_elements`` (a tag bomb).
    TOO_COMPLEX = "too_complex"
    #: Extraction took longer than ``extract.timeout_seconds``.
    TIMEOUT = "timeout"
    #: The bytes could not be decoded to text in any encoding.
    DECODE_FAILED = "decode_failed"
    #: A WordPress item that is not published (draft, private, pending, future, trash …).
    NOT_PUBLISHED = "not_published"
    #: Input that is not a document: a WordPress revision, attachment, menu item, a REST
    #: dump of terms or users, an API error body.
    NOT_CONTENT = "not_content"
    #: Extraction left no text.
    EXTRACT_EMPTY = "extract_empty"
    #: Boilerplate removal would take more than ``boilerplate.max_removed_share`` of the text.
    BOILERPLATE_ONLY = "boilerplate_only"
    #: Fewer words than ``output.min_words``.
    TOO_SHORT = "too_short"
    #: The language is not in ``language.languages``.
    LANGUAGE_FILTERED = "language_filtered"
    #: The same normalized text as a kept document (``duplicate_of``).
    EXACT_DUPLICATE = "exact_duplicate"
    #: A near-duplicate of a kept document (``duplicate_of``, ``similarity``: MinHash estimate).
    NEAR_DUPLICATE = "near_duplicate"
    #: The record does not satisfy the declared output schema.
    SCHEMA_INVALID = "schema_invalid"
    #: A stage raised an exception on this record (``detail`` has its type and message).
    STAGE_ERROR = "stage_error"


class _Current(enum.Enum):
    TEXT = "current text"


#: Default of :meth:`Record.reject`'s ``text``: the record's text (or markup, or bytes) as it is.
CURRENT_TEXT = _Current.TEXT


@dataclass(frozen=True)
class Removal:
    """One piece of text a stage removed: which rule, what text, on which line (1-based)."""

    rule: str
    text: str
    line: int


@dataclass(frozen=True)
class Record:
    """A document in progress. Fields named as in the document schema keep that meaning."""

    doc_id: str
    source: str
    source_format: str
    source_id: str
    #: Undecoded bytes, set by readers of byte formats; cleared by the decode stage.
    raw: bytes | None = None
    #: Decoded content that still needs extraction (HTML page or fragment).
    markup: str | None = None
    #: ``"page"`` for a whole HTML document, ``"fragment"`` for e.g. WordPress content.
    markup_kind: str | None = None
    #: A charset declared outside the bytes (HTTP header, XML prolog of a container).
    declared_charset: str | None = None
    text: str | None = None
    url: str | None = None
    title: str | None = None
    author: str | None = None
    site_name: str | None = None
    published_at: datetime | None = None
    modified_at: datetime | None = None
    categories: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    language: str | None = None
    language_score: float | None = None
    source_encoding: str | None = None
    fixes: tuple[str, ...] = ()
    removed: tuple[Removal, ...] = ()
    content_hash: str | None = None
    near_dup_cluster: str | None = None
    #: Columns of a ``clean_table`` input that are not document columns, passed through.
    extra: tuple[tuple[str, Any], ...] = ()

    def with_fixes(self, names: Iterable[str]) -> tuple[str, ...]:
        """This record's fixes plus ``names``, each listed once, in order of first use."""
        out = list(self.fixes)
        for name in names:
            if name not in out:
                out.append(name)
        return tuple(out)

    def reject(
        self,
        stage: str,
        reason: Reason,
        detail: str = "",
        *,
        duplicate_of: str | None = None,
        similarity: float | None = None,
        text: str | _Current | None = CURRENT_TEXT,
    ) -> Rejected:
        """The rejection of this record, carrying its text at this point (``text=None``: none,
        e.g. for binary data that is not text at all)."""
        if isinstance(text, _Current):
            text = self.text if self.text is not None else self.markup
            if text is None and self.raw is not None:
                text = self.raw.decode("utf-8", errors="replace")
        return Rejected(
            doc_id=self.doc_id,
            source=self.source,
            source_format=self.source_format,
            source_id=self.source_id,
            url=self.url,
            title=self.title,
            stage=stage,
            reason=reason,
            detail=detail,
            duplicate_of=duplicate_of,
            similarity=similarity,
            text=text,
            extra=self.extra,
        )


@dataclass(frozen=True)
class Rejected:
    """A record that is not kept, with the stage and reason, and its text at that point."""

    doc_id: str
    source: str
    source_format: str
    source_id: str
    stage: str
    reason: Reason
    detail: str = ""
    url: str | None = None
    title: str | None = None
    duplicate_of: str | None = None
    similarity: float | None = None
    text: str | None = None
    extra: tuple[tuple[str, Any], ...] = ()

    def to_row(self) -> dict[str, Any]:
        """The row written to ``rejected/``."""
        row = {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name != "extra"}
        row["reason"] = self.reason.value
        row.update(self.extra)
        return row


@dataclass(frozen=True)
class Document:
    """A kept document, as written to ``documents/`` (see ``schemas/document.schema.json``)."""

    doc_id: str
    source: str
    source_format: str
    source_id: str
    url: str | None
    title: str | None
    author: str | None
    site_name: str | None
    published_at: datetime | None
    modified_at: datetime | None
    categories: tuple[str, ...]
    tags: tuple[str, ...]
    language: str | None
    language_score: float | None
    text: str
    source_encoding: str | None
    fixes: tuple[str, ...]
    removed: tuple[Removal, ...]
    content_hash: str | None
    near_dup_cluster: str | None
    char_count: int
    word_count: int
    extra: tuple[tuple[str, Any], ...] = field(default=(), compare=False)

    @classmethod
    def from_record(cls, record: Record) -> Document:
        text = record.text or ""
        return cls(
            doc_id=record.doc_id,
            source=record.source,
            source_format=record.source_format,
            source_id=record.source_id,
            url=record.url,
            title=record.title,
            author=record.author,
            site_name=record.site_name,
            published_at=record.published_at,
            modified_at=record.modified_at,
            categories=record.categories,
            tags=record.tags,
            language=record.language,
            language_score=record.language_score,
            text=text,
            source_encoding=record.source_encoding,
            fixes=record.fixes,
            removed=record.removed,
            content_hash=record.content_hash,
            near_dup_cluster=record.near_dup_cluster,
            char_count=len(text),
            word_count=len(text.split()),
            extra=record.extra,
        )

    def to_row(self) -> dict[str, Any]:
        """The row written to ``documents/``."""
        row = {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name != "extra"}
        row["categories"] = list(self.categories)
        row["tags"] = list(self.tags)
        row["fixes"] = list(self.fixes)
        row["removed"] = [dataclasses.asdict(r) for r in self.removed]
        row.update(self.extra)
        return row


@dataclass
class StageResult:
    """What a stage returns for a batch: the records that go on, and the rejections."""

    records: list[Record] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)


class Stage(Protocol):
    """A pipeline stage: built from its config section, maps a batch to a :class:`StageResult`."""

    name: str

    def __call__(self, batch: Sequence[Record]) -> StageResult: ...


def map_records(
    stage_name: str,
    batch: Sequence[Record],
    process: Callable[[Record], Record | Rejected],
) -> StageResult:
    """Apply ``process`` to each record; an exception becomes a ``stage_error`` rejection.

    This is the one place where per-record failures are caught, so that one bad record can
    never stop a batch, and the failure is recorded with its exception type and message.
    """
    result = StageResult()
    for record in batch:
        try:
            out = process(record)
        except Exception as exc:
            logger.debug("stage %s failed on %s", stage_name, record.doc_id, exc_info=True)
            detail = f"{type(exc).__name__}: {exc}"[:2000]
            result.rejected.append(record.reject(stage_name, Reason.STAGE_ERROR, detail))
            continue
        if isinstance(out, Rejected):
            result.rejected.append(out)
        else:
            result.records.append(out)
    return result
