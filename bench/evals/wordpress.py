"""Evaluation of WordPress REST ingestion on the wpextract test site, and of the fragment strategy.

Run from the repository root: ``python -m bench.evals.wordpress [--data ../shared/data]``.

- Every REST dump of the site (posts and pages, paginated, plus categories, tags, users and the
  400 error body past the last page) goes through the reader and the per-record stages.
  Checked per published post/page: present, title equal to the site's, text against the
  reference text (wpextract's HTML → text of ``content.rendered``) by token F1 and by equality
  modulo whitespace, and against the same post extracted from the site's rendered HTML page.
- Fragment strategies for ``content.rendered`` (a bare HTML fragment): trafilatura on the fragment
  as it is, trafilatura on the fragment wrapped into a document, the fragment's own structure
  (block elements → paragraphs), and what corpusclean does (wrapped, own structure when
  trafilatura finds nothing). Scored by token F1 against the reference and empty outputs.
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import trafilatura

from bench.common import DEFAULT_DATA
from corpusclean.config import PipelineConfig, ReadConfig
from corpusclean.records import Record
from corpusclean.sources import InputFile, read_file
from corpusclean.stages import build_stages, run_stages
from corpusclean.stages.extract import fragment_to_text, strip_wordpress_markup

_TOKEN = re.compile(r"\w+")


def token_f1(expected: str, predicted: str) -> float:
    """F1 of the multisets of ``\\w+`` tokens (case-insensitive).

    >>> token_f1("A b c", "a b d")
    0.6666666666666666
    """
    truth, guess = Counter(_TOKEN.findall(expected.lower())), Counter(_TOKEN.findall(predicted.lower()))
    if not truth and not guess:
        return 1.0
    overlap = sum((truth & guess).values())
    if not overlap:
        return 0.0
    precision, recall = overlap / sum(guess.values()), overlap / sum(truth.values())
    return 2 * precision * recall / (precision + recall)


def _same_modulo_whitespace(a: str, b: str) -> bool:
    return " ".join(a.split()) == " ".join(b.split())


def _stages() -> Any:
    config = PipelineConfig().replace(language={"enabled": False}, dedup={"enabled": False}, output={"min_words": 0})
    return build_stages(config)


def load_cases(data: Path) -> list[dict[str, Any]]:
    lines = (data / "wpextract-site" / "cases.jsonl").read_text(encoding="utf-8").split("\n")
    return [json.loads(line) for line in lines if line.strip()]


def evaluate_rest(data: Path) -> dict[str, Any]:
    """Read every REST dump like ``corpusclean run rest/`` would, then compare with the site."""
    rest = data / "wpextract-site" / "rest"
    stages = _stages()
    kept: dict[int, Record] = {}
    rejected: Counter[str] = Counter()
    for path in sorted(rest.glob("*.json.gz")):
        result = read_file(InputFile(path.name, str(rest), str(path)), ReadConfig())
        records = [item for item in result.items if isinstance(item, Record)]
        rejected.update(item.reason.value for item in result.items if not isinstance(item, Record))
        processed = run_stages(stages, records)
        rejected.update(item.reason.value for item in processed.rejected)
        for record in processed.records:
            kept[int(record.source_id)] = record
    cases = load_cases(data)
    rows = []
    for case in cases:
        record = kept.get(case["id"])
        text = record.text if record else ""
        rows.append(
            {
                "id": case["id"],
                "type": case["type"],
                "present": record is not None,
                "title_equal": record is not None and record.title == case["expected_title"],
                "f1": token_f1(case["expected_text"], text or ""),
                "equal_modulo_whitespace": _same_modulo_whitespace(case["expected_text"], text or ""),
            }
        )
    return {
        "cases": len(cases),
        "present": sum(r["present"] for r in rows),
        "titles_equal": sum(r["title_equal"] for r in rows),
        "mean_f1": sum(r["f1"] for r in rows) / len(rows),
        "equal_modulo_whitespace": sum(r["equal_modulo_whitespace"] for r in rows),
        "kept": len(kept),
        "rejected": dict(rejected),
        "rows": rows,
    }


def _texts_by_id(paths: list[Path], base: Path) -> dict[str, str]:
    stages = _stages()
    texts: dict[str, str] = {}
    for path in paths:
        result = read_file(InputFile(path.name, str(base), str(path)), ReadConfig())
        for record in run_stages(stages, [i for i in result.items if isinstance(i, Record)]).records:
            texts[record.source_id] = record.text or ""
    return texts


def evaluate_wxr_against_rest(data: Path) -> dict[str, Any]:
    """The same site's WXR export and REST dumps through the pipeline: the same posts and pages,
    and the same text modulo whitespace. (REST text has been through WordPress's wptexturize,
    which curls quotes; the export holds the raw text.)"""
    site = data / "wpextract-site"
    rest = _texts_by_id(sorted((site / "rest").glob("*.json.gz")), site / "rest")
    wxr = _texts_by_id([site / "wxr" / "test_site.xml.gz"], site / "wxr")
    differing = sorted(k for k in rest if k in wxr and " ".join(rest[k].split()) != " ".join(wxr[k].split()))
    return {
        "rest": len(rest),
        "wxr": len(wxr),
        "same_ids": set(rest) == set(wxr),
        "same_text": len(rest) - len(differing),
        "differing": differing,
    }


def evaluate_html_pages(data: Path) -> dict[str, Any]:
    """The same posts from the site's rendered HTML pages (themed: nav, sidebar, footer)."""
    stages = _stages()
    f1_ours: list[float] = []
    f1_trafilatura: list[float] = []
    for case in load_cases(data):
        if not case.get("html_file"):
            continue
        html = gzip.decompress((data / "wpextract-site" / case["html_file"]).read_bytes())
        record = Record(doc_id="0" * 32, source=".", source_format="html", source_id="p", raw=html, markup_kind="page")
        result = run_stages(stages, [record])
        ours = result.records[0].text if result.records else ""
        f1_ours.append(token_f1(case["expected_text"], ours or ""))
        f1_trafilatura.append(token_f1(case["expected_text"], trafilatura.extract(html) or ""))
    return {
        "pages": len(f1_ours),
        "mean_f1": sum(f1_ours) / len(f1_ours),
        "min_f1": min(f1_ours),
        "trafilatura_mean_f1": sum(f1_trafilatura) / len(f1_trafilatura),
        "trafilatura_min_f1": min(f1_trafilatura),
    }


