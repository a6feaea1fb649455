"""The contact page runs on Wagtail's own form seams: ``AbstractForm.serve``
does the work, ``process_form_submission`` and ``render_landing_page`` are
overridden, and the editor's "Landing page" preview shows a thank-you page."""

import re

import pytest
from django.core.management import call_command
from wagtail.contrib.forms.models import FormMixin

from vivadesk_wagtail.models import ContactPage, Ticket
from vivadesk_wagtail.pages.forms import HONEYPOT

pytestmark = pytest.mark.django_db


@pytest.fixture
def page(settings):
    from django.core.cache import caches

    caches["ratelimit"].clear()
    settings.VIVADESK = {**settings.VIVADESK, "MIN_FILL_SECONDS": 0}
    call_command("vivadesk_demo", stdout=open("/dev/null", "w"))
    return ContactPage.objects.get(slug="kontakt")


@pytest.fixture
def wagtail_serve(monkeypatch):
    """Counts the calls of Wagtail's ``FormMixin.serve``."""
    calls = []
    original = FormMixin.serve

    def counting(self, request, *args, **kwargs):
        calls.append(request.method)
        return original(self, request, *args, **kwargs)

    monkeypatch.setattr(FormMixin, "serve", counting)
    return calls


def _post_data(html: str) -> dict:
    return {
        "name": "Erika Mustermann",
        "email": "erika@example.com",
        "subject": "Drucker druckt nicht",
        "message": "Seit gestern druckt der Drucker nicht mehr.",
        HONEYPOT: "",
        "shown": re.search(r'name="shown" value="([^"]+)"', html).group(1),
        "idempotency_key": re.search(
            r'name="idempotency_key" value="([^"]+)"', html
        ).group(1),
    }


def test_wagtail_serve_shows_the_form_and_takes_the_post(page, client, wagtail_serve):
    url = page.url
    shown = client.get(url)
    assert shown.status_code == 200
    response = client.post(url, _post_data(shown.content.decode()))
    ticket = Ticket.objects.get()
    assert ticket.reference in response.content.decode()
    assert wagtail_serve == ["GET", "POST"]


def test_a_rate_limited_post_never_reaches_wagtail_serve(
    page, client, settings, wagtail_serve
):
    settings.VIVADESK = {**settings.VIVADESK, "RATE_FORM_PER_IP": "1/h"}
    url = page.url
    first = client.get(url).content.decode()
    client.post(url, _post_data(first))
    again = client.get(url).content.decode()
    del wagtail_serve[:]
    response = client.post(url, _post_data(again))
    assert response.status_code == 429
    assert wagtail_serve == []
    assert Ticket.objects.count() == 1


@pytest.mark.parametrize("language", ["de", "en"])
def test_landing_preview_shows_an_example_thank_you_page(page, language):
    from django.utils import translation

    target = page if language == "de" else page.get_translation_or_none(_locale("en"))
    assert target is not None
    with translation.override(language):
        response = target.make_preview_request(preview_mode="landing")
    html = response.render().content.decode()
    assert response.status_code == 200
    assert "VIVA-1000" in html
    assert "kunde@example.com" in html
    assert "vivadesk-mail-state--sent" in html


def test_form_preview_shows_the_form(page):
    response = page.make_preview_request(preview_mode="form")
    html = response.render().content.decode()
    assert response.status_code == 200
    assert 'name="subject"' in html


def _locale(code):
    from wagtail.models import Locale

    return Locale.objects.get(language_code=code)
