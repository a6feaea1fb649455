"""Helpers of the service-target tests: a clock the services read, targets
per category, and the ticket actions that move the clock; and the autouse
fixture ``fresh_targets`` (import it into a test module to use it)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from tests import factories
from vivadesk_wagtail.models import MessageKind, ServiceTarget, Ticket
from vivadesk_wagtail.services import service_targets, tickets

BERLIN = ZoneInfo("Europe/Berlin")


@pytest.fixture(autouse=True)
def fresh_targets():
    """Targets read by another test (rolled back, no signal) are not kept."""
    service_targets.forget()
    yield
    service_targets.forget()


def at(*args) -> datetime:
    """A wall-clock time in Berlin."""
    return datetime(*args, tzinfo=BERLIN)


class Clock:
    """``django.utils.timezone.now`` as the tests set it."""

    def __init__(self, start: datetime):
        self.now = start
        self._patch = mock.patch.object(timezone, "now", lambda: self.now)

    def set(self, *args) -> datetime:
        self.now = at(*args)
        return self.now

    def __enter__(self):
        self._patch.start()
        return self

    def __exit__(self, *exc):
        self._patch.stop()


def target(category=None, first=None, resolution=None) -> ServiceTarget:
    """A target row; hours as numbers (``None``: no target)."""
    row = ServiceTarget.objects.create(
        category=category,
        first_response_hours=None if first is None else Decimal(str(first)),
        resolution_hours=None if resolution is None else Decimal(str(resolution)),
    )
    service_targets.forget()
    return row


def reload(ticket) -> Ticket:
    return Ticket.objects.get(pk=ticket.pk)


def open_ticket(category=None, customer=None) -> Ticket:
    customer = customer or factories.customer()
    ticket = tickets.open_ticket(
        customer=customer,
        subject="Drucker druckt nicht",
        first=tickets.NewMessage(
            body="Seit gestern nicht mehr.",
            kind=MessageKind.CUSTOMER,
            author=customer,
        ),
        category=category,
    )
    return reload(ticket)


def reply(ticket, agent, **kwargs):
    tickets.add_message(
        ticket,
        tickets.NewMessage(body="Antwort", kind=MessageKind.STAFF, author=agent),
        **kwargs,
    )
    return reload(ticket)


def customer_says(ticket, body="Noch eine Frage."):
    tickets.add_message(
        ticket,
        tickets.NewMessage(
            body=body, kind=MessageKind.CUSTOMER, author=ticket.customer
        ),
    )
    return reload(ticket)


def set_status(ticket, status, agent):
    tickets.change_status(ticket, status, by=agent)
    return reload(ticket)
