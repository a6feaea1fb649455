"""Which ticket a mail answers.

By ``In-Reply-To``/``References`` against Message-IDs we know, else by the
reference in the subject (``[VIVA-1042]``). Matching is routing only: the
caller still checks that the sender is the ticket's customer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.contrib.auth import get_user_model

from .. import conf, statements
from ..models import CustomerProfile, OutboundEmail, Ticket, TicketMessage
from ..models.customers import profile_width, user_with_profile, with_profile_columns
from .parsing import ParsedMail

#: :attr:`Match.by`: a Message-ID of a mail we sent, one we received on
#: the ticket, the reference in the subject.
BY_HEADERS, BY_RECEIVED, BY_SUBJECT = "headers", "received", "subject"


@dataclass
class Match:
    """A ticket found and how: only a Message-ID we sent (``headers``) shows
    that the sender saw our mail; the Message-ID of a mail we received, like
    the reference in the subject, anybody may know."""

    ticket: Ticket
    #: :data:`BY_HEADERS`, :data:`BY_RECEIVED` or :data:`BY_SUBJECT`
    by: str

    @property
    def by_headers(self) -> bool:
        """``In-Reply-To``/``References`` name a Message-ID we sent about
        this ticket."""
        return self.by == BY_HEADERS


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


def _tickets(
    annotations: dict, condition: str, params: list, join_outbound: bool = False
) -> list[Ticket]:
    """Tickets as the pipeline needs them: under their row lock (the caller's
    transaction holds it, so ``services.tickets`` need not read them again),
    with the customer and their profile (the sender check) and the caller's
    ``annotations`` (``RawSQL`` by name), in one statement.

    Spelled out in SQL (``statements``): building this query and its three
    objects with the ORM cost several times what running it does, on every
    reply (docs/benchmarks.md). ``join_outbound`` joins the outbox; each
    ticket then has the Message-ID it was found by as ``via``.
    """
    user = get_user_model()
    col = statements.column
    names = list(annotations)
    select = [statements.columns(Ticket), with_profile_columns()]
    select += [f"({annotations[name].sql})" for name in names]
    joins = ""
    if join_outbound:
        select.append(col(OutboundEmail, "message_id"))
        joins = (
            f" INNER JOIN {statements.table(OutboundEmail)}"
            f" ON {col(OutboundEmail, 'ticket')} = {col(Ticket, 'pk')}"
        )
    sql = (
        f"SELECT {', '.join(select)} FROM {statements.table(Ticket)}{joins}"
        f" INNER JOIN {statements.table(user)}"
        f" ON {col(user, 'pk')} = {col(Ticket, 'customer')}"
        f" LEFT OUTER JOIN {statements.table(CustomerProfile)}"
        f" ON {col(CustomerProfile, 'user')} = {col(user, 'pk')}"
        f" WHERE {condition}"
    )
    connection = statements.connection_for(Ticket)
    if connection.features.has_select_for_update_of:
        sql += " " + connection.ops.for_update_sql(of=(statements.table(Ticket),))
    all_params = [p for name in names for p in annotations[name].params] + params
    with connection.cursor() as cursor:
        cursor.execute(sql, all_params)
        rows = cursor.fetchall()
    return [_ticket_of(row, names + ["via"] * join_outbound) for row in rows]


def _ticket_of(row, names: list[str]) -> Ticket:
    """The ticket of one row of :func:`_tickets`, its customer and profile
    cached on it as ``select_related`` would leave them, and the values
    after them set as ``names``."""
    cut = statements.width(Ticket)
    ticket = statements.load(Ticket, row[:cut])
    customer, _profile = user_with_profile(row[cut:])
    Ticket.customer.field.set_cached_value(ticket, customer)
    extra = row[cut + profile_width() :]
    for name, value in zip(names, extra, strict=True):
        setattr(ticket, name, value)
    return ticket


def _in(values: list) -> str:
    return ", ".join(["%s"] * len(values))


def by_headers(parsed: ParsedMail, annotations: dict) -> Match | None:
    ids = thread_ids(parsed)
    if not ids:
        return None
    ours = {
        ticket.via: ticket
        for ticket in _tickets(
            annotations,
            f"{statements.column(OutboundEmail, 'message_id')} IN ({_in(ids)})",
            ids,
            join_outbound=True,
        )
    }
    if ids[0] in ours:
        # The most specific id is one we sent: nothing can come before it.
        return Match(ours[ids[0]], BY_HEADERS)
    theirs = dict(
        TicketMessage.objects.filter(message_id__in=ids).values_list(
            "message_id", "ticket_id"
        )
    )
    for message_id in ids:
        if message_id in ours:
            return Match(ours[message_id], BY_HEADERS)
        ticket_id = theirs.get(message_id)
        if ticket_id:
            ticket = _one(annotations, "id", ticket_id)
            if ticket is None:
                return None
            sent = any(t.pk == ticket.pk for t in ours.values())
            return Match(ticket, BY_HEADERS if sent else BY_RECEIVED)
    return None


def _one(annotations: dict, column: str, value) -> Ticket | None:
    """The ticket whose ``column`` is ``value`` (a unique column)."""
    condition = f"{statements.column(Ticket, column)} = %s"
    found = _tickets(annotations, condition, [value])
    return found[0] if found else None


def by_subject(parsed: ParsedMail, annotations: dict) -> Ticket | None:
    for reference in subject_references(parsed.subject):
        # ``subject_references`` spells them as stored: an exact, indexed match.
        ticket = _one(annotations, "reference", reference)
        if ticket is not None:
            return ticket
    return None


def find_ticket(parsed: ParsedMail, **annotations) -> Match | None:
    """The ticket ``parsed`` answers, locked, with ``annotations`` read in the
    same query.

    First by ``In-Reply-To``/``References`` against Message-IDs we know (the
    ones we sent, kept on outbox rows, and the ones customers' mails came
    with), so an edited subject still finds its ticket; else by the reference
    in the subject. Runs inside the caller's transaction: the ticket found is
    locked for it.

    A ticket merged into another (``services.merge``) leads to that one
    (:func:`follow_merges`): mail about the merged ticket lands where its
    thread now is, and the caller's sender check applies to that ticket.
    """
    match = by_headers(parsed, annotations)
    if match is None:
        ticket = by_subject(parsed, annotations)
        match = Match(ticket, BY_SUBJECT) if ticket is not None else None
    if match is not None and match.ticket.merged_into_id:
        match.ticket = follow_merges(match.ticket, annotations)
    return match


#: How many merges :func:`follow_merges` follows from one ticket (a merge
#: re-points the tickets merged into its source, so one is the rule).
MAX_MERGE_HOPS = 5


def follow_merges(ticket: Ticket, annotations: dict) -> Ticket:
    """The ticket ``ticket`` was merged into, and so on (at most
    :data:`MAX_MERGE_HOPS`), read like the first: locked, with its customer
    and the ``annotations`` evaluated for it. ``Match.by`` stays how the
    mail named the first ticket. The first stays locked too (merges lock in
    id order; a merged ticket is closed and no merge locks it again)."""
    for _hop in range(MAX_MERGE_HOPS):
        if not ticket.merged_into_id:
            break
        target = _one(annotations, "id", ticket.merged_into_id)
        if target is None:
            break
        ticket = target
    return ticket


def is_own_message_id(message_id: str) -> bool:
    """A Message-ID at our domain that we actually sent."""
    domain = conf.message_id_domain().lower()
    if not message_id.lower().rstrip(">").endswith("@" + domain):
        return False
    return OutboundEmail.objects.filter(message_id=message_id).exists()
