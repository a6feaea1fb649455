"""Keeping the tickets' search index current, in batches
(:func:`update_changed`, every minute) instead of on every save.
``manage.py update_index`` (modelsearch) still rebuilds everything.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone
from wagtail.search import index
from wagtail.search.backends import get_search_backends

from ..models import SearchIndexMark, Ticket

#: How far before the last run the next one looks again.
OVERLAP = timedelta(minutes=5)
#: Tickets read and indexed per round trip.
BATCH = 200
MARK = "tickets"


def update_changed(now: datetime | None = None) -> int:
    """Index every ticket changed since the last run; returns how many.

    Tickets opt out of per-save indexing (``Ticket.search_auto_update``):
    re-indexing a ticket reads its customer and its whole thread, several
    statements each time, and a ticket changes with every message — that
    cost would land on every contact-form POST, portal comment and inbound
    mail. Instead the schedule ``vivadesk: update the search index`` (every
    minute) calls this, a batch at a time, so staff search sees a change
    within about a minute. Changes are found by ``updated_at``, which every
    write of ``services.tickets`` stamps; the window reaches :data:`OVERLAP`
    back, so a transaction that committed late is not missed. A deleted
    ticket leaves the index at once (:func:`unindex_deleted_ticket`).
    """
    now = now or timezone.now()
    with transaction.atomic():
        mark, _created = SearchIndexMark.objects.select_for_update().get_or_create(
            name=MARK
        )
        changed = Ticket.objects.all()
        if mark.indexed_until is not None:
            changed = changed.filter(updated_at__gte=mark.indexed_until - OVERLAP)
        pks = list(changed.order_by("pk").values_list("pk", flat=True))
        for start in range(0, len(pks), BATCH):
            index_tickets(pks[start : start + BATCH])
        mark.indexed_until = now
        mark.save(update_fields=["indexed_until"])
    return len(pks)


def index_tickets(pks) -> None:
    """Index these tickets now, in one read per batch and backend."""
    tickets = list(Ticket.get_indexed_objects().filter(pk__in=list(pks)))
    if not tickets:
        return
    for backend in get_search_backends(with_auto_update=True):
        backend.add_bulk(Ticket, tickets)


def unindex_deleted_ticket(sender, instance, **kwargs) -> None:
    """Receiver of ``post_delete`` for tickets (``signal_handlers``)."""
    index.remove_object(instance)
