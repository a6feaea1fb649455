"""A walk through the reference site's own pages in a real browser: home,
"How our HelpDesk works", imprint and privacy policy, in German and English,
at desktop (1280 px) and phone (375 px) width. Each page is checked by
axe-core, keeps its footer at the bottom of the window, fits the phone's
width, shows the logo and links the legal pages in its own language; every
step leaves a screenshot in ``test-artifacts/e2e/``."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import VIEWPORTS

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("fresh_content_types"),
]

DESKTOP = VIEWPORTS["desktop"]
PHONE = VIEWPORTS["phone"]
PAGES = {
    "de": {
        "home": ("/de/", "Willkommen bei VIVA"),
        "helpdesk": (
            "/de/so-funktioniert-unser-helpdesk/",
            "So funktioniert unser HelpDesk",
        ),
        "imprint": ("/de/impressum/", "Impressum"),
        "privacy": ("/de/datenschutz/", "Datenschutz"),
    },
    "en": {
        "home": ("/en/", "Welcome to VIVA"),
        "helpdesk": ("/en/how-our-helpdesk-works/", "How our HelpDesk works"),
        "imprint": ("/en/legal-notice/", "Legal notice"),
        "privacy": ("/en/privacy-policy/", "Privacy policy"),
    },
}

#: Where the footer ends and how wide the page is, in CSS pixels.
LAYOUT = """() => {
  const footer = document.querySelector(".site-footer").getBoundingClientRect();
  const header = document.querySelector(".site-header").getBoundingClientRect();
  return {
    footerBottom: footer.bottom + window.scrollY,
    pageHeight: document.documentElement.scrollHeight,
    windowHeight: window.innerHeight,
    pageWidth: document.documentElement.scrollWidth,
    windowWidth: window.innerWidth,
    headerRight: header.right,
    logoWidth: document.querySelector(".site-logo img").naturalWidth,
  };
}"""


def check_layout(page, name: str) -> None:
    box = page.evaluate(LAYOUT)
    assert box["logoWidth"] > 0, f"the logo did not load on {name}"
    assert box["pageWidth"] <= box["windowWidth"], f"{name} scrolls sideways: {box}"
    assert box["headerRight"] <= box["windowWidth"], f"header too wide on {name}"
    # no gap under the footer: it ends where the page ends, at least at the
    # bottom of the window
    assert abs(box["footerBottom"] - box["pageHeight"]) <= 1, f"{name}: {box}"
    assert box["pageHeight"] >= box["windowHeight"], f"{name}: {box}"


@pytest.mark.parametrize("language", ["de", "en"])
def test_walk_through_the_site_pages(
    live_site, settings, new_page, check_a11y, shot, language
):
    settings.VIVADESK = {**settings.VIVADESK, "HELPDESK_PHONE": "+49 30 1234567"}
    pages = PAGES[language]
    page = new_page("de-DE" if language == "de" else "en-GB")
    for viewport, width_name in ((DESKTOP, "desktop"), (PHONE, "phone")):
        page.set_viewport_size(viewport)
        page.goto(live_site.url + pages["home"][0])
        for key, (path, title) in pages.items():
            if key != "home":
                # reached the way a visitor would: the menu or the footer
                area = ".site-nav" if key == "helpdesk" else ".site-footer"
                page.locator(area).get_by_role("link", name=title).click()
            expect(page).to_have_url(live_site.url + path)
            expect(page.locator("main h1")).to_have_text(title)
            name = f"{language}-{key}-{width_name}"
            check_layout(page, name)
            check_a11y(page, name)
            shot(page, name)
        footer = page.locator(".site-footer")
        expect(footer).to_contain_text("VIVA GmbH")
        expect(footer.locator('a[href^="tel:"]')).to_have_text("+49 30 1234567")
        for legal in ("imprint", "privacy"):
            expect(page.locator(".site-nav")).not_to_contain_text(pages[legal][1])
        page.locator(".site-logo").click()
        expect(page).to_have_url(live_site.url + pages["home"][0])
    # a page shorter than the window: the footer still ends at its bottom
    page.set_viewport_size({"width": 1280, "height": 2400})
    page.goto(live_site.url + pages["imprint"][0])
    box = page.evaluate(LAYOUT)
    assert box["pageHeight"] == box["windowHeight"], box
    check_layout(page, f"{language}-imprint-tall-window")


def test_the_favicon_and_the_logo_are_served(live_site, new_page):
    page = new_page()
    page.goto(live_site.url + "/de/")
    for selector in (
        'link[rel=icon][type="image/svg+xml"]',
        'link[rel=icon][type="image/png"]',
    ):
        href = page.locator(selector).get_attribute("href")
        response = page.request.get(live_site.url + href)
        assert response.ok, href
    expect(page.get_by_role("link", name="VIVA", exact=True)).to_have_attribute(
        "href", "/de/"
    )
