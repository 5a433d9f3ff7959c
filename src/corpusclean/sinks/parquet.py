"""Parquet writing: declared schema, zstd, part files rolled over by row count, atomic moves.

A part file is written under a temporary name in the same directory and renamed into place
when complete, so a reader (or ``validate``) never sees a half-written part.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

__all__ = ["DICTIONARY_COLUMNS", "PartWriter", "file_sha256", "write_table_atomic"]

#: Low-cardinality columns that analysts filter on: dictionary encoded.
DICTIONARY_COLUMNS = ("source", "source_format", "language", "source_encoding", "stage", "reason")


def file_sha256(path: str | os.PathLike[str]) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _writer_options(schema: pa.Schema, compression: str, row_group_size: int) -> dict[str, Any]:
    return {
        "compression": compression,
        "use_dictionary": [c for c in DICTIONARY_COLUMNS if c in schema.names],
        "write_statistics": True,
    }


def write_table_atomic(table: pa.Table, path: Path, compression: str = "zstd", row_group_size: int = 10_000) -> None:
    """Write ``table`` to ``path`` through a temporary file and an atomic rename."""
    tmp = path.with_name(f".{path.name}.tmp")
    pq.write_table(
        table, tmp, row_group_size=row_group_size, **_writer_options(table.schema, compression, row_group_size)
    )
    os.replace(tmp, path)


class PartWriter:
    """Writes rows of one schema to ``directory/part-00000.parquet`` …, ``rows_per_file`` each.
    ``close()`` returns the manifest entries of the parts written (path, rows, sha256)."""

    def __init__(
        self,
        directory: Path,
        schema: pa.Schema,
        *,
        rows_per_file: int,
        row_group_size: int,
        compression: str = "zstd",
        relative_to: Path | None = None,
    ) -> None:
        self.directory = directory
        self.schema = schema
        self.rows_per_file = max(1, rows_per_file)
        self.row_group_size = max(1, row_group_size)
        self.compression = compression
        self.relative_to = relative_to or directory.parent
        self.parts: list[dict[str, Any]] = []
        self._pending: list[dict[str, Any]] = []
        self._writer: pq.ParquetWriter | None = None
        self._tmp: Path | None = None
        self._rows_in_part = 0
        directory.mkdir(parents=True, exist_ok=True)

    def _part_path(self) -> Path:
        return self.directory / f"part-{len(self.parts):05d}.parquet"

    def write_rows(self, rows: Iterable[dict[str, Any]]) -> None:
        for row in rows:
            self._pending.append(row)
            if (
                len(self._pending) >= self.row_group_size
                or self._rows_in_part + len(self._pending) >= self.rows_per_file
            ):
                self._flush()

    def _flush(self) -> None:
        if not self._pending:
            return
        if self._writer is None:
            self._tmp = self._part_path().with_name(f".{self._part_path().name}.tmp")
            self._writer = pq.ParquetWriter(
                self._tmp, self.schema, **_writer_options(self.schema, self.compression, self.row_group_size)
            )
        self._writer.write_table(
            pa.Table.from_pylist(self._pending, schema=self.schema), row_group_size=self.row_group_size
        )
        self._rows_in_part += len(self._pending)
        self._pending = []
        if self._rows_in_part >= self.rows_per_file:
            self._finish_part()

    def _finish_part(self) -> None:
        assert self._writer is not None and self._tmp is not None
        self._writer.close()
        final = self._part_path()
        os.replace(self._tmp, final)
        self.parts.append(
            {
                "path": final.relative_to(self.relative_to).as_posix(),
                "rows": self._rows_in_part,
                "sha256": file_sha256(final),
            }
        )
        self._writer = None
        self._tmp = None
        self._rows_in_part = 0

    def close(self) -> list[dict[str, Any]]:
        """Flush, finish the open part, and write one empty part when no row came at all (so
        that readers find a typed, empty dataset rather than no files)."""
        self._flush()
        if self._writer is not None:
            self._finish_part()
        if not self.parts:
            self._writer = pq.ParquetWriter(
                self._part_path().with_name(f".{self._part_path().name}.tmp"),
                self.schema,
                **_writer_options(self.schema, self.compression, self.row_group_size),
            )
            self._tmp = self._part_path().with_name(f".{self._part_path().name}.tmp")
            self._finish_part()
        return self.parts
