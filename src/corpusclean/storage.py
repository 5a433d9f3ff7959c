"""Where files live: a local path, or the URI of a :mod:`pyarrow.fs` filesystem (``s3://``,
``gs://``, ``hdfs://``, ``abfs://``, ``file://`` …).

Readers, the fingerprint of a run and the publishing of a remote output go through these few
functions, so a corpus in an object store is read with the same code as one on disk. Local paths
keep using the operating system directly (``open``, ``os.stat``): it is faster, and it can tell a
FIFO or a device from a regular file before opening it.

A URI may carry its filesystem's options as a query string
(``s3://bucket/raw/?endpoint_override=host:9000&scheme=http``); the URIs made for the files under
it keep that query. Credentials and endpoints otherwise come from the filesystem's usual
environment (``AWS_ACCESS_KEY_ID``, ``AWS_ENDPOINT_URL``, ``GOOGLE_APPLICATION_CREDENTIALS`` …).
"""

from __future__ import annotations

import io
import os
import re
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO
from urllib.parse import urlsplit, urlunsplit

import pyarrow as pa
import pyarrow.fs as pafs
import pyarrow.parquet as pq

__all__ = [
    "FileStat",
    "child_uri",
    "file_stat",
    "is_uri",
    "join",
    "list_files",
    "open_binary",
    "read_table",
    "resolve",
    "uri_path",
]

_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]+://")
#: Read-ahead of a remote file opened as a stream (one request per this many bytes).
REMOTE_BUFFER_BYTES = 1 << 22


def is_uri(path: str | os.PathLike[str]) -> bool:
    """True for a URI with a scheme (``s3://b/k``, ``file:///tmp/x``), False for a local path.

    >>> is_uri("s3://bucket/raw/a.jsonl"), is_uri("gs://b/k"), is_uri("raw/a.jsonl"), is_uri("C:\\\\raw")
    (True, True, False, False)
    """
    return isinstance(path, str) and _URI.match(path) is not None


def resolve(uri: str) -> tuple[pafs.FileSystem, str]:
    """The filesystem of ``uri`` and the path inside it (``s3://b/k?…`` → S3, ``"b/k"``).
    Raises ``pyarrow.ArrowInvalid`` (a ValueError) for a scheme pyarrow does not know."""
    return pafs.FileSystem.from_uri(uri)


def uri_path(uri: str) -> str:
    """The path part of ``uri``, without scheme and query: what relative paths are taken from.

    >>> uri_path("s3://bucket/raw/a.jsonl?endpoint_override=localhost:9000")
    'bucket/raw/a.jsonl'
    """
    parts = urlsplit(uri)
    return (parts.netloc + parts.path).rstrip("/") if parts.netloc else parts.path.rstrip("/")


def child_uri(uri: str, relpath: str) -> str:
    """The URI of ``relpath`` under the directory ``uri``, with ``uri``'s query kept.

    >>> child_uri("s3://bucket/raw/?scheme=http", "2024/a.jsonl")
    's3://bucket/raw/2024/a.jsonl?scheme=http'
    """
    parts = urlsplit(uri)
    path = parts.path.rstrip("/") + "/" + relpath.lstrip("/")
    return urlunsplit((parts.scheme, parts.netloc, path, parts.query, parts.fragment))


def join(base: str | os.PathLike[str], relpath: str) -> str:
    """``relpath`` under ``base``, a local directory or a URI.

    >>> join("s3://bucket/clean", "documents/part-00000.parquet")
    's3://bucket/clean/documents/part-00000.parquet'
    """
    base = os.fspath(base)
    return child_uri(base, relpath) if is_uri(base) else os.path.join(base, relpath)


def read_table(path: str, columns: list[str] | None = None) -> pa.Table:
    """The Parquet file at ``path`` (a local path or a URI)."""
    if not is_uri(path):
        return pq.read_table(path, columns=columns)
    filesystem, inner = resolve(path)
    return pq.read_table(inner, columns=columns, filesystem=filesystem)


@dataclass(frozen=True)
class FileStat:
    """What a run needs to know of a file before reading it."""

    regular: bool
    size: int
    mtime_ns: int | None


def file_stat(path: str) -> FileStat:
    """Size and modification time of ``path`` (a local path or a URI). Raises
    FileNotFoundError when there is nothing there."""
    if not is_uri(path):
        info = os.stat(path)
        return FileStat(stat.S_ISREG(info.st_mode), info.st_size, info.st_mtime_ns)
    filesystem, inner = resolve(path)
    found = filesystem.get_file_info(inner)
    if found.type == pafs.FileType.NotFound:
        raise FileNotFoundError(f"no such file: {path}")
    regular = found.type == pafs.FileType.File
    return FileStat(regular, found.size if regular and found.size is not None else 0, found.mtime_ns)


def open_binary(path: str) -> IO[bytes]:
    """``path`` opened for binary reading, seekable, with ``peek``. A remote file is read
    ahead in blocks of :data:`REMOTE_BUFFER_BYTES` (one ranged request each)."""
    if not is_uri(path):
        return open(path, "rb")
    filesystem, inner = resolve(path)
    return io.BufferedReader(filesystem.open_input_file(inner), REMOTE_BUFFER_BYTES)  # type: ignore[arg-type]


def list_files(uri: str) -> Iterator[tuple[str, str, FileStat]]:
    """``(relative path, URI, stat)`` of every file under the directory ``uri``, recursively,
    in no particular order (the caller sorts); one listing, not a request per file."""
    filesystem, inner = resolve(uri)
    base = inner.rstrip("/")
    for found in filesystem.get_file_info(pafs.FileSelector(base, recursive=True)):
        if found.type != pafs.FileType.File:
            continue
        relpath = found.path[len(base) :].lstrip("/")
        yield relpath, child_uri(uri, relpath), FileStat(True, found.size or 0, found.mtime_ns)
