"""The ticket screen: header, thread, actions through services."""

from __future__ import annotations

import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests import factories
from tests.staff_support import assert_denied, post_action, screen_url, url
from vivadesk_wagtail.models import (
    Category,
    MessageKind,
    OutboundEmail,
    TicketMessage,
    TicketStatus,
)


def key() -> str:
    return uuid.uuid4().hex


@pytest.mark.django_db
def test_screen_shows_header_thread_and_form_data(agent_client, ticket):
    ticket.form_data = [{"label": "Gerät", "value": "HP LaserJet"}]
    ticket.save(update_fields=["form_data"])
    response = agent_client.get(screen_url(ticket))
    assert response.status_code == 200
    html = response.content.decode()
    for text in (
        ticket.reference,
        "Drucker druckt nicht",
        "kunde@example.com",
        "Erika Mustermann",
        "Seit gestern druckt der Drucker nicht mehr.",
        "HP LaserJet",
    ):
        assert text in html


@pytest.mark.django_db(transaction=True)
def test_agent_takes_a_ticket_through_reply_note_done_assign_category(
    agent_client, agent, other_agent, ticket
):
    response = post_action(
        agent_client,
        ticket,
        "reply",
        body="Bitte Treiber neu installieren.",
        idempotency_key=key(),
    )
    assert response.status_code == 302, response.content[:2000]
    reply = TicketMessage.objects.get(ticket=ticket, kind=MessageKind.STAFF)
    assert reply.author == agent
    assert OutboundEmail.objects.filter(ticket=ticket, event="staff_reply").count() == 1
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.OPEN

    mails_before = OutboundEmail.objects.count()
    response = post_action(
        agent_client, ticket, "note", body="Kunde ist VIP.", idempotency_key=key()
    )
    assert response.status_code == 302
    assert TicketMessage.objects.filter(ticket=ticket, kind=MessageKind.NOTE).exists()
    customer_mails = OutboundEmail.objects.filter(recipient="kunde@example.com")
    assert OutboundEmail.objects.count() == mails_before  # nobody assigned yet
    assert not customer_mails.filter(event="staff_note").exists()

    response = post_action(agent_client, ticket, "assign", assignee=other_agent.pk)
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.assignee == other_agent
    response = post_action(agent_client, ticket, "assign", assignee=agent.pk)
    ticket.refresh_from_db()
    assert ticket.assignee == agent

    category = Category.objects.create(name="Hardware")
    response = post_action(agent_client, ticket, "category", category=category.pk)
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.category == category

    response = post_action(agent_client, ticket, "status", status="done")
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.DONE
    assert OutboundEmail.objects.filter(ticket=ticket, event="ticket_done").count() == 1

    html = agent_client.get(screen_url(ticket)).content.decode()
    assert "Bitte Treiber neu installieren." in html
    assert "Kunde ist VIP." in html
    assert "vd-msg--note" in html
    assert "Hardware" in html


@pytest.mark.django_db(transaction=True)
def test_reply_and_mark_done_in_one_step_mails_the_reply_once(agent_client, ticket):
    response = post_action(
        agent_client,
        ticket,
        "reply",
        body="Erledigt.",
        idempotency_key=key(),
        set_status="done",
    )
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.DONE
    events = list(
        OutboundEmail.objects.filter(recipient="kunde@example.com")
        .exclude(event="ticket_created")
        .values_list("event", flat=True)
    )
    assert events == ["staff_reply"]


