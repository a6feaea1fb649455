"""Security and fault sweep: the rows of the test catalogue in the research
note (reliability.md §6) that no other module covered, or covered only in
part. Each test is named after its row (``test_f4_…`` is row F4);
tests/RELIABILITY.md maps every row to its tests."""

# The contact-page fixture ``site`` is imported and used as an argument.
# ruff: noqa: F811

from __future__ import annotations

import contextlib
import importlib
import io
import logging
import mailbox
import os
import re
import socket
import stat
import time
from datetime import timedelta
from unittest import mock

import pytest
from django.apps import apps as global_apps
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.db import connection, transaction
from django.test import Client
from django.utils import timezone
from django_mailbox.models import Mailbox

from tests import emails, factories
from tests import smtp_server as smtp_fixtures
from tests.conftest import require_postgresql
from tests.emails import fresh_content_types  # noqa: F401 - fixture
from tests.test_concurrency_pg import run_together
from tests.test_contact_form import form_data, mails_to, post, site  # noqa: F401
from tests.test_portal_support import PNG, alice, upload, url
from tests.test_staff_support import agents_group, screen_url
from tests.timing import clock
from vivadesk_wagtail import inbound_tasks, tasks
from vivadesk_wagtail.accounts.tokens import activation_token, uid_for
from vivadesk_wagtail.mail import inbound, polling
from vivadesk_wagtail.models import (
    CustomerProfile,
    InboundMail,
    InboundState,
    MailboxPoll,
    MessageKind,
    OutboundEmail,
    OutboundState,
    Ticket,
    TicketAttachment,
    TicketCounter,
    TicketMessage,
)
from vivadesk_wagtail.services import intake, tickets, uploads

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("fresh_content_types"),
]


@pytest.fixture(autouse=True)
def _no_stale_content_types():
    """The flush after each test gives content types new ids; forget the old
    ones, so the modules that run next do not use them."""
    yield
    from django.contrib.contenttypes.models import ContentType

    ContentType.objects.clear_cache()


smtp_down = smtp_fixtures.smtp_down

CUSTOMER = "kunde@example.com"


def vivadesk(settings, **values):
    settings.VIVADESK = {**settings.VIVADESK, **values}


def stored_files(tmp_path) -> list:
    root = tmp_path / "private"
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def nothing_stored() -> bool:
    return (
        Ticket.objects.count() == 0
        and TicketMessage.objects.count() == 0
        and OutboundEmail.objects.count() == 0
        and CustomerProfile.objects.count() == 0
    )


# === Public form ============================================================


def test_f1_a_failure_inside_the_submission_leaves_nothing_behind(site, monkeypatch):
    """One transaction: user, ticket, message and outbox rows come together
    or not at all, and no confirmation is sent for a rolled-back ticket."""
    real_open = tickets.open_ticket

    def open_then_fail(**kwargs):
        real_open(**kwargs)
        raise RuntimeError("crash after the ticket was written")

    monkeypatch.setattr(intake.tickets, "open_ticket", open_then_fail)
    client = Client(raise_request_exception=True)
    data = form_data(client, "/de/kontakt/", email="neu@example.com")
    with pytest.raises(RuntimeError):
        client.post("/de/kontakt/", data)
    assert nothing_stored()
    assert not get_user_model().objects.filter(email="neu@example.com").exists()
    assert mail.outbox == []


def test_f1_confirmation_is_queued_only_after_the_commit(site, monkeypatch):
    import django_q.tasks

    real = django_q.tasks.async_task
    calls = []

    def recording(func, *args, **kwargs):
        calls.append((func, connection.in_atomic_block, Ticket.objects.count()))
        return real(func, *args, **kwargs)

    monkeypatch.setattr(django_q.tasks, "async_task", recording)
    response = post(Client(), "/de/kontakt/", email="neu@example.com")
    assert response.status_code == 200
    ticket = Ticket.objects.get()
    assert ticket.reference in response.content.decode()
    user = ticket.customer
    assert not user.is_active and user.helpdesk_profile.confirmed_at is None
    assert ticket.messages.count() == 1
    assert {row.event for row in OutboundEmail.objects.all()} == {
        "ticket_created",
        "staff_new_ticket",
    }
    assert calls, "the confirmation must be queued"
    for _func, in_atomic, tickets_seen in calls:
        assert not in_atomic and tickets_seen == 1
    assert len(mails_to("neu@example.com")) == 1


def test_f2_same_status_and_no_account_hint_for_every_kind_of_address(site):
    factories.customer("known@example.com", confirmed=True)
    factories.customer("pending@example.com", confirmed=False)
    responses = [
        post(Client(), "/en/contact/", email=address)
        for address in ("known@example.com", "pending@example.com", "new@example.com")
    ]
    assert [r.status_code for r in responses] == [200, 200, 200]
    assert len({r["Content-Type"] for r in responses}) == 1
    for response in responses:
        html = response.content.decode().lower()
        for hint in ("already", "exists", "registered", "log in to"):
            assert hint not in html, hint
    # each mail goes to the address stored for the account, nowhere else
    recipients = sorted(
        tuple(m.to) for m in mail.outbox if m.to != ["helpdesk@viva.de"]
    )
    assert recipients == [
        ("known@example.com",),
        ("new@example.com",),
        ("pending@example.com",),
    ]


@pytest.mark.parametrize(
    "lookalike",
    ["m\u0131ke@example.com", "\uff4dike@example.com", "M\u0130KE@example.com"],
    ids=["dotless-i", "fullwidth", "dotted-I"],
)
def test_f3_lookalike_address_gets_no_mail_for_the_real_account(site, lookalike):
    mike = factories.customer("mike@example.com", confirmed=True)
    mail.outbox.clear()
    response = post(Client(), "/de/kontakt/", email=lookalike)
    assert response.status_code == 200
    assert not Ticket.objects.filter(customer=mike).exists()
    assert CustomerProfile.objects.count() == 1
    assert mail.outbox == []


