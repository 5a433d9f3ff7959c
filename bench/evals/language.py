"""Evaluation of the language stage on lingua's labelled sentences, against plain langdetect.

Run from the repository root: ``python -m bench.evals.language [--per-language N]``.

1. Sentences (lingua-langid: 1,000 per language, 75 languages, 51 of them known to langdetect):
   accuracy of corpusclean's stage and of plain ``langdetect.detect`` (seeded, so that it is
   reproducible at all) on the same sentences of the languages langdetect knows. A sentence counts
   as right when the code is the one langdetect has for the language (``langdetect_code``: Norwegian
   Bokmål is ``no``, Chinese ``zh``, as corpusclean reports them); ``und`` and errors count as wrong.
2. Sample length: documents of about 5 kB made of sentences of one language; accuracy and time
   per document when only the first N characters are read, for several N. The stage's
   ``language.sample_chars`` default is chosen from this sweep.
3. Detector speed: the stage's ``MatrixDetector`` against langdetect's own ``Detector`` from the
   same seed on the same samples (the stage's first 1,000 characters of those documents), in the
   same process, page by page in turn: time per sample, their ratio, and how many samples get the
   same probabilities from both (all of them, or the stage is not langdetect any more).
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import langdetect
from langdetect.detector_factory import DetectorFactory

from bench.common import DEFAULT_DATA
from corpusclean.config import LanguageConfig
from corpusclean.stages.language import LanguageStage, MatrixDetector, load_matrix_factory, normalize_language_code

SAMPLE_LENGTHS = (100, 250, 500, 1000, 2000, None)


def load_sentences(data: Path, per_language: int | None = None) -> list[dict[str, Any]]:
    """Sentences of the languages langdetect knows, the first ``per_language`` of each."""
    taken: dict[str, int] = defaultdict(int)
    rows = []
    with gzip.open(data / "lingua-langid" / "sentences.jsonl.gz", "rt", encoding="utf-8") as handle:
        for line in handle:
            case = json.loads(line)
            if not case.get("langdetect_code"):
                continue
            if per_language is not None and taken[case["expected"]] >= per_language:
                continue
            taken[case["expected"]] += 1
            rows.append({**case, "label": normalize_language_code(case["langdetect_code"])})
    return rows


def plain_langdetect(text: str) -> str:
    try:
        return normalize_language_code(langdetect.detect(text))
    except langdetect.LangDetectException:
        return "und"


def evaluate_sentences(
    data: Path, per_language: int | None = None, config: LanguageConfig | None = None
) -> dict[str, Any]:
    sentences = load_sentences(data, per_language)
    stage = LanguageStage(config or LanguageConfig())
    DetectorFactory.seed = 0  # plain langdetect, made reproducible the documented way
    results: dict[str, Any] = {}
    for name, detect in (("corpusclean", lambda t: stage.detect(t)[0]), ("langdetect", plain_langdetect)):
        started = time.perf_counter()
        correct = sum(detect(case["input"]) == case["label"] for case in sentences)
        results[name] = {
            "correct": correct,
            "accuracy": correct / len(sentences),
            "ms_per_sentence": (time.perf_counter() - started) / len(sentences) * 1000,
        }
    results["sentences"] = len(sentences)
    results["languages"] = len({case["expected"] for case in sentences})
    return results


def build_documents(data: Path, per_language: int = 4, size: int = 5000, seed: int = 0) -> list[tuple[str, str]]:
    by_language: dict[str, list[str]] = defaultdict(list)
    for case in load_sentences(data):
        by_language[case["label"]].append(case["input"])
    rng = random.Random(seed)
    documents = []
    for language in sorted(by_language):
        for _ in range(per_language):
            parts: list[str] = []
            while sum(map(len, parts)) < size:
                parts.append(rng.choice(by_language[language]))
            documents.append((language, " ".join(parts)))
    return documents


def evaluate_sample_lengths(data: Path, per_language: int = 4) -> dict[str, dict[str, float]]:
    documents = build_documents(data, per_language)
    results = {}
    for length in SAMPLE_LENGTHS:
        stage = LanguageStage(LanguageConfig(sample_chars=length or 10**9))
        stage.detect("warm up the profiles")
        started = time.perf_counter()
        correct = sum(stage.detect(text)[0] == language for language, text in documents)
        results[str(length or "full")] = {
            "accuracy": correct / len(documents),
            "ms_per_document": (time.perf_counter() - started) / len(documents) * 1000,
            "documents": len(documents),
        }
    return results


def evaluate_detector_speed(
    data: Path, per_language: int = 4, sample_chars: int = 1000, repeat: int = 3
) -> dict[str, float]:
    """Least time of ``repeat`` per sample for each detector, and the samples they agree on."""
    from langdetect.detector_factory import PROFILES_DIRECTORY

    samples = [text[:sample_chars] for _, text in build_documents(data, per_language)]
    plain = DetectorFactory()
    plain.load_profile(PROFILES_DIRECTORY)
    plain.set_seed(0)
    matrix = load_matrix_factory(0)
    detectors = {"langdetect": plain.create, "corpusclean": lambda: MatrixDetector(*matrix)}
    best = {name: [float("inf")] * len(samples) for name in detectors}
    answers: dict[str, list[list[tuple[str, float]]]] = {name: [] for name in detectors}
    for round_ in range(repeat):
        for index, sample in enumerate(samples):
            for name, create in detectors.items():
                started = time.perf_counter()
                detector = create()
                detector.append(sample)
                probabilities = detector.get_probabilities()
                best[name][index] = min(best[name][index], time.perf_counter() - started)
                if round_ == 0:
                    answers[name].append([(p.lang, p.prob) for p in probabilities])
    ms = {name: sum(times) / len(samples) * 1000 for name, times in best.items()}
    same = sum(a == b for a, b in zip(answers["corpusclean"], answers["langdetect"], strict=True))
    return {
        "samples": len(samples),
        "langdetect_ms": ms["langdetect"],
        "corpusclean_ms": ms["corpusclean"],
        "ratio": ms["corpusclean"] / ms["langdetect"],
        "same_probabilities": same,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--per-language", type=int, default=None, help="sentences per language (default: all)")
    args = parser.parse_args(argv)
    sentences = evaluate_sentences(args.data, args.per_language)
    print(f"lingua sentences ({sentences['sentences']} in {sentences['languages']} languages langdetect knows)")
    for name in ("corpusclean", "langdetect"):
        row = sentences[name]
        print(
            f"  {name:<12} accuracy {row['accuracy']:.4f} ({row['correct']})  {row['ms_per_sentence']:.2f} ms/sentence"
        )
    print("\nsample length on ~5 kB documents (first N characters read)")
    for length, row in evaluate_sample_lengths(args.data).items():
        print(
            f"  {length:>5}  accuracy {row['accuracy']:.4f}  {row['ms_per_document']:.2f} ms/document  ({row['documents']} documents)"
        )
    speed = evaluate_detector_speed(args.data)
    print(
        f"\ndetector on {speed['samples']} samples of 1,000 characters (least of 3 each): langdetect "
        f"{speed['langdetect_ms']:.2f} ms, corpusclean {speed['corpusclean_ms']:.2f} ms ({speed['ratio']:.2f}x); "
        f"same probabilities on {speed['same_probabilities']} of {speed['samples']}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
