"""Machines writing to the help desk: our own mail looping back, bounces,
auto-replies, mailing lists, a header-less autoresponder (M6–M9)."""

from __future__ import annotations

import pytest
from django.core import mail

from tests import emails, factories
from vivadesk_wagtail.mail.inbound import ingest
from vivadesk_wagtail.models import (
    CustomerProfile,
    InboundMail,
    MessageKind,
    OutboundEmail,
    Ticket,
    TicketStatus,
)
from vivadesk_wagtail.services import tickets

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("fresh_content_types"),
]


def fill(name: str, **values) -> bytes:
    text = emails.load(name).decode()
    for key, value in values.items():
        text = text.replace("{{" + key + "}}", str(value))
    return text.encode()


def ack(ticket) -> OutboundEmail:
    return OutboundEmail.objects.get(ticket=ticket, event="ticket_created")


def test_our_own_notification_coming_back_is_dropped():
    ticket = factories.ticket()
    row = ack(ticket)
    raw = emails.build(
        sender="VIVA HelpDesk <helpdesk@viva.de>",
        to="kunde@example.com",
        subject=f"[{ticket.reference}] Ihre Anfrage",
        message_id=row.message_id,
        headers={"X-Vivadesk-Loop": "viva.de", "Auto-Submitted": "auto-replied"},
    )
    mail.outbox.clear()
    result = ingest(raw)
    assert (result.outcome, result.reason) == ("ignored_auto", "own_mail_loop_header")
    assert ticket.messages.filter(channel="email").count() == 0
    assert mail.outbox == []


@pytest.mark.parametrize(
    "headers",
    [{}, {"X-Vivadesk-Loop": "viva.de"}],
)
def test_own_message_id_or_address_is_dropped(headers):
    ticket = factories.ticket()
    raw = emails.build(
        sender="helpdesk@viva.de",
        subject=f"[{ticket.reference}] Ihre Anfrage",
        headers=headers,
    )
    result = ingest(raw)
    assert result.outcome == "ignored_auto"
    assert result.reason.startswith("own_")


def envelope_sender(row) -> str:
    """The envelope sender (signed VERP address) the outbox really used."""
    (sent,) = [
        m for m in mail.outbox if m.extra_headers.get("Message-ID") == row.message_id
    ]
    return sent.from_email


def test_dsn_bounce_is_linked_and_address_flagged():
    ticket = factories.ticket()
    row = ack(ticket)
    raw = fill(
        "dsn-bounce-postfix.eml",
        BOUNCE_ADDRESS=envelope_sender(row),
        MESSAGE_ID=row.message_id,
    )
    mail.outbox.clear()
    result = ingest(raw)
    assert (result.outcome, result.reason) == ("ignored_auto", "bounce")
    inbound = InboundMail.objects.get()
    assert inbound.outbound == row
    row.refresh_from_db()
    assert row.state == "failed"
    profile = CustomerProfile.objects.get(email="kunde@example.com")
    assert profile.mail_undeliverable
    assert profile.undeliverable_since is not None
    assert "5.1.1" in profile.undeliverable_detail
    assert profile.undeliverable_bounce == inbound
    assert Ticket.objects.count() == 1
    assert not [m for m in mail.outbox if m.to == ["kunde@example.com"]]


def test_dsn_found_only_by_original_message_id_is_held_for_review():
    """A report that did not come back to a signed address proves nothing:
    linked for staff, held, the row and the address left alone."""
    ticket = factories.ticket()
    row = ack(ticket)
    raw = fill(
        "dsn-bounce-postfix.eml",
        BOUNCE_ADDRESS="postmaster@viva.de",
        MESSAGE_ID=row.message_id,
    )
    result = ingest(raw)
    assert (result.outcome, result.reason) == ("held", "bounce_unconfirmed")
    assert InboundMail.objects.get().outbound == row
    row.refresh_from_db()
    assert row.state == "sent"
    assert not CustomerProfile.objects.get(email="kunde@example.com").mail_undeliverable


def test_out_of_office_is_stored_as_auto_and_never_reopens():
    ticket = factories.ticket()
    tickets.change_status(ticket, TicketStatus.DONE)
    mail.outbox.clear()
    raw = fill("outlook-autoreply-de.eml", IN_REPLY_TO=ack(ticket).message_id)
    result = ingest(raw)
    assert result.outcome == "ignored_auto"
    assert result.ticket == ticket.reference
    message = ticket.messages.get(channel="email")
    assert message.kind == MessageKind.AUTO
    assert "nicht im Büro" in message.body
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.DONE
    assert mail.outbox == []


@pytest.mark.parametrize(
    "headers",
    [
        {"Auto-Submitted": "auto-replied"},
        {"Auto-Submitted": "auto-generated"},
        {"X-Autoreply": "yes"},
        {"X-Autorespond": "yes"},
        {"Precedence": "bulk"},
        {"Precedence": "junk"},
        {"Precedence": "list"},
        {"List-Id": "<team.lists.example.com>"},
        {"Return-Path": "<>"},
    ],
)
def test_automatic_mail_never_opens_tickets_or_mails(headers):
    factories.customer()
    mail.outbox.clear()
    result = ingest(emails.build(headers=headers))
    assert result.outcome == "ignored_auto"
    assert Ticket.objects.count() == 0
    assert mail.outbox == []


def test_mailer_daemon_without_report_is_automatic():
    factories.customer()
    result = ingest(emails.build(sender="MAILER-DAEMON@mx.example.com"))
    assert result.outcome == "ignored_auto"


def test_auto_submitted_no_is_human():
    factories.customer()
    result = ingest(emails.build(headers={"Auto-Submitted": "no"}))
    assert result.outcome == "new_ticket"


def test_auto_reply_to_closed_ticket_opens_nothing():
    ticket = factories.ticket()
    tickets.change_status(ticket, TicketStatus.DONE)
    tickets.change_status(ticket, TicketStatus.CLOSED)
    raw = fill("outlook-autoreply-de.eml", IN_REPLY_TO=ack(ticket).message_id)
    assert ingest(raw).outcome == "ignored_auto"
    assert Ticket.objects.count() == 1


def test_headerless_autoresponder_is_capped():
    ticket = factories.ticket()
    tickets.change_status(ticket, TicketStatus.DONE)
    in_reply_to = ack(ticket).message_id
    mail.outbox.clear()
    outcomes = [
        ingest(
            fill("headerless-autoresponder.eml", N=n, IN_REPLY_TO=in_reply_to)
        ).outcome
        for n in range(30)
    ]
    assert outcomes.count("reply") == 5
    assert outcomes.count("ignored_auto") == 25
    staff_mails = [m for m in mail.outbox if m.to != ["kunde@example.com"]]
    assert len(staff_mails) <= 5
    assert not [m for m in mail.outbox if m.to == ["kunde@example.com"]]
    assert ticket.messages.filter(kind=MessageKind.NOTE).count() == 1


def test_person_writing_to_the_bounce_address_is_held_not_a_bounce():
    """A person answering our signed envelope sender sends no report: the
    mail is held for staff (who may accept it), nothing is marked."""
    ticket = factories.ticket()
    row = ack(ticket)
    raw = emails.build(to=envelope_sender(row), subject="Frage")
    result = ingest(raw)
    assert (result.outcome, result.reason) == ("held", "bounce_unconfirmed")
    assert not CustomerProfile.objects.get(email="kunde@example.com").mail_undeliverable
    row.refresh_from_db()
    assert row.state == "sent"
