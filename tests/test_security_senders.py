"""Spoofed senders (issue 15, item 5; item 3's staff addresses).

DMARC at our MX is judged for the domain the sender is matched by, from the
top-most Authentication-Results of our authserv-id only; look-alike domains
never fold onto a customer; automatic mail and bounces pass the same sender
and DMARC checks as human mail; a reply found by its subject alone, without
authentication, is "sender not verified" for agents; mail from a staff
address is held as ``staff_sender``.
"""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests import emails, factories
from tests.staff_support import agents_group, screen_url, url
from vivadesk_wagtail.mail import parsing
from vivadesk_wagtail.mail.inbound import ingest
from vivadesk_wagtail.models import (
    InboundMail,
    MessageKind,
    OutboundEmail,
    Ticket,
    TicketMessage,
)
from vivadesk_wagtail.services import customers, held_mail

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("fresh_content_types"),
]

MX = "mx.viva.de"
CUSTOMER = "kunde@example.com"


@pytest.fixture
def our_mx(settings):
    settings.VIVADESK = {**settings.VIVADESK, "MAIL_AUTHSERV_ID": MX}


def fill(name: str, **values) -> bytes:
    text = emails.load(name).decode()
    for key, value in values.items():
        text = text.replace("{{" + key + "}}", str(value))
    return text.encode()


def ack(ticket) -> OutboundEmail:
    return OutboundEmail.objects.get(ticket=ticket, event="ticket_created")


def with_from(raw: bytes, value: str) -> bytes:
    """``raw`` with its From header replaced by ``value``, sent as raw UTF-8
    (as SMTPUTF8 mail and many spam tools send it)."""
    head, body = raw.split(b"\n\n", 1)
    lines = [line for line in head.split(b"\n") if not line.startswith(b"From:")]
    return b"\n".join([f"From: {value}".encode(), *lines]) + b"\n\n" + body


def subject_reply(ticket, **kwargs) -> bytes:
    """A reply that names the ticket only by the reference in its subject."""
    kwargs.setdefault("subject", f"AW: [{ticket.reference}] {ticket.subject}")
    kwargs.setdefault("body", "Bitte an die neue Adresse liefern.\n")
    return emails.build(**kwargs)


def stored(ticket) -> TicketMessage:
    return ticket.messages.filter(channel="email").get()


# --- DMARC for the sender's own domain --------------------------------------


def test_a_dmarc_pass_for_another_domain_holds_the_mail(our_mx):
    """Our MX judged ``evil.example``, the sender we match is
    ``example.com``: the two read different From addresses."""
    ticket = factories.ticket()
    raw = subject_reply(
        ticket,
        headers={
            "Authentication-Results": f"{MX}; dmarc=pass header.from=evil.example"
        },
    )
    result = ingest(raw)
    assert (result.outcome, result.reason) == ("held", "dmarc_other_domain")
    assert not ticket.messages.filter(channel="email").exists()


def test_only_the_top_most_results_of_our_mx_count(our_mx):
    """A pass with our authserv-id below the one our MX added was brought by
    the sender: the reply is stored, but its sender is not verified."""
    ticket = factories.ticket()
    result = ingest(fill("authres-forged-below-ours.eml", REFERENCE=ticket.reference))
    assert result.outcome == "reply", result
    assert stored(ticket).sender_verified is False


def test_a_dmarc_pass_for_the_sender_domain_verifies_a_subject_only_reply(our_mx):
    ticket = factories.ticket()
    raw = subject_reply(
        ticket,
        headers={
            "Authentication-Results": (
                f"{MX}; spf=pass smtp.mailfrom=example.com;"
                " dkim=pass header.d=example.com;"
                " dmarc=pass (p=reject dis=none) header.from=Example.COM"
            )
        },
    )
    assert ingest(raw).outcome == "reply"
    assert stored(ticket).sender_verified is True


@pytest.mark.parametrize("header_from", ["bücher.de", "xn--bcher-kva.de"])
def test_dmarc_of_an_idn_domain_is_matched_in_idna(our_mx, header_from):
    user = factories.customer("kunde@bücher.de")
    ticket = factories.ticket(user)
    raw = with_from(
        subject_reply(
            ticket,
            headers={
                "Authentication-Results": f"{MX}; dmarc=pass header.from={header_from}"
            },
        ),
        "Kunde <kunde@bücher.de>",
    )
    assert ingest(raw).outcome == "reply"
    assert stored(ticket).sender_verified is True


