"""``OUT/report.html``: what an analyst looks at first.

One self-contained page (inline CSS, charts inline as SVG, no script, no network) with the
stage funnel, languages, document lengths, duplicate cluster sizes, boilerplate rules and
removed lines, text repairs, the largest sources, and examples of every rejection reason.

Everything is read back from the finished output directory, never from the run's memory, so
``corpusclean report OUT`` on any complete run gives the same page as the run itself. The
Parquet parts listed in ``manifest.json`` are read part by part and batch by batch with column
projections, and aggregated with ``pyarrow.compute``; the ``text`` columns are read only for
the few rows shown as examples (a filtered read), so memory does not grow with the corpus
(the duplicate-group ids excepted: about 40 bytes per duplicate row).

Charts need matplotlib (``pip install 'corpusclean[report]'``); without it the page has every
table, with bars drawn in CSS, and says how to get the charts.
"""

from __future__ import annotations

import difflib
import html
import importlib.util
import io
import itertools
import json
import logging
import re
import warnings
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from corpusclean.card import config_toml, write_card
from corpusclean.errors import InputError
from corpusclean.schema import MANIFEST_FILE as MANIFEST
from corpusclean.sinks.parquet import iter_batches
from corpusclean.stages.boilerplate import LEARNED_RULE

__all__ = ["REPORT", "ReportData", "collect_report_data", "render_report", "write_report", "write_report_and_card"]

logger = logging.getLogger(__name__)

REPORT = "report.html"

#: Stages in pipeline order (the funnel's rows).
STAGE_ORDER = ("read", "decode", "extract", "boilerplate", "filter", "language", "dedup", "write")
#: Examples shown per rejection reason, and kept documents shown with their removals.
EXAMPLES_PER_REASON = 3
REMOVAL_EXAMPLES = 4
#: Characters of text shown in one example.
EXCERPT_CHARS = 900
#: Rows in the "most frequent" tables, and bars in their charts.
TOP = 20
CHART_BARS = 15
#: Word counts are tallied exactly up to this; longer documents share the last bin.
WORD_COUNT_CAP = 1 << 20
#: Distinct keys a frequency table holds before it drops its rarest half (counts of the
#: survivors are then lower bounds; the top of a long-tailed table is unaffected).
COUNTER_LIMIT = 100_000
#: Rows per batch when scanning a part (columns without texts).
BATCH_ROWS = 4096
#: Rows per batch when reading texts: 256 news texts are about 1.4 MB.
TEXT_BATCH_ROWS = 256

_LANGUAGE_NAMES = {
    "af": "Afrikaans", "ar": "Arabic", "bg": "Bulgarian", "bn": "Bengali", "ca": "Catalan", "cs": "Czech",
    "cy": "Welsh", "da": "Danish", "de": "German", "el": "Greek", "en": "English", "es": "Spanish",
    "et": "Estonian", "fa": "Persian", "fi": "Finnish", "fr": "French", "gu": "Gujarati", "he": "Hebrew",
    "hi": "Hindi", "hr": "Croatian", "hu": "Hungarian", "id": "Indonesian", "it": "Italian", "ja": "Japanese",
    "kn": "Kannada", "ko": "Korean", "lt": "Lithuanian", "lv": "Latvian", "mk": "Macedonian",
    "ml": "Malayalam", "mr": "Marathi", "ne": "Nepali", "nl": "Dutch", "no": "Norwegian", "pa": "Punjabi",
    "pl": "Polish", "pt": "Portuguese", "ro": "Romanian", "ru": "Russian", "sk": "Slovak", "sl": "Slovenian",
    "so": "Somali", "sq": "Albanian", "sv": "Swedish", "sw": "Swahili", "ta": "Tamil", "te": "Telugu",
    "th": "Thai", "tl": "Tagalog", "tr": "Turkish", "uk": "Ukrainian", "ur": "Urdu", "vi": "Vietnamese",
    "zh": "Chinese", "und": "undetermined",
}  # fmt: skip


# --- reading ----------------------------------------------------------------------------


