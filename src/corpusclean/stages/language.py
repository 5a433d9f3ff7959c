"""Language: langdetect, seeded, on a bounded sample of the text.

langdetect samples n-grams at random; a detector made from a factory with a fixed seed
re-seeds its generator before every detection, so a text always gets the same answer, on any
worker. The factory is the stage's own (not langdetect's module-level one), loaded lazily once
per stage instance.

langdetect's own detector spends its time in Python loops: over the characters, a method call
or two each (n-gram extraction, cleaning), and in its trials over the 55 languages, one n-gram
at a time. :class:`MatrixDetector` is langdetect's detector with those loops made cheaper: the
profiles as rows of a numpy matrix, the characters normalized in one ``str.translate``, the
counts of the cleaning step by regular expressions, the n-grams found over arrays of code
points, the generator's draws read ahead with numpy's Mersenne Twister (checked once against
the running Python's ``random``; the trials call the generator themselves when it differs).
The same random draws in the same order, the same products and divisions element by element,
so the same probabilities to the last bit (tested against plain langdetect in
``tests/test_language_detector.py``), in less than half the time
(``python -m bench.evals.language``).
"""

from __future__ import annotations

import dataclasses
import math
import random
import re
import threading
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

    def gram_table(self) -> tuple[tuple[np.ndarray, np.ndarray], ...]:
        """For n = 1, 2, 3: the known n-grams as sorted integer codes (the code points of their
        characters, 21 bits each, first character highest) and their rows, built once."""
        table = getattr(self, "_gram_table", None)
        if table is None:
            by_length: list[list[tuple[int, int]]] = [[], [], []]
            for gram, row in self.word_lang_prob_map.items():
                if 1 <= len(gram) <= NGram.N_GRAM:
                    code = 0
                    for ch in gram:
                        code = (code << 21) | ord(ch)
                    by_length[len(gram) - 1].append((code, row))
            table = tuple(
                (
                    np.array([code for code, _ in pairs], dtype=np.int64),
                    np.array([row for _, row in pairs], dtype=np.int64),
                )
                for pairs in map(sorted, by_length)
            )
            self._gram_table = table
        return table

    def take_matrix(self) -> np.ndarray:
        rows, columns, values = self._entries
        matrix = np.zeros((len(self.word_lang_prob_map), len(self.langlist)), dtype=np.float64)
        matrix[np.frombuffer(rows, dtype=np.int64), np.frombuffer(columns, dtype=np.int64)] = np.frombuffer(values)
        self._entries = (array("q"), array("q"), array("d"))
        return matrix


