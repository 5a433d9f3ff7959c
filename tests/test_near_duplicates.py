"""Near-duplicate documents and passages through the whole pipeline (global step, pass 2)."""

from __future__ import annotations

import json
import random
import shutil

import pyarrow as pa

from corpusclean import Pipeline, PipelineConfig, clean_table, validate_output
from corpusclean.decisions import PASSAGE_RULE
from tests.conftest import SAMPLE, read_dataset

ARTICLE = (SAMPLE / "002_8a28957ea02174a5.txt").read_text(encoding="utf-8")
OTHER = (SAMPLE / "003_697903a1038d4863.txt").read_text(encoding="utf-8")
QUOTE = (
    "“We will not stop until every family in this city has a safe and warm place to live, and until the "
    "last empty office tower has been turned into homes for the people who keep this city running,” "
    "the mayor told reporters outside city hall on Tuesday."
)


def _edited(text: str, seed: int, share: float = 0.05) -> str:
    rng = random.Random(seed)
    lines = []
    for line in text.split("\n"):
        words = [w for w in line.split(" ") if rng.random() > share]  # drop ~5% of the words
        lines.append(" ".join(words))
    return "\n".join(lines[: int(len(lines) * 0.9)])  # and truncate


def _corpus(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "original.txt").write_text(ARTICLE)
    (corpus / "copy-edited.txt").write_text(_edited(ARTICLE, 1))
    (corpus / "copy-shouted.txt").write_text(_edited(ARTICLE, 2).upper())
    (corpus / "unrelated.txt").write_text(OTHER)
    # two different articles that quote the same paragraph: not near-duplicates as wholes
    story_a = (SAMPLE / "000_a0e1a835e99c4b20.txt").read_text(encoding="utf-8").strip().split("\n\n")
    story_b = (SAMPLE / "001_3487882a76378314.txt").read_text(encoding="utf-8").strip().split("\n")
    (corpus / "story-a.txt").write_text("\n\n".join([*story_a[:4], QUOTE, *story_a[4:]]))
    (corpus / "story-b.txt").write_text("\n".join([*story_b[:2], QUOTE, *story_b[2:]]))
    return corpus


def test_near_duplicates_are_clustered_and_rejected(tmp_path):
    out = tmp_path / "out"
    report = Pipeline().run([_corpus(tmp_path)], out, workers=1)
    assert report.by_reason == {"near_duplicate": 2}
    documents = {r["source_id"]: r for r in read_dataset(out, "documents").to_pylist()}
    rejected = {r["source_id"]: r for r in read_dataset(out, "rejected").to_pylist()}
    # no dates: the smallest doc_id of the cluster is its representative
    cluster = {"original.txt", "copy-edited.txt", "copy-shouted.txt"}
    [representative] = [d for name, d in documents.items() if name in cluster]
    for name in cluster - {representative["source_id"]}:
        row = rejected[name]
        assert (row["stage"], row["reason"], row["duplicate_of"]) == (
            "dedup",
            "near_duplicate",
            representative["doc_id"],
        )
        assert 0.4 <= row["similarity"] < 1.0 and row["doc_id"] > representative["doc_id"]
    assert representative["near_dup_cluster"] == representative["doc_id"]
    assert documents["unrelated.txt"]["near_dup_cluster"] is None
    assert report.manifest["counts"]["near_duplicate_clusters"] == 1
    assert validate_output(out) == []


def test_representative_is_the_earliest_published(tmp_path):
    corpus = tmp_path / "c"
    corpus.mkdir()
    posts = [
        {
            "id": 1,
            "type": "post",
            "status": "publish",
            "link": "https://a.example/1",
            "date_gmt": "2024-05-02T10:00:00",
            "title": {"rendered": "Later copy"},
            "content": {"rendered": f"<p>{_edited(ARTICLE, 3)}</p>"},
        },
        {
            "id": 2,
            "type": "post",
            "status": "publish",
            "link": "https://a.example/2",
            "date_gmt": "2024-05-01T10:00:00",
            "title": {"rendered": "First"},
            "content": {"rendered": "".join(f"<p>{p}</p>" for p in ARTICLE.split("\n"))},
        },
    ]
    (corpus / "posts.json").write_text(json.dumps(posts))
    out = tmp_path / "out"
    Pipeline().run([corpus], out, workers=1)
    [kept] = read_dataset(out, "documents").to_pylist()
    [rejected] = read_dataset(out, "rejected").to_pylist()
    assert (kept["source_id"], rejected["source_id"]) == ("2", "1")
    assert rejected["duplicate_of"] == kept["doc_id"]


