"""The Ray engine's global step computes exactly the local engine's decision tables.

A local Ray instance with 2 CPUs is started once for the module. The side tables come from the
local pass 1 (the same shards feed both global steps), so any difference is the global step's.
"""

from __future__ import annotations

import json
import logging
import random
import shutil
from pathlib import Path

import pyarrow as pa
import pytest

from corpusclean import PipelineConfig
from corpusclean.decisions import DecisionTables, global_step
from corpusclean.engines.local import plan_tasks, run_pass1
from corpusclean.sources import expand_inputs
from tests.conftest import FIXTURES, SAMPLE

ray = pytest.importorskip("ray", reason="Ray is not installed: pip install 'corpusclean[ray]' to run these tests")
ray_global_step = pytest.importorskip("corpusclean.engines.ray").ray_global_step

CHAIN_LENGTH = 150
SMALL_BUCKETS = {"max_bucket_size": 4, "bucket_anchors": 2}
#: Pass 1 without language detection (most of its time): with no language allow-list it rejects
#: nothing, and the side tables do not depend on it.
NO_LANGUAGE = {"language": {"enabled": False}}


@pytest.fixture(scope="module")
def ray_cluster():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    yield
    ray.shutdown()


def _shards(inputs: list[Path], config: PipelineConfig, work: Path) -> list[Path]:
    tasks = plan_tasks(expand_inputs(inputs))
    run_pass1(tasks, config, work, workers=2)
    return [work / f"task-{task.task_id:06d}" for task in tasks]


def _differences(expected: DecisionTables, found: DecisionTables) -> str:
    lines = []
    for name in ("documents", "passages", "learned"):
        want, got = getattr(expected, name), getattr(found, name)
        if not want.equals(got):
            missing = [row for row in want.to_pylist() if row not in got.to_pylist()][:5]
            extra = [row for row in got.to_pylist() if row not in want.to_pylist()][:5]
            lines.append(
                f"{name}: {want.num_rows} rows expected, {got.num_rows} found; missing {missing}; extra {extra}"
            )
            if want.schema != got.schema:
                lines.append(f"{name} schema: {want.schema} != {got.schema}")
    return "\n".join(lines)


def _assert_same(config: PipelineConfig, shards: list[Path]) -> DecisionTables:
    expected = global_step(config, shards).to_tables()
    found = ray_global_step(config, shards)
    assert found.equals(expected), _differences(expected, found)
    return expected


# --- a generated corpus with every kind of decision -------------------------------------------------


def _words(rng: random.Random, vocabulary: list[str], count: int) -> list[str]:
    return [rng.choice(vocabulary) for _ in range(count)]


def _article(rng: random.Random, vocabulary: list[str]) -> list[str]:
    return [" ".join(_words(rng, vocabulary, rng.randint(25, 45))).capitalize() + "." for _ in range(rng.randint(2, 4))]


def _edited(rng: random.Random, paragraphs: list[str], share: float = 0.05) -> list[str]:
    kept = [" ".join(w for w in p.split(" ") if rng.random() > share) for p in paragraphs]
    return kept[: max(1, len(kept) - rng.randint(0, 1))]


