"""The error pages (400, 403, 404, 429, 500 and the CSRF failure) in the
site's layout and the language of the URL, with ways onward; the 500 page
also when the database is gone. Wagtail's admin keeps its own 404 page."""

from __future__ import annotations

import hashlib
import logging
import re

import pytest
from django.db import connection
from django.http import Http404
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext
from wagtail.models import Locale, Page

from tests import factories
from tests.error_pages_support import DatabaseDown
from tests.portal_support import alice, url
from vivadesk_site import errors

pytestmark = pytest.mark.django_db

TITLES = {
    400: "The request could not be processed",
    403: "Access denied",
    404: "Page not found",
    429: "Too many requests",
    500: "Something went wrong",
}
CSRF_TITLE = "Your session has expired"


@pytest.fixture(autouse=True)
def _production(settings):
    settings.DEBUG = False
    settings.ROOT_URLCONF = "tests.error_pages_support"


@pytest.fixture
def demo(site):
    """The demo site with its English pages published."""
    english = Locale.objects.get(language_code="en")
    for page in Page.objects.filter(locale=english, depth__gt=1).order_by("path"):
        if not page.live:
            page.specific.latest_revision.publish()
    return site


def text(response) -> str:
    return response.content.decode()


def in_language(language: str, message: str) -> str:
    with translation.override(language):
        return gettext(message)


def assert_error_page(response, status: int, language: str, title: str):
    """An error page of the site: the status, the language of the page, its
    heading in that language, the site's header and style sheet."""
    assert response.status_code == status
    html = text(response)
    assert f'<html lang="{language}">' in html
    assert response["Content-Language"] == language
    assert f"<h1>{in_language(language, title)}</h1>" in html
    assert 'class="error-page"' in html
    assert 'class="site-header"' in html
    assert "/static/css/site.css" in html


def site_layout(html: str) -> bool:
    """The full layout (navigation, language switcher), not the minimal one."""
    return 'class="language-switcher"' in html


# --- 404 -------------------------------------------------------------------


def test_404_in_the_language_of_the_url_with_ways_onward(demo, client):
    for language, home, contact in (
        ("de", "/de/", "/de/kontakt/"),
        ("en", "/en/", "/en/contact/"),
    ):
        response = client.get(f"/{language}/gibt-es-nicht/")
        assert_error_page(response, 404, language, TITLES[404])
        html = text(response)
        assert site_layout(html)
        onward = html[html.index('class="error-page__onward"') :]
        assert f'href="{home}"' in onward
        assert f'href="{contact}"' in onward
        assert reverse("vivadesk_wagtail:my_requests") not in onward
    assert "Page not found" in text(client.get("/en/gibt-es-nicht/"))


def test_404_links_my_requests_for_a_signed_in_customer(client):
    client.force_login(alice())
    html = text(client.get("/en/gibt-es-nicht/"))
    onward = html[html.index('class="error-page__onward"') :]
    assert f'href="{url("my_requests", lang="en")}"' in onward


def test_404_does_not_repeat_the_address_asked_for(client):
    """Not in the language links, nor in the login link's ``next``: a 404 for
    another customer's ticket shows nothing of its reference."""
    anonymous = text(client.get("/de/VIVA-4242-geheim/"))
    assert url("login", lang="de") in anonymous
    client.force_login(alice())
    customer = text(client.get(url("ticket", "VIVA-4242", lang="en")))
    assert url("my_requests", lang="en") in customer
    for html in (anonymous, customer):
        assert "VIVA-4242" not in html
        assert 'hreflang="de"' in html and 'hreflang="en"' in html


def test_404_without_a_language_prefix_follows_the_browser(client):
    missing = "/documents/999999/nichts.pdf"
    assert_error_page(client.get(missing), 404, "de", TITLES[404])
    english = client.get(missing, HTTP_ACCEPT_LANGUAGE="en-GB,en;q=0.9")
    assert_error_page(english, 404, "en", TITLES[404])
    assert "Page not found" in text(english)

    # A page address without a prefix leads into the browser's language.
    response = client.get("/gibt-es-nicht/", HTTP_ACCEPT_LANGUAGE="en", follow=True)
    assert response.redirect_chain[-1][0] == "/en/gibt-es-nicht/"
    assert_error_page(response, 404, "en", TITLES[404])


def test_404_without_the_database_falls_back_to_the_minimal_layout(caplog):
    request = RequestFactory().get("/en/gibt-es-nicht/")
    down = DatabaseDown()
    with connection.execute_wrapper(down):
        response = errors.page_not_found(request, Http404())
    assert down.queries, "the site layout did not try the database"
    assert_error_page(response, 404, "en", TITLES[404])
    html = text(response)
    assert not site_layout(html)
    assert 'href="/en/"' in html
    assert "mailto:" in html


# --- 403 and the CSRF failure ----------------------------------------------


