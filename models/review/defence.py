"""A defence's days, slots and deadlines from the call file and its working-day calendar: which days it sits, the
slots of a day, an application's materials deadline (N working days before its slot's day) and its panel's."""

from __future__ import annotations

import math
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from models.calendar import CalendarNotCovered, WorkingCalendar
from models.call import DefenceDef
from models.experts.defence import Slot


def workday(calendar: WorkingCalendar, day: date) -> bool:
    """The calendar's answer; weekdays stand in for a year it does not cover (never a stuck stage)."""
    try:
        return calendar.is_workday(day)
    except CalendarNotCovered:
        return day.weekday() < 5


def working_day_before(calendar: WorkingCalendar, day: date, n: int) -> date:
    """The n-th working day before `day` (`day` itself not counted; n = 0: `day`)."""
    counted = 0
    while counted < n:
        day -= timedelta(days=1)
        counted += workday(calendar, day)
    return day


def materials_due(defence: DefenceDef, calendar: WorkingCalendar, slot: Slot, zone: ZoneInfo) -> datetime:
    """The end (24:00) of the `materials_working_days`-th working day before the slot's day; with 0, the slot's start."""
    n = defence.materials_working_days
    if n == 0:
        return slot.starts
    last = working_day_before(calendar, slot.starts.astimezone(zone).date(), n)
    return datetime.combine(last + timedelta(days=1), time(0), tzinfo=zone)


def defence_days(defence: DefenceDef, calendar: WorkingCalendar, zone: ZoneInfo, opened: datetime,
                 hearings: int) -> list[date]:
    """The days the file lists, or enough consecutive working days (one more in reserve, for slots where no panel is
    free) from the first that leaves the applicants `materials_working_days` whole working days after the opening's
    day for their materials."""
    if defence.days:
        return list(defence.days)
    start = day = opened.astimezone(zone).date()
    while True:
        day += timedelta(days=1)
        if workday(calendar, day) and working_day_before(calendar, day, defence.materials_working_days) > start:
            break
    days = [day]
    while len(days) < math.ceil(hearings / defence.per_day()) + 1:
        day += timedelta(days=1)
        if workday(calendar, day):
            days.append(day)
    return days


def defence_slots(defence: DefenceDef, days: list[date], zone: ZoneInfo, opened: datetime,
                  closes: datetime | None) -> list[Slot]:
    """Every slot of those days that starts after the opening and ends by the phase's close."""
    length = timedelta(minutes=defence.slot_minutes)
    slots = [Slot(start + i * length, start + (i + 1) * length) for d in days
             for start in [datetime.combine(d, defence.day_start, tzinfo=zone)] for i in range(defence.per_day())]
    return [s for s in slots if s.starts >= opened and (closes is None or s.ends <= closes)]


def panel_due(slot: Slot, zone: ZoneInfo, closes: datetime | None) -> datetime:
    """When the panel's score sheets are due: the end of the slot's day, not after the phase's close."""
    end = datetime.combine(slot.starts.astimezone(zone).date() + timedelta(days=1), time(0), tzinfo=zone)
    return min(end, closes) if closes is not None and closes >= slot.ends else end
