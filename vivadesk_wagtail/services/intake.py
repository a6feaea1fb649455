"""Contact-form submissions become tickets.

One transaction creates the customer account of a new address, the ticket,
its first message and the outbox row of the confirmation mail;
:func:`receive` says what happened (:class:`Outcome`).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from django.db import IntegrityError, transaction

from ..adapter import get_adapter
from ..models import (
    Channel,
    MessageKind,
    OutboundEmail,
    PrivacyNoticeVersion,
    Ticket,
    TicketMessage,
)
from . import consent, customers, quota, tickets

#: What became of the confirmation mail (:attr:`Outcome.mail`).
QUEUED = "queued"
#: Held back by the caller (``Submission.acknowledge`` false: rate caps).
WITHHELD = "withheld"
#: Not sent: mail to the address bounced (``mail_undeliverable``).
UNDELIVERABLE = "undeliverable"


@dataclass
class Submission:
    """One contact-form post.

    A post by a visitor who is not signed in as the address's customer
    (``signed_in`` false) is stored as "sender not verified": its
    confirmation mail quotes none of it (DESIGN.md decision 10), and agents
    and the customer see where it came from.
    """

    name: str
    email: str
    subject: str
    message: str
    language: str
    category: object | None = None
    #: The contact page (the language version) the post was sent from.
    contact_page: object | None = None
    form_data: list = field(default_factory=list)
    attachments: list = field(default_factory=list)
    idempotency_key: str | None = None
    #: False when rate limits hold the confirmation mail back.
    acknowledge: bool = True
    #: Sent while signed in as the customer of ``email``.
    signed_in: bool = False
    #: The privacy notice the visitor saw under the form (``consent.seen``,
    #: stored or not yet), kept with the ticket; ``None`` when it showed none.
    privacy_notice: PrivacyNoticeVersion | None = None


def scoped_key(submission: Submission) -> str | None:
    """The form's idempotency key bound to the address it was sent for, so a
    replayed key can never find somebody else's ticket."""
    if not submission.idempotency_key:
        return None
    raw = f"{submission.email.strip().lower()}\n{submission.idempotency_key}"
    return "form-" + hashlib.sha256(raw.encode()).hexdigest()[:48]


@dataclass(frozen=True)
class Outcome:
    """What :func:`receive` did: the ticket and whether its confirmation mail
    was queued, held back by the caller's caps, or not sent because mail to
    the address bounces. The thank-you page tells the visitor from it
    (``pages.views``), never whether the address had an account."""

    ticket: Ticket
    #: :data:`QUEUED`, :data:`WITHHELD` or :data:`UNDELIVERABLE`.
    mail: str
    #: A repeated post (same idempotency key): ``ticket`` is the first one's
    #: and ``mail`` says what became of its confirmation.
    repeated: bool = False


def submit(submission: Submission) -> Ticket:
    """The ticket of :func:`receive`."""
    return receive(submission).ticket


def receive(submission: Submission) -> Outcome:
    """Open the ticket; a double submit (same idempotency key, even in
    parallel) gets the ticket of the first."""
    submission.idempotency_key = scoped_key(submission)
    try:
        return _submit(submission)
    except IntegrityError:
        existing = _existing(submission.idempotency_key)
        if not existing:
            raise
        return _repeated(existing.ticket)


def _existing(key: str | None) -> TicketMessage | None:
    if not key:
        return None
    return (
        TicketMessage.objects.select_related("ticket", "ticket__customer")
        .filter(idempotency_key=key)
        .first()
    )


def _repeated(ticket: Ticket) -> Outcome:
    """The outcome of the first post of a ticket, read back."""
    if OutboundEmail.objects.filter(ticket=ticket, event="ticket_created").exists():
        return Outcome(ticket, QUEUED, repeated=True)
    profile = customers.find_profile(ticket.customer.email)
    bounced = profile is not None and profile.mail_undeliverable
    return Outcome(ticket, UNDELIVERABLE if bounced else WITHHELD, repeated=True)


@transaction.atomic
def _submit(submission: Submission) -> Outcome:
    """For a new address the customer account (inactive, unconfirmed, no
    usable password), then the ticket with the privacy notice the visitor saw,
    its first message with the extra form data and the attachments, and the
    outbox row of the confirmation mail."""
    existing = _existing(submission.idempotency_key)
    if existing is not None:
        return _repeated(existing.ticket)
    user, _created = customers.get_or_create_customer(
        submission.email, name=submission.name, language=submission.language
    )
    # Over the quota the request is kept and its files dropped, for agents to
    # see: refusing the post would tell a visitor that the address has files.
    attachments, dropped = quota.keep_within(user, submission.attachments)
    adapter = get_adapter()
    acknowledge = adapter.acknowledge_new_ticket(
        user, Channel.WEB, submission.acknowledge
    )
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
            # Looked up just above: a parallel post with the same key fails
            # on the unique key, and ``receive`` answers with the first one.
            first_write=True,
            sender_verified=submission.signed_in,
        ),
        language=submission.language,
        category=adapter.new_ticket_category(user, Channel.WEB, submission.category),
        form_data=submission.form_data,
        contact_page=submission.contact_page,
        privacy_notice=consent.record(submission.privacy_notice),
        acknowledge=acknowledge,
    )
    if dropped:
        _note_dropped_files(ticket, dropped)
    return Outcome(ticket, _mail_of(user, acknowledge))


def _mail_of(user, acknowledge: bool) -> str:
    """What ``notifications`` did with the acknowledgement: it writes none
    to an address marked undeliverable (the profile was read with the user,
    or made with it)."""
    profile = customers.existing_profile(user)
    if profile is None or profile.mail_undeliverable:
        return UNDELIVERABLE
    return QUEUED if acknowledge else WITHHELD


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
