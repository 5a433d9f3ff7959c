"""Per-document limits: a document over a limit is rejected with its reason, never hangs a run.

Sizes are checked before work starts; the shape of HTML (nesting depth, number of elements) is
checked by a cheap scan before the parser sees it; extraction time is bounded by a timer that
interrupts the extraction (POSIX interval timer, so only where signals can be delivered: the main
thread of a process, which is where the engines run stages; elsewhere no time limit applies).
"""

from __future__ import annotations

import contextlib
import re
import signal
import threading
from collections.abc import Iterator

__all__ = ["TimeLimitExceeded", "TooLarge", "html_shape", "time_limit"]

#: HTML elements that never have content, so never deepen the tree.
_VOID = frozenset("area base br col embed hr img input link meta param source track wbr".split())
#: Elements whose end tag is optional: a page that never closes its <p> or <li> is not deep, so
#: they do not count towards the depth (a parser closes them implicitly).
_IMPLICIT_END = frozenset("p li dt dd tr td th option optgroup thead tbody tfoot colgroup rp rt".split())
#: ``\s`` as the ``regex`` module reads it (Unicode White_Space); ``re``'s ``\s`` also takes
#: U+001C to U+001F, which would change what counts as a tag.
_SPACE = "[\t\n\v\f\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]"
#: A start or end tag: ``(closing slash, name, self-closing slash)``. Greedy repeats: the same
#: tags as a lazy ``[^<>]{0,2000}?`` would find, without trying ``/?>`` after every character of
#: the attributes (that made the scan cost 5 ms on a 160 kB page). The self-closing slash is
#: read behind the ``>``, as the attributes take it in.
_TAG = re.compile(rf"<(/?)([a-zA-Z][a-zA-Z0-9:-]{{0,31}})(?:{_SPACE}[^<>]{{0,2000}})?/?(?:(?<=(/)))?>")
#: Open tags that never deepen the tree.
_NOT_DEEPENING = _VOID | _IMPLICIT_END


class TooLarge(ValueError):
    """A file or document is larger than its configured limit."""


class TimeLimitExceeded(Exception):
    """Work on one document took longer than its configured limit."""


def html_shape(markup: str) -> tuple[int, int]:
    """``(elements, maximum nesting depth)`` of an HTML string, by a tolerant tag scan (unclosed
    elements count as open, as a parser would nest them).

    >>> html_shape("<div><section><p>a<br>b</p><p>c</section></div>")
    (5, 2)
    """
    depth = deepest = elements = 0
    for closing, name, self_closing in _TAG.findall(markup):
        if closing:
            if depth and name.lower() not in _IMPLICIT_END:
                depth -= 1
            continue
        elements += 1
        if self_closing or name.lower() in _NOT_DEEPENING:
            continue
        depth += 1
        if depth > deepest:
            deepest = depth
    return elements, deepest


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
