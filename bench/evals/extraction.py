"""Evaluation of HTML → main text on public labelled pages, against plain trafilatura.

Run from the repository root: ``python -m bench.evals.extraction [--data ../shared/data]``.

- scrapinghub-aeb (181 news pages, gold article bodies): the upstream metric of the Article
  Extraction Benchmark: ``\\w+`` tokens, multisets of 4-gram shingles, per-page precision,
  recall and F1 from the multiset overlap, averaged over pages.
- trafilatura-eval (300 pages, 897 must-have and 906 must-not-have snippets): whitespace
  normalized containment, as trafilatura's own evaluation scores it (soft hyphens and zero-width
  characters also removed on both sides); the *leak* is the share of must-not-have snippets found
  in the output.

"corpusclean" is the per-record path a run takes on an HTML file: decode (bytes → text, repair),
extract, boilerplate rules. "trafilatura" is ``trafilatura.extract`` with the call each benchmark
publishes. Both run in this process on the same bytes; timings are per page, best of one pass.
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import trafilatura

from bench.common import DEFAULT_DATA
from corpusclean.config import PipelineConfig
from corpusclean.records import Record
from corpusclean.stages import build_stages, run_stages

_TOKEN = re.compile(r"\w+")
_SPACE = re.compile(r"\s+")
#: Soft hyphens and zero-width characters: corpusclean removes them (a documented fix), so they
#: are removed from both sides of a comparison, like whitespace differences.
_INVISIBLE = re.compile("[\u00ad\u200b\u2060\ufeff]")


def _normalize(text: str) -> str:
    return _SPACE.sub(" ", _INVISIBLE.sub("", text)).strip()


Extractor = Callable[[bytes], str]


def corpusclean_extractor(config: PipelineConfig | None = None) -> Extractor:
    """The per-record stages a run applies to an HTML file, up to boilerplate removal."""
    config = config or PipelineConfig()
    config = config.replace(language={"enabled": False}, dedup={"enabled": False}, output={"min_words": 0})
    stages = build_stages(config)

    def extract(html: bytes) -> str:
        record = Record(
            doc_id="0" * 32, source=".", source_format="html", source_id="page", raw=html, markup_kind="page"
        )
        result = run_stages(stages, [record])
        return result.records[0].text or "" if result.records else ""

    return extract


def trafilatura_extractor(**options: Any) -> Extractor:
    def extract(html: bytes) -> str:
        return trafilatura.extract(html, **options) or ""

    return extract


def _shingles(text: str, n: int = 4) -> Counter[tuple[str, ...]]:
    tokens = _TOKEN.findall(text)
    return Counter(tuple(tokens[i : i + n]) for i in range(max(len(tokens) - n + 1, 1 if tokens else 0)))


def shingle_prf(expected: str, predicted: str) -> tuple[float, float, float]:
    """The AEB metric for one page: precision, recall, F1 of 4-gram shingle multisets.

    >>> shingle_prf("a b c d e", "a b c d e")
    (1.0, 1.0, 1.0)
    """
    truth, guess = _shingles(expected), _shingles(predicted)
    true_positive = sum((truth & guess).values())
    false_positive = sum(guess.values()) - true_positive
    false_negative = sum(truth.values()) - true_positive
    if not truth and not guess:
        return 1.0, 1.0, 1.0
    precision = true_positive / (true_positive + false_positive) if guess else 0.0
    recall = true_positive / (true_positive + false_negative) if truth else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def evaluate_aeb(data: Path, extractors: dict[str, Extractor]) -> dict[str, dict[str, float]]:
    cases = [
        json.loads(line) for line in gzip.open(data / "scrapinghub-aeb" / "cases.jsonl.gz", "rt", encoding="utf-8")
    ]
    pages = [(case, gzip.decompress((data / "scrapinghub-aeb" / case["input"]).read_bytes())) for case in cases]
    results = {}
    for name, extractor in extractors.items():
        totals = [0.0, 0.0, 0.0]
        started = time.perf_counter()
        for case, html in pages:
            for i, value in enumerate(shingle_prf(case["expected"], extractor(html))):
                totals[i] += value
        seconds = time.perf_counter() - started
        results[name] = {
            "precision": totals[0] / len(pages),
            "recall": totals[1] / len(pages),
            "f1": totals[2] / len(pages),
            "pages": len(pages),
            "ms_per_page": seconds / len(pages) * 1000,
        }
    return results


def evaluate_snippets(data: Path, extractors: dict[str, Extractor]) -> dict[str, dict[str, float]]:
    lines = (data / "trafilatura-eval" / "cases.jsonl").read_text(encoding="utf-8").split("\n")
    cases = [json.loads(line) for line in lines if line.strip()]
    pages = [(case, gzip.decompress((data / "trafilatura-eval" / case["input"]).read_bytes())) for case in cases]
    results = {}
    for name, extractor in extractors.items():
        counts: Counter[str] = Counter()
        started = time.perf_counter()
        for case, html in pages:
            text = _normalize(extractor(html))
            for snippet in case["with"]:
                counts["tp" if _normalize(snippet) in text else "fn"] += 1
            for snippet in case["without"]:
                counts["fp" if _normalize(snippet) in text else "tn"] += 1
        seconds = time.perf_counter() - started
        precision = counts["tp"] / (counts["tp"] + counts["fp"])
        recall = counts["tp"] / (counts["tp"] + counts["fn"])
        results[name] = {
            **counts,
            "precision": precision,
            "recall": recall,
            "f1": 2 * precision * recall / (precision + recall),
            "must_have_rate": recall,
            "leak": counts["fp"] / (counts["fp"] + counts["tn"]),
            "pages": len(pages),
            "ms_per_page": seconds / len(pages) * 1000,
        }
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    args = parser.parse_args(argv)
    ours = corpusclean_extractor()
    aeb = evaluate_aeb(args.data, {"corpusclean": ours, "trafilatura": trafilatura_extractor(include_comments=False)})
    print("scrapinghub-aeb (181 pages): 4-gram shingle P/R/F1 averaged per page")
    print(f"  {'':<14}{'precision':>10}{'recall':>9}{'F1':>8}{'ms/page':>9}")
    for name, row in aeb.items():
        print(f"  {name:<14}{row['precision']:>10.4f}{row['recall']:>9.4f}{row['f1']:>8.4f}{row['ms_per_page']:>9.1f}")
    snippets = evaluate_snippets(
        args.data,
        {
            "corpusclean": ours,
            "trafilatura": trafilatura_extractor(
                fast=False, include_comments=False, include_tables=True, include_formatting=False
            ),
        },
    )
    print("\ntrafilatura-eval (300 pages): snippets found (must-have) / leaked (must-not-have)")
    print(f"  {'':<14}{'TP':>5}{'FN':>5}{'FP':>5}{'TN':>5}{'P':>7}{'R':>7}{'F1':>7}{'leak':>7}{'ms/page':>9}")
    for name, row in snippets.items():
        print(
            f"  {name:<14}{row['tp']:>5}{row['fn']:>5}{row['fp']:>5}{row['tn']:>5}{row['precision']:>7.3f}"
            f"{row['recall']:>7.3f}{row['f1']:>7.3f}{row['leak']:>7.3f}{row['ms_per_page']:>9.1f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
