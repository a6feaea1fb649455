"""The flood cap (``INBOUND_FLOOD_MAX``) under concurrent processing on
PostgreSQL: mails from one sender, recorded first and then processed by
several workers at the same moment, never get past the cap.

Each thread has its own database connection, so these are real concurrent
transactions; the count that decides the cap must see the mails of the
worker a transaction waited for at the row lock of the ticket (replies) or
of the customer's profile (new tickets).
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import close_old_connections, connections

from tests import emails, factories
from tests.conftest import require_postgresql
from vivadesk_wagtail.mail.inbound import process, record
from vivadesk_wagtail.models import InboundMail, InboundOutcome, OutboundEmail, Ticket

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("fresh_content_types"),
]

CAP = 5
MAILS = 8


@pytest.fixture(autouse=True)
def _cap(settings):
    require_postgresql()
    settings.VIVADESK = {**settings.VIVADESK, "INBOUND_FLOOD_MAX": CAP}


def process_together(rows: list[InboundMail]) -> list:
    """Process the recorded ``rows``, one thread each, all at the same moment."""
    barrier = threading.Barrier(len(rows), timeout=60)

    def work(row):
        try:
            barrier.wait()
            return process(row.pk)
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=len(rows)) as pool:
        results = [f.result(timeout=120) for f in [pool.submit(work, r) for r in rows]]
    close_old_connections()
    return results


def test_concurrent_replies_to_one_ticket_stop_at_the_cap():
    ticket = factories.ticket()
    notice = OutboundEmail.objects.filter(ticket=ticket).latest("pk").message_id
    rows = [
        record(
            emails.build(
                subject=f"AW: [{ticket.reference}] {ticket.subject}",
                in_reply_to=notice,
                references=notice,
                body=f"Nachtrag {i}: es geht immer noch nicht.\n",
            ),
            queue=False,
        )[0]
        for i in range(MAILS)
    ]

    results = process_together(rows)

    outcomes = sorted(r.outcome for r in results)
    replies = InboundMail.objects.filter(ticket=ticket, outcome=InboundOutcome.REPLY)
    capped = InboundMail.objects.filter(ticket=ticket, reason="flood_capped")
    assert replies.count() == CAP, outcomes
    assert capped.count() == MAILS - CAP, outcomes


def test_concurrent_new_tickets_from_one_sender_stop_at_the_cap():
    factories.customer()
    rows = [
        record(
            emails.build(subject=f"Frage {i}", body=f"Neue Frage Nummer {i}.\n"),
            queue=False,
        )[0]
        for i in range(MAILS)
    ]

    results = process_together(rows)

    outcomes = sorted(r.outcome for r in results)
    opened = InboundMail.objects.filter(outcome=InboundOutcome.NEW_TICKET)
    assert opened.count() == CAP, outcomes
    assert Ticket.objects.count() == CAP
    assert InboundMail.objects.filter(reason="flood").count() == MAILS - CAP
