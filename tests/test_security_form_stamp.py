"""The contact form's time stamp is bound to the visitor and expires (issue
15, item 10).

A stamp copied into another browser is a bot's (dropped, like a forged one);
a stamp older than ``FORM_MAX_AGE`` brings the form back with everything
typed and a request to send it again, and sending it again at once works.
"""

# The contact-page fixture ``site`` is imported and used as an argument.

from __future__ import annotations

import logging
import re
import time
from datetime import timedelta

import pytest
from django.core import mail, signing
from django.test import Client

from tests.pages_support import form_data
from vivadesk_wagtail.models import OutboundEmail, Ticket
from vivadesk_wagtail.pages.forms import SHOWN_SALT

pytestmark = pytest.mark.django_db(transaction=True)

URL = "/en/contact/"


def stamp_of(response) -> str:
    return re.search(r'name="shown" value="([^"]+)"', response.content.decode())[1]


def nothing_stored() -> bool:
    return not Ticket.objects.exists() and not OutboundEmail.objects.exists()


def test_a_stamp_copied_into_another_browser_is_dropped(site, caplog):
    caplog.set_level(logging.INFO, logger="vivadesk_wagtail")
    first, second = Client(), Client()
    copied = form_data(first, URL)["shown"]
    data = form_data(second, URL, shown=copied)
    response = second.post(URL, data)
    assert response.status_code == 200
    assert "Thank you" in response.content.decode()
    assert nothing_stored() and mail.outbox == []
    assert any("automated submission dropped" in r.getMessage() for r in caplog.records)
    # The owner of the stamp may still send it.
    first.post(URL, form_data(first, URL, shown=copied))
    assert Ticket.objects.count() == 1


def test_a_stamp_without_the_csrf_cookie_it_was_made_for_is_dropped(site):
    client = Client()
    data = form_data(client, URL)
    client.cookies.clear()  # a bot replaying a scraped page without cookies
    client.post(URL, data)
    assert nothing_stored()


def test_an_expired_form_comes_back_with_what_was_typed(site, settings):
    settings.VIVADESK = {
        **settings.VIVADESK,
        "MIN_FILL_SECONDS": 1,
        "FORM_MAX_AGE": timedelta(seconds=3),
    }
    client = Client()
    data = form_data(
        client, URL, subject="Printer offline", message="It stopped on Monday."
    )
    time.sleep(3.2)
    response = client.post(URL, data)
    assert response.status_code == 200
    page = response.content.decode()
    assert "open for too long and has not been sent" in page
    assert 'value="Printer offline"' in page
    assert "It stopped on Monday." in page
    assert nothing_stored()
    # The page carries a new stamp; sending at once (no bot's wait) works.
    renewed = stamp_of(response)
    assert renewed != data["shown"]
    response = client.post(URL, {**data, "shown": renewed})
    assert "Thank you" in response.content.decode()
    assert Ticket.objects.get().subject == "Printer offline"


def test_a_stamp_from_before_the_binding_asks_to_send_again(site):
    """A page loaded before this change (a bare signed time) is ours: not
    dropped as a bot's, but shown again to be sent with a bound stamp."""
    client = Client()
    old = signing.dumps(time.time() - 60, salt=SHOWN_SALT)
    response = client.post(URL, form_data(client, URL, shown=old))
    assert "open for too long" in response.content.decode()
    assert nothing_stored()


def test_a_form_shown_again_for_an_error_gets_a_fresh_stamp(site, settings):
    client = Client()
    data = form_data(client, URL, subject="")
    response = client.post(URL, data)
    assert "This field is required" in response.content.decode()
    renewed = stamp_of(response)
    assert renewed != data["shown"]
    client.post(URL, {**data, "subject": "Nachgereicht", "shown": renewed})
    assert Ticket.objects.get().subject == "Nachgereicht"


@pytest.mark.parametrize("forged", ["", "forged", signing.dumps([0, "x"], salt="x")])
def test_forged_stamps_are_still_dropped(site, forged):
    client = Client()
    client.post(URL, form_data(client, URL, shown=forged))
    assert nothing_stored()
