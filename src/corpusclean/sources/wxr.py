"""WordPress WXR exports: a streaming parser, WordPress's ``wpautop``, and the records reader.

:func:`parse_wxr` reads an export with ``lxml.etree.iterparse`` and hands out its ``<item>``\\ s
one at a time, clearing each from the tree once read, so a 1 GB export never sits in memory. The
values it returns have the shape of the WordPress importer's parser (``WXR_Parser::parse``):
``version``, ``base_url``, ``base_blog_url``, ``authors`` (keyed by login), ``categories``,
``tags``, ``terms`` (each with its ``termmeta``) and ``posts`` (one per ``<item>``, any post type,
in file order). Text values are exact: backslashes are data, invisible characters are kept; only
identifier-like fields (ids, logins, slugs, dates, status, type, URLs) lose surrounding ASCII
whitespace, as PHP's ``trim`` would.

Robustness:

- Every ``wp`` namespace the importer knows is accepted: ``http`` and ``https``, any ``1.x``
  version, in one document even (``namespace-edge-cases.xml``); elements of any other namespace
  that happen to use the ``wp:`` prefix are ignored. ``<wp:wp_author>`` counts as ``<wp:author>``.
- CDATA sections that contain an unescaped ``]]>`` (``crazy-cdata.xml``: the export of a value
  that itself holds CDATA) are repaired before the XML parser sees them, reading them the way the
  importer's lenient parser does: a section ends at the first ``]]>`` after which the document
  goes on as well-formed XML. Well-formed input passes through unchanged.
- Other XML errors are recovered with libxml2's recover mode (``XMLParser(recover=True)``);
  items in which an error was recovered carry it in :attr:`WxrItem.xml_errors` (libxml2 reports
  the first 100 errors of a document only). Items that a missing end tag left inside another
  element are still read. A file that ends in the middle (a truncated download) raises
  :class:`WxrSyntaxError` when the parser reaches the cut (or, past 100 errors, at the end when
  no ``</rss>`` was read), after every complete item before it was handed out.
- A document that is not WXR (no ``rss/channel/wp:wxr_version``, or one that is not ``N.N``)
  raises :class:`WxrVersionError` with the importer's message; when the XML is too broken to find
  the channel, :class:`WxrSyntaxError` with libxml2's first error.

:func:`wxr_records` turns an export into :class:`~corpusclean.records.Record`\\ s for the
pipeline; :func:`wpautop` is WordPress's paragraph formatter, ported, since ``content:encoded``
holds post content *before* WordPress adds its ``<p>`` tags.
"""

from __future__ import annotations

import bz2
import dataclasses
import email.utils
import gzip
import html
import io
import lzma
import os
import re
from collections.abc import Iterator
from datetime import datetime, timezone
from typing import IO, Any

from lxml import etree

from corpusclean.config import ReadConfig
from corpusclean.records import Reason, Record, Rejected
from corpusclean.sources.files import InputFile, doc_id_for
from corpusclean.sources.wordpress import parse_wp_date, url_host

__all__ = [
    "FORMAT",
    "WxrError",
    "WxrExport",
    "WxrIssue",
    "WxrItem",
    "WxrSyntaxError",
    "WxrVersionError",
    "content_markup",
    "has_blocks",
    "item_record",
    "load_wxr",
    "parse_wxr",
    "wpautop",
    "wxr_records",
]

FORMAT = "wordpress_wxr"

#: The messages of the WordPress importer, kept word for word.
READ_ERROR = "There was an error when reading this WXR file"
VERSION_ERROR = "This does not appear to be a WXR file, missing/invalid WXR version number"

_WXR_NS = re.compile(r"https?://wordpress\.org/export/1\.\d+/")
_EXCERPT_NS = re.compile(r"https?://wordpress\.org/export/1\.\d+/excerpt/")
_CONTENT_NS = ("http://purl.org/rss/1.0/modules/content/", "https://purl.org/rss/1.0/modules/content/")
_DC_NS = ("http://purl.org/dc/elements/1.1/", "https://purl.org/dc/elements/1.1/")
_VERSION = re.compile(r"\d+\.\d+")
#: PHP's ``trim`` characters: ASCII whitespace and NUL, never invisible Unicode characters.
_TRIM = " \t\n\r\x00\x0b"
#: libxml2 errors that mean the input stopped in the middle of the document.
_TRUNCATION = frozenset(
    {"ERR_TAG_NOT_FINISHED", "ERR_CDATA_NOT_FINISHED", "ERR_COMMENT_NOT_FINISHED", "ERR_PI_NOT_FINISHED"}
)
#: libxml2's level of an error (warnings are 1).
_ERROR_LEVEL = 2
#: At most this many issues are kept in :attr:`WxrExport.errors` (all are counted).
_MAX_ISSUES = 1000


class WxrError(ValueError):
    """The file cannot be read as a WXR export."""


class WxrSyntaxError(WxrError):
    """The XML is broken beyond recovery: the message starts with the importer's
    ``There was an error when reading this WXR file`` and names libxml2's error."""


class WxrVersionError(WxrError):
    """Not a WXR export: no ``wp:wxr_version``, or not ``N.N``."""

    def __init__(self, message: str = VERSION_ERROR) -> None:
        super().__init__(message)


@dataclasses.dataclass(frozen=True)
class WxrIssue:
    """An XML error that was recovered from (``kind`` is libxml2's type name, or
    ``"cdata_repaired"`` for a CDATA section with an unescaped ``]]>``)."""

    line: int
    message: str
    kind: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


