"""Issue 15, item 1: a forged bounce never silences a customer (DESIGN.md
decision 7).

Bounces are believed only through a signed VERP token and a real
delivery-status report about the row's recipient; everything else is
automatic mail or held for review. Agents see why an address is marked, with
the bounce, and clear the mark (audit-logged); mail the customer asks for
still goes out while it is marked.

Every signed address here is the one the outbox really sent with (the
envelope sender the SMTP server saw); only the forgeries are made by hand.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import signing
from django.test import Client
from django.urls import reverse
from django.utils.http import int_to_base36
from wagtail.models import ModelLogEntry

from tests import emails, factories
from tests import smtp_server as smtp_fixtures
from tests.staff_support import assert_denied, group, screen_url, url
from tests.timing import clock
from vivadesk_wagtail import tasks
from vivadesk_wagtail.mail import verp
from vivadesk_wagtail.mail.inbound import ingest
from vivadesk_wagtail.models import (
    CustomerProfile,
    InboundMail,
    MessageKind,
    OutboundEmail,
    OutboundState,
)
from vivadesk_wagtail.permissions import AGENTS_GROUP
from vivadesk_wagtail.services import deliverability, tickets

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("fresh_content_types"),
]

smtp_server = smtp_fixtures.smtp_server

CUSTOMER = "kunde@example.com"
HELD_MAIL = "wagtailsnippets_vivadesk_wagtail_inboundmail"


def fill(name: str, **values) -> bytes:
    text = emails.load(name).decode()
    for key, value in values.items():
        text = text.replace("{{" + key + "}}", str(value))
    return text.encode()


def sent_acknowledgement(smtp_server):
    """A ticket whose acknowledgement went out over SMTP: ``(ticket, row,
    envelope sender the server saw)``."""
    ticket = factories.ticket()
    row = OutboundEmail.objects.get(ticket=ticket, event="ticket_created")
    assert row.state == OutboundState.SENT, row.last_error
    (sent,) = [
        m
        for m in smtp_server.messages_to(CUSTOMER)
        if m.message["Message-ID"] == row.message_id
    ]
    return ticket, row, sent.mail_from


def bounce(name: str, address: str, row: OutboundEmail, **replace) -> bytes:
    raw = fill(name, BOUNCE_ADDRESS=address, MESSAGE_ID=row.message_id).decode()
    for old, new in replace.items():
        assert old in raw
        raw = raw.replace(old, new)
    return raw.encode()


def profile() -> CustomerProfile:
    return CustomerProfile.objects.get(email=CUSTOMER)


def assert_untouched(row: OutboundEmail) -> None:
    """The outbox row is still sent and the address is not marked."""
    row.refresh_from_db()
    assert row.state == OutboundState.SENT
    marked = profile()
    assert not marked.mail_undeliverable
    assert marked.undeliverable_since is None
    assert marked.undeliverable_bounce is None


def assert_reply_reaches_customer(ticket, smtp_server) -> None:
    before = len(smtp_server.messages_to(CUSTOMER))
    tickets.add_message(
        ticket,
        tickets.NewMessage(
            body="Bitte neu starten.",
            kind=MessageKind.STAFF,
            author=factories.StaffFactory(),
        ),
    )
    assert len(smtp_server.messages_to(CUSTOMER)) == before + 1


def token_of(address: str) -> str:
    return address.partition("+bounce-")[2].rpartition("@")[0]


# --- forgeries ------------------------------------------------------------


def test_forged_mailer_daemon_mail_to_the_bare_id_address_silences_nobody(
    smtp_server,
):
    """The reported attack: MAILER-DAEMON@anything naming
    ``helpdesk+bounce-<outbox id>@`` in To:."""
    ticket, row, _envelope = sent_acknowledgement(smtp_server)
    forged = fill(
        "forged-bounce-bare-id.eml", BOUNCE_ADDRESS=f"helpdesk+bounce-{row.pk}@viva.de"
    )
    result = ingest(forged)
    assert (result.outcome, result.reason) == ("ignored_auto", "bounce_unverified")
    assert InboundMail.objects.get().outbound is None
    assert_untouched(row)
    assert_reply_reaches_customer(ticket, smtp_server)


def forgeries(row: OutboundEmail, envelope: str) -> dict[str, str]:
    """Addresses an attacker can make: the bare id of the old scheme, a real
    token with its signature altered, this row's signature on another id,
    Django's default salt, no token at all."""
    token = token_of(envelope)
    pk36, _dot, signature = token.partition(".")
    flipped = signature[:-1] + ("a" if signature[-1] != "a" else "b")
    other_id = int_to_base36(row.pk + 1)
    default_salt = signing.Signer(sep=".").sign(pk36).lower()
    return {
        "bare_id": f"helpdesk+bounce-{row.pk}@viva.de",
        "altered_signature": f"helpdesk+bounce-{pk36}.{flipped}@viva.de",
        "signature_of_another_row": f"helpdesk+bounce-{other_id}.{signature}@viva.de",
        "default_salt": f"helpdesk+bounce-{default_salt}@viva.de",
        "empty": "helpdesk+bounce-@viva.de",
    }


