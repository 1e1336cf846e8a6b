"""Drawing a stage's reviewers and replacing one: the pool (registry, or a recorded sample), the applications in the
stage, the randomized assignment with its seed, and every pair written to the assignments table."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select
from temporalio import activity

from models.call import CallDefinition
from models.experts import (
    SOLVER,
    Assignment,
    AssignmentError,
    Collaboration,
    Expert,
    Overrides,
    Policy,
    Replacement,
    Window,
    assign,
    reassign,
    snapshot_hash,
)
from models.review.messages import Drawn, Pair
from models.review.profile import ReviewProfile, profile_from_json, sample_pool
from records.engine import writing
from records.review_tables import AssignmentRow, ExpertRow, ReviewProfileRow
from records.tables import ApplicationRow

SAMPLE_PER_REVIEWS = 6  # a sample pool has one expert per this many reviews to draw (at least 60)


@dataclass
class DrawInput:
    call: CallDefinition
    phase_id: str
    opened: datetime
    due: datetime
    states: list[str]
    previous: str | None = None


@dataclass
class Vacated:
    """A declined or lapsed task to give to someone else; `held`: every expert who held its application before."""

    application_id: str
    expert_id: str
    reason: str
    held: list[str]


@dataclass
class ReassignInput:
    """The tasks vacated at one instant, replaced in one activity (in order, each seeing the loads the one before
    left), with the stage's current pairs."""

    call: CallDefinition
    phase_id: str
    vacated: list[Vacated]
    pairs: list[Pair]
    opened: datetime
    due: datetime


def _expert_json(e: Expert) -> str:
    return json.dumps(dataclasses.asdict(e), default=lambda v: sorted(v) if isinstance(v, frozenset) else v.isoformat())


def _sample_json(e: Expert) -> str:
    """A sample expert as stored, with the address its notices go to (a registry expert's comes with the import)."""
    return json.dumps(json.loads(_expert_json(e)) | {"email": f"{e.id.lower()}@experts.example.org"})


def expert_from_json(text: str) -> Expert:
    d = json.loads(text)
    return Expert(d["id"], tuple(d["disciplines"]), d["unit_id"], d["title"], d["recommender_id"],
                  tuple(Collaboration(c["person_id"], c["year"], c["kind"]) for c in d["collaborations"]),
                  frozenset(d["declared_conflicts"]),
                  tuple(Window(datetime.fromisoformat(w["start"]), datetime.fromisoformat(w["end"]))
                        for w in d["availability"]),
                  d["max_load"], frozenset(d["stages"]),
                  datetime.fromisoformat(d["restricted_until"]) if d["restricted_until"] else None)


def policy_of(call: CallDefinition, phase_id: str, opened: datetime, due: datetime) -> Policy:
    rules = call.review
    assert rules is not None
    stage = rules.stage(phase_id)
    return Policy(reference=opened, review_start=opened, review_end=due, stage=stage.pool, k=stage.k,
                  match_level=stage.match_level, conflict_years=rules.conflict_years,
                  same_recommender_conflict=rules.same_recommender_conflict)


