"""The WordPress WXR reader: the streaming parser, CDATA repair, wpautop, and records."""

from __future__ import annotations

import gzip
import io
from datetime import datetime, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from corpusclean import Pipeline
from corpusclean.config import ReadConfig
from corpusclean.records import Reason, Record, Rejected
from corpusclean.sources import detect_format, expand_inputs, read_file
from corpusclean.sources.files import InputFile, doc_id_for
from corpusclean.sources.wxr import (
    WxrSyntaxError,
    WxrVersionError,
    _CdataRepair,
    content_markup,
    load_wxr,
    parse_wxr,
    wpautop,
    wxr_records,
)
from tests.conftest import FIXTURES, read_dataset

WP12 = "http://wordpress.org/export/1.2/"
FILE = InputFile("exports/site.xml", "in", "in/exports/site.xml")


def wxr(body: str, ns: str = WP12, version: str | None = "1.2", header: str = "") -> bytes:
    """A WXR document around ``body`` (channel children: authors, terms, items)."""
    version_tag = f"<wp:wxr_version>{version}</wp:wxr_version>" if version is not None else ""
    return f"""<?xml version="1.0" encoding="UTF-8" ?>
<rss version="2.0" xmlns:excerpt="{ns}excerpt/" xmlns:content="http://purl.org/rss/1.0/modules/content/"
 xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:wp="{ns}">
<channel>
<title>Site</title>
<link>https://blog.example.com</link>
{version_tag}
<wp:base_site_url>https://blog.example.com</wp:base_site_url>
{header}
{body}
</channel>
</rss>
""".encode()


def item(
    post_id: object = 1,
    title: str = "A title",
    content: str = "Some text.",
    status: str = "publish",
    post_type: str = "post",
    creator: str = "alice",
    link: str | None = "https://blog.example.com/?p={id}",
    date: str = "2024-03-01 10:00:00",
    date_gmt: str = "2024-03-01 09:00:00",
    extra: str = "",
) -> str:
    link_tag = f"<link>{link.format(id=post_id)}</link>" if link is not None else ""
    return f"""<item>
<title><![CDATA[{title}]]></title>
{link_tag}
<pubDate>Fri, 01 Mar 2024 09:00:00 +0000</pubDate>
<dc:creator><![CDATA[{creator}]]></dc:creator>
<content:encoded><![CDATA[{content}]]></content:encoded>
<excerpt:encoded><![CDATA[]]></excerpt:encoded>
<wp:post_id>{post_id}</wp:post_id>
<wp:post_date><![CDATA[{date}]]></wp:post_date>
<wp:post_date_gmt><![CDATA[{date_gmt}]]></wp:post_date_gmt>
<wp:status><![CDATA[{status}]]></wp:status>
<wp:post_type><![CDATA[{post_type}]]></wp:post_type>
{extra}
</item>"""


AUTHORS = """
<wp:author><wp:author_id>1</wp:author_id><wp:author_login><![CDATA[alice]]></wp:author_login>
<wp:author_email>alice@example.com</wp:author_email>
<wp:author_display_name><![CDATA[Alice &amp; Co]]></wp:author_display_name></wp:author>
<wp:author><wp:author_id>2</wp:author_id><wp:author_login><![CDATA[bob]]></wp:author_login>
<wp:author_display_name><![CDATA[]]></wp:author_display_name></wp:author>
"""


def records(data: bytes, config: ReadConfig | None = None) -> list[Record | Rejected]:
    return list(wxr_records(FILE, data, config or ReadConfig()))


# --------------------------------------------------------------------------- the parser


@pytest.mark.parametrize(
    "ns",
    [
        "http://wordpress.org/export/1.0/",
        "http://wordpress.org/export/1.1/",
        "http://wordpress.org/export/1.2/",
        "https://wordpress.org/export/1.2/",
    ],
)
def test_every_wxr_namespace_is_read(ns):
    parsed = load_wxr(wxr(AUTHORS + item(post_id=5), ns=ns))
    assert parsed["version"] == "1.2"
    assert parsed["base_url"] == parsed["base_blog_url"] == "https://blog.example.com"
    assert list(parsed["authors"]) == ["alice", "bob"]
    [post] = parsed["posts"]
    assert (post["post_id"], post["status"], post["post_type"]) == ("5", "publish", "post")


