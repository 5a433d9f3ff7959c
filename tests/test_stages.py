"""Unit tests of extract, boilerplate, language, filter and dedup."""

from __future__ import annotations

from datetime import datetime, timezone

import pyarrow as pa
import pytest

from corpusclean.config import BoilerplateConfig, ExtractConfig, LanguageConfig
from corpusclean.errors import ConfigError
from corpusclean.records import Reason, Record, Rejected, Removal
from corpusclean.stages.boilerplate import BoilerplateStage, load_rules, remove_boilerplate
from corpusclean.stages.dedup import content_hash, find_exact_duplicates
from corpusclean.stages.extract import (
    ExtractStage,
    MarkupTooComplex,
    clean_title,
    fragment_text,
    fragment_to_text,
    parse_page,
    strip_wordpress_markup,
)
from corpusclean.stages.filter import LengthFilterStage
from corpusclean.stages.language import LanguageStage

PAGE = """<!DOCTYPE html><html><head><title>Ignored | Site</title>
<meta property="og:site_name" content="Example News">
<meta property="article:published_time" content="2024-03-18T09:30:00+01:00">
<link rel="canonical" href="https://news.example.com/2024/story"></head><body>
<nav><a href="/">Home</a> <a href="/world">World</a></nav>
<article><h1>Rivers rise after the storm</h1>
<p>Heavy rain swelled rivers across the region on Tuesday, forcing hundreds of families to leave their homes
as emergency crews worked through the night to shore up levees.</p>
<h2>Schools closed</h2>
<p>Officials said schools in three districts would stay closed until Thursday while engineers inspect bridges and
roads for damage caused by the floodwater.</p>
<ul><li>Route 9 is closed</li><li>Ferries are suspended</li></ul>
</article><footer>© 2024 Example News. All rights reserved.</footer></body></html>"""


def _record(**kwargs):
    base = {"doc_id": "0" * 32, "source": ".", "source_format": "html", "source_id": "x"}
    return Record(**(base | kwargs))


def test_extract_page_keeps_paragraphs_and_drops_chrome():
    stage = ExtractStage(ExtractConfig())
    result = stage.process(_record(markup=PAGE, markup_kind="page"))
    assert isinstance(result, Record)
    paragraphs = result.text.split("\n\n")
    assert any(p.startswith("Heavy rain swelled rivers") for p in paragraphs)
    assert "Schools closed" in paragraphs
    assert "- Route 9 is closed\n- Ferries are suspended" in result.text
    assert "Home" not in result.text and "All rights reserved" not in result.text
    assert result.url == "https://news.example.com/2024/story"
    assert result.site_name == "Example News"
    assert result.title == "Rivers rise after the storm"
    assert result.published_at.isoformat() == "2024-03-18T08:30:00+00:00"
    assert result.source == "news.example.com"
    assert result.markup is None


def test_extract_is_independent_of_order():
    stage = ExtractStage(ExtractConfig())
    first = stage.process(_record(markup=PAGE, markup_kind="page"))
    stage.process(_record(markup=PAGE.replace("Tuesday", "Monday"), markup_kind="page"))
    assert stage.process(_record(markup=PAGE, markup_kind="page")).text == first.text


def test_extract_empty_is_rejected():
    result = ExtractStage(ExtractConfig()).process(
        _record(markup="<html><body><script>x()</script></body></html>", markup_kind="page")
    )
    assert isinstance(result, Rejected) and result.reason is Reason.EXTRACT_EMPTY


_DEEP_TEXT = "Heavy rain swelled rivers across the region on Tuesday, forcing families to leave their homes."
_AFTER_TEXT = "Officials said schools in three districts would stay closed until Thursday while engineers inspect."


def _nested(depth: int) -> str:
    return "<div>" * depth + f"<p>{_DEEP_TEXT}</p>" + "</div>" * depth + f"<p>{_AFTER_TEXT}</p>"


