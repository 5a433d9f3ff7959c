"""Decode: bytes to text, then character-level repair. Every repair applied is named in ``fixes``.

Each repair is a plain function ``str -> (str, fixes)`` with an example in its docstring, so
it can be tested, reused and reasoned about alone. Fix names (stable, documented in the README):

==========================  ================================================================
``bom``                     a byte-order mark was removed
``encoding_detected``       the bytes were not UTF-8 and no charset was declared: detected
``replacement_characters``  undecodable bytes were replaced by U+FFFD
``literal_escapes``         literal ``\\uXXXX`` / ``\\n`` / ``\\/`` escapes were decoded
``double_escaped_entities`` ``&amp;hellip;`` style entities were unescaped once
``mojibake``                text decoded with the wrong codec was re-decoded (ftfy)
``html_entities``           HTML entities were decoded (ftfy)
``control_characters``      C0/C1 control or terminal escape characters were removed (ftfy)
``line_endings``            CR / CRLF / Unicode line separators became ``\\n`` (ftfy)
``surrogates``              surrogate pairs were combined, unpaired ones replaced (ftfy)
``unicode_nfc``             the text was normalized to Unicode NFC (ftfy)
``nonbreaking_spaces``      no-break and other Unicode spaces became plain spaces
``invisible_characters``    zero-width spaces, word joiners and soft hyphens were removed
``whitespace``              trailing spaces on lines, spaces at the start and end were removed
``blank_lines``             runs of blank lines, leading and trailing blank lines were removed
==========================  ================================================================
"""

from __future__ import annotations

import dataclasses
import re
import unicodedata
from collections.abc import Sequence

import ftfy
from ftfy.chardata import CONTROL_CHARS

from corpusclean.config import DecodeConfig
from corpusclean.records import Reason, Record, Rejected, StageResult, map_records
from corpusclean.stages.charset import Decoded, declared_charset, decode_bytes

__all__ = [
    "DecodeStage",
    "Decoded",
    "declared_charset",
    "decode_bytes",
    "decode_literal_escapes",
    "fix_with_ftfy",
    "normalize_whitespace",
    "repair_text",
    "unescape_double_escaped_entities",
]

#: ftfy, conservative: no quote uncurling, no width or ligature folding (they change right text).
FTFY_CONFIG = ftfy.TextFixerConfig(
    uncurl_quotes=False,
    fix_character_width=False,
    fix_latin_ligatures=False,
    normalization="NFC",
    explain=True,
)

_FTFY_FIX_NAMES = {
    "unescape_html": "html_entities",
    "remove_terminal_escapes": "control_characters",
    "remove_control_chars": "control_characters",
    "fix_c1_controls": "mojibake",
    "fix_line_breaks": "line_endings",
    "fix_surrogates": "surrogates",
    "restore_byte_a0": "mojibake",
    "replace_lossy_sequences": "mojibake",
    "decode_inconsistent_utf8": "mojibake",
}

_ESCAPE = re.compile(
    r"\\u([dD][89abAB][0-9a-fA-F]{2})\\u([dD][c-fC-F][0-9a-fA-F]{2})"
    r"|\\u([0-9a-fA-F]{4})"
    r"|\\([nrt/])"
)
_UNICODE_ESCAPE = re.compile(r"\\u[0-9a-fA-F]{4}")
_LITERAL_NEWLINE = re.compile(r"\\[nr]")


def _has_escape_evidence(text: str) -> bool:
    """Escapes are decoded only where the document shows it was escaped: a ``\\uXXXX``
    sequence, or literal ``\\n`` but no real line break at all."""
    if _UNICODE_ESCAPE.search(text):
        return True
    return "\n" not in text and len(_LITERAL_NEWLINE.findall(text)) >= 2


def decode_literal_escapes(text: str) -> tuple[str, tuple[str, ...]]:
    r"""Decode literal JSON escapes left in text by double encoding.

    ``\"`` and ``\'`` are data, not escapes; lone surrogate escapes stay as they are.

    >>> decode_literal_escapes(r"China\u2019s AI \ud83d\ude00 a\/b")
    ('China’s AI 😀 a/b', ('literal_escapes',))
    >>> decode_literal_escapes(r"use \n for a newline" + "\n")
    ('use \\n for a newline\n', ())
    """
    if "\\" not in text or not _has_escape_evidence(text):
        return text, ()

    def replace(match: re.Match[str]) -> str:
        high, low, single, simple = match.groups()
        if high:
            return chr(0x10000 + ((int(high, 16) - 0xD800) << 10) + (int(low, 16) - 0xDC00))
        if single:
            code = int(single, 16)
            return match.group(0) if 0xD800 <= code <= 0xDFFF else chr(code)
        return {"n": "\n", "r": "\n", "t": "\t", "/": "/"}[simple]

    fixed = _ESCAPE.sub(replace, text)
    return fixed, ("literal_escapes",) if fixed != text else ()


