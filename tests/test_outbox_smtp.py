"""The outbox against a real SMTP server (aiosmtpd, see ``tests/smtp_server``):
retries, permanent failures, idempotent sending, the sweeper, and the headers
of every mail as the server saw them."""

from __future__ import annotations

import contextlib
from datetime import timedelta
from unittest import mock

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone

from tests import factories
from tests import smtp_server as smtp_fixtures
from tests.timing import clock
from vivadesk_wagtail import conf, tasks
from vivadesk_wagtail.models import (
    Channel,
    CustomerProfile,
    MessageKind,
    OutboundEmail,
    OutboundState,
    TicketStatus,
)
from vivadesk_wagtail.services import tickets

pytestmark = pytest.mark.django_db(transaction=True)

smtp_server = smtp_fixtures.smtp_server
smtp_down = smtp_fixtures.smtp_down

CUSTOMER = "kunde@example.com"
HELPDESK = "helpdesk@viva.de"


@contextlib.contextmanager
def no_task_queue():
    """The broker accepts tasks and loses them (nothing runs)."""
    with mock.patch("django_q.tasks.async_task") as lost:
        yield lost


def ack_row(ticket) -> OutboundEmail:
    return OutboundEmail.objects.get(ticket=ticket, event="ticket_created")


def vivadesk(settings, **values):
    settings.VIVADESK = {**getattr(settings, "VIVADESK", {}), **values}


def assert_signed_envelope(mail_from: str, row, local: str, domain: str) -> None:
    """``<local>+bounce-<token>@<domain>``: a token signed for this row, in a
    local part RFC 5321 accepts (at most 64 characters)."""
    from vivadesk_wagtail.mail import verp

    assert mail_from == verp.address(row.pk)
    local_part, _at, mail_domain = mail_from.rpartition("@")
    assert mail_domain == domain
    assert local_part.startswith(f"{local}+bounce-")
    assert len(local_part) <= 64
    assert verp.verified_pk(local_part.removeprefix(f"{local}+bounce-")) == row.pk


# --- failures and retries -------------------------------------------------


def test_smtp_down_ticket_is_created_and_mail_goes_out_when_back(smtp_down):
    ticket = factories.ticket()  # the request's transaction commits

    assert ticket.pk and ticket.messages.count() == 1
    row = ack_row(ticket)
    assert row.state == OutboundState.PENDING
    assert row.attempts == 1
    assert "Connection refused" in row.last_error or "refused" in row.last_error
    assert row.next_attempt_at > timezone.now()

    smtp_down.start()
    assert tasks.sweep_outbox() == 0  # not due yet: nothing is sent early
    assert smtp_down.messages == []

    with clock(timedelta(minutes=2)):
        assert tasks.sweep_outbox() == 2  # acknowledgement + staff notice
    row.refresh_from_db()
    assert row.state == OutboundState.SENT, row.last_error
    assert row.attempts == 2 and row.last_error == ""
    assert len(smtp_down.messages_to(CUSTOMER)) == 1

    with clock(timedelta(hours=2)):
        assert tasks.sweep_outbox() == 0
    assert len(smtp_down.messages_to(CUSTOMER)) == 1  # once, not again


def test_broker_down_does_not_fail_the_change(smtp_server):
    with mock.patch("django_q.tasks.async_task", side_effect=ConnectionError("redis")):
        ticket = factories.ticket()
    row = ack_row(ticket)
    assert row.state == OutboundState.PENDING and row.attempts == 0
    assert smtp_server.messages == []

    with clock(timedelta(minutes=11)):
        tasks.sweep_outbox()
    row.refresh_from_db()
    assert row.state == OutboundState.SENT
    assert len(smtp_server.messages_to(CUSTOMER)) == 1


def test_the_sweeper_queues_with_the_process_broker():
    with no_task_queue():
        ticket = factories.ticket()
    with no_task_queue() as queued, clock(timedelta(minutes=11)):
        assert tasks.sweep_outbox() == 2  # acknowledgement + staff notice
    assert {c.args[1] for c in queued.call_args_list} == {
        row.pk for row in OutboundEmail.objects.filter(ticket=ticket)
    }
    assert all(c.kwargs["broker"] is tasks.broker() for c in queued.call_args_list)


def test_4xx_is_retried(smtp_server):
    smtp_server.reply_to_rcpt = "451 4.3.0 Mailbox busy, try again later"
    ticket = factories.ticket()
    row = ack_row(ticket)
    assert row.state == OutboundState.PENDING
    assert "451" in row.last_error
    assert row.next_attempt_at > timezone.now()
    profile = CustomerProfile.objects.get(email=CUSTOMER)
    assert not profile.mail_undeliverable
    assert not ticket.messages.filter(kind=MessageKind.NOTE).exists()

    smtp_server.reply_to_rcpt = None
    with clock(timedelta(minutes=2)):
        tasks.sweep_outbox()
    row.refresh_from_db()
    assert row.state == OutboundState.SENT
    assert row.attempts == 2
    assert len(smtp_server.messages_to(CUSTOMER)) == 1


