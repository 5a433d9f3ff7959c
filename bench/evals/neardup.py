"""Evaluation of near-duplicate detection (``corpusclean.minhash``) on a labelled set built from
real article text with controlled edits.

Run from the repository root: ``python -m bench.evals.neardup [--data ../shared/data] [--no-sweep]``
(about a minute with the sweep, a few seconds without).

The set (:func:`build_dataset`, deterministic for a seed)
    Sources: the gold article bodies of ``scrapinghub-aeb`` with at least 150 tokens (news and blogs
    in English and a few other languages, Japanese among them) and the five texts of
    ``../shared/seeds``; sources that are themselves near-duplicates of an earlier source (exact
    word-3-gram Jaccard ≥ 0.2) are dropped so that the ground truth is clean. Each source gives
    one to five documents: the original sometimes, and variants made of one to three operations —
    word edits (insert, delete or substitute 1–5 % of the words; characters for text without
    spaces), sentence reorders (adjacent sentences swapped, a paragraph moved), truncation
    (70–95 % kept), added boilerplate lines (share/subscribe/copyright/"Read more" lines), case and
    whitespace changes (lower case, an upper-cased paragraph, doubled spaces, single line breaks
    between paragraphs, CRLF, no-break spaces, curly quotes).

    Hard negatives: 40 groups of two or three different sources, taken from the shortest third,
    get the same quoted paragraph (lingua-langid English sentences, 40–150 words, in quotation
    marks with an attribution, sometimes lightly edited) inserted into one more variant of each.
    Those documents must not be near-duplicates of each other (exact word-3-gram Jaccard up to
    0.27 with seed 0), but the quoted paragraph must come out as one passage cluster. Also, a
    quarter of the sources belong to one of ten "sites" whose 30–60-word footer all their
    documents repeat (template similarity between different articles).

Ground truth and scores
    Two documents are a positive pair when they derive from the same source. A method's clusters
    (connected components of its verified pairs) are scored pairwise: every pair inside a
    predicted cluster is a predicted pair. Passage recall: the share of document pairs sharing a
    quoted paragraph whose two copies of it (the passages most similar to the quote) fall in the
    same passage cluster.

Baseline: plain datasketch — ``MinHashLSH(threshold=0.8, num_perm=128)`` over ``MinHash`` of word
5-grams (``\\w+`` tokens of the lower-cased text, SHA-1 hashes), every document queried, every
returned pair taken as a duplicate, clusters as connected components.

Results (seed 0: 610 documents, 171 sources, 1,014 positive pairs, 72 hard-negative pairs)
    Exact Jaccard of the positives: minimum 0.29, 5th percentile 0.45 (3-grams); hard negatives:
    at most 0.27. Defaults (3-grams, 128 permutations, 32 bands × 4 rows, threshold 0.4, signature
    estimate): P 1.000, R 0.990, F1 0.995, no hard negative merged; passage recall 1.0 (72 pairs).
    Plain datasketch: P 1.000, R 0.255, F1 0.407. The sweep (``main``) shows why: 5-grams at 0.8
    keep only pairs with little editing; shorter shingles and a lower threshold recover them, and
    precision holds down to 0.3 (0.25 merges hard negatives).
"""

from __future__ import annotations

import argparse
import gzip
import itertools
import json
import random
import re
import sys
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from bench.common import DEFAULT_DATA, aeb_gold_bodies
from corpusclean import minhash

DEFAULT_SEEDS = DEFAULT_DATA.parent / "seeds"

#: Sources need at least this many tokens.
MIN_SOURCE_TOKENS = 150
#: A source this similar (exact word-3-gram Jaccard) to an earlier one is dropped.
SOURCE_OVERLAP_LIMIT = 0.2

BOILERPLATE_LINES = (
    "Share this article",
    "Share on Facebook Share on Twitter Share via Email",
    "Subscribe to our newsletter for the latest news and updates.",
    "Sign up for our daily briefing.",
    "Advertisement",
    "Follow us on Twitter and Instagram.",
    "© 2020 Example Media Group. All rights reserved.",
    "This article originally appeared on our partner site.",
    "Click here to read the full story.",
    "Related: Top stories of the week",
    "Photo: Reuters",
    "Comments are closed.",
)
QUOTE_ATTRIBUTIONS = (
    "she said.",
    "he said.",
    "the statement read.",
    "a spokesperson said.",
    "according to the report.",
)

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=\S)|(?<=[。！？])")


