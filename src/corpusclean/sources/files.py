"""Finding input files (files, directories, globs) and opening them (plain or compressed), whole
or as a stream: :func:`open_input` decompresses as it reads and hashes the raw bytes on the way,
:func:`iter_lines` splits a stream into lines exactly as :meth:`bytes.splitlines` splits the whole,
and :func:`line_starts` finds where a large file can be cut into pieces (see :class:`FilePiece`)."""

from __future__ import annotations

import bz2
import glob
import gzip
import hashlib
import io
import lzma
import os
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import IO, Any

import zstandard

from corpusclean.errors import InputError
from corpusclean.limits import TooLarge
from corpusclean.storage import FileStat, file_stat, is_uri, list_files, open_binary, uri_path

__all__ = [
    "COMPRESSED_SUFFIXES",
    "FilePiece",
    "HashedInput",
    "InputFile",
    "OpenInput",
    "compression_of",
    "doc_id_for",
    "expand_inputs",
    "file_sha256",
    "iter_lines",
    "line_starts",
    "open_input",
    "read_input_bytes",
]

#: Suffixes recognised as compression (the content's magic bytes decide, not the suffix).
COMPRESSED_SUFFIXES = (".gz", ".bz2", ".xz", ".zst")

_MAGIC = (
    (b"\x1f\x8b", "gzip"),
    (b"BZh", "bz2"),
    (b"\xfd7zXZ\x00", "xz"),
    (b"\x28\xb5\x2f\xfd", "zstd"),
)


@dataclass(frozen=True, order=True)
class InputFile:
    """One file to read. ``relpath`` is relative to its INPUT argument (POSIX separators)."""

    relpath: str
    input_arg: str
    path: str
    #: True when the file was named directly on the command line (not found in a directory).
    named_directly: bool = False
    #: Size and modification time when the listing gave them (a remote directory), so that
    #: planning a run costs one listing, not a request per file; None: ask the file.
    listed: FileStat | None = field(default=None, compare=False)

    def stat(self) -> FileStat:
        """Size and modification time of the file (raises OSError when it is gone)."""
        return self.listed if self.listed is not None else file_stat(self.path)

    @property
    def source_id(self) -> str:
        """DESIGN: the path as given for a file named directly, else the path relative to INPUT."""
        return self.input_arg if self.named_directly else self.relpath

    @property
    def parent(self) -> str:
        """The parent directory relative to INPUT, ``.`` at the top: the default ``source``."""
        parent = str(PurePosixPath(self.relpath).parent)
        return parent if parent else "."


def doc_id_for(source_format: str, relpath: str, locator: str) -> str:
    """The stable document id: a hash of format, relative path and in-file locator.

    >>> len(doc_id_for("text", "a/b.txt", ""))
    32
    """
    key = "\x1f".join((source_format, relpath, locator)).encode("utf-8", "surrogatepass")
    return hashlib.blake2b(key, digest_size=16).hexdigest()


def _is_hidden(name: str) -> bool:
    return name.startswith(".")


def expand_inputs(inputs: Sequence[str | os.PathLike[str]], skip_hidden: bool = True) -> list[InputFile]:
    """Every file under ``inputs``, sorted by relative path so that the order of INPUT
    arguments and of directory listings never changes the result.

    Raises :class:`InputError` for a path that does not exist, a glob that matches nothing,
    or two inputs that would give the same relative path (their ids would collide).
    """
    files: list[InputFile] = []
    for raw in inputs:
        arg = os.fspath(raw)
        if is_uri(arg):
            files.extend(_expand_uri(arg, skip_hidden))
            continue
        if glob.has_magic(arg) and not os.path.exists(arg):
            matches = sorted(glob.glob(arg, recursive=True))
            if not matches:
                raise InputError(f"no file matches {arg}")
            base = _glob_base(arg)
            for match in matches:
                if os.path.isdir(match):
                    files.extend(_walk(match, base, arg, skip_hidden))
                else:
                    rel = os.path.relpath(match, base)
                    files.append(InputFile(_posix(rel), arg, match))
            continue
        if not os.path.lexists(arg):
            raise InputError(f"input not found: {arg}")
        if os.path.isdir(arg):
            files.extend(_walk(arg, arg, arg, skip_hidden))
        else:
            files.append(InputFile(_posix(os.path.basename(arg)), arg, arg, named_directly=True))
    seen: dict[str, InputFile] = {}
    for item in files:
        other = seen.get(item.relpath)
        if other is not None and other.path != item.path:
            raise InputError(
                f"inputs overlap: {other.path} and {item.path} both have the relative path "
                f"{item.relpath!r}; pass their common parent directory instead"
            )
        seen[item.relpath] = item
    return sorted(seen.values())


