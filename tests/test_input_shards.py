"""Streaming reads and pieces of large files (issues 8 and 9).

A JSONL file is read a line at a time, a WXR export an item at a time, a Parquet file a batch at a
time; an uncompressed one larger than ``engines.local.PIECE_BYTES`` is read in pieces by several
tasks. The rows, their ids and the manifest are the same whether a file is read whole or in
pieces, by one worker or two, in one go or resumed.
"""

from __future__ import annotations

import gzip
import io
import json
import random
import tempfile
import tracemalloc
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import zstandard
from hypothesis import given, settings
from hypothesis import strategies as st

from corpusclean import Pipeline, PipelineConfig, validate_output
from corpusclean.config import ReadConfig
from corpusclean.engines import local as local_engine
from corpusclean.records import Reason, Record, Rejected
from corpusclean.sources import expand_inputs, merge_piece_entries, plan_pieces, read_file, stream_file
from corpusclean.sources import files as files_module
from corpusclean.sources.files import iter_lines, line_starts
from tests.conftest import SAMPLE, read_dataset
from tests.test_wxr import AUTHORS, item, wxr

# --------------------------------------------------------------------------- line splitting

LINE_BYTES = st.lists(
    st.sampled_from([b"a", b"bc", b"\n", b"\r", b"\r\n", b" ", b"{}", b"\xff", b"\n\n"]), max_size=40
).map(b"".join)


@settings(max_examples=300, deadline=None)
@given(data=LINE_BYTES, chunk_size=st.integers(1, 7), limit=st.integers(0, 12))
def test_iter_lines_splits_as_splitlines_does(data, chunk_size, limit):
    expected = [line if len(line) <= limit else len(line) for line in data.splitlines()]
    assert list(iter_lines(io.BytesIO(data), limit, chunk_size=chunk_size)) == expected


def test_iter_lines_never_holds_a_too_long_line():
    line = b"x" * 5_000_000
    stream = io.BytesIO(b"first\n" + line + b"\r\nlast")
    tracemalloc.start()
    try:
        assert list(iter_lines(stream, 1000, chunk_size=4096)) == [b"first", len(line), b"last"]
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 1_000_000, peak


@settings(max_examples=200, deadline=None)
@given(data=LINE_BYTES, targets=st.lists(st.integers(0, 60), max_size=5), chunk=st.integers(1, 9))
def test_line_starts_are_line_starts_with_their_numbers(data, targets, chunk):
    targets = sorted(targets)
    expected: list[tuple[int, int]] = []
    for target in targets:
        if target <= 0:
            continue
        start = next((p for p in range(max(target, 1), len(data) + 1) if data[p - 1 : p] == b"\n"), None)
        if start is not None and (not expected or expected[-1][0] != start):
            expected.append((start, len(data[:start].splitlines()) + 1))
    with tempfile.NamedTemporaryFile() as handle, pytest.MonkeyPatch.context() as patch:
        handle.write(data)
        handle.flush()
        patch.setattr(files_module, "CHUNK_BYTES", chunk)
        assert line_starts(handle.name, targets) == expected


# --------------------------------------------------------------------------- inputs


def _sentences() -> list[str]:
    text = " ".join(p.read_text(encoding="utf-8") for p in sorted(SAMPLE.iterdir()) if not p.name.startswith("004"))
    return sorted({s.strip() + "." for s in text.replace("\n", " ").split(". ") if len(s.split()) > 5})


SHARED_PARAGRAPHS = [
    f"Shared paragraph {n}: the harbour authority said the ferry timetable would change." for n in range(4)
]


def _article(rng: random.Random) -> str:
    """Paragraphs of sentences drawn at random, now and then one that other articles share."""
    sentences = _sentences()
    paragraphs = [" ".join(rng.sample(sentences, 3)) for _ in range(rng.randrange(2, 5))]
    if rng.random() < 0.3:
        paragraphs.insert(1, rng.choice(SHARED_PARAGRAPHS) + " " + " ".join(rng.sample(sentences, 2)))
    return "\n\n".join(paragraphs)


