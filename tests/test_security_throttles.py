"""Issue 15, item 4: the throttle gaps (Django's admin aside).

Password reset (customer and Wagtail admin) is limited per client IP and per
address with the usual neutral answer; portal comments and new requests are
limited per customer, the typed text kept; attachments count against a
per-customer storage quota."""

from __future__ import annotations

import hashlib
import logging
import re

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.test import Client, RequestFactory
from django.utils import translation
from django.utils.translation import gettext

from tests import factories
from tests.portal_support import alice, bob, staff_reply, upload, url
from vivadesk_wagtail import checks, ratelimits
from vivadesk_wagtail.models import (
    OutboundEmail,
    Ticket,
    TicketAttachment,
    TicketMessage,
)
from vivadesk_wagtail.services import quota, uploads

pytestmark = pytest.mark.django_db

RESET = "/en/helpdesk/password-reset/"
RESET_DONE = "/en/helpdesk/password-reset/sent/"
ADMIN_RESET = "/admin/password_reset/"
ADMIN_RESET_DONE = "/admin/password_reset/done/"
WAIT_EN = (
    "You have sent a lot of messages in a short time. Please wait a few "
    "minutes, then send this one again: your text is still here."
)
QUOTA_EN = "These files would exceed the storage space for your attachments"
#: Plain-text files of known sizes (their content is checked like any other).
TXT = b"Eine kurze Notiz zum Drucker.\n" * 4
CSV = b"datum;seiten\n2026-01-05;12\n" * 3


def vivadesk(settings, **values) -> None:
    settings.VIVADESK = {**settings.VIVADESK, **values}


def reset_mails() -> int:
    return OutboundEmail.objects.filter(event="password_reset").count()


# --- password reset ---------------------------------------------------------

#: One address as a person or a script may type it: all one counter (the
#: address as the login matches it: the domain in IDNA, case folded).
KUNDE_VARIANTS = [
    "kunde@bücher.de",
    " KUNDE@Bücher.DE ",
    "kunde@xn--bcher-kva.de",
    "Kunde@XN--BCHER-KVA.de",
]
#: Look-alikes: refused as addresses, or counted with the real one.
LOOKALIKES = ["kunde@ｂücher.de", "kunde@bü\u00adcher.de", "kunde@bücher\u3002de"]


def test_twelve_customer_resets_for_one_address_send_three_mails(caplog):
    factories.customer("kunde@bücher.de")
    caplog.set_level(logging.WARNING, logger="vivadesk_wagtail.ratelimits")
    for n in range(12):
        address = KUNDE_VARIANTS[n % len(KUNDE_VARIANTS)]
        response = Client().post(RESET, {"email": address}, REMOTE_ADDR=f"10.0.0.{n}")
        assert response.status_code == 302
        assert response["Location"] == RESET_DONE
    assert reset_mails() == 3  # RATE_PASSWORD_RESET_PER_ADDRESS is 3/h
    assert any("no mail sent" in r.getMessage() for r in caplog.records)
    assert "kunde" not in caplog.text.lower()  # the log names the IP only
    for n, address in enumerate(LOOKALIKES):
        response = Client().post(RESET, {"email": address}, REMOTE_ADDR=f"10.0.1.{n}")
        assert response.status_code in (200, 302)  # 200: not a valid address
    assert reset_mails() == 3


def test_customer_resets_from_one_ip_are_limited_across_addresses(settings):
    vivadesk(settings, RATE_PASSWORD_RESET_PER_IP="3/h")
    for n in range(5):
        factories.customer(f"kunde{n}@example.com")
    for n in range(5):
        response = Client().post(
            RESET, {"email": f"kunde{n}@example.com"}, REMOTE_ADDR="10.1.1.1"
        )
        assert response["Location"] == RESET_DONE
    assert reset_mails() == 3
    # Another IP is not affected.
    Client().post(RESET, {"email": "kunde4@example.com"}, REMOTE_ADDR="10.1.1.2")
    assert reset_mails() == 4


def test_the_limited_answer_is_the_answer_of_every_reset(settings):
    vivadesk(settings, RATE_PASSWORD_RESET_PER_ADDRESS="1/h")
    alice()
    client = Client()
    first = client.post(RESET, {"email": "alice@example.com"}, follow=True)
    limited = client.post(RESET, {"email": "alice@example.com"}, follow=True)
    assert reset_mails() == 1
    assert first.redirect_chain == limited.redirect_chain
    assert first.status_code == limited.status_code == 200

    def page(response):
        return re.sub(r'value="[^"]*"', "", response.content.decode())

    assert page(first) == page(limited)