@dataclass
class SharedPassage:
    """A quoted paragraph inserted into documents of different sources."""

    text: str
    documents: list[int] = field(default_factory=list)


@dataclass
class NearDupDataset:
    texts: list[str]
    #: index of the source each document derives from (the ground truth)
    source: list[int]
    #: what was done to each document, for reading failures
    operations: list[str]
    source_names: list[str]
    shared: list[SharedPassage]

    @property
    def positive_pairs(self) -> set[tuple[int, int]]:
        by_source: dict[int, list[int]] = {}
        for doc, source in enumerate(self.source):
            by_source.setdefault(source, []).append(doc)
        return {pair for docs in by_source.values() for pair in itertools.combinations(docs, 2)}

    @property
    def hard_negative_pairs(self) -> set[tuple[int, int]]:
        return {
            (a, b)
            for shared in self.shared
            for a, b in itertools.combinations(sorted(shared.documents), 2)
            if self.source[a] != self.source[b]
        }


# --- sources -----------------------------------------------------------------------------------


def load_sources(data_dir: Path, seeds_dir: Path | None = None) -> list[tuple[str, str]]:
    """``(name, text)`` of the usable source articles, in a fixed order, paragraphs one per line."""
    candidates = aeb_gold_bodies(data_dir)
    seeds_dir = seeds_dir if seeds_dir is not None else data_dir.parent / "seeds"
    if seeds_dir.is_dir():
        candidates += [(f"seeds/{p.name}", p.read_text(encoding="utf-8")) for p in sorted(seeds_dir.glob("*.txt"))]
    candidates = [
        (name, "\n".join(minhash.split_paragraphs(text)))
        for name, text in candidates
        if len(minhash.tokenize(text)) >= MIN_SOURCE_TOKENS
    ]
    # drop sources that overlap an earlier one, so the ground truth has no hidden positives
    shingles = minhash.shingle_sets([text for _, text in candidates], ngram=3)
    pairs = np.array(list(itertools.combinations(range(len(candidates)), 2)), dtype=np.int64)
    similarity = minhash.shingle_jaccard(shingles, pairs)
    dropped = {int(b) for (_, b), s in zip(pairs, similarity, strict=True) if s >= SOURCE_OVERLAP_LIMIT}
    return [source for index, source in enumerate(candidates) if index not in dropped]


def _lingua_paragraphs(data_dir: Path, count: int, rng: random.Random, lowest: int, highest: int) -> list[str]:
    """``count`` paragraphs of random English lingua-langid sentences, ``lowest``–``highest`` words."""
    sentences = []
    with gzip.open(data_dir / "lingua-langid" / "sentences.jsonl.gz", "rt", encoding="utf-8") as handle:
        for line in handle:
            case = json.loads(line)
            if case["expected"] == "en" and 8 <= len(case["input"].split()) <= 40:
                sentences.append(case["input"].strip())
    rng.shuffle(sentences)
    quotes, position = [], 0
    for _ in range(count):
        target, words, chosen = rng.randint(lowest, highest), 0, []
        while words < target and position < len(sentences):
            chosen.append(sentences[position])
            words += len(sentences[position].split())
            position += 1
        quotes.append(" ".join(chosen))
    return quotes


# --- edit operations (each: list of paragraphs -> list of paragraphs) ---------------------------


def _no_spaces(paragraph: str) -> bool:
    return len(paragraph) > 15 * max(1, len(paragraph.split()))


def word_edits(paragraphs: list[str], rng: random.Random, rate: float | None = None) -> tuple[list[str], str]:
    """Insert, delete or substitute ``rate`` (1–5 %) of the words (characters in text without
    spaces), replacements drawn from the document's own words."""
    rate = rate if rate is not None else rng.uniform(0.01, 0.05)
    vocabulary = [w for p in paragraphs for w in (list(p) if _no_spaces(p) else p.split())] or ["the"]
    edited = []
    for paragraph in paragraphs:
        by_char = _no_spaces(paragraph)
        units = list(paragraph) if by_char else paragraph.split()
        out: list[str] = []
        for unit in units:
            if rng.random() >= rate:
                out.append(unit)
                continue
            action = rng.randrange(3)
            if action == 0:  # insert
                out += [unit, rng.choice(vocabulary)]
            elif action == 2:  # substitute
                out.append(rng.choice(vocabulary))
        edited.append(("" if by_char else " ").join(out))
    return [p for p in edited if p.strip()], f"edits{rate:.3f}"


