"""ReviewStageWorkflow: one expert-review stage (draw, tasks with deadlines, reminders and reassignment, reviews,
settling, the ranked list kept through publicity for promotion); README, "Expert review", says why tasks live here."""

from __future__ import annotations

from datetime import datetime, timedelta

from temporalio import workflow

from workflows.refusal import Refused
from workflows.review_defence import DEFENCE_PATCH, SEAT_PATCH, DefenceStage
from workflows.review_publicity import PUBLICITY_RESULT, publicity_result

with workflow.unsafe.imports_passed_through():
    from activities.review_draw import DrawInput, ReassignInput, ReviewDrawActivities, Vacated
    from activities.review_settle import ReviewSettleActivities, SettleInput
    from models.calendar import CalendarNotCovered
    from models.identity import assigned_refusal, refusal
    from models.instants import local
    from models.messages import NoticeDraft
    from models.review.messages import (
        DECLINED,
        LAPSED,
        OPEN,
        SUBMITTED,
        ManagerRequest,
        Outcome,
        Pair,
        Review,
        ReviewRequest,
        StageInput,
        StageProgress,
        StageState,
        StageStatus,
        Task,
        Vacancy,
    )
    from models.review.sheets import sheet_problems, total

TIMEOUT = timedelta(minutes=5)
BROADCAST_TIMEOUT = timedelta(minutes=30)
HEARTBEAT = timedelta(seconds=30)


