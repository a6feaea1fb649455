"""Inbound-mail benchmark: mixed mail through the full pipeline, from memory.

Per size (existing tickets) it seeds customers and tickets with bulk inserts
inside a transaction that is rolled back at the end, builds the mails in
memory and runs each through ``mail.inbound.ingest`` — record, parse,
classify, match, ``services.tickets``, audit log, outbox rows (the search
index is brought up to date in batches by a schedule, not per mail).
The mix: 60 % replies to a notification (``In-Reply-To`` one of our
Message-IDs, the reference in the subject), 30 % new tickets from confirmed
customers, 10 % new tickets with a 100 KB attachment.

Work queued with ``transaction.on_commit`` (the django-q2 ``async_task`` of
the outbox) would never run inside the rolled-back
transaction, so the callbacks registered by each mail are run right after
it, as a commit would: with the dev site's (non-sync) cluster settings and
the ORM broker each task is an ``OrmQ`` row, queued, not executed.

Printed per size: messages/s (median / min / max of the timed passes, each
of fresh mails), queries per message (all, and per kind, counted during the
timed passes) and the tracemalloc peak of one mail of each kind (traced apart
from the timed passes). The reference loop is timed before and after each
size's passes: the comparison of the two sizes is printed as measured and
scaled by it, since this machine's speed drifts within a run.
"""

from __future__ import annotations

import collections
import logging
import re
import statistics
import time
import uuid

from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.utils import timezone

from .. import conf
from ..models import (
    CustomerProfile,
    InboundMail,
    MessageKind,
    OutboundEmail,
    Ticket,
    TicketAttachment,
    TicketMessage,
    TicketStatus,
)
from . import LABEL, Figures, header, peak_kib, reference_ms, row
from .mails import build

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
    from ..mail.inbound import ingest

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


