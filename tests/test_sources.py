from __future__ import annotations

import gzip
import json
import os

import pytest

from corpusclean.config import ReadConfig
from corpusclean.errors import InputError
from corpusclean.records import Reason, Record, Rejected
from corpusclean.sources import detect_format, expand_inputs, read_file
from tests.conftest import SAMPLE


def test_seed_004_is_wordpress_by_content():
    data = (SAMPLE / "004_51577e432841c7f4.txt").read_bytes()
    assert detect_format(data, "004_51577e432841c7f4.txt").format == "json"  # the reader; rows say wordpress_rest
    [file] = [f for f in expand_inputs([SAMPLE]) if f.relpath.startswith("004")]
    result = read_file(file, ReadConfig())
    [record] = result.items
    assert isinstance(record, Record)
    assert record.source_format == "wordpress_rest"
    assert record.source_id == "471952"
    assert record.source == "www.newsbeep.com"
    assert record.published_at.isoformat() == "2026-02-11T03:11:21+00:00"


@pytest.mark.parametrize(
    ("data", "name", "fmt"),
    [
        (b"PAR1....", "x.bin", "parquet"),
        (b'{"text": "a"}\n{"text": "b"}\n', "x.txt", "jsonl"),
        (b'{"text": "a"}', "x.jsonl", "jsonl"),
        (b"[{}]", "x", "json"),
        (b"\xef\xbb\xbf  <!DOCTYPE html><html></html>", "x.txt", "html"),
        (b"<p>fragment</p>", "x", "html"),
        (b"Just text with a <b> in it", "x.html", "html"),
        (b"Just text with a <b> in it", "x.txt", "text"),
        (b'<?xml version="1.0"?><rss xmlns:wp="http://wordpress.org/export/1.2/">', "x.xml", "wxr"),
    ],
)
def test_detect_format(data, name, fmt):
    assert detect_format(data, name).format == fmt


def test_expand_inputs_sorted_recursive_and_ids(tmp_path):
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "z.txt").write_text("z")
    (tmp_path / "a.txt").write_text("a")
    (tmp_path / ".hidden").write_text("h")
    files = expand_inputs([tmp_path])
    assert [f.relpath for f in files] == ["a.txt", "b/z.txt"]
    assert [f.source_id for f in files] == ["a.txt", "b/z.txt"]
    assert [f.parent for f in files] == [".", "b"]
    direct = expand_inputs([tmp_path / "b" / "z.txt"])
    assert direct[0].source_id == str(tmp_path / "b" / "z.txt")
    assert direct[0].relpath == "z.txt"


def test_input_order_does_not_matter(tmp_path):
    for name in ("one", "two"):
        (tmp_path / name).mkdir()
        (tmp_path / name / f"{name}.txt").write_text(name)
    assert expand_inputs([tmp_path / "one", tmp_path / "two"]) == sorted(
        expand_inputs([tmp_path / "two", tmp_path / "one"])
    )


def test_glob(tmp_path):
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "a.txt").write_text("a")
    (tmp_path / "d" / "b.json").write_text("{}")
    files = expand_inputs([str(tmp_path / "d" / "*.txt")])
    assert [f.relpath for f in files] == ["a.txt"]
    with pytest.raises(InputError, match="no file matches"):
        expand_inputs([str(tmp_path / "nothing-*.txt")])


def test_missing_input_and_overlap(tmp_path):
    with pytest.raises(InputError, match="not found"):
        expand_inputs([tmp_path / "absent"])
    for name in ("x", "y"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "same.txt").write_text(name)
    with pytest.raises(InputError, match="overlap"):
        expand_inputs([tmp_path / "x", tmp_path / "y"])


def test_symlink_loop_does_not_hang(tmp_path):
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "a.txt").write_text("a")
    os.symlink(tmp_path / "d", tmp_path / "d" / "loop")
    assert [f.relpath for f in expand_inputs([tmp_path / "d"])] == ["a.txt"]


