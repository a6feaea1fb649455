"""Merging one ticket into another (agents, ``staff.merge``).

The source's messages (with their attachments and dates), received mails,
form data and follow-up links move to the target; the source closes with a
pointer to the target; both threads get a public event, both histories an
entry; the customers are told by one mail each (``signals.ticket_merged``).
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone, translation

from .. import signals, statements
from ..models import (
    InboundMail,
    Ticket,
    TicketAttachment,
    TicketMessage,
    TicketStatus,
    ticket_answers,
)
from . import search_index, tickets

#: The audit-log action written on both tickets.
LOG_ACTION = "vivadesk.merge"
#: Thread event codes: on the source, and on the target.
EVENT_INTO, EVENT_FROM = "merged_into", "merged_from"


class MergeError(Exception):
    """A merge the rules refuse; ``code`` names the rule."""

    code = "refused"


class SameTicketError(MergeError):
    code = "same"


class TicketClosedError(MergeError):
    code = "closed"


class AlreadyMergedError(MergeError):
    code = "merged"


class MergeCycleError(MergeError):
    """The target was merged into the source."""

    code = "cycle"


class OtherCustomerError(MergeError):
    """The tickets belong to different customers and nobody confirmed that
    the target's customer may read the source's messages."""

    code = "other_customer"


def _locked_pair(source: Ticket, target: Ticket) -> tuple[Ticket, Ticket]:
    """Both tickets read again under their row locks, taken in the order of
    their ids (two merges of the same pair wait for each other instead of
    deadlocking)."""
    rows = {}
    for pk in sorted((source.pk, target.pk)):
        rows[pk] = (
            Ticket.objects.select_related("customer")
            .select_for_update(of=("self",))
            .get(pk=pk)
        )
    return rows[source.pk], rows[target.pk]


def check(source: Ticket, target: Ticket, *, confirmed_other_customer=False) -> None:
    """Raise the :class:`MergeError` that refuses merging ``source`` into
    ``target`` as they are now (the page asks it before, :func:`merge` again
    under the locks)."""
    if source.pk == target.pk:
        raise SameTicketError(source.reference)
    if target.merged_into_id == source.pk:
        raise MergeCycleError(target.reference)
    if source.merged_into_id or target.merged_into_id:
        raise AlreadyMergedError(
            source.reference if source.merged_into_id else target.reference
        )
    for ticket in (source, target):
        if ticket.status == TicketStatus.CLOSED:
            raise TicketClosedError(ticket.reference)
    if source.customer_id != target.customer_id and not confirmed_other_customer:
        raise OtherCustomerError(target.reference)


@transaction.atomic
def merge(
    source: Ticket, target: Ticket, *, by, confirmed_other_customer: bool = False
) -> Ticket:
    """Merge ``source`` into ``target`` in one transaction; returns the
    target. Refusals raise a :class:`MergeError`, changing nothing."""
    if source.pk == target.pk:
        raise SameTicketError(source.reference)
    source, target = _locked_pair(source, target)
    check(source, target, confirmed_other_customer=confirmed_other_customer)
    now = timezone.now()
    fields = _move(source, target, now)
    tickets.close_merged(source, target, by=by)
    other = source.customer_id != target.customer_id
    statements.insert(
        [
            tickets.event(
                source, by, EVENT_INTO, reference=target.reference, other=other
            ),
            tickets.event(
                target, by, EVENT_FROM, reference=source.reference, other=other
            ),
        ]
    )
    target.save(update_fields=[*fields, "updated_at"])
    tickets.log(source, LOG_ACTION, user=by, data={"into": target.reference})
    tickets.log(target, LOG_ACTION, user=by, data={"from": source.reference})
    signals.ticket_merged.send(Ticket, source=source, target=target, by=by)
    pks = [source.pk, target.pk]
    transaction.on_commit(lambda: search_index.index_tickets(pks))
    return target


def _move(source: Ticket, target: Ticket, now) -> list[str]:
    """Move the source's thread, files, mails, form data and links to the
    target (the messages keep their dates); returns the target's fields
    set."""
    TicketMessage.objects.filter(ticket=source).update(ticket=target)
    TicketAttachment.objects.filter(ticket=source).update(ticket=target)
    InboundMail.objects.filter(ticket=source).update(ticket=target)
    Ticket.objects.filter(follows=source).exclude(pk=target.pk).update(follows=target)
    Ticket.objects.filter(merged_into=source).update(merged_into=target)
    fields = []
    moved = merged_form_data(source, now)
    if moved:
        target.form_data = [*_rows(target.form_data), *moved]
        fields.append("form_data")
    if target.follows_id is None and source.follows_id not in (None, target.pk):
        target.follows_id = source.follows_id
        fields.append("follows")
    activity = [
        t for t in (source.customer_activity_at, target.customer_activity_at) if t
    ]
    if activity and max(activity) != target.customer_activity_at:
        target.customer_activity_at = max(activity)
        fields.append("customer_activity_at")
    return fields


def _rows(form_data) -> list[dict]:
    rows = form_data if isinstance(form_data, list) else []
    return [row for row in rows if isinstance(row, dict)]


def merged_form_data(source: Ticket, now) -> list[dict]:
    """The source's answers as rows for the target's form data: read in the
    source's language through its own contact page, each label marked with
    the source's reference and the date of the merge (the target's page
    does not relabel them: they carry no field name)."""
    with translation.override(source.language or None):
        answers = ticket_answers(source)
    day = timezone.localdate(now).isoformat()
    return [
        {
            "label": f"{answer['label']} ({source.reference}, {day})",
            "value": answer["value"],
            "merged_from": source.reference,
            "merged_at": now.isoformat(),
        }
        for answer in answers
    ]


def suggestions(source: Ticket, limit: int = 10) -> list[Ticket]:
    """The same customer's other open tickets, latest first: the targets the
    merge page offers besides typing a reference."""
    return list(
        Ticket.objects.open()
        .filter(customer_id=source.customer_id, merged_into__isnull=True)
        .exclude(pk=source.pk)
        .order_by("-updated_at")[:limit]
    )