def reorder(paragraphs: list[str], rng: random.Random) -> tuple[list[str], str]:
    """Swap adjacent sentences in one or two paragraphs, or move a paragraph."""
    paragraphs = list(paragraphs)
    if rng.random() < 0.4 and len(paragraphs) >= 3:
        moved = paragraphs.pop(rng.randrange(len(paragraphs)))
        paragraphs.insert(rng.randrange(len(paragraphs) + 1), moved)
        return paragraphs, "move-paragraph"
    swapped = 0
    for index in rng.sample(range(len(paragraphs)), len(paragraphs)):
        sentences = [s for s in _SENTENCE_END.split(paragraphs[index]) if s]
        if len(sentences) < 2:
            continue
        i = rng.randrange(len(sentences) - 1)
        sentences[i], sentences[i + 1] = sentences[i + 1], sentences[i]
        paragraphs[index] = ("" if _no_spaces(paragraphs[index]) else " ").join(sentences)
        swapped += 1
        if swapped == 2:
            break
    return paragraphs, f"swap-sentences{swapped}"


def truncate(paragraphs: list[str], rng: random.Random) -> tuple[list[str], str]:
    """Keep the first 70–95 % of the characters, cut at a word boundary."""
    keep = rng.uniform(0.70, 0.95)
    text = "\n".join(paragraphs)
    cut = int(len(text) * keep)
    space = max(text.rfind(" ", 0, cut), text.rfind("\n", 0, cut))
    if space > cut * 0.9:
        cut = space
    return [p for p in text[:cut].split("\n") if p.strip()], f"truncate{keep:.2f}"


def boilerplate(paragraphs: list[str], rng: random.Random) -> tuple[list[str], str]:
    """Add one to four boilerplate lines at the top, the bottom or in between."""
    paragraphs = list(paragraphs)
    count = rng.randint(1, 4)
    for line in rng.sample(BOILERPLATE_LINES, count):
        paragraphs.insert(rng.choice([0, len(paragraphs), rng.randrange(len(paragraphs) + 1)]), line)
    return paragraphs, f"boilerplate{count}"


def case_and_whitespace(text: str, rng: random.Random) -> tuple[str, str]:
    """One or two of: lower case, one paragraph upper-cased, doubled spaces, single line breaks,
    CRLF, no-break spaces, curly quotes."""
    names = rng.sample(
        ["lower", "upper-paragraph", "spaces", "single-breaks", "crlf", "nbsp", "quotes"], rng.randint(1, 2)
    )
    for name in names:
        if name == "lower":
            text = text.lower()
        elif name == "upper-paragraph":
            parts = text.split("\n\n")
            index = rng.randrange(len(parts))
            parts[index] = parts[index].upper()
            text = "\n\n".join(parts)
        elif name == "spaces":
            text = re.sub(" ", lambda m: "  " if rng.random() < 0.1 else " ", text)
        elif name == "single-breaks":
            text = text.replace("\n\n", "\n")
        elif name == "crlf":
            text = text.replace("\n", " \r\n")
        elif name == "nbsp":
            text = re.sub(" ", lambda m: "\u00a0" if rng.random() < 0.05 else " ", text)
        else:
            text = text.replace("'", "\u2019").replace('"', "\u201c")
    return text, "+".join(names)


_OPERATIONS = ("reorder", "edits", "truncate", "boilerplate", "case")


