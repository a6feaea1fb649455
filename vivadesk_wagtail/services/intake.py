"""Contact-form submissions become tickets.

One transaction creates, for a new address, the customer account (inactive,
unconfirmed, no usable password), the ticket, its first message with the
extra form data and the attachments, and the outbox row of the confirmation
mail. The caller shows the same thank-you page whatever the address was.

A post by a visitor who is not signed in as the address's customer is
stored as "sender not verified": its confirmation mail quotes none of it
(DESIGN.md decision 10), and agents and the customer see where it came from.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from django.db import IntegrityError, transaction

from ..models import Channel, MessageKind, Ticket, TicketMessage
from . import customers, quota, tickets


@dataclass
class Submission:
    name: str
    email: str
    subject: str
    message: str
    language: str
    category: object | None = None
    form_data: list = field(default_factory=list)
    attachments: list = field(default_factory=list)
    idempotency_key: str | None = None
    #: False when rate limits hold the confirmation mail back.
    acknowledge: bool = True
    #: Sent while signed in as the customer of ``email``.
    signed_in: bool = False


def scoped_key(submission: Submission) -> str | None:
    """The form's idempotency key bound to the address it was sent for, so a
    replayed key can never find somebody else's ticket."""
    if not submission.idempotency_key:
        return None
    raw = f"{submission.email.strip().lower()}\n{submission.idempotency_key}"
    return "form-" + hashlib.sha256(raw.encode()).hexdigest()[:48]


def submit(submission: Submission) -> Ticket:
    """Open the ticket; a double submit (same idempotency key, even in
    parallel) returns the ticket of the first."""
    submission.idempotency_key = scoped_key(submission)
    try:
        return _submit(submission)
    except IntegrityError:
        key = submission.idempotency_key
        existing = key and TicketMessage.objects.filter(idempotency_key=key).first()
        if not existing:
            raise
        return existing.ticket


@transaction.atomic
def _submit(submission: Submission) -> Ticket:
    user, _created = customers.get_or_create_customer(
        submission.email, name=submission.name, language=submission.language
    )
    # Over the quota the request is kept and its files dropped, for agents to
    # see: refusing the post would tell a visitor that the address has files.
    attachments, dropped = quota.keep_within(user, submission.attachments)
    ticket = tickets.open_ticket(
        customer=user,
        subject=submission.subject,
        first=tickets.NewMessage(
            body=submission.message,
            kind=MessageKind.CUSTOMER,
            channel=Channel.WEB,
            author=user,
            attachments=attachments,
            idempotency_key=submission.idempotency_key or None,
            sender_verified=submission.signed_in,
        ),
        language=submission.language,
        category=submission.category,
        form_data=submission.form_data,
        acknowledge=submission.acknowledge,
    )
    if dropped:
        _note_dropped_files(ticket, dropped)
    return ticket


def _note_dropped_files(ticket: Ticket, dropped: list[str]) -> None:
    tickets.add_message(
        ticket,
        tickets.NewMessage(
            body="\n".join(dropped),
            kind=MessageKind.NOTE,
            channel=Channel.SYSTEM,
            idempotency_key=f"quota-{ticket.pk}",
        ),
    )
