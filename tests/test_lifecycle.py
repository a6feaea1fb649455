"""The ticket lifecycle in ``services.tickets``: new → open → waiting → done →
closed, reopening by a customer answer, and the auto-close schedule (exact,
idempotent, catching up after downtime, never racing a customer's reply)."""

from __future__ import annotations

import threading
from datetime import timedelta
from unittest import mock

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core import mail
from django.core.management import call_command
from django.db import connection, transaction
from wagtail.models import ModelLogEntry

from tests import factories
from tests.timing import clock
from vivadesk_wagtail import schedules, tasks
from vivadesk_wagtail.models import (
    MessageKind,
    OutboundEmail,
    Ticket,
    TicketMessage,
    TicketStatus,
)
from vivadesk_wagtail.services import tickets

pytestmark = pytest.mark.django_db(transaction=True)

CUSTOMER = "kunde@example.com"


def status_log(ticket) -> list[tuple[str, str]]:
    entries = ModelLogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(Ticket),
        object_id=str(ticket.pk),
        action="vivadesk.status",
    ).order_by("timestamp", "pk")
    return [(e.data["old"], e.data["new"]) for e in entries]


def status_events(ticket) -> list[tuple[str, str]]:
    events = TicketMessage.objects.filter(
        ticket=ticket, kind=MessageKind.EVENT
    ).order_by("created_at", "pk")
    return [
        (e.event["old"], e.event["new"]) for e in events if e.event["event"] == "status"
    ]


def comment(ticket, body="Es geht leider immer noch nicht."):
    return tickets.add_message(
        ticket,
        tickets.NewMessage(
            body=body, kind=MessageKind.CUSTOMER, author=ticket.customer
        ),
    )


def done_days_ago(days: float, agent, **ticket_kw) -> Ticket:
    """A ticket set to Done ``days`` ago (opened an hour before that)."""
    with clock(-timedelta(days=days, hours=1)):
        ticket = factories.ticket(**ticket_kw)
    with clock(-timedelta(days=days)):
        tickets.change_status(ticket, TicketStatus.DONE, by=agent)
    ticket.refresh_from_db()
    return ticket


def closed_mails() -> list:
    rows = OutboundEmail.objects.filter(event="ticket_closed")
    return list(rows.values_list("ticket__reference", flat=True))


@pytest.fixture
def agent():
    return factories.StaffFactory(username="anna", email="anna@viva.de")


def test_every_transition_is_logged_and_shown_in_the_thread(agent):
    ticket = factories.ticket()
    assert ticket.status == TicketStatus.NEW

    tickets.change_status(ticket, TicketStatus.OPEN, by=agent)
    tickets.change_status(ticket, TicketStatus.WAITING, by=agent)
    tickets.change_status(ticket, TicketStatus.DONE, by=agent)
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.DONE and ticket.done_at is not None
    with clock(timedelta(weeks=3, minutes=1)):
        assert tasks.close_done_tickets() == 1
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.CLOSED
    assert ticket.closed_at is not None

    path = [
        ("new", "open"),
        ("open", "waiting"),
        ("waiting", "done"),
        ("done", "closed"),
    ]
    assert status_log(ticket) == path
    assert status_events(ticket) == path
    entries = ModelLogEntry.objects.filter(action="vivadesk.status")
    assert [e.user_id for e in entries.order_by("timestamp", "pk")] == [
        agent.pk,
        agent.pk,
        agent.pk,
        None,  # the schedule
    ]
    # system events are public: the customer sees them in the portal
    assert set(
        ticket.messages.public()
        .filter(kind=MessageKind.EVENT)
        .values_list("kind", flat=True)
    ) == {MessageKind.EVENT}


def test_customer_message_reopens_a_done_ticket(agent):
    ticket = factories.ticket()
    tickets.change_status(ticket, TicketStatus.DONE, by=agent)

    comment(ticket)

    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.OPEN
    assert ticket.done_at is None
    assert status_log(ticket)[-1] == ("done", "open")
    assert status_events(ticket)[-1] == ("done", "open")
    entry = ModelLogEntry.objects.filter(action="vivadesk.status").latest("pk")
    assert entry.user_id == ticket.customer_id


def test_customer_message_on_a_waiting_ticket_hands_it_back(agent):
    ticket = factories.ticket()
    tickets.change_status(ticket, TicketStatus.WAITING, by=agent)
    comment(ticket)
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.OPEN


