"""The analyst's side of a run: report.html (opened in a real browser), the dataset card (its
recipes executed), the terminal summary and progress bar, and partitioned Parquet."""

from __future__ import annotations

import importlib.util
import io
import json
import logging
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest

from corpusclean import report as report_module
from corpusclean.card import render_card
from corpusclean.cli import _ProgressBar, _summary, main
from corpusclean.config import PipelineConfig
from corpusclean.errors import ConfigError
from corpusclean.pipeline import Pipeline, Progress
from corpusclean.report import collect_report_data, render_report
from corpusclean.schema import DOCUMENT_COLUMNS, DOCUMENT_SCHEMA, PASSAGE_COLUMNS, REJECTED_COLUMNS
from corpusclean.sinks.parquet import PartitionedWriter, partition_directory
from corpusclean.validate import validate_output
from tests.conftest import FIXTURES, SAMPLE

FORMATS = FIXTURES / "formats"
SECTIONS = {
    "funnel": "Stage funnel",
    "languages": "Languages",
    "lengths": "Document lengths",
    "duplicates": "Duplicates and near-duplicates",
    "boilerplate": "Boilerplate removed",
    "fixes": "Text repairs",
    "sources": "Largest sources",
    "examples": "Examples",
    "run": "Run",
}
HAS_MATPLOTLIB = importlib.util.find_spec("matplotlib") is not None


@pytest.fixture(scope="module")
def formats_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """fixtures/formats (rejections of most kinds, duplicates, boilerplate, fixes), through the CLI."""
    out = tmp_path_factory.mktemp("report") / "out"
    assert main(["run", str(FORMATS), "-o", str(out), "--workers", "1", "--quiet"]) == 0
    return out


@pytest.fixture(scope="module")
def partitioned_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[int, Path]:
    """fixtures/formats partitioned by language, with one and with two workers."""
    base = tmp_path_factory.mktemp("partitioned")
    runs = {}
    for workers in (1, 2):
        out = base / f"w{workers}"
        args = ["run", str(FORMATS), "-o", str(out), "--workers", str(workers), "--quiet"]
        assert main([*args, "--partition-by", "language"]) == 0
        runs[workers] = out
    return runs


# --- report.html ------------------------------------------------------------------------


def test_run_writes_report_and_card_after_the_manifest(formats_run: Path) -> None:
    page = (formats_run / "report.html").read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>")
    for anchor, title in SECTIONS.items():
        assert f'<section id="{anchor}"><h2>{title}</h2>' in page, anchor
    assert (formats_run / "README.md").exists()
    # report and card are not part of the dataset: validate ignores them
    assert validate_output(formats_run) == []


def test_report_is_self_contained(formats_run: Path) -> None:
    page = (formats_run / "report.html").read_text(encoding="utf-8")
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page, re.IGNORECASE)
    assert not re.search(r"url\((?!#)", page) and "@import" not in page  # url(#id): a clip path in the page
    ids = re.findall(r'\bid="([^"]+)"', page)
    assert len(ids) == len(set(ids))  # charts inline in one page must not share ids
    assert "<script" not in page.lower() and "<link" not in page.lower()


@pytest.mark.skipif(not HAS_MATPLOTLIB, reason="matplotlib not installed: pip install 'corpusclean[report]'")
def test_report_has_charts(formats_run: Path) -> None:
    page = (formats_run / "report.html").read_text(encoding="utf-8")
    charts = re.findall(r'<svg role="img" aria-label="([^"]+)"', page)
    assert {"Stage funnel: records remaining after each stage", "Documents per language"} <= set(charts)
    assert "Histogram of words per document" in charts
    assert "Duplicate group sizes" in charts
    assert "Removals per boilerplate rule" in charts
    assert "Documents per text repair" in charts
    assert "Records per source, kept and rejected" in charts
    assert "pip install" not in page  # no hint when the charts are there


