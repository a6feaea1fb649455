"""Deciding what an inbound mail means, and writing it through ``tickets``.

``mail.inbound.process`` calls :func:`handle` inside one transaction per mail
and writes its :class:`Decision` with :func:`decision_fields`; the agents'
actions on held mail are in ``held_mail``.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import IntegerField
from django.db.models.expressions import RawSQL
from django.utils import timezone, translation
from django.utils.translation import gettext

from .. import conf, signals
from ..adapter import get_adapter
from ..mail import authentication, content, threading
from ..mail import classify as classifier
from ..mail.parsing import ParsedMail
from ..models import (
    Channel,
    InboundMail,
    InboundOutcome,
    InboundState,
    MessageKind,
    OutboundEmail,
    Ticket,
    TicketMessage,
    TicketStatus,
)
from . import customers, outbox, quota, tickets, uploads

logger = logging.getLogger(__name__)


@dataclass
class Decision:
    state: str
    outcome: str
    reason: str = ""
    ticket: Ticket | None = None
    message: object | None = None
    outbound: object | None = None
    notes: list[str] = field(default_factory=list)


def held(reason: str, ticket: Ticket | None = None, **kw) -> Decision:
    return Decision(InboundState.HELD, InboundOutcome.HELD, reason, ticket, **kw)


def ignored(reason: str, ticket: Ticket | None = None, **kw) -> Decision:
    return Decision(
        InboundState.IGNORED, InboundOutcome.IGNORED_AUTO, reason, ticket, **kw
    )


def handle(row: InboundMail, parsed: ParsedMail) -> Decision:
    """Classify, match and apply one mail (the caller holds the transaction).

    Every ticket change goes through :mod:`services.tickets`; this module
    only decides, and writes the decision on the mail's row
    (:func:`save_decision`). It sits below the pipeline: a mail sent back to
    it, and an activation link due to an unconfirmed sender, go out as
    signals (``signals.inbound_released``, ``signals.activation_reminder_due``).

    Trust rules (DESIGN.md, decision 1): the strict ``From`` address must be
    the ticket's customer; the ticket is found by our Message-IDs, else by
    the reference in the subject; anything else is held for staff and the
    sender gets nothing. Automatic mail never reopens, never notifies and
    never opens tickets. Every mail that may change anything (bounces and
    automatic replies too) is first checked for its sender and for DMARC at
    our MX (``mail.authentication``); mail from a staff address is held,
    never a customer's. A reply found by the subject alone, which our MX did
    not authenticate either, is stored as "sender not verified".
    """
    found = classifier.classify(parsed)
    if found.kind == "own":
        logger.info("Dropped our own mail coming back: %s", parsed.message_id)
        return ignored(found.reason)
    if found.kind == "list":
        return ignored(found.reason)
    # Whatever else the mail says it is, it changes nothing unless its sender
    # is usable and our MX did not refuse it.
    verdict = authentication.dmarc_verdict(parsed)
    refused = _refused(parsed, verdict)
    if refused:
        return held(refused)
    if found.kind == "bounce":
        return _bounce(row, found)
    if found.kind == "auto":
        return _auto_reply(row, parsed, found.reason, verdict)
    match = threading.find_ticket(
        parsed,
        recent_replies=_recent(parsed.sender, InboundOutcome.REPLY, per_ticket=True),
        staff_sender=_staff_sender(parsed.sender),
        id_taken=_id_taken(parsed.message_id),
    )
    if match is not None and customers.is_placeholder(match.ticket.customer):
        # An anonymised ticket answers nobody: its customer was erased, and
        # whoever writes to it now is a stranger to us.
        match = None
    if match is not None:
        return _reply(row, parsed, match, _verified(match, verdict))
    return _new_ticket(row, parsed)


def _bounce(mail: InboundMail, found: classifier.Classification) -> Decision:
    """A bounce ``classify`` verified fails its outbox row and marks the
    address (5.x.x, with ``mail`` as the proof) or sends the row again
    (4.x.x); one it could not confirm is held, changing nothing."""
    row = found.outbound
    ticket = row.ticket if row else None
    if found.effect == classifier.HOLD:
        return held(found.reason, ticket=ticket, outbound=row, notes=[found.detail])
    if found.effect == classifier.PERMANENT:
        outbox.mark_failed(row, found.detail, permanent=True, bounce=mail)
    elif found.effect == classifier.TRANSIENT:
        outbox.retry_after_bounce(row, found.detail)
    return ignored(found.reason, ticket=ticket, outbound=row)


#: Held reasons of :func:`authentication.dmarc_verdict`'s refusals.
DMARC_REASONS = {
    authentication.FAIL: "dmarc_fail",
    authentication.OTHER_DOMAIN: "dmarc_other_domain",
}


def _refused(parsed: ParsedMail, verdict: str) -> str:
    """Why the mail is held before it is matched ("" if it is not)."""
    return DMARC_REASONS.get(verdict) or parsed.sender_problem


def _verified(match: threading.Match, verdict: str) -> bool:
    """The sender saw our mail (its headers name one we sent), or our MX
    authenticated the sender's domain."""
    return match.by_headers or verdict == authentication.PASS