def test_namespaces_are_matched_by_uri_not_prefix():
    body = f"""
<wp:author xmlns:wp="http://example.com/fake/"><wp:author_login>fake</wp:author_login></wp:author>
<old:author xmlns:old="http://wordpress.org/export/1.0/"><old:author_login>old</old:author_login></old:author>
<item><title>Mixed</title><w:post_id xmlns:w="https://wordpress.org/export/1.1/">7</w:post_id>
<wp:status>publish</wp:status>
<wp:postmeta xmlns:wp="http://example.com/evil/"><wp:meta_key>evil</wp:meta_key></wp:postmeta></item>
<item xmlns:wp="http://example.com/hijack/"><title>Hijacked</title><wp:post_id>8</wp:post_id></item>
<item><title>Default</title><post_id xmlns="{WP12}">9</post_id></item>
"""
    parsed = load_wxr(wxr(body))
    assert list(parsed["authors"]) == ["old"]
    assert [(p["post_title"], p["post_id"]) for p in parsed["posts"]] == [
        ("Mixed", "7"),
        ("Hijacked", ""),
        ("Default", "9"),
    ]
    assert parsed["posts"][0]["postmeta"] == []


def test_wp_author_variant_and_author_fields():
    header = """<wp:wp_author><wp:author_id>3</wp:author_id><wp:author_login>carol
</wp:author_login><wp:author_email>c@example.com</wp:author_email>
<wp:author_display_name><![CDATA[Carol ​Z]]></wp:author_display_name>
<wp:author_first_name>Carol</wp:author_first_name><wp:author_last_name>Zed</wp:author_last_name></wp:wp_author>"""
    parsed = load_wxr(wxr("", header=header))
    assert parsed["authors"] == {
        "carol": {
            "author_id": "3",
            "author_login": "carol",  # identifiers lose surrounding ASCII whitespace
            "author_email": "c@example.com",
            "author_display_name": "Carol \u200bZ",  # names are exact, invisible characters kept
            "author_first_name": "Carol",
            "author_last_name": "Zed",
        }
    }


def test_terms_postmeta_and_comments():
    header = """
<wp:category><wp:term_id>3</wp:term_id><wp:category_nicename>news</wp:category_nicename>
<wp:category_parent></wp:category_parent><wp:cat_name><![CDATA[a \\"great\\" category]]></wp:cat_name>
<wp:termmeta><wp:meta_key>color</wp:meta_key><wp:meta_value><![CDATA[red]]></wp:meta_value></wp:termmeta>
</wp:category>
<wp:tag><wp:term_id>4</wp:term_id><wp:tag_slug>t1</wp:tag_slug><wp:tag_name>T1</wp:tag_name></wp:tag>
<wp:term><wp:term_id>5</wp:term_id><wp:term_taxonomy>genre</wp:term_taxonomy><wp:term_slug>noir</wp:term_slug>
<wp:term_name>Noir</wp:term_name></wp:term>"""
    extra = """<category domain="category" nicename="news"><![CDATA[News]]></category>
<category><![CDATA[WXR 1.0 bare category, no nicename]]></category>
<wp:postmeta><wp:meta_key>k</wp:meta_key><wp:meta_value><![CDATA[C:\\path\\to]]></wp:meta_value></wp:postmeta>
<wp:comment><wp:comment_id>9</wp:comment_id><wp:comment_author><![CDATA[Dan]]></wp:comment_author>
<wp:comment_content><![CDATA[\\o/]]></wp:comment_content>
<wp:commentmeta><wp:meta_key>akismet</wp:meta_key><wp:meta_value>ok</wp:meta_value></wp:commentmeta></wp:comment>"""
    parsed = load_wxr(wxr(item(extra=extra), header=header))
    assert parsed["categories"] == [
        {
            "term_id": "3",
            "category_nicename": "news",
            "category_parent": "",
            "cat_name": 'a \\"great\\" category',  # backslashes are data
            "category_description": "",
            "termmeta": [{"key": "color", "value": "red"}],
        }
    ]
    assert parsed["tags"][0] == {
        "term_id": "4",
        "tag_slug": "t1",
        "tag_name": "T1",
        "tag_description": "",
        "termmeta": [],
    }
    assert parsed["terms"][0]["slug"] == "noir" and parsed["terms"][0]["term_taxonomy"] == "genre"
    [post] = parsed["posts"]
    assert post["terms"] == [{"name": "News", "slug": "news", "domain": "category"}]
    assert post["postmeta"] == [{"key": "k", "value": "C:\\path\\to"}]
    [comment] = post["comments"]
    assert (comment["comment_id"], comment["comment_author"], comment["comment_content"]) == ("9", "Dan", "\\o/")
    assert comment["commentmeta"] == [{"key": "akismet", "value": "ok"}]


