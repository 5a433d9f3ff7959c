"""End-to-end golden test over ``fixtures/formats``: one small input of every supported format.

The whole directory is cleaned by ``corpusclean run`` and the result is compared with
``fixtures/expected/formats.json``: the documents and rejected rows (sorted by source format
and source id) with the fields a reader checks, the manifest counts, and what was read from each
input file.

The golden file is a snapshot of the current behaviour, reviewed by hand. Values known to be
wrong are listed in its ``known_issues`` (kept in :data:`KNOWN_ISSUES` below), and each has its
own ``xfail(strict=True)`` test that asserts the right behaviour: when a bug is fixed that test
passes, fails as strict, and the golden file has to be regenerated on purpose::

    CORPUSCLEAN_REGEN_GOLDEN=1 pytest tests/test_golden_formats.py

(the golden test then writes the file and fails, saying so, so it never passes silently).
The generated (binary or compressed) fixtures come from ``fixtures/make_formats.py``.
"""

from __future__ import annotations

import difflib
import importlib.util
import json
import os
import re
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from corpusclean import Pipeline
from corpusclean.cli import main as cli_main
from corpusclean.engines import local as local_engine
from corpusclean.sources import expand_inputs

ROOT = Path(__file__).resolve().parents[1]
FORMATS = ROOT / "fixtures" / "formats"
GOLDEN = ROOT / "fixtures" / "expected" / "formats.json"
MAKE_FORMATS = ROOT / "fixtures" / "make_formats.py"
REGEN_VARIABLE = "CORPUSCLEAN_REGEN_GOLDEN"

DOCUMENT_FIELDS = (
    "source_format",
    "source_id",
    "source",
    "title",
    "url",
    "author",
    "published_at",
    "categories",
    "tags",
    "language",
    "source_encoding",
    "text",
    "fixes",
    "removed",
    "near_dup_cluster",
)
INPUT_FIELDS = ("path", "format", "records", "error")
COMPRESSED = (".gz", ".bz2", ".xz", ".zst")

#: Values in the golden file that are known to be wrong; each has an xfail test below.
KNOWN_ISSUES: list[str] = []


# --- running and summarizing ----------------------------------------------------------------