@pytest.mark.parametrize("kind", ["page", "fragment"])
def test_nesting_past_libxml2s_default_of_256_levels_keeps_all_text(kind):
    # libxml2's default cap drops everything under level 256 and after it, with no error
    markup = _nested(1500)
    if kind == "page":
        markup = f"<html><head><title>T</title></head><body><article>{markup}</article></body></html>"
    result = ExtractStage(ExtractConfig()).process(_record(markup=markup, markup_kind=kind))
    assert isinstance(result, Record)
    assert _DEEP_TEXT in result.text and _AFTER_TEXT in result.text


@pytest.mark.parametrize("kind", ["page", "fragment"])
def test_nesting_past_the_parsers_limit_is_rejected_not_truncated(kind):
    # the configured limit is the parser's own (2,048), its default: the parser enforces it
    stage = ExtractStage(ExtractConfig())
    markup = _nested(2100)
    if kind == "page":
        markup = f"<html><body>{markup}</body></html>"
    result = stage.process(_record(markup=markup, markup_kind=kind))
    assert isinstance(result, Rejected) and result.reason is Reason.TOO_COMPLEX
    assert "Excessive depth" in result.detail and "2048" in result.detail
    with pytest.raises(MarkupTooComplex):
        fragment_to_text(markup)
    result = ExtractStage(ExtractConfig(enabled=False)).process(_record(markup=markup, markup_kind=kind))
    assert isinstance(result, Rejected) and result.reason is Reason.TOO_COMPLEX


@pytest.mark.parametrize("enabled", [True, False])
@pytest.mark.parametrize("kind", ["page", "fragment"])
def test_a_lone_surrogate_does_not_cut_the_document_short(kind, enabled):
    # libxml2 stops at the first lone surrogate (a JSON "\\ud83d" escape, say) and drops the rest
    # of the document with no exception; the markup is repaired and parsed again instead
    markup = f"<p>{_DEEP_TEXT}</p><p>Half an emoji \ud83d here.</p><pre>code \ud800</pre><p>{_AFTER_TEXT}</p>"
    if kind == "page":
        markup = f"<html><head><title>T</title></head><body><article>{markup}</article></body></html>"
    result = ExtractStage(ExtractConfig(enabled=enabled)).process(_record(markup=markup, markup_kind=kind))
    assert isinstance(result, Record) and _AFTER_TEXT in result.text
    assert "Half an emoji \ufffd here." in result.text and "code \ufffd" in result.text
    assert "surrogates" in result.fixes
    paired = markup.replace("\ud83d", "\ud83d\ude00").replace("\ud800", "")  # a whole emoji: nothing to fix
    result = ExtractStage(ExtractConfig(enabled=enabled)).process(_record(markup=paired, markup_kind=kind))
    assert "Half an emoji \U0001f600 here." in result.text and "surrogates" not in result.fixes


@pytest.mark.parametrize("character", ["\x07", "\x00", "\x1f", "\ufffe", "\x0b"])
def test_fragments_with_characters_a_tree_cannot_hold_are_read_whole(character):
    # lxml refuses them as element text: before, such a fragment was a stage_error row
    markup = f"<p>{_DEEP_TEXT}</p><p>bell{character}here</p><pre>pre{character}x</pre><p>{_AFTER_TEXT}</p>"
    text, fixes = fragment_text(markup)
    assert _AFTER_TEXT in text and fixes == ("control_characters",)
    assert ("bell here" in text) == (character == "\x0b") and ("bellhere" in text) == (character != "\x0b")
    assert fragment_to_text(markup) == text
    result = ExtractStage(ExtractConfig()).process(_record(markup=markup, markup_kind="fragment"))
    assert isinstance(result, Record) and "control_characters" in result.fixes


def test_parse_page_parses_as_trafilatura_does():
    declared = '<?xml version="1.0" encoding="utf-8"?><html><body><p>Caf\u00e9 au lait</p></body></html>'
    assert parse_page(declared).text_content() == "Caf\u00e9 au lait"  # a str lxml will not take: parsed as bytes
    assert parse_page("   ") is None
    assert parse_page("just some words, no markup") is None  # trafilatura's test: not HTML
    assert parse_page("<html><body><p>a\x01b</p></body></html>").text_content() == "ab"  # invalid XML characters go


