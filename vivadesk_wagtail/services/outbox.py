"""State changes of outbox rows that reach beyond the row itself."""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext

from ..models import Channel, CustomerProfile, MessageKind, OutboundEmail, OutboundState
from . import tickets


@transaction.atomic
def mark_failed(row: OutboundEmail, error: str, *, permanent: bool) -> None:
    """Give up on a mail: record why, flag a dead address (``permanent``: the
    server refused the recipient with a 5xx), and leave an internal note on
    its ticket so staff see that the recipient was not told."""
    row.state = OutboundState.FAILED
    row.last_error = error
    row.save(update_fields=["state", "last_error", "subject", "updated_at"])
    if permanent:
        CustomerProfile.objects.for_address(row.recipient).update(
            mail_undeliverable=True
        )
    if row.ticket_id is None:
        return
    with translation.override(settings.LANGUAGE_CODE):
        body = gettext(
            "Unable to send the e-mail “%(event)s” to %(recipient)s after "
            "%(attempts)d attempt(s): %(error)s"
        ) % {
            "event": row.event,
            "recipient": row.recipient,
            "attempts": row.attempts,
            "error": error,
        }
    tickets.add_message(
        row.ticket,
        tickets.NewMessage(
            body=body,
            kind=MessageKind.NOTE,
            channel=Channel.SYSTEM,
            idempotency_key=f"outbox-failed-{row.pk}",
        ),
    )