def test_403_in_both_languages_offers_the_login(client):
    for language in ("de", "en"):
        response = client.get(f"/{language}/test-errors/forbidden/")
        assert_error_page(response, 403, language, TITLES[403])
        assert site_layout(text(response))
        assert f'href="{url("login", lang=language)}"' in text(response)
    assert "Access denied" in text(client.get("/en/test-errors/forbidden/"))


def test_a_form_from_an_expired_session_asks_to_load_the_page_again():
    client = Client(enforce_csrf_checks=True)
    for language in ("de", "en"):
        login = url("login", lang=language)
        response = client.post(login, {"username": "a@example.com", "password": "x"})
        assert_error_page(response, 403, language, CSRF_TITLE)
        html = text(response)
        assert site_layout(html)
        assert f'<a href="{login}">{in_language(language, "Load the page again")}' in (
            html
        )
    assert "Please load the page again" in html


# --- 429 ---------------------------------------------------------------------


def test_a_throttled_activation_link_request_gets_the_429_page(settings):
    settings.VIVADESK = {**settings.VIVADESK, "RATE_ACTIVATION_RESEND": "1/h"}
    for language in ("de", "en"):
        client = Client(REMOTE_ADDR=f"192.0.2.{len(language) + ord(language[0])}")
        resend = url("activation_resend", lang=language)
        assert client.post(resend, {"email": "x@example.com"}).status_code == 200
        response = client.post(resend, {"email": "x@example.com"})
        assert_error_page(response, 429, language, TITLES[429])
        assert site_layout(text(response))
        wait = int(response["Retry-After"])
        assert 1 <= wait <= 3600
    minutes = re.search(r"You can try again in (\d+) minutes?\.", text(response))
    assert minutes and int(minutes.group(1)) == -(-wait // 60)


def test_a_throttle_raised_as_an_exception_is_a_429_not_a_403(client):
    response = client.get("/en/test-errors/throttled/")
    assert_error_page(response, 429, "en", TITLES[429])
    assert "Retry-After" not in response  # the exception does not say when


def test_a_throttled_portal_comment_says_when_to_send_it_again(client, settings):
    settings.VIVADESK = {**settings.VIVADESK, "RATE_PORTAL_POSTS_PER_CUSTOMER": "1/h"}
    user = alice()
    ticket = factories.ticket(user)
    client.force_login(user)

    def comment(body):
        key = hashlib.sha256(body.encode()).hexdigest()[:32]
        return client.post(
            url("comment", ticket.reference, lang="en"), {"body": body, "key": key}
        )

    assert comment("Eins").status_code == 302
    response = comment("Zwei")
    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= 3600


# --- 400 ---------------------------------------------------------------------


def test_400_in_both_languages(client):
    for language in ("de", "en"):
        response = client.get(f"/{language}/test-errors/suspicious/")
        assert_error_page(response, 400, language, TITLES[400])
        assert site_layout(text(response))
    assert "2.5 MB" not in text(response)


def test_a_too_large_form_is_explained(client):
    fields = {f"field{n}": "x" for n in range(300)}
    response = client.post(url("login", lang="en"), fields)
    assert_error_page(response, 400, "en", TITLES[400])
    assert "2.5 MB" in text(response)


def test_an_unknown_host_gets_the_minimal_400_page_without_an_error_logged(caplog):
    client = Client(HTTP_HOST="evil.example")
    with caplog.at_level(logging.WARNING, logger="vivadesk_site.errors"):
        response = client.get("/en/")
    assert_error_page(response, 400, "en", TITLES[400])
    assert not site_layout(text(response))
    assert not [r for r in caplog.records if r.name == "vivadesk_site.errors"]


# --- 500 ---------------------------------------------------------------------


def test_500_in_the_language_of_the_url(client):
    client.raise_request_exception = False
    for language in ("de", "en"):
        response = client.get(f"/{language}/test-errors/boom/")
        assert_error_page(response, 500, language, TITLES[500])
        html = text(response)
        assert not site_layout(html)
        assert f'<a class="site-logo" href="/{language}/">VIVA</a>' in html
    assert "Something went wrong" in html


def test_500_needs_no_database(client):
    client.raise_request_exception = False
    down = DatabaseDown()
    with connection.execute_wrapper(down):
        failed_view = client.get("/en/test-errors/boom/")
        failed_database = client.get("/en/test-errors/database/")
    assert down.queries == ["SELECT 1"]  # the view's own, none of the page's
    for response in (failed_view, failed_database):
        assert_error_page(response, 500, "en", TITLES[500])


def test_the_500_handler_never_raises(monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("templates are gone")

    monkeypatch.setattr(errors.loader, "get_template", broken)
    response = errors.server_error(RequestFactory().get("/de/x/"))
    assert response.status_code == 500
    assert response["Content-Type"].startswith("text/plain")


# --- Wagtail's admin ---------------------------------------------------------


def test_the_wagtail_admin_keeps_its_own_404_page(client):
    client.force_login(factories.StaffFactory(is_superuser=True))
    response = client.get("/admin/pages/987654/edit/")
    assert response.status_code == 404
    html = text(response)
    assert 'class="error-page"' not in html
    assert "wagtail" in html.lower()