class WxrItem(dict):  # type: ignore[type-arg]
    """One ``<item>`` as the importer's parser returns it: ``post_id``, ``post_title``,
    ``post_name``, ``post_type``, ``status``, ``guid``, ``link``, ``pubDate``, ``post_author``
    (``dc:creator``), ``post_content`` (``content:encoded``), ``post_excerpt``, ``post_date``,
    ``post_date_gmt``, ``post_modified``, ``post_modified_gmt``, ``post_parent``, ``menu_order``,
    … (``""`` when absent), ``terms`` [{domain, slug, name}], ``postmeta`` [{key, value}],
    ``comments`` [{comment_id, comment_author, comment_content, …, commentmeta}].

    :attr:`xml_errors` lists the XML errors recovered inside the item (empty for clean XML).
    libxml2 reports the first 100 errors of a document only, so in a file broken in more places
    than that, the items after the 100th error are not flagged.
    """

    xml_errors: tuple[WxrIssue, ...] = ()
    #: The line of the item's start tag (0 when libxml2 does not know it).
    line: int = 0


_POST_FIELDS = (
    "post_id",
    "post_date",
    "post_date_gmt",
    "post_modified",
    "post_modified_gmt",
    "comment_status",
    "ping_status",
    "post_name",
    "status",
    "post_parent",
    "menu_order",
    "post_type",
    "post_password",
    "is_sticky",
    "attachment_url",
)
_COMMENT_FIELDS = (
    "comment_id",
    "comment_author",
    "comment_author_email",
    "comment_author_url",
    "comment_author_IP",
    "comment_date",
    "comment_date_gmt",
    "comment_content",
    "comment_approved",
    "comment_type",
    "comment_parent",
    "comment_user_id",
)
_AUTHOR_FIELDS = (
    "author_id",
    "author_login",
    "author_email",
    "author_display_name",
    "author_first_name",
    "author_last_name",
)
#: Channel-level definitions: element → (field names in order, {element: field}).
_CATEGORY_FIELDS = {
    "term_id": "term_id",
    "category_nicename": "category_nicename",
    "category_parent": "category_parent",
    "cat_name": "cat_name",
    "category_description": "category_description",
}
_TAG_FIELDS = {
    "term_id": "term_id",
    "tag_slug": "tag_slug",
    "tag_name": "tag_name",
    "tag_description": "tag_description",
}
_TERM_FIELDS = {
    "term_id": "term_id",
    "term_taxonomy": "term_taxonomy",
    "term_slug": "slug",
    "term_parent": "term_parent",
    "term_name": "term_name",
    "term_description": "term_description",
}
#: Fields whose value is an identifier, a date or a URL: surrounding ASCII whitespace goes.
_TRIMMED = frozenset(
    {
        *_POST_FIELDS,
        "link",
        "guid",
        "pubDate",
        "post_author",
        "comment_id",
        "comment_author_email",
        "comment_author_url",
        "comment_author_IP",
        "comment_date",
        "comment_date_gmt",
        "comment_approved",
        "comment_type",
        "comment_parent",
        "comment_user_id",
        "author_id",
        "author_login",
        "author_email",
        "term_id",
        "category_nicename",
        "category_parent",
        "tag_slug",
        "term_taxonomy",
        "slug",
        "term_parent",
    }
)
#: The end events the parser needs (``{*}`` = any namespace or none); everything else stays in C.
_EVENT_TAGS = (
    "{*}item",
    "{*}author",
    "{*}wp_author",
    "{*}category",
    "{*}tag",
    "{*}term",
    "{*}wxr_version",
    "{*}base_site_url",
    "{*}base_blog_url",
    "{*}title",
    "{*}link",
)

_NS_KINDS: dict[str, str] = {}


def _ns_kind(ns: str) -> str:
    """``"wp"``, ``"excerpt"``, ``"content"``, ``"dc"``, ``""`` (no namespace) or ``"other"``."""
    kind = _NS_KINDS.get(ns)
    if kind is None:
        if not ns:
            kind = ""
        elif _WXR_NS.fullmatch(ns):
            kind = "wp"
        elif _EXCERPT_NS.fullmatch(ns):
            kind = "excerpt"
        elif ns in _CONTENT_NS:
            kind = "content"
        elif ns in _DC_NS:
            kind = "dc"
        else:
            kind = "other"
        if len(_NS_KINDS) < 10_000:  # a hostile file cannot grow the cache without bound
            _NS_KINDS[ns] = kind
    return kind


def _split(tag: Any) -> tuple[str, str]:
    """``(namespace kind, local name)`` of an element tag; comments and PIs give ``("other", "")``."""
    if not isinstance(tag, str):
        return "other", ""
    if tag[:1] == "{":
        ns, _, local = tag[1:].partition("}")
        return _ns_kind(ns), local
    return "", tag


_string_value = etree.XPath("string()")


def _text(element: etree._Element) -> str:
    """The element's text (all CDATA sections and text nodes, as one string)."""
    if len(element) == 0:
        return element.text or ""
    return str(_string_value(element))  # recovered markup inside a value: its string-value


def _value(field: str, element: etree._Element) -> str:
    text = _text(element)
    return text.strip(_TRIM) if field in _TRIMMED else text


def _meta(element: etree._Element) -> dict[str, str]:
    meta = {"key": "", "value": ""}
    for child in element:
        kind, local = _split(child.tag)
        if kind == "wp" and local == "meta_key":
            meta["key"] = _text(child)
        elif kind == "wp" and local == "meta_value":
            meta["value"] = _text(child)
    return meta