def _is_customer(parsed: ParsedMail, ticket: Ticket) -> bool:
    """The strict From is the ticket's customer (``threading`` read the
    customer's profile with the ticket)."""
    profile = getattr(ticket.customer, "helpdesk_profile", None)
    return bool(parsed.sender) and customers.is_address_of(profile, parsed.sender)


def _auto_reply(
    row: InboundMail, parsed: ParsedMail, reason: str, verdict: str
) -> Decision:
    """Stored on its ticket if the customer's own responder answered (and
    its sender is verified); the ticket's status never changes and nobody is
    mailed."""
    match = threading.find_ticket(parsed, id_taken=_id_taken(parsed.message_id))
    if match is None or not _is_customer(parsed, match.ticket):
        return ignored(reason)
    if not _verified(match, verdict):
        return ignored(reason, ticket=match.ticket)
    ticket = match.ticket
    if ticket.status == TicketStatus.CLOSED:
        return ignored(reason, ticket=ticket)
    new, notes = build_message(
        row, parsed, MessageKind.AUTO, ticket.customer, id_taken=ticket.id_taken
    )
    message = tickets.add_message(ticket, new, locked=True)
    return ignored(reason, ticket=ticket, message=message, notes=notes)


#: The output field of the count (one instance, not one per mail).
_COUNT = IntegerField()


def _recent(sender: str, outcome: str, *, per_ticket: bool = False) -> RawSQL:
    """How many mails of ``outcome`` ``sender`` sent in the flood window (on
    the ticket being read, with ``per_ticket``): a scalar subquery, read with
    the ticket or profile it is about. Written as SQL because the ORM's
    grouped subquery costs more to build than the whole lookup it rides on.
    Where that statement waited for a row lock the count may be stale
    (:func:`_flooded`)."""
    since = _flood_window_start()
    quote = connection.ops.quote_name
    sql = (
        f"SELECT COUNT(*) FROM {quote(InboundMail._meta.db_table)} recent"
        " WHERE recent.sender = %s AND recent.outcome = %s"
        " AND recent.received_at >= %s"
    )
    if per_ticket:
        sql += f" AND recent.ticket_id = {quote(Ticket._meta.db_table)}.id"
    params = (sender, outcome, connection.ops.adapt_datetimefield_value(since))
    return RawSQL(sql, params, output_field=_COUNT)


def _flood_window_start():
    return timezone.now() - conf.get("INBOUND_FLOOD_WINDOW")