_DOUBLE_ENTITY = re.compile(r"&amp;(#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[a-zA-Z][a-zA-Z0-9]{1,31});")


def unescape_double_escaped_entities(text: str) -> tuple[str, tuple[str, ...]]:
    """``&amp;hellip;`` → ``&hellip;`` (then the ordinary entity pass decodes it).

    >>> unescape_double_escaped_entities("Wait&amp;hellip; it&amp;#8217;s")
    ('Wait&hellip; it&#8217;s', ('double_escaped_entities',))
    """
    if "&amp;" not in text:
        return text, ()
    fixed = _DOUBLE_ENTITY.sub(r"&\1;", text)
    return fixed, ("double_escaped_entities",) if fixed != text else ()


#: What ftfy (as :data:`FTFY_CONFIG` sets it) can change in ASCII text: ``&`` (entities), and the
#: control characters but tab and line feed (terminal escapes, ``\r`` line breaks, removed
#: controls). Its other fixes (mojibake, C1 controls, surrogates, widths, ligatures, lossy
#: sequences, NFC) need a non-ASCII character, so an ASCII line without these is returned as it is.
_FTFY_ASCII_WORK = re.compile(r"[\x00-\x08\x0b-\x1f\x7f&]")


def _badness_positions() -> tuple[tuple[frozenset[str], ...], ...] | None:
    """ftfy's mojibake heuristic (``badness.BADNESS_RE``, what ``is_bad`` searches) as, for each
    of its alternatives, the sets of characters of the positions the alternative cannot match
    without (a literal or a class; ``\\s``, ``^``, ``\\w`` and optional parts are left out). A text
    that lacks every character of one such set for each alternative cannot match: it is not
    ``is_bad``, and ftfy leaves its encoding alone. Read from the regex itself, so that it follows
    ftfy; None when the regex is not a choice of sequences (a future ftfy), and then no line with
    a non-ASCII character skips ftfy."""
    try:
        from re import _constants as constants  # type: ignore[attr-defined]
        from re import _parser as parser  # type: ignore[attr-defined]
    except ImportError:  # Python 3.10
        import sre_constants as constants
        import sre_parse as parser
    from ftfy.badness import BADNESS_RE

    def characters(item: tuple[object, object]) -> frozenset[str] | None:
        op, value = item
        if op == constants.LITERAL:
            return frozenset(chr(value))  # type: ignore[arg-type]
        if op != constants.IN:
            return None  # a category, an anchor, a repeat: no set the position must come from
        found: set[str] = set()
        for member, argument in value:  # type: ignore[attr-defined]
            if member == constants.LITERAL:
                found.add(chr(argument))
            elif member == constants.RANGE:
                found.update(map(chr, range(argument[0], argument[1] + 1)))
            else:  # a negated class or a category: any character
                return None
        return frozenset(found)

    if BADNESS_RE.flags & re.IGNORECASE:  # the classes would not list every character they match
        return None
    pattern = parser.parse(BADNESS_RE.pattern, BADNESS_RE.flags)
    if len(pattern.data) != 1 or pattern.data[0][0] != constants.BRANCH:
        return None
    alternatives = []
    for alternative in pattern.data[0][1][1]:
        positions = tuple(found for found in map(characters, alternative) if found)
        if not positions:
            return None
        alternatives.append(positions)
    return tuple(alternatives)


def _badness_bits(
    alternatives: tuple[tuple[frozenset[str], ...], ...] | None,
) -> tuple[re.Pattern[str], dict[str, int], tuple[int, ...]] | None:
    """:func:`_badness_positions` for quick tests: a class of the non-ASCII characters of the
    positions, each such character's bits (one bit per position it is in), and each
    alternative's bits. A position with an ASCII character in it counts as found in every text
    (every line has ASCII letters or spaces): it has no bit."""
    if alternatives is None:
        return None
    bits: dict[str, int] = {}
    needs = []
    bit = 1
    for positions in alternatives:
        need = 0
        for position in positions:
            if any(ch.isascii() for ch in position):
                continue
            for ch in position:
                bits[ch] = bits.get(ch, 0) | bit
            need |= bit
            bit <<= 1
        needs.append(need)
    evidence = re.compile("[" + "".join(re.escape(ch) for ch in sorted(bits)) + "]")
    return evidence, bits, tuple(needs)


_BADNESS_BITS = _badness_bits(_badness_positions())


