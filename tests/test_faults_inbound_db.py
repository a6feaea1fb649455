"""Transient database errors while an inbound mail is processed: the mail
stays pending and the sweeper retries it with backoff; only a mail that fails
that way ``INBOUND_TRANSIENT_ATTEMPTS`` times is held for staff.

On SQLite and PostgreSQL the faults are real driver exceptions raised inside
the processing transaction; on PostgreSQL they also happen for real: the
processing backend terminated, a deadlock, a lock timeout, and a
serialization failure raised by the server at COMMIT.
"""

from __future__ import annotations

import threading
import time
from contextlib import contextmanager
from datetime import timedelta

import psycopg
import pytest
from django.db import (
    DataError,
    IntegrityError,
    InterfaceError,
    OperationalError,
    connection,
    connections,
)
from django.utils import translation
from psycopg import errors as pg

from tests import emails, factories
from tests.timing import clock
from vivadesk_wagtail import dberrors, inbound_tasks, statements
from vivadesk_wagtail.mail import inbound
from vivadesk_wagtail.models import (
    InboundMail,
    InboundState,
    OutboundEmail,
    Ticket,
    TicketCounter,
    TicketMessage,
)
from vivadesk_wagtail.services import held_mail, tickets
from vivadesk_wagtail.services import inbound as service
from vivadesk_wagtail.staff.held_mail import reason_label

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("fresh_content_types"),
]

MINUTE = timedelta(minutes=1)


def wrapped(django_class, driver_error):
    """``driver_error`` as Django raises it: its own class, the driver's
    exception as the cause."""
    error = django_class(*driver_error.args)
    error.__cause__ = driver_error
    return error


TRANSIENT = {
    "sqlite locked": OperationalError("database is locked"),
    "sqlite table locked": OperationalError("database table is locked"),
    "serialization failure": wrapped(
        OperationalError,
        pg.SerializationFailure("could not serialize access due to concurrent update"),
    ),
    "deadlock": pg.DeadlockDetected("deadlock detected"),
    "lock timeout": pg.LockNotAvailable("canceling statement due to lock timeout"),
    "terminated": wrapped(
        OperationalError,
        pg.AdminShutdown("terminating connection due to administrator command"),
    ),
    "connection failure": pg.ConnectionFailure("server conn crashed?"),
    "connection lost": wrapped(
        OperationalError,
        psycopg.OperationalError(
            "consuming input failed: server closed the connection unexpectedly"
        ),
    ),
    "connection closed": InterfaceError("connection already closed"),
}

NOT_TRANSIENT = {
    "unique violation": wrapped(IntegrityError, pg.UniqueViolation("duplicate key")),
    "undefined column": pg.UndefinedColumn('column "x" does not exist'),
    "statement timeout": pg.QueryCanceled("canceling statement due to timeout"),
    "sqlite no such table": OperationalError("no such table: x"),
    "data error": DataError("value too long for type character varying(64)"),
    "no database error": RuntimeError("database is locked"),
}


@pytest.mark.parametrize("error", TRANSIENT.values(), ids=TRANSIENT.keys())
def test_transient_database_errors_are_recognised(error):
    assert dberrors.is_transient(error)


@pytest.mark.parametrize("error", NOT_TRANSIENT.values(), ids=NOT_TRANSIENT.keys())
def test_other_errors_are_not_transient(error):
    assert not dberrors.is_transient(error)


def failing(monkeypatch, *errors):
    """``services.inbound.handle`` raises ``errors`` one per call, then works."""
    real, pending = service.handle, list(errors)

    def handle(row, parsed):
        if pending:
            raise pending.pop(0)
        return real(row, parsed)

    monkeypatch.setattr(service, "handle", handle)


def sweep_at(offset: timedelta) -> int:
    with clock(offset):
        return inbound_tasks.sweep_inbound()


def assert_one_ticket_from(row: InboundMail) -> None:
    row.refresh_from_db()
    assert (row.state, row.outcome) == (InboundState.DONE, "new_ticket")
    assert row.next_attempt_at is None
    assert Ticket.objects.count() == 1
    assert TicketMessage.objects.filter(ticket=row.ticket).count() == 1
    assert row.ticket_message.body.startswith("Der Drucker")


MAIL = {"subject": "Drucker", "body": "Der Drucker druckt nicht."}