def load_matrix_factory(seed: int) -> tuple[_MatrixFactory, np.ndarray]:
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
_SPACE_RUNS = re.compile(" {2,}")


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

    def __init__(self, factory: _MatrixFactory, matrix: np.ndarray) -> None:
        super().__init__(factory)
        self._matrix = matrix
        self._gram_table = factory.gram_table()

    def cleaning_text(self) -> None:
        """langdetect's ``cleaning_text`` with regular expressions for its loops over the text:
        the Latin letters go when the text has more than twice as many non-Latin characters."""
        if len(_LATIN.findall(self.text)) * 2 < len(_FROM_U0300.findall(self.text)):
            self.text = _LATIN.sub("", self.text)

    def append(self, text: str) -> None:
        """langdetect's ``append``, its loop over the characters (which drops a space after a
        space) as one substitution."""
        text = self.URL_RE.sub(" ", text)
        text = self.MAIL_RE.sub(" ", text)
        text = NGram.normalize_vi(text)
        self.text += _SPACE_RUNS.sub(" ", text[: self.max_text_length])

    def _extract_rows(self) -> list[int]:
        """The profile rows of the n-grams langdetect's ``_extract_ngrams`` (with ``NGram.add_char``)
        extracts, in its order, computed over arrays of the text's code points instead of a loop
        over its characters.

        ``add_char``'s buffer holds the characters since the last space, that space included, up
        to three: with the text after a space (the buffer's start), the character at ``j`` is
        skipped when it is a space after a space, and gives no n-grams when it and the one before
        are upper case (a capitalized word); otherwise it gives its 1-gram (not a space), its
        2-gram, and its 3-gram when the buffer holds three characters (``j`` is at least two
        after the last space before it). Of those, the ones in the profiles, 1-gram first."""
        text = " " + self.text.translate(_NORMALIZED)
        points = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32).astype(np.int64)
        if len(points) < 2:
            return []
        distinct, where = np.unique(points, return_inverse=True)
        upper = np.fromiter((chr(point).isupper() for point in distinct.tolist()), dtype=bool, count=len(distinct))[
            where
        ]
        space = points == 32
        indexes = np.arange(len(points))
        last_space = np.maximum.accumulate(np.where(space, indexes, -1))  # at or before each position
        current, previous = points[1:], points[:-1]
        active = ~(space[1:] & space[:-1]) & ~(upper[1:] & upper[:-1])
        codes = (
            current,
            (previous << 21) | current,
            (np.concatenate(([0], previous[:-1])) << 42) | (previous << 21) | current,
        )
        usable = (active & ~space[1:], active, active & (indexes[1:] - last_space[:-1] >= 2))
        rows = np.full((len(current), NGram.N_GRAM), -1, dtype=np.int64)
        for n, ((known, known_rows), code, use) in enumerate(zip(self._gram_table, codes, usable, strict=True)):
            found = np.minimum(np.searchsorted(known, code), len(known) - 1)
            hit = use & (known[found] == code)
            rows[hit, n] = known_rows[found[hit]]
        flat = rows.ravel()
        return flat[flat >= 0].tolist()

    def _detect_block(self) -> None:
        self.cleaning_text()
        # a choice among the rows consumes the generator as a choice among the n-grams does
        rows = self._extract_rows()
        if not rows:
            raise LangDetectException(ErrorCode.CantDetectError, "No features in text.")
        self.random.seed(self.seed)
        trials = self._trials_read_ahead if _DRAWS_MATCH_PYTHON else self._trials_by_calls
        self.langprob = trials(rows).tolist()

    def _trials_read_ahead(self, rows: list[int]) -> np.ndarray:
        """The trials, with the generator's draws read ahead (:class:`_Draws`) and the factors of
        a chunk of iterations gathered in one indexing."""
        matrix, languages = self._matrix, len(self.langlist)
        threshold, limit = self.CONV_THRESHOLD, self.ITERATION_LIMIT
        draws = _Draws(self.random, len(rows))
        row_of = np.asarray(rows, dtype=np.int64)
        langprob = np.zeros(languages)
        for _ in range(self.n_trial):
            prob = np.array(self._init_probability(), dtype=np.float64)
            weight = (self.alpha + draws.gauss() * self.ALPHA_WIDTH) / self.BASE_FREQ
            picks = row_of[draws.choices(1 + 5 * _CHUNK)]  # the trial's first choices
            prob *= weight + matrix[picks[0]]
            values = prob.tolist()
            total = sum(values)
            prob /= total
            best = max(values) / total  # the largest quotient is the quotient of the largest
            i = 0
            blocks = np.empty((_CHUNK, 6, languages))  # the probabilities, then five factors
            while best <= threshold and i < limit:
                step = i // 5 % _CHUNK
                if step == 0:
                    if len(picks) < min(1 + i + 5 * _CHUNK, 1 + limit):
                        picks = row_of[draws.choices(min(2 * len(picks), 1 + limit))]
                    chosen = picks[1 + i : 1 + i + 5 * _CHUNK]
                    blocks = blocks[: len(chosen) // 5]
                    np.add(
                        matrix[chosen[: 5 * len(blocks)]].reshape(len(blocks), 5, languages), weight, out=blocks[:, 1:]
                    )
                block = blocks[step]
                block[0] = prob
                np.multiply.reduce(block, axis=0, out=prob)
                values = prob.tolist()
                total = sum(values)
                prob /= total
                best = max(values) / total
                i += 5
            draws.take(1 + i)
            langprob += prob / self.n_trial
        return langprob

    def _trials_by_calls(self, rows: list[int]) -> np.ndarray:
        """The trials, each draw a call of the generator."""
        matrix, languages = self._matrix, len(self.langlist)
        rng = self.random
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
        return langprob


#: Iterations of a trial whose factors are gathered at once, five per normalization (a trial
#: takes about 45 choices on a 1,000-character sample).
_CHUNK = 16
_TWO_PI = 2.0 * math.pi


_twisters = threading.local()


def _twister() -> np.random.MT19937:
    """This thread's numpy Mersenne Twister, to be set to a state (making one seeds it from the
    system's entropy, which costs more than a detection's draws)."""
    bits = getattr(_twisters, "bits", None)
    if bits is None:
        bits = _twisters.bits = np.random.MT19937(0)
    return bits


class _Draws:
    """What ``random.Random.gauss(0.0, 1.0)`` and ``choice`` of a sequence of ``n`` items return,
    read ahead from the generator's Mersenne Twister words with numpy (``MT19937`` set to the
    ``Random``'s state gives the same 32-bit words): ``choice`` takes ``getrandbits(k)``, the top
    ``k = n.bit_length()`` bits of a word, until one is below ``n``; ``random()`` takes two words
    (27 and 26 bits); ``gauss`` takes two ``random()`` every other call and keeps the second
    value, as CPython's does. Whether this matches the running Python is checked once
    (:data:`_DRAWS_MATCH_PYTHON`); if not, the trials call the generator themselves."""

    def __init__(self, rng: random.Random, n: int) -> None:
        _, internal, self._gauss_next = rng.getstate()
        self._bits = _twister()
        self._bits.state = {
            "bit_generator": "MT19937",
            "state": {"key": np.array(internal[:-1], dtype=np.uint32), "pos": internal[-1]},
        }
        self._words = np.empty(0, dtype=np.uint64)
        self._n, self._shift = n, np.uint64(32 - n.bit_length())
        self._taken = np.empty(0, dtype=np.int64)  # word index of each choice offered

    def _have(self, count: int) -> None:
        if len(self._words) < count:
            more = self._bits.random_raw(max(count - len(self._words), 1024))
            self._words = np.concatenate((self._words, more))

    def _random(self) -> float:
        self._have(2)
        high, low = int(self._words[0]) >> 5, int(self._words[1]) >> 6
        self._words = self._words[2:]
        return (high * 67108864.0 + low) * (1.0 / 9007199254740992.0)

    def gauss(self) -> float:
        value, self._gauss_next = self._gauss_next, None
        if value is None:
            x2pi = self._random() * _TWO_PI
            g2rad = math.sqrt(-2.0 * math.log(1.0 - self._random()))
            value = math.cos(x2pi) * g2rad
            self._gauss_next = math.sin(x2pi) * g2rad
        return 0.0 + value * 1.0

    def choices(self, count: int) -> np.ndarray:
        """The indexes the next ``count`` choices return, none of them taken yet."""
        wanted = 2 * count
        while True:
            self._have(wanted)
            candidates = self._words >> self._shift
            offered = np.flatnonzero(candidates < self._n)
            if len(offered) >= count:
                self._taken = offered[:count]
                return candidates[self._taken].astype(np.int64)
            wanted *= 2

    def take(self, count: int) -> None:
        """The first ``count`` choices of the last :meth:`choices` were made."""
        self._words = self._words[self._taken[count - 1] + 1 :]


def _draws_match_python() -> bool:
    """Whether :class:`_Draws` gives what the running Python's ``random.Random`` gives, on mixed
    sequences of ``gauss`` and ``choice`` calls for a few seeds and sizes."""
    for seed, n in ((0, 1), (1, 2), (2, 3), (3, 1000), (4, 1024), (5, 1025), (6, 54321)):
        rng = random.Random(seed)
        expected = []
        for count in (1, 7, 300, 2):
            expected.append(rng.gauss(0.0, 1.0))
            expected.extend(rng.choice(range(n)) for _ in range(count))
        rng.seed(seed)
        draws = _Draws(rng, n)
        found: list[float | int] = []
        for count in (1, 7, 300, 2):
            found.append(draws.gauss())
            found.extend(draws.choices(count + 5)[:count].tolist())
            draws.take(count)
        if found != expected:
            return False
    return True


_DRAWS_MATCH_PYTHON = _draws_match_python()


class LanguageStage:
    """Detects the language of each record; optionally rejects those not allowed."""

    name = "language"

    def __init__(self, config: LanguageConfig) -> None:
        self.config = config
        self.allowed = frozenset(normalize_language_code(c) for c in config.languages)
        self._profiles: tuple[_MatrixFactory, np.ndarray] | None = None

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
