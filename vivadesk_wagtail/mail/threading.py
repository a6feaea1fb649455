"""Which ticket a mail answers.

First by ``In-Reply-To``/``References`` against Message-IDs we know (the ones
we sent, kept on outbox rows, and the ones customers' mails came with), so an
edited subject still finds its ticket; else by the reference in the subject
(``[VIVA-1042]``). Matching is routing only: the caller still checks that the
sender is the ticket's customer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .. import conf
from ..models import OutboundEmail, Ticket, TicketMessage
from .parsing import ParsedMail


@dataclass
class Match:
    ticket: Ticket
    #: ``headers`` or ``subject``
    by: str


def reference_re() -> re.Pattern:
    prefix = re.escape(conf.get("TICKET_PREFIX"))
    return re.compile(rf"(?<![A-Za-z0-9])({prefix})-(\d{{1,18}})(?!\d)", re.IGNORECASE)


def subject_references(subject: str) -> list[str]:
    """Ticket references in a subject, bracketed ones first."""
    pattern = reference_re()
    prefix = conf.get("TICKET_PREFIX")
    found = [
        (0 if subject[max(m.start() - 1, 0) : m.start()] == "[" else 1, m.start(), m)
        for m in pattern.finditer(subject or "")
    ]
    return [f"{prefix}-{int(m.group(2))}" for _rank, _pos, m in sorted(found)]


def thread_ids(parsed: ParsedMail) -> list[str]:
    """Message-IDs the mail refers to, most specific first."""
    ordered = parsed.in_reply_to + list(reversed(parsed.references))
    return list(dict.fromkeys(ordered))[:100]


def by_headers(parsed: ParsedMail) -> Ticket | None:
    ids = thread_ids(parsed)
    if not ids:
        return None
    ours = {
        row.message_id: row.ticket
        for row in OutboundEmail.objects.filter(
            message_id__in=ids, ticket__isnull=False
        ).select_related("ticket__customer")
    }
    if ids[0] in ours:
        # The most specific id is one we sent: nothing can come before it.
        return ours[ids[0]]
    theirs = dict(
        TicketMessage.objects.filter(message_id__in=ids).values_list(
            "message_id", "ticket_id"
        )
    )
    for message_id in ids:
        if message_id in ours:
            return ours[message_id]
        ticket_id = theirs.get(message_id)
        if ticket_id:
            return Ticket.objects.select_related("customer").get(pk=ticket_id)
    return None


def by_subject(parsed: ParsedMail) -> Ticket | None:
    for reference in subject_references(parsed.subject):
        ticket = Ticket.objects.select_related("customer").filter(
            reference__iexact=reference
        )
        if ticket:
            return ticket[0]
    return None


def find_ticket(parsed: ParsedMail) -> Match | None:
    ticket = by_headers(parsed)
    if ticket is not None:
        return Match(ticket, "headers")
    ticket = by_subject(parsed)
    if ticket is not None:
        return Match(ticket, "subject")
    return None


def is_own_message_id(message_id: str) -> bool:
    """A Message-ID at our domain that we actually sent."""
    domain = conf.message_id_domain().lower()
    if not message_id.lower().rstrip(">").endswith("@" + domain):
        return False
    return OutboundEmail.objects.filter(message_id=message_id).exists()