@pytest.mark.parametrize("error", TRANSIENT.values(), ids=TRANSIENT.keys())
def test_a_transient_error_leaves_the_mail_pending_for_the_sweeper(
    settings, monkeypatch, error
):
    settings.VIVADESK = {
        **getattr(settings, "VIVADESK", {}),
        "INBOUND_STUCK_AFTER": timedelta(seconds=1),
    }
    factories.customer()
    failing(monkeypatch, error)
    before = factories.now()
    result = inbound.ingest(emails.build(**MAIL))
    assert result.outcome == "retry"
    row = InboundMail.objects.get()
    assert (row.state, row.reason, row.attempts) == (InboundState.PENDING, "", 1)
    assert type(error).__name__ in row.detail
    assert before + MINUTE <= row.next_attempt_at <= factories.now() + MINUTE
    assert Ticket.objects.count() == 0
    # Not before its retry time, however short INBOUND_STUCK_AFTER is.
    assert sweep_at(timedelta(seconds=50)) == 0
    assert sweep_at(MINUTE + timedelta(seconds=1)) == 1
    assert_one_ticket_from(row)
    assert sweep_at(timedelta(hours=1)) == 0


def test_retries_back_off_and_the_fifth_failure_holds_the_mail(settings, monkeypatch):
    settings.VIVADESK = {
        **getattr(settings, "VIVADESK", {}),
        "INBOUND_RETRY_DELAY": MINUTE,
        "INBOUND_RETRY_MAX_DELAY": 3 * MINUTE,
    }
    factories.customer()
    locked = [OperationalError(f"database is locked ({n})") for n in range(1, 6)]
    failing(monkeypatch, *locked)
    assert inbound.ingest(emails.build(**MAIL)).outcome == "retry"
    row = InboundMail.objects.get()
    waited, delays = timedelta(0), []
    for attempt in range(2, 6):
        delay = row.next_attempt_at - row.updated_at
        delays.append(round(delay.total_seconds() / 60))
        assert sweep_at(waited + delay - timedelta(seconds=5)) == 0  # not yet due
        waited += delay + timedelta(seconds=1)
        assert sweep_at(waited) == 1
        row.refresh_from_db()
        assert row.attempts == attempt
    assert delays == [1, 2, 3, 3]  # doubling, capped at INBOUND_RETRY_MAX_DELAY
    assert row.state == InboundState.HELD
    assert (row.outcome, row.reason) == ("error", "transient_error")
    assert row.detail.startswith("OperationalError: database is locked (5)")
    assert "Traceback" in row.detail
    assert row.text.startswith("Der Drucker")  # staff can read what it was
    with translation.override("en"):
        assert reason_label(row) == "Repeated database errors during processing"
    with translation.override("de"):
        assert reason_label(row) == "Wiederholte Datenbankfehler bei der Verarbeitung"
    assert Ticket.objects.count() == 0
    assert sweep_at(waited + timedelta(hours=2)) == 0
    # Once the database is well again staff reprocess it: a fresh count.
    agent = factories.StaffFactory()
    row = held_mail.reprocess(row.pk, by=agent)
    assert_one_ticket_from(row)


def test_the_number_of_attempts_is_a_setting(settings, monkeypatch):
    settings.VIVADESK = {
        **getattr(settings, "VIVADESK", {}),
        "INBOUND_TRANSIENT_ATTEMPTS": 2,
    }
    factories.customer()
    failing(monkeypatch, *[pg.DeadlockDetected("deadlock detected")] * 2)
    assert inbound.ingest(emails.build(**MAIL)).outcome == "retry"
    assert sweep_at(MINUTE + timedelta(seconds=1)) == 1
    row = InboundMail.objects.get()
    assert (row.state, row.reason, row.attempts) == ("held", "transient_error", 2)


def test_another_error_after_a_transient_one_holds_at_once(monkeypatch):
    factories.customer()
    failing(
        monkeypatch,
        pg.SerializationFailure("could not serialize access"),
        wrapped(IntegrityError, pg.UniqueViolation("duplicate key value")),
    )
    assert inbound.ingest(emails.build(**MAIL)).outcome == "retry"
    assert sweep_at(MINUTE + timedelta(seconds=1)) == 1
    row = InboundMail.objects.get()
    assert (row.state, row.outcome, row.reason) == ("held", "error", "error")
    assert row.detail.startswith("IntegrityError: duplicate key value")
    assert "Traceback" in row.detail