def test_report_content_matches_the_run(formats_run: Path) -> None:
    manifest = json.loads((formats_run / "manifest.json").read_text())
    data = collect_report_data(formats_run)
    assert sum(data.by_stage_reason.values()) == manifest["counts"]["rejected"]
    assert sum(data.languages.values()) == manifest["counts"]["kept"]
    assert sum(v[0] for v in data.sources.values()) == manifest["counts"]["kept"]
    assert sum(v[1] for v in data.sources.values()) == manifest["counts"]["rejected"]
    exact = manifest["counts"]["by_reason"]["exact_duplicate"]
    assert sum((size - 1) * n for size, n in data.exact_sizes.items()) == exact
    assert set(data.rejected_examples) == set(manifest["counts"]["by_reason"])
    assert all(1 <= len(rows) <= report_module.EXAMPLES_PER_REASON for rows in data.rejected_examples.values())
    duplicate = data.rejected_examples["exact_duplicate"][0]
    assert duplicate["kept"]["text"] and duplicate["text"]  # before/after: the kept document beside it
    assert data.removal_examples and all(row["removed"] and row["text"] for row in data.removal_examples)
    assert data.word_quantile(0.5) > 0 and data.max_words >= data.word_quantile(0.9)
    page = (formats_run / "report.html").read_text(encoding="utf-8")
    for reason in manifest["counts"]["by_reason"]:
        assert f"<h3><code>{reason}</code>" in page, reason
    assert "news.share_prompt" in page and "Share this article" in page


