"""Ticket statuses as agents read them.

The labels of ``TicketStatus`` speak to the customer (portal and mails:
"Waiting for your reply"); the staff screens name the same stored values
from the agent's side ("Waiting for customer").
"""

from __future__ import annotations

from django.utils.translation import pgettext_lazy

from ..models import TicketStatus

#: ``{status value: label}`` for the listing, filters, ticket screen,
#: history and bulk actions. Statuses that read the same on both sides keep
#: the customer's label.
STAFF_LABELS = {
    **dict(TicketStatus.choices),
    TicketStatus.WAITING.value: pgettext_lazy(
        "ticket status, agent's view", "Waiting for customer"
    ),
}


def status_label(value) -> str:
    """The agent's label of a stored status (the value itself if unknown)."""
    label = STAFF_LABELS.get(value)
    return str(label) if label is not None else str(value or "–")


def status_choices(exclude=()) -> list[tuple[str, str]]:
    """``(value, label)`` pairs in the statuses' order, labels lazy."""
    return [
        (value, label) for value, label in STAFF_LABELS.items() if value not in exclude
    ]
