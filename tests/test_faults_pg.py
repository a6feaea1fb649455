"""The mail loop under faults: a real Dovecot mailbox with a few hundred mails
drained by a real django-q2 cluster (Redis broker, PostgreSQL) while the
cluster is killed with SIGKILL and restarted, its database connections are
terminated and the SMTP server goes away for a while.

Afterwards every mail is exactly once in the database and in the archive
folder, every accepted mail is exactly one ticket message, unknown senders are
held, every outbox row is sent and the SMTP server got each of them (a
duplicate only with the same Message-ID, and only where a worker died between
the server's 250 and the status write). The time to drain and the faults are
printed (``pytest -s``) and are part of every assertion message.

The cluster runs ``site/manage.py qcluster`` with ``tests/fault_settings.py``
(short task timeout, leases and stuck ages) in its own process group; the
test process plays the scheduler, pushing ``poll_mailboxes``,
``sweep_inbound`` and ``sweep_outbox`` onto the cluster's Redis list every
two seconds, so they run inside the cluster that is killed. The SMTP sink
runs in the test process and outlives every crash.
"""

from __future__ import annotations

import imaplib
import logging
import os
import re
import secrets
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from django.db import connection
from django.db.models import Count, Max
from django.utils import timezone
from django_mailbox.models import Mailbox

from tests import emails, factories
from tests.conftest import require_service
from tests.fault_settings import POLL_LEASE, WORKERS
from tests.smtp_server import SMTPServer, _Handler
from vivadesk_wagtail.models import (
    InboundMail,
    InboundOutcome,
    InboundState,
    MailboxPoll,
    OutboundEmail,
    OutboundState,
    TicketMessage,
)

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("fresh_content_types"),
]

REPO = Path(__file__).resolve().parents[1]
MAILS = 300
CUSTOMERS = 60
TICKETS = 8
ARCHIVE = "Archive"
#: How often the test pushes the periodic tasks (seconds).
SCHEDULE_EVERY = 2.0
SCHEDULED = (
    "vivadesk_wagtail.inbound_tasks.poll_mailboxes",
    "vivadesk_wagtail.inbound_tasks.sweep_inbound",
    "vivadesk_wagtail.tasks.sweep_outbox",
)
#: Longest wait for the mail to drain after the last fault (seconds).
DRAIN_DEADLINE = 150
#: How long the SMTP server stays away (seconds).
SMTP_DOWN = 6
#: A duplicate whose first copy arrived this long before a fault is put down
#: to that fault (seconds).
BLAME_WINDOW = 3.0
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


# -- the SMTP sink: the suite's server, with the time of every message --------


class _TimedHandler(_Handler):
    async def handle_DATA(self, server, session, envelope):
        reply = await super().handle_DATA(server, session, envelope)
        with self.server.lock:
            self.server.received_at.append(time.monotonic())
        return reply


class TimedSMTPServer(SMTPServer):
    """:class:`SMTPServer` that also notes when each message arrived."""

    def __init__(self):
        super().__init__()
        self.received_at: list[float] = []

    def start(self) -> TimedSMTPServer:
        if self._controller is None:
            controller = Controller(
                _TimedHandler(self), hostname=self.host, port=self.port
            )
            controller.start()
            self._controller = controller
        return self

    def receipts(self) -> list[tuple[str, float]]:
        """``(Message-ID, time)`` of every message received, in order."""
        with self.lock:
            pairs = list(zip(self.messages, self.received_at, strict=True))
        return [(str(m.message["Message-ID"]).strip(), at) for m, at in pairs]


# -- the mailbox --------------------------------------------------


@contextmanager
def imap_session(server):
    imap = imaplib.IMAP4(server.host, server.port)
    imap.login(server.user, server.password)
    try:
        yield imap
    finally:
        imap.logout()


