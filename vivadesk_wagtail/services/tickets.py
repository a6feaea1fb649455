"""The only writer of ticket state (views, mail pipeline, tasks and admin).

Each change runs in one transaction under a row lock on the ticket, adds a
system event to the thread and sends its signal (``signals``); the write
path is kept to a few statements (docs/architecture.md).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from django.contrib.contenttypes.models import ContentType
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone
from wagtail.log_actions import get_active_log_context
from wagtail.models import ModelLogEntry

from .. import conf, signals, statements
from ..models import (
    Category,
    Channel,
    MessageKind,
    SatisfactionRating,
    Ticket,
    TicketCounter,
    TicketMessage,
    TicketStatus,
)
from ..models.tickets import new_ticket_secret
from . import attachments as attachment_service
from . import service_targets

COUNTER_NAME = "ticket"


class TicketClosedError(Exception):
    """The ticket is closed for good; a new ticket must follow it instead."""


class InvalidTransitionError(ValueError):
    """The requested status change is not allowed from the current status."""


@dataclass
class NewMessage:
    """What a caller hands over for one message of a thread."""

    body: str
    kind: str = MessageKind.CUSTOMER
    channel: str = Channel.WEB
    author: object | None = None
    html: str = ""
    message_id: str | None = None
    idempotency_key: str | None = None
    attachments: Iterable = field(default_factory=tuple)
    #: The caller has claimed its source exactly once (the inbound pipeline
    #: claims its mail row), so no earlier call can have written this
    #: message: the lookup by key is skipped; the unique keys still back it.
    first_write: bool = False
    #: False when nothing shows the author wrote it (a form post without
    #: signing in, a mail reply matched by its subject alone).
    sender_verified: bool = True


def clean_subject(subject: str) -> str:
    """One line, no control characters, at most 255 characters."""
    text = " ".join((subject or "").split())
    return text[:255]


def allocate_number() -> int:
    """The next ticket number: an UPDATE of the seeded counter row takes its row
    lock until the caller's transaction ends, so numbers are never shared.
    ``UPDATE … RETURNING`` (SQLite 3.35+, PostgreSQL) reads the new value in
    the same statement."""
    table = connection.ops.quote_name(TicketCounter._meta.db_table)
    with transaction.atomic(savepoint=False), connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET value = value + 1 WHERE name = %s RETURNING value",
            [COUNTER_NAME],
        )
        row = cursor.fetchone()
        if row is None:  # the migration's seed row was removed
            TicketCounter.objects.get_or_create(
                name=COUNTER_NAME, defaults={"value": 0}
            )
            return allocate_number()
    return conf.get("TICKET_FIRST_NUMBER") + row[0] - 1


def format_reference(number: int) -> str:
    return f"{conf.get('TICKET_PREFIX')}-{number}"


def _lock(ticket: Ticket) -> Ticket:
    """The ticket under its row lock, with its customer (notifications read
    it); only the ticket row is locked."""
    return (
        Ticket.objects.select_related("customer")
        .select_for_update(of=("self",))
        .get(pk=ticket.pk)
    )


def _existing_message(new: NewMessage) -> TicketMessage | None:
    """The message an earlier call wrote: by idempotency key first, else by
    Message-ID (one query for both)."""
    if new.first_write:
        return None
    keys = Q()
    if new.idempotency_key:
        keys |= Q(idempotency_key=new.idempotency_key)
    if new.message_id:
        keys |= Q(message_id=new.message_id)
    if not keys:
        return None
    found = list(TicketMessage.objects.select_related("ticket").filter(keys)[:2])
    for message in found:
        if new.idempotency_key and message.idempotency_key == new.idempotency_key:
            return message
    return found[0] if found else None


def _write_message(ticket: Ticket, new: NewMessage, *also) -> TicketMessage:
    """Insert the message (and the unsaved rows ``also``, e.g. the status
    event it causes) in one statement, then store its attachments."""
    message = TicketMessage(
        ticket=ticket,
        kind=new.kind,
        channel=new.channel,
        author=new.author,
        body=new.body,
        html=new.html,
        message_id=new.message_id or None,
        idempotency_key=new.idempotency_key or None,
        sender_verified=new.sender_verified,
    )
    statements.insert([message, *also])
    stored = [attachment_service.store(message, upload) for upload in new.attachments]
    statements.remember(message, "attachments", stored)
    return message


def log(ticket: Ticket, action: str, *, user=None, data=None) -> None:
    """Wagtail's ``log()`` for a ticket, minus the per-entry ``full_clean``
    whose foreign-key checks cost two queries (the ids here come from rows
    this transaction just read). The action must be registered, as there."""
    context = get_active_log_context()
    entry = ModelLogEntry(
        content_type=ContentType.objects.get_for_model(Ticket),
        object_id=str(ticket.pk),
        label=str(ticket),
        action=action,
        data=data or {},
        timestamp=timezone.now(),
        uuid=context.uuid,
        user=user or context.user,
    )
    entry.clean()
    statements.insert([entry])


def event(ticket: Ticket, by, code: str, **data) -> TicketMessage:
    """An unsaved system event of the thread (also written by
    ``services.merge``)."""
    return TicketMessage(
        ticket=ticket,
        kind=MessageKind.EVENT,
        channel=Channel.SYSTEM,
        author=by,
        event={"event": code, **data},
    )


@transaction.atomic(savepoint=False)
def open_ticket(
    *,
    customer,
    subject: str,
    first: NewMessage,
    language: str = "",
    category: Category | None = None,
    form_data: list | None = None,
    contact_page=None,
    follows: Ticket | None = None,
    acknowledge: bool = True,
    privacy_notice=None,
) -> Ticket:
    """Open a ticket with its first message (and attachments).

    ``acknowledge=False`` holds back the customer's acknowledgement (rate
    limits on unconfirmed addresses); staff are told in any case.

    ``privacy_notice`` is the stored privacy notice a contact form showed
    (``consent.record``).

    A repeated call with the same ``first.idempotency_key`` or
    ``first.message_id`` returns the ticket of the first call unchanged.

    Nested in a caller's transaction it takes no savepoint: whatever it
    raises rolls that transaction back too. No caller goes on after an error
    in the same transaction (``intake.submit`` catches a duplicate outside
    its own atomic block).
    """
    existing = _existing_message(first)
    if existing is not None:
        if existing.ticket.customer_id != customer.pk:
            raise ValueError("idempotency key or Message-ID of another customer")
        return existing.ticket
    number = allocate_number()
    now = timezone.now()
    ticket = Ticket(
        number=number,
        reference=format_reference(number),
        subject=clean_subject(subject),
        customer=customer,
        language=language,
        channel=first.channel,
        category=category,
        form_data=form_data or [],
        contact_page=contact_page,
        privacy_notice=privacy_notice,
        follows=follows,
        customer_activity_at=now if first.kind == MessageKind.CUSTOMER else None,
    )
    service_targets.on_open(ticket, now)
    statements.insert([ticket])
    message = _write_message(ticket, first)
    ticket.first_message = message
    signals.ticket_opened.send(
        Ticket, ticket=ticket, message=message, acknowledge=acknowledge
    )
    return ticket


def _target_status(ticket: Ticket, kind: str, set_status: str | None) -> str:
    if set_status:
        return set_status
    if kind == MessageKind.CUSTOMER and ticket.status in (
        TicketStatus.DONE,
        TicketStatus.WAITING,
    ):
        return TicketStatus.OPEN
    if kind == MessageKind.STAFF and ticket.status == TicketStatus.NEW:
        return TicketStatus.OPEN
    return ticket.status


#: Messages whose arrival the ticket's history lists. A customer's message
#: shows in the thread itself, and what it changes (a reopening) is logged
#: as a status change.
LOGGED_KINDS = (MessageKind.STAFF, MessageKind.NOTE)

MESSAGE_ACTIONS = {
    MessageKind.CUSTOMER: "vivadesk.message.customer",
    MessageKind.STAFF: "vivadesk.message.reply",
    MessageKind.NOTE: "vivadesk.message.note",
    MessageKind.AUTO: "vivadesk.message.auto",
}


def add_message(
    ticket: Ticket,
    new: NewMessage,
    *,
    set_status: str | None = None,
    locked: bool = False,
) -> TicketMessage:
    """Add a message to the thread and apply what it means for the status.

    A customer message reopens a done ticket (or one waiting for the
    customer); on a closed ticket it raises :class:`TicketClosedError` and the
    caller opens a follow-up ticket. Automatic replies and internal notes never
    change the status. ``set_status`` lets staff reply and set the status in
    one step: the customer then gets one mail, the reply, naming the status.
    Idempotent by ``idempotency_key`` / ``message_id``.

    ``locked``: the caller read ``ticket`` under its row lock in this
    transaction, which is its whole unit of work — no savepoint is taken, and
    an error rolls the caller's transaction back. Other callers get a
    savepoint, so they may catch :class:`TicketClosedError` and go on (the
    views do, even inside a host's ``ATOMIC_REQUESTS``).
    """
    with transaction.atomic(savepoint=not locked):
        return _add_message(ticket, new, set_status=set_status, locked=locked)


def _add_message(
    ticket: Ticket, new: NewMessage, *, set_status: str | None, locked: bool
) -> TicketMessage:
    existing = _existing_message(new)
    if existing is not None:
        return existing
    if not locked:
        ticket = _lock(ticket)
    if ticket.status == TicketStatus.CLOSED and new.kind != MessageKind.NOTE:
        raise TicketClosedError(ticket.reference)
    fields = ["updated_at"]
    old = ticket.status
    target = _target_status(ticket, new.kind, set_status)
    events = []
    if target != old:
        fields += _apply_status(ticket, target)
        events.append(event(ticket, new.author, "status", old=old, new=target))
    message = _write_message(ticket, new, *events)
    if new.kind == MessageKind.CUSTOMER:
        ticket.customer_activity_at = message.created_at
        fields.append("customer_activity_at")
    elif new.kind == MessageKind.STAFF:
        fields += service_targets.on_first_response(ticket, message.created_at)
    statements.update(ticket, list(dict.fromkeys(fields)))
    if new.kind in LOGGED_KINDS:
        log(
            ticket,
            MESSAGE_ACTIONS[new.kind],
            user=new.author,
            data={"message": message.pk},
        )
    signals.message_added.send(Ticket, ticket=ticket, message=message)
    if target != old:
        _record_status(ticket, old, target, by=new.author, quiet=True)
    return message


ALLOWED = {
    TicketStatus.NEW: {TicketStatus.OPEN, TicketStatus.WAITING, TicketStatus.DONE},
    TicketStatus.OPEN: {TicketStatus.WAITING, TicketStatus.DONE, TicketStatus.NEW},
    TicketStatus.WAITING: {TicketStatus.OPEN, TicketStatus.DONE},
    TicketStatus.DONE: {TicketStatus.OPEN, TicketStatus.WAITING, TicketStatus.CLOSED},
    TicketStatus.CLOSED: set(),
}


def _apply_status(ticket: Ticket, new: str) -> list[str]:
    """Set a transition's fields on a locked ticket (the caller saves them);
    returns their names."""
    if new not in ALLOWED[TicketStatus(ticket.status)]:
        raise InvalidTransitionError(f"{ticket.status} → {new}")
    now = timezone.now()
    old = ticket.status
    ticket.status = new
    ticket.done_at = now if new == TicketStatus.DONE else None
    if new == TicketStatus.CLOSED:
        ticket.closed_at = now
    targets = service_targets.on_status(ticket, old, new, now)
    return ["status", "done_at", "closed_at", *targets]


def _record_status(ticket: Ticket, old: str, new: str, *, by, quiet: bool) -> None:
    """The history entry and the signal (whose receiver mails the customer
    unless ``quiet``: the customer caused the change themselves). The caller
    wrote the event into the thread."""
    log(ticket, "vivadesk.status", user=by, data={"old": old, "new": new})
    signals.status_changed.send(
        Ticket, ticket=ticket, old=old, new=new, by=by, quiet=quiet
    )


def _set_status(ticket: Ticket, new: str, *, by, quiet: bool = False) -> None:
    """Write a transition on a locked ticket."""
    old = ticket.status
    fields = _apply_status(ticket, new)
    ticket.save(update_fields=[*fields, "updated_at"])
    event(ticket, by, "status", old=old, new=new).save()
    _record_status(ticket, old, new, by=by, quiet=quiet)


def close_merged(ticket: Ticket, into: Ticket, *, by) -> list[str]:
    """Close a locked ticket that ``services.merge`` merged into ``into``:
    closed from any status but closed (the transition rules let only a done
    ticket close), ``merged_into`` set, the change in the history. The
    status signal is quiet: the merge tells the customer in one mail of its
    own. Returns the fields written."""
    old = ticket.status
    if old == TicketStatus.CLOSED:
        raise TicketClosedError(ticket.reference)
    now = timezone.now()
    ticket.status = TicketStatus.CLOSED
    ticket.done_at = None
    ticket.closed_at = now
    ticket.merged_into = into
    fields = ["status", "done_at", "closed_at", "merged_into", "updated_at"]
    fields += service_targets.on_status(ticket, old, TicketStatus.CLOSED, now)
    ticket.save(update_fields=fields)
    _record_status(ticket, old, TicketStatus.CLOSED, by=by, quiet=True)
    return fields


@transaction.atomic
def change_status(ticket: Ticket, new: str, *, by=None) -> Ticket:
    """Staff (or the customer, for "my problem is solved") set the status."""
    ticket = _lock(ticket)
    if ticket.status == TicketStatus.CLOSED:
        raise TicketClosedError(ticket.reference)
    if new != ticket.status:
        customer_did_it = by is not None and by.pk == ticket.customer_id
        _set_status(ticket, new, by=by, quiet=customer_did_it)
    return ticket


@transaction.atomic
def assign(ticket: Ticket, assignee, *, by) -> Ticket:
    ticket = _lock(ticket)
    if ticket.assignee_id == (assignee.pk if assignee else None):
        return ticket
    old = ticket.assignee_id
    ticket.assignee = assignee
    ticket.save(update_fields=["assignee", "updated_at"])
    log(
        ticket,
        "vivadesk.assign",
        user=by,
        data={"old": old, "new": assignee.pk if assignee else None},
    )
    return ticket


@transaction.atomic
def set_category(ticket: Ticket, category: Category | None, *, by) -> Ticket:
    ticket = _lock(ticket)
    if ticket.category_id == (category.pk if category else None):
        return ticket
    ticket.category = category
    targets = service_targets.on_category(ticket, timezone.now())
    ticket.save(update_fields=["category", "updated_at", *targets])
    log(
        ticket,
        "vivadesk.category",
        user=by,
        data={"category": category.name if category else None},
    )
    return ticket


def mark_seen_by_customer(ticket: Ticket, now: datetime | None = None) -> None:
    """Note that the customer has opened the ticket page: one UPDATE of
    ``customer_seen_at``, no event, no signal, and ``updated_at`` left as it
    is (reading is not a change of the request)."""
    now = now or timezone.now()
    Ticket.objects.filter(pk=ticket.pk).update(customer_seen_at=now)
    ticket.customer_seen_at = now


def close_done_tickets(now: datetime | None = None) -> int:
    """Close every ticket that has been done longer than ``AUTO_CLOSE_AFTER``.

    Set-based and idempotent, so a scheduler catching up after downtime closes
    exactly the eligible tickets once. Each ticket is re-checked under its row
    lock: a customer answer that landed meanwhile keeps it open.
    """
    now = now or timezone.now()
    deadline = now - conf.get("AUTO_CLOSE_AFTER")
    candidates = Ticket.objects.filter(
        status=TicketStatus.DONE, done_at__lte=deadline
    ).values_list("pk", flat=True)
    return sum(_close_if_still_done(pk, deadline) for pk in list(candidates))


@transaction.atomic
def _close_if_still_done(pk: int, deadline: datetime) -> bool:
    """Close one candidate if, under its row lock, it is still done since
    before ``deadline`` (a reply or a deletion may have come in between)."""
    ticket = Ticket.objects.select_for_update().filter(pk=pk).first()
    if ticket is None or ticket.status != TicketStatus.DONE:
        return False
    if ticket.done_at is None or ticket.done_at > deadline:
        return False
    _set_status(ticket, TicketStatus.CLOSED, by=None)
    return True


#: What a system event keeps once its ticket is anonymised.
ANONYMOUS_EVENT_KEYS = ("event", "old", "new")


@transaction.atomic
def anonymise(pks: Iterable[int], *, customer, subject: str) -> int:
    """Strip tickets ``pks`` of whatever names or quotes a person, keeping
    what statistics need (status, dates, channel, category, reference, the
    messages' kinds and times): the subject becomes ``subject``, the ticket
    belongs to ``customer`` (``services.erasure``'s placeholder account),
    its form data and every message's text, HTML, Message-ID and
    idempotency key are emptied, messages the customer wrote lose their
    author, system events keep their code and status codes only, and the
    ``secret`` of reply and rating tokens is new; a rating keeps its good
    or bad and loses its comment. ``updated_at`` is left as it was.
    Attachments, mails and the audit log are ``services.erasure``'s part.
    Returns how many tickets changed."""
    rows = list(
        Ticket.objects.select_for_update()
        .filter(pk__in=list(pks))
        .exclude(customer=customer)
        .only("pk", "customer_id")
    )
    if not rows:
        return 0
    ids = [row.pk for row in rows]
    owners = {row.customer_id for row in rows}
    for row in rows:
        row.subject = subject
        row.customer = customer
        row.form_data = []
        row.secret = new_ticket_secret()
    Ticket.objects.bulk_update(rows, ["subject", "customer", "form_data", "secret"])
    thread = TicketMessage.objects.filter(ticket_id__in=ids)
    thread.update(body="", html="", message_id=None, idempotency_key=None)
    thread.filter(author_id__in=owners).update(author=None)
    statuses = set(TicketStatus.values)
    events = list(thread.filter(kind=MessageKind.EVENT).only("pk", "event"))
    for message in events:
        message.event = {
            key: value
            for key, value in (message.event or {}).items()
            if key in ANONYMOUS_EVENT_KEYS
            and (key == "event" or value in statuses)
            and isinstance(value, str)
        }
    TicketMessage.objects.bulk_update(events, ["event"], batch_size=500)
    SatisfactionRating.objects.filter(ticket_id__in=ids).update(comment="")
    return len(rows)