def _rows(directory: Path) -> list[dict[str, Any]]:
    if not directory.is_dir() or not any(directory.glob("*.parquet")):
        return []
    return pq.read_table(directory).to_pylist()


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def summarize(out: Path) -> dict[str, Any]:
    """The golden view of a finished run in ``out``."""
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    documents = _rows(out / "documents")
    rejected = _rows(out / "rejected")
    source_ids = {row["doc_id"]: row["source_id"] for row in documents}

    def document(row: dict[str, Any]) -> dict[str, Any]:
        view = {name: row[name] for name in DOCUMENT_FIELDS}
        view["published_at"] = _iso(row["published_at"])
        view["removed"] = [[r["rule"], r["text"], r["line"]] for r in row["removed"]]
        if row["near_dup_cluster"] is not None:
            view["near_dup_cluster"] = source_ids.get(row["near_dup_cluster"], f"<not kept: {row['near_dup_cluster']}>")
        return view

    def rejection(row: dict[str, Any]) -> dict[str, Any]:
        duplicate_of = row["duplicate_of"]
        if duplicate_of is not None:
            duplicate_of = source_ids.get(duplicate_of, f"<not a kept document: {duplicate_of}>")
        return {
            "source_format": row["source_format"],
            "source_id": row["source_id"],
            "stage": row["stage"],
            "reason": row["reason"],
            "duplicate_of": duplicate_of,
        }

    counts = manifest["counts"]
    return {
        "about": "Golden output of tests/test_golden_formats.py over fixtures/formats; "
        f"regenerate on purpose with {REGEN_VARIABLE}=1 and review the diff.",
        "known_issues": KNOWN_ISSUES,
        "counts": {key: counts[key] for key in ("records_in", "kept", "rejected", "by_reason", "by_stage")},
        "inputs": [{key: entry[key] for key in INPUT_FIELDS} for entry in manifest["inputs"]],
        "documents": sorted((document(r) for r in documents), key=lambda d: (d["source_format"], d["source_id"])),
        "rejected": sorted(
            (rejection(r) for r in rejected),
            key=lambda r: (r["source_format"], r["source_id"], r["stage"], r["reason"]),
        ),
    }


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One run over all fixtures with the CLI, one worker."""
    out = tmp_path_factory.mktemp("golden") / "out"
    code = cli_main(["run", str(FORMATS), "-o", str(out), "--workers", "1", "--quiet"])
    assert code == 0, f"corpusclean run exited with {code}"
    return out


@pytest.fixture(scope="module")
def summary(run_dir: Path) -> dict[str, Any]:
    return summarize(run_dir)


@pytest.fixture(scope="module")
def manifest(run_dir: Path) -> dict[str, Any]:
    return json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def documents(run_dir: Path) -> list[dict[str, Any]]:
    return _rows(run_dir / "documents")


@pytest.fixture(scope="module")
def rejected(run_dir: Path) -> list[dict[str, Any]]:
    return _rows(run_dir / "rejected")


def _one(rows: list[dict[str, Any]], **where: Any) -> dict[str, Any]:
    found = [row for row in rows if all(row[k] == v for k, v in where.items())]
    assert len(found) == 1, f"expected exactly one row with {where}, found {len(found)}"
    return found[0]


# --- readable diffs -------------------------------------------------------------------------


def _lines(item: Any) -> list[str]:
    """A row as lines for a diff: one field per line, the text one line per line."""
    if not isinstance(item, dict):
        return json.dumps(item, indent=2, ensure_ascii=False).splitlines()
    lines = []
    for key, value in item.items():
        if key == "text" and isinstance(value, str):
            lines.append("text:")
            lines.extend(f"  | {line}" for line in value.split("\n"))
        else:
            lines.append(f"{key}: {json.dumps(value, ensure_ascii=False)}")
    return lines


def _diff(expected: Any, actual: Any, label: str) -> str:
    return "\n".join(
        difflib.unified_diff(_lines(expected), _lines(actual), f"expected {label}", f"actual {label}", lineterm="")
    )


def _key(row: dict[str, Any]) -> str:
    return f"{row.get('source_format')} {row.get('source_id')}"


def _first_difference(name: str, expected: list[dict[str, Any]], actual: list[dict[str, Any]]) -> str | None:
    """The first row (in golden order) that differs, as a diff; rows only on one side are named."""
    if expected == actual:
        return None
    want_by_key = {_key(r): r for r in expected}
    got_by_key = {_key(r): r for r in actual}
    missing = [k for k in want_by_key if k not in got_by_key]
    extra = [k for k in got_by_key if k not in want_by_key]
    lines = []
    if missing or extra:
        lines.append(f"{name}: missing rows {missing or 'none'}; unexpected rows {extra or 'none'}")
    for key, want in want_by_key.items():
        got = got_by_key.get(key)
        if got is not None and got != want:
            lines.append(f"{name}: first differing row {key}\n{_diff(want, got, key)}")
            break
    else:
        if extra:
            lines.append(f"first unexpected row:\n{_diff({}, got_by_key[extra[0]], extra[0])}")
        elif missing:
            lines.append(f"first missing row:\n{_diff(want_by_key[missing[0]], {}, missing[0])}")
        else:
            lines.append(f"{name}: the same rows in another order")
    return "\n".join(lines)


def _compare(expected: dict[str, Any], actual: dict[str, Any]) -> list[str]:
    problems = []
    for section in sorted(set(expected) | set(actual)):
        want, got = expected.get(section), actual.get(section)
        if want == got:
            continue
        if section in ("documents", "rejected", "inputs") and isinstance(want, list) and isinstance(got, list):
            if section == "inputs":
                want = [{"source_format": "file", "source_id": e["path"], **e} for e in want]
                got = [{"source_format": "file", "source_id": e["path"], **e} for e in got]
            problems.append(_first_difference(section, want, got) or section)
        else:
            problems.append(f"{section}:\n{_diff(want, got, section)}")
    return problems


# --- the golden test ------------------------------------------------------------------------


def test_golden_output(summary: dict[str, Any]) -> None:
    if os.environ.get(REGEN_VARIABLE) == "1":
        GOLDEN.parent.mkdir(parents=True, exist_ok=True)
        GOLDEN.write_text(json.dumps(summary, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        pytest.fail(
            f"regenerated {GOLDEN.relative_to(ROOT)} ({REGEN_VARIABLE}=1): review the diff, then rerun without it"
        )
    assert GOLDEN.exists(), f"{GOLDEN.relative_to(ROOT)} is missing: create it with {REGEN_VARIABLE}=1"
    expected = json.loads(GOLDEN.read_text(encoding="utf-8"))
    problems = _compare(expected, summary)
    if problems:
        pytest.fail(
            "output differs from the golden file "
            f"{GOLDEN.relative_to(ROOT)} (regenerate on purpose with {REGEN_VARIABLE}=1):\n\n" + "\n\n".join(problems),
            pytrace=False,
        )


def test_golden_diff_is_readable() -> None:
    """The failure message names the first differing document and shows its changed lines."""
    row = {"source_format": "text", "source_id": "a.txt", "text": "one\ntwo", "fixes": []}
    changed = {**row, "text": "one\nTWO"}
    problems = _compare({"documents": [row]}, {"documents": [changed]})
    assert len(problems) == 1
    assert "first differing row text a.txt" in problems[0]
    assert "-  | two" in problems[0] and "+  | TWO" in problems[0]


def test_generated_fixtures_are_up_to_date() -> None:
    spec = importlib.util.spec_from_file_location("make_formats", MAKE_FORMATS)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.main(["--check"]) == 0, "run fixtures/make_formats.py"


# --- what the golden file relies on ---------------------------------------------------------


def _fixture_files() -> list[str]:
    found = []
    for root, dirs, files in os.walk(FORMATS):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        found.extend(Path(root, name).relative_to(FORMATS).as_posix() for name in files if not name.startswith("."))
    return sorted(found)


def test_every_fixture_file_is_accounted_for(
    manifest: dict[str, Any], documents: list[dict[str, Any]], rejected: list[dict[str, Any]]
) -> None:
    paths = [entry["path"] for entry in manifest["inputs"]]
    assert paths == _fixture_files()
    assert all(entry["records"] >= 1 for entry in manifest["inputs"]), "a file gave no row at all"
    counts = manifest["counts"]
    assert counts["records_in"] == counts["kept"] + counts["rejected"]
    assert counts["records_in"] == sum(entry["records"] for entry in manifest["inputs"])
    assert (len(documents), len(rejected)) == (counts["kept"], counts["rejected"])
    assert sum(counts["by_reason"].values()) == sum(counts["by_stage"].values()) == counts["rejected"]
    # a one-document-per-file input is found by its path
    one_per_file = [e["path"] for e in manifest["inputs"] if e["format"] in ("text", "html")]
    ids = {row["source_id"] for row in documents + rejected}
    assert [p for p in one_per_file if p not in ids] == []


def test_documents_are_clean(documents: list[dict[str, Any]]) -> None:
    leftovers = {
        "HTML tag": re.compile(r"</?[a-zA-Z][^>]*>|<!--"),
        "HTML entity": re.compile(r"&(#[0-9]+|#x[0-9a-fA-F]+|[a-zA-Z]{2,8});"),
        "literal escape": re.compile(r"\\u[0-9a-fA-F]{4}|\\n|\\/"),
        "mojibake": re.compile("â€|Ã[\u0080-\u00bf©¨¢]|Â[\u00a0-\u00bf]|\ufffd"),
        "control character": re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]"),
        "WordPress markup": re.compile(r"wp:|\[/?(caption|embed|gallery)|_links|class_list|yoast|guid|post-\d+"),
        "boilerplate": re.compile(
            r"also read|source link|go to forum|\[photo|cookie|all rights reserved|share this|read more|责任编辑|相关阅读",
            re.IGNORECASE,
        ),
    }
    problems = []
    for row in documents:
        for field in ("text", "title", "author"):
            value = row[field] or ""
            for what, pattern in leftovers.items():
                match = pattern.search(value)
                if match:
                    problems.append(f"{_key(row)} {field}: {what} {match.group(0)!r}")
        text = row["text"]
        # spaces inside a line are the author's and kept; trailing ones are not
        if text != text.strip() or "\n\n\n" in text or re.search(r"[ \t]+$", text, re.MULTILINE):
            problems.append(f"{_key(row)}: whitespace not normalized")
        if row["language"] in (None, "und"):
            problems.append(f"{_key(row)}: no language")
    assert problems == []


def test_wordpress_post_in_a_txt_file_is_detected_by_content(
    documents: list[dict[str, Any]], manifest: dict[str, Any]
) -> None:
    row = _one(documents, source_id="471952")
    assert row["source_format"] == "wordpress_rest"
    assert row["title"] == "China’s AI industry looks unstoppable, but can it overtake the US for tech supremacy?"
    assert row["url"] == "https://www.newsbeep.com/au/471952/"
    assert row["source"] == "www.newsbeep.com"
    assert row["text"].startswith("Hong Kong\n\nWhen China’s biggest artificial intelligence players")
    entry = _one(manifest["inputs"], path="wordpress/single-post.txt")
    assert entry["format"] != "text" and entry["error"] is None


def test_wordpress_fields_are_mapped(documents: list[dict[str, Any]]) -> None:
    row = _one(documents, source_format="wordpress_rest", source_id="1038")
    assert row["author"] == "Tom Okafor"
    assert row["tags"] == ["cycling", "Bridge Road", "council"]
    assert row["published_at"].isoformat() == "2024-05-16T21:40:00+00:00"
    assert row["title"] == "Council approves cycle lanes on Bridge Road – 36 parking spaces to go"
    assert "youtube" not in row["text"]


def test_wordpress_draft_is_rejected_not_published(rejected: list[dict[str, Any]]) -> None:
    row = _one(rejected, source_format="wordpress_rest", source_id="1050")
    assert (row["stage"], row["reason"]) == ("read", "not_published")


@pytest.mark.parametrize("path", ["wordpress/error-page-7.json", "wordpress/users.json"])
def test_wordpress_non_posts_are_not_content(rejected: list[dict[str, Any]], path: str) -> None:
    row = _one(rejected, source_id=path)
    assert (row["stage"], row["reason"]) == ("read", "not_content")


def test_invalid_jsonl_line_is_rejected_unreadable_with_its_line_number(
    rejected: list[dict[str, Any]], documents: list[dict[str, Any]]
) -> None:
    row = _one(rejected, reason="unreadable")
    assert row["source_format"] == "jsonl"
    assert row["source_id"] == "jsonl/records.jsonl:4"  # line 3 is blank: lines count from 1
    assert "harbour master" in row["text"]
    # the lines around it are read
    assert {"jl-001", "jl-002", "jl-006"} <= {r["source_id"] for r in documents}
    assert _one(rejected, source_id="jl-005")["stage"] == "read"


def test_exact_duplicate_points_at_a_kept_document(
    rejected: list[dict[str, Any]], documents: list[dict[str, Any]]
) -> None:
    pair = {"text/article-utf8.txt", "text/duplicate-of-article-utf8.txt"}
    duplicates = [row for row in rejected if row["source_id"] in pair]
    kept = [row for row in documents if row["source_id"] in pair]
    assert len(duplicates) == 1 and len(kept) == 1
    row = duplicates[0]
    assert (row["stage"], row["reason"]) == ("dedup", "exact_duplicate")
    assert row["duplicate_of"] == kept[0]["doc_id"]
    assert row["similarity"] == 1.0


@pytest.mark.parametrize("suffix", COMPRESSED)
def test_compressed_copies_are_read(
    suffix: str, manifest: dict[str, Any], documents: list[dict[str, Any]], rejected: list[dict[str, Any]]
) -> None:
    path = f"jsonl/wire.jsonl{suffix}"
    entry = _one(manifest["inputs"], path=path)
    plain = _one(manifest["inputs"], path="jsonl/wire.jsonl")
    assert (entry["format"], entry["records"], entry["error"]) == ("jsonl", 2, None)
    assert entry["sha256"] != plain["sha256"]
    rows = {row["source_id"]: row for row in documents + rejected}
    texts = {row["text"] for row in documents}
    for line in (1, 2):
        row = rows[f"{path}:{line}"]
        assert row["text"] in texts  # the same text as the plain copy: kept once
        assert row["title"] and row["url"]


def test_workers_do_not_change_the_output(run_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # small tasks, so that two workers really share the files
    monkeypatch.setattr(local_engine, "FILES_PER_TASK", 4)
    assert len(local_engine.plan_tasks(expand_inputs([FORMATS]))) > 2
    out = tmp_path / "out"
    report = Pipeline().run([FORMATS], out, workers=2)
    assert report.manifest["timings"]["workers"] == 2
    for table in ("documents", "rejected"):
        assert _rows(out / table) == _rows(run_dir / table), f"{table}/ differs between 1 and 2 workers"


# --- behaviour that was once wrong (each test failed before its fix) ---------------------------------


def test_html_date_keeps_its_utc_offset(documents: list[dict[str, Any]]) -> None:
    row = _one(documents, source_id="html/news-page.html")
    assert row["published_at"].isoformat() == "2024-03-18T08:30:00+00:00"


def test_no_date_invented_from_a_copyright_year(documents: list[dict[str, Any]]) -> None:
    row = _one(documents, source_id="html/legacy-cp1251.html")
    assert row["published_at"] is None


def test_cp1252_text_is_decoded_as_cp1252(documents: list[dict[str, Any]]) -> None:
    row = _one(documents, source_id="text/article-cp1252.txt")
    assert "crème brûlée" in row["text"]
    assert row["source_encoding"] == "cp1252"


def test_wordpress_caption_text_is_kept(documents: list[dict[str, Any]]) -> None:
    row = _one(documents, source_format="wordpress_rest", source_id="1042")
    assert "Shoppers at the reopened market on Mill Street." in row["text"]


def test_wordpress_term_names_are_decoded(documents: list[dict[str, Any]]) -> None:
    row = _one(documents, source_format="wordpress_rest", source_id="1042")
    assert row["categories"] == ["Local News", "Food & Drink"]


def test_golden_rows_have_unique_keys(summary: dict[str, Any]) -> None:
    ids = [f"{row['source_format']}:{row['source_id']}" for row in summary["documents"] + summary["rejected"]]
    assert len(ids) == len(set(ids)), "two rows share (source_format, source_id): the golden order is ambiguous"
