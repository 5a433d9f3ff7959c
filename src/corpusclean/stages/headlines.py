"""Related-article headlines inside a body: titles of *other* articles that a page shows as links
between the paragraphs of this one ("How will China's AI stack up against ChatGPT?").

A pure function of one document's paragraphs, so any stage or engine can call it. The method
(measured in ``bench/evals/boilerplate.py``):

1. **shape** — the line is short (4–20 words), is one sentence that does not end like a
   statement, an exclamation or a lead-in (``.``, ``!``, ``,``, ``;``, ``:``), is not a list
   item, a pull quote, a link or a handle, and reads like a title: a question, a kicker headline
   (``Kicker: rest``) or title case;
2. **alone between paragraphs** — it has a prose paragraph both before and after it, so lines
   inside lists, tables and Q&A runs are never candidates;
3. **does not introduce what follows** — the key signal that separates a related headline from
   a real section heading: a heading's content words come back in the paragraph after it
   ("Addressing the Investment Disparity" → "…massive investments in infrastructure"); a link to
   another article's title shares few of them (at most ``max_overlap``, 0.2: real related
   headlines are on a related topic, seed 000's second one shares "market" with the next
   paragraph);
4. **few per document** — a document with more than ``max_candidates`` (3) such lines is built
   of short title-like lines (sections, a Q&A, a product list) and none of them is reported.

Measured on the labelled set of ``bench/evals/boilerplate.py`` (seed 0, after the rule pack):
precision 0.94 (76 of 81 lines flagged are injected headlines), recall 0.32, 0.11 % of the body
lines flagged (mostly questions and headings); the set built with random seeds 1–4: precision
0.90–0.96, recall 0.32–0.41.
Not wired into the boilerplate stage: whether it runs by default is decided on these figures.

Content words are ``\\w+`` tokens, lower-cased, without stop words, cut to their first five
characters (a crude stem: *investment*/*investments*, *market*/*markets*); in scripts written
without spaces, character bigrams.
"""

from __future__ import annotations

from collections.abc import Sequence

import regex

__all__ = ["content_stems", "is_title_like", "next_overlap", "related_headline_lines"]

#: Words that carry no topic: English plus the commonest German, French and Spanish ones.
STOP_WORDS = frozenset(
    """
    a an the and or but nor if then than so as at by for from in into of on onto to up with without
    about after against among around before behind below between beyond during over under until via
    is are was were be been being am do does did done has have had having will would shall should can
    could may might must not no yes it its it's this that these those there here he she they we you i
    me my our your his her their them us him who whom whose which what when where why how all any
    each every more most other some such only own same too very just also even still yet again new
    says said say one two three first last over out off how's what's who's s t
    der die das den dem des ein eine einer eines und oder aber nicht mit von zu zum zur im in ist sind
    war auf für bei als auch wie was wer wo aus nach über unter vor
    le la les un une des et ou mais pas avec de du au aux en dans sur pour par est sont qui que
    el los las unos unas y o pero con del al en por para es son que
    """.split()
)

_WORD = regex.compile(r"\w+", regex.UNICODE)
_LETTERS = regex.compile(r"\p{L}")
_CJK = regex.compile(r"[\p{Han}\p{Hiragana}\p{Katakana}\p{Hangul}]")
_CJK_RUN = regex.compile(r"[\p{Han}\p{Hiragana}\p{Katakana}\p{Hangul}]+")
_TRAILING_CLOSERS = "\"'”’»)]》」』】 "
_OPENING_QUOTES = "\"'“‘«„‹「『"
_CLOSING_QUOTES = "\"'”’»‹」』"
_LIST_ITEM = regex.compile(r"^\s*(\d{1,3}\s*[.):]|[-–—•*·▪►●■▶✓✔]|\(?[a-z]\)\s|[qa]\s*[:.]\s)", regex.IGNORECASE)
_LINKISH = regex.compile(r"https?://|www\.|\S@\S|(^|\s)@\w|#\w", regex.IGNORECASE)
_SENTENCE_BREAK = regex.compile(r"[.!?。！？]\s+[\p{Lu}\p{Lo}]|[.!?]\s*[\"”’']\s+\p{Lu}")
_KICKER = regex.compile(r"^[^:]{2,60}:\s+\S")
_SMALL_WORDS = frozenset(
    "a an the and or but nor of on in at to for by with from as vs via per into onto over up is are be".split()
)

#: Defaults of :func:`related_headline_lines`, chosen on the labelled set of
#: ``bench/evals/boilerplate.py`` (see its module docstring for the figures).
MIN_WORDS = 4
MAX_WORDS = 20
MIN_PROSE_WORDS = 12
MAX_OVERLAP = 0.2
MAX_CANDIDATES: int | None = 3


def _words(text: str) -> list[str]:
    return _WORD.findall(text)