def test_the_wagtail_admin_reset_is_limited_per_address():
    get_user_model().objects.create_superuser(
        "chefin", "chefin@viva.de", "admin-pass-123"
    )
    for n in range(12):
        response = Client().post(
            ADMIN_RESET, {"email": "chefin@viva.de"}, REMOTE_ADDR=f"10.2.0.{n}"
        )
        assert response.status_code == 302
        assert response["Location"] == ADMIN_RESET_DONE
    assert len(mail.outbox) == 3


def test_the_wagtail_admin_reset_is_limited_per_ip(settings):
    vivadesk(settings, RATE_PASSWORD_RESET_PER_IP="2/h")
    for n in range(4):
        get_user_model().objects.create_superuser(
            f"chef{n}", f"chef{n}@viva.de", "admin-pass-123"
        )
    for n in range(4):
        response = Client().post(
            ADMIN_RESET, {"email": f"chef{n}@viva.de"}, REMOTE_ADDR="10.3.0.1"
        )
        assert response["Location"] == ADMIN_RESET_DONE
    assert len(mail.outbox) == 2


# --- portal comments and new requests ----------------------------------------


def key_for(text: str) -> str:
    """An idempotency key of the form's shape, one per text."""
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def comment(client, ticket, body, lang="en", **extra):
    return client.post(
        url("comment", ticket.reference, lang=lang),
        {"body": body, "key": key_for(body), **extra},
    )


def new_request(client, subject, body, lang="en", **extra):
    return client.post(
        url("new_request", lang=lang),
        {"subject": subject, "body": body, "key": key_for(subject)},
        **extra,
    )


def test_the_fourth_comment_waits_and_keeps_its_text(client, settings):
    vivadesk(settings, RATE_PORTAL_POSTS_PER_CUSTOMER="3/h")
    user = alice()
    ticket = factories.ticket(user)
    client.force_login(user)
    for n in range(3):
        assert comment(client, ticket, f"Kommentar {n}").status_code == 302
    messages, mails = TicketMessage.objects.count(), OutboundEmail.objects.count()

    response = comment(
        client,
        ticket,
        "Noch ein <b>wichtiger</b> Hinweis",
        attachments=upload("a.txt", TXT),
    )
    assert response.status_code == 429
    page = response.content.decode()
    assert WAIT_EN in page
    assert "Please choose your files again before sending." in page
    textarea = re.search(r"<textarea[^>]*>(.*?)</textarea>", page, re.S).group(1)
    assert textarea.strip() == "Noch ein &lt;b&gt;wichtiger&lt;/b&gt; Hinweis"
    assert (TicketMessage.objects.count(), OutboundEmail.objects.count()) == (
        messages,
        mails,
    )
    assert TicketAttachment.objects.count() == 0

    # Another customer is not affected.
    other = Client()
    bob_user = bob()
    other.force_login(bob_user)
    assert comment(other, factories.ticket(bob_user), "Hallo").status_code == 302


def test_new_requests_share_the_limit_and_keep_subject_and_text(client, settings):
    vivadesk(settings, RATE_PORTAL_POSTS_PER_CUSTOMER="2/h")
    user = alice()
    ticket = factories.ticket(user)
    client.force_login(user)
    assert comment(client, ticket, "Eins").status_code == 302
    assert new_request(client, "Zweites Thema", "Text zwei").status_code == 302
    tickets = Ticket.objects.count()
    response = new_request(client, "Drittes Thema", "Text drei bleibt")
    assert response.status_code == 429
    page = response.content.decode()
    assert WAIT_EN in page
    assert 'value="Drittes Thema"' in page
    assert "Text drei bleibt</textarea>" in page
    assert Ticket.objects.count() == tickets


def test_the_wait_message_is_in_the_page_language(client, settings):
    vivadesk(settings, RATE_PORTAL_POSTS_PER_CUSTOMER="1/h")
    user = alice()
    ticket = factories.ticket(user)
    client.force_login(user)
    comment(client, ticket, "Eins", lang="de")
    response = comment(client, ticket, "Zwei", lang="de")
    assert response.status_code == 429
    with translation.override("de"):
        german = gettext(WAIT_EN)
    assert german in response.content.decode()
    assert '<html lang="de"' in response.content.decode()


def test_a_refused_form_does_not_use_up_the_limit(client, settings):
    vivadesk(settings, RATE_PORTAL_POSTS_PER_CUSTOMER="1/h")
    user = alice()
    ticket = factories.ticket(user)
    client.force_login(user)
    assert comment(client, ticket, "").status_code == 200  # empty: not sent
    assert comment(client, ticket, "Jetzt richtig").status_code == 302


# --- storage quota ------------------------------------------------------------


