"""Query budget of the inbound pipeline (``ingest`` = record + process).

The bounds are what the pipeline needs today (see ``vivadesk_bench --only
ingest --profile`` for the statements); a change that adds queries per mail
fails here. Counted inside the test transaction, so the work queued on
commit (the task-queue row) is not included, and the pipeline's two
transactions (record, process) show as two SAVEPOINT/RELEASE pairs, which
production does not run.
"""

from __future__ import annotations

import pytest
from django.db import connection

from tests import emails, factories
from vivadesk_wagtail.mail.inbound import ingest
from vivadesk_wagtail.models import OutboundEmail

pytestmark = pytest.mark.django_db

#: The two savepoint pairs of the test transaction.
SAVEPOINTS = 4
#: On a backend with row locks (PostgreSQL) the flood count read with the
#: row lock of the ticket or profile may be from before the lock wait, so
#: below the cap it is counted again under the lock (``services.inbound.
#: _flooded``); SQLite's writers are serialised and need no second count.
RECOUNT = 1 if connection.features.has_select_for_update_of else 0
#: One reply by a ticket's customer to our notification: record, match
#: (ticket, customer, profile, flood count), message, ticket, staff notice,
#: result.
REPLY_QUERIES = 6 + RECOUNT + SAVEPOINTS
#: One new ticket from a confirmed customer: record, profile (locked, and
#: flood count), number, ticket, message, notices, result.
NEW_TICKET_QUERIES = 7 + RECOUNT + SAVEPOINTS
#: ... with a 100 KB attachment (its row, and the customer's storage in use
#: for the quota, read only when a mail has files).
ATTACHMENT_QUERIES = 9 + RECOUNT + SAVEPOINTS


PDF = b"%PDF-1.4\n" + bytes(range(256)) * 400 + b"\n%%EOF\n"


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
        attachments=[("scan.pdf", PDF, "application/pdf")],
    )
    with django_assert_max_num_queries(ATTACHMENT_QUERIES):
        result = ingest(raw)
    assert result.outcome == "new_ticket", result
    assert result.attachments == ["scan.pdf"]