def _wp_fields(element: etree._Element, fields: dict[str, str], meta_tag: str) -> dict[str, Any]:
    """The ``wp:`` children of ``element`` named in ``fields`` (tag → key), every other field
    empty, plus the list of its ``meta_tag`` entries (``termmeta``, ``commentmeta``)."""
    record: dict[str, Any] = dict.fromkeys(fields.values(), "")
    metas: list[dict[str, str]] = []
    for child in element:
        kind, local = _split(child.tag)
        if kind != "wp":
            continue
        if local in fields:
            record[fields[local]] = _value(fields[local], child)
        elif local == meta_tag:
            metas.append(_meta(child))
    record[meta_tag] = metas
    return record


def _term_definition(element: etree._Element, fields: dict[str, str]) -> dict[str, Any]:
    return _wp_fields(element, fields, "termmeta")


def _author(element: etree._Element) -> dict[str, str]:
    author = dict.fromkeys(_AUTHOR_FIELDS, "")
    for child in element:
        kind, local = _split(child.tag)
        if kind == "wp" and local in author:
            author[local] = _value(local, child)
    return author


def _comment(element: etree._Element) -> dict[str, Any]:
    return _wp_fields(element, {name: name for name in _COMMENT_FIELDS}, "commentmeta")


def _item(element: etree._Element) -> WxrItem:
    post = WxrItem(
        post_title="",
        link="",
        pubDate="",
        guid="",
        post_author="",
        post_content="",
        post_excerpt="",
    )
    post.update(dict.fromkeys(_POST_FIELDS, ""))
    terms: list[dict[str, str]] = []
    postmeta: list[dict[str, str]] = []
    comments: list[dict[str, Any]] = []
    for child in element:
        kind, local = _split(child.tag)
        if kind == "":
            if local == "title":
                post["post_title"] = _text(child)
            elif local in ("link", "guid", "pubDate"):
                post[local] = _value(local, child)
            elif local == "category" and "nicename" in child.attrib:  # WXR 1.0 also has bare ones
                terms.append(
                    {"name": _text(child), "slug": child.get("nicename", ""), "domain": child.get("domain", "")}
                )
        elif kind == "dc" and local == "creator":
            post["post_author"] = _value("post_author", child)
        elif kind == "content" and local == "encoded":
            post["post_content"] = _text(child)
        elif kind == "excerpt" and local == "encoded":
            post["post_excerpt"] = _text(child)
        elif kind == "wp":
            if local in _POST_FIELDS:  # a repeated field: the last one wins
                post[local] = _value(local, child)
            elif local == "postmeta":
                postmeta.append(_meta(child))
            elif local == "comment":
                comments.append(_comment(child))
    post["terms"] = terms
    post["postmeta"] = postmeta
    post["comments"] = comments
    return post


def _is_channel(element: etree._Element) -> bool:
    """``element`` is the ``<channel>`` of an ``<rss>`` root."""
    if element.tag != "channel":
        return False
    rss = element.getparent()
    return rss is not None and rss.tag == "rss" and rss.getparent() is None


def _newlines(text: str | None) -> int:
    return text.count("\n") if text else 0


def _end_line(element: etree._Element) -> int:
    """The line of the element's end tag, from its start line and the newlines inside it."""
    line = (element.sourceline or 0) + _newlines(element.text)
    for child in element:
        line = max(line, _end_line(child)) + _newlines(child.tail)
    return line


# --------------------------------------------------------------------------- CDATA repair

_MARKUP = re.compile(rb"<!\[CDATA\[|<!--|<\?")
_CDATA_OPEN = b"<![CDATA["
_CDATA_CLOSE = b"]]>"
_ESCAPED_CLOSE = b"]]]]><![CDATA[>"


_BOMS = (
    (b"\x00\x00\xfe\xff", "utf-32"),
    (b"\xff\xfe\x00\x00", "utf-32"),
    (b"\xef\xbb\xbf", "utf-8"),
    (b"\xff\xfe", "utf-16"),
    (b"\xfe\xff", "utf-16"),
    (b"<\x00?\x00", "utf-16"),
    (b"\x00<\x00?", "utf-16"),
)
_XML_DECLARATION = re.compile(rb"""<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._:-]+)""")


def _declared_encoding(head: bytes) -> str:
    """The encoding of a document starting with ``head``: its BOM, else its XML declaration,
    else UTF-8 (XML's default)."""
    for bom, name in _BOMS:
        if head.startswith(bom):
            return name
    match = _XML_DECLARATION.match(head.lstrip())
    return match.group(1).decode("ascii").lower() if match else "utf-8"