def test_f4_twenty_posts_from_twenty_ips_send_one_confirmation(site):
    for n in range(20):
        client = Client(REMOTE_ADDR=f"198.51.100.{n + 1}")
        response = post(client, "/de/kontakt/", email="opfer@example.com")
        assert response.status_code == 200
    # the tickets are accepted (policy: an unconfirmed address may file them)
    assert Ticket.objects.count() == 20
    assert CustomerProfile.objects.count() == 1
    assert len(mails_to("opfer@example.com")) == 1
    assert OutboundEmail.objects.filter(recipient="opfer@example.com").count() == 1


def test_f4_the_global_cap_limits_confirmations_to_many_addresses(site, settings):
    vivadesk(settings, RATE_CONFIRMATIONS_GLOBAL="3/h")
    for n in range(6):
        client = Client(REMOTE_ADDR=f"198.51.100.{n + 1}")
        post(client, "/de/kontakt/", email=f"opfer{n}@example.com")
    assert Ticket.objects.count() == 6
    customer_mails = [m for m in mail.outbox if m.to != ["helpdesk@viva.de"]]
    assert len(customer_mails) == 3


def test_f5_rate_limited_post_gets_a_readable_429_and_stores_nothing(site, settings):
    vivadesk(settings, RATE_FORM_PER_IP="1/h")
    client = Client(REMOTE_ADDR="203.0.113.7")
    assert post(client, "/en/contact/", email="a@example.com").status_code == 200
    mail.outbox.clear()
    before = (Ticket.objects.count(), OutboundEmail.objects.count())
    response = post(client, "/en/contact/", email="b@example.com")
    assert response.status_code == 429
    html = response.content.decode()
    assert "Too many requests" in html
    assert "Please wait a while and try again." in html
    assert (Ticket.objects.count(), OutboundEmail.objects.count()) == before
    assert not CustomerProfile.objects.filter(email="b@example.com").exists()
    assert mail.outbox == []


def test_f5_forwarded_for_is_believed_only_from_a_trusted_proxy(site, settings):
    vivadesk(settings, RATE_FORM_PER_IP="1/h", TRUSTED_PROXIES=["10.0.0.2"])
    proxy = Client(REMOTE_ADDR="10.0.0.2")

    def through_proxy(client_ip, n):
        data = form_data(proxy, "/de/kontakt/", email=f"p{n}@example.com")
        return proxy.post(
            "/de/kontakt/", data, HTTP_X_FORWARDED_FOR=f"{client_ip}, 10.0.0.2"
        ).status_code

    # two clients behind the proxy have a limit each
    assert through_proxy("192.0.2.1", 1) == 200
    assert through_proxy("192.0.2.2", 2) == 200
    assert through_proxy("192.0.2.1", 3) == 429
    # a client that claims to be a proxy is counted by its own address
    direct = Client(REMOTE_ADDR="203.0.113.50")
    codes = []
    for n in range(2):
        data = form_data(direct, "/de/kontakt/", email=f"d{n}@example.com")
        codes.append(
            direct.post(
                "/de/kontakt/", data, HTTP_X_FORWARDED_FOR=f"192.0.2.{100 + n}"
            ).status_code
        )
    assert codes == [200, 429]
    assert Ticket.objects.count() == 3


@pytest.mark.parametrize(
    "backend",
    [
        "django.core.cache.backends.locmem.LocMemCache",
        "django.core.cache.backends.db.DatabaseCache",
    ],
)
def test_f6_rate_limit_cache_without_atomic_shared_counters_fails_the_check(
    settings, backend
):
    settings.SILENCED_SYSTEM_CHECKS = []
    settings.CACHES = {
        **settings.CACHES,
        "ratelimit": {"BACKEND": backend, "LOCATION": "vivadesk_ratelimit"},
    }
    with pytest.raises(SystemCheckError, match=r"django_ratelimit\.E003"):
        call_command("check", stdout=io.StringIO())


@pytest.mark.parametrize(
    "overrides",
    [{"website": "http://spam.example"}, {"shown": "forged"}, {}],
    ids=["honeypot", "forged-timestamp", "too-fast"],
)
def test_f7_bots_are_logged_and_nothing_is_sent(site, settings, caplog, overrides):
    if not overrides:
        vivadesk(settings, MIN_FILL_SECONDS=60)
    caplog.set_level(logging.INFO, logger="vivadesk_wagtail")
    response = post(Client(), "/de/kontakt/", **overrides)
    assert response.status_code == 200
    assert "Vielen Dank" in response.content.decode()
    assert nothing_stored()
    assert mail.outbox == []
    assert any("automated submission dropped" in r.getMessage() for r in caplog.records)


def test_f8_contact_form_post_without_csrf_token_is_refused(site):
    client = Client(enforce_csrf_checks=True)
    data = form_data(client, "/de/kontakt/")
    assert "csrfmiddlewaretoken" not in data
    response = client.post("/de/kontakt/", data)
    assert response.status_code == 403
    assert nothing_stored()
    assert mail.outbox == []


PAYLOADS = [
    "<script>alert(1)</script>",
    "{% debug %}",
    "{{ request }}",
    "[klick](javascript:alert(2))",
]


