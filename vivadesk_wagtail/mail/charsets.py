"""Mail text bytes → ``str``, as mail clients and browsers decode them
(:func:`decode`; declared charsets read as their WHATWG supersets).
"""

from __future__ import annotations

import codecs
import re

from charset_normalizer import from_bytes


def _labels(target: str, *labels: str) -> dict[str, str]:
    return dict.fromkeys(labels, target)


#: WHATWG Encoding Standard labels (https://encoding.spec.whatwg.org/#names-and-labels)
#: of the encodings that differ from Python's codec of the same name, mapped
#: to the Python codec (or :data:`WINDOWS` table) that decodes like the
#: standard. Not followed: the labels the standard maps to "replacement"
#: (``iso-2022-kr``, ``hz-gb-2312``, …) — Python decodes those, and mail
#: should lose no text.
SUPERSETS = {
    **_labels(
        "windows-1252",
        "ansi_x3.4-1968", "ascii", "cp1252", "cp819", "csisolatin1", "ibm819",
        "iso-8859-1", "iso-ir-100", "iso8859-1", "iso88591", "iso_8859-1",
        "iso_8859-1:1987", "l1", "latin1", "latin-1", "windows-1252", "x-cp1252",
    ),
    **_labels(
        "windows-1254",
        "cp1254", "csisolatin5", "iso-8859-9", "iso-ir-148", "iso8859-9",
        "iso88599", "iso_8859-9", "iso_8859-9:1989", "l5", "latin5",
        "windows-1254", "x-cp1254",
    ),
    **_labels(
        "windows-874",
        "dos-874", "iso-8859-11", "iso8859-11", "iso885911", "tis-620",
        "windows-874",
    ),
    # GBK's decoder is GB18030's; EUC-CN is GB2312's encoding form.
    **_labels(
        "gb18030",
        "chinese", "csgb2312", "csiso58gb231280", "gb2312", "gb_2312",
        "gb_2312-80", "gbk", "iso-ir-58", "x-gbk", "gb18030", "euc-cn",
    ),
    **_labels("big5hkscs", "big5", "big5-hkscs", "cn-big5", "csbig5", "x-x-big5"),
    **_labels(
        "cp949",
        "cseuckr", "csksc56011987", "euc-kr", "iso-ir-149", "korean",
        "ks_c_5601-1987", "ks_c_5601-1989", "ksc5601", "ksc_5601", "windows-949",
    ),
    **_labels(
        "cp932",
        "csshiftjis", "ms932", "ms_kanji", "shift-jis", "shift_jis", "sjis",
        "windows-31j", "x-sjis",
    ),
    **_labels("iso-2022-jp", "csiso2022jp", "iso-2022-jp"),
    **_labels("koi8_u", "koi8-ru", "koi8-u"),
    **_labels(
        "utf-8",
        "unicode-1-1-utf-8", "unicode11utf8", "unicode20utf8", "utf-8", "utf8",
        "x-unicode20utf8",
    ),
}  # fmt: skip

#: Labels that declare nothing about 8-bit bytes (the standard reads
#: ``us-ascii`` as windows-1252; 8-bit bytes under it are detected instead,
#: most often they are UTF-8).
UNDECLARED = {"", "unknown-8bit", "x-unknown", "unknown", "us-ascii", "ascii"}

#: Charsets charset-normalizer may choose from (those of real mail), in the
#: order that wins a tie: a few bytes of German fit many Latin charsets.
DETECTABLE = [
    "utf_8", "cp1252", "gb18030", "cp932", "cp949", "big5hkscs", "cp1250",
    "cp1251", "koi8_r", "cp1254", "cp1253", "cp1257", "cp1255", "cp1256",
    "euc_jp", "iso8859_15",
]  # fmt: skip
#: At most this many bytes are given to the detector.
DETECT_SAMPLE = 64 * 1024


def _windows_table(codec: str) -> str:
    """A windows-125x decoding table as the standard has it: the bytes
    Python leaves undefined (0x81, 0x8D, …) are the C1 controls."""
    return "".join(bytes([b]).decode(codec, "ignore") or chr(b) for b in range(256))


#: Single-byte windows codecs decoded by table (they never fail).
WINDOWS = {
    name: _windows_table(name.replace("windows-", "cp"))
    for name in ("windows-1252", "windows-1254", "windows-874")
}

ISO2022JP_ESCAPE = re.compile(rb"\x1b(?:\$[@B]|\([BIJ])")


#: :data:`SUPERSETS` as Python codec names (for parsers that decode
#: encoded words themselves, ``email.headerregistry``).
PYTHON_CODECS = {
    **{name: name for name in set(SUPERSETS.values())},
    "windows-1252": "cp1252",
    "windows-1254": "cp1254",
    "windows-874": "cp874",
    "iso-2022-jp": "iso2022_jp_ext",
}
ENCODED_WORD_RE = re.compile(r"=\?([^?*\s]+)((?:\*[^?\s]*)?\?[bBqQ]\?)")


