"""Concurrent writers on PostgreSQL: ticket numbers and customer accounts.

Each thread has its own database connection (Django connections are per
thread), so these are real concurrent transactions against the server. On any
other database the tests skip on a laptop and fail under ``CI=true`` (see
``tests/conftest.py``); the PostgreSQL pass of ``.ci/run`` runs them.
"""

from __future__ import annotations

import pytest
from django.db import connection

from tests import factories
from tests.concurrency import run_together
from tests.conftest import require_postgresql
from vivadesk_wagtail.models import CustomerProfile, Ticket
from vivadesk_wagtail.services import customers

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

WORKERS = 50


@pytest.fixture(autouse=True)
def _postgresql_only():
    require_postgresql()
    # 50 threads need 50 connections besides the test's own
    with connection.cursor() as cursor:
        cursor.execute("SHOW max_connections")
        assert int(cursor.fetchone()[0]) > WORKERS + 5


def test_fifty_concurrent_tickets_get_fifty_distinct_references():
    erika = factories.customer("erika@example.com")

    def open_one(i):
        ticket = factories.ticket(erika, subject=f"Anfrage {i}")
        return ticket.reference

    references, errors = run_together(WORKERS, open_one)
    assert errors == []
    assert len(references) == WORKERS
    assert len(set(references)) == WORKERS
    first = 1000
    assert set(references) == {f"VIVA-{n}" for n in range(first, first + WORKERS)}
    assert Ticket.objects.count() == WORKERS
    assert len(set(Ticket.objects.values_list("number", flat=True))) == WORKERS


def test_parallel_get_or_create_customer_for_one_new_address_makes_one_account():
    def create(i):
        # the same address, typed differently
        address = "Neu.Kunde@Example.COM" if i % 2 else "neu.kunde@example.com"
        user, created = customers.get_or_create_customer(address, name="Neu Kunde")
        return user.pk, created

    results, errors = run_together(8, create)
    assert errors == []
    assert len({pk for pk, _created in results}) == 1
    assert sum(created for _pk, created in results) == 1
    assert (
        CustomerProfile.objects.filter(email__iexact="neu.kunde@example.com").count()
        == 1
    )
