"""WordPress REST API JSON: one post object, a list as served by ``/wp/v2/posts``, or dumps.

Only the fields that make a document are read: ``title.rendered``, ``content.rendered``,
``link``, ``date_gmt``/``modified_gmt``, author and terms (names from ``_embedded`` when present,
else ids as strings). ``_links``, ``guid``, ``class_list``, ``meta``, ``yoast_head*`` and the like
are never read, so they cannot reach the text.
"""

from __future__ import annotations

import html
from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlsplit

from corpusclean.config import ReadConfig
from corpusclean.records import Reason, Record, Rejected
from corpusclean.sources.files import InputFile, doc_id_for

__all__ = ["is_wordpress_post", "non_post_kind", "parse_wp_date", "url_host", "wordpress_records"]

FORMAT = "wordpress_rest"


def is_wordpress_post(obj: Any) -> bool:
    """A REST post/page/custom-type object: has content or title, and an id or link."""
    return (
        isinstance(obj, dict)
        and ("content" in obj or "title" in obj)
        and any(key in obj for key in ("id", "link", "guid", "_links", "slug"))
        and "taxonomy" not in obj
    )


def non_post_kind(obj: Any) -> str | None:
    """What a WordPress REST body that is not a post is, or None when it is not recognised."""
    if not isinstance(obj, dict):
        return None
    if "code" in obj and "message" in obj:
        return f"REST error body ({obj.get('code')})"
    if "namespaces" in obj and "routes" in obj:
        return "REST API index"
    if "taxonomy" in obj:
        return f"term ({obj.get('taxonomy')})"
    if "avatar_urls" in obj or ("slug" in obj and "name" in obj and "content" not in obj):
        return "user"
    return None


def url_host(url: str | None) -> str | None:
    """The host of ``url`` in lower case, or None."""
    if not url:
        return None
    try:
        host = urlsplit(url.strip()).hostname
    except ValueError:
        return None
    return host.lower() if host else None


def parse_wp_date(gmt: Any, local: Any) -> tuple[datetime | None, bool]:
    """A UTC datetime from ``date_gmt``; when that is missing or all zeros, the local date
    read as UTC (second value True, so the caller can note it in ``fixes``)."""
    value = _parse_iso(gmt)
    if value is not None:
        return value, False
    value = _parse_iso(local)
    return value, value is not None


def _parse_iso(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value.strip() or value.startswith("0000"):
        return None
    text = value.strip().replace(" ", "T", 1)
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=timezone.utc)
    return parsed.astimezone(timezone.utc)


def _rendered(value: Any) -> str | None:
    if isinstance(value, dict):
        value = value.get("rendered")
    return value if isinstance(value, str) else None


def _author(obj: dict[str, Any]) -> str | None:
    embedded = obj.get("_embedded")
    if isinstance(embedded, dict):
        authors = embedded.get("author")
        if isinstance(authors, list) and authors and isinstance(authors[0], dict):
            first = authors[0]
            for key in ("name", "slug"):
                if isinstance(first.get(key), str) and first[key].strip():
                    return html.unescape(first[key]).strip()
    author = obj.get("author")
    if isinstance(author, (int, str)) and not isinstance(author, bool) and str(author).strip():
        return str(author)
    return None


def _terms(obj: dict[str, Any], field: str, taxonomy: str) -> tuple[str, ...]:
    """Term names from ``_embedded['wp:term']`` when present, else the ids as strings."""
    embedded = obj.get("_embedded")
    if isinstance(embedded, dict) and isinstance(embedded.get("wp:term"), list):
        names = [
            html.unescape(term["name"]).strip()
            for group in embedded["wp:term"]
            if isinstance(group, list)
            for term in group
            if isinstance(term, dict) and term.get("taxonomy") == taxonomy and isinstance(term.get("name"), str)
        ]
        if names:
            return tuple(names)
    ids = obj.get(field)
    if isinstance(ids, list):
        return tuple(str(i) for i in ids if isinstance(i, (int, str)) and not isinstance(i, bool))
    return ()


def wordpress_records(
    obj: dict[str, Any], file: InputFile, index: int | None, config: ReadConfig
) -> Iterator[Record | Rejected]:
    """The record (or rejection) for one REST post object."""
    post_type = obj.get("type") if isinstance(obj.get("type"), str) else "post"
    post_id = obj.get("id")
    locator = f"{post_type}:{post_id}" if post_id is not None else f"item:{index}"
    url = obj.get("link") if isinstance(obj.get("link"), str) else None
    published_at, published_local = parse_wp_date(obj.get("date_gmt"), obj.get("date"))
    modified_at, modified_local = parse_wp_date(obj.get("modified_gmt"), obj.get("modified"))
    fixes = ("date_local_as_utc",) if (published_local or modified_local) else ()
    record = Record(
        doc_id=doc_id_for(FORMAT, file.relpath, locator),
        source=url_host(url) or file.parent,
        source_format=FORMAT,
        source_id=str(post_id) if post_id is not None else f"{file.source_id}:{index}",
        markup=_rendered(obj.get("content")),
        markup_kind="fragment",
        url=url,
        title=_rendered(obj.get("title")),
        author=_author(obj),
        published_at=published_at,
        modified_at=modified_at,
        categories=_terms(obj, "categories", "category"),
        tags=_terms(obj, "tags", "post_tag"),
        source_encoding="utf-8",
        fixes=fixes,
    )
    status = obj.get("status", "publish")
    if post_type not in config.wordpress_post_types:
        yield record.reject("read", Reason.NOT_CONTENT, f"WordPress post type {post_type!r} is not kept")
    elif status not in config.wordpress_statuses:
        yield record.reject("read", Reason.NOT_PUBLISHED, f"WordPress status {status!r} is not kept")
    elif isinstance(obj.get("content"), dict) and obj["content"].get("protected") is True:
        yield record.reject("read", Reason.NOT_PUBLISHED, "WordPress post is password protected")
    elif not record.markup or not record.markup.strip():
        yield record.reject("extract", Reason.EXTRACT_EMPTY, "WordPress post without content")
    else:
        yield record
