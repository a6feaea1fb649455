"""Who is told what when a ticket changes: outbox rows, never direct sends.

A rolled-back change therefore mails nobody, and a committed one always has
its rows, even if the task queue loses the task (the outbox sweeper picks
them up again).
"""

from __future__ import annotations

import re
import uuid
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model

from .. import conf, statements
from ..adapter import get_adapter
from ..models import (
    CompanyDetails,
    CustomerProfile,
    MessageKind,
    OutboundEmail,
    Ticket,
    TicketMessage,
    TicketStatus,
    ticket_answers,
)
from ..queueing import enqueue

User = get_user_model()

#: Status changes that mail the customer, and the template each uses.
STATUS_EVENTS = {
    TicketStatus.DONE: "ticket_done",
    TicketStatus.CLOSED: "ticket_closed",
    TicketStatus.WAITING: "status_changed",
    TicketStatus.OPEN: "status_changed",
}
#: How many earlier Message-IDs go into ``References``.
MAX_REFERENCES = 10
#: A Message-ID we may repeat in our headers (and store in ``in_reply_to``).
_MESSAGE_ID = re.compile(r"<[^<>\s]{1,253}>")


def queue(event: str, ticket: Ticket, **kwargs) -> list[OutboundEmail]:
    """Write the outbox rows that ``event`` calls for (see ``services``).

    Called inside the ticket service's transaction: decides the recipients,
    writes one ``OutboundEmail`` per mail (all rows of the event in one
    INSERT), then queues their sending on commit (one task).
    """
    handler = {
        "ticket_created": _ticket_created,
        "message_added": _message_added,
        "status_changed": _status_changed,
        "target_warning": _target_warning,
        "ticket_merged": _ticket_merged,
    }[event]
    profiles = _Profiles(ticket)
    rows = [row for row in handler(ticket, profiles, **kwargs) if row is not None]
    if rows:
        statements.insert(rows)
        enqueue("vivadesk_wagtail.tasks.send_outbound_many", [row.pk for row in rows])
    return rows


class _Profiles:
    """The customer's profile, read at most once for all mails of an event
    (not at all when the caller read it with the ticket's customer)."""

    def __init__(self, ticket: Ticket):
        self.ticket = ticket
        self._rows: list[CustomerProfile] | None = None
        customer = ticket.customer if Ticket.customer.is_cached(ticket) else None
        if customer is not None and User.helpdesk_profile.is_cached(customer):
            profile = getattr(customer, "helpdesk_profile", None)
            self._rows = [profile] if profile is not None else []

    @property
    def rows(self) -> list[CustomerProfile]:
        if self._rows is None:
            self._rows = list(
                CustomerProfile.objects.filter(user_id=self.ticket.customer_id)
            )
        return self._rows

    def first(self) -> CustomerProfile | None:
        return self.rows[0] if self.rows else None


def _ticket_created(
    ticket: Ticket, profiles, message: TicketMessage, acknowledge: bool = True
):
    if acknowledge:
        yield _to_customer(ticket, profiles, "ticket_created", message=message.pk)
    if message.author_id != ticket.assignee_id or ticket.assignee_id is None:
        yield from _to_staff(ticket, profiles, "staff_new_ticket", message=message.pk)


def _message_added(ticket: Ticket, profiles, message: TicketMessage):
    if message.kind == MessageKind.STAFF:
        yield _to_customer(ticket, profiles, "staff_reply", message=message.pk)
    elif message.kind == MessageKind.CUSTOMER:
        yield from _to_staff(ticket, profiles, "customer_replied", message=message.pk)
    elif message.kind == MessageKind.NOTE and message.author_id is not None:
        # Notes go to the assignee only, and never back to who wrote them.
        if ticket.assignee_id and ticket.assignee_id != message.author_id:
            yield _to_user(
                ticket, profiles, ticket.assignee, "staff_note", message=message.pk
            )


def _status_changed(ticket: Ticket, profiles, old: str, new: str):
    event = STATUS_EVENTS.get(new)
    if event:
        yield _to_customer(ticket, profiles, event, old=old, new=new)


