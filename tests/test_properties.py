"""Property tests: clean_text and the readers never raise, and cleaning is idempotent."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from corpusclean import clean_text
from corpusclean.config import ReadConfig
from corpusclean.records import Record, Rejected
from corpusclean.sources import InputFile, read_file

SETTINGS = settings(
    max_examples=int(__import__("os").environ.get("HYPOTHESIS_EXAMPLES", "150")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)

# text that looks like what corpora hold: words, punctuation, markup, escapes, mojibake, controls
_PIECES = st.sampled_from(
    [
        "word",
        " ",
        "\n",
        "\n\n",
        "  ",
        "<p>",
        "</p>",
        "<b>x</b>",
        "&amp;",
        "&#8217;",
        "&amp;hellip;",
        "\\u2019",
        "\\n",
        "\\ud83d\\ude00",
        "Ã©",
        "â€™",
        "\u00a0",
        "\u200b",
        "\u00ad",
        "\x07",
        "\r\n",
        "é",
        "中文",
        "Also read: x",
        "[Photo/Xinhua]",
        "Go to Forum >>0 Comment(s)",
        "ﬁ",
        "“q”",
        "\ud800",
    ]
)
corpus_text = st.one_of(st.text(), st.lists(_PIECES, max_size=40).map("".join))


@SETTINGS
@given(corpus_text)
def test_clean_text_never_raises_and_is_idempotent_on_str(text):
    once = clean_text(text)
    assert isinstance(once, str)
    assert clean_text(once) == once


@SETTINGS
@given(st.binary(max_size=2000))
def test_clean_text_never_raises_on_bytes(data):
    once = clean_text(data)
    assert isinstance(once, str)
    assert clean_text(once) == once


def _read(tmp_path_factory, name: str, data: bytes):
    directory = tmp_path_factory.mktemp("in")
    path = directory / name
    path.write_bytes(data)
    return read_file(InputFile(name, str(directory), str(path)), ReadConfig())


_JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                [
                    "id",
                    "type",
                    "status",
                    "title",
                    "content",
                    "rendered",
                    "link",
                    "date_gmt",
                    "text",
                    "html",
                    "_embedded",
                    "author",
                    "tags",
                    "categories",
                    "code",
                    "message",
                ]
            ),
            children,
            max_size=6,
        )
    ),
    max_leaves=20,
)


@SETTINGS
@given(
    data=st.one_of(st.binary(max_size=3000), _JSONISH.map(lambda v: json.dumps(v).encode())),
    name=st.sampled_from(["a.txt", "a.html", "a.json", "a.jsonl", "a.parquet", "a.txt.gz", "a.xml"]),
)
def test_readers_never_raise_and_always_account(tmp_path_factory, data, name):
    result = _read(tmp_path_factory, name, data)
    assert result.entry["records"] == len(result.items)
    assert all(isinstance(item, (Record, Rejected)) for item in result.items)
    if result.entry["error"]:
        assert any(isinstance(item, Rejected) and item.reason.value == "unreadable" for item in result.items)
