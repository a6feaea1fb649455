"""Account mails (activation link, password reset): outbox rows without a
ticket. Their links carry fresh tokens made when the mail is rendered."""

from __future__ import annotations

import logging

from ..adapter import get_adapter
from ..models import OutboundEmail
from ..queueing import enqueue
from ..services import customers
from .notifications import new_message_id

ACCOUNT_EVENTS = ("activation", "password_reset")

logger = logging.getLogger(__name__)


def language_of(user) -> str:
    return get_adapter().customer_language(customers.profile_of(user))


def may_receive(event: str, user) -> bool:
    """Whether ``user`` may be sent this account mail at all: an activation
    link only while the account awaits its confirmation, a reset link only
    for an active customer account; never to staff (DESIGN.md decision 9)."""
    if event == "activation":
        allowed = customers.awaiting_confirmation(user)
    else:
        allowed = customers.may_reset_password(user)
    if not allowed:
        logger.info("No %s mail for user %s: not a customer it serves", event, user.pk)
    return allowed


def queue(event: str, user, language: str | None = None) -> OutboundEmail | None:
    if event not in ACCOUNT_EVENTS:
        raise ValueError(event)
    if not may_receive(event, user):
        return None
    # The customer asked for this mail (or wrote to us): it is attempted even
    # while the address is marked undeliverable (``services.deliverability``).
    profile = customers.profile_of(user)
    row = OutboundEmail.objects.create(
        event=event,
        context={"user": user.pk},
        recipient=profile.email,
        language=language or language_of(user),
        message_id=new_message_id(None),
    )
    enqueue("vivadesk_wagtail.tasks.send_outbound", row.pk)
    return row
