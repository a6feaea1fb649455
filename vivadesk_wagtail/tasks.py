"""Background tasks (django-q2). It delivers at least once: every task takes
ids, re-reads the state and does nothing when its work is already done; tasks
are queued through :func:`vivadesk_wagtail.queueing.enqueue` on commit.
"""

from __future__ import annotations

import logging
import time
from datetime import timedelta

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from . import conf, dberrors
from .queueing import broker

logger = logging.getLogger(__name__)


def _claim(pk: int) -> bool:
    """Move a due pending row to ``sending``; only one worker wins."""
    from .models import OutboundEmail, OutboundState

    now = timezone.now()
    return bool(
        OutboundEmail.objects.filter(pk=pk, state=OutboundState.PENDING)
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        .update(state=OutboundState.SENDING, attempts=F("attempts") + 1, updated_at=now)
    )


def send_outbound(pk: int) -> str:
    """Render and send one outbox row; retry later on temporary failures.

    Delivery is at least once, always with the row's Message-ID: a mail goes
    out twice only if the process dies between the server's 250 and the
    write that marks the row sent (that write survives a lost database
    connection, :func:`_mark_sent`); the sweeper then sends the row again
    once the task timeout says its worker is gone
    (:func:`vivadesk_wagtail.conf.outbox_stuck_after`), and the receiving
    side sees the same Message-ID twice.
    """
    from .mail import outbound
    from .models import OutboundEmail

    if not _claim(pk):
        return "skipped"
    from .mail import notifications

    row = OutboundEmail.objects.select_related("ticket", "ticket__customer").get(pk=pk)
    marked = []
    try:
        notifications.thread_row(row)
        rendered = outbound.render(row)
        mail = outbound.build(row, rendered)
        row.subject = rendered.subject
        outbound.send(mail, accepted=lambda: marked.append(_mark_sent(row)))
    except outbound.PermanentFailure as exc:
        _failed(row, str(exc), permanent=exc.recipient_refused)
        return "failed"
    except outbound.TemporaryFailure as exc:
        return _retry_later(row, str(exc))
    except Exception as exc:  # noqa: BLE001 - a broken render must not loop forever
        logger.exception("Rendering outbound mail %s failed", pk)
        return _retry_later(row, f"{type(exc).__name__}: {exc}")
    return "sent" if all(marked) else "unrecorded"


#: Waits (seconds) before the retries of the write that marks a handed-over
#: mail sent, after a transient database error.
MARK_SENT_BACKOFF = (0.5, 2.0, 5.0)


def _mark_sent(row) -> bool:
    """Record that the server accepted ``row``'s mail, right after its 250:
    the one write whose loss sends the mail again, so a transient database
    error (lost connection, failover, lock timeout) is retried after a short
    wait on a fresh connection. ``False`` (logged as an error) when every
    try failed or the error is not transient: the row stays ``sending`` and
    the sweeper sends it again. Never raises: the mail is handed over, no
    error may make the caller treat it as unsent."""
    from .models import OutboundState

    row.state = OutboundState.SENT
    row.sent_at = timezone.now()
    row.last_error = ""
    fields = [
        *("state", "sent_at", "last_error", "subject", "updated_at"),
        *("in_reply_to", "references"),
    ]
    for wait in (*MARK_SENT_BACKOFF, None):
        try:
            # Its own (sub)transaction: inside a caller's ``atomic`` a failed
            # try rolls back to a savepoint and the next one can run.
            with transaction.atomic():
                row.save(update_fields=fields)
            return True
        except Exception as exc:  # noqa: BLE001 - see the docstring
            if wait is None or not _retryable(exc):
                logger.error(
                    "Mail %s was handed over but could not be marked sent; "
                    "the outbox sweeper will send it again (same Message-ID)",
                    row.pk,
                    exc_info=True,
                )
                return False
            logger.warning(
                "Marking mail %s sent failed, trying again: %s",
                row.pk,
                dberrors.describe(exc),
            )
            time.sleep(wait)
    return False


def _retryable(exc: Exception) -> bool:
    """A database error worth another try of a write: a transient one, on a
    connection that can still be replaced (not inside an outer ``atomic``,
    whose transaction died with it). A broken connection is closed here so
    the next query opens a new one."""
    from django.db import connection

    if not dberrors.is_transient(exc):
        return False
    if connection.in_atomic_block:
        return connection.is_usable()
    dberrors.recover(connection)
    return True


def send_outbound_many(pks: list[int]) -> list[str]:
    """Send the outbox rows one event wrote (one task for all of them)."""
    return [send_outbound(pk) for pk in pks]


