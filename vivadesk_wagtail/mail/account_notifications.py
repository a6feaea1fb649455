"""Account mails (activation link, password reset, the data-protection
mails): outbox rows without a ticket. Their links carry fresh tokens made
when the mail is rendered."""

from __future__ import annotations

import logging

from .. import conf
from ..adapter import get_adapter
from ..models import DataRequest, OutboundEmail
from ..queueing import enqueue
from ..services import customers
from .notifications import new_message_id, validity

#: Mails about a customer's data export or erasure
#: (``signals.data_request_mail_due``).
DATA_REQUEST_EVENTS = (
    "erasure_confirm",
    "erasure_scheduled",
    "erasure_cancelled",
    "export_ready",
)
ACCOUNT_EVENTS = ("activation", "password_reset", *DATA_REQUEST_EVENTS)

logger = logging.getLogger(__name__)


def language_of(user) -> str:
    return get_adapter().customer_language(customers.profile_of(user))


def may_receive(event: str, user) -> bool:
    """Whether ``user`` may be sent this account mail at all: an activation
    link only while the account awaits its confirmation, a reset link only
    for an active customer account; never to staff (DESIGN.md decision 9)."""
    if event == "activation":
        allowed = customers.awaiting_confirmation(user)
    elif event in DATA_REQUEST_EVENTS:
        # Also to an account deactivated for its erasure (the cancel link).
        allowed = not customers.is_staff_user(user) and bool(
            customers.existing_profile(user)
        )
    else:
        allowed = customers.may_reset_password(user)
    if not allowed:
        logger.info("No %s mail for user %s: not a customer it serves", event, user.pk)
    return allowed


def queue(
    event: str,
    user,
    language: str | None = None,
    *,
    request: DataRequest | None = None,
) -> OutboundEmail | None:
    """Write the outbox row of an account mail and queue its sending; a
    data-protection mail names its ``request`` (``DataRequest``)."""
    if event not in ACCOUNT_EVENTS or (event in DATA_REQUEST_EVENTS) != bool(request):
        raise ValueError(event)
    if user is None or not may_receive(event, user):
        return None
    # The customer asked for this mail (or wrote to us): it is attempted even
    # while the address is marked undeliverable (``services.deliverability``).
    profile = customers.profile_of(user)
    context = {"user": user.pk}
    if request is not None:
        context["request"] = request.pk
    row = OutboundEmail.objects.create(
        event=event,
        context=context,
        recipient=profile.email,
        language=language or language_of(user),
        message_id=new_message_id(None),
    )
    enqueue("vivadesk_wagtail.tasks.send_outbound", row.pk)
    return row


def queue_data_request(event: str, request: DataRequest) -> OutboundEmail | None:
    """The mail ``event`` about ``request`` to its customer, in their
    language (``signals.data_request_mail_due``)."""
    return queue(event, request.user, request=request)


def template_extras(row: OutboundEmail, context: dict) -> dict:
    """What a data-protection mail shows besides its links: the request
    (``data_request``: its dates and size), how long the confirm link
    works (``erasure_confirm_valid``), the grace period (``grace``) and
    what happens to the customer's requests (``erasure_tickets``)."""
    if row.event not in DATA_REQUEST_EVENTS:
        return {}
    return {
        "data_request": DataRequest.objects.filter(
            pk=row.context.get("request")
        ).first(),
        "erasure_confirm_valid": validity(conf.get("ERASURE_CONFIRM_MAX_AGE")),
        "grace": validity(conf.get("ERASURE_GRACE_PERIOD")),
        "erasure_tickets": conf.get("ERASURE_TICKETS"),
    }
