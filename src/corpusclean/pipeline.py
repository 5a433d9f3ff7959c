"""The pipeline: a run over files (two passes), and the in-memory entry points.

A run is the two-pass plan of DESIGN.md:

1. **pass 1** (worker processes): read → decode → extract → boilerplate → filter → language →
   content hash, MinHash; each task writes a shard of rows and side tables under
   ``OUT/_work/pass1/`` (:mod:`corpusclean.engines.local`);
2. **global step**: exact and near duplicates, passage clusters and learned lines from the side
   tables only, in bounded memory (:mod:`corpusclean.engines.global_step`); its decision tables
   are written under ``OUT/_work/decisions/``;
3. **pass 2** (worker processes): each shard is decided on Arrow, then the shards are written
   into ``documents/``, ``rejected/`` and ``passages/`` in task order, so rows and their order
   do not depend on worker count or input order (:mod:`corpusclean.engines.pass2`); then
   ``manifest.json`` is written last, and ``_work/`` removed.

Every step leaves done markers, so ``--resume`` continues after the last finished task.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import logging
import os
import shutil
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pyarrow as pa

from corpusclean import __version__
from corpusclean.config import EngineConfig, PipelineConfig
from corpusclean.decisions import DOCUMENT_KEY_SCHEMA, LINE_SCHEMA, Decisions, make_decisions, resolve_representatives
from corpusclean.engines.global_step import local_global_step
from corpusclean.engines.local import BatchRows, TaskResult, merge_pieces, plan_tasks, process_records, run_pass1
from corpusclean.engines.memory import arrow_memory_pool, with_memory_pool
from corpusclean.engines.pass2 import Assembler, decide_shard, load_decider, read_decisions, write_decisions
from corpusclean.engines.pool import run_tasks
from corpusclean.errors import EngineError, InputError
from corpusclean.records import Document, Record, Rejected, Stage
from corpusclean.schema import DOCUMENT_SCHEMA, REJECTED_SCHEMA, SCHEMA_VERSION
from corpusclean.schema import MANIFEST_FILE as MANIFEST
from corpusclean.sinks.remote import check_destination, publish, staging_dir
from corpusclean.sources import InputFile, expand_inputs, looks_like_html, markup_kind
from corpusclean.sources.files import doc_id_for
from corpusclean.stages import build_stages, run_stages
from corpusclean.storage import child_uri, is_uri

__all__ = ["Pipeline", "Progress", "RunReport", "clean_document", "clean_table", "clean_text"]

logger = logging.getLogger(__name__)

WORK_DIR = "_work"
#: The order of the manifest's counts.
_COUNT_ORDER = (
    "records_in",
    "kept",
    "rejected",
    "by_reason",
    "by_stage",
    "boilerplate_kept_unchanged",
    "learned_boilerplate_lines",
    "near_duplicate_clusters",
    "passages",
    "passage_clusters",
)


@dataclass(frozen=True)
class Progress:
    """A progress event: ``phase`` is ``"pass1"`` (``done``/``total`` in files) or
    ``"global"``/``"pass2"``/``"report"``/``"done"``."""

    phase: str
    done: int
    total: int
    documents: int = 0


@dataclass
class RunReport:
    """What a run did: where its output is, its counts, and its manifest."""

    #: The output directory, or its URI for a run published to a remote filesystem.
    out: Path | str
    records_in: int
    kept: int
    rejected: int
    by_reason: dict[str, int]
    by_stage: dict[str, int]
    seconds: float
    manifest: dict[str, Any] = field(repr=False)
    #: ``OUT/report.html`` and the dataset card ``OUT/README.md``; None when they could not be
    #: written (the run is complete all the same: they come after the manifest).
    report: Path | str | None = None
    card: Path | str | None = None

    @classmethod
    def from_manifest(cls, out: Path, manifest: dict[str, Any]) -> RunReport:
        """The report of the finished run in ``out`` whose manifest is ``manifest``."""
        counts = manifest["counts"]
        report, card = out / "report.html", out / "README.md"
        return cls(
            out=out,
            records_in=counts["records_in"],
            kept=counts["kept"],
            rejected=counts["rejected"],
            by_reason=counts["by_reason"],
            by_stage=counts["by_stage"],
            seconds=manifest["timings"]["total_seconds"],
            manifest=manifest,
            report=report if report.exists() else None,
            card=card if card.exists() else None,
        )

    @property
    def documents_per_second(self) -> float:
        return self.records_in / self.seconds if self.seconds > 0 else 0.0


def _fingerprint(config: PipelineConfig, files: Sequence[InputFile]) -> str:
    """Identifies a run's config and inputs, so that ``--resume`` never mixes two runs."""
    stats = []
    for file in files:
        try:
            found = file.stat()
            stats.append([file.relpath, found.size, found.mtime_ns])
        except OSError:
            stats.append([file.relpath, None, None])
    # the engine is left out: both give the same rows, so a run may be resumed on the other
    settings = {name: section for name, section in config.to_dict().items() if name != "engine"}
    payload = json.dumps({"version": __version__, "config": settings, "files": stats}, sort_keys=True)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def _is_within(path: Path, parent: Path) -> bool:
    try:
        path.relative_to(parent)
        return True
    except ValueError:
        return False


