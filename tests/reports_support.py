"""Seed data and helpers of the service-report tests: ticket rows with the
report's fields set (as the service targets and status changes leave them),
ratings, and reading the report tables out of a page. Also the fixtures
the report test modules share, ``customer``, ``superuser`` and
``weeks_data``: a module that imports ``customer_fixture`` and so on has
them."""

from __future__ import annotations

import itertools
import re
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone

from tests import factories
from vivadesk_wagtail.models import (
    Category,
    Rating,
    SatisfactionRating,
    Ticket,
    TicketStatus,
)

BERLIN = ZoneInfo("Europe/Berlin")
SERVICE = "vivadesk_service_report"
SERVICE_RESULTS = "vivadesk_service_report_results"
BACKLOG = "vivadesk_backlog_report"
BACKLOG_RESULTS = "vivadesk_backlog_report_results"
#: Week 45 of 2026 runs from Monday 2 to Sunday 8 November.
W45 = date(2026, 11, 2)
W46 = W45 + timedelta(weeks=1)
W47 = W46 + timedelta(weeks=1)
#: The period the tests ask for: weeks 44 to 47 of 2026.
PERIOD = {"period_from": "2026-10-28", "period_to": "2026-11-20"}

_numbers = itertools.count(1)


def berlin(day: date, hour: int = 10, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=BERLIN)


def make_ticket(customer, created: datetime, **fields) -> Ticket:
    """A ticket row with the report's fields set as the service targets and
    the status changes would have left them."""
    number = next(_numbers)
    ticket = Ticket.objects.create(
        number=900_000 + number,
        reference=f"REP-{number}",
        subject=f"Report ticket {number}",
        customer=customer,
        status=fields.pop("status", TicketStatus.NEW),
    )
    Ticket.objects.filter(pk=ticket.pk).update(created_at=created, **fields)
    ticket.refresh_from_db()
    return ticket


def rate(ticket: Ticket, rating: str, when: datetime) -> None:
    row = SatisfactionRating.objects.create(ticket=ticket, rating=rating)
    SatisfactionRating.objects.filter(pk=row.pk).update(created_at=when)


def url(name: str, **params) -> str:
    from urllib.parse import urlencode

    return reverse(name) + (f"?{urlencode(params)}" if params else "")


def english_superuser(username: str = "root"):
    """A superuser whose admin speaks English (it follows the profile)."""
    from wagtail.users.models import UserProfile

    user = get_user_model().objects.create_superuser(
        username, f"{username}@viva.de", "root-pass-123"
    )
    profile = UserProfile.get_for_user(user)
    profile.preferred_language = "en"
    profile.save()
    return user


def seed_weeks(customer) -> list[Ticket]:
    """Week 45: three opened (first responses 60, 120, 600 minutes, one
    breached), one resolved (240 minutes), ratings 2 good / 1 bad.
    Week 46: one opened, two resolved (one breached), one bad rating.
    Week 47: nothing. Outside the period: one ticket in week 43."""
    a = make_ticket(customer, berlin(W45), first_response_minutes=60)
    b = make_ticket(customer, berlin(W45, 11), first_response_minutes=120)
    c = make_ticket(
        customer,
        berlin(W45 + timedelta(days=4)),
        first_response_minutes=600,
        first_response_breached=True,
        status=TicketStatus.DONE,
        resolved_at=berlin(W45 + timedelta(days=5)),
        resolution_minutes=240,
    )
    d = make_ticket(
        customer,
        berlin(W45 - timedelta(days=3)),  # week 44
        first_response_minutes=30,
        status=TicketStatus.CLOSED,
        resolved_at=berlin(W46 + timedelta(days=1)),
        resolution_minutes=900,
        resolution_breached=True,
    )
    e = make_ticket(
        customer,
        berlin(W46 + timedelta(days=2)),
        status=TicketStatus.DONE,
        resolved_at=berlin(W46 + timedelta(days=3)),
        resolution_minutes=300,
    )
    make_ticket(customer, berlin(W45 - timedelta(weeks=2)), first_response_minutes=9)
    rate(a, Rating.GOOD, berlin(W45, 15))
    rate(b, Rating.GOOD, berlin(W45, 16))
    rate(c, Rating.BAD, berlin(W45 + timedelta(days=6), 20))
    rate(d, Rating.BAD, berlin(W46 + timedelta(days=2)))
    return [a, b, c, d, e]


def seed_backlog(customer, agent, other_agent) -> None:
    past, future = timezone.now() - timedelta(hours=1), timezone.now() + timedelta(1)
    printers = Category.objects.create(name="Drucker")
    billing = Category.objects.create(name="Rechnungen")
    make_ticket(customer, timezone.now(), category=printers, next_due=past)
    make_ticket(customer, timezone.now(), category=printers, assignee=agent)
    make_ticket(
        customer,
        timezone.now(),
        status=TicketStatus.OPEN,
        category=billing,
        assignee=agent,
        next_due=past,
    )
    make_ticket(
        customer,
        timezone.now(),
        status=TicketStatus.WAITING,
        assignee=other_agent,
        next_due=future,
    )
    # Not in the backlog: done and closed, whatever their due times.
    make_ticket(customer, timezone.now(), status=TicketStatus.DONE, next_due=past)
    make_ticket(customer, timezone.now(), status=TicketStatus.CLOSED, category=billing)


@pytest.fixture(name="customer")
def customer_fixture(db):
    return factories.customer("report.kundin@example.org", name="Rita Report")


@pytest.fixture(name="superuser")
def superuser_fixture(db):
    return english_superuser()


@pytest.fixture(name="weeks_data")
def weeks_data_fixture(customer):
    return seed_weeks(customer)


def by_week(rows) -> dict:
    return {row.start: row for row in rows}


def table_rows(html: str) -> list[list[str]]:
    """The report table's rows: row heading and cells, tags stripped."""
    rows = []
    for table in re.findall(r"<table[^>]*vd-report-table.*?</table>", html, re.S):
        body = table[table.index("<tbody") :]
        for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S):
            cells = re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)
            rows.append([re.sub(r"<[^>]+>|\s+", " ", c).strip() for c in cells])
    return rows
