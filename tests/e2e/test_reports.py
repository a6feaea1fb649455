"""The service reports in a real browser (Chromium via Playwright), in German
and English (the admin follows the user's Wagtail profile), on a desktop
and a phone: an agent opens the service report from the Reports menu, sees
the chart and the weekly table, narrows the period, and opens the backlog.
Each step leaves a screenshot in ``test-artifacts/e2e/``."""

from __future__ import annotations

import random
import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from tests import factories
from tests.e2e import admin_support
from tests.e2e.conftest import VIEWPORTS, assert_no_sideways_scrolling
from vivadesk_wagtail.models import (
    Category,
    Rating,
    SatisfactionRating,
    Ticket,
    TicketStatus,
)

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("fresh_content_types"),
]

SERVICE = "vivadesk_service_report"
BACKLOG = "vivadesk_backlog_report"


def seed_tickets(assignee) -> None:
    """Sixty tickets over the last twelve weeks, most of them resolved."""
    rng = random.Random(22)
    customer = factories.customer("report.browser@example.org", name="Rolf Report")
    categories = [Category.objects.create(name=n) for n in ("Drucker", "Netz")]
    now = timezone.now()
    for n in range(60):
        created = now - timedelta(hours=rng.randint(1, 11 * 7 * 24))
        resolved = n % 4 != 0 and created + timedelta(hours=30) < now
        ticket = Ticket.objects.create(
            number=800_000 + n,
            reference=f"E2E-{n}",
            subject=f"Anfrage {n}",
            customer=customer,
            status=TicketStatus.DONE if resolved else TicketStatus.OPEN,
        )
        Ticket.objects.filter(pk=ticket.pk).update(
            created_at=created,
            first_response_minutes=rng.randint(10, 900),
            first_response_breached=n % 7 == 0,
            resolved_at=created + timedelta(hours=30) if resolved else None,
            resolution_minutes=rng.randint(60, 3000) if resolved else None,
            resolution_breached=resolved and n % 5 == 0,
            category=categories[n % 3] if n % 3 < 2 else None,
            assignee=assignee if n % 2 else None,
            next_due=None if resolved else now - timedelta(hours=n % 3),
        )
        if resolved and n % 3:
            SatisfactionRating.objects.create(
                ticket=ticket, rating=Rating.GOOD if n % 5 else Rating.BAD
            )


@pytest.mark.parametrize("language", ["de", "en"])
def test_an_agent_reads_the_service_report_and_the_backlog(
    live_server, new_page, shot, check_a11y, language
):
    user = admin_support.staff(
        "agentin", language, first_name="Agnes", last_name="Agentin"
    )
    seed_tickets(user)
    page = admin_support.log_in(new_page("de-DE"), live_server, user)
    service = reverse(SERVICE)

    # Reports → the service report.
    sidebar = page.locator("[data-wagtail-sidebar], #wagtail-sidebar").first
    sidebar.locator("button", has_text=re.compile("Berichte|Reports")).click()
    page.locator(f"a[href='{service}']").first.click()
    expect(page).to_have_url(re.compile(re.escape(service) + "$"))
    expect(page.locator("html")).to_have_attribute("lang", language)
    main = page.locator("main")
    chart = main.locator("svg.vd-report-chart__svg")
    expect(chart).to_be_visible()
    expect(chart.locator("rect.vd-chart-bar")).to_have_count(12)
    expect(chart.locator("title").first).to_have_text(
        {"de": re.compile(r"\S"), "en": "Tickets opened and resolved per week"}[
            language
        ]
    )
    rows = main.locator("table.vd-report-table tbody tr")
    expect(rows).to_have_count(13)
    expect(rows.last).to_have_class(re.compile("vd-report-total"))
    expect(rows.last.locator("td").first).to_have_text("60")
    week = {"de": "KW", "en": "W"}[language]
    if language == "en":
        expect(rows.first.locator("th")).to_contain_text(week)
    assert_no_sideways_scrolling(page, "service report")
    check_a11y(page, f"service report ({language})")
    shot(page, f"service-{language}-desktop")

    # A shorter period, as the filter form would send it.
    today = timezone.localdate()
    page.goto(
        f"{live_server.url}{service}?period_from="
        f"{(today - timedelta(weeks=3)).isoformat()}&period_to={today.isoformat()}"
    )
    expect(main.locator("table.vd-report-table tbody tr")).to_have_count(5)
    expect(chart.locator("rect.vd-chart-bar")).to_have_count(4)

    page.set_viewport_size(VIEWPORTS["phone"])
    page.goto(f"{live_server.url}{service}")
    expect(chart).to_be_visible()
    assert_no_sideways_scrolling(page, "service report on a phone")
    check_a11y(page, f"service report on a phone ({language})")
    shot(page, f"service-{language}-phone")

    # The backlog, from the report's header.
    page.set_viewport_size(VIEWPORTS["desktop"])
    page.goto(f"{live_server.url}{service}")
    backlog = reverse(BACKLOG)
    page.locator(f"a[href='{backlog}']").first.click()
    expect(page).to_have_url(re.compile(re.escape(backlog) + "$"))
    expect(main.locator("table.vd-report-table")).to_have_count(3)
    status = {"de": "Neu", "en": "New"}[language]
    expect(main.locator("table.vd-report-table").first).to_contain_text(status)
    nobody = {"de": re.compile(r"\S"), "en": "Nobody"}[language]
    expect(main.locator("table.vd-report-table").last).to_contain_text(nobody)
    assert_no_sideways_scrolling(page, "backlog")
    check_a11y(page, f"backlog ({language})")
    shot(page, f"backlog-{language}-desktop")
    page.set_viewport_size(VIEWPORTS["phone"])
    page.reload()
    assert_no_sideways_scrolling(page, "backlog on a phone")
    shot(page, f"backlog-{language}-phone")
