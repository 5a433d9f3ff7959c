"""Evaluation of text repair (the decode stage) on public labelled data.

Run from the repository root: ``python -m bench.evals.repair [--data ../shared/data]``.

1. ftfy-mojibake (161 cases): our repair against ftfy's expected output. ftfy's expected text
   comes from its *default* config, which also uncurls quotes and folds widths and ligatures;
   we deliberately do not (they change text that is right), so both sides are folded the same
   way before comparing, and both get our documented whitespace normalization.
2. ftfy entity/escape cases (18): each case's ftfy function mapped to ours
   (``fix_text`` → ``repair_text``, ``fix_text_segment`` → one segment, ``unescape_html`` →
   ``repair_text``, ``decode_escapes`` → ``decode_literal_escapes``, …).
3. lingua-langid sentences (74,141 in 75 languages): no false repairs. Every changed sentence is
   classified: a *repair of visibly broken text* (ftfy finds mojibake, or the sentence holds C1
   controls, HTML entities or replacement characters), a *requested normalization* only
   (no-break/zero-width spaces, soft hyphens, spaces at the ends), or a *false repair*: a change
   to a sentence with no sign of damage. The target for false repairs is 0.
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import sys
import unicodedata
from collections import Counter
from pathlib import Path
from typing import Any

import ftfy
import ftfy.fixes
from ftfy.badness import is_bad

from bench.common import DEFAULT_DATA
from corpusclean.stages.decode import (
    decode_literal_escapes,
    fix_with_ftfy,
    normalize_whitespace,
    repair_text,
)

#: The three ftfy folds we skip on purpose, applied to both sides before comparing.
_FOLDS = ftfy.TextFixerConfig(
    unescape_html=False,
    remove_terminal_escapes=False,
    fix_encoding=False,
    restore_byte_a0=False,
    replace_lossy_sequences=False,
    decode_inconsistent_utf8=False,
    fix_c1_controls=False,
    fix_latin_ligatures=True,
    fix_character_width=True,
    uncurl_quotes=True,
    fix_line_breaks=True,
    fix_surrogates=False,
    remove_control_chars=False,
    normalization="NFKC",
)
_NORMALIZATION_FIXES = {"nonbreaking_spaces", "invisible_characters", "whitespace", "blank_lines", "unicode_nfc"}
_DAMAGE = re.compile(r"[\x80-\x9f\ufeff]|&(#[0-9]+|#[xX][0-9a-fA-F]+|[a-zA-Z][a-zA-Z0-9]{1,31});|\ufffd|ï¿½|ďż˝")


def _canonical(text: str) -> str:
    return normalize_whitespace(ftfy.fix_text(text, _FOLDS))[0]


def evaluate_ftfy_cases(data: Path) -> dict[str, Any]:
    per_file: dict[str, Counter[str]] = {}
    failures = []
    for line in (data / "ftfy-mojibake" / "cases.jsonl").read_text(encoding="utf-8").split("\n"):
        if not line.strip():
            continue
        case = json.loads(line)
        ours, _ = repair_text(case["input"])
        ok = _canonical(ours) == _canonical(case["expected"])
        counts = per_file.setdefault(case["source_file"].rsplit("/", 1)[-1], Counter())
        counts["cases"] += 1
        counts["correct"] += ok
        if not ok:
            failures.append({"id": case["id"], "expect": case["expect"], "input": case["input"], "ours": ours})
    correct = sum(c["correct"] for c in per_file.values())
    total = sum(c["cases"] for c in per_file.values())
    return {"correct": correct, "total": total, "per_file": per_file, "failures": failures}


def _entity_case(case: dict[str, Any]) -> str:
    function, text = case["function"], case["input"]
    if function == "ftfy.fix_text_segment":
        return normalize_whitespace(fix_with_ftfy(text, by_line=False)[0])[0]
    if function == "ftfy.fixes.decode_escapes":
        return decode_literal_escapes(text)[0]
    return repair_text(text)[0]  # fix_text, unescape_html, remove_control_chars, fix_encoding


def evaluate_entity_cases(data: Path) -> dict[str, Any]:
    failures = []
    total = 0
    for line in (data / "ftfy-mojibake" / "entities_escapes.jsonl").read_text(encoding="utf-8").split("\n"):
        if not line.strip():
            continue
        case = json.loads(line)
        total += 1
        ours = _entity_case(case)
        expected = normalize_whitespace(ftfy.fixes.fix_line_breaks(case["expected"]))[0]
        if ours != expected:
            failures.append({"id": case["id"], "input": case["input"], "ours": ours, "expected": expected})
    return {"correct": total - len(failures), "total": total, "failures": failures}


def classify_change(sentence: str, fixes: tuple[str, ...]) -> str:
    """``repair`` (the sentence was visibly broken), ``normalization`` (only requested
    whitespace changes) or ``false_repair``."""
    if set(fixes) <= _NORMALIZATION_FIXES:
        return "normalization"
    if is_bad(sentence) or _DAMAGE.search(sentence) or "\\u" in sentence:
        return "repair"
    return "false_repair"


def evaluate_lingua(data: Path, limit: int | None = None) -> dict[str, Any]:
    classes: Counter[str] = Counter()
    by_fix: Counter[str] = Counter()
    examples: dict[str, list[dict[str, str]]] = {}
    total = 0
    with gzip.open(data / "lingua-langid" / "sentences.jsonl.gz", "rt", encoding="utf-8") as handle:
        for line in handle:
            case = json.loads(line)
            total += 1
            sentence = case["input"]
            ours, fixes = repair_text(sentence)
            if unicodedata.normalize("NFC", ours) == unicodedata.normalize("NFC", sentence):
                continue
            kind = classify_change(sentence, fixes)
            classes[kind] += 1
            by_fix.update(fixes)
            bucket = examples.setdefault(kind, [])
            if len(bucket) < 10:
                bucket.append({"id": case["id"], "input": sentence, "ours": ours, "fixes": ",".join(fixes)})
            if limit and total >= limit:
                break
    return {
        "sentences": total,
        "changed": sum(classes.values()),
        "classes": dict(classes),
        "false_repairs": classes["false_repair"],
        "by_fix": dict(by_fix.most_common()),
        "examples": examples,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    args = parser.parse_args(argv)

    ftfy_result = evaluate_ftfy_cases(args.data)
    print("ftfy-mojibake cases (ours, folded like ftfy's default config)")
    print(f"  {'file':<22}{'cases':>7}{'correct':>9}")
    for name, counts in sorted(ftfy_result["per_file"].items()):
        print(f"  {name:<22}{counts['cases']:>7}{counts['correct']:>9}")
    print(f"  {'total':<22}{ftfy_result['total']:>7}{ftfy_result['correct']:>9}   (plain ftfy: 151)")
    for failure in ftfy_result["failures"]:
        print(f"    miss {failure['id']} [{failure['expect']}]: {failure['input'][:60]!r} -> {failure['ours'][:60]!r}")

    entity_result = evaluate_entity_cases(args.data)
    print(f"\nftfy entity/escape cases: {entity_result['correct']} of {entity_result['total']}")
    for failure in entity_result["failures"]:
        print(
            f"    miss {failure['id']}: {failure['input']!r} -> {failure['ours']!r} (expected {failure['expected']!r})"
        )

    lingua = evaluate_lingua(args.data)
    print(f"\nlingua-langid sentences: {lingua['sentences']}, changed after NFC: {lingua['changed']}")
    for kind in ("repair", "normalization", "false_repair"):
        print(f"  {kind:<14}{lingua['classes'].get(kind, 0):>6}")
    print(f"  by fix: {lingua['by_fix']}")
    for kind, rows in lingua["examples"].items():
        for row in rows[:5]:
            print(f"    {kind}: {row['id']} [{row['fixes']}] {row['input'][:70]!r} -> {row['ours'][:70]!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
