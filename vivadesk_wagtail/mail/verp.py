"""Signed VERP envelope senders: ``helpdesk+bounce-<token>@…``.

A bounce is believed only when it comes back to an address whose token we
signed (DESIGN.md, decision 7). The token is ``<outbox id, base 36>.<MAC>``,
checked here before the outbox row is even looked up.
"""

from __future__ import annotations

import base64
import re

from django.core import signing
from django.utils.crypto import salted_hmac
from django.utils.http import base36_to_int, int_to_base36

from .. import conf

#: The namespace of VERP signatures (no other signature verifies as one).
SALT = "vivadesk_wagtail.mail.verp"
#: Base-32 characters of the MAC kept: 16 × 5 = 80 bits.
SIGNATURE_LENGTH = 16
#: What marks an envelope sender as ours; the token follows it.
TAG = "+bounce-"
#: Every address of the form ``…+bounce-<anything>@``, signed or not.
CANDIDATE_RE = re.compile(r"\+bounce-([^@\s<>\"',;]{0,80})@", re.IGNORECASE)
_TOKEN_RE = re.compile(rf"([0-9a-z]{{1,13}})\.([a-z2-7]{{{SIGNATURE_LENGTH}}})")


class VerpSigner(signing.Signer):
    """Django's :class:`~django.core.signing.Signer` with a short signature
    that survives a mail system.

    ``Signer`` signs with ``SECRET_KEY`` and verifies with it and every key in
    ``SECRET_KEY_FALLBACKS`` (so a rotated key keeps old bounces valid), in
    constant time. Only :meth:`signature` differs: the HMAC-SHA256 is written
    in lower-case base 32 and cut to :data:`SIGNATURE_LENGTH` characters.
    Base 32, not base64: mail systems may change the case of a local part
    (RFC 5321 allows it to matter, Postfix lower-cases ``Delivered-To``), and
    a case-free token still verifies. With the outbox id this keeps the local
    part ``<helpdesk>+bounce-<id>.<16 chars>`` far below RFC 5321's 64
    characters (a 7-digit id adds 32 to the help desk's own local part).
    """

    def __init__(self):
        super().__init__(sep=".", salt=SALT, algorithm="sha256")

    def signature(self, value, key=None):
        mac = salted_hmac(
            self.salt + "signer", value, key or self.key, algorithm=self.algorithm
        ).digest()
        return base64.b32encode(mac).decode()[:SIGNATURE_LENGTH].lower()


def token(pk: int) -> str:
    """The signed token of outbox row ``pk``."""
    return VerpSigner().sign(int_to_base36(pk))


def address(pk: int) -> str:
    """The envelope sender of outbox row ``pk``."""
    local, _at, domain = conf.helpdesk_email().rpartition("@")
    return f"{local}{TAG}{token(pk)}@{domain}"


def verified_pk(value: str) -> int | None:
    """The outbox id a token was signed for, or ``None`` if it is not one of
    ours (unsigned, altered, signed with another key or salt)."""
    found = _TOKEN_RE.fullmatch((value or "").strip().lower())
    if found is None:
        return None
    try:
        unsigned = VerpSigner().unsign(found.group(0))
    except signing.BadSignature:
        return None
    return base36_to_int(unsigned)


def candidates(values: list[str]) -> list[str]:
    """The tokens of every ``+bounce-`` address in ``values``."""
    return [t for value in values for t in CANDIDATE_RE.findall(value or "")]