def test_message_on_a_closed_ticket_raises_and_writes_nothing(agent):
    ticket = done_days_ago(30, agent)
    assert tasks.close_done_tickets() == 1
    before = ticket.messages.count()
    mail.outbox.clear()

    with pytest.raises(tickets.TicketClosedError):
        comment(ticket)
    with pytest.raises(tickets.TicketClosedError):
        tickets.add_message(
            ticket,
            tickets.NewMessage(body="Antwort", kind=MessageKind.STAFF, author=agent),
        )
    with pytest.raises(tickets.TicketClosedError):
        tickets.change_status(ticket, TicketStatus.OPEN, by=agent)

    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.CLOSED
    assert ticket.messages.count() == before
    assert mail.outbox == []


def test_staff_may_still_note_on_a_closed_ticket(agent):
    ticket = done_days_ago(30, agent)
    tasks.close_done_tickets()
    tickets.add_message(
        ticket,
        tickets.NewMessage(body="Archiviert.", kind=MessageKind.NOTE, author=agent),
    )
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.CLOSED


def test_invalid_transitions_are_refused(agent):
    ticket = factories.ticket()
    with pytest.raises(tickets.InvalidTransitionError):
        tickets.change_status(ticket, TicketStatus.CLOSED, by=agent)
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.NEW
    assert status_log(ticket) == []


# --- auto-close -----------------------------------------------------------


def test_auto_close_closes_exactly_the_tickets_done_long_enough(agent):
    due = done_days_ago(21.01, agent)
    not_yet = done_days_ago(20.9, agent)
    with clock(-timedelta(days=40)):
        still_open = factories.ticket()
    waiting = factories.ticket()
    tickets.change_status(waiting, TicketStatus.WAITING, by=agent)
    reopened = done_days_ago(30, agent)
    comment(reopened)  # answered: never closed, however old its Done was

    assert tasks.close_done_tickets() == 1

    statuses = dict(Ticket.objects.values_list("pk", "status"))
    assert statuses == {
        due.pk: TicketStatus.CLOSED,
        not_yet.pk: TicketStatus.DONE,
        still_open.pk: TicketStatus.NEW,
        waiting.pk: TicketStatus.WAITING,
        reopened.pk: TicketStatus.OPEN,
    }
    assert closed_mails() == [due.reference]

    # idempotent: a second run (or a second worker) closes nothing
    assert tasks.close_done_tickets() == 0
    assert closed_mails() == [due.reference]
    assert status_log(due).count(("done", "closed")) == 1

    # and the one that was not yet due closes when its time has come
    with clock(timedelta(hours=3)):
        assert tasks.close_done_tickets() == 1
    assert sorted(closed_mails()) == sorted([due.reference, not_yet.reference])


def test_auto_close_period_is_a_setting(agent, settings):
    settings.VIVADESK = {**settings.VIVADESK, "AUTO_CLOSE_AFTER": timedelta(days=2)}
    two_and_a_half = done_days_ago(2.5, agent)
    one = done_days_ago(1, agent)
    assert tasks.close_done_tickets() == 1
    assert closed_mails() == [two_and_a_half.reference]
    one.refresh_from_db()
    assert one.status == TicketStatus.DONE


def test_auto_close_catches_up_after_days_of_downtime(agent):
    """The scheduler was down for ten days: one run closes everything that
    became due meanwhile, each ticket once, and nothing that is not due."""
    overdue = [done_days_ago(21 + days, agent) for days in (1, 3, 5, 8, 10)]
    recent = done_days_ago(12, agent)

    assert tasks.close_done_tickets() == len(overdue)

    for ticket in overdue:
        ticket.refresh_from_db()
        assert ticket.status == TicketStatus.CLOSED
        assert status_log(ticket).count(("done", "closed")) == 1
        assert status_events(ticket).count(("done", "closed")) == 1
    recent.refresh_from_db()
    assert recent.status == TicketStatus.DONE
    assert sorted(closed_mails()) == sorted(t.reference for t in overdue)
    assert tasks.close_done_tickets() == 0
    assert len(closed_mails()) == len(overdue)


