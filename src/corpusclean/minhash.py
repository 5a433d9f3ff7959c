"""Near-duplicate detection core: shingles, MinHash signatures, LSH banding, verification and
connected components, as pure functions over numpy arrays for a whole batch of documents.

The pipeline's dedup stage calls the per-document part (:func:`shingle_sets`,
:func:`signatures`, :func:`band_keys`) in pass 1 and keeps the band keys (and the signatures, for
verification) as side tables; the global step runs :func:`candidate_pairs`,
:func:`verify_pairs` and :func:`connected_components` on those small tables only.

Call the functions on batches (hundreds of documents): a call costs a fixed ~0.2 ms (drawing the
permutations, power tables) on top of ≈0.2 ms per 5.4 kB document for shingles and signatures.

Text → tokens
    NFKC, then ``str.casefold``; tokens are runs of word characters — code points whose Unicode
    general category (Python's ``unicodedata``) is a letter, mark or number, so ``_`` and all
    punctuation separate words. Scripts written without spaces between words — Han, Hiragana,
    Katakana, Thai, Lao, Khmer, Myanmar (fixed code point ranges) — give one token per character,
    so "word n-grams" over them are character n-grams, and a text mixing scripts needs no language
    detection. Hangul is written with spaces and is tokenized by words. Tokens only change across
    Python versions for code points that a newer Unicode version assigns.

Tokens → shingle hashes (no Python code per shingle or per token)
    The normalized texts of a batch are joined into one array of code points (UTF-32) and
    classified in numpy (only the distinct non-ASCII code points are looked up). Each token's
    64-bit hash is a polynomial hash of its code points computed with prefix sums over that array
    (wrapping ``uint64`` arithmetic, made position independent by multiplying with the inverse
    power of the odd base), mixed with its length and the MurmurHash3 64-bit finalizer. An
    n-gram's hash is the sum of its n token hashes times distinct odd multipliers, finalized again
    and truncated to 32 bits; n-grams are contiguous slices of the token hash array, masked where
    they would cross a document end. Shingles are deduplicated per document with one sort of
    ``document << 32 | hash``. All of this is arithmetic on fixed constants: the same text gives the
    same hashes in every process and on every platform, whatever ``PYTHONHASHSEED`` is (Python's
    ``hash()`` is never used). A document with fewer than n tokens (but at least one) has a single
    shingle made of all its tokens; a document without tokens has none.

Shingle hashes → signatures (datasketch-compatible)
    ``scheme="affine32"`` (the default, and datasketch's default since 2.0): each 32-bit shingle
    hash is pre-mixed with the 32-bit MurmurHash3 finalizer, then permuted with
    ``a * h + b mod 2**32`` (``a`` odd), with ``a`` and ``b`` drawn exactly as datasketch draws them
    from ``np.random.RandomState(seed)``; the minimum per document is a ``np.minimum.reduceat`` over
    a (permutations × shingles) block that stays in cache. ``scheme="legacy"`` reproduces
    datasketch's pre-2.0 ``(a * h + b) mod (2**61 - 1) & 0xffffffff`` in ``uint64`` (with its
    wrapping multiplication; more than 10x slower). Given the same 32-bit shingle hashes, a signature
    equals the ``hashvalues`` of ``datasketch.MinHash(num_perm, seed, hashfunc=int,
    scheme=scheme)`` after ``update_batch(hashes)``, and :func:`to_lean_minhash` wraps it for
    ``datasketch.MinHashLSH``. An empty document has datasketch's empty signature (every value
    ``2**32 - 1``).

Signatures → candidate pairs
    ``bands`` bands of ``rows`` consecutive signature values each are hashed (with the band number)
    to one non-zero ``uint64`` key per band: a ``(documents, bands)`` array, 8 bytes per band and
    document, which is the whole LSH index. Empty documents get the key 0 (:data:`EMPTY_KEY`) and
    are never candidates. Candidate pairs come from one argsort per band: documents with the same
    key in a band share a bucket. A bucket with at most ``max_bucket_size`` members yields all its
    pairs; a larger one (boilerplate, templated pages) yields only the pairs between each member
    and the first ``bucket_anchors`` members (smallest indices), so the work stays linear in its
    size. What the cap costs in recall: two members of a huge bucket that are not both similar to
    one of its anchors are not paired *through that bucket* (they still are through any other band
    they share, and through an anchor when both are similar to it, since clusters are connected
    components). Give documents integer ids in a canonical order (for example sorted by
    ``doc_id``) so that the anchors, like everything else, do not depend on input order.

Pairs → clusters
    :func:`verify_pairs` keeps the pairs whose Jaccard similarity — estimated from the signatures,
    or exact from the shingle sets when given — reaches the threshold; :func:`connected_components`
    labels each document with the smallest index in its component (vectorized hooking and pointer
    jumping over the pairs, never documents × documents).

Passages
    :func:`split_paragraphs` takes each non-empty line as a paragraph (plain-text corpora put one
    paragraph on a line, extracted HTML puts a blank line between them; a blank-line rule alone
    made one 400-word "paragraph" of a text with a single blank line in it);
    :func:`passages` keeps the paragraphs with at least ``min_words`` tokens and returns them with
    their document and paragraph index, so the same machinery clusters them across documents
    (:func:`passage_clusters`).

Defaults, chosen by measurement on the labelled set of ``bench/evals/neardup.py`` (610 documents
from 171 real articles, 1,014 positive pairs; ``python -m bench.evals.neardup`` prints the sweep):
word 3-grams (exact-Jaccard upper bound at threshold 0.5: F1 0.992 for 3-grams, 0.974 for 4,
0.969 for 5 — edits and truncation break fewer short shingles); threshold 0.4 (the hard negatives,
articles sharing a quoted paragraph, reach Jaccard 0.27, positives go down to 0.29: precision is
1.0 from 0.3 up, recall falls from 0.5 up); 128 permutations in 32 bands × 4 rows (256 bytes of
index per document; its S-curve is at ≈0.42, and 4 rows keep random collisions between unrelated
articles — mean 3-gram Jaccard 0.0006, 99.9th percentile 0.036 — near 5e-5 per pair, where 3 rows
would give about 30 times more candidates). Result with signature-estimate verification: P 1.000,
R 0.990, F1 0.995; plain datasketch (5-grams, t=0.8): R 0.255, F1 0.407. Passages: 3-grams,
threshold 0.6, at least 20 tokens: every shared quote found.
"""

