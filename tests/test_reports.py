"""The service report's figures: tickets opened and resolved per ISO week
(Europe/Berlin), medians in business hours, missed targets, ratings and
totals; the period filter; the page with its table and chart."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db.models import Q
from django.utils import timezone, translation

from tests.reports_support import (
    BERLIN,
    PERIOD,
    SERVICE,
    SERVICE_RESULTS,
    W45,
    W46,
    W47,
    berlin,
    by_week,
    customer_fixture,  # noqa: F401 - the fixture customer
    make_ticket,
    superuser_fixture,  # noqa: F401 - the fixture superuser
    table_rows,
    url,
    weeks_data_fixture,  # noqa: F401 - the fixture weeks_data
)
from vivadesk_wagtail.models import Ticket
from vivadesk_wagtail.staff import report_queries
from vivadesk_wagtail.staff.report_chart import nice_step, weekly_chart
from vivadesk_wagtail.staff.report_queries import Period

# --- The figures ---------------------------------------------------------------


def test_a_period_is_whole_iso_weeks():
    today = date(2026, 12, 4)  # a Friday of week 49
    default = Period.covering(None, None, today)
    assert default.first == date(2026, 9, 14)  # week 38: twelve weeks
    assert default.last == date(2026, 11, 30)
    assert len(default.weeks()) == 12
    chosen = Period.covering(date(2026, 10, 28), date(2026, 11, 20), today)
    assert (chosen.first, chosen.end) == (date(2026, 10, 26), date(2026, 11, 22))
    assert Period.covering(date(2026, 11, 20), date(2026, 10, 28), today) == chosen
    assert Period.covering(date(2026, 11, 20), None, today).last == date(2026, 11, 30)
    assert Period.covering(None, date(2026, 3, 4), today).first == date(2025, 12, 15)
    assert len(Period.covering(date(2000, 1, 1), None, today).weeks()) == 261


@pytest.mark.django_db
def test_weekly_counts_medians_breaches_and_ratings(weeks_data):
    period = Period.covering(date(2026, 10, 28), date(2026, 11, 20), date(2026, 12, 4))
    weeks, total = report_queries.service_weeks(period)
    assert [row.start for row in weeks] == [W45 - timedelta(weeks=1), W45, W46, W47]
    found = by_week(weeks)
    w44, w45, w46, w47 = (found[day] for day in sorted(found))
    assert (w44.opened, w44.first_response_hours) == (1, 0.5)
    assert w45.opened == 3
    assert w45.first_response_hours == 2.0  # median of 1, 2 and 10 hours
    assert w45.first_response_breached == 1
    assert (w45.resolved, w45.resolution_hours, w45.resolution_breached) == (1, 4, 0)
    assert (w45.rated_good, w45.rated_bad, w45.good_share) == (2, 1, 66.7)
    assert (w46.opened, w46.first_response_hours) == (1, None)
    assert w46.resolved == 2
    assert w46.resolution_hours == 10.0  # median of 5 and 15 hours
    assert w46.resolution_breached == 1
    assert (w46.rated_good, w46.rated_bad, w46.good_share) == (0, 1, 0.0)
    assert (w47.opened, w47.resolved, w47.good_share) == (0, 0, None)
    assert total.is_total and total.start is None
    assert (total.opened, total.resolved) == (5, 3)
    # Medians over the whole period, not medians of the weeks' medians.
    assert total.first_response_hours == 1.5  # of 0.5, 1, 2, 10 hours
    assert total.resolution_hours == 5.0  # of 4, 5, 15 hours
    assert (total.first_response_breached, total.resolution_breached) == (1, 1)
    assert (total.rated_good, total.rated_bad, total.good_share) == (2, 2, 50.0)


@pytest.mark.django_db
def test_weeks_end_on_sunday_midnight_in_berlin(customer, settings):
    settings.TIME_ZONE = "UTC"  # the business time zone decides, not the site's
    sunday = W45 + timedelta(days=6)
    late_sunday = make_ticket(customer, berlin(sunday, 23, 30))
    # 00:30 on Monday in Berlin is still Sunday in UTC (23:30).
    early_monday = make_ticket(customer, berlin(W46, 0, 30))
    assert early_monday.created_at.astimezone(ZoneInfo("UTC")).weekday() == 6
    summer = date(2026, 3, 29)  # the Sunday the clocks go forward
    make_ticket(customer, datetime(2026, 3, 29, 23, 59, tzinfo=BERLIN))
    period = Period.covering(W45, W46, date(2026, 12, 4))
    found = by_week(report_queries.service_weeks(period)[0])
    assert (found[W45].opened, found[W46].opened) == (1, 1)
    assert late_sunday.created_at < berlin(W46, 0, 0)
    spring = Period.covering(summer, summer + timedelta(days=1), date(2026, 12, 4))
    found = by_week(report_queries.service_weeks(spring)[0])
    assert found[summer - timedelta(days=6)].opened == 1
    assert found[summer + timedelta(days=1)].opened == 0


@pytest.mark.django_db
def test_the_median_is_computed_in_the_database(customer):
    """Even counts interpolate (PostgreSQL's percentile_cont, the SQLite
    aggregate alike); missing minutes do not count."""
    for minutes in (10, 20, 30, 1000, None):
        make_ticket(customer, berlin(W45), first_response_minutes=minutes)
    medians = Ticket.objects.aggregate(
        all=report_queries.Median("first_response_minutes"),
        below=report_queries.Median(
            "first_response_minutes", filter=Q(first_response_minutes__lt=100)
        ),
    )
    assert medians == {"all": 25.0, "below": 20.0}
    assert Ticket.objects.none().aggregate(
        m=report_queries.Median("first_response_minutes")
    ) == {"m": None}


# --- The page -------------------------------------------------------------------


@pytest.mark.django_db
def test_the_report_shows_weeks_totals_and_the_chart(client, superuser, weeks_data):
    client.force_login(superuser)
    with translation.override("en"):
        response = client.get(url(SERVICE, **PERIOD))
    assert response.status_code == 200
    html = response.content.decode()
    rows = table_rows(html)
    assert [row[0] for row in rows] == [
        "W44/2026",
        "W45/2026",
        "W46/2026",
        "W47/2026",
        "Total",
    ]
    assert rows[1] == ["W45/2026", "3", "1", "2.0", "4.0", "1", "0", "2", "1", "67 %"]
    assert rows[3] == ["W47/2026", "0", "0", "–", "–", "0", "0", "0", "0", "–"]
    assert rows[4] == ["Total", "5", "3", "1.5", "5.0", "1", "1", "2", "2", "50 %"]
    assert 'class="vd-report-total"' in html
    chart = html.index('<svg class="vd-report-chart__svg"')
    svg = html[chart : html.index("</svg>", chart)]
    assert 'role="img"' in svg and "<title" in svg and "<desc" in svg
    assert svg.count('class="vd-chart-bar"') == 4
    assert "style=" not in svg
    assert "Tickets opened and resolved per week" in svg
    assert "css/reports.css" in html


@pytest.mark.django_db
def test_the_period_filter_limits_the_weeks(client, superuser, weeks_data):
    client.force_login(superuser)
    with translation.override("en"):
        html = client.get(
            url(SERVICE_RESULTS, period_from="2026-11-09", period_to="2026-11-09")
        ).content.decode()
    rows = table_rows(html)
    assert [row[0] for row in rows] == ["W46/2026", "Total"]
    assert rows[1][1:3] == ["1", "2"]


@pytest.mark.django_db
def test_without_a_period_the_last_twelve_weeks_show(client, superuser, customer):
    make_ticket(customer, timezone.now() - timedelta(minutes=5))
    make_ticket(customer, timezone.now() - timedelta(weeks=12))  # too old
    client.force_login(superuser)
    with translation.override("en"):
        rows = table_rows(client.get(url(SERVICE)).content.decode())
    assert len(rows) == 13
    year, week, _day = timezone.localdate(timezone=BERLIN).isocalendar()
    assert rows[11][0] == f"W{week:02d}/{year}"
    assert rows[11][1] == "1"
    assert rows[12][:2] == ["Total", "1"]


@pytest.mark.django_db
def test_a_broken_period_falls_back_to_the_default(client, superuser, customer):
    client.force_login(superuser)
    response = client.get(url(SERVICE, period_from="soon", period_to="1.2.x"))
    assert response.status_code == 200
    assert len(table_rows(response.content.decode())) == 13


# --- The chart ---------------------------------------------------------------------


def test_round_axis_steps():
    assert [nice_step(n) for n in (0, 1, 4, 7, 10, 37, 180, 2400)] == [
        1,
        1,
        1,
        2,
        5,
        10,
        50,
        1000,
    ]


def test_the_chart_scales_to_the_largest_figure():
    weeks = [
        report_queries.WeekFigures(W45 + timedelta(weeks=n), opened=o, resolved=r)
        for n, (o, r) in enumerate([(10, 2), (0, 20), (5, 5)])
    ]
    chart = weekly_chart(weeks)
    assert [t.value for t in chart.ticks] == [0, 5, 10, 15, 20]
    assert chart.bars[1].height == 0
    assert chart.bars[1].line_y == chart.top  # 20 resolved: the top
    assert chart.bars[0].height == pytest.approx((chart.base - chart.top) / 2)
    assert len(chart.line_points.split()) == 3
    many = weekly_chart([report_queries.WeekFigures(W45)] * 52)
    assert sum(bar.label for bar in many.bars) <= 13
    assert many.bars[-1].label