def _jsonl_lines(count: int, seed: int = 3) -> list[bytes]:
    """Lines of every kind a reader meets, with duplicates and near-duplicates far apart."""
    rng = random.Random(seed)
    texts = [_article(rng) for _ in range(count)]
    post = json.loads((SAMPLE / "004_51577e432841c7f4.txt").read_text(encoding="utf-8"))
    lines: list[bytes] = []
    for n in range(count):
        text = texts[n]
        kind = rng.randrange(14)
        if kind == 0:
            lines.append(b"")
        elif kind == 1:
            lines.append(b"{broken json")
        elif kind == 2:
            lines.append(b"[1, 2]")
        elif kind == 3:
            lines.append(json.dumps({"html": f"<p>{text[:400]}</p><p>Edition {n}.</p>"}).encode())
        elif kind == 4:
            lines.append(json.dumps(dict(post, id=900_000 + n)).encode())
        elif kind == 5:
            lines.append(json.dumps({"id": f"r{n}", "note": "no text"}).encode())
        elif kind == 6:
            lines.append(json.dumps({"id": f"r{n}", "text": "word " * 7000}).encode())  # over the line limit
        elif kind == 7:  # an exact copy of an earlier record's text
            lines.append(json.dumps({"id": f"r{n}", "text": texts[n // 3]}).encode())
        elif kind == 8:  # a near copy of an earlier one
            lines.append(json.dumps({"id": n, "text": texts[n // 2] + " Updated at noon."}).encode())
        else:
            lines.append(json.dumps({"id": f"r{n}", "text": text}).encode())
    return lines


def _write_jsonl(path: Path, count: int) -> None:
    lines = _jsonl_lines(count)
    ends = [b"\n", b"\r\n", b"\r", b"\n\n"]
    data = b"\xef\xbb\xbf" + b"".join(line + ends[i % len(ends)] for i, line in enumerate(lines))
    path.write_bytes(data.rstrip(b"\r\n"))  # the last line without an end


def _write_parquet(path: Path, rows: int) -> None:
    rng = random.Random(5)
    texts = [_article(rng) for _ in range(rows)]
    table = pa.table(
        {
            "id": [None if i % 7 == 0 else f"p{i}" for i in range(rows)],
            "text": [None if i % 5 == 0 else texts[i % (rows - 9)] for i in range(rows)],
            "html": [f"<p>{texts[i][:300]}</p>" if i % 10 == 0 else None for i in range(rows)],
            "url": [f"https://news.example.org/{i}" if i % 3 else None for i in range(rows)],
        }
    )
    pq.write_table(table, path, row_group_size=16)


def _wxr_body(count: int, swallow: bool = True) -> str:
    rng = random.Random(7)
    items = []
    for n in range(count):
        text = _article(rng).replace("]]>", "")
        if n == count // 2:  # an author defined after items: only the items after it see the name
            items.append(AUTHORS.replace("alice", "carol").replace(">1<", ">3<"))
        kwargs: dict = {"post_id": n + 1, "content": f"{text}\n\nPost {n % 9}.", "creator": ("alice", "carol")[n % 2]}
        if n % 11 == 3:
            kwargs["status"] = "draft"
        if n % 13 == 5:
            kwargs["post_type"] = "attachment"
        if n % 17 == 7:
            kwargs["title"] = "Fish & Chips"  # an XML error, recovered: the item says so
        if n % 19 == 9:
            kwargs["post_id"] = ""  # no post id: the item's number is its id
        body = item(**kwargs)
        if swallow and n % 23 == 11:  # a missing end tag: the items after it are inside this one
            body = body.replace("</item>", "")
        items.append(body)
    return AUTHORS + "".join(items)


def _write_wxr(path: Path, count: int, swallow: bool = True) -> bytes:
    data = wxr(_wxr_body(count, swallow))
    path.write_bytes(data)
    return data


def _read_in_pieces(file, config: ReadConfig, piece_bytes: int):
    pieces = plan_pieces(file, piece_bytes)
    assert len(pieces) > 2, pieces
    items: list[Record | Rejected] = []
    entries = []
    for piece in reversed(pieces):  # any order
        stream = stream_file(file, config, piece)
        items[:0] = list(stream)
        entries.append(stream.entry)
    return items, merge_piece_entries(entries)


SMALL_LINES = ReadConfig(max_record_bytes=30000)


# --------------------------------------------------------------------------- one file, whole or in pieces


@pytest.mark.parametrize("piece_bytes", [4000, 9000, 30000])
def test_jsonl_pieces_give_the_rows_of_the_whole_file(tmp_path, piece_bytes):
    _write_jsonl(tmp_path / "a.jsonl", 150)
    [file] = expand_inputs([tmp_path])
    whole = read_file(file, SMALL_LINES)
    kinds = {item.reason for item in whole.items if isinstance(item, Rejected)}
    assert {Reason.UNREADABLE, Reason.NOT_CONTENT, Reason.EXTRACT_EMPTY, Reason.TOO_LARGE} <= kinds
    items, entry = _read_in_pieces(file, SMALL_LINES, piece_bytes)
    assert items == whole.items
    assert entry == whole.entry
    assert len({item.doc_id for item in items}) == len(items)


def test_a_jsonl_line_too_long_to_hold_is_one_row_and_the_file_is_read(tmp_path):
    big = "word " * 1000
    (tmp_path / "a.jsonl").write_text(
        "\n".join(json.dumps({"id": i, "text": big if i == 1 else f"Record {i} text."}) for i in range(3))
    )
    (tmp_path / "b.txt").write_text(big)
    jsonl, text = expand_inputs([tmp_path])
    config = ReadConfig(max_record_bytes=2000)
    first, too_long, third = read_file(jsonl, config).items
    assert isinstance(first, Record) and isinstance(third, Record)
    assert too_long.reason is Reason.TOO_LARGE and too_long.source_id == "a.jsonl:2" and too_long.text is None
    assert "read.max_record_bytes (2000)" in too_long.detail
    [row] = read_file(text, config).items  # a format read whole keeps the file limit
    assert row.reason is Reason.TOO_LARGE


def test_parquet_pieces_are_row_groups_with_the_rows_of_the_whole_file(tmp_path):
    _write_parquet(tmp_path / "d.parquet", 200)
    [file] = expand_inputs([tmp_path])
    whole = read_file(file, ReadConfig())
    assert len(whole.items) == 200 and whole.entry["records"] == 200
    items, entry = _read_in_pieces(file, ReadConfig(), 3000)
    assert items == whole.items
    assert entry == whole.entry
    pieces = plan_pieces(file, 3000)
    assert [p.first for p in pieces] == [16 * p.start for p in pieces]


@pytest.mark.parametrize("piece_bytes", [3000, 12000])
def test_wxr_pieces_give_the_items_of_the_whole_export(tmp_path, piece_bytes):
    _write_wxr(tmp_path / "site.xml", 60)
    [file] = expand_inputs([tmp_path])
    whole = read_file(file, ReadConfig())
    kept = [item for item in whole.items if isinstance(item, Record)]
    assert {"Alice & Co", "carol"} <= {record.author for record in kept}  # carol's name only after her definition
    assert any("xml_recovered" in record.fixes for record in kept)
    assert sum(isinstance(item, Record) for item in whole.items) > 30
    items, entry = _read_in_pieces(file, ReadConfig(), piece_bytes)
    assert items == whole.items
    assert entry == whole.entry


@pytest.mark.parametrize("cut_at", ["<wp:post_id>5<", "<wp:post_id>41<", "<wp:post_id>58<"])
def test_a_truncated_wxr_export_gives_one_row_for_the_rest_in_pieces_too(tmp_path, cut_at):
    data = _write_wxr(tmp_path / "site.xml", 60)
    (tmp_path / "site.xml").write_bytes(data[: data.index(cut_at.encode())])
    [file] = expand_inputs([tmp_path])
    whole = read_file(file, ReadConfig())
    last = whole.items[-1]
    assert last.reason is Reason.UNREADABLE and whole.entry["error"]
    items, entry = _read_in_pieces(file, ReadConfig(), 3000)
    assert items == whole.items
    assert entry == whole.entry


def test_not_wxr_in_pieces_is_one_unreadable_row(tmp_path):
    (tmp_path / "feed.xml").write_bytes(wxr(_wxr_body(30), version=None))
    [file] = expand_inputs([tmp_path])
    whole = read_file(file, ReadConfig())
    [row] = whole.items
    assert row.reason is Reason.UNREADABLE and "WXR version" in row.detail
    items, entry = _read_in_pieces(file, ReadConfig(), 3000)
    assert items == whole.items and entry == whole.entry


def test_what_is_not_split(tmp_path):
    _write_jsonl(tmp_path / "a.jsonl", 150)
    data = (tmp_path / "a.jsonl").read_bytes()
    (tmp_path / "b.jsonl.gz").write_bytes(gzip.compress(data, mtime=0))
    (tmp_path / "c.txt").write_bytes(data.replace(b"{", b"("))  # text: read whole
    (tmp_path / "d.json").write_text(json.dumps([{"text": "x" * 9000}]))
    plain, compressed, text, single = expand_inputs([tmp_path])
    assert len(plan_pieces(plain, 4000)) > 2
    assert plan_pieces(plain, 4000) == plan_pieces(plain, 4000)  # from the content only
    assert plan_pieces(plain, len(data)) == ()
    for file in (compressed, text, single):
        assert plan_pieces(file, 4000) == ()
    whole = read_file(plain, SMALL_LINES)
    gz = read_file(compressed, SMALL_LINES)  # streamed through the decompressor: the same lines
    assert [i.source_id.replace("b.jsonl.gz", "a.jsonl") for i in gz.items] == [i.source_id for i in whole.items]
    assert gz.entry["bytes"] == len((tmp_path / "b.jsonl.gz").read_bytes()) and gz.entry["records"] == len(gz.items)


def test_merge_piece_entries():
    def entry(index, records, error=None, formats=("jsonl",), fmt="jsonl"):
        return {
            "path": "a.jsonl",
            "input": "in",
            "bytes": 10 if index == 0 else None,
            "sha256": "ab" if index == 0 else None,
            "format": fmt,
            "records": records,
            "error": error,
            "piece": {"index": index, "count": 3, "reader": "jsonl", "formats": list(formats)},
        }

    merged = merge_piece_entries([entry(2, 1, "late"), entry(0, 4), entry(1, 2, "first", ("wordpress_rest",))])
    assert merged == {
        "path": "a.jsonl",
        "input": "in",
        "bytes": 10,
        "sha256": "ab",
        "format": "jsonl",  # two formats among the rows: the reader's
        "records": 7,
        "error": "first",
    }
    assert merge_piece_entries([entry(0, 4, formats=("wordpress_rest",)), entry(1, 0, formats=())])["format"] == (
        "wordpress_rest"
    )


# --------------------------------------------------------------------------- streaming


def test_streaming_a_jsonl_file_holds_a_chunk_not_the_file(tmp_path, monkeypatch):
    monkeypatch.setattr(files_module, "CHUNK_BYTES", 1 << 16)
    line = json.dumps({"text": "A paragraph of news text. " * 40}).encode() + b"\n"
    (tmp_path / "big.jsonl").write_bytes(line * (4_000_000 // len(line)))
    (tmp_path / "big.jsonl.gz").write_bytes(gzip.compress((tmp_path / "big.jsonl").read_bytes(), compresslevel=1))
    for file in expand_inputs([tmp_path]):
        stream = stream_file(file, ReadConfig(max_record_bytes=100_000))
        tracemalloc.start()
        try:
            count = sum(1 for _ in stream)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert count == stream.entry["records"] > 3000
        assert stream.entry["error"] is None and len(stream.entry["sha256"]) == 64
        assert peak < 1_000_000, (file.relpath, peak)  # the file is 4 MB


def test_every_frame_of_a_zstd_file_is_read(tmp_path):
    compressor = zstandard.ZstdCompressor()
    frames = [compressor.compress(json.dumps({"id": i, "text": f"Frame {i} text."}).encode() + b"\n") for i in range(3)]
    (tmp_path / "a.jsonl.zst").write_bytes(b"".join(frames))
    (tmp_path / "b.txt.zst").write_bytes(compressor.compress(b"One. ") + compressor.compress(b"Two."))
    jsonl, text = expand_inputs([tmp_path])
    assert [item.source_id for item in read_file(jsonl, ReadConfig()).items] == ["0", "1", "2"]
    [record] = read_file(text, ReadConfig()).items
    assert record.raw == b"One. Two."


# --------------------------------------------------------------------------- whole runs


def _corpus(root: Path) -> Path:
    (root / "feeds").mkdir(parents=True)
    _write_jsonl(root / "feeds" / "wire.jsonl", 150)
    _write_parquet(root / "feeds" / "table.parquet", 112)
    _write_wxr(root / "site.xml", 40, swallow=False)
    (root / "feeds" / "small.jsonl").write_text(json.dumps({"id": "s1", "text": _article(random.Random(1))}) + "\n")
    for path in sorted(SAMPLE.iterdir())[:2]:
        (root / path.name).write_bytes(path.read_bytes())
    return root


def _outputs(out: Path) -> dict:
    manifest = json.loads((out / "manifest.json").read_text())
    tables = {kind: read_dataset(out, kind) for kind in ("documents", "rejected", "passages")}
    return {"tables": tables, "counts": manifest["counts"], "inputs": manifest["inputs"]}


_KEYS = {"documents": ["doc_id"], "rejected": ["doc_id"], "passages": ["cluster_id", "doc_id", "paragraph_index"]}


def _assert_same(left: dict, right: dict, ordered: bool = True) -> None:
    """The same rows and values (and, ``ordered``, in the same order: pass 2 writes the rows of
    each task in turn, so their order follows the tasks, which change when a file is split)."""
    for kind, keys in _KEYS.items():
        tables = [side["tables"][kind] for side in (left, right)]
        if not ordered:
            tables = [table.sort_by([(key, "ascending") for key in keys]) for table in tables]
        assert tables[0].equals(tables[1]), kind
    assert left["counts"] == right["counts"]
    assert left["inputs"] == right["inputs"]


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """The corpus read whole (one worker), and in pieces (one worker and two)."""
    root = tmp_path_factory.mktemp("shards")
    corpus = _corpus(root / "corpus")
    # language off: slow, and nothing it does depends on how a file is read
    config = PipelineConfig.from_dict({"read": {"max_record_bytes": 30000}, "language": {"enabled": False}})
    whole = Pipeline(config).run([corpus], root / "whole", workers=1)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(local_engine, "PIECE_BYTES", 6000)
        tasks = local_engine.plan_tasks(expand_inputs([corpus]))
        Pipeline(config).run([corpus], root / "pieces-1", workers=1)
        Pipeline(config).run([corpus], root / "pieces-2", workers=2)
    return {"root": root, "corpus": corpus, "config": config, "tasks": tasks, "whole": whole}


def test_a_run_in_pieces_gives_the_rows_of_a_run_over_whole_files(runs):
    root = runs["root"]
    split = {task.files[0].relpath for task in runs["tasks"] if task.piece is not None}
    assert split == {"feeds/wire.jsonl", "feeds/table.parquet", "site.xml"}
    assert len(runs["tasks"]) > 20
    whole = _outputs(root / "whole")
    assert whole["counts"]["kept"] > 100 and whole["counts"]["passages"] > 0
    assert {"exact_duplicate", "too_large", "unreadable", "not_published"} <= set(whole["counts"]["by_reason"])
    assert len(whole["inputs"]) == 6  # one entry per file, pieces or not
    pieces = _outputs(root / "pieces-1")
    _assert_same(pieces, whole, ordered=False)
    _assert_same(_outputs(root / "pieces-2"), pieces)  # and in the same order, whatever the workers
    for name in ("pieces-1", "pieces-2"):
        assert validate_output(root / name) == []


def test_resume_in_the_middle_of_the_pieces_gives_the_same_rows(runs, monkeypatch):
    root, corpus, config = runs["root"], runs["corpus"], runs["config"]
    monkeypatch.setattr(local_engine, "PIECE_BYTES", 6000)
    out = root / "resumed"
    run_task = local_engine.run_task
    piece_tasks = [task.task_id for task in runs["tasks"] if task.piece is not None]
    stop_at = piece_tasks[len(piece_tasks) // 2]

    def interrupted(task, *args, **kwargs):
        if task.task_id == stop_at:
            raise KeyboardInterrupt
        return run_task(task, *args, **kwargs)

    with monkeypatch.context() as patch:
        patch.setattr(local_engine, "run_task", interrupted)
        with pytest.raises(KeyboardInterrupt):
            Pipeline(config).run([corpus], out, workers=1)
    done = sorted((out / "_work" / "pass1").glob("task-*.json"))
    assert 0 < len(done) < len(runs["tasks"])
    Pipeline(config).run([corpus], out, workers=2, resume=True)
    _assert_same(_outputs(out), _outputs(root / "pieces-1"))


def test_json_nested_too_deep_is_a_bad_line_not_a_crash(tmp_path):
    deep = '{"a": ' + "[" * 5000 + "\n"
    (tmp_path / "deep.txt").write_text(deep + '{"id": "x", "text": "A line after it."}\n')
    (tmp_path / "lines.jsonl").write_text('{"id": "a", "text": "Before."}\n' + deep + '{"id": "b", "text": "After."}\n')
    deep_text, lines = expand_inputs([tmp_path])
    before, bad, after = read_file(lines, ReadConfig()).items
    assert (before.source_id, after.source_id) == ("a", "b")
    assert bad.reason is Reason.UNREADABLE and bad.source_id == "lines.jsonl:2" and "invalid JSON" in bad.detail
    [row] = read_file(deep_text, ReadConfig()).items  # the sniffer no longer raises; JSON cannot parse it
    assert row.reason is Reason.UNREADABLE and "RecursionError" in row.detail