class _CdataRepair:
    """A binary reader over ``raw`` that rewrites CDATA sections holding an unescaped ``]]>``.

    A CDATA section ends at the first ``]]>`` after which the document goes on as XML could:
    up to the next tag (CDATA sections in between skipped) no ``]]>`` appears in text, which
    well-formed XML never has. For well-formed input that is always the first ``]]>``, so it
    passes through unchanged; otherwise the ``]]>`` inside are escaped as ``]]]]><![CDATA[>``,
    which is how WordPress itself exports them (``crazy-cdata-escaped.xml``). Comments and
    processing instructions are skipped. Line breaks are never added or removed, so libxml2's
    line numbers stay those of the file. ``repairs`` lists what was changed.
    """

    def __init__(self, raw: IO[bytes], chunk_size: int = 1 << 16) -> None:
        self._raw = raw
        self._chunk_size = chunk_size
        self._buf = bytearray()
        self._out = bytearray()
        self._eof = False
        self._done = False
        self._line = 1  # line number of self._buf[0]
        self._scan = 0  # in a pending CDATA section: offset of the next "]]>" to consider
        self._skipped = False  # in a pending CDATA section: a "]]>" was found not to be its end
        self._tail = b""
        self._head = bytearray()  # the first bytes, until the encoding is known
        self.repairs: list[WxrIssue] = []
        #: The document's encoding, from its byte-order mark or XML declaration (lower case).
        self.encoding: str | None = None
        #: Whether ``</rss>`` was read: a file without it was cut short (libxml2 stops reporting
        #: errors after 100, so its "premature end" cannot be relied on alone).
        self.saw_rss_end = False

    def read(self, size: int | None = -1) -> bytes:
        want = None if size is None or size < 0 else size
        while not self._done and (want is None or len(self._out) < want):
            if self._eof:
                self._process(final=True)
                self._done = True
                break
            chunk = self._raw.read(self._chunk_size)
            if self.encoding is None:
                self._head += chunk
                if len(self._head) >= 256 or not chunk:
                    self.encoding = _declared_encoding(bytes(self._head))
            if not chunk:
                self._eof = True
                continue
            self._buf += chunk
            self._process(final=False)
        if want is None or want >= len(self._out):
            data = bytes(self._out)
            self._out.clear()
        else:
            data = bytes(self._out[:want])
            del self._out[:want]
        if not self.saw_rss_end and data:
            window = self._tail + data
            self.saw_rss_end = b"</rss>" in window
            self._tail = window[-5:]
        return data

    def _emit(self, start: int, end: int) -> None:
        if end > start:
            self._out += self._buf[start:end]
            self._line += self._buf.count(b"\n", start, end)

    def _process(self, final: bool) -> None:
        buf = self._buf
        pos = 0
        while True:
            match = _MARKUP.search(buf, pos)
            if match is None:
                end = len(buf) if final else max(pos, len(buf) - len(_CDATA_OPEN))  # a marker may straddle
                self._emit(pos, end)
                pos = end
                break
            start = match.start()
            marker = match.group()
            if marker != _CDATA_OPEN:
                closer = b"-->" if marker == b"<!--" else b"?>"
                close = buf.find(closer, match.end())
                if close == -1:
                    end = len(buf) if final else start
                    self._emit(pos, end)
                    pos = end
                    break
                self._emit(pos, close + len(closer))
                pos = close + len(closer)
                continue
            self._emit(pos, start)
            pos = start
            end_at = self._cdata_end(start, final)
            if end_at is None:  # undecided: wait for more input (the section stays in the buffer)
                break
            if end_at < 0:  # never closed: left as it is, for libxml2 to report
                self._emit(pos, len(buf))
                pos = len(buf)
                break
            if self._skipped:
                inner = bytes(buf[start + len(_CDATA_OPEN) : end_at])
                self.repairs.append(WxrIssue(self._line, "']]>' inside a CDATA section read as text", "cdata_repaired"))
                self._out += _CDATA_OPEN + inner.replace(_CDATA_CLOSE, _ESCAPED_CLOSE) + _CDATA_CLOSE
                self._line += inner.count(b"\n")
            else:
                self._emit(pos, end_at + len(_CDATA_CLOSE))
            pos = end_at + len(_CDATA_CLOSE)
            self._scan = 0
            self._skipped = False
        del buf[:pos]

    def _cdata_end(self, start: int, final: bool) -> int | None:
        """Offset of the ``]]>`` that ends the CDATA section opening at ``start``; None when
        more input is needed, -1 when the section is never closed."""
        buf = self._buf
        candidate = start + max(self._scan, len(_CDATA_OPEN))
        while True:
            candidate = buf.find(_CDATA_CLOSE, candidate)
            if candidate == -1:
                if final:
                    return -1
                self._scan = max(len(_CDATA_OPEN), len(buf) - start - 2)
                return None
            verdict = self._continues_as_xml(candidate + len(_CDATA_CLOSE), final)
            if verdict is None:
                self._scan = candidate - start
                return None
            if verdict:
                return candidate
            self._skipped = True
            candidate += 1

    def _continues_as_xml(self, pos: int, final: bool) -> bool | None:
        """Whether the text from ``pos`` to the next tag (skipping CDATA sections) is free of
        ``]]>``; None when the buffer ends first."""
        buf = self._buf
        while True:
            lt = buf.find(b"<", pos)
            stop = len(buf) if lt == -1 else lt
            if buf.find(_CDATA_CLOSE, pos, stop) != -1:
                return False
            if lt == -1:
                return True if final else None
            if len(buf) - lt < len(_CDATA_OPEN) and not final and _CDATA_OPEN.startswith(bytes(buf[lt:])):
                return None
            if not buf.startswith(_CDATA_OPEN, lt):
                return True
            close = buf.find(_CDATA_CLOSE, lt + len(_CDATA_OPEN))
            if close == -1:
                return True if final else None
            pos = close + len(_CDATA_CLOSE)


# --------------------------------------------------------------------------- the parser


