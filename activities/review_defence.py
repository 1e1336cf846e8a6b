"""Scheduling a defence stage: the applications that reached it in their hearing order, the days and slots, the
panels from the pool (a seed of its own, recorded with every pair), each application's materials deadline; a
declined panel seat filled by a free expert without a conflict."""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select
from temporalio import activity

from activities.review_draw import ReviewDrawActivities, policy_of
from models.calendar import WorkingCalendar
from models.call import CallDefinition
from models.experts import snapshot_hash
from models.experts.defence import Seat, Slot, fill_seat, schedule
from models.review.defence import defence_days, defence_slots, materials_due, panel_due
from models.review.messages import DefenceSlot, Drawn, Pair
from models.review.profile import ReviewProfile
from records.engine import writing
from records.review_tables import AssignmentRow, RankingRow
from records.tables import ApplicationRow


@dataclass
class ScheduleInput:
    call: CallDefinition
    calendar: WorkingCalendar
    phase_id: str
    opened: datetime
    closes: datetime | None
    states: list[str]
    previous: str | None = None  # the previous stage's workflow id: its outcomes come first
    previous_phase: str | None = None  # its phase: its scores order the hearings


@dataclass
class Seated:
    """An expert's seat on the panel of one hearing."""

    application_id: str
    expert_id: str
    starts: datetime
    ends: datetime


@dataclass
class Declined:
    """A seat its expert declined: why, every expert who held a seat on that panel, when its score sheets are due."""

    seat: Seated
    reason: str
    held: list[str]
    due: datetime


@dataclass
class SeatInput:
    """The panel seats vacated at one instant, filled in order (each seeing the seats the one before filled), with
    the seats held now and what the defence was scheduled from (its slots are computed again, as they were)."""

    call: CallDefinition
    calendar: WorkingCalendar
    phase_id: str
    opened: datetime
    closes: datetime | None
    hearings: int  # the applications the schedule placed or left out: its days depend on how many
    vacated: list[Declined]
    seats: list[Seated]


def hearing_order(call: CallDefinition, profiles: list[ReviewProfile], scores: dict[str, float | None],
                  by: str) -> list[ReviewProfile]:
    """`category`: the call's categories in their order, each best score first; `rank`: best score first across
    them. Ties (and a first stage, with no scores) by application id."""
    place = {c.id: i for i, c in enumerate(call.categories)}

    def key(p: ReviewProfile) -> tuple[int, float, str]:
        score = scores.get(p.application_id)
        return (place.get(p.category, len(place)) if by == "category" else 0,
                -score if score is not None else 0.0, p.application_id)
    return sorted(profiles, key=key)


