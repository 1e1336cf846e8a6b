"""Working days as built for real calls: statutory holidays, make-up workdays, "N working days", coverage, translation."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import chinese_calendar
import pytest

from models.calendar import CalendarNotCovered, WorkingCalendar
from models.call import CallDefinition, load_call, parse_call
from models.holidays import build_calendar, whole_weeks

CALLS = Path(__file__).resolve().parent.parent / "calls"
SHANGHAI = ZoneInfo("Asia/Shanghai")
CALENDAR_2027 = """
calendar:
  - year: 2027
    source: test list, not the official 2027 arrangement
    holidays: [2027-01-01]
    workdays: [2027-01-09]
"""


def seed_text(number: str) -> str:
    return next(CALLS.glob(f"{number}-*.yaml")).read_text(encoding="utf-8")


def seed(number: str) -> CallDefinition:
    return load_call(next(CALLS.glob(f"{number}-*.yaml")))


def days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def shanghai(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=SHANGHAI)


@pytest.fixture(scope="module")
def calendar() -> WorkingCalendar:
    """The calendar of call 000 (dated 2025): 2025 and the year after."""
    return build_calendar(seed("000"))


def test_a_dated_call_gets_its_years_and_the_next(calendar: WorkingCalendar) -> None:
    assert (calendar.first, calendar.last) == (date(2025, 1, 1), date(2026, 12, 31))
    assert calendar.source == "chinese-calendar 1.11.0"


def test_every_covered_day_agrees_with_chinese_calendar(calendar: WorkingCalendar) -> None:
    for day in days(calendar.first, calendar.last):
        assert calendar.is_workday(day) == chinese_calendar.is_workday(day), day


def test_national_day_2025(calendar: WorkingCalendar) -> None:
    assert not any(calendar.is_workday(d) for d in days(date(2025, 10, 1), date(2025, 10, 8)))
    assert calendar.is_workday(date(2025, 9, 28))  # Sunday, make-up workday
    assert calendar.is_workday(date(2025, 10, 11))  # Saturday, make-up workday
    assert not calendar.is_workday(date(2025, 9, 27))  # an ordinary Saturday
    assert not calendar.is_workday(date(2025, 10, 12))  # an ordinary Sunday
    assert calendar.is_workday(date(2025, 9, 30)) and calendar.is_workday(date(2025, 10, 9))


def test_spring_festival_2026(calendar: WorkingCalendar) -> None:
    festival = days(date(2026, 2, 15), date(2026, 2, 23))
    assert festival == [d for d in festival if chinese_calendar.is_holiday(d)]
    assert not any(calendar.is_workday(d) for d in festival)
    assert calendar.is_workday(date(2026, 2, 14))  # Saturday, make-up workday
    assert calendar.is_workday(date(2026, 2, 28))  # Saturday, make-up workday
    assert calendar.is_workday(date(2026, 2, 13)) and calendar.is_workday(date(2026, 2, 24))
    assert not calendar.is_workday(date(2026, 3, 1))  # an ordinary Sunday


@pytest.mark.parametrize(
    ("start", "n", "ends"),
    [
        # 004's agency check (5 working days) just before the Spring Festival: Fri 13, Sat 14 (make-up), 24, 25, 26
        (shanghai(2026, 2, 12, 10, 0), 5, shanghai(2026, 2, 27)),
        # across the make-up Saturday after it: 26, 27, Sat 28, Mar 2, Mar 3
        (shanghai(2026, 2, 25, 16, 0), 5, shanghai(2026, 3, 4)),
        # across National Day 2025: Sun 28 (make-up), 29, 30, Oct 9, Oct 10
        (shanghai(2025, 9, 26, 15, 0), 5, shanghai(2025, 10, 11)),
        # 004's signature confirmation (3 working days) after it: Fri 10, Sat 11 (make-up), Mon 13
        (shanghai(2025, 10, 9, 9, 0), 3, shanghai(2025, 10, 14)),
        # starting on a holiday: the start day is not counted either way
        (shanghai(2025, 10, 3, 12, 0), 5, shanghai(2025, 10, 15)),
        # a start just before midnight counts from its own day
        (shanghai(2025, 11, 3, 23, 59, 59), 1, shanghai(2025, 11, 5)),
    ],
)
def test_n_working_days_end_at_midnight_after_the_nth(
    calendar: WorkingCalendar, start: datetime, n: int, ends: datetime
) -> None:
    assert calendar.end_after_working_days(start, n, SHANGHAI) == ends


def test_the_agency_check_is_the_one_004_declares(calendar: WorkingCalendar) -> None:
    deadline = seed("004").step("agency_check").deadline
    assert deadline is not None and deadline.working_days == 5
    assert calendar.end_after_working_days(shanghai(2026, 2, 12, 10, 0), deadline.working_days, SHANGHAI) == shanghai(
        2026, 2, 27
    )


def test_the_start_day_is_the_one_in_the_calls_timezone(calendar: WorkingCalendar) -> None:
    thursday_night = datetime(2026, 2, 12, 15, 30, tzinfo=UTC)  # 23:30 Thursday in Shanghai
    friday_early = datetime(2026, 2, 12, 16, 30, tzinfo=UTC)  # 00:30 Friday in Shanghai, still Thursday in UTC
    assert calendar.end_after_working_days(thursday_night, 5, SHANGHAI) == shanghai(2026, 2, 27)
    assert calendar.end_after_working_days(friday_early, 5, SHANGHAI) == shanghai(2026, 2, 28)


def test_a_deadline_at_the_first_instant_of_2027_needs_no_2027_data(calendar: WorkingCalendar) -> None:
    # Fri 25, Mon 28, 29, 30, Thu 31: ends 24:00 on 31 December
    assert calendar.end_after_working_days(shanghai(2026, 12, 24, 10, 0), 5, SHANGHAI) == shanghai(2027, 1, 1)


def test_a_computation_reaching_2027_is_refused_naming_the_year(calendar: WorkingCalendar) -> None:
    with pytest.raises(CalendarNotCovered, match="2027") as raised:
        calendar.end_after_working_days(shanghai(2026, 12, 28, 10, 0), 5, SHANGHAI)
    assert "year: 2027" in str(raised.value)
    with pytest.raises(CalendarNotCovered, match="2027"):
        calendar.is_workday(date(2027, 1, 4))


def test_a_call_dated_in_2027_is_refused_naming_the_year(tmp_path: Path) -> None:
    call = parse_call(seed_text("000").replace("2025-", "2027-"), "000 in 2027")
    with pytest.raises(CalendarNotCovered, match="2027"):
        build_calendar(call, imported=tmp_path)  # nothing imported (calendars/ may hold 2027 one day)


def test_a_call_file_shipping_2027_makes_it_computable() -> None:
    calendar = build_calendar(parse_call(seed_text("000") + CALENDAR_2027, "000 with 2027"))
    assert calendar.last == date(2027, 12, 31)
    assert "call file 2027: test list" in calendar.source
    # Tue 29, Wed 30, Thu 31, (Fri 1 January off), Mon 4, Tue 5
    assert calendar.end_after_working_days(shanghai(2026, 12, 28, 10, 0), 5, SHANGHAI) == shanghai(2027, 1, 6)
    # Fri 8, Sat 9 (the list's make-up workday), Mon 11, 12, 13
    assert calendar.end_after_working_days(shanghai(2027, 1, 7, 10, 0), 5, SHANGHAI) == shanghai(2027, 1, 14)
    with pytest.raises(CalendarNotCovered, match="2028"):
        calendar.is_workday(date(2028, 1, 3))


def test_a_call_dated_in_2027_with_its_list_is_computable() -> None:
    call = parse_call(seed_text("000").replace("2025-", "2027-") + CALENDAR_2027, "000 in 2027 with its list")
    calendar = build_calendar(call)
    assert (calendar.first, calendar.last) == (date(2027, 1, 1), date(2027, 12, 31))
    assert not calendar.is_workday(date(2027, 1, 1))
    assert calendar.is_workday(date(2027, 1, 9))


def test_shifted_by_whole_weeks_keeps_weekdays_and_moves_holidays(calendar: WorkingCalendar) -> None:
    year = timedelta(days=364)
    moved = calendar.shifted(364)
    assert (moved.first, moved.last) == (calendar.first + year, calendar.last + year)
    for day in days(date(2025, 1, 1), date(2025, 12, 31)):
        assert moved.is_workday(day + year) == calendar.is_workday(day), day
    assert moved.is_workday(date(2026, 9, 27))  # 2025-09-28, a make-up Sunday, a year of weeks later
    assert all(d.weekday() >= 5 for d in moved.workdays)
    start = shanghai(2025, 9, 26, 15, 0)
    assert moved.end_after_working_days(start + year, 5, SHANGHAI) == calendar.end_after_working_days(
        start, 5, SHANGHAI
    ) + year
    assert calendar.shifted(-7).is_workday(date(2025, 10, 4))  # 2025-10-11, a make-up Saturday, a week earlier


@pytest.mark.parametrize("days_", [1, 6, 365, -3])
def test_shifted_refuses_anything_but_whole_weeks(calendar: WorkingCalendar, days_: int) -> None:
    with pytest.raises(ValueError, match="whole weeks"):
        calendar.shifted(days_)


@pytest.mark.parametrize(
    ("delta", "weeks_in_days"),
    [(timedelta(0), 0), (timedelta(seconds=1), 7), (timedelta(days=7), 7), (timedelta(days=7, seconds=1), 14)],
)
def test_a_forward_shift_rounds_up_to_whole_weeks(delta: timedelta, weeks_in_days: int) -> None:
    assert whole_weeks(delta) == weeks_in_days


def test_an_undated_call_runs_from_its_date_and_is_refused_in_an_uncovered_year(tmp_path: Path) -> None:
    undated = seed("004")
    assert not undated.dated_instants()
    calendar = build_calendar(undated, as_of=date(2026, 3, 2))
    assert (calendar.first, calendar.last) == (date(2026, 1, 1), date(2026, 12, 31))
    with pytest.raises(CalendarNotCovered, match="2027"):
        build_calendar(undated, as_of=date(2027, 3, 1), imported=tmp_path)
    shipped = build_calendar(parse_call(seed_text("004") + CALENDAR_2027, "004 with 2027"), as_of=date(2027, 3, 1))
    assert (shipped.first, shipped.last) == (date(2027, 1, 1), date(2027, 12, 31))