def _open(source: Any) -> tuple[IO[bytes], bool]:
    """A binary stream for ``source`` (path, bytes, or binary file object) and whether we
    opened it (and so must close it). Paths may be gzip, bzip2 or xz compressed."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        return io.BytesIO(bytes(source)), True
    if isinstance(source, (str, os.PathLike)):
        with open(source, "rb") as probe:
            magic = probe.read(6)
        if magic.startswith(b"\x1f\x8b"):
            return gzip.open(source, "rb"), True
        if magic.startswith(b"BZh"):
            return bz2.open(source, "rb"), True
        if magic.startswith(b"\xfd7zXZ\x00"):
            return lzma.open(source, "rb"), True
        return open(source, "rb"), True  # closed by WxrExport.close
    if hasattr(source, "read"):
        return source, False
    raise TypeError(f"cannot read a WXR export from {type(source).__name__}")


class WxrExport:
    """A WXR export being read. Built by :func:`parse_wxr`, which has read the channel header
    (everything before the first ``<item>``) and checked the WXR version.

    :attr:`posts` hands out the items one at a time and can be iterated once. ``authors``,
    ``categories``, ``tags`` and ``terms`` that come after the first item in the file (unusual)
    are added as the iteration reaches them. :meth:`to_dict` reads everything into the
    importer's array shape (the whole export in memory: for tests and small files).
    """

    def __init__(self, source: Any) -> None:
        self.version: str = ""
        self.base_url: str = ""
        self.base_blog_url: str = ""
        #: ``<channel><title>`` and ``<link>``.
        self.title: str = ""
        self.link: str = ""
        #: The encoding of the file (its byte-order mark, else its XML declaration), lower case.
        self.encoding: str | None = None
        self.authors: dict[str, dict[str, str]] = {}
        self.categories: list[dict[str, Any]] = []
        self.tags: list[dict[str, Any]] = []
        self.terms: list[dict[str, Any]] = []
        #: XML errors recovered from so far, and how many there were (libxml2 reports 100 at most).
        self.errors: list[WxrIssue] = []
        self.error_count = 0
        self._stream, self._owned = _open(source)
        self._repair = _CdataRepair(self._stream)
        self._base_blog_url_seen = False
        self._version_checked = False
        self._pending_issues: list[WxrIssue] = []
        self._log_seen = 0
        self._repairs_seen = 0
        self._first: WxrItem | None = None
        self._items = self._run()
        self._posts = self._iter_posts()
        try:
            self._first = next(self._items, None)
        except BaseException:
            self.close()
            raise

    # the public, one-pass iterator of items
    @property
    def posts(self) -> Iterator[WxrItem]:
        """The items, in file order, one at a time (one pass)."""
        return self._posts

    def _iter_posts(self) -> Iterator[WxrItem]:
        try:
            if self._first is not None:
                first, self._first = self._first, None
                yield first
                yield from self._items
        finally:
            self.close()

    def close(self) -> None:
        """Close the file when :func:`parse_wxr` opened it."""
        if self._owned:
            self._stream.close()

    def __enter__(self) -> WxrExport:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def to_dict(self) -> dict[str, Any]:
        """The whole export in the importer's shape (reads all remaining items)."""
        posts = list(self.posts)
        return {
            "version": self.version,
            "base_url": self.base_url,
            "base_blog_url": self.base_blog_url,
            "authors": self.authors,
            "categories": self.categories,
            "tags": self.tags,
            "terms": self.terms,
            "posts": posts,
        }

    # parsing
    def _run(self) -> Iterator[WxrItem]:
        parser = etree.iterparse(
            self._repair,
            events=("end",),
            tag=_EVENT_TAGS,
            recover=True,
            huge_tree=True,  # post content over 10 MB (inline images) is legal
            resolve_entities=False,  # no entity expansion: no billion laughs
            load_dtd=False,
            no_network=True,
            remove_comments=True,
            remove_pis=True,
        )
        try:
            for _, element in parser:
                if self.encoding is None:
                    self.encoding = self._repair.encoding
                channel = element.getparent()
                if channel is None:
                    continue
                if not _is_channel(channel):
                    if element.tag == "item" and any(_is_channel(a) for a in element.iterancestors("channel")):
                        # an element left open (a missing </item>) swallowed this item: read it all
                        # the same (before the item that holds it), and leave an empty husk behind
                        self._check_version(parser)
                        self._note_swallowed(element)
                        swallowed = self._finish_item(_item(element), element, parser, nested=True)
                        element.clear(keep_tail=False)
                        yield swallowed
                    continue
                item = self._channel_child(element, parser)
                element.clear(keep_tail=False)
                while element.getprevious() is not None:
                    del channel[0]
                if item is not None:
                    yield item
        except etree.XMLSyntaxError as exc:  # libxml2 gave up even in recover mode
            self._collect(parser)
            raise WxrSyntaxError(f"{READ_ERROR}: {exc}") from exc
        self._collect(parser)
        self._check_version()
        truncated = [issue for issue in self._pending_issues if issue.kind in _TRUNCATION]
        if truncated:
            raise WxrSyntaxError(f"{READ_ERROR}: {truncated[0]}")
        ascii_compatible = not (self._repair.encoding or "").startswith(("utf-16", "utf-32"))
        if ascii_compatible and not self._repair.saw_rss_end:
            raise WxrSyntaxError(f"{READ_ERROR}: the file ends before </rss> (cut short?)")

    def _channel_child(self, element: etree._Element, parser: Any) -> WxrItem | None:
        kind, local = _split(element.tag)
        if kind == "" and local == "item":
            self._check_version(parser)
            return self._finish_item(_item(element), element, parser)
        if kind == "" and local in ("title", "link"):
            if not getattr(self, local):
                setattr(self, local, _text(element).strip(_TRIM))
        elif kind != "wp":
            return None
        elif local == "wxr_version":
            if not self.version:
                self.version = _text(element).strip(_TRIM)
        elif local == "base_site_url":
            self.base_url = _text(element).strip(_TRIM)
            if not self._base_blog_url_seen:
                self.base_blog_url = self.base_url
        elif local == "base_blog_url":
            self.base_blog_url = _text(element).strip(_TRIM)
            self._base_blog_url_seen = True
        elif local in ("author", "wp_author"):
            author = _author(element)
            key = author["author_login"] or author["author_email"] or author["author_id"] or str(len(self.authors))
            self.authors[key] = author
        elif local == "category":
            self.categories.append(_term_definition(element, _CATEGORY_FIELDS))
        elif local == "tag":
            self.tags.append(_term_definition(element, _TAG_FIELDS))
        elif local == "term":
            self.terms.append(_term_definition(element, _TERM_FIELDS))
        return None

    def _collect(self, parser: Any) -> None:
        """Move new libxml2 errors and CDATA repairs to the pending list (by line)."""
        new: list[WxrIssue] = []
        log = parser.error_log
        if len(log) > self._log_seen:
            new.extend(
                WxrIssue(e.line, e.message.strip(), e.type_name)
                for e in list(log)[self._log_seen :]
                # warnings are not errors (libxml2 reports a namespace name that is an IRI, not a
                # URI, at error level but as a WAR_ type: the document is well-formed all the same)
                if e.level >= _ERROR_LEVEL and not e.type_name.startswith("WAR_")
            )
            self._log_seen = len(log)
        repairs = self._repair.repairs
        if len(repairs) > self._repairs_seen:
            new.extend(repairs[self._repairs_seen :])
            self._repairs_seen = len(repairs)
        if new:
            self.error_count += len(new)
            self.errors.extend(new[: max(0, _MAX_ISSUES - len(self.errors))])
            self._pending_issues.extend(new)
            self._pending_issues.sort(key=lambda issue: issue.line)

    def _note_swallowed(self, element: etree._Element) -> None:
        """An issue on the channel child that holds a swallowed item: it is not whole either."""
        holder = element
        for ancestor in element.iterancestors():
            if _is_channel(ancestor):
                break
            holder = ancestor
        issue = WxrIssue(holder.sourceline or 0, "an <item> inside another element (a missing end tag?)", "nested_item")
        self.error_count += 1
        if len(self.errors) < _MAX_ISSUES:
            self.errors.append(issue)
        self._pending_issues.append(issue)
        self._pending_issues.sort(key=lambda pending: pending.line)

    def _check_version(self, parser: Any = None) -> None:
        if self._version_checked:
            return
        if parser is not None:
            self._collect(parser)
        if not _VERSION.fullmatch(self.version):
            broken = [issue for issue in self.errors if issue.kind != "cdata_repaired"]
            if broken and not self.version:
                raise WxrSyntaxError(f"{READ_ERROR}: {broken[0]}")
            raise WxrVersionError
        self._version_checked = True

    def _finish_item(self, item: WxrItem, element: etree._Element, parser: Any, nested: bool = False) -> WxrItem:
        item.line = element.sourceline or 0
        self._collect(parser)
        if self._pending_issues:
            first, last = element.sourceline or 0, _end_line(element)
            inside = [issue for issue in self._pending_issues if first <= issue.line <= last]
            # issues before the item belong to the channel, or (for a swallowed item) to its holder
            self._pending_issues = [
                issue for issue in self._pending_issues if issue.line > last or (nested and issue.line < first)
            ]
            truncated = [issue for issue in inside if issue.kind in _TRUNCATION]
            if truncated:  # the file ends inside this item: it is not whole
                raise WxrSyntaxError(f"{READ_ERROR}: {truncated[0]}")
            item.xml_errors = tuple(inside)
        return item