class _TopCounter:
    """A frequency table that keeps at most :data:`COUNTER_LIMIT` keys (deterministically)."""

    def __init__(self, limit: int = COUNTER_LIMIT) -> None:
        self.counts: Counter[Any] = Counter()
        self.limit = limit
        self.truncated = False

    def add(self, key: Any, count: int = 1) -> None:
        self.counts[key] += count
        if len(self.counts) > self.limit:
            kept = sorted(self.counts.items(), key=lambda kv: (-kv[1], str(kv[0])))[: self.limit // 2]
            self.counts = Counter(dict(kept))
            self.truncated = True

    def most_common(self, n: int) -> list[tuple[Any, int]]:
        return sorted(self.counts.items(), key=lambda kv: (-kv[1], str(kv[0])))[:n]


def _value_counts(array: pa.Array | pa.ChunkedArray) -> Iterator[tuple[Any, int]]:
    counted = pc.value_counts(array)
    return zip(counted.field("values").to_pylist(), counted.field("counts").to_pylist(), strict=True)


def _group_counts(batch: pa.RecordBatch, keys: list[str]) -> list[dict[str, Any]]:
    return pa.Table.from_batches([batch]).group_by(keys).aggregate([([], "count_all")]).to_pylist()


def _parts(out: Path, manifest: dict[str, Any], kind: str) -> list[Path]:
    return [out / part["path"] for part in manifest.get("outputs", {}).get(kind, [])]


def _batches(paths: Sequence[Path], columns: list[str]) -> Iterator[pa.RecordBatch]:
    """The rows of ``paths``, file by file in order, only ``columns``."""
    for path in paths:
        yield from iter_batches(path, batch_size=BATCH_ROWS, columns=columns)


def _rows_by_id(paths: Sequence[Path], ids: Iterable[str], columns: list[str]) -> dict[str, dict[str, Any]]:
    """The rows whose ``doc_id`` is in ``ids``: the ``doc_id`` column is scanned row group by
    row group, and only the row groups holding a wanted id are read with ``columns``, so memory
    stays at one row group whatever the size of the output."""
    wanted = pa.array(sorted(set(ids)), pa.string())
    if not len(wanted) or not paths:
        return {}
    found: dict[str, dict[str, Any]] = {}
    for path in paths:
        parquet = pq.ParquetFile(path)
        for group in range(parquet.num_row_groups):
            ids = parquet.read_row_group(group, columns=["doc_id"])["doc_id"]
            if not pc.any(pc.is_in(ids, value_set=wanted)).as_py():
                continue
            batches = iter_batches(path, batch_size=TEXT_BATCH_ROWS, columns=["doc_id", *columns], row_groups=[group])
            for batch in batches:
                for row in batch.filter(pc.is_in(batch.column("doc_id"), value_set=wanted)).to_pylist():
                    found.setdefault(row["doc_id"], row)
    return found


@dataclass
class ReportData:
    """Everything the report shows, aggregated from an output directory."""

    out: Path
    manifest: dict[str, Any]
    # documents/
    languages: Counter[Any] = field(default_factory=Counter)
    word_counts: np.ndarray = field(default_factory=lambda: np.zeros(WORD_COUNT_CAP + 1, dtype=np.int64))
    max_words: int = 0
    total_words: int = 0
    total_chars: int = 0
    published: tuple[datetime | None, datetime | None] = (None, None)
    fixes: Counter[str] = field(default_factory=Counter)
    documents_with_fixes: int = 0
    rules: Counter[str] = field(default_factory=Counter)
    removed_lines: _TopCounter = field(default_factory=_TopCounter)
    removed_chars: int = 0
    documents_with_removals: int = 0
    sources: dict[str, list[int]] = field(default_factory=dict)  # source -> [kept, rejected, words, chars]
    # rejected/
    by_stage_reason: Counter[tuple[str, str]] = field(default_factory=Counter)
    details: dict[str, _TopCounter] = field(default_factory=dict)
    rejected_examples: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    # duplicates: group size -> number of groups
    exact_sizes: Counter[int] = field(default_factory=Counter)
    near_sizes: Counter[int] = field(default_factory=Counter)
    largest_clusters: list[dict[str, Any]] = field(default_factory=list)
    passage_sizes: Counter[int] = field(default_factory=Counter)
    largest_passages: list[dict[str, Any]] = field(default_factory=list)
    # kept documents with removals, shown as examples
    removal_examples: list[dict[str, Any]] = field(default_factory=list)

    @property
    def counts(self) -> dict[str, Any]:
        return self.manifest["counts"]

    def word_quantile(self, q: float) -> int:
        total = int(self.word_counts.sum())
        if total == 0:
            return 0
        index = int(np.searchsorted(np.cumsum(self.word_counts), max(1, int(np.ceil(q * total)))))
        return self.max_words if index >= WORD_COUNT_CAP else index


def load_manifest(out: str | Path) -> dict[str, Any]:
    """The manifest of a complete run; :class:`InputError` when ``out`` is not one."""
    out = Path(out)
    if not out.is_dir():
        raise InputError(f"no such directory: {out}")
    path = out / MANIFEST
    if not path.exists():
        raise InputError(f"{out} is not a complete run: {MANIFEST} is missing")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputError(f"{path} cannot be read: {exc}") from exc
    if not isinstance(manifest, dict) or "counts" not in manifest or "outputs" not in manifest:
        raise InputError(f"{path} is not a corpusclean manifest")
    return manifest


def collect_report_data(out: str | Path, manifest: dict[str, Any] | None = None) -> ReportData:
    """Aggregate the output directory ``out`` (a complete run) for the report and the card."""
    out = Path(out)
    data = ReportData(out=out, manifest=manifest or load_manifest(out))
    documents = _parts(out, data.manifest, "documents")
    rejected = _parts(out, data.manifest, "rejected")
    near_members: list[pa.Array] = []
    _scan_documents(data, documents, near_members)
    exact_targets, near_targets = _scan_rejected(data, rejected)
    near_members.extend(near_targets)
    data.exact_sizes, _ = _groups(exact_targets, plus=1)
    data.near_sizes, largest = _groups(near_members, largest=5)
    _scan_passages(data, _parts(out, data.manifest, "passages"))
    _fetch_examples(data, documents, rejected, largest)
    return data


def _scan_documents(data: ReportData, paths: Sequence[Path], near_members: list[pa.Array]) -> None:
    columns = [
        "doc_id",
        "source_id",
        "title",
        "source",
        "language",
        "word_count",
        "char_count",
        "published_at",
        "near_dup_cluster",
        "fixes",
        "removed",
    ]
    earliest: datetime | None = None
    latest: datetime | None = None
    rules_shown: set[str] = set()
    for batch in _batches(paths, columns):
        data.languages.update(dict(_value_counts(batch.column("language"))))
        words = batch.column("word_count").to_numpy(zero_copy_only=False)
        if len(words):
            tally = np.bincount(np.minimum(words, WORD_COUNT_CAP))
            data.word_counts[: len(tally)] += tally
            data.max_words = max(data.max_words, int(words.max()))
            data.total_words += int(words.sum())
        data.total_chars += int(pc.sum(batch.column("char_count")).as_py() or 0)
        span = pc.min_max(batch.column("published_at")).as_py()
        if span["min"] is not None:
            earliest = span["min"] if earliest is None else min(earliest, span["min"])
            latest = span["max"] if latest is None else max(latest, span["max"])
        for row in (
            pa.Table.from_batches([batch])
            .group_by("source")
            .aggregate([([], "count_all"), ("word_count", "sum"), ("char_count", "sum")])
            .to_pylist()
        ):
            totals = data.sources.setdefault(row["source"], [0, 0, 0, 0])
            totals[0] += row["count_all"]
            totals[2] += row["word_count_sum"] or 0
            totals[3] += row["char_count_sum"] or 0
        clusters = pc.drop_null(batch.column("near_dup_cluster"))
        if len(clusters):
            near_members.append(clusters)
        fixes = batch.column("fixes")
        data.documents_with_fixes += int(pc.sum(pc.greater(pc.list_value_length(fixes), 0)).as_py() or 0)
        data.fixes.update(dict(_value_counts(pc.list_flatten(fixes))))
        removed = batch.column("removed")
        has_removals = pc.greater(pc.list_value_length(removed), 0)
        data.documents_with_removals += int(pc.sum(has_removals).as_py() or 0)
        flat = pc.list_flatten(removed)
        if len(flat):
            data.rules.update(dict(_value_counts(flat.field("rule"))))
            data.removed_chars += int(pc.sum(pc.utf8_length(flat.field("text"))).as_py() or 0)
            pairs = pa.table({"rule": flat.field("rule"), "text": flat.field("text")})
            for row in pairs.group_by(["rule", "text"]).aggregate([([], "count_all")]).to_pylist():
                data.removed_lines.add((row["text"], row["rule"]), row["count_all"])
        if len(data.removal_examples) < REMOVAL_EXAMPLES and pc.any(has_removals).as_py():
            candidates = batch.filter(has_removals).slice(0, 256)  # a few rows per batch are plenty
            for row in candidates.select(["doc_id", "source_id", "title", "removed"]).to_pylist():
                rules = {item["rule"] for item in row["removed"]}
                if rules - rules_shown:
                    rules_shown |= rules
                    data.removal_examples.append(row)
                    if len(data.removal_examples) >= REMOVAL_EXAMPLES:
                        break
    data.published = (earliest, latest)


def _scan_rejected(data: ReportData, paths: Sequence[Path]) -> tuple[list[pa.Array], list[pa.Array]]:
    columns = ["doc_id", "source", "source_id", "title", "url", "stage", "reason", "detail"]
    columns += ["duplicate_of", "similarity"]
    exact: list[pa.Array] = []
    near: list[pa.Array] = []
    for batch in _batches(paths, columns):
        for row in _group_counts(batch, ["stage", "reason"]):
            data.by_stage_reason[(row["stage"], row["reason"])] += row["count_all"]
        for source, count in _value_counts(batch.column("source")):
            data.sources.setdefault(source, [0, 0, 0, 0])[1] += count
        reasons = batch.column("reason")
        for reason, target in (("exact_duplicate", exact), ("near_duplicate", near)):
            ids = pc.drop_null(pc.filter(batch.column("duplicate_of"), pc.equal(reasons, reason)))
            if len(ids):
                target.append(ids)
        masked = pa.record_batch(  # "line 12: …" and "line 97: …" are one kind of detail
            [reasons, pc.replace_substring_regex(batch.column("detail"), r"\d+", "N")], names=["reason", "detail"]
        )
        for row in _group_counts(masked, ["reason", "detail"]):
            data.details.setdefault(row["reason"], _TopCounter(limit=1000)).add(row["detail"], row["count_all"])
        wanted = {r for r, n in _value_counts(reasons) if len(data.rejected_examples.get(r, [])) < EXAMPLES_PER_REASON}
        if wanted:
            for row in batch.filter(pc.is_in(reasons, pa.array(sorted(wanted)))).to_pylist():
                examples = data.rejected_examples.setdefault(row["reason"], [])
                if len(examples) < EXAMPLES_PER_REASON:
                    examples.append(row)
    return exact, near


def _groups(chunks: list[pa.Array], plus: int = 0, largest: int = 0) -> tuple[Counter[int], list[tuple[str, int]]]:
    """For a column of group ids (plus ``plus`` members not listed, each): group size → number
    of groups, and the ``largest`` groups (id, size). Counted in Arrow, never one Python object
    per group."""
    if not chunks:
        return Counter(), []
    counted = pc.value_counts(pa.chunked_array(chunks, type=pa.string()))
    sizes = counted.field("counts").to_numpy() + plus
    histogram = Counter({int(size): int(n) for size, n in enumerate(np.bincount(sizes)) if n})
    top: list[tuple[str, int]] = []
    if largest:
        ids = counted.field("values")
        order = np.lexsort((np.arange(len(sizes)), -sizes))[: largest * 4]  # ties: resolved by id below
        top = sorted(((ids[int(i)].as_py(), int(sizes[i])) for i in order), key=lambda kv: (-kv[1], kv[0]))
        top = top[:largest]
    return histogram, top


def _scan_passages(data: ReportData, paths: Sequence[Path]) -> None:
    chunks = [batch.column("cluster_id") for batch in _batches(paths, ["cluster_id"])]
    data.passage_sizes, largest = _groups(chunks, largest=3)
    wanted = {cluster for cluster, _ in largest}
    texts: dict[str, str] = {}
    for path in paths if wanted else ():
        table = ds.dataset(str(path), format="parquet").to_table(
            columns=["cluster_id", "text"], filter=pc.field("cluster_id").isin(sorted(wanted))
        )
        for row in table.to_pylist():
            texts.setdefault(row["cluster_id"], row["text"])
    data.largest_passages = [{"cluster_id": c, "documents": n, "text": texts.get(c, "")} for c, n in largest]


def _fetch_examples(
    data: ReportData, documents: Sequence[Path], rejected: Sequence[Path], largest: list[tuple[str, int]]
) -> None:
    """The texts of the rows shown as examples, and of the kept documents they duplicate."""
    rejected_ids = [row["doc_id"] for rows in data.rejected_examples.values() for row in rows]
    rejected_texts = _rows_by_id(rejected, rejected_ids, ["text"])
    targets = [row["duplicate_of"] for rows in data.rejected_examples.values() for row in rows if row["duplicate_of"]]
    kept_ids = targets + [row["doc_id"] for row in data.removal_examples] + [doc_id for doc_id, _ in largest]
    kept = _rows_by_id(documents, kept_ids, ["source_id", "title", "text"])
    for rows in data.rejected_examples.values():
        for row in rows:
            row["text"] = rejected_texts.get(row["doc_id"], {}).get("text")
            if row["duplicate_of"]:
                row["kept"] = kept.get(row["duplicate_of"])
    for row in data.removal_examples:
        row["text"] = kept.get(row["doc_id"], {}).get("text", "")
    data.largest_clusters = [
        {"doc_id": doc_id, "documents": size, **{k: kept.get(doc_id, {}).get(k) for k in ("title", "source_id")}}
        for doc_id, size in largest
    ]


# --- charts -----------------------------------------------------------------------------

CHARTS_HINT = "Charts need matplotlib: pip install 'corpusclean[report]'"
_BLUE, _RED, _GREY, _ORANGE = "#2f6f9f", "#c8553d", "#9aa5b1", "#e09f3e"


def charts_available() -> bool:
    return importlib.util.find_spec("matplotlib") is not None


def _short(label: Any, limit: int = 48) -> str:
    text = " ".join(str(label).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


class _Charts:
    """Charts as inline SVG, drawn with matplotlib's object API (no pyplot, no global state)."""

    def __init__(self) -> None:
        # matplotlib's first import builds its font cache and may say so as a warning; that is
        # no news for the person running corpusclean (the library never prints)
        quiet = logging.getLogger("matplotlib")
        level = quiet.level
        quiet.setLevel(logging.ERROR)
        try:
            import matplotlib
            from matplotlib.figure import Figure
            from matplotlib.ticker import MaxNLocator
        finally:
            quiet.setLevel(level)

        self._matplotlib = matplotlib
        self._figure = Figure
        self._integer_ticks = MaxNLocator
        self._drawn = 0

    def _svg(self, figure: Any, label: str) -> str:
        buffer = io.StringIO()
        figure.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
        svg = buffer.getvalue()
        svg = svg[svg.index("<svg") :]
        # ids are per SVG document: prefix them, so that charts inline in one page never share one
        self._drawn += 1
        prefix = f"c{self._drawn}-"
        svg = re.sub(r'\bid="([^"]+)"', lambda m: f'id="{prefix}{m.group(1)}"', svg)
        svg = re.sub(r"url\(#([^)]+)\)", lambda m: f"url(#{prefix}{m.group(1)})", svg)
        svg = re.sub(r'href="#([^"]+)"', lambda m: f'href="#{prefix}{m.group(1)}"', svg)
        svg = re.sub(r"<svg ", f'<svg role="img" aria-label="{html.escape(label)}" class="chart" ', svg, count=1)
        return f'<figure class="chart">{svg}</figure>'

    def _new(self, height: float) -> tuple[Any, Any]:
        figure = self._figure(figsize=(8.2, height), dpi=96)
        axes = figure.subplots()
        for side in ("top", "right"):
            axes.spines[side].set_visible(False)
        for axis in (axes.xaxis, axes.yaxis):  # counts: no 0.5 documents (categorical axes set their ticks)
            axis.set_major_locator(self._integer_ticks(integer=True))
        return figure, axes

    def _context(self) -> Any:
        return self._matplotlib.rc_context(
            {
                "svg.fonttype": "none",
                "svg.hashsalt": "corpusclean",
                "text.parse_math": False,
                "font.size": 10,
                "font.family": "sans-serif",
                "axes.edgecolor": "#8795a1",
                "axes.labelcolor": "#33404d",
                "xtick.color": "#33404d",
                "ytick.color": "#33404d",
            }
        )

    def render(self, name: str, label: str, *args: Any) -> str:
        with self._context(), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # missing glyphs: the browser draws the text (svg.fonttype none)
            figure = getattr(self, f"_{name}")(*args)
            return self._svg(figure, label)

    def _hbar(self, labels: Sequence[Any], values: Sequence[int], xlabel: str, color: str = _BLUE) -> Any:
        labels = [_short(label) for label in labels][::-1]
        values = list(values)[::-1]
        figure, axes = self._new(0.32 * len(labels) + 0.9)
        bars = axes.barh(range(len(labels)), values, color=color, height=0.7)
        axes.set_yticks(range(len(labels)), labels)
        axes.bar_label(bars, labels=[f"{v:,}" for v in values], padding=3, fontsize=9, color="#33404d")
        axes.set_xlabel(xlabel)
        axes.set_xlim(0, max(values or [1]) * 1.15)
        axes.tick_params(axis="y", length=0)
        return figure

    def _funnel(self, rows: list[tuple[str, int, int]]) -> Any:
        """``rows``: (label, remaining after it, rejected by it), top to bottom."""
        rows = rows[::-1]
        figure, axes = self._new(0.42 * len(rows) + 1.0)
        positions = range(len(rows))
        remaining = [r for _, r, _ in rows]
        dropped = [d for _, _, d in rows]
        axes.barh(positions, remaining, color=_BLUE, height=0.68, label="remaining")
        axes.barh(positions, dropped, left=remaining, color=_RED, height=0.68, label="rejected by this stage")
        top = max([r + d for _, r, d in rows] or [1])
        for y, (_, left, gone) in zip(positions, rows, strict=True):
            text = f"{left:,}" + (f"   −{gone:,}" if gone else "")
            axes.text(left + gone + top * 0.01, y, text, va="center", fontsize=9, color="#33404d")
        axes.set_yticks(list(positions), [label for label, _, _ in rows])
        axes.set_xlim(0, top * 1.25)
        axes.set_xlabel("records")
        axes.tick_params(axis="y", length=0)
        axes.legend(loc="lower right", frameon=False, fontsize=9)
        return figure

    def _stacked(self, labels: Sequence[Any], kept: Sequence[int], rejected: Sequence[int]) -> Any:
        labels = [_short(label) for label in labels][::-1]
        kept, rejected = list(kept)[::-1], list(rejected)[::-1]
        figure, axes = self._new(0.32 * len(labels) + 1.0)
        positions = range(len(labels))
        axes.barh(positions, kept, color=_BLUE, height=0.7, label="kept")
        axes.barh(positions, rejected, left=kept, color=_GREY, height=0.7, label="rejected")
        top = max([k + r for k, r in zip(kept, rejected, strict=True)] or [1])
        for y, (k, r) in enumerate(zip(kept, rejected, strict=True)):
            axes.text(k + r + top * 0.01, y, f"{k:,} / {r:,}", va="center", fontsize=9, color="#33404d")
        axes.set_yticks(list(positions), labels)
        axes.set_xlim(0, top * 1.2)
        axes.set_xlabel("records (kept / rejected)")
        axes.tick_params(axis="y", length=0)
        axes.legend(loc="lower right", frameon=False, fontsize=9)
        return figure

    def _histogram(self, labels: Sequence[str], counts: Sequence[int]) -> Any:
        figure, axes = self._new(3.0)
        bars = axes.bar(range(len(labels)), counts, width=0.85, color=_BLUE)
        axes.bar_label(bars, labels=[f"{c:,}" if c else "" for c in counts], padding=2, fontsize=8)
        crowded = sum(len(label) for label in labels) > 60
        axes.set_xticks(range(len(labels)), labels, rotation=30 if crowded else 0, ha="right" if crowded else "center")
        axes.set_xlabel("words per document")
        axes.set_ylabel("documents")
        axes.set_ylim(0, max([*counts, 1]) * 1.15)
        return figure

    def _groups(self, labels: Sequence[str], exact: Sequence[int], near: Sequence[int]) -> Any:
        figure, axes = self._new(3.0)
        positions = np.arange(len(labels))
        exact_bars = axes.bar(positions - 0.2, exact, width=0.4, color=_ORANGE, label="exact duplicates")
        near_bars = axes.bar(positions + 0.2, near, width=0.4, color=_BLUE, label="near-duplicate clusters")
        for bars, values in ((exact_bars, exact), (near_bars, near)):
            axes.bar_label(bars, labels=[f"{v:,}" if v else "" for v in values], padding=2, fontsize=8)
        axes.set_xticks(positions, labels)
        axes.set_xlabel("documents per group (the kept one included)")
        axes.set_ylabel("groups")
        axes.set_ylim(0, max([*exact, *near, 1]) * 1.2)
        axes.legend(frameon=False, fontsize=9)
        return figure


# --- page -------------------------------------------------------------------------------

_CSS = """
:root { --ink:#1f2a36; --muted:#5b6875; --line:#d9dee3; --soft:#f4f6f8; --blue:#2f6f9f; --red:#c8553d; }
* { box-sizing: border-box; }
body { margin:0; font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans",Helvetica,Arial,sans-serif;
       color:var(--ink); background:#fff; }
header { background:#1f2a36; color:#fff; padding:28px 0 18px; }
header .wrap, main { max-width:1080px; margin:0 auto; padding:0 28px; }
header h1 { margin:0 0 4px; font-size:26px; font-weight:650; letter-spacing:-0.01em; }
header .sub { color:#c5ced6; margin:0; font-size:14px; }
.cards { display:grid; grid-template-columns:repeat(auto-fit,minmax(150px,1fr)); gap:12px; margin:20px 0 16px; }
.card { background:rgba(255,255,255,0.08); border-radius:8px; padding:10px 14px; }
.card b { display:block; font-size:22px; font-weight:650; font-variant-numeric:tabular-nums; }
.card span { color:#c5ced6; font-size:13px; }
nav { display:flex; flex-wrap:wrap; gap:4px 16px; font-size:14px; }
nav a { color:#cfe3f3; text-decoration:none; } nav a:hover { text-decoration:underline; }
section { padding:26px 0 10px; border-bottom:1px solid var(--line); }
h2 { font-size:21px; margin:0 0 6px; } h3 { font-size:16px; margin:20px 0 6px; }
p.note { color:var(--muted); margin:4px 0 12px; }
.hint { background:#fff6e5; border:1px solid #f0d9a8; border-radius:6px; padding:8px 12px; margin:10px 0; }
table.pairs th { width:28%; background:none; font-weight:500; color:var(--muted); }
details { margin:14px 0; } summary { cursor:pointer; font-weight:600; }
table { border-collapse:collapse; width:100%; margin:8px 0 14px; font-size:14px; }
th, td { text-align:left; padding:5px 10px; border-bottom:1px solid var(--line); vertical-align:top; }
th { background:var(--soft); font-weight:600; color:#33404d; }
td.num, th.num { text-align:right; font-variant-numeric:tabular-nums; white-space:nowrap; }
td.bar { width:22%; } td.bar span { display:block; height:10px; background:var(--blue); border-radius:2px;
         min-width:1px; margin-top:6px; }
td.bar span.red { background:var(--red); }
code { background:var(--soft); padding:1px 4px; border-radius:3px; font-size:13px; overflow-wrap:break-word; }
header code { background:rgba(255,255,255,0.14); color:#fff; }
tr.total td { font-weight:600; background:#fafbfc; }
figure.chart { margin:10px 0 8px; } svg.chart { width:100%; max-width:900px; height:auto; display:block; }
.grid2 { display:grid; grid-template-columns:1fr 1fr; gap:14px; }
@media (max-width:800px) { .grid2 { grid-template-columns:1fr; } }
.example { border:1px solid var(--line); border-radius:8px; padding:10px 14px; margin:10px 0; background:#fff; }
.example .meta { color:var(--muted); font-size:13px; margin-bottom:6px; word-break:break-all; }
.example .label { font-size:12.5px; font-weight:600; color:var(--muted); margin:8px 0 3px; }
pre.text { white-space:pre-wrap; word-wrap:break-word; background:var(--soft); border-radius:6px; padding:8px 10px;
           margin:0; font:13px/1.45 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace; max-height:320px; overflow:auto; }
pre.text.kept { background:#eef5fb; } pre.text.gone { background:#fbefec; }
pre.text mark { background:#ffe08a; color:inherit; border-radius:2px; }
ul.removed { margin:4px 0 6px; padding-left:0; list-style:none; font-size:13px; }
ul.removed li { padding:2px 0; } ul.removed del { color:var(--red); }
span.tag { display:inline-block; background:var(--soft); border-radius:10px; padding:0 8px; font-size:12px;
           color:#33404d; margin-right:4px; }
pre.config { white-space:pre-wrap; background:var(--soft); padding:10px; border-radius:6px; font-size:12.5px; }
footer { color:var(--muted); font-size:13px; padding:18px 0 40px; }
"""


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def _n(value: int | float | None) -> str:
    if value is None:
        return "–"
    return f"{value:,}" if isinstance(value, int) else f"{value:,.1f}"


def _share(part: int, whole: int) -> str:
    return f"{part / whole:.1%}" if whole else "–"


def _size(num_bytes: int | None) -> str:
    if num_bytes is None:
        return "–"
    size = float(num_bytes)
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if size < 1000 or unit == "TB":
            return f"{size:,.0f} {unit}" if unit == "B" else f"{size:,.1f} {unit}"
        size /= 1000
    return f"{size:,.1f} TB"  # pragma: no cover


def _excerpt(text: str | None, limit: int = EXCERPT_CHARS) -> str:
    """The escaped start of ``text``, as HTML text (not inside a ``pre``)."""
    return _e(text if len(text or "") <= limit else (text or "")[:limit].rstrip() + "\n…")


def _marked_pair(rejected: str, kept: str, limit: int) -> tuple[str, str]:
    """The starts (about ``limit`` characters, whole words) of two near-identical texts as HTML,
    the words that differ marked. The diff runs over more than is shown, so that where one side
    is cut does not show as a difference."""
    a = re.findall(r"\S+|\s+", rejected[: limit * 3])
    b = re.findall(r"\S+|\s+", kept[: limit * 3])
    shown: list[list[str]] = [[], []]
    budget = [limit, limit]
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        for side, tokens, lo, hi in ((0, a, i1, i2), (1, b, j1, j2)):
            for token in tokens[lo:hi]:
                if budget[side] <= 0:
                    break
                budget[side] -= len(token)
                marked = op != "equal" and not token.isspace()
                shown[side].append(f"<mark>{_e(token)}</mark>" if marked else _e(token))
    return "".join(shown[0]).rstrip(), "".join(shown[1]).rstrip()


def _text_block(text: str | None, kind: str, limit: int = EXCERPT_CHARS, marked: str | None = None) -> str:
    """A text excerpt in a ``pre`` (``marked``: its HTML, when prepared), or a note when there is
    no text."""
    if not text:
        return '<p class="note">(no text: rejected before any text was read)</p>'
    more = f'<p class="note">… {len(text) - limit:,} more characters not shown.</p>' if len(text) > limit else ""
    body = _excerpt(text, limit) if marked is None else marked + (" …" if len(text) > limit else "")
    return f'<pre class="text {kind}">{body}</pre>{more}'


def _table(
    headers: Sequence[str],
    rows: Iterable[Sequence[Any]],
    numeric: Sequence[int] = (),
    bar: tuple[int, int] | None = None,
) -> str:
    """An HTML table; ``numeric`` column indexes align right; ``bar`` = (value column, maximum)
    adds a CSS bar after the row, so the table reads as a chart without matplotlib too."""
    head = "".join(
        f'<th class="num">{_e(h)}</th>' if i in numeric else f"<th>{_e(h)}</th>" for i, h in enumerate(headers)
    )
    if bar:
        head += '<th aria-hidden="true"></th>'
    body = []
    for row in rows:
        cells = "".join(
            f'<td class="num">{_n(v) if isinstance(v, (int, float)) else _e(v)}</td>'
            if i in numeric
            else f"<td>{v}</td>"
            for i, v in enumerate(row)
        )
        if bar:
            value = row[bar[0]] if isinstance(row[bar[0]], (int, float)) else 0
            width = 100.0 * value / bar[1] if bar[1] else 0.0
            cells += f'<td class="bar"><span style="width:{width:.1f}%"></span></td>'
        body.append(f"<tr>{cells}</tr>")
    if not body:
        return '<p class="note">None.</p>'
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _pairs(rows: Iterable[tuple[str, str]]) -> str:
    """A two-column table without a header: label, value (HTML)."""
    body = "".join(f'<tr><th scope="row">{_e(label)}</th><td>{value}</td></tr>' for label, value in rows)
    return f'<table class="pairs"><tbody>{body}</tbody></table>'


def _code(value: Any) -> str:
    return f"<code>{_e(value)}</code>"


def _language_label(code: Any) -> str:
    if code is None:
        return "(not identified: stage off)"
    name = _LANGUAGE_NAMES.get(code)
    return f"{code} — {name}" if name else str(code)


_SIZE_BUCKETS = ((2, 2, "2"), (3, 3, "3"), (4, 4, "4"), (5, 9, "5–9"), (10, 19, "10–19"), (20, 49, "20–49"))


def _bucket_sizes(sizes: Counter[int]) -> list[tuple[str, int]]:
    buckets = [(label, sum(n for s, n in sizes.items() if lo <= s <= hi)) for lo, hi, label in _SIZE_BUCKETS]
    buckets.append(("50+", sum(n for s, n in sizes.items() if s >= 50)))
    return buckets


def _length_histogram(data: ReportData) -> tuple[list[str], list[int]]:
    """Documents per word-count bin, bins growing 1-2-5 (0, 1, 2–4, 5–9, 10–19, 20–49 …), from
    the exact tally (documents past :data:`WORD_COUNT_CAP` words count in the cap's bin); empty
    bins at both ends are left out."""
    edges = [0, 1, 2, 5]
    while edges[-1] <= data.max_words:
        edges.append(edges[-1] * 5 // 2 if str(edges[-1])[0] == "2" else edges[-1] * 2)
    cumulative = np.concatenate([[0], np.cumsum(data.word_counts)])
    labels, counts = [], []
    for lo, hi in itertools.pairwise(edges):
        labels.append(f"{lo:,}" if hi - lo == 1 else f"{lo:,}–{hi - 1:,}")
        counts.append(int(cumulative[min(hi, WORD_COUNT_CAP + 1)] - cumulative[min(lo, WORD_COUNT_CAP + 1)]))
    nonzero = [i for i, c in enumerate(counts) if c]
    if not nonzero:
        return [], []
    return labels[nonzero[0] : nonzero[-1] + 1], counts[nonzero[0] : nonzero[-1] + 1]


def render_report(data: ReportData, *, charts: bool | None = None) -> str:
    """The report page of ``data``. ``charts=None`` draws charts when matplotlib is installed."""
    draw = charts_available() if charts is None else charts
    chart = _Charts() if draw else None

    def figure(name: str, label: str, *args: Any) -> str:
        if chart is None:
            return ""
        try:
            return chart.render(name, label, *args)
        except Exception:  # a chart that fails must not cost the page its tables
            logger.warning("chart %s could not be drawn", name, exc_info=True)
            return ""

    manifest, counts = data.manifest, data.counts
    records_in, kept, rejected = counts["records_in"], counts["kept"], counts["rejected"]
    timings = manifest.get("timings", {})
    sections: list[str] = []

    # funnel
    remaining = records_in
    funnel_rows = [("records in", records_in, 0)]
    by_stage = counts.get("by_stage", {})
    stage_names = [s for s in STAGE_ORDER if s in by_stage] + sorted(set(by_stage) - set(STAGE_ORDER))
    for stage in stage_names:
        remaining -= by_stage[stage]
        funnel_rows.append((f"after {stage}", remaining, by_stage[stage]))
    funnel_rows.append(("kept", kept, 0))
    stage_rank = {s: i for i, s in enumerate(stage_names)}
    reason_rows = []
    for (stage, reason), n in sorted(
        data.by_stage_reason.items(), key=lambda kv: (stage_rank.get(kv[0][0], 99), -kv[1])
    ):
        reason_rows.append((_e(stage), _code(reason), n, _share(n, records_in)))
    top_reason = max([r[2] for r in reason_rows] or [0])
    reason_table = _table(
        ["stage", "reason", "records", "of records in"], reason_rows, numeric=(2, 3), bar=(2, top_reason)
    )
    sections.append(
        _section(
            "funnel",
            "Stage funnel",
            f'<p class="note">{_n(records_in)} records in; every one is either kept ({_n(kept)}, '
            f"{_share(kept, records_in)}) or rejected with a reason ({_n(rejected)}). "
            "Stages in pipeline order; each bar is what remains after the stage.</p>"
            + figure("funnel", "Stage funnel: records remaining after each stage", funnel_rows)
            + "<h3>Rejected, by stage and reason</h3>"
            + reason_table,
        )
    )

    # languages
    languages = sorted(data.languages.items(), key=lambda kv: (-kv[1], str(kv[0])))
    language_rows = [(_e(_language_label(code)), n, _share(n, kept)) for code, n in languages[:TOP]]
    if len(languages) > TOP:
        rest = sum(n for _, n in languages[TOP:])
        language_rows.append((f"{len(languages) - TOP} other languages", rest, _share(rest, kept)))
    chart_languages = languages[:CHART_BARS]
    sections.append(
        _section(
            "languages",
            "Languages",
            f'<p class="note">Kept documents by detected language ({len(languages)} distinct).</p>'
            + (
                figure(
                    "hbar",
                    "Documents per language",
                    [_language_label(c) for c, _ in chart_languages],
                    [n for _, n in chart_languages],
                    "documents",
                )
                if len(languages) > 1
                else ""
            )
            + _table(
                ["language", "documents", "share"],
                language_rows,
                numeric=(1, 2),
                bar=(1, languages[0][1] if languages else 0),
            ),
        )
    )

    # lengths
    bins, histogram = _length_histogram(data)
    first, last = data.published
    length_rows = [
        ("documents", _n(kept)),
        ("words, total", _n(data.total_words)),
        ("characters, total", _n(data.total_chars)),
        (
            "words per document: min / 10% / median / 90% / max",
            " / ".join(_n(data.word_quantile(q)) for q in (0.0, 0.1, 0.5, 0.9)) + f" / {_n(data.max_words)}"
            if kept
            else "–",
        ),
        ("words per document: mean", _n(data.total_words / kept) if kept else "–"),
        ("published", f"{first:%Y-%m-%d} … {last:%Y-%m-%d}" if first and last else "no dates"),
    ]
    sections.append(
        _section(
            "lengths",
            "Document lengths",
            (figure("histogram", "Histogram of words per document", bins, histogram) if histogram else "")
            + _table(["measure", "value"], length_rows, numeric=(1,)),
        )
    )

    # duplicates
    exact_buckets, near_buckets = _bucket_sizes(data.exact_sizes), _bucket_sizes(data.near_sizes)
    group_rows = [(label, e, n) for (label, e), (_, n) in zip(exact_buckets, near_buckets, strict=True) if e or n]
    exact_groups, near_groups = sum(data.exact_sizes.values()), sum(data.near_sizes.values())
    largest_rows = [
        (_code(c["doc_id"]), _e(c.get("title") or c.get("source_id") or ""), c["documents"])
        for c in data.largest_clusters
    ]
    passage_rows = [(c["documents"], _text_block(c["text"], "", 300)) for c in data.largest_passages]
    dedup_body = (
        f'<p class="note">{_n(exact_groups)} groups of exact duplicates '
        f"({_n(counts.get('by_reason', {}).get('exact_duplicate', 0))} documents rejected) and "
        f"{_n(near_groups)} near-duplicate clusters "
        f"({_n(counts.get('by_reason', {}).get('near_duplicate', 0))} documents rejected); "
        "one document of each group is kept (the earliest published, then the smallest doc_id).</p>"
    )
    if group_rows:
        dedup_body += figure(
            "groups",
            "Duplicate group sizes",
            [label for label, _ in exact_buckets],
            [n for _, n in exact_buckets],
            [n for _, n in near_buckets],
        )
        dedup_body += _table(
            ["documents per group", "exact groups", "near-duplicate clusters"], group_rows, numeric=(1, 2)
        )
    if largest_rows:
        dedup_body += "<h3>Largest near-duplicate clusters</h3>" + _table(
            ["kept representative (doc_id)", "title, else source_id", "documents"], largest_rows, numeric=(2,)
        )
    dedup_body += (
        f'<h3>Repeated passages</h3><p class="note">{_n(counts.get("passage_clusters", sum(data.passage_sizes.values())))} '
        f"passages (paragraphs) repeated across kept documents, in {_n(counts.get('passages', 0))} rows of "
        "<code>passages/</code>.</p>"
    )
    if passage_rows:
        dedup_body += _table(["documents", "passage (most repeated first)"], passage_rows, numeric=(0,))
    sections.append(_section("duplicates", "Duplicates and near-duplicates", dedup_body))

    # boilerplate
    rules = sorted(data.rules.items(), key=lambda kv: (-kv[1], kv[0]))
    rule_rows = [(_code(rule), n) for rule, n in rules[:TOP]]
    line_rows = [(_e(text), _code(rule), n) for (text, rule), n in data.removed_lines.most_common(TOP)]
    boilerplate_body = (
        f'<p class="note">{_n(sum(data.rules.values()))} lines or fragments removed from '
        f"{_n(data.documents_with_removals)} kept documents ({_share(data.documents_with_removals, kept)}), "
        f"{_n(data.removed_chars)} characters; {_n(counts.get('learned_boilerplate_lines', 0))} lines learned from "
        f"the corpus (rule <code>{LEARNED_RULE}</code>). Documents where removal would take too much are rejected "
        f"<code>boilerplate_only</code> ({_n(counts.get('by_reason', {}).get('boilerplate_only', 0))}).</p>"
    )
    if rules:
        boilerplate_body += figure(
            "hbar",
            "Removals per boilerplate rule",
            [r for r, _ in rules[:CHART_BARS]],
            [n for _, n in rules[:CHART_BARS]],
            "lines or fragments removed",
            _ORANGE,
        )
    boilerplate_body += "<h3>Most frequent rules</h3>" + _table(
        ["rule", "removals"], rule_rows, numeric=(1,), bar=(1, rules[0][1] if rules else 0)
    )
    boilerplate_body += "<h3>Most frequently removed lines</h3>" + _table(
        ["line or fragment", "rule", "times"], line_rows, numeric=(2,)
    )
    if data.removed_lines.truncated:
        boilerplate_body += '<p class="note">Counts of rare lines were pruned on the way; the top is exact.</p>'
    sections.append(_section("boilerplate", "Boilerplate removed", boilerplate_body))

    # fixes
    fixes = sorted(data.fixes.items(), key=lambda kv: (-kv[1], kv[0]))
    fix_rows = [(_code(fix), n, _share(n, kept)) for fix, n in fixes[:TOP]]
    fixes_body = (
        f'<p class="note">{_n(data.documents_with_fixes)} kept documents ({_share(data.documents_with_fixes, kept)}) '
        "had at least one repair (their names are in the <code>fixes</code> column).</p>"
    )
    if fixes:
        fixes_body += figure(
            "hbar",
            "Documents per text repair",
            [f for f, _ in fixes[:CHART_BARS]],
            [n for _, n in fixes[:CHART_BARS]],
            "documents",
        )
    fixes_body += _table(
        ["repair", "documents", "of kept"], fix_rows, numeric=(1, 2), bar=(1, fixes[0][1] if fixes else 0)
    )
    sections.append(_section("fixes", "Text repairs", fixes_body))

    # sources
    sources = sorted(data.sources.items(), key=lambda kv: (-(kv[1][0] + kv[1][1]), kv[0]))
    source_rows = [(_code(s), k, r, w, _share(k, kept)) for s, (k, r, w, _) in sources[:TOP]]
    sources_body = (
        f'<p class="note">{_n(len(sources))} source{"s" if len(sources) != 1 else ""} (site host for web inputs, else the parent directory '
        "of the file), largest first by records.</p>"
    )
    if len(sources) > 1:
        top_sources = sources[:CHART_BARS]
        sources_body += figure(
            "stacked",
            "Records per source, kept and rejected",
            [s for s, _ in top_sources],
            [v[0] for _, v in top_sources],
            [v[1] for _, v in top_sources],
        )
    sources_body += _table(
        ["source", "kept", "rejected", "words kept", "of kept documents"], source_rows, numeric=(1, 2, 3, 4)
    )
    sections.append(_section("sources", "Largest sources", sources_body))

    # examples
    sections.append(_section("examples", "Examples", _examples(data)))

    # run
    sections.append(_section("run", "Run", _run_details(manifest)))

    # page
    seconds = timings.get("total_seconds")
    rate = timings.get("documents_per_second")
    cards = [
        (_n(records_in), "records in"),
        (_n(kept), f"kept ({_share(kept, records_in)})"),
        (_n(rejected), f"rejected ({_share(rejected, records_in)})"),
        (_n(len(languages)), "languages"),
        (_n(data.total_words), "words kept"),
        (
            f"{seconds:,.1f} s" if isinstance(seconds, (int, float)) else "–",
            f"{_n(rate)} documents/s" if rate else "run time",
        ),
    ]
    nav = "".join(
        f'<a href="#{anchor}">{title}</a>'
        for anchor, title in (
            ("funnel", "Funnel"),
            ("languages", "Languages"),
            ("lengths", "Lengths"),
            ("duplicates", "Duplicates"),
            ("boilerplate", "Boilerplate"),
            ("fixes", "Repairs"),
            ("sources", "Sources"),
            ("examples", "Examples"),
            ("run", "Run"),
        )
    )
    hint = "" if chart is not None else f'<p class="hint">{_e(CHARTS_HINT)}</p>'
    name = data.out.resolve().name
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>corpusclean report: {_e(name)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n"
        f'<header><div class="wrap"><h1>corpusclean report: {_e(name)}</h1>'
        f'<p class="sub">Run of {_e(manifest.get("created_at", "?"))} with corpusclean '
        f"{_e(manifest.get('corpusclean_version', '?'))} · {_n(len(manifest.get('inputs', [])))} input files · "
        f"dataset card: <code>README.md</code> beside this file</p>"
        '<div class="cards">'
        + "".join(f'<div class="card"><b>{value}</b><span>{_e(label)}</span></div>' for value, label in cards)
        + f"</div><nav>{nav}</nav></div></header>\n<main>{hint}\n"
        + "\n".join(sections)
        + f"\n<footer>Written by corpusclean {_e(manifest.get('corpusclean_version', '?'))} from "
        "<code>manifest.json</code> and the Parquet parts it lists. "
        "Regenerate with <code>corpusclean report OUT</code>.</footer>\n</main>\n</body>\n</html>\n"
    )


def _section(anchor: str, title: str, body: str) -> str:
    return f'<section id="{anchor}"><h2>{_e(title)}</h2>{body}</section>'


def _examples(data: ReportData) -> str:
    parts = [
        '<p class="note">The first rows of each rejection reason (in <code>doc_id</code> order), with their '
        "text at the point of rejection; duplicates beside the kept document they repeat (words that "
        "differ marked). Then kept documents with the lines removed from them.</p>"
    ]
    if not data.rejected_examples:
        parts.append('<p class="note">Nothing was rejected.</p>')
    for reason in sorted(data.rejected_examples, key=lambda r: (-data.counts["by_reason"].get(r, 0), r)):
        rows = data.rejected_examples[reason]
        total = data.counts["by_reason"].get(reason, len(rows))
        parts.append(f"<h3><code>{_e(reason)}</code> · {_n(total)} rejected</h3>")
        details = data.details.get(reason)
        if details and reason not in ("exact_duplicate", "near_duplicate"):
            parts.append(
                '<p class="note">Details (numbers as N): '
                + "; ".join(f"{_e(_short(d, 90))} ({_n(n)})" for d, n in details.most_common(5))
                + (f"; {len(details.counts) - 5:,} more kinds" if len(details.counts) > 5 else "")
                + "</p>"
            )
        for row in rows:
            meta = [f'<span class="tag">{_e(row["stage"])}</span>', _code(row["source_id"])]
            if row.get("title"):
                meta.append(_e(row["title"]))
            meta.append(f"detail: {_e(row['detail'])}")
            if row.get("similarity") is not None:
                meta.append(f"similarity {row['similarity']:.2f}")
            block = f'<div class="example"><div class="meta">{" · ".join(meta)}</div>'
            if row.get("kept") is not None:
                kept = row["kept"]
                limit = EXCERPT_CHARS // 2
                left = right = None
                if row.get("text") and kept.get("text"):
                    left, right = _marked_pair(row["text"], kept["text"], limit)
                block += (
                    '<div class="grid2"><div><div class="label">Rejected (text at rejection)</div>'
                    f"{_text_block(row.get('text'), 'gone', limit, left)}</div>"
                    f'<div><div class="label">Kept instead: {_code(kept.get("source_id"))}</div>'
                    f"{_text_block(kept.get('text'), 'kept', limit, right)}</div></div>"
                )
            else:
                block += f'<div class="label">Text at rejection</div>{_text_block(row.get("text"), "gone")}'

            parts.append(block + "</div>")
    if data.removal_examples:
        parts.append("<h3>Kept documents with boilerplate removed</h3>")
    for row in data.removal_examples:
        removed = "".join(
            f'<li>line {_n(item["line"])} <span class="tag">{_e(item["rule"])}</span> <del>{_e(item["text"])}</del></li>'
            for item in row["removed"][:12]
        )
        more = len(row["removed"]) - 12
        if more > 0:
            removed += f"<li>… and {more} more</li>"
        meta = _code(row["source_id"]) + (f" · {_e(row['title'])}" if row.get("title") else "")
        parts.append(
            f'<div class="example"><div class="meta">{meta}</div><div class="label">Removed</div>'
            f'<ul class="removed">{removed}</ul><div class="label">Kept text</div>'
            f"{_text_block(row.get('text'), 'kept')}</div>"
        )
    return "".join(parts)


def _run_details(manifest: dict[str, Any]) -> str:
    inputs = manifest.get("inputs", [])
    formats = Counter(entry.get("format") or "(unreadable)" for entry in inputs)
    errors = [entry for entry in inputs if entry.get("error")]
    total_bytes = sum(entry.get("bytes") or 0 for entry in inputs)
    timings = manifest.get("timings", {})
    rows = [
        ("corpusclean", _e(manifest.get("corpusclean_version"))),
        ("schema versions", _e(", ".join(f"{k} {v}" for k, v in manifest.get("schema_versions", {}).items()))),
        ("created", _e(manifest.get("created_at"))),
        ("input files", f"{_n(len(inputs))} ({_size(total_bytes)}), {_n(len(errors))} unreadable"),
        ("formats", _e(", ".join(f"{fmt} {n:,}" for fmt, n in formats.most_common()))),
        ("workers", _e(timings.get("workers"))),
        (
            "time",
            _e(
                ", ".join(
                    f"{label} {timings[key]:,.1f} s"
                    for key, label in (
                        ("total_seconds", "total"),
                        ("pass1_seconds", "pass 1"),
                        ("global_seconds", "global step"),
                        ("pass2_seconds", "pass 2"),
                    )
                    if isinstance(timings.get(key), (int, float))
                )
            ),
        ),
    ]
    outputs = manifest.get("outputs", {})
    for kind in ("documents", "rejected", "passages"):
        parts = outputs.get(kind, [])
        rows.append((f"{kind}/", f"{_n(sum(p['rows'] for p in parts))} rows in {_n(len(parts))} part(s)"))
    partition_by = manifest.get("config", {}).get("output", {}).get("partition_by")
    if partition_by:
        rows.append(("partitioned by", f"<code>{_e(partition_by)}</code> (documents/ only, hive-style directories)"))
    stage_seconds = sorted((timings.get("stage_cpu_seconds") or {}).items(), key=lambda kv: (-kv[1], kv[0]))
    body = _pairs(rows)
    if stage_seconds:
        body += "<h3>CPU seconds per stage</h3>" + _table(
            ["stage", "seconds (all workers)"], [(_e(k), f"{float(v):,.2f}") for k, v in stage_seconds], numeric=(1,)
        )
    body += (
        "<details><summary>Configuration (TOML; <code>corpusclean run … --config</code> reads it back)</summary>"
        f'<pre class="config">{_e(config_toml(manifest.get("config", {})))}</pre></details>'
    )
    return body


# --- entry points -----------------------------------------------------------------------


def write_report(out: str | Path, data: ReportData | None = None) -> Path:
    """Write ``OUT/report.html`` (atomically) for the complete run in ``out``."""
    out = Path(out)
    data = data or collect_report_data(out)
    path = out / REPORT
    tmp = out / f".{REPORT}.tmp"
    tmp.write_text(render_report(data), encoding="utf-8")
    tmp.replace(path)
    return path


def write_report_and_card(out: str | Path) -> tuple[Path, Path]:
    """Write ``OUT/report.html`` and the dataset card ``OUT/README.md`` from one reading of the
    output. Raises :class:`InputError` when ``out`` is not a complete run."""
    out = Path(out)
    data = collect_report_data(out)
    return write_report(out, data), write_card(out, data.manifest, languages=dict(data.languages))
