"""Extract: HTML pages and fragments to main text with trafilatura, and metadata to columns.

trafilatura runs with its cross-document deduplication off, so a document's text never depends
on which documents came before it. Its output tree is turned into text here, one block per
paragraph with a blank line between blocks (trafilatura's own ``txt`` output separates
paragraphs by a single newline, which loses the paragraph structure).
"""

from __future__ import annotations

import dataclasses
import html
import re
import threading
from collections.abc import Callable, Sequence
from datetime import datetime, timezone

import ftfy
import lxml.html
import trafilatura
from lxml import etree
from trafilatura.utils import repair_faulty_html

from corpusclean.config import DecodeConfig, ExtractConfig
from corpusclean.limits import PARSER_MAX_DEPTH, TimeLimitExceeded, time_limit
from corpusclean.records import Reason, Record, Rejected, StageResult, map_records
from corpusclean.sources.wordpress import url_host
from corpusclean.stages.decode import normalize_whitespace, repair_text

__all__ = [
    "ExtractStage",
    "MarkupTooComplex",
    "check_tree_shape",
    "clean_title",
    "fragment_text",
    "fragment_to_text",
    "page_tree",
    "parse_page",
    "strip_wordpress_markup",
    "tree_to_text",
]

_GUTENBERG_COMMENT = re.compile(r"<!--\s*/?wp:[^>]*?-->", re.DOTALL)
#: Shortcodes whose whole content is dropped (media embeds: no text of the article).
_DROPPED_SHORTCODES = re.compile(
    r"\[(embed|gallery|video|audio|playlist)\b[^\]]*\](?:.*?\[/\1\])?", re.DOTALL | re.IGNORECASE
)
#: Paired shortcodes (``[caption …]text[/caption]``, unknown ones): the tags go, the text stays.
_PAIRED_SHORTCODE = re.compile(r"\[([a-zA-Z_][\w-]*)(?:\s[^\]]*)?\](.*?)\[/\1\]", re.DOTALL)
_TAG = re.compile(r"<[^>]+>")
_SPACES = re.compile(r"\s+")
#: Marks a paragraph boundary while a fragment is flattened (a private-use character; any in
#: the input are removed first, so the mark cannot be forged).
_PARAGRAPH_MARK = "\ue000"
_PARAGRAPH = re.compile(_PARAGRAPH_MARK)


class MarkupTooComplex(ValueError):
    """The parsed HTML is over a limit: libxml2 stopped building the tree at one of its resource
    limits (nesting deeper than 2,048 levels: the rest of the document is missing from the tree,
    so no text of it is trustworthy), or the tree has more elements or levels than configured."""


#: libxml2 keeps 256 levels of nesting by default and silently drops every element under the
#: 256th level, and everything after it; ``huge_tree`` raises that to 2,048
#: (``limits.PARSER_MAX_DEPTH``, ``extract.max_nesting_depth``'s default). Reaching it is an
#: error in the parser's log, checked after every parse. The other options are trafilatura's own
#: (``trafilatura.utils.HTML_PARSER``).
_PAGE_PARSER_OPTIONS = {
    "collect_ids": False,
    "default_doctype": False,
    "encoding": "utf-8",
    "remove_comments": True,
    "remove_pis": True,
    "huge_tree": True,
}
#: Parsers are per thread: the error log read after a parse is the parser's, not the call's.
_parsers = threading.local()


def _parser(kind: str) -> lxml.html.HTMLParser:
    parser = getattr(_parsers, kind, None)
    if parser is None:
        parser = (
            lxml.html.HTMLParser(**_PAGE_PARSER_OPTIONS) if kind == "page" else lxml.html.HTMLParser(huge_tree=True)
        )
        setattr(_parsers, kind, parser)
    return parser


def _parse_was_cut_short(parser: lxml.html.HTMLParser) -> bool:
    """Whether the parse that ``parser`` last ran stopped early at a character it could not
    read: a lone UTF-16 surrogate (from JSON's ``"\\ud83d"`` escapes, say) is the only one a
    ``str`` can hold, and libxml2 drops everything from it to the end of the document, with a
    FATAL error in its log and no exception. Raises :class:`MarkupTooComplex` when it stopped at
    a resource limit instead."""
    cut_short = False
    for entry in parser.error_log:
        if entry.type == etree.ErrorTypes.ERR_RESOURCE_LIMIT:
            raise MarkupTooComplex(f"the HTML parser stopped at line {entry.line}: {entry.message.strip()}")
        cut_short = cut_short or entry.type == etree.ErrorTypes.ERR_INVALID_ENCODING
    return cut_short


