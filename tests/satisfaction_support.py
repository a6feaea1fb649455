"""Helpers of the satisfaction tests: a done ticket, the rating page's
path, the stored ratings and their audit-log entries."""

from __future__ import annotations

import re
from datetime import timedelta

from django.contrib.contenttypes.models import ContentType
from django.utils import timezone
from wagtail.models import ModelLogEntry

from tests import factories
from tests.portal_support import alice, url
from vivadesk_wagtail.models import SatisfactionRating, Ticket, TicketStatus
from vivadesk_wagtail.portal import satisfaction_tokens
from vivadesk_wagtail.services import tickets

#: A rating link in a mail; group 1 is the preselected choice.
LINK = re.compile(r"https?://[^\s\"<>]+/rating/[^\s\"<>/]+/\?choice=(good|bad)")


def done_ticket(customer=None, language="de", **kwargs):
    ticket = factories.ticket(customer or alice(), language=language, **kwargs)
    tickets.change_status(ticket, TicketStatus.DONE)
    ticket.refresh_from_db()
    return ticket


def rate_path(ticket, choice=None, language="de", token=None) -> str:
    path = url("rate", token or satisfaction_tokens.make(ticket), lang=language)
    return f"{path}?choice={choice}" if choice else path


def ratings() -> int:
    return SatisfactionRating.objects.count()


def rating_logs(ticket):
    return ModelLogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(Ticket),
        object_id=str(ticket.pk),
        action="vivadesk.rating",
    ).order_by("pk")


def checked(response) -> list[str]:
    """The values of the checked radio buttons."""
    html = response.content.decode()
    return re.findall(
        r'<input type="radio" name="rating" value="(\w+)"[^>]*checked', html
    )


def backdate(ticket, days: int) -> None:
    """The ticket's rating was first given ``days`` ago."""
    SatisfactionRating.objects.filter(ticket=ticket).update(
        created_at=timezone.now() - timedelta(days=days)
    )
