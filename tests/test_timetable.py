"""Timetable boundaries: half-open windows, daily hours on working days, instants in any timezone."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from models.calendar import WorkingCalendar
from models.call import CallDefinition, load_call, parse_call
from models.holidays import build_calendar
from models.timetable import Hours, Timetable, within_hours

CALL_000 = next((Path(__file__).resolve().parent.parent / "calls").glob("000-*.yaml"))
SHANGHAI = ZoneInfo("Asia/Shanghai")
MS = timedelta(milliseconds=1)


def shanghai(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=SHANGHAI)


@pytest.fixture(scope="module")
def call() -> CallDefinition:
    return load_call(CALL_000)


@pytest.fixture(scope="module")
def calendar(call: CallDefinition) -> WorkingCalendar:
    return build_calendar(call)


@pytest.fixture
def table(call: CallDefinition, calendar: WorkingCalendar) -> Timetable:
    return Timetable.from_definition(call, calendar)


@pytest.fixture(scope="module")
def paper_hours(call: CallDefinition, calendar: WorkingCalendar) -> Hours:
    hours = Timetable.from_definition(call, calendar).get("paper").hours
    assert hours == Hours(time(8, 30), time(17, 30), working_days_only=True)
    return hours


def test_the_application_window_is_half_open(table: Timetable) -> None:
    opens, closes = shanghai(2025, 3, 5, 9, 30), shanghai(2025, 4, 7, 17, 0)
    assert (table.get("application").opens, table.get("application").closes) == (opens, closes)
    assert not table.is_open("application", opens - MS)
    assert table.is_open("application", opens)
    assert table.is_open("application", closes - MS)
    assert not table.is_open("application", closes)
    assert not table.is_open("application", closes + MS)


def test_a_phase_opening_with_the_previous_close_takes_over_at_that_instant(table: Timetable) -> None:
    handover = table.get("application").closes
    assert handover is not None and table.get("recommendation").opens == handover
    assert [table.is_open(p, handover - MS) for p in ("application", "recommendation")] == [True, False]
    assert [table.is_open(p, handover) for p in ("application", "recommendation")] == [False, True]


def test_a_manual_phase_is_open_from_when_it_is_opened_until_it_is_closed(
    table: Timetable, calendar: WorkingCalendar
) -> None:
    opened, closed = shanghai(2025, 5, 6, 9, 0), shanghai(2025, 6, 3, 12, 0)
    assert not table.is_open("formal_review", opened)
    table.mark_opened("formal_review", opened, calendar)
    assert not table.is_open("formal_review", opened - MS)
    assert table.is_open("formal_review", opened)
    assert table.is_open("formal_review", shanghai(2030, 1, 1))  # no close until someone closes it
    table.mark_closed("formal_review", closed, calendar)
    assert table.is_open("formal_review", closed - MS)
    assert not table.is_open("formal_review", closed)


def test_a_working_day_close_is_computed_when_the_phase_opens(table: Timetable, calendar: WorkingCalendar) -> None:
    assert table.get("publicity").closes is None
    table.mark_opened("publicity", shanghai(2025, 9, 26, 10, 0), calendar)
    # 5 working days across National Day: Sun 28 (make-up), 29, 30, Oct 9, Oct 10; ends 24:00 on the 10th
    closes = shanghai(2025, 10, 11)
    assert table.get("publicity").closes == closes
    assert table.is_open("publicity", closes - MS)
    assert not table.is_open("publicity", closes)


def test_instants_in_utc_are_the_same_instants(table: Timetable) -> None:
    closes_utc = datetime(2025, 4, 7, 9, 0, tzinfo=UTC)
    assert table.get("application").closes == closes_utc
    assert table.is_open("application", closes_utc - MS)
    assert not table.is_open("application", closes_utc)
    assert table.is_open("recommendation", closes_utc)


def test_a_call_file_written_in_utc_has_the_same_timetable(call: CallDefinition, calendar: WorkingCalendar) -> None:
    text = CALL_000.read_text(encoding="utf-8")
    utc_text = text.replace("2025-03-05T09:30:00+08:00", "2025-03-05T01:30:00Z").replace(
        "2025-04-07T17:00:00+08:00", "2025-04-07T09:00:00+00:00"
    )
    assert utc_text.count("Z\n") == 1 and "+00:00" in utc_text
    utc_table = Timetable.from_definition(parse_call(utc_text, "000 in UTC"), calendar)
    table = Timetable.from_definition(call, calendar)
    assert [(p.opens, p.closes) for p in utc_table.phases] == [(p.opens, p.closes) for p in table.phases]


@pytest.mark.parametrize(
    "now",
    [
        shanghai(2025, 4, 15, 8, 30),  # the first instant of the day's hours
        shanghai(2025, 4, 15, 17, 29, 59) + timedelta(milliseconds=999),  # the last millisecond
        shanghai(2025, 4, 27, 10, 0),  # Sunday, a make-up workday
        datetime(2025, 4, 15, 0, 30, tzinfo=UTC),  # 08:30 in Shanghai
    ],
    ids=["08:30:00", "17:29:59.999", "make-up-sunday", "utc-08:30-local"],
)
def test_inside_the_paper_hours(paper_hours: Hours, calendar: WorkingCalendar, now: datetime) -> None:
    assert within_hours(paper_hours, now, calendar, SHANGHAI) is None


@pytest.mark.parametrize(
    ("now", "reason"),
    [
        (shanghai(2025, 4, 15, 17, 30), "17:30:00 is outside the hours 08:30-17:30"),
        (shanghai(2025, 4, 15, 8, 29, 59) + timedelta(milliseconds=999), "08:29:59 is outside the hours 08:30-17:30"),
        (shanghai(2025, 4, 19, 10, 0), "2025-04-19 is not a working day"),  # Saturday
        (shanghai(2025, 5, 1, 10, 0), "2025-05-01 is not a working day"),  # Labour Day
        (datetime(2025, 4, 15, 9, 30, tzinfo=UTC), "17:30:00 is outside the hours 08:30-17:30"),
        (datetime(2025, 4, 18, 20, 0, tzinfo=UTC), "2025-04-19 is not a working day"),  # Friday in UTC
    ],
    ids=["17:30:00", "08:29:59.999", "saturday", "labour-day", "utc-17:30-local", "utc-friday-local-saturday"],
)
def test_outside_the_paper_hours(paper_hours: Hours, calendar: WorkingCalendar, now: datetime, reason: str) -> None:
    assert within_hours(paper_hours, now, calendar, SHANGHAI) == reason


def test_hours_not_limited_to_working_days_hold_on_a_holiday(calendar: WorkingCalendar) -> None:
    every_day = Hours(time(8, 30), time(17, 30), working_days_only=False)
    assert within_hours(every_day, shanghai(2025, 10, 1, 10, 0), calendar, SHANGHAI) is None
    assert within_hours(every_day, shanghai(2025, 10, 1, 18, 0), calendar, SHANGHAI) is not None


def test_a_timetable_shifted_by_weeks_keeps_its_boundaries(table: Timetable) -> None:
    moved = table.shifted(364)
    closes = shanghai(2026, 4, 6, 17, 0)  # a Monday, as 2025-04-07 was
    assert moved.get("application").closes == closes
    assert moved.is_open("application", closes - MS)
    assert not moved.is_open("application", closes)
    assert table.get("application").closes == shanghai(2025, 4, 7, 17, 0)