class Pipeline:
    """A configured pipeline. ``Pipeline(config).run(["raw/"], "clean/")``."""

    def __init__(self, config: PipelineConfig | None = None) -> None:
        self.config = config or PipelineConfig()

    def run(
        self,
        inputs: Sequence[str | os.PathLike[str]] | str | os.PathLike[str],
        out: str | os.PathLike[str],
        *,
        workers: int | None = None,
        resume: bool = False,
        overwrite: bool = False,
        progress: Callable[[Progress], None] | None = None,
        engine: str | None = None,
        ray_address: str | None = None,
    ) -> RunReport:
        """Clean ``inputs`` into the dataset directory ``out``.

        ``engine`` (``"local"`` or ``"ray"``) and ``ray_address`` override ``[engine]`` of the
        config; ``workers`` is the number of local processes, or of Ray actors per pass (default:
        all cores, or all CPUs of the Ray cluster).

        Raises :class:`InputError` before any work for a missing input or an ``out`` that may
        not be written, and :class:`EngineError` when the share of ``stage_error`` rejections
        passes ``output.max_error_rate``. Bad records never raise: they are rejected rows.
        """
        engine_config = self.config.engine
        if engine is not None or ray_address is not None:
            engine_config = dataclasses.replace(
                engine_config,
                name=engine if engine is not None else engine_config.name,
                ray_address=ray_address if ray_address is not None else engine_config.ray_address,
            )
        if isinstance(inputs, (str, os.PathLike)):
            inputs = [inputs]
        with arrow_memory_pool(engine_config.memory_pool):
            if is_uri(os.fspath(out)):
                return self._run_remote(inputs, os.fspath(out), workers, resume, overwrite, progress, engine_config)
            return self._run(inputs, out, workers, resume, overwrite, progress, engine_config)

    def _run_remote(
        self,
        inputs: Sequence[str | os.PathLike[str]],
        destination: str,
        workers: int | None,
        resume: bool,
        overwrite: bool,
        progress: Callable[[Progress], None] | None,
        engine_config: EngineConfig,
    ) -> RunReport:
        """A run whose OUT is a URI: built in a staging directory, then published there with
        manifest.json last (an object store has no atomic rename; as on disk, a dataset without
        its manifest is an incomplete run). A run interrupted while publishing is published
        again by ``--resume``; the destination's old content stays until the new run is done."""
        staging = staging_dir(self.config, destination)
        staged = (staging / WORK_DIR / "plan.json").exists() or (staging / MANIFEST).exists()
        check_destination(destination, inputs, resume=resume, overwrite=overwrite, staged=staged)
        if resume and (staging / MANIFEST).exists():  # done, but interrupted while publishing
            report = RunReport.from_manifest(staging, json.loads((staging / MANIFEST).read_text(encoding="utf-8")))
        else:
            # the staging directory is this run's own: cleared unless this run resumes it
            report = self._run(inputs, staging, workers, resume, not resume, progress, engine_config)
        publish(staging, destination)
        shutil.rmtree(staging, ignore_errors=True)
        return dataclasses.replace(
            report,
            out=destination,
            report=child_uri(destination, "report.html") if report.report else None,
            card=child_uri(destination, "README.md") if report.card else None,
        )

    def _run(
        self,
        inputs: Sequence[str | os.PathLike[str]],
        out: str | os.PathLike[str],
        workers: int | None,
        resume: bool,
        overwrite: bool,
        progress: Callable[[Progress], None] | None,
        engine_config: EngineConfig,
    ) -> RunReport:
        started = time.perf_counter()
        on_ray = engine_config.name == "ray"
        address = engine_config.ray_address or None
        if not inputs:
            raise InputError("no input given")
        if resume and overwrite:
            raise InputError("--resume and --overwrite exclude each other")
        files = expand_inputs(inputs, skip_hidden=self.config.read.skip_hidden)
        out_path = Path(out)
        self._check_out(out_path, inputs, files, resume, overwrite)
        work = out_path / WORK_DIR
        fingerprint = _fingerprint(self.config, files)
        self._prepare(out_path, work, fingerprint, resume)

        tasks = plan_tasks(files)
        total_files = len(files)
        files_done = 0
        documents_done = 0

        def task_done(result: TaskResult) -> None:
            nonlocal files_done, documents_done
            files_done += len(result.inputs)
            documents_done += result.counts["documents"] + result.counts["rejected"]
            if progress:
                progress(Progress("pass1", files_done, total_files, documents_done))

        if on_ray:
            from corpusclean.engines.ray import ray_global_step
            from corpusclean.engines.ray_passes import run_pass1_ray, run_pass2_ray
        else:
            workers = workers or os.cpu_count() or 1
        pass1_started = time.perf_counter()
        if on_ray:
            results = run_pass1_ray(tasks, self.config, work / "pass1", workers or 0, address, task_done)
        else:
            results = run_pass1(tasks, self.config, work / "pass1", workers, task_done)
        pass1_seconds = time.perf_counter() - pass1_started

        records_in = sum(r.counts["documents"] + r.counts["rejected"] for r in results)
        stage_errors = sum(r.counts["stage_errors"] for r in results)
        if records_in and stage_errors / records_in > self.config.output.max_error_rate:
            raise EngineError(
                f"{stage_errors} of {records_in} records failed with stage errors "
                f"({stage_errors / records_in:.0%} > output.max_error_rate "
                f"{self.config.output.max_error_rate:.0%}); see {work / 'pass1'} for the rows"
            )

        if progress:
            progress(Progress("global", 0, 1))
        global_started = time.perf_counter()
        stems = [str(work / "pass1" / f"task-{t.task_id:06d}") for t in tasks]
        decisions_dir = work / "decisions"
        found = read_decisions(decisions_dir)
        if found is None:  # not done before an interruption
            if on_ray:
                tables = ray_global_step(self.config, stems)
            else:
                tables = local_global_step(self.config, stems, work / "scratch")
            write_decisions(decisions_dir, resolve_representatives(tables))
            del tables
            found = read_decisions(decisions_dir)
            assert found is not None
        decision_counts = found[1]
        del found  # pass 2 workers read the tables themselves
        global_seconds = time.perf_counter() - global_started

        pass2_started = time.perf_counter()
        pass2_done = 0

        for directory in ("documents", "rejected", "passages"):
            shutil.rmtree(out_path / directory, ignore_errors=True)
        assembler = Assembler(out_path, stems, self.config)

        def shard_done(_: dict[str, int]) -> None:
            nonlocal pass2_done
            pass2_done += 1
            assembler.advance()
            if progress:
                progress(Progress("pass2", pass2_done, len(stems) + 1))

        if progress:
            progress(Progress("pass2", 0, len(stems) + 1))
        if on_ray:
            shard_counts = run_pass2_ray(stems, self.config, decisions_dir, workers or 0, address, shard_done)
        else:
            shard_counts = run_tasks(
                functools.partial(
                    with_memory_pool, engine_config.memory_pool, load_decider, self.config, str(decisions_dir)
                ),
                decide_shard,
                stems,
                workers,
                shard_done,
            )
        outputs, counts = assembler.finish(shard_counts)
        counts.update(decision_counts)
        counts = {key: counts[key] for key in _COUNT_ORDER}
        pass2_seconds = time.perf_counter() - pass2_started
        if counts["records_in"] != records_in:  # pragma: no cover - an invariant, not an input problem
            raise EngineError(f"row accounting failed: {counts['records_in']} rows for {records_in} records")

        stage_seconds: Counter[str] = Counter()
        for result in results:
            stage_seconds.update(result.timings)
        seconds = time.perf_counter() - started
        manifest = {
            "corpusclean_version": __version__,
            "schema_versions": {
                "document": SCHEMA_VERSION,
                "rejected": SCHEMA_VERSION,
                "passage": SCHEMA_VERSION,
                "manifest": SCHEMA_VERSION,
            },
            "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "config": self.config.to_dict(),
            "inputs": [entry for result in merge_pieces(results) for entry in result.inputs],  # one per file
            "counts": counts,
            "outputs": outputs,
            "timings": {
                "total_seconds": round(seconds, 3),
                "pass1_seconds": round(pass1_seconds, 3),
                "global_seconds": round(global_seconds, 3),
                "pass2_seconds": round(pass2_seconds, 3),
                "stage_cpu_seconds": {k: round(v, 3) for k, v in sorted(stage_seconds.items())},
                # throughput of each stage alone: records over the CPU seconds it took
                "stage_documents_per_cpu_second": {
                    k: round(records_in / v, 1) for k, v in sorted(stage_seconds.items()) if v > 0
                },
                "workers": workers or None,
                "engine": engine_config.name,
                "documents_per_second": round(records_in / seconds, 2) if seconds > 0 else None,
            },
        }
        manifest["inputs"].sort(key=lambda entry: (entry["path"], entry["input"]))
        tmp = out_path / f".{MANIFEST}.tmp"
        tmp.write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        os.replace(tmp, out_path / MANIFEST)
        shutil.rmtree(work, ignore_errors=True)
        if progress:
            progress(Progress("report", 0, 1))
        report_path, card_path = _write_report(out_path)
        if progress:
            progress(Progress("done", 1, 1))
        return dataclasses.replace(
            RunReport.from_manifest(out_path, manifest), seconds=seconds, report=report_path, card=card_path
        )

    @staticmethod
    def _check_out(
        out: Path,
        inputs: Sequence[str | os.PathLike[str]],
        files: Sequence[InputFile],
        resume: bool,
        overwrite: bool,
    ) -> None:
        resolved_out = out.resolve()
        for raw in inputs:
            arg = Path(os.fspath(raw))
            if arg.exists() and (
                arg.resolve() == resolved_out or (arg.is_dir() and _is_within(resolved_out, arg.resolve()))
            ):
                raise InputError(f"output directory {out} must not be inside the input {arg}")
        for file in files:
            if _is_within(Path(file.path).resolve(), resolved_out):
                raise InputError(f"input {file.path} is inside the output directory {out}")
        if out.exists() and not out.is_dir():
            raise InputError(f"output {out} exists and is not a directory")
        if out.exists() and any(out.iterdir()):
            if resume:
                if (out / MANIFEST).exists():
                    raise InputError(f"{out} holds a complete run; nothing to resume (use --overwrite to redo it)")
                if not (out / WORK_DIR / "plan.json").exists():
                    raise InputError(f"{out} is not an incomplete corpusclean run; cannot resume")
            elif not overwrite:
                raise InputError(f"output directory {out} is not empty (use --overwrite or --resume)")

    @staticmethod
    def _prepare(out: Path, work: Path, fingerprint: str, resume: bool) -> None:
        plan = work / "plan.json"
        if resume and plan.exists():
            saved = json.loads(plan.read_text(encoding="utf-8"))
            if saved.get("fingerprint") != fingerprint:
                raise InputError(f"cannot resume {out}: its inputs or config differ from this run's")
            return
        if out.exists():
            for child in out.iterdir():
                if child.is_dir() and not child.is_symlink():
                    shutil.rmtree(child)
                else:
                    child.unlink()
        work.mkdir(parents=True, exist_ok=True)
        plan.write_text(json.dumps({"fingerprint": fingerprint, "version": __version__}), encoding="utf-8")