def make_variant(
    paragraphs: list[str], rng: random.Random, quote: str | None = None, operations: int | None = None
) -> tuple[str, str]:
    """A variant of an article (paragraphs) with one to three operations; ``quote`` inserted as a
    paragraph of its own when given. Returns the text and the operations done."""
    chosen = set(rng.sample(_OPERATIONS, operations if operations is not None else rng.choice([1, 2, 2, 3])))
    done = []
    for name, function in (("reorder", reorder), ("edits", word_edits), ("truncate", truncate)):
        if name in chosen:
            paragraphs, what = function(paragraphs, rng)
            done.append(what)
    if "boilerplate" in chosen:
        paragraphs, what = boilerplate(paragraphs, rng)
        done.append(what)
    if quote is not None:
        if rng.random() < 0.3:
            (quote,), _ = word_edits([quote], rng, rate=0.02)
        paragraphs = list(paragraphs)
        paragraphs.insert(rng.randrange(1, len(paragraphs) + 1), f"“{quote},” {rng.choice(QUOTE_ATTRIBUTIONS)}")
        done.append("quote")
    text = "\n\n".join(paragraphs)
    if "case" in chosen:
        text, what = case_and_whitespace(text, rng)
        done.append(what)
    return text, " ".join(done)


def build_dataset(
    data_dir: Path = DEFAULT_DATA,
    seed: int = 0,
    n_sources: int | None = None,
    quote_groups: int = 40,
    sites: int = 10,
    seeds_dir: Path | None = None,
) -> NearDupDataset:
    """The labelled set (see the module docstring); ``n_sources`` limits the sources used (all
    usable ones by default: 166 aeb bodies and the 5 seeds)."""
    rng = random.Random(seed)
    sources = load_sources(data_dir, seeds_dir)
    if n_sources is not None and n_sources < len(sources):
        sources = sorted(rng.sample(sources, n_sources))
    source_paragraphs = [text.split("\n") for _, text in sources]
    # a quarter of the sources come from one of a few "sites" whose footer every page repeats
    footers = _lingua_paragraphs(data_dir, sites, rng, 30, 60)
    for paragraphs in source_paragraphs:
        if footers and rng.random() < 0.25:
            paragraphs.append(rng.choice(footers))
    texts: list[str] = []
    labels: list[int] = []
    operations: list[str] = []

    def add(text: str, source: int, what: str) -> int:
        texts.append(text)
        labels.append(source)
        operations.append(what)
        return len(texts) - 1

    for index, paragraphs in enumerate(source_paragraphs):
        count = rng.choice([1, 2, 3, 3, 4, 5])
        if count == 1 or rng.random() < 0.5:
            add("\n\n".join(paragraphs), index, "original")
            count -= 1
        for _ in range(count):
            text, what = make_variant(paragraphs, rng)
            add(text, index, what)

    # hard negatives: a quoted paragraph shared by short articles from different sources
    by_length = sorted(range(len(sources)), key=lambda i: len(minhash.tokenize(sources[i][1])))
    short = by_length[: max(6, len(by_length) // 3)]
    shared = []
    for quote in _lingua_paragraphs(data_dir, quote_groups, rng, 40, 150):
        members = rng.sample(short, rng.choice([2, 2, 3]))
        passage = SharedPassage(quote)
        for source in members:
            text, what = make_variant(source_paragraphs[source], rng, quote=quote, operations=rng.choice([0, 1, 1, 2]))
            passage.documents.append(add(text, source, what))
        shared.append(passage)

    # documents in a shuffled order, so nothing depends on the order they were made in
    order = list(range(len(texts)))
    rng.shuffle(order)
    position = {old: new for new, old in enumerate(order)}
    for passage in shared:
        passage.documents = sorted(position[d] for d in passage.documents)
    return NearDupDataset(
        texts=[texts[i] for i in order],
        source=[labels[i] for i in order],
        operations=[operations[i] for i in order],
        source_names=[name for name, _ in sources],
        shared=shared,
    )


# --- scoring -----------------------------------------------------------------------------------


def cluster_pairs(labels: np.ndarray) -> set[tuple[int, int]]:
    """Every pair of documents inside a cluster."""
    return {
        (int(a), int(b))
        for members in minhash.component_members(labels)
        for a, b in itertools.combinations(sorted(members.tolist()), 2)
    }


def pair_scores(predicted: set[tuple[int, int]], truth: set[tuple[int, int]]) -> dict[str, float]:
    true_positives = len(predicted & truth)
    precision = true_positives / len(predicted) if predicted else 1.0
    recall = true_positives / len(truth) if truth else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "predicted_pairs": len(predicted),
        "true_pairs": len(truth),
    }


def passage_recall(
    dataset: NearDupDataset,
    params: minhash.MinHashParams = minhash.DEFAULT_PASSAGE_PARAMS,
    min_words: int = minhash.DEFAULT_PASSAGE_MIN_WORDS,
    exact_verification: bool = False,
) -> dict[str, Any]:
    """Share of document pairs sharing a quote whose copies of it land in one passage cluster."""
    found, clusters = minhash.passage_clusters(dataset.texts, params, min_words, exact_verification)
    cluster_of = np.full(len(found.texts), -1, dtype=np.int64)
    for number, members in enumerate(clusters):
        cluster_of[members] = number
    # the copy of a quote in a document: its passage most similar to the quote
    by_document: dict[int, list[int]] = {}
    for index, doc in enumerate(found.doc_index.tolist()):
        by_document.setdefault(doc, []).append(index)
    hits = total = 0
    for shared in dataset.shared:
        copies = {}
        for doc in shared.documents:
            candidates = by_document.get(doc, [])
            if not candidates:
                continue
            texts = [shared.text] + [found.texts[i] for i in candidates]
            shingles = minhash.shingle_sets(texts, params.ngram)
            similarity = minhash.shingle_jaccard(shingles, np.array([[0, j + 1] for j in range(len(candidates))]))
            if similarity.max() >= 0.3:
                copies[doc] = candidates[int(similarity.argmax())]
        for a, b in itertools.combinations(shared.documents, 2):
            total += 1
            if (
                a in copies
                and b in copies
                and cluster_of[copies[a]] >= 0
                and cluster_of[copies[a]] == cluster_of[copies[b]]
            ):
                hits += 1
    return {
        "passage_recall": hits / total if total else 1.0,
        "passage_pairs": total,
        "passages": len(found.texts),
        "passage_clusters": len(clusters),
    }


def evaluate(
    dataset: NearDupDataset,
    params: minhash.MinHashParams = minhash.DEFAULT_PARAMS,
    exact_verification: bool = False,
    passages: bool = True,
    passage_params: minhash.MinHashParams = minhash.DEFAULT_PASSAGE_PARAMS,
) -> dict[str, Any]:
    """Pairwise scores of our clusters (and passage recall) on ``dataset``."""
    started = time.perf_counter()
    shingles = minhash.shingle_sets(dataset.texts, params.ngram)
    signature_matrix = minhash.signatures(shingles, params.num_perm, params.seed, params.scheme)
    keys = minhash.band_keys(signature_matrix, params.bands, params.rows)
    candidates = minhash.candidate_pairs(keys, params.max_bucket_size, params.bucket_anchors)
    pairs, _ = minhash.verify_pairs(
        candidates, params.threshold, signature_matrix, shingles if exact_verification else None
    )
    labels = minhash.connected_components(len(dataset.texts), pairs)
    seconds = time.perf_counter() - started
    truth = dataset.positive_pairs
    candidate_set = {(int(a), int(b)) for a, b in candidates}
    result = pair_scores(cluster_pairs(labels), truth)
    result.update(
        candidates=len(candidates),
        candidate_recall=len(candidate_set & truth) / len(truth) if truth else 1.0,
        verified_pairs=len(pairs),
        hard_negatives_merged=len(cluster_pairs(labels) & dataset.hard_negative_pairs),
        seconds=seconds,
    )
    if passages:
        result.update(passage_recall(dataset, passage_params, exact_verification=exact_verification))
    return result


def evaluate_datasketch(
    dataset: NearDupDataset, threshold: float = 0.8, num_perm: int = 128, ngram: int = 5
) -> dict[str, Any]:
    """Plain datasketch: MinHashLSH over word n-gram MinHash, query results taken as duplicates."""
    from datasketch import MinHash, MinHashLSH

    started = time.perf_counter()
    lsh = MinHashLSH(threshold=threshold, num_perm=num_perm)
    sketches = []
    for index, text in enumerate(dataset.texts):
        words = re.findall(r"\w+", text.lower())
        grams = {" ".join(words[i : i + ngram]) for i in range(max(1, len(words) - ngram + 1))}
        sketch = MinHash(num_perm=num_perm)
        sketch.update_batch([g.encode("utf-8") for g in grams])
        lsh.insert(index, sketch)
        sketches.append(sketch)
    found = {(min(i, j), max(i, j)) for i, sketch in enumerate(sketches) for j in lsh.query(sketch) if j != i}
    labels = minhash.connected_components(len(dataset.texts), np.array(sorted(found), dtype=np.int64).reshape(-1, 2))
    seconds = time.perf_counter() - started
    result = pair_scores(cluster_pairs(labels), dataset.positive_pairs)
    result.update(
        hard_negatives_merged=len(cluster_pairs(labels) & dataset.hard_negative_pairs),
        seconds=seconds,
    )
    return result


# --- report ------------------------------------------------------------------------------------


def similarity_profile(dataset: NearDupDataset, ngram: int) -> dict[str, list[float]]:
    """Exact shingle Jaccard of the positive pairs and of the hard negatives (for reading)."""
    shingles = minhash.shingle_sets(dataset.texts, ngram)
    result = {}
    for name, pairs in (("positives", dataset.positive_pairs), ("hard_negatives", dataset.hard_negative_pairs)):
        similarity = minhash.shingle_jaccard(shingles, np.array(sorted(pairs), dtype=np.int64).reshape(-1, 2))
        result[name] = (
            np.quantile(similarity, [0.0, 0.01, 0.05, 0.25, 0.5]).round(3).tolist() if len(similarity) else []
        )
        if name == "hard_negatives" and len(similarity):
            result[name] = np.quantile(similarity, [0.5, 0.95, 0.99, 1.0]).round(3).tolist()
    return result


def oracle_sweep(
    dataset: NearDupDataset, ngrams=(2, 3, 4, 5), thresholds=(0.2, 0.25, 0.3, 0.4, 0.5, 0.6, 0.7)
) -> list[dict]:
    """Exact Jaccard on all pairs (no LSH): the best any MinHash setting can reach per shingle size."""
    count = len(dataset.texts)
    all_pairs = np.array(list(itertools.combinations(range(count), 2)), dtype=np.int64)
    rows = []
    for ngram in ngrams:
        similarity = minhash.shingle_jaccard(minhash.shingle_sets(dataset.texts, ngram), all_pairs)
        for threshold in thresholds:
            labels = minhash.connected_components(count, all_pairs[similarity >= threshold])
            rows.append(
                {"ngram": ngram, "threshold": threshold, **pair_scores(cluster_pairs(labels), dataset.positive_pairs)}
            )
    return rows


SWEEP_LSH = ((128, 32, 4), (112, 28, 4), (64, 16, 4), (108, 36, 3), (96, 32, 3), (128, 21, 6), (128, 16, 8))
SWEEP_THRESHOLDS = (0.3, 0.4, 0.5, 0.6)


def lsh_sweep(dataset: NearDupDataset, ngrams=(3, 4), thresholds=SWEEP_THRESHOLDS) -> list[dict]:
    """Our chain for each shingle size, LSH shape, threshold and verification."""
    rows = []
    for ngram, (num_perm, bands, rows_per_band), threshold, exact in itertools.product(
        ngrams, SWEEP_LSH, thresholds, (False, True)
    ):
        params = replace(
            minhash.DEFAULT_PARAMS, ngram=ngram, num_perm=num_perm, bands=bands, rows=rows_per_band, threshold=threshold
        )
        result = evaluate(dataset, params, exact_verification=exact, passages=False)
        rows.append(
            {"ngram": ngram, "num_perm": num_perm, "bands": bands, "rows": rows_per_band, "threshold": threshold,
             "verify": "exact" if exact else "estimate", **result}
        )  # fmt: skip
    return rows


def passage_sweep(dataset: NearDupDataset, ngrams=(2, 3, 4), thresholds=(0.5, 0.6, 0.7, 0.8)) -> list[dict]:
    """Passage recall per shingle size, threshold and verification (LSH shape of the defaults)."""
    rows = []
    for ngram, threshold, exact in itertools.product(ngrams, thresholds, (False, True)):
        params = replace(minhash.DEFAULT_PASSAGE_PARAMS, ngram=ngram, threshold=threshold)
        rows.append(
            {"ngram": ngram, "threshold": threshold, "verify": "exact" if exact else "estimate",
             **passage_recall(dataset, params, exact_verification=exact)}
        )  # fmt: skip
    return rows


def _format(result: dict[str, Any]) -> str:
    return (
        f"P {result['precision']:.4f}  R {result['recall']:.4f}  F1 {result['f1']:.4f}  "
        f"pairs {result['predicted_pairs']}/{result['true_pairs']}  hard negatives merged {result['hard_negatives_merged']}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--sources", type=int, default=None, help="limit the number of source articles")
    parser.add_argument("--no-sweep", action="store_true", help="only the defaults and the baseline")
    args = parser.parse_args(argv)

    dataset = build_dataset(args.data, seed=args.seed, n_sources=args.sources)
    print(
        f"{len(dataset.texts)} documents from {len(dataset.source_names)} sources; "
        f"{len(dataset.positive_pairs)} positive pairs, {len(dataset.hard_negative_pairs)} hard-negative pairs "
        f"({len(dataset.shared)} shared quotes)"
    )
    params = minhash.DEFAULT_PARAMS
    for ngram in (3, 5):
        print(f"exact Jaccard quantiles, word {ngram}-grams: {similarity_profile(dataset, ngram)}")

    if not args.no_sweep:
        print("\n# 1. exact Jaccard on all pairs, no LSH (upper bound per shingle size)")
        print(f"{'ngram':>5} {'thr':>5} {'P':>7} {'R':>7} {'F1':>7}")
        for row in oracle_sweep(dataset):
            print(
                f"{row['ngram']:>5} {row['threshold']:>5} {row['precision']:>7.4f} {row['recall']:>7.4f} {row['f1']:>7.4f}"
            )
        print("\n# 2. LSH + verification (clusters = connected components); index bytes = 8 * bands;")
        print("#    candR = share of true pairs among the LSH candidates; P/R/F1 per verification (estimate | exact)")
        print(f"{'ngram':>5} {'perm':>5} {'b×r':>6} {'bytes':>5} {'thr':>5} {'cand':>6} {'candR':>6}"
              f" {'P est':>7} {'R est':>7} {'F1 est':>7} | {'P ex':>7} {'R ex':>7} {'F1 ex':>7}")  # fmt: skip
        rows = lsh_sweep(dataset)
        for estimate, exact in zip(rows[0::2], rows[1::2], strict=True):
            print(
                f"{estimate['ngram']:>5} {estimate['num_perm']:>5} {estimate['bands']:>3}×{estimate['rows']:<2} "
                f"{8 * estimate['bands']:>5} {estimate['threshold']:>5} {estimate['candidates']:>6} "
                f"{estimate['candidate_recall']:>6.3f} {estimate['precision']:>7.4f} {estimate['recall']:>7.4f} "
                f"{estimate['f1']:>7.4f} | {exact['precision']:>7.4f} {exact['recall']:>7.4f} {exact['f1']:>7.4f}"
            )
        print(f"\n# 3. passages (at least {minhash.DEFAULT_PASSAGE_MIN_WORDS} tokens): recall of the shared quotes")
        print(f"{'ngram':>5} {'thr':>5} {'verify':>8} {'recall':>7} {'clusters':>8}")
        for row in passage_sweep(dataset):
            print(
                f"{row['ngram']:>5} {row['threshold']:>5} {row['verify']:>8} {row['passage_recall']:>7.4f} "
                f"{row['passage_clusters']:>8}"
            )

    print(f"\n# defaults: {params}")
    for exact in (False, True):
        result = evaluate(dataset, params, exact_verification=exact)
        label = "exact Jaccard" if exact else "signature estimate"
        print(f"ours, verified by {label:<18} {_format(result)}  passage recall {result['passage_recall']:.4f} "
              f"({result['passage_pairs']} pairs)  {result['seconds']:.2f}s")  # fmt: skip
    baseline = evaluate_datasketch(dataset)
    print(f"datasketch MinHashLSH 5-grams t=0.8  {_format(baseline)}  {baseline['seconds']:.2f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
