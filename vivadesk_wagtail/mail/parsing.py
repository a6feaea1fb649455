"""Raw RFC 822 bytes → a :class:`ParsedMail` the pipeline can decide on.

Lenient where mail is merely sloppy (charsets, broken base64, junk before
the headers), strict where it matters: the sender's identity
(:func:`strict_sender`). Hostile structure raises :class:`MalformedMailError`.
"""

from __future__ import annotations

import binascii
import io
import re
import unicodedata
from dataclasses import dataclass, field
from email import policy
from email.header import Header, decode_header
from email.headerregistry import HeaderRegistry
from email.message import Message
from email.parser import BytesHeaderParser, BytesParser
from email.utils import getaddresses
from functools import cached_property
from html import escape

from . import charsets, content, rawmail

#: Deeper MIME nesting than this is refused (real mail nests 3–6 levels).
MAX_DEPTH = 30
#: Leaf parts looked at; the rest of a 10,000-part mail is ignored.
MAX_PARTS = 1000
RFC822 = "message/rfc822"
MESSAGE_ID_RE = re.compile(r"<[^<>\s]{1,990}>")
#: The header block is read from at most this many bytes.
MAX_HEADER_BYTES = 1024 * 1024
_registry = HeaderRegistry()


class MalformedMailError(ValueError):
    """The mail cannot be processed safely (nesting deeper than
    :data:`MAX_DEPTH`, unparseable)."""


class LookalikeDomainError(ValueError):
    """The domain would read as another one once IDNA-encoded (fullwidth
    letters, soft hyphens, zero-width characters), or a label mixes scripts."""


@dataclass
class MailPart:
    """An attachment (or inline image) as the sender sent it."""

    name: str
    data: bytes
    content_type: str
    content_id: str = ""


@dataclass
class ParsedMail:
    message: Message
    message_id: str = ""
    subject: str = ""
    from_header: str = ""
    #: The strict From address (lower-case IDNA domain), or "" if unusable; a
    #: look-alike domain is kept as written, non-ASCII escaped (``\\uff45``).
    sender: str = ""
    #: Why :attr:`sender` is empty (``missing_from``, ``ambiguous_from``, …).
    sender_problem: str = ""
    in_reply_to: list[str] = field(default_factory=list)
    references: list[str] = field(default_factory=list)
    text: str = ""
    html: str = ""
    parts: list[MailPart] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @cached_property
    def visible_text(self) -> str:
        """:attr:`text` without quoted history and signature."""
        return content.visible_text(self.text)

    def header(self, name: str) -> str:
        return header_text(self.message.get(name, ""))

    def headers(self, name: str) -> list[str]:
        return [header_text(v) for v in self.message.get_all(name) or []]


def dedupe_key(raw: bytes, headers: Message | None = None) -> tuple[str, str]:
    """``(key, message_id)``: :func:`.rawmail.dedupe_key` and the Message-ID
    it was made with ("" if the mail has none).

    Only the header block is parsed (or ``headers``, the caller's parse of
    it), so this never recurses into the body.
    """
    try:
        if headers is None:
            headers = parse_headers(raw)
        message_id = first_message_id(header_text(headers.get("Message-ID", "")))
    except Exception:  # noqa: BLE001 - any header garbage: no Message-ID
        message_id = ""
    return rawmail.dedupe_key(raw, message_id), message_id


def parse_headers(raw: bytes) -> Message:
    """The header block only (from :func:`.rawmail.header_start`), without
    copying a large body."""
    start = rawmail.header_start(raw)
    end = min(
        (i for i in (raw.find(b"\r\n\r\n", start), raw.find(b"\n\n", start)) if i >= 0),
        default=len(raw),
    )
    head = raw[start : min(end + 4, start + MAX_HEADER_BYTES)]
    return BytesHeaderParser(policy=policy.compat32).parsebytes(head)


def payload_bytes(part: Message) -> bytes:
    """A leaf part's decoded payload; base64 decoded without the two extra
    copies ``get_payload(decode=True)`` makes (peak memory of big mails)."""
    cte = (part.get("Content-Transfer-Encoding") or "").strip().lower()
    payload = part.get_payload()
    if cte == "base64" and isinstance(payload, str):
        try:
            return binascii.a2b_base64(payload)
        except (binascii.Error, ValueError):
            pass
    return part.get_payload(decode=True) or b""