def _generated_corpus(root: Path) -> Path:
    """About 2,900 documents: unrelated articles over six sites with their footer lines, near
    duplicate families (some larger than the small bucket cap), exact copies, templated pages
    whose buckets are large and whose pairs are near the threshold (so the anchor cap changes the
    clusters), quotes shared by several articles, dated WordPress copies whose earliest is not
    the smallest doc_id, and a chain of documents where only neighbours are near-duplicates."""
    rng = random.Random(11)
    syllables = ["ka", "lo", "mi", "ne", "ru", "sa", "ti", "vo", "ze", "pa", "qui", "dor", "fen", "gal", "hum"]
    vocabulary = sorted({"".join(rng.choice(syllables) for _ in range(rng.randint(2, 4))) for _ in range(6000)})
    sites = [f"site{k}.example" for k in range(6)]
    footers = {site: f"The {site} team thanks the harbour volunteers of Dorvale." for site in sites}
    quotes = [" ".join(_words(rng, vocabulary, rng.randint(25, 35))) + "." for _ in range(40)]
    rows: list[dict[str, str]] = []

    def add(paragraphs: list[str], site: str, footer: bool | None = None) -> None:
        if footer if footer is not None else rng.random() < 0.6:
            paragraphs = [*paragraphs, footers[site]]
        rows.append({"id": f"r{len(rows)}", "url": f"https://{site}/{len(rows)}", "text": "\n".join(paragraphs)})

    bases = [_article(rng, vocabulary) for _ in range(2000)]
    for base in bases:
        add(base, rng.choice(sites))
    for base in bases[:200]:  # near-duplicate families of two to four
        for _ in range(rng.randint(1, 3)):
            add(_edited(rng, base), rng.choice(sites))
    for base in bases[200:300]:  # exact copies: case and punctuation differ, the content hash does not
        add([p.upper().replace(".", "!") for p in base], rng.choice(sites), footer=False)
    for family in bases[300:303]:  # families larger than the small bucket cap
        for _ in range(12):
            add(_edited(rng, family, share=0.03), rng.choice(sites))
    for _ in range(3):  # templates: a shared block and a private one, pairs just around the threshold
        template = " ".join(_words(rng, vocabulary, 60))
        for _ in range(40):
            add([template, " ".join(_words(rng, vocabulary, rng.randint(35, 55)))], "templates.example", footer=False)
    for quote in quotes:  # a quote in several unrelated articles
        for _ in range(rng.randint(2, 4)):
            article = _article(rng, vocabulary)
            article.insert(rng.randint(0, len(article)), f"“{quote}” the spokesperson said.")
            add(article, rng.choice(sites))
    stream = _words(rng, vocabulary, 10 * CHAIN_LENGTH + 60)
    for i in range(CHAIN_LENGTH):  # neighbours share 50 of 60 words, documents three apart only 30
        add([" ".join(stream[10 * i : 10 * i + 60])], "chain.example", footer=False)

    corpus = root / "generated"
    (corpus / "jsonl").mkdir(parents=True)
    order = list(range(len(rows)))
    rng.shuffle(order)
    for part in range(8):
        lines = [json.dumps(rows[i]) for i in order[part::8]]
        (corpus / "jsonl" / f"part-{part}.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    # WordPress copies with dates: the latest posts come first, so the earliest is not the first id
    posts = []
    for n, base in enumerate(bases[400:440]):
        for copy in range(3):
            paragraphs = base if copy == 0 else _edited(rng, base)
            date = None if (n + copy) % 5 == 0 else f"2024-0{1 + n % 9}-{28 - 9 * copy:02d}T10:00:00"
            post = {
                "id": 10 * n + copy,
                "type": "post",
                "status": "publish",
                "link": f"https://news.example/{n}-{copy}",
                "title": {"rendered": f"Story {n}"},
                "content": {"rendered": "".join(f"<p>{p}</p>" for p in paragraphs)},
            }
            if date:
                post["date_gmt"] = date
            posts.append(post)
    (corpus / "posts.json").write_text(json.dumps(posts), encoding="utf-8")
    return corpus


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> list[Path]:
    root = tmp_path_factory.mktemp("ray-global-step")
    return _shards([_generated_corpus(root)], PipelineConfig.from_dict(NO_LANGUAGE), root / "pass1")


# --- tests ----------------------------------------------------------------------------------------------


def test_generated_corpus(ray_cluster, generated):
    tables = _assert_same(PipelineConfig.from_dict(NO_LANGUAGE), generated)
    reasons = tables.documents["reason"].to_pylist()
    assert reasons.count("exact_duplicate") >= 30 and reasons.count("near_duplicate") >= 300
    assert tables.passages.num_rows >= 80 and tables.learned.num_rows >= 6
    # dates decide some representatives: not every one is the smallest doc_id of its cluster
    rows = tables.documents.filter(pa.compute.is_valid(tables.documents["near_dup_cluster"])).to_pylist()
    clusters: dict[str, list[str]] = {}
    for row in rows:
        clusters.setdefault(row["near_dup_cluster"], []).append(row["doc_id"])
    assert any(representative != min(members) for representative, members in clusters.items())
    # the chain is one component, found through many rounds of neighbours
    assert max(len(members) for members in clusters.values()) >= CHAIN_LENGTH


def test_generated_corpus_with_buckets_over_the_cap(ray_cluster, generated, caplog):
    """Buckets above ``max_bucket_size`` pair their members with the first ``bucket_anchors``
    only; and the partition count (5 here, 2 by default, 1 for the components of a small graph)
    changes nothing. With 5 partitions the components take several rounds."""
    config = PipelineConfig.from_dict({**NO_LANGUAGE, "dedup": SMALL_BUCKETS, "boilerplate": {"learn_min_share": 0.3}})
    expected = global_step(config, generated).to_tables()
    with caplog.at_level(logging.DEBUG, logger="corpusclean.engines.ray"):
        found = ray_global_step(config, generated, partitions=5)
    assert found.equals(expected), _differences(expected, found)
    assert any("connected components: round 3" in message for message in caplog.messages)
    # families larger than the cap: their buckets hold more than max_bucket_size documents
    sizes: dict[str, int] = {}
    for cluster in expected.documents["near_dup_cluster"].to_pylist():
        if cluster is not None:
            sizes[cluster] = sizes.get(cluster, 0) + 1
    assert sorted(sizes.values())[-4] > SMALL_BUCKETS["max_bucket_size"]
    # the cap changes what is found, so the case is not trivially the default one
    assert not expected.equals(global_step(PipelineConfig.from_dict(NO_LANGUAGE), generated).to_tables())


def test_fixtures(ray_cluster, tmp_path):
    config = PipelineConfig.from_dict(NO_LANGUAGE)
    shards = _shards([FIXTURES], config, tmp_path / "pass1")
    _assert_same(config, shards)


def test_sample_with_variants_given_as_uris(ray_cluster, tmp_path):
    """The five sample articles with a copy-edited variant of each and an exact copy of one;
    shards named by URI, as they would be on object storage (``file://`` here)."""
    corpus = tmp_path / "sample"
    shutil.copytree(SAMPLE, corpus)
    rng = random.Random(5)
    for path in sorted(SAMPLE.glob("*.txt")):
        paragraphs = path.read_text(encoding="utf-8").split("\n")
        (corpus / f"variant-{path.name}").write_text("\n".join(_edited(rng, paragraphs)), encoding="utf-8")
    shutil.copy(path, corpus / "copy.txt")
    config = PipelineConfig.from_dict({**NO_LANGUAGE, "boilerplate": {"learn_min_documents": 2}})
    shards = _shards([corpus], config, tmp_path / "pass1")
    expected = global_step(config, shards).to_tables()
    found = ray_global_step(config, [shard.as_uri() for shard in shards])
    assert found.equals(expected), _differences(expected, found)
    reasons = expected.documents["reason"].to_pylist()
    assert reasons.count("exact_duplicate") == 1 and reasons.count("near_duplicate") >= 4


def test_dedup_off_and_no_shards(ray_cluster, tmp_path):
    config = PipelineConfig.from_dict({**NO_LANGUAGE, "dedup": {"enabled": False}, "boilerplate": {"learn": False}})
    shards = _shards([SAMPLE], config, tmp_path / "pass1")
    tables = _assert_same(config, shards)
    assert (tables.documents.num_rows, tables.passages.num_rows, tables.learned.num_rows) == (0, 0, 0)
    assert ray_global_step(config, []).equals(tables)
