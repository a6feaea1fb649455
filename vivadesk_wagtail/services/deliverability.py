"""Whether mail reaches a customer's address: marked undeliverable by a
permanent failure only (:func:`mark_undeliverable`), cleared by an agent.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from ..models import CustomerProfile, InboundMail, Ticket
from . import tickets

#: The audit-log action of an agent clearing the mark.
CLEARED_ACTION = "vivadesk.undeliverable_cleared"
#: Longest reason kept on the profile.
MAX_DETAIL = 2000


def mark_undeliverable(
    address: str, detail: str, *, bounce: InboundMail | None = None
) -> int:
    """Mark the profile of ``address``: when, why (the SMTP answer or the
    report's status) and the bounce that proved it. An address marked
    already keeps its first cause. Returns how many profiles changed.

    Called on a permanent failure only: the SMTP server refused the recipient
    with a 5xx (``outbox.mark_failed``) or a verified bounce reported a 5.x.x
    for it (``services.inbound``). While it is marked, notifications to it
    are not written; mail the customer asks for (activation link, password
    reset) still goes."""
    return (
        CustomerProfile.objects.for_address(address)
        .filter(mail_undeliverable=False)
        .update(
            mail_undeliverable=True,
            undeliverable_since=timezone.now(),
            undeliverable_detail=(detail or "")[:MAX_DETAIL],
            undeliverable_bounce=bounce,
        )
    )


@transaction.atomic
def clear_undeliverable(profile: CustomerProfile, *, by, ticket: Ticket) -> bool:
    """An agent says mail to the address works again: the mark goes, and the
    audit log of ``ticket`` (the screen it was cleared on) keeps what it
    said. ``False`` if the address was not marked (a second POST)."""
    locked = (
        CustomerProfile.objects.select_for_update()
        .filter(pk=profile.pk, mail_undeliverable=True)
        .first()
    )
    if locked is None:
        return False
    since = locked.undeliverable_since
    data = {
        "email": locked.email,
        "since": since.isoformat() if since else None,
        "detail": locked.undeliverable_detail[:500],
        "bounce": locked.undeliverable_bounce_id,
    }
    locked.mail_undeliverable = False
    locked.undeliverable_since = None
    locked.undeliverable_detail = ""
    locked.undeliverable_bounce = None
    locked.save(
        update_fields=[
            "mail_undeliverable",
            "undeliverable_since",
            "undeliverable_detail",
            "undeliverable_bounce",
        ]
    )
    tickets.log(ticket, CLEARED_ACTION, user=by, data=data)
    return True
