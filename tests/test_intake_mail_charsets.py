"""Issue 16, item 5: legacy charsets decode as mail clients decode them.

Each fixture is written in the superset its clients really use under the
older label (GB18030 under ``gb2312``, CP949 under ``ks_c_5601-1987``, CP932
under ``Shift_JIS``, windows-1252/-1254 under ``iso-8859-1``/``-9``,
ISO-2022-JP with NEC symbols), and the first test proves the declared
charset cannot decode it. Undeclared 8-bit text is detected
(charset-normalizer), ISO-2022-JP without a charset found by its escapes.
"""

from __future__ import annotations

import pytest

from tests import emails, factories
from vivadesk_wagtail.mail import charsets, parsing
from vivadesk_wagtail.mail.inbound import ingest
from vivadesk_wagtail.models import Ticket

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.usefixtures("fresh_content_types"),
]

#: fixture, declared charset, the superset it is written in, subject, text
#: (the declared charset fails on each fixture's body, the superset does not).
SUPERSET_MAILS = [
    (
        "charset-gb2312-gb18030-chars.eml",
        "gb2312",
        "gb18030",
        "打印机故障（镕𠀀）",
        "联系人：朱镕基。\n罕用字测试：𠀀。",
    ),
    (
        "charset-ks-c-5601-cp949.eml",
        "euc_kr",
        "cp949",
        "프린터 고장 (똠)",
        "똠방각하 님, 사무실 프린터가 고장났습니다. 뷁!",
    ),
    (
        "charset-shift-jis-cp932.eml",
        "shift_jis",
        "cp932",
        "プリンター①の故障",
        "髙橋です。\n\nプリンター①が動きません。②も同様です。",
    ),
    (
        "charset-iso-8859-1-cp1252.eml",
        "iso-8859-1",
        "cp1252",
        "Angebot – 1.200 €",
        "das Angebot über 1.200 € – „inklusive Versand“ – passt.",
    ),
    (
        "charset-iso-8859-9-cp1254.eml",
        "iso-8859-9",
        "cp1254",
        "Yazıcı çalışmıyor – acil",
        "Fiyat 100 € idi – lütfen ’acil’ bakın.",
    ),
    (
        "iso-2022-jp-nec-chars.eml",
        "iso2022_jp",
        "iso2022_jp_ext",  # no Python codec decodes ①: charsets.iso2022jp
        "①② Drucker",
        "プリンター ① が止まりました。",
    ),
]


def _body_bytes(name: str) -> bytes:
    message = parsing.parse(emails.load(name)).message
    return parsing.payload_bytes(message)


def _c1(text: str) -> bool:
    """Whether ``text`` has C1 controls: bytes 0x80–0x9F read as ISO-8859-x."""
    return any("\x80" <= char <= "\x9f" for char in text)


def _declared_fails(data: bytes, declared: str) -> bool:
    try:
        return _c1(data.decode(declared))
    except UnicodeDecodeError:
        return True


@pytest.mark.parametrize(
    ("name", "declared", "superset", "subject", "text"), SUPERSET_MAILS
)
def test_fixture_bytes_need_the_superset(name, declared, superset, subject, text):
    data = _body_bytes(name)
    assert _declared_fails(data, declared)
    if superset == "iso2022_jp_ext":
        assert _declared_fails(data, superset)
        decoded = charsets.iso2022jp(data)  # through CP932, as the standard
    else:
        decoded = data.decode(superset)
    assert text in decoded and not _c1(decoded)


@pytest.mark.parametrize(
    ("name", "declared", "superset", "subject", "text"), SUPERSET_MAILS
)
def test_superset_charsets_decode_without_replacement(
    name, declared, superset, subject, text
):
    factories.customer()
    result = ingest(emails.load(name))
    assert result.outcome == "new_ticket", result
    ticket = Ticket.objects.get()
    assert ticket.subject == subject
    assert text in result.body
    for decoded in (ticket.subject, result.body, result.sender):
        assert "\ufffd" not in decoded and not _c1(decoded)


def test_sender_names_decode_in_the_superset():
    parsed = parsing.parse(emails.load("charset-gb2312-gb18030-chars.eml"))
    assert parsed.from_header == "朱镕基 <kunde@example.com>"
    parsed = parsing.parse(emails.load("charset-ks-c-5601-cp949.eml"))
    assert parsed.from_header == "김똠 <kunde@example.com>"


def test_iso_2022_jp_without_charset_is_found_by_its_escapes():
    factories.customer()
    raw = emails.load("iso-2022-jp-no-charset.eml")
    assert b"charset" not in raw.split(b"\n\n", 1)[0].lower()
    result = ingest(raw)
    assert result.outcome == "new_ticket", result
    assert "プリンターが印刷できません。ｶﾀｶﾅ表示も出ます。" in result.body
    assert "\x1b" not in result.body


def test_undeclared_8bit_header_and_body_are_detected():
    factories.customer()
    raw = emails.load("undeclared-8bit-cp1251.eml")
    assert b"charset" not in raw.lower()
    result = ingest(raw)
    assert result.outcome == "new_ticket", result
    assert Ticket.objects.get().subject == "Принтер не печатает уже два дня"
    assert result.body.startswith("Здравствуйте!\n\nНаш принтер не печатает")


@pytest.mark.parametrize(
    ("label", "codec"),
    [
        ("gb2312", "gb18030"),
        ("GBK", "gb18030"),
        ("x-gbk", "gb18030"),
        ("ks_c_5601-1987", "cp949"),
        ("EUC-KR", "cp949"),
        ("Shift_JIS", "cp932"),
        ("x-sjis", "cp932"),
        ("big5", "big5hkscs"),
        ("ISO-8859-1", "windows-1252"),
        ("latin1", "windows-1252"),
        ('"iso-8859-9"', "windows-1254"),
        ("tis-620", "windows-874"),
    ],
)
def test_whatwg_labels_map_to_their_superset(label, codec):
    assert charsets.SUPERSETS[charsets.label(label)] == codec


def test_windows_1252_reads_every_byte_as_the_standard_does():
    data = bytes(range(0x80, 0xA0))
    text = charsets.decode(data, "iso-8859-1")
    assert text[0] == "€" and text[0x16] == "–"
    assert text[1] == "\x81"  # undefined in windows-1252: the C1 control
    assert "\ufffd" not in text


@pytest.mark.parametrize(
    ("data", "charset", "text"),
    [
        ("Grüße".encode(), "us-ascii", "Grüße"),  # UTF-8 under us-ascii
        ("Grüße".encode(), None, "Grüße"),
        ("Hallo Jürgen".encode("cp1252"), None, "Hallo Jürgen"),
        ("naïve café".encode("cp1252"), "x-unknown-42", "naïve café"),
        (b"plain ascii", "utf-8", "plain ascii"),
        ("Привет, принтер сломался".encode("koi8-r"), None, "Привет, принтер сломался"),
    ],
)
def test_undeclared_and_unknown_charsets_are_detected(data, charset, text):
    assert charsets.decode(data, charset) == text


def test_bytes_no_charset_decodes_are_still_replaced_not_dropped():
    assert charsets.decode(b"caf\xe9 \xff\xfe", "utf-8") == "caf\ufffd \ufffd\ufffd"
