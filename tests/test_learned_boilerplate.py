"""Boilerplate learned from the corpus (global step) and the removal limit."""

from __future__ import annotations

import json

import pyarrow as pa
import pytest

from corpusclean import ConfigError, Pipeline, PipelineConfig, clean_table, validate_output
from corpusclean.config import BoilerplateConfig
from corpusclean.records import Reason, Record, Rejected
from corpusclean.stages.boilerplate import LEARNED_RULE, BoilerplateStage
from tests.conftest import read_dataset

BODIES = [
    "Heavy rain swelled the river on Monday and the council closed the lower bridge to traffic.",
    "The new library opens its reading room until nine in the evening from next month.",
    "Teachers at the primary school asked parents to collect pupils early because of the heat.",
    "A farmers market returns to Mill Street after two years in the fairground car park.",
    "Engineers found cracks in the old station roof and will replace the glass panels in spring.",
    "The harbour authority bought two electric ferries that will carry cars from July.",
    "Volunteers planted five thousand trees along the canal to slow down future floods.",
    "Ticket prices at the municipal pool rise by a euro while opening hours stay the same.",
]
OTHER_BODIES = [
    "The orchestra plays its last concert of the season in the cathedral on Saturday night.",
    "A cyclist was hurt when a delivery van turned into the lane without looking.",
    "Night buses will run every twenty minutes during the summer festival weekend.",
]
FOOTER = "Tips? Write to newsroom@valley-daily.example"


def _site(tmp_path, name, bodies, footer=FOOTER, extra=None):
    site = tmp_path / "corpus" / name
    site.mkdir(parents=True)
    for i, body in enumerate(bodies):
        lines = [body, "", footer] if footer else [body]
        if extra and i in extra:
            lines.append(extra[i])
        (site / f"{i:02d}.txt").write_text("\n".join(lines))
    return tmp_path / "corpus"


def test_repeated_lines_of_a_source_are_learned_and_removed(tmp_path):
    corpus = _site(tmp_path, "valley", BODIES, extra={0: "Only in two documents", 1: "Only in two documents"})
    _site(tmp_path, "other", OTHER_BODIES, footer=None)
    out = tmp_path / "out"
    report = Pipeline().run([corpus], out, workers=1)
    docs = {(r["source"], r["source_id"]): r for r in read_dataset(out, "documents").to_pylist()}
    valley = [d for (source, _), d in docs.items() if source == "valley"]
    assert len(valley) == 8
    for doc in valley:
        assert FOOTER not in doc["text"]
        assert {"rule": LEARNED_RULE, "text": FOOTER, "line": 3} in doc["removed"]
        assert doc["char_count"] == len(doc["text"])
    # a line in only two documents is not boilerplate; the other source learned nothing
    assert "Only in two documents" in docs[("valley", "valley/00.txt")]["text"]
    assert all(not d["removed"] for (source, _), d in docs.items() if source == "other")
    assert report.manifest["counts"]["learned_boilerplate_lines"] == 1
    assert validate_output(out) == []


def test_duplicates_are_not_evidence_for_each_other(tmp_path):
    # four distinct documents plus four exact copies of the first: the footer is in eight
    # documents, but only four count, below learn_min_documents = 5
    bodies = BODIES[:4] + [BODIES[0].upper()] * 4
    corpus = _site(tmp_path, "valley", bodies)
    out = tmp_path / "out"
    report = Pipeline().run([corpus], out, workers=1)
    assert report.by_reason == {"exact_duplicate": 4}
    assert all(FOOTER in d["text"] for d in read_dataset(out, "documents").to_pylist())


def test_learning_can_be_switched_off(tmp_path):
    corpus = _site(tmp_path, "valley", BODIES)
    out = tmp_path / "out"
    Pipeline(PipelineConfig.from_dict({"boilerplate": {"learn": False}})).run([corpus], out, workers=1)
    assert all(FOOTER in d["text"] for d in read_dataset(out, "documents").to_pylist())
    lines = tmp_path / "out2"
    Pipeline(PipelineConfig.from_dict({"boilerplate": {"learn_min_share": 0.9}})).run([corpus], lines, workers=1)
    assert all(FOOTER not in d["text"] for d in read_dataset(lines, "documents").to_pylist())


