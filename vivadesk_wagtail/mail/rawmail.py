"""A mail's raw bytes before parsing: where its headers start, whether it is
a mail at all, and the key that makes a second delivery of it a duplicate.

All three read bytes only (no decoding, no MIME parsing), so they are cheap
enough to run on every mail and give the same answer in every release.
"""

from __future__ import annotations

import hashlib
import re

#: Lines before the header block that are skipped when they are not header
#: fields (a gateway's ``---- Original email message ----``, an mbox
#: ``From`` line, a blank line); more than this and nothing is skipped.
MAX_LEADING_LINES = 5
#: Header fields read as a sign that a header block belongs to a mail.
MAIL_FIELDS = frozenset(
    b"from sender date message-id subject received return-path to cc "
    b"mime-version content-type delivered-to in-reply-to references".split()
)
#: How far into the header block the signs above are looked for.
SCAN_BYTES = 64 * 1024
#: Leading bytes of files that are never a mail: an OLE2 compound file (an
#: Outlook ``.msg``), PDF, ZIP (also .docx/.xlsx), gzip, 7-Zip, RAR, PNG,
#: JPEG, GIF, a TNEF ``winmail.dat``, a Windows executable, ELF.
BINARY_SIGNATURES = (
    b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",
    b"%PDF-",
    b"PK\x03\x04",
    b"\x1f\x8b",
    b"7z\xbc\xaf\x27\x1c",
    b"Rar!\x1a\x07",
    b"\x89PNG\r\n\x1a\n",
    b"\xff\xd8\xff",
    b"GIF8",
    b"\x78\x9f\x3e\x22",
    b"MZ\x90\x00",
    b"\x7fELF",
)
#: Control bytes (besides tab, line breaks, form feed) in a header block:
#: more than this share and it is binary data.
MAX_CONTROL_SHARE = 0.02
_TEXT_BYTES = bytes([9, 10, 12, 13, *range(32, 127), *range(128, 256)])
#: A header field's first line: a name of printable ASCII without colon or
#: space (RFC 5322 ``ftext``), optional blanks, the colon.
FIELD_RE = re.compile(rb"([!-9;-~]+)[ \t]*:")
BLANK_LINE_RE = re.compile(rb"\r?\n\r?\n")


def header_start(raw: bytes) -> int:
    """Where the header block starts: 0, or after up to
    :data:`MAX_LEADING_LINES` lines that are no header field when a header
    block with a mail field (:data:`MAIL_FIELDS`) follows them."""
    position = 0
    for _ in range(MAX_LEADING_LINES + 1):
        if FIELD_RE.match(raw, position):
            return position if position == 0 or _has_mail_field(raw, position) else 0
        end = raw.find(b"\n", position, position + 1000)
        if end < 0:
            return 0
        position = end + 1
    return 0


def _header_block(raw: bytes, start: int) -> bytes:
    """The header block from ``start`` to its blank line, at most
    :data:`SCAN_BYTES`."""
    block = raw[start : start + SCAN_BYTES]
    end = BLANK_LINE_RE.search(block)
    return block[: end.start()] if end is not None else block


#: A header field of the names in :data:`MAIL_FIELDS` at a line start.
MAIL_FIELD_RE = re.compile(
    rb"^(?:"
    + b"|".join(re.escape(name) for name in sorted(MAIL_FIELDS))
    + rb")[ \t]*:",
    re.IGNORECASE | re.MULTILINE,
)


def _has_mail_field(raw: bytes, start: int) -> bool:
    return MAIL_FIELD_RE.search(_header_block(raw, start)) is not None


def looks_like_mail(raw: bytes) -> bool:
    """Whether ``raw`` is an RFC 822 message: no binary file signature (at
    the start, or right after the header lines a server put before a file),
    a header block (after :func:`header_start`) with at least one mail
    field, and next to no control bytes in it. Anything else (an Outlook
    ``.msg``, a PDF, a zip, random bytes) is held as "not a mail", never
    parsed."""
    if not raw or raw.startswith(BINARY_SIGNATURES):
        return False
    head = _header_block(raw, header_start(raw))
    controls = len(head.translate(None, _TEXT_BYTES))
    if b"\x00" in head or controls > MAX_CONTROL_SHARE * len(head):
        return False
    fields = head[: _fields_end(head)]
    if head[len(fields) :].startswith(BINARY_SIGNATURES):
        return False
    return MAIL_FIELD_RE.search(fields) is not None


#: A run of header lines: fields and their continuation lines.
HEADER_LINES_RE = re.compile(rb"(?:(?:[!-9;-~]+[ \t]*:|[ \t])[^\n]*(?:\n|\Z))*")


def _fields_end(head: bytes) -> int:
    """Where the header lines of ``head`` end: at its first line that is
    neither a field nor a field's continuation (else its end)."""
    return HEADER_LINES_RE.match(head).end()


