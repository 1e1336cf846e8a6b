"""The simulated experts, committee and programme office of a call with a `review:` section: reviews (some declined,
some left to lapse), the ranked list's approval, the contract's task book, return loop and signatures; and the
report's expert_review, ranking and publicity sections, recomputed from the records rather than taken on trust."""

from __future__ import annotations

import asyncio
import hashlib
from collections import Counter
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlmodel import Session, select
from temporalio.client import WorkflowFailureError, WorkflowUpdateFailedError

from activities.review_draw import expert_from_json, policy_of
from client.calls import ask
from models.experts import conflict_reasons
from models.identity import in_process
from models.lifecycle_stages import SIGNATORIES, signing_state
from models.review.messages import ManagerRequest, ReviewRequest, StageProgress, StageStatus, stage_workflow_id
from models.review.profile import profile_from_json
from models.timetable import PhaseTime
from records.review_tables import AssignmentRow, ExpertRow, ReviewProfileRow
from simulation.defence import defence_report, hear
from workflows.review_stage import ReviewStageWorkflow

if TYPE_CHECKING:
    from simulation.run import Simulation

DECLINES, IGNORES = 0.05, 0.05  # shares of review tasks declined, and left to lapse at their deadline


def _chance(*parts: object) -> float:
    return int(hashlib.sha256(":".join(map(str, parts)).encode()).hexdigest()[:8], 16) / 16 ** 8