def test_5xx_on_recipient_fails_for_good_flags_address_and_notes_ticket(
    smtp_server,
):
    smtp_server.refuse_rcpt[CUSTOMER] = "550 5.1.1 No such user here"
    ticket = factories.ticket()

    row = ack_row(ticket)
    assert row.state == OutboundState.FAILED
    assert row.attempts == 1
    assert "550" in row.last_error
    profile = CustomerProfile.objects.get(email=CUSTOMER)
    assert profile.mail_undeliverable
    assert profile.undeliverable_since is not None
    assert "550" in profile.undeliverable_detail
    assert profile.undeliverable_bounce is None  # the SMTP answer, no bounce
    note = ticket.messages.get(kind=MessageKind.NOTE)
    assert note.channel == Channel.SYSTEM
    assert CUSTOMER in note.body and "550" in note.body
    assert note not in ticket.messages.public()
    # the staff notice went out normally
    assert len(smtp_server.messages_to(HELPDESK)) == 1

    # no more tries: neither the sweeper nor a second delivery of the task
    with clock(timedelta(days=2)):
        assert tasks.sweep_outbox() == 0
        assert tasks.send_outbound(row.pk) == "skipped"
    row.refresh_from_db()
    assert row.attempts == 1 and row.state == OutboundState.FAILED
    assert smtp_server.refused == [CUSTOMER]

    # and later mails to the dead address are not even written
    agent = factories.StaffFactory()
    tickets.add_message(
        ticket, tickets.NewMessage(body="Antwort", kind=MessageKind.STAFF, author=agent)
    )
    assert not OutboundEmail.objects.filter(
        recipient=CUSTOMER, event="staff_reply"
    ).exists()


def test_5xx_after_data_fails_without_flagging_the_address(smtp_server):
    from vivadesk_wagtail.mail import outbound

    ticket = factories.ticket()
    with no_task_queue():
        tickets.change_status(ticket, TicketStatus.DONE)
    row = OutboundEmail.objects.get(ticket=ticket, event="ticket_done")
    refused = outbound.PermanentFailure("SMTPDataError: (554, b'spam')")
    with mock.patch.object(outbound, "send", side_effect=refused):
        assert tasks.send_outbound(row.pk) == "failed"
    row.refresh_from_db()
    assert row.state == OutboundState.FAILED
    assert not CustomerProfile.objects.get(email=CUSTOMER).mail_undeliverable
    assert ticket.messages.filter(kind=MessageKind.NOTE).count() == 1


def test_always_failing_mail_stops_after_max_attempts_and_is_visible(
    smtp_down, settings, client
):
    vivadesk(settings, OUTBOX_MAX_ATTEMPTS=3)
    ticket = factories.ticket()
    row = ack_row(ticket)
    assert row.attempts == 1

    for day in range(1, 8):  # a week of sweeps: far more than 3 chances
        with clock(timedelta(days=day)):
            tasks.sweep_outbox()
    row.refresh_from_db()
    assert row.state == OutboundState.FAILED
    assert row.attempts == 3
    assert row.last_error
    # one visible note per failed mail (acknowledgement and staff notice)
    notes = ticket.messages.filter(kind=MessageKind.NOTE)
    assert notes.count() == 2
    assert any(CUSTOMER in note.body for note in notes)
    # a temporary failure does not declare the address dead
    assert not CustomerProfile.objects.get(email=CUSTOMER).mail_undeliverable

    admin = get_user_model().objects.create_superuser(
        "admin", "admin@viva.de", "admin-pass-123"
    )
    client.force_login(admin)
    url = reverse("wagtailsnippets_vivadesk_wagtail_outboundemail:list")
    response = client.get(url, {"state": "failed"})
    assert response.status_code == 200
    page = response.content.decode()
    assert CUSTOMER in page
    assert ticket.reference in page
    assert "Connection refused" in page or "refused" in page
    inspect = reverse(
        "wagtailsnippets_vivadesk_wagtail_outboundemail:inspect", args=[row.pk]
    )
    page = client.get(inspect).content.decode()
    assert row.message_id.strip("<>") in page
    assert "refused" in page


def test_task_delivered_twice_sends_once(smtp_server):
    with no_task_queue():
        ticket = factories.ticket()
    row = ack_row(ticket)
    assert row.state == OutboundState.PENDING

    assert tasks.send_outbound(row.pk) == "sent"
    assert tasks.send_outbound(row.pk) == "skipped"
    row.refresh_from_db()
    assert row.attempts == 1
    assert len(smtp_server.messages_to(CUSTOMER)) == 1


