"""Inbound-mail benchmark: mixed mail through the full pipeline, from memory
(:func:`run`; method and figures in docs/benchmarks.md).
"""

from __future__ import annotations

import collections
import contextlib
import logging
import os
import re
import shutil
import statistics
import tempfile
import time
import uuid
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.test import override_settings
from django.utils import timezone

from vivadesk_wagtail import conf
from vivadesk_wagtail.models import (
    CustomerProfile,
    MessageKind,
    OutboundEmail,
    Ticket,
    TicketMessage,
    TicketStatus,
)
from vivadesk_wagtail.storage import private_storage

from .mails import build
from .measure import LABEL, Figures, header, peak_kib, reference_ms, row

NUMBER_OFFSET = 8_000_000_000_000
#: Statuses a reply may land on (a closed ticket would open a follow-up).
STATUSES = [TicketStatus.NEW, TicketStatus.OPEN, TicketStatus.WAITING]
#: A 100 KB PDF (its magic bytes pass the upload check, so it is stored).
ATTACHMENT = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n" + bytes(range(256)) * 400 + b"\n%%EOF\n"


#: Statements that open, release or roll back to a savepoint.
SAVEPOINT_SQL = ("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO SAVEPOINT")


class _Rollback(Exception):
    pass


def _seed(total: int, customers: int):
    """``customers`` confirmed customers and ``total`` tickets (one outbox row
    each, the notification a reply answers). Returns (emails, tickets)."""
    stamp = uuid.uuid4().hex[:8]
    now = timezone.now()
    users = get_user_model().objects.bulk_create(
        [
            get_user_model()(
                username=f"bench-in-{stamp}-{i}",
                email=f"bench-in-{stamp}-{i}@example.com",
                is_active=True,
            )
            for i in range(customers)
        ],
        batch_size=500,
    )
    if users[0].pk is None:  # a backend without RETURNING
        users = list(
            get_user_model()
            .objects.filter(username__startswith=f"bench-in-{stamp}-")
            .order_by("pk")
        )
    CustomerProfile.objects.bulk_create(
        [
            CustomerProfile(user=u, email=u.email, language="de", confirmed_at=now)
            for u in users
        ],
        batch_size=500,
    )
    prefix = conf.get("TICKET_PREFIX")
    base = NUMBER_OFFSET + int(stamp, 16) % 1_000_000 * 100_000
    tickets = Ticket.objects.bulk_create(
        [
            Ticket(
                number=base + i,
                reference=f"{prefix}-{base + i}",
                subject=f"Benchmark-Anfrage {i}",
                customer=users[i % customers],
                status=STATUSES[i % len(STATUSES)],
                language="de",
            )
            for i in range(total)
        ],
        batch_size=500,
    )
    if tickets[0].pk is None:
        tickets = list(Ticket.objects.filter(number__gte=base).order_by("number"))
    TicketMessage.objects.bulk_create(
        [
            TicketMessage(
                ticket=t, kind=MessageKind.CUSTOMER, body=f"Text {t.reference}"
            )
            for t in tickets
        ],
        batch_size=1000,
    )
    domain = conf.message_id_domain()
    outbound = OutboundEmail.objects.bulk_create(
        [
            OutboundEmail(
                event="ticket_created",
                ticket=t,
                recipient=users[i % customers].email,
                language="de",
                message_id=f"<{uuid.uuid4().hex}.{t.reference}@{domain}>",
                state="sent",
            )
            for i, t in enumerate(tickets)
        ],
        batch_size=1000,
    )
    emails = [u.email for u in users]
    return emails, [(t, o.message_id) for t, o in zip(tickets, outbound, strict=True)]


def _mails(count: int, emails, threads, start: int) -> list[tuple[str, bytes]]:
    """``count`` mails of the mix: per ten, 6 replies, 3 new, 1 with a file."""
    mails = []
    for n in range(start, start + count):
        slot = n % 10
        if slot < 6:
            # The k-th reply answers ticket k·7919 mod len(threads): a
            # permutation, so no ticket gets more than its share of replies
            # (more than INBOUND_FLOOD_MAX within minutes would be capped).
            reply = n // 10 * 6 + slot
            ticket, message_id = threads[(reply * 7919) % len(threads)]
            email = ticket.customer.email
            raw = build(
                sender=f"Kunde {n} <{email}>",
                subject=f"Re: [{ticket.reference}] {ticket.subject}",
                body=f"Danke, Antwort {n}.\n\nAm Montag schrieb VIVA:\n> alt\n",
                in_reply_to=message_id,
                references=message_id,
            )
            mails.append(("reply", raw))
        else:
            email = emails[n % len(emails)]
            attachments = []
            if slot == 9:
                attachments = [(f"scan-{n}.pdf", ATTACHMENT, "application/pdf")]
            raw = build(
                sender=f"Kunde {n} <{email}>",
                subject=f"Neue Frage {n}",
                body=f"Hallo, der Drucker {n} druckt nicht.\n\n-- \nGruß\n",
                attachments=attachments,
            )
            mails.append(("attachment" if attachments else "new", raw))
    return mails


