"""Charset decisions: which codec turns a document's bytes into its text.

The first step that applies decides. Each rule is general (no file names, no one-off fixes):

1. **BOM.** A UTF-8/16/32 byte-order mark names the codec (fix ``bom``).
2. **ISO-2022.** 7-bit bytes with ISO-2022 designations (``ESC $ B``, ``ESC $ ) C`` …) are
   ISO-2022-JP or -KR. They are valid ASCII too, so this comes before UTF-8 (fix ``encoding_detected``).
3. **Control bytes.** More than 1% control bytes (other than whitespace and ESC, which starts terminal
   escapes) means UTF-16/32 without a BOM (charset-normalizer decides), or NUL padding around valid
   UTF-8 text (kept as it is), or else binary data: ``None``.
4. **Strict UTF-8.** The fast path: the detector never runs for ASCII or UTF-8 input.
5. **Declared charset.** The ``declared`` argument, then an HTML ``<meta>`` or XML prolog in the first
   4 kB, read as browsers read labels (WHATWG): ``x-sjis`` is Shift_JIS, ``iso-8859-1`` is
   windows-1252, ``tis-620`` is windows-874 (the Windows page has punctuation where the ISO page has
   C1 controls, which text never holds). The declared codec decodes if it can, else the smallest
   superset that can (``shift_jis`` → ``cp932``, ``euc-kr`` → ``cp949``, ``gb2312`` → ``gbk``).
   A UTF-8/16/32 declaration is ignored: these bytes are not UTF-8 and have no BOM and no NULs.
6. **Detection** (fix ``encoding_detected``). charset-normalizer proposes candidates, then:

   * **Single-byte Latin code pages.** When its answer is one, the common Latin pages and its own
     Latin candidates are scored again by :func:`latin_evidence`, because its measure ties on them
     (the same bytes are letters in cp1250, cp1252 and cp775 alike). The letters a page makes of
     the bytes >= 0x80 are scored by their frequency in the language that fits the whole text best
     (langdetect's profiles), with penalties for shapes text does not have (a C1 control, a symbol
     inside a word, a capital right after a small letter), plus a prior for how common the page is.
   * **No UTF-16/32 guesses.** These bytes have (almost) no NULs, so a UTF-16/32 answer yields to the
     detector's next candidate.
   * **CJK families.** Within Shift_JIS, EUC-JP, GB, Big5 and EUC-KR the base standard is used when
     it decodes the bytes (its mapping is the reference one: Shift_JIS 0x8160 is U+301C WAVE DASH,
     cp932 makes it U+FF5E), else the smallest superset that does.
7. **Fallback.** UTF-8 with U+FFFD replacement characters (fix ``replacement_characters``).

Measured on chardet's labelled files with ``python -m bench.evals.charset``.
"""

from __future__ import annotations

import codecs
import functools
import json
import math
import os
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

import charset_normalizer

__all__ = ["Decoded", "declared_charset", "decode_bytes", "latin_evidence"]


@dataclass(frozen=True)
class Decoded:
    """Text decoded from bytes: the codec used and the fixes it took."""

    text: str
    encoding: str
    fixes: tuple[str, ...] = ()


_BOM_CODECS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)