def test_f10_hostile_text_is_stored_verbatim_and_inert_in_portal_and_admin(
    site, client
):
    body = "\n".join(PAYLOADS)
    post(client, "/de/kontakt/", email=CUSTOMER, message=body, subject=PAYLOADS[0])
    ticket = Ticket.objects.get()
    assert ticket.messages.get().body == body
    factories.customer(CUSTOMER)  # confirms the account

    customer = Client()
    customer.force_login(ticket.customer)
    agent = factories.StaffFactory(username="sweeper")
    agent.groups.add(agents_group())
    staff = Client()
    staff.force_login(agent)
    for page in (
        customer.get(url("ticket", ticket.reference)),
        staff.get(screen_url(ticket)),
    ):
        assert page.status_code == 200
        html = page.content.decode()
        assert "<script>alert(1)" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
        assert "{% debug %}" in html and "{{ request }}" in html
        assert "<WSGIRequest" not in html and "<ASGIRequest" not in html
        assert 'href="javascript:' not in html
        assert "[klick](javascript:alert(2))" in html


def test_f11_two_thousand_fields_are_refused_and_nothing_stored(site, client):
    data = form_data(client, "/de/kontakt/")
    data.update({f"extra{n}": "x" for n in range(2000)})
    response = client.post("/de/kontakt/", data)
    assert response.status_code == 400
    assert nothing_stored()


def test_f11_three_megabyte_message_is_refused_and_nothing_stored(site, client):
    response = post(client, "/de/kontakt/", message="x" * 3_000_000)
    assert response.status_code == 400  # DATA_UPLOAD_MAX_MEMORY_SIZE
    assert nothing_stored()
    assert mail.outbox == []


@pytest.mark.postgres
def test_f12_parallel_double_submit_gives_one_ticket():
    require_postgresql()

    def submit(_i):
        return intake.submit(
            intake.Submission(
                name="Erika",
                email="parallel@example.com",
                subject="Doppelklick",
                message="Zweimal geklickt.",
                language="de",
                idempotency_key="same-key-123",
            )
        ).reference

    references, errors = run_together(2, submit)
    assert errors == []
    assert len(set(references)) == 1
    assert Ticket.objects.count() == 1
    assert TicketMessage.objects.filter(kind=MessageKind.CUSTOMER).count() == 1


def test_f13_smtp_down_during_the_form_post(site, smtp_down, client):
    response = post(client, "/de/kontakt/", email="neu@example.com")
    assert response.status_code == 200
    assert "Vielen Dank" in response.content.decode()
    ticket = Ticket.objects.get()
    row = OutboundEmail.objects.get(ticket=ticket, event="ticket_created")
    assert row.state == OutboundState.PENDING
    assert row.last_error
    smtp_down.start()
    with clock(timedelta(minutes=2)):
        tasks.sweep_outbox()
    row.refresh_from_db()
    assert row.state == OutboundState.SENT
    assert len(smtp_down.messages_to("neu@example.com")) == 1


def test_f14_unknown_host_is_400_and_stores_nothing(site):
    evil = Client(HTTP_HOST="evil.example")
    assert evil.get("/de/kontakt/").status_code == 400
    good = Client()
    data = form_data(good, "/de/kontakt/")
    assert evil.post("/de/kontakt/", data).status_code == 400
    assert nothing_stored()


def test_f14_forwarded_host_does_not_reach_the_links(site, settings):
    vivadesk(settings, BASE_URL="https://www.viva.de")
    client = Client()
    data = form_data(client, "/de/kontakt/", email="host@example.com")
    client.post("/de/kontakt/", data, HTTP_X_FORWARDED_HOST="evil.example")
    (sent,) = mails_to("host@example.com")
    assert "evil.example" not in sent.body
    assert "https://www.viva.de/de/helpdesk/activate/" in sent.body


# === Activation / auth ======================================================

ACTIVATION = {
    "full_name": "Erika Mustermann",
    "new_password1": "Gute-Frage-2026",
    "new_password2": "Gute-Frage-2026",
}


def activation_path(user, lang="de") -> str:
    token = activation_token.make_token(user)
    return f"/{lang}/helpdesk/activate/{uid_for(user)}/{token}/"


def test_a1_used_link_says_so_and_logs_nobody_in():
    user = factories.customer("once@example.com", confirmed=False)
    path = activation_path(user, "en")
    assert Client().post(path, ACTIVATION).status_code == 302
    user.refresh_from_db()
    password = user.password
    for method in ("get", "post"):
        again = Client()
        response = getattr(again, method)(
            path,
            {
                **ACTIVATION,
                "new_password1": "Andere-2026",
                "new_password2": "Andere-2026",
            },
        )
        assert response.status_code == 400
        assert "used already" in response.content.decode()
        assert "_auth_user_id" not in again.session
    user.refresh_from_db()
    assert user.password == password


def test_a2_expired_link_changes_nothing_and_resend_is_rate_limited(settings):
    user = factories.customer("late@example.com", confirmed=False)
    path = activation_path(user, "en")
    vivadesk(settings, ACTIVATION_MAX_AGE=timedelta(seconds=-1))
    client = Client()
    response = client.post(path, ACTIVATION)
    assert response.status_code == 410
    assert "expired" in response.content.decode()
    user.refresh_from_db()
    assert not user.is_active and not user.has_usable_password()
    assert "_auth_user_id" not in client.session

    vivadesk(settings, RATE_ACTIVATION_RESEND="2/h")
    codes = [
        client.post("/en/helpdesk/activate/new-link/", {"email": "late@example.com"})
        for _ in range(3)
    ]
    assert [r.status_code for r in codes] == [200, 200, 429]
    assert OutboundEmail.objects.filter(event="activation").count() == 2


def test_a3_activation_token_does_not_reset_a_password():
    user = factories.customer("swap@example.com", confirmed=True)
    token = activation_token.make_token(user)
    client = Client()
    response = client.get(
        f"/en/helpdesk/password-reset/{uid_for(user)}/{token}/", follow=True
    )
    assert response.status_code == 200
    assert response.context["validlink"] is False
    user.refresh_from_db()
    assert user.check_password("kunden-pass-123")


