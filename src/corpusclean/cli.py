"""The ``corpusclean`` command.

Exit codes: 0 ok (also when records were rejected), 1 run failed, 2 usage or config error,
3 validation failed (``validate``), or not a complete run (``report``). Errors are one line on stderr, never a traceback (``--debug`` shows it).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar, TextIO

from corpusclean import __version__
from corpusclean.config import PipelineConfig
from corpusclean.errors import ConfigError, CorpusCleanError, EngineError, InputError
from corpusclean.pipeline import Pipeline, Progress, RunReport, clean_text
from corpusclean.storage import is_uri, join, read_table
from corpusclean.validate import validate_output

__all__ = ["main"]

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INVALID = 0, 1, 2, 3


class _Parser(argparse.ArgumentParser):
    """argparse, but usage errors exit with our code 2 and a one-line message."""

    def error(self, message: str) -> Any:  # type: ignore[override]
        self.print_usage(sys.stderr)
        print(f"corpusclean: error: {message}", file=sys.stderr)
        raise SystemExit(EXIT_USAGE)


def _build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="corpusclean",
        description="Turn messy text corpora into clean, validated Parquet datasets.",
        epilog="Exit codes: 0 ok (also when records were rejected), 1 run failed, "
        "2 usage or config error, 3 validation failed.",
    )
    parser.add_argument("--version", action="version", version=f"corpusclean {__version__}")
    parser.add_argument("--debug", action="store_true", help="show debug logs and tracebacks")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    run = commands.add_parser(
        "run",
        help="clean INPUT files into the dataset directory OUT",
        description="Read INPUT files, directories or globs (plain text, HTML, WordPress REST JSON and WXR, "
        "JSONL, Parquet; .gz/.bz2/.xz/.zst), clean them, and write OUT/documents/, OUT/rejected/, "
        "OUT/passages/, OUT/manifest.json, then the report OUT/report.html and the dataset card OUT/README.md.",
    )
    run.add_argument(
        "inputs",
        nargs="+",
        metavar="INPUT",
        help="file, directory (recursive) or glob; or a URI of a file or prefix (s3://…, gs://…)",
    )
    run.add_argument(
        "-o", "--out", required=True, metavar="OUT", help="output directory, or a URI such as s3://bucket/clean"
    )
    run.add_argument("--config", metavar="FILE.toml", help="configuration file (see the README)")
    run.add_argument(
        "--workers", type=int, metavar="N", help="worker processes, or Ray actors per pass (default: all cores)"
    )
    run.add_argument(
        "--engine",
        choices=["local", "ray"],
        help="local worker processes, or Ray Data (pip install 'corpusclean[ray]'); default: engine.name "
        "of the config, else local. Both give the same rows",
    )
    run.add_argument(
        "--ray-address",
        metavar="ADDRESS",
        help="with --engine ray: 'auto' joins the running cluster, or ray://HOST:PORT; default: a new local "
        "Ray instance",
    )
    run.add_argument("--languages", metavar="CODES", help="keep only these languages, e.g. en,zh")
    run.add_argument(
        "--partition-by",
        choices=["language", "source"],
        help="write documents/ in hive-style directories by this column (documents/language=en/…); "
        "default: output.partition_by of the config, else none",
    )
    mode = run.add_mutually_exclusive_group()
    mode.add_argument("--resume", action="store_true", help="continue an incomplete run in OUT")
    mode.add_argument("--overwrite", action="store_true", help="replace what OUT holds")
    run.add_argument("--quiet", action="store_true", help="no progress bar and no summary")

    report = commands.add_parser(
        "report",
        help="write OUT/report.html and the dataset card OUT/README.md for a finished run",
        description="Read a finished run's manifest and Parquet parts and write OUT/report.html (one "
        "self-contained page: stage funnel, languages, lengths, duplicates, boilerplate, repairs, sources, "
        "examples) and OUT/README.md (the dataset card). `run` does this at its end. Charts need "
        "`pip install 'corpusclean[report]'`; without it the page has the tables. "
        "OUT may be a URI (s3://…, gs://…): the dataset is downloaded to a temporary directory and the two "
        "files are uploaded beside it. Exit 0 when written, 2 when OUT does not exist, 3 when OUT is not a complete run.",
    )
    report.add_argument("out", metavar="OUT")

    validate = commands.add_parser(
        "validate",
        help="check that OUT is a complete, consistent dataset",
        description="Check manifest, checksums, schemas, rows and counts of a dataset directory. "
        "OUT may be a URI (s3://…, gs://…), downloaded to a temporary directory first. "
        "Exit 0 when valid, 3 when not (each problem on its own line), 2 when OUT does not exist.",
    )
    validate.add_argument("out", metavar="OUT")

    clean = commands.add_parser(
        "clean-text",
        help="clean one document from stdin to stdout",
        description="Read one document (text or HTML, any encoding) from stdin and write its cleaned text to stdout.",
    )
    clean.add_argument("--config", metavar="FILE.toml", help="configuration file")
    return parser


def _load_config(path: str | None, languages: str | None = None, partition_by: str | None = None) -> PipelineConfig:
    config = PipelineConfig.from_toml(path) if path else PipelineConfig()
    if languages is not None:
        codes = tuple(code.strip().lower() for code in languages.split(",") if code.strip())
        if not codes:
            raise ConfigError("--languages needs at least one language code")
        config = config.replace(language={"languages": codes})
    if partition_by is not None:
        config = config.replace(output={"partition_by": partition_by})
    return config


class _ProgressBar:
    """Progress on stderr while a run works, shown only when stderr is a terminal: a tqdm bar over
    the input files in pass 1 (done/total, documents and documents/s, elapsed and ETA), then one
    line per later phase."""

    PHASES: ClassVar[dict[str, str]] = {
        "global": "finding duplicates and repeated lines …",
        "pass2": "writing documents/, rejected/ and passages/ …",
        "report": "writing report.html and README.md …",
    }

    def __init__(self, enabled: bool, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr
        self.enabled = enabled and self.stream.isatty()
        self.bar: Any = None
        self.started = time.time()  # the run's start: pass 1 reports only when a task is done

    def __call__(self, event: Progress) -> None:
        if not self.enabled:
            return
        if event.phase == "pass1":
            if self.bar is None:
                from tqdm import tqdm

                self.bar = tqdm(
                    total=event.total,
                    unit="file",
                    desc="cleaning",
                    file=self.stream,
                    dynamic_ncols=True,
                    bar_format="{desc} {percentage:3.0f}%|{bar}| {n_fmt}/{total_fmt} files "
                    "[{elapsed}<{remaining}{postfix}]",
                )
                self.bar.start_t = self.started  # elapsed time and rate from the run's start
            self.bar.n = event.done
            elapsed = time.time() - self.started
            rate = event.documents / elapsed if elapsed > 0 else 0.0
            self.bar.set_postfix_str(f"{event.documents:,} documents, {rate:,.0f} documents/s", refresh=False)
            self.bar.refresh()
            return
        self.close()
        message = self.PHASES.get(event.phase)
        if message:
            print(f"corpusclean: {message}", file=self.stream, flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def _seconds(value: Any) -> str:
    if not isinstance(value, (int, float)):
        return "?"
    if value < 120:
        return f"{value:,.1f} s"
    minutes, seconds = divmod(round(value), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes}:{seconds:02d} min"


def _stage_reason_counts(report: RunReport) -> dict[tuple[str, str], int]:
    """Rejections per (stage, reason), from the stage and reason columns of rejected/."""
    counts: dict[tuple[str, str], int] = {}
    for part in report.manifest.get("outputs", {}).get("rejected", []):
        table = read_table(join(report.out, part["path"]), columns=["stage", "reason"])
        for row in table.group_by(["stage", "reason"]).aggregate([([], "count_all")]).to_pylist():
            key = (row["stage"], row["reason"])
            counts[key] = counts.get(key, 0) + row["count_all"]
    return counts


def _summary(report: RunReport) -> str:
    """What a run did, for the terminal: counts per stage and reason, time, speed, where things are."""
    from corpusclean.report import STAGE_ORDER

    total = report.records_in

    def share(n: int) -> str:
        return f"{n / total:6.1%}" if total else "     –"

    lines = [
        f"corpusclean: {report.records_in:,} records in, {report.kept:,} kept, {report.rejected:,} rejected "
        f"in {_seconds(report.seconds)} ({report.documents_per_second:,.1f} documents/s)",
    ]
    if report.rejected:
        try:
            by_pair = _stage_reason_counts(report)
        except Exception:  # noqa: BLE001 - the summary falls back to the manifest's counts
            by_pair = {("", reason): n for reason, n in report.by_reason.items()}
        stages = sorted(report.by_stage, key=lambda s: (STAGE_ORDER.index(s) if s in STAGE_ORDER else 99, s))
        width = max([len(r) for _, r in by_pair] + [len(s) for s in stages] + [8]) + 4
        lines.append(f"  {'rejected':<{width}} {'records':>9}  {'share':>6}")
        for stage in stages:
            lines.append(f"  {stage:<{width}} {report.by_stage[stage]:>9,}  {share(report.by_stage[stage])}")
            for (_, reason), n in sorted(
                ((k, v) for k, v in by_pair.items() if k[0] == stage), key=lambda kv: (-kv[1], kv[0])
            ):
                lines.append(f"    {reason:<{width - 2}} {n:>9,}  {share(n)}")
        for (stage, reason), n in sorted(by_pair.items()):
            if stage not in report.by_stage:  # the fallback: reasons without their stage
                lines.append(f"    {reason:<{width - 2}} {n:>9,}  {share(n)}")
        lines.append(f"  {'kept':<{width}} {report.kept:>9,}  {share(report.kept)}")
    timings = report.manifest.get("timings", {})
    lines.append(
        f"  time: {_seconds(report.seconds)} (pass 1 {_seconds(timings.get('pass1_seconds'))}, global step "
        f"{_seconds(timings.get('global_seconds'))}, pass 2 {_seconds(timings.get('pass2_seconds'))}) "
        f"with {timings.get('workers', '?')} worker(s)"
    )
    outputs = report.manifest.get("outputs", {})
    partition_by = report.manifest.get("config", {}).get("output", {}).get("partition_by")
    lines.append(f"  output: {str(report.out).rstrip('/')}{'/' if isinstance(report.out, str) else os.sep}")
    for kind in ("documents", "rejected", "passages"):
        parts = outputs.get(kind, [])
        partitioned = f", partitioned by {partition_by}" if partition_by and kind == "documents" else ""
        rows = sum(p["rows"] for p in parts)
        lines.append(
            f"    {kind + '/':<11} {rows:>9,} row{'s' if rows != 1 else ' '} in {len(parts):,} "
            f"part{'s' if len(parts) != 1 else ''}{partitioned}"
        )
    if report.report is not None and report.card is not None:
        lines.append(f"  report: {report.report}")
        lines.append(f"  dataset card: {report.card}")
    else:
        lines.append(f"  report: not written (see the warning above; retry with `corpusclean report {report.out}`)")
    return "\n".join(lines)


def _run(args: argparse.Namespace) -> int:
    config = _load_config(args.config, args.languages, args.partition_by)
    if args.workers is not None and args.workers < 1:
        raise ConfigError("--workers must be at least 1")
    if (args.engine or config.engine.name) == "ray":
        # Ray Data logs every dataset it runs at INFO; the progress bar says where the run is
        logging.getLogger("ray").setLevel(logging.WARNING)
    progress = _ProgressBar(not args.quiet)
    try:
        report = Pipeline(config).run(
            args.inputs,
            args.out,
            workers=args.workers,
            resume=args.resume,
            overwrite=args.overwrite,
            progress=progress,
            engine=args.engine,
            ray_address=args.ray_address,
        )
    finally:
        progress.close()
    if not args.quiet:
        print(_summary(report), file=sys.stderr)
    return EXIT_OK


def _report(args: argparse.Namespace) -> int:
    from corpusclean.report import CHARTS_HINT, charts_available, load_manifest, write_report_and_card

    def write(out: Path) -> tuple[Path, Path] | None:
        try:
            load_manifest(out)
        except InputError as exc:
            print(f"corpusclean: {str(exc).replace(str(out), str(args.out).rstrip('/'))}", file=sys.stderr)
            return None
        return write_report_and_card(out)

    started = time.perf_counter()
    written: tuple[Path | str, ...] | None
    if is_uri(args.out):  # written on a local copy, then uploaded beside the parts
        from corpusclean.sinks.remote import local_copy, upload

        with local_copy(args.out) as copy:
            written = write(copy)
            if written is not None:
                upload(copy, args.out, [path.name for path in written])
                written = tuple(join(args.out, path.name) for path in written)
    else:
        if not Path(args.out).is_dir():
            raise InputError(f"no such directory: {Path(args.out)}")
        written = write(Path(args.out))
    if written is None:
        return EXIT_INVALID
    report_path, card_path = written
    print(f"corpusclean: wrote {report_path} and {card_path} in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    if not charts_available():
        print(f"corpusclean: {CHARTS_HINT}", file=sys.stderr)
    return EXIT_OK


def _validate(args: argparse.Namespace) -> int:
    problems = validate_output(args.out)
    if problems:
        for problem in problems:
            print(problem, file=sys.stderr)
        print(f"corpusclean: {args.out} is not valid ({len(problems)} problem(s))", file=sys.stderr)
        return EXIT_INVALID
    print(f"corpusclean: {args.out} is valid", file=sys.stderr)
    return EXIT_OK


def _clean_text(args: argparse.Namespace) -> int:
    config = _load_config(args.config)
    data = sys.stdin.buffer.read()
    text = clean_text(data, config)
    sys.stdout.write(text + ("\n" if text else ""))
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``corpusclean`` console script."""
    args = _build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.debug else logging.WARNING, format="corpusclean: %(levelname)s: %(message)s"
    )
    handlers = {"run": _run, "validate": _validate, "report": _report, "clean-text": _clean_text}
    try:
        return handlers[args.command](args)
    except (ConfigError, InputError) as exc:
        print(f"corpusclean: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except (EngineError, CorpusCleanError) as exc:
        print(f"corpusclean: run failed: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        print("corpusclean: interrupted (resume with --resume)", file=sys.stderr)
        return EXIT_FAILED
    except Exception as exc:
        if args.debug:
            raise
        print(f"corpusclean: run failed: {type(exc).__name__}: {exc} (rerun with --debug for details)", file=sys.stderr)
        return EXIT_FAILED


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
