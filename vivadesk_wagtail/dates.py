"""Date-times as pages print them in ``<time>`` elements (listing cells,
thread entries)."""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone
from django.utils.formats import date_format


def local_datetime(value: datetime) -> tuple[str, str]:
    """``(ISO 8601, short text)`` of an aware date-time in the current time
    zone and language: what ``value|date:"c"`` and
    ``value|date:"SHORT_DATETIME_FORMAT"`` print."""
    local = timezone.localtime(value)
    return local.isoformat(), date_format(local, "SHORT_DATETIME_FORMAT")