@pytest.mark.django_db
def test_reply_with_attachment_and_download(agent_client, ticket, client, editor):
    upload = SimpleUploadedFile("anleitung.txt", b"Schritt 1: neu starten\n")
    response = agent_client.post(
        screen_url(ticket),
        {
            "action": "reply",
            "reply-body": "Anbei die Anleitung.",
            "reply-idempotency_key": key(),
            "reply-attachments": [upload],
        },
    )
    assert response.status_code == 302
    message = TicketMessage.objects.get(ticket=ticket, kind=MessageKind.STAFF)
    attachment = message.attachments.get()
    download = url("attachment", attachment.pk)
    assert download in agent_client.get(screen_url(ticket)).content.decode()

    response = agent_client.get(download)
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    assert "anleitung.txt" in response["Content-Disposition"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == "default-src 'none'; sandbox"
    assert b"".join(response.streaming_content) == b"Schritt 1: neu starten\n"

    client.force_login(editor)
    assert_denied(client.get(download))


@pytest.mark.django_db
def test_refused_attachment_keeps_the_text(agent_client, ticket):
    upload = SimpleUploadedFile("evil.html", b"<html><script>alert(1)</script>")
    response = agent_client.post(
        screen_url(ticket),
        {
            "action": "reply",
            "reply-body": "Mein Text",
            "reply-idempotency_key": key(),
            "reply-attachments": [upload],
        },
    )
    assert response.status_code == 200
    assert "Mein Text" in response.content.decode()
    assert not TicketMessage.objects.filter(kind=MessageKind.STAFF).exists()


@pytest.mark.django_db
def test_double_submit_creates_one_message(agent_client, ticket):
    data = {"body": "Nur einmal bitte.", "idempotency_key": key()}
    first = post_action(agent_client, ticket, "reply", **data)
    second = post_action(agent_client, ticket, "reply", **data)
    assert first.status_code == second.status_code == 302
    assert (
        TicketMessage.objects.filter(ticket=ticket, kind=MessageKind.STAFF).count() == 1
    )


@pytest.mark.django_db
def test_reply_to_ticket_closed_meanwhile_is_refused(agent_client, ticket):
    from vivadesk_wagtail.services import tickets

    tickets.change_status(ticket, TicketStatus.DONE)
    tickets.change_status(ticket, TicketStatus.CLOSED)
    response = post_action(
        agent_client, ticket, "reply", body="Zu spät", idempotency_key=key()
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "This ticket was closed in the meantime; nothing was sent." in html
    assert "Zu spät" in html  # the text is kept for the agent
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.CLOSED
    assert not TicketMessage.objects.filter(kind=MessageKind.STAFF).exists()


@pytest.mark.django_db
def test_unknown_action_and_forbidden_status_are_refused(agent_client, ticket):
    response = agent_client.post(screen_url(ticket), {"action": "delete"})
    assert response.status_code == 302
    response = post_action(agent_client, ticket, "status", status="closed")
    assert response.status_code == 200  # NEW → CLOSED is not offered
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.NEW


@pytest.mark.django_db
def test_other_tickets_of_the_customer_are_linked(agent_client, ticket):
    other = factories.ticket(ticket.customer, subject="Zweite Anfrage")
    html = agent_client.get(screen_url(ticket)).content.decode()
    assert screen_url(other) in html
    assert "Zweite Anfrage" in html


@pytest.mark.django_db
def test_original_mail_is_a_download(agent_client, ticket, client, editor):
    from django.core.files.base import ContentFile

    from vivadesk_wagtail.models import Channel, InboundMail
    from vivadesk_wagtail.services import tickets

    raw = b"From: kunde@example.com\r\nSubject: Re\r\n\r\n<script>x</script>\r\n"
    message = tickets.add_message(
        ticket,
        tickets.NewMessage(body="Per Mail", channel=Channel.EMAIL, message_id="<a@b>"),
    )
    row = InboundMail(
        dedupe_key="id:test", sha256="0" * 64, ticket=ticket, ticket_message=message
    )
    row.raw.save("x.eml", ContentFile(raw), save=False)
    row.save()
    download = url("raw_mail", row.pk)
    assert download in agent_client.get(screen_url(ticket)).content.decode()
    response = agent_client.get(download)
    assert response.status_code == 200
    assert response["Content-Type"] == "message/rfc822"
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["Content-Security-Policy"] == "default-src 'none'; sandbox"
    assert b"".join(response.streaming_content) == raw
    client.force_login(editor)
    assert_denied(client.get(download))


@pytest.mark.django_db
def test_screen_queries_do_not_grow_with_the_thread(
    agent_client, ticket, django_assert_max_num_queries
):
    from vivadesk_wagtail.services import tickets

    def add(n):
        for i in range(n):
            tickets.add_message(ticket, tickets.NewMessage(body=f"Nachricht {i}"))

    add(5)
    with django_assert_max_num_queries(40) as small:
        assert agent_client.get(screen_url(ticket)).status_code == 200
    add(30)
    with django_assert_max_num_queries(len(small.captured_queries)):
        assert agent_client.get(screen_url(ticket)).status_code == 200


# A whole 1×1 PNG (a correct IDAT checksum: inline parts are decoded too).
PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06"
    b"\x00\x00\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\xcf\xc0\xf0\x1f\x00"
    b"\x05\x00\x01\xff\x89\x99=\x1d\x00\x00\x00\x00IEND\xaeB`\x82"
)
SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'


@pytest.mark.django_db
def test_inline_images_of_a_mail_show_in_its_frame_and_nothing_else_does(
    agent_client,
):
    """``cid:`` images become ``data:`` URIs of their own attachments (the
    sandboxed frame loads nothing else); unknown ids and non-raster parts
    lose their source; the stored HTML keeps ``cid:``."""
    import base64
    import html as html_lib
    import re

    from tests import emails
    from vivadesk_wagtail.mail.inbound import ingest

    factories.customer()
    mail = emails.build(
        subject="Screenshot",
        body="Siehe Bild.",
        html=(
            '<p>Fehler:</p><img src="cid:shot@example.com">'
            '<img src="cid:vector@example.com"><img src="cid:missing@example.com">'
        ),
    )
    mail = emails.with_inline_parts(
        mail,
        [
            ("shot.png", PNG, "image/png", "shot@example.com"),
            ("vector.svg", SVG, "image/svg+xml", "vector@example.com"),
        ],
    )
    result = ingest(mail)
    assert result.outcome == "new_ticket", result
    message = TicketMessage.objects.get(ticket__reference=result.ticket)
    assert 'src="cid:shot@example.com"' in message.html

    page = agent_client.get(screen_url(message.ticket)).content.decode()
    (srcdoc,) = re.findall(r'srcdoc="([^"]*)"', page)
    document = html_lib.unescape(srcdoc)
    png_uri = "data:image/png;base64," + base64.b64encode(PNG).decode()
    assert f'src="{png_uri}"' in document
    assert "cid:" not in document
    assert "svg" not in document.split("<p>", 1)[1]
    assert "img-src data:" in document  # the frame's own policy


@pytest.mark.django_db
def test_times_show_in_the_site_time_zone_on_the_screen_and_the_listing(
    agent_client, ticket
):
    """Agents without a time zone of their own read Berlin time, as the
    customers do in the portal (10:07 UTC in January is 11:07 there)."""
    from datetime import UTC, datetime

    from vivadesk_wagtail.models import Ticket

    moment = datetime(2026, 1, 15, 10, 7, tzinfo=UTC)
    Ticket.objects.filter(pk=ticket.pk).update(created_at=moment, updated_at=moment)
    TicketMessage.objects.filter(ticket=ticket).update(created_at=moment)
    screen = agent_client.get(screen_url(ticket)).content.decode()
    listing = agent_client.get(url("list") + "?show=all").content.decode()
    for page in (screen, listing):
        assert "11:07" in page
        assert "10:07" not in page
