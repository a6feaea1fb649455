"""The collision warning in a real browser (Chromium via Playwright), in
German and English: two agents on one ticket see each other; a customer
message arrives while agent A types; A's send comes back with the warning
and the new message first, and "Send anyway" sends the reply once. Each
step leaves a screenshot in ``test-artifacts/e2e/``."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from tests import factories, staff_support
from tests.e2e import admin_support
from tests.e2e.conftest import VIEWPORTS, assert_no_sideways_scrolling
from vivadesk_wagtail.models import Channel, MessageKind, TicketMessage
from vivadesk_wagtail.services import tickets

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("fresh_content_types"),
]

#: Short enough for a heartbeat every 2 seconds (a third of it).
TIMEOUT = timedelta(seconds=6)

TEXTS = {
    "de": {"open_by": "Auch geöffnet von", "anyway": "Trotzdem senden"},
    "en": {"open_by": "Also open by", "anyway": "Send anyway"},
}


def agent(username: str, first_name: str, language: str):
    return admin_support.staff(
        username, language, first_name=first_name, last_name="Agent"
    )


def open_screen(new_page, live_server, user, ticket):
    page = admin_support.log_in(new_page("de-DE"), live_server, user)
    page.goto(live_server.url + staff_support.screen_url(ticket))
    return page


def any_of(*texts: str):
    return re.compile("|".join(re.escape(text) for text in texts))


@pytest.mark.parametrize("language", ["de", "en"])
def test_two_agents_and_a_stale_reply(
    live_server, new_page, shot, check_a11y, settings, language
):
    settings.VIVADESK = {**settings.VIVADESK, "PRESENCE_TIMEOUT": TIMEOUT}
    ticket = factories.ticket(subject="Drucker druckt nicht")
    anna = agent("anna", "Anna", language)
    bert = agent("bert", "Bert", language)
    open_by = any_of(TEXTS["de"]["open_by"], TEXTS["en"]["open_by"])

    # Anna opens the ticket first: nobody else.
    page_a = open_screen(new_page, live_server, anna, ticket)
    expect(page_a.locator("html")).to_have_attribute("lang", language)
    viewers_a = page_a.locator("[data-vd-viewers]")
    expect(viewers_a).to_have_text("")

    # Bert opens it: his page says Anna has it open (server-rendered) ...
    page_b = open_screen(new_page, live_server, bert, ticket)
    viewers_b = page_b.locator("[data-vd-viewers]")
    expect(viewers_b).to_contain_text(open_by)
    expect(viewers_b).to_contain_text("Anna Agent")
    # ... and Anna's heartbeat brings Bert into her banner.
    expect(viewers_a).to_contain_text("Bert Agent")
    expect(viewers_a).to_contain_text(open_by)
    shot(page_a, f"viewers-{language}")
    page_b.set_viewport_size(VIEWPORTS["phone"])
    page_b.reload()
    expect(viewers_b).to_contain_text("Anna Agent")
    assert_no_sideways_scrolling(page_b, "ticket screen with the banner at 375 px")
    shot(page_b, f"viewers-phone-{language}")

    # Anna types; the customer writes meanwhile.
    page_a.fill("[name=reply-body]", "Bitte installieren Sie den Treiber neu.")
    tickets.add_message(
        ticket,
        tickets.NewMessage(
            body="Jetzt blinkt auch noch die rote Lampe.",
            kind=MessageKind.CUSTOMER,
            channel=Channel.WEB,
            author=ticket.customer,
        ),
    )
    news = page_a.locator("[data-vd-news]")
    expect(news.locator("p")).to_be_visible()
    expect(news.locator("a")).to_have_attribute(
        "href", staff_support.screen_url(ticket)
    )
    shot(page_a, f"notice-{language}")

    # Bert leaves: Anna's banner empties with her next heartbeat.
    page_b.goto(f"{live_server.url}/admin/")
    expect(viewers_a).to_have_text("")

    # Anna sends: nothing goes out, the new message shows first, text kept.
    with page_a.expect_navigation():
        page_a.locator("form:has([name=reply-body]) .vd-buttons button").first.click()
    stale = page_a.locator("#vd-stale")
    expect(stale).to_be_visible()
    expect(stale).to_contain_text("Jetzt blinkt auch noch die rote Lampe.")
    expect(page_a.locator("[name=reply-body]")).to_have_value(
        "Bitte installieren Sie den Treiber neu."
    )
    assert not TicketMessage.objects.filter(kind=MessageKind.STAFF).exists()
    box = stale.bounding_box()
    body = page_a.locator("[name=reply-body]").bounding_box()
    assert box["y"] + box["height"] <= body["y"], "the new message comes first"
    check_a11y(page_a, "stale reply")
    shot(page_a, f"stale-top-{language}")
    stale.scroll_into_view_if_needed()
    shot(page_a, f"stale-{language}")
    page_a.set_viewport_size(VIEWPORTS["phone"])
    assert_no_sideways_scrolling(page_a, "stale reply at 375 px")
    page_a.wait_for_timeout(300)  # the admin's layout settles after resizing
    stale.evaluate("node => node.scrollIntoView({block: 'start'})")
    shot(page_a, f"stale-phone-{language}")

    # Send anyway: the reply goes out once.
    anyway = stale.locator(
        "button", has_text=any_of(*(t["anyway"] for t in TEXTS.values()))
    )
    with page_a.expect_navigation():
        anyway.click()
    expect(page_a.locator("#vd-stale")).to_have_count(0)
    replies = TicketMessage.objects.filter(kind=MessageKind.STAFF)
    assert list(replies.values_list("body", flat=True)) == [
        "Bitte installieren Sie den Treiber neu."
    ]
    expect(page_a.locator(".vd-thread")).to_contain_text(
        "Bitte installieren Sie den Treiber neu."
    )
    assert_no_sideways_scrolling(page_a, "ticket screen at 375 px")
    shot(page_a, f"sent-phone-{language}")