def _expand_uri(arg: str, skip_hidden: bool) -> list[InputFile]:
    """The files of one URI argument (``s3://bucket/raw/``): the file it names, or every file
    under it, with paths relative to it as for a local directory."""
    if glob.has_magic(uri_path(arg)):
        raise InputError(f"patterns are not supported in URIs ({arg}): name a file or the directory above them")
    try:
        found = file_stat(arg)
    except FileNotFoundError:
        raise InputError(f"input not found: {arg}") from None
    except (OSError, ValueError) as exc:  # an unknown scheme, bad options, no access
        raise InputError(f"cannot open input {arg}: {exc}") from exc
    if found.regular:
        return [InputFile(PurePosixPath(uri_path(arg)).name, arg, arg, named_directly=True)]
    try:
        listed = list(list_files(arg))
    except (OSError, ValueError) as exc:
        raise InputError(f"cannot list input {arg}: {exc}") from exc
    return [
        InputFile(relpath, arg, uri, listed=found)
        for relpath, uri, found in listed
        if not (skip_hidden and any(_is_hidden(part) for part in relpath.split("/")))
    ]


def _glob_base(pattern: str) -> str:
    parts = Path(pattern).parts
    base_parts = []
    for part in parts:
        if glob.has_magic(part):
            break
        base_parts.append(part)
    return str(Path(*base_parts)) if base_parts else "."


def _posix(path: str) -> str:
    return PurePosixPath(Path(path)).as_posix()


def _walk(directory: str, base: str, arg: str, skip_hidden: bool) -> Iterator[InputFile]:
    """Files under ``directory``, recursively; symlinked directories are not followed
    (a symlink loop can never hang a run)."""
    for root, dirnames, filenames in os.walk(directory, followlinks=False):
        if skip_hidden:
            dirnames[:] = [d for d in dirnames if not _is_hidden(d)]
        dirnames.sort()
        for name in sorted(filenames):
            if skip_hidden and _is_hidden(name):
                continue
            full = os.path.join(root, name)
            yield InputFile(_posix(os.path.relpath(full, base)), arg, full)


def compression_of(head: bytes) -> str | None:
    """The compression named by the file's magic bytes, or None."""
    for magic, name in _MAGIC:
        if head.startswith(magic):
            return name
    return None


def _decompressor(raw: Any, compression: str) -> Any:
    """A binary stream of the decompressed content of the binary stream ``raw`` (left open).
    Every frame or member of the file is read (``cat a.zst b.zst`` is one file)."""
    if compression == "zstd":
        return zstandard.ZstdDecompressor().stream_reader(raw, read_across_frames=True, closefd=False)
    if compression == "gzip":
        return gzip.GzipFile(fileobj=raw, mode="rb")
    if compression == "bz2":
        return bz2.BZ2File(raw)
    return lzma.LZMAFile(raw)


def _decompress(data: bytes, compression: str, limit: int) -> bytes:
    """Decompress ``data``; more than ``limit`` bytes of output raises ValueError
    (a decompression bomb is rejected, not expanded into memory)."""
    reader = _decompressor(io.BytesIO(data), compression)
    with reader:
        out = reader.read(limit + 1)
    if len(out) > limit:
        raise TooLarge(f"decompressed size exceeds read.max_record_bytes ({limit} bytes)")
    return out