def test_learned_removal_that_would_empty_a_document_is_rejected(tmp_path):
    corpus = _site(tmp_path, "valley", BODIES)
    (corpus / "valley" / "only-footer.txt").write_text(f"Short note here.\n\n{FOOTER}")
    out = tmp_path / "out"
    Pipeline(PipelineConfig.from_dict({"output": {"min_words": 1}})).run([corpus], out, workers=1)
    rejected = {r["source_id"]: r for r in read_dataset(out, "rejected").to_pylist()}
    row = rejected["valley/only-footer.txt"]
    assert (row["reason"], row["stage"]) == ("boilerplate_only", "boilerplate")
    assert FOOTER in row["text"]
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["counts"]["by_reason"] == {"boilerplate_only": 1}


def _record(text):
    return Record(doc_id="0" * 32, source=".", source_format="text", source_id="x", text=text)


def test_rule_removal_limit_rejects_or_keeps():
    text = "Also read: One story\nAlso read: Another story\nShort line."
    rejected = BoilerplateStage(BoilerplateConfig()).process(_record(text))
    assert isinstance(rejected, Rejected) and rejected.reason is Reason.BOILERPLATE_ONLY
    assert rejected.text == text
    kept = BoilerplateStage(BoilerplateConfig(on_excess="keep")).process(_record(text))
    assert isinstance(kept, Record) and kept.text == text and "boilerplate_not_removed" in kept.fixes
    assert not kept.removed
    loose = BoilerplateStage(BoilerplateConfig(max_removed_share=1.0)).process(_record(text))
    assert loose.text == "Short line."
    with pytest.raises(ConfigError, match="on_excess"):
        BoilerplateConfig(on_excess="drop")


def test_clean_table_learns_per_source():
    rows = [{"id": f"a{i}", "source": "a", "text": f"{body}\n{FOOTER}"} for i, body in enumerate(BODIES)]
    rows += [{"id": f"b{i}", "source": "b", "text": f"{body}\n{FOOTER}"} for i, body in enumerate(OTHER_BODIES[:2])]
    kept, rejected = clean_table(pa.Table.from_pylist(rows))
    assert rejected.num_rows == 0
    texts = dict(zip(kept["source_id"].to_pylist(), kept["text"].to_pylist(), strict=True))
    assert all(FOOTER not in texts[f"a{i}"] for i in range(8))
    assert all(FOOTER in texts[f"b{i}"] for i in range(2))  # two documents are not enough evidence
    assert kept.filter(pa.compute.equal(kept["source"], "a"))["removed"].to_pylist()[0][-1]["rule"] == LEARNED_RULE


def test_a_representative_is_never_rejected_after_its_duplicates(tmp_path):
    # one-line documents that differ only by a number: their lines fold to one learned key, so
    # removal would empty them; the representative of the exact duplicates must stay kept
    site = tmp_path / "corpus" / "tips"
    site.mkdir(parents=True)
    # numbers between most words: the documents share few word 3-grams, so they are not near
    # duplicates, but their lines fold to one key (digits are folded for learning)
    for i in range(8):
        (site / f"{i}.txt").write_text(f"Gate {i}1 row {i}2 seat {i}3 bus {i}4 stop {i}5 line {i}6")
    (site / "copy.txt").write_text("GATE 01 ROW 02 seat 03 bus 04 stop 05 line 06")
    out = tmp_path / "out"
    Pipeline(PipelineConfig.from_dict({"output": {"min_words": 1}})).run([tmp_path / "corpus"], out, workers=1)
    kept = {r["doc_id"]: r for r in read_dataset(out, "documents").to_pylist()}
    rejected = read_dataset(out, "rejected").to_pylist()
    duplicate = next(r for r in rejected if r["reason"] == "exact_duplicate")
    assert duplicate["duplicate_of"] in kept
    assert "boilerplate_not_removed" in kept[duplicate["duplicate_of"]]["fixes"]
    assert {r["reason"] for r in rejected} == {"exact_duplicate", "boilerplate_only"}
    assert validate_output(out) == []