def test_compressed_and_truncated(tmp_path):
    payload = "Compressed article text. " * 20
    (tmp_path / "a.txt.gz").write_bytes(gzip.compress(payload.encode(), mtime=0))
    (tmp_path / "bad.txt.gz").write_bytes(gzip.compress(payload.encode(), mtime=0)[:30])
    good, bad = expand_inputs([tmp_path])
    [record] = read_file(good, ReadConfig()).items
    assert record.raw == payload.encode()
    result = read_file(bad, ReadConfig())
    [rejected] = result.items
    assert isinstance(rejected, Rejected) and rejected.reason is Reason.UNREADABLE
    assert result.entry["error"] and result.entry["records"] == 1
    assert rejected.source_id == "bad.txt.gz"


def test_jsonl_fields_and_bad_lines(tmp_path):
    lines = [
        json.dumps({"id": "a1", "text": "First record text here."}),
        "{not json",
        "",
        json.dumps({"body": "no text field"}),
        json.dumps({"html": "<p>Some <b>html</b> here.</p>"}),
    ]
    (tmp_path / "r.jsonl").write_text("\n".join(lines))
    [file] = expand_inputs([tmp_path])
    items = read_file(file, ReadConfig()).items
    assert [type(i).__name__ for i in items] == ["Record", "Rejected", "Rejected", "Record"]
    assert items[0].source_id == "a1"
    assert items[1].source_id == "r.jsonl:2" and items[1].reason is Reason.UNREADABLE
    assert items[3].source_id == "r.jsonl:5" and items[3].markup_kind == "fragment"
    custom = ReadConfig(jsonl_text_field="body")
    assert isinstance(read_file(file, custom).items[2], Record)


def test_wordpress_list_draft_and_non_posts(tmp_path):
    posts = [
        {
            "id": 1,
            "type": "post",
            "status": "publish",
            "link": "https://ex.com/a",
            "title": {"rendered": "A"},
            "content": {"rendered": "<p>Body</p>"},
            "date_gmt": "0000-00-00T00:00:00",
            "date": "2024-05-01T10:00:00",
        },
        {"id": 2, "type": "post", "status": "draft", "title": {"rendered": "B"}, "content": {"rendered": "<p>x</p>"}},
        {"id": 3, "type": "attachment", "title": {"rendered": "C"}, "content": {"rendered": "<p>x</p>"}},
    ]
    (tmp_path / "posts.json").write_text(json.dumps(posts))
    (tmp_path / "error.json").write_text(
        json.dumps({"code": "rest_post_invalid_page_number", "message": "m", "data": {"status": 400}})
    )
    error, post_file = expand_inputs([tmp_path])
    first, draft, attachment = read_file(post_file, ReadConfig()).items
    assert isinstance(first, Record) and "date_local_as_utc" in first.fixes
    assert first.published_at.isoformat() == "2024-05-01T10:00:00+00:00"
    assert draft.reason is Reason.NOT_PUBLISHED
    assert attachment.reason is Reason.NOT_CONTENT
    [error_row] = read_file(error, ReadConfig()).items
    assert error_row.reason is Reason.NOT_CONTENT and "rest_post_invalid_page_number" in error_row.detail


def test_unreadable_file_becomes_a_row(tmp_path):
    path = tmp_path / "secret.txt"
    path.write_text("x")
    [file] = expand_inputs([tmp_path])
    path.unlink()
    result = read_file(file, ReadConfig())
    assert result.entry["error"].startswith("cannot read")
    assert result.items[0].reason is Reason.UNREADABLE


def test_password_protected_wordpress_post_is_not_published(tmp_path):
    post = {
        "id": 9,
        "type": "post",
        "status": "publish",
        "title": {"rendered": "Members only"},
        "content": {"rendered": "", "protected": True},
    }
    (tmp_path / "p.json").write_text(json.dumps(post))
    [file] = expand_inputs([tmp_path])
    [row] = read_file(file, ReadConfig()).items
    assert row.reason is Reason.NOT_PUBLISHED and "password" in row.detail