def first_message_id(value: str) -> str:
    found = MESSAGE_ID_RE.search(value or "")
    if found:
        return found.group(0)
    return " ".join((value or "").split())[:998]


def message_ids(values: list[str]) -> list[str]:
    return [m for v in values for m in MESSAGE_ID_RE.findall(v or "")]


def _decode_bytes(data: bytes, charset: str | None) -> str:
    text = charsets.decode(data, charset)
    # PostgreSQL text cannot hold NUL characters.
    return text.replace("\x00", "\ufffd")


def header_text(value) -> str:
    """A header as readable text: RFC 2047 words and raw 8-bit decoded (as
    :func:`.charsets.decode` does), one line."""
    if not value:
        return ""
    if not isinstance(value, Header | str):
        value = str(value)
    try:
        chunks = decode_header(value)
    except Exception:  # noqa: BLE001 - broken encoded words: keep them literally
        chunks = [(str(value), None)]
    text = "".join(
        _decode_bytes(chunk, charset) if isinstance(chunk, bytes) else chunk
        for chunk, charset in chunks
    )
    return " ".join(text.replace("\x00", "").split())


def _raw_header(value) -> str:
    """A header value for the strict address parser: encoded words kept
    (their charsets named by the superset they are read in,
    :func:`.charsets.superset_words`), raw 8-bit decoded."""
    if isinstance(value, Header):
        return header_text(value)
    unfolded = re.sub(r"\r?\n(?=[ \t])", "", str(value)).strip()
    return charsets.superset_words(unfolded)


def strict_sender(values: list) -> tuple[str, str]:
    """``(address, problem)`` from every ``From`` header of a mail.

    The sender's identity comes from the one ``From`` header only, parsed
    with ``email.headerregistry``; an ambiguous or malformed ``From`` gives
    no address with the problem named, and a look-alike domain
    (:func:`ascii_domain`) is kept as written, so it matches no customer.

    Exactly one header with exactly one syntactically clean mailbox is
    accepted; anything else (two headers, a group, two addresses,
    ``alice@x)<bob@y>``, no domain) gives no address and a problem code.
    ``Reply-To`` and ``Sender`` are never looked at.
    """
    if not values:
        return "", "missing_from"
    if len(values) > 1:
        return "", "ambiguous_from"
    return _parsed_sender(_raw_header(values[0]))


def _parsed_sender(raw: str) -> tuple[str, str]:
    """:func:`strict_sender` of one header, by ``email.headerregistry``."""
    try:
        parsed = _registry("From", raw)
    except Exception:  # noqa: BLE001 - the parser itself choked
        return "", "malformed_from"
    invalid = [d for d in parsed.defects if "Obsolete" not in type(d).__name__]
    addresses = list(parsed.addresses)
    if len(addresses) != 1 or invalid or len(getaddresses([raw])) != 1:
        return "", "ambiguous_from"
    local, domain = addresses[0].username, addresses[0].domain
    if not local or not domain or "@" in local or len(local) + len(domain) > 253:
        return "", "malformed_from"
    try:
        domain = ascii_domain(domain)
    except LookalikeDomainError:
        # Never folded onto the domain it imitates: kept visibly as written,
        # it matches no customer (``normalize_email`` refuses it too).
        domain = domain.lower().encode("ascii", "backslashreplace").decode()
    except UnicodeError:
        return "", "malformed_from"
    return f"{local}@{domain}", ""


#: Scripts that may share one label (after Unicode's "highly restrictive"
#: profile, UTS #39): Japanese, Chinese and Korean writing with Latin.
SCRIPT_SETS = (
    frozenset({"LATIN", "CJK", "HIRAGANA", "KATAKANA"}),
    frozenset({"LATIN", "CJK", "BOPOMOFO"}),
    frozenset({"LATIN", "CJK", "HANGUL"}),
)
#: First words of letter names that are not a script of their own.
_SCRIPT_ALIASES = {"IDEOGRAPHIC": "CJK", "KATAKANA-HIRAGANA": "", "MODIFIER": ""}


