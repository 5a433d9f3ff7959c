"""Unit tests of the near-duplicate core (``corpusclean.minhash``)."""

from __future__ import annotations

import dataclasses
import itertools
import json
import os
import random
import subprocess
import sys
import tracemalloc

import datasketch
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from corpusclean import minhash
from corpusclean.minhash import (
    DEFAULT_PARAMS,
    EMPTY_KEY,
    MinHashParams,
    ShingleSets,
    band_keys,
    candidate_pairs,
    component_members,
    connected_components,
    estimated_jaccard,
    near_duplicate_clusters,
    passage_clusters,
    passages,
    permutations,
    shingle_jaccard,
    shingle_sets,
    signatures,
    split_paragraphs,
    to_lean_minhash,
    tokenize,
    verify_pairs,
)

VOCABULARY = [f"w{index}" for index in range(5000)]


def random_text(rng: random.Random, words: int) -> str:
    return " ".join(rng.choice(VOCABULARY) for _ in range(words))


def substitute(text: str, rng: random.Random, rate: float) -> str:
    return " ".join(rng.choice(VOCABULARY) if rng.random() < rate else word for word in text.split())


def csr(sets: list[list[int]]) -> ShingleSets:
    """ShingleSets from plain lists of 32-bit hashes."""
    values = [np.unique(np.array(s, dtype=np.uint32)) for s in sets]
    offsets = np.zeros(len(values) + 1, dtype=np.int64)
    offsets[1:] = np.cumsum([len(v) for v in values])
    return ShingleSets(np.concatenate(values) if values else np.zeros(0, np.uint32), offsets)


# --- tokens ------------------------------------------------------------------------------------


def test_tokenize_words_case_punctuation_and_width():
    assert tokenize("Don't STOP—the “Café” is 24/7_open!") == [
        "don",
        "t",
        "stop",
        "the",
        "café",
        "is",
        "24",
        "7",
        "open",
    ]
    # NFKC: full-width letters and digits, ligatures, superscripts; casefold: ß
    assert tokenize("ＡＢＣ １２３ ﬁne x² Straße") == ["abc", "123", "fine", "x2", "strasse"]
    # combining marks stay inside their word; decomposed and composed forms agree
    assert tokenize("cafe\u0301 naïve") == tokenize("café nai\u0308ve") == ["café", "naïve"]
    assert tokenize("") == [] and tokenize(" \n\t—!") == []


def test_tokenize_scripts_without_spaces_give_one_token_per_character():
    assert tokenize("我们在北京") == ["我", "们", "在", "北", "京"]
    assert tokenize("ひらがなカタカナ") == list("ひらがなカタカナ")
    assert tokenize("ภาษาไทย") == list("ภาษาไทย")
    # half-width katakana is folded to full width by NFKC first
    assert tokenize("ｶﾀｶﾅ") == list("カタカナ")
    # scripts with spaces keep words: Korean, Russian, Arabic, Hindi (with its vowel signs)
    assert tokenize("서울 타워에서") == ["서울", "타워에서"]
    assert tokenize("Привет, мир") == ["привет", "мир"]
    assert tokenize("مرحبا بالعالم") == ["مرحبا", "بالعالم"]
    assert tokenize("हिन्दी भाषा") == ["हिन्दी", "भाषा"]
    # mixed text
    assert tokenize("iPhone15を販売") == ["iphone15", "を", "販", "売"]


def test_chinese_near_duplicates_are_found_without_word_segmentation():
    text = "近日，国家统计局发布数据显示，今年前三季度国内生产总值同比增长百分之五，经济运行总体平稳。"
    edited = text.replace("总体平稳", "稳中向好")
    sets = shingle_sets([text, edited, "完全不同的一段文字，讲的是天气和体育比赛的消息。"])
    similarity = shingle_jaccard(sets, np.array([[0, 1], [0, 2]]))
    assert similarity[0] > 0.6 and similarity[1] < 0.05


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.characters(categories=("L", "M", "N", "P", "Z", "S")), max_size=80))
def test_shingles_depend_only_on_tokens(text):
    joined = " ".join(tokenize(text))
    for ngram in (1, 3):
        a, b = shingle_sets([text], ngram), shingle_sets([joined], ngram)
        assert a.values.tolist() == b.values.tolist()


# --- shingles ----------------------------------------------------------------------------------


