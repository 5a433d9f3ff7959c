"""The bytes → text decisions of corpusclean.stages.charset, one rule at a time, on small inputs."""

from __future__ import annotations

import unicodedata

import pytest

from corpusclean.stages import charset
from corpusclean.stages.charset import declared_charset, decode_bytes, latin_evidence

CZECH = (
    "Příliš žluťoučký kůň úpěl ďábelské ódy. Šťastný Šimon žije v Žatci a každý den si čte noviny. "
    "Naše škola je veliká, děti se tam učí číst, psát a počítat; večer jdou domů přes náměstí.\n"
)
POLISH = (
    "Zażółć gęślą jaźń. Pchnąć w tę łódź jeża lub ośm skrzyń fig. Właściwie każdy człowiek świętuje "
    "swoje imieniny, a dzieci cieszą się z prezentów. Śnieg pada już od rana.\n"
)
FRENCH = (
    "L'été dernier, nous sommes allés à la plage près de Nîmes. Les élèves préfèrent le français et la "
    "géographie; ça leur plaît beaucoup, même si les leçons sont longues et difficiles.\n"
)
FRENCH_CURLY = "« C’est l’été », dit-elle – et voilà… “Très bien”, répond l’élève, déçu.\n" * 3
GERMAN = (
    "Die Straße in München ist für Fußgänger gesperrt. Über die Brücke gehen täglich viele Menschen, "
    "größtenteils Schüler und Arbeiter, die früh aufstehen müssen.\n"
)
TURKISH = (
    "Türkçe öğrenmek için her gün biraz çalışıyorum. Şehrin ışıkları gece çok güzel görünüyor; "
    "İstanbul'da yaşamak değişik ve güzel bir deneyim. Öğretmenimiz çok sabırlı.\n"
)
ICELANDIC = (
    "Það er gott að búa á Íslandi. Þegar veðrið er gott förum við í sund og síðan borðum við fisk með "
    "kartöflum. Börnin læra íslensku í skólanum og þykir það skemmtilegt.\n"
)
JAPANESE = "今日はとても良い天気ですね。明日の会議は午後三時から始まります〜よろしくお願いします。東京都の人口は約千四百万人です。\n"
JAPANESE_CP932 = JAPANESE.replace("〜", "、") + "①②③ ㈱東京\n"  # NEC extensions: in cp932, not in Shift_JIS
KOREAN = "안녕하세요. 오늘은 날씨가 아주 좋습니다. 내일 회의는 오후 세 시에 시작합니다.\n"


def _detector_must_not_run(monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(*args: object, **kwargs: object) -> None:
        raise AssertionError("the detector ran")

    monkeypatch.setattr(charset.charset_normalizer, "from_bytes", fail)


# -- fast path, BOM, binary ------------------------------------------------------------------------


def test_ascii_and_utf8_never_run_the_detector(monkeypatch):
    _detector_must_not_run(monkeypatch)
    assert decode_bytes(b"plain ASCII text\n") == charset.Decoded("plain ASCII text\n", "utf-8")
    # strict UTF-8 wins over a declaration that says otherwise
    page = '<meta charset="iso-8859-1"><p>Grüße aus Köln</p>'.encode()
    assert decode_bytes(page) == charset.Decoded(page.decode(), "utf-8")
    assert decode_bytes("\ufeffGrüße".encode()).fixes == ("bom",)


def test_declared_charset_does_not_run_the_detector(monkeypatch):
    _detector_must_not_run(monkeypatch)
    page = f'<?xml version="1.0" encoding="iso-8859-2"?><p>{CZECH}</p>'
    decoded = decode_bytes(page.encode("iso8859-2"))
    assert decoded is not None and decoded.text == page and decoded.encoding == "iso8859-2"


def test_binary_is_still_binary():
    assert decode_bytes(bytes(range(256)) * 8 + b"\x00" * 512) is None
    assert decode_bytes(b"\x00\x01\x02\x03" * 200) is None
    # NULs around bytes that are not UTF-8 are not padding around text
    assert decode_bytes(b"\x00" * 600 + bytes(range(0x80, 0x100)) * 2 + b"\x00" * 400) is None


# -- ISO-2022, ESC and NUL ---------------------------------------------------------------------------


def test_iso2022_jp_is_decoded_before_utf8():
    decoded = decode_bytes(JAPANESE.encode("iso2022_jp"))
    assert decoded is not None
    assert (decoded.text, decoded.encoding, decoded.fixes) == (JAPANESE, "iso2022_jp", ("encoding_detected",))


def test_iso2022_kr():
    decoded = decode_bytes(KOREAN.encode("iso2022_kr"))
    assert decoded is not None and (decoded.text, decoded.encoding) == (KOREAN, "iso2022_kr")


def test_terminal_escapes_are_text_not_binary():
    log = b"\x1b[31mERROR\x1b[0m disk full\n\x1b[32mOK\x1b[0m retried\n"
    assert decode_bytes(log) == charset.Decoded(log.decode(), "utf-8")


def test_nul_padding_around_text_is_not_binary():
    data = b"\x00" * 637 + b"a<title>NOT UTF-16!</title>" + b"\x00" * 433 + b"NOT UTF-16!"
    decoded = decode_bytes(data)
    assert decoded is not None and decoded.encoding == "utf-8"
    assert decoded.text.replace("\x00", "") == "a<title>NOT UTF-16!</title>NOT UTF-16!"


def test_utf16_without_bom_still_detected():
    text = "Plain English prose in UTF-16, big-endian this time, without a byte order mark. " * 3
    decoded = decode_bytes(text.encode("utf-16-be"))
    assert decoded is not None and decoded.text == text


# -- declared charsets -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("label", "codec"),
    [
        ("x-sjis", "shift_jis"),
        ("windows-874", "cp874"),
        ("x-mac-roman", "mac-roman"),
        ("windows-949", "cp949"),
        ("x-cp1250", "cp1250"),
        ("ISO-8859-2", "iso8859-2"),
        ("no-such-charset", None),
    ],
)
def test_web_labels(label, codec):
    assert declared_charset(f'<meta http-equiv="Content-Type" content="text/html; charset={label}">'.encode()) == codec