def test_cdata_sections_and_escaped_cdata_end():
    body = """<item><title>x</title><wp:post_id>1</wp:post_id>
<content:encoded>
<![CDATA[one]]><![CDATA[ two]]>
</content:encoded>
<excerpt:encoded><![CDATA[a ]]]]><![CDATA[> b]]></excerpt:encoded>
<wp:postmeta><wp:meta_key>entity</wp:meta_key><wp:meta_value><![CDATA[&#x202E;&amp;]]></wp:meta_value></wp:postmeta>
</item>"""
    [post] = load_wxr(wxr(body))["posts"]
    assert post["post_content"] == "\none two\n"
    assert post["post_excerpt"] == "a ]]> b"
    assert post["postmeta"][0]["value"] == "&#x202E;&amp;"  # entity-looking text in CDATA stays literal
    assert post.xml_errors == ()


def test_unescaped_cdata_end_is_repaired_like_the_importer():
    body = """<item><title>x</title><wp:post_id>1</wp:post_id><wp:status>publish</wp:status>
<content:encoded><![CDATA[Content with nested <![CDATA[ tags ]]> :)]]></content:encoded>
<wp:postmeta><wp:meta_key>a</wp:meta_key><wp:meta_value><![CDATA[]]>]]></wp:meta_value></wp:postmeta>
<wp:postmeta><wp:meta_key>b</wp:meta_key>
<wp:meta_value><![CDATA[This has <![CDATA[ opening and ]]> closing <![CDATA[ tags like this: ]]>]]></wp:meta_value>
</wp:postmeta>
</item>"""
    with parse_wxr(wxr(body)) as export:
        [post] = list(export.posts)
        assert post["post_content"] == "Content with nested <![CDATA[ tags ]]> :)"
        assert [m["value"] for m in post["postmeta"]] == [
            "]]>",
            "This has <![CDATA[ opening and ]]> closing <![CDATA[ tags like this: ]]>",
        ]
        assert {issue.kind for issue in post.xml_errors} == {"cdata_repaired"}
        assert [issue.line for issue in export.errors] == [11, 12, 14]  # lines of the file
    [record] = records(wxr(body))
    assert "xml_recovered" in record.fixes


_TEXT = st.text(alphabet=st.sampled_from("ab ]>[<!-\n"), max_size=30)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(_TEXT, _TEXT), max_size=6), st.integers(min_value=1, max_value=12))
def test_cdata_repair_leaves_well_formed_xml_alone(values, chunk_size):
    parts = ["<?xml version='1.0'?><!-- <![CDATA[ in a comment --><rss><channel>"]
    for cdata, comment in values:
        cdata = cdata.replace("]]>", "]]]]><![CDATA[>")  # well-formed: escaped as WordPress does
        comment = comment.replace("--", "- -").rstrip("-")
        parts.append(f"<a><![CDATA[{cdata}]]></a>\n<!--{comment}--><?pi {comment.replace('?>', '')}?>")
    document = "".join(parts).encode() + b"</channel></rss>"
    repaired = _CdataRepair(io.BytesIO(document), chunk_size=chunk_size)
    out = b"".join(iter(lambda: repaired.read(7), b""))
    assert out == document
    assert repaired.repairs == []


@pytest.mark.parametrize("chunk_size", [1, 2, 3, 5, 9, 64, 1 << 16])
def test_cdata_repair_does_not_depend_on_chunk_boundaries(chunk_size):
    document = b"<a><![CDATA[x ]]> y]]></a>\n<b><![CDATA[]]>]]></b><c><![CDATA[ok]]></c>"
    repaired = _CdataRepair(io.BytesIO(document), chunk_size=chunk_size)
    assert repaired.read() == (
        b"<a><![CDATA[x ]]]]><![CDATA[> y]]></a>\n<b><![CDATA[]]]]><![CDATA[>]]></b><c><![CDATA[ok]]></c>"
    )
    assert [issue.line for issue in repaired.repairs] == [1, 2]