def _ticket_merged(target: Ticket, profiles, source: Ticket):
    """One mail per customer: the target's customer about the target (naming
    the source); the source's customer, if another, about their own ticket."""
    refs = {"merged_from": source.reference, "merged_into": target.reference}
    if source.customer_id == target.customer_id:
        yield _to_customer(target, profiles, "ticket_merged", side="both", **refs)
        return
    yield _to_customer(target, profiles, "ticket_merged", side="target", **refs)
    yield _to_customer(
        source, _Profiles(source), "ticket_merged", side="source", **refs
    )


#: What a merge mail's template reads from its row (``merge``).
MERGE_KEYS = ("side", "merged_from", "merged_into")


def _target_warning(ticket: Ticket, profiles, target: str, due):
    """A service target due soon: the assignee, else the staff address."""
    yield from _to_staff(
        ticket, profiles, "staff_target_warning", target=target, due=due.isoformat()
    )


def template_extras(row: OutboundEmail, context: dict) -> dict:
    """What the mail templates show besides the row's own data:
    ``greeting_name``, the ``company`` details (site settings) for the
    signature and legal footer, ``helpdesk_phone`` (and
    ``helpdesk_phone_uri``), ``activation_valid`` next to an activation link,
    ``password_reset_valid`` next to a password-reset link (Django's
    ``PASSWORD_RESET_TIMEOUT``) and, in the staff notice of a new ticket, its
    extra form ``answers``.

    Called by ``outbound.context_for`` with its context, inside the row's
    language (the answers' labels are read in it)."""
    company = CompanyDetails.current()
    extras = {
        "greeting_name": _greeting_name(row, context),
        "company": company,
        "helpdesk_phone": company.phone_number,
        "helpdesk_phone_uri": company.phone_uri,
    }
    if "activation" in context.get("links", {}):
        extras["activation_valid"] = validity(conf.get("ACTIVATION_MAX_AGE"))
    if "password_reset" in context.get("links", {}):
        timeout = timedelta(seconds=settings.PASSWORD_RESET_TIMEOUT)
        extras["password_reset_valid"] = validity(timeout)
    if row.event == "ticket_merged":
        extras["merge"] = {key: row.context.get(key, "") for key in MERGE_KEYS}
    if row.event == "staff_target_warning":
        extras["target"] = row.context.get("target", "")
        extras["due"] = datetime.fromisoformat(row.context["due"])
    if row.event == "staff_new_ticket" and context.get("ticket") is not None:
        extras["answers"] = [
            answer
            for answer in ticket_answers(context["ticket"])
            if answer["value"].strip()
        ]
    return extras


def _greeting_name(row: OutboundEmail, context: dict) -> str:
    """The full name a customer mail greets by: only the name of a confirmed
    account, which its owner entered. An unconfirmed account's name is what
    somebody typed into the contact form, and the acknowledgement of a post
    not signed in repeats nothing that could look like it (DESIGN.md
    decision 10): such mails greet without a name, as do mails to a customer
    without one."""
    message = context.get("message")
    if row.event == "ticket_created" and not (message and message.sender_verified):
        return ""
    if row.ticket_id is not None:
        person, confirmed = context.get("customer"), context.get("confirmed")
    else:
        person = context.get("user")
        confirmed = (
            person is not None
            and CustomerProfile.objects.filter(
                user_id=person.pk, confirmed_at__isnull=False
            ).exists()
        )
    if person is None or not confirmed:
        return ""
    return " ".join(person.get_full_name().split())


