"""Pinned quality floor of the language stage (see bench/evals/language.py)."""

from __future__ import annotations

import pytest

from bench.evals import language
from tests.conftest import requires_shared_data

pytestmark = pytest.mark.eval


def test_language_at_least_as_good_as_plain_langdetect():
    data = requires_shared_data("lingua-langid").parent
    result = language.evaluate_sentences(data, per_language=60)
    assert result["sentences"] == 60 * 51
    assert result["corpusclean"]["correct"] >= result["langdetect"]["correct"]
    assert result["corpusclean"]["accuracy"] >= 0.975


def test_sample_length_default_is_saturated():
    data = requires_shared_data("lingua-langid").parent
    sweep = language.evaluate_sample_lengths(data, per_language=3)
    assert sweep["1000"]["accuracy"] == sweep["full"]["accuracy"] == 1.0


def test_the_stage_detector_is_langdetect_on_the_document_samples():
    data = requires_shared_data("lingua-langid").parent
    speed = language.evaluate_detector_speed(data, per_language=1, repeat=1)
    assert speed["samples"] == 51 and speed["same_probabilities"] == 51
