"""Preparing a call for Temporal: its definition with the calendar and timetable it runs on, moved in time for a
rehearsal. Nothing here talks to Temporal, so reading a call file (`grantflow calls show FILE`) does not load it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from models.call import CallDefinition
from models.holidays import build_calendar, whole_weeks
from models.messages import CallInput
from models.timetable import Timetable


def _shift(node: Any, delta: timedelta) -> Any:
    if isinstance(node, datetime):
        return node + delta
    if isinstance(node, dict):
        return {k: _shift(v, delta) for k, v in node.items()}
    if isinstance(node, list):
        return [_shift(v, delta) for v in node]
    return node


def translate(call: CallDefinition, days: int) -> CallDefinition:
    """The same call moved by whole weeks: wall-clock times and weekdays stay, as a rehearsal of it."""
    if days % 7:
        raise ValueError("a call can only be translated by whole weeks")
    data = _shift(call.model_dump(), timedelta(days=days))
    data["calendar"] = []  # the translated call carries its translated calendar (see prepare)
    return CallDefinition.model_validate(data)


@dataclass
class Prepared:
    definition: CallDefinition
    input: CallInput
    shift_days: int

    @property
    def timetable(self) -> Timetable:
        return self.input.timetable


def open_now_shift(call: CallDefinition, at: datetime) -> int | None:
    """Whole weeks that put `at` inside the call's first window, for a rehearsal that is open at once: 0 when the
    window has not closed yet, None when it has no dated opening and close or is too short for a whole week to land
    in it."""
    first = call.phases[0]
    if not (isinstance(first.opens, datetime) and isinstance(first.closes, datetime)):
        return None
    if at < first.closes:
        return 0
    days = (at - first.opens).days // 7 * 7
    return days if first.opens + timedelta(days=days) <= at < first.closes + timedelta(days=days) else None


def prepare(call: CallDefinition, not_before: datetime | None = None, open_at: datetime | None = None) -> Prepared:
    """Calendar and timetable for `call`; with `not_before`, translated so its first instant falls after it; with
    `open_at`, so that its first window is open at that instant (or, when no whole week lands there, after it)."""
    days = open_now_shift(call, open_at) if open_at is not None else None
    if open_at is not None and days is None:
        not_before = open_at
    anchor = open_at or not_before
    calendar = build_calendar(call, as_of=anchor.astimezone(call.zone).date() if anchor else None)
    if days is None:
        days = 0
        instants = call.dated_instants()
        if not_before is not None and instants and min(instants) <= not_before:
            days = whole_weeks(not_before - min(instants) + timedelta(days=1))
    if days:
        call, calendar = translate(call, days), calendar.shifted(days)
    return Prepared(call, CallInput(call, calendar, Timetable.from_definition(call, calendar)), days)
