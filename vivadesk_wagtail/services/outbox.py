"""State changes of outbox rows that reach beyond the row itself."""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext

from .. import conf
from ..models import (
    Channel,
    InboundMail,
    MessageKind,
    OutboundEmail,
    OutboundState,
)
from . import deliverability, tickets


@transaction.atomic
def mark_failed(
    row: OutboundEmail,
    error: str,
    *,
    permanent: bool,
    bounce: InboundMail | None = None,
) -> None:
    """Give up on a mail: record why, mark a dead address (``permanent``: the
    server refused the recipient with a 5xx, or ``bounce``, a verified
    delivery-status report, said 5.x.x), and leave an internal note on its
    ticket so staff see that the recipient was not told."""
    row.state = OutboundState.FAILED
    row.last_error = error
    row.save(update_fields=["state", "last_error", "subject", "updated_at"])
    if permanent:
        deliverability.mark_undeliverable(row.recipient, error, bounce=bounce)
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


@transaction.atomic
def retry_after_bounce(row: OutboundEmail, detail: str) -> bool:
    """A verified bounce says a sent mail failed for a temporary reason (the
    receiving server gave up on a 4.x.x): send it again later, with the same
    Message-ID, like an SMTP 4xx. After the last attempt the row fails
    without marking the address. ``False`` if the row was not ``sent``."""
    row = OutboundEmail.objects.select_for_update().filter(pk=row.pk).first()
    if row is None or row.state != OutboundState.SENT:
        return False
    if row.attempts >= conf.get("OUTBOX_MAX_ATTEMPTS"):
        mark_failed(row, detail, permanent=False)
        return False
    delay = min(
        conf.get("OUTBOX_RETRY_DELAY") * (2 ** min(max(row.attempts - 1, 0), 20)),
        conf.get("OUTBOX_RETRY_MAX_DELAY"),
    )
    row.state = OutboundState.PENDING
    row.last_error = detail
    row.next_attempt_at = timezone.now() + delay
    row.save(update_fields=["state", "last_error", "next_attempt_at", "updated_at"])
    return True