def ascii_domain(domain: str) -> str:
    """``domain`` in lower-case IDNA ASCII, refusing look-alikes.

    Raises :class:`UnicodeError` for what IDNA cannot encode, and
    :class:`LookalikeDomainError` when encoding would change the domain other
    than by case (``ｅxample.com`` and ``exam\\u00adple.com`` both encode to
    ``example.com``) or when a label mixes scripts (a Cyrillic ``а`` among
    Latin letters), written in Unicode or as an ``xn--`` label.
    """
    encoded = domain.encode("idna").decode("ascii").lower()
    if domain.isascii() and "xn--" not in encoded:
        return encoded
    written, labels = domain.lower().split("."), encoded.split(".")
    if len(written) != len(labels):  # an ideographic full stop became a dot
        raise LookalikeDomainError(domain)
    for given, label in zip(written, labels, strict=True):
        shown = _unicode_label(label)
        if (not given.isascii() and shown != given) or _mixes_scripts(shown):
            raise LookalikeDomainError(domain)
    return encoded


def _unicode_label(label: str) -> str:
    """An ``xn--`` label decoded (as it was, if it is not valid punycode)."""
    if not label.startswith("xn--"):
        return label
    try:
        return label.encode("ascii").decode("idna")
    except UnicodeError:
        return label


def _mixes_scripts(label: str) -> bool:
    """Whether the letters of ``label`` come from scripts that do not mix
    (a letter's script is the first word of its Unicode name)."""
    if label.isascii():
        return False
    scripts = set()
    for char in label:
        if unicodedata.category(char).startswith("L"):
            word = unicodedata.name(char, "?").split(" ", 1)[0]
            scripts.add(_SCRIPT_ALIASES.get(word, word))
    scripts.discard("")
    return len(scripts) > 1 and not any(scripts <= group for group in SCRIPT_SETS)


def parse(raw: bytes) -> ParsedMail:
    """The mail in ``raw``, read from its header block on (junk lines before
    it skipped, :func:`.rawmail.header_start`).

    Lenient where mail is merely sloppy: charsets are read as mail clients
    read them (:mod:`.charsets`), what no charset decodes becomes replacement
    characters, never dropped characters, and broken base64 is decoded as
    far as it goes.
    """
    stream = io.BytesIO(raw)
    stream.seek(rawmail.header_start(raw))
    try:
        # Streamed in chunks: parsing the bytes at once would hold a
        # four-byte-per-character copy of the whole mail.
        message = BytesParser(policy=policy.compat32).parse(stream)
    except RecursionError as exc:
        raise MalformedMailError("MIME nesting too deep to parse") from exc
    parsed = ParsedMail(message=message)
    parsed.message_id = first_message_id(parsed.header("Message-ID"))
    parsed.subject = parsed.header("Subject")
    from_values = message.get_all("From") or []
    parsed.from_header = " / ".join(header_text(v) for v in from_values)
    parsed.sender, parsed.sender_problem = strict_sender(from_values)
    parsed.in_reply_to = message_ids(parsed.headers("In-Reply-To"))
    parsed.references = message_ids(parsed.headers("References"))
    _read_body(parsed)
    return parsed


@dataclass
class _Piece:
    """One inline body part, or one ``multipart/alternative`` made one:
    its text (``text/plain``) and its HTML (``text/html``), where it has it."""

    plain: str | None = None
    html: str | None = None

    @property
    def text(self) -> str:
        return self.plain if self.plain is not None else content.html_to_text(self.html)


