"""The pipeline bench's machine-ceiling run and its ratios (bench/bench_pipeline.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench import bench_pipeline
from bench.bench_pipeline import TEXT_CONFIGS, _ceiling, ratios


def _jsonl(path: Path, docs: int) -> Path:
    lines = [
        json.dumps({"id": str(i), "text": f"Document {i} says something about the weather. " * 12}) for i in range(docs)
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_ceiling_runs_the_same_work_in_every_process(tmp_path: Path) -> None:
    spec = {"config": TEXT_CONFIGS["language off"], "inputs": [str(_jsonl(tmp_path / "a.jsonl", 40))], "workers": 2}
    result = _ceiling(spec)
    assert result["records_in"] == 80  # 40 documents in each of the 2 processes
    assert result["seconds"] > 0
    assert result["records_per_second"] == pytest.approx(80 / result["seconds"])


def test_ceiling_fails_instead_of_waiting_for_a_dead_process(tmp_path: Path) -> None:
    spec = {"config": TEXT_CONFIGS["language off"], "inputs": [str(tmp_path / "missing.jsonl")], "workers": 2}
    with pytest.raises(RuntimeError, match="ceiling process failed"):
        _ceiling(spec)


def test_ratios_report_scaling_against_the_ceiling() -> None:
    def row(tool: str, config: str, workers: int, docs_per_second: float, cpu: float | None = None) -> dict:
        timings = {"stage_cpu_seconds": {"decode": cpu * 0.75, "minhash": cpu * 0.25}} if cpu else None
        return {
            "tool": tool,
            "config": config,
            "workers": workers,
            "docs_per_second": docs_per_second,
            "timings": timings,
        }

    text = [row("corpusclean", "language off", 1, 500.0, 40.0), row("corpusclean", "language off", 2, 800.0, 44.0)]
    ceiling = [row("machine ceiling", "language off", 1, 600.0), row("machine ceiling", "language off", 2, 1000.0)]
    out = ratios(text, [], [1, 2], ceiling)
    assert out["corpusclean (language off) docs/s 2 workers / 1"] == 1.6
    assert out["machine ceiling (language off) 2 processes / 1"] == 1.67
    assert out["corpusclean (language off) 2/1 workers as a share of the ceiling"] == 0.96
    assert out["corpusclean (language off) stage CPU seconds 2 workers / 1"] == 1.1
    # without ceiling rows (--ceiling-docs 0) the ratios say nothing about it
    assert not any("ceiling" in name for name in ratios(text, [], [1, 2]))
    assert bench_pipeline._stage_cpu({"timings": None}) is None