def _write_report(out: Path) -> tuple[Path | None, Path | None]:
    """``report.html`` and ``README.md`` of a finished run. Written after the manifest, so a
    failure here is a warning, never an incomplete run (``corpusclean report OUT`` retries)."""
    try:
        from corpusclean.report import write_report_and_card

        return write_report_and_card(out)
    except Exception as exc:  # the data is complete; the report is a courtesy
        logger.debug("report failed", exc_info=True)
        logger.warning(
            "the run is complete, but report.html and README.md were not written (%s: %s); "
            "retry with `corpusclean report %s`",
            type(exc).__name__,
            exc,
            out,
        )
        return None, None


# --- in-memory entry points -------------------------------------------------------------


def _record_from_value(
    value: str | bytes,
    *,
    source_id: str = "",
    source: str = ".",
    source_format: str = "text",
    locator: str = "",
    html: bool | None = None,
    metadata: dict[str, Any] | None = None,
    extra: tuple[tuple[str, Any], ...] = (),
) -> Record:
    if html is None:
        head = value[:4096] if isinstance(value, bytes) else value.lstrip()[:4096].encode("utf-8", "surrogatepass")
        html = looks_like_html(head)
    fields: dict[str, Any] = {
        "doc_id": doc_id_for(source_format, source_id, locator),
        "source": source,
        "source_format": source_format,
        "source_id": source_id,
        "markup_kind": None,
        "extra": extra,
    }
    if isinstance(value, bytes):
        fields["raw"] = value
        if html:
            fields["markup_kind"] = "page"
    elif html:
        fields["markup"] = value
        fields["markup_kind"] = markup_kind(value)
    else:
        fields["text"] = value
    fields.update(metadata or {})
    return Record(**fields)


