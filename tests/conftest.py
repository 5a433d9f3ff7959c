"""Shared test helpers: paths to the fixtures and to ../shared, and a CLI runner."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from corpusclean.cli import main

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "fixtures"
SAMPLE = FIXTURES / "sample"
SHARED = ROOT.parent / "shared"
DATA = SHARED / "data"


def run_cli(*args: str, capsys: pytest.CaptureFixture[str] | None = None) -> int:
    return main([str(a) for a in args])


def read_dataset(out: Path, kind: str) -> pa.Table:
    """All part files of ``out/kind`` as one table, in file order."""
    parts = sorted((out / kind).glob("part-*.parquet"))
    return pa.concat_tables([pq.read_table(p) for p in parts])


def requires_shared_data(*parts: str) -> Path:
    path = DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} is not available (../shared/data is beside the checkout in CI)")
    return path
