"""Who else has a ticket screen open, and what arrived in its thread since
an agent's page was shown: the collision warning of the ticket screen.

One :class:`~vivadesk_wagtail.models.TicketViewer` row per agent and ticket,
refreshed by the screen (page load and heartbeat); a row older than
``PRESENCE_TIMEOUT`` counts as gone. :func:`unless_newer` is the stale-form
check: it runs a staff message's write only if the thread has nothing the
agent has not seen.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from .. import conf
from ..models import Ticket, TicketMessage, TicketViewer


class NewerMessages(Exception):
    """The thread has messages the agent had not seen when the form was
    shown; nothing was written."""

    def __init__(self, ids: list[int]):
        super().__init__(f"{len(ids)} newer message(s)")
        #: Their ids, oldest first.
        self.ids = ids


def touch(ticket: Ticket, user, now: datetime | None = None) -> datetime:
    """Note that ``user`` has ``ticket``'s screen open, as of ``now``.

    One statement, an upsert (``INSERT … ON CONFLICT … DO UPDATE`` on
    PostgreSQL and SQLite): two touches at once never fail on the unique
    constraint. Returns the time stored.
    """
    now = now or timezone.now()
    TicketViewer.objects.bulk_create(
        [TicketViewer(ticket_id=ticket.pk, user_id=user.pk, seen_at=now)],
        update_conflicts=True,
        unique_fields=["ticket", "user"],
        update_fields=["seen_at"],
    )
    return now


def leave(ticket: Ticket, user, *, seen_at: datetime | None = None, now=None) -> int:
    """``user`` closed ``ticket``'s screen: their row goes, unless a later
    page of theirs touched it after ``seen_at`` (the last touch of the page
    that closed). Rows of anybody older than the timeout go in the same
    statement (:func:`purge`), so no schedule is needed for them. Returns
    the number of rows deleted."""
    mine = Q(ticket_id=ticket.pk, user_id=user.pk)
    if seen_at is not None:
        mine &= Q(seen_at__lte=seen_at)
    deleted, _per_model = TicketViewer.objects.filter(
        mine | Q(seen_at__lt=_cutoff(now))
    ).delete()
    return deleted


def purge(before: datetime) -> int:
    """Delete every row last touched before ``before``; returns how many."""
    deleted, _per_model = TicketViewer.objects.filter(seen_at__lt=before).delete()
    return deleted


def others(ticket: Ticket, user, now: datetime | None = None) -> list:
    """The users other than ``user`` seen on ``ticket``'s screen within
    ``PRESENCE_TIMEOUT``, ordered by name (one query)."""
    recent = TicketViewer.objects.filter(
        ticket_id=ticket.pk, seen_at__gte=_cutoff(now)
    ).exclude(user_id=user.pk)
    return list(
        get_user_model()
        .objects.filter(pk__in=recent.values("user_id"))
        .order_by("first_name", "last_name", "username")
    )


def newer_messages(ticket: Ticket, seen: int, user) -> QuerySet:
    """Messages of ``ticket``'s thread after the message ``seen`` (an id)
    that ``user`` did not write: what a customer, another agent or the
    system added since ``user``'s page showed the thread up to ``seen``."""
    return TicketMessage.objects.filter(_newer(ticket, seen, user))


def _newer(ticket: Ticket, seen: int, user) -> Q:
    return Q(ticket_id=ticket.pk, pk__gt=seen) & ~Q(author_id=user.pk)


@contextmanager
def unless_newer(ticket: Ticket, user, *, seen: int, key: str) -> Iterator[None]:
    """Run the block (the write of one staff message with idempotency key
    ``key``) only if the thread has no :func:`newer_messages` than ``seen``;
    else raise :class:`NewerMessages` before it runs.

    Check and write run in one transaction under the ticket's row lock,
    which every writer of the thread takes (``services.tickets``): nothing
    can slip in between. A message already written with ``key`` (a double
    submit) skips the check, so the block returns it unchanged.
    """
    with transaction.atomic():
        list(Ticket.objects.select_for_update().filter(pk=ticket.pk).values("pk"))
        rows = list(
            TicketMessage.objects.filter(
                Q(idempotency_key=key) | _newer(ticket, seen, user)
            ).values_list("pk", "idempotency_key")
        )
        if rows and all(row_key != key for _pk, row_key in rows):
            raise NewerMessages(sorted(pk for pk, _key in rows))
        yield


def _cutoff(now: datetime | None) -> datetime:
    return (now or timezone.now()) - conf.get("PRESENCE_TIMEOUT")