@pytest.mark.parametrize("uid", ["", "!!!", "MTIzNDU2Nzg5", "AAAA", "%00"], ids=str)
def test_a4_tampered_uid_is_refused_and_changes_nothing(uid):
    user = factories.customer("tamper@example.com", confirmed=False)
    token = activation_token.make_token(user)
    client = Client()
    for method in ("get", "post"):
        response = getattr(client, method)(
            f"/de/helpdesk/activate/{uid}/{token}/", ACTIVATION
        )
        assert response.status_code in (400, 404)
    user.refresh_from_db()
    assert not user.is_active
    assert "_auth_user_id" not in client.session


def test_a6_old_tokens_work_with_fallbacks_and_fail_clearly_without(settings):
    user = factories.customer("rotate@example.com", confirmed=False)
    path = activation_path(user, "en")  # made with the current key
    old_key = settings.SECRET_KEY
    settings.SECRET_KEY = "a-brand-new-secret-key-after-rotation-0123456789"
    settings.SECRET_KEY_FALLBACKS = [old_key]
    assert Client().get(path).status_code == 200

    settings.SECRET_KEY_FALLBACKS = []
    response = Client().post(path, ACTIVATION)
    assert response.status_code == 400
    assert "This activation link is not valid" in response.content.decode()
    user.refresh_from_db()
    assert not user.is_active