@pytest.mark.parametrize(
    "kind",
    [
        "bare_id",
        "altered_signature",
        "signature_of_another_row",
        "default_salt",
        "empty",
    ],
)
def test_a_perfect_report_to_an_unsigned_address_is_automatic_mail(smtp_server, kind):
    ticket, row, envelope = sent_acknowledgement(smtp_server)
    OutboundEmail.objects.create(  # the row a swapped id would name
        event="staff_reply",
        ticket=ticket,
        recipient=CUSTOMER,
        language="de",
        message_id="<other@viva.de>",
        state=OutboundState.SENT,
    )
    address = forgeries(row, envelope)[kind]
    result = ingest(bounce("dsn-bounce-postfix.eml", address, row))
    assert (result.outcome, result.reason) == ("ignored_auto", "bounce_unverified")
    assert InboundMail.objects.get().outbound is None
    assert_untouched(row)
    assert not OutboundEmail.objects.filter(state=OutboundState.FAILED).exists()
    assert_reply_reaches_customer(ticket, smtp_server)


def test_a_report_about_another_recipient_is_held(smtp_server):
    """The mail was forwarded and the forward target bounced: that says
    nothing about the customer's own address."""
    _ticket, row, envelope = sent_acknowledgement(smtp_server)
    result = ingest(bounce("dsn-other-recipient.eml", envelope, row))
    assert (result.outcome, result.reason) == ("held", "bounce_unconfirmed")
    inbound = InboundMail.objects.get()
    assert inbound.outbound == row
    assert "kunde.privat@example.net" in inbound.detail
    assert_untouched(row)


def test_mail_to_a_signed_address_that_is_no_report_is_held(smtp_server):
    _ticket, row, envelope = sent_acknowledgement(smtp_server)
    result = ingest(fill("forged-bounce-bare-id.eml", BOUNCE_ADDRESS=envelope))
    assert (result.outcome, result.reason) == ("held", "bounce_unconfirmed")
    assert InboundMail.objects.get().outbound == row
    assert_untouched(row)


@pytest.mark.parametrize(
    ("action", "status"),
    [
        ("delivered", "2.0.0"),
        ("failed", "2.0.0"),
        ("failed", "5.1"),
        ("delayed", "5.1.1"),
        ("relayed", "4.4.1"),
    ],
)
def test_a_report_that_is_neither_a_failure_nor_a_delay_is_held(
    smtp_server, action, status
):
    _ticket, row, envelope = sent_acknowledgement(smtp_server)
    raw = bounce(
        "dsn-bounce-postfix.eml",
        envelope,
        row,
        **{"Action: failed\nStatus: 5.1.1": f"Action: {action}\nStatus: {status}"},
    )
    result = ingest(raw)
    assert (result.outcome, result.reason) == ("held", "bounce_unconfirmed")
    assert_untouched(row)


def test_a_report_nested_in_a_forwarded_mail_is_no_report(smtp_server):
    """Only the mail itself can be the report, not one it carries."""
    _ticket, row, envelope = sent_acknowledgement(smtp_server)
    report = bounce("dsn-bounce-postfix.eml", envelope, row).decode()
    wrapper = (
        f"From: MAILER-DAEMON@mx.viva.de\nTo: {envelope}\n"
        "Subject: Fwd: Undelivered Mail\nMessage-ID: <wrap@mx.viva.de>\n"
        'MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="w"\n\n'
        "--w\nContent-Type: text/plain\n\nsiehe Anhang\n"
        f"--w\nContent-Type: message/rfc822\n\n{report}\n--w--\n"
    )
    result = ingest(wrapper.encode())
    assert (result.outcome, result.reason) == ("held", "bounce_unconfirmed")
    assert_untouched(row)


# --- real bounces ---------------------------------------------------------


