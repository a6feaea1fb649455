"""The ticket page: thread, form data, attachments, comments, done, closed."""

from __future__ import annotations

import pytest
from django.core import mail

from tests import factories
from tests.portal_support import (
    NOTE_TEXT,
    PDF,
    PNG,
    alice,
    form_key,
    note,
    staff_reply,
    upload,
    url,
)
from vivadesk_wagtail.models import (
    Channel,
    MessageKind,
    OutboundEmail,
    TicketAttachment,
    TicketMessage,
    TicketStatus,
)
from vivadesk_wagtail.services import tickets


def _ticket_with_history(user):
    ticket = tickets.open_ticket(
        customer=user,
        subject="Drucker druckt nicht",
        first=tickets.NewMessage(
            body="Erste Nachricht <b>fett</b>",
            kind=MessageKind.CUSTOMER,
            channel=Channel.WEB,
            author=user,
            attachments=[_file("fehler.pdf", PDF)],
        ),
        language="de",
        form_data=[
            {"label": "Gerätenummer", "value": "SN-4711"},
            {"label": "Standort", "value": "<img src=x onerror=alert(1)>"},
        ],
    )
    staff_reply(ticket, body="Zweite Nachricht vom Support", files=[("log.png", PNG)])
    note(ticket, files=[("intern.png", PNG)])
    tickets.change_status(ticket, TicketStatus.WAITING)
    return ticket


def _file(name, data):
    from vivadesk_wagtail.services import uploads

    return uploads.from_bytes(name, data)


@pytest.mark.django_db
def test_thread_in_order_without_internal_notes(client):
    user = alice()
    ticket = _ticket_with_history(user)
    client.force_login(user)
    response = client.get(url("ticket", ticket.reference, lang="en"))
    assert response.status_code == 200
    html = response.content.decode()
    thread = html[html.index('id="vivadesk-thread-heading"') :]
    first = thread.index("Erste Nachricht")
    second = thread.index("Zweite Nachricht vom Support")
    event = thread.index("We are waiting for your reply.")
    assert first < second < event
    assert NOTE_TEXT not in html and "INTERNAL-NOTE" not in html
    assert "intern.png" not in html
    assert "Erste Nachricht &lt;b&gt;fett&lt;/b&gt;" in html
    # form data, escaped
    assert "Gerätenummer" in html and "SN-4711" in html
    assert "<img src=x" not in html and "&lt;img src=x" in html
    # attachments with name, size and download link
    for attachment in TicketAttachment.objects.exclude(original_name="intern.png"):
        link = url("attachment", ticket.reference, attachment.pk, lang="en")
        assert link in html
        assert attachment.original_name in html
    assert "bytes" in html or "KB" in html
    assert "vivadesk-status--waiting" in html


@pytest.mark.django_db
def test_status_events_read_in_the_readers_language(client):
    user = alice()
    ticket = factories.ticket(user)
    staff_reply(ticket)  # new → open (event)
    tickets.change_status(ticket, TicketStatus.DONE)
    client.force_login(user)
    html = client.get(url("ticket", ticket.reference, lang="en")).content.decode()
    assert "Status changed from “New” to “In progress”." in html
    assert "We marked this request as done." in html


@pytest.mark.django_db
def test_comment_with_attachments(client, django_capture_on_commit_callbacks):
    user = alice()
    ticket = factories.ticket(user)
    client.force_login(user)
    page = client.get(url("ticket", ticket.reference))
    key = form_key(page)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            url("comment", ticket.reference),
            {
                "body": "Hier der Screenshot",
                "key": key,
                "attachments": [upload("bild.png", PNG), upload("doc.pdf", PDF)],
            },
        )
    assert response.status_code == 302
    assert response["Location"].startswith(url("ticket", ticket.reference))
    message = TicketMessage.objects.get(body="Hier der Screenshot")
    assert message.kind == MessageKind.CUSTOMER
    assert message.channel == Channel.PORTAL
    assert message.author == user
    names = sorted(a.original_name for a in message.attachments.all())
    assert names == ["bild.png", "doc.pdf"]
    # the staff notice goes out, nothing to the customer
    row = OutboundEmail.objects.get(event="customer_replied")
    assert row.recipient != user.email
    assert all(m.to != [user.email] for m in mail.outbox)
    # a double submit stores nothing twice
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            url("comment", ticket.reference),
            {"body": "Hier der Screenshot", "key": key, "attachments": []},
        )
    assert TicketMessage.objects.filter(body="Hier der Screenshot").count() == 1
    assert TicketAttachment.objects.count() == 2


@pytest.mark.django_db
def test_empty_comment_is_refused(client):
    user = alice()
    ticket = factories.ticket(user)
    client.force_login(user)
    before = TicketMessage.objects.count()
    response = client.post(
        url("comment", ticket.reference, lang="en"), {"body": "  ", "key": "d" * 32}
    )
    assert response.status_code == 200
    assert b"Please write a message or attach a file." in response.content
    assert TicketMessage.objects.count() == before