def test_if_the_failure_cannot_be_recorded_the_row_is_left_for_the_sweeper(
    settings, monkeypatch
):
    settings.VIVADESK = {
        **getattr(settings, "VIVADESK", {}),
        "INBOUND_STUCK_AFTER": timedelta(seconds=5),
    }
    factories.customer()
    failing(monkeypatch, OperationalError("database is locked"))
    real_update = statements.update

    def locked_too(*args, **kwargs):
        raise OperationalError("database is locked")

    monkeypatch.setattr(statements, "update", locked_too)
    assert inbound.ingest(emails.build(**MAIL)).outcome == "retry"
    monkeypatch.setattr(statements, "update", real_update)
    row = InboundMail.objects.get()
    assert (row.state, row.attempts, row.detail) == ("pending", 0, "")
    assert row.next_attempt_at is None
    assert sweep_at(timedelta(seconds=2)) == 0
    assert sweep_at(timedelta(seconds=6)) == 1
    assert_one_ticket_from(row)


def test_the_sweeper_takes_lost_mail_after_inbound_stuck_after(settings):
    settings.VIVADESK = {
        **getattr(settings, "VIVADESK", {}),
        "INBOUND_STUCK_AFTER": timedelta(seconds=10),
    }
    factories.customer()
    row, _created = inbound.record(emails.build(**MAIL), queue=False)  # task lost
    assert sweep_at(timedelta(seconds=8)) == 0
    assert sweep_at(timedelta(seconds=11)) == 1
    assert_one_ticket_from(row)


# --- real faults on PostgreSQL ----------------------------------------------


def pg_connect(*, autocommit: bool = False) -> psycopg.Connection:
    """A connection of its own to the test database, outside Django."""
    db = connection.settings_dict
    return psycopg.connect(
        autocommit=autocommit,
        dbname=db["NAME"],
        user=db["USER"] or None,
        password=db["PASSWORD"] or None,
        host=db["HOST"] or None,
        port=db["PORT"] or None,
    )


def blocked_by(other: psycopg.Connection, deadline: float = 20.0) -> int:
    """The pid of the backend waiting for a lock ``other`` holds."""
    end = time.monotonic() + deadline
    # In autocommit: a transaction would read pg_stat_activity once only.
    with pg_connect(autocommit=True) as watcher:
        while time.monotonic() < end:
            found = watcher.execute(
                "SELECT pid FROM pg_stat_activity "
                "WHERE %s = ANY(pg_blocking_pids(pid))",
                [other.info.backend_pid],
            ).fetchone()
            if found:
                return found[0]
            time.sleep(0.05)
        activity = watcher.execute(
            "SELECT pid, state, wait_event_type, wait_event, "
            "pg_blocking_pids(pid), left(query, 120) FROM pg_stat_activity "
            "WHERE datname = current_database()"
        ).fetchall()
    raise AssertionError(f"processing never waited for {other}: {activity}")


@contextmanager
def processing_in_a_worker(pk: int, *, setup: str = ""):
    """``inbound.process(pk)`` in a thread with its own connection (a
    django-q2 worker); yields a dict that gets its result or error."""
    outcome: dict = {}

    def work():
        try:
            if setup:
                with connection.cursor() as cursor:
                    cursor.execute(setup)
            outcome["result"] = inbound.process(pk)
        except BaseException as exc:  # noqa: BLE001 - asserted on below
            outcome["error"] = exc
        finally:
            connections.close_all()

    worker = threading.Thread(target=work)
    worker.start()
    try:
        yield outcome
    finally:
        worker.join(60)
    assert not worker.is_alive()
    assert "error" not in outcome, outcome.get("error")


def lock_the_row(locker: psycopg.Connection, row: InboundMail) -> None:
    """Hold the row lock the processing claim needs (its last statement)."""
    table = InboundMail._meta.db_table
    locker.execute(f"SELECT 1 FROM {table} WHERE id = %s FOR UPDATE", [row.pk])


def assert_retried_then_one_ticket(row: InboundMail, outcome: dict, sqlstate: str):
    assert outcome["result"].outcome == "retry"
    row.refresh_from_db()
    assert (row.state, row.attempts) == (InboundState.PENDING, 1)
    assert f"SQLSTATE {sqlstate}" in row.detail
    assert row.next_attempt_at is not None
    # Everything the attempt wrote was rolled back, its mail too.
    assert Ticket.objects.count() == 0
    assert TicketMessage.objects.count() == 0
    assert OutboundEmail.objects.count() == 0
    assert sweep_at(MINUTE + timedelta(seconds=1)) == 1
    assert_one_ticket_from(row)


