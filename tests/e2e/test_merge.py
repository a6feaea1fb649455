"""Merging a ticket in a real browser (Chromium via Playwright), in German
and English, on a desktop and a phone: the agent opens "Merge…" from the
ticket screen, enters the target's Ticket ID, compares both tickets,
confirms (ticking the box for another customer's ticket) and lands on the
target, which points back. Screenshots go to ``test-artifacts/e2e/``."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests import factories, staff_support
from tests.e2e import admin_support
from tests.e2e.conftest import assert_no_sideways_scrolling
from vivadesk_wagtail.models import Ticket

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("fresh_content_types"),
]

#: German until the catalogue has the strings, English meanwhile.
COMPARE = re.compile("Vergleichen|Compare")
MERGED_FROM = re.compile("Zusammengeführt aus|Merged from")


def log_in(new_page, live_server, language: str, width: int):
    agent = admin_support.staff("agent", language, first_name="Anna")
    page = new_page("de-DE")
    page.set_viewport_size({"width": width, "height": 900})
    return admin_support.log_in(page, live_server, agent)


@pytest.mark.parametrize("width", [1280, 375])
@pytest.mark.parametrize("language", ["de", "en"])
def test_agent_merges_a_ticket_through_the_page(
    live_server, new_page, shot, check_a11y, language, width
):
    customer = factories.customer(name="Quirin Zwackelmann")
    source = factories.ticket(customer, subject="Toner im Büro „Große Halle“ leer")
    other = language == "en"  # one run merges into another customer's ticket
    owner = factories.customer("otto@example.org", name="Otto") if other else customer
    target = factories.ticket(owner, subject="Drucker druckt nur leere Seiten")
    page = log_in(new_page, live_server, language, width)

    page.goto(live_server.url + staff_support.screen_url(source))
    merge = staff_support.url("merge", source.pk)
    page.locator("#w-slim-header-buttons .w-dropdown__toggle").click()
    page.locator(f"a[href='{merge}']").click()
    expect(page).to_have_url(re.compile(re.escape(merge) + "$"))
    expect(page.locator("html")).to_have_attribute("lang", language)
    assert_no_sideways_scrolling(page, "merge page")
    shot(page, f"choose-{language}-{width}")

    page.fill("input[name=target]", target.reference)
    page.get_by_role("button", name=COMPARE).click()
    main = page.locator("main")
    expect(main.locator(".vd-merge-side")).to_have_count(2)
    for text in (source.reference, target.reference, target.subject):
        expect(main).to_contain_text(text)
    assert_no_sideways_scrolling(page, "comparison")
    check_a11y(page, "merge comparison")
    if other:
        expect(main.locator("input[name=confirm_other_customer]")).to_be_visible()
        main.locator("input[name=confirm_other_customer]").check()
    shot(page, f"compare-{language}-{width}")

    with page.expect_navigation():
        main.locator("form[method=post] button[type=submit]").click()
    screen = staff_support.screen_url(target)
    expect(page).to_have_url(re.compile(re.escape(screen) + "$"))
    notice = page.locator(".vd-merge-notice")
    expect(notice).to_contain_text(MERGED_FROM)
    expect(
        notice.locator(f"a[href='{staff_support.screen_url(source)}']")
    ).to_be_visible()
    assert_no_sideways_scrolling(page, "target after the merge")
    shot(page, f"merged-{language}-{width}")
    assert Ticket.objects.get(pk=source.pk).merged_into_id == target.pk
