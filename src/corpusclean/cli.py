"""The ``corpusclean`` command.

Exit codes: 0 ok (also when records were rejected), 1 run failed, 2 usage or config error,
3 validation failed. Errors are one line on stderr, never a traceback (``--debug`` shows it).
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from typing import Any

from corpusclean import __version__
from corpusclean.config import PipelineConfig
from corpusclean.errors import ConfigError, CorpusCleanError, EngineError, InputError
from corpusclean.pipeline import Pipeline, Progress, RunReport, clean_text
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
        "JSONL, Parquet; .gz/.bz2/.xz/.zst), clean them, and write OUT/documents/, OUT/rejected/ "
        "and OUT/manifest.json.",
    )
    run.add_argument("inputs", nargs="+", metavar="INPUT", help="file, directory (recursive) or glob")
    run.add_argument("-o", "--out", required=True, metavar="OUT", help="output directory")
    run.add_argument("--config", metavar="FILE.toml", help="configuration file (see the README)")
    run.add_argument("--workers", type=int, metavar="N", help="worker processes (default: all cores)")
    run.add_argument("--languages", metavar="CODES", help="keep only these languages, e.g. en,zh")
    mode = run.add_mutually_exclusive_group()
    mode.add_argument("--resume", action="store_true", help="continue an incomplete run in OUT")
    mode.add_argument("--overwrite", action="store_true", help="replace what OUT holds")
    run.add_argument("--quiet", action="store_true", help="no progress bar and no summary")

    validate = commands.add_parser(
        "validate",
        help="check that OUT is a complete, consistent dataset",
        description="Check manifest, checksums, schemas, rows and counts of a dataset directory. "
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


def _load_config(path: str | None, languages: str | None = None) -> PipelineConfig:
    config = PipelineConfig.from_toml(path) if path else PipelineConfig()
    if languages is not None:
        codes = tuple(code.strip().lower() for code in languages.split(",") if code.strip())
        if not codes:
            raise ConfigError("--languages needs at least one language code")
        config = config.replace(language={"languages": codes})
    return config


class _ProgressBar:
    """A tqdm bar over input files on stderr, shown only when stderr is a terminal."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled and sys.stderr.isatty()
        self.bar: Any = None

    def __call__(self, event: Progress) -> None:
        if not self.enabled:
            return
        if event.phase == "pass1":
            if self.bar is None:
                from tqdm import tqdm

                self.bar = tqdm(total=event.total, unit="file", desc="cleaning", file=sys.stderr, dynamic_ncols=True)
            self.bar.n = event.done
            self.bar.set_postfix(documents=event.documents, refresh=False)
            self.bar.refresh()
        elif self.bar is not None:
            self.bar.close()
            self.bar = None
            print(f"corpusclean: {'writing' if event.phase != 'done' else 'done'} …", file=sys.stderr)


def _summary(report: RunReport) -> str:
    lines = [
        f"corpusclean: {report.records_in} records in, {report.kept} kept, {report.rejected} rejected "
        f"in {report.seconds:.1f} s ({report.documents_per_second:.1f} records/s)",
    ]
    for reason, count in report.by_reason.items():
        lines.append(f"  rejected {reason}: {count}")
    lines.append(f"  output: {report.out}")
    return "\n".join(lines)


def _run(args: argparse.Namespace) -> int:
    config = _load_config(args.config, args.languages)
    if args.workers is not None and args.workers < 1:
        raise ConfigError("--workers must be at least 1")
    progress = _ProgressBar(not args.quiet)
    report = Pipeline(config).run(
        args.inputs, args.out, workers=args.workers, resume=args.resume, overwrite=args.overwrite, progress=progress
    )
    if not args.quiet:
        print(_summary(report), file=sys.stderr)
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
    handlers = {"run": _run, "validate": _validate, "clean-text": _clean_text}
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