def _parse_in_full(
    markup: str, parse: Callable[[str], tuple[lxml.html.HtmlElement | None, bool]]
) -> tuple[lxml.html.HtmlElement | None, tuple[str, ...]]:
    """``parse(markup)``'s tree; when the parse was cut short, the tree of ``markup`` with its
    surrogates repaired (ftfy: pairs combined, lone ones U+FFFD) and the fix ``surrogates``."""
    tree, cut_short = parse(markup)
    if not cut_short:
        return tree, ()
    tree, cut_short = parse(ftfy.fixes.fix_surrogates(markup))
    if cut_short:  # a str without surrogates holds only characters the parser reads
        raise ValueError("the HTML parser stopped at a character it could not read")
    return tree, ("surrogates",)


def check_tree_shape(
    tree: lxml.html.HtmlElement, max_elements: int | None = None, max_nesting_depth: int | None = None
) -> None:
    """Raise :class:`MarkupTooComplex` when the document of ``tree`` has more than ``max_elements``
    elements, or an element more than ``max_nesting_depth`` levels deep (the root is level 1).

    Both are read from the parsed tree, as libxml2 nested what it parsed (implied ``<html>``,
    ``<body>`` and closed ``<p>`` included): one XPath count, 0.12 ms on a 160 kB page, and the
    depth test (0.46 ms) only when the limit is below the parser's own, which the parser enforces.

    >>> page = lxml.html.fromstring("<div><p>a</p></div>")  # in an implied <html><body>
    >>> check_tree_shape(page, max_elements=4, max_nesting_depth=4)
    >>> check_tree_shape(page, max_nesting_depth=3)
    Traceback (most recent call last):
    ...
    corpusclean.stages.extract.MarkupTooComplex: HTML nested more than 3 levels deep > extract.max_nesting_depth (3)
    """
    if max_elements is not None:
        elements = int(tree.xpath("count(//*)"))
        if elements > max_elements:
            raise MarkupTooComplex(f"{elements} elements > extract.max_elements ({max_elements})")
    if max_nesting_depth is not None and max_nesting_depth < PARSER_MAX_DEPTH:
        if tree.xpath("boolean(//*[count(ancestor::*) >= $levels])", levels=max_nesting_depth):
            raise MarkupTooComplex(
                f"HTML nested more than {max_nesting_depth} levels deep > extract.max_nesting_depth ({max_nesting_depth})"
            )


def parse_page(
    markup: str, max_elements: int | None = None, max_nesting_depth: int | None = None
) -> lxml.html.HtmlElement | None:
    """A page's tree, parsed as ``trafilatura.load_html`` parses a decoded page (same repairs,
    same parser options, the same None for text that is not HTML), with libxml2's nesting limit
    raised from 256 to 2,048 levels, and the whole page parsed when it holds lone surrogates
    (replaced by U+FFFD), where libxml2 would stop at the first.

    Raises :class:`MarkupTooComplex` when the parser stopped at a resource limit, instead of
    returning the tree without the part it could not hold, or when the tree is over the limits
    given (:func:`check_tree_shape`).
    """
    return page_tree(markup, max_elements, max_nesting_depth)[0]


def page_tree(
    markup: str, max_elements: int | None = None, max_nesting_depth: int | None = None
) -> tuple[lxml.html.HtmlElement | None, tuple[str, ...]]:
    """:func:`parse_page`'s tree and the fixes made to the markup to parse all of it."""
    beginning = markup[:50].lower()
    tree, fixes = _parse_in_full(repair_faulty_html(markup, beginning), _parse_page_once)
    if tree is None or ("html" not in beginning and len(tree) < 2):  # trafilatura's test of text that is not HTML
        return None, fixes
    check_tree_shape(tree, max_elements, max_nesting_depth)
    return tree, fixes


