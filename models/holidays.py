"""Builds a call's WorkingCalendar at load time from chinese-calendar and the call's own year lists."""

from __future__ import annotations

from datetime import date, timedelta
from importlib.metadata import version

import chinese_calendar

from models.calendar import CalendarNotCovered, WorkingCalendar
from models.call import CallDefinition


def official_year(year: int) -> tuple[list[date], list[date]] | None:
    """Weekday holidays and weekend make-up workdays of `year`, or None when the package lacks that year."""
    start, end = date(year, 1, 1), date(year, 12, 31)
    try:
        chinese_calendar.is_workday(start)
    except NotImplementedError:
        return None
    holidays = [d for d in chinese_calendar.get_holidays(start, end, include_weekends=False)]
    workdays = [d for d in chinese_calendar.get_workdays(start, end, include_weekends=True) if d.weekday() >= 5]
    return holidays, workdays


def build_calendar(call: CallDefinition, extra_years: int = 1, as_of: date | None = None) -> WorkingCalendar:
    """Calendar covering the call's years, `extra_years` after and every later year the call file lists. An undated
    call (manual phases) runs from `as_of` (default today): its calendar starts no later than that year.

    Coverage stops at the first year with neither chinese-calendar data nor a list in the call file;
    a computation beyond it then fails with CalendarNotCovered instead of guessing weekends-only.
    """
    instants = call.dated_instants()
    if instants:
        first_year = min(i.astimezone(call.zone).year for i in instants)
        last_year = max(i.astimezone(call.zone).year for i in instants) + extra_years
    else:
        start = (as_of or date.today()).year
        first_year = min(call.issued.year if call.issued else start, start)
        last_year = start + extra_years
    own = {y.year: y for y in call.calendar}
    last_year = max([last_year, *own])
    holidays: list[date] = []
    workdays: list[date] = []
    sources: list[str] = []
    covered_to: int | None = None
    for year in range(first_year, last_year + 1):
        if year in own:
            holidays += own[year].holidays
            workdays += own[year].workdays
            sources.append(f"{year}: {own[year].source}")
        else:
            official = official_year(year)
            if official is None:
                break
            holidays += official[0]
            workdays += official[1]
        covered_to = year
    if covered_to is None:
        raise CalendarNotCovered(
            f"call {call.id}: no official working-day data for {first_year} "
            f"(chinese-calendar {version('chinese-calendar')}): add the official holiday list for {first_year} "
            f"to the call file (calendar: - year: {first_year} ...)"
        )
    label = f"chinese-calendar {version('chinese-calendar')}"
    if sources:
        label += "; call file " + ", ".join(sources)
    return WorkingCalendar(
        first=date(first_year, 1, 1),
        last=date(covered_to, 12, 31),
        holidays=sorted(holidays),
        workdays=sorted(workdays),
        source=label,
    )


def whole_weeks(delta: timedelta) -> int:
    """Round a forward shift up to whole weeks, in days."""
    days = delta.days + (1 if delta - timedelta(days=delta.days) > timedelta(0) else 0)
    return -(-days // 7) * 7