def clean_document(
    text_or_bytes: str | bytes,
    config: PipelineConfig | None = None,
    *,
    source_id: str = "",
    html: bool | None = None,
) -> Document | Rejected:
    """Clean one document through the per-record stages (no corpus-level dedup).

    ``html=None`` detects HTML from the content. Returns the :class:`Document`, or the
    :class:`Rejected` record saying which stage rejected it and why.
    """
    config = config or PipelineConfig()
    record = _record_from_value(text_or_bytes, source_id=source_id, html=html)
    result = _run_one(record, config)
    return result


def _run_one(record: Record, config: PipelineConfig) -> Document | Rejected:
    result = run_stages(build_stages(config), [record])
    if result.rejected:
        return result.rejected[0]
    return Document.from_record(result.records[0])


@functools.lru_cache(maxsize=16)
def _text_stages(config: PipelineConfig) -> tuple[Stage, ...]:
    """The stages ``clean_text`` runs for ``config``, built once per config.

    A memo, not shared state: the key is an immutable config and the stages it builds hold no
    mutable data they would carry from one call to the next (language and dedup are off), so
    it cannot change any result; it saves parsing and compiling the rule packs on every call.
    """
    return build_stages(config.replace(output={"min_words": 0}, language={"enabled": False}, dedup={"enabled": False}))


