"""The figures of the service reports, aggregated in the database: tickets
opened and resolved per ISO week in the business time zone, medians of the
business minutes (:class:`Median`), target breaches, ratings, and the open
backlog by status, category and assignee. A constant number of queries,
whatever the number of tickets or weeks.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db.models import Aggregate, Count, FloatField, Q
from django.db.models.functions import TruncWeek

from .. import conf
from ..models import OPEN_STATUSES, SatisfactionRating, Ticket
from ..models.satisfaction import Rating

#: Weeks shown when the reader picks no period.
DEFAULT_WEEKS = 12
#: The longest period a report covers (five years of weeks).
MAX_WEEKS = 261


class _SqliteMedian:
    """SQLite's ``VIVADESK_MEDIAN(x)``: the median of the non-null values."""

    def __init__(self):
        self.values = []

    def step(self, value):
        if value is not None:
            self.values.append(value)

    def finalize(self):
        return float(statistics.median(self.values)) if self.values else None


class Median(Aggregate):
    """The median of a numeric column (``NULL`` for no values).

    PostgreSQL computes ``percentile_cont(0.5) WITHIN GROUP (ORDER BY x)``;
    SQLite has no such function, so a Python aggregate is registered on the
    connection the query runs on. Works with ``filter=Q(...)``.
    """

    function = "PERCENTILE_CONT"
    name = "Median"
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()
    allow_distinct = False

    def as_sqlite(self, compiler, connection, **extra_context):
        connection.ensure_connection()
        connection.connection.create_aggregate("VIVADESK_MEDIAN", 1, _SqliteMedian)
        plain = self.copy()
        plain.function = "VIVADESK_MEDIAN"
        plain.template = "%(function)s(%(expressions)s)"
        return plain.as_sql(compiler, connection, **extra_context)


def business_zone() -> ZoneInfo:
    return ZoneInfo(conf.get("BUSINESS_TIMEZONE"))


def monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


@dataclass(frozen=True)
class Period:
    """Whole ISO weeks, from the Monday ``first`` to the Monday ``last``."""

    first: date
    last: date

    @classmethod
    def covering(cls, start: date | None, end: date | None, today: date) -> Period:
        """The weeks from ``start``'s to ``end``'s (either may be missing:
        the last :data:`DEFAULT_WEEKS` weeks up to today, or up to ``end``,
        or from ``start`` to today), at most :data:`MAX_WEEKS`."""
        if start and end and start > end:
            start, end = end, start
        last = monday(end or (today if not start or start <= today else start))
        first = monday(start) if start else last - timedelta(weeks=DEFAULT_WEEKS - 1)
        first = max(first, last - timedelta(weeks=MAX_WEEKS - 1))
        return cls(first, last)

    def weeks(self) -> list[date]:
        count = (self.last - self.first).days // 7 + 1
        return [self.first + timedelta(weeks=n) for n in range(count)]

    @property
    def end(self) -> date:
        """The period's last day (a Sunday)."""
        return self.last + timedelta(days=6)

    def bounds(self) -> tuple[datetime, datetime]:
        """Its first and its first-after moment in the business time zone."""
        zone = business_zone()
        return (
            datetime.combine(self.first, time.min, tzinfo=zone),
            datetime.combine(self.last + timedelta(weeks=1), time.min, tzinfo=zone),
        )


def _hours(minutes: float | None) -> float | None:
    return None if minutes is None else round(minutes / 60, 2)


@dataclass
class WeekFigures:
    """One row of the service report (a week, or the period's totals, whose
    ``start`` is ``None``). Medians are in business hours."""

    start: date | None
    opened: int = 0
    resolved: int = 0
    first_response_hours: float | None = None
    resolution_hours: float | None = None
    first_response_breached: int = 0
    resolution_breached: int = 0
    rated_good: int = 0
    rated_bad: int = 0

    @property
    def is_total(self) -> bool:
        return self.start is None

    @property
    def iso_week(self) -> tuple[int, int] | None:
        if self.start is None:
            return None
        year, week, _day = self.start.isocalendar()
        return year, week

    @property
    def rated(self) -> int:
        return self.rated_good + self.rated_bad

    @property
    def good_share(self) -> float | None:
        """Good ratings in percent of all ratings (``None`` without any)."""
        if not self.rated:
            return None
        return round(100 * self.rated_good / self.rated, 1)


def _week(field_name: str) -> TruncWeek:
    return TruncWeek(field_name, tzinfo=business_zone())


def _week_start(value) -> date:
    """The Monday of a truncated week (an aware date-time, or a naive one on
    databases that return the local wall time)."""
    if isinstance(value, datetime) and value.tzinfo is not None:
        value = value.astimezone(business_zone())
    return value.date() if isinstance(value, datetime) else value