def _flooded(counted: int, sender: str, outcome: str, **where) -> bool:
    """``sender`` reached ``INBOUND_FLOOD_MAX`` mails of ``outcome`` (on
    ``where``: the ticket, or nothing for new tickets) in the flood window.

    ``counted`` is :func:`_recent`, read in the statement that took the row
    lock of the ticket or profile the mail is about. On a backend with row
    locks (PostgreSQL, READ COMMITTED) that statement's snapshot is from
    before it waited for the lock, so it misses the mails of the worker it
    waited for: below the cap, the mails are counted again, now that the
    lock is held, by a statement of its own (one query). SQLite needs no
    second count: its writers take the database's write lock when their
    transaction begins (``IMMEDIATE``), before they read anything, so every
    count sees all mails committed before.
    """
    limit = conf.get("INBOUND_FLOOD_MAX")
    if counted >= limit or not connection.features.has_select_for_update_of:
        return counted >= limit
    recent = InboundMail.objects.filter(
        sender=sender, outcome=outcome, received_at__gte=_flood_window_start(), **where
    )
    return recent.count() >= limit


def _staff_sender(sender: str) -> RawSQL:
    """How many staff users or superusers (active or not) have ``sender``'s
    address, as ``customers.is_staff_address`` asks: a scalar subquery read
    with the ticket or profile, like :func:`_recent`."""
    try:
        email = customers.normalize_email(sender)
    except customers.InvalidAddressError:
        email = sender
    user = get_user_model()
    quote = connection.ops.quote_name

    def column(name: str) -> str:
        return "staff." + quote(user._meta.get_field(name).column)

    sql = (
        f"SELECT COUNT(*) FROM {quote(user._meta.db_table)} staff"
        f" WHERE ({column('is_staff')} OR {column('is_superuser')})"
        f" AND LOWER({column('email')}) = %s"
    )
    return RawSQL(sql, (email.lower(),), output_field=_COUNT)


def _id_taken(message_id: str) -> RawSQL:
    """How many ticket messages carry ``message_id`` already (another mail
    reused it, see :func:`build_message`): a scalar subquery read with the
    ticket or profile, like :func:`_recent`."""
    quote = connection.ops.quote_name
    column = quote(TicketMessage._meta.get_field("message_id").column)
    sql = (
        f"SELECT COUNT(*) FROM {quote(TicketMessage._meta.db_table)} taken"
        f" WHERE taken.{column} = %s"
    )
    return RawSQL(sql, (message_id,), output_field=_COUNT)


def _reply(
    row: InboundMail, parsed: ParsedMail, match: threading.Match, verified: bool
) -> Decision:
    ticket = match.ticket
    if ticket.staff_sender:
        return held("staff_sender", ticket=ticket)
    if not _is_customer(parsed, ticket):
        return held("sender_mismatch", ticket=ticket)
    if ticket.status == TicketStatus.CLOSED:
        return _follow_up(row, parsed, ticket, verified)
    if _flooded(
        ticket.recent_replies, parsed.sender, InboundOutcome.REPLY, ticket=ticket
    ):
        return _capped(row, parsed, ticket, verified)
    new, notes = build_message(
        row,
        parsed,
        MessageKind.CUSTOMER,
        ticket.customer,
        verified=verified,
        id_taken=ticket.id_taken,
    )
    message = tickets.add_message(ticket, new, locked=True)
    return Decision(
        InboundState.DONE, InboundOutcome.REPLY, "", ticket, message, notes=notes
    )


