"""Language: langdetect, seeded, on a bounded sample of the text.

langdetect samples n-grams at random; a detector made from a factory with a fixed seed
re-seeds its generator before every detection, so a text always gets the same answer, on any
worker. The factory is the stage's own (not langdetect's module-level one), loaded lazily once
per stage instance.

langdetect's own detector spends its time in Python loops: over the characters, a method call
or two each (n-gram extraction, cleaning), and in its trials over the 55 languages, one n-gram
at a time. :class:`MatrixDetector` is langdetect's detector with those loops made cheaper: the
profiles as rows of a numpy matrix, the characters normalized in one ``str.translate``, the
counts of the cleaning step by regular expressions. The same random draws in the same order,
the same products and divisions element by element, so the same probabilities to the last bit
(tested against plain langdetect in ``tests/test_language_detector.py``), in about half the
time (``python -m bench.evals.language``).
"""

from __future__ import annotations

import dataclasses
import re
from array import array
from collections.abc import Sequence
from itertools import islice

import numpy as np
from langdetect.detector import Detector
from langdetect.detector_factory import PROFILES_DIRECTORY, DetectorFactory
from langdetect.lang_detect_exception import ErrorCode, LangDetectException
from langdetect.utils.lang_profile import LangProfile
from langdetect.utils.ngram import NGram

from corpusclean.config import LanguageConfig
from corpusclean.records import Reason, Record, Rejected, StageResult, map_records

__all__ = ["UNDETERMINED", "LanguageStage", "MatrixDetector", "load_matrix_factory", "normalize_language_code"]

UNDETERMINED = "und"


def normalize_language_code(code: str) -> str:
    """ISO 639-1, lower case: langdetect's ``zh-cn`` and ``zh-tw`` become ``zh``.

    >>> normalize_language_code("zh-cn")
    'zh'
    """
    return code.split("-", 1)[0].lower()


class _MatrixFactory(DetectorFactory):
    """A ``DetectorFactory`` whose ``add_profile`` keeps each n-gram's probabilities as entries of
    a matrix instead of a list of 55 floats per n-gram (3.8% of them are not 0): the same values,
    computed by the same expression, in 53 MB instead of 61."""

    def __init__(self) -> None:
        super().__init__()
        self._entries: tuple[array[int], array[int], array[float]] = (array("q"), array("q"), array("d"))

    def add_profile(self, profile: LangProfile, index: int, langsize: int) -> None:
        # langdetect's add_profile, step for step; word_lang_prob_map holds n-gram -> row
        if profile.name in self.langlist:
            raise LangDetectException(ErrorCode.DuplicateLangError, "Duplicate the same language profile.")
        self.langlist.append(profile.name)
        rows, columns, values = self._entries
        for word in profile.freq:
            row = self.word_lang_prob_map.setdefault(word, len(self.word_lang_prob_map))
            length = len(word)
            if 1 <= length <= 3:
                rows.append(row)
                columns.append(index)
                values.append(1.0 * profile.freq.get(word) / profile.n_words[length - 1])

    def take_matrix(self) -> np.ndarray:
        rows, columns, values = self._entries
        matrix = np.zeros((len(self.word_lang_prob_map), len(self.langlist)), dtype=np.float64)
        matrix[np.frombuffer(rows, dtype=np.int64), np.frombuffer(columns, dtype=np.int64)] = np.frombuffer(values)
        self._entries = (array("q"), array("q"), array("d"))
        return matrix


def load_matrix_factory(seed: int) -> tuple[DetectorFactory, np.ndarray]:
    """langdetect's shipped profiles in a factory seeded with ``seed``, and their probabilities
    as a matrix: a row per n-gram, a column per language, langdetect's values. The factory's
    ``word_lang_prob_map`` maps an n-gram to its row (a detector only asks it which n-grams it
    has and, here, their rows)."""
    factory = _MatrixFactory()
    factory.load_profile(PROFILES_DIRECTORY)
    factory.set_seed(seed)
    return factory, factory.take_matrix()


class _Normalized(dict):  # type: ignore[type-arg]
    """Code point → ``NGram.normalize`` of its character, filled on first use: a mapping for
    ``str.translate``, which then normalizes a whole text in one call. ``normalize`` is a
    function of the character alone, so its cached answer is its answer."""

    def __missing__(self, code: int) -> str:
        value = self[code] = NGram.normalize(chr(code))
        return value


_NORMALIZED = _Normalized()
#: What langdetect's ``cleaning_text`` counts as Latin: ``'A' <= ch <= 'z'`` (``[\\]^_`` too) …
_LATIN = re.compile("[A-z]")
#: … and as not Latin: every character from U+0300 on. It means to leave out the Latin Extended
#: Additional block, but compares ``unicode_block``'s number for it with the block's name, which
#: is never equal; kept as it is, since the answers must be langdetect's.
_FROM_U0300 = re.compile("[\u0300-\U0010ffff]")


