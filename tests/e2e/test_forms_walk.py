"""The customer forms in a real browser (Chromium via Playwright), in German
and English, at desktop (1280 px) and phone width (375 px): login,
activation, password reset, "My requests" with several tickets and its
filters, and a new request. Each page is checked by axe-core and leaves a
screenshot in ``test-artifacts/e2e/``. On a phone the search of "My
requests" takes at most two rows and each card names its values."""

from __future__ import annotations

import pytest
from django.contrib.auth.tokens import default_token_generator
from playwright.sync_api import expect

from tests import factories
from tests.portal_support import url
from vivadesk_wagtail.accounts.tokens import activation_token, uid_for
from vivadesk_wagtail.services import tickets

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("fresh_content_types"),
]

PASSWORD = "kunden-pass-123"
WIDTHS = {"1280": {"width": 1280, "height": 900}, "375": {"width": 375, "height": 812}}
LOCALES = {"de": "de-DE", "en": "en-GB"}
SUBJECTS = [
    "Drucker druckt nicht",
    "Rechnung für November fehlt",
    "Zugang zum Kundenportal gesperrt, bitte dringend prüfen",
    "Neues Notebook einrichten",
]


def both_widths(page, shot, check_a11y, name: str) -> None:
    """Screenshots at both widths, axe checks at both."""
    for width, size in WIDTHS.items():
        page.set_viewport_size(size)
        check_a11y(page, f"{name} ({width} px)")
        shot(page, f"{name}-{width}")
    page.set_viewport_size(WIDTHS["1280"])


def search_rows(page) -> int:
    """How many rows the search form's controls take (controls whose
    vertical middles lie within 10 px share a row)."""
    middles = page.eval_on_selector_all(
        "form.vivadesk-search input:not([type=hidden]), "
        "form.vivadesk-search select, form.vivadesk-search button",
        "els => els.map(el => { const r = el.getBoundingClientRect();"
        " return r.top + r.height / 2; })",
    )
    rows: list[float] = []
    for middle in sorted(middles):
        if not rows or middle - rows[-1] > 10:
            rows.append(middle)
    return len(rows)


def card_labels(page) -> list[str]:
    """The labels the first card shows before its values."""
    return page.eval_on_selector_all(
        "table.vivadesk-table tbody tr:first-child td",
        "tds => tds.map(td => getComputedStyle(td, '::before').content)",
    )


@pytest.mark.parametrize("lang", ["de", "en"])
def test_forms_walk(live_site, new_page, shot, check_a11y, lang):
    site = live_site.url
    page = new_page(LOCALES[lang])

    # The login, sent empty: errors next to their fields.
    page.goto(site + url("login", lang=lang))
    expect(page.locator("main input[type=email]")).to_have_count(1)
    both_widths(page, shot, check_a11y, f"{lang}-login")
    page.locator("main form.vivadesk-form button[type=submit]").click()
    expect(page.locator("#id_username")).to_have_attribute("aria-invalid", "true")
    both_widths(page, shot, check_a11y, f"{lang}-login-errors")

    # Activation of a new account, and the "not valid" page.
    newcomer = factories.customer(f"neu-{lang}@example.com", confirmed=False)
    token = activation_token.make_token(newcomer)
    page.goto(site + url("activate", uid_for(newcomer), token, lang=lang))
    both_widths(page, shot, check_a11y, f"{lang}-activation")
    page.goto(site + url("activate", uid_for(newcomer), "1-x", lang=lang))
    both_widths(page, shot, check_a11y, f"{lang}-activation-invalid")

    # The password reset: the address, then the new password.
    customer = factories.customer(f"kunde-{lang}@example.com", language=lang)
    page.goto(site + url("password_reset", lang=lang))
    both_widths(page, shot, check_a11y, f"{lang}-password-reset")
    reset = default_token_generator.make_token(customer)
    page.goto(site + url("password_reset_confirm", uid_for(customer), reset, lang=lang))
    expect(page.locator("#id_new_password1")).to_be_visible()
    both_widths(page, shot, check_a11y, f"{lang}-new-password")

    # "My requests" with several tickets in different states.
    opened = [
        factories.ticket(customer, subject=subject, language=lang)
        for subject in SUBJECTS
    ]
    tickets.change_status(opened[1], "waiting")
    tickets.change_status(opened[2], "done")
    page.goto(site + url("login", lang=lang))
    page.fill("[name=username]", customer.email)
    page.fill("[name=password]", PASSWORD)
    page.locator("main form.vivadesk-form button[type=submit]").click()
    expect(page.locator("main table.vivadesk-table tbody tr")).to_have_count(4)
    both_widths(page, shot, check_a11y, f"{lang}-my-requests")

    page.set_viewport_size(WIDTHS["375"])
    assert search_rows(page) <= 2
    labels = card_labels(page)
    assert all(label not in ("none", "normal", "") for label in labels), labels
    assert '"Status"' in labels
    filters = page.locator(".vivadesk-filters a")
    filters.nth(1).click()
    expect(filters.nth(1)).to_have_attribute("aria-current", "true")
    page.fill("#vivadesk-q", "Drucker")
    page.locator("form.vivadesk-search button").click()
    expect(page.locator(".vivadesk-hits")).to_be_visible()
    page.set_viewport_size(WIDTHS["1280"])
    both_widths(page, shot, check_a11y, f"{lang}-my-requests-search")

    # A new request, sent without a subject.
    page.goto(site + url("new_request", lang=lang))
    both_widths(page, shot, check_a11y, f"{lang}-new-request")
    page.fill("[name=body]", "Bitte rufen Sie mich zurück.")
    page.locator("main form.vivadesk-form button[type=submit]").click()
    expect(page.locator("#id_subject")).to_have_attribute("aria-invalid", "true")
    both_widths(page, shot, check_a11y, f"{lang}-new-request-errors")