def _ingest(raw: bytes):
    """One mail as ``ingest`` runs it, then its on-commit work (queued tasks,
    re-index), as the commit of a real transaction would run it."""
    from vivadesk_wagtail.mail.inbound import ingest

    mark = len(connection.run_on_commit)
    result = ingest(raw)
    callbacks = connection.run_on_commit[mark:]
    del connection.run_on_commit[mark:]
    for _sids, func, _robust in callbacks:
        func()
    return result


EXPECTED = {"reply": "reply", "new": "new_ticket", "attachment": "new_ticket"}


def _check(kind: str, result) -> None:
    if result.outcome != EXPECTED[kind]:
        raise AssertionError(f"{kind} mail gave {result.outcome} ({result.reason})")
    if kind == "attachment" and len(result.attachments) != 1:
        raise AssertionError(f"attachment mail stored {result.attachments}")


def _normalise(sql: str) -> str:
    sql = re.sub(r'"s\d+_x\d+"', "?", sql)
    sql = re.sub(r"'[^']*'", "?", sql)
    sql = re.sub(r"\b\d+\b", "?", sql)
    sql = re.sub(r"\((?:\?|%s)(?:, (?:\?|%s))*\)", "(…)", sql)
    return sql[:150]


@dataclass
class _Size:
    """What the passes of one data size, with the files in one place,
    measured."""

    total: int
    #: Where the files go: one of :data:`PLACES`.
    files: str
    rates: list = field(default_factory=list)
    per_kind: dict = field(default_factory=lambda: collections.defaultdict(list))
    #: Statements per mail with the benchmark's own savepoints.
    wrapped: list = field(default_factory=list)
    texts: collections.Counter = field(default_factory=collections.Counter)
    references: list = field(default_factory=list)
    seeded: list = field(default_factory=list)
    saving: float = 0.0
    queued: int = 0
    tickets: int = 0
    peaks: dict = field(default_factory=dict)


#: Where a pass keeps the private storage's files (see :func:`_files_in`).
PLACES = ("memory", "disk")


class _Saves:
    """While :meth:`installed`: the time spent in the private storage's
    ``save_generated`` (since :attr:`seconds` was last set); the names of the
    files it wrote go to ``names``."""

    def __init__(self, names: list[str]):
        self.seconds = 0.0
        self.names = names

    @contextlib.contextmanager
    def installed(self):
        storage = private_storage()
        save = storage.save_generated

        def timed(name, content):
            began = time.perf_counter()
            try:
                stored = save(name, content)
            finally:
                self.seconds += time.perf_counter() - began
            self.names.append(stored)
            return stored

        storage.save_generated = timed
        try:
            yield self
        finally:
            del storage.save_generated


