"""``OUT/README.md``: the dataset card written beside the data.

What every column means (generated from :mod:`corpusclean.schema`, the one source of truth),
how the data was produced (version, config, inputs, timing), the counts, and recipes that read
it with pandas, polars, DuckDB, pyarrow and Hugging Face datasets from inside ``OUT``. Written
at the end of every run and by ``corpusclean report OUT``, from ``manifest.json`` alone (plus
the language counts when the caller has them).
"""

from __future__ import annotations

import inspect
import json
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from corpusclean.records import Reason
from corpusclean.schema import DOCUMENT_COLUMNS, PASSAGE_COLUMNS, REJECTED_COLUMNS, Column

__all__ = ["CARD", "render_card", "write_card"]

CARD = "README.md"


def _cell(text: Any) -> str:
    """Text for one Markdown table cell."""
    return " ".join(str(text).split()).replace("|", "\\|")


def _column_table(columns: Sequence[Column]) -> str:
    lines = ["| column | type | null | meaning |", "|---|---|---|---|"]
    for column in columns:
        meaning = column.description
        if column.enum:
            meaning += " One of: " + ", ".join(f"`{value}`" for value in column.enum) + "."
        lines.append(
            f"| `{column.name}` | `{_cell(column.type)}` | {'yes' if column.nullable else 'no'} | {_cell(meaning)} |"
        )
    return "\n".join(lines)


def _reason_meanings() -> dict[str, str]:
    """The ``#:`` comments above each member of :class:`Reason` (its documentation)."""
    meanings: dict[str, str] = {}
    try:
        source = inspect.getsource(Reason)
    except (OSError, TypeError):  # pragma: no cover - no source shipped
        return meanings
    comment: list[str] = []
    for line in source.splitlines():
        stripped = line.strip()
        if stripped.startswith("#:"):
            comment.append(stripped[2:].strip())
            continue
        match = re.match(r'^[A-Z_]+\s*=\s*"([a-z_]+)"', stripped)
        if match:
            meanings[match.group(1)] = " ".join(comment)
        comment = []
    return meanings


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, (int, float)):
        return repr(value)
    return json.dumps(str(value), ensure_ascii=False)


def config_toml(config: Mapping[str, Mapping[str, Any]]) -> str:
    """The config of a manifest as TOML that ``corpusclean run --config`` reads back."""
    sections = []
    for section, values in config.items():
        lines = [f"[{section}]"] + [f"{key} = {_toml_value(value)}" for key, value in values.items()]
        sections.append("\n".join(lines))
    return "\n\n".join(sections)


def _size(num_bytes: int) -> str:
    size = float(num_bytes)
    for unit in ("bytes", "kB", "MB", "GB"):
        if size < 1000:
            return f"{size:,.0f} {unit}" if unit == "bytes" else f"{size:,.1f} {unit}"
        size /= 1000
    return f"{size:,.1f} TB"


def _recipes(partition_by: str) -> str:
    """Reading recipes, run from inside OUT (a test executes every ```python block)."""
    documents_glob = "documents/**/*.parquet" if partition_by else "documents/*.parquet"
    pandas_documents = (
        'pd.read_parquet("documents/", partitioning=None)  # the partition column is in the files'
        if partition_by
        else 'pd.read_parquet("documents/")'
    )
    partition_note = (
        f"\n\n`documents/` is partitioned by `{partition_by}` in hive-style directories "
        f"(`documents/{partition_by}=<value>/part-00000.parquet`; values percent-encoded, null as "
        "`__HIVE_DEFAULT_PARTITION__`). The column stays in the files too, so every part reads alone; "
        "pandas and `pyarrow.parquet.read_table` need `partitioning=None` on the directory (else they add "
        "the column a second time, with another type), pyarrow datasets and DuckDB read the partitions as "
        "the column."
        if partition_by
        else ""
    )
    return f"""## How to read it

Run these from this directory (the one holding this README): the paths are relative.{partition_note}

pandas (with pyarrow):

```python
import pandas as pd

documents = {pandas_documents}
rejected = pd.read_parquet("rejected/")
print(documents[["source_id", "title", "language", "word_count"]].head())
print(rejected.groupby(["stage", "reason"]).size())
```

polars:

```python
import polars as pl

documents = pl.read_parquet("{documents_glob}")
print(documents.group_by("language").len().sort("len", descending=True))
print(pl.scan_parquet("rejected/*.parquet").select("reason", "detail").collect().head())
```

DuckDB:

```python
import duckdb

duckdb.sql(
    "SELECT language, count(*) AS documents, sum(word_count) AS words "
    "FROM read_parquet('{documents_glob}', hive_partitioning = {"true" if partition_by else "false"}) "
    "GROUP BY language ORDER BY documents DESC"
).show()
duckdb.sql("SELECT stage, reason, count(*) AS n FROM 'rejected/*.parquet' GROUP BY ALL ORDER BY n DESC").show()
```

pyarrow datasets (streaming, with column projection and filters pushed down):

```python
import pyarrow.dataset as ds

documents = ds.dataset("documents/", format="parquet", partitioning="hive")
english = documents.to_table(columns=["doc_id", "title", "word_count"], filter=ds.field("language") == "en")
print(documents.count_rows(), english.num_rows)
```

Hugging Face datasets:

```python
from datasets import load_dataset

documents = load_dataset("parquet", data_files={{"train": "{documents_glob}"}}, split="train")
print(documents)
```
"""


