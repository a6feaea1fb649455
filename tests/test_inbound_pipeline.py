"""Inbound mail: matching, identity, held mail, follow-ups (M1, M2, M4, M5,
M10, M11, M20, M21 of reliability.md §6)."""

from __future__ import annotations

import pytest
from django.core import mail

from tests import emails, factories
from vivadesk_wagtail.mail.inbound import ingest, process, record
from vivadesk_wagtail.models import (
    InboundMail,
    InboundState,
    MessageKind,
    OutboundEmail,
    Ticket,
    TicketMessage,
    TicketStatus,
)
from vivadesk_wagtail.services import tickets

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("fresh_content_types"),
]


def notification_id(ticket) -> str:
    return OutboundEmail.objects.filter(ticket=ticket).latest("pk").message_id


def reply_to(ticket, **kwargs) -> bytes:
    kwargs.setdefault("subject", f"AW: [{ticket.reference}] {ticket.subject}")
    kwargs.setdefault("in_reply_to", notification_id(ticket))
    kwargs.setdefault("body", "Danke, jetzt geht es wieder.\n")
    return emails.build(**kwargs)


def test_owner_reply_by_headers_is_added_and_staff_is_told():
    ticket = factories.ticket()
    mail.outbox.clear()
    raw = reply_to(
        ticket,
        subject="ganz anderer Betreff",
        body="Danke, jetzt geht es wieder.\n\nAm 26.11.2026 um 10:00 schrieb VIVA "
        "HelpDesk <helpdesk@viva.de>:\n> Ihre Anfrage\n",
        attachments=[("protokoll.txt", b"Zeile 1\nZeile 2\n", "text/plain")],
    )
    result = ingest(raw)
    assert result.outcome == "reply", result
    assert result.ticket == ticket.reference
    assert result.body == "Danke, jetzt geht es wieder."
    assert result.attachments == ["protokoll.txt"]
    message = ticket.messages.filter(kind=MessageKind.CUSTOMER).latest("pk")
    assert message.channel == "email"
    assert message.attachments.get().original_name == "protokoll.txt"
    staff = [m for m in mail.outbox if m.to != ["kunde@example.com"]]
    assert staff, [m.to for m in mail.outbox]
    assert not [m for m in mail.outbox if m.to == ["kunde@example.com"]]


def test_owner_reply_by_subject_reference_reopens_done_ticket():
    ticket = factories.ticket()
    tickets.change_status(ticket, TicketStatus.DONE)
    raw = emails.build(subject=f"Re: [{ticket.reference}] noch etwas", body="Doch.")
    result = ingest(raw)
    assert result.outcome == "reply"
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.OPEN


def test_sender_address_is_matched_case_insensitively():
    ticket = factories.ticket()
    raw = reply_to(ticket, sender="Erika <KUNDE@Example.COM>")
    assert ingest(raw).outcome == "reply"


@pytest.mark.parametrize(
    "sender",
    [
        "Mallory <mallory@evil.example>",
        "Other Customer <other@example.com>",
    ],
)
def test_reply_from_someone_else_is_held_and_nobody_is_mailed(sender):
    factories.customer("other@example.com")
    ticket = factories.ticket()
    mail.outbox.clear()
    before = ticket.messages.count()
    result = ingest(reply_to(ticket, sender=sender))
    assert result.outcome == "held"
    assert result.reason == "sender_mismatch"
    assert ticket.messages.count() == before
    assert mail.outbox == []
    row = InboundMail.objects.get()
    assert row.state == InboundState.HELD and row.ticket == ticket


@pytest.mark.parametrize(
    ("from_headers", "reason"),
    [
        (["kunde@example.com)<mallory@evil.example>"], "ambiguous_from"),
        (["kunde@example.com, mallory@evil.example"], "ambiguous_from"),
        (["kunde@example.com", "mallory@evil.example"], "ambiguous_from"),
        ([], "missing_from"),
        (["kunde"], "ambiguous_from"),
    ],
)
def test_ambiguous_from_is_held(from_headers, reason):
    ticket = factories.ticket()
    raw = reply_to(ticket, sender="placeholder@example.com")
    head, body = raw.split(b"\n\n", 1)
    lines = [line for line in head.split(b"\n") if not line.startswith(b"From:")]
    lines += [f"From: {value}".encode() for value in from_headers]
    result = ingest(b"\n".join(lines) + b"\n\n" + body)
    assert (result.outcome, result.reason) == ("held", reason)
    assert ticket.messages.filter(channel="email").count() == 0


def test_reply_to_header_never_gives_identity():
    ticket = factories.ticket()
    raw = reply_to(
        ticket,
        sender="Mallory <mallory@evil.example>",
        headers={"Reply-To": "kunde@example.com", "Sender": "kunde@example.com"},
    )
    assert ingest(raw).reason == "sender_mismatch"


def test_new_mail_from_confirmed_customer_opens_ticket_with_ack():
    factories.customer(language="en")
    mail.outbox.clear()
    result = ingest(emails.build(subject="WG: Fwd: Rechnung fehlt", body="Wo ist sie?"))
    assert result.outcome == "new_ticket"
    ticket = Ticket.objects.get(reference=result.ticket)
    assert ticket.subject == "Rechnung fehlt"
    assert ticket.language == "en"
    assert ticket.channel == "email"
    acks = [m for m in mail.outbox if m.to == ["kunde@example.com"]]
    assert acks and ticket.reference in acks[0].subject


