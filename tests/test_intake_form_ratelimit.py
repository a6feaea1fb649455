"""The contact form's per-IP limit loses nothing (issue 16, item 3): only
stored posts count (after they are stored, checked before), the default
suits an office behind one address, and a refused post gets its form back
with everything typed and when to send it again, in the page's language,
with HTTP 429."""

# The contact-page fixture ``site`` is imported and used as an argument.

from __future__ import annotations

import re

import pytest
from django.test import Client, RequestFactory
from django.utils import translation

from tests.pages_support import form_data, post
from vivadesk_wagtail import conf, ratelimits
from vivadesk_wagtail.models import CaughtSubmission, Ticket
from vivadesk_wagtail.pages.forms import HONEYPOT

pytestmark = pytest.mark.django_db(transaction=True)

OFFICE = "203.0.113.20"


def limit(settings, rate: str) -> None:
    settings.VIVADESK = {**settings.VIVADESK, "RATE_FORM_PER_IP": rate}


def test_posts_that_come_back_with_errors_do_not_count(site, settings):
    limit(settings, "2/h")
    client = Client(REMOTE_ADDR=OFFICE)
    for _ in range(12):
        response = post(client, "/de/kontakt/", email="kein-adresse")
        assert response.status_code == 200
    for n in range(2):
        assert (
            post(client, "/de/kontakt/", email=f"b{n}@example.com").status_code == 200
        )
    assert Ticket.objects.count() == 2
    assert post(client, "/de/kontakt/", email="c@example.com").status_code == 429


def test_a_refused_post_does_not_count_either(site, settings):
    """Sending again and again at the limit adds nothing to the counter."""
    limit(settings, "1/h")
    client = Client(REMOTE_ADDR=OFFICE)
    post(client, "/de/kontakt/", email="a@example.com")
    for _ in range(3):
        assert post(client, "/de/kontakt/", email="b@example.com").status_code == 429
    request = RequestFactory().post("/de/kontakt/", REMOTE_ADDR=OFFICE)
    assert ratelimits._form_usage(request, increment=False)["count"] == 1


def test_caught_posts_count_they_are_stored_too(site, settings):
    limit(settings, "2/h")
    client = Client(REMOTE_ADDR=OFFICE)
    post(client, "/de/kontakt/", **{HONEYPOT: "x"})
    post(client, "/de/kontakt/", **{HONEYPOT: "x"})
    response = post(client, "/de/kontakt/", **{HONEYPOT: "x"})
    assert response.status_code == 429
    assert CaughtSubmission.objects.count() == 2


def test_the_default_lets_an_office_behind_one_address_work(site):
    """Thirty colleagues behind one NAT address within the hour."""
    assert conf.get("RATE_FORM_PER_IP") == "60/h"
    codes = [
        post(Client(REMOTE_ADDR=OFFICE), "/en/contact/", email=f"c{n}@example.com")
        for n in range(30)
    ]
    assert {r.status_code for r in codes} == {200}
    assert Ticket.objects.count() == 30


@pytest.mark.parametrize(
    "url, language", [("/de/kontakt/", "de"), ("/en/contact/", "en")]
)
def test_a_limited_post_comes_back_with_everything_typed(site, settings, url, language):
    limit(settings, "1/h")
    client = Client(REMOTE_ADDR=OFFICE)
    post(client, url, email="first@example.com")
    data = form_data(
        client,
        url,
        name="Kim Kollegin",
        email="kim@example.com",
        subject="Beamer im Raum 3",
        message="Der Beamer zeigt <kein Bild> seit Montag.\nBitte prüfen.",
        customer_number="K-77",
    )
    response = client.post(url, data)
    assert response.status_code == 429
    wait = int(response["Retry-After"])
    assert 1 <= wait <= 3600
    html = response.content.decode()
    assert f'<html lang="{language}">' in html
    assert 'value="Kim Kollegin"' in html
    assert 'value="kim@example.com"' in html
    assert 'value="Beamer im Raum 3"' in html
    assert "Der Beamer zeigt &lt;kein Bild&gt; seit Montag.\nBitte prüfen." in html
    assert 'value="K-77"' in html
    minutes = -(-wait // 60)
    with translation.override(language):
        from django.utils.translation import ngettext

        expected = ngettext(
            "Many requests have been sent from your network in a short time. "
            "Please send this one again in %(minutes)d minute: everything you "
            "typed is still here (please choose any files again).",
            "Many requests have been sent from your network in a short time. "
            "Please send this one again in %(minutes)d minutes: everything you "
            "typed is still here (please choose any files again).",
            minutes,
        ) % {"minutes": minutes}
    assert expected in " ".join(html.split()) or expected in html
    assert 'role="alert"' in html
    # The form carries a fresh stamp and key: once the window is over, a
    # click on "send" is all it takes (here: the limit raised).
    assert re.search(r'name="shown" value="[^"]+"', html)
    limit(settings, "5/h")
    again = dict(data)
    again["shown"] = re.search(r'name="shown" value="([^"]+)"', html).group(1)
    assert client.post(url, again).status_code == 200
    assert Ticket.objects.filter(subject="Beamer im Raum 3").count() == 1


def test_the_english_message_says_when_to_try_again(site, settings):
    limit(settings, "1/h")
    client = Client(REMOTE_ADDR=OFFICE)
    post(client, "/en/contact/", email="first@example.com")
    html = post(client, "/en/contact/", email="second@example.com").content.decode()
    assert re.search(r"Please send this one again in \d+ minutes?: everything", html)
    assert "Zu viele Anfragen" not in html and "Too many requests" not in html
