"""Parquet writing: declared schema, zstd, part files rolled over by row count, atomic moves.

A part file is written under a temporary name in the same directory and renamed into place
when complete, so a reader (or ``validate``) never sees a half-written part. Files are laid out
for analysts' tools: row groups of ``output.row_group_size`` rows, dictionary encoding for the
low-cardinality columns (nested ones included), statistics on, UTC timestamps, and optionally
hive-style partition directories (``documents/language=en/part-00000.parquet``).
"""

from __future__ import annotations

import hashlib
import os
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pyarrow as pa
import pyarrow.parquet as pq

__all__ = [
    "DICTIONARY_COLUMNS",
    "HIVE_NULL",
    "PartWriter",
    "PartitionedWriter",
    "file_sha256",
    "partition_directory",
    "write_table_atomic",
]

#: Low-cardinality columns that analysts filter on: dictionary encoded. Nested columns are
#: named by their Parquet path (a top-level name does not reach inside a list).
DICTIONARY_COLUMNS = (
    "source",
    "source_format",
    "site_name",
    "language",
    "source_encoding",
    "stage",
    "reason",
    "categories.list.element",
    "tags.list.element",
    "fixes.list.element",
    "removed.list.element.rule",
)

#: The directory value of a null partition value, as Hive, pyarrow and DuckDB read it.
HIVE_NULL = "__HIVE_DEFAULT_PARTITION__"


def file_sha256(path: str | os.PathLike[str]) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _writer_options(schema: pa.Schema, compression: str, row_group_size: int) -> dict[str, Any]:
    return {
        "compression": compression,
        "use_dictionary": [c for c in DICTIONARY_COLUMNS if c.split(".", 1)[0] in schema.names],
        "write_statistics": True,
    }


#: Bytes a Parquet reader buffers per column while it streams pages (instead of whole column chunks).
READ_BUFFER_BYTES = 1 << 20


def iter_batches(
    path: str | os.PathLike[str],
    *,
    batch_size: int,
    columns: Sequence[str] | None = None,
    row_groups: Sequence[int] | None = None,
) -> Iterator[pa.RecordBatch]:
    """The rows of a Parquet file as record batches, streaming page by page: a reader that loads
    whole column chunks holds a full row group of texts (several times its compressed size)."""
    parquet = pq.ParquetFile(path, buffer_size=READ_BUFFER_BYTES, pre_buffer=False)
    present = None if columns is None else [c for c in columns if c in parquet.schema_arrow.names]
    return parquet.iter_batches(batch_size=batch_size, columns=present, row_groups=row_groups, use_threads=False)


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
        self._pending_tables: list[pa.Table] = []
        self._pending_table_rows = 0
        self._writer: pq.ParquetWriter | None = None
        self._tmp: Path | None = None
        self._rows_in_part = 0
        directory.mkdir(parents=True, exist_ok=True)

    def _part_path(self) -> Path:
        return self.directory / f"part-{len(self.parts):05d}.parquet"

    def write_rows(self, rows: Iterable[dict[str, Any]]) -> None:
        for row in rows:
            self._pending.append(row)
            if self.pending_rows >= self.row_group_size or self._rows_in_part + self.pending_rows >= self.rows_per_file:
                self._flush()

    def write_table(self, table: pa.Table) -> None:
        """Write the rows of an Arrow table (with this writer's columns), cutting row groups and
        parts exactly where :meth:`write_rows` would, without making Python rows of them."""
        table = table.select(self.schema.names)
        if self._pending:  # rows written before come first
            self._pending_tables.append(pa.Table.from_pylist(self._pending, schema=self.schema))
            self._pending_table_rows += len(self._pending)
            self._pending = []
        start = 0
        while start < table.num_rows:
            room = min(
                self.row_group_size - self.pending_rows,
                self.rows_per_file - self._rows_in_part - self.pending_rows,
            )
            piece = table.slice(start, max(1, room))
            self._pending_tables.append(piece)
            self._pending_table_rows += piece.num_rows
            start += piece.num_rows
            if self.pending_rows >= self.row_group_size or self._rows_in_part + self.pending_rows >= self.rows_per_file:
                self._flush()

    @property
    def pending_rows(self) -> int:
        """Rows held in memory, not yet written as a row group."""
        return len(self._pending) + self._pending_table_rows

    @property
    def part_open(self) -> bool:
        return self._writer is not None

    def flush(self) -> None:
        """Write the rows held in memory as a row group of the open part."""
        self._flush()

    def finish_part(self) -> None:
        """Write what is held and close the open part; the next row starts a new part."""
        self._flush()
        if self._writer is not None:
            self._finish_part()

    def _flush(self) -> None:
        if not self.pending_rows:
            return
        if self._writer is None:
            self._tmp = self._part_path().with_name(f".{self._part_path().name}.tmp")
            self._writer = pq.ParquetWriter(
                self._tmp, self.schema, **_writer_options(self.schema, self.compression, self.row_group_size)
            )
        tables = [table.cast(self.schema) for table in self._pending_tables]
        if self._pending:
            tables.append(pa.Table.from_pylist(self._pending, schema=self.schema))
        self._writer.write_table(pa.concat_tables(tables), row_group_size=self.row_group_size)
        self._rows_in_part += self.pending_rows
        self._pending = []
        self._pending_tables = []
        self._pending_table_rows = 0
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


