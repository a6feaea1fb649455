"""Every notification mail's HTML part rendered in Chromium at the width of a
mail client's reading pane (600 px) and of a phone (375 px): for a ticket
with a long subject, German umlauts and extra form answers, in German and
English. Nothing may be wider than the window, and the mail's button must be
on screen. The renders are saved to ``test-artifacts/mail/`` for a look."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import TIMEOUT_MS
from tests.mail_support import LONG_SUBJECT, every_mail, html_of, main_link

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("fresh_content_types"),
]

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "mail"
WIDTHS = (600, 375)
#: The button: the link in the brand-coloured table cell.
BUTTON = 'td[bgcolor="#0b4f8a"] > a'


@pytest.fixture(scope="module")
def artifacts():
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


@pytest.mark.parametrize("language", ["de", "en"])
def test_every_mail_fits_the_window_and_shows_its_button(
    browser, artifacts, settings, language
):
    mails = every_mail(language, settings)
    for width in WIDTHS:
        context = browser.new_context(viewport={"width": width, "height": 900})
        context.set_default_timeout(TIMEOUT_MS)
        page = context.new_page()
        try:
            for event, message in sorted(mails.items()):
                html = html_of(message)
                page.set_content(html)
                name = f"{event}-{language}-{width}"
                page.screenshot(path=str(artifacts / f"{name}.png"), full_page=True)
                scroll = page.evaluate(
                    "() => Math.max(document.documentElement.scrollWidth,"
                    " document.body.scrollWidth)"
                )
                assert scroll <= width, f"{name}: {scroll}px wide"
                button = page.locator(BUTTON)
                expect(button).to_have_count(1)
                expect(button).to_be_visible()
                expect(button).to_have_attribute("href", main_link(html))
                box = button.bounding_box()
                assert box and box["x"] >= 0 and box["x"] + box["width"] <= width, name
                assert box["height"] >= 40, f"{name}: a button too small to tap"
        finally:
            context.close()
    # the long subject is in the mails that name it, whole
    assert LONG_SUBJECT in html_of(mails["staff_new_ticket"])
