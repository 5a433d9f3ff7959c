"""Finding input files (files, directories, globs) and opening them (plain or compressed)."""

from __future__ import annotations

import bz2
import glob
import gzip
import hashlib
import io
import lzma
import os
import stat
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import zstandard

from corpusclean.errors import InputError
from corpusclean.limits import TooLarge

__all__ = [
    "COMPRESSED_SUFFIXES",
    "InputFile",
    "compression_of",
    "doc_id_for",
    "expand_inputs",
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


def _decompress(data: bytes, compression: str, limit: int) -> bytes:
    """Decompress ``data``; more than ``limit`` bytes of output raises ValueError
    (a decompression bomb is rejected, not expanded into memory)."""
    if compression == "zstd":
        reader = zstandard.ZstdDecompressor().stream_reader(io.BytesIO(data))
    elif compression == "gzip":
        reader = gzip.GzipFile(fileobj=io.BytesIO(data))
    elif compression == "bz2":
        reader = bz2.BZ2File(io.BytesIO(data))
    else:
        reader = lzma.LZMAFile(io.BytesIO(data))
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
    if not stat.S_ISREG(os.stat(path).st_mode):
        raise OSError(f"not a regular file: {path}")
    with open(path, "rb") as handle:
        raw = handle.read(limit + 1)
    if len(raw) > limit:
        raise TooLarge(f"file is larger than read.max_record_bytes ({limit} bytes)")
    digest = hashlib.sha256(raw).hexdigest()
    compression = compression_of(raw[:8])
    data = _decompress(raw, compression, limit) if compression else raw
    return FileBytes(data=data, size=len(raw), sha256=digest, compression=compression)