def test_malformed_xml_inside_an_item_is_recovered_and_flagged():
    body = item(post_id=1, content="First.") + item(post_id=2, content="Second.").replace(
        "<title><![CDATA[A title]]></title>", "<title>Fish & Chips</title>"
    )
    with parse_wxr(wxr(body)) as export:
        first, second = export.posts
        assert first.xml_errors == ()
        assert second["post_title"] == "Fish  Chips"
        assert second.xml_errors and second.xml_errors[0].kind.startswith("ERR_")
    kept = records(wxr(body))
    assert [r.fixes for r in kept] == [(), ("xml_recovered",)]


def test_items_swallowed_by_a_missing_end_tag_are_still_read():
    body = item(post_id=1).replace("</item>", "") + item(post_id=2) + item(post_id=3)
    export = parse_wxr(wxr(body))
    posts = []
    with pytest.raises(WxrSyntaxError, match="Premature end of data in tag rss"):  # and the file says so
        posts.extend(export.posts)
    assert [p["post_id"] for p in posts] == ["2", "3", "1"]  # the holder ends last
    assert [{issue.kind for issue in p.xml_errors} for p in posts] == [set(), set(), {"nested_item"}]


def test_truncated_file_keeps_the_whole_items_before_the_cut(tmp_path):
    data = wxr(item(post_id=1) + item(post_id=2) + item(post_id=3))
    cut = data[: data.index(b"<wp:post_id>3")]
    export = parse_wxr(cut)
    posts = export.posts
    assert [next(posts)["post_id"], next(posts)["post_id"]] == ["1", "2"]
    with pytest.raises(WxrSyntaxError, match=r"There was an error when reading this WXR file: .*Premature end"):
        next(posts)
    path = tmp_path / "cut.xml"
    path.write_bytes(cut)
    [file] = expand_inputs([tmp_path])
    result = read_file(file, ReadConfig())
    assert [type(r).__name__ for r in result.items] == ["Record", "Record", "Rejected"]
    last = result.items[-1]
    assert last.reason is Reason.UNREADABLE and last.detail.startswith("after 2 records: cannot parse as wxr")
    assert result.entry["error"] and result.entry["records"] == 3


def test_truncation_is_caught_after_libxml2_stops_reporting_errors():
    # libxml2 reports the first 100 errors of a document only; a missing </rss> still tells
    broken = "".join(item(post_id=i).replace("<![CDATA[A title]]>", "Fish & Chips") for i in range(120))
    data = wxr(broken + item(post_id=999))
    export = parse_wxr(data[: data.index(b"<wp:post_id>999")])
    posts = []
    with pytest.raises(WxrSyntaxError, match="ends before </rss>"):
        posts.extend(export.posts)
    assert len(posts) >= 120 and export.error_count >= 100


@pytest.mark.parametrize(
    ("encoding", "title"), [("utf-16", "Grüße – ok"), ("iso-8859-1", "Grüße"), ("windows-1252", "Grüße – ok")]
)
def test_declared_encodings(encoding, title):
    text = wxr(item(title=title)).decode().replace('encoding="UTF-8"', f'encoding="{encoding.upper()}"')
    [record] = records(text.encode(encoding))
    assert (record.title, record.source_encoding) == (title, encoding)


@pytest.mark.parametrize(
    ("data", "error", "message"),
    [
        (wxr(item(), version=None), WxrVersionError, "missing/invalid WXR version number"),
        (wxr(item(), version="abc"), WxrVersionError, "missing/invalid WXR version number"),
        (wxr("", version=None), WxrVersionError, "missing/invalid WXR version number"),
        (b"<rss><channel><title>A feed</title><item><title>x</title></item></channel></rss>", WxrVersionError, "WXR"),
        (b"This is not valid XML content", WxrSyntaxError, "There was an error when reading this WXR file"),
        (b"", WxrSyntaxError, "There was an error when reading this WXR file"),
        (
            wxr(item()).replace(b"<channel>", b"<notachannel>"),
            WxrSyntaxError,
            "There was an error when reading this WXR file: line .*mismatch",
        ),
    ],
)
def test_not_wxr_is_an_error(data, error, message):
    with pytest.raises(error, match=message):
        parse_wxr(data)