def test_iso_8859_1_label_means_windows_1252():
    page = '<meta charset="iso-8859-1"><p>“Très bien”, l’élève – déçu…</p>'
    decoded = decode_bytes(page.encode("cp1252"))
    assert decoded is not None and decoded.text == page and decoded.encoding == "cp1252"
    # a byte cp1252 leaves unassigned: the ISO codec it was declared in still decodes it
    decoded = decode_bytes(b'<meta charset="iso-8859-1"><p>caf\xe9 \x81</p>')
    assert decoded is not None and decoded.encoding == "iso8859-1" and "café \x81" in decoded.text


def test_tis_620_label_means_windows_874():
    thai = "ภาษาไทย “สวัสดี” • ประเทศไทย"
    page = f'<?xml version="1.0" encoding="TIS-620"?><title>{thai}</title>'
    decoded = decode_bytes(page.encode("cp874"))
    assert decoded is not None and thai in decoded.text and decoded.encoding == "cp874"


def test_declared_codec_falls_back_to_its_superset():
    page = f'<?xml version="1.0" encoding="Shift_JIS"?><p>{JAPANESE_CP932}</p>'
    decoded = decode_bytes(page.encode("cp932"))
    assert decoded == charset.Decoded(page, "cp932")  # the declared path: no detection
    # 똠 is in cp949 (Unified Hangul Code), not in EUC-KR proper
    page = f'<meta charset="euc-kr"><p>{KOREAN}똠방각하</p>'
    decoded = decode_bytes(page.encode("cp949"))
    assert decoded == charset.Decoded(page, "cp949")


def test_declared_shift_jis_keeps_the_standard_mapping():
    page = f'<meta charset="Shift_JIS"><p>{JAPANESE}</p>'
    decoded = decode_bytes(page.encode("shift_jis"))
    assert decoded is not None and "〜" in decoded.text and "～" not in decoded.text


# -- detection: CJK families ---------------------------------------------------------------------------


def test_detected_shift_jis_prefers_the_standard_over_cp932():
    # 0x8160 is U+301C WAVE DASH in Shift_JIS, U+FF5E FULLWIDTH TILDE in cp932
    decoded = decode_bytes(JAPANESE.encode("shift_jis") * 3)
    assert decoded is not None
    assert (decoded.text, decoded.encoding) == (JAPANESE * 3, "shift_jis")
    assert "encoding_detected" in decoded.fixes


def test_detected_cp932_when_extensions_need_it():
    text = JAPANESE_CP932 * 3
    decoded = decode_bytes(text.encode("cp932"))
    assert decoded is not None and (decoded.text, decoded.encoding) == (text, "cp932")


def test_short_legacy_text_is_not_read_as_utf16():
    # the detector's first guess for these 18 bytes is UTF-16-LE; without NULs it is not UTF-16
    text = "그것뿐이 아니었다."
    decoded = decode_bytes(text.encode("euc_kr"))
    assert decoded is not None and decoded.text == text