def test_report_reads_texts_only_for_its_examples(formats_run: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    scanned: list[list[str]] = []
    fetched: list[int] = []
    real_batches, real_rows_by_id = report_module._batches, report_module._rows_by_id

    def spy_batches(paths, columns):
        scanned.append(list(columns))
        return real_batches(paths, columns)

    def spy_rows_by_id(paths, ids, columns):
        ids = list(ids)
        fetched.append(len(set(ids)))
        return real_rows_by_id(paths, ids, columns)

    monkeypatch.setattr(report_module, "_batches", spy_batches)
    monkeypatch.setattr(report_module, "_rows_by_id", spy_rows_by_id)
    collect_report_data(formats_run)
    assert scanned and all("text" not in columns for columns in scanned)
    reasons = len(json.loads((formats_run / "manifest.json").read_text())["counts"]["by_reason"])
    assert sum(fetched) <= reasons * report_module.EXAMPLES_PER_REASON * 2 + report_module.REMOVAL_EXAMPLES + 5


def test_report_without_matplotlib_has_the_tables(formats_run: Path) -> None:
    page = render_report(collect_report_data(formats_run), charts=False)
    assert "<svg" not in page
    assert "pip install &#x27;corpusclean[report]&#x27;" in page
    for anchor in SECTIONS:
        assert f'<section id="{anchor}">' in page
    assert page.count("<table") >= 8 and 'class="bar"' in page


def test_report_escapes_every_text(formats_run: Path) -> None:
    data = collect_report_data(formats_run)
    evil = '</pre><script>alert("x")</script><img src=x onerror=alert(1)>'
    data.sources[evil] = [1, 1, 5, 20]
    data.languages[evil] = 1
    data.rules[evil] = 3
    data.fixes[evil] = 2
    data.removed_lines.add((evil, evil), 9)
    row = dict(data.rejected_examples["exact_duplicate"][0])
    row.update(source_id=evil, title=evil, detail=evil, text=evil, kept={"source_id": evil, "text": evil})
    data.rejected_examples["exact_duplicate"].append(row)
    data.removal_examples.append(
        {
            "doc_id": "x",
            "source_id": evil,
            "title": evil,
            "text": evil,
            "removed": [{"rule": evil, "text": evil, "line": 1}],
        }
    )
    page = render_report(data)
    assert "<script" not in page and "<img" not in page and "</pre><script>" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page


def test_report_command(formats_run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(formats_run, copy)
    (copy / "report.html").unlink()
    (copy / "README.md").unlink()
    assert main(["report", str(copy)]) == 0
    assert (copy / "report.html").exists() and (copy / "README.md").exists()
    assert "report.html" in capsys.readouterr().err
    assert main(["report", str(tmp_path / "absent")]) == 2
    incomplete = tmp_path / "incomplete"
    (incomplete / "_work").mkdir(parents=True)
    assert main(["report", str(incomplete)]) == 3
    assert "not a complete run" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_info:
        main(["report", "--help"])
    assert exit_info.value.code == 0
    assert "report.html" in capsys.readouterr().out


def test_a_failing_report_is_a_warning_and_the_run_completes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, capsys
) -> None:
    def broken(out):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(report_module, "write_report_and_card", broken)
    out = tmp_path / "out"
    with caplog.at_level(logging.WARNING):
        assert main(["run", str(SAMPLE), "-o", str(out), "--workers", "1"]) == 0
    assert "disk on fire" in caplog.text and "corpusclean report" in caplog.text
    assert "report: not written" in capsys.readouterr().err
    assert (out / "manifest.json").exists() and not (out / "report.html").exists()
    assert validate_output(out) == []


def _chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    pytest.skip("no headless browser: install Debian's chromium (apt-get install -y chromium) to run this test")


def _browser(url: str, profile: Path, *extra: str) -> subprocess.CompletedProcess[bytes]:
    command = [
        _chromium(),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        f"--user-data-dir={profile}",
        "--window-size=1280,2000",
        *extra,
        url,
    ]
    return subprocess.run(command, capture_output=True, timeout=120, check=False)


def test_report_renders_in_a_headless_browser(formats_run: Path, tmp_path: Path) -> None:
    url = (formats_run / "report.html").resolve().as_uri()
    dom = _browser(url, tmp_path / "profile-dom", "--dump-dom")
    assert dom.returncode == 0, dom.stderr.decode(errors="replace")[-2000:]
    html = dom.stdout.decode("utf-8")
    for title in SECTIONS.values():
        assert f"<h2>{title}</h2>" in html, title
    if HAS_MATPLOTLIB:
        assert html.count('<svg role="img"') >= 6
    assert "Traceback" not in html
    screenshot = tmp_path / "report.png"
    shot = _browser(url, tmp_path / "profile-shot", f"--screenshot={screenshot}")
    assert shot.returncode == 0 and screenshot.exists(), shot.stderr.decode(errors="replace")[-2000:]
    assert screenshot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert screenshot.stat().st_size > 30_000  # a blank 1280×2000 page is a few kB


# --- dataset card -----------------------------------------------------------------------


def test_card_documents_every_column_from_the_schema(formats_run: Path) -> None:
    card = (formats_run / "README.md").read_text(encoding="utf-8")
    for heading, columns in (
        ("documents/", DOCUMENT_COLUMNS),
        ("rejected/", REJECTED_COLUMNS),
        ("passages/", PASSAGE_COLUMNS),
    ):
        section = card.split(f"### `{heading}`", 1)[1].split("###", 1)[0]
        for column in columns:
            row = next(line for line in section.splitlines() if line.startswith(f"| `{column.name}` |"))
            assert " ".join(column.description.split())[:40] in row.replace("\\|", "|"), column.name
    manifest = json.loads((formats_run / "manifest.json").read_text())
    assert f"**{manifest['counts']['kept']:,} documents**" in card
    for reason in manifest["counts"]["by_reason"]:
        assert f"| `{reason}` |" in card


def test_card_config_reads_back_as_the_runs_config(formats_run: Path, tmp_path: Path) -> None:
    card = (formats_run / "README.md").read_text(encoding="utf-8")
    [toml] = re.findall(r"```toml\n(.*?)\n```", card, re.DOTALL)
    path = tmp_path / "corpusclean.toml"
    path.write_text(toml, encoding="utf-8")
    manifest = json.loads((formats_run / "manifest.json").read_text())
    assert PipelineConfig.from_toml(path).to_dict() == manifest["config"]


RECIPE_LIBRARIES = ["pandas", "polars", "duckdb", "pyarrow", "datasets"]


def _recipe(card: str, library: str) -> str:
    blocks = re.findall(r"```python\n(.*?)```", card, re.DOTALL)
    assert len(blocks) == len(RECIPE_LIBRARIES)
    pattern = re.compile(rf"^(import {library}\b|from {library}\b)", re.MULTILINE)
    [block] = [b for b in blocks if pattern.search(b)]
    return block


@pytest.mark.parametrize("partitioned", [False, True], ids=["flat", "partitioned"])
@pytest.mark.parametrize("library", RECIPE_LIBRARIES)
def test_card_recipes_run_from_inside_out(
    library: str, partitioned: bool, formats_run: Path, partitioned_runs: dict[int, Path], tmp_path: Path
) -> None:
    out = partitioned_runs[1] if partitioned else formats_run
    code = _recipe((out / "README.md").read_text(encoding="utf-8"), library)
    if importlib.util.find_spec(library) is None:
        pytest.skip(f"{library} is not installed (the recipe is for analysts who use it)")
    env = {**os.environ, "HF_HOME": str(tmp_path / "hf"), "HF_DATASETS_OFFLINE": "1", "HF_HUB_OFFLINE": "1"}
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=out, capture_output=True, text=True, timeout=300, env=env, check=False
    )
    assert result.returncode == 0, f"{code}\n--- stderr:\n{result.stderr[-3000:]}"
    assert result.stdout.strip()


