"""Reports benchmark: the service report and the backlog, in-process, at
100,000 tickets. It seeds a year of tickets (spread over 52 weeks, with
categories, assignees, business minutes, missed targets and ratings) in a
transaction that is rolled back (bulk inserts: measurement scaffolding, not
a writer of ticket state) and renders the reports as a superuser.

The 500 ms target is PostgreSQL's: with ``DATABASE_URL`` pointing at a
PostgreSQL database the figures are taken there; on SQLite they are printed
as they come, with a note.
"""

from __future__ import annotations

import contextlib
import random
import uuid
from datetime import timedelta
from unittest import mock

from django.db import connection, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from vivadesk_wagtail.models import (
    Category,
    CustomerProfile,
    Rating,
    SatisfactionRating,
    Ticket,
    TicketStatus,
)

from .measure import header, measure, row, within
from .staff import _Rollback, _user

NUMBER_OFFSET = 7_000_000_000_000
TARGET_MS = 500
#: Tickets created in the last year, and how their statuses spread; the
#: recent ones are more likely still open.
WEEKS = 52
SHARE_RESOLVED = 0.85
BATCH = 2_000


@contextlib.contextmanager
def _dates_as_given():
    """Let ``bulk_create`` keep the seeded creation dates (``auto_now_add``
    would set them all to now)."""
    with (
        mock.patch.object(Ticket._meta.get_field("created_at"), "auto_now_add", False),
        mock.patch.object(
            SatisfactionRating._meta.get_field("created_at"), "auto_now_add", False
        ),
    ):
        yield


def _ticket(i: int, rng: random.Random, now, people) -> Ticket:
    customers, agents, categories = people
    created = now - timedelta(seconds=rng.random() * WEEKS * 7 * 86_400)
    age_days = (now - created).days
    ticket = Ticket(
        number=NUMBER_OFFSET + i,
        reference=f"RBENCH-{i}",
        subject=f"Bericht-Anfrage {i}",
        customer=customers[i % len(customers)],
        category=rng.choice(categories),
        assignee=rng.choice(agents),
        language="de",
        created_at=created,
        secret="bench",
    )
    if rng.random() < 0.92:
        ticket.first_response_minutes = int(rng.expovariate(1 / 150))
        ticket.first_response_at = created + timedelta(minutes=30)
        ticket.first_response_breached = ticket.first_response_minutes > 480
    resolved = rng.random() < SHARE_RESOLVED * min(1.0, 0.3 + age_days / 14)
    if resolved:
        took = timedelta(hours=rng.expovariate(1 / 30))
        ticket.resolved_at = min(created + took, now)
        ticket.resolution_minutes = int(rng.expovariate(1 / 900))
        ticket.resolution_breached = ticket.resolution_minutes > 2_700
        ticket.status = TicketStatus.CLOSED if age_days > 21 else TicketStatus.DONE
    else:
        ticket.status = rng.choice(
            [TicketStatus.NEW, TicketStatus.OPEN, TicketStatus.WAITING]
        )
        due = created + timedelta(hours=rng.choice([8, 24, 72]))
        ticket.next_due = None if ticket.status == TicketStatus.WAITING else due
    return ticket


def seed(total: int, *, seed_value: int = 22) -> None:
    """``total`` tickets and their ratings (about a third of the resolved)."""
    rng = random.Random(seed_value)
    now = timezone.now()
    customers = [_user(f"c{i}") for i in range(50)]
    CustomerProfile.objects.bulk_create(
        [CustomerProfile(user=c, email=c.email, language="de") for c in customers]
    )
    agents = [_user(f"a{i}", is_staff=True) for i in range(12)] + [None]
    categories = [
        Category.objects.create(name=f"Bench {name} {uuid.uuid4().hex[:6]}")
        for name in ("Drucker", "Netz", "Rechnungen", "Zugang", "Sonstiges")
    ] + [None]
    people = (customers, agents, categories)
    with _dates_as_given():
        for first in range(0, total, BATCH):
            tickets = Ticket.objects.bulk_create(
                [
                    _ticket(i, rng, now, people)
                    for i in range(first, min(first + BATCH, total))
                ]
            )
            SatisfactionRating.objects.bulk_create(
                [
                    SatisfactionRating(
                        ticket=t,
                        rating=Rating.GOOD if rng.random() < 0.8 else Rating.BAD,
                        created_at=min(t.resolved_at + timedelta(hours=2), now),
                    )
                    for t in tickets
                    if t.resolved_at and rng.random() < 0.35
                ]
            )
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            # As autovacuum would after a year of tickets.
            cursor.execute("ANALYZE vivadesk_wagtail_ticket")
            cursor.execute("ANALYZE vivadesk_wagtail_satisfactionrating")


def run(stdout, *, sizes=(100_000,), runs: int = 10) -> None:
    """Per size: seed, measure the reports, print, roll back."""
    if connection.vendor != "postgresql":
        stdout.write(
            f"-- on {connection.vendor}: the {TARGET_MS} ms target is "
            "PostgreSQL's; set DATABASE_URL=postgres://… for its figures\n"
        )
    stdout.write(header())
    for total in sizes:
        try:
            with transaction.atomic():
                _seed_and_measure(stdout, total, runs)
                raise _Rollback
        except _Rollback:
            pass


def _seed_and_measure(stdout, total: int, runs: int) -> None:
    seed(total)
    admin = _user("admin", is_superuser=True, is_staff=True)
    client = Client(HTTP_HOST="localhost")
    client.force_login(admin)
    stdout.write(
        f"-- {Ticket.objects.count()} tickets, "
        f"{SatisfactionRating.objects.count()} ratings in database\n"
    )
    service = reverse("vivadesk_service_report")
    today = timezone.localdate()
    year = f"?period_from={(today - timedelta(weeks=WEEKS - 1)).isoformat()}"
    pages = [
        ("Service report, 12 weeks", service),
        ("Service report, 52 weeks", service + year),
        ("Service report, 52 weeks, XLSX", service + year + "&export=xlsx"),
        ("Backlog", reverse("vivadesk_backlog_report")),
        ("Backlog, XLSX", reverse("vivadesk_backlog_report") + "?export=xlsx"),
    ]
    for label, path in pages:
        figures = measure(client, path, runs)
        stdout.write(
            row(label, figures, f"≤ {TARGET_MS} ms", within(figures, ms=TARGET_MS))
        )
