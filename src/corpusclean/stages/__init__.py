"""The per-record stages, in pipeline order, and the function that runs them over a batch."""

from __future__ import annotations

import time
from collections.abc import Sequence

from corpusclean.config import PipelineConfig
from corpusclean.records import Record, Rejected, Stage, StageResult
from corpusclean.stages.boilerplate import BoilerplateStage
from corpusclean.stages.decode import DecodeStage
from corpusclean.stages.dedup import DedupStage
from corpusclean.stages.extract import ExtractStage
from corpusclean.stages.filter import LengthFilterStage
from corpusclean.stages.language import LanguageStage

__all__ = ["build_stages", "run_stages"]


def build_stages(config: PipelineConfig) -> tuple[Stage, ...]:
    """Every per-record stage, in order: decode → extract → boilerplate → filter → language →
    dedup (its per-record part). Disabled stages are kept: they still pass records through
    (decode must still turn bytes into text), and they leave their own columns null."""
    return (
        DecodeStage(config.decode),
        ExtractStage(config.extract, config.decode),
        BoilerplateStage(config.boilerplate),
        LengthFilterStage(config.output.min_words),
        LanguageStage(config.language),
        DedupStage(config.dedup),
    )


def run_stages(
    stages: Sequence[Stage], batch: Sequence[Record], timings: dict[str, float] | None = None
) -> StageResult:
    """Run ``batch`` through ``stages``; rejections of every stage are collected in order.
    ``timings`` (stage name → seconds) is added to when given."""
    records = list(batch)
    rejected: list[Rejected] = []
    for stage in stages:
        started = time.perf_counter()
        result = stage(records)
        if timings is not None:
            timings[stage.name] = timings.get(stage.name, 0.0) + time.perf_counter() - started
        records = result.records
        rejected.extend(result.rejected)
    return StageResult(records, rejected)