def _word_count(text: str) -> int:
    """Words (tokens holding a letter or digit); for scripts written without spaces, one word
    per two CJK characters."""
    words = sum(1 for token in text.split() if _WORD.search(token))
    cjk = len(_CJK.findall(text))
    if cjk > len(text) / 3:
        return max(words, cjk // 2)
    return words


def content_stems(text: str) -> set[str]:
    """The content words of ``text``, lower-cased and cut to five characters.

    >>> sorted(content_stems("Addressing the Investment Disparity"))
    ['addre', 'dispa', 'inves']
    >>> sorted(content_stems("中国AI产业"))
    ['ai', '中国', '产业']
    """
    stems: set[str] = set()
    for token in _words(text.lower()):
        if _CJK.search(token):
            # no spaces between words: character bigrams of the CJK runs, plus any Latin part
            for run in _CJK_RUN.findall(token):
                stems.update(run[i : i + 2] for i in range(max(1, len(run) - 1)))
            token = _CJK_RUN.sub(" ", token)
            stems.update(w[:5] for w in token.split() if w not in STOP_WORDS and not w.isdigit())
        elif token not in STOP_WORDS and not token.isdigit():
            stems.add(token[:5])
    return stems


def next_overlap(line: str, following: Sequence[str]) -> float:
    """Share of the content words of ``line`` that occur in the ``following`` paragraphs.

    >>> next_overlap("Addressing the Investment Disparity", ["They made massive investments."])
    0.3333333333333333
    >>> next_overlap("Some line", [])
    0.0
    """
    stems = content_stems(line)
    if not stems:
        return 1.0
    after: set[str] = set()
    for paragraph in following:
        after |= content_stems(paragraph)
    return len(stems & after) / len(stems)


def is_title_like(line: str) -> bool:
    """A question, a kicker headline (``Kicker: rest``) or title case.

    >>> is_title_like("How will China's AI stack up against ChatGPT?")
    True
    >>> is_title_like("Overtaking on curves: How China's EV industry is hurtling to dominate the global market")
    True
    >>> is_title_like("Man Shot at Dallas Gas Station Dies at Hospital")
    True
    >>> is_title_like("the company said the figures were preliminary")
    False
    """
    stripped = line.strip().rstrip(_TRAILING_CLOSERS)
    if stripped.endswith(("?", "？")):
        return True
    if _KICKER.match(line.strip()):
        return True
    words = [w for w in line.split() if _LETTERS.search(w)]
    significant = [w for w in words if w.lower().strip(_OPENING_QUOTES + _CLOSING_QUOTES) not in _SMALL_WORDS]
    if len(significant) < 2:
        return False
    capitalised = sum(1 for w in significant if (w.lstrip(_OPENING_QUOTES + "(") or w)[:1].isupper())
    return capitalised / len(significant) >= 0.75


def _is_prose(paragraph: str, min_words: int) -> bool:
    return _word_count(paragraph) >= min_words


def _shape_ok(line: str, min_words: int, max_words: int, require_title: bool) -> bool:
    stripped = line.strip()
    if not stripped or not _LETTERS.search(stripped):
        return False
    count = _word_count(stripped)
    if not min_words <= count <= max_words:
        return False
    bare = stripped.rstrip(_TRAILING_CLOSERS)
    if not bare or bare[-1] in ".,;:!。，；：！…~" or bare.endswith("..."):
        return False
    if _SENTENCE_BREAK.search(bare):
        return False  # two sentences: prose, a question and its follow-up, a caption
    if _LIST_ITEM.match(stripped) or _LINKISH.search(stripped):
        return False
    if stripped[0] in _OPENING_QUOTES and stripped[-1] in _CLOSING_QUOTES:
        return False  # a pull quote
    return not require_title or is_title_like(stripped)


def related_headline_lines(
    paragraphs: Sequence[str],
    *,
    min_words: int = MIN_WORDS,
    max_words: int = MAX_WORDS,
    min_prose_words: int = MIN_PROSE_WORDS,
    max_overlap: float | None = MAX_OVERLAP,
    require_title: bool = True,
    context: int = 1,
    max_candidates: int | None = MAX_CANDIDATES,
) -> list[int]:
    """Indexes of the paragraphs judged to be headlines of related articles.

    ``paragraphs`` are the non-empty lines of one document, in order. A line is reported when it
    has the shape of a title (``min_words``–``max_words`` words, no sentence ending, title-like
    unless ``require_title`` is false), stands alone between two prose paragraphs (at least
    ``min_prose_words`` words each), and — unless ``max_overlap`` is ``None`` — at most
    ``max_overlap`` of its content words occur in the ``context`` paragraphs after it.

    >>> body = [
    ...     "It is impossible to surpass the United States in every aspect, Yao said, adding more.",
    ...     "How will China's AI stack up against ChatGPT?",
    ...     "During the meeting, Yao also referred to new, high-quality production capacity, a term.",
    ...     "Addressing the Investment Disparity",
    ...     "Yao and other leaders recognized the lead, largely due to its massive investments.",
    ... ]
    >>> related_headline_lines(body)
    [1]
    >>> related_headline_lines(body, max_overlap=None, min_words=3)
    [1, 3]
    """
    candidates = [
        index
        for index in range(1, len(paragraphs) - 1)
        if _shape_ok(paragraphs[index], min_words, max_words, require_title)
        and _is_prose(paragraphs[index - 1], min_prose_words)
        and _is_prose(paragraphs[index + 1], min_prose_words)
    ]
    if max_candidates is not None and len(candidates) > max_candidates:
        return []  # the document is built of short title-like lines (sections, Q&A, a list)
    if max_overlap is None:
        return candidates
    return [
        index
        for index in candidates
        if next_overlap(paragraphs[index], paragraphs[index + 1 : index + 1 + context]) <= max_overlap
    ]