class _Walk:
    """The body as :class:`_Piece` s in order, attachments into ``parsed``;
    refuses nesting deeper than :data:`MAX_DEPTH`, reads at most
    :data:`MAX_PARTS` leaf parts.

    A walk of its own rather than ``EmailMessage.get_body()`` and
    ``iter_attachments()`` of :data:`email.policy.default`, which cannot give
    this behaviour: ``get_body`` returns one part, where the body is every
    inline part in order (a text with an HTML signature part); in a
    ``multipart/alternative`` it takes the first of a type, not the last one
    with text (RFC 2046); it has no depth limit (mail nested deeper than
    :data:`MAX_DEPTH` must raise :class:`MalformedMailError`).
    ``iter_attachments`` looks at one level only and returns a second inline
    text part as an attachment, and ``is_attachment()`` ignores a file name on
    an inline part. The parse stays :data:`email.policy.compat32`: its raw
    header values go to :func:`.charsets.decode` (``policy.default`` makes
    raw 8-bit text that is not UTF-8, such as windows-1252, replacement
    characters), to the strict ``From`` parser, to :mod:`.classify` and to
    the dedupe key, read exactly as :func:`parse_headers` reads them.
    """

    def __init__(self, parsed: ParsedMail) -> None:
        self.parsed = parsed
        self.leaves = 0

    def pieces(self, part: Message, depth: int = 0) -> list[_Piece]:
        if depth > MAX_DEPTH:
            raise MalformedMailError(f"MIME nesting deeper than {MAX_DEPTH} levels")
        payload = part.get_payload()
        ctype = part.get_content_type()
        if part.is_multipart() and isinstance(payload, list) and ctype != RFC822:
            children = [self.pieces(child, depth + 1) for child in payload]
            if ctype == "multipart/alternative":
                return _alternative(children)
            return [piece for child in children for piece in child]
        self.leaves += 1
        if self.leaves > MAX_PARTS:
            if self.leaves == MAX_PARTS + 1:
                self.parsed.notes.append(f"only the first {MAX_PARTS} parts were read")
            return []
        if ctype in ("text/plain", "text/html") and not _is_attachment(part):
            decoded = _decode_bytes(payload_bytes(part), part.get_content_charset())
            if ctype == "text/plain":
                return [_Piece(plain=decoded)]
            return [_Piece(html=decoded)]
        attachment = _attachment(part, len(self.parsed.parts))
        if attachment is not None:
            self.parsed.parts.append(attachment)
        return []


def _alternative(children: list[list[_Piece]]) -> list[_Piece]:
    """The parts of a ``multipart/alternative`` as one piece: its text from
    the last plain-text alternative with text (else the last with any text),
    its HTML from the last alternative with HTML (RFC 2046: the last is the
    sender's preferred one). HTML is made text only when no plain text is
    there."""
    plain = [c for c in children if c and all(p.plain is not None for p in c)]
    texts = (_text_of(c) for c in [*reversed(plain), *reversed(children)])
    text = next((t for t in texts if t.strip()), "")
    rich = [child for child in children if any(p.html is not None for p in child)]
    if not text and not rich:
        return []
    return [_Piece(plain=text, html=_html_of(rich[-1]) if rich else None)]


def _text_of(pieces: list[_Piece]) -> str:
    return "\n".join(text for text in (p.text for p in pieces) if text.strip())


def _html_of(pieces: list[_Piece]) -> str:
    """The pieces as one HTML document: HTML as it is, text escaped."""
    return "".join(
        p.html if p.html is not None else _plain_as_html(p.plain) for p in pieces
    )


def _plain_as_html(text: str) -> str:
    if not text.strip():
        return ""
    return "<div>" + escape(text.strip("\n")).replace("\n", "<br>\n") + "</div>"


def _is_attachment(part: Message) -> bool:
    """Disposition ``attachment``, or any part that names a file."""
    return part.get_content_disposition() == "attachment" or bool(part.get_filename())


def _read_body(parsed: ParsedMail) -> None:
    """Text and HTML of every inline part in order, as mail clients show a
    ``multipart/mixed`` of text and HTML parts (a signature in HTML after
    the text, a footer in text after the HTML); of each
    ``multipart/alternative`` one rendering. :attr:`ParsedMail.html` is set
    when any part is HTML, the text parts then escaped into it."""
    pieces = _Walk(parsed).pieces(parsed.message)
    parsed.text = _text_of(pieces)
    if any(p.html is not None for p in pieces):
        parsed.html = content.sanitize_html(_html_of(pieces))


def _attachment(part: Message, index: int) -> MailPart | None:
    ctype = part.get_content_type()
    if ctype == RFC822:
        inner = part.get_payload()
        if not isinstance(inner, list) or len(inner) != 1:
            return None
        try:
            data = inner[0].as_bytes(policy=policy.compat32)
        except Exception:  # noqa: BLE001 - an unserialisable attached mail
            return None
        name = header_text(part.get_filename()) or "message.eml"
        return MailPart(name=name, data=data, content_type=ctype)
    if part.get_content_maintype() == "multipart":
        return None
    data = payload_bytes(part)
    if not data:
        return None
    name = header_text(part.get_filename() or "")
    if not name:
        name = f"attachment-{index + 1}{content.extension_for(ctype)}"
    content_id = header_text(part.get("Content-ID", "")).strip().strip("<>")[:255]
    return MailPart(name=name, data=data, content_type=ctype, content_id=content_id)
