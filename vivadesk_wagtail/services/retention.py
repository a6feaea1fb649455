"""The retention schedule (``vivadesk: retention``, daily; ``manage.py
vivadesk_retention``): what the help desk keeps only for a while goes when
its period is over. One policy per setting; ``None`` switches a policy off.
Each run is idempotent: a second one right after does nothing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.duration import duration_iso_string

from .. import conf
from ..models import InboundMail, InboundState, Ticket, TicketStatus
from ..storage import private_storage
from . import erasure, spam

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Policy:
    #: The report's key.
    name: str
    #: The ``VIVADESK`` setting of its period.
    setting: str
    #: What it does, for the command's table.
    action: str


POLICIES = (
    Policy("closed_tickets", "CLOSED_TICKET_RETENTION", "closed tickets disposed"),
    Policy("held_mail", "HELD_MAIL_RETENTION", "held mail deleted"),
    Policy("raw_mail", "RAW_MAIL_RETENTION", "raw mail emptied"),
    Policy("caught_spam", "SPAM_RETENTION", "caught spam posts deleted"),
)


def run(now: datetime | None = None) -> dict:
    """Apply every policy; returns (and logs) the report: per policy the
    ``count`` of what went and the ``period`` used (ISO 8601, ``None``: off);
    closed tickets also name their ``mode`` (``ERASURE_TICKETS``)."""
    now = now or timezone.now()
    workers = {
        "closed_tickets": dispose_closed_tickets,
        "held_mail": delete_held_mail,
        "raw_mail": empty_raw_mail,
        "caught_spam": purge_caught_spam,
    }
    report = {}
    for policy in POLICIES:
        period = conf.get(policy.setting)
        count = workers[policy.name](now, period) if period is not None else 0
        report[policy.name] = {
            "count": count,
            "period": duration_iso_string(period) if period is not None else None,
        }
    report["closed_tickets"]["mode"] = conf.get("ERASURE_TICKETS")
    logger.info("Retention: %s", report)
    return report


def dispose_closed_tickets(now: datetime, period: timedelta) -> int:
    """Tickets closed longer than ``period`` ago, anonymised or deleted as
    ``ERASURE_TICKETS`` says (anonymised ones are not counted again)."""
    old = Ticket.objects.filter(status=TicketStatus.CLOSED, closed_at__lt=now - period)
    count = erasure.dispose_tickets(old, conf.get("ERASURE_TICKETS"))
    erasure.compact_search_index()
    return count


def delete_held_mail(now: datetime, period: timedelta) -> int:
    """Mail held for review longer than ``period``, with its raw source."""
    old = InboundMail.objects.held().filter(received_at__lt=now - period)
    return erasure.delete_inbound_mail(old)


def empty_raw_mail(now: datetime, period: timedelta) -> int:
    """Delete the raw source of mail received longer than ``period`` ago
    (mail still waiting to be processed keeps it). The rows stay: their
    dedupe keys keep absorbing late re-deliveries. Files go before the rows
    stop naming them."""
    rows = (
        InboundMail.objects.filter(received_at__lt=now - period)
        .exclude(raw="")
        .exclude(state=InboundState.PENDING)
    )
    storage = private_storage()

    def work(pks: list[int]) -> int:
        chunk = InboundMail.objects.filter(pk__in=pks).exclude(raw="")
        for name in chunk.values_list("raw", flat=True):
            storage.delete(name)
        with transaction.atomic():
            return chunk.update(raw="")

    return erasure.in_chunks(rows, work)


def purge_caught_spam(now: datetime, period: timedelta) -> int:
    """Contact-form posts the spam traps caught longer than ``period`` ago
    (``services.spam.purge``)."""
    return spam.purge(now)