def render_card(
    manifest: Mapping[str, Any],
    *,
    name: str = "dataset",
    languages: Mapping[Any, int] | None = None,
    sizes: Mapping[str, int] | None = None,
) -> str:
    """The dataset card (Markdown) of a run's ``manifest``; ``languages``: code → kept documents,
    ``sizes``: bytes of ``documents``, ``rejected``, ``passages`` on disk."""
    counts = manifest["counts"]
    config = manifest.get("config", {})
    partition_by = config.get("output", {}).get("partition_by", "") or ""
    inputs = manifest.get("inputs", [])
    outputs = manifest.get("outputs", {})
    timings = manifest.get("timings", {})
    records_in, kept, rejected = counts["records_in"], counts["kept"], counts["rejected"]

    def share(n: int) -> str:
        return f"{n / records_in:.1%}" if records_in else "–"

    lines = [
        f"# {name}: a corpusclean dataset",
        "",
        f"A text dataset cleaned by corpusclean {manifest.get('corpusclean_version', '?')} on "
        f"{manifest.get('created_at', '?')}: **{kept:,} documents** kept of {records_in:,} records read, "
        f"{rejected:,} rejected with a reason. Every record read is in `documents/` or in `rejected/`.",
        "",
        "Open `report.html` (beside this file) for charts and examples of everything that was removed.",
        "",
        "## Files",
        "",
        "| path | what | rows | parts | size |",
        "|---|---|---|---|---|",
    ]
    what = {
        "documents": "kept documents, sorted by `doc_id`"
        + (f" within each `{partition_by}` partition" if partition_by else ""),
        "rejected": "every record not kept, with stage, reason and its text at that point",
        "passages": "paragraphs repeated across kept documents, by cluster",
    }
    for kind in ("documents", "rejected", "passages"):
        parts = outputs.get(kind, [])
        size = _size(sizes[kind]) if sizes and kind in sizes else ""
        lines.append(f"| `{kind}/` | {what[kind]} | {sum(p['rows'] for p in parts):,} | {len(parts):,} | {size} |")
    lines += [
        "| `manifest.json` | versions, config, every input file with its checksum, counts, parts with "
        "checksums, timings | | | |",
        "| `report.html` | the report: funnel, languages, lengths, duplicates, boilerplate, examples | | | |",
        "",
        "Parquet, zstd compressed, dictionary-encoded low-cardinality columns, statistics on, timestamps in UTC; "
        "the corpusclean and schema versions are in each file's key-value metadata. "
        "`corpusclean validate .` checks every part against its checksum and schema and that the counts add up.",
        "",
        "## Counts",
        "",
        "| | records | of records in |",
        "|---|---|---|",
        f"| records in | {records_in:,} | |",
        f"| kept | {kept:,} | {share(kept)} |",
        f"| rejected | {rejected:,} | {share(rejected)} |",
        "",
    ]
    by_reason = counts.get("by_reason", {})
    if by_reason:
        meanings = _reason_meanings()
        lines += ["| rejection reason | records | meaning |", "|---|---|---|"]
        for reason, n in sorted(by_reason.items(), key=lambda kv: (-kv[1], kv[0])):
            lines.append(f"| `{reason}` | {n:,} | {_cell(meanings.get(reason, ''))} |")
        lines.append("")
    extra = [
        ("near-duplicate clusters", counts.get("near_duplicate_clusters")),
        ("passage clusters (repeated paragraphs)", counts.get("passage_clusters")),
        ("boilerplate lines learned from the corpus", counts.get("learned_boilerplate_lines")),
    ]
    lines += [f"- {label}: {value:,}" for label, value in extra if isinstance(value, int)]
    if languages:
        ranked = sorted(languages.items(), key=lambda kv: (-kv[1], str(kv[0])))
        shown = ", ".join(f"`{code if code is not None else 'null'}` {n:,}" for code, n in ranked[:12])
        more = f" and {len(ranked) - 12} more" if len(ranked) > 12 else ""
        lines.append(f"- languages of the kept documents: {shown}{more}")
    lines.append("")

    lines += [
        "## Columns",
        "",
        "Generated from the declared schema (`corpusclean.schema`); the JSON Schemas are in corpusclean's "
        "`schemas/` directory.",
        "",
        "### `documents/`",
        "",
        _column_table(DOCUMENT_COLUMNS),
        "",
        "`removed` items are structs `{rule, text, line}`: the rule id (`learned` for lines learned from the "
        "corpus), the text removed, and its 1-based line number in the text before removal.",
        "",
        "### `rejected/`",
        "",
        _column_table(REJECTED_COLUMNS),
        "",
        "### `passages/`",
        "",
        _column_table(PASSAGE_COLUMNS),
        "",
    ]

    formats = Counter(entry.get("format") or "unreadable" for entry in inputs)
    arguments = sorted({entry.get("input") for entry in inputs if entry.get("input")})
    errors = sum(1 for entry in inputs if entry.get("error"))
    total_bytes = sum(entry.get("bytes") or 0 for entry in inputs)
    seconds = timings.get("total_seconds")
    rate = timings.get("documents_per_second")
    lines += [
        "## How it was produced",
        "",
        f"- corpusclean {manifest.get('corpusclean_version', '?')}, schema versions "
        + ", ".join(f"{k} {v}" for k, v in manifest.get("schema_versions", {}).items()),
        f"- created {manifest.get('created_at', '?')}",
        f"- inputs: {len(inputs):,} files, {_size(total_bytes)} ("
        + ", ".join(f"{fmt} {n:,}" for fmt, n in formats.most_common())
        + f"); {errors:,} could not be read",
        "- input arguments: " + (", ".join(f"`{a}`" for a in arguments) or "–"),
    ]
    if isinstance(seconds, (int, float)):
        lines.append(
            f"- time: {seconds:,.1f} s with {timings.get('workers', '?')} worker(s)"
            + (f", {rate:,.1f} documents/s" if isinstance(rate, (int, float)) else "")
        )
    lines += [
        "- every input file with its size and SHA-256 is listed in `manifest.json` (`inputs`)",
        "",
        "The whole configuration (defaults included). Saved as `corpusclean.toml`, "
        "`corpusclean run INPUT... -o OUT --config corpusclean.toml` repeats the run: the same inputs and "
        "config give the same rows.",
        "",
        "```toml",
        config_toml(config),
        "```",
        "",
        _recipes(partition_by),
    ]
    return "\n".join(lines)


def write_card(
    out: str | Path, manifest: Mapping[str, Any] | None = None, *, languages: Mapping[Any, int] | None = None
) -> Path:
    """Write ``OUT/README.md`` for the complete run in ``out``."""
    out = Path(out)
    if manifest is None:
        from corpusclean.report import load_manifest

        manifest = load_manifest(out)
    sizes = {
        kind: sum((out / p["path"]).stat().st_size for p in parts if (out / p["path"]).exists())
        for kind, parts in manifest.get("outputs", {}).items()
    }
    text = render_card(manifest, name=out.resolve().name, languages=languages, sizes=sizes)
    path = out / CARD
    tmp = out / f".{CARD}.tmp"
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
    return path