def test_passages_repeated_across_documents(tmp_path):
    out = tmp_path / "out"
    Pipeline().run([_corpus(tmp_path)], out, workers=1)
    passages = read_dataset(out, "passages").to_pylist()
    names = {r["doc_id"]: r["source_id"] for r in read_dataset(out, "documents").to_pylist()}
    assert {names[p["doc_id"]] for p in passages} == {"story-a.txt", "story-b.txt"}
    assert {p["text"] for p in passages} == {QUOTE}
    assert len({p["cluster_id"] for p in passages}) == 1
    assert sorted(p["similarity"] for p in passages)[-1] == 1.0
    manifest = json.loads((out / "manifest.json").read_text())
    assert (manifest["counts"]["passages"], manifest["counts"]["passage_clusters"]) == (2, 1)
    # the story texts are untouched: removal is an option, off by default
    assert all(
        QUOTE in d["text"] for d in read_dataset(out, "documents").to_pylist() if d["source_id"].startswith("story")
    )


def test_repeated_passages_can_be_removed_from_all_but_the_representative(tmp_path):
    out = tmp_path / "out"
    config = PipelineConfig.from_dict({"dedup": {"remove_repeated_passages": True}})
    Pipeline(config).run([_corpus(tmp_path)], out, workers=1)
    stories = sorted(
        (d for d in read_dataset(out, "documents").to_pylist() if d["source_id"].startswith("story")),
        key=lambda d: d["doc_id"],
    )
    first, second = stories
    assert QUOTE in first["text"] and QUOTE not in second["text"]
    [removal] = [r for r in second["removed"] if r["rule"] == PASSAGE_RULE]
    assert removal["text"] == QUOTE
    assert second["char_count"] == len(second["text"])
    assert validate_output(out) == []


def test_same_clusters_whatever_the_workers_and_input_order(tmp_path):
    corpus = _corpus(tmp_path)
    for group in ("g1", "g2"):
        (corpus / group).mkdir()
        for i, seed in enumerate(range(4)):
            (corpus / group / f"{group}-{i}.txt").write_text(_edited(OTHER if group == "g1" else ARTICLE, seed + 10))
    shutil.copytree(corpus, tmp_path / "mirror")
    one, two = tmp_path / "one", tmp_path / "two"
    Pipeline().run([corpus], one, workers=1)
    Pipeline().run([tmp_path / "mirror"], two, workers=2)
    for kind in ("documents", "rejected", "passages"):
        assert read_dataset(one, kind).equals(read_dataset(two, kind)), kind


def test_clean_table_finds_near_duplicates():
    table = pa.table({"id": ["a", "b", "c"], "text": [ARTICLE, _edited(ARTICLE, 5), OTHER]})
    kept, rejected = clean_table(table)
    assert kept.num_rows == 2 and rejected["reason"].to_pylist() == ["near_duplicate"]


def test_decision_tables_round_trip(tmp_path):
    from corpusclean.decisions import Decisions, global_step
    from corpusclean.engines.local import plan_tasks, run_pass1
    from corpusclean.sources import expand_inputs

    config = PipelineConfig()
    tasks = plan_tasks(expand_inputs([_corpus(tmp_path)]))
    run_pass1(tasks, config, tmp_path / "work", workers=1)
    decisions = global_step(config, [tmp_path / "work" / f"task-{t.task_id:06d}" for t in tasks])
    tables = decisions.to_tables()
    assert tables.documents["reason"].to_pylist().count("near_duplicate") == 2
    assert tables.passages.num_rows >= 2
    assert Decisions.from_tables(config, tables) == decisions
    assert Decisions.from_tables(config, tables).to_tables().equals(tables)


def test_copies_of_a_document_that_loses_its_near_cluster_name_the_kept_one(tmp_path):
    """X has an exact copy Y and is a near-duplicate of an earlier Z: Y must not name X (rejected)."""
    corpus = tmp_path / "c"
    corpus.mkdir()
    posts = [
        ("z", "2024-01-01T00:00:00", _edited(ARTICLE, 5)),
        ("x", "2024-02-01T00:00:00", ARTICLE),
        ("y", "2024-03-01T00:00:00", ARTICLE),
    ]
    lines = [json.dumps({"id": i, "text": text, "published_at": date}) for i, date, text in posts]
    (corpus / "posts.jsonl").write_text("\n".join(lines) + "\n")
    config = PipelineConfig.from_dict({"language": {"enabled": False}})
    for name in ("run-1", "run-2"):
        out = tmp_path / name
        Pipeline(config).run([corpus], out, workers=1)
        assert validate_output(out) == []
    kept = read_dataset(tmp_path / "run-1", "documents").to_pylist()
    rejected = {r["source_id"]: r for r in read_dataset(tmp_path / "run-1", "rejected").to_pylist()}
    [z] = kept
    assert z["source_id"] == "z"
    assert {name: r["duplicate_of"] for name, r in rejected.items()} == {"x": z["doc_id"], "y": z["doc_id"]}
    assert rejected["y"]["reason"] == "near_duplicate"
    assert rejected["y"]["similarity"] == rejected["x"]["similarity"]
    table = pa.table({"id": [p[0] for p in posts], "text": [p[2] for p in posts]})
    kept_table, rejected_table = clean_table(table, config)
    assert set(rejected_table["duplicate_of"].to_pylist()) == set(kept_table["doc_id"].to_pylist())
