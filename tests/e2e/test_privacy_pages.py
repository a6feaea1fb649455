"""The customer's data-protection pages in a browser, in German and English,
at desktop and phone width: the account page's "Your data" section with an
export ready for download, and the pages behind the confirm and cancel links
of the erasure mails. On each: the document's language, no serious or
critical axe-core violation, no sideways scrolling, a screenshot in
``test-artifacts/e2e/``."""

from __future__ import annotations

import pytest
from django.db import transaction
from django.urls import reverse
from django.utils import translation
from playwright.sync_api import expect

from tests import factories
from tests.e2e.conftest import VIEWPORTS, assert_no_sideways_scrolling
from vivadesk_wagtail.accounts import erasure_tokens
from vivadesk_wagtail.models import DataRequestState
from vivadesk_wagtail.services import data_requests

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("fresh_content_types"),
]

PASSWORD = "kunden-pass-123"
TITLES = {
    "de": {
        "data": "Ihre Daten",
        "confirm": "Möchten Sie Ihr Konto löschen?",
        "cancel": "Möchten Sie Ihr Konto behalten?",
    },
    "en": {
        "data": "Your data",
        "confirm": "Do you want to delete your account?",
        "cancel": "Do you want to keep your account?",
    },
}


def ready_export(user):
    """An export shown as ready (its build task, run on commit, finds it
    done and skips)."""
    with transaction.atomic():
        export = data_requests.request_export(user)
        data_requests.finish_export(export, "vivadesk/exports/e2e.zip", 183_402, {})
    return export


def link(name: str, language: str, *args) -> str:
    with translation.override(language):
        return reverse(f"vivadesk_wagtail:{name}", args=args)


def check(page, label: str, language: str, heading: str, shot, check_a11y):
    for size, viewport in VIEWPORTS.items():
        page.set_viewport_size(viewport)
        page.reload()
        name = f"{language}-{label}-{size}"
        assert page.evaluate("() => document.documentElement.lang") == language
        expect(page.get_by_role("heading", name=heading)).to_be_visible()
        check_a11y(page, name)
        assert_no_sideways_scrolling(page, name)
        shot(page, name)


@pytest.mark.parametrize("language", ["de", "en"])
def test_the_data_protection_pages_read_well(
    live_site, new_page, shot, check_a11y, language
):
    titles = TITLES[language]
    customer = factories.customer(
        "daten@example.com", language=language, name="Dana Datenschutz"
    )
    export = ready_export(customer)
    page = new_page(locale="de-DE" if language == "de" else "en-GB")
    page.goto(live_site.url + link("login", language))
    page.fill("[name=username]", customer.email)
    page.fill("[name=password]", PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(f"**{link('my_requests', language)}")

    page.goto(live_site.url + link("account", language) + "#your-data")
    section = page.locator("#your-data")
    download = section.locator(
        f'a[href="{link("data_export_download", language, export.pk)}"]'
    )
    expect(download).to_be_visible()
    check(page, "account-data", language, titles["data"], shot, check_a11y)

    # the confirm page (the link of the confirmation mail, no login needed)
    leaver = factories.customer("weg@example.com", language=language, name="Lea")
    erasure = data_requests.request_erasure(leaver)
    confirm = link("erasure_confirm", language, erasure_tokens.make(erasure, "confirm"))
    page.goto(live_site.url + confirm)
    check(page, "erasure-confirm", language, titles["confirm"], shot, check_a11y)

    # the cancel page (the link of the "will be deleted" mail)
    data_requests.confirm_erasure(erasure)
    cancel = link("erasure_cancel", language, erasure_tokens.make(erasure, "cancel"))
    page.goto(live_site.url + cancel)
    check(page, "erasure-cancel", language, titles["cancel"], shot, check_a11y)
    erasure.refresh_from_db()
    assert erasure.state == DataRequestState.SCHEDULED  # looking changed nothing

    page.locator("main form button[type=submit]").click()
    page.wait_for_load_state()
    shot(page, f"{language}-erasure-cancelled")
    erasure.refresh_from_db()
    assert erasure.state == DataRequestState.CANCELLED