def test_card_without_language_counts_or_sizes_still_renders(formats_run: Path) -> None:
    manifest = json.loads((formats_run / "manifest.json").read_text())
    card = render_card(manifest)
    assert card.startswith("# dataset: a corpusclean dataset") and "```python" in card


# --- terminal ---------------------------------------------------------------------------


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_bar_shows_rate_and_eta_on_a_terminal_only() -> None:
    terminal = _Terminal()
    bar = _ProgressBar(True, stream=terminal)
    for done in (1, 2, 3):
        bar(Progress("pass1", done, 4, documents=done * 10))
    for phase in ("global", "pass2", "report", "done"):
        bar(Progress(phase, 0, 1))
    shown = terminal.getvalue()
    assert "3/4 files" in shown and "30 documents" in shown and "documents/s" in shown
    assert re.search(r"\d\d:\d\d<\d\d:\d\d", shown)  # elapsed<remaining
    assert "writing report.html" in shown
    for stream, enabled in ((io.StringIO(), True), (_Terminal(), False)):  # not a terminal; --quiet
        quiet = _ProgressBar(enabled, stream=stream)
        quiet(Progress("pass1", 1, 4, documents=10))
        assert stream.getvalue() == ""


def test_summary_lists_stages_reasons_speed_and_paths(formats_run: Path, tmp_path: Path) -> None:
    report = Pipeline().run([FORMATS], tmp_path / "out", workers=1)
    text = _summary(report)
    manifest = report.manifest
    assert f"{report.records_in} records in, {report.kept} kept, {report.rejected} rejected" in text
    assert "documents/s" in text and "pass 1" in text and "worker" in text
    for stage, count in manifest["counts"]["by_stage"].items():
        assert re.search(rf"^  {stage}\s+{count}\s", text, re.MULTILINE), stage
    for reason in manifest["counts"]["by_reason"]:
        assert re.search(rf"^    {reason}\s+\d+\s", text, re.MULTILINE), reason
    assert f"report: {tmp_path / 'out' / 'report.html'}" in text
    assert f"dataset card: {tmp_path / 'out' / 'README.md'}" in text


# --- partitioned Parquet ----------------------------------------------------------------


def test_partitioned_output_is_hive_style_and_valid(partitioned_runs: dict[int, Path], formats_run: Path) -> None:
    out = partitioned_runs[1]
    assert validate_output(out) == []
    parts = sorted(p.relative_to(out).as_posix() for p in (out / "documents").rglob("*.parquet"))
    assert parts and all(re.fullmatch(r"documents/language=[a-z]{2,3}/part-\d{5}\.parquet", p) for p in parts)
    manifest = json.loads((out / "manifest.json").read_text())
    assert [p["path"] for p in manifest["outputs"]["documents"]] == parts
    assert not any("=" in p.as_posix() for p in (out / "rejected").rglob("*"))
    flat = pq.read_table(formats_run / "documents").sort_by("doc_id")
    dataset = ds.dataset(out / "documents", format="parquet", partitioning="hive")
    assert dataset.schema.field("language").type == pa.string()
    assert dataset.to_table().sort_by("doc_id").equals(flat.select(dataset.schema.names))
    for part in (out / "documents").rglob("*.parquet"):
        table = pq.read_table(part, partitioning=None)
        assert table.schema.equals(DOCUMENT_SCHEMA, check_metadata=False)
        assert set(table["language"].to_pylist()) == {part.parent.name.split("=", 1)[1]}
        # rows keep the order of the unpartitioned output
        language = part.parent.name.split("=", 1)[1]
        in_flat = [
            r["doc_id"] for r in pq.read_table(formats_run / "documents").to_pylist() if r["language"] == language
        ]
        assert table["doc_id"].to_pylist() == in_flat


def test_partitioned_output_reads_as_one_dataset_in_duckdb(partitioned_runs: dict[int, Path]) -> None:
    duckdb = pytest.importorskip("duckdb")
    out = partitioned_runs[1]
    glob = (out / "documents" / "**" / "*.parquet").as_posix()
    rows = duckdb.sql(
        f"SELECT language, count(*) FROM read_parquet('{glob}', hive_partitioning = true) GROUP BY ALL ORDER BY 1"
    ).fetchall()
    expected = (
        ds.dataset(out / "documents", partitioning="hive")
        .to_table()
        .group_by("language")
        .aggregate([([], "count_all")])
    )
    assert dict(rows) == dict(zip(expected["language"].to_pylist(), expected["count_all"].to_pylist(), strict=True))