# -- detection: single-byte Latin code pages -------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "codec"),
    [
        (CZECH, "iso8859-2"),
        (CZECH, "cp1250"),
        (POLISH, "iso8859-2"),
        (POLISH, "cp1250"),
        (FRENCH, "latin-1"),
        (FRENCH_CURLY, "cp1252"),
        (GERMAN, "latin-1"),
        (TURKISH, "cp1254"),
        (TURKISH, "iso8859-9"),
        (ICELANDIC, "cp1252"),
    ],
)
def test_latin_paragraphs_decode_to_their_text(text, codec):
    decoded = decode_bytes(text.encode(codec))
    assert decoded is not None and decoded.text == text, decoded
    assert decoded.fixes == ("encoding_detected",)


def test_language_is_read_from_the_whole_text():
    # "£" in an English page: cp1250 reads 0xA3 as Ł, a Polish letter; English decides
    page = "<p>If Rangers draw and Marseille win I stand to lift £825. Not bad for a £2 bet on three homes.</p>"
    decoded = decode_bytes(page.encode("cp1252"))
    assert decoded is not None and decoded.text == page


def test_shape_scores_rank_what_text_holds():
    # punctuation beside words is common, other symbols rarer, a symbol inside a word an artefact,
    # a C1 control never text
    punctuation = charset._shape_score("”", "a", " ")
    symbol = charset._shape_score("©", " ", " ")
    in_word = charset._shape_score("±", "a", "b")
    control = charset._shape_score("\x92", "a", "b")
    assert punctuation > symbol > in_word > control
    assert charset._shape_score("’", "n", "t") == punctuation  # an apostrophe inside a word is fine


def test_symbol_inside_a_word_loses_to_a_letter():
    # iso-8859-2 ą (0xB1) and ś (0xB6) are ± and ¶ in cp1250
    data = "Mąż i żona są szczęśliwi; ślub był w środę.".encode("iso8859-2")
    assert latin_evidence(data, ["cp1250", "iso8859-2"])[0][1] == "iso8859-2"


def test_capital_after_small_letter_loses():
    # Mac OS Roman 0xD5 is ’; cp1252 reads it as Õ, a capital in the middle of a word
    data = b'"Product"="Daniel Blanchard\xd5s Trackpad #1","VersionNumber"=0x0105'
    assert latin_evidence(data, ["cp1252", "mac-roman"])[0][1] == "mac-roman"


def test_c1_controls_lose_to_windows_punctuation():
    data = "It’s the “best” one – isn’t it? We’ll see.".encode("cp1252")
    assert latin_evidence(data, ["latin-1", "cp1252"])[0][1] == "cp1252"


def _cp1258(text: str) -> bytes:
    """Vietnamese as Windows-1258 writes it: base letters it has precomposed, tones as combining marks."""
    out = bytearray()
    for char in text:
        base, *marks = unicodedata.normalize("NFD", char)
        for mark in list(marks):
            composed = unicodedata.normalize("NFC", base + mark)
            if len(composed) == 1 and composed.encode("cp1258", errors="ignore"):
                base = composed
                marks.remove(mark)
        out += (base + "".join(marks)).encode("cp1258")
    return bytes(out)


def test_combining_marks_are_scored_as_the_letters_they_make():
    text = (
        "Tiếng Việt là ngôn ngữ chính thức của Việt Nam. Hà Nội là thủ đô, còn Thành phố Hồ Chí Minh là "
        "thành phố lớn nhất. Người Việt thích ăn phở và uống cà phê."
    )
    data = _cp1258(text)
    assert latin_evidence(data, ["cp1252", "cp1258"])[0][1] == "cp1258"
    decoded = decode_bytes(data)
    assert decoded is not None and unicodedata.normalize("NFC", decoded.text) == text


def test_italian_latin_1_is_not_read_as_cp1258():
    # cp1258 has combining accents at 0xEC and 0xF2 where Latin-1 has ì and ò: "così" would be "coś"
    data = "Così però è più facile: lui andò là e poi uscì, perché la città è là.".encode("latin-1")
    assert latin_evidence(data, ["cp1258", "cp1252"])[0][1] == "cp1252"


def test_prior_breaks_ties_towards_common_code_pages():
    # é is 0xE9 in every one of these: no letter evidence, the prior decides
    data = "Le café de la gare est fermé le lundi.".encode("latin-1")
    ranked = [codec for _, codec in latin_evidence(data, ["hp_roman8", "iso8859-15", "iso8859-2", "cp1252"])]
    assert ranked[0] == "cp1252"


def test_exotic_code_pages_need_evidence():
    # cp775 and hp_roman8 read these bytes as other letters; the common page wins
    for text in (FRENCH, GERMAN):
        ranked = latin_evidence(text.encode("latin-1"), ["cp775", "hp_roman8", "cp1258", "cp1252"])
        assert ranked[0][1] == "cp1252"
