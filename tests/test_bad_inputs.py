"""Reliability: a generated corpus of bad inputs. The run finishes, every bad input is a rejected
row with a clear reason, every good document is kept, and the rows add up."""

from __future__ import annotations

import bz2
import codecs
import gzip
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time

import pytest

from corpusclean import Pipeline, PipelineConfig, validate_output
from corpusclean.errors import ConfigError
from corpusclean.limits import TimeLimitExceeded, time_limit
from tests.conftest import SAMPLE, read_dataset

GOOD = (
    "The city council approved a new plan for the river district on Tuesday evening. "
    "Residents had asked for more green space and safer crossings near the schools."
)


def _bad_corpus(root):
    rng = random.Random(7)
    good = root / "good"
    bad = root / "bad"
    good.mkdir(parents=True)
    bad.mkdir()
    shutil.copytree(SAMPLE, good / "seeds")
    (good / "utf16.txt").write_bytes(
        codecs.BOM_UTF16_LE
        + "The ferry company added two late sailings to the islands for the summer season.".encode("utf-16-le")
    )
    (good / "latin1.txt").write_bytes(
        "Le café de la gare rouvre après des travaux; les élèves y déjeunent à midi.".encode("cp1252")
    )
    (good / "mixed-bad-utf8.txt").write_bytes(GOOD.encode() + b" \xff\xfe broken bytes " + GOOD.encode())
    (good / "records.jsonl").write_text(
        "\n".join(
            [
                json.dumps({"id": "j1", "text": "Copper prices steadied after a record run as mines reported delays."}),
                "{broken json",
                "",
                json.dumps({"id": "j2", "text": "Second good line. " + GOOD[::-1]}),
                "[1, 2]",
                json.dumps({"id": "j3"}),
            ]
        )
    )
    (bad / "empty.txt").write_bytes(b"")
    (bad / "whitespace.txt").write_text(" \n\t\n   \n")
    (bad / "garbage.bin").write_bytes(bytes(rng.randrange(256) for _ in range(4096)))
    (bad / "truncated.txt.gz").write_bytes(gzip.compress(GOOD.encode() * 50, mtime=0)[:60])
    (bad / "truncated.txt.bz2").write_bytes(bz2.compress(GOOD.encode() * 50)[:60])
    (bad / "invalid.json").write_text('{"title": {"rendered": "x"}, "content": ')
    (bad / "wp-no-content.json").write_text(
        json.dumps(
            {"id": 5, "type": "post", "status": "publish", "title": {"rendered": "Empty"}, "content": {"rendered": ""}}
        )
    )
    (bad / "broken.xml").write_text(
        '<?xml version="1.0"?><rss xmlns:wp="http://wordpress.org/export/1.2/"><channel><wp:wxr_version>1.2'
    )
    (bad / "deep.html").write_text("<html><body>" + "<div>" * 5000 + "deep" + "</div>" * 5000 + "</body></html>")
    (bad / "tag-bomb.html").write_text("<html><body>" + "<span>x</span>" * 250_000 + "</body></html>")
    (bad / "huge-line.txt").write_text("word " * 2_200_000)  # 11 MB on one line
    os.symlink(bad / "does-not-exist.txt", bad / "dangling.txt")
    os.mkfifo(bad / "a-fifo.txt")
    os.symlink(bad, bad / "loop")  # a directory symlink loop: not followed
    return root


EXPECTED_BAD = {
    "bad/empty.txt": "extract_empty",
    "bad/whitespace.txt": "extract_empty",
    "bad/garbage.bin": "decode_failed",
    "bad/truncated.txt.gz": "unreadable",
    "bad/truncated.txt.bz2": "unreadable",
    "bad/invalid.json": "unreadable",
    "5": "extract_empty",
    "bad/broken.xml": "unreadable",
    "bad/deep.html": "too_complex",
    "bad/tag-bomb.html": "too_complex",
    "bad/huge-line.txt": "too_large",
    "bad/dangling.txt": "unreadable",
    "bad/a-fifo.txt": "unreadable",
    "good/records.jsonl:2": "unreadable",
    "good/records.jsonl:5": "not_content",
    "j3": "extract_empty",
}


def test_bad_inputs_become_rows_and_good_ones_are_kept(tmp_path):
    corpus = _bad_corpus(tmp_path / "corpus")
    out = tmp_path / "out"
    report = Pipeline().run([corpus], out, workers=2)
    rejected = {row["source_id"]: row for row in read_dataset(out, "rejected").to_pylist()}
    assert {k: rejected[k]["reason"] for k in rejected} == EXPECTED_BAD
    assert all(row["detail"] for row in rejected.values())
    kept = {row["source_id"] for row in read_dataset(out, "documents").to_pylist()}
    assert kept == {
        *(f"good/seeds/{p.name}" for p in SAMPLE.iterdir() if not p.name.startswith("004")),
        "471952",
        "good/utf16.txt",
        "good/latin1.txt",
        "good/mixed-bad-utf8.txt",
        "j1",
        "j2",
    }
    assert report.records_in == report.kept + report.rejected == len(kept) + len(EXPECTED_BAD)
    manifest = json.loads((out / "manifest.json").read_text())
    errors = {entry["path"]: entry["error"] for entry in manifest["inputs"] if entry["error"]}
    assert set(errors) >= {"bad/truncated.txt.gz", "bad/dangling.txt", "bad/a-fifo.txt", "bad/broken.xml"}
    assert "not a regular file" in errors["bad/a-fifo.txt"]
    assert validate_output(out) == []
    mixed = next(r for r in read_dataset(out, "documents").to_pylist() if r["source_id"] == "good/mixed-bad-utf8.txt")
    assert "encoding_detected" in mixed["fixes"] or "replacement_characters" in mixed["fixes"]


