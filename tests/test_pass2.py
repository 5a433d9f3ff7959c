"""Pass 2 on Arrow: the k-way merge of sorted shards, and writing tables as parts."""

from __future__ import annotations

import random

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from corpusclean.engines.pass2 import merge_sorted
from corpusclean.sinks.parquet import PartWriter

SCHEMA = pa.schema([("doc_id", pa.string()), ("n", pa.int64())])


def _shards(tmp_path, sizes, seed=0):
    rng = random.Random(seed)
    keys = sorted({f"{rng.getrandbits(64):016x}" for _ in range(sum(sizes) * 2)})[: sum(sizes)]
    rng.shuffle(keys)
    paths, start = [], 0
    for index, size in enumerate(sizes):
        part = sorted(keys[start : start + size])
        start += size
        path = tmp_path / f"shard-{index}.parquet"
        pq.write_table(pa.table({"doc_id": part, "n": [index] * size}, schema=SCHEMA), path, row_group_size=7)
        paths.append(path)
    return paths, sorted(keys)


@pytest.mark.parametrize("sizes", [[0], [5], [300, 0, 17, 1000], [1, 1, 1, 1, 1, 1, 1]])
@pytest.mark.parametrize("batch_rows", [1, 3, 256])
def test_merge_sorted_yields_every_row_once_in_key_order(tmp_path, sizes, batch_rows):
    paths, keys = _shards(tmp_path, sizes)
    tables = list(merge_sorted(paths, "doc_id", batch_rows))
    merged = [key for table in tables for key in table["doc_id"].to_pylist()]
    assert merged == keys
    assert all(table.num_rows > 0 for table in tables)


@pytest.mark.parametrize("rows_per_file,row_group_size", [(10, 3), (7, 7), (1000, 64)])
def test_write_table_cuts_parts_and_row_groups_like_write_rows(tmp_path, rows_per_file, row_group_size):
    rows = [{"doc_id": f"{i:04d}", "n": i} for i in range(95)]
    by_rows = PartWriter(tmp_path / "rows", SCHEMA, rows_per_file=rows_per_file, row_group_size=row_group_size)
    by_rows.write_rows(rows)
    by_tables = PartWriter(tmp_path / "tables", SCHEMA, rows_per_file=rows_per_file, row_group_size=row_group_size)
    table = pa.Table.from_pylist(rows, schema=SCHEMA)
    by_tables.write_rows(rows[:5])  # rows and tables mixed keep their order
    for start in range(5, 95, 11):
        by_tables.write_table(table.slice(start, 11))
    parts_rows, parts_tables = by_rows.close(), by_tables.close()
    assert [p["rows"] for p in parts_rows] == [p["rows"] for p in parts_tables]
    for a, b in zip(parts_rows, parts_tables, strict=True):
        file_a, file_b = pq.ParquetFile(tmp_path / a["path"]), pq.ParquetFile(tmp_path / b["path"])
        assert file_a.read().equals(file_b.read())
        groups_a = [file_a.metadata.row_group(i).num_rows for i in range(file_a.num_row_groups)]
        groups_b = [file_b.metadata.row_group(i).num_rows for i in range(file_b.num_row_groups)]
        assert groups_a == groups_b
