"""Speed of shingling + MinHash signatures (``corpusclean.minhash``) against datasketch on the same
texts, in one process on one core, as ratios; and the memory of the LSH index per document.

Texts: news-sized documents (5.4 kB) made of consecutive paragraphs of the scrapinghub-aeb gold
article bodies (mostly English news). Both sides include shingling:

- ours: ``signatures(shingle_sets(texts, ngram), num_perm)`` over batches of ``--batch`` documents
  (the pipeline's default batch size) — NFKC + casefold, tokens, shingle hashes, per-document
  dedupe, signatures;
- datasketch: per document, ``\\w+`` tokens of the case-folded text, word n-grams joined as Python
  strings, ``MinHash(num_perm).update_batch`` of their UTF-8 bytes (SHA-1 hashes, datasketch's
  default).

Index memory: ours is the band-key array (``uint64 × bands``) per document; datasketch's is the
growth of the traced Python heap while ``MinHashLSH.insert`` indexes the same documents (sketches
built beforehand), with its own b×r for threshold 0.8 and with ours.

Run: ``python -m bench.bench_minhash [--docs 1000] [--repeat 3]``. Figures vary ±20% between runs
on shared machines: compare the ratios.
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import re
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import numpy as np

from bench.common import DEFAULT_DATA
from corpusclean import minhash

_WORD = re.compile(r"\w+")


def build_documents(data: Path, count: int, size: int = 5400, seed: int = 0) -> list[str]:
    """``count`` texts of ``size`` characters: runs of consecutive aeb paragraphs from a random start."""
    with gzip.open(data / "scrapinghub-aeb" / "ground-truth.json.gz", "rt", encoding="utf-8") as handle:
        truth = json.load(handle)
    paragraphs = [p for key in sorted(truth) for p in truth[key]["articleBody"].split("\n") if p.strip()]
    rng = random.Random(seed)
    documents = []
    for _ in range(count):
        index, chosen, length = rng.randrange(len(paragraphs)), [], 0
        while length < size:
            paragraph = paragraphs[index % len(paragraphs)]
            chosen.append(paragraph)
            length += len(paragraph) + 2
            index += 1
        documents.append("\n\n".join(chosen)[:size])
    return documents


def ours(documents: list[str], ngram: int, num_perm: int, batch: int) -> np.ndarray:
    parts = []
    for start in range(0, len(documents), batch):
        shingles = minhash.shingle_sets(documents[start : start + batch], ngram)
        parts.append(minhash.signatures(shingles, num_perm))
    return np.concatenate(parts)


def datasketch_signatures(documents: list[str], ngram: int, num_perm: int) -> list:
    from datasketch import MinHash

    sketches = []
    for text in documents:
        words = _WORD.findall(text.casefold())
        grams = {" ".join(words[i : i + ngram]) for i in range(max(1, len(words) - ngram + 1))}
        sketch = MinHash(num_perm=num_perm)
        sketch.update_batch([gram.encode("utf-8") for gram in grams])
        sketches.append(sketch)
    return sketches


def time_per_doc(function: Callable[[], object], count: int, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        function()
        best = min(best, (time.perf_counter() - started) / count)
    return best


def datasketch_index_bytes(sketches: list, threshold: float, params: tuple[int, int] | None = None) -> float:
    from datasketch import MinHashLSH

    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    lsh = MinHashLSH(threshold=threshold, num_perm=len(sketches[0].hashvalues), params=params)
    for index, sketch in enumerate(sketches):
        lsh.insert(f"doc-{index:07d}", sketch)
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    return (after - before) / len(sketches)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--docs", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--batch", type=int, default=256)
    args = parser.parse_args(argv)
    params = minhash.DEFAULT_PARAMS
    documents = build_documents(args.data, args.docs)
    count = len(documents)
    mean_chars = sum(map(len, documents)) / count
    print(f"{count} documents, mean {mean_chars:.0f} characters, one process, best of {args.repeat}")

    rows: dict[str, float] = {}
    for ngram in (params.ngram, 5):
        rows[f"datasketch update_batch, {ngram}-grams"] = time_per_doc(
            lambda n=ngram: datasketch_signatures(documents, n, params.num_perm), count, args.repeat
        )
        rows[f"ours, {ngram}-grams, batches of {args.batch}"] = time_per_doc(
            lambda n=ngram: ours(documents, n, params.num_perm, args.batch), count, args.repeat
        )
    rows[f"ours, {params.ngram}-grams, one call per document"] = time_per_doc(
        lambda: ours(documents, params.ngram, params.num_perm, 1), count, args.repeat
    )
    rows[f"  of which shingle_sets ({params.ngram}-grams, batches)"] = time_per_doc(
        lambda: [
            minhash.shingle_sets(documents[s : s + args.batch], params.ngram) for s in range(0, count, args.batch)
        ],
        count,
        args.repeat,
    )
    shingles = minhash.shingle_sets(documents, params.ngram)
    rows["  of which signatures (affine32)"] = time_per_doc(
        lambda: minhash.signatures(shingles, params.num_perm), count, args.repeat
    )
    rows["  signatures, scheme='legacy' (pre-2.0 datasketch)"] = time_per_doc(
        lambda: minhash.signatures(shingles, params.num_perm, scheme="legacy"), count, args.repeat
    )
    print(
        f"\n{params.num_perm} permutations; mean {shingles.sizes.mean():.0f} distinct {params.ngram}-gram shingles per document"
    )
    print(f"{'':<52}{'ms/doc':>9}{'× faster':>10}")
    for name, seconds in rows.items():
        baseline_name = f"datasketch update_batch, {5 if '5-grams' in name else params.ngram}-grams"
        ratio = rows[baseline_name] / seconds
        print(f"{name:<52}{seconds * 1000:>9.3f}{ratio:>10.1f}")

    signature_matrix = minhash.signatures(shingles, params.num_perm)
    keys = minhash.band_keys(signature_matrix, params.bands, params.rows)
    sketches = datasketch_signatures(documents, params.ngram, params.num_perm)
    lean = [minhash.to_lean_minhash(row) for row in signature_matrix]
    print("\nLSH index per document")
    print(f"{'ours: band keys uint64 × ' + str(params.bands):<52}{keys.nbytes / count:>9.0f} bytes")
    print(f"{'ours: signatures kept for verification (uint32 × ' + str(params.num_perm) + ')':<52}"
          f"{signature_matrix.nbytes / count:>9.0f} bytes (side table, read for candidates only)")  # fmt: skip
    print(
        f"{'datasketch MinHashLSH t=0.8 (its own b×r), in memory':<52}{datasketch_index_bytes(sketches, 0.8):>9.0f} bytes"
    )
    print(
        f"{f'datasketch MinHashLSH b×r={params.bands}×{params.rows}, our signatures':<52}"
        f"{datasketch_index_bytes(lean, params.threshold, (params.bands, params.rows)):>9.0f} bytes"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