def test_row_stuck_in_sending_is_requeued_with_the_same_message_id(
    smtp_server, settings
):
    with no_task_queue():
        ticket = factories.ticket()
    row = ack_row(ticket)
    assert tasks._claim(row.pk)  # a worker took it and died before the SMTP 250
    row.refresh_from_db()
    assert row.state == OutboundState.SENDING

    assert tasks.sweep_outbox() == 0  # a worker may still be on it
    assert smtp_server.messages == []

    with clock(conf.outbox_stuck_after() + timedelta(seconds=1)):
        # the stuck acknowledgement and the lost staff notice
        assert tasks.sweep_outbox() == 2
    row.refresh_from_db()
    assert row.state == OutboundState.SENT
    assert row.attempts == 2
    (sent,) = smtp_server.messages_to(CUSTOMER)
    assert sent.message["Message-ID"] == row.message_id


def test_row_stuck_in_sending_after_its_last_attempt_fails(smtp_server, settings):
    vivadesk(settings, OUTBOX_MAX_ATTEMPTS=1)
    with no_task_queue():
        ticket = factories.ticket()
    row = ack_row(ticket)
    assert tasks._claim(row.pk)
    with clock(timedelta(hours=1)):
        tasks.sweep_outbox()
    row.refresh_from_db()
    assert row.state == OutboundState.FAILED
    assert "Stuck" in row.last_error
    assert smtp_server.messages_to(CUSTOMER) == []


# --- headers --------------------------------------------------------------


def test_headers_of_the_acknowledgement(smtp_server):
    ticket = factories.ticket()
    row = ack_row(ticket)
    (sent,) = smtp_server.messages_to(CUSTOMER)
    msg = sent.message

    assert str(msg["Subject"]).strip().startswith("[VIVA-1000] ")
    assert msg["Message-ID"] == row.message_id
    assert row.message_id.startswith("<") and row.message_id.endswith("@viva.de>")
    assert msg["In-Reply-To"] is None  # a web form: nothing to answer to
    assert msg["Reply-To"] == HELPDESK
    assert msg["From"].addresses[0].addr_spec == HELPDESK
    assert msg["Auto-Submitted"] == "auto-replied"
    assert msg["X-Auto-Response-Suppress"] == "All"
    assert msg["X-Vivadesk-Loop"] == "viva.de"
    assert_signed_envelope(sent.mail_from, row, "helpdesk", "viva.de")
    assert msg.get_body(preferencelist=("plain",)) is not None
    assert msg.get_body(preferencelist=("html",)) is not None


def test_later_mails_carry_the_thread(smtp_server):
    ticket = factories.ticket(
        channel=Channel.EMAIL, message_id="<first.mail@customer.example>"
    )
    agent = factories.StaffFactory()
    ack = ack_row(ticket)
    tickets.add_message(
        ticket,
        tickets.NewMessage(
            body="Bitte neu starten.", kind=MessageKind.STAFF, author=agent
        ),
    )
    reply = OutboundEmail.objects.get(ticket=ticket, event="staff_reply")
    tickets.change_status(ticket, TicketStatus.DONE, by=agent)
    done = OutboundEmail.objects.get(ticket=ticket, event="ticket_done")

    mails = {m.message["Message-ID"]: m.message for m in smtp_server.messages}
    first = mails[ack.message_id]
    assert first["In-Reply-To"] == "<first.mail@customer.example>"
    assert first["Auto-Submitted"] == "auto-replied"

    second = mails[reply.message_id]
    assert second["In-Reply-To"] == ack.message_id
    assert second["References"].split() == [
        "<first.mail@customer.example>",
        ack.message_id,
    ]
    assert second["Auto-Submitted"] == "auto-generated"
    assert second["Subject"].startswith("[VIVA-1000] ")

    third = mails[done.message_id]
    assert third["In-Reply-To"] == reply.message_id
    assert third["References"].split()[-2:] == [ack.message_id, reply.message_id]
    assert third["Auto-Submitted"] == "auto-generated"

    # staff notices are a thread of their own: never in the customer's mails
    notice = OutboundEmail.objects.get(ticket=ticket, event="staff_new_ticket")
    for mail in (first, second, third):
        assert notice.message_id not in (mail["References"] or "")
    for mail in smtp_server.messages:
        row = OutboundEmail.objects.get(message_id=mail.message["Message-ID"])
        assert_signed_envelope(mail.mail_from, row, "helpdesk", "viva.de")
        assert mail.message["X-Auto-Response-Suppress"] == "All"
        assert mail.message["X-Vivadesk-Loop"]
        assert mail.message["Reply-To"] == HELPDESK


