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
        text = record.text
        if not text or text.isspace():
            return record.reject(self.name, Reason.EXTRACT_EMPTY, "no text left")
        # split no further than the limit: a 5 kB text in words cost as much as the rest of the stage
        words = len(text.split(None, self.min_words))
        if words < self.min_words:
            return record.reject(self.name, Reason.TOO_SHORT, f"{words} words < {self.min_words}")
        return record
