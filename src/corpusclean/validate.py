"""``corpusclean validate OUT``: is this directory a complete, consistent corpusclean dataset?

Checks the manifest against its JSON Schema, every part file against its checksum, row count
and the declared Arrow schema, every row against the column constraints, and that the rows
add up: ``records_in == kept + rejected``, the counts per reason and stage, unique ``doc_id``s,
and ``duplicate_of`` pointing at a kept document. Partitioned outputs
(``documents/language=en/part-00000.parquet``) are checked the same way, part by part, with the
rows of each part holding the value of its partition directory.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import jsonschema
import pyarrow as pa
import pyarrow.parquet as pq

from corpusclean.errors import InputError
from corpusclean.schema import (
    DOCUMENT_COLUMNS,
    DOCUMENT_SCHEMA,
    MANIFEST_FILE,
    MANIFEST_JSON_SCHEMA,
    PASSAGE_COLUMNS,
    PASSAGE_SCHEMA,
    REJECTED_COLUMNS,
    REJECTED_SCHEMA,
    Column,
    validate_row,
)
from corpusclean.sinks.parquet import HIVE_NULL, file_sha256, iter_batches
from corpusclean.storage import is_uri

__all__ = ["validate_output"]

#: At most this many problems of one kind are listed (the count of the rest is given).
MAX_LISTED = 20


def _same_fields(actual: pa.Schema, declared: pa.Schema) -> bool:
    return [(f.name, f.type, f.nullable) for f in actual] == [(f.name, f.type, f.nullable) for f in declared]


def validate_output(out: str | Path) -> list[str]:
    """Every problem found in the dataset directory ``out``; an empty list means valid.
    Raises :class:`InputError` when ``out`` does not exist.

    ``out`` may be the URI of a remote dataset (``s3://bucket/clean``): it is downloaded into a
    temporary directory first, and the problems name the URI."""
    if is_uri(out):
        from corpusclean.sinks.remote import local_copy

        with local_copy(str(out)) as copy:
            return [problem.replace(str(copy), str(out).rstrip("/")) for problem in validate_output(copy)]
    out = Path(out)
    if not out.exists():
        raise InputError(f"no such directory: {out}")
    if not out.is_dir():
        raise InputError(f"not a directory: {out}")
    manifest_path = out / MANIFEST_FILE
    if not manifest_path.exists():
        hint = " (run `corpusclean run … --resume` to finish it)" if (out / "_work").exists() else ""
        return [f"incomplete run: {manifest_path} is missing{hint}"]
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return [f"manifest.json cannot be read: {exc}"]
    schema_errors = sorted(
        jsonschema.Draft202012Validator(MANIFEST_JSON_SCHEMA).iter_errors(manifest), key=lambda e: list(e.path)
    )
    if schema_errors:
        return [
            f"manifest.json: {'/'.join(map(str, e.path)) or '(top)'}: {e.message}" for e in schema_errors[:MAX_LISTED]
        ]

    problems: list[str] = []
    seen_ids: set[str] = set()
    kept_ids: set[str] = set()
    duplicate_refs: list[tuple[str, str]] = []
    rows_by_kind: Counter[str] = Counter()
    reasons: Counter[str] = Counter()
    stages: Counter[str] = Counter()
    row_problems = 0

    declared = {
        "documents": (DOCUMENT_SCHEMA, DOCUMENT_COLUMNS),
        "rejected": (REJECTED_SCHEMA, REJECTED_COLUMNS),
        "passages": (PASSAGE_SCHEMA, PASSAGE_COLUMNS),
    }
    passage_documents: set[str] = set()
    passage_clusters: dict[str, set[str]] = {}
    for kind, (schema, columns) in declared.items():
        listed = {part["path"] for part in manifest["outputs"].get(kind, [])}
        on_disk = (
            {p.relative_to(out).as_posix() for p in (out / kind).rglob("*.parquet")} if (out / kind).exists() else set()
        )
        for stray in sorted(on_disk - listed):
            problems.append(f"{stray}: not listed in manifest.json (left by an interrupted run?)")
        for part in manifest["outputs"].get(kind, []):
            path = out / part["path"]
            if not path.exists():
                problems.append(f"{part['path']}: listed in manifest.json but missing")
                continue
            if file_sha256(path) != part["sha256"]:
                problems.append(f"{part['path']}: checksum differs from manifest.json (file changed or truncated)")
                continue
            try:
                parquet = pq.ParquetFile(path)
            except Exception as exc:  # noqa: BLE001 - any unreadable part is a problem to report
                problems.append(f"{part['path']}: not readable as Parquet: {exc}")
                continue
            if not _same_fields(parquet.schema_arrow, schema):
                problems.append(f"{part['path']}: schema differs from the declared {kind} schema")
                continue
            if parquet.metadata.num_rows != part["rows"]:
                problems.append(f"{part['path']}: {parquet.metadata.num_rows} rows, manifest.json says {part['rows']}")
            partition = _partition_values(part["path"])
            misplaced = 0
            for batch in iter_batches(path, batch_size=2000):
                for row in batch.to_pylist():
                    rows_by_kind[kind] += 1
                    row_problems += _check_row(row, columns, part["path"], problems, row_problems)
                    misplaced += any(row.get(name, _ABSENT) != value for name, value in partition.items())
                    doc_id = row["doc_id"]
                    if kind == "passages":
                        passage_documents.add(doc_id)
                        passage_clusters.setdefault(row["cluster_id"], set()).add(doc_id)
                        continue
                    if doc_id in seen_ids:
                        problems.append(f"{part['path']}: doc_id {doc_id} appears more than once")
                    seen_ids.add(doc_id)
                    if kind == "documents":
                        kept_ids.add(doc_id)
                    else:
                        reasons[row["reason"]] += 1
                        stages[row["stage"]] += 1
                        if row["duplicate_of"]:
                            duplicate_refs.append((doc_id, row["duplicate_of"]))
            if misplaced:
                where = ", ".join(f"{name}={value!r}" for name, value in partition.items())
                problems.append(f"{part['path']}: {misplaced} row(s) do not have {where} of their partition directory")
    if row_problems > MAX_LISTED:
        problems.append(f"… and {row_problems - MAX_LISTED} more invalid rows")
    for doc_id, target in duplicate_refs:
        if target not in kept_ids:
            problems.append(f"rejected {doc_id}: duplicate_of {target} is not a kept document")
            break
    if passage_documents - kept_ids:
        problems.append(f"passages/: {len(passage_documents - kept_ids)} doc_id(s) are not kept documents")
    thin = [cluster for cluster, members in passage_clusters.items() if len(members) < 2]
    if thin:
        problems.append(f"passages/: cluster {thin[0]} spans fewer than two documents")
    problems.extend(_check_counts(manifest["counts"], rows_by_kind, reasons, stages))
    return problems


_ABSENT = object()


def _partition_values(path: str) -> dict[str, str | None]:
    """The column values that the hive-style directories of a part's path stand for:
    ``documents/language=en/part-00000.parquet`` → ``{"language": "en"}``."""
    values: dict[str, str | None] = {}
    for segment in path.split("/")[1:-1]:
        name, sep, value = segment.partition("=")
        if sep:
            values[name] = None if value == HIVE_NULL else unquote(value)
    return values


def _check_row(row: dict[str, Any], columns: tuple[Column, ...], where: str, problems: list[str], listed: int) -> int:
    row_issues = validate_row(row, columns)
    if not row_issues:
        return 0
    if listed < MAX_LISTED:
        problems.append(f"{where}: row {row.get('doc_id')}: {'; '.join(row_issues)}")
    return 1


def _check_counts(counts: dict[str, Any], rows: Counter[str], reasons: Counter[str], stages: Counter[str]) -> list[str]:
    problems = []
    if counts["records_in"] != counts["kept"] + counts["rejected"]:
        problems.append(
            f"counts: records_in {counts['records_in']} != kept {counts['kept']} + rejected {counts['rejected']}"
        )
    if counts["kept"] != rows["documents"]:
        problems.append(f"counts: kept is {counts['kept']} but documents/ has {rows['documents']} rows")
    if counts["rejected"] != rows["rejected"]:
        problems.append(f"counts: rejected is {counts['rejected']} but rejected/ has {rows['rejected']} rows")
    if dict(reasons) != counts["by_reason"]:
        problems.append(f"counts: by_reason {counts['by_reason']} does not match the rows {dict(reasons)}")
    if dict(stages) != counts["by_stage"]:
        problems.append(f"counts: by_stage {counts['by_stage']} does not match the rows {dict(stages)}")
    return problems