@pytest.mark.parametrize(
    "results",
    [
        f"{MX}; spf=pass (not dmarc=fail, a comment) smtp.mailfrom=example.com;"
        " dmarc=pass header.from=example.com",
        f'{MX}; dkim=pass reason="dmarc=fail quoted" header.d=example.com;'
        " dmarc=pass header.from=example.com",
    ],
    ids=["comment", "quoted-string"],
)
def test_comments_and_quoted_strings_are_not_results(our_mx, results):
    ticket = factories.ticket()
    raw = subject_reply(ticket, headers={"Authentication-Results": results})
    assert ingest(raw).outcome == "reply"
    assert stored(ticket).sender_verified is True


def test_the_authserv_id_is_compared_without_case_and_version(our_mx):
    ticket = factories.ticket()
    raw = subject_reply(
        ticket,
        headers={
            "Authentication-Results": "MX.Viva.DE 1; dmarc=fail header.from=example.com"
        },
    )
    assert (ingest(raw).outcome, InboundMail.objects.get().reason) == (
        "held",
        "dmarc_fail",
    )


# --- look-alike addresses ---------------------------------------------------

LOOKALIKES = [
    "kunde@\uff45xample.com",  # fullwidth e: NFKC folds it onto "e"
    "kunde@exam\u00adple.com",  # soft hyphen: IDNA removes it
    "kunde@exa\u200bmple.com",  # zero-width space: IDNA removes it
    "kunde@exa\u200dmple.com",  # zero-width joiner
    "kunde@ex\u0430mple.com",  # Cyrillic a among Latin letters
    "kunde@xn--exmple-4nf.com",  # the same, written as its A-label
]
LOOKALIKE_IDS = [
    "fullwidth",
    "soft-hyphen",
    "zero-width-space",
    "zero-width-joiner",
    "mixed-script",
    "mixed-script-a-label",
]


@pytest.mark.parametrize("address", LOOKALIKES, ids=LOOKALIKE_IDS)
def test_lookalike_sender_of_a_new_mail_is_an_unknown_sender(address):
    factories.customer(CUSTOMER)
    mail.outbox.clear()
    raw = with_from(emails.build(subject="Neue Bankverbindung"), f"Kunde <{address}>")
    result = ingest(raw)
    assert (result.outcome, result.reason) == ("held", "unknown_sender")
    assert Ticket.objects.count() == 0
    assert mail.outbox == []
    # Staff see the address as it was written, not as the customer's.
    assert InboundMail.objects.get().sender != CUSTOMER


@pytest.mark.parametrize("address", LOOKALIKES, ids=LOOKALIKE_IDS)
def test_lookalike_sender_of_a_reply_is_not_the_customer(address):
    ticket = factories.ticket()
    raw = with_from(
        emails.build(
            subject=f"AW: [{ticket.reference}] {ticket.subject}",
            in_reply_to=ack(ticket).message_id,
        ),
        f"Kunde <{address}>",
    )
    result = ingest(raw)
    assert (result.outcome, result.reason) == ("held", "sender_mismatch")
    assert not ticket.messages.filter(channel="email").exists()


@pytest.mark.parametrize("address", LOOKALIKES, ids=LOOKALIKE_IDS)
def test_normalize_email_refuses_lookalikes(address):
    with pytest.raises(customers.InvalidAddressError):
        customers.normalize_email(address)


@pytest.mark.parametrize(
    ("address", "expected"),
    [
        ("Kunde@Bücher.DE", "Kunde@xn--bcher-kva.de"),
        ("kunde@xn--bcher-kva.de", "kunde@xn--bcher-kva.de"),
        ("info@日本語.jp", "info@xn--wgv71a119e.jp"),
        ("info@東京タワー.jp", "info@xn--5ck2eqb538s34z.jp"),
        ("info@αβγ.gr", "info@xn--mxacd.gr"),
        ("KUNDE@EXAMPLE.COM", "KUNDE@example.com"),
    ],
)
def test_real_international_domains_still_normalise(address, expected):
    assert customers.normalize_email(address) == expected
    assert parsing.strict_sender([f"K <{address}>"]) == (expected, "")


