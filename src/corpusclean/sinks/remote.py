"""A dataset whose OUT is a URI (``s3://bucket/clean/``): built in a local staging directory,
then published through its :mod:`pyarrow.fs` filesystem.

An object store has no atomic rename, so a run cannot write its parts under temporary names and
move them into place as it does on disk. It keeps the same commit rule instead: the dataset is
copied file by file, ``manifest.json`` last, and a destination without ``manifest.json`` is an
incomplete run (``validate`` says so, ``run --resume`` publishes it again). The destination's
earlier content is replaced only once the new run is complete.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path, PurePosixPath

import pyarrow.fs as pafs

from corpusclean.config import PipelineConfig
from corpusclean.errors import InputError
from corpusclean.schema import MANIFEST_FILE as MANIFEST
from corpusclean.storage import is_uri, resolve, uri_path

__all__ = ["check_destination", "local_copy", "publish", "staging_dir", "upload"]


def staging_dir(config: PipelineConfig, destination: str) -> Path:
    """The local directory where the run for ``destination`` is built: the same for the same
    destination, so that ``--resume`` finds it again, and named like the destination (the
    report and the dataset card take the dataset's name from it)."""
    root = Path(config.output.staging_dir) if config.output.staging_dir else Path(tempfile.gettempdir())
    key = hashlib.sha256(destination.encode("utf-8")).hexdigest()[:16]
    name = PurePosixPath(uri_path(destination)).name or "dataset"
    return root / "corpusclean-staging" / key / name


def _location(uri: str) -> tuple[pafs.FileSystem, str]:
    try:
        filesystem, path = resolve(uri)
    except (OSError, ValueError) as exc:  # an unknown scheme, bad options
        raise InputError(f"cannot use output {uri}: {exc}") from exc
    return filesystem, path.rstrip("/")


def check_destination(
    destination: str,
    inputs: Sequence[str | os.PathLike[str]],
    *,
    resume: bool,
    overwrite: bool,
    staged: bool,
) -> None:
    """Refuse (:class:`InputError`, before any work) a destination that is inside an input or
    holds an input, that is not empty without ``--overwrite`` or ``--resume``, that holds a
    complete run when resuming, or that holds something else when resuming with nothing
    ``staged`` (nothing to resume: publishing would replace what is there)."""
    filesystem, path = _location(destination)
    scheme = destination.split("://", 1)[0].lower()
    for raw in inputs:
        arg = os.fspath(raw)
        if not is_uri(arg) or arg.split("://", 1)[0].lower() != scheme:
            continue
        inner = uri_path(arg)
        if inner == path or path.startswith(inner + "/") or inner.startswith(path + "/"):
            raise InputError(f"output {destination} and input {arg} overlap")
    try:
        found = filesystem.get_file_info(path)
        listed = (
            filesystem.get_file_info(pafs.FileSelector(path, recursive=False))
            if found.type == pafs.FileType.Directory
            else []
        )
    except OSError as exc:
        raise InputError(f"cannot read output {destination}: {exc}") from exc
    if found.type == pafs.FileType.File:
        raise InputError(f"output {destination} exists and is not a directory")
    if not listed:
        return
    if resume:
        if any(PurePosixPath(info.path).name == MANIFEST for info in listed):
            raise InputError(f"{destination} holds a complete run; nothing to resume (use --overwrite to redo it)")
        if not staged:
            raise InputError(f"{destination} is not an incomplete corpusclean run of this machine; cannot resume")
    elif not overwrite:
        raise InputError(f"output directory {destination} is not empty (use --overwrite or --resume)")


def publish(staging: Path, destination: str) -> None:
    """Copy the finished run in ``staging`` to ``destination``, ``manifest.json`` last, after
    removing what the destination held (its manifest first, so that it never describes a mix
    of two runs)."""
    filesystem, path = _location(destination)
    found = filesystem.get_file_info(path)
    if found.type == pafs.FileType.Directory:
        manifest = f"{path}/{MANIFEST}"
        if filesystem.get_file_info(manifest).type == pafs.FileType.File:
            filesystem.delete_file(manifest)
        filesystem.delete_dir_contents(path)
    filesystem.create_dir(path, recursive=True)
    names = sorted((entry.name for entry in staging.iterdir()), key=lambda name: (name == MANIFEST, name))
    upload(staging, destination, names)


@contextmanager
def local_copy(destination: str) -> Iterator[Path]:
    """The dataset at the URI ``destination``, downloaded into a temporary directory that is
    removed afterwards (``validate`` and ``report`` read every part anyway). Raises
    :class:`InputError` when there is no directory there."""
    filesystem, path = _location(destination)
    try:
        found = filesystem.get_file_info(path)
    except OSError as exc:
        raise InputError(f"cannot read {destination}: {exc}") from exc
    if found.type != pafs.FileType.Directory:
        raise InputError(f"no such directory: {destination}")
    with tempfile.TemporaryDirectory(prefix="corpusclean-") as tmp:
        copy = Path(tmp) / (PurePosixPath(path).name or "dataset")
        pafs.copy_files(path, str(copy), source_filesystem=filesystem, destination_filesystem=pafs.LocalFileSystem())
        yield copy


def upload(local: Path, destination: str, names: Sequence[str]) -> None:
    """Copy the files (or directories) ``names`` of the local directory ``local`` into
    ``destination``, in that order."""
    filesystem, path = _location(destination)
    for name in names:
        pafs.copy_files(
            str(local / name),
            f"{path}/{name}",
            source_filesystem=pafs.LocalFileSystem(),
            destination_filesystem=filesystem,
        )