def test_a_real_5xx_report_marks_the_address_with_its_bounce(smtp_server):
    ticket, row, envelope = sent_acknowledgement(smtp_server)
    result = ingest(bounce("dsn-bounce-postfix.eml", envelope, row))
    assert (result.outcome, result.reason) == ("ignored_auto", "bounce")
    inbound = InboundMail.objects.get()
    assert inbound.outbound == row and inbound.ticket == ticket
    row.refresh_from_db()
    assert row.state == OutboundState.FAILED
    marked = profile()
    assert marked.mail_undeliverable
    assert marked.undeliverable_since is not None
    assert "Status: 5.1.1" in marked.undeliverable_detail
    assert "User unknown" in marked.undeliverable_detail
    assert marked.undeliverable_bounce == inbound


def test_a_case_folded_signed_address_still_verifies(smtp_server):
    """Mail systems may change the case of a local part."""
    _ticket, row, envelope = sent_acknowledgement(smtp_server)
    result = ingest(bounce("dsn-bounce-postfix.eml", envelope.upper(), row))
    assert result.reason == "bounce"
    assert profile().mail_undeliverable


def test_a_token_signed_before_a_key_rotation_verifies_with_the_fallback(
    smtp_server, settings
):
    old_key = settings.SECRET_KEY
    _ticket, row, envelope = sent_acknowledgement(smtp_server)
    settings.SECRET_KEY = "a-new-secret-key-" + "x" * 40
    settings.SECRET_KEY_FALLBACKS = []
    assert verp.verified_pk(token_of(envelope)) is None
    settings.SECRET_KEY_FALLBACKS = [old_key]
    assert verp.verified_pk(token_of(envelope)) == row.pk
    result = ingest(bounce("dsn-bounce-postfix.eml", envelope, row))
    assert result.reason == "bounce"
    assert profile().mail_undeliverable


def test_a_report_under_a_rotated_key_without_fallback_is_automatic_mail(
    smtp_server, settings
):
    _ticket, row, envelope = sent_acknowledgement(smtp_server)
    settings.SECRET_KEY = "a-new-secret-key-" + "x" * 40
    settings.SECRET_KEY_FALLBACKS = []
    result = ingest(bounce("dsn-bounce-postfix.eml", envelope, row))
    assert (result.outcome, result.reason) == ("ignored_auto", "bounce_unverified")
    assert_untouched(row)


def test_a_4xx_report_sends_the_mail_again_and_marks_nothing(smtp_server):
    _ticket, row, envelope = sent_acknowledgement(smtp_server)
    result = ingest(bounce("dsn-transient-postfix.eml", envelope, row))
    assert (result.outcome, result.reason) == ("ignored_auto", "bounce_transient")
    assert InboundMail.objects.get().outbound == row
    row.refresh_from_db()
    assert row.state == OutboundState.PENDING
    assert "4.4.1" in row.last_error
    assert not profile().mail_undeliverable

    with clock(timedelta(hours=2)):
        assert tasks.sweep_outbox() == 1
    row.refresh_from_db()
    assert row.state == OutboundState.SENT and row.attempts == 2
    resent = [
        m
        for m in smtp_server.messages_to(CUSTOMER)
        if m.message["Message-ID"] == row.message_id
    ]
    assert len(resent) == 2  # the same mail, the same Message-ID


def test_a_delay_warning_changes_nothing(smtp_server):
    """``Action: delayed``: the reporting server is still trying."""
    _ticket, row, envelope = sent_acknowledgement(smtp_server)
    result = ingest(bounce("dsn-delayed-postfix.eml", envelope, row))
    assert (result.outcome, result.reason) == ("ignored_auto", "bounce_delayed")
    assert InboundMail.objects.get().outbound == row
    assert_untouched(row)
    assert row.attempts == 1


def test_the_signed_local_part_fits_rfc_5321(settings):
    for pk in (1, 4711, 2**31 - 1, 2**63 - 1):
        address = verp.address(pk)
        local = address.rpartition("@")[0]
        assert len(local) <= 64, address
        assert local.startswith("helpdesk+bounce-")
        assert set(token_of(address)) <= set("0123456789abcdefghijklmnopqrstuvwxyz.")
        assert verp.verified_pk(token_of(address)) == pk


# --- agents ---------------------------------------------------------------


def bounced(smtp_server):
    """A ticket whose customer's address a real 5.1.1 report marked."""
    ticket, row, envelope = sent_acknowledgement(smtp_server)
    ingest(bounce("dsn-bounce-postfix.eml", envelope, row))
    assert profile().mail_undeliverable
    return ticket, InboundMail.objects.get()