from __future__ import annotations

import itertools
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, NamedTuple

import numpy as np
import regex

if TYPE_CHECKING:
    from datasketch import LeanMinHash

__all__ = [
    "DEFAULT_PARAMS",
    "DEFAULT_PASSAGE_MIN_WORDS",
    "DEFAULT_PASSAGE_PARAMS",
    "EMPTY_KEY",
    "MinHashParams",
    "Passages",
    "ShingleSets",
    "band_keys",
    "candidate_pairs",
    "component_members",
    "connected_components",
    "estimated_jaccard",
    "near_duplicate_clusters",
    "normalize_text",
    "passage_clusters",
    "passages",
    "permutations",
    "shingle_jaccard",
    "shingle_sets",
    "signatures",
    "split_paragraphs",
    "to_lean_minhash",
    "token_counts",
    "tokenize",
    "verify_pairs",
]

Scheme = Literal["affine32", "legacy"]

#: The band key of an empty document; never a candidate. Computed keys are never 0.
EMPTY_KEY = 0

# Code point ranges [start, end) of scripts written without spaces between words: Thai, Lao,
# Myanmar, Khmer, CJK radicals and symbols with letters (々〆〇…), Hiragana, Katakana, CJK ideographs
# and their extensions, compatibility ideographs. Fixed here, not taken from a Unicode database,
# so that tokens do not change with the library versions.
_NO_SPACE_RANGES = np.array(
    [
        0x0E00, 0x0F00,  # Thai, Lao
        0x1000, 0x10A0,  # Myanmar
        0x1780, 0x1800,  # Khmer
        0x19E0, 0x1A00,  # Khmer symbols
        0x2E80, 0x2FE0,  # CJK radicals, Kangxi radicals
        0x3005, 0x3008,  # 々 〆 〇
        0x3021, 0x302A,  # Hangzhou numerals
        0x3031, 0x3036,  # kana repeat marks
        0x3038, 0x303D,
        0x3040, 0x3100,  # Hiragana, Katakana
        0x31F0, 0x3200,  # Katakana phonetic extensions
        0x3400, 0x4DC0,  # CJK extension A
        0x4E00, 0xA000,  # CJK unified ideographs
        0xA9E0, 0xAA80,  # Myanmar extensions B and A
        0xF900, 0xFB00,  # CJK compatibility ideographs
        0xFF66, 0xFFA0,  # halfwidth Katakana
        0x20000, 0x40000,  # CJK extensions B–H, compatibility supplement
    ],
    dtype=np.uint32,
)  # fmt: skip
_ASCII_CLASSES = np.array([1 if chr(c).isalnum() else 0 for c in range(128)], dtype=np.int8)
_LINE_SPLIT = regex.compile(r"\r\n|[\n\r]")

_MASK32 = np.uint64(0xFFFFFFFF)
_MERSENNE_PRIME = np.uint64((1 << 61) - 1)
# odd base of the polynomial token hash and its inverse modulo 2**64
_TOKEN_BASE = 0x9E3779B97F4A7C15
_TOKEN_BASE_INVERSE = pow(_TOKEN_BASE, -1, 1 << 64)
_LENGTH_SALT = np.uint64(0xD6E8FEB86659FD93)
# odd multipliers for the position of a token inside a shingle and of a row inside a band
_POSITION_MULTIPLIERS = np.array(
    [((0x9FB21C651E98DF25 + 0x6A09E667F3BCC908 * i) | 1) % (1 << 64) for i in range(64)], dtype=np.uint64
)
_BAND_SALT = np.uint64(0xBF58476D1CE4E5B9)
for _constant in (_NO_SPACE_RANGES, _ASCII_CLASSES, _POSITION_MULTIPLIERS):
    _constant.flags.writeable = False
# characters hashed at once (temporary arrays: 8 bytes × a few per character)
_CHARS_PER_CHUNK = 1 << 18
# tokens combined into n-grams at once
_TOKENS_PER_CHUNK = 1 << 16
# shingles permuted at once for signatures (a permutations × shingles block)
_SHINGLES_PER_CHUNK = 1 << 13


@dataclass(frozen=True)
class MinHashParams:
    """Every knob of near-duplicate detection, with the measured defaults.

    ``bands * rows`` must not exceed ``num_perm``; the permutations past ``bands * rows`` only make
    the estimated Jaccard more precise. ``threshold`` applies to the verification similarity
    (exact shingle Jaccard when shingle sets are given, else the signature estimate).

    >>> p = MinHashParams(ngram=3, num_perm=64, bands=16, rows=4)
    >>> p.index_bytes_per_document
    128
    """

    #: tokens per shingle
    ngram: int = 3
    #: MinHash permutations (signature length)
    num_perm: int = 128
    #: LSH bands, and signature values per band
    bands: int = 32
    rows: int = 4
    #: seed of the permutations (datasketch's default is 1)
    seed: int = 1
    scheme: Scheme = "affine32"
    #: pairs below this Jaccard similarity are not near-duplicates
    threshold: float = 0.4
    #: buckets larger than this yield only the pairs with their first ``bucket_anchors`` members
    max_bucket_size: int = 64
    bucket_anchors: int = 8

    def __post_init__(self) -> None:
        if self.ngram < 1 or self.num_perm < 1 or self.bands < 1 or self.rows < 1:
            raise ValueError("ngram, num_perm, bands and rows must be positive")
        if self.bands * self.rows > self.num_perm:
            raise ValueError(f"bands * rows ({self.bands * self.rows}) exceeds num_perm ({self.num_perm})")
        if self.scheme not in ("affine32", "legacy"):
            raise ValueError(f"scheme must be 'affine32' or 'legacy', got {self.scheme!r}")
        if not 0.0 <= self.threshold <= 1.0:
            raise ValueError("threshold must be between 0 and 1")
        if self.max_bucket_size < 2 or self.bucket_anchors < 1:
            raise ValueError("max_bucket_size must be at least 2 and bucket_anchors at least 1")

    @property
    def index_bytes_per_document(self) -> int:
        """Bytes of band keys kept per document (8 per band)."""
        return 8 * self.bands


