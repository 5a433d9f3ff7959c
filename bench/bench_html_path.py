"""Speed of the HTML path per page: the per-record stages a run applies to an HTML file (decode,
extract with metadata, repair, boilerplate, filter, language; dedup off as in
``bench_pipeline``'s HTML runs) against plain ``trafilatura.extract`` on the same bytes, in one
process, as a ratio (issue 8's target: at most 1.4×). Also the time of each stage, and of the
check of the parsed tree's shape (``extract.check_tree_shape``, default limits) alone.

Pages: the 481 pages of scrapinghub-aeb and trafilatura-eval. File reading and Parquet writing
are not included (``bench_pipeline`` measures whole runs). Times are CPU time of the thread, so
that other processes on a shared machine change them less. Run: ``python -m bench.bench_html_path``.
"""

from __future__ import annotations

import argparse
import gzip
import sys
import time
from pathlib import Path

import trafilatura

from bench.common import DEFAULT_DATA
from corpusclean.config import PipelineConfig
from corpusclean.records import Record
from corpusclean.stages import build_stages
from corpusclean.stages.decode import decode_bytes
from corpusclean.stages.extract import check_tree_shape, parse_page


def load_pages(data: Path) -> list[bytes]:
    pages = []
    for folder in ("scrapinghub-aeb", "trafilatura-eval"):
        for path in sorted((data / folder / "html").glob("*.html.gz")):
            pages.append(gzip.decompress(path.read_bytes()))
    return pages


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--repeat", type=int, default=3, help="passes over the pages; each page counts its least time")
    args = parser.parse_args(argv)
    pages = load_pages(args.data)
    config = PipelineConfig.from_dict({"dedup": {"enabled": False}})
    stages = build_stages(config)
    timings: dict[str, float] = {}

    def ours(html: bytes) -> None:
        records = [
            Record(doc_id="0" * 32, source=".", source_format="html", source_id="page", raw=html, markup_kind="page")
        ]
        for stage in stages:  # run_stages, with CPU time per stage
            started = time.thread_time()
            records = stage(records).records
            timings[stage.name] = timings.get(stage.name, 0.0) + time.thread_time() - started

    def plain(html: bytes) -> None:
        trafilatura.extract(html)

    markups = [decoded.text for decoded in map(decode_bytes, pages) if decoded is not None]
    rows = {"trafilatura.extract": plain, "corpusclean stages": ours}
    # CPU time of this thread, the least of all passes for each page and each row, the rows run
    # one after the other on each page: on a shared machine this is what stays comparable
    best = {name: [float("inf")] * len(pages) for name in rows}
    for _ in range(args.repeat):
        for index, html in enumerate(pages):
            for name, function in rows.items():
                started = time.thread_time()
                function(html)
                best[name][index] = min(best[name][index], time.thread_time() - started)
    stage_times = {name: seconds / args.repeat for name, seconds in timings.items()}
    trees = [tree for tree in map(parse_page, markups) if tree is not None]
    limits = (config.extract.max_elements, config.extract.max_nesting_depth)
    started = time.thread_time()
    for tree in trees:
        check_tree_shape(tree, *limits)
    shape_seconds = time.thread_time() - started

    per_page = {name: sum(seconds) / len(pages) * 1000 for name, seconds in best.items()}
    baseline = per_page["trafilatura.extract"]
    print(f"{len(pages)} pages, CPU ms per page (least of {args.repeat} for each page)")
    print(f"{'':<24}{'ms/page':>9}{'ratio':>8}")
    for name, ms in per_page.items():
        print(f"{name:<24}{ms:>9.2f}{ms / baseline:>8.2f}")
    print("\nper stage (CPU, mean of the passes)")
    for name, seconds in stage_times.items():
        print(f"  {name:<22}{seconds / len(pages) * 1000:>9.2f}")
    print(f"  {'(tree shape check)':<22}{shape_seconds / len(trees) * 1000:>9.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