class ReviewDriver:
    def __init__(self, sim: Simulation) -> None:
        self.sim = sim
        self.call = sim.call
        self.stages = [p.id for p in sim.call.phases if p.kind == "expert_review"]
        self.index = {a: i for i, a in enumerate(sim.ids)}

    def handle(self, phase_id: str) -> Any:
        return self.sim.client.get_workflow_handle(stage_workflow_id(self.call.id, phase_id))

    async def status(self, phase_id: str) -> StageStatus | None:
        try:
            status: StageStatus = await ask(self.handle(phase_id), ReviewStageWorkflow.status)
        except Exception:  # noqa: BLE001 - not started yet: the draw is still on its way
            return None
        return status

    async def until(self, phase_id: str, ready: Any, limit_s: float = 300.0) -> StageProgress:
        for _ in range(int(limit_s / 0.2)):
            try:
                progress: StageProgress = await ask(self.handle(phase_id), ReviewStageWorkflow.progress)
            except Exception:  # noqa: BLE001 - not started yet: the draw is still on its way
                progress = StageProgress(False, False, False, [])
            if ready(progress):
                return progress
            await asyncio.sleep(0.2)
        raise TimeoutError(f"stage {phase_id} did not get there in {limit_s} s")

    def scores(self, application_id: str, expert_id: str) -> tuple[dict[str, int], dict[str, str]]:
        quality = self.sim.people[self.index[application_id]].score / 100
        assert self.call.review is not None
        scores, comments = {}, {}
        for c in self.call.review.sheet:
            noise = (_chance(self.sim.seed, application_id, expert_id, c.id) - 0.5) * 0.3
            scores[c.id] = max(0, min(c.scale_max, round(c.scale_max * (quality + noise))))
            comments[c.id] = "论证充分" if c.comment_required else ""
        return scores, comments

    def declining(self, phase_id: str, application_id: str, expert_id: str) -> bool:
        """Whether this expert declines this task (a defence's panel member does so before the hearing)."""
        return _chance(self.sim.seed, phase_id, application_id, expert_id) < DECLINES

    async def review(self, phase_id: str, application_id: str, expert_id: str, role: str) -> None:
        what = _chance(self.sim.seed, phase_id, application_id, expert_id)
        scores, comments = self.scores(application_id, expert_id)
        request = ReviewRequest(application_id, expert_id, role, scores, comments, "与本人研究方向不符",
                                in_process(expert_id, role))
        update = ReviewStageWorkflow.decline_review if what < DECLINES else ReviewStageWorkflow.submit_review
        if what < DECLINES + IGNORES and what >= DECLINES:
            return
        async with self.sim.gate:
            try:
                await self.handle(phase_id).execute_update(update, request)
            except WorkflowUpdateFailedError:
                self.sim.refused["review refused"] += 1

    async def stage(self, p: PhaseTime, final: bool) -> None:
        """Open the phase, let the experts work their tasks until the stage settles, then approve the list."""
        opened = await self.sim.open_phase(p)
        role = self.call.phase(p.id).role or "expert"
        progress = await self.until(p.id, lambda s: s.drawn)
        defence = self.call.review is not None and self.call.review.stage(p.id).defence is not None
        done: set[tuple[str, str]] = await hear(self, p.id, role) if defence else set()
        await self.sim.sleep_until(max(opened + timedelta(hours=6), await self.sim.now()))
        progress = await self.until(p.id, lambda s: True)
        while not progress.settled:
            todo = [(t.application_id, t.expert_id) for t in progress.open
                    if (t.application_id, t.expert_id) not in done]
            done.update(todo)
            await asyncio.gather(*(self.review(p.id, a, e, role) for a, e in todo))
            await asyncio.sleep(0.2)  # a decline's replacement is drawn by an activity
            progress = await self.until(p.id, lambda s: True)
            waiting = [t.due for t in progress.open if (t.application_id, t.expert_id) in done]
            fresh = any((t.application_id, t.expert_id) not in done for t in progress.open)
            if waiting and not fresh and not progress.settled:
                await self.sim.sleep_until(min(waiting) + timedelta(minutes=1))  # the ignored tasks lapse
                progress = await self.until(p.id, lambda s: True)
        if final:
            await self.handle(p.id).execute_update(ReviewStageWorkflow.decide, ManagerRequest(
                "pm-sim", "manager", "部门联席会议审定排序名单", identity=in_process("pm-sim", "manager")))
        else:
            try:
                await self.handle(p.id).result()
            except WorkflowFailureError:
                pass

    async def contract(self, opened: datetime) -> None:
        """Task books drafted, a few returned and revised, accepted, signed in order, received."""
        sim = self.sim
        await sim.sleep_until(opened + timedelta(days=1))
        states = sim.states()  # approved, or with its paper received where paper comes after publicity
        approved = [i for i, a in enumerate(sim.ids) if sim.lifecycle.candidates(states.get(a, ""), "submit_taskbook")
                    and sim.people[i].signs]
        books = {i: hashlib.sha256(f"任务书 {sim.ids[i]} v1".encode()).hexdigest() for i in approved}
        await sim.each([sim.act(i, "submit_taskbook", "applicant", content_sha256=books[i]) for i in approved])
        returned = [i for i in approved if _chance(sim.seed, sim.ids[i], "return") < 0.2]
        await sim.sleep_until(opened + timedelta(days=2))
        await sim.each([sim.act(i, "return_taskbook", "manager", "经费预算需按指南调整") for i in returned])
        for i in returned:
            books[i] = hashlib.sha256(f"任务书 {sim.ids[i]} v2".encode()).hexdigest()
        await sim.sleep_until(opened + timedelta(days=3))
        await sim.each([sim.act(i, "submit_taskbook", "applicant", content_sha256=books[i]) for i in returned])
        await sim.sleep_until(opened + timedelta(days=4))
        await sim.each([sim.act(i, "accept_taskbook", "manager", "同意") for i in approved])
        for day, (role, _) in enumerate(SIGNATORIES):
            await sim.sleep_until(opened + timedelta(days=5 + day))
            states = sim.states()
            await sim.each([sim.act(i, "sign", role, content_sha256=books[i]) for i in approved
                            if states.get(sim.ids[i]) == signing_state(role)])
        await sim.sleep_until(opened + timedelta(days=10))
        states = sim.states()
        await sim.each([sim.act(i, "receive_contract", "agency") for i in approved
                        if states.get(sim.ids[i]) == "signed_unreceived"])

    async def report(self) -> tuple[dict[str, Any], list[str]]:
        """expert_review, ranking, publicity and defence sections, and the violations among them."""
        statuses = [s for s in [await self.status(p) for p in self.stages] if s is not None]
        with Session(self.sim.engine) as s:
            rows = list(s.exec(select(AssignmentRow).where(AssignmentRow.call_id == self.call.id)).all())
            experts = {e.id: e.expert_json for e in s.exec(select(ExpertRow)).all()}
            profiles = {p.application_id: profile_from_json(p.profile_json) for p in s.exec(
                select(ReviewProfileRow).where(ReviewProfileRow.call_id == self.call.id)).all()}
        opened = {st.phase_id: min((t.assigned_at for t in st.state.tasks), default=None) for st in statuses}
        violated = 0
        for r in rows:
            policy = policy_of(self.call, r.stage, opened.get(r.stage) or r.due, r.due)
            violated += bool(conflict_reasons(expert_from_json(experts[r.expert_id]),
                                              profiles[r.application_id].proposal(), policy))
        drawn = [st.state.drawn for st in statuses if st.state.drawn is not None]
        expert_review = {
            "assignments": len(rows), "conflicts_violated": violated,
            "load_min": min((d.load_min for d in drawn), default=0),
            "load_max": max((d.load_max for d in drawn), default=0),
            "reassigned": sum(st.state.reassigned for st in statuses),
            "late_reviews": sum(st.state.late for st in statuses)}
        final = statuses[-1].state if statuses else None
        ranking: dict[str, list[int]] = {}
        if final is not None and final.settled is not None:
            ranking = {c: [len(final.settled.funded.get(c, [])), quota[1]] for c, quota in final.settled.ranking.items()}
        transitions = Counter(t.trigger for st in await self.sim.statuses() for t in st.transitions)
        publicity = {"objections": transitions["object"], "upheld": transitions["uphold_objection"],
                     "promoted": len(final.promoted) if final else 0}
        problems = [f"{violated} assigned pairs have a conflict of interest"] if violated else []
        problems += [f"category {c}: {f} funded over its quota {q}" for c, (f, q) in ranking.items() if f > q]
        defences = [st.state for st in statuses if self.call.review and self.call.review.stage(st.phase_id).defence]
        sections = {"expert_review": expert_review, "ranking": ranking, "publicity": publicity}
        return sections | ({"defence": defence_report(defences)} if defences else {}), problems