def test_partitioned_output_is_the_same_whatever_the_worker_count(partitioned_runs: dict[int, Path]) -> None:
    one, two = partitioned_runs[1], partitioned_runs[2]
    for kind in ("documents", "rejected", "passages"):
        paths_one = sorted(p.relative_to(one) for p in (one / kind).rglob("*.parquet"))
        paths_two = sorted(p.relative_to(two) for p in (two / kind).rglob("*.parquet"))
        assert paths_one == paths_two
        for path in paths_one:
            assert pq.read_table(one / path, partitioning=None).equals(pq.read_table(two / path, partitioning=None))


def test_partition_by_source_encodes_awkward_values(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    stories = {
        "a b/c": "The harbour master said the breakwater repairs would finish in May.",
        "x=y": "Grain exports through Black Sea ports rose twelve percent in spring.",
        "ünï": "A new bus line will link the airport with the university campus.",
        ".": "The city council approved the budget for the bridge after a long debate.",
    }
    for folder, story in stories.items():
        (corpus / folder).mkdir(parents=True, exist_ok=True)
        (corpus / folder / "story.txt").write_text(story)
    out = tmp_path / "out"
    assert main(["run", str(corpus), "-o", str(out), "--partition-by", "source", "--workers", "1", "--quiet"]) == 0
    assert validate_output(out) == []
    directories = sorted(p.name for p in (out / "documents").iterdir())
    assert directories == sorted(partition_directory("source", s) for s in (".", "a b/c", "x=y", "ünï"))
    table = ds.dataset(out / "documents", partitioning="hive").to_table()
    assert sorted(table["source"].to_pylist()) == sorted([".", "a b/c", "x=y", "ünï"])


def test_validate_looks_into_partition_directories(partitioned_runs: dict[int, Path], tmp_path: Path) -> None:
    out = tmp_path / "copy"
    shutil.copytree(partitioned_runs[1], out)
    stray = out / "documents" / "language=xx" / "part-00000.parquet"
    stray.parent.mkdir()
    shutil.copy(next((out / "documents").rglob("*.parquet")), stray)
    assert any("language=xx/part-00000.parquet: not listed" in p for p in validate_output(out))


def test_partitioned_writer_keeps_order_and_bounds_memory(tmp_path: Path) -> None:
    schema = pa.schema([("doc_id", pa.string()), ("language", pa.string())])
    rows = [{"doc_id": f"{i:04d}", "language": ("en", "de", "fr", None)[i % 7 % 4]} for i in range(500)]
    writer = PartitionedWriter(
        tmp_path / "documents", schema, "language", rows_per_file=60, row_group_size=16, max_open_parts=2
    )
    peak = 0
    for row in rows:
        writer.write_rows([row])
        peak = max(peak, sum(w.pending_rows for w in writer._writers.values()))
        assert sum(w.part_open for w in writer._writers.values()) <= 2
    parts = writer.close()
    assert peak < 16
    assert sum(p["rows"] for p in parts) == len(rows)
    assert [p["path"] for p in parts] == sorted(p["path"] for p in parts)
    for value in ("en", "de", "fr", None):
        directory = tmp_path / "documents" / partition_directory("language", value)
        files = sorted(directory.glob("part-*.parquet"))
        written = pa.concat_tables(pq.read_table(f, partitioning=None) for f in files)["doc_id"].to_pylist()
        assert written == [r["doc_id"] for r in rows if r["language"] == value]
    empty = PartitionedWriter(tmp_path / "empty", schema, "language", rows_per_file=10, row_group_size=10)
    assert [p["rows"] for p in empty.close()] == [0]


def test_partition_by_is_validated(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert PipelineConfig().output.partition_by == ""
    assert PipelineConfig.from_dict({"output": {"partition_by": "source"}}).output.partition_by == "source"
    with pytest.raises(ConfigError, match=r"output\.partition_by"):
        PipelineConfig.from_dict({"output": {"partition_by": "title"}})
    with pytest.raises(SystemExit) as exit_info:
        main(["run", str(SAMPLE), "-o", str(tmp_path / "o"), "--partition-by", "title"])
    assert exit_info.value.code == 2
