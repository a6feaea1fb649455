"""Customer satisfaction: one rating (good or bad, an optional comment) per
ticket, given through the signed links of the "Done" mail (:func:`rate`).

A ticket can be rated once it is done or closed, unless it was merged into
another (its conversation and its rating belong to that ticket). The first
rating may be changed for ``RATING_CHANGE_PERIOD``; then it stays as it is.
Each rating and change is in the ticket's audit log (the codes, never the
comment).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from .. import conf
from ..models import Rating, SatisfactionRating, Ticket, TicketStatus
from . import tickets

#: The longest comment stored (characters, after cleaning).
MAX_COMMENT = 2000
#: Statuses in which a ticket can be rated.
RATEABLE_STATUSES = (TicketStatus.DONE, TicketStatus.CLOSED)
#: The audit-log action of a rating (``staff/log_actions.py``).
LOG_ACTION = "vivadesk.rating"

#: Why a rating was refused (:attr:`RatingRefused.reason`).
NOT_FINISHED = "not_finished"
MERGED = "merged"
PERIOD_OVER = "period_over"
TOO_LONG = "too_long"
UNKNOWN_RATING = "unknown_rating"


class RatingRefused(ValueError):
    """The rating cannot be stored; ``reason`` says why (one of the codes
    above)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Result:
    """A stored rating and whether it was new (else changed or repeated)."""

    rating: SatisfactionRating
    created: bool


def not_rateable(ticket: Ticket) -> str | None:
    """Why ``ticket`` cannot be rated now (:data:`NOT_FINISHED`,
    :data:`MERGED`), or ``None``."""
    if ticket.merged_into_id is not None:
        return MERGED
    if ticket.status not in RATEABLE_STATUSES:
        return NOT_FINISHED
    return None


def change_until(rating: SatisfactionRating) -> datetime:
    """Until when ``rating`` may be changed."""
    return rating.created_at + conf.get("RATING_CHANGE_PERIOD")


def changeable(rating: SatisfactionRating, now: datetime | None = None) -> bool:
    return (now or timezone.now()) <= change_until(rating)


def clean_comment(comment: str) -> str:
    """The comment as stored: line breaks as ``\\n``, no other control or
    format characters (tabs become spaces), no surrounding white space.
    Raises :class:`RatingRefused` (:data:`TOO_LONG`) beyond
    :data:`MAX_COMMENT`."""
    text = (comment or "").replace("\r\n", "\n").replace("\r", "\n")
    text = "".join(
        " " if char == "\t" else char
        for char in text
        if char in "\n\t" or unicodedata.category(char) not in ("Cc", "Cf", "Cs")
    )
    text = text.strip()
    if len(text) > MAX_COMMENT:
        raise RatingRefused(TOO_LONG)
    return text


def current(ticket: Ticket) -> SatisfactionRating | None:
    """The ticket's rating, if it has one."""
    return SatisfactionRating.objects.filter(ticket_id=ticket.pk).first()


@transaction.atomic
def rate(
    ticket: Ticket, rating: str, comment: str = "", now: datetime | None = None
) -> Result:
    """Store the customer's rating of ``ticket`` (create, or change it
    within ``RATING_CHANGE_PERIOD`` of the first rating), under the
    ticket's row lock; raises :class:`RatingRefused`. The audit-log entry
    ``vivadesk.rating`` keeps the old and new rating codes only. Sending
    the same rating and comment again changes nothing and logs nothing."""
    if rating not in Rating.values:
        raise RatingRefused(UNKNOWN_RATING)
    text = clean_comment(comment)
    now = now or timezone.now()
    locked = Ticket.objects.select_for_update().get(pk=ticket.pk)
    reason = not_rateable(locked)
    if reason:
        raise RatingRefused(reason)
    existing = SatisfactionRating.objects.filter(ticket=locked).first()
    if existing is None:
        stored = SatisfactionRating.objects.create(
            ticket=locked, rating=rating, comment=text
        )
        SatisfactionRating.objects.filter(pk=stored.pk).update(
            created_at=now, updated_at=now
        )
        stored.created_at = stored.updated_at = now
        tickets.log(locked, LOG_ACTION, data={"old": None, "new": rating})
        return Result(stored, created=True)
    if not changeable(existing, now):
        raise RatingRefused(PERIOD_OVER)
    if (existing.rating, existing.comment) == (rating, text):
        return Result(existing, created=False)
    old = existing.rating
    existing.rating, existing.comment, existing.updated_at = rating, text, now
    SatisfactionRating.objects.filter(pk=existing.pk).update(
        rating=rating, comment=text, updated_at=now
    )
    tickets.log(locked, LOG_ACTION, data={"old": old, "new": rating})
    return Result(existing, created=False)
