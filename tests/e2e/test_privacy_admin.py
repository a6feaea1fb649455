"""The admin's data-protection screens in a real browser (Chromium via
Playwright), in German and English (the admin follows the user's Wagtail
profile): an agent deletes a customer's account from the ticket screen,
and the data-protection officer reads the register in Reports. Each step
leaves a screenshot in ``test-artifacts/e2e/``."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from tests import factories, staff_support
from tests.e2e import admin_support
from tests.e2e.conftest import assert_no_sideways_scrolling
from vivadesk_wagtail.models import (
    DataRequest,
    DataRequestKind,
    DataRequestState,
    RequestedBy,
)

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("fresh_content_types"),
]

CUSTOMER = ("quirin.zwackelmann@example.org", "Quirin Zwackelmann")


@pytest.mark.parametrize("language", ["de", "en"])
def test_agent_erases_and_the_officer_reads_the_register(
    live_server, new_page, shot, language
):
    email, name = CUSTOMER
    ticket = factories.ticket(factories.customer(email, name=name))
    customer = ticket.customer
    DataRequest.objects.create(
        kind=DataRequestKind.EXPORT,
        state=DataRequestState.READY,
        user=customer,
        summary={"tickets": 1, "messages": 1},
    )
    agent = admin_support.staff("agent", language, first_name="Agent")
    officer = admin_support.staff(
        "officer",
        language,
        first_name="Officer",
        groups=[
            staff_support.group(
                "Data protection",
                "wagtailadmin.access_admin",
                "vivadesk_wagtail.view_datarequest",
            )
        ],
    )

    # The agent: ticket screen → erase page → scheduled.
    page = admin_support.log_in(new_page("de-DE"), live_server, agent)
    screen = staff_support.screen_url(ticket)
    page.goto(live_server.url + screen)
    expect(page.locator("html")).to_have_attribute("lang", language)
    erase = reverse("vivadesk_erase_customer", args=(customer.pk,))
    page.locator(f"a[href^='{erase}']").click()
    expect(page).to_have_url(re.compile(re.escape(erase)))
    expect(page.locator("main")).to_contain_text(email)
    expect(page.locator("input[name=reason]")).to_have_count(4)
    assert_no_sideways_scrolling(page, "erase page")
    shot(page, f"erase-{language}")
    page.locator("input[name=reason][value=customer_asked]").check()
    page.locator("input[name=confirm]").check()
    with page.expect_navigation():
        page.locator("main form button[type=submit]").click()
    expect(page).to_have_url(re.compile(re.escape(screen) + "$"))
    expect(page.locator(".vd-erasure-notice")).to_be_visible()
    expect(page.locator(f"a[href^='{erase}']")).to_have_count(0)
    shot(page, f"erase-done-{language}")
    request = DataRequest.objects.get(kind=DataRequestKind.ERASURE)
    assert request.state == DataRequestState.SCHEDULED
    assert request.requested_by == RequestedBy.AGENT

    # The officer: Reports → the register, without the customer.
    page = admin_support.log_in(new_page("de-DE"), live_server, officer)
    register = reverse("vivadesk_privacy_register")
    sidebar = page.locator("[data-wagtail-sidebar], #wagtail-sidebar").first
    sidebar.locator("button", has_text=re.compile("Berichte|Reports")).click()
    page.locator(f"a[href='{register}']").first.click()
    expect(page).to_have_url(re.compile(re.escape(register) + "$"))
    main = page.locator("main")
    expect(main.locator("tbody tr")).to_have_count(2)
    expect(main).to_contain_text(str(request.pk))
    summary = {
        "de": "Anfragen: 1, Nachrichten: 1",
        "en": "messages: 1, requests: 1",
    }[language]
    expect(main).to_contain_text(summary)
    text = main.inner_text()
    assert name.split()[1] not in text and email not in text
    assert_no_sideways_scrolling(page, "register")
    shot(page, f"register-{language}")
