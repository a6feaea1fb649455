"""Query budget of the inbound pipeline (``ingest`` = record + process).

The bounds are what the pipeline needs today (see ``vivadesk_bench --only
ingest --profile`` for the statements); a change that adds queries per mail
fails here. Counted inside the test transaction, so the work queued on
commit (task queue, the explicit re-index of a new ticket) is not included;
SAVEPOINT/RELEASE statements are.
"""

from __future__ import annotations

import pytest
from django.db import connection

from tests import emails, factories
from vivadesk_wagtail.mail.inbound import ingest
from vivadesk_wagtail.models import OutboundEmail

pytestmark = pytest.mark.django_db

#: PostgreSQL runs one statement more per mail than SQLite (measured).
EXTRA = 1 if connection.vendor == "postgresql" else 0
#: Queries of one reply by a ticket's customer to our notification.
REPLY_QUERIES = 51 + EXTRA
#: Queries of one new ticket from a confirmed customer.
NEW_TICKET_QUERIES = 61 + EXTRA
#: ... with a 100 KB attachment.
ATTACHMENT_QUERIES = 61 + EXTRA


@pytest.fixture
def ticket():
    ticket = factories.ticket()
    # Warm the caches a long-running worker has (content types, settings).
    ingest(emails.build(subject="Aufwärmen", body="Erste Frage."))
    return ticket


def test_reply_stays_within_its_query_budget(ticket, django_assert_max_num_queries):
    notice = OutboundEmail.objects.filter(ticket=ticket).latest("pk").message_id
    raw = emails.build(
        subject=f"AW: [{ticket.reference}] {ticket.subject}",
        in_reply_to=notice,
        references=notice,
        body="Danke, jetzt geht es wieder.\n",
    )
    with django_assert_max_num_queries(REPLY_QUERIES):
        result = ingest(raw)
    assert result.outcome == "reply", result


def test_new_ticket_stays_within_its_query_budget(
    ticket, django_assert_max_num_queries
):
    raw = emails.build(subject="Neue Frage", body="Der Scanner scannt nicht.\n")
    with django_assert_max_num_queries(NEW_TICKET_QUERIES):
        result = ingest(raw)
    assert result.outcome == "new_ticket", result


def test_new_ticket_with_attachment_stays_within_its_query_budget(
    ticket, django_assert_max_num_queries
):
    raw = emails.build(
        subject="Neue Frage mit Anhang",
        body="Der Scan ist angehängt.\n",
        attachments=[("scan.pdf", bytes(range(256)) * 400, "application/pdf")],
    )
    with django_assert_max_num_queries(ATTACHMENT_QUERIES):
        result = ingest(raw)
    assert result.outcome == "new_ticket", result