@contextlib.contextmanager
def _files_in(where: str):
    """The private storage as the site configures it (``disk``), or the same
    storage in a new folder on a file system in memory (``memory``: a tmpfs
    at /dev/shm where there is one), removed afterwards."""
    if where == "disk":
        yield
        return
    alias = conf.get("STORAGE")
    folder = tempfile.mkdtemp(prefix="vivadesk-bench-", dir=_memory())
    configured = settings.STORAGES[alias]
    options = {**configured.get("OPTIONS", {}), "location": folder}
    storages = {**settings.STORAGES, alias: {**configured, "OPTIONS": options}}
    try:
        with override_settings(STORAGES=storages):
            yield
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _round(size: _Size, messages: int, profile: bool, on_disk: list) -> None:
    """Seed ``size.total`` tickets, time one pass of ``messages`` fresh mails
    with the files where ``size`` says, roll back. The names of the files
    written to disk go to ``on_disk``."""
    try:
        with transaction.atomic():
            began = time.perf_counter()
            emails, threads = _seed(size.total, max(200, messages // 3))
            size.seeded.append(time.perf_counter() - began)
            size.tickets = Ticket.objects.count()
            mails = _mails(messages + 30, emails, threads, 0)
            written = on_disk if size.files == "disk" else []
            with _files_in(size.files), _Saves(written).installed() as saves:
                _pass(size, mails, saves, profile)
            raise _Rollback
    except _Rollback:
        pass


def _pass(size: _Size, mails, saves: _Saves, profile: bool) -> None:
    """Warm up on the first 20 of ``mails``, time the rest but 10, trace the
    memory of one mail of each kind among those 10."""
    from django_q.models import OrmQ

    warm_up, timed, traced = mails[:20], mails[20:-10], mails[-10:]
    # Warm-up: imports, caches, first statements.
    for kind, raw in warm_up:
        _check(kind, _ingest(raw))
    queued_before = OrmQ.objects.count()
    current, ours = [], []

    def count(execute, sql, params, many, context):
        # A transaction of the pipeline is the outermost one in production
        # (no savepoint); here it nests in the rollback wrapper, which turns
        # it into a SAVEPOINT … RELEASE pair. Those pairs are not counted.
        if sql.startswith(SAVEPOINT_SQL) and len(connection.atomic_blocks) <= 1:
            ours.append(sql)
        else:
            current.append(sql)
        return execute(sql, params, many, context)

    # The counting wrapper costs a list append per statement, the timing of
    # the file writes two clock reads per file: well under 1 % of a mail.
    reference_before = reference_ms()
    saves.seconds = 0.0
    began = time.perf_counter()
    with connection.execute_wrapper(count):
        for kind, raw in timed:
            current.clear()
            ours.clear()
            _check(kind, _ingest(raw))
            size.per_kind[kind].append(len(current))
            size.wrapped.append(len(current) + len(ours))
            if profile:
                size.texts.update((kind, _normalise(sql)) for sql in current)
    size.rates.append(len(timed) / (time.perf_counter() - began))
    size.saving += saves.seconds
    size.references.append((reference_before + reference_ms()) / 2)
    size.queued += OrmQ.objects.count() - queued_before
    for kind, raw in traced:
        if kind not in size.peaks:
            size.peaks[kind] = peak_kib(
                lambda kind=kind, raw=raw: _check(kind, _ingest(raw))
            )


def _memory() -> str | None:
    """A file system in memory to write to, if the machine has one."""
    return "/dev/shm" if os.access("/dev/shm", os.W_OK) else None


def _place(where: str) -> str:
    """What a row says of where the files went."""
    if where == "disk":
        return "files on disk"
    return "files in memory" if _memory() else "files in a temporary folder"


def _report(stdout, size: _Size, messages: int, profile: bool):
    """Print one size's figures at one place of the files; returns
    ``(figures, reference loop ms)``."""
    passes = len(size.rates)
    all_queries = [q for qs in size.per_kind.values() for q in qs]
    mails = len(all_queries)
    figures = Figures.of(
        size.rates,
        statistics.mean(all_queries),
        max(size.peaks.values()),
        unit="msg/s",
    )
    met = figures.median >= 300 and figures.queries <= 8
    label = f"mixed, {_place(size.files)}, {passes} × {messages} mails"
    stdout.write(row(label, figures, "≥ 300 msg/s, ≤ 8 queries/message", met))
    for kind in ("reply", "new", "attachment"):
        qs = size.per_kind[kind]
        label = f"  {kind:<10} ×{len(qs):>5} mails (max {max(qs)} queries)"
        stdout.write(
            f"{label:<{LABEL}} {'':>7} {'':>7} {'':>7} {'':<5} "
            f"{statistics.mean(qs):7.2f} {size.peaks[kind]:9.0f}\n"
        )
    reference = statistics.mean(size.references)
    stdout.write(
        f"  {statistics.mean(size.wrapped):.2f} queries/message with the "
        f"benchmark's savepoints; {size.queued} tasks queued (OrmQ rows); peak "
        f"KiB of the mix: its largest kind; reference loop around the passes "
        f"{reference:.1f} ms; writing the files: "
        f"{size.saving / mails * 1000:.2f} ms per mail\n"
    )
    if profile:
        for kind in ("reply", "new"):
            n = len(size.per_kind[kind])
            stdout.write(f"  SQL per {kind} mail:\n")
            for (k, sql), hits in sorted(size.texts.items(), key=lambda kv: -kv[1]):
                if k == kind:
                    stdout.write(f"    {hits / n:5.2f}  {sql}\n")
    return figures, reference


def run(
    stdout,
    *,
    sizes=(500, 10_000),
    messages: int = 600,
    passes: int = 5,
    profile: bool = False,
) -> None:
    """Per pass, size and place of the files: seed, time ``messages`` mails,
    roll back; then print the figures.

    Per size (existing tickets) it seeds customers and tickets with bulk
    inserts inside a transaction that is rolled back at the end, builds the
    mails in memory and runs each through ``mail.inbound.ingest`` — record,
    parse, classify, match, ``services.tickets``, audit log, outbox rows (the
    search index is brought up to date in batches by a schedule, not per
    mail). The mix: 60 % replies to a notification (``In-Reply-To`` one of
    our Message-IDs, the reference in the subject), 30 % new tickets from
    confirmed customers, 10 % new tickets with a 100 KB attachment.

    Work queued with ``transaction.on_commit`` (the django-q2 ``async_task``
    of the outbox) would never run inside the rolled-back transaction, so the
    callbacks registered by each mail are run right after it, as a commit
    would (:func:`_ingest`): with the dev site's (non-sync) cluster settings
    and the ORM broker each task is an ``OrmQ`` row, queued, not executed.

    Each size is measured twice: with the private storage's files (raw mail,
    attachments) in a folder on a file system in memory, and on the disk
    where the site keeps them (:func:`_files_in`). The first is the
    pipeline's own speed; the second adds this machine's disk, whose figure
    swings with what ran before (docs/benchmarks.md). The sizes and places
    take turns pass by pass.

    Printed per size and place: messages/s (median / min / max of the timed
    passes, each of fresh mails), queries per message (all, and per kind,
    counted during the timed passes), the tracemalloc peak of one mail of
    each kind (traced apart from the timed passes) and the time spent
    writing the files. The reference loop is timed before and after each
    pass: the comparison of the two sizes is printed as measured and scaled
    by it.
    """
    # django-q logs every queued task at INFO; that is not the pipeline's cost.
    q_logger = logging.getLogger("django-q")
    level = q_logger.level
    q_logger.setLevel(logging.WARNING)
    try:
        _run(stdout, sizes, messages, passes, profile)
    finally:
        q_logger.setLevel(level)


def _run(stdout, sizes, messages: int, passes: int, profile: bool) -> None:
    from django_q.conf import Conf

    stdout.write(header())
    measured = {
        (total, where): _Size(total, where) for total in sizes for where in PLACES
    }
    # The sizes and places take turns, pass by pass, so that each meets the
    # machine in the same moods: its speed drifts, and its disk creates files
    # several times slower for a while after many were written or removed.
    # The files written to disk are removed at the very end, for that reason.
    on_disk = []
    try:
        for _number in range(passes):
            for size in measured.values():
                _round(size, messages, profile, on_disk)
    finally:
        storage = private_storage()
        for name in on_disk:
            storage.delete(name)
    results = {}
    for total in sizes:
        first = measured[total, PLACES[0]]
        seeded = [t for where in PLACES for t in measured[total, where].seeded]
        stdout.write(
            f"-- {first.tickets} tickets in database (seeded {total} in "
            f"{statistics.median(seeded):.1f} s; django-q sync={bool(Conf.SYNC)})\n"
        )
        for where in PLACES:
            results[total, where] = _report(
                stdout, measured[total, where], messages, profile
            )
    if len(sizes) > 1:
        for where in PLACES:
            _compare(stdout, sizes, where, results)


def _compare(stdout, sizes, where: str, results) -> None:
    """The larger size against the smaller one, as measured and scaled by the
    reference loop timed around each size's passes."""
    small, small_ref = results[sizes[0], where]
    large, large_ref = results[sizes[-1], where]
    slower = (1 - large.median / small.median) * 100
    steady = (1 - large.median * large_ref / (small.median * small_ref)) * 100
    verdict = "ok" if slower <= 15 else "MISSED"
    stdout.write(
        f"at {sizes[-1]} tickets, {_place(where)}: {slower:+.1f} % slower than at "
        f"{sizes[0]} (medians; negative: faster; {steady:+.1f} % at the machine's "
        f"speed of the first size, by the reference loop)  target ≤ 15 %  {verdict}\n"
    )