def _measure(stdout, total: int, messages: int, passes: int, profile: bool):
    from django_q.conf import Conf
    from django_q.models import OrmQ

    customers = max(200, passes * messages // 3)
    began = time.perf_counter()
    emails, threads = _seed(total, customers)
    seeded = time.perf_counter() - began
    stdout.write(
        f"-- {Ticket.objects.count()} tickets in database "
        f"(seeded {total} in {seeded:.1f} s; django-q sync={bool(Conf.SYNC)})\n"
    )
    # Warm-up: imports, caches, first statements.
    for kind, raw in _mails(20, emails, threads, 0):
        _check(kind, _ingest(raw))
    queued_before = OrmQ.objects.count()

    per_kind = collections.defaultdict(list)
    wrapped = []  # with the savepoints of the benchmark's own transaction
    texts = collections.Counter()
    current = []
    ours = []

    def count(execute, sql, params, many, context):
        # A transaction of the pipeline is the outermost one in production
        # (no savepoint); here it nests in the rollback wrapper, which turns
        # it into a SAVEPOINT … RELEASE pair. Those pairs are not counted.
        if sql.startswith(SAVEPOINT_SQL) and len(connection.atomic_blocks) <= 1:
            ours.append(sql)
        else:
            current.append(sql)
        return execute(sql, params, many, context)

    # Timed passes of fresh mails each (the counting wrapper costs a list
    # append per statement, well under 1 % of a mail).
    rates = []
    reference_before = reference_ms()
    for number in range(passes):
        mails = _mails(messages, emails, threads, 20 + number * messages)
        began = time.perf_counter()
        with connection.execute_wrapper(count):
            for kind, raw in mails:
                current.clear()
                ours.clear()
                _check(kind, _ingest(raw))
                per_kind[kind].append(len(current))
                wrapped.append(len(current) + len(ours))
                if profile:
                    texts.update((kind, _normalise(sql)) for sql in current)
        rates.append(messages / (time.perf_counter() - began))
    reference = (reference_before + reference_ms()) / 2
    queued = OrmQ.objects.count() - queued_before

    # The tracemalloc peak of one mail of each kind, apart from the timed runs.
    peaks = {}
    for kind, raw in _mails(10, emails, threads, 20 + passes * messages):
        if kind not in peaks:
            peaks[kind] = peak_kib(
                lambda kind=kind, raw=raw: _check(kind, _ingest(raw))
            )

    all_queries = [q for qs in per_kind.values() for q in qs]
    figures = Figures.of(
        rates, statistics.mean(all_queries), max(peaks.values()), unit="msg/s"
    )
    met = figures.median >= 300 and figures.queries <= 8
    label = f"mixed mail, {passes} passes × {messages} mails"
    stdout.write(row(label, figures, "≥ 300 msg/s, ≤ 8 queries/message", met))
    for kind in ("reply", "new", "attachment"):
        qs = per_kind[kind]
        label = f"  {kind:<10} ×{len(qs):>5} mails (max {max(qs)} queries)"
        stdout.write(
            f"{label:<{LABEL}} {'':>7} {'':>7} {'':>7} {'':<5} "
            f"{statistics.mean(qs):7.2f} {peaks[kind]:9.0f}\n"
        )
    stdout.write(
        f"  {statistics.mean(wrapped):.2f} queries/message with the benchmark's "
        f"savepoints; {queued} tasks queued (OrmQ rows); peak KiB of the mix: "
        f"its largest kind; reference loop around the passes {reference:.1f} ms\n"
    )
    if profile:
        for kind in ("reply", "new"):
            n = len(per_kind[kind])
            stdout.write(f"  SQL per {kind} mail:\n")
            for (k, sql), hits in sorted(texts.items(), key=lambda kv: -kv[1]):
                if k == kind:
                    stdout.write(f"    {hits / n:5.2f}  {sql}\n")
    return figures, reference


def run(
    stdout,
    *,
    sizes=(500, 10_000),
    messages: int = 1_000,
    passes: int = 3,
    profile: bool = False,
) -> None:
    """Seed, measure (``passes`` timed passes of ``messages`` mails), print,
    roll back — once per size."""
    # django-q logs every queued task at INFO; that is not the pipeline's cost.
    q_logger = logging.getLogger("django-q")
    level = q_logger.level
    q_logger.setLevel(logging.WARNING)
    try:
        _run(stdout, sizes, messages, passes, profile)
    finally:
        q_logger.setLevel(level)


def _run(stdout, sizes, messages: int, passes: int, profile: bool) -> None:
    stdout.write(header())
    results = {}
    for total in sizes:
        files = []
        try:
            with transaction.atomic():
                results[total] = _measure(stdout, total, messages, passes, profile)
                files += [m.raw for m in InboundMail.objects.exclude(raw="")]
                files += [a.file for a in TicketAttachment.objects.all()]
                raise _Rollback
        except _Rollback:
            pass
        finally:
            _delete_new(files)
    if len(sizes) > 1:
        (small, small_ref), (large, large_ref) = results[sizes[0]], results[sizes[-1]]
        slower = (1 - large.median / small.median) * 100
        # The machine's own speed drifts within a run: the rates scaled by the
        # reference loop timed around each size's passes.
        steady = (1 - large.median * large_ref / (small.median * small_ref)) * 100
        verdict = "ok" if slower <= 15 else "MISSED"
        stdout.write(
            f"at {sizes[-1]} tickets: {slower:+.1f} % slower than at {sizes[0]} "
            f"(medians; negative: faster; {steady:+.1f} % at the machine's speed "
            f"of the first size, by the reference loop)  target ≤ 15 %  {verdict}\n"
        )


def _delete_new(files) -> None:
    """Remove the files of rows that were rolled back (rows that survived,
    i.e. existed before the benchmark, keep theirs)."""
    for stored in files:
        name = stored.name
        model = type(stored.instance)
        field = stored.field.name
        if not model.objects.filter(**{field: name}).exists():
            stored.storage.delete(name)