#: Pinned so that a change of the hash function (which would invalidate stored signatures and
#: band keys) cannot pass unnoticed.
GOLDEN_TEXT = "The quick brown fox jumps over the lazy dog. 東京"
GOLDEN_3GRAMS = [
    125306421,
    186331692,
    777830781,
    1494335583,
    2464803649,
    2870943362,
    3377925993,
    3428930303,
    4046032895,
]


def test_shingle_hashes_are_pinned():
    assert shingle_sets([GOLDEN_TEXT], 3).values.tolist() == GOLDEN_3GRAMS


def test_shingle_hashes_do_not_depend_on_the_process():
    code = (
        "import json; from corpusclean.minhash import shingle_sets; "
        f"print(json.dumps(shingle_sets([{GOLDEN_TEXT!r}, 'another text here'], 3).values.tolist()))"
    )
    runs = set()
    for hash_seed in ("0", "12345", "random"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
        runs.add(tuple(json.loads(output.stdout)))
    assert runs == {tuple(shingle_sets([GOLDEN_TEXT, "another text here"], 3).values.tolist())}


def test_shingles_are_per_document_sorted_distinct_and_batch_independent(monkeypatch):
    rng = random.Random(3)
    texts = [random_text(rng, rng.randint(0, 300)) for _ in range(40)] + ["", "one", "one two", "a a a a a a"]
    # a token longer than a chunk, and Chinese without a separator for a long stretch
    texts += ["x" * 500 + " tail of the text", "長" * 300 + "、" + "文字" * 20, "end"]
    together = shingle_sets(texts, 3)
    assert len(together) == len(texts)
    for index, text in enumerate(texts):
        alone = shingle_sets([text], 3).values
        assert together.get(index).tolist() == alone.tolist()
        assert (np.diff(alone.astype(np.int64)) > 0).all()
    # tiny chunks: long documents hashed in pieces, n-grams combined in slices across documents
    monkeypatch.setattr(minhash, "_CHARS_PER_CHUNK", 50)
    monkeypatch.setattr(minhash, "_TOKENS_PER_CHUNK", 7)
    chunked = shingle_sets(texts, 3)
    assert chunked.values.tolist() == together.values.tolist()
    assert chunked.offsets.tolist() == together.offsets.tolist()


def test_a_huge_document_is_hashed_in_bounded_memory():
    rng = random.Random(8)
    text = random_text(rng, 400_000)  # 2.3 million characters
    tracemalloc.start()
    try:
        sets = shingle_sets([text])
        signatures(sets)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert sets.sizes[0] > 390_000
    assert peak < 12 * len(text)  # not the ~50 bytes per character of hashing it in one piece


def test_shingle_counts_and_short_documents():
    sets = shingle_sets(["a b c d e", "a b", "a", "", "a a a a"], ngram=3)
    assert sets.sizes.tolist() == [3, 1, 1, 0, 1]
    # a short document's single shingle depends on all its tokens, in order
    short = shingle_sets(["a b", "b a", "a b c"], ngram=3)
    assert len({short.get(0)[0], short.get(1)[0], short.get(2)[0]}) == 3
    # the same n-gram has the same hash wherever it is, and order matters
    moved = shingle_sets(["x y z a b c", "a b c", "c b a"], ngram=3)
    assert set(moved.get(1)) <= set(moved.get(0))
    assert not set(moved.get(2)) & set(moved.get(1))
    with pytest.raises(ValueError):
        shingle_sets(["a"], ngram=0)


def test_shingle_jaccard_matches_python_sets():
    rng = random.Random(5)
    raw = [[rng.randrange(60) for _ in range(rng.randint(0, 40))] for _ in range(30)]
    sets = csr(raw)
    pairs = np.array(list(itertools.combinations(range(len(raw)), 2)))
    expected = [
        len(set(raw[a]) & set(raw[b])) / len(set(raw[a]) | set(raw[b])) if raw[a] or raw[b] else 0.0 for a, b in pairs
    ]
    assert np.allclose(shingle_jaccard(sets, pairs), expected)
    assert shingle_jaccard(sets, np.zeros((0, 2), dtype=np.int64)).tolist() == []


# --- signatures and datasketch -----------------------------------------------------------------


@pytest.mark.parametrize("scheme", ["affine32", "legacy"])
@pytest.mark.parametrize(("num_perm", "seed"), [(1, 1), (7, 42), (128, 1), (256, 2024)])
def test_permutations_are_datasketchs(scheme, num_perm, seed):
    ours = permutations(num_perm, seed, scheme)
    theirs = np.asarray(datasketch.MinHash(num_perm, seed=seed, scheme=scheme).permutations)
    assert ours.dtype == theirs.dtype and (ours == theirs).all()


@pytest.mark.parametrize("scheme", ["affine32", "legacy"])
@pytest.mark.parametrize(("num_perm", "seed"), [(16, 1), (128, 7)])
def test_signatures_equal_datasketch_update_batch_given_the_same_hashes(scheme, num_perm, seed):
    rng = np.random.default_rng(seed)
    raw = [rng.integers(0, 2**32, size=size, dtype=np.uint64).tolist() for size in (0, 1, 5, 300, 3000)]
    raw.append([0, 2**32 - 1])  # the extremes of the 32-bit range
    ours = signatures(csr(raw), num_perm, seed, scheme)
    for index, hashes in enumerate(raw):
        sketch = datasketch.MinHash(num_perm, seed=seed, hashfunc=int, scheme=scheme)
        sketch.update_batch(hashes)  # an empty batch leaves datasketch's empty sketch
        assert ours[index].dtype == sketch.hashvalues.dtype
        assert (ours[index] == sketch.hashvalues).all(), index


def test_signatures_of_text_equal_datasketch_on_our_shingle_hashes():
    texts = ["The quick brown fox jumps over the lazy dog", "", "Lorem ipsum " * 50]
    sets = shingle_sets(texts)
    ours = signatures(sets)
    for index in range(len(texts)):
        sketch = datasketch.MinHash(DEFAULT_PARAMS.num_perm, seed=DEFAULT_PARAMS.seed, hashfunc=int)
        sketch.update_batch(sets.get(index).tolist())
        assert (ours[index] == sketch.hashvalues).all()


def test_signatures_chunking_does_not_change_them(monkeypatch):
    rng = random.Random(1)
    sets = shingle_sets([random_text(rng, rng.randint(0, 400)) for _ in range(30)])
    whole = signatures(sets)
    monkeypatch.setattr(minhash, "_SHINGLES_PER_CHUNK", 7)
    assert (signatures(sets) == whole).all()


def test_lean_minhash_and_minhash_lsh_accept_our_signatures():
    rng = random.Random(2)
    base = [random_text(rng, 300) for _ in range(20)]
    texts = base + [substitute(text, rng, 0.02) for text in base]
    sig = signatures(shingle_sets(texts))
    lsh = datasketch.MinHashLSH(threshold=0.5, num_perm=DEFAULT_PARAMS.num_perm)
    for index in range(len(base)):
        lsh.insert(index, to_lean_minhash(sig[index]))
    for index in range(len(base)):
        assert lsh.query(to_lean_minhash(sig[len(base) + index])) == [index]
    # jaccard of datasketch objects is our estimate
    a, b = to_lean_minhash(sig[0]), to_lean_minhash(sig[len(base)])
    assert a.jaccard(b) == estimated_jaccard(sig, np.array([[0, len(base)]]))[0]
    # a LeanMinHash made by datasketch from the same shingle hashes is the same sketch
    sketch = datasketch.MinHash(DEFAULT_PARAMS.num_perm, seed=DEFAULT_PARAMS.seed, hashfunc=int)
    sketch.update_batch(shingle_sets(texts[:1]).values.tolist())
    assert datasketch.LeanMinHash(sketch) == to_lean_minhash(sig[0])
    legacy = signatures(shingle_sets(texts[:1]), scheme="legacy")
    assert to_lean_minhash(legacy[0], scheme="legacy").scheme == "legacy"


def test_estimated_jaccard_agrees_with_true_jaccard():
    rng = np.random.default_rng(0)
    errors = []
    for target in (0.1, 0.3, 0.5, 0.7, 0.9):
        for _ in range(10):
            universe = rng.choice(2**32, size=3000, replace=False)
            shared = round(2000 * 2 * target / (1 + target))  # |A|=|B|=2000, |A∩B| = shared
            a = universe[:2000]
            b = np.concatenate([universe[:shared], universe[2000 : 2000 + 2000 - shared]])
            sets = csr([a.tolist(), b.tolist()])
            truth = shingle_jaccard(sets, np.array([[0, 1]]))[0]
            estimate = estimated_jaccard(signatures(sets, 128), np.array([[0, 1]]))[0]
            errors.append(estimate - truth)
    errors = np.array(errors)
    assert abs(errors.mean()) < 0.02  # unbiased
    assert np.abs(errors).max() < 0.16  # ~3.5 standard deviations at 128 permutations


def test_empty_documents_have_the_empty_signature_and_no_band_keys():
    sig = signatures(shingle_sets(["", "some words here", "!!!"]))
    assert (sig[0] == 2**32 - 1).all() and (sig[2] == 2**32 - 1).all()
    keys = band_keys(sig)
    assert (keys[0] == EMPTY_KEY).all() and (keys[1] != EMPTY_KEY).all()
    assert candidate_pairs(keys).tolist() == []
    legacy = signatures(shingle_sets(["", "x"]), scheme="legacy")
    assert (band_keys(legacy)[0] == EMPTY_KEY).all()


# --- LSH ---------------------------------------------------------------------------------------


def test_band_keys_depend_on_band_and_values():
    sig = np.zeros((2, 8), dtype=np.uint32)
    sig[1, 7] = 1
    keys = band_keys(sig, bands=4, rows=2)
    assert keys.shape == (2, 4) and keys.dtype == np.uint64
    assert len(set(keys[0].tolist())) == 4  # the same values in different bands differ
    assert keys[0, :3].tolist() == keys[1, :3].tolist() and keys[0, 3] != keys[1, 3]
    with pytest.raises(ValueError):
        band_keys(sig, bands=5, rows=2)


def test_lsh_candidates_find_constructed_near_duplicates():
    rng = random.Random(7)
    base = [random_text(rng, rng.randint(150, 600)) for _ in range(150)]
    near = [substitute(text, rng, 0.03) for text in base]  # 3-gram Jaccard ≈ 0.8
    far = [substitute(text, rng, 0.35) for text in base[:50]]  # ≈ 0.1
    texts = base + near + far
    sets = shingle_sets(texts)
    sig = signatures(sets)
    candidates = {tuple(p) for p in candidate_pairs(band_keys(sig)).tolist()}
    near_pairs = {(i, 150 + i) for i in range(150)}
    far_pairs = {(i, 300 + i) for i in range(50)}
    assert len(candidates & near_pairs) >= 148  # P(candidate | J=0.8) ≈ 1 - 1e-5 per pair
    assert len(candidates & far_pairs) <= 3
    unrelated = candidates - near_pairs - far_pairs - {(150 + i, 300 + i) for i in range(50)}
    assert len(unrelated) <= 2
    kept, similarity = verify_pairs(np.array(sorted(candidates)), DEFAULT_PARAMS.threshold, sig)
    assert {tuple(p) for p in kept.tolist()} >= near_pairs & candidates
    assert (similarity >= DEFAULT_PARAMS.threshold).all()


def test_candidate_pairs_small_buckets_give_all_pairs_in_order():
    keys = np.array([[3, 1], [3, 2], [3, 1], [4, 2], [0, 0]], dtype=np.uint64)
    assert candidate_pairs(keys).tolist() == [[0, 1], [0, 2], [1, 2], [1, 3]]
    assert candidate_pairs(np.zeros((0, 4), dtype=np.uint64)).tolist() == []
    assert candidate_pairs(np.array([[5]], dtype=np.uint64)).tolist() == []


def test_bucket_cap_bounds_pairs_and_keeps_connectivity():
    size, cap, anchors = 500, 64, 8
    keys = np.full((size, 1), 77, dtype=np.uint64)
    pairs = candidate_pairs(keys, max_bucket_size=cap, bucket_anchors=anchors)
    # every member is paired with the first `anchors` members only
    assert len(pairs) == sum(size - 1 - a for a in range(anchors))
    assert set(pairs[:, 0].tolist()) == set(range(anchors))
    assert len(component_members(connected_components(size, pairs))) == 1
    # at the cap, still all pairs
    at_cap = candidate_pairs(np.full((cap, 1), 77, dtype=np.uint64), max_bucket_size=cap)
    assert len(at_cap) == cap * (cap - 1) // 2


def test_candidate_pairs_follow_rows_when_shuffled():
    rng = np.random.default_rng(4)
    keys = rng.integers(1, 6, size=(40, 3)).astype(np.uint64)
    order = rng.permutation(40)
    original = {tuple(p) for p in candidate_pairs(keys).tolist()}
    shuffled = {tuple(sorted((int(order[a]), int(order[b])))) for a, b in candidate_pairs(keys[order]).tolist()}
    assert original == shuffled


# --- clusters ----------------------------------------------------------------------------------


def python_components(count: int, pairs) -> list[int]:
    parent = list(range(count))

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in pairs:
        ra, rb = find(a), find(b)
        parent[max(ra, rb)] = min(ra, rb)
    return [find(x) for x in range(count)]


@pytest.mark.parametrize("seed", range(5))
def test_connected_components_match_a_plain_union_find(seed):
    rng = np.random.default_rng(seed)
    count = 2000
    pairs = rng.integers(0, count, size=(int(rng.integers(0, 2500)), 2))
    labels = connected_components(count, pairs)
    assert labels.tolist() == python_components(count, pairs.tolist())


def test_connected_components_long_chain_in_random_order():
    count = 20000
    order = np.random.default_rng(1).permutation(count)
    pairs = np.stack([order[:-1], order[1:]], axis=1)
    assert (connected_components(count, pairs) == 0).all()
    assert connected_components(3, np.zeros((0, 2), dtype=np.int64)).tolist() == [0, 1, 2]


def test_component_members():
    labels = np.array([0, 0, 2, 3, 2, 5, 3])
    assert [m.tolist() for m in component_members(labels)] == [[0, 1], [2, 4], [3, 6]]
    assert len(component_members(labels, min_size=1)) == 4
    assert component_members(np.zeros(0, dtype=np.int64)) == []


def test_near_duplicate_clusters_end_to_end_and_order_independent():
    rng = random.Random(11)
    base = [random_text(rng, 250) for _ in range(30)]
    texts = base + [substitute(t, rng, 0.02).upper() for t in base[:10]] + [substitute(t, rng, 0.04) for t in base[:5]]
    labels, _, similarity = near_duplicate_clusters(texts)
    clusters = {tuple(m.tolist()) for m in component_members(labels)}
    expected = {(i, 30 + i, 40 + i) for i in range(5)} | {(i, 30 + i) for i in range(5, 10)}
    assert clusters == expected
    assert (similarity >= DEFAULT_PARAMS.threshold).all()
    order = list(range(len(texts)))
    random.Random(0).shuffle(order)
    shuffled_labels, _, _ = near_duplicate_clusters([texts[i] for i in order], exact_verification=False)
    back = {tuple(sorted(order[i] for i in m.tolist())) for m in component_members(shuffled_labels)}
    assert back == expected


def test_params_validation():
    assert DEFAULT_PARAMS.index_bytes_per_document <= 300
    with pytest.raises(ValueError):
        MinHashParams(num_perm=64, bands=20, rows=4)
    with pytest.raises(ValueError):
        MinHashParams(scheme="affine64")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        dataclasses.replace(DEFAULT_PARAMS, threshold=1.5)


# --- passages ----------------------------------------------------------------------------------


def test_split_paragraphs():
    assert split_paragraphs("A.\r\n\r\nB line one\r\nB line two\n \n\nC.") == ["A.", "B line one", "B line two", "C."]
    assert split_paragraphs("one\ntwo\n\n") == ["one", "two"]
    assert split_paragraphs("  \n ") == []


def test_passages_keep_long_paragraphs_with_their_positions():
    found = passages(["tiny\n\nfour words are here\n\nno", "", "x y z w v u"], min_words=4)
    assert found.doc_index.tolist() == [0, 2]
    assert found.paragraph_index.tolist() == [1, 0]
    assert found.texts == ["four words are here", "x y z w v u"]


def test_passage_clusters_find_a_paragraph_shared_across_documents():
    rng = random.Random(9)
    quote = random_text(rng, 60)
    a = "\n\n".join([random_text(rng, 80), quote, random_text(rng, 80)])
    b = "\n\n".join([random_text(rng, 50), f"“{quote.capitalize()},” she said."])
    c = "\n\n".join([random_text(rng, 80), random_text(rng, 80)])
    d = "\n\n".join([quote, quote])  # a repeat inside one document only is not a cluster
    found, clusters = passage_clusters([a, b, c, d], min_words=20)
    spans = [sorted(found.doc_index[m].tolist()) for m in clusters]
    assert spans == [[0, 1, 3, 3]]
    assert passage_clusters([c, d], min_words=20)[1] == []
