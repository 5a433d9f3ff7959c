"""The declared output schemas: one source of truth for Arrow, JSON Schema and validation.

Columns are declared once, here, as :class:`Column` values. From them come the Arrow schemas the
writer uses, the JSON Schema files in ``schemas/`` that analysts read (``python -m
corpusclean.schema schemas/`` regenerates them; a test fails when they drift), and the per-row
checks that every record passes before it is written.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pyarrow as pa

from corpusclean.records import Reason

__all__ = [
    "DOCUMENT_COLUMNS",
    "DOCUMENT_SCHEMA",
    "MANIFEST_JSON_SCHEMA",
    "REJECTED_COLUMNS",
    "REJECTED_SCHEMA",
    "SCHEMA_VERSION",
    "Column",
    "arrow_schema",
    "json_schema",
    "validate_row",
    "write_json_schemas",
]

#: Bumped whenever a column is added, removed or changes meaning.
SCHEMA_VERSION = "1.2.0"
#: The file a complete run writes last: a dataset directory without it is an incomplete run.
MANIFEST_FILE = "manifest.json"

_STRING_LIST = pa.list_(pa.string())
_REMOVAL = pa.struct(
    [
        pa.field("rule", pa.string(), nullable=False),
        pa.field("text", pa.string(), nullable=False),
        pa.field("line", pa.int32(), nullable=False),
    ]
)
_TIMESTAMP = pa.timestamp("us", tz="UTC")


@dataclass(frozen=True)
class Column:
    """One declared column: its Arrow type, nullability, meaning and value constraints."""

    name: str
    type: pa.DataType
    nullable: bool
    description: str
    pattern: str | None = None
    minimum: float | None = None
    maximum: float | None = None
    enum: tuple[str, ...] | None = None
    min_length: int | None = None


DOCUMENT_COLUMNS: tuple[Column, ...] = (
    Column(
        "doc_id",
        pa.string(),
        False,
        "Stable id: hash of the format, the file's path relative to its INPUT and the record's "
        "locator in the file. Never depends on absolute paths or on order.",
        pattern=r"^[0-9a-f]{32}$",
    ),
    Column(
        "source",
        pa.string(),
        False,
        "Site host for web inputs (WordPress link, page URL), else the file's parent directory "
        "relative to its INPUT ('.' at the top).",
    ),
    Column(
        "source_format",
        pa.string(),
        False,
        "Reader that produced the record: text, html, wordpress_rest, jsonl, parquet, table.",
    ),
    Column(
        "source_id",
        pa.string(),
        False,
        "Path relative to INPUT (one document per file; the path as given for a file named "
        "directly), the WordPress post id, the JSONL id field or path:line.",
    ),
    Column("url", pa.string(), True, "Canonical URL when known."),
    Column("title", pa.string(), True, "Title, tags stripped, entities decoded, whitespace collapsed."),
    Column("author", pa.string(), True, "Author display name, else login, else id as a string."),
    Column("site_name", pa.string(), True, "Name of the site, when the page or export states it."),
    Column("published_at", _TIMESTAMP, True, "Publication time in UTC (never a file time)."),
    Column("modified_at", _TIMESTAMP, True, "Last modification time in UTC (never a file time)."),
    Column("categories", _STRING_LIST, False, "Category names, else ids as strings."),
    Column("tags", _STRING_LIST, False, "Tag names, else ids as strings."),
    Column(
        "language",
        pa.string(),
        True,
        "ISO 639-1 code, lower case; 'und' when undetermined; null when the stage is off.",
        pattern=r"^([a-z]{2}|und)$",
    ),
    Column("language_score", pa.float64(), True, "langdetect's probability of the language.", minimum=0.0, maximum=1.0),
    Column("text", pa.string(), False, "The cleaned text; paragraphs separated by one blank line.", min_length=1),
    Column(
        "source_encoding",
        pa.string(),
        True,
        "Encoding the bytes were decoded with (null for inputs that were already text).",
    ),
    Column("fixes", _STRING_LIST, False, "Names of the repairs applied (see the README)."),
    Column(
        "removed",
        pa.list_(_REMOVAL),
        False,
        "Every line or fragment removed as boilerplate: rule id, text, 1-based line number in the text before removal.",
    ),
    Column(
        "content_hash",
        pa.string(),
        True,
        "Hash of the normalized text (case, whitespace and punctuation folded); null when dedup is off.",
        pattern=r"^[0-9a-f]{32}$",
    ),
    Column(
        "near_dup_cluster",
        pa.string(),
        True,
        "doc_id of the near-duplicate cluster's kept representative; null when the document has no near-duplicate.",
    ),
    Column("char_count", pa.int64(), False, "Characters in text.", minimum=1),
    Column("word_count", pa.int64(), False, "Whitespace-separated words in text.", minimum=0),
)

REJECTED_COLUMNS: tuple[Column, ...] = (
    Column("doc_id", pa.string(), False, "As in documents/.", pattern=r"^[0-9a-f]{32}$"),
    Column("source", pa.string(), False, "As in documents/."),
    Column("source_format", pa.string(), False, "As in documents/."),
    Column("source_id", pa.string(), False, "As in documents/; the file's path for an unreadable file."),
    Column("url", pa.string(), True, "Where known."),
    Column("title", pa.string(), True, "Where known."),
    Column(
        "stage",
        pa.string(),
        False,
        "Stage that rejected the record.",
        enum=("read", "decode", "extract", "boilerplate", "filter", "language", "dedup", "write"),
    ),
    Column("reason", pa.string(), False, "Why; one of a closed set.", enum=tuple(r.value for r in Reason)),
    Column("detail", pa.string(), False, "Human-readable detail (parser error, language found …)."),
    Column("duplicate_of", pa.string(), True, "doc_id of the kept document this one duplicates."),
    Column("similarity", pa.float64(), True, "Similarity to duplicate_of (1.0 for exact).", minimum=0.0, maximum=1.0),
    Column("text", pa.string(), True, "The record's text at the point of rejection."),
)


PASSAGE_COLUMNS: tuple[Column, ...] = (
    Column(
        "cluster_id",
        pa.string(),
        False,
        "The cluster: '<doc_id>:<paragraph_index>' of its representative passage (the one of the "
        "earliest, then smallest, document).",
    ),
    Column("doc_id", pa.string(), False, "A kept document holding the passage.", pattern=r"^[0-9a-f]{32}$"),
    Column(
        "paragraph_index",
        pa.int32(),
        False,
        "Index of the paragraph (non-empty line) in the document's text, counted from 0.",
        minimum=0,
    ),
    Column("text", pa.string(), False, "The paragraph.", min_length=1),
    Column(
        "similarity",
        pa.float64(),
        False,
        "Estimated Jaccard similarity to the cluster's representative passage (1.0 for it).",
        minimum=0.0,
        maximum=1.0,
    ),
)


def arrow_schema(columns: Sequence[Column], kind: str) -> pa.Schema:
    """The Arrow schema of ``columns``, with the versions in its key-value metadata."""
    from corpusclean import __version__

    return pa.schema(
        [pa.field(c.name, c.type, nullable=c.nullable) for c in columns],
        metadata={
            "corpusclean.version": __version__,
            "corpusclean.schema": kind,
            "corpusclean.schema_version": SCHEMA_VERSION,
        },
    )


DOCUMENT_SCHEMA = arrow_schema(DOCUMENT_COLUMNS, "document")
REJECTED_SCHEMA = arrow_schema(REJECTED_COLUMNS, "rejected")
PASSAGE_SCHEMA = arrow_schema(PASSAGE_COLUMNS, "passage")


def _json_type(data_type: pa.DataType) -> dict[str, Any]:
    if pa.types.is_string(data_type):
        return {"type": "string"}
    if pa.types.is_int64(data_type) or pa.types.is_int32(data_type):
        return {"type": "integer"}
    if pa.types.is_floating(data_type):
        return {"type": "number"}
    if pa.types.is_timestamp(data_type):
        return {"type": "string", "format": "date-time"}
    if pa.types.is_list(data_type):
        return {"type": "array", "items": _json_type(data_type.value_type)}
    if pa.types.is_struct(data_type):
        return {
            "type": "object",
            "properties": {f.name: _json_type(f.type) for f in data_type},
            "required": [f.name for f in data_type if not f.nullable],
            "additionalProperties": False,
        }
    raise TypeError(f"no JSON type for {data_type}")  # pragma: no cover


def json_schema(columns: Sequence[Column], kind: str, title: str) -> dict[str, Any]:
    """A JSON Schema (draft 2020-12) describing one row, generated from ``columns``."""
    properties: dict[str, Any] = {}
    for column in columns:
        prop = _json_type(column.type)
        if column.nullable:
            prop["type"] = [prop["type"], "null"]
        for key, value in (
            ("pattern", column.pattern),
            ("minimum", column.minimum),
            ("maximum", column.maximum),
            ("minLength", column.min_length),
        ):
            if value is not None:
                prop[key] = value
        if column.enum is not None:
            prop["enum"] = list(column.enum) + ([None] if column.nullable else [])
        prop["description"] = column.description
        prop["x-arrow-type"] = str(column.type)
        properties[column.name] = prop
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"corpusclean/{kind}.schema.json",
        "title": title,
        "x-schema-version": SCHEMA_VERSION,
        "type": "object",
        "properties": properties,
        "required": [c.name for c in columns],
        "additionalProperties": True,
    }


def validate_row(row: dict[str, Any], columns: Sequence[Column]) -> list[str]:
    """Problems of ``row`` against ``columns`` (empty when valid). Types, nulls and constraints."""
    problems: list[str] = []
    for column in columns:
        value = row.get(column.name)
        if value is None:
            if not column.nullable:
                problems.append(f"{column.name}: null in a non-nullable column")
            continue
        type_problem = _type_problem(column.type, value)
        if type_problem:
            problems.append(f"{column.name}: {type_problem}")
            continue
        if column.pattern is not None and not re.fullmatch(column.pattern, value):
            problems.append(f"{column.name}: {value!r} does not match {column.pattern}")
        if column.minimum is not None and value < column.minimum:
            problems.append(f"{column.name}: {value!r} is below {column.minimum}")
        if column.maximum is not None and value > column.maximum:
            problems.append(f"{column.name}: {value!r} is above {column.maximum}")
        if column.enum is not None and value not in column.enum:
            problems.append(f"{column.name}: {value!r} is not one of {', '.join(column.enum)}")
        if column.min_length is not None and len(value) < column.min_length:
            problems.append(f"{column.name}: shorter than {column.min_length}")
    return problems


def _type_problem(data_type: pa.DataType, value: Any) -> str | None:
    if pa.types.is_string(data_type):
        if not isinstance(value, str):
            return f"expected a string, got {type(value).__name__}"
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return "contains unpaired surrogates (not valid UTF-8)"
        return None
    if pa.types.is_integer(data_type):
        ok = isinstance(value, int) and not isinstance(value, bool)
        return None if ok else f"expected an integer, got {type(value).__name__}"
    if pa.types.is_floating(data_type):
        ok = isinstance(value, (int, float)) and not isinstance(value, bool) and value == value
        return None if ok else f"expected a finite number, got {value!r}"
    if pa.types.is_timestamp(data_type):
        if not isinstance(value, datetime) or value.tzinfo is None:
            return "expected a timezone-aware datetime"
        return None
    if pa.types.is_list(data_type):
        if not isinstance(value, (list, tuple)):
            return f"expected a list, got {type(value).__name__}"
        for item in value:
            problem = _type_problem(data_type.value_type, item)
            if problem:
                return f"item: {problem}"
        return None
    if pa.types.is_struct(data_type):
        if not isinstance(value, dict):
            return f"expected a struct, got {type(value).__name__}"
        for struct_field in data_type:
            item = value.get(struct_field.name)
            if item is None:
                if not struct_field.nullable:
                    return f"{struct_field.name} is null"
                continue
            problem = _type_problem(struct_field.type, item)
            if problem:
                return f"{struct_field.name}: {problem}"
        return None
    return f"unsupported type {data_type}"  # pragma: no cover


_COUNTS = {
    "type": "object",
    "required": ["records_in", "kept", "rejected", "by_reason", "by_stage"],
    "properties": {
        "records_in": {"type": "integer", "minimum": 0},
        "kept": {"type": "integer", "minimum": 0},
        "rejected": {"type": "integer", "minimum": 0},
        "by_reason": {
            "type": "object",
            "propertyNames": {"enum": [r.value for r in Reason]},
            "additionalProperties": {"type": "integer", "minimum": 1},
        },
        "by_stage": {"type": "object", "additionalProperties": {"type": "integer", "minimum": 1}},
    },
}

MANIFEST_JSON_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "corpusclean/manifest.schema.json",
    "title": "corpusclean run manifest (OUT/manifest.json), written last: its presence marks a complete run",
    "x-schema-version": SCHEMA_VERSION,
    "type": "object",
    "required": [
        "corpusclean_version",
        "schema_versions",
        "config",
        "inputs",
        "counts",
        "outputs",
        "timings",
    ],
    "properties": {
        "corpusclean_version": {"type": "string"},
        "schema_versions": {
            "type": "object",
            "required": ["document", "rejected", "passage", "manifest"],
            "additionalProperties": {"type": "string"},
        },
        "config": {"type": "object", "description": "The whole PipelineConfig, defaults included."},
        "inputs": {
            "type": "array",
            "description": "One entry per input file.",
            "items": {
                "type": "object",
                "required": ["path", "bytes", "sha256", "format", "records", "error"],
                "properties": {
                    "path": {"type": "string", "description": "Relative to its INPUT."},
                    "input": {"type": "string", "description": "The INPUT argument it came from."},
                    "bytes": {"type": ["integer", "null"], "minimum": 0},
                    "sha256": {"type": ["string", "null"], "pattern": "^[0-9a-f]{64}$"},
                    "format": {"type": ["string", "null"]},
                    "records": {"type": "integer", "minimum": 0},
                    "error": {"type": ["string", "null"]},
                },
            },
        },
        "counts": _COUNTS,
        "outputs": {
            "type": "object",
            "required": ["documents", "rejected"],
            "additionalProperties": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["path", "rows", "sha256"],
                    "properties": {
                        "path": {"type": "string"},
                        "rows": {"type": "integer", "minimum": 0},
                        "sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
                    },
                },
            },
        },
        "timings": {
            "type": "object",
            "description": "Seconds per phase and per stage; never in the Parquet files.",
        },
    },
}


def all_json_schemas() -> dict[str, dict[str, Any]]:
    """File name → JSON Schema, for every schema in ``schemas/``."""
    return {
        "document.schema.json": json_schema(DOCUMENT_COLUMNS, "document", "corpusclean document row"),
        "rejected.schema.json": json_schema(REJECTED_COLUMNS, "rejected", "corpusclean rejected row"),
        "passage.schema.json": json_schema(PASSAGE_COLUMNS, "passage", "corpusclean near-duplicate passage row"),
        "manifest.schema.json": MANIFEST_JSON_SCHEMA,
    }


def render_json(schema: dict[str, Any]) -> str:
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"


def write_json_schemas(directory: str | Path) -> list[Path]:
    """Write every JSON Schema into ``directory`` (the repository's ``schemas/``)."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, schema in all_json_schemas().items():
        path = directory / name
        path.write_text(render_json(schema), encoding="utf-8")
        written.append(path)
    return written


if __name__ == "__main__":  # pragma: no cover - maintenance entry point
    for written_path in write_json_schemas(sys.argv[1] if len(sys.argv) > 1 else "schemas"):
        print(written_path)