def test_agents_see_since_when_why_and_the_bounce(smtp_server, agent_client):
    group(AGENTS_GROUP, "vivadesk_wagtail.view_inboundmail")  # as migration 0003
    ticket, inbound = bounced(smtp_server)
    html = agent_client.get(screen_url(ticket)).content.decode()
    assert "Mail undeliverable" in html
    assert "No mail goes to this address since" in html
    assert "Status: 5.1.1" in html
    held_url = reverse(f"{HELD_MAIL}:inspect", args=[inbound.pk])
    assert held_url in html
    assert url("raw_mail", inbound.pk) in html
    assert url("clear_undeliverable", ticket.pk) in html

    page = agent_client.get(held_url)
    assert page.status_code == 200
    assert "Undelivered Mail Returned to Sender" in page.content.decode()
    raw = agent_client.get(url("raw_mail", inbound.pk))
    assert raw.status_code == 200
    assert b"report-type=delivery-status" in b"".join(raw.streaming_content)


def test_the_smtp_refusal_is_shown_without_a_bounce(smtp_server, agent_client):
    smtp_server.refuse_rcpt[CUSTOMER] = "550 5.1.1 No such user here"
    ticket = factories.ticket()
    html = agent_client.get(screen_url(ticket)).content.decode()
    assert "Mail undeliverable" in html
    assert "No such user here" in html
    assert "The mail server refused the address" in html
    assert "Show the bounce" not in html


def test_an_agent_clears_the_mark_audit_logged_and_mail_flows_again(
    smtp_server, agent, agent_client
):
    ticket, inbound = bounced(smtp_server)
    response = agent_client.post(url("clear_undeliverable", ticket.pk))
    assert response.status_code == 302
    assert response["Location"] == screen_url(ticket)
    cleared = profile()
    assert not cleared.mail_undeliverable
    assert cleared.undeliverable_since is None
    assert cleared.undeliverable_detail == ""
    assert cleared.undeliverable_bounce is None

    (entry,) = ModelLogEntry.objects.filter(action="vivadesk.undeliverable_cleared")
    assert entry.object_id == str(ticket.pk) and entry.user == agent
    assert entry.data["email"] == CUSTOMER
    assert entry.data["bounce"] == inbound.pk
    assert "5.1.1" in entry.data["detail"]
    history = agent_client.get(url("history", ticket.pk)).content.decode()
    assert f"Mail to {CUSTOMER} allowed again" in history

    agent_client.post(url("clear_undeliverable", ticket.pk))  # a second POST
    assert (
        ModelLogEntry.objects.filter(action="vivadesk.undeliverable_cleared").count()
        == 1
    )
    assert "Mail undeliverable" not in (
        agent_client.get(screen_url(ticket)).content.decode()
    )
    assert_reply_reaches_customer(ticket, smtp_server)


def test_only_agents_clear_the_mark_and_only_by_post_with_csrf(
    smtp_server, agent, editor, client
):
    ticket, _inbound = bounced(smtp_server)
    clear = url("clear_undeliverable", ticket.pk)

    assert client.post(clear).status_code == 302  # anonymous: to the login
    client.force_login(editor)
    assert_denied(client.post(clear), clear)
    assert profile().mail_undeliverable

    client.force_login(agent)
    assert client.get(clear).status_code == 405
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(agent)
    assert strict.post(clear).status_code == 403
    assert profile().mail_undeliverable
    assert not ModelLogEntry.objects.filter(
        action="vivadesk.undeliverable_cleared"
    ).exists()


# --- mail the customer asks for -------------------------------------------


def test_a_password_reset_is_mailed_while_the_address_is_marked(smtp_server):
    ticket = factories.ticket()
    deliverability.mark_undeliverable(CUSTOMER, "550 5.1.1 No such user")
    response = Client().post("/en/helpdesk/password-reset/", {"email": CUSTOMER})
    assert response.status_code == 302
    row = OutboundEmail.objects.get(event="password_reset")
    assert row.state == OutboundState.SENT, row.last_error
    assert any(
        m.message["Message-ID"] == row.message_id
        for m in smtp_server.messages_to(CUSTOMER)
    )
    # notifications stay suppressed while the mark is set
    tickets.add_message(
        ticket,
        tickets.NewMessage(
            body="Antwort", kind=MessageKind.STAFF, author=factories.StaffFactory()
        ),
    )
    assert not OutboundEmail.objects.filter(event="staff_reply").exists()


def test_a_new_activation_link_is_mailed_while_the_address_is_marked(smtp_server):
    factories.customer(confirmed=False)
    deliverability.mark_undeliverable(CUSTOMER, "550 5.1.1 No such user")
    response = Client().post("/en/helpdesk/activate/new-link/", {"email": CUSTOMER})
    assert response.status_code == 200
    row = OutboundEmail.objects.get(event="activation")
    assert row.state == OutboundState.SENT, row.last_error
    assert len(smtp_server.messages_to(CUSTOMER)) == 1
