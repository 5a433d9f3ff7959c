"""Readers: turn one input file into records, behind a small registry keyed by format.

A format is detected from the file's content (after decompression), with the name as a hint
only where the content cannot tell: seed 004 is WordPress REST JSON saved as ``.txt``. A new
format plugs in as one more :class:`Reader` in :data:`READERS` (order = sniffing priority).

JSONL, WXR and (uncompressed) Parquet files are streamed (:func:`stream_file`): a JSONL file a
line at a time, a WXR export an item at a time, a Parquet file a batch at a time, so that reading
never holds a whole large file. Other formats are read whole, up to ``read.max_record_bytes``. An
uncompressed JSONL, WXR or Parquet file larger than a threshold can be read in pieces by several
tasks (:func:`plan_pieces`, :class:`FilePiece`); its rows are the same as when it is read whole,
and :func:`merge_piece_entries` makes its one manifest entry from the pieces' entries.
"""

from __future__ import annotations

import dataclasses
import io
import json
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import pyarrow.parquet as pq

from corpusclean.config import ReadConfig
from corpusclean.limits import TooLarge
from corpusclean.records import Reason, Record, Rejected
from corpusclean.sinks.parquet import READ_BUFFER_BYTES
from corpusclean.sources.files import (
    COMPRESSED_SUFFIXES,
    HEAD_BYTES,
    FilePiece,
    InputFile,
    OpenInput,
    compression_of,
    doc_id_for,
    expand_inputs,
    file_sha256,
    iter_lines,
    line_starts,
    open_input,
    open_window,
    read_input_bytes,
)
from corpusclean.sources.wordpress import is_wordpress_post, non_post_kind, url_host, wordpress_records
from corpusclean.sources.wxr import item_record, parse_wxr, wxr_records
from corpusclean.storage import is_uri, open_binary, resolve

