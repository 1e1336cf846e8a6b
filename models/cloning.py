"""The next year's edition of a call: every instant moved by the whole weeks nearest a year (weekday and hour kept),
one that would land on a day off moved to the next working day and said so, and the rules' dates moved by the years."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from typing import Any

from models.calendar import CalendarNotCovered, WorkingCalendar
from models.call import CallDefinition

ISO_DATE = re.compile(r"\d{4}-\d\d-\d\d")
YEAR_KEYS = ("year",)  # integer rule parameters that name a calendar year ("since 2023": year: 2023)


def weeks_to_year(call: CallDefinition, year: int) -> int:
    """Days (whole weeks) that bring the call's first instant nearest its own month and day in `year`."""
    first = min(call.dated_instants()).astimezone(call.zone).date()
    target = date(year, first.month, min(first.day, 28 if first.month == 2 else first.day))
    return round((target - first).days / 7) * 7


def _instants(data: dict[str, Any]) -> list[tuple[str, dict[str, Any], str]]:
    """(field path, the mapping that holds it, its key) of every absolute instant of a call file's data."""
    out: list[tuple[str, dict[str, Any], str]] = []
    for p in data["phases"]:
        out += [(f"phases.{p['id']}.{edge}", p, edge) for edge in ("opens", "closes") if isinstance(p.get(edge), datetime)]
    for c in data["categories"]:
        out += [(f"categories.{c['id']}.closes.{w}", c["closes"], w) for w, v in c.get("closes", {}).items()
                if isinstance(v, datetime)]
    for i, o in enumerate(data.get("overrides", [])):
        out += [(f"overrides.{i}.closes.{w}", o["closes"], w) for w, v in o["closes"].items() if isinstance(v, datetime)]
    return out


def _workday(calendar: WorkingCalendar, day: date) -> bool | None:
    try:
        return calendar.is_workday(day)
    except CalendarNotCovered:
        return None


def keep_working_days(call: CallDefinition, data: dict[str, Any], days: int, old: WorkingCalendar,
                      new: WorkingCalendar) -> list[str]:
    """Move every instant of `data` (already moved by `days`) that left a working day for a day off to the next
    working day, same hour; one line for each. A day the new calendar does not cover raises CalendarNotCovered."""
    notes = []
    for path, holder, key in _instants(data):
        moved: datetime = holder[key]
        local = moved.astimezone(call.zone)
        was = _workday(old, (moved - timedelta(days=days)).astimezone(call.zone).date())
        if not was or new.is_workday(local.date()):
            continue
        day = local.date()
        while not new.is_workday(day):
            day += timedelta(days=1)
        holder[key] = datetime.combine(day, local.timetz())
        notes.append(f"{path}: {local.date()} is not a working day in {local.year} (a holiday or weekend); moved to "
                     f"{holder[key].isoformat()}, the next working day, as "
                     f"{(moved - timedelta(days=days)).astimezone(call.zone).date()} was one")
    return notes


def move_rule_dates(data: dict[str, Any], years: int) -> list[str]:
    """Move every date in the rules' parameters and the attachments' conditions, and every `year`, by `years`; one
    line for each (a birth cut-off or "since 2023" follows the edition; the new notice may say otherwise)."""
    notes: list[str] = []

    def walk(node: Any, path: str) -> Any:
        if isinstance(node, dict):
            return {k: (node[k] + years if k in YEAR_KEYS and isinstance(node[k], int) and not isinstance(node[k], bool)
                        and _noted(notes, f"{path}.{k}", node[k], node[k] + years) else walk(node[k], f"{path}.{k}"))
                    for k in node}
        if isinstance(node, list):
            return [walk(v, f"{path}.{i}") for i, v in enumerate(node)]
        if isinstance(node, str) and ISO_DATE.fullmatch(node):
            return _add_years(date.fromisoformat(node), years).isoformat() if _noted(
                notes, path, node, _add_years(date.fromisoformat(node), years)) else node
        if isinstance(node, date) and not isinstance(node, datetime):
            moved = _add_years(node, years)
            _noted(notes, path, node, moved)
            return moved
        return node

    data["rules"] = [{**r, "params": walk(r.get("params", {}), f"rules.{r['id']}.params")} for r in data["rules"]]
    data["attachments"] = [walk(a, f"attachments.{a['kind']}") for a in data["attachments"]]
    return notes


def _noted(notes: list[str], path: str, before: object, after: object) -> bool:
    notes.append(f"{path}: {before} moved to {after} (check the new notice)")
    return True


def _add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)
