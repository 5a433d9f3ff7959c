"""``MatrixDetector`` gives exactly what langdetect's own ``Detector`` gives: the same languages
with the same probabilities, to the last bit, from the same seed."""

from __future__ import annotations

import random

import pytest
from langdetect.detector_factory import PROFILES_DIRECTORY, DetectorFactory
from langdetect.lang_detect_exception import LangDetectException

from bench.evals.language import build_documents, load_sentences
from corpusclean.config import LanguageConfig
from corpusclean.stages.language import LanguageStage, MatrixDetector, load_matrix_factory, normalize_language_code
from tests.conftest import DATA, requires_shared_data

SEED = 0


@pytest.fixture(scope="module")
def detectors():
    plain = DetectorFactory()
    plain.load_profile(PROFILES_DIRECTORY)
    plain.set_seed(SEED)
    matrix = load_matrix_factory(SEED)
    return plain, matrix


def _probabilities(detector, text: str, prior: dict[str, float] | None = None) -> list[tuple[str, float]] | str:
    if prior is not None:
        detector.set_prior_map(prior)
    detector.append(text)
    try:
        return [(language.lang, language.prob) for language in detector.get_probabilities()]
    except LangDetectException as exc:
        return f"LangDetectException: {exc}"


def _assert_same(detectors, texts, prior=None) -> None:
    plain, (factory, matrix) = detectors
    differing = [
        text
        for text in texts
        if _probabilities(plain.create(), text, prior) != _probabilities(MatrixDetector(factory, matrix), text, prior)
    ]
    assert differing == []


def test_same_probabilities_on_sentences_of_51_languages(detectors):
    requires_shared_data("lingua-langid", "sentences.jsonl.gz")
    sentences = [case["input"] for case in load_sentences(DATA, per_language=25)]
    assert len(sentences) == 25 * 51
    _assert_same(detectors, sentences)


def test_same_probabilities_on_document_samples(detectors):
    requires_shared_data("lingua-langid", "sentences.jsonl.gz")
    documents = [text for _, text in build_documents(DATA, per_language=1)]
    # the stage's sample (1,000 characters), and whole 5 kB documents: langdetect reads up to 10,000
    _assert_same(detectors, [text[:1000] for text in documents] + documents[::5])


def test_same_probabilities_on_edge_cases_and_with_a_prior(detectors):
    rng = random.Random(1)
    noise = ["".join(rng.choice("abc дж 中文 ١٢ .,!") for _ in range(rng.randrange(1, 40))) for _ in range(50)]
    edge = ["", " ", "12345", "a", "!!", "http://example.com/x a@b.cd", "Ω", "ABC DEF GHI", "The cat sat."]
    # Latin letters dropped when other scripts are more than twice as many; Vietnamese (Latin
    # Extended Additional, which langdetect means to count as Latin and does not)
    edge += ["中文中文中文中文 with English [a]^_`", "中文 English words here", "Tiếng Việt ở đây ừ ự ữ ỳ ỹ ỵ ỷ"]
    edge += ["Ｆｕｌｌｗｉｄｔｈ ｌａｔｉｎ", "ΑΒΓ ABC Δ", "ṢṬṄ ṣṭṅ abc"]
    _assert_same(detectors, edge + noise)
    _assert_same(detectors, ["Ceci est une phrase.", "Das ist ein Satz.", "This is it."], prior={"en": 0.7, "fr": 0.3})


def test_the_stage_answers_as_plain_langdetect(detectors):
    plain, _ = detectors
    stage = LanguageStage(LanguageConfig())
    for text in ("Heavy rain swelled rivers across the region.", "Der Regen ließ die Flüsse anschwellen.", "大雨"):
        best = plain.create()
        best.append(text)
        expected = best.get_probabilities()[0]
        assert stage.detect(text) == (normalize_language_code(expected.lang), round(float(expected.prob), 6))


def test_draws_read_ahead_are_the_generators_own_and_the_fallback_gives_the_same(detectors, monkeypatch):
    from corpusclean.stages import language

    assert language._draws_match_python()  # on this Python the trials read the draws ahead
    requires_shared_data("lingua-langid", "sentences.jsonl.gz")
    sentences = [case["input"] for case in load_sentences(DATA, per_language=3)]
    documents = [text[:1000] for _, text in build_documents(DATA, per_language=1)][:20]
    _assert_same(detectors, sentences + documents)
    monkeypatch.setattr(language, "_DRAWS_MATCH_PYTHON", False)  # each draw a call of the generator
    _assert_same(detectors, sentences + documents)
