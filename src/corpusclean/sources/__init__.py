"""Readers: turn one input file into records, behind a small registry keyed by format.

A format is detected from the file's content (after decompression), with the name as a hint
only where the content cannot tell: seed 004 is WordPress REST JSON saved as ``.txt``. A new
format plugs in as one more :class:`Reader` in :data:`READERS` (order = sniffing priority).
"""

from __future__ import annotations

import dataclasses
import io
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pyarrow.parquet as pq

from corpusclean.config import ReadConfig
from corpusclean.limits import TooLarge
from corpusclean.records import Reason, Record, Rejected
from corpusclean.sources.files import (
    COMPRESSED_SUFFIXES,
    InputFile,
    doc_id_for,
    expand_inputs,
    read_input_bytes,
)
from corpusclean.sources.wordpress import is_wordpress_post, non_post_kind, url_host, wordpress_records
from corpusclean.sources.wxr import wxr_records

__all__ = [
    "READERS",
    "FileResult",
    "InputFile",
    "Reader",
    "detect_format",
    "expand_inputs",
    "looks_like_html",
    "markup_kind",
    "read_file",
    "unreadable",
]

ReadFn = Callable[[InputFile, bytes, ReadConfig], Iterator["Record | Rejected"]]
SniffFn = Callable[[bytes, str], bool]

