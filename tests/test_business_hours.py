"""Business-hours arithmetic (``vivadesk_wagtail.business_hours``): weekends,
evenings, public holidays of the configured German state, daylight saving
time, and ``minutes_between`` as the inverse of ``add``."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from vivadesk_wagtail import business_hours
from vivadesk_wagtail.business_hours import add, is_open, minutes_between

BERLIN = ZoneInfo("Europe/Berlin")


def at(*args) -> datetime:
    """A wall-clock time in Berlin."""
    return datetime(*args, tzinfo=BERLIN)


def local(moment: datetime) -> datetime:
    return moment.astimezone(BERLIN).replace(tzinfo=None)


@pytest.fixture
def week(settings):
    """The defaults, set explicitly: Mon-Fri 8-17 in Berlin, Berlin's
    holidays."""

    def configure(**changes):
        settings.VIVADESK = {
            **settings.VIVADESK,
            "BUSINESS_TIMEZONE": "Europe/Berlin",
            "BUSINESS_DAYS": [0, 1, 2, 3, 4],
            "BUSINESS_HOURS": ["08:00", "17:00"],
            "HOLIDAYS_COUNTRY": "DE",
            "HOLIDAYS_SUBDIVISION": "BE",
            **changes,
        }

    configure()
    return configure


# --- within a day, evenings and weekends ---


def test_minutes_within_one_day(week):
    assert local(add(at(2026, 12, 1, 9, 0), 90)) == datetime(2026, 12, 1, 10, 30)
    assert minutes_between(at(2026, 12, 1, 9, 0), at(2026, 12, 1, 10, 30)) == 90


def test_a_due_time_at_closing_stays_on_that_day(week):
    assert local(add(at(2026, 12, 1, 8, 0), 9 * 60)) == datetime(2026, 12, 1, 17, 0)


def test_the_rest_carries_over_to_the_next_morning(week):
    # Tuesday 16:30 + 60 min: 30 today, 30 on Wednesday morning
    assert local(add(at(2026, 12, 1, 16, 30), 60)) == datetime(2026, 12, 2, 8, 30)


def test_an_evening_start_counts_from_the_next_opening(week):
    assert local(add(at(2026, 12, 1, 20, 15), 30)) == datetime(2026, 12, 2, 8, 30)
    assert local(add(at(2026, 12, 2, 6, 0), 30)) == datetime(2026, 12, 2, 8, 30)
    assert minutes_between(at(2026, 12, 1, 17, 0), at(2026, 12, 2, 8, 0)) == 0


def test_the_weekend_is_skipped(week):
    # Friday 4 December 2026, 16:00 + 2 h: 1 h on Friday, 1 h on Monday
    assert local(add(at(2026, 12, 4, 16, 0), 120)) == datetime(2026, 12, 7, 9, 0)
    assert local(add(at(2026, 12, 5, 11, 0), 10)) == datetime(2026, 12, 7, 8, 10)
    assert minutes_between(at(2026, 12, 4, 16, 0), at(2026, 12, 7, 9, 0)) == 120


def test_a_week_of_business_hours(week):
    start = at(2026, 11, 30, 8, 0)  # Monday
    assert local(add(start, 5 * 9 * 60)) == datetime(2026, 12, 4, 17, 0)
    assert minutes_between(start, at(2026, 12, 7, 8, 0)) == 5 * 9 * 60


def test_is_open(week):
    assert is_open(at(2026, 12, 1, 8, 0))
    assert is_open(at(2026, 12, 1, 16, 59))
    assert not is_open(at(2026, 12, 1, 17, 0))
    assert not is_open(at(2026, 12, 5, 10, 0))  # Saturday


def test_seconds_are_kept_and_whole_minutes_counted(week):
    start = at(2026, 12, 1, 9, 0, 30)
    assert local(add(start, 1)) == datetime(2026, 12, 1, 9, 1, 30)
    assert minutes_between(start, at(2026, 12, 1, 9, 2, 29)) == 1


def test_an_end_before_the_start_is_no_minutes(week):
    assert minutes_between(at(2026, 12, 1, 12, 0), at(2026, 12, 1, 9, 0)) == 0


# --- public holidays ---


def test_easter_monday_is_closed(week):
    # Maundy Thursday 2027 is 25 March; Good Friday 26, Easter Monday 29 March
    result = add(at(2027, 3, 25, 16, 0), 120)
    assert local(result) == datetime(2027, 3, 30, 9, 0)


def test_womens_day_is_a_holiday_in_berlin_only(week):
    # 8 March 2027 is a Monday: a holiday in Berlin, a working day in Hamburg
    friday = at(2027, 3, 5, 16, 30)
    assert local(add(friday, 60)) == datetime(2027, 3, 9, 8, 30)
    week(HOLIDAYS_SUBDIVISION="HH")
    assert local(add(friday, 60)) == datetime(2027, 3, 8, 8, 30)


def test_bavarian_holidays_follow_the_subdivision(week):
    # Epiphany (6 January 2027, a Wednesday) is a holiday in Bavaria only
    tuesday = at(2027, 1, 5, 16, 0)
    assert local(add(tuesday, 120)) == datetime(2027, 1, 6, 9, 0)
    week(HOLIDAYS_SUBDIVISION="BY")
    assert local(add(tuesday, 120)) == datetime(2027, 1, 7, 9, 0)
    # and so is Corpus Christi (27 May 2027, a Thursday)
    assert minutes_between(at(2027, 5, 26, 17, 0), at(2027, 5, 28, 8, 0)) == 0
    week(HOLIDAYS_SUBDIVISION="BE")
    assert minutes_between(at(2027, 5, 26, 17, 0), at(2027, 5, 28, 8, 0)) == 540


def test_nationwide_holidays_without_a_subdivision(week):
    week(HOLIDAYS_SUBDIVISION=None)
    # German Unity Day, Monday 3 October 2022
    assert minutes_between(at(2022, 10, 3, 0, 0), at(2022, 10, 4, 0, 0)) == 0
    # Women's Day is Berlin's own
    assert minutes_between(at(2027, 3, 8, 0, 0), at(2027, 3, 9, 0, 0)) == 540


def test_no_holidays_without_a_country(week):
    week(HOLIDAYS_COUNTRY=None)
    assert minutes_between(at(2026, 12, 25, 0, 0), at(2026, 12, 26, 0, 0)) == 540


def test_the_year_end_holidays(week):
    # Christmas Eve 2026 is a Thursday (a working day), 25 and 26 are closed,
    # 1 January 2027 (a Friday) too
    start = at(2026, 12, 24, 16, 0)
    assert local(add(start, 120)) == datetime(2026, 12, 28, 9, 0)
    assert local(add(at(2026, 12, 31, 16, 0), 120)) == datetime(2027, 1, 4, 9, 0)


# --- daylight saving time ---


def test_the_week_summer_time_begins(week):
    # Summer time begins on Sunday 29 March 2026: the opening stays at 08:00
    # Berlin time, 07:00 UTC before and 06:00 UTC after
    friday = at(2026, 3, 27, 16, 0)
    due = add(friday, 120)
    assert local(due) == datetime(2026, 3, 30, 9, 0)
    assert due == datetime(2026, 3, 30, 7, 0, tzinfo=UTC)
    assert minutes_between(friday, due) == 120
    assert minutes_between(at(2026, 3, 27, 8, 0), at(2026, 3, 31, 8, 0)) == 2 * 540


def test_the_week_summer_time_ends(week):
    # Winter time begins on Sunday 25 October 2026
    friday = at(2026, 10, 23, 16, 30)
    due = add(friday, 60)
    assert local(due) == datetime(2026, 10, 26, 8, 30)
    assert due == datetime(2026, 10, 26, 7, 30, tzinfo=UTC)
    assert minutes_between(friday, due) == 60


def test_hours_across_the_night_of_the_change(week):
    # a seven-day week open through the night of the change: the night loses
    # (spring) or gains (autumn) an hour of real time
    week(BUSINESS_DAYS=list(range(7)), BUSINESS_HOURS=["00:00", "23:59"])
    assert minutes_between(at(2026, 3, 29, 0, 0), at(2026, 3, 29, 23, 59)) == 1379
    assert minutes_between(at(2026, 10, 25, 0, 0), at(2026, 10, 25, 23, 59)) == 1499


def test_another_time_zone(week):
    week(
        BUSINESS_TIMEZONE="America/New_York",
        HOLIDAYS_COUNTRY="US",
        HOLIDAYS_SUBDIVISION=None,
    )
    new_york = ZoneInfo("America/New_York")
    start = datetime(2026, 12, 1, 16, 30, tzinfo=new_york)
    assert add(start, 60) == datetime(2026, 12, 2, 8, 30, tzinfo=new_york)


def test_an_input_in_utc_is_read_in_the_business_zone(week):
    # 06:30 UTC is 07:30 in Berlin in winter: before opening
    start = datetime(2026, 12, 1, 6, 30, tzinfo=UTC)
    assert local(add(start, 15)) == datetime(2026, 12, 1, 8, 15)


# --- settings, holidays cache ---


def test_other_days_and_hours(week):
    week(BUSINESS_DAYS=[5], BUSINESS_HOURS=["10:00", "12:00"])  # Saturdays 10-12
    assert local(add(at(2026, 12, 1, 9, 0), 150)) == datetime(2026, 12, 12, 10, 30)


def test_a_week_that_never_opens_is_refused(week):
    week(BUSINESS_DAYS=[])
    with pytest.raises(ValueError):
        add(at(2026, 12, 1, 9, 0), 1)
    week(BUSINESS_HOURS=["17:00", "08:00"])
    with pytest.raises(ValueError):
        add(at(2026, 12, 1, 9, 0), 1)


def test_holidays_are_read_once_per_year(week, monkeypatch):
    business_hours.public_holidays.cache_clear()
    calls = []
    original = business_hours.holidays.country_holidays

    def counting(*args, **kwargs):
        calls.append(kwargs["years"])
        return original(*args, **kwargs)

    monkeypatch.setattr(business_hours.holidays, "country_holidays", counting)
    for day in range(1, 28):
        minutes_between(at(2031, 2, day, 0, 0), at(2031, 3, day, 0, 0))
    assert calls == [2031]
    business_hours.public_holidays.cache_clear()


# --- properties over many random starts ---


def random_moments(count: int, seed: int):
    generator = random.Random(seed)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    for _ in range(count):
        offset = timedelta(minutes=generator.randrange(0, 2 * 366 * 24 * 60))
        yield start + offset, generator.randrange(0, 6000)


def test_minutes_between_is_the_inverse_of_add(week):
    for start, minutes in random_moments(400, seed=22):
        due = add(start, minutes)
        assert minutes_between(start, due) == minutes, (start, minutes)


def test_add_lands_inside_the_opening_hours(week):
    for start, minutes in random_moments(300, seed=23):
        due = add(start, minutes)
        assert due >= start
        opens = due.astimezone(BERLIN)
        assert opens.weekday() < 5
        assert (8, 0) <= (opens.hour, opens.minute) <= (17, 0), (start, minutes)
        if minutes:
            assert minutes_between(start, due - timedelta(minutes=1)) == minutes - 1


def test_minutes_add_up_over_a_split(week):
    generator = random.Random(24)
    for start, minutes in random_moments(200, seed=25):
        end = start + timedelta(minutes=minutes * 3)
        middle = start + (end - start) * generator.random()
        assert minutes_between(start, end) in (
            minutes_between(start, middle) + minutes_between(middle, end),
            minutes_between(start, middle) + minutes_between(middle, end) + 1,
        )


def test_adding_in_two_steps_is_adding_once(week):
    """(A second step of no minutes from closing time would roll on to the
    next opening, so the second step is never empty.)"""
    generator = random.Random(26)
    for start, minutes in random_moments(200, seed=27):
        if not minutes:
            continue
        first = generator.randrange(0, minutes)
        assert add(add(start, first), minutes - first) == add(start, minutes)
