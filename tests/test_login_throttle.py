"""Login throttling (reliability catalogue A10): many wrong passwords for one
account, or many logins from one IP, are throttled with a neutral message;
the owner is not locked out for longer than one window."""

from __future__ import annotations

import re
import time
from types import SimpleNamespace

import pytest
from django.contrib.auth import authenticate, get_user_model
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import translation
from django_ratelimit import core as ratelimit_core

from tests import factories
from tests.portal_support import url

PASSWORD = "kunden-pass-123"
MESSAGE_EN = "Too many login attempts. Please wait a few minutes and try again."


def login(client, username, password, ip):
    return client.post(
        url("login", lang="en"),
        {"username": username, "password": password},
        REMOTE_ADDR=ip,
    )


def assert_throttled(response):
    assert response.status_code == 429
    assert MESSAGE_EN in response.content.decode()
    assert int(response["Retry-After"]) >= 1
    assert "_auth_user_id" not in response.wsgi_request.session


def assert_logged_in(response):
    assert response.status_code == 302, response.content.decode()[:500]
    assert response["Location"] == url("my_requests", lang="en")


@pytest.fixture
def alice(db):
    return factories.customer("alice@example.com", name="Alice Alpha")


@pytest.fixture
def bob(db):
    return factories.customer("bob@example.com", name="Bob Beta")


@pytest.fixture
def clock(monkeypatch):
    """django-ratelimit's clock, movable forward (its windows follow it)."""
    state = SimpleNamespace(offset=0.0)
    monkeypatch.setattr(
        ratelimit_core,
        "time",
        SimpleNamespace(time=lambda: time.time() + state.offset),
    )
    return state


@pytest.mark.django_db
def test_fifty_wrong_passwords_then_the_right_one_is_refused(client, alice, bob):
    # Each attempt from another address: the per-account limit is what holds.
    statuses = [
        login(client, "alice@example.com", f"falsch-{n}", f"10.0.1.{n}").status_code
        for n in range(50)
    ]
    assert statuses[0] == 200  # a plain wrong-password answer first
    assert statuses[-1] == 429
    # Case and spaces do not make a fresh counter.
    response = login(client, "  Alice@Example.COM ", PASSWORD, "10.0.2.1")
    assert_throttled(response)
    response = login(client, "alice@example.com", PASSWORD, "10.0.2.2")
    assert_throttled(response)
    # Another account from another IP is unaffected.
    assert_logged_in(login(client, "bob@example.com", PASSWORD, "10.0.3.1"))


@pytest.mark.django_db
def test_the_message_does_not_tell_whether_the_account_exists(alice):
    # (Not raising: before the limit, an unknown address reaches
    # CustomerEmailBackend, whose dummy hashing fails as of this writing.)
    client = Client(raise_request_exception=False)
    for n in range(11):
        existing = login(client, "alice@example.com", "falsch", f"10.1.0.{n}")
        unknown = login(client, "nobody@example.com", "falsch", f"10.2.0.{n}")
    assert_throttled(existing)
    assert_throttled(unknown)

    def text(response, address):
        html = response.content.decode().replace(address, "X")
        return re.sub(r'csrfmiddlewaretoken" value="[^"]*"', "", html)

    assert text(existing, "alice@example.com") == text(unknown, "nobody@example.com")


@pytest.mark.django_db
def test_one_ip_is_throttled_across_accounts(client, alice, bob):
    for n in range(30):
        response = login(client, f"someone-{n}", "falsch", "10.9.9.9")
        assert response.status_code == 200
    assert_throttled(login(client, "alice@example.com", PASSWORD, "10.9.9.9"))
    # The same account from elsewhere still logs in (its own counter is at 1).
    assert_logged_in(login(client, "alice@example.com", PASSWORD, "10.8.8.8"))


@pytest.mark.django_db
def test_the_counter_starts_again_after_the_window(client, alice, clock):
    for n in range(10):
        login(client, "alice@example.com", "falsch", f"10.3.0.{n}")
    assert_throttled(login(client, "alice@example.com", PASSWORD, "10.3.1.1"))
    clock.offset = 15 * 60 + 1  # LOGIN_RATE_PER_ACCOUNT is 10/15m
    assert_logged_in(login(client, "alice@example.com", PASSWORD, "10.3.1.1"))