#: Fields of the fingerprint, in this order.
FINGERPRINT_FIELDS = (b"from", b"date", b"subject")
#: The body is hashed in pieces of this size (no copy of a large mail).
_CHUNK = 64 * 1024


def fingerprint(raw: bytes, message_id: str = "") -> str:
    """The sha256 (hex) that tells one mail from another under one
    Message-ID. Hashed, in this order:

    - ``vivadesk-dedupe-1`` and the Message-ID (as :func:`dedupe_key` gets
      it), each followed by a line break;
    - ``from``, ``date`` and ``subject``: each as ``name:`` and the raw bytes
      of every field of that name in the header block (from
      :func:`header_start`), unfolded, runs of blanks made one space, the
      fields joined by a line break, then a line break;
    - an empty line, then the body: every byte after the header block's
      blank line, CRLF made LF, trailing blanks and line breaks removed.

    Left out on purpose: lines before the headers, every other header field
    (``Received``, ``Delivered-To``, ``X-Original-To``, ``Return-Path``,
    ``Status``/``X-Status``/keywords, ``Authentication-Results``, …, which
    servers add or change between two fetches of one mail) and the header
    block's line endings and folding. Decoding plays no part, so a change
    in how charsets are read never changes a key.
    """
    return _fingerprint(raw, message_id, _fingerprint_fields(raw))


#: A fingerprint field with its continuation lines.
FINGERPRINT_FIELD_RE = re.compile(
    rb"^(from|date|subject)[ \t]*:(.*(?:\r?\n[ \t].*)*)",
    re.IGNORECASE | re.MULTILINE,
)


def _fingerprint_fields(raw: bytes) -> dict[bytes, list[bytes]]:
    """The values of the :data:`FINGERPRINT_FIELDS` in the header block,
    unfolded, runs of blanks made one space."""
    values: dict[bytes, list[bytes]] = {name: [] for name in FINGERPRINT_FIELDS}
    block = _header_block(raw, header_start(raw))
    for name, value in FINGERPRINT_FIELD_RE.findall(block):
        values[name.lower()].append(b" ".join(value.split()))
    return values


def _fingerprint(raw: bytes, message_id: str, values: dict) -> str:
    digest = hashlib.sha256(b"vivadesk-dedupe-1\n")
    digest.update(message_id.encode("utf-8", "surrogateescape") + b"\n")
    for name in FINGERPRINT_FIELDS:
        digest.update(name + b":" + b"\n".join(values[name]) + b"\n")
    digest.update(b"\n")
    end = BLANK_LINE_RE.search(raw, header_start(raw))
    if end is not None:
        _hash_body(digest, raw, end.end())
    return digest.hexdigest()


def _hash_body(digest, raw: bytes, start: int) -> None:
    """Feed ``raw[start:]`` with CRLF as LF and without trailing whitespace,
    in pieces (copied only if it has CRs)."""
    stop = len(raw)
    while stop > start and raw[stop - 1] in b" \t\r\n":
        stop -= 1
    body = memoryview(raw)[start:stop]
    if raw.find(b"\r", start, stop) < 0:
        digest.update(body)
        return
    carry = b""
    for offset in range(0, len(body), _CHUNK):
        chunk = carry + bytes(body[offset : offset + _CHUNK])
        carry = b"\r" if chunk.endswith(b"\r") else b""
        digest.update(chunk[: len(chunk) - len(carry)].replace(b"\r\n", b"\n"))
    digest.update(carry)


def dedupe_key(raw: bytes, message_id: str) -> str:
    """The unique key of a mail (``InboundMail.dedupe_key``), ``message_id``
    being its Message-ID ("" if it has none):

    - ``mid:`` + :func:`fingerprint` with the Message-ID: a re-fetch (the
      same mail, trace headers aside) is the same key, another mail that
      reuses the Message-ID (ticket systems, scanners, scripts do) is not;
    - ``fp:`` + :func:`fingerprint` without one, when the mail has a
      ``Date``: sender, date, subject and body tell such mails apart well;
    - ``raw:`` + the sha256 of the bytes when it has neither: two sends of
      the same text without Message-ID and Date (a script) are told apart by
      their trace headers, so one is never lost as the other's duplicate
      (two deliveries of one such mail are then two rows).

    Earlier keys were ``id:`` + the Message-ID's sha256; migration
    ``0010_dedupe_key_fingerprint`` rewrote them.
    """
    values = _fingerprint_fields(raw)
    if message_id:
        return "mid:" + _fingerprint(raw, message_id, values)
    if values[b"date"]:
        return "fp:" + _fingerprint(raw, "", values)
    return "raw:" + hashlib.sha256(raw).hexdigest()