# --- automatic mail and bounces are checked like any other mail -------------


def test_dmarc_failing_auto_reply_is_held_and_never_stored(our_mx, client):
    """The issue's case: ``Auto-Submitted: auto-replied`` skipped the DMARC
    check, and the forged text landed in the customer's portal."""
    ticket = factories.ticket()
    raw = fill(
        "spoofed-autoreply-dmarc-fail.eml",
        REFERENCE=ticket.reference,
        IN_REPLY_TO=ack(ticket).message_id,
    )
    result = ingest(raw)
    assert (result.outcome, result.reason) == ("held", "dmarc_fail")
    assert not ticket.messages.filter(channel="email").exists()
    client.force_login(ticket.customer)
    page = client.get(f"/de/helpdesk/requests/{ticket.reference}/")
    assert page.status_code == 200
    assert "neues Konto" not in page.content.decode()


def test_auto_reply_with_an_ambiguous_from_is_held_not_matched():
    ticket = factories.ticket()
    raw = with_from(
        emails.build(
            subject=f"Abwesenheitsnotiz: [{ticket.reference}] {ticket.subject}",
            in_reply_to=ack(ticket).message_id,
            headers={"Auto-Submitted": "auto-replied"},
        ),
        "kunde@example.com)<mallory@evil.example>",
    )
    result = ingest(raw)
    assert (result.outcome, result.reason) == ("held", "ambiguous_from")
    assert not ticket.messages.filter(channel="email").exists()


def test_auto_reply_found_by_subject_alone_is_not_stored():
    """Without our Message-ID or authentication an "automatic reply" is
    anybody's text: it is not put into the customer's thread."""
    ticket = factories.ticket()
    raw = subject_reply(ticket, headers={"Auto-Submitted": "auto-replied"})
    assert ingest(raw).outcome == "ignored_auto"
    assert not ticket.messages.filter(channel="email").exists()


def test_auto_reply_to_our_mail_is_still_stored(our_mx):
    ticket = factories.ticket()
    raw = emails.build(
        subject=f"Abwesenheitsnotiz: [{ticket.reference}] {ticket.subject}",
        in_reply_to=ack(ticket).message_id,
        headers={"Auto-Submitted": "auto-replied"},
    )
    assert ingest(raw).outcome == "ignored_auto"
    assert stored(ticket).kind == MessageKind.AUTO


def _envelope_sender(row) -> str:
    (sent,) = [
        m for m in mail.outbox if m.extra_headers.get("Message-ID") == row.message_id
    ]
    return sent.from_email


def test_dmarc_failing_bounce_is_held_and_changes_nothing(our_mx):
    ticket = factories.ticket()
    row = ack(ticket)
    raw = fill(
        "dsn-bounce-postfix.eml",
        BOUNCE_ADDRESS=_envelope_sender(row),
        MESSAGE_ID=row.message_id,
    )
    raw = (
        f"Authentication-Results: {MX}; dmarc=fail header.from=mx.example.net\n"
    ).encode() + raw
    result = ingest(raw)
    assert (result.outcome, result.reason) == ("held", "dmarc_fail")
    row.refresh_from_db()
    assert row.state == "sent"
    assert not ticket.customer.helpdesk_profile.mail_undeliverable


# --- "sender not verified" ---------------------------------------------------


def test_reply_by_subject_alone_is_marked_sender_not_verified():
    ticket = factories.ticket()
    result = ingest(subject_reply(ticket))
    assert result.outcome == "reply"
    assert stored(ticket).sender_verified is False


def test_reply_to_our_message_id_is_verified():
    ticket = factories.ticket()
    raw = subject_reply(ticket, in_reply_to=ack(ticket).message_id)
    assert ingest(raw).outcome == "reply"
    assert stored(ticket).sender_verified is True