def append_all(server, raws: list[bytes]) -> None:
    with imap_session(server) as imap:
        for raw in raws:
            typ, data = imap.append(
                "INBOX", "", imaplib.Time2Internaldate(time.time()), raw
            )
            assert typ == "OK", data


def inbox_count(server) -> int:
    with imap_session(server) as imap:
        typ, data = imap.select("INBOX", readonly=True)
        assert typ == "OK", data
        return int(data[0])


def folder_message_ids(server, folder: str) -> list[str]:
    """The Message-ID of every mail in ``folder`` (``[]`` if it is missing)."""
    with imap_session(server) as imap:
        typ, data = imap.select(folder, readonly=True)
        if typ != "OK" or int(data[0]) == 0:
            return []
        typ, data = imap.fetch("1:*", "(BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])")
        assert typ == "OK", data
    ids = []
    for item in data:
        if isinstance(item, tuple):
            header = message_from_bytes(item[1], policy=policy.default)
            ids.append(str(header["Message-ID"]).strip())
    return ids


# -- the mails --------------------------------------------------


@dataclass
class Mail:
    message_id: str
    kind: str  # "new", "reply" or "unknown"
    raw: bytes = field(repr=False)


def build_mails(customers, tickets) -> list[Mail]:
    """New tickets and replies by reference from confirmed customers (some
    with a PDF), and a few mails from unknown senders."""
    mails = []
    for n in range(MAILS):
        attachments = [("beleg.pdf", PDF, "application/pdf")] if n % 7 == 0 else []
        if n % 25 == 24:
            kind, sender, subject = "unknown", f"fremd{n}@example.org", f"Hallo {n}"
        elif n % 3 == 1:
            ticket = tickets[n % len(tickets)]
            kind = "reply"
            sender = ticket.customer.email
            subject = f"AW: [{ticket.reference}] {ticket.subject}"
        else:
            kind, sender = "new", customers[n % len(customers)].email
            subject = f"Anfrage {n}"
        message_id = f"<fault-{n}-{secrets.token_hex(4)}@example.com>"
        raw = emails.build(
            sender=sender,
            subject=subject,
            body=f"Nachricht {n}.\n",
            message_id=message_id,
            attachments=attachments,
        )
        mails.append(Mail(message_id, kind, raw))
    return mails


# -- the cluster and the scheduler --------------------------------------------------


