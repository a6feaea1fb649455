"""The rating links of the "Done" mail: a token signed with a salt of its
own (``django.core.signing``), naming one ticket and bound to its
``secret``, so anonymising the ticket (which renews the secret) kills every
link sent about it. It expires after ``RATING_LINK_MAX_AGE``. The choice
(good or bad) rides in the query string and only preselects the page's
form; the token authorises nothing but rating its ticket.

The links are built when a mail is rendered for sending (:func:`for_mail`),
from ``VIVADESK["BASE_URL"]`` in the mail's language; they are never
stored.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core import signing
from django.urls import reverse
from django.utils import translation
from django.utils.crypto import constant_time_compare, salted_hmac

from .. import conf
from ..models import Rating, Ticket
from ..services import satisfaction
from .links import absolute

SALT = "vivadesk_wagtail.portal.satisfaction_tokens"
#: The query parameter of the preselected choice.
CHOICE = "choice"
#: Why a token does not lead to a ticket.
INVALID = "invalid"
EXPIRED = "expired"
#: The mails that carry rating links.
EVENTS = frozenset({"ticket_done"})


def _binding(ticket: Ticket) -> str:
    """A digest of the ticket's secret (the secret itself never leaves the
    database: the token's payload is signed, not encrypted)."""
    return salted_hmac(SALT, f"{ticket.pk}:{ticket.secret}").hexdigest()[:24]


def make(ticket: Ticket) -> str:
    """A fresh rating token for ``ticket``."""
    return signing.dumps({"t": ticket.pk, "b": _binding(ticket)}, salt=SALT)


@dataclass(frozen=True)
class Reading:
    """The ticket a token names (``None`` with a ``problem``)."""

    ticket: Ticket | None
    problem: str | None = None


def read(token: str) -> Reading:
    """The ticket of a rating token; ``problem`` is :data:`INVALID` for a
    forged, damaged or other-purpose token, or one whose ticket is gone or
    has a new secret (anonymised), :data:`EXPIRED` for one older than
    ``RATING_LINK_MAX_AGE`` (no ticket then: an expired link shows
    nothing)."""
    try:
        data = signing.loads(token, salt=SALT, max_age=conf.get("RATING_LINK_MAX_AGE"))
    except signing.SignatureExpired:
        return Reading(None, EXPIRED)
    except signing.BadSignature:
        return Reading(None, INVALID)
    if not isinstance(data, dict) or not isinstance(data.get("t"), int):
        return Reading(None, INVALID)
    ticket = Ticket.objects.filter(pk=data["t"]).first()
    if ticket is None or not constant_time_compare(
        str(data.get("b", "")), _binding(ticket)
    ):
        return Reading(None, INVALID)
    return Reading(ticket)


def rating_url(ticket: Ticket, choice: str, language: str) -> str:
    """The absolute link that opens the rating page of ``ticket`` with
    ``choice`` preselected, in ``language``, with a fresh token."""
    with translation.override(language):
        path = reverse("vivadesk_wagtail:rate", args=[make(ticket)])
    return absolute(f"{path}?{CHOICE}={choice}")


def for_mail(row) -> dict:
    """``rate_good`` and ``rate_bad`` for a "Done" mail whose ticket can
    still be rated; nothing for other mails."""
    ticket = row.ticket if row.ticket_id else None
    if row.event not in EVENTS or ticket is None:
        return {}
    if satisfaction.not_rateable(ticket):
        return {}
    return {
        "rate_good": rating_url(ticket, Rating.GOOD, row.language),
        "rate_bad": rating_url(ticket, Rating.BAD, row.language),
    }
