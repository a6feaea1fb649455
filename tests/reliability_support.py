"""What the reliability sweep's modules share (``test_reliability_*.py``):
their marks, fixtures and small helpers."""

from __future__ import annotations

import contextlib
import socket

import pytest

from tests import smtp_server as smtp_fixtures
from tests.emails import fresh_content_types
from vivadesk_wagtail.models import (
    CustomerProfile,
    OutboundEmail,
    Ticket,
    TicketMessage,
)

__all__ = [
    "CUSTOMER",
    "fresh_content_types",
    "no_stale_content_types",
    "nothing_stored",
    "notification_id",
    "pytestmark",
    "silent_server",
    "smtp_down",
    "stored_files",
    "vivadesk",
]

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("fresh_content_types"),
]


@pytest.fixture(autouse=True)
def no_stale_content_types():
    """The flush after each test gives content types new ids; forget the old
    ones, so the modules that run next do not use them."""
    yield
    from django.contrib.contenttypes.models import ContentType

    ContentType.objects.clear_cache()


smtp_down = smtp_fixtures.smtp_down

CUSTOMER = "kunde@example.com"


def vivadesk(settings, **values):
    settings.VIVADESK = {**settings.VIVADESK, **values}


def stored_files(tmp_path) -> list:
    root = tmp_path / "private"
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def nothing_stored() -> bool:
    return (
        Ticket.objects.count() == 0
        and TicketMessage.objects.count() == 0
        and OutboundEmail.objects.count() == 0
        and CustomerProfile.objects.count() == 0
    )


def notification_id(ticket) -> str:
    return OutboundEmail.objects.filter(ticket=ticket).latest("pk").message_id


@contextlib.contextmanager
def silent_server():
    """A TCP port that accepts connections and never says a word."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    try:
        yield listener.getsockname()[1]
    finally:
        listener.close()