def test_prefix_and_domains_come_from_settings(smtp_server, settings):
    vivadesk(
        settings,
        TICKET_PREFIX="HD",
        HELPDESK_EMAIL="support@service.example",
        MESSAGE_ID_DOMAIN="mail.service.example",
    )
    ticket = factories.ticket()
    row = ack_row(ticket)
    (sent,) = smtp_server.messages_to(CUSTOMER)
    assert ticket.reference == "HD-1000"
    assert str(sent.message["Subject"]).strip().startswith("[HD-1000] ")
    assert "VIVA-" not in sent.message["Subject"]
    assert sent.message["Message-ID"] == row.message_id
    assert row.message_id.endswith("@mail.service.example>")
    assert sent.message["Reply-To"] == "support@service.example"
    assert_signed_envelope(sent.mail_from, row, "support", "service.example")
    assert sent.message["X-Vivadesk-Loop"] == "mail.service.example"


def test_subject_with_line_breaks_and_2000_characters_is_one_clean_line(
    smtp_server,
):
    evil = "Hilfe\r\nBcc: victim@example.org\r\n\r\nInjected body " + "x" * 2000
    ticket = factories.ticket(subject=evil)
    row = ack_row(ticket)
    assert row.state == OutboundState.SENT, row.last_error

    (sent,) = smtp_server.messages_to(CUSTOMER)
    subject = str(sent.message["Subject"]).strip()  # unfolded by the parser
    assert "\n" not in subject and "\r" not in subject
    assert subject.startswith("[VIVA-1000] Hilfe Bcc: victim@example.org")
    assert len(subject) <= 255
    assert sent.message["Bcc"] is None
    assert sent.rcpt_tos == [CUSTOMER]
    assert "victim@example.org" not in " ".join(
        m.rcpt_tos[0] for m in smtp_server.messages
    )


def test_line_break_stored_in_subject_does_not_kill_the_task(smtp_server):
    ticket = factories.ticket()
    # data written before the service cleaned subjects (or by another writer)
    type(ticket).objects.filter(pk=ticket.pk).update(
        subject="Alt\r\nBcc: victim@example.org\x07\x1b"
    )
    tickets.change_status(ticket, TicketStatus.WAITING)
    row = OutboundEmail.objects.get(ticket=ticket, event="status_changed")
    assert row.state == OutboundState.SENT, row.last_error
    (sent,) = [
        m for m in smtp_server.messages_to(CUSTOMER) if "Alt" in m.message["Subject"]
    ]
    subject = str(sent.message["Subject"]).strip()  # unfolded by the parser
    assert "\n" not in subject
    assert subject.endswith("Alt Bcc: victim@example.org")
    assert sent.message["Bcc"] is None
    assert row.subject == subject


def test_customer_text_is_escaped_in_html_and_literal_in_text(smtp_server):
    body = (
        "<script>alert('x')</script> {{ ticket.secret }} {% debug %} "
        "Tom & Jerry <b>fett</b>"
    )
    ticket = factories.ticket(
        subject="<img src=x onerror=alert(1)> {{ 7|add:1 }}", body=body
    )
    assert ticket.secret

    for address in (CUSTOMER, HELPDESK):
        (sent,) = smtp_server.messages_to(address)
        html, text = sent.html, sent.text
        assert "<script>" not in html
        assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in html
        assert "<b>fett</b>" not in html and "&lt;b&gt;fett&lt;/b&gt;" in html
        assert "Tom &amp; Jerry" in html
        assert "{{ ticket.secret }}" in html and "{% debug %}" in html
        assert "<script>alert('x')</script>" in text  # shown literally
        assert "{{ ticket.secret }}" in text and "{% debug %}" in text
        assert "Tom & Jerry" in text
        assert ticket.secret not in html and ticket.secret not in text
        assert "<img" not in html
        assert "{{ 7|add:1 }}" in sent.message["Subject"]


def test_an_unusable_customer_message_id_is_left_out_of_our_headers(smtp_server):
    """A 400-character Message-ID does not fit ``In-Reply-To`` (and must not
    break the ticket's creation); later mails still thread on our own ids."""
    huge = "<" + "a" * 400 + "@customer.example>"
    ticket = factories.ticket(channel=Channel.EMAIL, message_id=huge)
    ack = ack_row(ticket)
    assert ack.state == OutboundState.SENT, ack.last_error
    assert ack.in_reply_to == "" and ack.references == ""
    (sent,) = smtp_server.messages_to(CUSTOMER)
    assert sent.message["In-Reply-To"] is None

    tickets.change_status(ticket, TicketStatus.WAITING)
    row = OutboundEmail.objects.get(ticket=ticket, event="status_changed")
    assert row.in_reply_to == ack.message_id
    assert row.references == ack.message_id
