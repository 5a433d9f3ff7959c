"""Unit tests of the related-headline detector (corpusclean.stages.headlines)."""

from __future__ import annotations

import pytest

from corpusclean import clean_text
from corpusclean.stages.headlines import content_stems, is_title_like, next_overlap, related_headline_lines
from tests.conftest import SAMPLE

PROSE_1 = "It is impossible to surpass the United States in every aspect of technology, Yao said on Monday."
PROSE_2 = "During the meeting, Yao also referred to new production capacity, a term the president has used."
PROSE_3 = "The second most important factor for innovation is an open capital market, he said at the forum."

SEED_000_HEADLINES = [
    "How will China's AI stack up against ChatGPT?",
    "Overtaking on curves: How China's EV industry is hurtling to dominate the global market",
]


def _seed(prefix: str) -> str:
    return next(SAMPLE.glob(f"{prefix}_*.txt")).read_text(encoding="utf-8")


def _flagged(paragraphs: list[str], **params: object) -> list[str]:
    return [paragraphs[i] for i in related_headline_lines(paragraphs, **params)]


def test_content_stems_fold_case_stop_words_and_suffixes():
    assert content_stems("The Investments of the MARKET") == {"inves", "marke"}
    assert content_stems("2024 and 1999") == set()
    assert content_stems("上海芯片") == {"上海", "海芯", "芯片"}


def test_next_overlap_is_a_share_of_the_line_words():
    assert next_overlap("Addressing the Investment Disparity", ["Massive investments in infrastructure."]) == 1 / 3
    assert next_overlap("Overtaking on curves", [PROSE_3]) == 0.0
    assert next_overlap("the of and", [PROSE_3]) == 1.0  # no content words: never a headline


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("How will China's AI stack up against ChatGPT?", True),
        ("Losing face: 6,000 surgical masks stolen from Kobe hospital", True),
        ("Fort Worth May Dry Human Waste and Sell It as Fertilizer", True),
        ("voters pass increase for retired public education workers", False),
        ("Apple", False),
    ],
)
def test_is_title_like(line, expected):
    assert is_title_like(line) is expected


def test_a_title_between_two_prose_paragraphs_is_found():
    assert _flagged([PROSE_1, SEED_000_HEADLINES[0], PROSE_2]) == [SEED_000_HEADLINES[0]]


def test_a_heading_that_introduces_the_next_paragraph_is_kept():
    heading = "Addressing the Investment Disparity"
    after = "Yao and other leaders recognized the United States lead, largely due to its massive investments."
    assert _flagged([PROSE_1, heading, after]) == []
    # … while the same shape with no words in common is taken for a related headline
    assert _flagged([PROSE_1, "Overtaking on Curves in the Race", after]) == ["Overtaking on Curves in the Race"]


@pytest.mark.parametrize(
    "line",
    [
        "How will China's AI stack up against ChatGPT.",  # a sentence
        "Here is what the minister said in reply:",  # a lead-in
        "Say goodbye to that feeling of overwhelm you have been carrying!",  # an exclamation
        "2. Never Urged Ukraine to Investigate Joe Biden",  # a list item
        "“Governor Bevin Has Done a Wonderful Job for Kentucky”",  # a pull quote
        "Follow the Latest News on https://example.com Today",  # a link
        "What Do You Cook? Do You Have Any Favourite Dishes at Home",  # two sentences
        "Short Title",  # too short
    ],
)
def test_lines_that_are_not_headlines(line):
    assert _flagged([PROSE_1, line, PROSE_2]) == []


def test_a_candidate_needs_prose_on_both_sides():
    line = SEED_000_HEADLINES[0]
    assert _flagged([line, PROSE_1, PROSE_2]) == []  # first line: the title of the page
    assert _flagged([PROSE_1, PROSE_2, line]) == []  # last line
    assert _flagged(["Rating: 4 stars", line, PROSE_2]) == []  # inside a list or a table


def test_documents_made_of_short_title_like_lines_are_left_alone():
    questions = [f"What Did Witness Number {n} Tell the Court in Paris?" for n in "ABCD"]
    document = [PROSE_1]
    for question in questions:
        document += [question, PROSE_2]
    assert _flagged(document) == []  # four candidates: a Q&A, not related links
    assert len(_flagged(document, max_candidates=None)) == 4


def test_seed_000_related_headlines_are_found():
    raw = [line for line in _seed("000").split("\n") if line.strip()]
    assert _flagged(raw) == SEED_000_HEADLINES
    cleaned = [line for line in clean_text(_seed("000")).split("\n") if line.strip()]
    assert _flagged(cleaned) == SEED_000_HEADLINES


@pytest.mark.parametrize("prefix", ["001", "002", "003", "004"])
def test_seed_headings_are_not_taken_for_related_headlines(prefix):
    text = clean_text(_seed(prefix))
    paragraphs = [line for line in text.split("\n") if line.strip()]
    assert _flagged(paragraphs) == []
    if prefix == "001":
        assert {"OUR TAKE", "What happened", "Why it’s important"} <= set(paragraphs)
    if prefix == "003":
        assert "Addressing the Investment Disparity" in paragraphs
        raw = [line for line in _seed(prefix).split("\n") if line.strip()]
        assert _flagged(raw) == []


def test_detector_is_opt_in_in_the_boilerplate_stage():
    from corpusclean.config import BoilerplateConfig
    from corpusclean.records import Record
    from corpusclean.stages.boilerplate import HEADLINE_RULE, BoilerplateStage

    text = (SAMPLE / "000_a0e1a835e99c4b20.txt").read_text(encoding="utf-8").strip()
    record = Record(doc_id="0" * 32, source=".", source_format="text", source_id="x", text=text)
    assert BoilerplateStage(BoilerplateConfig()).process(record).text == text
    cleaned = BoilerplateStage(BoilerplateConfig(related_headlines=True)).process(record)
    assert [r.text for r in cleaned.removed if r.rule == HEADLINE_RULE] == [
        "How will China's AI stack up against ChatGPT?",
        "Overtaking on curves: How China's EV industry is hurtling to dominate the global market",
    ]
    assert "ChatGPT?" not in cleaned.text
