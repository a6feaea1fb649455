"""Background tasks of inbound mail (django-q2); each is idempotent.

Schedules (``schedules.py``): ``poll_mailboxes`` every minute,
``sweep_inbound`` every 5 minutes; ``purge_raw_mail`` is part of the daily
retention (``services.retention``).
"""

from __future__ import annotations

import logging

from django.db.models import Q
from django.utils import timezone

from . import conf

logger = logging.getLogger(__name__)


def poll_mailboxes() -> dict[str, str]:
    """Fetch new mail of every active mailbox (one poller per mailbox)."""
    from .mail import polling

    return polling.poll_all()


def process_inbound(pk: int) -> str:
    """Process one recorded mail; a second delivery of the task is a no-op."""
    from .mail import inbound

    return inbound.process(pk).outcome


def sweep_inbound(limit: int = 500) -> int:
    """Record django-mailbox rows that were never recorded, then process
    mail recorded but never processed (lost task, crashed worker, rotated
    ``SECRET_KEY``: pending longer than ``INBOUND_STUCK_AFTER``) and mail
    whose retry after a transient database error is due; returns how many
    rows it processed."""
    from .mail import inbound
    from .models import InboundMail

    inbound.reconcile_mailbox_messages()
    now = timezone.now()
    stuck = Q(next_attempt_at__isnull=True) & Q(
        updated_at__lt=now - conf.get("INBOUND_STUCK_AFTER")
    )
    pks = list(
        InboundMail.objects.pending()
        .filter(stuck | Q(next_attempt_at__lte=now))
        .order_by("pk")
        .values_list("pk", flat=True)[:limit]
    )
    for pk in pks:
        inbound.process(pk)
    return len(pks)


def purge_raw_mail() -> int:
    """Delete raw mail older than ``RAW_MAIL_RETENTION``; the rows stay (their
    dedupe keys keep absorbing late re-deliveries), the bytes go. Part of
    the daily ``vivadesk: retention`` (``services.retention``)."""
    from .services import retention

    period = conf.get("RAW_MAIL_RETENTION")
    if period is None:
        return 0
    return retention.empty_raw_mail(timezone.now(), period)