def _parse_page_once(markup: str) -> tuple[lxml.html.HtmlElement | None, bool]:
    parser = _parser("page")
    tree = None
    try:
        tree = lxml.html.fromstring(markup, parser=parser)
    except ValueError:  # a str with an encoding declaration: lxml wants bytes
        pass
    except etree.ParserError:  # nothing but whitespace or comments
        return None, False
    if tree is None or len(tree) < 1:
        try:
            tree = lxml.html.fromstring(markup.encode("utf-8", "surrogatepass"), parser=parser)
        except (ValueError, etree.ParserError):
            return None, False
    return tree, _parse_was_cut_short(parser)  # the log of the parse that made the tree


def strip_wordpress_markup(markup: str) -> str:
    """Remove Gutenberg block comments and shortcodes from WordPress content, keeping the text
    inside paired shortcodes such as ``[caption]``.

    >>> strip_wordpress_markup('<!-- wp:paragraph --><p>Hi [caption id="1"]A cat[/caption]</p>[embed]x[/embed]')
    '<p>Hi A cat</p>'
    """
    markup = _GUTENBERG_COMMENT.sub("", markup)
    markup = _DROPPED_SHORTCODES.sub("", markup)
    previous = None
    while previous != markup:  # nested shortcodes: strip from the inside out
        previous = markup
        markup = _PAIRED_SHORTCODE.sub(r"\2", markup)
    return markup


def clean_title(title: str | None) -> str | None:
    """Tags stripped, entities decoded, whitespace collapsed; None when nothing is left.

    >>> clean_title("China&#8217;s <em>AI</em>\\n industry")
    'China’s AI industry'
    """
    if title is None:
        return None
    text = html.unescape(_TAG.sub("", title))
    text = _SPACES.sub(" ", text).strip()
    return text or None


def _inline_text(element: etree._Element, keep_whitespace: bool = False) -> str:
    """Text of a block. Source whitespace (newlines included) is a space, as a browser shows
    it; only ``<lb/>`` is a line break. ``keep_whitespace`` keeps it as is (code blocks)."""
    parts: list[str] = []

    def add(text: str | None) -> None:
        if text:
            parts.append(text if keep_whitespace else _SPACES.sub(" ", text))

    def walk(node: etree._Element) -> None:
        if node.tag == "lb":
            parts.append("\n")
        else:
            add(node.text)
        for child in node:
            walk(child)
            add(child.tail)

    walk(element)
    return "".join(parts)


_HAS_CONTENT = re.compile(r"\w")


def tree_to_text(body: etree._Element) -> str:
    """trafilatura's output tree to text: a blank line between blocks, list items as ``- item``
    lines, table rows as ``cell | cell`` lines. Lines of punctuation only (a dash after a
    dateline, a bullet) carry no text and are left out, except in code blocks."""
    blocks: list[str] = []
    if body.text and _HAS_CONTENT.search(body.text):  # text outside any block is still text
        blocks.append(_SPACES.sub(" ", body.text).strip())
    for block in body:
        if block.tag == "list":
            items = [_inline_text(item).strip() for item in block.iter("item")]
            text = "\n".join(f"- {item}" for item in items if _HAS_CONTENT.search(item))
        elif block.tag == "table":
            rows = []
            for row in block.iter("row"):
                cells = [_inline_text(cell).strip() for cell in row.iter("cell")]
                if any(_HAS_CONTENT.search(cell) for cell in cells):
                    rows.append(" | ".join(cells))
            text = "\n".join(rows)
        elif block.tag == "code":
            text = _inline_text(block, keep_whitespace=True)
        else:
            lines = (line.strip() for line in _inline_text(block).split("\n"))
            text = "\n".join(line for line in lines if _HAS_CONTENT.search(line))
        if text.strip():
            blocks.append(text.strip("\n"))
        if block.tail and _HAS_CONTENT.search(block.tail):
            blocks.append(_SPACES.sub(" ", block.tail).strip())
    return "\n\n".join(blocks)


_BLOCK_TAGS = {
    "p",
    "div",
    "section",
    "article",
    "header",
    "footer",
    "blockquote",
    "pre",
    "li",
    "ul",
    "ol",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "table",
    "tr",
    "figure",
    "figcaption",
    "dd",
    "dt",
}