@pytest.mark.django_db
def test_comment_on_done_ticket_reopens_and_notifies_staff_only(
    client, django_capture_on_commit_callbacks
):
    user = alice()
    ticket = factories.ticket(user)
    tickets.change_status(ticket, TicketStatus.DONE)
    client.force_login(user)
    OutboundEmail.objects.all().delete()
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            url("comment", ticket.reference),
            {"body": "Geht doch nicht", "key": "e" * 32},
        )
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.OPEN
    page = client.get(url("ticket", ticket.reference, lang="en")).content.decode()
    assert "The request was reopened." in page
    events = list(OutboundEmail.objects.values_list("event", "recipient"))
    assert [event for event, _r in events] == ["customer_replied"]
    assert all(recipient != user.email for _e, recipient in events)
    assert mail.outbox and all(m.to != [user.email] for m in mail.outbox)


@pytest.mark.django_db
def test_customer_marks_problem_solved(client, django_capture_on_commit_callbacks):
    user = alice()
    ticket = factories.ticket(user)
    client.force_login(user)
    page = client.get(url("ticket", ticket.reference))
    assert url("mark_done", ticket.reference).encode() in page.content
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url("mark_done", ticket.reference))
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.DONE
    html = client.get(url("ticket", ticket.reference, lang="en")).content.decode()
    assert "You marked this request as solved." in html
    assert url("mark_done", ticket.reference, lang="en") not in html


@pytest.mark.django_db
def test_closed_ticket_offers_a_linked_new_request(client):
    user = alice()
    old = factories.ticket(user, subject="Altes Problem")
    tickets.change_status(old, TicketStatus.DONE)
    tickets.change_status(old, TicketStatus.CLOSED)
    client.force_login(user)
    html = client.get(url("ticket", old.reference)).content.decode()
    assert url("comment", old.reference) not in html
    new_link = url("new_request") + f"?follows={old.reference}"
    assert new_link in html
    before = TicketMessage.objects.count()
    refused = client.post(url("comment", old.reference), {"body": "x", "key": "f" * 32})
    assert refused.status_code == 302
    assert TicketMessage.objects.count() == before

    form_page = client.get(new_link)
    assert form_page.context["form"].initial["follows"] == old.reference
    response = client.post(
        url("new_request"),
        {
            "subject": "Altes Problem, wieder da",
            "body": "Es ist wieder passiert.",
            "key": form_key(form_page),
            "follows": old.reference,
        },
    )
    new = user.helpdesk_tickets.exclude(pk=old.pk).get()
    assert response["Location"] == url("ticket", new.reference)
    assert new.follows == old
    assert old.reference in client.get(response["Location"]).content.decode()


@pytest.mark.django_db
def test_new_request_opens_ticket_in_current_language(
    client, django_capture_on_commit_callbacks
):
    user = alice()
    client.force_login(user)
    page = client.get(url("new_request", lang="en"))
    key = form_key(page)
    data = {
        "subject": "Bitte Rückruf",
        "body": "Rufen Sie mich an.",
        "key": key,
        "attachments": [upload("a.pdf", PDF)],
    }
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url("new_request", lang="en"), data)
    ticket = user.helpdesk_tickets.get()
    assert response["Location"] == url("ticket", ticket.reference, lang="en")
    assert ticket.language == "en"
    assert ticket.channel == Channel.PORTAL
    assert ticket.attachments.count() == 1
    assert OutboundEmail.objects.filter(ticket=ticket, event="ticket_created").exists()
    data["attachments"] = [upload("a.pdf", PDF)]
    client.post(url("new_request", lang="en"), data)  # double submit
    assert user.helpdesk_tickets.count() == 1


@pytest.mark.django_db
def test_new_request_needs_subject_and_message(client):
    user = alice()
    client.force_login(user)
    response = client.post(
        url("new_request"), {"subject": "", "body": "", "key": "g" * 32}
    )
    assert response.status_code == 200
    assert response.context["form"].errors.keys() >= {"subject", "body"}
    assert user.helpdesk_tickets.count() == 0


def _ticket_page_queries(client, user, replies: int, files: int) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    ticket = factories.ticket(user, subject=f"{replies} Antworten")
    for number in range(replies):
        attach = [(f"datei-{number}.png", PNG)] if number < files else []
        staff_reply(ticket, body=f"Antwort {number}", files=attach)
    client.force_login(user)
    client.get(url("ticket", ticket.reference))
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url("ticket", ticket.reference))
    assert response.status_code == 200
    assert len(response.context["entries"]) > replies
    return len(captured.captured_queries)


@pytest.mark.django_db
def test_ticket_page_query_count_is_constant(client):
    user = alice()
    small = _ticket_page_queries(client, user, replies=2, files=1)
    large = _ticket_page_queries(client, user, replies=50, files=10)
    assert 0 < small == large
    assert large <= 10