#: clean_text repeats the per-record stages until the text is stable, at most this often.
CLEAN_TEXT_MAX_ROUNDS = 4


def clean_text(text_or_bytes: str | bytes, config: PipelineConfig | None = None) -> str:
    """The cleaned text of one document: decoded, repaired, extracted when it is HTML, with
    boilerplate removed. Never raises for any ``str`` or ``bytes``; returns ``""`` when nothing
    is left.

    Idempotent: ``clean_text(clean_text(x)) == clean_text(x)``. A repair can reveal more work
    (``&lt;p&gt;`` unescapes to a tag, removing a zero-width space exposes markup), so the
    stages are applied again until the text no longer changes.

    >>> clean_text("\\n\\nThe Mona Lisa doesnÃ¢â‚¬â„¢t have eyebrows.\\nAlso read: Other story\\n")
    'The Mona Lisa doesn’t have eyebrows.'
    """
    if not isinstance(text_or_bytes, (str, bytes)):
        raise TypeError(f"clean_text takes str or bytes, not {type(text_or_bytes).__name__}")
    stages = _text_stages(config or PipelineConfig())
    value: str | bytes = text_or_bytes
    text = ""
    for _ in range(CLEAN_TEXT_MAX_ROUNDS):
        try:
            result = run_stages(stages, [_record_from_value(value)])
        except Exception:
            logger.debug("clean_text failed", exc_info=True)
            return ""
        text = (result.records[0].text or "") if result.records else ""
        if text == value:
            break
        value = text
    return text


