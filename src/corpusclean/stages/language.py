"""Language: langdetect, seeded, on a bounded sample of the text.

langdetect samples n-grams at random; a detector made from a factory with a fixed seed
re-seeds its generator before every detection, so a text always gets the same answer, on any
worker. The factory is the stage's own (not langdetect's module-level one), loaded lazily once
per stage instance.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from itertools import islice

from langdetect.detector_factory import PROFILES_DIRECTORY, DetectorFactory
from langdetect.lang_detect_exception import LangDetectException

from corpusclean.config import LanguageConfig
from corpusclean.records import Reason, Record, Rejected, StageResult, map_records

__all__ = ["UNDETERMINED", "LanguageStage", "normalize_language_code"]

UNDETERMINED = "und"


def normalize_language_code(code: str) -> str:
    """ISO 639-1, lower case: langdetect's ``zh-cn`` and ``zh-tw`` become ``zh``.

    >>> normalize_language_code("zh-cn")
    'zh'
    """
    return code.split("-", 1)[0].lower()


class LanguageStage:
    """Detects the language of each record; optionally rejects those not allowed."""

    name = "language"

    def __init__(self, config: LanguageConfig) -> None:
        self.config = config
        self.allowed = frozenset(normalize_language_code(c) for c in config.languages)
        self._factory: DetectorFactory | None = None

    def _detector_factory(self) -> DetectorFactory:
        if self._factory is None:
            factory = DetectorFactory()
            factory.load_profile(PROFILES_DIRECTORY)
            factory.set_seed(self.config.seed)
            self._factory = factory
        return self._factory

    def detect(self, text: str) -> tuple[str, float | None]:
        """The language code of ``text`` and its probability; ``und`` (score None) when the
        sample has fewer than ``min_letters`` letters or langdetect finds no features."""
        sample = text[: self.config.sample_chars]
        # stop at the min_letters-th letter (the first, by default) instead of counting them all
        letters = (ch for ch in sample if ch.isalpha())
        if self.config.min_letters > 0 and next(islice(letters, self.config.min_letters - 1, None), None) is None:
            return UNDETERMINED, None
        detector = self._detector_factory().create()
        detector.append(sample)
        try:
            best = detector.get_probabilities()[0]
        except (LangDetectException, IndexError):
            return UNDETERMINED, None
        return normalize_language_code(best.lang), round(float(best.prob), 6)

    def __call__(self, batch: Sequence[Record]) -> StageResult:
        return map_records(self.name, batch, self.process)

    def process(self, record: Record) -> Record | Rejected:
        if not self.config.enabled or record.text is None:
            return record
        language, score = self.detect(record.text)
        updated = dataclasses.replace(record, language=language, language_score=score)
        if self.allowed and language not in self.allowed:
            detail = f"detected {language}" + (f" ({score:.2f})" if score is not None else "")
            return updated.reject(self.name, Reason.LANGUAGE_FILTERED, detail)
        return updated
