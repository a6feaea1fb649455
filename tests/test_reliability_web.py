"""Security and fault sweep, the web side: the public contact form,
activation and login.

Each test is named after its row of the test catalogue in the research note
(reliability.md §6; ``test_f4_…`` is row F4); tests/RELIABILITY.md maps every
row to its tests, here and elsewhere in the suite."""

# The contact-page fixture ``site`` is imported and used as an argument.

from __future__ import annotations

import io
import logging
import re
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.db import connection
from django.test import Client

from tests import factories
from tests.concurrency import run_together
from tests.conftest import require_postgresql
from tests.pages_support import form_data, mails_to, post
from tests.portal_support import alice, url
from tests.reliability_support import (
    CUSTOMER,
    nothing_stored,
    vivadesk,
)
from tests.staff_support import agents_group, screen_url
from tests.timing import clock
from vivadesk_wagtail import tasks
from vivadesk_wagtail.accounts.tokens import activation_token, uid_for
from vivadesk_wagtail.models import (
    CaughtSubmission,
    CustomerProfile,
    MessageKind,
    OutboundEmail,
    OutboundState,
    Ticket,
    TicketMessage,
)
from vivadesk_wagtail.pages.forms import HONEYPOT
from vivadesk_wagtail.services import intake, tickets

# Every test runs in real transactions: the sweep's faults hit commits,
# threads and servers that read the database through their own connections.
pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("fresh_content_types"),
]


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


def test_f5_rate_limited_post_gets_its_form_back_with_a_429_and_stores_nothing(
    site, settings
):
    vivadesk(settings, RATE_FORM_PER_IP="1/h")
    client = Client(REMOTE_ADDR="203.0.113.7")
    assert post(client, "/en/contact/", email="a@example.com").status_code == 200
    mail.outbox.clear()
    before = (Ticket.objects.count(), OutboundEmail.objects.count())
    response = post(
        client, "/en/contact/", email="b@example.com", message="Keep this text."
    )
    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= 3600
    html = response.content.decode()
    assert "Please send this one again in" in html
    assert "Keep this text." in html
    assert 'value="b@example.com"' in html
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
    [{HONEYPOT: "http://spam.example"}, {"shown": "forged"}, {}],
    ids=["honeypot", "forged-timestamp", "too-fast"],
)
def test_f7_bots_are_logged_and_nothing_is_sent(site, settings, caplog, overrides):
    if not overrides:
        vivadesk(settings, MIN_FILL_SECONDS=60)
    caplog.set_level(logging.INFO, logger="vivadesk_wagtail")
    response = post(Client(), "/de/kontakt/", **overrides)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Vielen Dank" in html
    assert not re.search(r"VIVA-\d", html), "a made-up Ticket ID"
    assert nothing_stored()
    assert mail.outbox == []
    assert CaughtSubmission.objects.count() == 1
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
        # The account is confirmed: the page says so and leads to the login.
        assert "already confirmed" in response.content.decode()
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