@dataclass(frozen=True)
class FileBytes:
    """A file's content after decompression, with what the manifest records about it."""

    data: bytes
    size: int
    sha256: str
    compression: str | None


def read_input_bytes(path: str, limit: int) -> FileBytes:
    """Read (and decompress) a file. Raises OSError/ValueError/EOFError etc. on failure;
    the caller turns those into an ``unreadable`` rejection."""
    # checked before opening: opening a FIFO blocks until a writer comes, a device never ends
    _check_regular(path)
    with open_binary(path) as handle:
        raw = handle.read(limit + 1)
    if len(raw) > limit:
        raise TooLarge(f"file is larger than read.max_record_bytes ({limit} bytes)")
    digest = hashlib.sha256(raw).hexdigest()
    compression = compression_of(raw[:8])
    data = _decompress(raw, compression, limit) if compression else raw
    return FileBytes(data=data, size=len(raw), sha256=digest, compression=compression)


# --------------------------------------------------------------------------- streaming

#: Bytes read at a time when streaming a file.
CHUNK_BYTES = 1 << 20


def _check_regular(path: str) -> None:
    # checked before opening: opening a FIFO blocks until a writer comes, a device never ends
    if not file_stat(path).regular:
        raise OSError(f"not a regular file: {path}")


def file_sha256(path: str) -> tuple[int, str]:
    """``(size, SHA-256 hex digest)`` of a file, read in chunks."""
    digest = hashlib.sha256()
    size = 0
    with open_binary(path) as handle:
        while chunk := handle.read(CHUNK_BYTES):
            digest.update(chunk)
            size += len(chunk)
    return size, digest.hexdigest()


class HashedInput:
    """A file opened for reading that counts and hashes the raw bytes as they are read, so that
    the manifest's size and SHA-256 come from the one pass that reads the records."""

    def __init__(self, path: str) -> None:
        self._handle = open_binary(path)
        self._sha256 = hashlib.sha256()
        self.size = 0

    def peek(self, size: int) -> bytes:
        """Up to ``size`` bytes from the current position, not consumed."""
        return self._handle.peek(size)[:size]

    def read(self, size: int | None = -1) -> bytes:
        data = self._handle.read(-1 if size is None else size)
        self._sha256.update(data)
        self.size += len(data)
        return data

    def readable(self) -> bool:
        return True

    def finish(self) -> tuple[int, str]:
        """Read what the reader left (a stream may stop before the end of the file) and return
        ``(size, SHA-256 hex digest)`` of the whole file."""
        while self.read(CHUNK_BYTES):
            pass
        return self.size, self._sha256.hexdigest()

    def close(self) -> None:
        self._handle.close()


class _Prefixed:
    """A binary stream that gives ``head`` (already read from ``rest``) and then the rest."""

    def __init__(self, head: bytes, rest: Any) -> None:
        self._head = head
        self._offset = 0
        self._rest = rest

    def read(self, size: int | None = -1) -> bytes:
        if self._offset < len(self._head):
            if size is None or size < 0:
                data = self._head[self._offset :] + self._rest.read()
                self._offset = len(self._head)
                return bytes(data)
            data = self._head[self._offset : self._offset + size]
            self._offset += len(data)
            return data
        return bytes(self._rest.read(size))

    def readable(self) -> bool:
        return True


