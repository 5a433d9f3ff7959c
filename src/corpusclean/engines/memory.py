"""The Arrow memory pool a run allocates from (``engine.memory_pool``).

pyarrow's wheels default to mimalloc, which keeps freed pages for reuse: over a long run the
resident memory of a process ratchets up to the largest batch any phase ever held, phase after
phase. jemalloc (built into pyarrow's Linux and macOS wheels) gives freed pages back to the
system after a short delay, so each phase's peak is its own: resuming the bench's
100,000-document run after pass 1, the peak fell from 497 to about 355 MB at the same speed (323 MB
when ``ARROW_DEFAULT_MEMORY_POOL=jemalloc`` is set before pyarrow is imported, which a library
cannot do for its caller: some of Arrow's C++ allocations keep the pool chosen then). ``"auto"`` picks
jemalloc where pyarrow has it, and leaves pyarrow's choice alone when the user made one with
``ARROW_DEFAULT_MEMORY_POOL``.

The pool is set for the run and restored after it, so a program that calls
:meth:`corpusclean.Pipeline.run` keeps its own pool; worker processes set it at start.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import pyarrow as pa

from corpusclean.config import MEMORY_POOLS

__all__ = ["arrow_memory_pool", "resolve_pool", "with_memory_pool"]

_FACTORIES: dict[str, Callable[[], pa.MemoryPool]] = {
    "jemalloc": pa.jemalloc_memory_pool,
    "mimalloc": pa.mimalloc_memory_pool,
    "system": pa.system_memory_pool,
}

T = TypeVar("T")


def resolve_pool(name: str) -> pa.MemoryPool | None:
    """The pool ``name`` stands for, or None to leave pyarrow's default pool in place
    (``"default"``; ``"auto"`` when ``ARROW_DEFAULT_MEMORY_POOL`` is set or jemalloc is not
    built into this pyarrow). A named pool this pyarrow lacks is a :class:`ValueError`."""
    if name == "default":
        return None
    if name == "auto":
        if os.environ.get("ARROW_DEFAULT_MEMORY_POOL"):
            return None
        try:
            return pa.jemalloc_memory_pool()
        except NotImplementedError:  # pragma: no cover - Windows wheels are built without it
            return None
    try:
        return _FACTORIES[name]()
    except KeyError:
        raise ValueError(f"unknown Arrow memory pool {name!r}; one of {', '.join(MEMORY_POOLS)}") from None
    except NotImplementedError as exc:
        raise ValueError(f"this pyarrow is built without the {name} memory pool") from exc


@contextmanager
def arrow_memory_pool(name: str) -> Iterator[None]:
    """Allocate from pool ``name`` inside the block, then restore the previous default pool."""
    pool = resolve_pool(name)
    if pool is None:
        yield
        return
    previous = pa.default_memory_pool()
    pa.set_memory_pool(pool)
    try:
        yield
    finally:
        pa.set_memory_pool(previous)


def with_memory_pool(name: str, init: Callable[[], T], *args: Any) -> T:
    """Set pool ``name`` for the rest of this (worker) process, then return ``init(*args)``."""
    pool = resolve_pool(name)
    if pool is not None:
        pa.set_memory_pool(pool)
    return init(*args)
