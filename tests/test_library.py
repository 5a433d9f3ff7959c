"""Library entry points: clean_text, clean_document, clean_table, Pipeline.run and resume."""

from __future__ import annotations

import json
import shutil

import pyarrow as pa
import pytest

from corpusclean import (
    Document,
    InputError,
    Pipeline,
    PipelineConfig,
    Reason,
    Rejected,
    clean_document,
    clean_table,
    clean_text,
    validate_output,
)
from corpusclean.pipeline import WORK_DIR
from tests.conftest import SAMPLE, read_dataset


def test_clean_text_str_bytes_html():
    assert clean_text("  Hello   world.  \n\n\n\nBye. ") == "Hello   world.\n\nBye."
    assert clean_text("Grüße aus Köln, sagte er.".encode("cp1252")) == "Grüße aus Köln, sagte er."
    html = "<html><body><article><p>" + "A sentence of the article body. " * 10 + "</p></article></body></html>"
    assert clean_text(html).startswith("A sentence of the article body.")
    assert clean_text("") == ""
    with pytest.raises(TypeError):
        clean_text(42)  # type: ignore[arg-type]


def test_clean_document_returns_document_or_rejected():
    document = clean_document("Officials said the bridge will reopen on Monday after repairs.")
    assert isinstance(document, Document) and document.language == "en"
    assert document.word_count == 10 and document.content_hash
    rejected = clean_document(b"\x00\x01\x02" * 100)
    assert isinstance(rejected, Rejected) and rejected.reason is Reason.DECODE_FAILED


def kept_or_rejected_id(kept, rejected, source_id):
    rows = kept.to_pylist() + rejected.to_pylist()
    return next(row["doc_id"] for row in rows if row["source_id"] == source_id)


def test_clean_table_passthrough_and_duplicates():
    table = pa.table(
        {
            "id": ["a", "b", "c", "d"],
            "text": ["The first article text is here.", "THE FIRST article text, is here!", "x", None],
            "html": [None, None, None, "<p>The fourth article comes as HTML.</p>"],
            "title": ["T1", None, None, None],
            "batch": [1, 2, 3, 4],
        }
    )
    kept, rejected = clean_table(table)
    assert kept.column_names[-1] == "batch" and rejected.column_names[-1] == "batch"
    first, duplicate = sorted(["a", "b"], key=lambda i: kept_or_rejected_id(kept, rejected, i))
    assert kept["source_id"].to_pylist() == sorted([first, "d"])
    kept_rows = {row["source_id"]: row for row in kept.to_pylist()}
    assert kept_rows["d"]["text"] == "The fourth article comes as HTML."
    assert kept_rows["d"]["batch"] == 4
    reasons = {row["source_id"]: row["reason"] for row in rejected.to_pylist()}
    assert reasons == {duplicate: "exact_duplicate", "c": "too_short"}
    dup = next(r for r in rejected.to_pylist() if r["reason"] == "exact_duplicate")
    assert dup["duplicate_of"] == kept["doc_id"][0].as_py()
    with pytest.raises(InputError):
        clean_table(pa.table({"body": ["x"]}))


def test_disabled_stages_leave_columns_null(tmp_path):
    config = PipelineConfig.from_dict({"language": {"enabled": False}, "dedup": {"enabled": False}})
    out = tmp_path / "out"
    Pipeline(config).run([SAMPLE], out, workers=1)
    docs = read_dataset(out, "documents")
    assert docs["language"].null_count == docs.num_rows
    assert docs["content_hash"].null_count == docs.num_rows


def test_exact_duplicates_across_files(tmp_path):
    corpus = tmp_path / "c"
    corpus.mkdir()
    text = "Rivers rose across the region on Tuesday after days of heavy rain."
    (corpus / "a.txt").write_text(text)
    (corpus / "b.txt").write_text(text.upper() + "  ")
    out = tmp_path / "out"
    report = Pipeline().run([corpus], out, workers=1)
    assert (report.kept, report.by_reason) == (1, {"exact_duplicate": 1})
    kept = read_dataset(out, "documents").to_pylist()[0]
    dup = read_dataset(out, "rejected").to_pylist()[0]
    assert dup["duplicate_of"] == kept["doc_id"] and dup["similarity"] == 1.0
    # no dates: the smallest doc_id is the representative
    assert kept["doc_id"] < dup["doc_id"]
    assert {kept["text"], dup["text"]} == {text, text.upper()}


def test_stage_errors_become_rows_and_abort_past_the_limit(tmp_path, monkeypatch):
    from corpusclean.stages.language import LanguageStage

    def boom(self, record):
        raise RuntimeError("detector exploded")

    monkeypatch.setattr(LanguageStage, "process", boom)
    from corpusclean import EngineError

    with pytest.raises(EngineError, match="max_error_rate"):
        Pipeline().run([SAMPLE], tmp_path / "o1", workers=1)
    config = PipelineConfig.from_dict({"output": {"max_error_rate": 1.0}})
    report = Pipeline(config).run([SAMPLE], tmp_path / "o2", workers=1)
    assert report.by_reason == {"stage_error": 5}
    row = read_dataset(tmp_path / "o2", "rejected").to_pylist()[0]
    assert row["stage"] == "language" and row["detail"] == "RuntimeError: detector exploded"
    assert validate_output(tmp_path / "o2") == []


