"""Rating the help from the "Done" mail in a real browser: the mail goes out
over SMTP (aiosmtpd), its rating link opens the page with the choice
preselected, the customer adds a comment and sends, then changes the
rating with the other link; the agent sees it on the ticket screen. In
German and English, at desktop and phone width (375 px): the document's
language, no serious or critical axe-core violation, no sideways
scrolling, screenshots in ``test-artifacts/e2e/``."""

from __future__ import annotations

import re
import time

import pytest
from django.db import transaction
from playwright.sync_api import expect

from tests import factories, staff_support
from tests.e2e import admin_support
from tests.e2e.conftest import VIEWPORTS, assert_no_sideways_scrolling
from vivadesk_wagtail.models import SatisfactionRating, TicketStatus
from vivadesk_wagtail.services import tickets

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("fresh_content_types"),
]

LINK = re.compile(r"https?://\S+/rating/\S+/\?choice=(good|bad)")
ENGLISH = {"page": "Rate our help", "thanks": "Thank you for your rating"}


def done_mail(server, address: str, timeout: float = 10.0):
    """The "Done" mail to ``address`` as the SMTP server received it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for captured in server.messages_to(address):
            if LINK.search(captured.text):
                return captured
        time.sleep(0.1)
    raise AssertionError(f"no mail with rating links to {address}")


def check(page, name: str, language: str, shot, check_a11y, heading: str) -> None:
    """The page at every screen size: language, heading, axe, width, shot."""
    for size, viewport in VIEWPORTS.items():
        page.set_viewport_size(viewport)
        label = f"{language}-{name}-{size}"
        assert page.evaluate("() => document.documentElement.lang") == language
        if language == "en":
            expect(page.get_by_role("heading", level=1)).to_have_text(heading)
        check_a11y(page, label)
        assert_no_sideways_scrolling(page, label)
        shot(page, label)
    page.set_viewport_size(VIEWPORTS["desktop"])


@pytest.mark.parametrize("language", ["de", "en"])
def test_rating_from_the_done_mail(
    live_site, smtp_server, new_page, shot, check_a11y, language
):
    address = f"bewertung-{language}@example.com"
    customer = factories.customer(address, language=language, name="Rita Rating")
    with transaction.atomic():
        ticket = factories.ticket(customer, language=language, subject="Drucker")
    with transaction.atomic():
        tickets.change_status(ticket, TicketStatus.DONE)
    mail = done_mail(smtp_server, address)
    links = {m.group(1): m.group(0) for m in LINK.finditer(mail.text)}
    html_links = {m.group(1): m.group(0) for m in LINK.finditer(mail.html)}
    assert set(links) == set(html_links) == {"good", "bad"}
    assert all(link.startswith(live_site.url) for link in links.values())

    page = new_page(locale="de-DE" if language == "de" else "en-GB")
    page.goto(links["good"])
    expect(page.locator("main")).to_contain_text(ticket.reference)
    expect(page.locator("input[name=rating][value=good]")).to_be_checked()
    expect(page.locator("input[name=rating][value=bad]")).not_to_be_checked()
    assert not SatisfactionRating.objects.exists()  # opening stored nothing
    check(page, "rating", language, shot, check_a11y, ENGLISH["page"])

    page.fill("textarea[name=comment]", "Schnelle Hilfe, danke!")
    page.locator("main form button[type=submit]").click()
    page.wait_for_load_state()
    expect(page.locator("main")).to_contain_text("Schnelle Hilfe, danke!")
    check(page, "thanks", language, shot, check_a11y, ENGLISH["thanks"])
    stored = SatisfactionRating.objects.get(ticket=ticket)
    assert (stored.rating, stored.comment) == ("good", "Schnelle Hilfe, danke!")

    # The other link of the same mail: the rating is shown and can change.
    page.goto(links["bad"])
    expect(page.locator("input[name=rating][value=bad]")).to_be_checked()
    expect(page.locator("textarea[name=comment]")).to_have_value(
        "Schnelle Hilfe, danke!"
    )
    check(page, "change", language, shot, check_a11y, ENGLISH["page"])
    page.fill("textarea[name=comment]", "Doch noch ein Problem.")
    page.locator("main form button[type=submit]").click()
    page.wait_for_load_state()
    stored.refresh_from_db()
    assert (stored.rating, stored.comment) == ("bad", "Doch noch ein Problem.")
    shot(page, f"{language}-changed")
    assert SatisfactionRating.objects.count() == 1

    # The agent sees the rating and the comment on the ticket screen.
    agent = admin_support.staff("anna", language)
    staff_page = admin_support.log_in(new_page(), live_site, agent)
    staff_page.goto(live_site.url + staff_support.screen_url(ticket))
    rating = staff_page.locator(".vd-rating")
    expect(rating).to_contain_text("Doch noch ein Problem.")
    expect(rating.locator(".vd-rating--bad")).to_be_visible()
    rating.scroll_into_view_if_needed()
    assert_no_sideways_scrolling(staff_page, "ticket screen")
    shot(staff_page, f"{language}-ticket-screen")