_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([a-zA-Z0-9_.:-]+)""", re.IGNORECASE)
_XML_ENCODING = re.compile(rb"""^\s*<\?xml[^>]*encoding\s*=\s*["']([a-zA-Z0-9_.:-]+)["']""", re.IGNORECASE)

#: WHATWG encoding labels that Python's codec registry does not know (or knows as another codec).
#: Pages use the labels browsers accept, so a declaration is read the way a browser reads it.
_WHATWG_LABELS = {
    "x-sjis": "shift_jis",
    "windows-31j": "cp932",
    "x-euc-jp": "euc_jp",
    "windows-949": "cp949",
    "x-windows-949": "cp949",
    "x-gbk": "gbk",
    "gb_2312-80": "gb2312",
    "csgb2312": "gb2312",
    "iso-ir-58": "gb2312",
    "csiso58gb231280": "gb2312",
    "cn-big5": "big5",
    "x-x-big5": "big5",
    "x-mac-roman": "mac_roman",
    "x-mac-cyrillic": "mac_cyrillic",
    "x-mac-ukrainian": "mac_cyrillic",
    "windows-874": "cp874",
    "dos-874": "cp874",
    "iso-8859-8-i": "iso8859_8",
    "csiso88598i": "iso8859_8",
    "logical": "iso8859_8",
    "visual": "iso8859_8",
    "koi8-ru": "koi8_u",
    "unicode-1-1-utf-8": "utf-8",
    **{f"x-cp{n}": f"cp{n}" for n in range(1250, 1259)},
}

#: WHATWG: these labels mean the Windows code page on the web. The ISO code page has C1 control
#: characters at 0x80-0x9F where the Windows one has punctuation (’ “ ” – … €), and text never holds
#: C1 controls; elsewhere the two are the same.
_WEB_DECODERS = {
    "iso8859-1": "cp1252",
    "latin-1": "cp1252",
    "ascii": "cp1252",
    "iso8859-9": "cp1254",
    "tis-620": "cp874",
    "iso8859-11": "cp874",
}

#: Codec families, tried in order until one decodes the bytes strictly.
_FAMILIES = (
    # CJK: the base standard first, then its supersets (vendor extensions), smallest first. Where
    # the base standard decodes the bytes its mapping is the reference one (Shift_JIS 0x8160 is
    # U+301C WAVE DASH, which cp932 maps to U+FF5E); a superset is only needed for extension bytes.
    ("shift_jis", "cp932", "shift_jis_2004"),
    ("euc_jp", "euc_jis_2004"),
    ("gb2312", "gbk", "gb18030"),
    ("big5", "cp950", "big5hkscs"),
    ("euc_kr", "cp949"),
    # Single-byte ISO/Windows pairs: the Windows page first (see _WEB_DECODERS); the ISO page only
    # when the Windows one cannot decode a byte (0x81, 0x8D … are unassigned in cp1252).
    ("cp1252", "latin-1"),
    ("cp1254", "iso8859-9"),
    ("cp874", "tis-620"),
)


def _codec(name: str | None) -> str | None:
    """Python's canonical name for a codec or an encoding label, or None when unknown."""
    if not name:
        return None
    name = _WHATWG_LABELS.get(name.strip().lower(), name.strip())
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


@functools.cache
def _family_of(codec: str) -> tuple[str, ...]:
    """The codec followed by its supersets, as canonical names (just the codec if it has no family)."""
    for family in _FAMILIES:
        names = [_codec(name) for name in family]
        if codec in names:
            return tuple(n for n in names[names.index(codec) :] if n)
    return (codec,)


@functools.cache
def _base_of_family(codec: str) -> tuple[str, ...]:
    """The whole family a (possibly superset) codec belongs to, base standard first."""
    for family in _FAMILIES:
        names = tuple(n for n in (_codec(name) for name in family) if n)
        if codec in names:
            return names
    return (codec,)


def _try_decode(data: bytes, codec_names: Iterable[str]) -> tuple[str, str] | None:
    """The first codec that decodes the bytes strictly, with its text."""
    for name in codec_names:
        try:
            return data.decode(name), name
        except (UnicodeDecodeError, LookupError):
            continue
    return None


def declared_charset(data: bytes) -> str | None:
    """The charset an HTML ``<meta>`` or XML prolog declares in the first 4 kB, as a Python
    codec name, or None. Web labels Python does not know (``x-sjis``, ``windows-874`` …) are
    mapped as browsers map them.

    >>> declared_charset(b'<html><meta charset="ISO-8859-2">')
    'iso8859-2'
    >>> declared_charset(b'<meta http-equiv="Content-Type" content="text/html; charset=x-sjis">')
    'shift_jis'
    """
    head = data[:4096]
    match = _XML_ENCODING.match(head) or _META_CHARSET.search(head)
    if not match:
        return None
    return _codec(match.group(1).decode("ascii", errors="replace"))


# -- ISO-2022 -------------------------------------------------------------------------------------

#: Designations of a double-byte set (ESC $ …) or of JIS X 0201 (ESC ( J / ESC ( I): these only occur
#: in ISO-2022 text; an ANSI terminal escape (ESC [) is not one.
_ISO2022_DESIGNATION = re.compile(rb"\x1b(?:\$[@AB]|\$\([@ABCDOPQ]|\$\)[ACG]|\([BIJ]|\.[AF])")
_ISO2022_KR = re.compile(rb"\x1b\$\)C")
_ISO2022_JP_CODECS = ("iso2022_jp", "iso2022_jp_ext", "iso2022_jp_1", "iso2022_jp_2", "iso2022_jp_2004", "iso2022_jp_3")


def _decode_iso2022(data: bytes) -> Decoded | None:
    """7-bit bytes with ISO-2022 designations, decoded with the ISO-2022 codec they need.

    Rule: ISO-2022 text is pure 7-bit, so strict UTF-8 would accept it and keep the escapes as
    text; designations are tested first. The KR designation means ISO-2022-KR; otherwise the
    smallest ISO-2022-JP variant that decodes strictly is taken.
    """
    if b"\x1b" not in data or not data.isascii() or not _ISO2022_DESIGNATION.search(data):
        return None
    order = ("iso2022_kr", *_ISO2022_JP_CODECS) if _ISO2022_KR.search(data) else _ISO2022_JP_CODECS
    decoded = _try_decode(data, order)
    if decoded is None:
        return None
    text, name = decoded
    return Decoded(text, codecs.lookup(name).name, ("encoding_detected",))


# -- NUL bytes and binary data ----------------------------------------------------------------------

#: Bytes that text holds: printable ASCII, whitespace, all bytes >= 0x80, and ESC, which starts the
#: terminal escapes of coloured logs (repair removes them): text, not binary data.
_NOT_CONTROL = bytes([9, 10, 12, 13, 27, *range(32, 256)])


def _mostly_text(data: bytes) -> bool:
    """True when at most 1% of the bytes (of the first 64 kB) are control bytes other than
    whitespace and ESC."""
    sample = data[:65536]
    return len(sample.translate(None, _NOT_CONTROL)) <= len(sample) / 100


def _decode_nul_heavy(data: bytes) -> Decoded | None:
    """Bytes with many control bytes: UTF-16/32 without a BOM, NUL-padded text, or binary (None)."""
    best = charset_normalizer.from_bytes(data).best()
    if best is not None and best.encoding.startswith(("utf_16", "utf_32")):
        return Decoded(str(best), best.encoding.replace("_", "-"), ("encoding_detected",))
    # Rule: NUL bytes around or between clean UTF-8 text are padding (a file system or a server
    # filled a block with zeros), not binary content: with the NULs removed the rest must be valid
    # UTF-8 with no other control bytes. The NULs are kept: decoding is faithful, repair removes them.
    rest = data.replace(b"\x00", b"")
    if not rest or not _mostly_text(rest):
        return None
    try:
        return Decoded(data.decode("utf-8"), "utf-8")
    except UnicodeDecodeError:
        return None


# -- language evidence for single-byte Latin code pages ------------------------------------------

#: Single-byte code pages whose letters are Latin script (canonical Python names).
_LATIN = frozenset(
    _codec(n)
    for n in (
        "cp1250 cp1252 cp1254 cp1257 cp1258 latin-1 iso8859_2 iso8859_3 iso8859_4 iso8859_9 iso8859_10"
        " iso8859_13 iso8859_14 iso8859_15 iso8859_16 mac_roman mac_latin2 mac_iceland mac_turkish"
        " mac_croatian mac_romanian cp437 cp850 cp852 cp857 cp858 cp860 cp861 cp863 cp865 cp775 hp_roman8"
    ).split()
)

#: Log prior of each Latin code page, in nats: how common it is for web and document text.
#: windows-1252 (and ISO-8859-1, its subset) is by far the most common legacy code page; the
#: Central European, Turkish and Baltic pages come next; DOS, Mac and the rarer ISO pages
#: (cp775, hp_roman8, cp1258, iso8859_10 …) need clear letter evidence to win.
_LATIN_PRIOR = {
    "cp1252": 0.0,
    "iso8859-1": -0.5,
    "iso8859-15": -1.5,
    "cp1250": -1.0,
    "iso8859-2": -1.0,
    "cp1254": -1.5,
    "iso8859-9": -1.5,
    "cp1257": -2.0,
    "iso8859-13": -2.0,
    "iso8859-4": -3.0,
    "iso8859-16": -3.0,
}
_EXOTIC_PRIOR = -5.0

#: Latin code pages always scored, besides the detector's own Latin candidates: the common ones.
_LATIN_POOL = (*_LATIN_PRIOR, "mac-roman")

#: langdetect's profiles of languages written in Latin script (letter frequencies from Wikipedia).
_LATIN_LANGUAGES = (
    "af ca cs cy da de en es et fi fr hr hu id it lt lv nl no pl pt ro sk sl so sq sv sw tl tr vi".split()
)

#: Letter frequencies (percent) of Latin-script languages langdetect has no profile for, from the
#: published letter-frequency tables. Without Icelandic, its ð and þ fit no language and Icelandic
#: cp1252 text reads better as Baltic cp1257 (ð → š, þ → ž).
_EXTRA_LETTER_FREQUENCIES = {
    "is": "a:10.11 á:1.80 b:1.04 d:1.58 ð:4.39 e:6.42 é:0.65 f:3.01 g:4.24 h:1.87 i:7.58 í:1.57 j:1.14 k:3.31"
    " l:4.53 m:4.04 n:7.71 o:2.17 ó:0.99 p:0.79 r:8.58 s:5.63 t:4.95 u:4.56 ú:0.61 v:2.44 x:0.05 y:0.90"
    " ý:0.23 þ:1.46 æ:0.87 ö:0.78",
}

#: Log-probability scores (nats) of what a code page makes of a byte >= 0x80, other than a letter
#: (a letter scores its log frequency in the language). Rough rates per character of web text:
_LETTER_FLOOR = math.log(1e-5)  # a letter the language's profile does not list (profiles keep >~1e-4)
_CAPITAL_AFTER_SMALL = math.log(1e-3)  # "BlanchardÕs": a capital letter right after a small one
_PUNCTUATION_RATE = math.log(1e-3)  # typographic punctuation: ’ “ ” – … €, no-break space, an apostrophe in a word
_SYMBOL_RATE = math.log(1e-4)  # other symbols beside a word or standing alone: © ° ± §
_SYMBOL_IN_WORD = math.log(1e-6)  # a symbol between two letters (ť read as », ą as ±) is an artefact
_CONTROL = math.log(1e-9)  # C1 control or unassigned code point: text does not contain these

_PUNCTUATION = frozenset("“”„‚‘’«»‹›–—…•·€\u00a0\u00ad´")
_IN_WORD_PUNCTUATION = frozenset("’‘´·\u00ad")  # apostrophes, the Catalan middle dot, soft hyphen

_HIGH_RUN = re.compile(rb"[\x80-\xff]+")
_MAX_HIGH_BYTES = 50000
_MAX_PROSE = 1 << 20
_MARKUP = re.compile(rb"<[^<>]{0,1000}>|&#?[A-Za-z0-9]{1,32};|https?://[^\s<>\"']+")


@functools.lru_cache(maxsize=1)
def _letter_log_frequencies() -> dict[str, dict[str, float]]:
    """Per Latin-script language: log relative frequency of each letter, case folded."""
    from langdetect.detector_factory import PROFILES_DIRECTORY  # lazy: only for non-UTF-8 Latin bytes

    models: dict[str, dict[str, float]] = {}
    for code in _LATIN_LANGUAGES:
        path = os.path.join(PROFILES_DIRECTORY, code)
        if not os.path.exists(path):
            continue
        with open(path, encoding="utf-8") as handle:
            profile = json.load(handle)
        counts: Counter[str] = Counter()
        for gram, count in profile["freq"].items():
            if len(gram) == 1 and gram.isalpha():
                counts[_fold(gram)] += count
        total = sum(counts.values())
        models[code] = {letter: math.log(count / total) for letter, count in counts.items()}
    for code, table in _EXTRA_LETTER_FREQUENCIES.items():
        percents = {letter: float(value) for letter, value in (item.split(":") for item in table.split())}
        total = sum(percents.values())
        models[code] = {letter: math.log(percent / total) for letter, percent in percents.items()}
    return models


def _fold(letter: str) -> str:
    """Case folding that keeps one character (``İ`` lower-cases to two)."""
    lower = letter.lower()
    return lower if len(lower) == 1 else letter


def _shape_score(char: str, before: str, after: str) -> float:
    """Score of a non-letter character decoded from a byte >= 0x80, from its neighbours."""
    if unicodedata.category(char) in ("Cc", "Cn", "Co", "Cs"):
        return _CONTROL
    inside = before.isalpha() and after.isalpha()
    if char in _IN_WORD_PUNCTUATION:
        return _PUNCTUATION_RATE
    if inside:
        return _SYMBOL_IN_WORD
    return _PUNCTUATION_RATE if char in _PUNCTUATION else _SYMBOL_RATE


@functools.cache
def _byte_table(codec: str) -> tuple[str | None, ...] | None:
    """What a single-byte code page makes of each byte (None: unassigned); None if not single-byte."""
    table: list[str | None] = []
    for byte in range(256):
        try:
            char = bytes([byte]).decode(codec)
        except UnicodeDecodeError:
            char = None
        except LookupError:
            return None
        if char is not None and len(char) != 1:
            return None
        table.append(char)
    return tuple(table)


def latin_evidence(data: bytes, codec_names: Iterable[str]) -> list[tuple[float, str]]:
    """Score single-byte Latin code pages for ``data``, best first: ``[(score, codec), ...]``.

    Only the bytes >= 0x80 differ between these code pages, so only they are read, each with its
    neighbours. For each code page: its prior, the shape penalties of what it makes of those
    bytes (control characters, symbols inside words, capitals after small letters), and the log
    frequency of the letters in the language (langdetect's Latin-script profiles) that fits the
    whole text best. A code page that cannot decode the bytes is left out.

    >>> text = "Příliš žluťoučký kůň úpěl ďábelské ódy; šťastný Šimon žije v Žatci. "
    >>> [codec for _, codec in latin_evidence(text.encode("iso8859-2"), ["cp1250", "iso8859-2"])]
    ['iso8859-2', 'cp1250']
    """
    # Each byte >= 0x80 with its two neighbours, counted (the same contexts recur in a text).
    padded = b" " + data + b" "
    contexts: Counter[bytes] = Counter()
    seen = 0
    for run in _HIGH_RUN.finditer(padded):
        start, end = run.span()
        contexts.update(padded[i - 1 : i + 2] for i in range(start, end))
        seen += end - start
        if seen >= _MAX_HIGH_BYTES:
            break
    if not contexts:
        return []
    high = {context[1] for context in contexts}
    # The language is read from all the letters of the text (markup removed), not only from the
    # words with bytes >= 0x80: "£2" in an English page must not be "Ł2" because Ł is Polish.
    prose = _MARKUP.sub(b" ", data[:_MAX_PROSE]).lower()
    ascii_letters = Counter({chr(b): prose.count(b) for b in range(97, 123)})
    models = _letter_log_frequencies()
    scored: list[tuple[float, str]] = []
    for name in dict.fromkeys(filter(None, map(_codec, codec_names))):
        table = _byte_table(name)
        if table is None or any(table[b] is None for b in high):
            continue  # not a single-byte code page, or one that cannot decode these bytes
        letters = Counter(ascii_letters)
        shape = 0.0
        for context, count in contexts.items():
            before, char, after = (table[b] or "\ufffd" for b in context)
            if unicodedata.combining(char):
                # cp1258 encodes tones as combining marks: score the letter they make with the one
                # before (which was counted alone) instead of a mark
                char = unicodedata.normalize("NFC", before + char)
                if len(char) != 1 or not char.isalpha():
                    shape += count * _SYMBOL_IN_WORD
                    continue
                letters[_fold(before)] -= count
            if char.isalpha():
                letters[_fold(char)] += count
                if char.isupper() and before.isalpha() and before.islower():
                    shape += count * _CAPITAL_AFTER_SMALL
            else:
                shape += count * _shape_score(char, before, after)
        fit = max(
            sum(count * model.get(letter, _LETTER_FLOOR) for letter, count in letters.items() if count > 0)
            for model in models.values()
        )
        scored.append((_LATIN_PRIOR.get(name, _EXOTIC_PRIOR) + shape + fit, name))
    scored.sort(key=lambda item: -item[0])
    return scored


# -- detection ------------------------------------------------------------------------------------


def _detect(data: bytes) -> Decoded | None:
    """charset-normalizer's candidates, then the family and Latin decisions of step 6."""
    matches = charset_normalizer.from_bytes(data)
    # Rule: bytes that get here have (almost) no NULs, which UTF-16/32 text would have for every
    # space, digit or line break; on short CJK text the detector's UTF-16 guess yields to its next one.
    best = next((m for m in matches if not m.encoding.startswith(("utf_16", "utf_32"))), None) or matches.best()
    if best is None:
        return None
    detected = _codec(best.encoding) or best.encoding
    if detected in _LATIN:
        # Rule: among Latin code pages the detector's chaos measure often ties (the same bytes are
        # all letters in cp1250, cp1252 and cp775); the letters each one produces decide instead.
        candidates = [*_LATIN_POOL, *(c for c in (_codec(m.encoding) for m in matches) if c in _LATIN)]
        decoded = _try_decode(data, [name for _, name in latin_evidence(data, candidates)])
        if decoded is not None:
            return Decoded(decoded[0], decoded[1], ("encoding_detected",))
    # Rule: within a family, the first member that decodes (CJK: the base standard, then its
    # supersets; an ISO/Windows pair: the Windows page, then the ISO page), see _FAMILIES.
    family = _base_of_family(detected)
    decoded = _try_decode(data, family) if len(family) > 1 else None
    if decoded is not None:
        return Decoded(decoded[0], decoded[1], ("encoding_detected",))
    return Decoded(str(best), detected, ("encoding_detected",))


def decode_bytes(data: bytes, declared: str | None = None) -> Decoded | None:
    """Bytes to text, by the decision order of this module's docstring. None when the bytes are
    binary data, not text.

    >>> decode_bytes("café".encode("cp1252"), declared="cp1252").text
    'café'
    >>> decode_bytes("Grüße".encode())
    Decoded(text='Grüße', encoding='utf-8', fixes=())
    >>> decode_bytes("ファイル".encode("iso2022_jp")).encoding
    'iso2022_jp'
    """
    for bom, codec in _BOM_CODECS:
        if data.startswith(bom):
            try:
                return Decoded(data.decode(codec), codec.replace("-sig", ""), ("bom",))
            except UnicodeDecodeError:
                break
    iso2022 = _decode_iso2022(data)
    if iso2022 is not None:
        return iso2022
    if not _mostly_text(data):
        return _decode_nul_heavy(data)
    try:
        return Decoded(data.decode("utf-8"), "utf-8")
    except UnicodeDecodeError:
        pass
    for candidate in (declared, declared_charset(data)):
        name = _codec(candidate)
        if name is None or name.startswith(("utf-8", "utf-16", "utf-32")):
            # an unknown label; or a Unicode one, wrong for these bytes: not UTF-8 (step 4), and no BOM
            # and no NULs as UTF-16/32 would have (an ASCII <meta> or prolog is not UTF-16 itself)
            continue
        # Rule: read the label as a browser does, then fall back to the label's supersets.
        decoded = _try_decode(data, _family_of(_WEB_DECODERS.get(name, name)))
        if decoded is not None:
            return Decoded(*decoded)
    detected = _detect(data)
    if detected is not None:
        return detected
    return Decoded(data.decode("utf-8", errors="replace"), "utf-8", ("replacement_characters",))