def test_reply_naming_only_a_message_id_we_received_is_not_verified():
    """The customer's own Message-IDs went to whoever they copied: they are
    no proof that the sender saw our mail."""
    ticket = factories.ticket()
    first = emails.build(
        subject="AW: Drucker", in_reply_to=ack(ticket).message_id, message_id="<m1@x>"
    )
    assert ingest(first).outcome == "reply"
    second = emails.build(subject="noch etwas", in_reply_to="<m1@x>")
    assert ingest(second).outcome == "reply"
    latest = ticket.messages.filter(channel="email").latest("pk")
    assert latest.sender_verified is False


@pytest.fixture
def agent_client(client):
    agent = factories.StaffFactory(username="agent", first_name="Anna")
    agent.groups.add(agents_group())
    client.force_login(agent)
    return client


def test_agents_see_the_unverified_sender_and_can_filter_by_it(agent_client):
    verified = factories.ticket(subject="Alpha")
    unverified = factories.ticket(subject="Bravo")
    ingest(subject_reply(unverified))
    ingest(subject_reply(verified, in_reply_to=ack(verified).message_id))

    screen = agent_client.get(screen_url(unverified)).content.decode()
    # The admin speaks the site's language (German) to this agent.
    assert "Absender nicht bestätigt" in screen
    assert "nur über die Ticket-ID im Betreff zugeordnet" in screen
    assert "Absender nicht bestätigt" not in (
        agent_client.get(screen_url(verified)).content.decode()
    )

    with CaptureQueriesContext(connection) as queries:
        listing = agent_client.get(url("list") + "?show=all&sender=unverified")
    assert listing.status_code == 200
    html = listing.content.decode()
    assert unverified.reference in html
    assert verified.reference not in html
    listed = [q["sql"] for q in queries if "vivadesk_wagtail_ticketmessage" in q["sql"]]
    assert listed and all("EXISTS" in sql.upper() for sql in listed), listed


# --- staff addresses ---------------------------------------------------------


def staff(email="anna@viva.de", **kwargs):
    return factories.StaffFactory(username="anna", email=email, **kwargs)


def test_new_mail_from_a_staff_address_is_held_as_staff_sender():
    staff()
    result = ingest(emails.build(sender="Anna <Anna@VIVA.de>"))
    assert (result.outcome, result.reason) == ("held", "staff_sender")
    assert Ticket.objects.count() == 0


def test_staff_with_a_customer_profile_opens_no_ticket():
    user = staff()
    profile = customers.profile_of(user)
    profile.confirmed_at = profile.created_at
    profile.save()
    result = ingest(emails.build(sender="anna@viva.de"))
    assert (result.outcome, result.reason) == ("held", "staff_sender")
    assert Ticket.objects.count() == 0


def test_deactivated_staff_gets_no_activation_link():
    """Item 3: a profile made for a staff user (an old password reset), the
    account deactivated by an admin: mail from it used to trigger an
    activation link."""
    user = staff(is_active=False)
    customers.profile_of(user)
    mail.outbox.clear()
    result = ingest(emails.build(sender="anna@viva.de"))
    assert (result.outcome, result.reason) == ("held", "staff_sender")
    assert not OutboundEmail.objects.filter(event="activation").exists()
    assert mail.outbox == []


def test_customer_account_sharing_a_staff_address_is_held_too():
    """A customer account made before the address became a superuser's."""
    factories.customer("anna@viva.de")
    staff(is_superuser=True)
    result = ingest(emails.build(sender="anna@viva.de"))
    assert (result.outcome, result.reason) == ("held", "staff_sender")


def test_reply_from_a_staff_address_is_held_as_staff_sender():
    staff()
    ticket = factories.ticket()
    raw = subject_reply(
        ticket, sender="anna@viva.de", in_reply_to=ack(ticket).message_id
    )
    result = ingest(raw)
    assert (result.outcome, result.reason) == ("held", "staff_sender")
    assert not ticket.messages.filter(channel="email").exists()


def test_staff_cannot_accept_a_staff_address_as_a_new_customer():
    staff()
    ingest(emails.build(sender="anna@viva.de"))
    row = InboundMail.objects.get()
    with pytest.raises(held_mail.HeldMailError):
        held_mail.accept_as_new_ticket(row.pk, by=None)
    assert Ticket.objects.count() == 0
    assert get_user_model().objects.filter(email__iexact="anna@viva.de").count() == 1