def test_limits_are_configurable(tmp_path):
    corpus = tmp_path / "c"
    corpus.mkdir()
    (corpus / "page.html").write_text(
        "<html><body>" + "<div>" * 50 + f"<p>{GOOD}</p>" + "</div>" * 50 + "</body></html>"
    )
    strict = PipelineConfig.from_dict({"extract": {"max_nesting_depth": 20}})
    report = Pipeline(strict).run([corpus], tmp_path / "strict", workers=1)
    assert report.by_reason == {"too_complex": 1}
    report = Pipeline().run([corpus], tmp_path / "default", workers=1)
    assert report.kept == 1
    with pytest.raises(ConfigError, match="max_nesting_depth must be between 1 and 2048"):
        PipelineConfig.from_dict({"extract": {"max_nesting_depth": 5000}})


def test_html_with_a_lone_surrogate_in_jsonl_comes_out_whole(tmp_path):
    corpus = tmp_path / "c"
    corpus.mkdir()
    page = (
        f"<html><body><article><p>{GOOD}</p><p>Cut \ud83d here.</p><p>The last paragraph.</p></article></body></html>"
    )
    (corpus / "pages.jsonl").write_text(json.dumps({"id": "1", "html": page}) + "\n")
    out = tmp_path / "out"
    report = Pipeline().run([corpus], out, workers=1)
    assert report.kept == 1
    (row,) = read_dataset(out, "documents").to_pylist()
    assert row["text"].endswith("Cut \ufffd here.\n\nThe last paragraph.") and "surrogates" in row["fixes"]


def test_time_limit():
    with pytest.raises(TimeLimitExceeded):
        with time_limit(0.05):
            while True:
                pass
    with time_limit(0):
        pass


def test_extraction_timeout_is_a_rejection(monkeypatch):
    from corpusclean.config import ExtractConfig
    from corpusclean.records import Reason, Record
    from corpusclean.stages.extract import ExtractStage

    stage = ExtractStage(ExtractConfig(timeout_seconds=0.05))

    def slow(markup, kind):
        while True:
            pass

    monkeypatch.setattr(stage, "_extract", slow)
    record = Record(
        doc_id="0" * 32, source=".", source_format="html", source_id="x", markup="<p>x</p>", markup_kind="page"
    )
    result = stage.process(record)
    assert result.reason is Reason.TIMEOUT and "0.05" in result.detail


def _run_cli(args, **kwargs):
    return subprocess.Popen(
        [sys.executable, "-m", "corpusclean.cli", *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
        **kwargs,
    )


@pytest.mark.parametrize("kill_after_tasks", [3, 30, "pass2"])
def test_resume_after_kill_9_gives_identical_rows(tmp_path, kill_after_tasks):
    corpus = tmp_path / "corpus"
    for group in range(40):
        (corpus / f"g{group:02d}").mkdir(parents=True)
        for name in SAMPLE.iterdir():
            text = name.read_text(encoding="utf-8")
            if not name.name.startswith("004"):
                text = f"Group {group} edition.\n{text}".replace("China", f"China-{group}")
            (corpus / f"g{group:02d}" / name.name).write_text(text, encoding="utf-8")
    reference = tmp_path / "reference"
    Pipeline().run([corpus], reference, workers=2)

    out = tmp_path / "out"
    process = _run_cli(["run", str(corpus), "-o", str(out), "--workers", "2", "--quiet"])
    pass1 = out / "_work" / "pass1"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        if kill_after_tasks == "pass2":
            if (out / "documents").exists():  # pass 2 has started writing parts
                break
        elif pass1.exists() and len(list(pass1.glob("task-*.json"))) >= kill_after_tasks:
            break
        time.sleep(0.005)
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGKILL)  # the whole process group: workers too
    process.wait()
    if (out / "manifest.json").exists():
        pytest.skip("the run finished before it could be killed")
    assert "incomplete run" in validate_output(out)[0]
    resumed = _run_cli(["run", str(corpus), "-o", str(out), "--workers", "1", "--resume", "--quiet"])
    assert resumed.wait(timeout=300) == 0, resumed.stderr.read().decode()
    for kind in ("documents", "rejected", "passages"):
        assert read_dataset(out, kind).equals(read_dataset(reference, kind)), kind
    assert validate_output(out) == []