def service_weeks(period: Period) -> tuple[list[WeekFigures], WeekFigures]:
    """The period's weeks (every week, also those without tickets) and its
    totals, in four queries: opened tickets by their week, resolved tickets
    by theirs, ratings by theirs, and the period's two medians."""
    low, high = period.bounds()
    rows = {week: WeekFigures(week) for week in period.weeks()}
    opened = Q(created_at__gte=low, created_at__lt=high)
    resolved = Q(resolved_at__gte=low, resolved_at__lt=high)
    for found in _by_week(opened, "created_at").annotate(
        count=Count("pk"),
        median=Median("first_response_minutes"),
        breached=Count("pk", filter=Q(first_response_breached=True)),
    ):
        row = rows[_week_start(found["week"])]
        row.opened = found["count"]
        row.first_response_hours = _hours(found["median"])
        row.first_response_breached = found["breached"]
    for found in _by_week(resolved, "resolved_at").annotate(
        count=Count("pk"),
        median=Median("resolution_minutes"),
        breached=Count("pk", filter=Q(resolution_breached=True)),
    ):
        row = rows[_week_start(found["week"])]
        row.resolved = found["count"]
        row.resolution_hours = _hours(found["median"])
        row.resolution_breached = found["breached"]
    for found in (
        SatisfactionRating.objects.filter(created_at__gte=low, created_at__lt=high)
        .annotate(week=_week("created_at"))
        .values("week")
        .annotate(
            good=Count("pk", filter=Q(rating=Rating.GOOD)),
            bad=Count("pk", filter=Q(rating=Rating.BAD)),
        )
        .order_by()
    ):
        row = rows[_week_start(found["week"])]
        row.rated_good, row.rated_bad = found["good"], found["bad"]
    weeks = list(rows.values())
    return weeks, _totals(weeks, opened, resolved)


def _by_week(condition: Q, field_name: str):
    return (
        Ticket.objects.filter(condition)
        .annotate(week=_week(field_name))
        .values("week")
        .order_by()
    )


def _totals(weeks: list[WeekFigures], opened: Q, resolved: Q) -> WeekFigures:
    """The sums of the weeks, and the medians over the whole period (a
    median of medians would be wrong)."""
    medians = Ticket.objects.filter(opened | resolved).aggregate(
        first=Median("first_response_minutes", filter=opened),
        resolution=Median("resolution_minutes", filter=resolved),
    )
    total = WeekFigures(
        None,
        first_response_hours=_hours(medians["first"]),
        resolution_hours=_hours(medians["resolution"]),
    )
    for name in (
        "opened",
        "resolved",
        "first_response_breached",
        "resolution_breached",
        "rated_good",
        "rated_bad",
    ):
        setattr(total, name, sum(getattr(week, name) for week in weeks))
    return total


@dataclass
class BacklogGroup:
    """Open tickets that share a status, a category or an assignee; ``key``
    is ``None`` for "no category" and "nobody"."""

    dimension: str
    key: object
    name: str
    open: int
    overdue: int


@dataclass
class Backlog:
    """The open tickets now: per status, category and assignee."""

    by_status: list[BacklogGroup] = field(default_factory=list)
    by_category: list[BacklogGroup] = field(default_factory=list)
    by_assignee: list[BacklogGroup] = field(default_factory=list)

    @property
    def open(self) -> int:
        return sum(group.open for group in self.by_status)

    @property
    def overdue(self) -> int:
        return sum(group.overdue for group in self.by_status)


def backlog(now: datetime) -> Backlog:
    """Open tickets (new, in progress, waiting) and those of them whose
    earliest pending due time has passed, in three grouped queries."""
    tickets = Ticket.objects.filter(status__in=OPEN_STATUSES).order_by()
    counts = {"open": Count("pk"), "overdue": Count("pk", filter=Q(next_due__lt=now))}
    by_status = {
        row["status"]: row for row in tickets.values("status").annotate(**counts)
    }
    result = Backlog(
        by_status=[
            BacklogGroup(
                "status",
                status.value,
                "",
                by_status.get(status, {}).get("open", 0),
                by_status.get(status, {}).get("overdue", 0),
            )
            for status in OPEN_STATUSES
        ]
    )
    for row in tickets.values("category_id", "category__name").annotate(**counts):
        result.by_category.append(
            BacklogGroup(
                "category",
                row["category_id"],
                row["category__name"] or "",
                row["open"],
                row["overdue"],
            )
        )
    for row in tickets.values(
        "assignee_id",
        "assignee__first_name",
        "assignee__last_name",
        "assignee__username",
    ).annotate(**counts):
        name = " ".join(
            part
            for part in (row["assignee__first_name"], row["assignee__last_name"])
            if part
        )
        result.by_assignee.append(
            BacklogGroup(
                "assignee",
                row["assignee_id"],
                name or row["assignee__username"] or "",
                row["open"],
                row["overdue"],
            )
        )
    for groups in (result.by_category, result.by_assignee):
        groups.sort(key=lambda g: (g.key is None, -g.open, g.name.lower()))
    return result