def test_not_wxr_file_becomes_one_unreadable_row(tmp_path):
    path = tmp_path / "feed.xml"
    path.write_bytes(wxr(item(), version=None))
    [file] = expand_inputs([tmp_path])
    result = read_file(file, ReadConfig())
    [row] = result.items
    assert row.reason is Reason.UNREADABLE and "missing/invalid WXR version number" in row.detail
    assert result.entry["format"] == "wxr"


def test_paths_and_compressed_files(tmp_path):
    data = wxr(item(post_id=4))
    (tmp_path / "a.xml").write_bytes(data)
    (tmp_path / "a.xml.gz").write_bytes(gzip.compress(data))
    for name in ("a.xml", "a.xml.gz"):
        assert [p["post_id"] for p in load_wxr(tmp_path / name)["posts"]] == ["4"]
        assert [p["post_id"] for p in load_wxr(str(tmp_path / name))["posts"]] == ["4"]


class _Recorder:
    """A binary file that records how many bytes were read from it."""

    def __init__(self, data: bytes) -> None:
        self._io = io.BytesIO(data)
        self.position = 0

    def read(self, size: int = -1) -> bytes:
        chunk = self._io.read(size)
        self.position += len(chunk)
        return chunk


def test_items_stream_before_the_file_is_read():
    data = wxr(AUTHORS + "".join(item(post_id=i, content="Words " * 60) for i in range(4000)))
    source = _Recorder(data)
    export = parse_wxr(source)
    first = next(export.posts)
    assert first["post_id"] == "0" and export.authors["alice"]["author_id"] == "1"
    assert source.position < len(data) / 10, (source.position, len(data))
    ids = [p["post_id"] for p in export.posts]
    assert len(ids) == 3999 and ids[-1] == "3999"
    assert source.position == len(data)


# --------------------------------------------------------------------------- wpautop


def test_wpautop_paragraphs_and_line_breaks():
    assert wpautop("one\n\ntwo\nthree\n\n\n\nfour") == "<p>one</p>\n<p>two<br />\nthree</p>\n<p>four</p>\n"
    assert wpautop("  \n ") == ""
    assert wpautop("a\r\n\r\nb") == "<p>a</p>\n<p>b</p>\n"


def test_wpautop_leaves_blocks_pre_and_tags_alone():
    text = (
        "<h2>Head</h2>\nIntro line\n\n<ul>\n<li>one</li>\n<li>two</li>\n</ul>\n"
        '<pre>code\n\n  indented</pre>\n<a href="x"\ntitle="y">link</a> after'
    )
    assert wpautop(text) == (
        "<h2>Head</h2>\n<p>Intro line</p>\n<ul>\n<li>one</li>\n<li>two</li>\n</ul>\n"
        '<pre>code\n\n  indented</pre>\n<p><a href="x"\ntitle="y">link</a> after</p>\n'
    )


def test_wpautop_shortcodes_and_comments():
    text = '[caption id="1"]<img src="a.jpg" /> A cat[/caption]\n\nText <!--more-->\n\n[gallery ids="1,2"]'
    assert wpautop(text) == (
        '<p>[caption id="1"]<img src="a.jpg" /> A cat[/caption]</p>\n<p>Text <!--more--></p>\n'
        '<p>[gallery ids="1,2"]</p>\n'
    )


def test_block_editor_content_is_not_autopd():
    blocks = "<!-- wp:paragraph -->\n<p>One</p>\n<!-- /wp:paragraph -->"
    assert content_markup(blocks) == blocks
    assert content_markup("One\n\nTwo") == "<p>One</p>\n<p>Two</p>\n"


# --------------------------------------------------------------------------- records


