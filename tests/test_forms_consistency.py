"""Every form a customer sees renders its fields one way
(``includes/form_fields.html``): a "*" on required fields, whose inputs carry
``required``, and one "* Required" line; labels without a colon; help text
and errors after their input and named in its ``aria-describedby``. The
customer login asks for the e-mail address only, and finds the account by
it whatever its user name. A contact-form field left empty is no answer."""

from __future__ import annotations

import re

import pytest
from bs4 import BeautifulSoup
from django.contrib.auth.tokens import default_token_generator
from django.test import Client
from django.urls import reverse
from django.utils import translation

from tests import factories, staff_support
from tests.pages_support import post
from tests.portal_support import url
from vivadesk_wagtail.accounts.tokens import activation_token, uid_for
from vivadesk_wagtail.models import Ticket

pytestmark = pytest.mark.django_db
#: The demo site's contact pages need committed data.
ON_SITE = pytest.mark.django_db(transaction=True)

LANGUAGES = ["de", "en"]
CONTACT = {"de": "/de/kontakt/", "en": "/en/contact/"}
PASSWORD = "kunden-pass-123"
FIELDS = "input:not([type=hidden]), select, textarea"
REQUIRED_NOTE = {"de": "Pflichtfeld", "en": "Required"}


def soup(response) -> BeautifulSoup:
    assert response.status_code in (200, 400, 410), response.status_code
    return BeautifulSoup(response.content.decode(), "html.parser")


def customer_forms(page: BeautifulSoup) -> list:
    """The page's forms with fields of their own (not the header's log-out
    button, nor the site's language switch)."""
    return [form for form in page.select("main form") if form.select(".vivadesk-field")]


def label_text(label) -> str:
    marker = label.select_one(".vivadesk-required")
    text = label.get_text(" ", strip=True)
    if marker is not None:
        text = text.removesuffix(marker.get_text(strip=True)).strip()
    return text


def check_form(form, lang: str) -> None:
    """The rules of the shared field template, for one rendered form."""
    html = str(form)
    fields = form.select(".vivadesk-field")
    any_required = False
    for box in fields:
        inputs = box.select(FIELDS)
        assert inputs, box
        first = inputs[0]
        caption = box.select_one("legend") or box.select_one(
            f'label[for="{first.get("id")}"]'
        )
        assert caption is not None, f"no label for {first}"
        text = label_text(caption)
        assert text and not text.endswith(":"), text
        marked = caption.select_one('.vivadesk-required[aria-hidden="true"]')
        required = any(field.has_attr("required") for field in inputs)
        if required:
            any_required = True
            assert marked is not None and marked.get_text() == "*", caption
        elif first.name != "select":
            # A drop-down list with no empty first choice gets no
            # ``required`` (HTML's rule), though it must be answered.
            assert marked is None, f"{text}: marked but not required"
        for field in inputs:
            described = (field.get("aria-describedby") or "").split()
            holder = box.select_one("fieldset")
            if holder is not None:
                described += (holder.get("aria-describedby") or "").split()
            for help_box in box.select(".vivadesk-help"):
                assert help_box["id"] in described, (text, help_box["id"])
                assert html.index(f'id="{help_box["id"]}"') > html.index(
                    f'id="{field["id"]}"'
                ), f"{text}: help text before its input"
            for error in box.select(".vivadesk-error"):
                assert error["id"] in described, (text, error["id"])
                assert field.get("aria-invalid") == "true", text
                assert html.index(f'id="{error["id"]}"') > html.index(
                    f'id="{field["id"]}"'
                )
    notes = form.select(".vivadesk-required-note")
    assert len(notes) == (1 if any_required else 0), notes
    if any_required and lang == "en":
        assert notes[0].get_text(" ", strip=True) == f"* {REQUIRED_NOTE['en']}"


def check_page(response, lang: str, forms: int = 1) -> list:
    found = customer_forms(soup(response))
    assert len(found) == forms, [str(f)[:200] for f in found]
    for form in found:
        check_form(form, lang)
    return found


# -- the pages without an account --------------------------------------------


@ON_SITE
@pytest.mark.parametrize("lang", LANGUAGES)
def test_contact_form(site, lang):
    client = Client()
    (form,) = check_page(client.get(CONTACT[lang]), lang)
    assert form.select_one("#id_attachments_helptext")
    # Sent empty: every required field says so, next to its input.
    response = client.post(CONTACT[lang], {})
    (form,) = check_page(response, lang)
    assert form.select_one("#id_email_error") is not None
    assert form.select_one("#id_email")["aria-invalid"] == "true"


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("name", ["login", "password_reset", "activation_resend"])
def test_account_forms(name, lang):
    client = Client()
    check_page(client.get(url(name, lang=lang)), lang)
    data = {"username": "no address", "password": "x", "email": "no address"}
    check_page(client.post(url(name, lang=lang), data), lang)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_activation_forms(lang):
    user = factories.customer("neu@example.com", confirmed=False)
    path = url("activate", uid_for(user), activation_token.make_token(user), lang=lang)
    client = Client()
    (form,) = check_page(client.get(path), lang)
    # Django's password rules are the new password's help text, below it.
    assert form.select_one("#id_new_password1_helptext ul")
    check_page(
        client.post(
            path, {"full_name": "", "new_password1": "a", "new_password2": "b"}
        ),
        lang,
    )
    # The "not valid" page asks for a new link with the same form.
    check_page(client.get(url("activate", uid_for(user), "1-x", lang=lang)), lang)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_new_password_form(lang):
    user = factories.customer()
    token = default_token_generator.make_token(user)
    client = Client()
    step = client.get(url("password_reset_confirm", uid_for(user), token, lang=lang))
    check_page(client.get(step["Location"]), lang)
    check_page(
        client.post(step["Location"], {"new_password1": "a", "new_password2": "b"}),
        lang,
    )