_BOMS = (b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")
_HTML_START = re.compile(
    rb"^(?:<\?xml[^>]*>\s*)?(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html|head|body|meta|title|div|p|article|section|main|table|h[1-6]|span|a|ul|script|style|link)\b",
    re.IGNORECASE | re.DOTALL,
)


def _logical_name(file: InputFile) -> str:
    """The file name without a compression suffix, lower-cased: ``a.jsonl.gz`` → ``a.jsonl``."""
    name = file.relpath.rsplit("/", 1)[-1].lower()
    for suffix in COMPRESSED_SUFFIXES:
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name


def _head(data: bytes) -> bytes:
    head = data[:4096]
    for bom in _BOMS:
        if head.startswith(bom):
            head = head[len(bom) :]
            break
    if head[:2] in (b"\x00<", b"<\x00", b"\x00{", b"{\x00"):  # UTF-16 without BOM
        head = head.replace(b"\x00", b"")
    return head.lstrip()


def _sniff_parquet(data: bytes, name: str) -> bool:
    return data[:4] == b"PAR1"


def _sniff_jsonl(data: bytes, name: str) -> bool:
    head = _head(data)
    if name.endswith((".jsonl", ".ndjson")):
        return True
    if not head.startswith(b"{"):
        return False
    first_line = head.split(b"\n", 1)[0].strip()
    if b"\n" not in head.strip():
        return False
    try:
        return isinstance(json.loads(first_line), dict)
    except ValueError:
        return False


def _sniff_json(data: bytes, name: str) -> bool:
    return _head(data)[:1] in (b"{", b"[")


def _sniff_wxr(data: bytes, name: str) -> bool:
    head = _head(data)
    return head.startswith((b"<?xml", b"<rss", b"<!--")) and b"wordpress.org/export/" in data[:65536]


def looks_like_html(data: bytes) -> bool:
    """True when the content starts like an HTML document or fragment (after BOM/whitespace).

    >>> looks_like_html(b"  <!DOCTYPE html><html>"), looks_like_html(b"Plain <b>text</b>")
    (True, False)
    """
    return bool(_HTML_START.match(_head(data)))


def _sniff_html(data: bytes, name: str) -> bool:
    return name.endswith((".html", ".htm", ".xhtml")) or looks_like_html(data)


def _sniff_text(data: bytes, name: str) -> bool:
    return True


def _read_text(file: InputFile, data: bytes, config: ReadConfig) -> Iterator[Record | Rejected]:
    yield Record(
        doc_id=doc_id_for("text", file.relpath, ""),
        source=file.parent,
        source_format="text",
        source_id=file.source_id,
        raw=data,
    )


def _read_html(file: InputFile, data: bytes, config: ReadConfig) -> Iterator[Record | Rejected]:
    yield Record(
        doc_id=doc_id_for("html", file.relpath, ""),
        source=file.parent,
        source_format="html",
        source_id=file.source_id,
        raw=data,
        markup_kind="page",
    )


def markup_kind(html: str) -> str:
    """``"page"`` for a whole HTML document (it has ``<html>`` or ``<body>``), else ``"fragment"``.

    >>> markup_kind("<!doctype html><html><body><p>x</p></body></html>"), markup_kind("<p>x</p>")
    ('page', 'fragment')
    """
    return "page" if re.search(r"<(html|body)\b", html[:4096], re.IGNORECASE) else "fragment"


def _field_record(
    obj: dict[str, Any],
    file: InputFile,
    source_format: str,
    locator: str,
    source_id: str,
    text_field: str,
    html_field: str,
) -> Record | None:
    """A record from a JSON object with a text or HTML field, or None when it has neither."""
    text = obj.get(text_field)
    html = obj.get(html_field)
    url = obj.get("url") if isinstance(obj.get("url"), str) else None
    title = obj.get("title") if isinstance(obj.get("title"), str) else None
    common = dict(
        doc_id=doc_id_for(source_format, file.relpath, locator),
        source=url_host(url) or file.parent,
        source_format=source_format,
        source_id=source_id,
        url=url,
        title=title,
    )
    if isinstance(text, str) and text.strip():
        return Record(**common, text=text)
    if isinstance(html, str) and html.strip():
        return Record(**common, markup=html, markup_kind=markup_kind(html))
    return None


def _read_jsonl(file: InputFile, data: bytes, config: ReadConfig) -> Iterator[Record | Rejected]:
    for line_number, line in enumerate(data.splitlines(), start=1):
        if not line.strip():
            continue
        locator = f"line:{line_number}"
        fallback_id = f"{file.source_id}:{line_number}"
        base = Record(
            doc_id=doc_id_for("jsonl", file.relpath, locator),
            source=file.parent,
            source_format="jsonl",
            source_id=fallback_id,
        )
        try:
            obj = json.loads(line)
        except ValueError as exc:
            yield base.reject(
                "read",
                Reason.UNREADABLE,
                f"line {line_number}: invalid JSON: {exc}",
                text=line.decode("utf-8", "replace"),
            )
            continue
        if not isinstance(obj, dict):
            yield base.reject("read", Reason.NOT_CONTENT, f"line {line_number}: not a JSON object")
            continue
        record_id = obj.get(config.jsonl_id_field)
        source_id = (
            str(record_id) if isinstance(record_id, (str, int)) and not isinstance(record_id, bool) else fallback_id
        )
        if is_wordpress_post(obj) and config.jsonl_text_field not in obj and config.jsonl_html_field not in obj:
            yield from wordpress_records(obj, file, line_number, config)
            continue
        record = _field_record(obj, file, "jsonl", locator, source_id, config.jsonl_text_field, config.jsonl_html_field)
        if record is None:
            yield dataclasses.replace(base, source_id=source_id).reject(
                "read",
                Reason.EXTRACT_EMPTY,
                f"line {line_number}: no {config.jsonl_text_field!r} or {config.jsonl_html_field!r} field with text",
            )
        else:
            yield record


def _read_json(file: InputFile, data: bytes, config: ReadConfig) -> Iterator[Record | Rejected]:
    try:
        obj = json.loads(data)
    except ValueError as exc:
        if "Extra data" in str(exc):  # several JSON values, one per line: JSONL by another name
            yield from _read_jsonl(file, data, config)
            return
        raise
    items = obj if isinstance(obj, list) else [obj]
    posts = [(i, item) for i, item in enumerate(items) if is_wordpress_post(item)]
    if not posts:
        kinds = sorted({non_post_kind(item) or "JSON without posts" for item in items}) or ["empty list"]
        generic = [item for item in items if isinstance(item, dict)]
        records = [
            _field_record(
                item,
                file,
                "json",
                f"item:{i}",
                f"{file.source_id}:{i}" if isinstance(obj, list) else file.source_id,
                config.jsonl_text_field,
                config.jsonl_html_field,
            )
            for i, item in enumerate(generic)
        ]
        if generic and all(r is not None for r in records):
            yield from (r for r in records if r is not None)
            return
        wordpress_dump = any(non_post_kind(item) for item in items)
        source_format = "wordpress_rest" if wordpress_dump else "json"
        base = Record(
            doc_id=doc_id_for(source_format, file.relpath, ""),
            source=file.parent,
            source_format=source_format,
            source_id=file.source_id,
        )
        yield base.reject("read", Reason.NOT_CONTENT, f"not a document: {', '.join(kinds)}")
        return
    post_indexes = {i for i, _ in posts}
    for i, item in enumerate(items):
        if i in post_indexes:
            yield from wordpress_records(item, file, i if isinstance(obj, list) else None, config)
        else:
            kind = non_post_kind(item) or "not a WordPress post"
            base = Record(
                doc_id=doc_id_for("wordpress_rest", file.relpath, f"item:{i}"),
                source=file.parent,
                source_format="wordpress_rest",
                source_id=f"{file.source_id}:{i}",
            )
            yield base.reject("read", Reason.NOT_CONTENT, kind)


def _read_parquet(file: InputFile, data: bytes, config: ReadConfig) -> Iterator[Record | Rejected]:
    parquet = pq.ParquetFile(io.BytesIO(data))
    names = set(parquet.schema_arrow.names)
    wanted = [
        c
        for c in (config.parquet_text_column, config.parquet_html_column, config.parquet_id_column, "url", "title")
        if c in names
    ]
    row_number = 0
    for batch in parquet.iter_batches(columns=wanted, batch_size=1024):
        for row in batch.to_pylist():
            locator = f"row:{row_number}"
            record_id = row.get(config.parquet_id_column)
            source_id = str(record_id) if record_id is not None else f"{file.source_id}:{row_number}"
            record = _field_record(
                row, file, "parquet", locator, source_id, config.parquet_text_column, config.parquet_html_column
            )
            if record is None:
                base = Record(
                    doc_id=doc_id_for("parquet", file.relpath, locator),
                    source=file.parent,
                    source_format="parquet",
                    source_id=source_id,
                )
                yield base.reject("read", Reason.EXTRACT_EMPTY, f"row {row_number}: no text or html value")
            else:
                yield record
            row_number += 1


def _read_wxr(file: InputFile, data: bytes, config: ReadConfig) -> Iterator[Record | Rejected]:
    """A WordPress WXR export, streamed item by item (see :mod:`corpusclean.sources.wxr`)."""
    yield from wxr_records(file, data, config)


@dataclass(frozen=True)
class Reader:
    """A format: how to recognise it from the content, and how to read it into records."""

    format: str
    sniff: SniffFn
    read: ReadFn


#: Sniffing order: the first reader whose ``sniff`` accepts the content reads the file.
READERS: tuple[Reader, ...] = (
    Reader("parquet", _sniff_parquet, _read_parquet),
    Reader("jsonl", _sniff_jsonl, _read_jsonl),
    Reader("json", _sniff_json, _read_json),
    Reader("wxr", _sniff_wxr, _read_wxr),
    Reader("html", _sniff_html, _read_html),
    Reader("text", _sniff_text, _read_text),
)


def detect_format(data: bytes, name: str) -> Reader:
    """The reader for ``data`` (already decompressed); ``name`` is the logical file name."""
    for reader in READERS:
        if reader.sniff(data, name):
            return reader
    raise AssertionError("the text reader accepts everything")  # pragma: no cover


def unreadable(
    file: InputFile, detail: str, source_format: str = "unknown", reason: Reason = Reason.UNREADABLE
) -> Rejected:
    """The rejected row that stands for a file (or the rest of a file) that could not be read."""
    return Record(
        doc_id=doc_id_for(source_format, file.relpath, "unreadable"),
        source=file.parent,
        source_format=source_format,
        source_id=file.source_id,
    ).reject("read", reason, detail[:2000], text=None)


def _within_size(item: Record | Rejected, limit: int) -> Record | Rejected:
    """A record larger than ``read.max_document_bytes`` is rejected ``too_large`` before any work
    (its text is not kept: it is the very thing that is too large)."""
    if isinstance(item, Rejected):
        return item
    size = max(
        len(item.raw) if item.raw is not None else 0,
        len(item.markup) if item.markup is not None else 0,
        len(item.text) if item.text is not None else 0,
    )
    if size <= limit:
        return item
    return item.reject("read", Reason.TOO_LARGE, f"{size} bytes > read.max_document_bytes ({limit})", text=None)


@dataclass
class FileResult:
    """What reading one file gave: its manifest entry and its records."""

    entry: dict[str, Any]
    items: list[Record | Rejected]


def read_file(file: InputFile, config: ReadConfig) -> FileResult:
    """Read one input file into records; never raises for a bad file (it becomes one
    ``unreadable`` rejection and an ``error`` in its manifest entry)."""
    entry: dict[str, Any] = {
        "path": file.relpath,
        "input": file.input_arg,
        "bytes": None,
        "sha256": None,
        "format": None,
        "records": 0,
        "error": None,
    }
    try:
        content = read_input_bytes(file.path, config.max_record_bytes)
    except TooLarge as exc:
        entry["error"] = str(exc)
        entry["records"] = 1
        return FileResult(entry, [unreadable(file, str(exc), reason=Reason.TOO_LARGE)])
    except Exception as exc:  # noqa: BLE001 - any failure to open is an unreadable file
        message = f"cannot read: {type(exc).__name__}: {exc}"
        entry["error"] = message
        entry["records"] = 1
        return FileResult(entry, [unreadable(file, message)])
    entry["bytes"] = content.size
    entry["sha256"] = content.sha256
    reader = detect_format(content.data, _logical_name(file))
    entry["format"] = reader.format
    items: list[Record | Rejected] = []
    try:
        items.extend(reader.read(file, content.data, config))
    except Exception as exc:  # noqa: BLE001 - a parse failure is an unreadable file
        message = f"cannot parse as {reader.format}: {type(exc).__name__}: {exc}"
        entry["error"] = message
        if items:  # the records read before the failure are kept; the rest is one row
            message = f"after {len(items)} records: {message}"
        items.append(unreadable(file, message, reader.format))
    items = [_within_size(item, config.max_document_bytes) for item in items]
    formats = {item.source_format for item in items}
    if len(formats) == 1:  # e.g. "wordpress_rest" rather than the reader's "json"
        entry["format"] = formats.pop()
    entry["records"] = len(items)
    return FileResult(entry, items)