def _stored_files(tmp_path) -> list:
    root = tmp_path / "private"
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def test_a_comment_beyond_the_quota_is_refused_and_keeps_its_text(
    client, settings, tmp_path
):
    user = alice()
    ticket = factories.ticket(user)
    client.force_login(user)
    assert comment(client, ticket, "Erste Datei", attachments=upload("a.txt", TXT))
    used = quota.used(user)
    assert used == len(TXT)
    vivadesk(settings, ATTACHMENT_QUOTA_PER_CUSTOMER=used + len(CSV) - 1)
    files = _stored_files(tmp_path)
    messages = TicketMessage.objects.count()

    response = comment(
        client, ticket, "Zweite Datei passt nicht", attachments=upload("b.csv", CSV)
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert QUOTA_EN in page
    assert "Zweite Datei passt nicht</textarea>" in page
    assert TicketMessage.objects.count() == messages
    assert _stored_files(tmp_path) == files

    # Text alone still goes through, and so does a file that fits.
    assert comment(client, ticket, "Nur Text").status_code == 302
    vivadesk(settings, ATTACHMENT_QUOTA_PER_CUSTOMER=used + len(CSV))
    assert (
        comment(client, ticket, "Passt", attachments=upload("c.csv", CSV)).status_code
        == 302
    )
    assert quota.used(user) == used + len(CSV)


def test_a_new_request_beyond_the_quota_opens_nothing(client, settings, tmp_path):
    vivadesk(settings, ATTACHMENT_QUOTA_PER_CUSTOMER=len(TXT) + len(CSV) - 1)
    user = alice()
    client.force_login(user)
    response = client.post(
        url("new_request", lang="en"),
        {
            "subject": "Zwei Dateien",
            "body": "Zusammen zu groß",
            "key": "q" * 32,
            "attachments": [upload("a.txt", TXT), upload("b.csv", CSV)],
        },
    )
    assert response.status_code == 200
    assert QUOTA_EN in response.content.decode()
    assert Ticket.objects.count() == 0
    assert _stored_files(tmp_path) == []


def test_files_staff_send_do_not_count_and_none_means_no_quota(client, settings):
    user = alice()
    ticket = factories.ticket(user)
    staff_reply(ticket, files=[("gross.txt", TXT * 50)])
    assert quota.used(user) == 0
    vivadesk(settings, ATTACHMENT_QUOTA_PER_CUSTOMER=None)
    assert checks.check_vivadesk_settings() == []
    client.force_login(user)
    response = comment(client, ticket, "Ohne Quote", attachments=upload("a.txt", TXT))
    assert response.status_code == 302


def test_mail_keeps_its_text_and_drops_the_files_beyond_the_quota(settings):
    user = alice()
    factories.ticket(user, attachments=[uploads.from_bytes("alt.txt", TXT)])
    vivadesk(settings, ATTACHMENT_QUOTA_PER_CUSTOMER=len(TXT) + len(CSV))
    files = [
        uploads.from_bytes("passt.csv", CSV),
        uploads.from_bytes("zu-viel.txt", TXT),
    ]
    kept, notes = quota.keep_within(user, files, ["earlier note"])
    assert [f.name for f in kept] == ["passt.csv"]
    assert notes[0] == "earlier note"
    assert "zu-viel.txt" in notes[1] and "quota" in notes[1]
    vivadesk(settings, ATTACHMENT_QUOTA_PER_CUSTOMER=None)
    assert quota.keep_within(user, files) == (files, [])


@pytest.mark.parametrize(
    ("remote", "forwarded", "trusted", "expected"),
    [
        # behind one nginx: the header holds only the client
        ("10.0.0.2", "192.0.2.1", ["10.0.0.2"], "192.0.2.1"),
        # the proxy appended itself: the right-most address not trusted
        ("10.0.0.2", "6.6.6.6, 192.0.2.1, 10.0.0.2", ["10.0.0.2"], "192.0.2.1"),
        # two proxies, one of them in the header
        ("10.0.0.3", "192.0.2.1, 10.0.0.2", ["10.0.0.2", "10.0.0.3"], "192.0.2.1"),
        # a direct client naming the proxy is counted by its own address
        ("203.0.113.5", "192.0.2.9, 10.0.0.2", ["10.0.0.2"], "203.0.113.5"),
        # only proxies in the header: the proxy itself
        ("10.0.0.2", "10.0.0.2", ["10.0.0.2"], "10.0.0.2"),
    ],
)
def test_client_ip_is_the_right_most_address_not_a_trusted_proxy(
    settings, remote, forwarded, trusted, expected
):
    vivadesk(settings, TRUSTED_PROXIES=trusted)
    request = RequestFactory().get(
        "/", REMOTE_ADDR=remote, HTTP_X_FORWARDED_FOR=forwarded
    )
    assert ratelimits.client_ip(request) == expected
