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

import lxml.html
import trafilatura
from lxml import etree
from trafilatura.utils import repair_faulty_html

from corpusclean.config import DecodeConfig, ExtractConfig
from corpusclean.limits import TimeLimitExceeded, html_shape, time_limit
from corpusclean.records import Reason, Record, Rejected, StageResult, map_records
from corpusclean.sources.wordpress import url_host
from corpusclean.stages.decode import normalize_whitespace, repair_text

__all__ = [
    "ExtractStage",
    "MarkupTooComplex",
    "clean_title",
    "fragment_to_text",
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
    """libxml2 stopped building the tree at one of its resource limits (nesting deeper than
    2,048 levels): the rest of the document is missing from the tree, so no text of it is
    trustworthy."""


#: libxml2 keeps 256 levels of nesting by default and silently drops every element under the
#: 256th level, and everything after it; ``huge_tree`` raises that to 2,048, past
#: ``extract.max_nesting_depth``'s default. Reaching it is an error in the parser's log, checked
#: after every parse. The other options are trafilatura's own (``trafilatura.utils.HTML_PARSER``).
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


def _check_resource_limits(parser: lxml.html.HTMLParser) -> None:
    for entry in parser.error_log:
        if entry.type == etree.ErrorTypes.ERR_RESOURCE_LIMIT:
            raise MarkupTooComplex(f"the HTML parser stopped at line {entry.line}: {entry.message.strip()}")


def parse_page(markup: str) -> lxml.html.HtmlElement | None:
    """A page's tree, parsed as ``trafilatura.load_html`` parses a decoded page (same repairs,
    same parser options, the same None for text that is not HTML), with libxml2's nesting limit
    raised from 256 to 2,048 levels.

    Raises :class:`MarkupTooComplex` when the parser stopped at a resource limit, instead of
    returning the tree without the part it could not hold.
    """
    beginning = markup[:50].lower()
    markup = repair_faulty_html(markup, beginning)
    parser = _parser("page")
    tree = None
    try:
        tree = lxml.html.fromstring(markup, parser=parser)
    except ValueError:  # a str with an encoding declaration: lxml wants bytes
        pass
    except etree.ParserError:  # nothing but whitespace or comments
        return None
    if tree is None or len(tree) < 1:
        try:
            tree = lxml.html.fromstring(markup.encode("utf-8", "surrogatepass"), parser=parser)
        except (ValueError, etree.ParserError):
            return None
    _check_resource_limits(parser)  # the log of the parse that made the tree
    if "html" not in beginning and len(tree) < 2:  # trafilatura's test of text that is not HTML
        return None
    return tree


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


def fragment_to_text(markup: str) -> str:
    """Text of an HTML fragment from its own structure: block elements become paragraphs
    separated by a blank line, ``<br>`` a line break, list items ``- item`` lines, table rows
    ``cell | cell`` lines; source whitespace is a space (as a browser shows it), except in
    ``<pre>``. Scripts, styles, embeds and forms are dropped. Raises :class:`MarkupTooComplex`
    for a fragment nested past libxml2's limit (2,048 levels).

    This is how WordPress ``content.rendered`` and other fragments are extracted: a fragment is
    already the article body, and on the wpextract site trafilatura's page heuristics dropped
    whole paragraphs after lists (token F1 0.995 against 1.000 for this, see
    ``bench/evals/wordpress.py``).

    >>> fragment_to_text("<p>One\\n two<br>three</p><ul><li>a</li><li>b</li></ul><p>End.</p>")
    'One two\\nthree\\n\\n- a\\n- b\\n\\nEnd.'
    """
    parser = _parser("fragment")
    try:
        root = lxml.html.fragment_fromstring(markup, create_parent="div", parser=parser)
    except (etree.ParserError, ValueError):
        return ""
    _check_resource_limits(parser)
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
        decode = decode or DecodeConfig()
        self._repair: Callable[[str], tuple[str, tuple[str, ...]]] = (
            (lambda text: repair_text(text, decode)) if decode.enabled else normalize_whitespace
        )

    def __call__(self, batch: Sequence[Record]) -> StageResult:
        return map_records(self.name, batch, self.process)

    def _extract(self, markup: str, kind: str) -> tuple[str, dict[str, object]]:
        if kind == "fragment":
            return fragment_to_text(strip_wordpress_markup(markup)), {}
        tree = parse_page(markup)
        if tree is None:
            return "", {}
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
        return text, metadata

    def _check_limits(self, record: Record) -> Rejected | None:
        markup = record.markup or ""
        config = self.config
        if len(markup) > config.max_markup_bytes:
            detail = f"{len(markup)} characters of HTML > extract.max_markup_bytes ({config.max_markup_bytes})"
            return record.reject(self.name, Reason.TOO_LARGE, detail, text=None)
        if markup.count("<") <= min(config.max_nesting_depth, config.max_elements):
            return None  # every element and every level of depth starts with a "<": under both limits
        elements, depth = html_shape(markup)
        if depth > config.max_nesting_depth or elements > config.max_elements:
            detail = (
                f"{elements} elements nested {depth} deep > extract.max_elements ({config.max_elements}) "
                f"or extract.max_nesting_depth ({config.max_nesting_depth})"
            )
            return record.reject(self.name, Reason.TOO_COMPLEX, detail, text=None)
        return None

    def process(self, record: Record) -> Record | Rejected:
        if record.markup is None:
            return record
        over_limit = self._check_limits(record)
        if over_limit is not None:
            return over_limit
        try:
            with time_limit(self.config.timeout_seconds):
                if not self.config.enabled:
                    text, metadata = fragment_to_text(record.markup), {}
                else:
                    text, metadata = self._extract(record.markup, record.markup_kind or "page")
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
        updated = dataclasses.replace(record, **changes, fixes=record.with_fixes(fixes))
        if not text.strip():
            return updated.reject(self.name, Reason.EXTRACT_EMPTY, "no main text found", text=record.markup)
        return updated
