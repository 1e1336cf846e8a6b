"""Builds a call's WorkingCalendar at load time, year by year: the call file's own list, else chinese-calendar, else an
imported State Council notice (calendars/YYYY.yaml); a year with none of them ends the calendar."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from importlib.metadata import version
from pathlib import Path

import chinese_calendar

from models.calendar import CalendarNotCovered, WorkingCalendar, YearSource
from models.calendar_files import CALENDARS, read_year
from models.call import CallDefinition

PACKAGE = f"chinese-calendar {version('chinese-calendar')}"


@dataclass(frozen=True)
class Break:
    """One festival's break as shown to people: every day off (weekends included) and its make-up workdays."""

    name: str
    days_off: list[date]
    workdays: list[date]


@dataclass(frozen=True)
class OfficialYear:
    source: YearSource
    holidays: list[date]  # Monday-Friday days off
    workdays: list[date]  # Saturday/Sunday make-up workdays
    breaks: list[Break]


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


def package_breaks(year: int) -> list[Break]:
    """The package's festivals of `year`, named as the notices name them (春节, 国庆节, …)."""
    names = {h.value: h.chinese for h in chinese_calendar.Holiday}
    start, end = date(year, 1, 1), date(year, 12, 31)
    by_name: dict[str, Break] = {}
    for day in (start + timedelta(days=i) for i in range((end - start).days + 1)):
        off, name = chinese_calendar.get_holiday_detail(day)
        if name is None:
            continue
        entry = by_name.setdefault(name, Break(names.get(name, name), [], []))
        (entry.days_off if off else entry.workdays).append(day)
    return sorted(by_name.values(), key=lambda b: min(b.days_off))


def year_data(year: int, imported: Path = CALENDARS) -> OfficialYear | None:
    """The official arrangement of `year`: chinese-calendar's, else the notice imported into `imported`, else None."""
    package = official_year(year)
    if package is not None:
        return OfficialYear(YearSource(year, "package", PACKAGE), *package, package_breaks(year))
    data = read_year(imported, year)
    if data is None:
        return None
    source = YearSource(year, "notice", f"{imported.name}/{year}.yaml: {data.label()}")
    breaks = [Break(f.name, f.days_off, f.workdays) for f in data.festivals]
    return OfficialYear(source, data.holidays(), data.workdays(), breaks)


def build_calendar(
    call: CallDefinition, extra_years: int = 1, as_of: date | None = None, imported: Path = CALENDARS
) -> WorkingCalendar:
    """Calendar covering the call's years, `extra_years` after and every later year the call file lists. An undated
    call (manual phases) runs from `as_of` (default today): its calendar starts no later than that year.

    Each year comes from the call file's list if it has one, else from chinese-calendar, else from a notice imported
    under `imported`. Coverage stops at the first year with none of them; a computation beyond it then fails with
    CalendarNotCovered instead of guessing weekends-only.
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
    years: list[YearSource] = []
    for year in range(first_year, last_year + 1):
        if year in own:
            holidays += own[year].holidays
            workdays += own[year].workdays
            years.append(YearSource(year, "call file", own[year].source))
            continue
        official = year_data(year, imported)
        if official is None:
            break
        holidays += official.holidays
        workdays += official.workdays
        years.append(official.source)
    if not years:
        raise CalendarNotCovered(
            f"call {call.id}: no official working-day data for {first_year} ({PACKAGE}, nothing imported under "
            f"{imported.name}/): import the State Council's notice for {first_year} (grantflow calendar import "
            f"NOTICE) or add its official holiday list to the call file (calendar: - year: {first_year} ...)"
        )
    return WorkingCalendar(
        first=date(first_year, 1, 1),
        last=date(years[-1].year, 12, 31),
        holidays=sorted(holidays),
        workdays=sorted(workdays),
        source=label(years),
        years=years,
    )


def label(years: list[YearSource]) -> str:
    """The calendar's sources in one line: the package once, then each imported or call-file year."""
    parts = [PACKAGE] if any(y.kind == "package" for y in years) else []
    parts += [f"imported {y.year}: {y.detail}" for y in years if y.kind == "notice"]
    parts += [f"call file {y.year}: {y.detail}" for y in years if y.kind == "call file"]
    return "; ".join(parts)


def whole_weeks(delta: timedelta) -> int:
    """Round a forward shift up to whole weeks, in days."""
    days = delta.days + (1 if delta - timedelta(days=delta.days) > timedelta(0) else 0)
    return -(-days // 7) * 7
