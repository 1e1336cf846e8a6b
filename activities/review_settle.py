"""Settling a stage (aggregation, ranking, outliers, the rows that record them) and telling the applications its
outcomes: one update per application, sent from the activity with bounded concurrency, never from workflow code."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass

from sqlalchemy.engine import Engine
from sqlmodel import Session
from temporalio import activity
from temporalio.client import WorkflowUpdateFailedError
from temporalio.service import RPCError

from activities.review_draw import ReviewDrawActivities
from models.call import CallDefinition
from models.identity import in_process
from models.messages import ActRequest, application_workflow_id
from models.review.aggregate import Scored, aggregate, outliers
from models.review.messages import Outcome, Review, Settled
from models.review.ranking import Candidate, Limits, advancing, rank
from records.engine import writing
from records.review_tables import RankingRow, ReviewRow


@dataclass
class SettleInput:
    call: CallDefinition
    phase_id: str
    final: bool
    applications: list[str]
    reviews: list[Review]
    actor_id: str


@dataclass
class AnnounceInput:
    call_id: str
    actor_id: str
    outcomes: list[Outcome]
    concurrency: int = 32


def candidates(call: CallDefinition, reviews: list[Review], profiles: dict[str, tuple[str, int, str]],
               applications: list[str], phase_id: str) -> list[Candidate]:
    """Each application with its aggregate score, or None below the stage's minimum of valid reviews."""
    assert call.review is not None
    rules, stage = call.review, call.review.stage(phase_id)
    valid = [r for r in reviews if r.final]
    scores = aggregate([Scored(r.application_id, r.expert_id, r.total) for r in valid], rules)
    first = rules.sheet[0]
    out = []
    for a in applications:
        mine = [r for r in valid if r.application_id == a]
        category, requested, unit = profiles[a]
        firsts = [r.scores.get(first.id, 0) for r in mine]
        out.append(Candidate(a, category, scores.get(a) if len(mine) >= stage.min_reviews else None,
                             sum(firsts) / len(firsts) if firsts else 0.0, requested, unit))
    return out


def settle(call: CallDefinition, phase_id: str, final: bool, found: list[Candidate], reviews: list[Review]) -> Settled:
    """Outcomes per application: on from a stage, or funded, reserve or not funded after the last one."""
    assert call.review is not None
    rules, stage = call.review, call.review.stage(phase_id)
    outcomes: list[Outcome] = []
    settled = Settled(outcomes, {})
    for c in call.categories:
        mine = [x for x in found if x.category == c.id]
        score = {x.application_id: x.score for x in mine}
        if not final:
            on = set(advancing(mine, stage.advance_ratio, stage.cutoff))
            for x in mine:
                why = (f"score {x.score:.2f} goes on" if x.application_id in on else
                       f"fewer than {stage.min_reviews} valid reviews" if x.score is None else
                       f"score {x.score:.2f} below the cut-off {stage.cutoff} or outside the top "
                       f"{stage.advance_ratio:.0%} of {c.id}")
                outcomes.append(Outcome(x.application_id, "advance" if x.application_id in on else "eliminate", why))
            continue
        planned = c.planned if c.planned is not None else max(1, len(mine) * 3 // 10)
        budget = c.funding_cny * planned if c.funding_cny and any(x.requested_cny for x in mine) else None
        ranked = rank(c.id, mine, Limits(planned, budget, rules.max_per_unit), rules.reserve)
        settled.ranking[c.id] = [len(ranked.funded), planned]
        settled.funded[c.id], settled.reserves[c.id] = list(ranked.funded), list(ranked.reserves)
        place = {a: i + 1 for i, a in enumerate(ranked.order)}
        for a in ranked.funded:
            outcomes.append(Outcome(a, "fund", f"rank {place[a]} in {c.id}, score {score[a]:.2f}, within {planned}",
                                    {"rank": str(place[a])}))
        for a in ranked.reserves:
            outcomes.append(Outcome(a, "reserve", f"rank {place[a]} in {c.id}: reserve", {"rank": str(place[a])}))
        for a in ranked.rest:
            why = ranked.skipped.get(a, f"rank {place[a]} in {c.id}, outside the {planned} planned")
            outcomes.append(Outcome(a, "eliminate", why, {"rank": str(place[a])}))
        outcomes += [Outcome(a, "eliminate", f"fewer than {stage.min_reviews} valid reviews: not ranked")
                     for a in ranked.unranked]
    valid = [Scored(r.application_id, r.expert_id, r.total) for r in reviews if r.final]
    settled.outliers = [f"{o.application_id} <- {o.expert_id}: {o.total:.1f} against a mean of {o.mean:.1f}"
                        for o in outliers(valid, rules.outlier_points)]
    return settled


class ReviewSettleActivities:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.draws = ReviewDrawActivities(engine)

    @activity.defn
    def settle_stage(self, inp: SettleInput) -> Settled:
        """Aggregate, rank and record a stage (reviews and ranking rows, keyed, so a retry writes nothing twice)."""
        profiles = {p.application_id: (p.category, p.requested_cny, p.lead_unit)
                    for p in self.draws.profiles(inp.call.id)}
        found = candidates(inp.call, inp.reviews, profiles, [a for a in inp.applications if a in profiles],
                           inp.phase_id)
        result = settle(inp.call, inp.phase_id, inp.final, found, inp.reviews)
        score = {c.application_id: (c.category, c.score) for c in found}
        with writing(self.engine), Session(self.engine) as s:
            for r in inp.reviews:
                if r.final:
                    s.merge(ReviewRow(call_id=inp.call.id, stage=inp.phase_id, application_id=r.application_id,
                                      expert_id=r.expert_id, total=r.total, scores_json=json.dumps(r.scores),
                                      at=r.at, version=r.version))
            for o in result.outcomes:
                category, value = score[o.application_id]
                rank_of = o.data.get("rank")
                s.merge(RankingRow(call_id=inp.call.id, stage=inp.phase_id, application_id=o.application_id,
                                   category=category, score=value, rank=int(rank_of) if rank_of else None,
                                   outcome=o.trigger, reason=o.reason))
            s.commit()
        return result

    @activity.defn
    async def announce(self, inp: AnnounceInput) -> int:
        """Fire each outcome on its application (role system, the stage as actor); an application that has moved on
        refuses, which counts as told, so a retry is harmless. Heartbeats the count done."""
        details = activity.info().heartbeat_details
        start = int(details[0]) if details else 0
        client = activity.client()
        gate = asyncio.Semaphore(inp.concurrency)
        told = 0
        worker = in_process(inp.actor_id, "system")  # the worker tells on the stage's behalf; no person holds "system"

        async def one(o: Outcome) -> None:
            nonlocal told
            async with gate:
                try:
                    await client.get_workflow_handle(application_workflow_id(o.application_id)).execute_update(
                        "act", ActRequest(o.trigger, inp.actor_id, "system", o.reason, dict(o.data), worker))
                    told += 1
                except (WorkflowUpdateFailedError, RPCError):
                    pass

        batch = inp.concurrency * 4
        for i in range(start, len(inp.outcomes), batch):
            await asyncio.gather(*(one(o) for o in inp.outcomes[i:i + batch]))
            activity.heartbeat(i + batch)
        return told
