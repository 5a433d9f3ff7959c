"""Speed of text repair: ``clean_text`` and the decode stage's ``repair_text`` against plain
``ftfy.fix_text`` on the same texts, in one process, as ratios (figures vary ±20% between runs
on shared machines; the ratios are what to compare).

``normalize_whitespace`` (part of ``repair_text``) and the dedup stage's ``content_hash`` are
timed alone on the same texts.

Texts: news-sized documents (about 5.4 kB) built from the lingua-langid sentences of several
languages, paragraphs separated by blank lines, with a realistic sprinkle of damage (mojibake,
entities, no-break spaces) in a share of them. Run: ``python -m bench.bench_clean_text``.
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path

import ftfy

from bench.common import DEFAULT_DATA
from corpusclean import clean_text
from corpusclean.stages.decode import normalize_whitespace, repair_text
from corpusclean.stages.dedup import content_hash

LANGUAGES = ("en", "de", "fr", "es", "zh", "ru")


def build_documents(data: Path, count: int, size: int = 5400, seed: int = 0) -> list[str]:
    by_language: dict[str, list[str]] = {lang: [] for lang in LANGUAGES}
    with gzip.open(data / "lingua-langid" / "sentences.jsonl.gz", "rt", encoding="utf-8") as handle:
        for line in handle:
            case = json.loads(line)
            if case["expected"] in by_language:
                by_language[case["expected"]].append(case["input"])
    rng = random.Random(seed)
    documents = []
    for index in range(count):
        sentences = by_language[LANGUAGES[index % len(LANGUAGES)]]
        paragraphs, length = [], 0
        while length < size:
            paragraph = " ".join(rng.choice(sentences) for _ in range(3))
            paragraphs.append(paragraph)
            length += len(paragraph) + 2
        text = "\n\n".join(paragraphs)
        if index % 4 == 0:  # a quarter of the documents carry typical damage
            text = text.replace("’", "â€™").replace(" – ", " &ndash; ").replace(". ", ".\u00a0", 3)
        documents.append(text)
    return documents


def time_per_doc(function: Callable[[str], object], documents: list[str], repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        for document in documents:
            function(document)
        best = min(best, (time.perf_counter() - started) / len(documents))
    return best


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--docs", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    documents = build_documents(args.data, args.docs)
    clean_text(documents[0])  # load rules, warm caches
    conservative = ftfy.TextFixerConfig(uncurl_quotes=False, fix_character_width=False, fix_latin_ligatures=False)
    rows = [
        ("ftfy.fix_text (defaults)", lambda t: ftfy.fix_text(t)),
        ("ftfy.fix_text (conservative)", lambda t: ftfy.fix_text(t, conservative)),
        ("corpusclean repair_text", repair_text),
        ("corpusclean clean_text", clean_text),
        # two per-document steps of a run, for their share (issue 8)
        ("  normalize_whitespace", normalize_whitespace),
        ("  dedup content_hash", content_hash),
    ]
    results = {name: time_per_doc(function, documents, args.repeat) for name, function in rows}
    baseline = results["ftfy.fix_text (defaults)"]
    mean_chars = sum(map(len, documents)) / len(documents)
    print(f"{len(documents)} documents, mean {mean_chars:.0f} characters, best of {args.repeat}")
    print(f"{'':<32}{'ms/doc':>9}{'ratio':>8}")
    for name, seconds in results.items():
        print(f"{name:<32}{seconds * 1000:>9.3f}{seconds / baseline:>8.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
