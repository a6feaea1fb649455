"""The error pages in a real browser, in German and English, at desktop
(1280 px) and phone width (375 px): page not found (404), access denied
(403), a form sent from an expired session (CSRF, 403), too many requests
(429) and a server error (500). On each: the status, the document's
language, the site's header, no serious axe-core violation, nothing wider
than the screen, a screenshot in ``test-artifacts/e2e/``."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import translation

from tests.e2e.conftest import VIEWPORTS, assert_no_sideways_scrolling

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("fresh_content_types"),
]


@pytest.fixture
def error_site(live_site, settings):
    """The live demo site with views that fail on purpose
    (``tests/error_pages_support.py``) and one new activation link an hour."""
    settings.ROOT_URLCONF = "tests.error_pages_support"
    settings.VIVADESK = {**settings.VIVADESK, "RATE_ACTIVATION_RESEND": "1/h"}
    return live_site


def check(page, response, status, language, label, check_a11y, shot) -> None:
    assert response.status == status, f"{label}: {response.status}"
    assert page.evaluate("() => document.documentElement.lang") == language
    assert page.locator("header.site-header .site-logo").is_visible()
    assert page.locator("main .error-page h1").is_visible()
    assert page.locator(".error-page__onward a").count() >= 1
    assert_no_sideways_scrolling(page, label)
    check_a11y(page, label)
    shot(page, label)


@pytest.mark.parametrize("language", ["de", "en"])
def test_the_error_pages_read_well_on_desktop_and_phone(
    error_site, new_page, shot, check_a11y, language
):
    base = error_site.url
    with translation.override(language):
        login = reverse("vivadesk_wagtail:login")
        resend = reverse("vivadesk_wagtail:activation_resend")
    page = new_page(locale="de-DE" if language == "de" else "en-GB")
    walked = []
    for size, viewport in VIEWPORTS.items():
        page.set_viewport_size(viewport)

        def seen(status, name, response, size=size):
            label = f"{language}-{name}-{size}"
            check(page, response, status, language, label, check_a11y, shot)
            walked.append(label)

        seen(404, "not-found", page.goto(f"{base}/{language}/gibt-es-nicht/"))
        seen(403, "forbidden", page.goto(f"{base}/{language}/test-errors/forbidden/"))
        seen(500, "server-error", page.goto(f"{base}/{language}/test-errors/boom/"))

        # A login form sent after the session's cookies are gone.
        page.goto(base + login)
        page.context.clear_cookies()
        page.fill("[name=username]", "kunde@example.com")
        page.fill("[name=password]", "irgendwas")
        with page.expect_navigation() as sent:
            page.locator("main form button[type=submit]").click()
        seen(403, "session-expired", sent.value)
        # Its first way onward loads the form again.
        page.locator(".error-page__onward a").first.click()
        page.wait_for_url(f"**{login}")
        assert page.locator("[name=password]").is_visible()

        # One new activation link an hour: the second is refused.
        for _attempt in range(2):
            page.goto(base + resend)
            page.fill("[name=email]", "kunde@example.com")
            with page.expect_navigation() as sent:
                page.locator("main form button[type=submit]").click()
            if sent.value.status == 429:
                break
        seen(429, "too-many-requests", sent.value)
    assert len(walked) == 2 * 5
