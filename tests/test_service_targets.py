"""Service targets of tickets (``services.service_targets``): due times on
opening, the first response, the clock stopping while the customer is asked
and while the ticket is done, category changes, and the sweeper that warns
once before a target is missed and marks missed targets.

The week is the default one: Mon-Fri 8-17 in Berlin with Berlin's holidays.
1 December 2026 is a Tuesday."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from wagtail.users.models import UserProfile

from tests import factories
from tests.targets_support import (
    Clock,
    at,
    customer_says,
    fresh_targets,  # noqa: F401 - autouse fixture
    open_ticket,
    reload,
    reply,
    set_status,
    target,
)
from vivadesk_wagtail.models import Category, OutboundEmail, TicketStatus
from vivadesk_wagtail.services import service_targets, tickets

pytestmark = pytest.mark.django_db


@pytest.fixture
def clock():
    with Clock(at(2026, 12, 1, 9, 0)) as running:
        yield running


@pytest.fixture
def default(db):
    """2 business hours to the first response, 16 to the resolution."""
    return target(first=2, resolution=16)


# --- due times on opening ---


def test_due_times_on_opening(clock, default):
    ticket = open_ticket()
    assert ticket.first_response_due == at(2026, 12, 1, 11, 0)
    # 8 h on Tuesday, 8 h on Wednesday
    assert ticket.resolution_due == at(2026, 12, 2, 16, 0)
    assert ticket.next_due == ticket.first_response_due
    assert ticket.targets_paused_at is None


def test_an_evening_ticket_counts_from_the_next_morning(clock, default):
    clock.set(2026, 12, 4, 19, 30)  # Friday evening
    ticket = open_ticket()
    assert ticket.first_response_due == at(2026, 12, 7, 10, 0)


def test_a_category_row_wins_over_the_default(clock, default):
    urgent = Category.objects.create(name="Dringend")
    plain = Category.objects.create(name="Allgemein")
    target(urgent, first=0.5, resolution=4)
    assert open_ticket(urgent).first_response_due == at(2026, 12, 1, 9, 30)
    assert open_ticket(urgent).resolution_due == at(2026, 12, 1, 13, 0)
    # a category without a row of its own has the default
    assert open_ticket(plain).first_response_due == at(2026, 12, 1, 11, 0)


def test_an_empty_target_of_a_category_means_none(clock, default):
    quiet = Category.objects.create(name="Anregungen")
    target(quiet, first=None, resolution=40)
    ticket = open_ticket(quiet)
    assert ticket.first_response_due is None
    assert ticket.resolution_due is not None
    assert ticket.next_due == ticket.resolution_due


def test_no_targets_no_due_times(clock):
    ticket = open_ticket()
    assert (ticket.first_response_due, ticket.resolution_due, ticket.next_due) == (
        None,
        None,
        None,
    )
    ticket = reply(ticket, factories.StaffFactory())
    assert ticket.first_response_minutes == 0
    assert not ticket.first_response_breached


# --- the first response ---


def test_the_first_public_reply_is_the_first_response(clock, default, agent):
    ticket = open_ticket()
    clock.set(2026, 12, 1, 10, 15)
    tickets.add_message(
        ticket,
        tickets.NewMessage(body="Intern", kind="note", author=agent),
    )
    assert reload(ticket).first_response_at is None
    ticket = reply(ticket, agent)
    assert ticket.first_response_at == at(2026, 12, 1, 10, 15)
    assert ticket.first_response_minutes == 75
    assert not ticket.first_response_breached
    assert ticket.next_due == ticket.resolution_due
    clock.set(2026, 12, 1, 14, 0)
    ticket = reply(ticket, agent)
    assert ticket.first_response_at == at(2026, 12, 1, 10, 15)


def test_a_late_first_response_misses_its_target(clock, default, agent):
    ticket = open_ticket()
    clock.set(2026, 12, 2, 8, 30)
    ticket = reply(ticket, agent)
    assert ticket.first_response_breached
    assert ticket.first_response_minutes == 8 * 60 + 30


# --- waiting for the customer stops the clock ---


def test_waiting_pauses_and_the_answer_moves_the_due_times(clock, default, agent):
    ticket = open_ticket()
    clock.set(2026, 12, 1, 10, 0)
    ticket = reply(ticket, agent, set_status=TicketStatus.WAITING)
    assert ticket.targets_paused_at == at(2026, 12, 1, 10, 0)
    assert ticket.next_due is None
    resolution = ticket.resolution_due
    # the customer answers the next day at 9:00: 8 business hours later
    clock.set(2026, 12, 2, 9, 0)
    ticket = customer_says(ticket)
    assert ticket.status == TicketStatus.OPEN
    assert ticket.targets_paused_at is None
    # 15 business hours were left: Wednesday 9-17 and Thursday 8-15
    assert resolution == at(2026, 12, 2, 16, 0)
    assert ticket.resolution_due == at(2026, 12, 3, 15, 0)
    assert ticket.next_due == ticket.resolution_due


def test_a_pause_before_the_first_response_moves_it_too(clock, default, agent):
    ticket = open_ticket()
    clock.set(2026, 12, 1, 9, 30)
    ticket = set_status(ticket, TicketStatus.WAITING, agent)
    clock.set(2026, 12, 1, 15, 30)
    ticket = customer_says(ticket)
    assert ticket.first_response_due == at(2026, 12, 1, 17, 0)
    clock.set(2026, 12, 1, 16, 0)
    ticket = reply(ticket, agent)
    # 30 minutes before the pause and 30 after it
    assert ticket.first_response_minutes == 60
    assert not ticket.first_response_breached


# --- done, reopened, closed ---


def test_done_stops_the_clock_and_records_the_resolution(clock, default, agent):
    ticket = open_ticket()
    clock.set(2026, 12, 1, 10, 0)
    ticket = reply(ticket, agent, set_status=TicketStatus.WAITING)
    clock.set(2026, 12, 1, 12, 0)
    ticket = customer_says(ticket)
    clock.set(2026, 12, 1, 15, 0)
    ticket = set_status(ticket, TicketStatus.DONE, agent)
    assert ticket.resolved_at == at(2026, 12, 1, 15, 0)
    # 6 business hours since opening, 2 of them waiting for the customer
    assert ticket.resolution_minutes == 4 * 60
    assert not ticket.resolution_breached
    assert ticket.next_due is None
    assert ticket.targets_paused_at == at(2026, 12, 1, 15, 0)


def test_done_from_waiting_counts_the_clock_until_the_pause(clock, default, agent):
    ticket = open_ticket()
    clock.set(2026, 12, 1, 11, 0)
    ticket = set_status(ticket, TicketStatus.WAITING, agent)
    clock.set(2026, 12, 8, 11, 0)
    ticket = set_status(ticket, TicketStatus.DONE, agent)
    assert ticket.resolution_minutes == 120
    assert not ticket.resolution_breached


def test_a_late_resolution_misses_its_target(clock, default, agent):
    ticket = open_ticket()
    clock.set(2026, 12, 3, 9, 0)
    ticket = set_status(ticket, TicketStatus.DONE, agent)
    assert ticket.resolution_breached
    assert ticket.resolution_minutes == 8 * 60 + 9 * 60 + 60


def test_reopening_clears_the_resolution_and_closing_keeps_it(
    clock, default, agent, settings
):
    ticket = open_ticket()
    clock.set(2026, 12, 1, 12, 0)
    ticket = set_status(ticket, TicketStatus.DONE, agent)
    clock.set(2026, 12, 1, 14, 0)
    ticket = customer_says(ticket, "Doch nicht gelöst.")
    assert ticket.status == TicketStatus.OPEN
    assert ticket.resolved_at is None and ticket.resolution_minutes is None
    # the two hours done do not count: Wednesday 16:00 becomes Thursday 9:00
    assert ticket.resolution_due == at(2026, 12, 3, 9, 0)
    clock.set(2026, 12, 1, 15, 0)
    ticket = set_status(ticket, TicketStatus.DONE, agent)
    assert ticket.resolution_minutes == 4 * 60
    settings.VIVADESK = {**settings.VIVADESK, "AUTO_CLOSE_AFTER": timedelta(0)}
    clock.set(2026, 12, 2, 9, 0)
    tickets.close_done_tickets()
    closed = reload(ticket)
    assert closed.status == TicketStatus.CLOSED
    assert closed.resolved_at == at(2026, 12, 1, 15, 0)
    assert closed.resolution_minutes == 4 * 60


# --- category change ---


def test_a_category_change_recomputes_the_pending_due_times(clock, default, agent):
    urgent = Category.objects.create(name="Dringend")
    target(urgent, first=1, resolution=3)
    ticket = open_ticket()
    clock.set(2026, 12, 1, 9, 30)
    ticket = reply(ticket, agent)
    answered_due = ticket.first_response_due
    tickets.set_category(ticket, urgent, by=agent)
    ticket = reload(ticket)
    assert ticket.first_response_due == answered_due  # answered: kept
    assert ticket.resolution_due == at(2026, 12, 1, 12, 0)
    assert ticket.next_due == ticket.resolution_due
    tickets.set_category(ticket, None, by=agent)
    assert reload(ticket).resolution_due == at(2026, 12, 2, 16, 0)


def test_a_category_change_during_a_pause_counts_the_pause_once(clock, default, agent):
    urgent = Category.objects.create(name="Dringend")
    target(urgent, first=1, resolution=3)
    ticket = open_ticket()
    clock.set(2026, 12, 1, 9, 30)
    ticket = set_status(ticket, TicketStatus.WAITING, agent)
    clock.set(2026, 12, 1, 11, 0)
    tickets.set_category(ticket, urgent, by=agent)
    clock.set(2026, 12, 1, 12, 0)
    ticket = customer_says(ticket)
    # 30 minutes ran before the pause: 30 (and 150) more after noon
    assert ticket.first_response_due == at(2026, 12, 1, 12, 30)
    assert ticket.resolution_due == at(2026, 12, 1, 14, 30)


# --- the target cache ---


def test_targets_are_read_once_not_per_ticket(clock, default):
    open_ticket()
    with CaptureQueriesContext(connection) as captured:
        open_ticket()
    assert not [q for q in captured if "servicetarget" in q["sql"]]


def test_a_saved_target_takes_effect_at_once(clock, default):
    assert open_ticket().first_response_due == at(2026, 12, 1, 11, 0)
    default.first_response_hours = 1
    default.save()
    assert open_ticket().first_response_due == at(2026, 12, 1, 10, 0)
    default.delete()
    assert open_ticket().first_response_due is None


# --- the sweeper ---


def staff_language(user, language):
    profile = UserProfile.get_for_user(user)
    profile.preferred_language = language
    profile.save()


def warnings() -> list[OutboundEmail]:
    return list(OutboundEmail.objects.filter(event="staff_target_warning"))


def test_the_assignee_is_warned_once_before_the_first_response(
    clock, default, agent, django_capture_on_commit_callbacks
):
    ticket = open_ticket()
    tickets.assign(ticket, agent, by=agent)
    clock.set(2026, 12, 1, 9, 59)
    assert service_targets.check_targets() == 0  # 61 minutes left
    clock.set(2026, 12, 1, 10, 0)
    with django_capture_on_commit_callbacks(execute=True):
        assert service_targets.check_targets() == 1
    (row,) = warnings()
    assert row.recipient == agent.email
    assert row.language == "en"
    assert row.context["target"] == "first_response"
    (sent,) = [m for m in mail.outbox if m.to == [agent.email]]
    assert ticket.reference in sent.subject
    assert "First response due soon" in sent.subject
    assert "The first response to" in sent.body
    assert "/admin/" in sent.body
    assert reload(ticket).first_response_warned
    # again, and after the due time: no second warning, the miss is marked
    clock.set(2026, 12, 1, 10, 30)
    assert service_targets.check_targets() == 0
    clock.set(2026, 12, 1, 11, 1)
    assert service_targets.check_targets() == 1
    assert service_targets.check_targets() == 0
    assert len(warnings()) == 1
    assert reload(ticket).first_response_breached


def test_without_assignee_the_staff_address_is_warned_in_the_site_language(
    clock, default, settings, django_capture_on_commit_callbacks
):
    settings.VIVADESK = {**settings.VIVADESK, "STAFF_NOTIFY_EMAIL": "team@viva.de"}
    ticket = open_ticket()
    clock.set(2026, 12, 1, 10, 30)
    with django_capture_on_commit_callbacks(execute=True):
        service_targets.check_targets()
    (row,) = warnings()
    assert (row.recipient, row.language) == ("team@viva.de", "de")
    (sent,) = mail.outbox[-1:]
    assert sent.to == ["team@viva.de"]
    assert ticket.reference in sent.body


def test_the_resolution_is_warned_after_the_first_response(clock, default, agent):
    ticket = open_ticket()
    clock.set(2026, 12, 1, 9, 10)
    reply(ticket, agent)
    clock.set(2026, 12, 2, 15, 0)
    service_targets.check_targets()
    (row,) = warnings()
    assert row.context["target"] == "resolution"
    assert reload(ticket).resolution_warned
    clock.set(2026, 12, 2, 16, 1)
    service_targets.check_targets()
    ticket = reload(ticket)
    assert ticket.resolution_breached and not ticket.first_response_breached
    assert len(warnings()) == 1


def test_a_paused_ticket_is_neither_warned_nor_marked(clock, default, agent):
    ticket = open_ticket()
    set_status(ticket, TicketStatus.WAITING, agent)
    clock.set(2026, 12, 9, 9, 0)
    assert service_targets.check_targets() == 0
    ticket = reload(ticket)
    assert not (ticket.first_response_warned or ticket.first_response_breached)
    assert warnings() == []


def test_the_sweeper_rechecks_under_the_lock(clock, default, agent):
    """A candidate answered between the listing and the lock is left alone."""
    ticket = open_ticket()
    clock.set(2026, 12, 1, 10, 30)
    reply(ticket, agent)
    soon = clock.now + timedelta(hours=1)
    assert service_targets._check_one(ticket.pk, clock.now, soon) is False
    assert warnings() == []


def test_the_sweeper_catches_up_once_after_downtime(clock, default, agent):
    first = open_ticket()
    second = open_ticket()
    clock.set(2026, 12, 7, 9, 0)  # a long weekend later
    assert service_targets.check_targets() == 2
    assert service_targets.check_targets() == 0
    assert len(warnings()) == 4  # first response and resolution of each
    for ticket in (reload(first), reload(second)):
        assert ticket.first_response_breached and ticket.resolution_breached