def partition_directory(column: str, value: Any) -> str:
    """The hive-style directory of a partition value: ``language=en``, ``source=www.example.com``.
    The value is percent-encoded (``/`` and ``=`` too), as pyarrow and DuckDB decode it; null
    becomes :data:`HIVE_NULL`.

    >>> partition_directory("source", "news/2024")
    'source=news%2F2024'
    """
    return f"{column}={HIVE_NULL if value is None else quote(str(value), safe='')}"


class PartitionedWriter:
    """Writes rows to one :class:`PartWriter` per value of ``column``, in hive-style directories
    (``directory/column=value/part-00000.parquet``). The column stays in the files, so every
    part has the declared schema and reads alone.

    Rows keep their order within each partition. Memory is bounded like an unpartitioned
    writer's: when the rows held by all partitions reach ``row_group_size``, every partition
    writes what it holds (smaller row groups, never more memory); at most ``max_open_parts``
    files are open, the least recently written partition finishing its part first. Both depend
    on the order of the rows only, so the same rows give the same files.
    """

    def __init__(
        self,
        directory: Path,
        schema: pa.Schema,
        column: str,
        *,
        rows_per_file: int,
        row_group_size: int,
        compression: str = "zstd",
        relative_to: Path | None = None,
        max_open_parts: int = 128,
    ) -> None:
        if column not in schema.names:
            raise ValueError(f"cannot partition by {column!r}: not a column of the schema")
        self.directory = directory
        self.schema = schema
        self.column = column
        self.max_open_parts = max(1, max_open_parts)
        self._options: dict[str, Any] = {
            "rows_per_file": rows_per_file,
            "row_group_size": max(1, row_group_size),
            "compression": compression,
            "relative_to": relative_to or directory.parent,
        }
        self._writers: dict[Any, PartWriter] = {}
        self._recent: OrderedDict[Any, None] = OrderedDict()
        self._pending = 0
        directory.mkdir(parents=True, exist_ok=True)

    def write_rows(self, rows: Iterable[dict[str, Any]]) -> None:
        for row in rows:
            value = row.get(self.column)
            writer = self._writers.get(value)
            if writer is None:
                writer = PartWriter(
                    self.directory / partition_directory(self.column, value), self.schema, **self._options
                )
                self._writers[value] = writer
            was_open, before = writer.part_open, writer.pending_rows
            writer.write_rows((row,))
            self._pending += writer.pending_rows - before
            self._recent[value] = None
            self._recent.move_to_end(value)
            if self._pending >= self._options["row_group_size"]:
                for held in self._writers.values():
                    held.flush()
                self._pending = 0
                self._close_least_recent()
            elif writer.part_open and not was_open:
                self._close_least_recent()

    def write_table(self, table: pa.Table) -> None:
        """Write the rows of an Arrow table (one partition value at a time would change where
        row groups are cut; rows go one by one, as :meth:`write_rows`)."""
        self.write_rows(table.to_pylist())

    def _close_least_recent(self) -> None:
        open_values = [value for value in self._recent if self._writers[value].part_open]
        for value in open_values[: max(0, len(open_values) - self.max_open_parts)]:
            self._writers[value].finish_part()

    def close(self) -> list[dict[str, Any]]:
        """Finish every partition and return the manifest entries of all parts, sorted by path.
        With no row at all, one empty part at the top (a typed, empty dataset)."""
        if not self._writers:
            return PartWriter(self.directory, self.schema, **self._options).close()
        parts: list[dict[str, Any]] = []
        for writer in self._writers.values():
            writer.finish_part()
            parts.extend(writer.parts)
        return sorted(parts, key=lambda part: part["path"])
