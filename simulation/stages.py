"""What the simulated population needs of a call's own stages: who acts at a step by level, until when a phase's work
must be done where another window closes inside it, whether a counter is open, how many applications joined a batch."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from zoneinfo import ZoneInfo

from models.calendar import WorkingCalendar
from models.call import CallDefinition, StepDef
from models.call.levels import PERSON_PREFIX, level_people
from models.deadlines import submitted_at
from models.messages import ApplicationStatus
from models.timetable import PhaseTime, Timetable


def step_actor(call: CallDefinition, step: StepDef, recommender: str) -> str | None:
    """The unit that takes a step by level for an application of `recommender` (None: the role's usual actor)."""
    if step.level is None:
        return None
    return level_people(call, recommender).get(f"{PERSON_PREFIX}{step.level}")


def stage_for(call: CallDefinition, phase_id: str, category: str) -> bool:
    """Whether applications of `category` pass phase `phase_id` (a paper or defence phase may be for some only)."""
    only = call.phase(phase_id).categories
    return not only or category in only


def work_until(timetable: Timetable, p: PhaseTime, planned_end: datetime) -> datetime:
    """`planned_end`, or earlier where another window that overlaps `p` closes before it (a paper deadline inside
    the city's review window: the review of an application comes before its paper): half-way to that close."""
    if p.opens is None:
        return planned_end
    closes = [q.closes for q in timetable.phases if q.id != p.id and q.closes is not None and q.opens is not None
              and q.opens <= planned_end and p.opens < q.closes < planned_end]
    return min([planned_end, *(p.opens + (c - p.opens) / 2 for c in closes)])


def in_hours(calendar: WorkingCalendar, zone: ZoneInfo, p: PhaseTime, at: datetime) -> bool:
    """Whether `at` falls in the daily hours of phase `p` (a paper counter's)."""
    assert p.hours is not None
    local = at.astimezone(zone)
    workday = calendar.is_workday(local.date()) or not p.hours.working_days_only
    return workday and p.hours.start <= local.time() < p.hours.end


def batch_counts(call: CallDefinition, statuses: list[ApplicationStatus]) -> dict[str, int]:
    """Applications per review batch of a rolling intake, by their first submission (none: not submitted)."""
    if not call.intake.batches:
        return {}
    counts: Counter[str] = Counter()
    for st in statuses:
        at = submitted_at(st)
        batch = call.intake.batch_of(at) if at is not None else None
        counts[batch.id if batch else "none"] += 1
    return dict(sorted(counts.items()))