__all__ = [
    "READERS",
    "STREAMED_FORMATS",
    "FilePiece",
    "FileResult",
    "FileStream",
    "InputFile",
    "Reader",
    "detect_format",
    "expand_inputs",
    "looks_like_html",
    "markup_kind",
    "merge_piece_entries",
    "plan_pieces",
    "read_file",
    "stream_file",
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
    except (ValueError, RecursionError):  # nested deeper than the parser goes: not JSONL
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
    yield from _jsonl_records(file, enumerate(data.splitlines(), start=1), config)


def _stream_jsonl(file: InputFile, stream: Any, config: ReadConfig, first_line: int = 1) -> Iterator[Record | Rejected]:
    """JSONL from a binary stream, a line at a time; ``first_line`` is the number of its first line."""
    lines = iter_lines(stream, config.max_record_bytes)
    yield from _jsonl_records(file, enumerate(lines, start=first_line), config)


def _jsonl_records(
    file: InputFile, lines: Iterable[tuple[int, bytes | int]], config: ReadConfig
) -> Iterator[Record | Rejected]:
    """Records of numbered JSONL lines (a line too long to hold comes as its length)."""
    for line_number, line in lines:
        locator = f"line:{line_number}"
        fallback_id = f"{file.source_id}:{line_number}"
        if isinstance(line, int):
            yield Record(
                doc_id=doc_id_for("jsonl", file.relpath, locator),
                source=file.parent,
                source_format="jsonl",
                source_id=fallback_id,
            ).reject(
                "read",
                Reason.TOO_LARGE,
                f"line {line_number}: {line} bytes > read.max_record_bytes ({config.max_record_bytes})",
                text=None,
            )
            continue
        if not line.strip():
            continue
        base = Record(
            doc_id=doc_id_for("jsonl", file.relpath, locator),
            source=file.parent,
            source_format="jsonl",
            source_id=fallback_id,
        )
        try:
            obj = json.loads(line)
        except (ValueError, RecursionError) as exc:  # a line nested too deep is one bad line too
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
    yield from _parquet_records(file, _open_parquet(io.BytesIO(data)), config)


def _open_parquet(source: Any) -> pq.ParquetFile:
    """A Parquet file (a path, a URI or a file object) read page by page: one that loads whole
    column chunks (and pre-buffers row groups ahead) holds several row groups of texts."""
    filesystem = None
    if is_uri(source):
        filesystem, source = resolve(source)
    return pq.ParquetFile(source, buffer_size=READ_BUFFER_BYTES, pre_buffer=False, filesystem=filesystem)


def _parquet_records(
    file: InputFile,
    parquet: pq.ParquetFile,
    config: ReadConfig,
    row_groups: range | None = None,
    first_row: int = 0,
) -> Iterator[Record | Rejected]:
    """Records of a Parquet file (of ``row_groups`` only, whose first row is ``first_row``),
    a batch at a time."""
    names = set(parquet.schema_arrow.names)
    wanted = [
        c
        for c in (config.parquet_text_column, config.parquet_html_column, config.parquet_id_column, "url", "title")
        if c in names
    ]
    row_number = first_row
    groups = {} if row_groups is None else {"row_groups": list(row_groups)}
    for batch in parquet.iter_batches(columns=wanted, batch_size=1024, use_threads=False, **groups):
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
    """A format: how to recognise it from the content, and how to read its whole content into
    records (formats in :data:`STREAMED_FORMATS` are streamed instead, see :class:`FileStream`)."""

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


#: Formats read as a stream rather than whole (Parquet only from an uncompressed file: it needs
#: random access), and that a large uncompressed file of which can be read in pieces.
STREAMED_FORMATS = frozenset({"jsonl", "wxr", "parquet"})


def detect_format(data: bytes, name: str) -> Reader:
    """The reader for ``data`` (already decompressed; its first :data:`HEAD_BYTES` are enough);
    ``name`` is the logical file name."""
    for reader in READERS:
        if reader.sniff(data, name):
            return reader
    raise AssertionError("the text reader accepts everything")  # pragma: no cover


def unreadable(
    file: InputFile,
    detail: str,
    source_format: str = "unknown",
    reason: Reason = Reason.UNREADABLE,
    locator: str = "unreadable",
) -> Rejected:
    """The rejected row that stands for a file (or the rest of a file, or of a piece of it:
    ``locator`` then names the piece) that could not be read."""
    return Record(
        doc_id=doc_id_for(source_format, file.relpath, locator),
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
    """Read one input file into a list of records (see :func:`stream_file`, which does not hold
    them all); never raises for a bad file (it becomes one ``unreadable`` rejection and an
    ``error`` in its manifest entry)."""
    stream = stream_file(file, config)
    items = list(stream)
    return FileResult(stream.entry, items)


def stream_file(file: InputFile, config: ReadConfig, piece: FilePiece | None = None) -> FileStream:
    """Read one input file, or one ``piece`` of a large one, as a stream of records."""
    return FileStream(file, config, piece)


def _cannot_read(exc: BaseException) -> str:
    return f"cannot read: {type(exc).__name__}: {exc}"


class FileStream:
    """Reading one input file (or one piece of it, see :func:`plan_pieces`) as a stream of
    records. Iterate it once; :attr:`entry`, the file's manifest entry (``path``, ``input``,
    ``bytes``, ``sha256``, ``format``, ``records``, ``error``), is complete when the iteration
    has ended. Never raises for a bad file: a file that cannot be opened or parsed at all is one
    ``unreadable`` rejection; one that fails part way keeps the records read before, then one
    ``unreadable`` row stands for the rest.

    The entry of a piece also has ``piece`` (``index``, ``count``, ``reader``, ``formats``), which
    :func:`merge_piece_entries` uses to make the file's one entry.
    """

    def __init__(self, file: InputFile, config: ReadConfig, piece: FilePiece | None = None) -> None:
        self.file = file
        self.config = config
        self.piece = piece
        self.entry: dict[str, Any] = {
            "path": file.relpath,
            "input": file.input_arg,
            "bytes": None,
            "sha256": None,
            "format": None,
            "records": 0,
            "error": None,
        }
        if piece is not None:
            self.entry["piece"] = {"index": piece.index, "count": piece.count, "reader": piece.format, "formats": []}

    def __iter__(self) -> Iterator[Record | Rejected]:
        records = 0
        formats: set[str] = set()
        items = self._whole() if self.piece is None else self._piece(self.piece)
        for item in items:
            item = _within_size(item, self.config.max_document_bytes)
            records += 1
            formats.add(item.source_format)
            yield item
        self.entry["records"] = records
        if self.entry["format"] is None:  # not opened: no format to name
            return
        if self.piece is not None:
            self.entry["piece"]["formats"] = sorted(formats)
        if len(formats) == 1:  # e.g. "wordpress_rest" rather than the reader's "json"
            self.entry["format"] = formats.pop()

    def _fail(self, exc: BaseException, source_format: str, read: int, locator: str) -> Rejected:
        """The row for the rest of a file (or piece) whose reader failed after ``read`` records."""
        message = f"cannot parse as {source_format}: {type(exc).__name__}: {exc}"
        if self.entry["error"] is None:
            self.entry["error"] = message
        if read:
            message = f"after {read} records: {message}"
        return unreadable(self.file, message, source_format, locator=locator)

    def _guarded(
        self, source_format: str, items: Iterator[Record | Rejected], locator: str = "unreadable"
    ) -> Iterator[Record | Rejected]:
        read = 0
        try:
            for item in items:
                read += 1
                yield item
        except Exception as exc:  # noqa: BLE001 - a parse failure is an unreadable (rest of a) file
            yield self._fail(exc, source_format, read, locator)

    def _not_opened(self, exc: BaseException, locator: str = "unreadable") -> Rejected:
        message = _cannot_read(exc)
        self.entry["error"] = message
        self.entry["format"] = None
        return unreadable(self.file, message, locator=locator)

    # a whole file
    def _whole(self) -> Iterator[Record | Rejected]:
        try:
            opened = open_input(self.file.path)
        except Exception as exc:  # noqa: BLE001 - any failure to open is an unreadable file
            yield self._not_opened(exc)
            return
        with opened:
            reader = detect_format(opened.head, _logical_name(self.file))
            if reader.format in STREAMED_FORMATS and not (reader.format == "parquet" and opened.compression):
                yield from self._streamed(reader.format, opened)
                return
        yield from self._read_whole(reader)

    def _streamed(self, source_format: str, opened: OpenInput) -> Iterator[Record | Rejected]:
        self.entry["format"] = source_format
        if source_format == "jsonl":
            items = _stream_jsonl(self.file, opened.stream, self.config)
        elif source_format == "wxr":
            items = wxr_records(self.file, opened.stream, self.config)
        else:
            items = self._parquet_items(opened)
        yield from self._guarded(source_format, items)
        try:  # the rest of the file, for its size and hash (a reader may stop before the end)
            self.entry["bytes"], self.entry["sha256"] = opened.raw.finish()
        except Exception as exc:  # noqa: BLE001 - the records are read; the hash is not known
            if self.entry["error"] is None:
                self.entry["error"] = _cannot_read(exc)

    def _parquet_items(self, opened: OpenInput) -> Iterator[Record | Rejected]:
        """The records of a Parquet file, opened lazily so that a file that only starts like
        Parquet (``PAR1`` and no footer) fails inside :meth:`_guarded`, as an unreadable row."""
        parquet = _open_parquet(self.file.path)
        opened.closing.append(parquet)
        yield from _parquet_records(self.file, parquet, self.config)

    def _read_whole(self, reader: Reader) -> Iterator[Record | Rejected]:
        try:
            content = read_input_bytes(self.file.path, self.config.max_record_bytes)
        except TooLarge as exc:
            self.entry["error"] = str(exc)
            yield unreadable(self.file, str(exc), reason=Reason.TOO_LARGE)
            return
        except Exception as exc:  # noqa: BLE001 - any failure to open is an unreadable file
            yield self._not_opened(exc)
            return
        self.entry["bytes"] = content.size
        self.entry["sha256"] = content.sha256
        self.entry["format"] = reader.format
        yield from self._guarded(reader.format, reader.read(self.file, content.data, self.config))

    # a piece of a large file
    def _piece(self, piece: FilePiece) -> Iterator[Record | Rejected]:
        self.entry["format"] = piece.format
        if piece.format == "wxr":
            yield from self._wxr_piece(piece)
            return
        # two pieces that fail must not give two rows with one doc_id
        locator = "unreadable" if piece.index == 0 else f"unreadable:piece:{piece.index}"
        handle: Any = None
        try:
            if piece.index == 0:  # the file's size and hash, once
                self.entry["bytes"], self.entry["sha256"] = file_sha256(self.file.path)
            if piece.format == "jsonl":
                handle, window = open_window(self.file.path, piece.start, piece.stop)
                items = _stream_jsonl(self.file, window, self.config, first_line=piece.first)
            else:
                handle = _open_parquet(self.file.path)
                groups = range(piece.start, piece.stop if piece.stop is not None else handle.num_row_groups)
                items = _parquet_records(self.file, handle, self.config, groups, first_row=piece.first)
        except Exception as exc:  # noqa: BLE001 - any failure to open is an unreadable file
            if handle is not None:
                handle.close()
            yield self._not_opened(exc, locator)
            return
        try:
            yield from self._guarded(piece.format, items, locator)
        finally:
            handle.close()

    def _wxr_piece(self, piece: FilePiece) -> Iterator[Record | Rejected]:
        """The items of a WXR piece. Every piece parses the export from its start (building
        records for its own items only), so the items' numbers, the channel's definitions and
        the XML errors are those of the whole file; of a failure, which every piece after it
        sees too, only the piece of the last item read before it makes a row."""
        try:
            if piece.index == 0:
                self.entry["bytes"], self.entry["sha256"] = file_sha256(self.file.path)
            handle, window = open_window(self.file.path, 0, None)
        except Exception as exc:  # noqa: BLE001 - any failure to open is an unreadable file
            if piece.index == 0:
                yield self._not_opened(exc)
            else:
                self.entry["format"] = None
            return
        read = 0  # items of the whole file read (each is one record)
        position = 0  # never decreases: an item a missing end tag left inside another comes first
        try:
            with handle, parse_wxr(window) as export:
                for index, item in enumerate(export.posts):
                    position = max(position, item.line)
                    if position < piece.start:
                        read = index + 1
                        continue
                    if piece.stop is not None and position >= piece.stop:
                        return
                    record = item_record(item, index, self.file, export, self.config)
                    read = index + 1
                    yield record
        except Exception as exc:  # noqa: BLE001 - a parse failure is an unreadable (rest of a) file
            if (position >= piece.start) if read else (piece.index == 0):
                yield self._fail(exc, "wxr", read, "unreadable")


def merge_piece_entries(entries: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """The one manifest entry of a file read in pieces, from the entries of its pieces (in any
    order): size and hash from the first piece, records summed, the first error, and the format
    that a whole read would name."""
    pieces = sorted(entries, key=lambda entry: entry["piece"]["index"])
    first = pieces[0]
    merged = {key: value for key, value in first.items() if key != "piece"}
    merged["records"] = sum(entry["records"] for entry in pieces)
    merged["error"] = next((entry["error"] for entry in pieces if entry["error"]), None)
    opened = [entry for entry in pieces if entry["format"] is not None]
    formats = {name for entry in opened for name in entry["piece"]["formats"]}
    if not opened:
        merged["format"] = None
    else:
        merged["format"] = formats.pop() if len(formats) == 1 else first["piece"]["reader"]
    return merged


def plan_pieces(file: InputFile, piece_bytes: int) -> tuple[FilePiece, ...]:
    """The pieces in which several tasks read a large file, or ``()`` to read it whole.

    Only an uncompressed JSONL, WXR or Parquet file larger than ``piece_bytes`` is split, into
    about ``size / piece_bytes`` pieces of about equal size: JSONL at line starts (one pass that
    counts lines, so that every piece knows the number of its first line), WXR by line ranges,
    Parquet by row groups (from its footer). The pieces depend on the file's content only.
    """
    try:
        info = file.stat()
        if not info.regular or info.size <= piece_bytes:
            return ()
        with open_binary(file.path) as handle:
            head = handle.read(HEAD_BYTES)
        if compression_of(head[:8]):
            return ()
        source_format = detect_format(head, _logical_name(file)).format
        if source_format not in STREAMED_FORMATS:
            return ()
        size = info.size
        count = -(-size // piece_bytes)
        if source_format == "parquet":
            pieces = _parquet_pieces(file.path, count)
        else:
            targets = [size * k // count for k in range(1, count)]
            starts = [(0, 1)] + [(offset, line) for offset, line in line_starts(file.path, targets) if offset < size]
            stops: list[int | None] = [offset for offset, _ in starts[1:]] + [None]
            if source_format == "jsonl":
                pieces = [
                    FilePiece("jsonl", i, len(starts), offset, stop, line)
                    for i, ((offset, line), stop) in enumerate(zip(starts, stops, strict=True))
                ]
            else:  # WXR: by the line of the items' start tags; the first piece from line 0
                lines = [0] + [line for _, line in starts[1:]]
                line_stops: list[int | None] = [*lines[1:], None]
                pieces = [FilePiece("wxr", i, len(lines), lines[i], line_stops[i]) for i in range(len(lines))]
    except Exception:  # noqa: BLE001 - a file that cannot be planned is read whole (and its row made then)
        return ()
    return tuple(pieces) if len(pieces) > 1 else ()


def _parquet_pieces(path: str, count: int) -> list[FilePiece]:
    """Row groups in ``count`` runs of about equal compressed size (fewer when there are fewer
    row groups): each run starts at the row group whose offset is nearest its share."""
    with _open_parquet(path) as parquet:
        metadata = parquet.metadata
    groups = metadata.num_row_groups
    sizes = [
        sum(metadata.row_group(g).column(c).total_compressed_size for c in range(metadata.num_columns))
        for g in range(groups)
    ]
    offsets = [sum(sizes[:g]) for g in range(groups)]
    starts = [0]
    for k in range(1, count):
        target = sum(sizes) * k // count
        nearest = min(range(starts[-1] + 1, groups), key=lambda g: abs(offsets[g] - target), default=None)
        if nearest is not None:
            starts.append(nearest)
    rows = [metadata.row_group(g).num_rows for g in range(groups)]
    stops: list[int | None] = [*starts[1:], None]
    return [FilePiece("parquet", i, len(starts), start, stops[i], sum(rows[:start])) for i, start in enumerate(starts)]
