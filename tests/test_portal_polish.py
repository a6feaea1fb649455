"""The portal, polished: "My problem is solved" asked twice, a failed comment
under the ticket's own address, hits and new replies in "My requests",
dates in the reader's form and no empty form rows."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation

from tests import factories
from tests.portal_support import alice, form_key, note, staff_reply, url
from vivadesk_wagtail.dates import local_datetime
from vivadesk_wagtail.models import Ticket, TicketStatus
from vivadesk_wagtail.services import tickets

pytestmark = pytest.mark.django_db


@pytest.fixture
def customer_client(client):
    user = alice()
    client.force_login(user)
    return user, client


# --- "My problem is solved" ----------------------------------------------


@pytest.mark.parametrize("lang", ["de", "en"])
def test_solved_asks_first_and_the_question_changes_nothing(customer_client, lang):
    user, client = customer_client
    ticket = factories.ticket(user)
    page = client.get(url("ticket", ticket.reference, lang=lang)).content.decode()
    done = url("mark_done", ticket.reference, lang=lang)
    # A plain link (no form, no script) to the question.
    assert f'href="{done}"' in page
    assert f'action="{done}"' not in page
    question = client.get(done)
    assert question.status_code == 200
    html = question.content.decode()
    assert f'<form method="post" action="{done}">' in html
    assert f'href="{url("ticket", ticket.reference, lang=lang)}"' in html
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.NEW
    answer = client.post(done)
    assert answer["Location"] == url("ticket", ticket.reference, lang=lang)
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.DONE


def test_solved_question_in_english(customer_client):
    user, client = customer_client
    ticket = factories.ticket(user)
    html = client.get(url("mark_done", ticket.reference, lang="en")).content.decode()
    assert "Is your problem solved?" in html
    assert "Yes, my problem is solved" in html


def test_solved_question_in_german(customer_client):
    user, client = customer_client
    ticket = factories.ticket(user)
    html = client.get(url("mark_done", ticket.reference)).content.decode()
    assert "Ist Ihr Problem gelöst?" in html
    assert "Ja, mein Problem ist gelöst" in html


def test_solved_question_of_a_finished_or_foreign_ticket(customer_client):
    user, client = customer_client
    ticket = factories.ticket(user)
    tickets.change_status(ticket, TicketStatus.DONE)
    response = client.get(url("mark_done", ticket.reference))
    assert response["Location"] == url("ticket", ticket.reference)
    foreign = factories.ticket(factories.customer("bob@example.com"))
    assert client.get(url("mark_done", foreign.reference)).status_code == 404


# --- a failed comment stays at the ticket's address ----------------------


@pytest.mark.parametrize("lang", ["de", "en"])
def test_comment_form_posts_to_the_ticket_page(customer_client, lang):
    user, client = customer_client
    ticket = factories.ticket(user)
    ticket_path = url("ticket", ticket.reference, lang=lang)
    page = client.get(ticket_path)
    assert f'action="{ticket_path}" enctype="multipart/form-data"' in (
        page.content.decode()
    )
    failed = client.post(ticket_path, {"body": "", "key": form_key(page)})
    assert failed.status_code == 200
    assert failed.wsgi_request.path == ticket_path
    assert "body" in failed.context["form"].errors
    sent = client.post(ticket_path, {"body": "Danke!", "key": form_key(page)})
    assert sent["Location"] == ticket_path + "#latest"
    assert ticket.messages.filter(body="Danke!").count() == 1


@pytest.mark.parametrize("lang", ["de", "en"])
def test_get_on_the_comment_address_leads_to_the_ticket(customer_client, lang):
    user, client = customer_client
    ticket = factories.ticket(user)
    response = client.get(url("comment", ticket.reference, lang=lang))
    assert response.status_code == 302
    assert response["Location"] == url("ticket", ticket.reference, lang=lang)
    foreign = factories.ticket(factories.customer("bob@example.com"))
    assert client.get(url("comment", foreign.reference)).status_code == 404


def test_the_old_comment_address_still_takes_a_post(customer_client):
    user, client = customer_client
    ticket = factories.ticket(user)
    page = client.get(url("ticket", ticket.reference))
    client.post(
        url("comment", ticket.reference), {"body": "Alt", "key": form_key(page)}
    )
    assert ticket.messages.filter(body="Alt").count() == 1


# --- "My requests": hits and new replies ---------------------------------


@pytest.mark.parametrize(
    ("lang", "text"), [("en", "2 requests found"), ("en", "1 request found")]
)
def test_search_tells_the_number_of_hits(customer_client, lang, text):
    user, client = customer_client
    factories.ticket(user, subject="Scanner A")
    factories.ticket(user, subject="Scanner B" if text.startswith("2") else "Fax")
    factories.ticket(user, subject="Monitor")
    html = client.get(
        url("my_requests", lang=lang), {"q": "Scanner", "state": "all"}
    ).content.decode()
    assert text in html
    plain = client.get(url("my_requests", lang=lang)).content.decode()
    assert "found" not in plain


def test_search_hits_in_german(customer_client):
    user, client = customer_client
    for subject in ("Scanner A", "Scanner B", "Scanner C", "Monitor"):
        factories.ticket(user, subject=subject)
    html = client.get(url("my_requests"), {"q": "Scanner"}).content.decode()
    assert "3 Anfragen gefunden" in html


def _marked(client, lang="en") -> dict:
    response = client.get(url("my_requests", lang=lang), {"state": "all"})
    return {t.reference: t.new_reply for t in response.context["tickets"]}


def test_new_reply_marker_until_the_customer_opens_the_ticket(customer_client):
    user, client = customer_client
    answered = factories.ticket(user, subject="Beantwortet")
    quiet = factories.ticket(user, subject="Ohne Antwort")
    noted = factories.ticket(user, subject="Nur Notiz")
    staff_reply(answered)
    note(noted)
    assert _marked(client) == {
        answered.reference: True,
        quiet.reference: False,
        noted.reference: False,
    }
    html = client.get(url("my_requests", lang="en")).content.decode()
    assert html.count("New reply") == 1
    client.get(url("ticket", answered.reference))
    assert _marked(client)[answered.reference] is False
    staff_reply(answered, body="Noch eine Antwort")
    assert _marked(client)[answered.reference] is True


def test_new_reply_marker_in_german(customer_client):
    user, client = customer_client
    staff_reply(factories.ticket(user))
    assert "Neue Antwort" in client.get(url("my_requests")).content.decode()


def test_opening_the_ticket_notes_it_without_touching_the_ticket(customer_client):
    user, client = customer_client
    ticket = factories.ticket(user)
    before = Ticket.objects.get(pk=ticket.pk)
    assert before.customer_seen_at is None
    client.get(url("ticket", ticket.reference))
    after = Ticket.objects.get(pk=ticket.pk)
    assert after.customer_seen_at is not None
    assert after.updated_at == before.updated_at
    assert after.messages.count() == before.messages.count()
    # Someone else's look (staff, another customer) notes nothing.
    other = factories.customer("bob@example.com")
    client.force_login(other)
    assert client.get(url("ticket", ticket.reference)).status_code == 404
    assert Ticket.objects.get(pk=ticket.pk).customer_seen_at == after.customer_seen_at


def test_mark_seen_is_one_update():
    ticket = factories.ticket(alice())
    with CaptureQueriesContext(connection) as captured:
        tickets.mark_seen_by_customer(ticket)
    assert len(captured.captured_queries) == 1
    assert captured.captured_queries[0]["sql"].startswith("UPDATE")


def test_my_requests_query_count_stays_constant_with_replies(client):
    user = alice()
    for number in range(30):
        ticket = factories.ticket(user, subject=f"Anfrage {number}")
        if number % 2:
            staff_reply(ticket)
    client.force_login(user)
    client.get(url("my_requests"))
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url("my_requests"))
    assert response.status_code == 200
    assert len(captured.captured_queries) <= 10


# --- dates, empty form rows ----------------------------------------------

MORNING = timezone.make_aware(datetime.datetime(2026, 3, 12, 8, 38))
EVENING = timezone.make_aware(datetime.datetime(2026, 3, 12, 20, 5))


@pytest.mark.parametrize(
    ("lang", "when", "shown"),
    [
        ("en", MORNING, "12/03/2026 08:38"),
        ("en", EVENING, "12/03/2026 20:05"),
        ("de", EVENING, "12.03.2026 20:05"),
    ],
)
def test_dates_in_the_readers_form(lang, when, shown):
    with translation.override(lang):
        assert local_datetime(when)[1] == shown


def test_english_ticket_page_has_a_24_hour_clock(customer_client):
    user, client = customer_client
    ticket = factories.ticket(user)
    Ticket.objects.filter(pk=ticket.pk).update(created_at=EVENING)
    html = client.get(url("ticket", ticket.reference, lang="en")).content.decode()
    assert "12/03/2026 20:05" in html
    assert "p.m." not in html and "a.m." not in html


@pytest.mark.parametrize("lang", ["de", "en"])
def test_empty_form_answers_are_not_shown(customer_client, lang):
    user, client = customer_client
    ticket = factories.ticket(user)
    Ticket.objects.filter(pk=ticket.pk).update(
        form_data=[
            {"name": "seriennummer", "label": "Seriennummer", "value": "S-1"},
            {"name": "kaufdatum", "label": "Kaufdatum", "value": ""},
            {"name": "notiz", "label": "Notiz", "value": "  "},
        ]
    )
    response = client.get(url("ticket", ticket.reference, lang=lang))
    rows = response.context["form_data"]
    assert [row["label"] for row in rows] == ["Seriennummer"]
    html = response.content.decode()
    assert "<dt>Seriennummer</dt><dd>S-1</dd>" in html
    assert "Kaufdatum" not in html and "Notiz" not in html


def test_only_empty_answers_leave_out_the_section(customer_client):
    user, client = customer_client
    ticket = factories.ticket(user)
    Ticket.objects.filter(pk=ticket.pk).update(
        form_data=[{"name": "kaufdatum", "label": "Kaufdatum", "value": ""}]
    )
    html = client.get(url("ticket", ticket.reference, lang="en")).content.decode()
    assert "vivadesk-data-heading" not in html