class Cluster:
    """``manage.py qcluster`` in its own process group, output to one log."""

    def __init__(self, env: dict, log: Path):
        self.env = env
        self.log = log
        self.process: subprocess.Popen | None = None
        self.starts = 0

    def start(self) -> None:
        self.starts += 1
        with self.log.open("ab") as out:
            out.write(f"===== start {self.starts} =====\n".encode())
            out.flush()
            self.process = subprocess.Popen(
                [sys.executable, str(REPO / "site" / "manage.py"), "qcluster"],
                cwd=REPO,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def kill(self) -> None:
        """SIGKILL the whole group: the main process, sentinel, pusher,
        monitor and workers, wherever they are."""
        if self.process is None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait(timeout=10)
        self.process = None
        with self.log.open("ab") as out:
            out.write(b"===== SIGKILL =====\n")

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def tail(self, lines: int = 150) -> str:
        if not self.log.exists():
            return "(no log)"
        text = self.log.read_text(errors="replace").splitlines()
        return "\n".join(text[-lines:])

    def errors(self, limit: int = 40) -> str:
        """Lines of the log that report errors or tracebacks."""
        if not self.log.exists():
            return ""
        hits = [
            line
            for line in self.log.read_text(errors="replace").splitlines()
            if re.search(
                r" (ERROR|CRITICAL) |^Traceback|^[\w.]+(Error|Exception): ", line
            )
        ]
        return "\n".join(hits[:limit])


class Scheduler(threading.Thread):
    """Pushes the periodic tasks onto the cluster's Redis list, signed as
    ``django_q.tasks.async_task`` signs them in the cluster's settings."""

    def __init__(self, cluster_name: str, secret_key: str):
        super().__init__(daemon=True)
        import redis

        self.redis = redis.Redis(host="127.0.0.1", port=6379, db=0)
        self.cluster_name = cluster_name
        self.secret_key = secret_key
        self.list_key = f"django_q:{cluster_name}:q"
        self.halt = threading.Event()
        self.pushed = 0

    def package(self, func: str) -> str:
        from django_q import core_signing
        from django_q.signing import PickleSerializer

        task = {
            "id": secrets.token_hex(16),
            "name": f"fault-schedule-{func.rpartition('.')[2]}",
            "func": func,
            "args": (),
            "kwargs": {},
            "started": timezone.now(),
        }
        return core_signing.dumps(
            task,
            key=self.secret_key,
            salt=self.cluster_name,
            compress=False,
            serializer=PickleSerializer,
        )

    def run(self) -> None:
        while not self.halt.is_set():
            # A cluster that is down or busy gets no pile of schedules.
            if self.redis.llen(self.list_key) < 20:
                for func in SCHEDULED:
                    self.redis.rpush(self.list_key, self.package(func))
                    self.pushed += 1
            self.halt.wait(SCHEDULE_EVERY)

    def stop(self) -> None:
        self.halt.set()
        if self.is_alive():
            self.join(timeout=10)

    def forget(self) -> None:
        """Remove every Redis key of this cluster (its queue and stats)."""
        for key in self.redis.scan_iter(match=f"django_q:{self.cluster_name}:*"):
            self.redis.delete(key)


# -- faults and progress --------------------------------------------------


@dataclass
class Fault:
    kind: str  # "SIGKILL", "pg_terminate_backend", "SMTP down", "SMTP up"
    at: float
    note: str
    wall: object = field(default_factory=timezone.now)


@dataclass
class Faults:
    began: float
    events: list[Fault] = field(default_factory=list)

    def add(self, kind: str, note: str) -> None:
        self.events.append(Fault(kind, time.monotonic(), note))
        print(f"[faults] +{time.monotonic() - self.began:5.1f}s {kind}: {note}")

    def times(self, kind: str) -> list[float]:
        return [f.at for f in self.events if f.kind == kind]

    def first(self, kind: str) -> Fault:
        return next(f for f in self.events if f.kind == kind)

    def count(self, kind: str) -> int:
        return len(self.times(kind))

    def describe(self) -> str:
        return "\n".join(
            f"  +{f.at - self.began:5.1f}s {f.kind}: {f.note}" for f in self.events
        )


def wait_until(condition, timeout: float, every: float = 0.1) -> bool:
    """Poll ``condition`` until it is true or ``timeout`` passed."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(every)
    return bool(condition())


def inbound_states() -> Counter:
    return Counter(
        dict(
            InboundMail.objects.values_list("state")
            .annotate(n=Count("pk"))
            .values_list("state", "n")
        )
    )


def outbound_states(after_pk: int) -> Counter:
    return Counter(
        dict(
            OutboundEmail.objects.filter(pk__gt=after_pk)
            .values_list("state")
            .annotate(n=Count("pk"))
            .values_list("state", "n")
        )
    )


def terminate_backends() -> int:
    """Terminate every other connection to the test database."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) "
            "FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        return cursor.fetchone()[0]


def worker_database_url() -> str:
    db = connection.settings_dict
    user = db.get("USER") or "postgres"
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    host = db.get("HOST") or "127.0.0.1"
    port = db.get("PORT") or 5432
    return f"postgres://{user}{password}@{host}:{port}/{db['NAME']}"


def cluster_env(tmp_path: Path, cluster_name: str, secret_key: str, smtp) -> dict:
    dropped = ("REDIS_URL", "EMAIL_URL", "DATABASE_URL", "DJANGO_SETTINGS_MODULE")
    env = {k: v for k, v in os.environ.items() if k not in dropped}
    private = tmp_path / "private"
    private.mkdir(exist_ok=True)
    env.update(
        DJANGO_SETTINGS_MODULE="tests.fault_settings",
        DATABASE_URL=worker_database_url(),
        VIVADESK_VAR_DIR=str(tmp_path / "var"),
        VIVADESK_FAULT_CLUSTER=cluster_name,
        VIVADESK_FAULT_SECRET_KEY=secret_key,
        VIVADESK_FAULT_SMTP_PORT=str(smtp.port),
        VIVADESK_FAULT_PRIVATE=str(private),
        PYTHONPATH=os.pathsep.join([str(REPO / "site"), str(REPO)]),
        PYTHONUNBUFFERED="1",
    )
    return env


# -- the test --------------------------------------------------


def test_mail_loop_survives_kills_cut_connections_and_smtp_outage(
    dovecot,
    tmp_path,
):
    require_redis()
    customers, tickets = seed()
    outbox_before = OutboundEmail.objects.order_by("-pk").values_list("pk", flat=True)
    baseline = outbox_before.first() or 0
    mails = build_mails(customers, tickets)
    append_all(dovecot, [m.raw for m in mails])
    assert inbox_count(dovecot) == MAILS
    Mailbox.objects.create(name="helpdesk", uri=dovecot.uri(ARCHIVE))

    smtp = TimedSMTPServer().start()
    run = secrets.token_hex(4)
    cluster_name = f"vivadesk-faults-{run}"
    secret_key = secrets.token_urlsafe(32)
    cluster = Cluster(
        cluster_env(tmp_path, cluster_name, secret_key, smtp),
        tmp_path / "qcluster.log",
    )
    scheduler = Scheduler(cluster_name, secret_key)
    began, started = time.monotonic(), timezone.now()
    faults = Faults(began)
    drained_after = None
    try:
        cluster.start()
        scheduler.start()
        run_faults(cluster, smtp, faults, baseline)
        drained = wait_until(
            lambda: is_drained(dovecot, smtp, baseline), DRAIN_DEADLINE, every=0.5
        )
        drained_after = time.monotonic() - began if drained else None
    finally:
        scheduler.stop()
        cluster_was_alive = cluster.alive()
        cluster.kill()
        scheduler.forget()
        smtp.stop()

    phases = phase_times(started, baseline)
    summary = summarise(faults, drained_after, phases, smtp, cluster_was_alive)
    print(summary)
    report = summary + "\n" + wrong_rows(baseline) + logs(cluster)
    assert drained_after is not None, f"not drained in time\n{report}"
    # The poll killed with its cluster did not keep the mailbox until its
    # lease ran out: the restarted cluster's poller took it over.
    killed = (faults.first("SIGKILL").wall - started).total_seconds()
    recovery = phases["recorded"] - killed
    assert recovery < POLL_LEASE.total_seconds(), (
        f"polling resumed only {recovery:.1f}s after the kill\n{report}"
    )
    check_mailbox(dovecot, mails, report)
    check_inbound(mails, report)
    check_outbound(smtp, faults, baseline, report)


def require_redis() -> None:
    import redis

    try:
        redis.Redis(host="127.0.0.1", port=6379, socket_timeout=2).ping()
    except redis.RedisError as exc:
        require_service(f"Redis is not reachable at 127.0.0.1:6379 ({exc})")


def seed():
    """Confirmed customers and a few tickets (django-q2's inline task log is
    quiet meanwhile: their mail goes to Django's in-memory outbox)."""
    quiet = logging.getLogger("django-q")
    level = quiet.level
    quiet.setLevel(logging.WARNING)
    try:
        customers = [
            factories.customer(f"kunde{n}@example.com", name=f"Kunde {n}")
            for n in range(CUSTOMERS)
        ]
        tickets = [
            factories.ticket(customers[n], subject=f"Bestehende Anfrage {n}")
            for n in range(TICKETS)
        ]
    finally:
        quiet.setLevel(level)
    return customers, tickets


def run_faults(cluster: Cluster, smtp: TimedSMTPServer, faults: Faults, baseline):
    """Three SIGKILLs (while polling, while processing, while sending), three
    rounds of terminated connections and an SMTP outage, each started when
    the work it should hit is under way (or after a bounded wait)."""

    def kill_and_restart(note: str) -> None:
        cluster.kill()
        faults.add("SIGKILL", note)
        cluster.start()

    def terminate(note: str) -> None:
        count = terminate_backends()
        faults.add("pg_terminate_backend", f"{count} backends, {note}")

    def recorded() -> int:
        return sum(inbound_states().values())

    polling = wait_until(lambda: recorded() >= 20, timeout=40, every=0.05)
    kill_and_restart(f"while polling ({recorded()} recorded, trigger met: {polling})")

    wait_until(lambda: recorded() >= 120, timeout=15, every=0.2)
    terminate(f"{recorded()} recorded")

    def processing() -> bool:
        states = inbound_states()
        done = sum(states.values()) - states[InboundState.PENDING]
        return done >= 100 and states[InboundState.PENDING] > 0

    met = wait_until(processing, timeout=40, every=0.05)
    kill_and_restart(f"while processing ({dict(inbound_states())}, trigger met: {met})")

    wait_until(lambda: outbound_states(baseline)[OutboundState.SENT] >= 20, timeout=40)
    smtp.stop()
    faults.add("SMTP down", f"outbox {dict(outbound_states(baseline))}")
    time.sleep(SMTP_DOWN / 2)  # the outage itself, not a wait for a result
    terminate("while SMTP is down")
    time.sleep(SMTP_DOWN / 2)
    smtp.start()
    faults.add("SMTP up", f"outbox {dict(outbound_states(baseline))}")

    def sending() -> bool:
        """A row claimed just now (not one an earlier kill left behind)."""
        return OutboundEmail.objects.filter(
            pk__gt=baseline,
            state=OutboundState.SENDING,
            updated_at__gte=timezone.now() - timedelta(seconds=1),
        ).exists()

    flowing = len(smtp.receipts()) + 10
    met = wait_until(
        lambda: len(smtp.receipts()) >= flowing and sending(), timeout=40, every=0.02
    )
    kill_and_restart(f"while sending ({dict(outbound_states(baseline))}, {met})")
    wait_until(cluster.alive, timeout=5)
    time.sleep(2)  # let the restarted cluster open its connections
    terminate(f"after the restart, outbox {dict(outbound_states(baseline))}")


def is_drained(server, smtp: TimedSMTPServer, baseline: int) -> bool:
    states = inbound_states()
    if sum(states.values()) < MAILS or states[InboundState.PENDING]:
        return False
    outbox = outbound_states(baseline)
    if not outbox or set(outbox) != {OutboundState.SENT}:
        return False
    ids = set(
        OutboundEmail.objects.filter(pk__gt=baseline).values_list(
            "message_id", flat=True
        )
    )
    if not ids <= {mid for mid, _at in smtp.receipts()}:
        return False
    return inbox_count(server) == 0


# -- the checks --------------------------------------------------


def check_mailbox(server, mails: list[Mail], report: str) -> None:
    assert inbox_count(server) == 0, f"INBOX is not empty\n{report}"
    archived = Counter(folder_message_ids(server, ARCHIVE))
    expected = Counter(m.message_id for m in mails)
    twice = {mid: n for mid, n in archived.items() if n > 1}
    missing = sorted(set(expected) - set(archived))
    foreign = sorted(set(archived) - set(expected))
    assert not twice, f"archived more than once: {sample(twice)}\n{report}"
    assert not missing, f"missing from the archive: {sample(missing)}\n{report}"
    assert not foreign, f"unknown mails in the archive: {sample(foreign)}\n{report}"


def check_inbound(mails: list[Mail], report: str) -> None:
    rows = Counter(InboundMail.objects.values_list("message_id", flat=True))
    per_mail = {m.message_id: rows[m.message_id] for m in mails}
    wrong = {mid: n for mid, n in per_mail.items() if n != 1}
    assert not wrong, f"InboundMail rows per mail (want 1): {sample(wrong)}\n{report}"
    assert sum(rows.values()) == MAILS, f"{sum(rows.values())} rows\n{report}"
    assert not InboundMail.objects.pending().exists(), f"rows pending\n{report}"
    errors = InboundMail.objects.filter(outcome=InboundOutcome.ERROR)
    assert not errors.exists(), (
        f"held with an error:\n{describe_inbound(errors)}\n{report}"
    )

    accepted = [m.message_id for m in mails if m.kind != "unknown"]
    messages = Counter(
        TicketMessage.objects.filter(message_id__in=accepted).values_list(
            "message_id", flat=True
        )
    )
    wrong = {mid: messages[mid] for mid in accepted if messages[mid] != 1}
    assert not wrong, f"ticket messages per accepted mail: {sample(wrong)}\n{report}"
    not_done = InboundMail.objects.filter(message_id__in=accepted).exclude(
        state=InboundState.DONE
    )
    assert not not_done.exists(), (
        f"accepted mails not done: {describe_inbound(not_done)}\n{report}"
    )

    unknown = [m.message_id for m in mails if m.kind == "unknown"]
    held = InboundMail.objects.filter(
        message_id__in=unknown, state=InboundState.HELD, reason="unknown_sender"
    )
    assert held.count() == len(unknown), f"unknown senders not held\n{report}"


def check_outbound(smtp, faults: Faults, baseline: int, report: str) -> None:
    rows = OutboundEmail.objects.all()
    unsent = rows.exclude(state=OutboundState.SENT)
    assert not unsent.exists(), f"outbox rows not sent\n{report}"
    ids = set(rows.filter(pk__gt=baseline).values_list("message_id", flat=True))
    receipts = smtp.receipts()
    received = Counter(mid for mid, _at in receipts)
    missing = sorted(ids - set(received))
    assert not missing, f"never reached the SMTP server: {sample(missing)}\n{report}"
    foreign = sorted(set(received) - ids)
    assert not foreign, f"sent but no outbox row: {sample(foreign)}\n{report}"
    blamed = blame_duplicates(receipts, faults)
    assert not blamed["unexplained"], f"duplicates without a fault\n{report}"
    assert not blamed["pg_terminate_backend"], (
        f"duplicates after cut connections\n{report}"
    )
    kills = faults.count("SIGKILL")
    assert len(blamed["SIGKILL"]) <= kills * WORKERS, f"too many duplicates\n{report}"


def blame_duplicates(receipts, faults: Faults) -> dict[str, list[str]]:
    """Each Message-ID the server got more than once, put down to the fault
    that came within :data:`BLAME_WINDOW` after its first copy arrived."""
    first: dict[str, float] = {}
    blamed: dict[str, list[str]] = {
        "SIGKILL": [],
        "pg_terminate_backend": [],
        "unexplained": [],
    }
    counted = Counter(mid for mid, _at in receipts)
    for mid, at in receipts:
        first.setdefault(mid, at)
    for mid, copies in counted.items():
        if copies < 2:
            continue
        for kind in ("SIGKILL", "pg_terminate_backend", "unexplained"):
            times = faults.times(kind)
            if kind == "unexplained" or any(
                0 <= t - first[mid] <= BLAME_WINDOW for t in times
            ):
                blamed[kind].extend([mid] * (copies - 1))
                break
    return blamed


# -- the report --------------------------------------------------


def phase_times(started, baseline: int) -> dict[str, float]:
    """Seconds from the first cluster start until the last mail was
    recorded, processed, and the last outbox row sent."""

    def since(value) -> float:
        return (value - started).total_seconds() if value else float("nan")

    inbound = InboundMail.objects.aggregate(
        recorded=Max("received_at"), processed=Max("processed_at")
    )
    sent = OutboundEmail.objects.filter(pk__gt=baseline).aggregate(sent=Max("sent_at"))
    return {name: since(value) for name, value in {**inbound, **sent}.items()}


def summarise(
    faults: Faults, drained_after, phases, smtp, cluster_was_alive: bool
) -> str:
    receipts = smtp.receipts()
    counted = Counter(mid for mid, _at in receipts)
    duplicates = sum(n - 1 for n in counted.values())
    blamed = blame_duplicates(receipts, faults)
    drained = f"{drained_after:.1f}s" if drained_after is not None else "NOT DRAINED"
    return (
        f"\n[faults] time to drain: {drained} (first cluster start to drained; "
        f"last mail recorded {phases['recorded']:.1f}s, processed "
        f"{phases['processed']:.1f}s, last outbox row sent {phases['sent']:.1f}s)\n"
        f"[faults] {faults.count('SIGKILL')} SIGKILLs, "
        f"{faults.count('pg_terminate_backend')} rounds of pg_terminate_backend, "
        f"{faults.count('SMTP down')} SMTP outage(s) of {SMTP_DOWN}s\n"
        f"{faults.describe()}\n"
        f"[faults] SMTP: {len(receipts)} messages, {len(counted)} Message-IDs, "
        f"{duplicates} duplicate(s): after SIGKILL {len(blamed['SIGKILL'])}, "
        f"after cut connections {len(blamed['pg_terminate_backend'])}, "
        f"unexplained {len(blamed['unexplained'])}\n"
        f"[faults] inbound {dict(inbound_states())}, "
        f"{InboundMail.objects.filter(attempts__gt=1).count()} processed again "
        f"after a failed attempt; outbox rows sent after more than one attempt: "
        f"{OutboundEmail.objects.filter(attempts__gt=1).count()}; "
        f"cluster alive at the end: {cluster_was_alive}\n"
    )


def sample(items, first: int = 10) -> str:
    """How many ``items`` (a dict or list) there are, and the first few."""
    shown = list(items.items() if isinstance(items, dict) else items)
    more = " …" if len(shown) > first else ""
    return f"{len(shown)}: {shown[:first]}{more}"


def describe_inbound(rows) -> str:
    return "\n".join(
        f"  #{r.pk} {r.state}/{r.outcome}/{r.reason} {r.message_id} "
        f"attempts={r.attempts} {r.detail.splitlines()[0] if r.detail else ''}"
        for r in rows[:30]
    )


def wrong_rows(baseline: int) -> str:
    inbound = InboundMail.objects.exclude(state=InboundState.DONE).exclude(
        reason="unknown_sender"
    )
    outbound = OutboundEmail.objects.exclude(state=OutboundState.SENT)
    lines = [f"[faults] outbox {dict(outbound_states(baseline))}"]
    for poll in MailboxPoll.objects.all():
        lines.append(
            f"[faults] mailbox lease: until={poll.locked_until} by={poll.locked_by!r} "
            f"failures={poll.failures} last_error={poll.last_error[:200]!r}"
        )
    if inbound.exists():
        lines.append("inbound rows neither done nor held as unknown sender:")
        lines.append(describe_inbound(inbound))
    for row in outbound[:30]:
        lines.append(
            f"  outbox #{row.pk} {row.state} attempts={row.attempts} "
            f"{row.message_id} {row.last_error[:200]}"
        )
    return "\n".join(lines) + "\n"


def logs(cluster: Cluster) -> str:
    return (
        f"----- qcluster errors -----\n{cluster.errors()}\n"
        f"----- qcluster log (tail) -----\n{cluster.tail()}\n"
    )