def test_a_reply_that_lands_between_selection_and_lock_keeps_the_ticket_open(
    agent,
):
    ticket = done_days_ago(30, agent)
    other = done_days_ago(30, agent)
    original = tickets._close_if_still_done
    seen = []

    def reply_first(pk, deadline):
        # the candidate list is already taken; the customer's answer commits
        # before the schedule gets the row lock
        seen.append(pk)
        if pk == ticket.pk:
            comment(ticket, body="Moment, doch nicht erledigt!")
        return original(pk, deadline)

    with mock.patch.object(tickets, "_close_if_still_done", reply_first):
        assert tasks.close_done_tickets() == 1

    assert sorted(seen) == sorted([ticket.pk, other.pk])  # both were candidates
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.OPEN
    assert ticket.messages.filter(body="Moment, doch nicht erledigt!").exists()
    assert ("done", "closed") not in status_log(ticket)
    assert closed_mails() == [other.reference]


@pytest.mark.postgres
def test_reply_holding_the_row_lock_wins_against_the_schedule(agent):
    """Real concurrency on PostgreSQL: the customer's reply holds the ticket's
    row lock; the schedule has already picked the ticket as a candidate,
    waits for the lock and then sees the reopened ticket."""
    ticket = done_days_ago(30, agent)
    locked, release = threading.Event(), threading.Event()
    result: dict = {}

    def reply():
        try:
            with transaction.atomic():
                comment(ticket, body="Gerade noch rechtzeitig")
                locked.set()
                release.wait(15)
        finally:
            connection.close()

    def close():
        try:
            result["closed"] = tasks.close_done_tickets()
        except Exception as exc:  # noqa: BLE001 - reported below
            result["error"] = exc
        finally:
            connection.close()

    replier = threading.Thread(target=reply)
    replier.start()
    assert locked.wait(15)
    closer = threading.Thread(target=close)
    closer.start()
    closer.join(1.5)
    assert closer.is_alive(), "the schedule should wait for the row lock"
    release.set()
    replier.join(15)
    closer.join(15)

    assert result == {"closed": 0}
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.OPEN
    assert closed_mails() == []


def test_a_ticket_done_again_meanwhile_waits_for_its_new_deadline(agent):
    ticket = done_days_ago(30, agent)
    original = tickets._close_if_still_done

    def reopened_and_done_again(pk, deadline):
        comment(ticket)
        tickets.change_status(ticket, TicketStatus.DONE, by=agent)
        return original(pk, deadline)

    with mock.patch.object(tickets, "_close_if_still_done", reopened_and_done_again):
        assert tasks.close_done_tickets() == 0
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.DONE


def test_a_ticket_deleted_meanwhile_does_not_stop_the_run(agent):
    gone = done_days_ago(30, agent)
    kept = done_days_ago(30, agent)
    original = tickets._close_if_still_done

    def delete_first(pk, deadline):
        if pk == gone.pk:
            Ticket.objects.filter(pk=pk).delete()
        return original(pk, deadline)

    with mock.patch.object(tickets, "_close_if_still_done", delete_first):
        assert tasks.close_done_tickets() == 1
    kept.refresh_from_db()
    assert kept.status == TicketStatus.CLOSED


def test_a_reply_after_the_close_is_refused_for_a_follow_up(agent):
    """The other order of the race: the close committed first, so the answer
    meets a closed ticket and the caller opens a follow-up."""
    ticket = done_days_ago(30, agent)
    assert tasks.close_done_tickets() == 1
    with pytest.raises(tickets.TicketClosedError):
        comment(ticket)
    follow_up = tickets.open_ticket(
        customer=ticket.customer,
        subject=ticket.subject,
        first=tickets.NewMessage(body="Wieder kaputt", author=ticket.customer),
        follows=ticket,
    )
    assert follow_up.follows == ticket
    assert follow_up.status == TicketStatus.NEW


def test_schedules_are_installed_once(capsys):
    from django_q.models import Schedule

    created = schedules.install()
    assert all(flag for _name, flag in created)
    assert [flag for _name, flag in schedules.install()] == [False] * len(created)
    funcs = set(Schedule.objects.values_list("func", flat=True))
    assert funcs == {periodic.func for periodic in schedules.SCHEDULES}
    assert {
        "vivadesk_wagtail.tasks.sweep_outbox",
        "vivadesk_wagtail.tasks.close_done_tickets",
        "vivadesk_wagtail.inbound_tasks.poll_mailboxes",
    } <= funcs
    for func in funcs:
        module, _dot, name = func.rpartition(".")
        assert callable(getattr(__import__(module, fromlist=[name]), name))
    call_command("vivadesk_schedules")
    assert Schedule.objects.count() == len(funcs)