def test_record_fields():
    extra = """<category domain="category" nicename="food"><![CDATA[Food &amp; Drink]]></category>
<category domain="category" nicename="food"><![CDATA[Food &amp; Drink]]></category>
<category domain="post_tag" nicename="a"><![CDATA[Alps]]></category>
<category domain="tag" nicename="b"><![CDATA[Old tag]]></category>
<category domain="post_format" nicename="post-format-aside"><![CDATA[Aside]]></category>
<wp:post_modified>2024-03-02 12:00:00</wp:post_modified><wp:post_modified_gmt>2024-03-02 11:00:00</wp:post_modified_gmt>"""
    [record] = records(wxr(AUTHORS + item(post_id=12, title="Fish &amp; <em>Chips</em>", extra=extra)))
    assert isinstance(record, Record)
    assert record.doc_id == doc_id_for("wordpress_wxr", "exports/site.xml", "post:12")
    assert (record.source_format, record.source_id, record.source) == ("wordpress_wxr", "12", "blog.example.com")
    assert record.url == "https://blog.example.com/?p=12"
    assert record.title == "Fish &amp; <em>Chips</em>"  # raw: the extract stage cleans titles
    assert record.author == "Alice & Co"
    assert record.categories == ("Food & Drink",)
    assert record.tags == ("Alps", "Old tag")
    assert record.published_at == datetime(2024, 3, 1, 9, 0, tzinfo=timezone.utc)
    assert record.modified_at == datetime(2024, 3, 2, 11, 0, tzinfo=timezone.utc)
    assert record.fixes == ()
    assert (record.markup, record.markup_kind) == ("<p>Some text.</p>\n", "fragment")
    assert record.source_encoding == "utf-8"


@pytest.mark.parametrize(
    ("creator", "author"),
    [("alice", "Alice & Co"), ("bob", "bob"), ("zoe", "zoe"), ("", None)],
)
def test_author_is_the_display_name_else_the_login(creator, author):
    [record] = records(wxr(AUTHORS + item(creator=creator)))
    assert record.author == author


def test_dates_zero_gmt_and_pubdate():
    zero = records(wxr(item(date="2024-05-06 07:08:09", date_gmt="0000-00-00 00:00:00")))[0]
    assert zero.published_at == datetime(2024, 5, 6, 7, 8, 9, tzinfo=timezone.utc)
    assert zero.fixes == ("date_local_as_utc",)
    neither = records(wxr(item(date="0000-00-00 00:00:00", date_gmt="")))[0]
    assert neither.published_at == datetime(2024, 3, 1, 9, 0, tzinfo=timezone.utc)  # pubDate
    assert neither.fixes == ()
    bad = wxr(item(date="", date_gmt="")).replace(b"Fri, 01 Mar 2024 09:00:00 +0000", b"Mon, 30 Nov -0001 00:00:00")
    assert records(bad)[0].published_at is None


def test_source_falls_back_to_the_channel_then_the_folder():
    assert records(wxr(item(link=None)))[0].source == "blog.example.com"
    bare = wxr(item(link=None)).replace(b"https://blog.example.com", b"")
    assert records(bare)[0].source == "exports"


def test_item_without_id_is_located_by_its_position():
    body = item(post_id=1) + item(post_id="")
    second = records(wxr(body))[1]
    assert second.source_id == "exports/site.xml:1"
    assert second.doc_id == doc_id_for("wordpress_wxr", "exports/site.xml", "item:1")


@pytest.mark.parametrize(
    ("status", "post_type", "reason"),
    [
        ("draft", "post", Reason.NOT_PUBLISHED),
        ("private", "page", Reason.NOT_PUBLISHED),
        ("pending", "post", Reason.NOT_PUBLISHED),
        ("future", "post", Reason.NOT_PUBLISHED),
        ("trash", "post", Reason.NOT_PUBLISHED),
        ("inherit", "revision", Reason.NOT_CONTENT),
        ("inherit", "attachment", Reason.NOT_CONTENT),
        ("publish", "nav_menu_item", Reason.NOT_CONTENT),
        ("publish", "wp_navigation", Reason.NOT_CONTENT),
        ("publish", "wp_global_styles", Reason.NOT_CONTENT),
        ("draft", "product", Reason.NOT_CONTENT),  # the type is checked first
    ],
)
def test_status_and_type_rejections(status, post_type, reason):
    [row] = records(wxr(item(status=status, post_type=post_type, title="Kept title")))
    assert isinstance(row, Rejected)
    assert (row.stage, row.reason, row.title, row.source_format) == ("read", reason, "Kept title", "wordpress_wxr")
    assert row.text == "<p>Some text.</p>\n"


