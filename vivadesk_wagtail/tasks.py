"""Background tasks (django-q2) and the one seam that queues them.

django-q2 delivers at least once: every task takes ids, re-reads the state and
does nothing when its work is already done. Tasks are queued with
``transaction.on_commit`` through :func:`enqueue`, so a rolled-back change
queues nothing, whichever broker is configured.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from . import conf

logger = logging.getLogger(__name__)


def enqueue(func: str, *args) -> None:
    """Queue ``func(*args)`` once the current transaction commits."""
    from django_q.tasks import async_task

    transaction.on_commit(lambda: async_task(func, *args))


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
    """Render and send one outbox row; retry later on temporary failures."""
    from .mail import outbound
    from .models import OutboundEmail, OutboundState

    if not _claim(pk):
        return "skipped"
    row = OutboundEmail.objects.select_related("ticket", "ticket__customer").get(pk=pk)
    try:
        rendered = outbound.render(row)
        mail = outbound.build(row, rendered)
        row.subject = rendered.subject
        outbound.send(mail)
    except outbound.PermanentFailure as exc:
        _failed(row, str(exc), permanent=True)
        return "failed"
    except outbound.TemporaryFailure as exc:
        return _retry_later(row, str(exc))
    except Exception as exc:  # noqa: BLE001 - a broken render must not loop forever
        logger.exception("Rendering outbound mail %s failed", pk)
        return _retry_later(row, f"{type(exc).__name__}: {exc}")
    row.state = OutboundState.SENT
    row.sent_at = timezone.now()
    row.last_error = ""
    row.save(update_fields=["state", "sent_at", "last_error", "subject", "updated_at"])
    return "sent"


def _retry_later(row, error: str) -> str:
    from .models import OutboundState

    if row.attempts >= conf.get("OUTBOX_MAX_ATTEMPTS"):
        _failed(row, error, permanent=False)
        return "failed"
    delay = conf.get("OUTBOX_RETRY_DELAY") * (2 ** (row.attempts - 1))
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
    """Queue every row that is due: pending past its retry time, and rows
    stuck in ``sending`` (worker died, task lost, rotated ``SECRET_KEY``)."""
    from django_q.tasks import async_task

    from .models import OutboundEmail, OutboundState

    now = timezone.now()
    stuck_before = now - conf.get("OUTBOX_STUCK_AFTER")
    OutboundEmail.objects.filter(
        state=OutboundState.SENDING, updated_at__lt=stuck_before
    ).update(state=OutboundState.PENDING, next_attempt_at=None, updated_at=now)
    due = OutboundEmail.objects.filter(state=OutboundState.PENDING).filter(
        Q(next_attempt_at__lte=now)
        | Q(next_attempt_at__isnull=True, updated_at__lt=now - timedelta(minutes=1))
    )
    pks = list(due.values_list("pk", flat=True)[:500])
    for pk in pks:
        async_task("vivadesk_wagtail.tasks.send_outbound", pk)
    return len(pks)


def close_done_tickets() -> int:
    """Close tickets that stayed ``Done`` past ``AUTO_CLOSE_AFTER``."""
    from .services.tickets import close_done_tickets as close

    return close()
