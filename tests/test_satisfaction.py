"""Customer satisfaction, the page behind the rating links of the "Done"
mail (GET shows, POST stores) and the service's rules: one rating per
ticket, done or closed tickets only, changeable for a week, a cleaned and
limited comment, an audit-log entry without it. Attacks on the page: CSRF,
floods, a choice smuggled in by the URL."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone, translation
from wagtail.models import ModelLogEntry

from tests import factories
from tests.portal_support import alice
from tests.satisfaction_support import (
    backdate,
    checked,
    done_ticket,
    rate_path,
    rating_logs,
    ratings,
)
from vivadesk_wagtail.models import SatisfactionRating, Ticket, TicketStatus
from vivadesk_wagtail.services import satisfaction, tickets

pytestmark = pytest.mark.django_db


# -- the page: GET shows, POST stores -------------------------------------------


@pytest.mark.parametrize("choice", ["good", "bad"])
def test_a_get_shows_the_choice_preselected_and_stores_nothing(client, choice):
    ticket = done_ticket(body="GEHEIMER-TEXT der Anfrage")
    logs_before = ModelLogEntry.objects.count()
    response = client.get(rate_path(ticket, choice))
    assert response.status_code == 200
    assert checked(response) == [choice]
    html = response.content.decode()
    assert ticket.reference in html and ticket.subject in html
    # Only reference and subject: no text, address or name of the customer.
    assert "GEHEIMER-TEXT" not in html
    assert "alice@example.com" not in html and "Alice Alpha" not in html
    assert html.count('type="submit"') == 1
    assert ratings() == 0
    assert ModelLogEntry.objects.count() == logs_before
    # A scanner opening the link many times changes nothing either.
    for _ in range(3):
        client.get(rate_path(ticket, choice))
        client.head(rate_path(ticket, choice))
    assert ratings() == 0


def test_an_unknown_choice_preselects_nothing(client):
    ticket = done_ticket()
    response = client.get(rate_path(ticket, "excellent"))
    assert response.status_code == 200
    assert checked(response) == []
    assert ratings() == 0


def test_a_post_stores_the_rating_and_thanks(client):
    ticket = done_ticket()
    response = client.post(
        rate_path(ticket, "good"), {"rating": "good", "comment": "Schnell & nett"}
    )
    assert response.status_code == 200
    assert response.templates[0].name.endswith("satisfaction_thanks.html")
    stored = SatisfactionRating.objects.get(ticket=ticket)
    assert (stored.rating, stored.comment) == ("good", "Schnell & nett")


def test_the_choice_in_the_url_does_not_decide_the_post(client):
    ticket = done_ticket()
    client.post(rate_path(ticket, "good"), {"rating": "bad"})
    assert SatisfactionRating.objects.get(ticket=ticket).rating == "bad"


def test_a_post_without_a_choice_stores_nothing(client):
    ticket = done_ticket()
    response = client.post(rate_path(ticket, "good"), {"comment": "nur Text"})
    assert response.status_code == 400
    assert ratings() == 0


def test_the_page_follows_the_language_of_the_link(client):
    ticket = done_ticket(language="en")
    response = client.get(rate_path(ticket, "good", language="en"))
    assert 'lang="en"' in response.content.decode()
    assert "Rate our help" in response.content.decode()
    german = client.get(rate_path(ticket, "good", language="de"))
    assert 'lang="de"' in german.content.decode()


def test_the_page_is_not_cached_and_sends_no_referrer_elsewhere(client):
    ticket = done_ticket()
    for response in (
        client.get(rate_path(ticket, "good")),
        client.post(rate_path(ticket), {"rating": "good"}),
        client.get(rate_path(ticket, token="broken")),
    ):
        assert response["Referrer-Policy"] == "same-origin"
        assert "no-store" in response["Cache-Control"]


def test_a_post_needs_the_csrf_token():
    ticket = done_ticket()
    guarded = Client(enforce_csrf_checks=True)
    response = guarded.post(rate_path(ticket), {"rating": "good"})
    assert response.status_code == 403
    assert ratings() == 0


def test_posts_are_rate_limited(client):
    ticket = done_ticket()
    codes = [
        client.post(rate_path(ticket), {"rating": "good"}).status_code
        for _ in range(12)
    ]
    assert codes[:10] == [200] * 10
    assert codes[10:] == [429, 429]


# -- changing -------------------------------------------------------------------


def test_a_rating_can_be_changed_within_the_period(client):
    ticket = done_ticket()
    client.post(rate_path(ticket), {"rating": "good", "comment": "gut"})
    backdate(ticket, 6)
    page = client.get(rate_path(ticket))
    assert checked(page) == ["good"]  # the stored rating, without a choice
    assert "gut" in page.content.decode()
    response = client.post(
        rate_path(ticket), {"rating": "bad", "comment": "doch nicht"}
    )
    assert response.status_code == 200
    stored = SatisfactionRating.objects.get(ticket=ticket)
    assert (stored.rating, stored.comment) == ("bad", "doch nicht")
    assert ratings() == 1


def test_after_the_period_the_rating_is_read_only(client):
    ticket = done_ticket()
    client.post(rate_path(ticket), {"rating": "good", "comment": "gut"})
    backdate(ticket, 8)
    page = client.get(rate_path(ticket, "bad"))
    html = page.content.decode()
    assert page.status_code == 200
    assert "<form" not in html.split("<main", 1)[1].split("</main>")[0]
    assert page.context["changeable"] is False and "gut" in html
    response = client.post(rate_path(ticket), {"rating": "bad", "comment": "später"})
    assert response.status_code == 409
    stored = SatisfactionRating.objects.get(ticket=ticket)
    assert (stored.rating, stored.comment) == ("good", "gut")


def test_the_period_follows_the_setting(settings):
    settings.VIVADESK = {**settings.VIVADESK, "RATING_CHANGE_PERIOD": timedelta(days=1)}
    ticket = done_ticket()
    first = satisfaction.rate(ticket, "good").rating
    later = first.created_at + timedelta(days=1, seconds=1)
    with pytest.raises(satisfaction.RatingRefused) as refused:
        satisfaction.rate(ticket, "bad", now=later)
    assert refused.value.reason == satisfaction.PERIOD_OVER
    assert satisfaction.rate(ticket, "bad", now=later - timedelta(seconds=2))


# -- the service's rules ----------------------------------------------------------


@pytest.mark.parametrize(
    "status", [TicketStatus.NEW, TicketStatus.OPEN, TicketStatus.WAITING]
)
def test_only_done_or_closed_tickets_can_be_rated(status, client):
    ticket = factories.ticket(alice())
    if status != TicketStatus.NEW:
        tickets.change_status(ticket, status)
    with pytest.raises(satisfaction.RatingRefused) as refused:
        satisfaction.rate(ticket, "good")
    assert refused.value.reason == satisfaction.NOT_FINISHED
    response = client.post(rate_path(ticket), {"rating": "good"})
    assert response.status_code == 409
    assert "<form" not in client.get(rate_path(ticket, "good")).content.decode()
    assert ratings() == 0


def test_a_closed_ticket_can_be_rated():
    ticket = done_ticket()
    tickets.close_done_tickets(now=timezone.now() + timedelta(days=60))
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.CLOSED
    assert satisfaction.rate(ticket, "bad").created


def test_a_merged_ticket_is_not_rated(client):
    ticket = done_ticket()
    target = done_ticket(subject="Ziel")
    # Test setup: the pointer ``services.merge`` leaves on a merged ticket.
    Ticket.objects.filter(pk=ticket.pk).update(
        status=TicketStatus.CLOSED, merged_into=target
    )
    ticket.refresh_from_db()
    with pytest.raises(satisfaction.RatingRefused) as refused:
        satisfaction.rate(ticket, "good")
    assert refused.value.reason == satisfaction.MERGED
    assert client.post(rate_path(ticket), {"rating": "good"}).status_code == 409
    assert ratings() == 0


def test_one_rating_per_ticket():
    ticket = done_ticket()
    assert satisfaction.rate(ticket, "good").created
    assert not satisfaction.rate(ticket, "bad").created
    assert not satisfaction.rate(ticket, "bad").created
    assert ratings() == 1
    assert SatisfactionRating.objects.get().rating == "bad"


def test_an_unknown_rating_is_refused():
    ticket = done_ticket()
    with pytest.raises(satisfaction.RatingRefused):
        satisfaction.rate(ticket, "excellent")


def test_the_comment_is_cleaned_and_limited(client):
    ticket = done_ticket()
    stored = satisfaction.rate(
        ticket, "good", "  Zeile 1\r\nZeile\t2\x00\x07\u202e  \n"
    ).rating
    assert stored.comment == "Zeile 1\nZeile 2"
    with pytest.raises(satisfaction.RatingRefused) as refused:
        satisfaction.rate(ticket, "good", "x" * (satisfaction.MAX_COMMENT + 1))
    assert refused.value.reason == satisfaction.TOO_LONG
    response = client.post(rate_path(ticket), {"rating": "bad", "comment": "y" * 2001})
    assert response.status_code == 400
    assert SatisfactionRating.objects.get().comment == "Zeile 1\nZeile 2"


def test_each_rating_and_change_is_logged_without_the_comment():
    ticket = done_ticket()
    satisfaction.rate(ticket, "good", "KOMMENTAR-GEHEIM")
    satisfaction.rate(ticket, "good", "KOMMENTAR-GEHEIM")  # nothing new
    satisfaction.rate(ticket, "bad", "KOMMENTAR-GEHEIM 2")
    entries = list(rating_logs(ticket))
    assert [entry.data for entry in entries] == [
        {"old": None, "new": "good"},
        {"old": "good", "new": "bad"},
    ]
    assert all("KOMMENTAR" not in str(e.data) + e.label for e in entries)
    with translation.override("en"):
        messages = [str(e.message) for e in entries]
    assert messages == [
        "The customer rated the help “Good”",
        "The customer changed the rating from “Good” to “Bad”",
    ]