def _rendered_contents(data: Path) -> list[tuple[dict[str, Any], str]]:
    out = []
    cache: dict[str, Any] = {}
    for case in load_cases(data):
        dump = cache.setdefault(
            case["rest_file"], json.loads(gzip.decompress((data / "wpextract-site" / case["rest_file"]).read_bytes()))
        )
        out.append((case, dump[case["rest_index"]]["content"]["rendered"]))
    return out


def _trafilatura_text(html: str) -> str:
    return trafilatura.extract(html, include_comments=False, deduplicate=False) or ""


FRAGMENT_STRATEGIES: dict[str, Callable[[str], str]] = {
    "trafilatura, bare fragment": _trafilatura_text,
    "trafilatura, wrapped": lambda f: _trafilatura_text(f"<html><body><article>{f}</article></body></html>"),
    "own structure": lambda f: fragment_to_text(strip_wordpress_markup(f)),
}


def evaluate_fragments(data: Path) -> dict[str, dict[str, float]]:
    contents = _rendered_contents(data)
    stages = _stages()

    def corpusclean_fragment(fragment: str) -> str:
        record = Record(
            doc_id="0" * 32,
            source=".",
            source_format="wordpress_rest",
            source_id="x",
            markup=fragment,
            markup_kind="fragment",
        )
        result = run_stages(stages, [record])
        return result.records[0].text if result.records else ""

    strategies = {**FRAGMENT_STRATEGIES, "corpusclean (own structure, WordPress cleanup)": corpusclean_fragment}
    results = {}
    for name, strategy in strategies.items():
        scores, empty = [], 0
        for case, fragment in contents:
            text = strategy(fragment)
            empty += not text.strip()
            scores.append(token_f1(case["expected_text"], text))
        results[name] = {"mean_f1": sum(scores) / len(scores), "empty": empty, "fragments": len(scores)}
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    args = parser.parse_args(argv)
    rest = evaluate_rest(args.data)
    print(f"wpextract-site REST dumps: {rest['kept']} kept, rejected {rest['rejected']}")
    print(f"  published posts/pages present: {rest['present']} of {rest['cases']}")
    print(f"  titles equal: {rest['titles_equal']} of {rest['cases']}")
    print(
        f"  text vs reference: mean token F1 {rest['mean_f1']:.3f}, equal modulo whitespace {rest['equal_modulo_whitespace']} of {rest['cases']}"
    )
    for row in rest["rows"]:
        if not (row["present"] and row["title_equal"]) or row["f1"] < 0.9:
            print(f"    {row}")
    both = evaluate_wxr_against_rest(args.data)
    print(
        f"  WXR export vs REST: {both['wxr']} kept from the export, same ids: {both['same_ids']}, "
        f"same text modulo whitespace: {both['same_text']} of {both['rest']} (differing: {both['differing']})"
    )
    pages = evaluate_html_pages(args.data)
    print(
        f"\nsame posts from the rendered HTML pages ({pages['pages']}): mean token F1 {pages['mean_f1']:.3f} (min {pages['min_f1']:.2f}); plain trafilatura {pages['trafilatura_mean_f1']:.3f} (min {pages['trafilatura_min_f1']:.2f})"
    )
    print("\nfragment strategies for content.rendered (token F1 against the reference text):")
    for name, row in evaluate_fragments(args.data).items():
        print(f"  {name:<48}{row['mean_f1']:>7.3f}   empty {row['empty']} of {row['fragments']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
