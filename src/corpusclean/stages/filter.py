"""Filter: documents too short to keep, after boilerplate removal."""

from __future__ import annotations

from collections.abc import Sequence

from corpusclean.records import Reason, Record, Rejected, StageResult, map_records

__all__ = ["LengthFilterStage"]


class LengthFilterStage:
    """Rejects ``too_short`` documents (fewer than ``min_words`` words)."""

    name = "filter"

    def __init__(self, min_words: int) -> None:
        self.min_words = min_words

    def __call__(self, batch: Sequence[Record]) -> StageResult:
        return map_records(self.name, batch, self.process)

    def process(self, record: Record) -> Record | Rejected:
        words = len((record.text or "").split())
        if not record.text or not record.text.strip():
            return record.reject(self.name, Reason.EXTRACT_EMPTY, "no text left")
        if words < self.min_words:
            return record.reject(self.name, Reason.TOO_SHORT, f"{words} words < {self.min_words}")
        return record
