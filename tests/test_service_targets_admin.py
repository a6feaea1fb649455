"""Service targets in the admin: the targets' snippet (agents look, admins
edit, everybody else is refused), the due times on the ticket screen, the
listing's "Due" column and its "overdue" / "due soon" filter, and the
system checks of the business-hours settings."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone

from tests import factories
from tests.staff_support import assert_denied, screen_url, url
from tests.targets_support import (
    fresh_targets,  # noqa: F401 - autouse fixture
    reload,
    target,
)
from vivadesk_wagtail.checks import check_vivadesk_settings
from vivadesk_wagtail.models import ServiceTarget, Ticket, TicketStatus
from vivadesk_wagtail.services import tickets
from vivadesk_wagtail.staff.targets import ticket_targets

pytestmark = pytest.mark.django_db

NS = "wagtailsnippets_vivadesk_wagtail_servicetarget"


@pytest.fixture
def admin_client(client):
    admin = get_user_model().objects.create_superuser(
        "chefin", "chefin@viva.de", "admin-pass-123"
    )
    client.force_login(admin)
    return client


def target_url(name: str, *args) -> str:
    return reverse(f"{NS}:{name}", args=args)


def set_due(ticket, **fields) -> Ticket:
    Ticket.objects.filter(pk=ticket.pk).update(**fields)
    return reload(ticket)


# --- the targets' snippet ---------------------------------------------------------


def test_agents_see_the_targets_but_may_not_change_them(agent_client):
    row = target(first=2, resolution=16)
    listing = agent_client.get(target_url("list"))
    assert listing.status_code == 200
    assert "Default service target" in listing.content.decode()
    assert_denied(agent_client.get(target_url("add")))
    assert_denied(agent_client.get(target_url("edit", row.pk)))
    assert_denied(
        agent_client.post(target_url("edit", row.pk), {"first_response_hours": "9"})
    )
    assert_denied(agent_client.post(target_url("delete", row.pk)))
    assert ServiceTarget.objects.get().first_response_hours == 2


def test_non_agents_are_refused_everywhere(client, editor):
    row = target(first=2)
    client.force_login(editor)
    for address in (
        target_url("list"),
        target_url("add"),
        target_url("edit", row.pk),
        target_url("delete", row.pk),
    ):
        assert_denied(client.get(address), address)
    assert_denied(client.post(target_url("delete", row.pk)))
    assert ServiceTarget.objects.exists()
    client.logout()
    response = client.get(target_url("list"))
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_an_editor_with_the_model_permissions_is_still_refused(client, editor):
    """Holding ``change_servicetarget`` does not make an editor an agent."""
    from django.contrib.auth.models import Permission

    editor.user_permissions.add(
        *Permission.objects.filter(codename__endswith="_servicetarget")
    )
    client.force_login(editor)
    assert_denied(client.get(target_url("add")))


def test_admins_add_and_edit_targets(admin_client):
    hardware = factories_category("Hardware")
    response = admin_client.post(
        target_url("add"),
        {
            "category": hardware.pk,
            "first_response_hours": "1.5",
            "resolution_hours": "",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    row = ServiceTarget.objects.get(category=hardware)
    assert row.first_response_hours == 1.5 and row.resolution_hours is None
    admin_client.post(
        target_url("edit", row.pk),
        {"category": hardware.pk, "first_response_hours": "3", "resolution_hours": "8"},
    )
    assert ServiceTarget.objects.get(pk=row.pk).resolution_hours == 8


def test_only_one_default_row(admin_client):
    target(first=2)
    response = admin_client.post(
        target_url("add"), {"category": "", "first_response_hours": "4"}
    )
    assert response.status_code == 200
    assert "Es gibt bereits eine Standard-Servicezeit" in response.content.decode()
    assert ServiceTarget.objects.count() == 1
    # the default row itself may still be edited
    row = ServiceTarget.objects.get()
    response = admin_client.post(
        target_url("edit", row.pk), {"category": "", "first_response_hours": "4"}
    )
    assert response.status_code == 302
    assert ServiceTarget.objects.get().first_response_hours == 4


@pytest.mark.parametrize("hours", ["0", "-2", "0.1"])
def test_hours_must_be_positive(admin_client, hours):
    response = admin_client.post(
        target_url("add"), {"category": "", "first_response_hours": hours}
    )
    assert response.status_code == 200
    assert not ServiceTarget.objects.exists()


def test_a_category_has_one_row(admin_client):
    hardware = factories_category("Hardware")
    target(hardware, first=2)
    response = admin_client.post(
        target_url("add"), {"category": hardware.pk, "first_response_hours": "1"}
    )
    assert response.status_code == 200
    assert ServiceTarget.objects.count() == 1


def factories_category(name):
    from vivadesk_wagtail.models import Category

    return Category.objects.create(name=name)


# --- the ticket screen ------------------------------------------------------------


def test_the_screen_shows_due_times_and_badges(agent_client, ticket):
    now = timezone.now()
    ticket = set_due(
        ticket,
        first_response_due=now - timedelta(minutes=5),
        resolution_due=now + timedelta(minutes=30),
        next_due=now - timedelta(minutes=5),
    )
    html = agent_client.get(screen_url(ticket)).content.decode()
    assert "vd-targets-heading" in html
    assert re.search(r"First response</dt>\s*<dd>\s*due .*?overdue", html, re.S)
    assert re.search(r"Resolution</dt>\s*<dd>\s*due .*?due soon", html, re.S)


def test_the_screen_says_paused_while_waiting(agent_client, agent, ticket):
    target(first=2, resolution=16)
    ticket = reload(
        tickets.open_ticket(
            customer=ticket.customer,
            subject="Neu",
            first=tickets.NewMessage(body="x", author=ticket.customer),
        )
    )
    tickets.change_status(ticket, TicketStatus.WAITING, by=agent)
    html = agent_client.get(screen_url(ticket)).content.decode()
    assert "paused (waiting for the customer)" in html
    assert "overdue" not in html


def test_met_and_missed_after_the_fact(ticket):
    now = timezone.now()
    ticket = set_due(
        ticket,
        status=TicketStatus.DONE,
        first_response_due=now - timedelta(hours=3),
        first_response_at=now - timedelta(hours=4),
        resolution_due=now - timedelta(hours=2),
        resolved_at=now - timedelta(hours=1),
        resolution_breached=True,
    )
    states = [state.state for state in ticket_targets(ticket)]
    assert states == ["met", "missed"]


def test_a_ticket_without_targets_shows_no_section(agent_client, ticket):
    html = agent_client.get(screen_url(ticket)).content.decode()
    assert "vd-targets-heading" not in html


# --- the listing ------------------------------------------------------------------


@pytest.fixture
def dues(db):
    """Overdue, due within the hour, due tomorrow, none, and a done ticket
    whose due time passed."""
    now = timezone.now()
    made = {}
    for name, due in (
        ("overdue", now - timedelta(minutes=10)),
        ("soon", now + timedelta(minutes=20)),
        ("later", now + timedelta(days=1)),
        ("none", None),
        ("finished", now - timedelta(hours=2)),
    ):
        ticket = factories.ticket(subject=f"Betreff {name}")
        made[name] = set_due(ticket, next_due=due)
    tickets.change_status(made["finished"], TicketStatus.DONE)
    set_due(made["finished"], next_due=now - timedelta(hours=2))
    return made


def listed(client, query: str) -> set[str]:
    response = client.get(url("list") + query)
    assert response.status_code == 200
    return set(re.findall(r"VIVA-\d+", response.content.decode()))


def test_the_due_filter(agent_client, dues):
    assert listed(agent_client, "?due=overdue") == {dues["overdue"].reference}
    assert listed(agent_client, "?due=soon") == {dues["soon"].reference}
    assert listed(agent_client, "?due=overdue&show=all") == {dues["overdue"].reference}
    everything = listed(agent_client, "?show=all")
    assert {ticket.reference for ticket in dues.values()} <= everything


def test_an_unknown_due_choice_filters_nothing_out_of_bounds(agent_client, dues):
    response = agent_client.get(url("list") + "?due=next_due__gt")
    assert response.status_code == 200


def test_the_due_column_marks_overdue_tickets(agent_client, dues):
    html = agent_client.get(url("list")).content.decode()
    assert "?ordering=next_due" in html  # the column's sortable header
    overdue = html.split(dues["overdue"].reference, 1)[1].split("</tr>", 1)[0]
    assert "vd-due--overdue" in overdue and "overdue</span>" in overdue
    soon = html.split(dues["soon"].reference, 1)[1].split("</tr>", 1)[0]
    assert 'class="vd-due"' in soon and "vd-due--overdue" not in soon
    assert listed(agent_client, "?ordering=next_due")


def test_the_listing_refuses_non_agents(client, editor, dues):
    client.force_login(editor)
    assert_denied(client.get(url("list") + "?due=overdue"))


# --- system checks --------------------------------------------------------------------


def errors(settings, **values) -> set[str]:
    settings.VIVADESK = {**settings.VIVADESK, **values}
    return {error.id for error in check_vivadesk_settings()}


BUSINESS_IDS = {"vivadesk.E068", "vivadesk.E069", "vivadesk.E070", "vivadesk.E071"}


def test_the_defaults_pass(settings):
    assert not errors(settings) & BUSINESS_IDS


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({"BUSINESS_TIMEZONE": "Europe/Atlantis"}, "vivadesk.E068"),
        ({"BUSINESS_TIMEZONE": None}, "vivadesk.E068"),
        ({"BUSINESS_DAYS": [0, 7]}, "vivadesk.E069"),
        ({"BUSINESS_DAYS": []}, "vivadesk.E069"),
        ({"BUSINESS_DAYS": "0-4"}, "vivadesk.E069"),
        ({"BUSINESS_DAYS": [True]}, "vivadesk.E069"),
        ({"BUSINESS_HOURS": ["17:00", "08:00"]}, "vivadesk.E069"),
        ({"BUSINESS_HOURS": ["8:00", "17:00"]}, "vivadesk.E069"),
        ({"BUSINESS_HOURS": ["08:00", "25:00"]}, "vivadesk.E069"),
        ({"BUSINESS_HOURS": ["08:00"]}, "vivadesk.E069"),
        ({"BUSINESS_HOURS": None}, "vivadesk.E069"),
        ({"HOLIDAYS_COUNTRY": "XX"}, "vivadesk.E070"),
        ({"HOLIDAYS_SUBDIVISION": "ZZ"}, "vivadesk.E070"),
        ({"TARGET_WARNING": timedelta(0)}, "vivadesk.E071"),
        ({"TARGET_WARNING": 60}, "vivadesk.E071"),
    ],
)
def test_wrong_business_settings_are_reported(settings, values, expected):
    assert errors(settings, **values) & BUSINESS_IDS == {expected}


def test_other_valid_weeks_pass(settings):
    assert (
        not errors(
            settings,
            BUSINESS_TIMEZONE="America/New_York",
            BUSINESS_DAYS=[5, 6],
            BUSINESS_HOURS=["00:00", "23:59"],
            HOLIDAYS_COUNTRY="US",
            HOLIDAYS_SUBDIVISION="NY",
        )
        & BUSINESS_IDS
    )
    assert not errors(settings, HOLIDAYS_COUNTRY=None) & BUSINESS_IDS
    assert not errors(settings, HOLIDAYS_SUBDIVISION=None) & BUSINESS_IDS