def parse_wxr(source: Any) -> WxrExport:
    """Start reading a WXR export: a path (plain, ``.gz``, ``.bz2``, ``.xz``), bytes, or a
    binary file object. Reads the channel header and checks the WXR version; the items come
    from :attr:`WxrExport.posts`, one at a time.

    Raises :class:`WxrVersionError` for a document that is not WXR and :class:`WxrSyntaxError`
    for XML that cannot be read as a channel at all; iterating ``posts`` raises
    :class:`WxrSyntaxError` where a truncated file ends.

    >>> export = parse_wxr(b'''<rss xmlns:wp="https://wordpress.org/export/1.2/"><channel>
    ... <wp:wxr_version>1.2</wp:wxr_version>
    ... <item><title>Hi</title><wp:post_id>7</wp:post_id></item></channel></rss>''')
    >>> export.version, [(p["post_id"], p["post_title"]) for p in export.posts]
    ('1.2', [('7', 'Hi')])
    """
    return WxrExport(source)


def load_wxr(source: Any) -> dict[str, Any]:
    """The whole export as the WordPress importer's parser returns it (everything in memory)."""
    with parse_wxr(source) as export:
        return export.to_dict()


# --------------------------------------------------------------------------- wpautop

_A = re.ASCII
_ALLBLOCKS = (
    r"(?:table|thead|tfoot|caption|col|colgroup|tbody|tr|td|th|div|dl|dd|dt|ul|ol|li|pre|form|map|area|"
    r"blockquote|address|style|p|h[1-6]|hr|fieldset|legend|section|article|aside|hgroup|header|footer|nav|"
    r"figure|figcaption|details|menu|summary)"
)
#: ``get_html_split_regex()``: comments, CDATA, or a tag (possessive loops unrolled; each
#: repetition starts with a character the one before cannot take, so there is no backtracking).
_HTML_SPLIT = re.compile(
    r"(<(?:(?=!--)!(?:-(?!->)[^\-]*)*(?:-->)?|(?=!\[CDATA\[)!\[CDATA\[[^\]]*(?:\](?!\]>)[^\]]*)*(?:\]\]>)?|[^>]*>?))"
)
_RE_BR_BR = re.compile(r"<br\s*/?>\s*<br\s*/?>", _A)
_RE_BLOCK_OPEN = re.compile(r"(<" + _ALLBLOCKS + r"[\s/>])", _A)
_RE_BLOCK_CLOSE = re.compile(r"(</" + _ALLBLOCKS + r">)", _A)
_RE_HR = re.compile(r"(<hr\s*?/?>)", _A)
_RE_OPTION_BEFORE = re.compile(r"\s*<option", _A)
_RE_OPTION_AFTER = re.compile(r"</option>\s*", _A)
_RE_OBJECT_OPEN = re.compile(r"(<object[^>]*>)\s*", _A)
_RE_OBJECT_CLOSE = re.compile(r"\s*</object>", _A)
_RE_PARAM = re.compile(r"\s*(</?(?:param|embed)[^>]*>)\s*", _A)
_RE_MEDIA_OPEN = re.compile(r"([<\[](?:audio|video)[^>\]]*[>\]])\s*", _A)
_RE_MEDIA_CLOSE = re.compile(r"\s*([<\[]/(?:audio|video)[>\]])", _A)
_RE_SOURCE = re.compile(r"\s*(<(?:source|track)[^>]*>)\s*", _A)
_RE_FIGCAPTION_OPEN = re.compile(r"\s*(<figcaption[^>]*>)", _A)
_RE_FIGCAPTION_CLOSE = re.compile(r"</figcaption>\s*", _A)
_RE_MANY_BREAKS = re.compile(r"\n\n+")
_RE_PARAGRAPHS = re.compile(r"\n\s*\n", _A)
_RE_EMPTY_P = re.compile(r"<p>\s*</p>", _A)
_RE_UNCLOSED_P = re.compile(r"<p>([^<]+)</(div|address|form)>")
_RE_P_AROUND_BLOCK = re.compile(r"<p>\s*(</?" + _ALLBLOCKS + r"[^>]*>)\s*</p>", _A)
_RE_P_AROUND_LI = re.compile(r"<p>(<li.+?)</p>")
_RE_P_BLOCKQUOTE = re.compile(r"<p><blockquote([^>]*)>", re.IGNORECASE)
_RE_P_BEFORE_BLOCK = re.compile(r"<p>\s*(</?" + _ALLBLOCKS + r"[^>]*>)", _A)
_RE_P_AFTER_BLOCK = re.compile(r"(</?" + _ALLBLOCKS + r"[^>]*>)\s*</p>", _A)
_RE_PRESERVE = re.compile(r"<(script|style|svg|math).*?</\1>", re.DOTALL)
_RE_NEWLINE_TO_BR = re.compile(r"(?<!<br />)\s*\n", _A)
_RE_BR_AFTER_BLOCK = re.compile(r"(</?" + _ALLBLOCKS + r"[^>]*>)\s*<br />", _A)
_RE_BR_BEFORE_BLOCK = re.compile(r"<br />(\s*</?(?:p|li|div|dl|dd|dt|th|pre|td|ul|ol)[^>]*>)", _A)
_RE_LAST_BREAK = re.compile(r"\n</p>$")