def _may_look_like_mojibake(segment: str) -> bool:
    """Whether ``is_bad(segment)`` can be true: some alternative of its regex finds a character
    of ``segment`` in each of its positions (:func:`_badness_positions`). A class search and a
    few bit tests: 12 µs against ``is_bad``'s 70 on a line of the bench corpus, 2 µs when the
    class finds nothing."""
    if _BADNESS_BITS is None:
        return True
    evidence, bits, needs = _BADNESS_BITS
    if evidence.search(segment) is None:
        return 0 in needs
    present = 0
    for ch in bits.keys() & set(segment):
        present |= bits[ch]
    return any(present & need == need for need in needs)


#: What the fixes of :data:`FTFY_CONFIG` other than the mojibake repair act on: ``&`` (entities),
#: ftfy's ``CONTROL_CHARS``, the escape that starts a terminal escape, the line breaks of
#: ``fix_line_breaks`` (``\r``, U+2028, U+2029; U+0085 is a C1 control), C1 controls and the
#: surrogates. (Widths, ligatures and quotes are off.)
_FTFY_OTHER_WORK = re.compile(
    "["
    + "".join(re.escape(ch) for ch in sorted(set(map(chr, CONTROL_CHARS)) | {"&", "\r", "\x1b", "\u2028", "\u2029"}))
    + "\x80-\x9f\ud800-\udfff]"
)


def _ftfy_leaves_alone(segment: str) -> bool:
    """Whether ftfy, as :data:`FTFY_CONFIG` sets it, returns ``segment`` unchanged, from tests
    cheaper than its own: an ASCII line without ``&`` and controls, or a line in NFC without a
    character its other fixes act on (:data:`_FTFY_OTHER_WORK`) that cannot look like mojibake
    (:func:`_may_look_like_mojibake`)."""
    if segment.isascii():
        return _FTFY_ASCII_WORK.search(segment) is None
    return (
        _FTFY_OTHER_WORK.search(segment) is None
        and not _may_look_like_mojibake(segment)
        and unicodedata.is_normalized("NFC", segment)
    )


def fix_with_ftfy(text: str, fix_mojibake: bool = True, by_line: bool = True) -> tuple[str, tuple[str, ...]]:
    """ftfy's repairs, line by line as ``ftfy.fix_text`` does (``by_line=False``: the text as
    one segment, as ``ftfy.fix_text_segment`` does), keeping ftfy's explanations as fix names.

    >>> fix_with_ftfy("The Mona Lisa doesnÃ¢â‚¬â„¢t have eyebrows.")
    ('The Mona Lisa doesn’t have eyebrows.', ('mojibake',))
    """
    config = FTFY_CONFIG if fix_mojibake else FTFY_CONFIG._replace(fix_encoding=False)
    names: list[str] = []
    out: list[str] = []
    pos = 0
    while pos < len(text):
        textbreak = (text.find("\n", pos) + 1 or len(text)) if by_line else len(text)
        textbreak = min(textbreak, pos + config.max_decode_length)
        segment = text[pos:textbreak]
        if config.unescape_html == "auto" and "<" in segment:  # from this segment on, as before
            config = config._replace(unescape_html=False)
        if _ftfy_leaves_alone(segment):  # most lines of most texts
            out.append(segment)
            pos = textbreak
            continue
        fixed, explanation = ftfy.fix_and_explain(segment, config)
        if fixed != segment:
            for step in explanation or ():
                action, parameter = step
                if action in ("encode", "decode", "transcode"):
                    name = "mojibake"
                elif action == "normalize":
                    name = "unicode_nfc"
                else:
                    name = _FTFY_FIX_NAMES.get(parameter, parameter)
                if name not in names:
                    names.append(name)
        out.append(fixed)
        pos = textbreak
    return "".join(out), tuple(names)


#: No-break and other Unicode spaces (U+2000 to U+200A included).
_NONBREAKING_CHARS = "\u00a0\u1680" + "".join(map(chr, range(0x2000, 0x200B))) + "\u202f\u205f"
#: Zero-width space, word joiner, BOM, soft hyphen. ZWJ/ZWNJ are kept: scripts and emoji need them.
_INVISIBLE_CHARS = "\u200b\u2060\ufeff\u00ad"
_NONBREAKING = re.compile(f"[{_NONBREAKING_CHARS}]")
_INVISIBLE = re.compile(f"[{_INVISIBLE_CHARS}]")
_TRAILING_SPACE = re.compile(r"[ \t\f\v]+$", re.MULTILINE)
_BLANK_RUNS = re.compile(r"\n{3,}")