def test_new_mail_from_unknown_sender_is_held_without_mail():
    result = ingest(emails.build(sender="fremd@example.org"))
    assert (result.outcome, result.reason) == ("held", "unknown_sender")
    assert Ticket.objects.count() == 0
    assert mail.outbox == []


def test_new_mail_from_unconfirmed_customer_is_held():
    factories.customer("neu@example.com", confirmed=False)
    result = ingest(emails.build(sender="neu@example.com"))
    assert (result.outcome, result.reason) == ("held", "unconfirmed_sender")
    assert Ticket.objects.count() == 0


def test_unconfirmed_sender_gets_one_activation_link_per_day():
    factories.customer("neu@example.com", confirmed=False)
    for n in range(3):
        result = ingest(emails.build(sender="neu@example.com", subject=f"Frage {n}"))
        assert result.outcome == "held"
    (reminder,) = [m for m in mail.outbox if m.to == ["neu@example.com"]]
    assert "/helpdesk/activate/" in reminder.body
    assert "Frage" not in reminder.subject + reminder.body
    assert OutboundEmail.objects.filter(event="activation").count() == 1


def test_unknown_and_automated_senders_get_no_activation_link():
    factories.customer("neu@example.com", confirmed=False)
    ingest(emails.build(sender="fremd@example.org"))
    ingest(
        emails.build(
            sender="neu@example.com", headers={"Auto-Submitted": "auto-replied"}
        )
    )
    assert OutboundEmail.objects.filter(event="activation").count() == 0


def test_unconfirmed_owner_may_answer_their_own_ticket():
    user = factories.customer("neu@example.com", confirmed=False)
    ticket = factories.ticket(user)
    result = ingest(reply_to(ticket, sender="neu@example.com"))
    assert result.outcome == "reply"


def test_reply_to_closed_ticket_opens_follow_up():
    ticket = factories.ticket()
    tickets.change_status(ticket, TicketStatus.DONE)
    tickets.change_status(ticket, TicketStatus.CLOSED)
    result = ingest(reply_to(ticket, body="Das Problem ist wieder da."))
    assert result.outcome == "new_ticket"
    follow_up = Ticket.objects.get(reference=result.ticket)
    assert follow_up.follows == ticket
    assert follow_up.subject == ticket.subject
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.CLOSED


def test_same_mail_twice_gives_one_message():
    """A different mail reusing the Message-ID is not a duplicate:
    ``tests/test_intake_mail_dedupe.py``."""
    ticket = factories.ticket()
    raw = reply_to(ticket, message_id="<abc@example.com>")
    assert ingest(raw).outcome == "reply"
    assert ingest(raw).outcome == "duplicate"
    assert TicketMessage.objects.filter(message_id="<abc@example.com>").count() == 1
    assert InboundMail.objects.get().dedupe_key.startswith("mid:")


def test_no_message_id_is_deduplicated_by_fingerprint():
    ticket = factories.ticket()
    raw = reply_to(ticket, message_id=None)
    assert ingest(raw).outcome == "reply"
    assert ingest(raw).outcome == "duplicate"
    assert ticket.messages.filter(channel="email").count() == 1
    assert InboundMail.objects.get().dedupe_key.startswith("fp:")


def test_processing_twice_is_a_no_op():
    ticket = factories.ticket()
    row, created = record(reply_to(ticket), queue=False)
    assert created
    first = process(row.pk)
    second = process(row.pk)
    assert first.outcome == second.outcome == "reply"
    assert ticket.messages.filter(channel="email").count() == 1


def test_recording_queues_processing_on_commit():
    ticket = factories.ticket()
    row, _created = record(reply_to(ticket))
    row.refresh_from_db()
    assert row.state == InboundState.DONE
    assert row.ticket == ticket
    assert row.read_raw().startswith(b"From:") or b"Message-ID" in row.read_raw()


def test_authentication_results_of_our_mx_with_dmarc_fail_holds(settings):
    settings.VIVADESK = {**settings.VIVADESK, "MAIL_AUTHSERV_ID": "mx.viva.de"}
    ticket = factories.ticket()
    forged_ok = "mx.viva.de; dmarc=pass"
    raw = reply_to(
        ticket,
        headers={"Authentication-Results": "mx.viva.de; dmarc=fail header.from=x"},
    )
    assert ingest(raw).reason == "dmarc_fail"
    other = reply_to(
        ticket, headers={"Authentication-Results": "evil.example; dmarc=fail"}
    )
    assert ingest(other).outcome == "reply"
    assert forged_ok


def test_internal_headers_from_outside_are_ignored():
    ticket = factories.ticket()
    raw = reply_to(
        ticket,
        headers={"X-Vivadesk-Kind": "note", "X-Vivadesk-Status": "closed"},
    )
    assert ingest(raw).outcome == "reply"
    message = ticket.messages.filter(channel="email").get()
    assert message.kind == MessageKind.CUSTOMER
    ticket.refresh_from_db()
    assert ticket.status != TicketStatus.CLOSED