def _replace_in_html_tags(text: str, needle: str, replacement: str) -> str:
    """``wp_replace_in_html_tags``: replace ``needle`` inside tags and comments only."""
    parts = _HTML_SPLIT.split(text)
    changed = False
    for i in range(1, len(parts), 2):
        if needle in parts[i]:
            parts[i] = parts[i].replace(needle, replacement)
            changed = True
    return "".join(parts) if changed else text


def has_blocks(content: str) -> bool:
    """WordPress's ``has_blocks``: the content is block-editor markup (``<!-- wp:…``)."""
    return "<!-- wp:" in content


def wpautop(text: str, br: bool = True) -> str:
    """WordPress's ``wpautop``, ported line by line: text separated by a blank line becomes a
    ``<p>``; a single line break inside a paragraph becomes ``<br />``; block-level elements
    are not wrapped, ``<pre>`` (and with ``br`` ``<script>``, ``<style>``, ``<svg>``, ``<math>``)
    is left alone, and line breaks inside tags are kept.

    >>> wpautop("First paragraph\\nwith a break.\\n\\nSecond.")
    '<p>First paragraph<br />\\nwith a break.</p>\\n<p>Second.</p>\\n'
    >>> wpautop("<h2>Title</h2>\\nText")
    '<h2>Title</h2>\\n<p>Text</p>\\n'
    """
    if not text.strip(_TRIM):
        return ""
    pre_tags: dict[str, str] = {}
    text = text + "\n"  # to make things a little easier
    if "<pre" in text:
        parts = text.split("</pre>")
        last = parts.pop()
        text = ""
        for part in parts:
            start = part.find("<pre")
            if start == -1:  # malformed HTML
                text += part
                continue
            name = f"<pre wp-pre-tag-{len(pre_tags)}></pre>"
            pre_tags[name] = part[start:] + "</pre>"
            text += part[:start] + name
        text += last
    text = _RE_BR_BR.sub("\n\n", text)
    text = _RE_BLOCK_OPEN.sub("\n\n\\1", text)
    text = _RE_BLOCK_CLOSE.sub("\\1\n\n", text)
    text = _RE_HR.sub("\\1\n\n", text)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _replace_in_html_tags(text, "\n", " <!-- wpnl --> ")
    if "<option" in text:
        text = _RE_OPTION_BEFORE.sub("<option", text)
        text = _RE_OPTION_AFTER.sub("</option>", text)
    if "</object>" in text:
        text = _RE_OBJECT_OPEN.sub("\\1", text)
        text = _RE_OBJECT_CLOSE.sub("</object>", text)
        text = _RE_PARAM.sub("\\1", text)
    if "<source" in text or "<track" in text:
        text = _RE_MEDIA_OPEN.sub("\\1", text)
        text = _RE_MEDIA_CLOSE.sub("\\1", text)
        text = _RE_SOURCE.sub("\\1", text)
    if "<figcaption" in text:
        text = _RE_FIGCAPTION_OPEN.sub("\\1", text)
        text = _RE_FIGCAPTION_CLOSE.sub("</figcaption>", text)
    text = _RE_MANY_BREAKS.sub("\n\n", text)
    paragraphs = [p for p in _RE_PARAGRAPHS.split(text) if p]
    text = "".join("<p>" + paragraph.strip("\n") + "</p>\n" for paragraph in paragraphs)
    text = _RE_EMPTY_P.sub("", text)
    text = _RE_UNCLOSED_P.sub("<p>\\1</p></\\2>", text)
    text = _RE_P_AROUND_BLOCK.sub("\\1", text)
    text = _RE_P_AROUND_LI.sub("\\1", text)
    text = _RE_P_BLOCKQUOTE.sub("<blockquote\\1><p>", text)
    text = text.replace("</blockquote></p>", "</p></blockquote>")
    text = _RE_P_BEFORE_BLOCK.sub("\\1", text)
    text = _RE_P_AFTER_BLOCK.sub("\\1", text)
    if br:
        text = _RE_PRESERVE.sub(lambda m: m.group(0).replace("\n", "<WPPreserveNewline />"), text)
        text = text.replace("<br>", "<br />").replace("<br/>", "<br />")
        text = _RE_NEWLINE_TO_BR.sub("<br />\n", text)
        text = text.replace("<WPPreserveNewline />", "\n")
    text = _RE_BR_AFTER_BLOCK.sub("\\1", text)
    text = _RE_BR_BEFORE_BLOCK.sub("\\1", text)
    text = _RE_LAST_BREAK.sub("</p>", text)
    for name, original in pre_tags.items():
        text = text.replace(name, original)
    if "<!-- wpnl -->" in text:
        text = text.replace(" <!-- wpnl --> ", "\n").replace("<!-- wpnl -->", "\n")
    return text


