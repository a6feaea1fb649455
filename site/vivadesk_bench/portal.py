"""Portal benchmark: "My requests" and a ticket page, in-process. Per data size
it seeds a throw-away data set in a transaction that is rolled back (bulk
inserts: measurement scaffolding, not a writer of ticket state), renders the
pages through Django's test client and prints the figures (:func:`run`).
"""

from __future__ import annotations

import uuid

from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.db import transaction
from django.test import Client
from django.urls import reverse
from django.utils import translation

from vivadesk_wagtail.models import (
    CustomerProfile,
    MessageKind,
    Ticket,
    TicketAttachment,
    TicketMessage,
    TicketStatus,
)

from .measure import header, measure, row, within

NUMBER_OFFSET = 9_000_000_000_000
STATUSES = list(TicketStatus.values)
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 64


class _Rollback(Exception):
    pass


def _customer(label: str):
    user = get_user_model().objects.create(
        username=f"bench-{label}-{uuid.uuid4().hex[:8]}",
        email=f"bench-{label}-{uuid.uuid4().hex[:8]}@example.invalid",
    )
    CustomerProfile.objects.create(user=user, email=user.email, language="de")
    return user


def _tickets(user, count: int, start: int) -> list[Ticket]:
    rows = [
        Ticket(
            number=NUMBER_OFFSET + start + i,
            reference=f"BENCH-{start + i}",
            subject=f"Benchmark-Anfrage {start + i}",
            customer=user,
            status=STATUSES[i % len(STATUSES)],
            language="de",
        )
        for i in range(count)
    ]
    created = Ticket.objects.bulk_create(rows, batch_size=500)
    TicketMessage.objects.bulk_create(
        [
            TicketMessage(ticket=t, kind=kind, body=f"Text {t.reference}")
            for t in created
            for kind in (MessageKind.CUSTOMER, MessageKind.STAFF)
        ],
        batch_size=1000,
    )
    return created


def _long_thread(user, start: int, messages: int = 50, files: int = 10) -> Ticket:
    ticket = _tickets(user, 1, start)[0]
    kinds = [MessageKind.CUSTOMER, MessageKind.STAFF, MessageKind.NOTE]
    rows = TicketMessage.objects.bulk_create(
        [
            TicketMessage(ticket=ticket, kind=kinds[i % 3], body=f"Nachricht {i}")
            for i in range(messages - 2)
        ]
    )
    for i, message in enumerate(rows[: files * 2 : 2]):
        attachment = TicketAttachment(
            ticket=ticket,
            message=message,
            original_name=f"datei-{i}.png",
            size=len(PNG),
            content_type="image/png",
            sha256="0" * 64,
        )
        attachment.file.save("bench.png", ContentFile(PNG), save=True)
    return ticket


def run(
    stdout, *, sizes=(1_000, 10_000), per_customer=(10, 100, 1000), runs=30
) -> None:
    """Per size (tickets in the database): seed, measure, print, roll back."""
    stdout.write(header())
    for total in sizes:
        files = []
        try:
            with transaction.atomic():
                _seed_and_measure(stdout, total, per_customer, runs, files)
                raise _Rollback
        except _Rollback:
            pass
        finally:
            for attachment_file in files:
                attachment_file.storage.delete(attachment_file.name)


def _seed_and_measure(stdout, total, per_customer, runs, files) -> None:
    start = 0
    measured = {}
    skipped = []
    for count in per_customer:
        if start + count > total:  # more than this size holds
            skipped.append(count)
            continue
        user = _customer(f"c{count}")
        _tickets(user, count, start)
        start += count
        measured[count] = user
    filler = _customer("filler")
    rest = max(total - start, 0)
    _tickets(filler, rest, start)
    start += rest
    thread_user = list(measured.values())[len(measured) // 2] if measured else filler
    ticket = _long_thread(thread_user, start)
    files.extend(a.file for a in ticket.attachments.all())
    client = Client(HTTP_HOST="localhost")
    stdout.write(f"-- {Ticket.objects.count()} tickets in database\n")
    with translation.override("de"):
        list_path = reverse("vivadesk_wagtail:my_requests")
        ticket_path = reverse("vivadesk_wagtail:ticket", args=[ticket.reference])
    for count, user in measured.items():
        client.force_login(user)
        figures = measure(client, list_path, runs)
        met = within(figures, ms=15, queries=10)
        label = f"My requests, {count:>5} tickets"
        stdout.write(row(label, figures, "≤ 15 ms, ≤ 10 queries", met))
    for count in skipped:
        stdout.write(f"My requests, {count:>5} tickets: n/a (more than this size)\n")
    client.force_login(thread_user)
    figures = measure(client, ticket_path, runs)
    label = "Ticket page, 50 messages / 10 attachments"
    stdout.write(row(label, figures, "≤ 15 ms", within(figures, ms=15)))