def test_short_fragment_falls_back_to_its_own_structure():
    result = ExtractStage(ExtractConfig()).process(
        _record(markup="<p>One short line.</p><p>Two.</p>", markup_kind="fragment")
    )
    assert isinstance(result, Record)
    assert result.text == "One short line.\n\nTwo."
    assert fragment_to_text("<p>a<br>b</p>").split() == ["a", "b"]


def test_wordpress_markup_and_titles():
    markup = '<!-- wp:paragraph --><p>Text [caption id="a"]<img src="x.jpg"> The caption[/caption]</p><!-- /wp:paragraph -->[gallery ids="1,2"]'
    assert strip_wordpress_markup(markup) == '<p>Text <img src="x.jpg"> The caption</p>'
    assert clean_title("  A&nbsp;<b>bold</b> &#8220;title&#8221;\n ") == "A bold “title”"
    assert clean_title("<br>") is None


def test_rule_pack_on_seed_lines():
    rules = load_rules(BoilerplateConfig())
    text = "\n".join(
        [
            "Intro paragraph of the article.",
            "Also read: Emerging trends: The increasing role of AI in healthcare",
            "ALSO READ — Another story",
            "—Ashley Wang, BTW reporter",
            "The forum was held in Shanghai. [Photo/Xinhua]",
            "Source link: Thedailystar.net.",
            "Go to Forum >>0 Comment(s)",
            "相关阅读：中国人工智能",
            "(Reporting by Jane Doe; Editing by John Roe)",
        ]
    )
    kept, removed = remove_boilerplate(text, rules)
    assert kept == "Intro paragraph of the article.\nThe forum was held in Shanghai."
    assert [(r.rule, r.line) for r in removed] == [
        ("news.also_read", 2),
        ("news.also_read", 3),
        ("news.reporter_signoff", 4),
        ("news.photo_credit_inline", 5),
        ("news.source_link", 6),
        ("news.forum_comments", 7),
        ("news.zh_related", 8),
        ("news.reuters_credit", 9),
    ]
    assert removed[3].text == "[Photo/Xinhua]"


@pytest.mark.parametrize(
    "line",
    [
        "He said he would also read the report before the vote, and that his staff would read more of it.",
        "Copyright law changed in 2019 and publishers adapted.",
        "Advertising revenue fell by a third in the quarter, the company said in a statement.",
        "Share prices rose.",
        "Source: the ministry said the figures were preliminary and would be revised next month, officials added in a long statement to the press that ran to several pages and more.",
    ],
)
def test_rules_leave_article_sentences_alone(line):
    assert remove_boilerplate(line, load_rules(BoilerplateConfig())) == (line, ())


def test_user_rules_extend_override_and_disable(tmp_path):
    rules_file = tmp_path / "mine.toml"
    rules_file.write_text('[[rule]]\nid = "mine.promo"\nscope = "line"\npattern = "buy now.*"\n')
    stage = BoilerplateStage(BoilerplateConfig(rule_files=(str(rules_file),), disabled_rules=("news.also_read",)))
    result = stage.process(_record(text="Story.\nBuy now and save!\nAlso read: x"))
    assert result.text == "Story.\nAlso read: x"
    assert [r.rule for r in result.removed] == ["mine.promo"]
    with pytest.raises(ConfigError, match="unknown rule"):
        load_rules(BoilerplateConfig(disabled_rules=("nope",)))
    bad = tmp_path / "bad.toml"
    bad.write_text('[[rule]]\nid = "x"\npattern = "("\n')
    with pytest.raises(ConfigError, match="invalid pattern"):
        load_rules(BoilerplateConfig(rule_files=(str(bad),)))


