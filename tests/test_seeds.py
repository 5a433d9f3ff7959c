"""Acceptance: the five sample documents the product was designed around come out clean."""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone

import duckdb
import pandas as pd
import pyarrow.parquet as pq
import pytest

from corpusclean import Pipeline, validate_output
from tests.conftest import SAMPLE, read_dataset

TITLE_004 = "China’s AI industry looks unstoppable, but can it overtake the US for tech supremacy?"


@pytest.fixture(scope="module")
def seed_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("seeds") / "out"
    report = Pipeline().run([SAMPLE], out, workers=1)
    return out, report


def _docs(out):
    return {row["source_id"]: row for row in read_dataset(out, "documents").to_pylist()}


def test_five_documents_kept(seed_run):
    out, report = seed_run
    assert (report.records_in, report.kept, report.rejected) == (5, 5, 0)
    assert sorted(_docs(out)) == [
        "000_a0e1a835e99c4b20.txt",
        "001_3487882a76378314.txt",
        "002_8a28957ea02174a5.txt",
        "003_697903a1038d4863.txt",
        "471952",
    ]


def test_seed_004_wordpress_post(seed_run):
    doc = _docs(seed_run[0])["471952"]
    assert doc["source_format"] == "wordpress_rest"
    assert doc["title"] == TITLE_004
    assert doc["url"] == "https://www.newsbeep.com/au/471952/"
    assert doc["published_at"] == datetime(2026, 2, 11, 3, 11, 21, tzinfo=timezone.utc)
    text = doc["text"]
    assert text.startswith("Hong Kong\n\nWhen China’s biggest artificial intelligence players gathered")
    assert text.count("\n\n") > 20  # paragraphs kept
    for leak in (
        r"<[a-zA-Z/]",
        r"&[#a-z0-9]+;",
        r"\\u[0-9a-fA-F]{4}",
        "_links",
        "class_list",
        "guid",
        "wp-json",
        "yoast",
        r"\\/",
        "rendered",
        "featured_media",
    ):
        assert not re.search(leak, text), leak
    assert doc["language"] == "en"


def test_boilerplate_removed_with_provenance(seed_run):
    docs = _docs(seed_run[0])
    expected = {
        "001_3487882a76378314.txt": {
            ("news.also_read", "Also read: Emerging trends: The increasing role of AI in healthcare"),
            ("news.also_read", "Also read: Can human influencers compete with AI influencers?"),
            ("news.reporter_signoff", "—Ashley Wang, BTW reporter"),
        },
        "002_8a28957ea02174a5.txt": {
            ("news.photo_credit_inline", "[Photo/Xinhua]"),
            ("news.forum_comments", "Go to Forum >>0 Comment(s)"),
        },
        "003_697903a1038d4863.txt": {("news.source_link", "Source link: Thedailystar.net.")},
    }
    for source_id, removals in expected.items():
        doc = docs[source_id]
        assert {(r["rule"], r["text"]) for r in doc["removed"]} == removals
        for _, line in removals:
            assert line not in doc["text"]
    assert docs["002_8a28957ea02174a5.txt"]["text"].startswith(
        "The parallel session on Intelligent Technology and Future Industry Development"
    )
    assert "Nov. 5, 2023.\n" in docs["002_8a28957ea02174a5.txt"]["text"]


def test_no_leading_or_trailing_blank_lines(seed_run):
    for doc in _docs(seed_run[0]).values():
        assert doc["text"] == doc["text"].strip()
        assert "\n\n\n" not in doc["text"]
    assert "blank_lines" in _docs(seed_run[0])["000_a0e1a835e99c4b20.txt"]["fixes"]


def test_output_reads_in_pyarrow_pandas_duckdb(seed_run):
    out = seed_run[0]
    assert pq.read_table(out / "documents").num_rows == 5
    frame = pd.read_parquet(out / "documents")
    assert len(frame) == 5 and str(frame["published_at"].dtype).startswith("datetime64")
    count = duckdb.connect().execute(f"select count(*) from read_parquet('{out}/documents/*.parquet')").fetchall()[0][0]
    assert count == 5
    metadata = pq.read_schema(next((out / "documents").glob("*.parquet"))).metadata
    assert b"corpusclean.version" in metadata and b"corpusclean.schema_version" in metadata


def test_validate_passes_and_manifest_adds_up(seed_run):
    out = seed_run[0]
    assert validate_output(out) == []
    manifest = json.loads((out / "manifest.json").read_text())
    counts = manifest["counts"]
    assert counts["records_in"] == counts["kept"] + counts["rejected"] == 5
    assert [entry["path"] for entry in manifest["inputs"]] == sorted(p.name for p in SAMPLE.iterdir())
    assert {entry["format"] for entry in manifest["inputs"]} == {"text", "wordpress_rest"}
    assert all(len(entry["sha256"]) == 64 and entry["error"] is None for entry in manifest["inputs"])


def test_second_run_gives_identical_rows(seed_run, tmp_path):
    first = seed_run[0]
    second = tmp_path / "again"
    Pipeline().run([SAMPLE], second, workers=2)
    for kind in ("documents", "rejected"):
        assert read_dataset(first, kind).equals(read_dataset(second, kind))