class ReviewDefenceActivities:
    def __init__(self, draws: ReviewDrawActivities) -> None:
        self.draws = draws
        self.engine = draws.engine

    @activity.defn
    async def schedule_defence(self, inp: ScheduleInput) -> Drawn:
        """Schedule the hearings and draw their panels; scheduled again (a retry), the recorded seed gives the same
        schedule and rewrites the same rows."""
        if inp.previous:
            await self.draws._after(inp.previous)
        return await asyncio.to_thread(self._schedule, inp)

    def _context(self, inp: ScheduleInput, ids: list[str]) -> tuple[dict[str, float | None], dict[str, str], int]:
        """The previous stage's scores, each application's applicant, and the seed already recorded (or a new one)."""
        with Session(self.engine) as s:
            scores = {r.application_id: r.score for r in s.exec(select(RankingRow).where(
                RankingRow.call_id == inp.call.id, RankingRow.stage == (inp.previous_phase or "")))}
            applicants = {a.id: a.applicant for a in s.exec(select(ApplicationRow).where(col(ApplicationRow.id).in_(ids)))}
            done = s.exec(select(AssignmentRow.seed).where(AssignmentRow.call_id == inp.call.id,
                                                           AssignmentRow.stage == inp.phase_id)).first()
        return scores, applicants, done if done is not None else secrets.randbelow(2 ** 31)

    def _schedule(self, inp: ScheduleInput) -> Drawn:
        assert inp.call.review is not None
        defence = inp.call.review.stage(inp.phase_id).defence
        assert defence is not None
        zone = inp.call.zone
        only = inp.call.phase(inp.phase_id).categories  # a defence for some categories: the others go past it
        profiles = [p for p in self.draws.profiles(inp.call.id, inp.states) if not only or p.category in only]
        scores, applicants, seed = self._context(inp, [p.application_id for p in profiles])
        ordered = hearing_order(inp.call, profiles, scores, defence.order)
        days = defence_days(defence, inp.calendar, zone, inp.opened, len(ordered))
        slots = defence_slots(defence, days, zone, inp.opened, inp.closes)
        policy = policy_of(inp.call, inp.phase_id, slots[0].starts if slots else inp.opened,
                           slots[-1].ends if slots else inp.opened)
        experts = self.draws.pool(inp.call, policy.stage, profiles, policy)
        result = schedule(experts, [p.proposal() for p in ordered], slots, policy, defence.panel, seed)
        category = {p.application_id: p.category for p in profiles}
        pairs = [Pair(h.application_id, x, category[h.application_id]) for h in result.hearings for x in h.panel]
        due = {h.application_id: panel_due(slots[h.slot], zone, inp.closes) for h in result.hearings}
        with writing(self.engine), Session(self.engine) as s:
            for p in pairs:
                s.merge(AssignmentRow(call_id=inp.call.id, stage=inp.phase_id, application_id=p.application_id,
                                      expert_id=p.expert_id, seed=seed, pool_hash=result.pool_hash,
                                      request_hash=result.request_hash, status="assigned", due=due[p.application_id]))
            s.commit()
        heard = [DefenceSlot(h.application_id, category[h.application_id], applicants.get(h.application_id, ""),
                             slots[h.slot].starts, slots[h.slot].ends,
                             materials_due(defence, inp.calendar, slots[h.slot], zone), due[h.application_id])
                 for h in result.hearings]
        return Drawn(pairs, seed, result.pool_hash, result.request_hash, result.conflicts_violated, result.load_min,
                     result.load_max, list(result.unscheduled), heard)

    @activity.defn
    def fill_seats(self, inp: SeatInput) -> list[str]:
        """The expert who takes each vacated seat ("" when nobody is eligible and free), judged as the scheduler
        judged its panels against the pool as it is now; the declined pair keeps its row with the reason, a new one
        gets its own. A retry recomputes the same choices (load, then id) and rewrites the same rows."""
        assert inp.call.review is not None
        defence = inp.call.review.stage(inp.phase_id).defence
        assert defence is not None
        days = defence_days(defence, inp.calendar, inp.call.zone, inp.opened, inp.hearings)
        slots = defence_slots(defence, days, inp.call.zone, inp.opened, inp.closes)
        span = slots or [Slot(v.seat.starts, v.seat.ends) for v in inp.vacated]
        policy = policy_of(inp.call, inp.phase_id, span[0].starts, span[-1].ends)
        profiles = {p.application_id: p for p in self.draws.profiles(inp.call.id)}
        experts = self.draws.pool(inp.call, policy.stage, list(profiles.values()), policy)
        seats = [Seat(x.expert_id, Slot(x.starts, x.ends)) for x in inp.seats]
        added: list[str] = []
        for v in inp.vacated:
            slot, profile = Slot(v.seat.starts, v.seat.ends), profiles.get(v.seat.application_id)
            chosen = fill_seat(experts, profile.proposal(), span, slot, policy, seats, v.held) if profile else None
            added.append(chosen or "")
            seats += [Seat(chosen, slot)] if chosen else []
        pool_hash = snapshot_hash(experts)
        with writing(self.engine), Session(self.engine) as s:
            for v, new in zip(inp.vacated, added):
                old = s.get(AssignmentRow, (inp.call.id, inp.phase_id, v.seat.application_id, v.seat.expert_id))
                if old is not None:
                    old.status, old.reason = "declined", v.reason
                    s.add(old)
                if new:
                    s.merge(AssignmentRow(call_id=inp.call.id, stage=inp.phase_id, application_id=v.seat.application_id,
                                          expert_id=new, seed=old.seed if old else 0, pool_hash=pool_hash,
                                          request_hash=old.request_hash if old else "", status="assigned", due=v.due))
            s.commit()
        return added