def validity(max_age: timedelta) -> dict:
    """A link's lifetime as the templates word it: ``{"days": n}`` when it is
    whole days, else ``{"hours": n}``, below an hour ``{"minutes": n}``
    (rounded down: a mail never promises more than the link keeps)."""
    seconds = int(max_age.total_seconds())
    if seconds >= 86400 and seconds % 86400 == 0:
        return {"days": seconds // 86400}
    if seconds >= 3600:
        return {"hours": seconds // 3600}
    return {"minutes": max(seconds // 60, 1)}


def customer_language(ticket: Ticket, profile: CustomerProfile | None) -> str:
    """The adapter's language of a mail about ``ticket`` to its customer."""
    return get_adapter().customer_language(profile, ticket)


def _to_customer(ticket: Ticket, profiles: _Profiles, event: str, **context):
    profile = profiles.first()
    if profile is None or profile.mail_undeliverable:
        return None
    language = customer_language(ticket, profile)
    return _write(ticket, profiles, event, profile.email, language, context)


def _to_staff(ticket: Ticket, profiles: _Profiles, event: str, **context):
    """The adapter's staff recipients, never the ticket's customer."""
    for recipient in get_adapter().staff_recipients(ticket, event):
        email = recipient.email
        if email and not _is_customer_address(ticket, profiles, email):
            yield _write(ticket, profiles, event, email, recipient.language, context)


def _to_user(ticket: Ticket, profiles: _Profiles, user, event: str, **context):
    """A staff user, in their Wagtail admin language."""
    if not user.email or _is_customer_address(ticket, profiles, user.email):
        return None
    language = get_adapter().staff_language(user)
    return _write(ticket, profiles, event, user.email, language, context)


def _is_customer_address(ticket: Ticket, profiles: _Profiles, address: str) -> bool:
    """Staff notices never go back to the ticket's own customer (a staff user
    who opened a ticket as a customer, a misconfigured staff address)."""
    address = address.strip().lower()
    customer_addresses = {(ticket.customer.email or "").lower()}
    customer_addresses.update(profile.email.lower() for profile in profiles.rows)
    return address in customer_addresses


def new_message_id(ticket: Ticket | None) -> str:
    stem = ticket.reference if ticket else "vivadesk"
    return f"<{uuid.uuid4().hex}.{stem}@{conf.message_id_domain()}>"


def thread_ids(row: OutboundEmail) -> list[str]:
    """Message-IDs of the thread as ``row``'s recipient knew it when ``row``
    was written, oldest first: the mails the customer sent us until then and
    the earlier ones we sent to that recipient about this ticket. The
    thread's root is kept when the list is cut to :data:`MAX_REFERENCES`; ids
    we could not put into a header (malformed, longer than a stored
    ``In-Reply-To``) are left out."""
    ours = OutboundEmail.objects.filter(
        ticket_id=row.ticket_id, recipient__iexact=row.recipient, pk__lt=row.pk
    )
    theirs = TicketMessage.objects.filter(
        ticket_id=row.ticket_id,
        message_id__isnull=False,
        created_at__lte=row.created_at,
    )
    known = _id_rows(ours, MAX_REFERENCES) | _id_rows(theirs, MAX_REFERENCES)
    ids = []
    for _created, _pk, message_id in sorted(known):
        if _usable(message_id) and message_id not in ids:
            ids.append(message_id)
    if len(ids) > MAX_REFERENCES:
        ids = ids[:1] + ids[-(MAX_REFERENCES - 1) :]
    return ids


def thread_row(row: OutboundEmail) -> None:
    """Set ``row``'s ``In-Reply-To`` and ``References`` (the caller saves).

    Worked out when a row is sent, as of the row's creation, which keeps
    that reading off the ticket's write path.
    """
    if row.ticket_id is None:
        return
    references = thread_ids(row)
    row.in_reply_to = references[-1] if references else ""
    row.references = " ".join(references)


def _id_rows(rows, latest: int) -> set:
    """``(created_at, pk, message_id)`` of the first and the ``latest`` last
    rows (the first is among the last when there are fewer)."""
    fields = ("created_at", "pk", "message_id")
    found = set(rows.order_by("-created_at", "-pk").values_list(*fields)[:latest])
    if len(found) == latest:
        # More rows than that: the root may be older than the latest ones.
        found.update(rows.order_by("created_at", "pk").values_list(*fields)[:1])
    return found


def _usable(message_id: str) -> bool:
    return bool(_MESSAGE_ID.fullmatch(message_id or ""))


def _write(
    ticket: Ticket,
    profiles: _Profiles,
    event: str,
    recipient: str,
    language: str,
    context: dict,
) -> OutboundEmail:
    """An unsaved outbox row (:func:`queue` inserts them together)."""
    return OutboundEmail(
        event=event,
        ticket=ticket,
        # The status as of the event: a mail sent late still tells it right.
        context={"status": ticket.status, **context},
        recipient=recipient,
        language=language,
        message_id=new_message_id(ticket),
    )