def test_a_user_rule_with_ends_with_is_tried_only_on_lines_that_end_so(tmp_path):
    rules_file = tmp_path / "mine.toml"
    rules_file.write_text(
        '[[rule]]\nid = "mine.credit"\nscope = "inline"\npattern = "\\\\s*/\\\\s*wire\\\\s+service\\\\.?\\\\s*$"\n'
        'ends_with = ["Wire  Service"]\n'
    )
    (rule,) = load_rules(BoilerplateConfig(rule_packs=(), rule_files=(str(rules_file),)))
    assert rule.ends_with == ("wire service",)
    assert rule.may_match("a caption / wire \t service.  ") and not rule.may_match("wire service said / more")
    text = "A caption / Wire   Service.\nThe wire service said so."
    assert remove_boilerplate(text, (rule,)) == (
        "A caption\nThe wire service said so.",
        (Removal("mine.credit", "/ Wire   Service.", 1),),
    )


def test_language_detection():
    stage = LanguageStage(LanguageConfig())
    assert stage.detect("The quick brown fox jumps over the lazy dog near the river bank today.")[0] == "en"
    assert stage.detect("Der schnelle braune Fuchs springt über den faulen Hund am Flussufer.")[0] == "de"
    assert stage.detect("中国人工智能产业发展迅速，企业纷纷推出新的大模型产品。")[0] == "zh"
    assert stage.detect("12 34 ok")[0] != "und"  # two letters: langdetect still answers
    assert stage.detect("12 34 -- 56!") == ("und", None)
    text = "Ceci est une phrase en français pour tester la détection de la langue."
    assert LanguageStage(LanguageConfig()).detect(text) == stage.detect(text)


def test_language_min_letters_counts_letters_of_the_sample():
    english = "The committee approved the new budget for the city schools on Tuesday evening."
    assert LanguageStage(LanguageConfig()).detect("12 345 — 67") == ("und", None)  # no letter
    stage = LanguageStage(LanguageConfig(min_letters=4))
    assert stage.detect("ab 1 c 2") == ("und", None)  # 3 letters
    assert stage.detect("ab 1 cd 2")[1] is not None  # 4: langdetect decides
    assert stage.detect(english)[0] == "en"
    # the letters must be within the sample
    short_sample = LanguageStage(LanguageConfig(min_letters=4, sample_chars=6))
    assert short_sample.detect("12345 " + english) == ("und", None)
    assert LanguageStage(LanguageConfig(min_letters=0)).detect(english)[0] == "en"


def test_language_allow_list_and_disabled():
    record = _record(text="Der schnelle braune Fuchs springt über den faulen Hund am Flussufer.")
    rejected = LanguageStage(LanguageConfig(languages=("en",))).process(record)
    assert isinstance(rejected, Rejected) and rejected.reason is Reason.LANGUAGE_FILTERED
    assert "de" in rejected.detail
    assert LanguageStage(LanguageConfig(enabled=False)).process(record).language is None


def test_length_filter():
    stage = LengthFilterStage(3)
    assert stage.process(_record(text="two words")).reason is Reason.TOO_SHORT
    assert stage.process(_record(text="three words here")).text == "three words here"
    # the words are counted as str.split counts them, whitespace of any kind around them
    assert stage.process(_record(text="\u3000two\twords\n\n  ")).detail == "2 words < 3"
    assert stage.process(_record(text=" one\xa0two\u2028three ")).text == " one\xa0two\u2028three "
    assert stage.process(_record(text=" \u2003\n")).reason is Reason.EXTRACT_EMPTY
    assert LengthFilterStage(0).process(_record(text="word")).text == "word"


def test_exact_duplicates_representative_rule():
    utc = timezone.utc
    keys = pa.table(
        {
            "doc_id": ["c" * 32, "a" * 32, "b" * 32, "d" * 32, "e" * 32],
            "content_hash": [
                content_hash("Hello, World"),
                content_hash("hello world"),
                content_hash("HELLO world!"),
                None,
                content_hash("other"),
            ],
            "published_at": pa.array(
                [datetime(2020, 1, 1, tzinfo=utc), None, datetime(2021, 1, 1, tzinfo=utc), None, None],
                pa.timestamp("us", tz="UTC"),
            ),
        }
    )
    # earliest published_at wins; unknown dates come last; then smallest doc_id
    assert find_exact_duplicates(keys) == {"a" * 32: "c" * 32, "b" * 32: "c" * 32}