@pytest.mark.django_db
def test_showing_the_login_page_is_not_counted(client, alice):
    for _n in range(100):
        assert client.get(url("login", lang="en"), REMOTE_ADDR="10.4.0.1").status_code
    assert_logged_in(login(client, "alice@example.com", PASSWORD, "10.4.0.1"))


@pytest.mark.django_db
@override_settings(
    VIVADESK={"LOGIN_RATE_PER_IP": "3/m", "LOGIN_RATE_PER_ACCOUNT": "100/m"}
)
def test_the_limits_are_settings(client, alice):
    for _n in range(3):
        login(client, "alice@example.com", "falsch", "10.5.0.1")
    assert_throttled(login(client, "alice@example.com", PASSWORD, "10.5.0.1"))


@pytest.mark.django_db
def test_the_message_is_translated(client, alice):
    for _n in range(11):
        response = client.post(
            url("login", lang="de"),
            {"username": "alice@example.com", "password": "falsch"},
            REMOTE_ADDR="10.6.0.1",
        )
    assert response.status_code == 429
    with translation.override("de"):
        from vivadesk_wagtail.accounts.views import LOGIN_THROTTLED_MESSAGE

        german = str(LOGIN_THROTTLED_MESSAGE)
    assert german in response.content.decode()


@pytest.mark.django_db
def test_the_wagtail_admin_login_is_throttled_too(client):
    get_user_model().objects.create_superuser(
        "chefin", "chefin@viva.de", "admin-pass-123"
    )
    for _n in range(10):
        response = client.post(
            reverse("wagtailadmin_login"),
            {"username": "chefin", "password": "falsch"},
            REMOTE_ADDR="10.7.0.1",
        )
        assert response.status_code == 200
    response = client.post(
        reverse("wagtailadmin_login"),
        {"username": "Chefin", "password": "admin-pass-123"},
        REMOTE_ADDR="10.7.0.2",
    )
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session
    response = client.post(
        reverse("wagtailadmin_login"),
        {"username": "chefin", "password": "admin-pass-123"},
        REMOTE_ADDR="10.7.0.3",
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert_throttled(response)


#: The address as the login finds it, written otherwise: the domain in Unicode
#: or in IDNA, in any case.
IDN_SPELLINGS = [
    "kunde@xn--bcher-kva.de",
    "Kunde@BÜCHER.de",
    " kunde@XN--BCHER-KVA.DE",
]
#: Look-alikes: they must not reach the account, or count as it.
LOOKALIKES = [
    "alice@ｅxample.com",
    "alice@exam\u00adple.com",
    "alice@example\u3002com",
    "ａlice@example.com",
]


@pytest.mark.django_db
def test_every_spelling_of_an_idn_address_shares_one_counter(client):
    factories.customer("kunde@bücher.de", name="Kunde Buch")
    for n in range(10):
        spelling = IDN_SPELLINGS[n % len(IDN_SPELLINGS)]
        login(client, spelling, "falsch", f"10.10.0.{n}")
    assert_throttled(login(client, "kunde@bücher.de", PASSWORD, "10.10.1.1"))


@pytest.mark.django_db
@pytest.mark.parametrize("variant", LOOKALIKES, ids=ascii)
def test_lookalikes_count_as_the_account_or_never_reach_it(client, alice, variant):
    reaches = authenticate(None, username=variant, password=PASSWORD) is not None
    for n in range(10):
        login(client, variant, "falsch", f"10.11.0.{n}")
    response = login(client, "alice@example.com", PASSWORD, "10.11.1.1")
    if reaches:
        assert_throttled(response)
    else:
        # Refused before any check of Alice's password, even the right one.
        response = login(Client(), variant, PASSWORD, "10.11.2.1")
        assert "_auth_user_id" not in response.wsgi_request.session