def _may_have_trailing_space(text: str) -> bool:
    """False when ``_TRAILING_SPACE`` cannot match: no space before a line break or at the end,
    and no tab, form feed or vertical tab at all. Substring tests, so most texts skip the regex
    (it tries a match at every space, which made it the dearest step)."""
    return text[-1:] in (" ", "\t", "\f", "\v") or " \n" in text or "\t" in text or "\f" in text or "\v" in text


def normalize_whitespace(text: str) -> tuple[str, tuple[str, ...]]:
    """Plain spaces, no invisible characters, no trailing spaces, one blank line between
    paragraphs, no leading or trailing whitespace. Spaces inside a line and indentation are
    kept: they are the author's.

    Each step runs only when a cheap test (``str.isascii``, ``in``) finds something for it to
    change, so text that is already clean comes back unchanged at a fraction of the cost.

    >>> normalize_whitespace("\\n\\n Hong\\u00a0Kong  \\n\\n\\n\\nnext\\u200b line \\n\\n")
    ('Hong Kong\\n\\nnext line', ('nonbreaking_spaces', 'invisible_characters', 'whitespace', 'blank_lines'))
    """
    fixes: list[str] = []

    def step(name: str, new: str) -> None:
        nonlocal text
        if new != text:
            if name not in fixes:
                fixes.append(name)
            text = new

    if not text.isascii():
        if any(char in text for char in _NONBREAKING_CHARS):
            step("nonbreaking_spaces", _NONBREAKING.sub(" ", text))
        if any(char in text for char in _INVISIBLE_CHARS):
            step("invisible_characters", _INVISIBLE.sub("", text))
    if _may_have_trailing_space(text):
        step("whitespace", _TRAILING_SPACE.sub("", text))
    if "\n\n\n" in text:
        step("blank_lines", _BLANK_RUNS.sub("\n\n", text).strip("\n"))
    elif text[:1] == "\n" or text[-1:] == "\n":
        step("blank_lines", text.strip("\n"))
    step("whitespace", text.strip())  # spaces before the first and after the last word
    return text, tuple(fixes)


def repair_text(text: str, config: DecodeConfig | None = None) -> tuple[str, tuple[str, ...]]:
    """Every text-level repair, in order; returns the text and the fixes applied.

    >>> repair_text("\\n\\nChina\\\\u2019s AI&amp;hellip; \\n")
    ('China’s AI…', ('literal_escapes', 'double_escaped_entities', 'html_entities', 'whitespace', 'blank_lines'))
    """
    config = config or DecodeConfig()
    fixes: list[str] = []
    steps = []
    if config.decode_literal_escapes:
        steps.append(decode_literal_escapes)
    steps.append(unescape_double_escaped_entities)
    steps.append(lambda t: fix_with_ftfy(t, config.fix_mojibake))
    steps.append(normalize_whitespace)
    for step in steps:
        text, names = step(text)
        fixes.extend(n for n in names if n not in fixes)
    return text, tuple(fixes)


class DecodeStage:
    """Bytes to text (or markup) and character repair of plain text."""

    name = "decode"

    def __init__(self, config: DecodeConfig) -> None:
        self.config = config

    def __call__(self, batch: Sequence[Record]) -> StageResult:
        return map_records(self.name, batch, self.process)

    def process(self, record: Record) -> Record | Rejected:
        fixes: tuple[str, ...] = ()
        changes: dict[str, object] = {}
        if record.raw is not None:
            decoded = decode_bytes(record.raw, record.declared_charset)
            if decoded is None:
                return record.reject(self.name, Reason.DECODE_FAILED, "binary or undecodable bytes", text=None)
            fixes = decoded.fixes
            changes.update(raw=None, source_encoding=decoded.encoding)
            if record.markup_kind is not None:
                changes["markup"] = decoded.text
            else:
                changes["text"] = decoded.text
        markup = changes.get("markup", record.markup)
        text = changes.get("text", record.text)
        if not self.config.enabled:
            return dataclasses.replace(record, **changes, fixes=record.with_fixes(fixes))
        if isinstance(markup, str):
            # Markup is repaired after extraction, as text. Escapes are decoded before only in
            # fragments (double-encoded JSON content: `<\/p>` would break the parse); never in
            # whole pages, whose scripts and JSON-LD hold escapes that are right where they are.
            if record.markup_kind == "fragment" and self.config.decode_literal_escapes:
                markup, escape_fixes = decode_literal_escapes(markup)
                changes["markup"] = markup
                fixes += escape_fixes
        elif isinstance(text, str):
            text, text_fixes = repair_text(text, self.config)
            changes["text"] = text
            fixes += text_fixes
        return dataclasses.replace(record, **changes, fixes=record.with_fixes(fixes))
