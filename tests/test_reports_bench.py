"""The reports part of ``vivadesk_bench``: it seeds a year of tickets with
ratings, prints a figure per report beside the 500 ms target, and leaves
nothing behind (a tiny size here)."""

import io
import re
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection

from vivadesk_bench import reports
from vivadesk_wagtail.models import SatisfactionRating, Ticket

pytestmark = pytest.mark.django_db

LINE = re.compile(
    r"^(?P<label>\S.*?)\s+(?P<median>\d+\.\d\d)\s+\d+\.\d\d\s+\d+\.\d\d ms\s+"
    r"(?P<queries>\d+)\s+\d+\s+≤ 500 ms  (ok|MISSED)$",
    re.MULTILINE,
)


def test_the_command_prints_a_figure_per_report():
    out = io.StringIO()
    call_command(
        "vivadesk_bench",
        "--quick",
        "--runs",
        "2",
        "--only",
        "reports",
        "--tickets",
        "300",
        stdout=out,
    )
    text = out.getvalue()
    assert "== reports (2 timed GETs each) ==" in text
    assert re.search(r"^-- 300 tickets, \d+ ratings in database$", text, re.M)
    figures = {m["label"]: m for m in LINE.finditer(text)}
    assert set(figures) == {
        "Service report, 12 weeks",
        "Service report, 52 weeks",
        "Service report, 52 weeks, XLSX",
        "Backlog",
        "Backlog, XLSX",
    }
    assert all(0 < int(m["queries"]) < 40 for m in figures.values())
    if connection.vendor != "postgresql":
        assert "the 500 ms target is PostgreSQL's" in text
    assert not Ticket.objects.exists()
    assert not SatisfactionRating.objects.exists()


def test_the_seed_spreads_tickets_over_a_year():
    from django.db import transaction
    from django.utils import timezone

    with transaction.atomic():
        reports.seed(400)
        tickets = Ticket.objects.all()
        oldest = min(t.created_at for t in tickets)
        assert timezone.now() - oldest > timedelta(weeks=40)
        statuses = set(tickets.values_list("status", flat=True))
        assert {"new", "done", "closed"} <= statuses
        assert tickets.filter(first_response_breached=True).exists()
        assert tickets.filter(resolution_minutes__isnull=False).exists()
        assert tickets.filter(category__isnull=True).exists()
        assert tickets.filter(assignee__isnull=True).exists()
        assert SatisfactionRating.objects.filter(rating="bad").exists()
        transaction.set_rollback(True)