def test_configured_types_and_statuses_and_empty_content():
    config = ReadConfig(wordpress_post_types=("post", "product"), wordpress_statuses=("publish", "private"))
    assert isinstance(records(wxr(item(post_type="product", status="private")), config)[0], Record)
    [empty] = records(wxr(item(content=" \n ")))
    assert (empty.stage, empty.reason) == ("extract", Reason.EXTRACT_EMPTY)


def test_detected_from_content():
    data = b"<!-- exported -->\n" + wxr(item())
    assert detect_format(data, "export.txt").format == "wxr"
    assert detect_format(wxr(item()), "export.xml").format == "wxr"


# --------------------------------------------------------------------------- end to end


def test_pipeline_on_a_small_export(tmp_path):
    out = tmp_path / "out"
    report = Pipeline().run([FIXTURES / "wxr"], out, workers=1)
    assert (report.kept, report.by_reason) == (3, {"not_content": 2, "not_published": 1})
    docs = {row["source_id"]: row for row in read_dataset(out, "documents").to_pylist()}
    rejected = {row["source_id"]: row for row in read_dataset(out, "rejected").to_pylist()}
    assert {k: (v["reason"], v["stage"]) for k, v in rejected.items()} == {
        "103": ("not_published", "read"),
        "105": ("not_content", "read"),
        "110": ("not_content", "read"),
    }
    assert {k: (v["title"], v["author"]) for k, v in docs.items()} == {
        "101": ("Three days on the Haute Route", "Alice Martin"),
        "102": ("Rösti, properly", "Bob Keller"),
        "2": ("About this site", "Alice Martin"),
    }
    classic, blocks, page = docs["101"], docs["102"], docs["2"]
    assert (classic["categories"], classic["tags"]) == (["Travel"], ["Hiking", "Alps"])
    assert (blocks["categories"], blocks["tags"]) == (["Food & Drink"], ["Alps"])
    assert {d["source"] for d in docs.values()} == {"notes.example.org"}
    assert {d["source_format"] for d in docs.values()} == {"wordpress_wxr"}
    assert classic["published_at"] == datetime(2024, 8, 12, 7, 30, tzinfo=timezone.utc)
    assert page["fixes"] == ["date_local_as_utc"]
    assert page["published_at"] == datetime(2019, 5, 4, 12, 0, tzinfo=timezone.utc)
    # paragraphs from blank lines (wpautop), a line break kept inside a paragraph
    assert classic["text"].split("\n\n") == [
        "We left Chamonix before dawn, with headlamps and far too much cheese in our packs. "
        "The first climb to the Col de Balme took longer than the guidebook promised.",
        "The hut warden met us at the door with hot tea.\nShe had kept the last two beds for late walkers.",
        "Morning light on the Col de Balme.",
        "On the second day the weather turned, and we waited out a storm in a barn above Trient. "
        "By evening the sky had cleared and the glacier glowed orange.",
        "What we would change",
        "Pack lighter, start earlier, and book the huts a month ahead.",
    ]
    assert blocks["text"].split("\n\n")[:3] == [
        "Every hut makes rösti, and every hut claims theirs is the real one. After a week of research I have opinions.",
        "Boil the potatoes the day before",
        "Cold, firm potatoes grate into strands instead of mush. Salt them only when they are in the pan.",
    ]
    assert page["text"] == (
        "Mountain Notes is written by two friends who walk in the Alps every summer.\n\n"
        "We pay for our own trips and huts. Nobody sponsors these pages."
    )
    for doc in docs.values():  # no WordPress markup reaches the text
        for leak in ("[", "]", "<!--", "wp:", "<p", "<br", "youtube", "caption", "gallery", "more-->"):
            assert leak not in doc["text"], (doc["source_id"], leak)


def test_password_protected_post_is_not_published_and_site_name_is_the_channel_title():
    protected, open_post = records(
        wxr(item(post_id=1, extra="<wp:post_password><![CDATA[secret]]></wp:post_password>") + item(post_id=2))
    )
    assert isinstance(protected, Rejected) and protected.reason is Reason.NOT_PUBLISHED
    assert "password" in protected.detail
    assert isinstance(open_post, Record) and open_post.site_name == "Site"
