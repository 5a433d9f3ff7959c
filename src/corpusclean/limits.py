"""Per-document limits: a document over a limit is rejected with its reason, never hangs a run.

Sizes are checked before work starts; the shape of HTML (nesting depth, number of elements) is
checked on the parsed tree (``stages/extract.py``: the parser itself stops at
:data:`PARSER_MAX_DEPTH` levels, and the size limit bounds what it builds); extraction time is
bounded by a timer that interrupts the extraction (POSIX interval timer, so only where signals
can be delivered: the main thread of a process, which is where the engines run stages; elsewhere
no time limit applies).
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator

__all__ = ["PARSER_MAX_DEPTH", "TimeLimitExceeded", "TooLarge", "time_limit"]

#: libxml2's limit on nesting with ``huge_tree`` (its default without it is 256). A document
#: nested deeper is rejected ``too_complex`` with the parser's message; ``extract.max_nesting_depth``
#: cannot be set above it.
PARSER_MAX_DEPTH = 2048


class TooLarge(ValueError):
    """A file or document is larger than its configured limit."""


class TimeLimitExceeded(Exception):
    """Work on one document took longer than its configured limit."""


@contextlib.contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Raise :class:`TimeLimitExceeded` in the block after ``seconds`` (0: no limit). Only in the
    main thread of a process; elsewhere the block runs without a limit."""
    if seconds <= 0 or threading.current_thread() is not threading.main_thread():
        yield
        return

    def expired(signum: int, frame: object) -> None:
        raise TimeLimitExceeded(f"took longer than {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