def test_a7_unconfirmed_account_and_wrong_password_get_the_same_answer():
    factories.customer("pending@example.com", confirmed=False)
    factories.customer("known@example.com", confirmed=True)
    pages = []
    for address, password in (
        ("pending@example.com", "anything-at-all"),
        ("known@example.com", "anything-at-all"),
    ):
        client = Client()
        response = client.post(
            "/en/helpdesk/login/", {"username": address, "password": password}
        )
        assert response.status_code == 200
        assert "_auth_user_id" not in client.session
        html = response.content.decode().replace(address, "ADDRESS")
        pages.append(re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", html))
    assert pages[0] == pages[1]
    assert "not been confirmed yet" in pages[0]


def test_a7_login_with_an_unknown_address_gets_the_neutral_answer():
    """A login with an address that has no account takes the same path as a
    wrong password (``CustomerEmailBackend`` runs the hasher on a dummy user);
    it once ended in a ``TypeError`` and a 500."""
    factories.customer("known@example.com", confirmed=True)
    pages = []
    for address in ("known@example.com", "nobody@example.com"):
        client = Client(raise_request_exception=False)
        response = client.post(
            "/en/helpdesk/login/", {"username": address, "password": "falsch-123"}
        )
        assert response.status_code == 200, address
        assert "_auth_user_id" not in client.session
        html = response.content.decode().replace(address, "ADDRESS")
        pages.append(re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", html))
    assert pages[0] == pages[1]


def test_a8_weak_passwords_are_refused_with_the_validators_messages():
    user = factories.customer("weak@example.com", confirmed=False)
    path = activation_path(user, "en")
    expected = {
        "password": "This password is too common.",
        "1234567": "This password is entirely numeric.",
        "weak@example.com": "too similar",
    }
    for password, message in expected.items():
        response = Client().post(
            path,
            {"full_name": "W", "new_password1": password, "new_password2": password},
        )
        assert response.status_code == 200
        assert message in response.content.decode(), password
        user.refresh_from_db()
        assert not user.is_active
    response = Client().post(
        path, {"full_name": "W", "new_password1": "1234567", "new_password2": "1234567"}
    )
    assert "This password is too short." in response.content.decode()


def test_a9_login_rotates_the_session_key():
    factories.customer("login@example.com", confirmed=True)
    client = Client()
    client.get("/en/helpdesk/login/")
    session = client.session
    session["probe"] = "before"
    session.save()
    before = session.session_key
    response = client.post(
        "/en/helpdesk/login/",
        {"username": "login@example.com", "password": "kunden-pass-123"},
    )
    assert response.status_code == 302
    assert client.session.session_key != before


def test_a9_activation_rotates_the_session_key():
    user = factories.customer("act@example.com", confirmed=False)
    client = Client()
    session = client.session
    session["probe"] = "before"
    session.save()
    before = session.session_key
    assert client.post(activation_path(user), ACTIVATION).status_code == 302
    assert client.session.session_key != before
    assert client.session["_auth_user_id"] == str(user.pk)


def test_a9_password_change_logs_out_the_other_sessions():
    user = alice()
    here, elsewhere = Client(), Client()
    for client in (here, elsewhere):
        assert client.login(username="alice@example.com", password="kunden-pass-123")
        assert client.get(url("my_requests")).status_code == 200
    response = here.post(
        url("change_password"),
        {
            "old_password": "kunden-pass-123",
            "new_password1": "ein-neues-Passwort-42",
            "new_password2": "ein-neues-Passwort-42",
        },
    )
    assert response.status_code == 302
    assert here.get(url("my_requests")).status_code == 200
    other = elsewhere.get(url("my_requests"))
    assert other.status_code == 302
    assert other["Location"].startswith(url("login"))
    user.refresh_from_db()
    assert user.check_password("ein-neues-Passwort-42")


def test_a9_a_disabled_customer_is_logged_out():
    user = alice()
    client = Client()
    assert client.login(username="alice@example.com", password="kunden-pass-123")
    assert client.get(url("my_requests")).status_code == 200
    user.is_active = False
    user.save(update_fields=["is_active"])
    response = client.get(url("my_requests"))
    assert response.status_code == 302
    assert response["Location"].startswith(url("login"))


# === Attachments ============================================================


def test_t2_attachments_have_no_public_url_and_are_not_under_media(
    client, settings, tmp_path
):
    user = alice()
    ticket = factories.ticket(user)
    client.force_login(user)
    client.post(
        url("comment", ticket.reference),
        {"body": "Bild", "key": "t" * 32, "attachments": [upload("bild.png", PNG)]},
    )
    attachment = TicketAttachment.objects.get()
    path = os.path.realpath(attachment.file.path)
    assert not path.startswith(os.path.realpath(settings.MEDIA_ROOT))
    assert path.startswith(os.path.realpath(tmp_path / "private"))
    for guess in (
        attachment.file.url,
        f"/media/{attachment.file.name}",
        f"{settings.MEDIA_URL}{attachment.file.name}",
        f"/private/{attachment.file.name}",
        f"/{attachment.file.name}",
    ):
        for who in (Client(), client):  # anonymous, and the owner
            response = who.get(guess, follow=True)  # after the language redirect
            assert response.status_code == 404, guess
            assert PNG not in response.content


DECLARED_PNG = [
    ("getarnt.png", b"<!DOCTYPE html><html><script>alert(1)</script></html>"),
    ("programm.png", b"MZ\x90\x00\x03\x00\x00\x00\x04\x00" + b"\x00" * 64),
]


@pytest.mark.parametrize(("name", "data"), DECLARED_PNG, ids=["html", "exe"])
def test_t5_declared_png_with_other_magic_is_refused_in_the_portal(
    client, tmp_path, name, data
):
    user = alice()
    ticket = factories.ticket(user)
    client.force_login(user)
    before = TicketMessage.objects.count()
    response = client.post(
        url("comment", ticket.reference, lang="en"),
        {
            "body": "Bild",
            "key": "u" * 32,
            "attachments": [SimpleUploadedFile(name, data, "image/png")],
        },
    )
    assert response.status_code == 200
    assert response.context["form"].errors["attachments"]
    assert TicketMessage.objects.count() == before
    assert TicketAttachment.objects.count() == 0
    assert stored_files(tmp_path) == []


@pytest.mark.parametrize(("name", "data"), DECLARED_PNG, ids=["html", "exe"])
def test_t5_declared_png_with_other_magic_is_refused_in_the_staff_reply(
    client, tmp_path, name, data
):
    ticket = factories.ticket()
    agent = factories.StaffFactory(username="t5agent")
    agent.groups.add(agents_group())
    client.force_login(agent)
    response = client.post(
        screen_url(ticket),
        {
            "action": "reply",
            "reply-body": "Anbei",
            "reply-idempotency_key": "v" * 32,
            "reply-attachments": [SimpleUploadedFile(name, data, "image/png")],
        },
    )
    assert response.status_code == 200
    assert not TicketMessage.objects.filter(kind=MessageKind.STAFF).exists()
    assert TicketAttachment.objects.count() == 0
    assert stored_files(tmp_path) == []


@pytest.mark.parametrize(("name", "data"), DECLARED_PNG, ids=["html", "exe"])
def test_t5_declared_png_with_other_magic_is_dropped_from_mail(name, data):
    factories.customer()
    raw = emails.build(
        body="Siehe Anhang.",
        attachments=[(name, data, "image/png"), ("ok.png", PNG, "image/png")],
    )
    result = inbound.ingest(raw)
    assert result.outcome == "new_ticket", result
    assert result.attachments == ["ok.png"]
    assert name in InboundMail.objects.get().detail


def test_t6_one_hundred_and_one_files_are_refused_and_nothing_saved(client, tmp_path):
    user = alice()
    ticket = factories.ticket(user)
    client.force_login(user)
    before = TicketMessage.objects.count()
    response = client.post(
        url("comment", ticket.reference),
        {
            "body": "Viele Dateien",
            "key": "w" * 32,
            "attachments": [upload(f"{n}.png", PNG) for n in range(101)],
        },
    )
    assert response.status_code == 400
    assert TicketMessage.objects.count() == before
    assert TicketAttachment.objects.count() == 0
    assert stored_files(tmp_path) == []


def test_t7_stored_files_are_readable_by_the_owner_only(client, tmp_path):
    user = alice()
    ticket = factories.ticket(user)
    client.force_login(user)
    client.post(
        url("comment", ticket.reference),
        {"body": "Bild", "key": "x" * 32, "attachments": [upload("bild.png", PNG)]},
    )
    inbound.ingest(emails.build(sender="fremd@example.org"))  # a raw mail file
    files = stored_files(tmp_path)
    assert len(files) == 2
    for path in files:
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode & 0o077 == 0, (path, oct(mode))
        parent = stat.S_IMODE(path.parent.stat().st_mode)
        assert parent & 0o007 == 0, (path.parent, oct(parent))


# === Inbound mail ===========================================================


def notification_id(ticket) -> str:
    return OutboundEmail.objects.filter(ticket=ticket).latest("pk").message_id


def test_m3_forged_pass_below_our_fail_is_still_held(settings):
    vivadesk(settings, MAIL_AUTHSERV_ID="mx.viva.de")
    ticket = factories.ticket()
    raw = emails.build(
        subject=f"AW: [{ticket.reference}] {ticket.subject}",
        in_reply_to=notification_id(ticket),
        headers={"Authentication-Results": "mx.viva.de; dmarc=fail header.from=x"},
    )
    # the sender's own "pass" claims, further down the header block
    forged = (
        b"Authentication-Results: mx.viva.de; dmarc=pass header.from=example.com\n"
        b"Authentication-Results: mx.evil.example; dmarc=pass\n"
    )
    head, body = raw.split(b"\n\n", 1)
    mail.outbox.clear()
    result = inbound.ingest(head + b"\n" + forged + b"\n" + body)
    assert (result.outcome, result.reason) == ("held", "dmarc_fail")
    assert ticket.messages.filter(channel="email").count() == 0
    assert mail.outbox == []


def test_m12_handler_crash_on_the_third_of_five_mails(tmp_path, monkeypatch):
    from vivadesk_wagtail.services import inbound as service

    factories.customer()
    box = mailbox.Maildir(str(tmp_path / "Maildir"), create=True)
    for n in range(5):
        box.add(emails.build(subject=f"Mail {n}", body=f"Text {n}"))
    row = Mailbox.objects.create(name="maildir", uri=f"maildir://{box._path}")
    real_handle = service.handle
    calls = {"n": 0}

    def crash_on_third(inbound_row, parsed):
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("handler crashed")
        return real_handle(inbound_row, parsed)

    monkeypatch.setattr(service, "handle", crash_on_third)
    assert polling.poll_mailbox(row) == 5
    assert len(box) == 0
    assert InboundMail.objects.count() == 5
    (crashed,) = InboundMail.objects.filter(state=InboundState.HELD)
    assert "handler crashed" in crashed.detail
    assert crashed.read_raw()
    assert Ticket.objects.count() == 4

    monkeypatch.undo()
    assert polling.poll_mailbox(row) == 0  # nothing fetched twice
    agent = factories.StaffFactory(username="m12agent")
    service.reprocess(crashed.pk, by=agent)
    crashed.refresh_from_db()
    assert crashed.state == InboundState.DONE
    subjects = sorted(Ticket.objects.values_list("subject", flat=True))
    assert subjects == [f"Mail {n}" for n in range(5)]


BAD_RFC2047 = (
    b"From: Erika Mustermann <kunde@example.com>\n"
    b"To: helpdesk@viva.de\n"
    b"Subject: =?utf-8?B?////invalid?= =?x-unknown-42?Q?caf=E9?= Frage\n"
    b"Message-ID: <bad-2047@example.com>\n"
    b"MIME-Version: 1.0\n"
    b"Content-Type: text/plain; charset=x-unknown-42\n"
    b"Content-Transfer-Encoding: 8bit\n"
    b"\n"
    b"Gr\xfc\xdfe, na\xefve caf\xe9 und eine Frage.\n"
)


def test_m15_bad_encoded_words_and_unknown_charset_keep_text_and_raw():
    factories.customer()
    result = inbound.ingest(BAD_RFC2047)
    assert result.outcome == "new_ticket", result
    ticket = Ticket.objects.get()
    assert "Frage" in ticket.subject
    assert "caf" in ticket.subject
    body = ticket.messages.get().body
    assert "\ufffd" in body  # replaced, not dropped
    assert body.startswith("Gr\ufffd\ufffde, na\ufffdve caf\ufffd")
    assert InboundMail.objects.get().read_raw() == BAD_RFC2047


def _zip_bomb() -> bytes:
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("nullen.bin", b"\0" * (20 * 2**20))
    return buffer.getvalue()


def test_m18_exe_part_dropped_zip_bomb_kept_inert_and_the_rest_survives():
    factories.customer()
    bomb = _zip_bomb()
    assert len(bomb) < 100_000
    raw = emails.build(
        body="Drei Anhänge.",
        attachments=[
            ("programm.exe", b"MZ\x90\x00" + b"\x00" * 128, "application/octet-stream"),
            ("bombe.zip", bomb, "application/zip"),
            ("protokoll.txt", b"Zeile 1\n", "text/plain"),
        ],
    )
    result = inbound.ingest(raw)
    assert result.outcome == "new_ticket", result
    assert result.body == "Drei Anhänge."
    assert sorted(result.attachments) == ["bombe.zip", "protokoll.txt"]
    assert "programm.exe" in InboundMail.objects.get().detail
    stored = TicketAttachment.objects.get(original_name="bombe.zip")
    assert stored.size == len(bomb)  # stored as sent, never unpacked
    with stored.file.open("rb") as handle:
        assert handle.read() == bomb


@contextlib.contextmanager
def silent_server():
    """A TCP port that accepts connections and never says a word."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    try:
        yield listener.getsockname()[1]
    finally:
        listener.close()


def test_m22_a_hanging_server_fails_the_poll_within_its_timeout(monkeypatch):
    monkeypatch.setattr(polling, "TIMEOUT", 1)
    with silent_server() as port:
        Mailbox.objects.create(
            name="hanging", uri=f"imap://helpdesk:Geheim-4711@127.0.0.1:{port}"
        )
        started = time.monotonic()
        results = inbound_tasks.poll_mailboxes()
        elapsed = time.monotonic() - started
    assert results["hanging"].startswith("failed")
    assert elapsed < 10
    assert InboundMail.objects.count() == 0


def test_m22_server_down_is_retried_and_alerts_after_repeated_failures(caplog):
    with silent_server() as port:
        pass  # closed again: nobody listens on this port now
    box = Mailbox.objects.create(
        name="down", uri=f"imap://helpdesk:Geheim-4711@127.0.0.1:{port}"
    )
    caplog.set_level(logging.WARNING, logger="vivadesk_wagtail")
    levels = []
    for _attempt in range(polling.ALERT_AFTER):
        caplog.clear()
        assert inbound_tasks.poll_mailboxes()["down"].startswith("failed")
        levels.append(
            max(
                r.levelno
                for r in caplog.records
                if r.name.startswith("vivadesk_wagtail.mail.polling")
                and "failed" in r.getMessage()
                and "time(s)" in r.getMessage()
            )
        )
    assert levels[:-1] == [logging.WARNING] * (polling.ALERT_AFTER - 1)
    assert levels[-1] == logging.ERROR
    poll = MailboxPoll.objects.get(mailbox=box)
    assert poll.failures == polling.ALERT_AFTER
    assert poll.locked_by == "" and poll.locked_until is None  # next run may poll
    assert InboundMail.objects.count() == 0


# === Outbound mail ==========================================================


def test_o1_retry_delays_double_up_to_the_maximum(smtp_down, settings):
    vivadesk(
        settings,
        OUTBOX_RETRY_DELAY=timedelta(minutes=1),
        OUTBOX_RETRY_MAX_DELAY=timedelta(minutes=4),
        OUTBOX_MAX_ATTEMPTS=6,
    )
    ticket = factories.ticket()
    row = OutboundEmail.objects.get(ticket=ticket, event="ticket_created")
    offset, delays = timedelta(0), []
    for _attempt in range(4):
        row.refresh_from_db()
        assert row.state == OutboundState.PENDING
        now = timezone.now() + offset
        delays.append(round((row.next_attempt_at - now).total_seconds() / 60))
        offset = row.next_attempt_at - timezone.now() + timedelta(seconds=1)
        with clock(offset):
            tasks.sweep_outbox()
    assert delays == [1, 2, 4, 4]
    row.refresh_from_db()
    assert row.attempts == 5 and row.state == OutboundState.PENDING
    assert smtp_down.messages == []


# === Task queue =============================================================


def test_q3_inbound_tasks_delivered_twice_change_nothing_more():
    ticket = factories.ticket()
    raw = emails.build(
        subject=f"AW: [{ticket.reference}] {ticket.subject}",
        in_reply_to=notification_id(ticket),
    )
    row, _created = inbound.record(raw, queue=False)
    mail.outbox.clear()
    assert inbound_tasks.process_inbound(row.pk) == inbound_tasks.process_inbound(
        row.pk
    )
    assert ticket.messages.filter(channel="email").count() == 1
    assert len(mail.outbox) == 1  # one notice to the staff, not two
    InboundMail.objects.update(received_at=timezone.now() - timedelta(days=400))
    assert inbound_tasks.purge_raw_mail() == 1
    assert inbound_tasks.purge_raw_mail() == 0


def test_q4_rolled_back_change_queues_and_sends_nothing(monkeypatch):
    import django_q.tasks

    queued = []
    monkeypatch.setattr(
        django_q.tasks, "async_task", lambda *args, **kw: queued.append(args)
    )
    customer = factories.customer()
    queued.clear()
    mail.outbox.clear()
    with pytest.raises(RuntimeError), transaction.atomic():
        factories.ticket(customer)
        assert OutboundEmail.objects.count() == 2
        raise RuntimeError("after async_task, before the commit")
    assert queued == []
    assert Ticket.objects.count() == 0
    assert OutboundEmail.objects.count() == 0
    assert mail.outbox == []


def test_q6_queued_packages_die_with_the_old_key_and_the_sweepers_recover(
    monkeypatch, settings
):
    import django_q.tasks
    from django_q.conf import Conf
    from django_q.signing import BadSignature, SignedPackage

    package = SignedPackage.dumps({"func": "vivadesk_wagtail.tasks.send_outbound"})
    monkeypatch.setattr(Conf, "SECRET_KEY", "the-rotated-secret-key-0123456789")
    with pytest.raises(BadSignature):
        SignedPackage.loads(package)
    monkeypatch.undo()

    # the queued tasks are unreadable, i.e. lost: the rows are what counts
    with mock.patch.object(django_q.tasks, "async_task"):
        ticket = factories.ticket()
        row, _created = inbound.record(
            emails.build(
                subject=f"AW: [{ticket.reference}] {ticket.subject}",
                in_reply_to=notification_id(ticket),
            )
        )
    assert mail.outbox == []
    assert set(OutboundEmail.objects.values_list("state", flat=True)) == {"pending"}
    with clock(timedelta(hours=1)):
        assert tasks.sweep_outbox() == 2
        assert inbound_tasks.sweep_inbound() == 1
    row.refresh_from_db()
    assert row.state == InboundState.DONE
    assert ticket.messages.filter(channel="email").count() == 1
    assert len(mails_to(CUSTOMER)) == 1


# === Concurrency ============================================================


@pytest.mark.postgres
def test_c2_two_parallel_posts_with_one_new_address_make_one_account():
    require_postgresql()

    def submit(i):
        return intake.submit(
            intake.Submission(
                name="Neu",
                email="Neu.Kunde@Example.com" if i else "neu.kunde@example.com",
                subject=f"Anfrage {i}",
                message="Text",
                language="de",
                idempotency_key=f"key-{i}",
            )
        ).pk

    results, errors = run_together(2, submit)
    assert errors == []
    assert len(set(results)) == 2
    assert CustomerProfile.objects.count() == 1
    customer = CustomerProfile.objects.get().user
    assert set(Ticket.objects.values_list("customer", flat=True)) == {customer.pk}


@pytest.mark.postgres
def test_c3_two_workers_processing_one_mail_write_one_message(caplog):
    require_postgresql()
    ticket = factories.ticket()
    raw = emails.build(
        subject=f"AW: [{ticket.reference}] {ticket.subject}",
        in_reply_to=notification_id(ticket),
    )
    row, _created = inbound.record(raw, queue=False)
    results, errors = run_together(4, lambda _i: inbound.process(row.pk).outcome)
    assert errors == []
    assert results == ["reply"] * 4
    assert ticket.messages.filter(channel="email").count() == 1
    # Losing the race is not an error (no traceback in the log).
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    again, created = inbound.record(raw, queue=False)
    assert not created and again.pk == row.pk


def test_c5_the_counter_row_is_seeded_by_a_migration():
    migration = importlib.import_module(
        "vivadesk_wagtail.migrations.0002_seed_counter_and_agents_group"
    )
    TicketCounter.objects.all().delete()
    # forwards() sets ``models_module`` of every app config it is given;
    # keep the real registry's values (post_migrate needs them after a flush)
    saved = {c: c.models_module for c in global_apps.get_app_configs()}
    try:
        migration.forwards(global_apps, None)
        migration.forwards(global_apps, None)
    finally:
        for config, module in saved.items():
            config.models_module = module
    assert list(TicketCounter.objects.values_list("name", "value")) == [("ticket", 0)]


@pytest.mark.postgres
def test_c5_first_tickets_ever_in_parallel_share_no_number():
    require_postgresql()
    erika = factories.customer("erika@example.com")
    TicketCounter.objects.all().delete()  # as on a database nobody seeded

    def open_one(i):
        return factories.ticket(erika, subject=f"Erste {i}").number

    numbers, errors = run_together(10, open_one)
    assert errors == []
    assert sorted(numbers) == list(range(1000, 1010))
    assert TicketCounter.objects.count() == 1


# === Admin (Wagtail) ========================================================


def test_ad5_mailbox_password_is_not_in_poll_errors_or_logs(caplog, monkeypatch):
    monkeypatch.setattr(polling, "TIMEOUT", 1)
    caplog.set_level(logging.DEBUG)
    with silent_server() as port:
        box = Mailbox.objects.create(
            name="secret", uri=f"imap://helpdesk:Geheim-4711@127.0.0.1:{port}"
        )
        results = inbound_tasks.poll_mailboxes()
    poll = MailboxPoll.objects.get(mailbox=box)
    assert poll.last_error
    for text in (str(results), poll.last_error, caplog.text):
        assert "Geheim-4711" not in text


# === Alerts, readable refusals, hidden secrets, orphan files =================

STAFF = "helpdesk@viva.de"


def alerts(caplog) -> list[logging.LogRecord]:
    return [
        record
        for record in caplog.records
        if record.name.startswith("vivadesk_wagtail")
        and record.levelno >= logging.WARNING
    ]


def test_f4_reaching_the_global_confirmation_cap_alerts(site, settings, caplog):
    """F4: "≤1 confirmation mail per address per window; alert on global cap".
    The cap holds the mails back and says so in a warning."""
    vivadesk(settings, RATE_CONFIRMATIONS_GLOBAL="2/h")
    caplog.set_level(logging.INFO)
    for n in range(3):
        post(
            Client(REMOTE_ADDR=f"198.51.100.{n + 1}"),
            "/de/kontakt/",
            email=f"x{n}@example.com",
        )
    assert Ticket.objects.count() == 3
    assert OutboundEmail.objects.exclude(recipient=STAFF).count() == 2
    assert alerts(caplog), "no warning or staff alert when the global cap is hit"


def test_f11_oversized_form_post_gets_a_readable_page(site, client):
    """F11: "400/413 with a clear message", in the page's language, and
    nothing stored."""
    response = post(client, "/de/kontakt/", message="x" * 3_000_000)
    assert response.status_code in (400, 413)
    html = response.content.decode()
    assert 'lang="de"' in html
    assert "zu groß" in html or "zu lang" in html
    assert nothing_stored()


def test_m16_oversized_mail_alerts_the_staff(settings, caplog):
    """M16: "not silently left forever: staff alert". The mail is kept, held
    for review and announced with a warning."""
    vivadesk(settings, INBOUND_MAX_SIZE=2000)
    factories.customer()
    caplog.set_level(logging.INFO)
    result = inbound.ingest(emails.build(body="x" * 5000))
    assert (result.outcome, result.reason) == ("held", "too_large")
    staff_mail = OutboundEmail.objects.filter(recipient=STAFF).exists()
    assert staff_mail or alerts(caplog), "a too-large mail is held without any alert"


def test_ad5_mailbox_password_is_not_shown_in_the_django_admin(client):
    """AD5: "mailbox password never shown". The reference site mounts Django's
    admin at /django-admin/; django-mailbox's own admin would list the full
    ``uri`` and put it into the change form. Saving the form without typing
    a new URI keeps the stored one."""
    box = Mailbox.objects.create(
        name="helpdesk", uri="imaps://helpdesk%40viva.de:Geheim-4711@mail.viva.de"
    )
    admin = get_user_model().objects.create_superuser(
        "root", "root@viva.de", "root-pass-123"
    )
    client.force_login(admin)
    for address in (
        "/django-admin/django_mailbox/mailbox/",
        f"/django-admin/django_mailbox/mailbox/{box.pk}/change/",
    ):
        response = client.get(address)
        assert response.status_code == 200, address
        assert b"Geheim-4711" not in response.content, address
        assert b"mail.viva.de" in response.content, address
    response = client.post(
        f"/django-admin/django_mailbox/mailbox/{box.pk}/change/",
        {"name": "helpdesk", "uri": "", "from_email": "", "active": "on"},
    )
    assert response.status_code == 302
    box.refresh_from_db()
    assert box.uri == "imaps://helpdesk%40viva.de:Geheim-4711@mail.viva.de"


def test_t6_files_of_a_rolled_back_message_do_not_stay_on_disk(tmp_path):
    """T6: "no half-saved rows or files". A file is written before its row;
    when the surrounding transaction rolls back later, the file stays until
    the daily ``tasks.purge_orphan_files`` removes it (once it is older than
    a transaction could be); files that rows refer to stay."""
    customer = factories.customer()
    with pytest.raises(RuntimeError), transaction.atomic():
        factories.ticket(customer, attachments=[uploads.from_bytes("a.png", PNG)])
        assert TicketAttachment.objects.count() == 1
        raise RuntimeError("rolled back after the file was written")
    assert TicketAttachment.objects.count() == 0
    kept = factories.ticket(customer, attachments=[uploads.from_bytes("b.png", PNG)])
    root = tmp_path / "private" / "vivadesk" / "attachments"
    assert len([p for p in root.rglob("*") if p.is_file()]) == 2
    assert tasks.purge_orphan_files() == 0  # too young: may be in flight
    with clock(tasks.ORPHAN_GRACE + timedelta(minutes=1)):
        assert tasks.purge_orphan_files() == 1
    left = [p for p in root.rglob("*") if p.is_file()]
    assert len(left) == 1
    (attachment,) = TicketAttachment.objects.filter(ticket=kept)
    assert attachment.file.read() == PNG