def recorded() -> InboundMail:
    factories.customer()
    row, _created = inbound.record(emails.build(**MAIL), queue=False)
    return row


@pytest.mark.postgres
def test_terminated_backend_while_processing_leaves_the_mail_pending():
    row = recorded()
    with pg_connect() as locker:
        lock_the_row(locker, row)
        with processing_in_a_worker(row.pk) as outcome:
            worker_pid = blocked_by(locker)
            locker.execute("SELECT pg_terminate_backend(%s)", [worker_pid])
            locker.rollback()
    assert_retried_then_one_ticket(row, outcome, "57P01")


@pytest.mark.postgres
def test_lock_timeout_that_outlasts_the_attempt_leaves_the_row_to_the_sweeper(
    settings,
):
    """The lock stays taken: the claim times out, and so does the write that
    would count the failure. The row is left as it was, pending."""
    settings.VIVADESK = {
        **getattr(settings, "VIVADESK", {}),
        "INBOUND_STUCK_AFTER": timedelta(seconds=30),
    }
    row = recorded()
    with pg_connect() as locker:
        lock_the_row(locker, row)
        setup = "SET lock_timeout = '300ms'"
        with processing_in_a_worker(row.pk, setup=setup) as outcome:
            pass
        locker.rollback()
    assert outcome["result"].outcome == "retry"
    assert "SQLSTATE 55P03" in outcome["result"].reason
    row.refresh_from_db()
    assert (row.state, row.attempts, row.detail) == ("pending", 0, "")
    assert row.next_attempt_at is None
    assert (Ticket.objects.count(), TicketMessage.objects.count()) == (0, 0)
    assert sweep_at(timedelta(seconds=10)) == 0
    assert sweep_at(timedelta(seconds=31)) == 1
    assert_one_ticket_from(row)


@pytest.mark.postgres
def test_deadlock_while_processing_leaves_the_mail_pending():
    """The worker holds the ticket counter (it numbered the new ticket) and
    waits for the mail's row; the other transaction holds that row and asks
    for the counter."""
    row = recorded()
    # The counter row the migration seeds (a flush of the previous test
    # removed it; without it the worker would insert one nobody else sees).
    TicketCounter.objects.get_or_create(name=tickets.COUNTER_NAME)
    counter = TicketCounter._meta.db_table
    with pg_connect() as locker:
        # The server's deadlock check runs in the worker (it checks first),
        # once, after its deadlock_timeout: the cycle closes well before.
        locker.execute("SET deadlock_timeout = '20s'")
        lock_the_row(locker, row)
        setup = "SET deadlock_timeout = '2s'"
        with processing_in_a_worker(row.pk, setup=setup) as outcome:
            blocked_by(locker)
            locker.execute(f"UPDATE {counter} SET value = value")
            locker.rollback()
    assert_retried_then_one_ticket(row, outcome, "40P01")


@contextmanager
def serialization_failure_at_commit():
    """A deferred constraint trigger on ticket messages that fails the first
    COMMIT after it fired with SQLSTATE 40001 (a sequence, which no rollback
    resets, makes it fire once)."""
    table = TicketMessage._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute("CREATE SEQUENCE fault_commit_seq")
        cursor.execute(
            """
            CREATE FUNCTION fault_commit() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF nextval('fault_commit_seq') = 1 THEN
                    RAISE EXCEPTION 'could not serialize access (at commit)'
                        USING ERRCODE = 'serialization_failure';
                END IF;
                RETURN NULL;
            END $$
            """
        )
        cursor.execute(
            f"CREATE CONSTRAINT TRIGGER fault_commit AFTER INSERT ON {table} "
            "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW "
            "EXECUTE FUNCTION fault_commit()"
        )
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TRIGGER fault_commit ON {table}")
            cursor.execute("DROP FUNCTION fault_commit()")
            cursor.execute("DROP SEQUENCE fault_commit_seq")


@pytest.mark.postgres
def test_serialization_failure_at_commit_leaves_the_mail_pending():
    row = recorded()
    with serialization_failure_at_commit():
        result = inbound.process(row.pk)
        assert result.outcome == "retry"
        row.refresh_from_db()
        assert "could not serialize access (at commit)" in row.detail
        assert_retried_then_one_ticket(row, {"result": result}, "40001")
