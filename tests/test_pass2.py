"""Pass 2 on Arrow: the k-way merge of sorted shards, and writing tables as parts."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from corpusclean.config import PipelineConfig
from corpusclean.engines.pass2 import _id_keys, _passage_table, _SortedLookup, merge_sorted
from corpusclean.schema import REJECTED_SCHEMA
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


_IDS = st.sampled_from(["", "a", "ab", "b", "ä", "a\u00e4", "7f" * 16, "zz", "a b"])


@settings(max_examples=200, deadline=None)
@given(st.lists(_IDS, max_size=30), st.lists(_IDS, max_size=12))
def test_sorted_lookup_finds_the_rows_a_hash_filter_finds(table_ids, wanted):
    """Rows by doc_id through sorted keys: the rows ``pc.is_in`` finds, in the table's own
    order inside a doc_id (several rows per doc_id, as passages have), none for absent ids."""
    table = pa.table({"doc_id": pa.array(table_ids, pa.string()), "n": np.arange(len(table_ids))})
    lookup = _SortedLookup.of(table)
    keys = _id_keys(pa.array(wanted, pa.string()))
    expected = table.filter(pc.is_in(table["doc_id"], value_set=pa.array(wanted, pa.string())))
    found = lookup.rows(keys)

    def pairs(t):
        return list(zip(t["doc_id"].to_pylist(), t["n"].to_pylist(), strict=True))

    assert sorted(pairs(found)) == sorted(pairs(expected))
    for doc_id in set(wanted):  # within one doc_id, table order
        ns = [n for d, n in pairs(found) if d == doc_id]
        assert ns == sorted(ns)
    assert lookup.contains(keys).tolist() == [w in table_ids for w in wanted]


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


def _generated_corpus(root, documents=400, seed=7):
    """Sites with shared footers, exact copies, near-duplicate variants and shared quotes."""
    rng = random.Random(seed)
    words = [f"w{i}" for i in range(3000)]

    def paragraph(n=40):
        return " ".join(rng.choice(words) for _ in range(n))

    quotes = [paragraph(30) for _ in range(8)]
    for site in range(4):
        folder = root / f"site{site}"
        folder.mkdir(parents=True)
        footer = f"Follow site {site} on social media for more news"
        for number in range(documents // 4):
            paragraphs = [paragraph() for _ in range(rng.randint(2, 6))]
            if rng.random() < 0.3:
                paragraphs.insert(1, rng.choice(quotes))
            text = "\n\n".join([*paragraphs, footer])
            (folder / f"{number:04d}.txt").write_text(text)
            if rng.random() < 0.15:
                (folder / f"{number:04d}-copy.txt").write_text(text)
            if rng.random() < 0.15:
                edited = " ".join(w for w in text.split(" ") if rng.random() > 0.05)
                (folder / f"{number:04d}-edit.txt").write_text(edited)
    return root


@pytest.mark.parametrize(
    "overrides",
    [
        {},
        {"dedup": {"max_bucket_size": 3, "bucket_anchors": 1}},
        {"dedup": {"exact": False}, "boilerplate": {"learn_min_documents": 2, "learn_min_share": 0.01}},
    ],
)
def test_local_global_step_equals_the_in_memory_decisions(tmp_path, overrides, monkeypatch):
    from corpusclean import PipelineConfig
    from corpusclean.decisions import global_step
    from corpusclean.engines import global_step as bounded
    from corpusclean.engines.local import plan_tasks, run_pass1
    from corpusclean.sources import expand_inputs

    monkeypatch.setattr(bounded, "LINE_RANGE_ROWS", 500)  # several key ranges
    monkeypatch.setattr(bounded, "VERIFY_CHUNK", 7)  # several chunks
    config = PipelineConfig.from_dict(overrides)
    tasks = plan_tasks(expand_inputs([_generated_corpus(tmp_path / "corpus")]))
    run_pass1(tasks, config, tmp_path / "work", workers=1)
    stems = [str(tmp_path / "work" / f"task-{t.task_id:06d}") for t in tasks]
    expected = global_step(config, stems).to_tables()
    assert expected.documents.num_rows > 20 and expected.passages.num_rows > 10 and expected.learned.num_rows
    found = bounded.local_global_step(config, stems, tmp_path / "scratch")
    assert found.documents.equals(expected.documents)
    assert found.passages.equals(expected.passages)
    assert found.learned.equals(expected.learned)


def test_the_assembler_writes_decided_shards_in_task_order_only(tmp_path):
    """documents/ grows while pass 2 runs, but only by the shards before the first undecided one."""
    from corpusclean.engines.pass2 import Assembler
    from corpusclean.schema import DOCUMENT_SCHEMA

    def row(doc_id: str) -> dict:
        filled = {}
        for field in DOCUMENT_SCHEMA:
            if not field.nullable:
                kind = field.type
                filled[field.name] = (
                    []
                    if pa.types.is_list(kind)
                    else 0
                    if pa.types.is_integer(kind)
                    else 0.0
                    if pa.types.is_floating(kind)
                    else "x"
                )
        return {**filled, "doc_id": doc_id, "text": f"text of {doc_id}"}

    def decide(index: int) -> None:
        rows = [row(f"{index}-{n}") for n in range(3)]
        pq.write_table(pa.Table.from_pylist(rows, schema=DOCUMENT_SCHEMA), f"{stems[index]}.kept.parquet")
        Path(f"{stems[index]}.pass2.json").write_text("{}")

    work = tmp_path / "work"
    work.mkdir()
    stems = [str(work / f"task-{i:06d}") for i in range(3)]
    for stem in stems:
        pq.write_table(REJECTED_SCHEMA.empty_table(), f"{stem}.rejected.parquet")
        pq.write_table(REJECTED_SCHEMA.empty_table(), f"{stem}.late.parquet")
        pq.write_table(_passage_table([]), f"{stem}.passage_rows.parquet")
    config = PipelineConfig.from_dict({"output": {"row_group_size": 1}})
    assembler = Assembler(tmp_path / "out", stems, config)
    decide(2)
    assembler.advance()
    assert assembler._written == 0  # shard 0 is not decided: nothing after it may be written
    decide(0)
    assembler.advance()
    assert assembler._written == 1
    decide(1)
    outputs, counts = assembler.finish([{"kept": 3, "kept_unchanged": 0}] * 3)
    documents = pq.read_table(tmp_path / "out" / outputs["documents"][0]["path"])
    assert documents["doc_id"].to_pylist() == [f"{i}-{n}" for i in range(3) for n in range(3)]
    assert counts["kept"] == 9 and counts["records_in"] == 9
