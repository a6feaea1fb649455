"""The customer's attachment quota at the two entry points that keep the
text whatever the files: a mail and the contact form (issue 15, item 4)."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from tests import emails, factories
from tests.pages_support import post
from vivadesk_wagtail.mail.inbound import ingest
from vivadesk_wagtail.models import (
    InboundMail,
    MessageKind,
    OutboundEmail,
    Ticket,
    TicketAttachment,
)
from vivadesk_wagtail.services import quota, uploads

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("fresh_content_types"),
]

OLD = b"old file\n" * 100
NEW = b"new file\n" * 20


def quota_of(settings, size) -> None:
    settings.VIVADESK = {**settings.VIVADESK, "ATTACHMENT_QUOTA_PER_CUSTOMER": size}


def test_a_mail_beyond_the_quota_keeps_its_text_and_notes_the_dropped_file(
    settings,
):
    ticket = factories.ticket(attachments=[uploads.from_bytes("alt.txt", OLD)])
    quota_of(settings, len(OLD) + len(NEW) - 1)
    notification = OutboundEmail.objects.filter(ticket=ticket).latest("pk")
    raw = emails.build(
        subject=f"AW: [{ticket.reference}] {ticket.subject}",
        in_reply_to=notification.message_id,
        body="Hier das Protokoll.\n",
        attachments=[("protokoll.txt", NEW, "text/plain")],
    )
    result = ingest(raw)
    assert result.outcome == "reply", result
    assert result.attachments == []
    message = ticket.messages.filter(kind=MessageKind.CUSTOMER).latest("pk")
    assert message.body == "Hier das Protokoll."
    assert not message.attachments.exists()
    row = InboundMail.objects.get(ticket_message=message)
    assert "protokoll.txt" in row.detail and "quota" in row.detail

    quota_of(settings, len(OLD) + len(NEW))
    again = emails.build(
        subject=f"AW: [{ticket.reference}] {ticket.subject}",
        in_reply_to=notification.message_id,
        body="Noch einmal.\n",
        attachments=[("protokoll.txt", NEW, "text/plain")],
    )
    assert ingest(again).attachments == ["protokoll.txt"]


def test_a_form_post_beyond_the_quota_opens_the_ticket_and_tells_agents(
    client, settings
):
    settings.VIVADESK = {**settings.VIVADESK, "MIN_FILL_SECONDS": 0}
    call_command("vivadesk_demo", stdout=open("/dev/null", "w"))
    user = factories.customer(email="erika@example.com")
    factories.ticket(user, attachments=[uploads.from_bytes("alt.txt", OLD)])
    quota_of(settings, len(OLD))
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = post(
        client,
        "/de/kontakt/",
        attachments=SimpleUploadedFile("neu.txt", NEW, content_type="text/plain"),
    )
    assert response.status_code == 200
    ticket = Ticket.objects.latest("pk")
    assert ticket.customer == user
    assert ticket.messages.get(kind=MessageKind.CUSTOMER).body.startswith("Seit")
    assert not TicketAttachment.objects.filter(ticket=ticket).exists()
    note = ticket.messages.get(kind=MessageKind.NOTE)
    assert "neu.txt" in note.body and "quota" in note.body
    assert quota.used(user) == len(OLD)