class OpenInput:
    """An input file open for streaming: :attr:`raw` is the file (hashed as it is read),
    :attr:`stream` its decompressed content from the start, :attr:`head` the first bytes of that
    content (at most :data:`HEAD_BYTES`, read once for format detection and given again by
    :attr:`stream`)."""

    def __init__(self, path: str) -> None:
        _check_regular(path)
        self.raw = HashedInput(path)
        try:
            self.compression = compression_of(self.raw.peek(8))
            self._decompressed: Any = _decompressor(self.raw, self.compression) if self.compression else self.raw
            head = b""
            while len(head) < HEAD_BYTES:  # a decompressor may give less than asked for
                more = self._decompressed.read(HEAD_BYTES - len(head))
                if not more:
                    break
                head += more
        except BaseException:
            self.raw.close()
            raise
        self.head = head
        self.stream: IO[bytes] = _Prefixed(head, self._decompressed)  # type: ignore[assignment]
        #: Other readers of the file, closed with it.
        self.closing: list[Any] = []

    def close(self) -> None:
        try:
            for other in self.closing:
                other.close()
            if self._decompressed is not self.raw:
                self._decompressed.close()
        finally:
            self.raw.close()

    def __enter__(self) -> OpenInput:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


#: How much of a file's (decompressed) content format detection looks at.
HEAD_BYTES = 1 << 16


def open_input(path: str) -> OpenInput:
    """Open a file for streaming (see :class:`OpenInput`). Raises OSError/EOFError etc. for a
    file that is not a regular file or whose first bytes cannot be read or decompressed."""
    return OpenInput(path)


class _Window:
    """The bytes ``[start, stop)`` of an open binary file (``stop`` None: to its end)."""

    def __init__(self, handle: Any, start: int, stop: int | None) -> None:
        handle.seek(start)
        self._handle = handle
        self._left = None if stop is None else stop - start

    def read(self, size: int | None = -1) -> bytes:
        if self._left is None:
            return bytes(self._handle.read(-1 if size is None else size))
        want = self._left if size is None or size < 0 else min(size, self._left)
        data = bytes(self._handle.read(want))
        self._left -= len(data)
        return data

    def readable(self) -> bool:
        return True


def open_window(path: str, start: int, stop: int | None) -> tuple[Any, IO[bytes]]:
    """``(file, stream)``: the bytes ``[start, stop)`` of an uncompressed file as a stream; close
    the file when done."""
    _check_regular(path)
    handle = open_binary(path)
    try:
        return handle, _Window(handle, start, stop)  # type: ignore[return-value]
    except BaseException:
        handle.close()
        raise


_LINE_END = re.compile(rb"[\r\n]")


def iter_lines(stream: Any, max_line_bytes: int, chunk_size: int | None = None) -> Iterator[bytes | int]:
    """The lines of a binary stream, without their ends, split exactly as
    :meth:`bytes.splitlines` splits the whole content (``\\n``, ``\\r\\n``, ``\\r``), read a
    chunk at a time. A line longer than ``max_line_bytes`` is never held in memory: its length
    (an ``int``) comes in its place.

    >>> import io
    >>> list(iter_lines(io.BytesIO(b"a\\r\\nb\\rc\\n\\nlong line\\nd"), 5, chunk_size=2))
    [b'a', b'b', b'c', b'', 9, b'd']
    """
    chunk_size = chunk_size or CHUNK_BYTES
    parts: list[bytes] = []  # the start of a line whose end has not come yet
    held = 0  # bytes in parts
    skipped = -1  # the length so far of a too-long line being skipped; -1 when none is
    after_cr = False  # the last chunk ended with "\r": a "\n" starting the next one belongs to it
    while True:
        chunk = bytes(stream.read(chunk_size))
        if not chunk:
            break
        if after_cr:
            after_cr = False
            if chunk[:1] == b"\n":
                chunk = chunk[1:]
        if skipped >= 0:
            match = _LINE_END.search(chunk)
            if match is None:
                skipped += len(chunk)
                continue
            end = match.start()
            yield skipped + end
            skipped = -1
            if chunk[end : end + 2] == b"\r\n":
                end += 1
            elif end == len(chunk) - 1 and chunk[end : end + 1] == b"\r":
                after_cr = True
            chunk = chunk[end + 1 :]
        if not chunk:
            continue
        if _LINE_END.search(chunk) is None:  # still inside one line: hold the chunk, do not copy
            parts.append(chunk)
            held += len(chunk)
            if held > max_line_bytes:
                skipped, parts, held = held, [], 0
            continue
        buffer = b"".join(parts) + chunk if parts else chunk
        parts, held = [], 0
        lines = buffer.splitlines(keepends=True)
        last = lines[-1]
        if last.endswith(b"\r"):
            after_cr = True
        elif not last.endswith(b"\n"):
            lines.pop()
            parts, held = [last], len(last)
        for line in lines:
            content = _strip_end(line)
            yield content if len(content) <= max_line_bytes else len(content)
        if held > max_line_bytes:
            skipped, parts, held = held, [], 0
    if skipped >= 0:
        yield skipped
    elif parts:
        last = b"".join(parts)
        yield last if len(last) <= max_line_bytes else len(last)


