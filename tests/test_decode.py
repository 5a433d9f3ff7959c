from __future__ import annotations

import codecs

import pytest

from corpusclean.config import DecodeConfig
from corpusclean.records import Reason, Record, Rejected
from corpusclean.stages.decode import (
    DecodeStage,
    declared_charset,
    decode_bytes,
    decode_literal_escapes,
    fix_with_ftfy,
    normalize_whitespace,
    repair_text,
    unescape_double_escaped_entities,
)


@pytest.mark.parametrize(
    ("data", "encoding", "fixes"),
    [
        ("Grüße".encode(), "utf-8", ()),
        (codecs.BOM_UTF8 + "Grüße".encode(), "utf-8", ("bom",)),
        ("Grüße".encode("utf-16"), "utf-16", ("bom",)),
        ("Grüße".encode("utf-32"), "utf-32", ("bom",)),
    ],
)
def test_decode_bytes_bom_and_utf8(data, encoding, fixes):
    decoded = decode_bytes(data)
    assert decoded is not None
    assert decoded.text == "Grüße"
    assert decoded.encoding == encoding
    assert decoded.fixes == fixes


def test_declared_charset_wins_over_detection():
    text = "Příliš žluťoučký kůň úpěl ďábelské ódy. " * 3
    html = f'<html><head><meta charset="iso-8859-2"></head><body>{text}</body></html>'
    decoded = decode_bytes(html.encode("iso-8859-2"))
    assert decoded is not None and text in decoded.text
    assert decoded.encoding == "iso8859-2"
    assert declared_charset(b'<?xml version="1.0" encoding="windows-1251"?><rss/>') == "cp1251"


def test_wrong_utf8_declaration_is_ignored():
    text = "Le café crème est servi à la terrasse; les élèves préfèrent le thé glacé en été. " * 3
    decoded = decode_bytes(f'<meta charset="utf-8"><p>{text}</p>'.encode("cp1252"))
    assert decoded is not None and text in decoded.text
    assert decoded.encoding != "utf-8"


def test_detection_for_undeclared_legacy_bytes():
    text = "Съешь же ещё этих мягких французских булок, да выпей чаю. " * 4
    decoded = decode_bytes(text.encode("cp1251"))
    assert decoded is not None and decoded.text == text
    assert "encoding_detected" in decoded.fixes


def test_binary_is_not_decoded():
    assert decode_bytes(bytes(range(256)) * 8 + b"\x00" * 512) is None


def test_decode_stage_rejects_binary():
    record = Record(doc_id="0" * 32, source=".", source_format="text", source_id="x", raw=b"\x00\x01\x02\x03" * 200)
    result = DecodeStage(DecodeConfig()).process(record)
    assert isinstance(result, Rejected) and result.reason is Reason.DECODE_FAILED


def test_literal_escapes_need_evidence():
    assert decode_literal_escapes(r"a \u00e9 b")[0] == "a é b"
    assert decode_literal_escapes(r"emoji \ud83d\ude00")[0] == "emoji 😀"
    assert decode_literal_escapes("line one\\nline two\\nline three")[0] == "line one\nline two\nline three"
    # prose about code with real line breaks and no \u escapes keeps its backslashes
    prose = "In C, write \\n for a newline and \\t for a tab.\nThat is all."
    assert decode_literal_escapes(prose) == (prose, ())
    # quotes are data; lone surrogates stay literal
    assert decode_literal_escapes(r"say \"hi\" \u2019")[0] == 'say \\"hi\\" ’'
    assert decode_literal_escapes(r"lone \ud800 x \u00e9")[0] == r"lone \ud800 x é"


def test_double_escaped_entities():
    assert unescape_double_escaped_entities("it&amp;#8217;s&amp;hellip;")[0] == "it&#8217;s&hellip;"
    assert unescape_double_escaped_entities("Q&amp;A") == ("Q&amp;A", ())


def test_ftfy_is_conservative():
    text = "“Curly” quotes, ﬁ ligature, ＦＵＬＬ width"
    assert fix_with_ftfy(text) == (text, ())
    assert fix_with_ftfy("doesnâ€™t")[0] == "doesn’t"
    assert "control_characters" in fix_with_ftfy("bell\x07 here")[1]


def test_normalize_whitespace():
    text, fixes = normalize_whitespace("\n\n  a\u00a0b \u200bc\u00ad d  \n\n\n\ne\n\n")
    assert text == "a b c d\n\ne"
    assert set(fixes) == {"nonbreaking_spaces", "invisible_characters", "whitespace", "blank_lines"}
    # zero-width joiners are part of scripts and emoji: kept
    assert normalize_whitespace("👨\u200d👩")[0] == "👨\u200d👩"


def test_repair_text_is_idempotent_on_examples():
    for text in ["\n\nChina\\u2019s  AI&amp;hellip;\n", "doesnâ€™t\r\nwork\r\n\r\n\r\nok", "plain text"]:
        once, _ = repair_text(text)
        assert repair_text(once) == (once, ())


def test_utf16_without_bom_is_detected():
    text = "Hello world, this is a longer English sentence in UTF-16 without a byte order mark. " * 3
    decoded = decode_bytes(text.encode("utf-16-le"))
    assert decoded is not None and decoded.text == text