class ReviewDrawActivities:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def profiles(self, call_id: str, states: list[str] | None = None) -> list[ReviewProfile]:
        with Session(self.engine) as s:
            query = select(ReviewProfileRow.profile_json).join(
                ApplicationRow, col(ApplicationRow.id) == col(ReviewProfileRow.application_id)).where(
                ReviewProfileRow.call_id == call_id)
            if states is not None:
                query = query.where(col(ApplicationRow.state).in_(states))
            return sorted((profile_from_json(t) for t in s.exec(query).all()), key=lambda p: p.application_id)

    def pool(self, call: CallDefinition, label: str, profiles: list[ReviewProfile], policy: Policy) -> list[Expert]:
        """The registry's experts serving `label`; with none there, a sample pool, stored so that it is recorded."""
        with writing(self.engine), Session(self.engine) as s:
            rows = [expert_from_json(t) for t in s.exec(select(ExpertRow.expert_json).order_by(col(ExpertRow.id))).all()]
            mine = [e for e in rows if label in e.stages]
            if mine:
                return mine
            size = max(60, policy.k * len(profiles) // SAMPLE_PER_REVIEWS)
            seed = int(snapshot_hash([call.id, label])[:8], 16)
            span = (policy.review_start - timedelta(days=1), policy.review_end + timedelta(days=60))
            drawn = sample_pool(call, [label], profiles, seed, span, size)
            for e in drawn:
                s.merge(ExpertRow(id=e.id, expert_json=_sample_json(e), source="sample"))
            s.commit()
            return drawn

    async def _after(self, previous: str) -> None:
        """Wait for the previous stage's workflow to finish telling its applications where they go."""
        handle = activity.client().get_workflow_handle(previous)
        while True:
            try:
                await asyncio.wait_for(handle.result(), timeout=5)
                return
            except TimeoutError:
                activity.heartbeat()

    @activity.defn
    async def draw_stage(self, inp: DrawInput) -> Drawn:
        """Draw k reviewers per application in the stage (a seed of its own, recorded); the same stage drawn again
        returns the pairs already recorded."""
        if inp.previous:
            await self._after(inp.previous)
        return await asyncio.to_thread(self._draw, inp)

    def _recorded(self, call_id: str, phase_id: str) -> list[AssignmentRow]:
        with Session(self.engine) as s:
            return list(s.exec(select(AssignmentRow).where(AssignmentRow.call_id == call_id,
                                                           AssignmentRow.stage == phase_id)).all())

    def _draw(self, inp: DrawInput) -> Drawn:
        profiles = self.profiles(inp.call.id, inp.states)
        policy = policy_of(inp.call, inp.phase_id, inp.opened, inp.due)
        experts = self.pool(inp.call, policy.stage, profiles, policy)
        category = {p.application_id: p.category for p in profiles}
        done = self._recorded(inp.call.id, inp.phase_id)
        if done:
            first = done[0]
            return Drawn([Pair(r.application_id, r.expert_id, category.get(r.application_id, "")) for r in done],
                         first.seed, first.pool_hash, first.request_hash, 0, 0, 0)
        seed = secrets.randbelow(2 ** 31)
        short: list[str] = []
        proposals = [p.proposal() for p in profiles]
        while True:
            try:
                result = assign(experts, proposals, policy, seed) if proposals else None
                break
            except AssignmentError as exc:
                if policy.probability_limit < 1:
                    policy = dataclasses.replace(policy, probability_limit=1.0)
                    continue
                ids = {p.id for p in proposals}
                named = set(exc.applications) & ids or ids  # each round drops someone: the loop ends
                short += sorted(named)
                proposals = [p for p in proposals if p.id not in named]
        pairs = [Pair(a, e, category[a]) for a, es in (result.reviewers.items() if result else ()) for e in es]
        pool_hash = result.pool_hash if result else snapshot_hash(experts)
        request_hash = result.request_hash if result else ""
        with writing(self.engine), Session(self.engine) as s:
            for p in pairs:
                s.merge(AssignmentRow(call_id=inp.call.id, stage=inp.phase_id, application_id=p.application_id,
                                      expert_id=p.expert_id, seed=seed, pool_hash=pool_hash,
                                      request_hash=request_hash, status="assigned", due=inp.due))
            s.commit()
        return Drawn(pairs, seed, pool_hash, request_hash, result.conflicts_violated if result else 0,
                     result.load_min if result else 0, result.load_max if result else 0, short)

    @activity.defn
    def reassign_tasks(self, inp: ReassignInput) -> list[str]:
        """The next-best eligible expert for each vacated task ("" when none is left); a replaced pair keeps its row
        with the reason, a new one gets its own. A retry recomputes the same choices (deterministic ties) and
        rewrites the same rows."""
        profiles = self.profiles(inp.call.id)
        policy = policy_of(inp.call, inp.phase_id, inp.opened, inp.due)
        experts = self.pool(inp.call, policy.stage, profiles, policy)
        wanted = {p.application_id for p in inp.pairs} | {v.application_id for v in inp.vacated}
        proposals = [p.proposal() for p in profiles if p.application_id in wanted]
        reviewers: dict[str, list[str]] = {}
        for p in inp.pairs:
            reviewers.setdefault(p.application_id, []).append(p.expert_id)
        done = self._recorded(inp.call.id, inp.phase_id)
        seed = done[0].seed if done else 0
        held = tuple(Replacement(v.application_id, e, "", "earlier", "") for v in inp.vacated for e in v.held
                     if e != v.expert_id)
        current = Assignment({a: tuple(sorted(es)) for a, es in reviewers.items()}, seed, "", "", SOLVER, Overrides(),
                             (), 0, 0, 0.0, 1.0, 0, 0, 0, held)
        added: list[str] = []
        for v in inp.vacated:
            try:
                current = reassign(current, v.application_id, v.expert_id, experts, proposals, policy, v.reason)
            except AssignmentError:
                added.append("")
            else:
                added.append(current.replacements[-1].added)
        pool_hash = snapshot_hash(experts)
        with writing(self.engine), Session(self.engine) as s:
            for v, new in zip(inp.vacated, added):
                old = s.get(AssignmentRow, (inp.call.id, inp.phase_id, v.application_id, v.expert_id))
                if old is not None:
                    old.status, old.reason = ("declined" if v.reason.startswith("declined") else "lapsed"), v.reason
                    s.add(old)
                if new:
                    s.merge(AssignmentRow(call_id=inp.call.id, stage=inp.phase_id, application_id=v.application_id,
                                          expert_id=new, seed=seed, pool_hash=pool_hash,
                                          request_hash=old.request_hash if old else "", status="assigned", due=inp.due))
            s.commit()
        return added