def fragment_to_text(markup: str, max_elements: int | None = None, max_nesting_depth: int | None = None) -> str:
    """Text of an HTML fragment from its own structure: block elements become paragraphs
    separated by a blank line, ``<br>`` a line break, list items ``- item`` lines, table rows
    ``cell | cell`` lines; source whitespace is a space (as a browser shows it), except in
    ``<pre>``. Scripts, styles, embeds and forms are dropped, and so are control characters
    (other than whitespace) and U+FFFE/U+FFFF, which a tree cannot hold as text; lone
    surrogates become U+FFFD. Raises :class:`MarkupTooComplex` for a fragment nested past
    libxml2's limit (2,048 levels) or over the limits given (:func:`check_tree_shape`).

    This is how WordPress ``content.rendered`` and other fragments are extracted: a fragment is
    already the article body, and on the wpextract site trafilatura's page heuristics dropped
    whole paragraphs after lists (token F1 0.995 against 1.000 for this, see
    ``bench/evals/wordpress.py``).

    >>> fragment_to_text("<p>One\\n two<br>three</p><ul><li>a</li><li>b</li></ul><p>End.</p>")
    'One two\\nthree\\n\\n- a\\n- b\\n\\nEnd.'
    """
    return fragment_text(markup, max_elements, max_nesting_depth)[0]


def fragment_text(
    markup: str, max_elements: int | None = None, max_nesting_depth: int | None = None
) -> tuple[str, tuple[str, ...]]:
    """:func:`fragment_to_text`'s text and the fixes made to the markup to read all of it
    (``control_characters``, ``surrogates``)."""
    fixes: tuple[str, ...] = ()
    if _NOT_XML_TEXT.search(markup):
        markup = _NOT_XML_TEXT.sub(_xml_text_replacement, markup)
        fixes = ("control_characters",)
    root, repaired = _parse_in_full(markup, _parse_fragment_once)
    if root is None:
        return "", fixes + repaired
    check_tree_shape(root, max_elements, max_nesting_depth)
    return _fragment_tree_to_text(root), fixes + repaired


#: Characters lxml refuses as element text (XML 1.0's Char production), found in fragments.
#: Vertical tab and form feed are whitespace to the text below and become spaces; the others go.
_NOT_XML_TEXT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _xml_text_replacement(match: re.Match[str]) -> str:
    return " " if match.group() in "\x0b\x0c" else ""


def _parse_fragment_once(markup: str) -> tuple[lxml.html.HtmlElement | None, bool]:
    parser = _parser("fragment")
    try:
        root = lxml.html.fragment_fromstring(markup, create_parent="div", parser=parser)
    # AssertionError: lxml's "too many bodies: []", an <html> with no body, so no text
    except (etree.ParserError, ValueError, AssertionError):
        return None, False
    return root, _parse_was_cut_short(parser)


def _fragment_tree_to_text(root: lxml.html.HtmlElement) -> str:
    for bad in root.xpath("//script|//style|//noscript|//iframe|//template|//form|//button|//svg|//object"):
        bad.drop_tree()
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        keep = element.tag == "pre" or any(a.tag == "pre" for a in element.iterancestors())
        if element.text:
            element.text = _PARAGRAPH.sub("", element.text if keep else _SPACES.sub(" ", element.text))
        if element.tail:
            element.tail = _PARAGRAPH.sub("", element.tail if keep else _SPACES.sub(" ", element.tail))
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        tag = element.tag
        if tag == "br":
            element.tail = "\n" + (element.tail or "")
        elif tag == "li":
            element.text = "\n- " + (element.text or "").lstrip()
            element.tail = "\n" + (element.tail or "")
        elif tag in ("td", "th") and element.getnext() is not None:
            element.tail = " | " + (element.tail or "")
        elif tag == "tr":
            element.tail = "\n" + (element.tail or "")
        elif tag in _BLOCK_TAGS and any(a.tag in ("li", "td", "th") for a in element.iterancestors()):
            element.tail = " " + (element.tail or "")  # a block inside an item or cell stays on its line
        elif tag in _BLOCK_TAGS:
            element.text = f"\n{_PARAGRAPH_MARK}\n" + (element.text or "")
            element.tail = f"\n{_PARAGRAPH_MARK}\n" + (element.tail or "")
    lines: list[str] = []
    for line in root.text_content().split("\n"):
        line = line.strip()
        if line == _PARAGRAPH_MARK:
            if lines and lines[-1]:
                lines.append("")  # one blank line between paragraphs, however many blocks end
        elif _HAS_CONTENT.search(line):
            lines.append(line)
    return "\n".join(lines).strip("\n")