class MatrixDetector(Detector):
    """langdetect's ``Detector`` with its trials over rows of the profile matrix.

    ``_detect_block`` is langdetect's (1.0.9), step for step: text cleaned and n-grams extracted
    (below), the generator re-seeded; per trial a Gaussian draw for alpha, then
    one ``choice`` among the text's n-grams per iteration, the 55 probabilities multiplied by
    ``weight + profile`` and normalized (Python's ``sum`` of them, as langdetect's, compensated
    from Python 3.12 on, then a division) after the first iteration and every fifth after it,
    until one passes ``CONV_THRESHOLD`` or ``ITERATION_LIMIT`` is reached. What is numpy's is the
    loop over the languages, and the five products between two normalizations, taken in their
    order for each language (``multiply.reduce`` down the rows): the same IEEE operation on each
    element as langdetect's loop.
    """

    def __init__(self, factory: DetectorFactory, matrix: np.ndarray) -> None:
        super().__init__(factory)
        self._matrix = matrix

    def cleaning_text(self) -> None:
        """langdetect's ``cleaning_text`` with regular expressions for its loops over the text:
        the Latin letters go when the text has more than twice as many non-Latin characters."""
        if len(_LATIN.findall(self.text)) * 2 < len(_FROM_U0300.findall(self.text)):
            self.text = _LATIN.sub("", self.text)

    def _extract_ngrams(self) -> list[str]:
        """langdetect's ``_extract_ngrams`` and its ``NGram.add_char`` in one loop over the text
        normalized in one ``translate``: the same n-grams in the same order (0.27 against 0.69
        ms on 1,000 characters)."""
        known = self.word_lang_prob_map
        result: list[str] = []
        append = result.append
        grams, capital = " ", False  # NGram's buffer and capitalword
        for ch in self.text.translate(_NORMALIZED):
            last = grams[-1]
            if last == " ":
                grams, capital = " ", False
                if ch == " ":
                    continue
            elif len(grams) >= NGram.N_GRAM:
                grams = grams[1:]
            grams += ch
            if ch.isupper():
                if last.isupper():
                    capital = True
            else:
                capital = False
            if capital:
                continue
            if ch != " " and ch in known:  # the 1-gram: the character just added
                append(ch)
            if len(grams) >= 2:
                pair = grams[-2:]
                if pair in known:
                    append(pair)
                if len(grams) == 3 and grams in known:
                    append(grams)
        return result

    def _detect_block(self) -> None:
        self.cleaning_text()
        ngrams = self._extract_ngrams()
        if not ngrams:
            raise LangDetectException(ErrorCode.CantDetectError, "No features in text.")
        # a choice among the rows consumes the generator as a choice among the n-grams does
        rows = [self.word_lang_prob_map[ngram] for ngram in ngrams]
        matrix, languages = self._matrix, len(self.langlist)
        rng = self.random
        rng.seed(self.seed)
        choice = rng.choice
        threshold, limit = self.CONV_THRESHOLD, self.ITERATION_LIMIT
        block = np.empty((6, languages))  # the probabilities, then five factors
        langprob = np.zeros(languages)
        for _ in range(self.n_trial):
            prob = np.array(self._init_probability(), dtype=np.float64)
            weight = (self.alpha + rng.gauss(0.0, 1.0) * self.ALPHA_WIDTH) / self.BASE_FREQ
            prob *= weight + matrix[choice(rows)]
            prob /= sum(prob.tolist())
            i = 0
            while prob.max() <= threshold and i < limit:
                block[0] = prob
                np.add(
                    matrix[[choice(rows), choice(rows), choice(rows), choice(rows), choice(rows)]],
                    weight,
                    out=block[1:],
                )
                np.multiply.reduce(block, axis=0, out=prob)
                prob /= sum(prob.tolist())
                i += 5
            langprob += prob / self.n_trial
        self.langprob = langprob.tolist()


class LanguageStage:
    """Detects the language of each record; optionally rejects those not allowed."""

    name = "language"

    def __init__(self, config: LanguageConfig) -> None:
        self.config = config
        self.allowed = frozenset(normalize_language_code(c) for c in config.languages)
        self._profiles: tuple[DetectorFactory, np.ndarray] | None = None

    def _detector(self) -> MatrixDetector:
        if self._profiles is None:
            self._profiles = load_matrix_factory(self.config.seed)
        return MatrixDetector(*self._profiles)

    def detect(self, text: str) -> tuple[str, float | None]:
        """The language code of ``text`` and its probability; ``und`` (score None) when the
        sample has fewer than ``min_letters`` letters or langdetect finds no features."""
        sample = text[: self.config.sample_chars]
        # stop at the min_letters-th letter (the first, by default) instead of counting them all
        letters = (ch for ch in sample if ch.isalpha())
        if self.config.min_letters > 0 and next(islice(letters, self.config.min_letters - 1, None), None) is None:
            return UNDETERMINED, None
        detector = self._detector()
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