def _retry_later(row, error: str) -> str:
    from .models import OutboundState

    if row.attempts >= conf.get("OUTBOX_MAX_ATTEMPTS"):
        _failed(row, error, permanent=False)
        return "failed"
    delay = min(
        conf.get("OUTBOX_RETRY_DELAY") * (2 ** min(row.attempts - 1, 20)),
        conf.get("OUTBOX_RETRY_MAX_DELAY"),
    )
    row.state = OutboundState.PENDING
    row.last_error = error
    row.next_attempt_at = timezone.now() + delay
    row.save(
        update_fields=[
            "state",
            "last_error",
            "next_attempt_at",
            "subject",
            "updated_at",
        ]
    )
    logger.warning("Mail %s to %s will be retried: %s", row.pk, row.recipient, error)
    return "retry"


def _failed(row, error: str, *, permanent: bool) -> None:
    from .services import outbox

    outbox.mark_failed(row, error, permanent=permanent)


def sweep_outbox() -> int:
    """Queue every row that is due; returns how many were queued.

    Due are: pending rows whose retry time has come and that were not queued
    since; pending rows queued longer than the stuck age ago and still not
    sent (task lost with a killed worker or a broker, rotated
    ``SECRET_KEY``); rows stuck in ``sending`` that long (worker died
    mid-send, or the write marking a handed-over mail sent failed for good;
    requeued with the same Message-ID, or failed once they used up their
    attempts). The stuck age is :func:`conf.outbox_stuck_after`, by default
    the task timeout plus a minute: no worker still runs the task then. A
    queued row is stamped (``updated_at``) so the next sweep does not queue
    it again while it waits in a busy queue; should it be queued twice after
    all, only one task claims it (:func:`_claim`).
    """
    from django_q.tasks import async_task

    from .models import OutboundEmail, OutboundState

    now = timezone.now()
    stale_before = now - conf.outbox_stuck_after()
    _release_stuck(stale_before, now)
    due = (
        OutboundEmail.objects.filter(state=OutboundState.PENDING)
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        .filter(
            Q(updated_at__lte=F("next_attempt_at")) | Q(updated_at__lt=stale_before)
        )
    )
    pks = list(due.order_by("pk").values_list("pk", flat=True)[:500])
    OutboundEmail.objects.filter(pk__in=pks, state=OutboundState.PENDING).update(
        updated_at=now
    )
    for pk in pks:
        async_task("vivadesk_wagtail.tasks.send_outbound", pk, broker=broker())
    return len(pks)


def _release_stuck(stale_before, now) -> None:
    from .models import OutboundEmail, OutboundState

    stuck = OutboundEmail.objects.filter(
        state=OutboundState.SENDING, updated_at__lt=stale_before
    )
    for row in stuck.filter(attempts__gte=conf.get("OUTBOX_MAX_ATTEMPTS")):
        _failed(row, "Stuck while sending (worker stopped?)", permanent=False)
    # ``update`` leaves ``updated_at`` as it was: older than ``next_attempt_at``,
    # so the row counts as due right away.
    stuck.filter(state=OutboundState.SENDING).update(
        state=OutboundState.PENDING, next_attempt_at=now
    )


def close_done_tickets() -> int:
    """Close tickets that stayed ``Done`` past ``AUTO_CLOSE_AFTER``."""
    from .services.tickets import close_done_tickets as close

    return close()


def check_service_targets() -> int:
    """Warn of service targets due soon and mark the missed ones."""
    from .services.service_targets import check_targets

    return check_targets()


def update_search_index() -> int:
    """Index the tickets changed since the last run (staff search)."""
    from .services.search_index import update_changed

    return update_changed()


def purge_caught_submissions() -> int:
    """Delete contact-form posts caught as spam longer than
    ``SPAM_RETENTION`` ago, with their files."""
    from .services import spam

    return spam.purge()


#: A stored file younger than this may belong to a transaction still running.
ORPHAN_GRACE = timedelta(hours=6)


def purge_orphan_files() -> int:
    """Delete stored files no row refers to: a file is written before its
    row, so a transaction rolled back after that leaves it behind. Files
    younger than :data:`ORPHAN_GRACE` are left alone. Returns how many went."""
    from .models import DataRequest, InboundMail, TicketAttachment
    from .services import spam
    from .storage import private_storage, stored_files

    referenced = set(TicketAttachment.objects.values_list("file", flat=True))
    exports = DataRequest.objects.exclude(file="")
    referenced.update(exports.values_list("file", flat=True))
    referenced.update(InboundMail.objects.exclude(raw="").values_list("raw", flat=True))
    referenced.update(spam.stored_paths())
    cutoff = timezone.now() - ORPHAN_GRACE
    storage = private_storage()
    removed = 0
    for name in stored_files():
        if name in referenced:
            continue
        try:
            if storage.get_modified_time(name) > cutoff:
                continue
        except (OSError, NotImplementedError):
            continue
        storage.delete(name)
        removed += 1
    if removed:
        logger.info("Removed %d stored files that no row refers to", removed)
    return removed