# -- the portal --------------------------------------------------------------


@pytest.mark.parametrize("lang", LANGUAGES)
def test_portal_forms(lang):
    user = factories.customer()
    ticket = factories.ticket(user)
    client = Client()
    client.force_login(user)
    check_page(client.get(url("new_request", lang=lang)), lang)
    check_page(client.get(url("ticket", ticket.reference, lang=lang)), lang)
    check_page(client.get(url("account", lang=lang)), lang, forms=2)
    # Sent empty: the errors are tied to their fields.
    response = client.post(url("new_request", lang=lang), {"key": "k" * 32})
    (form,) = check_page(response, lang)
    assert form.select_one("#id_subject_error")


def test_the_german_forms_mark_the_required_line_in_german():
    """Needs the German catalogue with "Pflichtfeld" merged."""
    html = Client().get(url("login", lang="de")).content.decode()
    assert re.search(r'<span aria-hidden="true">\*</span> Pflichtfeld</p>', html)


def test_the_german_password_confirmation_says_dasselbe():
    """Needs the German catalogue with the help desk's own text merged
    (Django's German says "das selbe")."""
    user = factories.customer("neu@example.com", confirmed=False)
    path = url("activate", uid_for(user), activation_token.make_token(user))
    help_box = soup(Client().get(path)).select_one("#id_new_password2_helptext")
    assert "dasselbe Passwort" in help_box.get_text()


def test_every_new_password_form_has_the_help_desks_confirmation_text():
    from vivadesk_wagtail.accounts.forms import (
        SAME_PASSWORD,
        ActivationForm,
        CustomerSetPasswordForm,
    )
    from vivadesk_wagtail.portal.forms import PasswordForm

    user = factories.customer()
    for form_class in (ActivationForm, CustomerSetPasswordForm, PasswordForm):
        assert form_class(user).fields["new_password2"].help_text == SAME_PASSWORD


# -- the login ---------------------------------------------------------------


@pytest.mark.parametrize("lang", LANGUAGES)
def test_login_asks_for_the_address_only(lang):
    page = soup(Client().get(url("login", lang=lang)))
    (form,) = customer_forms(page)
    fields = form.select(FIELDS)
    assert [f["type"] for f in fields] == ["email", "password"]
    address = fields[0]
    assert address["autocomplete"] == "email"
    assert address["maxlength"] == "254"
    label = label_text(form.select_one(f'label[for="{address["id"]}"]'))
    assert label == {"de": "E-Mail-Adresse", "en": "E-mail address"}[lang]


def test_a_customer_logs_in_by_address_whatever_the_user_name():
    user = factories.customer("Erika.Muster@example.com")
    user.username = "kunde-4711"
    user.save(update_fields=["username"])
    client = Client()
    response = client.post(
        url("login", lang="en"),
        {"username": "erika.muster@example.com", "password": PASSWORD},
    )
    assert response.status_code == 302, response.content.decode()[:300]
    assert client.session["_auth_user_id"] == str(user.pk)


def test_the_customer_login_never_takes_a_user_name():
    """Another account whose user name is the address typed is not reached,
    and a user name is no address at all."""
    customer = factories.customer("owner@example.com")
    other = factories.customer("other@example.com")
    other.username = "owner@example.com"
    customer.username = "kunde-1"
    customer.save(update_fields=["username"])
    other.save(update_fields=["username"])
    client = Client()
    response = client.post(
        url("login", lang="en"),
        {"username": "owner@example.com", "password": PASSWORD},
    )
    assert client.session["_auth_user_id"] == str(customer.pk)
    client = Client()
    response = client.post(
        url("login", lang="en"), {"username": "kunde-1", "password": PASSWORD}
    )
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session
    assert "Enter a valid e-mail address." in response.content.decode()


# -- answers left empty ------------------------------------------------------


@ON_SITE
def test_an_empty_extra_answer_is_not_listed(site, agent_client):
    customer = factories.customer("de@example.com")
    client = Client()
    client.force_login(customer)
    post(client, "/de/kontakt/", email="de@example.com", customer_number="  ")
    ticket = Ticket.objects.get()
    assert ticket.form_data[0]["name"] == "customer_number"
    with translation.override("en"):
        portal = reverse("vivadesk_wagtail:ticket", args=[ticket.reference])
    html = client.get(portal).content.decode()
    assert "Customer number" not in html
    assert "vivadesk-form-data" not in html
    html = agent_client.get(staff_support.screen_url(ticket)).content.decode()
    assert "Customer number" not in html
    assert 'class="vd-form-data"' not in html