_TABLE_METADATA = {"url", "title", "author", "site_name", "published_at", "modified_at", "categories", "tags"}


def clean_table(table: pa.Table, config: PipelineConfig | None = None) -> tuple[pa.Table, pa.Table]:
    """Clean an Arrow table in memory (for ETL jobs running their own Spark/Ray/Airflow task).

    The input has a ``text`` or ``html`` column, optionally ``id`` (else the row number),
    ``source`` (the site: boilerplate lines are learned per source) and metadata columns named as
    in the document schema; other columns pass through to both outputs. The table is one corpus:
    exact duplicates inside it are found, and lines it repeats per source are learned and
    removed. Returns ``(kept, rejected)`` with the document and rejected schemas plus the
    passthrough columns.
    """
    config = config or PipelineConfig()
    names = table.column_names
    if "text" not in names and "html" not in names:
        raise InputError("clean_table needs a 'text' or 'html' column")
    document_names = set(DOCUMENT_SCHEMA.names) | {"html", "id"}
    passthrough = [f for f in table.schema if f.name not in document_names]
    records: list[Record] = []
    for index, row in enumerate(table.to_pylist()):
        record_id = row.get("id")
        source_id = str(record_id) if record_id is not None else str(index)
        html_value = row.get("html")
        text_value = row.get("text")
        metadata = {k: row[k] for k in _TABLE_METADATA if row.get(k) is not None}
        for key in ("categories", "tags"):
            if key in metadata:
                metadata[key] = tuple(str(v) for v in metadata[key])
        for key in ("published_at", "modified_at"):
            if key in metadata and isinstance(metadata[key], datetime) and metadata[key].tzinfo is None:
                metadata[key] = metadata[key].replace(tzinfo=timezone.utc)
        extra = tuple((f.name, row[f.name]) for f in passthrough)
        use_html = (
            isinstance(html_value, str)
            and html_value.strip()
            and not (isinstance(text_value, str) and text_value.strip())
        )
        value = html_value if use_html else (text_value if isinstance(text_value, (str, bytes)) else "")
        source = row.get("source")
        records.append(
            _record_from_value(
                value,
                source_id=source_id,
                source=source if isinstance(source, str) and source else ".",
                source_format="table",
                locator=f"row:{index}",
                html=bool(use_html),
                metadata=metadata,
                extra=extra,
            )
        )
    stages = build_stages(config)
    rows = BatchRows()
    for start in range(0, len(records), config.output.batch_size):
        rows.extend(process_records(stages, records[start : start + config.output.batch_size], config))
    # the global step, in memory: the same decisions a run makes over its side tables
    found = make_decisions(
        config,
        pa.Table.from_pylist(rows.documents, schema=DOCUMENT_KEY_SCHEMA),
        lines=pa.Table.from_pylist(rows.lines, schema=LINE_SCHEMA),
        signatures=rows.side_table("minhash", config),
        passages=rows.side_table("passages", config),
    )
    decisions = Decisions.from_tables(config, resolve_representatives(found.to_tables()))
    kept_rows: list[dict[str, Any]] = []
    rejected_rows = rows.rejected
    for row in rows.documents:
        decision = decisions.decide(row)
        if decision.kept is not None:
            kept_rows.append(decision.kept)
        else:
            rejected_rows.append(decision.rejected)
    document_schema = pa.schema(list(DOCUMENT_SCHEMA) + passthrough, metadata=DOCUMENT_SCHEMA.metadata)
    rejected_schema = pa.schema(list(REJECTED_SCHEMA) + passthrough, metadata=REJECTED_SCHEMA.metadata)
    return (
        pa.Table.from_pylist(kept_rows, schema=document_schema),
        pa.Table.from_pylist(rejected_rows, schema=rejected_schema),
    )