def superset_words(value: str) -> str:
    """``value`` with the charset of each RFC 2047 encoded word renamed to
    its superset (``=?gb2312?B?…?=`` → ``=?gb18030?B?…?=``): the same bytes,
    read as the sender's client wrote them."""

    def rename(match: re.Match) -> str:
        codec = SUPERSETS.get(label(match.group(1)))
        if codec is None:
            return match.group(0)
        return f"=?{PYTHON_CODECS[codec]}{match.group(2)}"

    return ENCODED_WORD_RE.sub(rename, value) if "=?" in value else value


def label(charset: str | None) -> str:
    """A charset parameter as a lower-case label (quotes and spaces gone)."""
    return (charset or "").strip().strip("\"'").strip().lower()


def decode(data: bytes, charset: str | None) -> str:
    """``data`` as text.

    A declared charset is decoded with the superset the WHATWG Encoding
    Standard maps its label to (``gb2312`` → GB18030, ``ks_c_5601-1987`` →
    CP949, ``shift_jis`` → CP932, ``iso-8859-1`` → windows-1252, …):
    senders' clients write the superset's characters under the older name.
    Undeclared 8-bit text (no charset, ``unknown-8bit``, an unknown label,
    8-bit bytes under ``us-ascii``) is UTF-8 if it decodes as such, else what
    charset-normalizer finds, else windows-1252; 7-bit text with ISO-2022-JP
    escapes is read as ISO-2022-JP. Only bytes no candidate decodes become
    U+FFFD.
    """
    name = label(charset)
    if name in UNDECLARED or not data:
        return _undeclared(data)
    codec = SUPERSETS.get(name, name)
    try:
        return _strict(data, codec)
    except LookupError:
        return _undeclared(data)
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("utf-8")  # UTF-8 under an older label
    except UnicodeDecodeError:
        return _lenient(data, codec)


def _strict(data: bytes, codec: str) -> str:
    if codec in WINDOWS:
        return codecs.charmap_decode(data, "strict", WINDOWS[codec])[0]
    if codec == "iso-2022-jp":
        return iso2022jp(data)
    return data.decode(codec)


def _lenient(data: bytes, codec: str) -> str:
    if codec == "iso-2022-jp":
        codec = "iso2022_jp_ext"
    return data.decode(codec, errors="replace")


def _undeclared(data: bytes) -> str:
    if data.isascii():
        if b"\x1b" in data and ISO2022JP_ESCAPE.search(data):
            try:
                return iso2022jp(data)
            except UnicodeDecodeError:
                pass
        return data.decode("ascii")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    codec = detect(data)
    if codec:
        try:
            return data.decode(codec)
        except UnicodeDecodeError:
            pass
    return _strict(data, "windows-1252")


def detect(data: bytes) -> str:
    """The charset charset-normalizer finds for undeclared 8-bit ``data``
    ("" if none fits); of equally good ones, the first in
    :data:`DETECTABLE`."""
    try:
        matches = list(from_bytes(data[:DETECT_SAMPLE], cp_isolation=DETECTABLE))
    except Exception:  # noqa: BLE001 - a detector failure falls back to windows-1252
        return ""
    if not matches:
        return ""
    best = matches[0]
    tied = {
        codec
        for match in matches
        if (match.chaos, match.coherence) == (best.chaos, best.coherence)
        for codec in match.could_be_from_charset
    }
    return next((codec for codec in DETECTABLE if codec in tied), best.encoding)


def iso2022jp(data: bytes) -> str:
    """ISO-2022-JP as the standard decodes it: JIS X 0208 with the NEC and
    IBM extensions Windows mail clients write (``①``, ``髙``), read through
    their Shift_JIS form (CP932); JIS X 0212 by Python's codec. Raises
    :class:`UnicodeDecodeError` on what neither knows."""
    if b"\x1b$(D" in data:
        return data.decode("iso2022_jp_ext")
    out: list[str] = []
    mode = b"(B"
    for index, chunk in enumerate(re.split(rb"\x1b(\$[@B]|\([BIJ])", data)):
        if index % 2:
            mode = chunk
        elif mode in (b"$@", b"$B") and _JIS_RUN.fullmatch(chunk):
            out.append(_jis_as_sjis(chunk).decode("cp932"))
        elif mode == b"(I" and _KATAKANA_RUN.fullmatch(chunk):
            out.append(bytes(b + 0x80 for b in chunk).decode("cp932"))
        elif mode in (b"(B", b"(J") and chunk.isascii() and b"\x1b" not in chunk:
            out.append(chunk.decode("ascii"))
        else:
            raise UnicodeDecodeError("iso-2022-jp", chunk, 0, len(chunk), "bad run")
    return "".join(out)


_JIS_RUN = re.compile(rb"(?:[\x21-\x7e]{2})*")
_KATAKANA_RUN = re.compile(rb"[\x21-\x5f]*")


def _jis_as_sjis(run: bytes) -> bytes:
    """Two-byte JIS X 0208 codes → their Shift_JIS bytes."""
    sjis = bytearray()
    for first, second in zip(run[::2], run[1::2], strict=True):
        row = first - 0x21
        lead = (row >> 1) + 0x81
        lead += 0x40 if lead > 0x9F else 0
        if row % 2 == 0:
            trail = second - 0x21 + 0x40
            trail += 1 if trail >= 0x7F else 0
        else:
            trail = second - 0x21 + 0x9F
        sjis += bytes((lead, trail))
    return bytes(sjis)
