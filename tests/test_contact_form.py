"""Contact-form pages: tickets, automatic accounts, confirmation, activation."""

import re
from urllib.parse import urlsplit

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.tokens import default_token_generator
from django.core import mail
from django.test import Client

from tests import factories
from tests.pages_support import form_data, mails_to, normalised, post
from vivadesk_wagtail.accounts.tokens import activation_token, uid_for
from vivadesk_wagtail.models import (
    CaughtSubmission,
    CustomerProfile,
    OutboundEmail,
    Ticket,
    TicketAttachment,
)
from vivadesk_wagtail.pages.forms import HONEYPOT

pytestmark = pytest.mark.django_db(transaction=True)


def test_german_journey_from_form_to_logged_in_portal(site, client):
    response = post(client, "/de/kontakt/")
    assert response.status_code == 200
    ticket = Ticket.objects.get()
    assert ticket.reference in response.content.decode()
    assert "Vielen Dank" in response.content.decode()
    assert ticket.language == "de"
    assert ticket.category.name == "Allgemein"
    assert ticket.form_data == [
        {
            "name": "customer_number",
            "label": "Kundennummer (falls vorhanden)",
            "value": "K-42",
        }
    ]
    user = ticket.customer
    assert not user.is_active and not user.has_usable_password()
    assert user.helpdesk_profile.confirmed_at is None

    (confirmation,) = mails_to("erika@example.com")
    assert confirmation.subject.startswith(f"[{ticket.reference}]")
    # Nothing the submitter wrote goes to an unconfirmed address.
    for text in ("Drucker", "Seit gestern"):
        assert text not in confirmation.subject
        assert text not in confirmation.body
    link = re.search(r"http://\S+/de/helpdesk/activate/\S+/", confirmation.body).group(
        0
    )
    path = urlsplit(link).path

    # A mail scanner's GET changes nothing.
    assert client.get(path).status_code == 200
    user.refresh_from_db()
    assert not user.is_active

    response = client.post(
        path,
        {
            "full_name": "Erika Mustermann",
            "new_password1": "Gute-Frage-2026",
            "new_password2": "Gute-Frage-2026",
        },
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.is_active and user.helpdesk_profile.confirmed_at is not None
    assert user.get_full_name() == "Erika Mustermann"
    assert client.session.get("_auth_user_id") == str(user.pk)

    # The link is single-use.
    other = Client()
    assert other.get(path).status_code == 400


def test_english_page_works_in_english(site, client):
    response = post(client, "/en/contact/", email="john@example.com")
    assert "Thank you for your request" in response.content.decode()
    ticket = Ticket.objects.get()
    assert ticket.language == "en"
    assert ticket.form_data[0]["label"] == "Customer number (if you have one)"
    (confirmation,) = mails_to("john@example.com")
    assert "/en/helpdesk/activate/" in confirmation.body
    assert "confirm" in confirmation.body


def test_thank_you_page_is_the_same_for_new_unconfirmed_and_confirmed(site):
    factories.customer("known@example.com", confirmed=True)
    factories.customer("pending@example.com", confirmed=False)
    pages = []
    for address in ("known@example.com", "pending@example.com", "new@example.com"):
        client = Client()
        response = post(client, "/de/kontakt/", email=address)
        pages.append(normalised(response, address))
    assert pages[0] == pages[1] == pages[2]
    known = get_user_model().objects.get(email="known@example.com")
    assert Ticket.objects.filter(customer=known).count() == 1


def test_confirmed_address_gets_ticket_link_and_copy_only_when_signed_in(site, client):
    """DESIGN.md decision 10: a post that is not signed in as the address's
    customer is never quoted back to it; the customer's own post is."""
    # Not the demo's "Erika Mustermann": she signs the legal line under mails.
    known = factories.customer(
        "known@example.com", confirmed=True, name="Greta Gründlich"
    )
    post(client, "/de/kontakt/", email="KNOWN@example.com")
    (anonymous,) = mails_to("known@example.com")
    first = Ticket.objects.get()
    for text in ("Drucker", "Seit gestern", "K-42", "Greta"):
        assert text not in anonymous.subject
        assert text not in anonymous.body
    assert f"/de/helpdesk/requests/{first.reference}/" in anonymous.body
    assert "/activate/" not in anonymous.body

    signed_in = Client()
    signed_in.force_login(known)
    post(signed_in, "/de/kontakt/", email="known@example.com")
    copy = mails_to("known@example.com")[-1]
    assert "Drucker druckt nicht" in copy.subject
    assert "Seit gestern druckt der Drucker nicht mehr." in copy.body
    assert "/activate/" not in copy.body
    assert CustomerProfile.objects.count() == 1


@pytest.mark.parametrize(
    "overrides",
    [{HONEYPOT: "http://spam.example"}, {"shown": "forged"}],
    ids=["honeypot", "forged-timestamp"],
)
def test_bots_get_the_thank_you_page_and_nothing_is_stored(site, client, overrides):
    """Caught: no ticket, account or mail, and no Ticket ID on the page (it
    would be made up); the post is kept as spam for review."""
    response = post(client, "/de/kontakt/", **overrides)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Vielen Dank" in html
    assert not re.search(r"VIVA-\d", html)
    assert Ticket.objects.count() == 0
    assert OutboundEmail.objects.count() == 0
    assert get_user_model().objects.filter(email="erika@example.com").count() == 0
    assert CaughtSubmission.objects.get().email == "erika@example.com"


def test_too_fast_submission_is_dropped(site, client, settings):
    settings.VIVADESK = {**settings.VIVADESK, "MIN_FILL_SECONDS": 60}
    response = post(client, "/de/kontakt/")
    assert Ticket.objects.count() == 0
    assert not re.search(r"VIVA-\d", response.content.decode())
    assert CaughtSubmission.objects.get().reason == "too_fast"


@pytest.mark.parametrize("missing", ["name", "email", "subject", "message"])
def test_missing_field_is_reported_in_german_and_nothing_stored(site, client, missing):
    response = post(client, "/de/kontakt/", **{missing: ""})
    assert response.status_code == 200
    assert "Dieses Feld muss ausgefüllt werden" in response.content.decode()
    assert Ticket.objects.count() == 0 and OutboundEmail.objects.count() == 0


def test_invalid_address_is_refused(site, client):
    response = post(client, "/de/kontakt/", email="not-an-address")
    assert "gültige E-Mail-Adresse" in response.content.decode()
    assert Ticket.objects.count() == 0


def test_subject_with_line_breaks_is_cleaned(site, client):
    post(client, "/de/kontakt/", subject="Hi\r\nBcc: x@evil.example")
    ticket = Ticket.objects.get()
    assert ticket.subject == "Hi Bcc: x@evil.example"
    assert all("\n" not in m.subject for m in mail.outbox)


def test_markup_is_stored_verbatim(site, client):
    evil = "<script>alert(1)</script> {{ request }} {% debug %}"
    post(client, "/de/kontakt/", message=evil, subject=evil, email="known@example.com")
    ticket = Ticket.objects.get()
    assert ticket.messages.get().body == evil
    assert ticket.subject == evil


def test_double_submit_creates_one_ticket(site, client):
    data = form_data(client, "/de/kontakt/")
    first = client.post("/de/kontakt/", data)
    second = client.post("/de/kontakt/", data)
    assert Ticket.objects.count() == 1
    reference = Ticket.objects.get().reference
    assert reference in first.content.decode() and reference in second.content.decode()


def test_same_new_address_twice_gives_one_account_two_tickets(site):
    for _ in range(2):
        post(Client(), "/de/kontakt/", email="twice@example.com")
    assert (
        CustomerProfile.objects.filter(email__iexact="twice@example.com").count() == 1
    )
    assert Ticket.objects.count() == 2
    # ≤ 1 confirmation mail per unconfirmed address per window.
    assert len(mails_to("twice@example.com")) == 1


@pytest.mark.parametrize(
    "lookalike", ["mıke@example.com", "MIKE@EXAMPLE.COM"], ids=["dotless-i", "case"]
)
def test_lookalike_addresses(site, lookalike):
    mike = factories.customer("mike@example.com", confirmed=True)
    post(Client(), "/de/kontakt/", email=lookalike)
    ticket = Ticket.objects.order_by("-pk").first()
    if lookalike.lower() == "mike@example.com":
        assert ticket.customer == mike
    else:
        assert ticket is None
        assert CustomerProfile.objects.count() == 1


@pytest.mark.parametrize(
    "lookalike",
    ["ｍike@example.com", "mike@ｅxample.com", "mike@exam\u00adple.com"],
    ids=["fullwidth-local", "fullwidth-domain", "soft-hyphen-domain"],
)
def test_fullwidth_address_is_refused_or_separate(site, lookalike):
    mike = factories.customer("mike@example.com", confirmed=True)
    post(Client(), "/de/kontakt/", email=lookalike)
    assert not Ticket.objects.filter(customer=mike).exists()


def test_attachment_is_stored_privately(site, client, settings):
    from django.core.files.uploadedfile import SimpleUploadedFile

    pdf = SimpleUploadedFile("rechnung.pdf", b"%PDF-1.4\n%test\n", "application/pdf")
    post(client, "/de/kontakt/", attachments=[pdf])
    attachment = TicketAttachment.objects.get()
    assert attachment.original_name == "rechnung.pdf"
    assert attachment.content_type == "application/pdf"
    assert "rechnung" not in attachment.file.name
    assert (
        not attachment.file.url
        if hasattr(attachment.file.storage, "base_url")
        and attachment.file.storage.base_url is None
        else True
    )


def test_oversized_and_forbidden_files_are_refused(site, client, settings):
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.VIVADESK = {**settings.VIVADESK, "ATTACHMENT_MAX_SIZE": 10}
    big = SimpleUploadedFile("big.pdf", b"%PDF-1.4\n" + b"x" * 100, "application/pdf")
    response = post(client, "/de/kontakt/", attachments=[big])
    assert response.status_code == 200
    assert Ticket.objects.count() == 0 and TicketAttachment.objects.count() == 0
    settings.VIVADESK = {**settings.VIVADESK, "ATTACHMENT_MAX_SIZE": 10_000}
    html = SimpleUploadedFile("x.png", b"<html><script>alert(1)</script>", "image/png")
    post(client, "/de/kontakt/", attachments=[html])
    assert Ticket.objects.count() == 0


def test_too_long_message_is_refused(site, client):
    response = post(client, "/de/kontakt/", message="x" * 3_000_000)
    assert response.status_code in (200, 400, 413)
    assert Ticket.objects.count() == 0


def test_rate_limit_per_ip_ignores_spoofed_forwarded_for(site, settings):
    settings.VIVADESK = {**settings.VIVADESK, "RATE_FORM_PER_IP": "2/h"}
    client = Client(REMOTE_ADDR="203.0.113.9")
    codes = []
    for n in range(3):
        data = form_data(client, "/de/kontakt/", email=f"r{n}@example.com")
        response = client.post("/de/kontakt/", data, HTTP_X_FORWARDED_FOR=f"10.0.0.{n}")
        codes.append(response.status_code)
    assert codes == [200, 200, 429]
    assert Ticket.objects.count() == 2


def test_expired_activation_link_offers_a_new_one(site, client, settings):
    from datetime import timedelta

    user = factories.customer("late@example.com", confirmed=False)
    token = activation_token.make_token(user)
    settings.VIVADESK = {
        **settings.VIVADESK,
        "ACTIVATION_MAX_AGE": timedelta(seconds=-1),
    }
    response = client.get(f"/de/helpdesk/activate/{uid_for(user)}/{token}/")
    assert response.status_code == 410
    assert "abgelaufen" in response.content.decode()
    response = client.post(
        "/de/helpdesk/activate/new-link/", {"email": "late@example.com"}
    )
    assert response.status_code == 200
    assert OutboundEmail.objects.filter(event="activation").count() == 1
    # Same answer for an unknown address, and no mail.
    unknown = client.post(
        "/de/helpdesk/activate/new-link/", {"email": "who@example.com"}
    )
    assert unknown.content.decode().replace(
        "who@example.com", ""
    ) == response.content.decode().replace("late@example.com", "")
    assert OutboundEmail.objects.filter(event="activation").count() == 1


@pytest.mark.parametrize("token", ["", "x", "abc-123", "1-", "zzzzzz-" + "0" * 20])
def test_bad_activation_tokens_change_nothing(site, client, token):
    user = factories.customer("bad@example.com", confirmed=False)
    response = client.get(f"/de/helpdesk/activate/{uid_for(user)}/{token}/")
    assert response.status_code in (400, 404)
    response = client.post(
        f"/de/helpdesk/activate/{uid_for(user)}/{token}/",
        {
            "full_name": "X",
            "new_password1": "Gute-Frage-2026",
            "new_password2": "Gute-Frage-2026",
        },
    )
    user.refresh_from_db()
    assert not user.is_active


def test_password_reset_token_is_not_an_activation_token(site, client):
    user = factories.customer("swap@example.com", confirmed=False)
    reset = default_token_generator.make_token(user)
    assert (
        client.get(f"/de/helpdesk/activate/{uid_for(user)}/{reset}/").status_code == 400
    )
    activation = activation_token.make_token(user)
    assert not default_token_generator.check_token(user, activation)


def test_truncated_and_foreign_tokens(site, client):
    alice = factories.customer("alice@example.com", confirmed=False)
    bob = factories.customer("bob@example.com", confirmed=False)
    token = activation_token.make_token(alice)
    assert (
        client.get(f"/de/helpdesk/activate/{uid_for(alice)}/{token[:-3]}/").status_code
        == 400
    )
    assert (
        client.get(f"/de/helpdesk/activate/{uid_for(bob)}/{token}/").status_code == 400
    )


def test_weak_passwords_are_refused(site, client):
    user = factories.customer("weak@example.com", confirmed=False)
    path = f"/de/helpdesk/activate/{uid_for(user)}/{activation_token.make_token(user)}/"
    for password in ("password", "1234567", "weak@example.com"):
        client.post(
            path,
            {"full_name": "W", "new_password1": password, "new_password2": password},
        )
        user.refresh_from_db()
        assert not user.is_active


def test_unconfirmed_customer_cannot_log_in(site, client):
    factories.customer("pending@example.com", confirmed=False)
    response = client.post(
        "/de/helpdesk/login/",
        {"username": "pending@example.com", "password": "anything-at-all"},
    )
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session
    assert "Aktivierungslink" in response.content.decode()


def test_confirmed_customer_logs_in_with_email(site, client):
    factories.customer("ok@example.com", confirmed=True)
    response = client.post(
        "/de/helpdesk/login/",
        {"username": "OK@example.com", "password": "kunden-pass-123"},
    )
    assert response.status_code == 302
    assert "_auth_user_id" in client.session


def test_password_reset_goes_through_the_outbox(site, client):
    user = factories.customer("reset@example.com", confirmed=True)
    client.post("/de/helpdesk/password-reset/", {"email": "reset@example.com"})
    row = OutboundEmail.objects.get(event="password_reset")
    assert row.recipient == "reset@example.com"
    (sent,) = mails_to("reset@example.com")
    link = re.search(r"/de/helpdesk/password-reset/\S+/", sent.body).group(0)
    response = client.get(link, follow=True)
    assert response.status_code == 200
    assert default_token_generator is not None and user.pk


def test_links_in_mail_use_base_url_not_host_header(site, settings):
    settings.VIVADESK = {**settings.VIVADESK, "BASE_URL": "https://www.viva.de"}
    client = Client(HTTP_HOST="localhost")
    post(client, "/de/kontakt/", email="host@example.com")
    (sent,) = mails_to("host@example.com")
    assert "https://www.viva.de/de/helpdesk/activate/" in sent.body