#: Defaults for documents (the module docstring says how they were chosen).
DEFAULT_PARAMS = MinHashParams()
#: Defaults for passages (paragraphs): as for documents, but a higher threshold.
DEFAULT_PASSAGE_PARAMS = MinHashParams(threshold=0.6)
#: Paragraphs with fewer tokens are not passages.
DEFAULT_PASSAGE_MIN_WORDS = 20


class ShingleSets(NamedTuple):
    """Sorted distinct 32-bit shingle hashes of many documents, in CSR form: the hashes of document
    ``i`` are ``values[offsets[i]:offsets[i + 1]]``."""

    values: np.ndarray  # uint32
    offsets: np.ndarray  # int64, len = documents + 1

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def get(self, index: int) -> np.ndarray:
        """The shingle hashes of one document.

        >>> shingle_sets(["a b c", ""], ngram=2).get(1)
        array([], dtype=uint32)
        """
        return self.values[self.offsets[index] : self.offsets[index + 1]]

    @property
    def sizes(self) -> np.ndarray:
        """Number of distinct shingles per document.

        >>> shingle_sets(["a b c", "", "x"], ngram=2).sizes
        array([2, 0, 1])
        """
        return np.diff(self.offsets)


class Passages(NamedTuple):
    """Paragraphs long enough to be passages, with where they come from."""

    doc_index: np.ndarray  # int64: index of the document in the batch
    paragraph_index: np.ndarray  # int64: index of the paragraph among all of the document's paragraphs
    texts: list[str]


# --- text --------------------------------------------------------------------------------------


def normalize_text(text: str) -> str:
    """NFKC, then casefold: the text that tokens are taken from.

    >>> normalize_text("Ｆｕｌｌ-width STRASSE")
    'full-width strasse'
    """
    if not unicodedata.is_normalized("NFKC", text):  # the quick check is much cheaper than normalize
        text = unicodedata.normalize("NFKC", text)
    return text.casefold()


def _classify(codepoints: np.ndarray) -> np.ndarray:
    """Per code point: 0 separator, 1 part of a word, 2 a token by itself (scripts without spaces).

    A word character is one whose Unicode general category (Python's ``unicodedata``) is a letter,
    mark or number. Only the distinct non-ASCII code points of the array are looked up in Python.
    """
    classes = _ASCII_CLASSES[np.minimum(codepoints, 127)]
    high = codepoints >= 128
    if high.any():
        distinct, inverse = np.unique(codepoints[high], return_inverse=True)
        word = np.fromiter(
            (unicodedata.category(chr(c))[0] in "LMN" for c in distinct.tolist()), dtype=bool, count=len(distinct)
        )
        alone = (np.searchsorted(_NO_SPACE_RANGES, distinct, side="right") % 2) == 1
        classes[high] = np.where(word, np.where(alone, 2, 1), 0).astype(np.int8)[inverse]
    return classes


