"""Outgoing mail under faults between the SMTP server's 250 and the write that
marks the row sent, against the real SMTP sink (``tests/smtp_server``).

Delivery is at least once with the same Message-ID: a lost database
connection at that moment is reconnected and the write retried, a server that
breaks while the connection is closed after its 250 does not fail the send,
and a row whose worker died is sent again once the task timeout says the
worker is gone. The PostgreSQL tests cut the worker's connection for real
(``pg_terminate_backend`` from a second connection).
"""

from __future__ import annotations

import contextlib
import logging
from datetime import timedelta
from unittest import mock

import pytest
from django.db import connection
from django.utils import timezone

from tests import factories
from tests import smtp_server as smtp_fixtures
from vivadesk_wagtail import conf, tasks
from vivadesk_wagtail.models import OutboundEmail, OutboundState

pytestmark = pytest.mark.django_db(transaction=True)

smtp_server = smtp_fixtures.smtp_server

CUSTOMER = "kunde@example.com"


@contextlib.contextmanager
def no_task_queue():
    """The broker accepts tasks and loses them (nothing runs)."""
    with mock.patch("django_q.tasks.async_task") as lost:
        yield lost


@pytest.fixture(autouse=True)
def _fresh_connection_afterwards():
    """A connection a test cut is replaced before the database is flushed."""
    yield
    connection.close_if_unusable_or_obsolete()


@pytest.fixture
def row():
    """A ticket's acknowledgement, pending: its task was lost."""
    with no_task_queue():
        ticket = factories.ticket()
    return OutboundEmail.objects.get(ticket=ticket, event="ticket_created")


@pytest.fixture
def quick_retries(monkeypatch):
    monkeypatch.setattr(tasks, "MARK_SENT_BACKOFF", (0.05, 0.05, 0.05), raising=False)


# --- a lost database connection right after the 250 (PostgreSQL) ------------


def terminate(pid: int) -> None:
    """End the server process of a connection, as a failover or a network
    cut does, from a connection of its own; returns once it is gone."""
    import psycopg

    db = connection.settings_dict
    params = {
        "dbname": db["NAME"],
        "user": db["USER"],
        "password": db["PASSWORD"],
        "host": db["HOST"],
        "port": db["PORT"],
    }
    with psycopg.connect(**params, autocommit=True) as killer:
        killer.execute("SELECT pg_terminate_backend(%s, 5000)", [pid])


def backend_pid() -> int:
    connection.ensure_connection()
    return connection.connection.info.backend_pid


@contextlib.contextmanager
def cut_before_marking_sent(times: int):
    """The worker's connection is terminated just before each of the first
    ``times`` writes that mark a row sent; yields the list of cuts."""
    cuts = []

    def wrapper(execute, sql, params, many, context):
        marks_sent = (
            sql.startswith("UPDATE")
            and OutboundEmail._meta.db_table in sql
            and OutboundState.SENT in (params or ())
        )
        if marks_sent and len(cuts) < times:
            pid = backend_pid()
            terminate(pid)
            cuts.append(pid)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(wrapper):
        yield cuts


@pytest.mark.postgres
@pytest.mark.parametrize("times", [1, 2])
def test_a_lost_connection_at_the_status_write_is_retried(
    smtp_server, row, quick_retries, times
):
    with cut_before_marking_sent(times) as cuts:
        assert tasks.send_outbound(row.pk) == "sent"

    assert len(cuts) == times
    row.refresh_from_db()
    assert row.state == OutboundState.SENT
    assert row.attempts == 1
    (sent,) = smtp_server.messages_to(CUSTOMER)
    assert sent.message["Message-ID"] == row.message_id
    # nothing left for the sweeper to send again
    with no_task_queue() as queued:
        tasks.sweep_outbox()
    assert row.pk not in [call.args[1] for call in queued.call_args_list]


@pytest.mark.postgres
def test_the_connection_cut_when_the_server_says_250_sends_once(smtp_server, row):
    pid = backend_pid()
    smtp_server.after_data = lambda _captured: terminate(pid)

    assert tasks.send_outbound(row.pk) == "sent"

    assert backend_pid() != pid  # the worker reconnected
    row.refresh_from_db()
    assert row.state == OutboundState.SENT
    (sent,) = smtp_server.messages_to(CUSTOMER)
    assert sent.message["Message-ID"] == row.message_id


