"""Customer accounts: an activation link used again, the name known from the
contact form, and the messages after activation, logout and password reset."""

from __future__ import annotations

import pytest
from django.contrib.auth.tokens import default_token_generator
from django.contrib.messages import get_messages
from django.test import Client
from django.utils import translation

from tests import factories
from tests.portal_support import url
from vivadesk_wagtail.accounts.tokens import activation_token, uid_for

pytestmark = pytest.mark.django_db

PASSWORD = "Gute-Frage-2026"
ACTIVATION = {
    "full_name": "Erika Mustermann",
    "new_password1": PASSWORD,
    "new_password2": PASSWORD,
}


def activation_path(user, lang: str = "de") -> str:
    return url("activate", uid_for(user), activation_token.make_token(user), lang=lang)


def _messages(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def _activated(lang: str = "de"):
    """A customer who followed the link and confirmed; the used link and the
    logged-in client."""
    user = factories.customer("erika@example.com", confirmed=False)
    path = activation_path(user, lang)
    client = Client()
    response = client.post(path, ACTIVATION)
    assert response.status_code == 302
    return user, path, client, response


# --- an activation link opened again -------------------------------------


@pytest.mark.parametrize("lang", ["de", "en"])
def test_used_link_sends_the_logged_in_customer_to_my_requests(lang):
    user, path, client, _response = _activated(lang)
    for method in ("get", "post"):
        response = getattr(client, method)(path, ACTIVATION)
        assert response.status_code == 302
        assert response["Location"] == url("my_requests", lang=lang)
    with translation.override(lang):
        expected = translation.gettext("Your account is already confirmed.")
    assert expected in _messages(response)
    user.refresh_from_db()
    assert user.check_password(PASSWORD)  # the second post changed nothing


def test_used_link_in_english_shows_the_message_on_my_requests():
    _user, path, client, _response = _activated("en")
    page = client.get(path, follow=True)
    html = page.content.decode()
    assert page.redirect_chain[-1][0] == url("my_requests", lang="en")
    assert "Your account is already confirmed." in html
    assert "not valid" not in html


def test_used_link_without_login_offers_the_login():
    _user, path, _client, _response = _activated("en")
    stranger = Client()
    for method in ("get", "post"):
        response = getattr(stranger, method)(path, ACTIVATION)
        html = response.content.decode()
        assert "Your account is already confirmed." in html
        assert f'href="{url("login", lang="en")}"' in html
        assert "not valid" not in html
        assert "_auth_user_id" not in stranger.session


def test_used_link_without_login_in_german():
    _user, path, _client, _response = _activated("de")
    html = Client().get(path).content.decode()
    assert "Ihr Konto ist bereits bestätigt." in html
    assert f'href="{url("login")}"' in html


def test_a_link_of_another_confirmed_account_logs_nobody_in():
    """A token made for one account, put under the id of a confirmed other
    account: nobody is logged in and nothing changes."""
    confirmed = factories.customer("bob@example.com")
    newcomer = factories.customer("neu@example.com", confirmed=False)
    token = activation_token.make_token(newcomer)
    path = url("activate", uid_for(confirmed), token, lang="en")
    stranger = Client()
    response = stranger.post(path, {**ACTIVATION, "full_name": "Mallory"})
    assert "_auth_user_id" not in stranger.session
    assert "Your account is already confirmed." in response.content.decode()
    confirmed.refresh_from_db()
    assert confirmed.get_full_name() == "Erika Mustermann"
    assert confirmed.check_password("kunden-pass-123")
    # For a customer logged in to a third account the link is "not valid".
    other = factories.customer("carla@example.com")
    client = Client()
    client.force_login(other)
    response = client.get(path)
    assert response.status_code == 400
    assert "This activation link is not valid" in response.content.decode()
    assert client.session["_auth_user_id"] == str(other.pk)


@pytest.mark.parametrize("make", ["staff", "deactivated"])
def test_staff_and_deactivated_accounts_stay_not_valid(make):
    if make == "staff":
        user = factories.StaffFactory(username="agentin", email="agentin@viva.de")
    else:
        user = factories.customer("weg@example.com")
        user.is_active = False
        user.save(update_fields=["is_active"])
    response = Client().get(url("activate", uid_for(user), "abc-123456", lang="en"))
    assert response.status_code == 400
    assert "This activation link is not valid" in response.content.decode()


# --- the name from the contact form --------------------------------------


@pytest.mark.parametrize("lang", ["de", "en"])
def test_activation_form_starts_with_the_stored_name(lang):
    user = factories.customer("erika@example.com", confirmed=False, name="Erika Muster")
    response = Client().get(activation_path(user, lang))
    assert response.status_code == 200
    assert response.context["form"]["full_name"].value() == "Erika Muster"
    assert 'value="Erika Muster"' in response.content.decode()


def test_a_foreign_token_shows_no_name():
    alice = factories.customer("alice@example.com", confirmed=False, name="Alice A")
    bob = factories.customer("bob@example.com", confirmed=False, name="Bob Beta")
    token = activation_token.make_token(alice)
    response = Client().get(url("activate", uid_for(bob), token, lang="en"))
    assert response.status_code == 400
    html = response.content.decode()
    assert "Bob Beta" not in html and "Alice A" not in html


# --- messages with a way onwards -----------------------------------------


def test_activation_says_the_account_is_confirmed():
    _user, _path, client, response = _activated("en")
    assert response["Location"] == url("my_requests", lang="en")
    page = client.get(response["Location"])
    assert "Your account is confirmed." in page.content.decode()


def test_activation_message_in_german():
    _user, _path, client, response = _activated("de")
    page = client.get(response["Location"])
    assert "Ihr Konto ist bestätigt." in page.content.decode()


@pytest.mark.parametrize("lang", ["de", "en"])
def test_logout_says_so(site, lang):
    client = Client()
    client.force_login(factories.customer())
    response = client.post(url("logout", lang=lang))
    assert response.status_code == 302
    with translation.override(lang):
        expected = translation.gettext(
            "You have been logged out. To see your requests again, log in at "
            "the top of the page."
        )
    assert _messages(response) == [expected]
    assert "_auth_user_id" not in client.session


def test_logout_message_shows_on_the_next_page(site):
    client = Client()
    client.force_login(factories.customer())
    response = client.post(url("logout", lang="en"))
    page = client.get(url("login", lang="en"))
    assert response.status_code == 302
    assert "You have been logged out" in page.content.decode()


@pytest.mark.parametrize("lang", ["de", "en"])
def test_password_reset_logs_in_and_leads_to_my_requests(lang):
    user = factories.customer()
    token = default_token_generator.make_token(user)
    client = Client()
    # Django swaps the token for a session marker first.
    step = client.get(url("password_reset_confirm", uid_for(user), token, lang=lang))
    assert step.status_code == 302
    response = client.post(
        step["Location"], {"new_password1": PASSWORD, "new_password2": PASSWORD}
    )
    assert response.status_code == 302
    assert response["Location"] == url("my_requests", lang=lang)
    assert client.session["_auth_user_id"] == str(user.pk)
    if lang == "en":
        page = client.get(response["Location"]).content.decode()
        assert "Your new password has been saved and you are logged in." in page


def test_reset_pages_lead_on():
    html = Client().get(url("password_reset_done", lang="en")).content.decode()
    assert f'href="{url("login", lang="en")}"' in html
    client = Client()
    client.force_login(factories.customer())
    html = client.get(url("password_reset_complete", lang="en")).content.decode()
    assert f'href="{url("my_requests", lang="en")}"' in html
