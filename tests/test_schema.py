"""The declared schemas: schemas/*.json and the Arrow schemas in code never drift."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pyarrow as pa

from corpusclean import schema
from corpusclean.schema import DOCUMENT_COLUMNS, DOCUMENT_SCHEMA, REJECTED_SCHEMA, validate_row
from tests.conftest import ROOT


def test_schema_files_match_the_code():
    for name, generated in schema.all_json_schemas().items():
        on_disk = (ROOT / "schemas" / name).read_text(encoding="utf-8")
        assert on_disk == schema.render_json(generated), (
            f"schemas/{name} drifted from corpusclean.schema: run `python -m corpusclean.schema schemas` "
            "and review the diff"
        )


def test_json_schema_describes_the_arrow_schema():
    for file_name, arrow in (("document.schema.json", DOCUMENT_SCHEMA), ("rejected.schema.json", REJECTED_SCHEMA)):
        declared = json.loads((ROOT / "schemas" / file_name).read_text(encoding="utf-8"))
        assert list(declared["properties"]) == arrow.names
        for field in arrow:
            prop = declared["properties"][field.name]
            assert prop["x-arrow-type"] == str(field.type)
            assert ("null" in prop["type"]) == field.nullable, field.name


def test_design_columns_present():
    required = {
        "doc_id",
        "source",
        "source_format",
        "source_id",
        "url",
        "title",
        "author",
        "site_name",
        "published_at",
        "modified_at",
        "categories",
        "tags",
        "language",
        "language_score",
        "text",
        "source_encoding",
        "fixes",
        "removed",
        "content_hash",
        "near_dup_cluster",
        "char_count",
        "word_count",
    }
    assert required <= set(DOCUMENT_SCHEMA.names)
    assert DOCUMENT_SCHEMA.field("published_at").type == pa.timestamp("us", tz="UTC")
    assert {
        "doc_id",
        "source",
        "source_id",
        "stage",
        "reason",
        "detail",
        "duplicate_of",
        "similarity",
        "text",
        "source_format",
        "title",
        "url",
    } <= set(REJECTED_SCHEMA.names)


def test_versions_in_metadata():
    meta = DOCUMENT_SCHEMA.metadata
    assert meta[b"corpusclean.schema_version"] == schema.SCHEMA_VERSION.encode()
    assert meta[b"corpusclean.version"]


def _valid_row():
    return {
        "doc_id": "0" * 32,
        "source": ".",
        "source_format": "text",
        "source_id": "a.txt",
        "url": None,
        "title": None,
        "author": None,
        "site_name": None,
        "published_at": datetime(2024, 1, 1, tzinfo=timezone.utc),
        "modified_at": None,
        "categories": [],
        "tags": [],
        "language": "en",
        "language_score": 0.9,
        "text": "Hello world",
        "source_encoding": "utf-8",
        "fixes": [],
        "removed": [],
        "content_hash": None,
        "near_dup_cluster": None,
        "char_count": 11,
        "word_count": 2,
    }


def test_validate_row_accepts_a_valid_row_and_names_each_problem():
    assert validate_row(_valid_row(), DOCUMENT_COLUMNS) == []
    bad = _valid_row() | {
        "doc_id": "XYZ",
        "language": "english",
        "text": "",
        "char_count": 0,
        "published_at": datetime(2024, 1, 1),
        "language_score": 1.5,
        "tags": [1],
    }
    problems = "\n".join(validate_row(bad, DOCUMENT_COLUMNS))
    for column in ("doc_id", "language", "text", "char_count", "published_at", "language_score", "tags"):
        assert column in problems
    assert "source" in "\n".join(validate_row(_valid_row() | {"source": None}, DOCUMENT_COLUMNS))
    assert "surrogate" in "\n".join(validate_row(_valid_row() | {"text": "a\ud800b"}, DOCUMENT_COLUMNS))
