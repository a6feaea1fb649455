"""The contact form relays no text in a customer's name (issue 15, item 7;
DESIGN.md decision 10).

A post that is not signed in as the address's customer quotes nothing of
what was posted in the mail it causes (subject line included), whoever owns
the address; every address gets at most so many of those mails; agents and
the customer see that the message came through the contact form while not
signed in. Signed-in posts are quoted as before.
"""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.test import Client

from tests import factories
from tests.portal_support import form_key, url
from tests.staff_support import agents_group, screen_url
from vivadesk_wagtail.models import Ticket

pytestmark = pytest.mark.django_db(transaction=True)

KNOWN = "kunde@example.com"
POSTED = {
    "name": "Mallory Mailer",
    "subject": "Ihre Rechnung – bitte hier klicken",
    "message": "Zahlen Sie sofort auf http://evil.example/pay ein.",
    "customer_number": "K-PHISH-99",
}


@pytest.fixture
def known():
    return factories.customer(KNOWN, language="en", name="Erika Mustermann")


def post(client: Client, path: str = "/en/contact/", **overrides):
    page = client.get(path)
    assert page.status_code == 200
    html = page.content.decode()
    data = {
        **POSTED,
        "email": KNOWN,
        "website": "",
        "shown": re.search(r'name="shown" value="([^"]+)"', html).group(1),
        "idempotency_key": re.search(
            r'name="idempotency_key" value="([^"]+)"', html
        ).group(1),
    }
    data.update(overrides)
    response = client.post(path, data)
    assert response.status_code == 200
    return response


def mails_to(address: str) -> list:
    return [m for m in mail.outbox if m.to == [address]]


def everything(message) -> str:
    (html, _mimetype) = message.alternatives[0]
    return "\n".join([message.subject, message.body, html])


def assert_quotes_nothing_posted(message) -> None:
    text = everything(message)
    for value in (*POSTED.values(), "Rechnung", "evil.example", "Mallory"):
        assert value not in text, value


def test_anonymous_post_for_a_confirmed_customer_quotes_nothing(site, known):
    post(Client())
    ticket = Ticket.objects.get()
    # The request still belongs to the account (decision 2) ...
    assert ticket.customer == known
    (confirmation,) = mails_to(KNOWN)
    # ... but its mail says only that a request with this reference came in.
    assert_quotes_nothing_posted(confirmation)
    assert confirmation.subject == f"[{ticket.reference}] We have received your request"
    assert ticket.reference in confirmation.body
    assert f"/en/helpdesk/requests/{ticket.reference}/" in confirmation.body
    assert "/activate/" not in confirmation.body
    assert ticket.messages.get().sender_verified is False


def test_anonymous_post_for_a_new_address_quotes_nothing(site):
    post(Client(), email="neu@example.com")
    (confirmation,) = mails_to("neu@example.com")
    assert_quotes_nothing_posted(confirmation)
    assert "/en/helpdesk/activate/" in confirmation.body
    assert Ticket.objects.get().messages.get().sender_verified is False


def test_signed_in_as_another_customer_is_still_a_stranger(site, known):
    other = factories.customer("other@example.com", language="en")
    client = Client()
    client.force_login(other)
    post(client)
    ticket = Ticket.objects.get()
    assert ticket.customer == known
    (confirmation,) = mails_to(KNOWN)
    assert_quotes_nothing_posted(confirmation)
    assert ticket.messages.get().sender_verified is False


def test_signed_in_customer_gets_the_copy_as_before(site, known):
    client = Client()
    client.force_login(known)
    post(client)
    ticket = Ticket.objects.get()
    (confirmation,) = mails_to(KNOWN)
    assert confirmation.subject == (
        f"[{ticket.reference}] {POSTED['subject']} – Your request has been received"
    )
    assert POSTED["message"] in confirmation.body
    assert ticket.messages.get().sender_verified is True


def test_portal_new_request_is_quoted_as_before(known):
    client = Client()
    client.force_login(known)
    page = client.get(url("new_request", lang="en"))
    response = client.post(
        url("new_request", lang="en"),
        {"subject": "Toner leer", "body": "Bitte neuen Toner.", "key": form_key(page)},
    )
    assert response.status_code == 302
    (confirmation,) = mails_to(KNOWN)
    assert "Toner leer" in confirmation.subject
    assert "Bitte neuen Toner." in confirmation.body
    assert Ticket.objects.get().messages.get().sender_verified is True


def test_the_per_address_cap_applies_to_confirmed_addresses(site, known, settings):
    settings.VIVADESK = {**settings.VIVADESK, "RATE_CONFIRMATIONS_PER_ADDRESS": "2/h"}
    for _ in range(4):
        post(Client())
    assert Ticket.objects.filter(customer=known).count() == 4
    assert len(mails_to(KNOWN)) == 2
    # Signed in, the customer's own requests are always acknowledged.
    client = Client()
    client.force_login(known)
    post(client)
    assert len(mails_to(KNOWN)) == 3


def test_agents_and_the_customer_see_the_post_was_not_signed_in(site, known):
    post(Client())
    ticket = Ticket.objects.get()

    agent = factories.StaffFactory(username="agent")
    agent.groups.add(agents_group())
    staff = Client()
    staff.force_login(agent)
    screen = staff.get(screen_url(ticket)).content.decode()
    # The admin speaks the site's language (German) to this agent.
    assert "Absender nicht bestätigt" in screen
    assert "ohne Anmeldung über das Kontaktformular gesendet" in screen

    customer = Client()
    customer.force_login(known)
    page = customer.get(url("ticket", ticket.reference, lang="en")).content.decode()
    assert "Sent through the contact form without signing in." in page


def test_a_signed_in_post_carries_no_such_note(site, known):
    client = Client()
    client.force_login(known)
    post(client)
    ticket = Ticket.objects.get()
    page = client.get(url("ticket", ticket.reference, lang="en")).content.decode()
    assert "without signing in" not in page