def _strip_end(line: bytes) -> bytes:
    """``line`` without its one line end (``\\r\\n``, ``\\n`` or ``\\r``)."""
    if line.endswith(b"\r\n"):
        return line[:-2]
    if line.endswith((b"\n", b"\r")):
        return line[:-1]
    return line


def line_starts(path: str, targets: Sequence[int]) -> list[tuple[int, int]]:
    """For each offset in ``targets`` (ascending), the first line start at or after it, as
    ``(offset, line number)`` with lines counted from 1 as :meth:`bytes.splitlines` counts them
    (a line start is taken only after a ``\\n``, never between ``\\r`` and ``\\n``). Targets with
    no line start after them, or the same one as the target before, are left out. One pass over
    the file, in chunks."""
    found: list[tuple[int, int]] = []
    pending = [t for t in targets if t > 0]
    position = 0  # offset of chunk[0] in the file
    lines_before = 0  # line ends before the chunk
    previous_cr = False  # the chunk before ended with "\r"
    with open_binary(path) as handle:
        while pending and (chunk := handle.read(CHUNK_BYTES)):
            while pending:
                search_from = max(pending[0] - 1 - position, 0)
                if search_from >= len(chunk):
                    break
                newline = chunk.find(b"\n", search_from)
                if newline == -1:
                    break
                start = position + newline + 1
                ends = _line_ends(chunk, newline + 1, previous_cr)
                if not found or found[-1][0] != start:
                    found.append((start, lines_before + ends + 1))
                while pending and pending[0] <= start:
                    pending.pop(0)
            lines_before += _line_ends(chunk, len(chunk), previous_cr)
            previous_cr = chunk.endswith(b"\r")
            position += len(chunk)
    return found


def _line_ends(chunk: bytes, stop: int, previous_cr: bool) -> int:
    """Line ends in ``chunk[:stop]`` (a ``\\r\\n`` split between chunks counted once)."""
    ends = chunk.count(b"\n", 0, stop)
    if chunk.find(b"\r", 0, stop) != -1:  # rare: most files end lines with "\n" alone
        ends += chunk.count(b"\r", 0, stop) - chunk.count(b"\r\n", 0, stop)
    if previous_cr and chunk[:1] == b"\n" and stop > 0:
        ends -= 1
    return ends


@dataclass(frozen=True)
class FilePiece:
    """A part of one large uncompressed input file that one task reads: piece ``index`` of
    ``count``, in the reader ``format`` chosen when the pieces were planned.

    - ``jsonl``: the bytes ``[start, stop)``, cut at line starts; ``first`` is the number of the
      line at ``start`` (a line belongs to the piece where it starts);
    - ``parquet``: the row groups ``[start, stop)``; ``first`` is the number of their first row;
    - ``wxr``: the items whose position (the largest start line of the items so far, so that it
      never decreases) is in ``[start, stop)``; every piece parses the export from its start, so
      channel definitions, item numbers and XML errors are those of the whole file.

    ``stop`` None: to the end of the file.
    """

    format: str
    index: int
    count: int
    start: int
    stop: int | None
    first: int = 0
