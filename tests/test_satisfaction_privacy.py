"""A rating's comment is customer data: the data export carries the
customer's ratings, anonymising a ticket empties the comment (the good or
bad stays for statistics), deleting it removes the rating."""

from __future__ import annotations

import json
from datetime import UTC

import pytest

from tests import factories
from tests.privacy_support import build
from vivadesk_wagtail.models import SatisfactionRating, Ticket, TicketStatus
from vivadesk_wagtail.services import erasure, satisfaction, tickets

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("fresh_content_types"),
]

COMMENT = "Sehr freundlich, KOMMENTAR-KENNUNG-5150"


def rated(customer, subject="Drucker", rating="good", comment=COMMENT):
    ticket = factories.ticket(customer, subject=subject)
    tickets.change_status(ticket, TicketStatus.DONE)
    satisfaction.rate(ticket, rating, comment)
    return ticket


def test_the_export_holds_the_customers_ratings_and_no_one_elses():
    erika = factories.customer("erika@example.com")
    other = factories.customer("otto@example.com", name="Otto Other")
    mine = rated(erika)
    unrated = factories.ticket(erika, subject="Ohne Bewertung")
    rated(other, subject="Fremd", rating="bad", comment="FREMDER-KOMMENTAR")
    archive = build(erika)
    data = json.loads(archive.read("data.json"))
    by_reference = {t["reference"]: t for t in data["tickets"]}
    rating = by_reference[mine.reference]["rating"]
    stored = SatisfactionRating.objects.get(ticket=mine)
    assert rating == {
        "rating": "good",
        "label": rating["label"],
        "comment": COMMENT,
        "rated_at": stored.created_at.astimezone(UTC).isoformat(),
        "changed_at": stored.updated_at.astimezone(UTC).isoformat(),
    }
    assert rating["label"] in ("Gut", "Good")
    assert by_reference[unrated.reference]["rating"] is None
    assert b"FREMDER-KOMMENTAR" not in archive.read("data.json")


@pytest.mark.parametrize("mode", [erasure.ANONYMISE, erasure.DELETE])
def test_disposing_of_a_ticket_takes_the_comment_along(mode):
    erika = factories.customer("erika@example.com")
    other = factories.customer("otto@example.com", name="Otto Other")
    mine = rated(erika)
    theirs = rated(other, subject="Fremd", rating="bad", comment="BLEIBT")
    erasure.dispose_tickets(Ticket.objects.filter(pk=mine.pk), mode)
    if mode == erasure.DELETE:
        assert not SatisfactionRating.objects.filter(ticket_id=mine.pk).exists()
    else:
        kept = SatisfactionRating.objects.get(ticket_id=mine.pk)
        assert (kept.rating, kept.comment) == ("good", "")
    assert not SatisfactionRating.objects.filter(comment__contains="KENNUNG").exists()
    assert SatisfactionRating.objects.get(ticket=theirs).comment == "BLEIBT"
