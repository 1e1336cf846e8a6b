"""What a manager's conditional extension and an advance into a dated phase are refused for: one line each, the same
for the service layer and the call workflow's validator."""

from __future__ import annotations

from datetime import datetime

from models.call import STEP_PREFIX, CallDefinition
from models.extensions import Extension
from models.instants import local
from models.messages import ExtendForRequest
from models.timetable import PhaseTime, Timetable


def extend_for_problem(call: CallDefinition, timetable: Timetable, now: datetime, req: ExtendForRequest) -> str | None:
    """Why the conditional extension `req` is refused at `now`, or None."""
    zone = call.zone
    if not req.closes:
        return "name at least one deadline to extend (a phase id, or step:<id>)"
    if not (req.category or req.cohort or req.recommender or req.unit or req.created_before):
        return ("name whom the extension is for (created before, category, cohort, recommender or unit); "
                "to extend for everyone, extend the phase without them")
    if req.created_before is not None and req.created_before.tzinfo is None:
        return f"created before: naive datetime {req.created_before.isoformat()}: give the offset, e.g. +08:00"
    known = {"category": [c.id for c in call.categories], "cohort": [c.id for c in call.cohorts],
             "recommender": [r.id for r in call.recommenders]}
    for kind, given in (("category", req.category), ("cohort", req.cohort), ("recommender", req.recommender)):
        if kind == "recommender" and not known[kind]:
            continue  # a call that names no recommending units: any unit's id selects
        unknown = [g for g in given if g not in known[kind]]
        if unknown:
            return f"{kind}: unknown {kind} {unknown[0]!r} (known: {', '.join(known[kind]) or 'none'})"
    phases = [p.id for p in timetable.phases]
    steps = [s.id for s in call.chain]
    for window, closes in req.closes.items():
        if window.startswith(STEP_PREFIX):
            if window.removeprefix(STEP_PREFIX) not in steps:
                return f"{window}: unknown step (steps: {', '.join(steps)})"
        elif window not in phases:
            return f"{window}: unknown phase (phases: {', '.join(phases)}, or step:<id> for a step)"
        if closes.tzinfo is None:
            return f"{window}: naive datetime {closes.isoformat()}: give the offset, e.g. +08:00"
        if closes <= now:
            return f"{window}: new deadline {local(zone, closes)} is not later than now ({local(zone, now)})"
        if window in phases:
            phase = timetable.get(window)
            if phase.closes is None:
                return f"{window}: the phase has no close yet to extend (it closes manually)"
            if closes <= phase.closes:
                return (f"{window}: new deadline {local(zone, closes)} is not later than the phase's close "
                        f"{local(zone, phase.closes)}")
    return None


def new_extension(req: ExtendForRequest, seq: int, at: datetime) -> Extension:
    return Extension(seq=seq, closes=dict(req.closes), actor_id=req.actor_id, role=req.role, at=at, reason=req.reason,
                     category=list(req.category), cohort=list(req.cohort), recommender=list(req.recommender),
                     unit=list(req.unit), created_before=req.created_before)


def unchanged_before(call: CallDefinition, timetable: Timetable, req: ExtendForRequest) -> list[str]:
    """The step deadlines the act leaves that now fall before the latest one it sets (said, not refused: the manager
    chose so)."""
    latest = max(req.closes.values())
    out = []
    for s in call.chain:
        key = STEP_PREFIX + s.id
        if key in req.closes or s.deadline is None or s.deadline.phase is None or s.deadline.phase in req.closes:
            continue
        closes = timetable.get(s.deadline.phase).closes
        if closes is not None and closes < latest:
            out.append(f"{key} ({s.name}) still closes {local(call.zone, closes)}, before the extended "
                       f"{local(call.zone, latest)}")
    return out


def advance_problem(call: CallDefinition, nxt: PhaseTime, now: datetime, until: datetime | None) -> str | None:
    """Why opening `nxt` now is refused for its dated close (passed, unless `until` extends it in the same act)."""
    zone = call.zone
    if until is not None:
        if until.tzinfo is None:
            return f"--until: naive datetime {until.isoformat()}: give the offset, e.g. +08:00"
        if until <= now:
            return f"--until {local(zone, until)} is not later than now ({local(zone, now)})"
        if nxt.closes is not None and until <= nxt.closes:
            return f"--until {local(zone, until)} is not later than {nxt.id}'s close {local(zone, nxt.closes)}"
        return None
    if nxt.closes_rule == "date" and nxt.closes is not None and nxt.closes <= now:
        return (f"cannot open {nxt.id} ({nxt.name}): its close {local(zone, nxt.closes)} has passed (now "
                f"{local(zone, now)}); extend it in the same act: phase advance --until NEW")
    return None
