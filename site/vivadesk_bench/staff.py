"""Admin benchmark: the ticket listing and the ticket screen, in-process. Per
data size it seeds a throw-away data set in a transaction that is rolled back
(bulk inserts: measurement scaffolding, not a writer of ticket state) and
renders the admin pages through Django's test client as a superuser.
"""

from __future__ import annotations

import uuid

from django.contrib.auth import get_user_model
from django.db import transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from vivadesk_wagtail.models import (
    CustomerProfile,
    MessageKind,
    Ticket,
    TicketMessage,
    TicketStatus,
)

from .measure import header, measure, row, within

NUMBER_OFFSET = 8_000_000_000_000
STATUSES = list(TicketStatus.values)
LIST_URL = "wagtailsnippets_vivadesk_wagtail_ticket:list"
SCREEN_URL = "wagtailsnippets_vivadesk_wagtail_ticket:inspect"


class _Rollback(Exception):
    pass


def _user(label: str, **extra):
    tag = uuid.uuid4().hex[:8]
    return get_user_model().objects.create(
        username=f"bench-{label}-{tag}",
        email=f"bench-{label}-{tag}@example.invalid",
        first_name="Bench",
        last_name=label,
        **extra,
    )


def _seed(total: int, agent) -> Ticket:
    customers = [_user(f"c{i}") for i in range(50)]
    CustomerProfile.objects.bulk_create(
        [CustomerProfile(user=c, email=c.email, language="de") for c in customers]
    )
    now = timezone.now()
    rows = [
        Ticket(
            number=NUMBER_OFFSET + i,
            reference=f"BENCH-{i}",
            subject=f"Benchmark-Anfrage {i}",
            customer=customers[i % len(customers)],
            status=STATUSES[i % len(STATUSES)],
            assignee=agent if i % 3 == 0 else None,
            customer_activity_at=now,
            language="de",
        )
        for i in range(total)
    ]
    created = Ticket.objects.bulk_create(rows, batch_size=500)
    thread = created[0]
    kinds = [MessageKind.CUSTOMER, MessageKind.STAFF, MessageKind.NOTE]
    TicketMessage.objects.bulk_create(
        [
            TicketMessage(
                ticket=thread,
                kind=kinds[i % 3],
                body=f"Nachricht {i}",
                html="<p>Hallo</p>" if i % 5 == 0 else "",
            )
            for i in range(50)
        ]
    )
    return thread


def run(stdout, *, sizes=(1_000, 10_000), runs: int = 30) -> None:
    """Per size (tickets in the database): seed, measure, print, roll back."""
    stdout.write(header())
    for total in sizes:
        try:
            with transaction.atomic():
                _seed_and_measure(stdout, total, runs)
                raise _Rollback
        except _Rollback:
            pass


def _seed_and_measure(stdout, total: int, runs: int) -> None:
    agent = _user("agent", is_superuser=True, is_staff=True)
    thread = _seed(total, agent)
    client = Client(HTTP_HOST="localhost")
    client.force_login(agent)
    stdout.write(f"-- {Ticket.objects.count()} tickets in database\n")
    listing = "≤ 60 ms"
    pages = [
        ("Ticket listing (default, page of 50)", reverse(LIST_URL), listing),
        (
            "Ticket listing, all, by number",
            reverse(LIST_URL) + "?show=all&ordering=-number",
            listing,
        ),
        ("Ticket listing, mine", reverse(LIST_URL) + "?assignee=me", listing),
        ("Ticket screen, 50 messages", reverse(SCREEN_URL, args=[thread.pk]), ""),
    ]
    for label, path, target in pages:
        figures = measure(client, path, runs)
        met = within(figures, ms=60) if target else None
        stdout.write(row(label, figures, target, met))