def test_resume_after_interruption_gives_identical_rows(tmp_path, monkeypatch):
    reference = tmp_path / "reference"
    Pipeline().run([SAMPLE], reference, workers=1)

    out = tmp_path / "out"

    def interrupted(config, stems, scratch):
        raise KeyboardInterrupt

    with monkeypatch.context() as patch:
        patch.setattr("corpusclean.pipeline.local_global_step", interrupted)
        with pytest.raises(KeyboardInterrupt):
            Pipeline().run([SAMPLE], out, workers=1)
    assert (out / WORK_DIR).exists() and not (out / "manifest.json").exists()
    assert "incomplete run" in validate_output(out)[0]
    with pytest.raises(InputError, match="not empty"):
        Pipeline().run([SAMPLE], out, workers=1)
    report = Pipeline().run([SAMPLE], out, workers=1, resume=True)
    assert report.kept == 5
    for kind in ("documents", "rejected"):
        assert read_dataset(out, kind).equals(read_dataset(reference, kind))
    assert validate_output(out) == []
    assert not (out / WORK_DIR).exists()


def test_resume_refuses_other_config_or_complete_run(tmp_path, monkeypatch):
    out = tmp_path / "out"
    with monkeypatch.context() as patch:
        patch.setattr("corpusclean.pipeline.local_global_step", lambda *args: (_ for _ in ()).throw(KeyboardInterrupt))
        with pytest.raises(KeyboardInterrupt):
            Pipeline().run([SAMPLE], out, workers=1)
    other = PipelineConfig.from_dict({"output": {"min_words": 50}})
    with pytest.raises(InputError, match="differ"):
        Pipeline(other).run([SAMPLE], out, workers=1, resume=True)
    Pipeline().run([SAMPLE], out, workers=1, resume=True)
    with pytest.raises(InputError, match="complete run"):
        Pipeline().run([SAMPLE], out, workers=1, resume=True)


def test_every_input_file_is_accounted_for(tmp_path):
    corpus = tmp_path / "c"
    shutil.copytree(SAMPLE, corpus)
    (corpus / "empty.txt").write_bytes(b"")
    (corpus / "garbage.bin").write_bytes(bytes(range(256)) * 4)
    out = tmp_path / "out"
    report = Pipeline().run([corpus], out, workers=2)
    manifest = json.loads((out / "manifest.json").read_text())
    assert len(manifest["inputs"]) == 7
    assert report.records_in == report.kept + report.rejected == 7
    reasons = {r["source_id"]: r["reason"] for r in read_dataset(out, "rejected").to_pylist()}
    assert reasons == {"empty.txt": "extract_empty", "garbage.bin": "decode_failed"}


def test_same_rows_whatever_the_workers_and_input_order(tmp_path):
    corpus = tmp_path / "c"
    for group in ("a", "b", "c"):
        (corpus / group).mkdir(parents=True)
        for name in SAMPLE.iterdir():
            shutil.copy(name, corpus / group / f"{group}-{name.name}")
    (corpus / "b" / "dupe.txt").write_text((SAMPLE / "003_697903a1038d4863.txt").read_text().upper())
    one = tmp_path / "one"
    two = tmp_path / "two"
    report = Pipeline().run([corpus / "a", corpus / "b", corpus / "c"], one, workers=1)
    Pipeline().run([corpus / "c", corpus / "a", corpus / "b"], two, workers=2)
    assert report.records_in == 16
    for kind in ("documents", "rejected"):
        assert read_dataset(one, kind).equals(read_dataset(two, kind)), kind


def test_invalid_rows_become_schema_invalid_rejections(tmp_path):
    corpus = tmp_path / "c"
    corpus.mkdir()
    lines = [
        json.dumps({"id": "ok", "text": "A perfectly ordinary sentence for the dataset."}),
        # a lone surrogate survives JSON decoding but is not valid UTF-8: it cannot be written
        json.dumps({"id": "bad", "text": "A sentence with a lone surrogate \ud800 inside it."}),
    ]
    (corpus / "r.jsonl").write_text("\n".join(lines), encoding="utf-8")
    out = tmp_path / "out"
    # with text repair on, ftfy replaces the lone surrogate (fix "surrogates"); off, it reaches the writer
    config = PipelineConfig.from_dict({"decode": {"enabled": False}})
    report = Pipeline(config).run([corpus], out, workers=1)
    assert (report.kept, report.by_reason) == (1, {"schema_invalid": 1})
    [row] = read_dataset(out, "rejected").to_pylist()
    assert (row["source_id"], row["stage"]) == ("bad", "write")
    assert "surrogate" in row["detail"]
    assert "\ufffd" in row["text"]  # kept, made writable
    assert validate_output(out) == []