def _token_bounds(classes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Start and end (exclusive) positions of the tokens in a classified code point array."""
    previous = np.empty_like(classes)
    previous[0] = 0
    previous[1:] = classes[:-1]
    following = np.empty_like(classes)
    following[-1] = 0
    following[:-1] = classes[1:]
    continues_back = (classes == 1) & (previous == 1)
    continues_forward = (classes == 1) & (following == 1)
    is_token = classes > 0
    return np.flatnonzero(is_token & ~continues_back), np.flatnonzero(is_token & ~continues_forward) + 1


def _codepoints(text: str) -> np.ndarray:
    return np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype="<u4").astype(np.uint32, copy=False)


def tokenize(text: str) -> list[str]:
    """Word tokens of the normalized text (runs of letters, marks and numbers); one token per
    character for scripts written without spaces (Han, Kana, Thai, Lao, Khmer, Myanmar).

    >>> tokenize("Hello, World! It's 2024_05.")
    ['hello', 'world', 'it', 's', '2024', '05']
    >>> tokenize("東京タワーは高い。Seoul 서울 타워")
    ['東', '京', 'タ', 'ワ', 'ー', 'は', '高', 'い', 'seoul', '서울', '타워']
    """
    normalized = normalize_text(text)
    if not normalized:
        return []
    starts, ends = _token_bounds(_classify(_codepoints(normalized)))
    return [normalized[start:end] for start, end in zip(starts.tolist(), ends.tolist(), strict=True)]


def token_counts(texts: Sequence[str]) -> np.ndarray:
    """``len(tokenize(text))`` for each text, for the whole batch in a few array passes: the
    normalized texts joined by line breaks (separators, so no token spans two texts; NFKC and
    casefold are applied text by text) in chunks of about ``_CHARS_PER_CHUNK`` characters, and
    the token starts counted between the texts' ends.

    >>> token_counts(["Hello, World!", "", "東京 tower", "a-b-c"]).tolist()
    [2, 0, 3, 3]
    """
    normalized = [normalize_text(text) for text in texts]
    counts = np.zeros(len(normalized), dtype=np.int64)
    start = 0
    while start < len(normalized):
        stop, length = start, 0
        while stop < len(normalized) and (stop == start or length + len(normalized[stop]) < _CHARS_PER_CHUNK):
            length += len(normalized[stop]) + 1
            stop += 1
        chunk = normalized[start:stop]
        starts, _ = _token_bounds(_classify(_codepoints("\n".join(chunk) + "\n")))
        ends = np.cumsum(np.fromiter((len(text) + 1 for text in chunk), dtype=np.int64, count=len(chunk)))
        counts[start:stop] = np.diff(np.searchsorted(starts, ends, side="left"), prepend=0)
        start = stop
    return counts


# --- hashing primitives ------------------------------------------------------------------------


def _fmix64(h: np.ndarray) -> np.ndarray:
    """MurmurHash3's 64-bit finalizer on a uint64 array (a bijection); modifies ``h``."""
    h ^= h >> np.uint64(33)
    h *= np.uint64(0xFF51AFD7ED558CCD)
    h ^= h >> np.uint64(33)
    h *= np.uint64(0xC4CEB9FE1A85EC53)
    h ^= h >> np.uint64(33)
    return h


def _fmix32(h: np.ndarray) -> np.ndarray:
    """MurmurHash3's 32-bit finalizer on a uint32 array, as datasketch's ``affine32`` pre-mix."""
    h = h ^ (h >> np.uint32(16))
    h *= np.uint32(0x85EBCA6B)
    h ^= h >> np.uint32(13)
    h *= np.uint32(0xC2B2AE35)
    h ^= h >> np.uint32(16)
    return h


def _powers(base: int, exponents: np.ndarray) -> np.ndarray:
    """``base ** exponents`` modulo 2**64 for a non-negative int64 array, from two small tables
    (low 10 bits and the rest of each exponent), so no long sequential product is needed."""
    largest = int(exponents.max()) if len(exponents) else 0
    low = np.full(1024, base, dtype=np.uint64)
    low[0] = 1
    low = np.cumprod(low, dtype=np.uint64)
    high = np.full((largest >> 10) + 1, pow(base, 1024, 1 << 64), dtype=np.uint64)
    high[0] = 1
    high = np.cumprod(high, dtype=np.uint64)
    result = high[exponents >> 10]
    result *= low[exponents & 1023]
    return result


def _power_tables(length: int) -> tuple[np.ndarray, np.ndarray]:
    """``base**j`` and ``base**-j`` modulo 2**64 for ``j < length``."""
    positions = np.arange(max(length, 1), dtype=np.int64)
    return _powers(_TOKEN_BASE, positions), _powers(_TOKEN_BASE_INVERSE, positions)


def _token_hashes(normalized: Sequence[str], tables: tuple[np.ndarray, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """64-bit hashes of all tokens of a batch of normalized texts, and token offsets per text.
    ``tables`` are :func:`_power_tables` at least as long as the texts joined (plus one per text)."""
    # one code point array for the batch; a line break (a separator) after each text keeps
    # tokens from running across texts
    codepoints = _codepoints("\n".join(normalized) + "\n")
    text_ends = np.cumsum(np.fromiter((len(t) + 1 for t in normalized), dtype=np.int64, count=len(normalized)))
    starts, ends = _token_bounds(_classify(codepoints))
    offsets = np.searchsorted(starts, np.concatenate([[0], text_ends]), side="left").astype(np.int64)
    if len(starts) == 0:
        return np.zeros(0, dtype=np.uint64), offsets
    # prefix[i] = sum_{j < i} codepoint[j] * base**j (mod 2**64); a token's hash is its slice of
    # that sum, divided by base**start so that it does not depend on where the token is
    powers, inverse_powers = tables
    weighted = powers[: len(codepoints)] * codepoints
    prefix = np.zeros(len(codepoints) + 1, dtype=np.uint64)
    np.cumsum(weighted, out=prefix[1:])
    hashes = prefix[ends] - prefix[starts]
    hashes *= inverse_powers[starts]
    hashes ^= (ends - starts).astype(np.uint64) * _LENGTH_SALT
    return _fmix64(hashes), offsets


def _last_separator(text: str, start: int, stop: int) -> int:
    """Position of the last separator in ``text[start:stop]``, or -1."""
    separators = np.flatnonzero(_classify(_codepoints(text[start:stop])) == 0)
    return start + int(separators[-1]) if len(separators) else -1


def _first_separator(text: str, start: int, stop: int) -> int:
    """Position of the first separator in ``text[start:stop]``, or -1."""
    separators = np.flatnonzero(_classify(_codepoints(text[start:stop])) == 0)
    return start + int(separators[0]) if len(separators) else -1


def _split_long(text: str, limit: int) -> list[str]:
    """``text`` in pieces of at most about ``limit`` characters, cut at separators (never inside a
    token), so that a huge document is hashed piece by piece into the same token hashes."""
    pieces = []
    start = 0
    while len(text) - start > limit:
        cut, window_end = -1, start + limit
        while cut <= start and window_end > start + 1:  # the last separator before the limit
            window_start = max(start + 1, window_end - 4096)
            cut = _last_separator(text, window_start, window_end)
            window_end = window_start
        window_start = start + limit
        while cut <= start and window_start < len(text):  # a huge token: the first separator after it
            cut = _first_separator(text, window_start, window_start + 4096)
            window_start += 4096
        if cut <= start:
            break
        pieces.append(text[start:cut])
        start = cut
    pieces.append(text[start:])
    return pieces


def _all_token_hashes(normalized: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Token hashes of a batch and token offsets per document, computed in chunks of about
    ``_CHARS_PER_CHUNK`` characters (a longer document is split at separators)."""
    pieces: list[str] = []
    piece_document: list[int] = []
    for document, text in enumerate(normalized):
        parts = _split_long(text, _CHARS_PER_CHUNK) if len(text) > _CHARS_PER_CHUNK else [text]
        pieces += parts
        piece_document += [document] * len(parts)
    bounds = [0]
    chunk_length = longest = 0
    for index, piece in enumerate(pieces):
        if chunk_length and chunk_length + len(piece) + 1 > _CHARS_PER_CHUNK:
            bounds.append(index)
            chunk_length = 0
        chunk_length += len(piece) + 1
        longest = max(longest, chunk_length)
    bounds.append(len(pieces))
    tables = _power_tables(longest)
    hash_parts: list[np.ndarray] = [np.zeros(0, dtype=np.uint64)]
    count_parts: list[np.ndarray] = [np.zeros(0, dtype=np.int64)]
    for start, stop in itertools.pairwise(bounds):
        if start < stop:
            hashes, offsets = _token_hashes(pieces[start:stop], tables)
            hash_parts.append(hashes)
            count_parts.append(np.diff(offsets))
    counts = np.zeros(len(normalized), dtype=np.int64)
    np.add.at(counts, np.array(piece_document, dtype=np.int64), np.concatenate(count_parts))
    offsets = np.zeros(len(normalized) + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    return np.concatenate(hash_parts), offsets


def _sorted_unique(keys: np.ndarray, presorted: bool = False) -> np.ndarray:
    keys = keys if presorted else np.sort(keys)
    if len(keys) < 2:
        return keys
    return keys[np.concatenate([[True], keys[1:] != keys[:-1]])]


def shingle_sets(texts: Sequence[str], ngram: int = DEFAULT_PARAMS.ngram) -> ShingleSets:
    """Distinct 32-bit hashes of the word n-grams of each text (see the module docstring).

    >>> s = shingle_sets(["the cat sat on the mat", "The cat, sat on the MAT!", "", "cat"], ngram=3)
    >>> s.sizes.tolist()
    [4, 4, 0, 1]
    >>> bool((s.get(0) == s.get(1)).all())
    True
    >>> s.values.dtype
    dtype('uint32')
    """
    if ngram < 1:
        raise ValueError("ngram must be positive")
    token_hashes, token_offsets = _all_token_hashes([normalize_text(text) for text in texts])
    total = len(token_hashes)
    counts = np.diff(token_offsets)
    padded = np.concatenate([token_hashes, np.zeros(ngram - 1, dtype=np.uint64)])
    key_parts: list[np.ndarray] = [np.zeros(0, dtype=np.uint64)]
    # n-gram k combines tokens k … k+n-1: contiguous slices of the token hashes, taken in slices
    # of tokens (across document boundaries) so that the temporary arrays stay small
    for lo in range(0, total, _TOKENS_PER_CHUNK):
        hi = min(lo + _TOKENS_PER_CHUNK, total)
        position = np.arange(lo, hi, dtype=np.int64)
        document = np.searchsorted(token_offsets, position, side="right") - 1
        remaining = token_offsets[document + 1] - position  # tokens from k to its document's end
        combined = padded[lo:hi] * _POSITION_MULTIPLIERS[0]
        for offset in range(1, ngram):
            term = padded[lo + offset : hi + offset] * _POSITION_MULTIPLIERS[offset % 64]
            term[remaining <= offset] = 0
            combined += term
        # full n-grams, and the one shingle of a document shorter than n (at its first token)
        valid = (remaining >= ngram) | ((position == token_offsets[document]) & (counts[document] < ngram))
        hashes = _fmix64(combined[valid]) >> np.uint64(32)
        key_parts.append(_sorted_unique((document[valid].astype(np.uint64) << np.uint64(32)) | hashes))
    # the slices are sorted runs: a stable (run-merging) sort, then the distinct keys
    keys = _sorted_unique(np.sort(np.concatenate(key_parts), kind="stable"), presorted=True)
    values = (keys & _MASK32).astype(np.uint32)
    offsets = np.searchsorted(keys >> np.uint64(32), np.arange(len(counts) + 1, dtype=np.uint64), side="left")
    return ShingleSets(values, offsets.astype(np.int64))


# --- MinHash -----------------------------------------------------------------------------------


def permutations(
    num_perm: int = DEFAULT_PARAMS.num_perm, seed: int = DEFAULT_PARAMS.seed, scheme: Scheme = DEFAULT_PARAMS.scheme
) -> np.ndarray:
    """The ``(2, num_perm)`` permutation parameters ``a, b`` that datasketch draws for ``seed``.

    >>> import datasketch
    >>> bool((permutations(16, seed=3) == datasketch.MinHash(16, seed=3).permutations).all())
    True
    """
    generator = np.random.RandomState(seed)
    if scheme == "legacy":
        return np.array(
            [
                (
                    generator.randint(1, _MERSENNE_PRIME, dtype=np.uint64),
                    generator.randint(0, _MERSENNE_PRIME, dtype=np.uint64),
                )
                for _ in range(num_perm)
            ],
            dtype=np.uint64,
        ).T
    if scheme != "affine32":
        raise ValueError(f"scheme must be 'affine32' or 'legacy', got {scheme!r}")
    a = generator.randint(0, 1 << 31, num_perm, dtype=np.uint32) * np.uint32(2) + np.uint32(1)
    b = generator.randint(0, 1 << 32, num_perm, dtype=np.uint32)
    return np.array([a, b])


def signatures(
    shingles: ShingleSets,
    num_perm: int = DEFAULT_PARAMS.num_perm,
    seed: int = DEFAULT_PARAMS.seed,
    scheme: Scheme = DEFAULT_PARAMS.scheme,
) -> np.ndarray:
    """MinHash signatures, ``(documents, num_perm)``: ``uint32`` for ``affine32``, ``uint64`` for
    ``legacy`` (datasketch's dtypes). An empty document has every value at the maximum.

    >>> import datasketch
    >>> s = shingle_sets(["a b c d e f", ""], ngram=2)
    >>> sig = signatures(s, num_perm=8, seed=1)
    >>> sig.shape, sig.dtype
    ((2, 8), dtype('uint32'))
    >>> m = datasketch.MinHash(8, seed=1, hashfunc=int)
    >>> m.update_batch(s.get(0).tolist())
    >>> bool((m.hashvalues == sig[0]).all()), int(sig[1].min()) == 2**32 - 1
    (True, True)
    """
    a, b = permutations(num_perm, seed, scheme)
    documents = len(shingles)
    if scheme == "legacy":
        result = np.full((documents, num_perm), _MASK32, dtype=np.uint64)
        hashed = shingles.values.astype(np.uint64)
    else:
        result = np.full((documents, num_perm), np.uint32(0xFFFFFFFF), dtype=np.uint32)
        hashed = _fmix32(shingles.values)
    offsets = shingles.offsets
    # slices of a few thousand shingles (across document boundaries) keep the temporary
    # (permutations × shingles) block in cache and memory bounded whatever a document's size;
    # in that layout each document's minimum is a reduction over contiguous memory
    a, b = a[:, None], b[:, None]
    for lo in range(0, len(hashed), _SHINGLES_PER_CHUNK):
        hi = min(lo + _SHINGLES_PER_CHUNK, len(hashed))
        first = int(np.searchsorted(offsets, lo, side="right")) - 1
        last = int(np.searchsorted(offsets, hi, side="left"))
        docs = np.arange(first, last, dtype=np.int64)
        segment_starts = np.maximum(offsets[docs], lo) - lo
        segment_ends = np.minimum(offsets[docs + 1], hi) - lo
        docs, segment_starts = docs[segment_ends > segment_starts], segment_starts[segment_ends > segment_starts]
        permuted = a * hashed[None, lo:hi]
        permuted += b
        if scheme == "legacy":
            permuted %= _MERSENNE_PRIME
            permuted &= _MASK32
        minima = np.minimum.reduceat(permuted, segment_starts, axis=1).T
        # a document cut by a slice boundary combines the minima of its parts
        result[docs] = np.minimum(result[docs], minima)
    return result


def to_lean_minhash(
    signature: np.ndarray, seed: int = DEFAULT_PARAMS.seed, scheme: Scheme = DEFAULT_PARAMS.scheme
) -> LeanMinHash:
    """A ``datasketch.LeanMinHash`` holding one signature, for ``MinHashLSH`` and friends.

    >>> import datasketch
    >>> sig = signatures(shingle_sets(["one two three four five six"]), num_perm=32)
    >>> lsh = datasketch.MinHashLSH(threshold=0.5, num_perm=32)
    >>> lsh.insert("doc", to_lean_minhash(sig[0]))
    >>> lsh.query(to_lean_minhash(sig[0]))
    ['doc']
    """
    from datasketch import LeanMinHash

    try:
        return LeanMinHash(seed=seed, hashvalues=signature, scheme=scheme)
    except TypeError:  # datasketch < 2.0 knows only the legacy scheme and has no `scheme` argument
        if scheme != "legacy":
            raise ValueError("datasketch < 2.0 supports only scheme='legacy' signatures") from None
        return LeanMinHash(seed=seed, hashvalues=signature)


# --- LSH ---------------------------------------------------------------------------------------


def band_keys(
    signature_matrix: np.ndarray, bands: int = DEFAULT_PARAMS.bands, rows: int = DEFAULT_PARAMS.rows
) -> np.ndarray:
    """One non-zero ``uint64`` key per band and document, ``(documents, bands)``; band ``k`` covers
    signature columns ``k*rows … k*rows+rows-1``. Empty documents get :data:`EMPTY_KEY` everywhere.

    >>> sig = signatures(shingle_sets(["a b c d e", "a b c d e", ""]), num_perm=8)
    >>> keys = band_keys(sig, bands=4, rows=2)
    >>> keys.shape, keys.dtype
    ((3, 4), dtype('uint64'))
    >>> bool((keys[0] == keys[1]).all()), keys[2].tolist()
    (True, [0, 0, 0, 0])
    """
    documents, num_perm = signature_matrix.shape
    if bands * rows > num_perm:
        raise ValueError(f"bands * rows ({bands * rows}) exceeds the signature length ({num_perm})")
    values = signature_matrix[:, : bands * rows].astype(np.uint64).reshape(documents, bands, rows)
    keys = np.broadcast_to((np.arange(bands, dtype=np.uint64) + np.uint64(1)) * _BAND_SALT, (documents, bands)).copy()
    for row in range(rows):
        keys ^= values[:, :, row] * _POSITION_MULTIPLIERS[row % 64]
        keys = _fmix64(keys)
    keys[keys == EMPTY_KEY] = 1
    # the empty signature is 2**32 - 1 everywhere in both schemes
    keys[(signature_matrix == 0xFFFFFFFF).all(axis=1)] = EMPTY_KEY
    return keys


def _pair_codes(first: np.ndarray, second: np.ndarray, count: int) -> np.ndarray:
    """Sorted unique codes ``low * count + high`` of the pairs, self-pairs left out."""
    low, high = np.minimum(first, second), np.maximum(first, second)
    keep = low != high
    return np.unique(low[keep].astype(np.int64) * count + high[keep].astype(np.int64))


def _merge_codes(left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """The sorted union of two sorted unique code arrays (a stable sort merges two runs in linear time)."""
    if not len(left):
        return right
    merged = np.sort(np.concatenate([left, right]), kind="stable")
    return merged[np.concatenate([[True], merged[1:] != merged[:-1]])]


def candidate_pairs(
    keys: np.ndarray,
    max_bucket_size: int = DEFAULT_PARAMS.max_bucket_size,
    bucket_anchors: int = DEFAULT_PARAMS.bucket_anchors,
) -> np.ndarray:
    """Pairs ``(i, j)``, ``i < j``, sorted and unique, of rows of ``keys`` that share a key in a band.

    One argsort per band groups its buckets; members of a bucket are taken in row order. A bucket
    with more than ``max_bucket_size`` members yields only the pairs between each member and its
    first ``bucket_anchors`` members, so a huge bucket costs ``O(size * bucket_anchors)`` pairs, not
    ``O(size**2)`` (see the module docstring for what that does to recall). Rows whose key is
    :data:`EMPTY_KEY` are never paired.

    >>> keys = np.array([[5, 7], [5, 8], [6, 8], [0, 0]], dtype=np.uint64)
    >>> candidate_pairs(keys).tolist()
    [[0, 1], [1, 2]]
    >>> big = np.full((5, 1), 9, dtype=np.uint64)
    >>> candidate_pairs(big, max_bucket_size=3, bucket_anchors=1).tolist()
    [[0, 1], [0, 2], [0, 3], [0, 4]]
    """
    documents, bands = keys.shape
    if documents >= 1 << 31:  # pragma: no cover - 2**31 items: far beyond one machine's index
        raise ValueError(f"{documents} items: a pair code would overflow int64")
    # pairs merged band by band: memory follows the distinct pairs, not pairs × bands
    codes = np.zeros(0, dtype=np.int64)
    for band in range(bands):
        first, second = _bucket_pairs(*_band(keys, band), max_bucket_size, bucket_anchors)
        codes = _merge_codes(codes, _pair_codes(first, second, documents))
    return np.stack([codes // documents, codes % documents], axis=1)


def _band(keys: np.ndarray, band: int) -> tuple[np.ndarray, np.ndarray]:
    """The keys of one band sorted, and the rows in that order."""
    order = np.argsort(keys[:, band])
    return keys[order, band], order


def _bucket_pairs(
    column: np.ndarray, doc: np.ndarray, max_bucket_size: int, bucket_anchors: int
) -> tuple[np.ndarray, np.ndarray]:
    """Pairs of documents in the buckets of one band (``column`` sorted, ``doc`` in that order)."""
    empty = np.zeros(0, dtype=np.int64)
    same_as_next = (column[1:] == column[:-1]) & (column[1:] != EMPTY_KEY)
    if not same_as_next.any():
        return empty, empty
    # only the members of buckets with two or more documents
    in_bucket = np.zeros(len(column), dtype=bool)
    in_bucket[:-1] |= same_as_next
    in_bucket[1:] |= same_as_next
    column, doc = column[in_bucket], doc[in_bucket]
    # members of a bucket in document order (the anchors of a big bucket are its first ones)
    order = np.lexsort((doc, column))
    column, doc = column[order], doc[order]
    run_starts = np.flatnonzero(np.concatenate([[True], column[1:] != column[:-1]]))
    run_sizes = np.diff(np.append(run_starts, len(column)))
    size = np.repeat(run_sizes, run_sizes)
    start = np.repeat(run_starts, run_sizes)
    member = np.arange(len(column), dtype=np.int64)
    position = member - start
    firsts: list[np.ndarray] = [empty]
    seconds: list[np.ndarray] = [empty]
    # buckets up to the cap: every pair, as (member, member + offset) for each offset
    small = size <= max_bucket_size
    largest_small = int(size[small].max()) if small.any() else 0
    for offset in range(1, largest_small):
        selected = member[small & (position + offset < size)]
        firsts.append(doc[selected])
        seconds.append(doc[selected + offset])
    # larger buckets: every member with each of the first `bucket_anchors` members
    big = ~small
    if big.any():
        for anchor in range(min(bucket_anchors, int(size[big].max()))):
            selected = big & (position > anchor)
            firsts.append(doc[start[selected] + anchor])
            seconds.append(doc[member[selected]])
    return np.concatenate(firsts), np.concatenate(seconds)


# --- verification and clusters -----------------------------------------------------------------


def estimated_jaccard(signature_matrix: np.ndarray, pairs: np.ndarray) -> np.ndarray:
    """Share of equal signature values for each pair (the MinHash estimate of Jaccard).

    >>> sig = np.array([[1, 2, 3, 4], [1, 2, 0, 4], [9, 9, 9, 9]], dtype=np.uint32)
    >>> estimated_jaccard(sig, np.array([[0, 1], [0, 2]])).tolist()
    [0.75, 0.0]
    """
    pairs = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
    result = np.empty(len(pairs), dtype=np.float64)
    step = max(1, (1 << 22) // max(1, signature_matrix.shape[1]))
    for lo in range(0, len(pairs), step):
        chunk = pairs[lo : lo + step]
        equal = signature_matrix[chunk[:, 0]] == signature_matrix[chunk[:, 1]]
        result[lo : lo + step] = equal.mean(axis=1)
    return result


def shingle_jaccard(shingles: ShingleSets, pairs: np.ndarray) -> np.ndarray:
    """Exact Jaccard similarity of the shingle sets of each pair (0 when both are empty).

    Vectorized: the smaller set of each pair is looked up in the other with one ``searchsorted``
    over all documents' ``document << 32 | hash`` keys.

    >>> s = shingle_sets(["a b c d", "a b c x", "", ""], ngram=2)
    >>> shingle_jaccard(s, np.array([[0, 1], [0, 2], [2, 3]])).tolist()
    [0.5, 0.0, 0.0]
    """
    pairs = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
    sizes = shingles.sizes
    result = np.zeros(len(pairs), dtype=np.float64)
    if len(pairs) == 0:
        return result
    documents = np.repeat(np.arange(len(shingles), dtype=np.uint64), sizes)
    all_keys = (documents << np.uint64(32)) | shingles.values.astype(np.uint64)
    swap = sizes[pairs[:, 0]] > sizes[pairs[:, 1]]
    small = np.where(swap, pairs[:, 1], pairs[:, 0])
    large = np.where(swap, pairs[:, 0], pairs[:, 1])
    step = 1 << 16
    for lo in range(0, len(pairs), step):
        small_chunk, large_chunk = small[lo : lo + step], large[lo : lo + step]
        counts = sizes[small_chunk]
        pair_of_value = np.repeat(np.arange(len(small_chunk)), counts)
        first = np.repeat(shingles.offsets[small_chunk], counts)
        within = np.arange(int(counts.sum()), dtype=np.int64) - np.repeat(np.cumsum(counts) - counts, counts)
        values = shingles.values[first + within].astype(np.uint64)
        queries = (large_chunk[pair_of_value].astype(np.uint64) << np.uint64(32)) | values
        found = np.searchsorted(all_keys, queries)
        hit = all_keys[np.minimum(found, len(all_keys) - 1)] == queries if len(all_keys) else np.zeros(0, bool)
        intersection = np.bincount(pair_of_value, weights=hit, minlength=len(small_chunk))
        union = sizes[small_chunk] + sizes[large_chunk] - intersection
        result[lo : lo + step] = np.divide(intersection, union, out=np.zeros_like(intersection), where=union > 0)
    return result


def verify_pairs(
    pairs: np.ndarray,
    threshold: float = DEFAULT_PARAMS.threshold,
    signature_matrix: np.ndarray | None = None,
    shingles: ShingleSets | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """The pairs whose similarity reaches ``threshold``, and that similarity: exact shingle Jaccard
    when ``shingles`` are given, else the estimate from ``signature_matrix``.

    >>> sig = np.array([[1, 2, 3, 4], [1, 2, 0, 4], [9, 9, 9, 9]], dtype=np.uint32)
    >>> kept, similarity = verify_pairs(np.array([[0, 1], [0, 2]]), 0.5, signature_matrix=sig)
    >>> kept.tolist(), similarity.tolist()
    ([[0, 1]], [0.75])
    """
    pairs = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
    if shingles is not None:
        similarity = shingle_jaccard(shingles, pairs)
    elif signature_matrix is not None:
        similarity = estimated_jaccard(signature_matrix, pairs)
    else:
        raise ValueError("verify_pairs needs signature_matrix or shingles")
    keep = similarity >= threshold
    return pairs[keep], similarity[keep]


def connected_components(count: int, pairs: np.ndarray) -> np.ndarray:
    """Component label of each of ``count`` items given undirected ``pairs``: the smallest item of
    its component. Vectorized union-find (min-label hooking with pointer jumping over the pairs).

    >>> connected_components(6, np.array([[4, 1], [1, 3], [2, 5]])).tolist()
    [0, 1, 2, 1, 1, 2]
    """
    labels = np.arange(count, dtype=np.int64)
    pairs = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
    if len(pairs) == 0:
        return labels
    first, second = pairs[:, 0], pairs[:, 1]
    while True:
        left, right = labels[first], labels[second]
        differ = left != right
        if not differ.any():
            return labels
        left, right = left[differ], right[differ]
        low, high = np.minimum(left, right), np.maximum(left, right)
        # hook each root to the smallest label it meets; labels only decrease, so this converges
        np.minimum.at(labels, high, low)
        while True:
            jumped = labels[labels]
            if (jumped == labels).all():
                break
            labels = jumped


def component_members(labels: np.ndarray, min_size: int = 2) -> list[np.ndarray]:
    """Members of each component with at least ``min_size`` items, ordered by their smallest member.

    >>> [m.tolist() for m in component_members(np.array([0, 1, 2, 1, 1, 2]))]
    [[1, 3, 4], [2, 5]]
    """
    labels = np.asarray(labels, dtype=np.int64)
    if len(labels) == 0:
        return []
    # only the items of large enough components are sorted and split
    items = np.flatnonzero(np.bincount(labels)[labels] >= min_size)
    order = items[np.argsort(labels[items], kind="stable")]
    sorted_labels = labels[order]
    starts = np.flatnonzero(sorted_labels[1:] != sorted_labels[:-1]) + 1
    # labels are smallest members, so label order is smallest-member order
    return np.split(order, starts) if len(order) else []


def near_duplicate_clusters(
    texts: Sequence[str], params: MinHashParams = DEFAULT_PARAMS, exact_verification: bool = True
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The whole chain on one batch: ``(labels, verified pairs, their similarity)``.

    With ``exact_verification`` the candidates are verified with exact shingle Jaccard, else with
    the signature estimate (what the two-pass pipeline can do from its side tables alone).

    >>> base = "the quick brown fox jumps over the lazy dog while the cat sleeps on the warm mat"
    >>> labels, pairs, similarity = near_duplicate_clusters([base, base.upper() + " today", "something else entirely"])
    >>> labels.tolist(), pairs.tolist()
    ([0, 0, 2], [[0, 1]])
    """
    shingles = shingle_sets(texts, params.ngram)
    signature_matrix = signatures(shingles, params.num_perm, params.seed, params.scheme)
    keys = band_keys(signature_matrix, params.bands, params.rows)
    candidates = candidate_pairs(keys, params.max_bucket_size, params.bucket_anchors)
    pairs, similarity = verify_pairs(
        candidates, params.threshold, signature_matrix, shingles if exact_verification else None
    )
    return connected_components(len(texts), pairs), pairs, similarity


# --- passages ----------------------------------------------------------------------------------


def split_paragraphs(text: str) -> list[str]:
    """The paragraphs of a text: its non-empty lines, stripped.

    >>> split_paragraphs("First one.\\n\\n  \\nSecond\\nthird.\\n")
    ['First one.', 'Second', 'third.']
    """
    return [line.strip() for line in _LINE_SPLIT.split(text) if line.strip()]


def passages(texts: Sequence[str], min_words: int = DEFAULT_PASSAGE_MIN_WORDS) -> Passages:
    """The paragraphs of each text with at least ``min_words`` tokens (characters for scripts
    without spaces), with their document index and paragraph index (among all paragraphs).

    >>> p = passages(["short\\n\\none two three four", "x\\ny z w"], min_words=3)
    >>> p.doc_index.tolist(), p.paragraph_index.tolist(), p.texts
    ([0, 1], [1, 1], ['one two three four', 'y z w'])
    """
    doc_index: list[int] = []
    paragraph_index: list[int] = []
    paragraphs: list[str] = []
    for doc, text in enumerate(texts):
        found = split_paragraphs(text)
        doc_index += [doc] * len(found)
        paragraph_index += range(len(found))
        paragraphs += found
    long_enough = np.flatnonzero(token_counts(paragraphs) >= min_words)
    return Passages(
        np.array(doc_index, dtype=np.int64)[long_enough],
        np.array(paragraph_index, dtype=np.int64)[long_enough],
        [paragraphs[i] for i in long_enough.tolist()],
    )


def passage_clusters(
    texts: Sequence[str],
    params: MinHashParams = DEFAULT_PASSAGE_PARAMS,
    min_words: int = DEFAULT_PASSAGE_MIN_WORDS,
    exact_verification: bool = True,
) -> tuple[Passages, list[np.ndarray]]:
    """Passages of a batch and their near-duplicate clusters that span at least two documents
    (each cluster: indices into the passages, ordered). Pairs of passages of the same document
    are not counted as repeats.

    >>> quote = "we will not stop until every family in this city has a safe and warm place to live"
    >>> texts = [f"Story one.\\n\\n{quote}.", f"Another story.\\n\\n“{quote.capitalize()},” she said."]
    >>> found, clusters = passage_clusters(texts, min_words=10)
    >>> [found.doc_index[c].tolist() for c in clusters]
    [[0, 1]]
    """
    found = passages(texts, min_words)
    _, pairs, _ = near_duplicate_clusters(found.texts, params, exact_verification)
    # passages of the same document are not a repeat across documents
    pairs = pairs[found.doc_index[pairs[:, 0]] != found.doc_index[pairs[:, 1]]] if len(pairs) else pairs
    labels = connected_components(len(found.texts), pairs)
    clusters = [members for members in component_members(labels) if len(np.unique(found.doc_index[members])) >= 2]
    return found, clusters
