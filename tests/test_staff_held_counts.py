"""Held mail and caught posts in the admin: the "Held mail" menu item opens
a page of that title, and their counts read in the language's plural forms
(listing totals, dashboard tiles)."""

from __future__ import annotations

import re
import uuid

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import translation

from vivadesk_wagtail.models import (
    CaughtReason,
    CaughtSubmission,
    InboundMail,
    InboundState,
)
from vivadesk_wagtail.staff.counts import held_mail_count

HELD = "wagtailsnippets_vivadesk_wagtail_inboundmail"
SPAM = "wagtailsnippets_vivadesk_wagtail_caughtsubmission"


@pytest.fixture
def agent_client(agent_client, agent):
    """The conftest agent, with the views migrations give the agents group."""
    group = agent.groups.get()
    for codename in ("view_inboundmail", "view_caughtsubmission"):
        group.permissions.add(Permission.objects.get(codename=codename))
    return agent_client


def held(subject: str, state=InboundState.HELD) -> InboundMail:
    return InboundMail.objects.create(
        dedupe_key=uuid.uuid4().hex,
        sha256="0" * 64,
        sender="fremd@example.org",
        subject=subject,
        state=state,
        reason="unknown_sender",
    )


def caught(subject: str) -> CaughtSubmission:
    return CaughtSubmission.objects.create(
        reason=CaughtReason.HONEYPOT,
        name="Bot",
        email="bot@example.org",
        subject=subject,
        message="Cheap pills",
    )


def html_of(client, address: str) -> str:
    response = client.get(address)
    assert response.status_code == 200, address
    return response.content.decode()


def squeeze(html: str) -> str:
    return re.sub(r"\s+", " ", html)


@pytest.mark.django_db
def test_menu_item_and_page_share_the_title(agent_client):
    listing = reverse(f"{HELD}:list")
    row = held("Angebot")
    home = squeeze(html_of(agent_client, "/admin/"))
    assert "Held mail" in home
    page = squeeze(html_of(agent_client, listing))
    assert "<title>Held mail - " in page
    assert re.search(r"<h1[^>]*>\s*Held mail\s*</h1>", page)
    assert "Incoming mail" not in page
    screen = squeeze(html_of(agent_client, reverse(f"{HELD}:inspect", args=[row.pk])))
    assert "Incoming mail" not in screen
    assert f'href="{listing}"' in screen


@pytest.mark.django_db
def test_listing_totals_count_held_mail(agent_client):
    listing = reverse(f"{HELD}:list")
    empty = squeeze(html_of(agent_client, listing))
    assert "No mail is held." in empty
    held("Eins")
    held("Schon erledigt", state=InboundState.DONE)
    assert "1 held mail " in squeeze(html_of(agent_client, listing))
    held("Zwei")
    assert "2 held mails" in squeeze(html_of(agent_client, listing))
    caught("Spam 1")
    caught("Spam 2")
    assert "2 caught posts" in squeeze(html_of(agent_client, reverse(f"{SPAM}:list")))


@pytest.mark.django_db
def test_dashboard_tiles_for_what_waits_for_a_decision(agent_client):
    def tiles() -> list[tuple[str, str]]:
        home = squeeze(html_of(agent_client, "/admin/"))
        panel = home[home.index("vivadesk-helpdesk") :]
        return re.findall(
            r'<a href="([^"]+)"><span class="vd-tile__count">(\d+)</span> '
            r'<span class="vd-tile__label">([^<]+)</span>',
            panel,
        )

    assert not [t for t in tiles() if "inboundmail" in t[0] or "caught" in t[0]]
    held("Eins")
    caught("Spam 1")
    caught("Spam 2")
    found = {url: (count, label) for url, count, label in tiles()}
    assert found[reverse(f"{HELD}:list")] == ("1", "Held mail")
    assert found[reverse(f"{SPAM}:list")] == ("2", "Caught posts")
    held("Zwei")
    found = {url: (count, label) for url, count, label in tiles()}
    assert found[reverse(f"{HELD}:list")] == ("2", "Held mails")


def test_counts_use_plural_forms():
    with translation.override("en"):
        assert held_mail_count(1) == "1 held mail"
        assert held_mail_count(0) == "0 held mails"
