"""The per-document hot paths made cheaper in issue 8 give exactly what their plain versions gave.

Each reference below is the implementation it replaced, kept here verbatim: ``normalize_whitespace``
(five regex passes) and ``normalize_for_hash`` (one ``regex`` fold of the whole text); the
XPath tests of the HTML tree's shape are checked against a walk of the tree. Hypothesis generates
strings from the characters each one treats specially.
"""

from __future__ import annotations

import dataclasses
import gzip
import json
import re

import pytest
import regex
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from corpusclean.config import ExtractConfig
from corpusclean.records import Reason, Record, Rejected
from corpusclean.stages.decode import normalize_whitespace
from corpusclean.stages.dedup import content_hash, normalize_for_hash
from corpusclean.stages.extract import ExtractStage, MarkupTooComplex, fragment_to_text, parse_page
from tests.conftest import requires_shared_data

SETTINGS = settings(
    max_examples=int(__import__("os").environ.get("HYPOTHESIS_EXAMPLES", "300")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)

# --- references: the implementations before issue 8 ----------------------------------------------

_REF_NONBREAKING = re.compile("[\u00a0\u1680\u2000-\u200a\u202f\u205f]")
_REF_INVISIBLE = re.compile("[\u200b\u2060\ufeff\u00ad]")
_REF_TRAILING_SPACE = re.compile(r"[ \t\f\v]+$", re.MULTILINE)
_REF_BLANK_RUNS = re.compile(r"\n{3,}")


def reference_normalize_whitespace(text: str) -> tuple[str, tuple[str, ...]]:
    fixes: list[str] = []

    def step(name: str, new: str) -> None:
        nonlocal text
        if new != text:
            if name not in fixes:
                fixes.append(name)
            text = new

    step("nonbreaking_spaces", _REF_NONBREAKING.sub(" ", text))
    step("invisible_characters", _REF_INVISIBLE.sub("", text))
    step("whitespace", _REF_TRAILING_SPACE.sub("", text))
    step("blank_lines", _REF_BLANK_RUNS.sub("\n\n", text).strip("\n"))
    step("whitespace", text.strip())
    return text, tuple(fixes)


_REF_NOT_WORD = regex.compile(r"[\W_]+")


def reference_normalize_for_hash(text: str) -> str:
    return _REF_NOT_WORD.sub("", text.casefold())


def reference_content_hash(text: str) -> str:
    import hashlib

    folded = reference_normalize_for_hash(text).encode("utf-8", "surrogatepass")
    return hashlib.blake2b(folded, digest_size=16).hexdigest()


# --- normalize_whitespace ---------------------------------------------------------------------------

#: Every character a step of normalize_whitespace looks at, and what str.strip() removes.
_WHITESPACE_CLASSES = (
    " \t\f\v\n\r"
    "\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u202f\u205f"  # no-break
    "\u200b\u2060\ufeff\u00ad"  # invisible
    "\u200c\u200d"  # joiners: kept
    "\x1c\x1d\x1e\x1f\x85\u2028\u2029\u3000"  # only str.strip() removes these (at the ends)
)
_TEXT_PIECES = st.sampled_from(
    [*_WHITESPACE_CLASSES, "word", "é", "中文", " \n", "\n\n\n", "\t\n", "  ", "\n \n", "\u00a0\n", "\u200b\n"]
)
whitespace_text = st.one_of(
    st.text(alphabet=st.sampled_from([*_WHITESPACE_CLASSES, "a", "é"])),
    st.lists(_TEXT_PIECES, max_size=60).map("".join),
    st.text(),
)


@SETTINGS
@given(whitespace_text)
def test_normalize_whitespace_equals_the_five_pass_version(text):
    assert normalize_whitespace(text) == reference_normalize_whitespace(text)


def test_normalize_whitespace_equals_the_five_pass_version_on_examples():
    cases = ["", " ", "\n", "a", "a \nb", "a\t\n", "a\f", "a\v", "\ufeff", "a\u00a0\n", "a\n\n\n", "\na", "a\n"]
    cases += [c + "x" + c for c in _WHITESPACE_CLASSES]
    for text in cases:
        assert normalize_whitespace(text) == reference_normalize_whitespace(text), repr(text)


def test_clean_text_comes_back_as_the_same_object():
    text = "Clean paragraph.\n\nAnother one, with “quotes” and é."
    assert normalize_whitespace(text) == (text, ())
    assert normalize_whitespace(text)[0] is text


# --- content_hash --------------------------------------------------------------------------------

hash_text = st.one_of(
    st.text(),
    st.text(alphabet=st.characters(max_codepoint=0x7F)),
    st.lists(
        st.sampled_from(
            ["Word", " ", "_", "’", "“", "ß", "İ", "ﬁ", "½", "\u0301", "\u200c", "＿", "\ud800", "中文", "!"]
        ),
        max_size=40,
    ).map("".join),
)


@SETTINGS
@given(hash_text)
def test_content_hash_equals_the_regex_fold(text):
    assert normalize_for_hash(text) == reference_normalize_for_hash(text)
    assert content_hash(text) == reference_content_hash(text)


def test_content_hash_equals_the_regex_fold_on_article_bodies():
    path = requires_shared_data("scrapinghub-aeb", "ground-truth.json.gz")
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        bodies = [case["articleBody"] for case in json.load(handle).values()]
    assert all(content_hash(body) == reference_content_hash(body) for body in bodies)


# --- the shape of the parsed HTML ----------------------------------------------------------------


def walked_shape(tree) -> tuple[int, int]:
    """``(elements, deepest level)`` of the document holding ``tree``, by walking it (the root
    is level 1; libxml2 can leave a second top-level element beside the first)."""
    root = tree.getroottree().getroot()
    elements = deepest = 0
    for top in (root, *root.itersiblings()):
        for element in top.iter(etree.Element):
            elements += 1
            deepest = max(deepest, 1 + sum(1 for _ in element.iterancestors()))
    return elements, deepest


_MARKUP_PIECES = st.sampled_from(
    [
        "<html>",
        "</html>",
        "<head>",
        "<body>",
        "</body>",
        "<div>",
        "</div>",
        "<DIV class='a'>",
        "<p>",
        "</P >",
        "<li>",
        "</li>",
        "<table>",
        "<td>",
        "<Br/>",
        "<img src=x />",
        "<a href='/x/'>",
        "</a>",
        "<span/>",
        "<x-y:z>",
        "<pre>",
        "< b>",
        "<b",
        "<",
        ">",
        " ",
        "\n",
        "\u00a0",
        "text",
        "<!-- <div> -->",
        "<script>if (a<b) x = '<div>';</script>",
        "<div " + "a" * 2001 + ">",
    ]
)
markup_text = st.one_of(st.lists(_MARKUP_PIECES, max_size=50).map("".join), st.text(alphabet="<>/ ap"))


def _over(markup: str, parse, elements: int, levels: int) -> bool:
    try:
        parse(markup, elements, levels)
    except MarkupTooComplex:
        return True
    return False


@SETTINGS
@given(markup_text)
def test_tree_shape_limits_equal_a_walk_of_the_tree(markup):
    tree = parse_page(markup)
    if tree is not None:
        elements, deepest = walked_shape(tree)
        assert not _over(markup, parse_page, elements, deepest)
        assert _over(markup, parse_page, elements - 1, deepest)
        assert _over(markup, parse_page, elements, deepest - 1)
    text = fragment_to_text(markup)  # never raises on markup it can parse
    assert isinstance(text, str)


@pytest.mark.parametrize("fragment", ["<html>", "<html></html>", "<html><head></head>"])
def test_a_fragment_that_is_an_html_element_with_no_body_has_no_text(fragment):
    # lxml's fragment_fromstring raises AssertionError ("too many bodies: []") on these
    assert fragment_to_text(fragment) == ""


def _page(markup: str) -> Record:
    return Record(doc_id="0" * 32, source=".", source_format="html", source_id="x", markup=markup, markup_kind="page")


def test_stage_rejects_trees_over_its_limits_as_too_complex():
    body = "<p>" + "Words of a paragraph. " * 20 + "</p>"
    nested = "<html><body><div><div><div>" + body + "</div></div></div></body></html>"  # p at level 6
    assert not isinstance(ExtractStage(ExtractConfig(max_nesting_depth=6)).process(_page(nested)), Rejected)
    rejected = ExtractStage(ExtractConfig(max_nesting_depth=5)).process(_page(nested))
    assert isinstance(rejected, Rejected) and rejected.reason is Reason.TOO_COMPLEX
    assert rejected.detail == "HTML nested more than 5 levels deep > extract.max_nesting_depth (5)"
    assert rejected.text is None
    bomb = "<html><body>" + "<span>x</span>" * 300 + body + "</body></html>"  # 303 elements
    rejected = ExtractStage(ExtractConfig(max_elements=302)).process(_page(bomb))
    assert isinstance(rejected, Rejected) and rejected.detail == "303 elements > extract.max_elements (302)"
    assert not isinstance(ExtractStage(ExtractConfig(max_elements=303)).process(_page(bomb)), Rejected)
    fragment = dataclasses.replace(_page("<div><div>" + body + "</div></div>"), markup_kind="fragment")
    # in the fragment's own <div>: the <p> is at level 4
    for config, rejected_as in (
        (ExtractConfig(max_nesting_depth=3), True),
        (ExtractConfig(max_nesting_depth=4), False),
    ):
        assert isinstance(ExtractStage(config).process(fragment), Rejected) == rejected_as
        off = ExtractConfig(enabled=False, max_nesting_depth=config.max_nesting_depth)
        assert isinstance(ExtractStage(off).process(fragment), Rejected) == rejected_as


# --- fix_with_ftfy: lines that ftfy cannot change skip it ---------------------------------------


def _reference_fix_with_ftfy(text: str, fix_mojibake: bool = True, by_line: bool = True) -> tuple[str, tuple[str, ...]]:
    """``decode.fix_with_ftfy`` before its fast paths (ASCII lines, then lines that cannot look
    like mojibake), verbatim."""
    import ftfy

    from corpusclean.stages.decode import _FTFY_FIX_NAMES, FTFY_CONFIG

    config = FTFY_CONFIG if fix_mojibake else FTFY_CONFIG._replace(fix_encoding=False)
    names: list[str] = []
    out: list[str] = []
    pos = 0
    while pos < len(text):
        textbreak = (text.find("\n", pos) + 1 or len(text)) if by_line else len(text)
        textbreak = min(textbreak, pos + config.max_decode_length)
        segment = text[pos:textbreak]
        if config.unescape_html == "auto" and "<" in segment:
            config = config._replace(unescape_html=False)
        fixed, explanation = ftfy.fix_and_explain(segment, config)
        if fixed != segment:
            for step in explanation or ():
                action, parameter = step
                if action in ("encode", "decode", "transcode"):
                    name = "mojibake"
                elif action == "normalize":
                    name = "unicode_nfc"
                else:
                    name = _FTFY_FIX_NAMES.get(parameter, parameter)
                if name not in names:
                    names.append(name)
        out.append(fixed)
        pos = textbreak
    return "".join(out), tuple(names)


_FTFY_PIECES = st.sampled_from(
    [
        "word ",
        "it's ",
        "\n",
        "\r\n",
        "\r",
        "\t",
        "&amp;",
        "&hellip;",
        "&#8217;",
        "&",
        "<b>",
        "<",
        "\x1b[31m",
        "\x00",
        "\x0c",
        "\x7f",
        "doesnÃ¢â‚¬â„¢t ",
        "cafÃ© ",
        "caf\u00e9 ",
        "cafe\u0301 ",
        "\u201cquoted\u201d ",
        "\x85",
        "\u2028",
        "\ufb01",
        "\uff21",
        "\ud83d",
        "Ã",
        "Â ",
        # non-ASCII lines: typography, other scripts, accents, with and without mojibake
        "\u2019s ",
        "\u2014",
        "\u2026",
        "\u00ab\u00bb",
        "\u00a0",
        "Привет мир ",
        "ВЂ",
        "вЂ™",
        "Ð¿Ñ€Ð¸Ð²ÐµÑ‚ ",
        "日本語 ",
        "naïve ",
        "Ã¼ber ",
        "Ã\xa0 ",
        "\u00e9\u00ab1",
        "\u00a3\u00e9",
        "\u0301",
        "\u200b",
        "\u2060",
        "\ufeff",
        "\ufffd",
        "\ue000",
        "€",
        "×²",
        "√±",
        "Ø§Ù",
    ]
)


@SETTINGS
@given(st.lists(st.one_of(_FTFY_PIECES, st.characters(max_codepoint=0x7F)), max_size=40).map("".join), st.booleans())
def test_fix_with_ftfy_gives_what_it_gave_before_the_fast_paths(text, fix_mojibake):
    from corpusclean.stages.decode import fix_with_ftfy

    for by_line in (True, False):
        assert fix_with_ftfy(text, fix_mojibake, by_line) == _reference_fix_with_ftfy(text, fix_mojibake, by_line)


@SETTINGS
@given(st.text(alphabet=st.characters(max_codepoint=0x7F), max_size=200))
def test_ftfy_leaves_the_ascii_lines_the_fast_path_skips_as_they_are(line):
    import ftfy

    from corpusclean.stages.decode import _FTFY_ASCII_WORK, FTFY_CONFIG

    if _FTFY_ASCII_WORK.search(line) is None:
        assert ftfy.fix_and_explain(line, FTFY_CONFIG)[0] == line


def _badness_alphabet() -> str:
    """Every character that ftfy's mojibake regex names, and ASCII."""
    from corpusclean.stages.decode import _badness_positions

    characters = {chr(code) for code in range(0x80)}
    for positions in _badness_positions() or ():
        for position in positions:
            characters |= position
    return "".join(sorted(characters))


_BADNESS_ALPHABET = _badness_alphabet()


def test_the_mojibake_regex_is_read_into_positions():
    from ftfy.badness import BADNESS_RE

    from corpusclean.stages.decode import _BADNESS_BITS, _badness_positions

    alternatives = _badness_positions()
    assert alternatives is not None and _BADNESS_BITS is not None
    assert len(alternatives) == BADNESS_RE.pattern.count("\n    |") + 1
    assert 0 not in _BADNESS_BITS[2]  # every alternative needs a non-ASCII character


@SETTINGS
@given(
    st.lists(st.one_of(st.text(alphabet=_BADNESS_ALPHABET, min_size=1, max_size=3), _FTFY_PIECES), max_size=30).map(
        "".join
    )
)
def test_a_line_the_mojibake_check_passes_is_not_bad(line):
    from ftfy.badness import is_bad

    from corpusclean.stages.decode import _may_look_like_mojibake

    if is_bad(line):
        assert _may_look_like_mojibake(line)


@SETTINGS
@given(
    st.lists(
        st.one_of(st.text(alphabet=_BADNESS_ALPHABET, min_size=1, max_size=3), _FTFY_PIECES, st.text(max_size=3)),
        max_size=30,
    ).map("".join)
)
def test_ftfy_leaves_the_lines_the_fast_paths_skip_as_they_are(line):
    import ftfy

    from corpusclean.stages.decode import FTFY_CONFIG, _ftfy_leaves_alone

    line = line.replace("\n", " ")
    if _ftfy_leaves_alone(line):
        for config in (FTFY_CONFIG, FTFY_CONFIG._replace(unescape_html=False)):
            assert ftfy.fix_and_explain(line, config) == (line, [])


def test_fix_with_ftfy_gives_what_it_gave_before_on_the_labelled_texts():
    """The mojibake cases, the gold bodies of the news pages and sentences in 75 languages."""
    from corpusclean.stages.decode import _ftfy_leaves_alone, fix_with_ftfy

    texts = []
    with open(requires_shared_data("ftfy-mojibake", "cases.jsonl"), encoding="utf-8") as handle:
        for line in handle:
            texts.extend(value for value in json.loads(line).values() if isinstance(value, str))
    with gzip.open(requires_shared_data("scrapinghub-aeb", "ground-truth.json.gz"), "rt", encoding="utf-8") as handle:
        texts.extend(page["articleBody"] for page in json.load(handle).values())
    with gzip.open(requires_shared_data("lingua-langid", "sentences.jsonl.gz"), "rt", encoding="utf-8") as handle:
        texts.extend(json.loads(line)["input"] for index, line in enumerate(handle) if index % 20 == 0)
    lines = [line for text in texts for line in text.splitlines(keepends=True) if not line.isascii()]
    skipped = sum(map(_ftfy_leaves_alone, lines))
    assert len(lines) > 3000 and 0.3 * len(lines) < skipped < len(lines)
    for text in texts:
        assert fix_with_ftfy(text) == _reference_fix_with_ftfy(text)


# --- passages: token counts of all paragraphs of a batch at once ---------------------------------


def _reference_passages(texts, min_words):
    """``minhash.passages`` before the batched token counts, verbatim."""
    from corpusclean.minhash import split_paragraphs, tokenize

    doc_index, paragraph_index, kept = [], [], []
    for doc, text in enumerate(texts):
        for index, paragraph in enumerate(split_paragraphs(text)):
            if len(tokenize(paragraph)) >= min_words:
                doc_index.append(doc)
                paragraph_index.append(index)
                kept.append(paragraph)
    return doc_index, paragraph_index, kept


_TOKEN_PIECES = st.sampled_from(
    ["word", "Ｆｕｌｌ", "STRASSE", "ß", "東京", "タワー", "서울", "ไทย", "2024", "_", "-", "'", "e\u0301", "\u0301",
     "\ufb01", " ", "\n", "\r\n", "\r", "\u2028", "\x0b", "\u00a0", ".", "\ud800", "😀", "ǅ"]
)  # fmt: skip
token_text = st.lists(_TOKEN_PIECES, max_size=40).map("".join)


@SETTINGS
@given(st.lists(token_text, max_size=8), st.integers(min_value=0, max_value=6), st.booleans())
def test_batched_token_counts_and_passages_equal_tokenize_one_by_one(texts, min_words, small_chunks):
    from corpusclean import minhash

    original = minhash._CHARS_PER_CHUNK
    if small_chunks:  # chunks of a few texts, and texts longer than a chunk
        minhash._CHARS_PER_CHUNK = 16
    try:
        assert minhash.token_counts(texts).tolist() == [len(minhash.tokenize(text)) for text in texts]
        found = minhash.passages(texts, min_words)
    finally:
        minhash._CHARS_PER_CHUNK = original
    assert (found.doc_index.tolist(), found.paragraph_index.tolist(), found.texts) == _reference_passages(
        texts, min_words
    )


def test_batched_passages_equal_the_one_by_one_version_on_article_bodies():
    from corpusclean import minhash

    path = requires_shared_data("scrapinghub-aeb", "ground-truth.json.gz")
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        bodies = [case["articleBody"] for case in json.load(handle).values()]
    found = minhash.passages(bodies, minhash.DEFAULT_PASSAGE_MIN_WORDS)
    expected = _reference_passages(bodies, minhash.DEFAULT_PASSAGE_MIN_WORDS)
    assert len(found.texts) > 1000
    assert (found.doc_index.tolist(), found.paragraph_index.tolist(), found.texts) == expected


# --- remove_boilerplate: rules prefiltered by the document's hints -------------------------------


def _reference_may_match(rule, lowered_line):
    """``Rule.may_match`` before ``ends_with``, verbatim."""
    return not rule.contains or any(hint in lowered_line for hint in rule.contains)


def _reference_remove_boilerplate(text, rules):
    """``boilerplate.remove_boilerplate`` before the document-level prefilter and the
    ``ends_with`` pre-check, verbatim."""
    from corpusclean.records import Removal

    line_rules = [r for r in rules if r.scope == "line"]
    inline_rules = [r for r in rules if r.scope == "inline"]
    removed = []
    kept = []
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            kept.append(line)
            continue
        lowered = line.lower()
        for inline in inline_rules:
            if not _reference_may_match(inline, lowered):
                continue
            for match in inline.pattern.finditer(line):
                if match.group(0).strip():
                    removed.append(Removal(inline.id, match.group(0).strip(), number))
            line = inline.pattern.sub("", line)
            lowered = line.lower()
        stripped = line.strip()
        rule = next(
            (
                r
                for r in line_rules
                if len(stripped) <= r.max_chars and _reference_may_match(r, lowered) and r.pattern.fullmatch(stripped)
            ),
            None,
        )
        if rule is not None:
            removed.append(Removal(rule.id, stripped, number))
        elif stripped:
            kept.append(line)
    if not removed:
        return text, ()
    return normalize_whitespace("\n".join(kept))[0], tuple(removed)


def _news_rules():
    from corpusclean.config import BoilerplateConfig
    from corpusclean.stages.boilerplate import load_rules

    return load_rules(BoilerplateConfig())


def test_boilerplate_prefilter_gives_what_every_rule_on_every_line_gave():
    from bench.evals import boilerplate
    from corpusclean.stages.boilerplate import remove_boilerplate

    requires_shared_data("scrapinghub-aeb", "ground-truth.json.gz")
    data = requires_shared_data("trafilatura-eval", "cases.jsonl").parents[1]
    documents = [document.text for document in boilerplate.build_dataset(data, seed=0).documents]
    rules = _news_rules()
    results = [remove_boilerplate(text, rules) for text in documents]
    assert sum(len(removals) for _, removals in results) > 700  # 798 removals, of every rule kind
    assert results == [_reference_remove_boilerplate(text, rules) for text in documents]


def test_boilerplate_prefilter_tries_every_rule_on_a_line_an_inline_rule_shortened(tmp_path):
    from corpusclean.config import BoilerplateConfig
    from corpusclean.stages.boilerplate import load_rules, remove_boilerplate

    # removing the credit joins "cook" and "ies" into a hint the document did not hold
    (tmp_path / "rules.toml").write_text(
        '[[rule]]\nid = "x.credit"\nscope = "inline"\npattern = "\\\\[credit\\\\]"\ncontains = ["["]\n'
        '[[rule]]\nid = "x.cookies"\nscope = "line"\npattern = "we use cook.*"\ncontains = ["cookies"]\n'
    )
    rules = load_rules(BoilerplateConfig(rule_packs=(), rule_files=(str(tmp_path / "rules.toml"),)))
    text = "Body line.\nwe use cook[credit]ies here\nEnd."
    assert remove_boilerplate(text, rules) == _reference_remove_boilerplate(text, rules)
    assert remove_boilerplate(text, rules)[0] == "Body line.\nEnd."


_BOILERPLATE_PIECES = st.sampled_from(
    ["Also read: ", "Read more", "[Photo/Xinhua]", "(AP Photo/Jane Doe)", "© 2024 Example", "share", "Facebook",
     "Twitter", " | ", "Getty Images", "John Smith/", "Advertisement", "来源：新华社", "Story text.", "\n", "\n\n",
     "comments", "(", ")", "[", "]", "Σ", "İ", "cookie", "we use cookies", "—Jane Doe, reporter",
     # captions that end with an agency credit (news.getty_credit and its ends_with)
     "Jane Doe / Getty Images", "Name/AFP via Getty Images", "Photographer: John Smith/Bloomberg", " / AP",
     "/", "Reuters", "REUTERS", "getty \t images", ".", "  ", "EPA-EFE", "Anadolu  Agency", " | Shutterstock",
     "Picture Alliance", "ap", "AP.", "happen", "Mary Major/"]
)  # fmt: skip


@SETTINGS
@given(st.lists(_BOILERPLATE_PIECES, max_size=30).map("".join))
def test_boilerplate_prefilter_equals_the_reference(text):
    from corpusclean.stages.boilerplate import remove_boilerplate

    rules = _news_rules()
    assert remove_boilerplate(text, rules) == _reference_remove_boilerplate(text, rules)