def _parse_date(value: str | None) -> datetime | None:
    """A UTC datetime from htmldate's ``%Y-%m-%dT%H:%M:%S%z`` output (offset may be empty).

    >>> _parse_date("2024-03-18T09:30:00+0100").isoformat()
    '2024-03-18T08:30:00+00:00'
    >>> _parse_date("2024-03-18T00:00:00").isoformat()
    '2024-03-18T00:00:00+00:00'
    """
    if not value:
        return None
    for pattern in ("%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d"):
        try:
            parsed = datetime.strptime(value, pattern)
        except ValueError:
            continue
        return parsed.replace(tzinfo=timezone.utc) if parsed.tzinfo is None else parsed.astimezone(timezone.utc)
    return None


class ExtractStage:
    """Markup to main text (trafilatura), page metadata to columns, titles cleaned."""

    name = "extract"

    def __init__(self, config: ExtractConfig, decode: DecodeConfig | None = None) -> None:
        self.config = config
        self._tree_limits = (config.max_elements, config.max_nesting_depth)
        decode = decode or DecodeConfig()
        self._repair: Callable[[str], tuple[str, tuple[str, ...]]] = (
            (lambda text: repair_text(text, decode)) if decode.enabled else normalize_whitespace
        )

    def __call__(self, batch: Sequence[Record]) -> StageResult:
        return map_records(self.name, batch, self.process)

    def _extract(self, markup: str, kind: str) -> tuple[str, tuple[str, ...], dict[str, object]]:
        """``(text, fixes made to the markup to read it, metadata)``."""
        limits = self._tree_limits
        if not self.config.enabled:
            return (*fragment_text(markup, *limits), {})
        if kind == "fragment":
            return (*fragment_text(strip_wordpress_markup(markup), *limits), {})
        tree, fixes = page_tree(markup, *limits)
        if tree is None:
            return "", fixes, {}
        result = trafilatura.bare_extraction(
            tree,
            with_metadata=True,
            include_comments=self.config.include_comments,
            include_tables=self.config.include_tables,
            favor_precision=self.config.favor_precision,
            deduplicate=False,
            # %z keeps the page's UTC offset; no extensive search: it turns a "© 2024" footer into
            # 2024-01-01, a date the page never states
            date_extraction_params={"outputformat": "%Y-%m-%dT%H:%M:%S%z", "extensive_search": False},
        )
        text = tree_to_text(result.body) if result is not None and result.body is not None else ""
        metadata: dict[str, object] = {}
        if result is not None:
            metadata = {
                "title": result.title,
                "author": result.author,
                "site_name": result.sitename,
                "url": result.url,
                "published_at": _parse_date(result.date),
                "categories": tuple(result.categories or ()),
                "tags": tuple(result.tags or ()),
            }
        return text, fixes, metadata

    def _check_size(self, record: Record) -> Rejected | None:
        markup = record.markup or ""
        limit = self.config.max_markup_bytes
        if len(markup) > limit:
            detail = f"{len(markup)} characters of HTML > extract.max_markup_bytes ({limit})"
            return record.reject(self.name, Reason.TOO_LARGE, detail, text=None)
        return None

    def process(self, record: Record) -> Record | Rejected:
        if record.markup is None:
            return record
        over_limit = self._check_size(record)
        if over_limit is not None:
            return over_limit
        try:
            with time_limit(self.config.timeout_seconds):
                text, markup_fixes, metadata = self._extract(record.markup, record.markup_kind or "page")
        except TimeLimitExceeded as exc:
            return record.reject(self.name, Reason.TIMEOUT, f"extraction {exc} (extract.timeout_seconds)")
        except MarkupTooComplex as exc:
            return record.reject(self.name, Reason.TOO_COMPLEX, str(exc), text=None)
        text, fixes = self._repair(text)
        changes: dict[str, object] = {"markup": None, "markup_kind": None, "text": text}
        for key, value in metadata.items():  # values the reader set (WordPress fields) win
            if value and not getattr(record, key):
                changes[key] = value
        title = changes.get("title", record.title)
        changes["title"] = clean_title(title) if isinstance(title, str) else None
        url = changes.get("url", record.url)
        if record.source_format == "html" and isinstance(url, str) and url_host(url):
            changes["source"] = url_host(url)
        updated = dataclasses.replace(record, **changes, fixes=record.with_fixes(markup_fixes + fixes))
        if not text.strip():
            return updated.reject(self.name, Reason.EXTRACT_EMPTY, "no main text found", text=record.markup)
        return updated
