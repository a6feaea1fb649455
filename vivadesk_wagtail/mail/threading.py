"""Which ticket a mail answers.

First by ``In-Reply-To``/``References`` against Message-IDs we know (the ones
we sent, kept on outbox rows, and the ones customers' mails came with), so an
edited subject still finds its ticket; else by the reference in the subject
(``[VIVA-1042]``). Matching is routing only: the caller still checks that the
sender is the ticket's customer. Runs inside the caller's transaction: the
ticket found is locked for it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.db.models import F

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


def _tickets(annotations: dict):
    """Tickets as the pipeline needs them: under their row lock (the caller's
    transaction holds it, so ``services.tickets`` need not read them again),
    with the customer and their profile (the sender check) and the caller's
    ``annotations``."""
    return (
        Ticket.objects.select_related("customer__helpdesk_profile")
        .select_for_update(of=("self",))
        .annotate(**annotations)
    )


def by_headers(parsed: ParsedMail, annotations: dict) -> Ticket | None:
    ids = thread_ids(parsed)
    if not ids:
        return None
    ours = {
        ticket.via: ticket
        for ticket in _tickets(annotations)
        .filter(outbound_emails__message_id__in=ids)
        .annotate(via=F("outbound_emails__message_id"))
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
            return _tickets(annotations).get(pk=ticket_id)
    return None


def by_subject(parsed: ParsedMail, annotations: dict) -> Ticket | None:
    for reference in subject_references(parsed.subject):
        # ``subject_references`` spells them as stored: an exact, indexed match.
        ticket = _tickets(annotations).filter(reference=reference).first()
        if ticket is not None:
            return ticket
    return None


def find_ticket(parsed: ParsedMail, **annotations) -> Match | None:
    """The ticket ``parsed`` answers, locked, with ``annotations`` read in the
    same query."""
    ticket = by_headers(parsed, annotations)
    if ticket is not None:
        return Match(ticket, "headers")
    ticket = by_subject(parsed, annotations)
    if ticket is not None:
        return Match(ticket, "subject")
    return None


def is_own_message_id(message_id: str) -> bool:
    """A Message-ID at our domain that we actually sent."""
    domain = conf.message_id_domain().lower()
    if not message_id.lower().rstrip(">").endswith("@" + domain):
        return False
    return OutboundEmail.objects.filter(message_id=message_id).exists()
