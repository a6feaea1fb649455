"""Small helpers the reliability sweep's modules (``test_reliability_*.py``)
share. Their fixtures (``smtp_down``, ``fresh_content_types``) are registered
suite-wide in ``tests/conftest.py``."""

from __future__ import annotations

import contextlib
import socket

from vivadesk_wagtail.models import (
    CustomerProfile,
    OutboundEmail,
    Ticket,
    TicketMessage,
)

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
