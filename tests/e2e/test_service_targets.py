"""Service targets in a real browser (Chromium via Playwright), German and
English, on a desktop and a phone: the due times with their badges on the
ticket screen (checked with axe-core), and the listing's "Due" column with
the "overdue" filter (Wagtail's own listing header fails axe's
``label-content-name-mismatch`` on its dropdown toggle, so the listing is
not run through axe). Screenshots go to ``test-artifacts/e2e/``."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests import factories, staff_support
from tests.e2e import admin_support
from tests.e2e.conftest import VIEWPORTS, assert_no_sideways_scrolling
from tests.targets_support import fresh_targets  # noqa: F401 - autouse fixture
from vivadesk_wagtail.models import ServiceTarget, Ticket, TicketStatus
from vivadesk_wagtail.services import service_targets, tickets

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("fresh_content_types"),
]


def tickets_with_targets(by):
    """A ticket past its first-response time, one due soon, one waiting for
    its customer (the clock stopped) and one without a due time."""
    ServiceTarget.objects.create(first_response_hours=2, resolution_hours=16)
    service_targets.forget()
    customer = factories.customer("kundin@example.org", name="Karla Kundin")
    made = [factories.ticket(customer, subject=f"Anfrage {n}") for n in range(1, 4)]
    now = timezone.now()
    Ticket.objects.filter(pk=made[0].pk).update(
        first_response_due=now - timedelta(minutes=20),
        next_due=now - timedelta(minutes=20),
        resolution_due=now + timedelta(minutes=40),
    )
    Ticket.objects.filter(pk=made[1].pk).update(
        first_response_due=now + timedelta(minutes=30),
        next_due=now + timedelta(minutes=30),
    )
    tickets.change_status(made[2], TicketStatus.WAITING, by=by)
    return made


@pytest.mark.parametrize("language", ["de", "en"])
def test_due_times_on_the_screen_and_in_the_listing(
    live_server, new_page, shot, check_a11y, language
):
    user = admin_support.staff("agent", language, first_name="Anna")
    overdue, soon, waiting = tickets_with_targets(user)
    page = admin_support.log_in(new_page("de-DE"), live_server, user)
    for size in ("phone", "desktop"):
        page.set_viewport_size(VIEWPORTS[size])
        page.goto(live_server.url + staff_support.screen_url(overdue))
        section = page.locator(".vd-targets")
        expect(section).to_be_visible()
        expect(section.locator(".vd-badge--danger")).to_have_count(1)
        expect(section.locator(".vd-badge--soon")).to_have_count(1)
        assert_no_sideways_scrolling(page, f"screen {size}")
        section.scroll_into_view_if_needed()
        shot(page, f"screen-{language}-{size}")

        page.goto(live_server.url + staff_support.screen_url(waiting))
        expect(page.locator(".vd-targets .vd-badge")).to_have_count(2)
        if language == "en":
            expect(page.locator(".vd-targets")).to_contain_text(
                "paused (waiting for the customer)"
            )
        page.locator(".vd-targets").scroll_into_view_if_needed()
        shot(page, f"waiting-{language}-{size}")

        page.goto(live_server.url + staff_support.url("list") + "?due=overdue")
        rows = page.locator("main tbody tr")
        expect(rows).to_have_count(1)
        expect(rows.first).to_contain_text(overdue.reference)
        expect(rows.first.locator(".vd-due--overdue")).to_be_visible()
        assert_no_sideways_scrolling(page, f"listing {size}")
        rows.first.locator(".vd-due--overdue").scroll_into_view_if_needed()
        shot(page, f"listing-overdue-{language}-{size}")

    page.goto(live_server.url + staff_support.url("list") + "?due=soon")
    expect(page.locator("main tbody tr")).to_have_count(1)
    expect(page.locator("main tbody")).to_contain_text(soon.reference)
    page.goto(live_server.url + staff_support.url("list"))
    expect(page.locator("main tbody tr")).to_have_count(3)
    shot(page, f"listing-all-{language}-desktop")
    page.goto(live_server.url + staff_support.screen_url(overdue))
    check_a11y(page, "ticket screen")