def content_markup(content: str) -> str:
    """``content:encoded`` as the HTML WordPress serves: block-editor content as it is (WordPress
    skips ``wpautop`` for it), classic content through :func:`wpautop`."""
    return content if has_blocks(content) else wpautop(content)


# --------------------------------------------------------------------------- records


def _pub_date(value: str) -> datetime | None:
    """An RSS ``pubDate`` (RFC 822) in UTC, or None (drafts have ``-0001`` years)."""
    if not value:
        return None
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=timezone.utc)
    return parsed.astimezone(timezone.utc)


def _name(value: str) -> str:
    return html.unescape(value).strip()


def _author_name(login: str, authors: dict[str, dict[str, str]]) -> str | None:
    """DESIGN: the display name, else the login (``dc:creator`` holds the login)."""
    if not login:
        return None
    author = authors.get(login)
    if author is not None:
        display = _name(author.get("author_display_name", ""))
        if display:
            return display
    return _name(login) or login


def _term_names(terms: list[dict[str, str]], domains: tuple[str, ...]) -> tuple[str, ...]:
    names: list[str] = []
    for term in terms:
        if term.get("domain") in domains:
            name = _name(term.get("name", "")) or term.get("slug", "")
            if name and name not in names:
                names.append(name)
    return tuple(names)


def item_record(item: WxrItem, index: int, file: InputFile, export: WxrExport, config: ReadConfig) -> Record | Rejected:
    """The record (or rejection) for one item of an export."""
    post_id = item.get("post_id", "")
    post_type = item.get("post_type") or "post"
    status = item.get("status", "")
    locator = f"{post_type}:{post_id}" if post_id else f"item:{index}"
    url = item.get("link") or None
    published_at, published_local = parse_wp_date(item.get("post_date_gmt"), item.get("post_date"))
    if published_at is None:
        published_at = _pub_date(item.get("pubDate", ""))
    modified_at, modified_local = parse_wp_date(item.get("post_modified_gmt"), item.get("post_modified"))
    fixes: list[str] = []
    if published_local or modified_local:
        fixes.append("date_local_as_utc")
    if item.xml_errors:
        fixes.append("xml_recovered")
    content = item.get("post_content", "")
    record = Record(
        doc_id=doc_id_for(FORMAT, file.relpath, locator),
        source=url_host(url) or url_host(export.link) or url_host(export.base_url) or file.parent,
        source_format=FORMAT,
        source_id=post_id or f"{file.source_id}:{index}",
        markup=content_markup(content) if content.strip() else None,
        markup_kind="fragment",
        url=url,
        title=item.get("post_title") or None,
        author=_author_name(item.get("post_author", ""), export.authors),
        site_name=_name(export.title) or None,
        published_at=published_at,
        modified_at=modified_at,
        categories=_term_names(item.get("terms", []), ("category",)),
        tags=_term_names(item.get("terms", []), ("post_tag", "tag")),
        source_encoding=export.encoding or "utf-8",
        fixes=tuple(fixes),
    )
    if post_type not in config.wordpress_post_types:
        return record.reject("read", Reason.NOT_CONTENT, f"WordPress post type {post_type!r} is not kept")
    if status not in config.wordpress_statuses:
        shown = repr(status) if status else "(missing)"
        return record.reject("read", Reason.NOT_PUBLISHED, f"WordPress status {shown} is not kept")
    if item.get("post_password", ""):
        return record.reject("read", Reason.NOT_PUBLISHED, "WordPress post is password protected")
    if record.markup is None or not record.markup.strip():
        return record.reject("extract", Reason.EXTRACT_EMPTY, "WordPress post without content")
    return record


def wxr_records(file: InputFile, data: Any, config: ReadConfig) -> Iterator[Record | Rejected]:
    """Every item of a WXR export (``data``: bytes, a path or a binary file object) as a record
    or a rejection, streamed. Raises :class:`WxrError` for a file that is not WXR or cannot be
    parsed, and where a truncated file ends (the items before it have been yielded)."""
    with parse_wxr(data) as export:
        for index, item in enumerate(export.posts):
            yield item_record(item, index, file, export, config)
