"""Evaluation of bytes → text decisions (``decode_bytes``) on chardet's labelled test files.

Run from the repository root: ``python -m bench.evals.charset [--data ../shared/data/chardet-encodings]``.

Data: ``../shared/data/chardet-encodings`` (425 real files in 38 legacy encodings, see its SOURCE.md).
Scoring as chardet upstream does: a file is correct when ``NFKC(decoded text) == NFKC(bytes.decode(label))``,
a leading U+FEFF stripped on both sides. The file whose label has no Python codec (euc-tw) is left
out, so 424 files count. In the same run, plain ``charset_normalizer.from_bytes(b).best()`` is scored
the same way as the baseline.
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
import time
import unicodedata
from collections.abc import Callable
from pathlib import Path
from typing import Any

import charset_normalizer

from corpusclean.stages.charset import decode_bytes

DEFAULT_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "chardet-encodings"


def _normalized(text: str) -> str:
    return unicodedata.normalize("NFKC", text.removeprefix("\ufeff"))


def _ours(data: bytes) -> tuple[str | None, str | None]:
    decoded = decode_bytes(data)
    return (decoded.text, decoded.encoding) if decoded is not None else (None, None)


def _baseline(data: bytes) -> tuple[str | None, str | None]:
    best = charset_normalizer.from_bytes(data).best()
    return (str(best), best.encoding) if best is not None else (None, None)


def _note(reference: str, text: str | None) -> str:
    """Why a decoding that differs from the reference may still be the better text."""
    if (
        text is not None
        and any("\x80" <= c <= "\x9f" for c in reference)
        and not any("\x80" <= c <= "\x9f" for c in text)
    ):
        return "reference holds C1 controls where the Windows code page has punctuation"
    return ""


def load(data_dir: Path) -> list[dict[str, Any]]:
    """The labelled files that have a Python codec, with their bytes and reference text."""
    samples = []
    for line in (data_dir / "labels.jsonl").read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        label = json.loads(line)
        if not label["python_codec_available"]:
            continue
        data = gzip.decompress((data_dir / label["path"]).read_bytes())
        samples.append({**label, "data": data, "reference": _normalized(data.decode(label["encoding"]))})
    return samples


def _score(samples: list[dict[str, Any]], decode: Callable[[bytes], tuple[str | None, str | None]]) -> dict[str, Any]:
    per_encoding: dict[str, dict[str, Any]] = {}
    correct = 0
    start = time.perf_counter()
    for sample in samples:
        text, encoding = decode(sample["data"])
        ok = text is not None and _normalized(text) == sample["reference"]
        correct += ok
        row = per_encoding.setdefault(sample["encoding"], {"files": 0, "correct": 0, "wrong": []})
        row["files"] += 1
        row["correct"] += ok
        if not ok:
            row["wrong"].append(
                {"path": sample["path"], "decoded_as": encoding, "note": _note(sample["reference"], text)}
            )
    return {"correct": correct, "seconds": time.perf_counter() - start, "per_encoding": per_encoding}


def evaluate(data_dir: Path = DEFAULT_DATA) -> dict[str, Any]:
    """Score ``decode_bytes`` and the charset-normalizer baseline on the set in ``data_dir``.

    Returns ``files``, ``correct``, ``accuracy``, ``seconds``, ``per_encoding`` (encoding →
    ``files``, ``correct``, ``wrong``: path, what it was decoded as, a note), and the same
    under ``baseline_*`` for plain ``charset_normalizer.from_bytes(b).best()``.
    """
    samples = load(Path(data_dir))
    ours = _score(samples, _ours)
    baseline = _score(samples, _baseline)
    files = len(samples)
    return {
        "files": files,
        "correct": ours["correct"],
        "accuracy": ours["correct"] / files if files else 0.0,
        "seconds": ours["seconds"],
        "per_encoding": ours["per_encoding"],
        "baseline_correct": baseline["correct"],
        "baseline_accuracy": baseline["correct"] / files if files else 0.0,
        "baseline_seconds": baseline["seconds"],
        "baseline_per_encoding": baseline["per_encoding"],
    }


def _wrong(rows: list[dict[str, Any]]) -> str:
    names = sorted({str(w["decoded_as"]) for w in rows})
    return ", ".join(names)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="the chardet-encodings folder")
    args = parser.parse_args(argv)
    data_dir = args.data
    if not (data_dir / "labels.jsonl").exists() and (data_dir / "chardet-encodings" / "labels.jsonl").exists():
        data_dir = data_dir / "chardet-encodings"  # the shared data folder was given
    if not (data_dir / "labels.jsonl").exists():
        print(f"{data_dir}: no labels.jsonl (the chardet-encodings set is not there)", file=sys.stderr)
        return 2
    result = evaluate(data_dir)
    print(f"{'encoding':<14} {'files':>5} {'ours':>5} {'acc':>7} {'baseline':>8} {'acc':>7}  decoded as, when wrong")
    for encoding in sorted(result["per_encoding"]):
        row = result["per_encoding"][encoding]
        base = result["baseline_per_encoding"][encoding]
        wrong = f"ours: {_wrong(row['wrong'])}" if row["wrong"] else ""
        if base["wrong"]:
            wrong += ("; " if wrong else "") + f"baseline: {_wrong(base['wrong'])}"
        print(
            f"{encoding:<14} {row['files']:>5} {row['correct']:>5} {row['correct'] / row['files']:>7.1%}"
            f" {base['correct']:>8} {base['correct'] / base['files']:>7.1%}  {wrong}"
        )
    files = result["files"]
    print(
        f"{'total':<14} {files:>5} {result['correct']:>5} {result['accuracy']:>7.1%}"
        f" {result['baseline_correct']:>8} {result['baseline_accuracy']:>7.1%}"
    )
    print(f"time: ours {result['seconds']:.2f} s, baseline {result['baseline_seconds']:.2f} s ({files} files)")
    misses = [(enc, w) for enc, row in sorted(result["per_encoding"].items()) for w in row["wrong"]]
    if misses:
        print("\nour misses:")
        for encoding, wrong in misses:
            note = f"  ({wrong['note']})" if wrong["note"] else ""
            print(f"  {encoding:<14} {wrong['path']}  decoded as {wrong['decoded_as']}{note}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
