"""Arithmetic in business hours: :func:`add` a number of business minutes to
a moment, count the business minutes :func:`minutes_between` two moments.

The working week comes from the ``VIVADESK`` settings, read at call time:
``BUSINESS_TIMEZONE``, ``BUSINESS_DAYS``, ``BUSINESS_HOURS`` and the public
holidays of ``HOLIDAYS_COUNTRY`` / ``HOLIDAYS_SUBDIVISION`` (the ``holidays``
library). Opening hours are wall-clock times of that zone, so a day keeps
them across a change to or from daylight saving time.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import holidays

from . import conf

MINUTE = timedelta(minutes=1)


@dataclass(frozen=True)
class Week:
    """The working week the settings describe."""

    zone: ZoneInfo
    days: frozenset[int]
    opens: time
    closes: time
    country: str | None
    subdivision: str | None


def parse_time(value) -> time:
    """``"HH:MM"`` as a time; raises ``ValueError`` for anything else."""
    if not isinstance(value, str) or len(value) != 5 or value[2] != ":":
        raise ValueError(f"not a HH:MM time: {value!r}")
    return time(int(value[:2]), int(value[3:]))


def week() -> Week:
    """The working week of the current settings (``checks.py`` validates
    them; a week without working days would never open)."""
    opens, closes = (parse_time(value) for value in conf.get("BUSINESS_HOURS"))
    days = frozenset(conf.get("BUSINESS_DAYS"))
    if not days or opens >= closes:
        raise ValueError("the business hours never open")
    return Week(
        zone=ZoneInfo(conf.get("BUSINESS_TIMEZONE")),
        days=days,
        opens=opens,
        closes=closes,
        country=conf.get("HOLIDAYS_COUNTRY") or None,
        subdivision=conf.get("HOLIDAYS_SUBDIVISION") or None,
    )


@functools.lru_cache(maxsize=128)
def public_holidays(country: str, subdivision: str | None, year: int) -> frozenset:
    """The dates of the public holidays of ``country`` (and its
    ``subdivision``) in ``year``; read from the library once per year."""
    found = holidays.country_holidays(country, subdiv=subdivision, years=year)
    return frozenset(found.keys())


def is_working_day(day: date, current: Week) -> bool:
    if day.weekday() not in current.days:
        return False
    if current.country is None:
        return True
    return day not in public_holidays(current.country, current.subdivision, day.year)


def _at(day: date, moment: time, zone: ZoneInfo) -> datetime:
    """The wall-clock ``moment`` of ``day`` in ``zone``, in UTC."""
    return datetime.combine(day, moment, tzinfo=zone).astimezone(UTC)


def openings(start: datetime, current: Week) -> Iterator[tuple[datetime, datetime]]:
    """The opening hours (UTC start and end) of each working day from the
    day of ``start`` on, the first cut to begin no earlier than ``start``;
    days already closed at ``start`` are skipped."""
    start = start.astimezone(UTC)
    day = start.astimezone(current.zone).date()
    while True:
        if is_working_day(day, current):
            opens = _at(day, current.opens, current.zone)
            closes = _at(day, current.closes, current.zone)
            if closes > start:
                yield max(opens, start), closes
        day += timedelta(days=1)


def add(start: datetime, minutes: int | float) -> datetime:
    """The moment ``minutes`` business minutes after ``start`` (an aware
    datetime; the result is in UTC). A start outside the opening hours counts
    from the next opening; a result exactly at closing time stays there."""
    remaining = timedelta(minutes=minutes)
    for opens, closes in openings(start, week()):
        if remaining <= closes - opens:
            return opens + remaining
        remaining -= closes - opens
    raise AssertionError("unreachable")  # pragma: no cover


def minutes_between(start: datetime, end: datetime) -> int:
    """Whole business minutes from ``start`` to ``end`` (0 when ``end`` is
    not later); ``minutes_between(a, add(a, m)) == m``."""
    end = end.astimezone(UTC)
    if end <= start:
        return 0
    total = timedelta(0)
    for opens, closes in openings(start, week()):
        if opens >= end:
            break
        total += min(closes, end) - opens
    return total // MINUTE


def is_open(moment: datetime) -> bool:
    """Whether ``moment`` is inside the opening hours."""
    opens, _closes = next(openings(moment, week()))
    return opens <= moment.astimezone(UTC)