@workflow.defn
class ReviewStageWorkflow(DefenceStage):
    @workflow.init
    def __init__(self, inp: StageInput) -> None:
        self.inp = inp
        self.call = inp.call
        assert inp.call.review is not None
        self.rules = inp.call.review
        self.stage = self.rules.stage(inp.phase_id)
        self.role = inp.call.phase(inp.phase_id).role or "expert"
        self.s = inp.carried or StageState()
        self.dirty = False
        self._index()
        self.ended = False

    # ---- deadlines and tasks --------------------------------------------------------------------------

    def _due(self, start: datetime) -> datetime:
        """A task's deadline: N working days from its assignment, never after a dated close of the phase."""
        try:
            due = self.inp.calendar.end_after_working_days(start, self.stage.task_working_days, self.call.zone)
        except CalendarNotCovered:  # a year without its official list: weekdays stand in, never a stuck stage
            due = start + timedelta(days=self.stage.task_working_days * 7 // 5 + 1)
        return min(due, self.inp.closes) if self.inp.closes is not None else due

    def _index(self) -> None:
        """Tasks and reviews by (application, expert): a look-up must not scan every task of a large stage."""
        self.tasks_of: dict[tuple[str, str], list[Task]] = {}
        self.reviews_of: dict[tuple[str, str], list[Review]] = {}
        for t in self.s.tasks:
            self.tasks_of.setdefault((t.application_id, t.expert_id), []).append(t)
        for r in self.s.reviews:
            self.reviews_of.setdefault((r.application_id, r.expert_id), []).append(r)

    def _open_task(self, application_id: str, expert_id: str) -> Task | None:
        return next((t for t in self.tasks_of.get((application_id, expert_id), []) if t.status == OPEN), None)

    def _review_refusal(self, req: ReviewRequest, now: datetime, declining: bool, seats: bool = True) -> str | None:
        if req.role != self.role:
            return f"role {req.role} may not review in {self.inp.phase_id} (allowed: {self.role})"
        who = assigned_refusal(req.identity, req.expert_id, req.role)
        if who:
            return who
        if self.s.settled is not None:
            return f"stage {self.inp.phase_id} is settled; no review is taken"
        task = self._open_task(req.application_id, req.expert_id)
        if task is None:
            return f"{req.expert_id} has no open review task for application {req.application_id} in this stage"
        slot = self._decline_refusal(task, now) if declining and seats else self._slot_refusal(task, now)
        if slot:
            return slot
        if now >= task.due:
            return (f"deadline passed: the review task closed at {local(self.call.zone, task.due)}; the request came "
                    f"at {local(self.call.zone, now)}")
        if declining:
            return None if req.reason.strip() else "a decline needs a reason"
        problems = sheet_problems(self.rules.sheet, req.scores, req.comments)
        return "; ".join(problems) if problems else None

    # ---- experts' and managers' updates ----------------------------------------------------------------

    @workflow.update
    def submit_review(self, req: ReviewRequest) -> Review:
        why = self._review_refusal(req, workflow.now(), False)
        task = self._open_task(req.application_id, req.expert_id)
        if why or task is None:
            raise Refused(why or "no open task")
        task.status = SUBMITTED
        earlier = self.reviews_of.get((req.application_id, req.expert_id), [])
        for r in earlier:
            self.s.reviews.remove(r)
        review = Review(req.application_id, req.expert_id, dict(req.scores), dict(req.comments),
                        total(self.rules.sheet, req.scores), workflow.now(), len(earlier) + 1)
        self.s.reviews.append(review)
        self.reviews_of[(req.application_id, req.expert_id)] = [review]
        self.dirty = True
        return review

    @submit_review.validator
    def _validate_submit(self, req: ReviewRequest) -> None:
        why = self._review_refusal(req, workflow.now(), False)
        if why:
            raise Refused(why)

    @workflow.update
    def decline_review(self, req: ReviewRequest) -> Task:
        seats = self._slot(req.application_id) is not None and workflow.patched(SEAT_PATCH)
        why = self._review_refusal(req, workflow.now(), True, seats)
        task = self._open_task(req.application_id, req.expert_id)
        if why or task is None:
            raise Refused(why or "no open task")
        task.status, task.reason = DECLINED, f"declined by {req.expert_id}: {req.reason}"
        self.dirty = True
        return task

    @decline_review.validator
    def _validate_decline(self, req: ReviewRequest) -> None:
        why = self._review_refusal(req, workflow.now(), True)
        if why:
            raise Refused(why)

    def _reopen_refusal(self, req: ManagerRequest) -> str | None:
        if req.role != "manager":
            return f"role {req.role} may not reopen a review (allowed: manager)"
        who = refusal(req.identity, req.actor_id, req.role, self._target())
        if who:
            return who
        if not req.reason.strip():
            return "reopening a review needs a reason"
        if self.s.settled is not None:
            return f"stage {self.inp.phase_id} is settled"
        if not any(r.final for r in self.reviews_of.get((req.application_id, req.expert_id), [])):
            return f"no submitted review of {req.application_id} by {req.expert_id} to reopen"
        return None

    @workflow.update
    def reopen_review(self, req: ManagerRequest) -> Task:
        """A submitted review is final unless a manager reopens it, with a reason: the expert gets a new task."""
        why = self._reopen_refusal(req)
        if why:
            raise Refused(why)
        now = workflow.now()
        for r in self.reviews_of.get((req.application_id, req.expert_id), []):
            r.final = False
        category = next(t.category for t in self.s.tasks if t.application_id == req.application_id)
        task = Task(req.application_id, req.expert_id, category, now, self._due(now), reason=f"reopened: {req.reason}")
        self._add_task(task)
        self.s.log.append(f"{local(self.call.zone, now)} {req.role} {req.actor_id} reopened {req.application_id} "
                          f"<- {req.expert_id}: {req.reason}")
        self.dirty = True
        return task

    @reopen_review.validator
    def _validate_reopen(self, req: ManagerRequest) -> None:
        why = self._reopen_refusal(req)
        if why:
            raise Refused(why)

    def _decide_refusal(self, req: ManagerRequest) -> str | None:
        if req.role not in ("manager", "committee"):
            return f"role {req.role} may not approve the ranked list (allowed: manager, committee)"
        who = refusal(req.identity, req.actor_id, req.role, self._target())
        if who:
            return who
        if not req.reason.strip():
            return "approving the ranked list needs a reason"
        if not self.inp.final:
            return f"{self.inp.phase_id} is not the deciding stage"
        if self.s.settled is None:
            return f"stage {self.inp.phase_id} is not settled yet: reviews are still open"
        if self.s.decided:
            return "the ranked list is already approved"
        return None

    @workflow.update
    async def decide(self, req: ManagerRequest) -> int:
        """The committee or manager approves the ranked list: funded, reserve and not-funded notices go out."""
        why = self._decide_refusal(req)
        if why or self.s.settled is None:
            raise Refused(why or "not settled")
        self.s.decided = True
        self.s.log.append(f"{local(self.call.zone, workflow.now())} {req.role} {req.actor_id} approved the ranked "
                          f"list: {req.reason}")
        told = await self._announce(self.s.settled.outcomes, f"{req.role}:{req.actor_id}")
        self.dirty = True
        return told

    @decide.validator
    def _validate_decide(self, req: ManagerRequest) -> None:
        why = self._decide_refusal(req)
        if why:
            raise Refused(why)

    @workflow.signal
    def phase_closed(self) -> None:
        self.s.closed = True
        self.dirty = True

    @workflow.signal
    def publicity_closed(self) -> None:
        self.ended = True
        self.dirty = True

    @workflow.signal
    def vacancy(self, v: Vacancy) -> None:
        self.s.vacancies.append(v)
        self.dirty = True

    @workflow.query
    def status(self) -> StageStatus:
        return StageStatus(self.call.id, self.inp.phase_id, self.s)

    @workflow.query
    def progress(self) -> StageProgress:
        """What a driver polls: a few flags and the open tasks, not the whole state (thousands of tasks and reviews)."""
        return StageProgress(self.s.drawn is not None, self.s.settled is not None, self.s.decided,
                             [t for t in self.s.tasks if t.status == OPEN])

    # ---- activities ------------------------------------------------------------------------------------

    async def _draw(self) -> None:
        opened = self.inp.opened
        previous = self.call.phases[[p.id for p in self.call.phases].index(self.inp.phase_id) - 1]
        states = [f"in_{self.inp.phase_id}"] + (["formal_passed"] if previous.kind != "expert_review" else [])
        if self.stage.defence is not None and workflow.patched(DEFENCE_PATCH):
            await self._schedule(states, previous.id if previous.kind == "expert_review" else None)
            return self._index()
        drawn = await workflow.execute_activity_method(
            ReviewDrawActivities.draw_stage,
            DrawInput(self.call, self.inp.phase_id, opened, self._due(opened), states, self.inp.previous),
            start_to_close_timeout=BROADCAST_TIMEOUT, heartbeat_timeout=HEARTBEAT)
        self.s.drawn = drawn
        due = self._due(opened)
        self.s.tasks = [Task(p.application_id, p.expert_id, p.category, opened, due) for p in drawn.pairs]
        self._index()
        await self._notify([self._notice(f"assigned:{t.application_id}:{t.expert_id}", f"expert:{t.expert_id}",
                                         "assigned", t.application_id,
                                         {"action": "review", "deadline": local(self.call.zone, t.due)})
                            for t in self.s.tasks])

    async def _replace(self, vacated: list[Task], now: datetime) -> None:
        """The next-best eligible experts take the declined and lapsed tasks (one activity for all of them), if a
        deadline is still possible."""
        self.s.reassigned += len(vacated)
        due = self._due(now)
        batch = {id(t) for t in vacated}
        active = [Pair(t.application_id, t.expert_id, t.category) for t in self.s.tasks
                  if t.status in (OPEN, SUBMITTED) or id(t) in batch]
        items = [Vacated(t.application_id, t.expert_id, t.reason,
                         [x.expert_id for x in self.s.tasks if x.application_id == t.application_id]) for t in vacated]
        added: list[str] = [""] * len(vacated) if due <= now else await workflow.execute_activity_method(
            ReviewDrawActivities.reassign_tasks, ReassignInput(self.call, self.inp.phase_id, items, active,
                                                               self.inp.opened, due),
            start_to_close_timeout=BROADCAST_TIMEOUT)
        notices: list[NoticeDraft] = []
        for task, expert in zip(vacated, added):
            self.s.log.append(f"{local(self.call.zone, now)} system grantflow reassigned {task.application_id} from "
                              f"{task.expert_id} to {expert or 'nobody (no eligible expert or no time left)'}: "
                              f"{task.reason}")
            if expert:
                self._add_task(Task(task.application_id, expert, task.category, now, due,
                                    reason=f"replaces {task.expert_id}"))
                notices.append(self._notice(f"assigned:{task.application_id}:{expert}", f"expert:{expert}", "assigned",
                                            task.application_id,
                                            {"action": "review", "deadline": local(self.call.zone, due)}))
        await self._notify(notices)

    async def _tend(self, now: datetime) -> datetime | None:
        """Lapse tasks at their deadline, replace declined and lapsed ones, send reminders due; the next wake-up."""
        for task in [t for t in self.s.tasks if t.status == OPEN and t.due <= now]:
            task.status, task.reason = LAPSED, f"no review by the deadline {local(self.call.zone, task.due)}"
            self.s.late += 1
        vacated = [t for t in self.s.tasks if t.status in (DECLINED, LAPSED) and not t.replaced]
        for task in vacated:
            task.replaced = True
        if vacated and not self.s.closed and not (self.s.drawn and self.s.drawn.slots):
            await self._replace(vacated, now)
        elif vacated and not self.s.closed:  # a defence: its declined seats are filled (before the patch, sat as drawn)
            await self._fill_seats(vacated, now)
        notices: list[NoticeDraft] = []
        wakes: list[datetime] = []
        for t in [t for t in self.s.tasks if t.status == OPEN]:
            wakes.append(t.due)
            for ahead in self.call.reminders:
                at, key = t.due - ahead, f"remind{int(ahead.total_seconds())}"
                if at <= t.assigned_at or key in t.reminded:
                    continue
                if at <= now:
                    t.reminded.append(key)
                    notices.append(self._notice(f"{key}:{t.application_id}:{t.expert_id}:{t.due.isoformat()}",
                                                f"expert:{t.expert_id}", "reminder", t.application_id,
                                                {"action": "review", "deadline": local(self.call.zone, t.due)}))
                else:
                    wakes.append(at)
        early, later = self._materials_reminders(now)  # a defence's applicants (none in other stages)
        await self._notify(notices + early)
        return min(wakes + later) if wakes or later else None

    async def _settle(self) -> None:
        for t in self.s.tasks:
            if t.status == OPEN:
                t.status, t.reason = LAPSED, "the stage closed"
        absent = {a.application_id for a in self.s.absent}  # withdrawn already: out of the ranking
        applications = sorted(({t.application_id for t in self.s.tasks} | set(self.s.drawn.short if self.s.drawn else []))
                              - absent)
        self.s.settled = await workflow.execute_activity_method(
            ReviewSettleActivities.settle_stage,
            SettleInput(self.call, self.inp.phase_id, self.inp.final, applications,
                        [r for r in self.s.reviews if r.final], workflow.info().workflow_id),
            start_to_close_timeout=BROADCAST_TIMEOUT)
        if not self.inp.final:
            await self._announce(self.s.settled.outcomes, workflow.info().workflow_id)

    async def _fill(self, v: Vacancy) -> None:
        """Promote the category's next reserve into the vacated place and tell everyone affected."""
        settled = self.s.settled
        reserves = settled.reserves.get(v.category, []) if settled else []
        now = workflow.now()
        promoted = reserves.pop(0) if reserves else ""
        if settled is not None and v.application_id in settled.funded.get(v.category, []):
            settled.funded[v.category].remove(v.application_id)
        if promoted and settled is not None:
            settled.funded[v.category].append(promoted)
            self.s.promoted.append(promoted)
            await self._announce([Outcome(promoted, "promote", f"{v.application_id} vacated its place after an "
                                          f"upheld objection ({v.reason}); next on the ranked list")],
                                 workflow.info().workflow_id)
        self.s.log.append(f"{local(self.call.zone, now)} manager {v.actor_id} upheld an objection to "
                          f"{v.application_id}: {v.reason}; promoted {promoted or 'nobody (no reserve left)'}")
        data = {"application_id": v.application_id, "promoted": promoted or "-", "reason": v.reason}
        told = [("manager", f"manager:{v.actor_id}")] + ([("objector", f"public:{v.objector}")] if v.objector else [])
        await self._notify([self._notice(f"vacancy:{v.application_id}:{who}", to, "vacancy", v.application_id, data)
                            for who, to in told])

    # ---- the run loop ------------------------------------------------------------------------------

    @workflow.run
    async def run(self, inp: StageInput) -> StageStatus:
        if self.s.drawn is None:
            await self._draw()
        while True:
            now = workflow.now()
            wake = await self._tend(now) if self.s.settled is None else None
            if self.s.settled is None and (self.s.closed or not any(t.status == OPEN for t in self.s.tasks)):
                await self._settle()
                if not self.inp.final:
                    break
            while self.s.decided and self.s.vacancies:
                await self._fill(self.s.vacancies.pop(0))
            if self.ended:
                if self.s.decided and self.s.settled is not None and workflow.patched(PUBLICITY_RESULT):
                    await self._notify(await publicity_result(self.call, self.s))
                break
            if workflow.info().is_continue_as_new_suggested():
                await workflow.wait_condition(workflow.all_handlers_finished)
                workflow.continue_as_new(StageInput(**{**inp.__dict__, "carried": self.s}))
            self.dirty = False
            try:
                await workflow.wait_condition(lambda: self.dirty, timeout=(wake - now) if wake else None)
            except TimeoutError:
                pass
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self.status()
