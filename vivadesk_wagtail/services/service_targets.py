"""Each ticket's service targets: when its first response and its resolution
are due, in business hours (``business_hours``), by its category's
``ServiceTarget``.

``services.tickets`` calls these on the ticket it holds under its row lock;
they set fields on it and name them, and the caller's UPDATE writes them.
The clock runs while the ticket is new or in progress; waiting for the
customer and done stop it, and the due times move later by the business
minutes it stood still. :func:`check_targets` (a schedule) warns the
assignee once before a target is missed and marks missed targets.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from .. import business_hours, conf, signals
from ..models import ServiceTarget, Ticket, TicketStatus

#: Statuses in which the clock runs.
RUNNING = (TicketStatus.NEW, TicketStatus.OPEN)
#: Statuses in which it stands still (the customer's turn, or done).
PAUSED = (TicketStatus.WAITING, TicketStatus.DONE)
#: ... and for good.
STOPPED = (*PAUSED, TicketStatus.CLOSED)
#: How long a process keeps the targets it read (a change in the admin
#: clears them at once in the process that saved it).
CACHE_SECONDS = 60

#: The fields a status change may set (written with every status change).
STATUS_FIELDS = [
    "first_response_due",
    "resolution_due",
    "next_due",
    "targets_paused_at",
    "targets_paused_minutes",
    "resolved_at",
    "resolution_minutes",
    "resolution_breached",
]
#: The fields the first public staff reply sets.
FIRST_RESPONSE_FIELDS = [
    "first_response_at",
    "first_response_minutes",
    "first_response_breached",
    "next_due",
]
#: The fields a category change sets.
CATEGORY_FIELDS = ["first_response_due", "resolution_due", "next_due"]


@dataclass(frozen=True)
class Target:
    """Business minutes to the first response and to the resolution
    (``None``: no target)."""

    first_response: int | None
    resolution: int | None


NO_TARGET = Target(None, None)
_cache: dict = {"until": 0.0, "targets": None}


def _minutes(hours: Decimal | None) -> int | None:
    return None if hours is None else int(hours * 60)


def forget(**kwargs) -> None:
    """Drop this process's targets (a receiver of ``ServiceTarget``'s
    ``post_save`` and ``post_delete``)."""
    _cache["targets"] = None


def _all_targets() -> dict:
    """Every row's targets by category id (``None``: the default row), read
    at most once per :data:`CACHE_SECONDS` per process."""
    if _cache["targets"] is None or time.monotonic() > _cache["until"]:
        rows = ServiceTarget.objects.values_list(
            "category_id", "first_response_hours", "resolution_hours"
        )
        _cache["targets"] = {
            category: Target(_minutes(first), _minutes(resolution))
            for category, first, resolution in rows
        }
        _cache["until"] = time.monotonic() + CACHE_SECONDS
    return _cache["targets"]


def target_for(category_id: int | None) -> Target:
    """The targets of a category: its own row, else the default row."""
    targets = _all_targets()
    if category_id in targets:
        return targets[category_id]
    return targets.get(None, NO_TARGET)


# --- the clock ---------------------------------------------------------------


def _due(start: datetime, minutes: int | None, shift: int) -> datetime | None:
    if minutes is None:
        return None
    return business_hours.add(start, minutes + shift)


def _pending(ticket: Ticket) -> list[datetime]:
    dues = []
    if ticket.first_response_at is None and ticket.first_response_due:
        dues.append(ticket.first_response_due)
    if ticket.resolved_at is None and ticket.resolution_due:
        dues.append(ticket.resolution_due)
    return dues


def _set_next_due(ticket: Ticket) -> None:
    """``next_due``: the earliest pending due time, while the clock runs."""
    dues = _pending(ticket) if ticket.status in RUNNING else []
    ticket.next_due = min(dues) if dues else None


def paused_minutes(ticket: Ticket, now: datetime) -> int:
    """Business minutes the ticket's clock stood still until ``now``: the
    pauses that ended (``targets_paused_minutes``) and the one under way."""
    total = ticket.targets_paused_minutes
    if ticket.targets_paused_at is not None:
        total += business_hours.minutes_between(ticket.targets_paused_at, now)
    return total


def active_minutes(ticket: Ticket, now: datetime) -> int:
    """Business minutes the clock ran from opening until ``now``."""
    elapsed = business_hours.minutes_between(ticket.created_at, now)
    return max(elapsed - paused_minutes(ticket, now), 0)


def on_open(ticket: Ticket, now: datetime) -> None:
    """Set the due times of a new ticket (opened ``now``); the INSERT
    writes them."""
    target = target_for(ticket.category_id)
    ticket.first_response_due = _due(now, target.first_response, 0)
    ticket.resolution_due = _due(now, target.resolution, 0)
    _set_next_due(ticket)


def on_first_response(ticket: Ticket, now: datetime) -> list[str]:
    """A public staff reply: the first one answers the first-response
    target. Returns the fields set (none after the first)."""
    if ticket.first_response_at is not None:
        return []
    clock = ticket.targets_paused_at or now
    ticket.first_response_at = now
    ticket.first_response_minutes = active_minutes(ticket, now)
    due = ticket.first_response_due
    ticket.first_response_breached = due is not None and clock > due
    _set_next_due(ticket)
    return FIRST_RESPONSE_FIELDS


def on_status(ticket: Ticket, old: str, new: str, now: datetime) -> list[str]:
    """The status of a locked ticket changed from ``old`` to ``new`` (already
    set on it): stop, restart or settle the clock. Returns the fields set."""
    if old in RUNNING and new in PAUSED:
        ticket.targets_paused_at = now
    elif old in PAUSED and new in RUNNING:
        _resume(ticket, now)
    if new == TicketStatus.DONE:
        _resolve(ticket, now)
    elif old == TicketStatus.DONE and new != TicketStatus.CLOSED:
        ticket.resolved_at = None
        ticket.resolution_minutes = None
        ticket.resolution_breached = False
    _set_next_due(ticket)
    return STATUS_FIELDS


def _resume(ticket: Ticket, now: datetime) -> None:
    """Move the pending due times later by the business minutes paused."""
    if ticket.targets_paused_at is None:
        return
    paused = business_hours.minutes_between(ticket.targets_paused_at, now)
    ticket.targets_paused_minutes += paused
    if paused:
        if ticket.first_response_at is None and ticket.first_response_due:
            ticket.first_response_due = business_hours.add(
                ticket.first_response_due, paused
            )
        if ticket.resolution_due:
            ticket.resolution_due = business_hours.add(ticket.resolution_due, paused)
    ticket.targets_paused_at = None


def _resolve(ticket: Ticket, now: datetime) -> None:
    """Done: the resolution time (pauses excluded) and whether its target
    was missed (the clock stopped when the ticket was paused)."""
    clock = ticket.targets_paused_at or now
    ticket.resolved_at = now
    ticket.resolution_minutes = active_minutes(ticket, now)
    due = ticket.resolution_due
    ticket.resolution_breached = due is not None and clock > due


def on_category(ticket: Ticket, now: datetime) -> list[str]:
    """The category changed: the pending due times follow its targets,
    counted from the opening, pauses so far excluded (a pause under way
    moves them when it ends, :func:`_resume`)."""
    target = target_for(ticket.category_id)
    shift = ticket.targets_paused_minutes
    if ticket.first_response_at is None:
        ticket.first_response_due = _due(
            ticket.created_at, target.first_response, shift
        )
    if ticket.resolved_at is None:
        ticket.resolution_due = _due(ticket.created_at, target.resolution, shift)
    _set_next_due(ticket)
    return CATEGORY_FIELDS


# --- the sweeper ---------------------------------------------------------------


def _candidates(now: datetime, soon: datetime) -> Q:
    """Open tickets with a target to warn about or to mark as missed; the
    ``next_due`` condition uses the partial index of open tickets."""
    first = Q(first_response_at__isnull=True)
    return Q(status__in=RUNNING, next_due__lte=soon) & (
        (first & Q(first_response_due__lte=soon, first_response_warned=False))
        | (first & Q(first_response_due__lt=now, first_response_breached=False))
        | Q(resolution_due__lte=soon, resolution_warned=False)
        | Q(resolution_due__lt=now, resolution_breached=False)
    )


def check_targets(now: datetime | None = None) -> int:
    """Warn once per target of an open ticket due within ``TARGET_WARNING``
    (the assignee, else the staff address) and mark the targets whose due
    time has passed. Set-based and idempotent; each ticket is checked again
    under its row lock. Returns how many tickets changed."""
    now = now or timezone.now()
    soon = now + conf.get("TARGET_WARNING")
    pks = Ticket.objects.filter(_candidates(now, soon)).values_list("pk", flat=True)
    return sum(_check_one(pk, now, soon) for pk in list(pks))


@transaction.atomic
def _check_one(pk: int, now: datetime, soon: datetime) -> bool:
    ticket = (
        Ticket.objects.select_related("customer", "assignee")
        .select_for_update(of=("self",))
        .filter(pk=pk)
        .first()
    )
    if ticket is None or ticket.status not in RUNNING:
        return False
    fields, warnings = [], []
    for name, due, pending in (
        ("first_response", ticket.first_response_due, ticket.first_response_at is None),
        ("resolution", ticket.resolution_due, True),
    ):
        if due is None or not pending:
            continue
        if due <= soon and not getattr(ticket, f"{name}_warned"):
            setattr(ticket, f"{name}_warned", True)
            fields.append(f"{name}_warned")
            warnings.append((name, due))
        if due < now and not getattr(ticket, f"{name}_breached"):
            setattr(ticket, f"{name}_breached", True)
            fields.append(f"{name}_breached")
    if not fields:
        return False
    Ticket.objects.filter(pk=pk).update(
        **{name: getattr(ticket, name) for name in fields}
    )
    for name, due in warnings:
        signals.target_warning_due.send(Ticket, ticket=ticket, target=name, due=due)
    return True
