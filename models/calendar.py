"""Working-day calendar as data: built once from chinese-calendar, imported notices and a call's own lists, then
pure lookups.

Workflows receive a `WorkingCalendar` in their input, so a calendar-package upgrade never changes a replay.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import cached_property
from zoneinfo import ZoneInfo


class CalendarNotCovered(Exception):
    """A working-day computation reached a date the calendar has no official data for."""


@dataclass(frozen=True)
class YearSource:
    """Where one year of a calendar came from: the package, an imported notice file, or the call file."""

    year: int
    kind: str  # "package", "notice" or "call file"
    detail: str  # "chinese-calendar 1.11.0", "calendars/2027.yaml: 《…》 (…)", the call file's own source text


@dataclass(frozen=True)
class WorkingCalendar:
    first: date
    last: date
    holidays: list[date] = field(default_factory=list)  # Monday-Friday days off (statutory holidays)
    workdays: list[date] = field(default_factory=list)  # Saturday/Sunday make-up workdays (调休)
    source: str = ""
    years: list[YearSource] = field(default_factory=list)

    @cached_property
    def _holidays(self) -> frozenset[date]:
        return frozenset(self.holidays)

    @cached_property
    def _workdays(self) -> frozenset[date]:
        return frozenset(self.workdays)

    def covers(self, day: date) -> bool:
        return self.first <= day <= self.last

    def is_workday(self, day: date) -> bool:
        if not self.covers(day):
            raise CalendarNotCovered(
                f"the working-day calendar ({self.source}) covers {self.first} to {self.last}; "
                f"{day} is outside it: import the State Council's notice for {day.year} "
                f"(grantflow calendar import NOTICE) or add its official holiday list to the call file "
                f"(calendar: - year: {day.year} ...)"
            )
        if day in self._workdays:
            return True
        return day.weekday() < 5 and day not in self._holidays

    def add_working_days(self, start: date, n: int) -> date:
        """The n-th working day after `start` (start itself not counted)."""
        day, counted = start, 0
        while counted < n:
            day += timedelta(days=1)
            if self.is_workday(day):
                counted += 1
        return day

    def end_after_working_days(self, instant: datetime, n: int, zone: ZoneInfo) -> datetime:
        """Deadline for "within n working days" of `instant`: the end (24:00) of the n-th working day after it."""
        last = self.add_working_days(instant.astimezone(zone).date(), n)
        return datetime.combine(last + timedelta(days=1), time(0), tzinfo=zone)

    def shifted(self, days: int) -> WorkingCalendar:
        """The same calendar translated by whole weeks (weekdays preserved), for rehearsals and simulation."""
        if days % 7:
            raise ValueError("a calendar can only be translated by whole weeks")
        d = timedelta(days=days)
        return WorkingCalendar(
            first=self.first + d,
            last=self.last + d,
            holidays=[x + d for x in self.holidays],
            workdays=[x + d for x in self.workdays],
            source=f"{self.source}, translated by {days} days",
            years=self.years,
        )