@pytest.mark.postgres
def test_a_database_down_for_longer_leaves_the_row_for_the_sweeper(
    smtp_server, row, quick_retries, caplog
):
    attempts = len(tasks.MARK_SENT_BACKOFF) + 1
    with caplog.at_level(logging.ERROR, logger="vivadesk_wagtail.tasks"):
        with cut_before_marking_sent(attempts) as cuts:
            assert tasks.send_outbound(row.pk) == "unrecorded"
    assert len(cuts) == attempts
    assert "could not be marked sent" in caplog.text

    row.refresh_from_db()
    assert row.state == OutboundState.SENDING
    with clock_after(conf.outbox_stuck_after()):
        tasks.sweep_outbox()
    row.refresh_from_db()
    assert row.state == OutboundState.SENT
    # at least once, and the copies carry the same Message-ID
    copies = smtp_server.messages_to(CUSTOMER)
    assert [m.message["Message-ID"] for m in copies] == [row.message_id] * 2


# --- the server breaks while the connection is closed after its 250 ----------


def garbled(smtp) -> str:
    """A reply smtplib cannot read (longer than a reply line may be)."""
    return "221 " + "x" * 9000


def reset(smtp) -> str:
    smtp.transport.abort()
    return "221 Bye"


@pytest.mark.parametrize("on_quit", [garbled, reset], ids=["garbled", "reset"])
def test_a_server_that_dies_during_quit_after_its_250_counts_as_sent(
    smtp_server, row, on_quit
):
    smtp_server.on_quit = on_quit

    assert tasks.send_outbound(row.pk) == "sent"

    row.refresh_from_db()
    assert row.state == OutboundState.SENT
    assert row.last_error == ""
    (sent,) = smtp_server.messages_to(CUSTOMER)
    assert sent.message["Message-ID"] == row.message_id


def test_a_failure_before_the_250_is_still_a_failure(smtp_server, row):
    smtp_server.reply_to_rcpt = "451 4.3.0 Try later"
    smtp_server.on_quit = garbled

    assert tasks.send_outbound(row.pk) == "retry"
    row.refresh_from_db()
    assert row.state == OutboundState.PENDING
    assert "451" in row.last_error


# --- a worker that died: the task timeout decides ---------------------------


@contextlib.contextmanager
def clock_after(age: timedelta):
    from tests.timing import clock

    with clock(age + timedelta(seconds=1)):
        yield


def age(pk: int, by: timedelta) -> None:
    """The row was last written ``by`` ago."""
    OutboundEmail.objects.filter(pk=pk).update(updated_at=timezone.now() - by)


def test_the_stuck_age_is_the_task_timeout_plus_a_minute(settings):
    settings.Q_CLUSTER = {**settings.Q_CLUSTER, "timeout": 120}
    assert conf.outbox_stuck_after() == timedelta(minutes=3)
    settings.VIVADESK = {**settings.VIVADESK, "OUTBOX_STUCK_AFTER": timedelta(hours=1)}
    assert conf.outbox_stuck_after() == timedelta(hours=1)


def test_a_sending_row_older_than_the_task_timeout_is_sent_again(smtp_server, settings):
    settings.Q_CLUSTER = {**settings.Q_CLUSTER, "timeout": 120}
    with no_task_queue():
        dead = OutboundEmail.objects.get(
            ticket=factories.ticket(), event="ticket_created"
        )
        alive = OutboundEmail.objects.get(
            ticket=factories.ticket(subject="Scanner"), event="ticket_created"
        )
    OutboundEmail.objects.exclude(pk__in=[dead.pk, alive.pk]).delete()
    assert tasks._claim(dead.pk) and tasks._claim(alive.pk)
    age(dead.pk, timedelta(minutes=4))  # its worker was killed at 2 minutes
    age(alive.pk, timedelta(minutes=2))  # its task may still run

    assert tasks.sweep_outbox() == 1

    dead.refresh_from_db()
    alive.refresh_from_db()
    assert dead.state == OutboundState.SENT
    assert dead.attempts == 2
    assert alive.state == OutboundState.SENDING
    (sent,) = smtp_server.messages
    assert sent.message["Message-ID"] == dead.message_id


def test_a_queued_row_whose_task_was_lost_is_queued_again_after_the_timeout(
    smtp_server, row, settings
):
    settings.Q_CLUSTER = {**settings.Q_CLUSTER, "timeout": 120}
    OutboundEmail.objects.exclude(pk=row.pk).delete()
    # queued when the ticket was opened; the task died with its worker
    age(row.pk, timedelta(minutes=2))
    with no_task_queue():
        assert tasks.sweep_outbox() == 0  # it may still wait in the queue

    age(row.pk, timedelta(minutes=4))
    assert tasks.sweep_outbox() == 1

    row.refresh_from_db()
    assert row.state == OutboundState.SENT
    (sent,) = smtp_server.messages
    assert sent.message["Message-ID"] == row.message_id
