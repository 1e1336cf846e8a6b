"""`grantflow simulate`: a call's whole lifecycle on the time-skipping server with a seeded population.

The call is translated by whole weeks into the test server's future (its calendar with it), run, and reported
in the call's own instants. Every invariant is checked over the workflows' own transition lists.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session, select
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.testing import WorkflowEnvironment

from activities.notices import MemoryChannel, Postman
from client.calls import Prepared, Refusal, act_on, ask, manage, start_application, start_call
from models.call import CallDefinition, cohort_of
from models.deadlines import Deadlines
from models.identity import in_process
from models.lifecycle import TERMINAL, Lifecycle, build_lifecycle
from models.messages import ActRequest, ApplicationInput, ApplicationStatus, application_workflow_id
from models.quotas import overruns, refused_quota
from models.timetable import PhaseTime
from records.tables import ApplicationRow
from simulation.chain import ChainRounds
from simulation.clock import skip_until
from simulation.contacts import accounts, with_addresses
from simulation.decisions import decide_waiting
from simulation.late import LateActors
from simulation.later import (
    DEFAULT_LENGTH,
    MANAGER,
    MANUAL_LENGTH,
    close_by_hand,
    close_last,
    contract_phase,
    publicity_phase,
    review_phase,
    select_before,
    shortlist,
)
from simulation.population import sample_population
from simulation.progress import Shown, follow, settled_count
from simulation.report import Report, check_invariants, held_places, notice_violations, personas, phase_instants, tally
from simulation.review import ReviewDriver
from simulation.stages import in_hours, stage_for, work_until
from workflows.application import ApplicationWorkflow
from workflows.call import CallWorkflow


class Simulation(ChainRounds):
    def __init__(self, env: WorkflowEnvironment, prepared: Prepared, n: int, seed: int, task_queue: str,
                 engine: Any, channel: MemoryChannel | Postman, late_share: float = 0.0, shown: Shown | None = None
                 ) -> None:
        self.env = env
        self.client: Client = env.client
        self.prepared = prepared
        self.call: CallDefinition = prepared.definition
        self.lifecycle: Lifecycle = build_lifecycle(prepared.definition)
        self.people = personas(n, seed)
        as_of = self.call.issued or (datetime.now(self.call.zone) - timedelta(days=prepared.shift_days)).date()
        self.population = sample_population(self.call, n, seed, as_of)
        with Session(engine) as s:
            with_addresses(self.population.registry.units, self.population.registry.people)
            self.population.registry.write(s)
            for account in accounts(self.call, n):  # merged like the registry: a kept database has them from before
                s.merge(account)
            s.commit()
        self.ids = [f"{self.call.id}.{i:05d}" for i in range(n)]
        self.seed = seed
        self.task_queue = task_queue
        self.engine = engine
        self.channel = channel
        self.gate = asyncio.Semaphore(64)
        self.query_gate = asyncio.Semaphore(16)
        self.refused: Counter[str] = Counter()
        self.quota_refusals: Counter[str] = Counter({q.key: 0 for q in self.call.quotas})
        self.beyond_quota: set[int] = set()  # recommended past a quota and refused: their recommender moves on
        self.withheld: set[int] = set()  # failing a rule of the recommender's step: returned, not resubmitted
        self.late_attempts = 0
        self.late_accepted = 0
        self.late = LateActors(seed, late_share)
        self.late_violations: list[str] = []
        self.staged = ReviewDriver(self) if self.call.review is not None else None
        self.shown = shown
        self.final_statuses: list[ApplicationStatus] | None = None

    # ---- plumbing ------------------------------------------------------------------------------------

    async def now(self) -> datetime:
        return await self.env.get_current_time()

    async def sleep_until(self, instant: datetime) -> None:
        await skip_until(self.env, instant)

    def states(self) -> dict[str, str]:
        with Session(self.engine) as s:
            return dict(s.exec(select(ApplicationRow.id, ApplicationRow.state).where(
                ApplicationRow.call_id == self.call.id)).all())

    async def quiesce(self, states: set[str], limit_s: float = 120.0) -> None:
        """Wait (real time) until no application is left in `states`: system transitions are processed."""
        for _ in range(int(limit_s / 0.05)):
            if not states & set(self.states().values()):
                return
            await asyncio.sleep(0.05)

    def due_sources(self, phase: str, edge: str) -> set[str]:
        return {t.source for t in self.lifecycle.transitions if t.due and t.due.phase == phase and t.due.edge == edge
                and not any(c.startswith("when_") for c in t.conditions + t.unless)}

    def person(self, i: int, role: str) -> str:
        units = [r.id for r in self.call.recommenders] or [f"org-{k}" for k in range(5)]
        return {"applicant": self.population.forms[i].pi_id, "unit_admin": f"unit-{i % 20}",
                "recommender": units[i % len(units)], "cto": f"cto-{i}"}.get(role, f"{role}-sim")

    def cohort(self, i: int) -> str:
        """Every seventh applicant of a call that names cohorts belongs to one of them, in turn; the others to the
        cohort that gathers them, if the call has one."""
        cohorts = [c.id for c in self.call.cohorts if not c.others]
        return cohort_of(self.call, cohorts[i // 7 % len(cohorts)] if cohorts and i % 7 == 0 else "")

    def own_close(self, i: int, phase_id: str) -> datetime | None:
        """The close of `phase_id` that binds application i (its category, cohort and recommender)."""
        rule = Deadlines(self.call, self.population.forms[i].category, self.prepared.timetable,
                         self.prepared.input.calendar, {}, {}, self.cohort(i), self.person(i, "recommender"))
        return rule.phase_close(phase_id)

    async def act(self, i: int, trigger: str, role: str, reason: str = "", actor: str | None = None,
                  **data: str) -> bool:
        who = actor or self.person(i, role)
        async with self.gate:
            try:
                await act_on(self.client, self.ids[i], ActRequest(trigger, who, role, reason, data,
                                                                  in_process(who, role)))
                return True
            except Refusal as exc:
                self.refused[str(exc).split(":")[0]] += 1
                quota = refused_quota(str(exc))
                if quota is not None:
                    self.quota_refusals[quota] += 1
                    self.beyond_quota.add(i)
                return False

    async def each(self, coros: list[Any]) -> list[Any]:
        return list(await asyncio.gather(*coros))

    # ---- phases ------------------------------------------------------------------------------------------

    def phase(self, phase_id: str) -> PhaseTime:
        return self.prepared.timetable.get(phase_id)

    async def timetable(self) -> Any:
        handle = self.client.get_workflow_handle(f"call-{self.call.id}")
        return (await ask(handle, CallWorkflow.status)).timetable

    async def open_phase(self, p: PhaseTime) -> datetime:
        """Bring phase `p` open: wait for its date (the office first closes a window it closes by hand), or have the
        manager advance; returns its open instant."""
        handle = self.client.get_workflow_handle(f"call-{self.call.id}")
        live = (await self.timetable()).get(p.id)
        if p.opens_rule == "manual" or (p.opens_rule == "previous" and live.opens is None):
            current = (await self.timetable()).current()
            if current is not None and current.closes is not None and current.closes_rule != "manual":
                await self.sleep_until(current.closes + timedelta(seconds=1))
                await self.quiesce(self.due_sources(current.id, "closes"))
            await self.sleep_until(await self.now() + timedelta(days=1))
            await self.service_deadlines()
            await manage(handle, CallWorkflow.advance_phase, MANAGER)
        else:
            await close_by_hand(self, p)
            assert live.opens is not None
            await self.sleep_until(live.opens + timedelta(seconds=1))
        await self.quiesce(self.due_sources(p.id, "opens"))
        opened = (await self.timetable()).get(p.id).opens
        assert opened is not None
        await self.late_acts()
        return opened  # type: ignore[no-any-return]

    async def length(self, p: PhaseTime) -> timedelta:
        live = (await self.timetable()).get(p.id)
        if live.closes is not None and live.opens is not None:
            return live.closes - live.opens  # type: ignore[no-any-return]
        return MANUAL_LENGTH.get(p.kind, DEFAULT_LENGTH)

    # ---- the population's behaviour per phase ---------------------------------------------------------

    async def application_phase(self, p: PhaseTime) -> None:
        """Applicants submit at 40% of their own window (a category, cohort or recommender may close it before the
        phase), earliest close first; approvers work through each group before its close."""
        opened = await self.open_phase(p)
        span = await self.length(p)
        await self.each([self.start(i) for i in range(len(self.ids))])
        groups: dict[timedelta, list[int]] = {}
        for i in range(len(self.ids)):
            own = self.own_close(i, p.id)
            groups.setdefault(own - opened if own is not None and own > opened else span, []).append(i)
        for own_span in sorted(groups):
            await self.sleep_until(max(await self.now(), opened + own_span * 0.4))
            await self.each([self.act(i, "submit", "applicant") for i in groups[own_span] if self.people[i].submits])
            await self.chain_rounds(opened + own_span * 0.45, opened + own_span * 0.95, own_span / 40)

    async def start(self, i: int) -> None:
        form = self.population.forms[i]
        people = {role: self.person(i, role) for role in ("applicant", "unit_admin", "recommender", "cto")}
        async with self.gate:
            await start_application(self.client, ApplicationInput(
                call=self.call, calendar=self.prepared.input.calendar, timetable=self.prepared.timetable,
                application_id=self.ids[i], category=form.category, title=form.title, people=people,
                flags=dict(form.flags), attachments=[a.kind for a in form.attachments], form=form,
                shift_days=self.prepared.shift_days, cohort=self.cohort(i)), self.task_queue)

    async def late_attempts_after(self, closes: datetime) -> None:
        await self.sleep_until(closes + timedelta(minutes=1))
        late = [i for i, x in enumerate(self.people) if not x.submits and x.tries_late]
        self.late_attempts += len(late)
        results = await self.each([self.act(i, "submit", "applicant") for i in late])
        self.late_accepted += sum(results)

    async def recommendation_phase(self, p: PhaseTime) -> None:
        opened = await self.open_phase(p)
        span = await self.length(p)
        end = work_until(await self.timetable(), p, opened + span * 0.9)
        await self.chain_rounds(opened + timedelta(hours=1), end, (end - opened) / 10)

    async def paper_phase(self, p: PhaseTime) -> None:
        opened = await self.open_phase(p)
        span = await self.length(p)
        await self.chain_rounds(opened + timedelta(minutes=30), opened + span * 0.5, span / 20)
        at = max(opened + timedelta(hours=1), await self.now())
        while p.hours is not None and not in_hours(self.prepared.input.calendar, self.call.zone, p, at):
            at += timedelta(hours=1)
        await self.sleep_until(at)
        states = self.states()  # paper comes from accepted applications, or after publicity from approved ones
        senders = [i for i, app_id in enumerate(self.ids) if self.people[i].sends_paper
                   and self.lifecycle.candidates(states.get(app_id, ""), "receive_paper")
                   and not self.late.holds(i, "receive_paper", "agency", states[app_id])
                   and stage_for(self.call, p.id, self.population.forms[i].category)]
        await self.each([self.send_paper(i) for i in senders])

    async def send_paper(self, i: int) -> bool:
        """The printed summary form carries its receipt number and content hash (asked 16 at a time: 64 ran dry)."""
        async with self.query_gate:
            status = await ask(self.client.get_workflow_handle(application_workflow_id(self.ids[i])),
                               ApplicationWorkflow.status, attempts=20)
        return await self.act(i, "receive_paper", "agency", receipt=status.receipt,
                              content_sha256=status.content_sha256)

    async def formal_phase(self, p: PhaseTime) -> None:
        opened = await self.open_phase(p)
        await self.sleep_until(opened + timedelta(hours=1))
        await decide_waiting(self)

    async def run(self) -> Report:
        final = set(TERMINAL) & set(self.lifecycle.state_names())
        following = asyncio.create_task(follow(self.shown, lambda: settled_count(self.engine, self.call.id, final))
                                        ) if self.shown else None
        try:
            return await self._run()
        finally:
            if following is not None and self.shown is not None:
                following.cancel()
                self.shown.settled(settled_count(self.engine, self.call.id, final))

    async def _run(self) -> Report:
        handle = await start_call(self.client, self.prepared, self.task_queue)
        reviews = [p for p in self.prepared.timetable.phases if p.kind == "expert_review"]
        for p in self.prepared.timetable.phases:
            if self.shown is not None:
                self.shown.phase(f"{p.id} ({p.name})")
            await select_before(self, p, self.prepared.timetable.phases)
            if p.kind == "application":
                await self.application_phase(p)
                live = (await self.timetable()).get(p.id)
                if live.closes is not None and live.closes_rule != "manual":
                    await self.late_attempts_after(live.closes)
            elif p.kind == "recommendation":
                await self.recommendation_phase(p)
            elif p.kind == "paper":
                await self.paper_phase(p)
            elif p.kind == "formal_review":
                await self.formal_phase(p)
            elif p.kind == "expert_review" and self.staged is not None:
                await self.staged.stage(p, p is reviews[-1])
            elif p.kind == "expert_review":
                await review_phase(self, p)
                if p is reviews[-1]:
                    await shortlist(self)
            elif p.kind == "publicity":
                await publicity_phase(self, p)
            elif p.kind == "contract":
                await contract_phase(self, p)
        await self.late_acts(final=True)
        await close_last(self, handle)
        await self.quiesce(set(self.lifecycle.state_names()) - set(TERMINAL))
        with self.env.auto_time_skipping_disabled():
            status = await asyncio.wait_for(handle.result(), timeout=120)
        return await self.report(status.events)

    # ---- report and invariants ---------------------------------------------------------------------------

    async def statuses(self) -> list[ApplicationStatus]:
        """Every application's final status, read once the records show the last wave of closing applications
        settled (and kept: the review sections count from the same list). A closed workflow's status is the result
        it returned, read from its history's close event (2.6 ms with the look-up); only one still open is asked, and
        one not terminal is reported as it is. A query to a closed workflow replays its whole history: 83 ms."""
        if self.final_statuses is not None:
            return self.final_statuses
        await self.quiesce(set(self.lifecycle.state_names()) - set(TERMINAL), limit_s=300)

        async def one(app_id: str) -> ApplicationStatus:
            handle = self.client.get_workflow_handle_for(ApplicationWorkflow.run, application_workflow_id(app_id))
            async with self.query_gate:
                if (await handle.describe()).status == WorkflowExecutionStatus.COMPLETED:
                    with self.env.auto_time_skipping_disabled():
                        closed: ApplicationStatus = await handle.result()
                    return closed
                status: ApplicationStatus = await ask(handle, ApplicationWorkflow.status)
                return status
        self.final_statuses = await self.each([one(a) for a in self.ids])
        return self.final_statuses

    async def report(self, events: list[Any]) -> Report:
        phases = phase_instants(self.prepared, events)
        statuses = await self.statuses()
        violations = check_invariants(self.lifecycle, statuses)
        if isinstance(self.channel, Postman):
            await self.channel.drain()
        violations += overruns(self.call, held_places(self.call, statuses))
        notice_keys, problems = notice_violations(self.engine, self.call.id, self.channel)
        violations += problems
        if self.late_accepted:
            violations.append(f"{self.late_accepted} submissions after the application deadline were accepted")
        violations += self.late_violations
        sections, problems = await self.staged.report() if self.staged else ({}, [])
        violations += problems
        return Report(
            call=self.call.id, applications=len(self.ids), seed=self.seed, shift_days=self.prepared.shift_days,
            phases=phases, notices=len(notice_keys), refused=dict(self.refused), late_attempts=self.late_attempts,
            late_accepted=self.late_accepted, violations=violations, quota_refusals=dict(self.quota_refusals),
            late_share=self.late.share, late_actors=dict(sorted(self.late.counts.items())), **tally(self.call, statuses),
            **sections,
        )