def _capped(
    row: InboundMail, parsed: ParsedMail, ticket: Ticket, verified: bool
) -> Decision:
    """An answering machine without headers: keep its mail as automatic (no
    reopening, no notifications) and leave staff one note per window."""
    new, notes = build_message(
        row,
        parsed,
        MessageKind.AUTO,
        ticket.customer,
        verified=verified,
        id_taken=ticket.id_taken,
    )
    message = tickets.add_message(ticket, new, locked=True)
    window = conf.get("INBOUND_FLOOD_WINDOW")
    bucket = int(timezone.now().timestamp() // max(window.total_seconds(), 1))
    digest = hashlib.sha256(parsed.sender.encode()).hexdigest()[:16]
    with translation.override(settings.LANGUAGE_CODE):
        body = gettext(
            "Many mails from %(sender)s arrived within a few minutes; further "
            "ones are kept as automatic replies and notify nobody."
        ) % {"sender": parsed.sender}
    tickets.add_message(
        ticket,
        tickets.NewMessage(
            body=body,
            kind=MessageKind.NOTE,
            channel=Channel.SYSTEM,
            idempotency_key=f"flood-{ticket.pk}-{digest}-{bucket}",
        ),
        locked=True,
    )
    return ignored("flood_capped", ticket=ticket, message=message, notes=notes)


def _follow_up(
    row: InboundMail, parsed: ParsedMail, old: Ticket, verified: bool
) -> Decision:
    """A reply after the final close opens a new ticket linking the old one."""
    profile = customers.find_profile(parsed.sender)
    language = old.language or (profile.language if profile else "")
    new, notes = build_message(
        row,
        parsed,
        MessageKind.CUSTOMER,
        old.customer,
        verified=verified,
        id_taken=old.id_taken,
    )
    title = content.ticket_title(parsed.subject, [old.reference]) or old.subject
    ticket = tickets.open_ticket(
        customer=old.customer,
        subject=title,
        first=new,
        language=language,
        follows=old,
    )
    return Decision(
        InboundState.DONE,
        InboundOutcome.NEW_TICKET,
        "follows_closed",
        ticket,
        _first_message(ticket),
        notes=notes,
    )


def _first_message(ticket: Ticket):
    """The message a ticket was opened with (kept by ``open_ticket``; read
    again only when the call found the ticket of an earlier one)."""
    return getattr(ticket, "first_message", None) or (
        ticket.messages.order_by("pk").first()
    )


def _new_ticket(row: InboundMail, parsed: ParsedMail) -> Decision:
    # The profile's row lock makes mails of one sender count one after the
    # other (:func:`_flooded`).
    profile = customers.find_profile(
        parsed.sender,
        lock=True,
        recent_tickets=_recent(parsed.sender, InboundOutcome.NEW_TICKET),
        staff_sender=_staff_sender(parsed.sender),
        id_taken=_id_taken(parsed.message_id),
    )
    if profile is None:
        if customers.is_staff_address(parsed.sender):
            return held("staff_sender")
        return held("unknown_sender")
    if profile.staff_sender or profile.user.is_staff or profile.user.is_superuser:
        # Never a ticket, never an activation link (DESIGN.md decision 9).
        return held("staff_sender")
    if customers.awaiting_confirmation(profile.user):
        _remind_unconfirmed(profile)
        return held("unconfirmed_sender")
    if not profile.user.is_active or not profile.is_confirmed:
        # Deactivated by staff: held, and no activation link brings it back.
        return held("deactivated_sender")
    refusal = get_adapter().mail_ticket_refusal(profile, parsed)
    if refusal:
        return held(refusal)
    if _flooded(profile.recent_tickets, parsed.sender, InboundOutcome.NEW_TICKET):
        return held("flood")
    return open_from_mail(
        row, parsed, profile.user, profile.language, id_taken=profile.id_taken
    )


#: At most one fresh activation link per unconfirmed sender in this time.
ACTIVATION_REMINDER_EVERY = timedelta(days=1)


def _remind_unconfirmed(profile) -> None:
    """A known but unconfirmed sender gets a fresh activation link (their mail
    stays held) — at most one per day, counted in the outbox, so it holds
    across processes and restarts. Automated mail never gets here."""
    since = timezone.now() - ACTIVATION_REMINDER_EVERY
    recent = OutboundEmail.objects.filter(
        event="activation", recipient__iexact=profile.email, created_at__gte=since
    )
    if not recent.exists():
        signals.activation_reminder_due.send(InboundMail, user=profile.user)


def open_from_mail(
    row: InboundMail, parsed: ParsedMail, user, language: str, *, id_taken=None
):
    new, notes = build_message(
        row, parsed, MessageKind.CUSTOMER, user, id_taken=id_taken
    )
    references = threading.subject_references(parsed.subject)
    title = content.ticket_title(parsed.subject, references)
    if not title:
        with translation.override(language or settings.LANGUAGE_CODE):
            title = gettext("(no subject)")
    adapter = get_adapter()
    ticket = tickets.open_ticket(
        customer=user,
        subject=title,
        first=new,
        language=language,
        category=adapter.new_ticket_category(user, Channel.EMAIL, None),
        acknowledge=adapter.acknowledge_new_ticket(user, Channel.EMAIL, True),
    )
    return Decision(
        InboundState.DONE,
        InboundOutcome.NEW_TICKET,
        "",
        ticket,
        _first_message(ticket),
        notes=notes,
    )


def build_message(
    row: InboundMail,
    parsed: ParsedMail,
    kind: str,
    author,
    *,
    verified: bool = True,
    id_taken: int | None = None,
):
    """The ticket message of a mail and the notes on parts that were dropped.

    A Message-ID another message carries already (ticket systems, scanners
    and scripts reuse them for different mails; the same mail again never
    gets here, its dedupe key is the same) is not stored a second time: the
    new message has none, so the unique column never refuses the mail. A
    mail answering that id still finds the first message's ticket, and
    replies to our notifications find theirs by our own Message-IDs (outbox
    rows), which the notifications of the new message carry.
    ``id_taken``: :func:`_id_taken`, read with the ticket or profile;
    ``None`` looks it up here (staff actions on held mail).
    """
    if id_taken is None:
        id_taken = bool(parsed.message_id) and (
            TicketMessage.objects.filter(message_id=parsed.message_id).exists()
        )
    attachments, notes = quota.keep_within(author, *checked_attachments(parsed))
    new = tickets.NewMessage(
        body=parsed.visible_text,
        kind=kind,
        channel=Channel.EMAIL,
        author=author,
        html=parsed.html,
        message_id=None if id_taken else (parsed.message_id or None),
        idempotency_key=f"inbound-{row.pk}",
        attachments=attachments,
        # The pipeline claims its row once (and held mail is taken under
        # its row lock), so this message cannot exist yet.
        first_write=True,
        sender_verified=verified,
    )
    return new, notes


def checked_attachments(parsed: ParsedMail) -> tuple[list, list[str]]:
    """Each part checked on its own: a refused part is dropped (and noted),
    the others are kept."""
    kept, notes = [], []
    limit = conf.get("ATTACHMENT_MAX_COUNT")
    for part in parsed.parts:
        upload = uploads.from_bytes(part.name, part.data, part.content_id)
        if len(kept) >= limit:
            notes.append(f"dropped {upload.name}: more than {limit} attachments")
            continue
        try:
            kept += uploads.validate([upload])
        except ValidationError as exc:
            notes.append(f"dropped {upload.name}: {' '.join(exc.messages)}")
    return kept, notes


def decision_fields(row: InboundMail, decision, parsed=None) -> dict:
    """The row's columns as ``decision`` leaves them."""
    fields = {
        "state": decision.state,
        "outcome": decision.outcome,
        "reason": decision.reason[:64],
        "ticket": decision.ticket,
        "ticket_message": decision.message,
        "outbound": decision.outbound,
        "processed_at": timezone.now(),
        "next_attempt_at": None,
    }
    if parsed is not None:
        fields["sender"] = parsed.sender[:254]
        fields["text"] = parsed.visible_text
    fields["detail"] = "\n".join(filter(None, [row.detail, *decision.notes]))
    return fields


def save_decision(row: InboundMail, decision, parsed=None) -> None:
    """Write ``decision`` to a row the caller holds under its lock."""
    for name, value in decision_fields(row, decision, parsed).items():
        setattr(row, name, value)
    row.save()
