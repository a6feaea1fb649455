"""Every page a visitor or customer can reach, in German and English, at
desktop (1280 px) and phone width (375 px): each live page of the site's tree
(found in the database, so new page types are walked without changing this
test), the help desk's account and portal pages for a signed-in customer with
a ticket, and a page that does not exist.

On each: the document's language is the one asked for, axe-core finds no
serious or critical violation, nothing is wider than the screen (no sideways
scrolling on a phone), and a screenshot lands in ``test-artifacts/e2e/``."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import translation
from wagtail.models import Page

from tests import factories
from tests.e2e.conftest import VIEWPORTS, assert_no_sideways_scrolling

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("fresh_content_types"),
]

PASSWORD = "kunden-pass-123"


def site_pages(language: str) -> list[tuple[str, str]]:
    """``(name, url)`` of every live page below the root in ``language``."""
    pages = (
        Page.objects.live()
        .public()
        .filter(depth__gt=1, locale__language_code=language)
        .specific()
        .order_by("path")
    )
    return [(page.slug, page.url) for page in pages]


def portal_pages(language: str, reference: str) -> list[tuple[str, str]]:
    with translation.override(language):
        names = [
            ("my-requests", reverse("vivadesk_wagtail:my_requests")),
            ("ticket", reverse("vivadesk_wagtail:ticket", args=[reference])),
            ("mark-done", reverse("vivadesk_wagtail:mark_done", args=[reference])),
            ("new-request", reverse("vivadesk_wagtail:new_request")),
            ("account", reverse("vivadesk_wagtail:account")),
        ]
    return names


def public_pages(language: str) -> list[tuple[str, str]]:
    with translation.override(language):
        return [
            ("login", reverse("vivadesk_wagtail:login")),
            ("password-reset", reverse("vivadesk_wagtail:password_reset")),
            ("new-activation-link", reverse("vivadesk_wagtail:activation_resend")),
            ("not-found", f"/{language}/gibt-es-nicht/"),
        ]


def walk(page, live_url, pages, language, shot, check_a11y) -> list[str]:
    walked = []
    for name, url in pages:
        for size, viewport in VIEWPORTS.items():
            page.set_viewport_size(viewport)
            page.goto(live_url + url)
            label = f"{language}-{name}-{size}"
            assert page.evaluate("() => document.documentElement.lang") == language
            check_a11y(page, label)
            assert_no_sideways_scrolling(page, label)
            shot(page, label)
            walked.append(label)
    return walked


@pytest.mark.parametrize("language", ["de", "en"])
def test_every_page_reads_well_on_desktop_and_phone(
    live_site, new_page, shot, check_a11y, language
):
    customer = factories.customer(
        "walk@example.com", language=language, name="Walter Wanderer"
    )
    ticket = factories.ticket(
        customer,
        subject="Drucker zeigt Fehler E-204 beim Duplexdruck",
        language=language,
    )
    page = new_page(locale="de-DE" if language == "de" else "en-GB")

    walked = walk(
        page, live_site.url, public_pages(language), language, shot, check_a11y
    )
    walked += walk(
        page, live_site.url, site_pages(language), language, shot, check_a11y
    )

    page.goto(live_site.url + public_pages(language)[0][1])
    page.fill("[name=username]", customer.email)
    page.fill("[name=password]", PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(f"**{portal_pages(language, ticket.reference)[0][1]}")
    walked += walk(
        page,
        live_site.url,
        portal_pages(language, ticket.reference),
        language,
        shot,
        check_a11y,
    )
    # The demo's home, contact page and the portal at the least, both sizes.
    assert len(walked) >= 2 * (4 + 2 + 5), walked
