"""ApplicationWorkflow: one application's lifecycle, a `transitions` machine driven by updates and its own timers.

Every accepted change is an update whose validator compares `workflow.now()` with the governing deadline,
so a change at the deadline instant is refused even before any timer has fired.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import json
from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.exceptions import ApplicationError

from workflows import application_patches as patches
from workflows.alarm import Alarm
from workflows.application_checks import ApplicationChecks
from workflows.application_due import Model
from workflows.application_formal import FormalReview
from workflows.application_recommend import RecommendationRules
from workflows.refusal import Refused, refuse

with workflow.unsafe.imports_passed_through():
    from transitions import Machine

    from activities.quotas import PlaceInput, QuotaActivities
    from activities.records import QuotaInput, RecordActivities, Recorded, RecordInput, RegisterInput
    from models.call import CallDefinition, shared
    from models.call.levels import level_flags
    from models.call.timeline import stage_flags
    from models.instants import local
    from models.lifecycle import STAGED_PAPER_PATCH, TransitionSpec, Window, build_lifecycle, state_step
    from models.messages import (
        ActRequest,
        ApplicationInput,
        ApplicationState,
        ApplicationStatus,
        ExtendRequest,
        MigrateRequest,
        NoticeDraft,
        OnlineVersion,
        ReminderRecord,
        TransitionRecord,
    )
    from models.quotas import planned_counts
    from models.review.messages import Vacancy, stage_workflow_id
    from models.review.profile import profile_of
    from models.rules import Verdict, waiting_for_person
    from models.timetable import Timetable

RECORD_TIMEOUT = timedelta(seconds=30)


@workflow.defn
class ApplicationWorkflow(ApplicationChecks, FormalReview, RecommendationRules):
    @workflow.init
    def __init__(self, inp: ApplicationInput) -> None:
        inp = dataclasses.replace(inp, call=shared(inp.call))
        self.inp = inp
        self.call = inp.call
        self.zone = inp.call.zone
        self.s = inp.carried or ApplicationState(state=build_lifecycle(inp.call).initial)
        self.timetable: Timetable = inp.timetable
        self.staged_paper = True  # False from run() for a run that started before the patch STAGED_PAPER_PATCH
        self._adopt(inp.call)
        self.dirty = False
        self.lock = asyncio.Lock()
        self.registered = inp.carried is not None  # records row exists; transitions wait for it
        self.paper_receipts = False  # set from the "paper-receipts" patch when the run starts
        self.extension_floor = False  # set from the patch EXTENSION_FLOOR_PATCH when the run starts
        self.bulk = False  # set from the "bulk-closure" patch: the call's bulk closure makes the window's closes
        self.rec_rules = self.checking = False  # RECOMMENDATION_PATCH; rules of a recommender's step being checked
        self.closure: Recorded | None = None  # the bulk closure's record, carried by `window_closed`
        self.applied: frozenset[str] = frozenset()  # the patches the run's line applies, from started_on()
        self.alarm: Alarm | None = None  # set from STEADY_WAKE_PATCH when the run starts; None: a timeout per wait

    def _adopt(self, call: CallDefinition, formal_ok: bool = False) -> None:
        """Run under `call`'s definition (the shared instance): its lifecycle and a machine in the current state."""
        self.call = call
        self.lifecycle = build_lifecycle(call, self.staged_paper)
        self.model = Model(self.inp.flags | level_flags(call, self.inp.people.get("recommender", ""))
                           | stage_flags(call, self.inp.category))
        self.model.formal_ok = formal_ok
        self.model.formal_pending = self.s.state == "formal_pending"
        config = {**self.lifecycle.machine_config(), "initial": self.s.state}
        self.machine = Machine(model=self.model, **config)  # type: ignore[arg-type]

    # ---- changing state ------------------------------------------------------------------------------

    def _fire(self, spec: TransitionSpec, actor_id: str, role: str, reason: str, data: dict[str, str],
              deadline: datetime | None, at: datetime | None = None) -> tuple[TransitionRecord, list[NoticeDraft]]:
        now = at or workflow.now()
        source = self.model.state
        self.model.trigger(spec.trigger)
        dest = self.model.state
        if dest != spec.dest:
            raise ApplicationError(f"machine moved {source} -> {dest}, declaration says {spec.dest}")
        self.s.state = dest
        entry = self.deadlines.entry_deadline(dest, now)
        if entry:
            self.s.step_deadlines[entry[0]] = entry[1]
        if dest == "returned":
            self.s.step_deadlines.clear()
        record = TransitionRecord(seq=len(self.s.transitions), trigger=spec.trigger, source=source, dest=dest,
                                  actor_id=actor_id, role=role, reason=reason, at=now, deadline=deadline, data=data)
        self.s.transitions.append(record)
        self.dirty = True
        workflow.logger.info("transition", extra={"call_id": self.call.id, "application_id": self.inp.application_id,
                                                  "trigger": spec.trigger, "source": source, "dest": dest,
                                                  "actor_id": actor_id, "role": role})
        notices = [self._notice(f"{record.seq}:{r}", r, "transition", {
            "trigger": spec.trigger, "source": source, "dest": dest, "dest_label": dest.replace("_", " "),
            "actor_id": "（匿名）" if spec.anonymous and r != "manager" else actor_id, "role": role,
            "reason": reason}) for r in spec.notify]
        return record, notices

    def _notice(self, key: str, role: str, kind: str, data: dict[str, str]) -> NoticeDraft:
        who = self.inp.people.get(role, self.call.id)
        self.s.notices += 1
        return NoticeDraft(key=f"{workflow.info().workflow_id}:{key}", call_id=self.call.id,
                           application_id=self.inp.application_id, recipient=f"{role}:{who}", kind=kind, data=data)

    async def _record(self, record: TransitionRecord | None, notices: list[NoticeDraft],
                      verdicts: list[Verdict] | None = None) -> bool:
        """Record through the local activity, whose marker proves what the records DB holds; the transition is kept
        as stored (an abandoned attempt of this workflow task may have written it first, at its own instant). A bulk
        closure's transition whose record the `window_closed` signal carried is adopted from the signal instead.

        Runs started before record_transition returned `Recorded` got a count: unpatched, the result is left as
        plain JSON (the activity is named, not passed, so that its annotation does not decide the type).
        True when the window's bulk closure recorded this seq first: the closure is adopted, the change is not made.
        """
        await workflow.wait_condition(lambda: self.registered)
        async with self.lock:
            if record is not None and verdicts is None and (carried := self._carried(record)) is not None:
                self.s.transitions[record.seq] = carried
                return False
            recorded = await workflow.execute_local_activity(
                "record_transition",
                RecordInput(call_id=self.call.id, application_id=self.inp.application_id, state=self.s.state,
                            transition=record, notices=notices, verdicts=verdicts),
                result_type=Recorded if self._patched("record-returns-recorded") else None,
                start_to_close_timeout=RECORD_TIMEOUT,
            )
            if isinstance(recorded, Recorded) and record is not None and recorded.transition is not None:
                self.s.transitions[record.seq] = recorded.transition
                if self.bulk and recorded.transition.trigger != record.trigger:
                    self.s.state = recorded.transition.dest
                    self._adopt(self.call, self.model.formal_ok)
                    return True
        return False

    def _not_made(self, record: TransitionRecord) -> Refused:
        closed = self.s.transitions[record.seq]
        return Refused(f"{record.trigger} was not made: the window closed at {local(self.zone, closed.at)} before it "
                       f"was recorded ({closed.trigger} to {closed.dest})")

    # ---- handlers --------------------------------------------------------------------------------------

    @workflow.update
    async def act(self, req: ActRequest) -> TransitionRecord:
        if self.checking:  # the rules of the step just reached decide whether it may be recommended
            await workflow.wait_condition(lambda: not self.checking)
        why = self._refusal(req, workflow.now(), self._patched(patches.IDENTITY_PATCH))
        spec = self._resolve(req.trigger)
        if why or spec is None:
            raise Refused(why or f"cannot {req.trigger} now")
        deadline = self._bounds(spec.window)[1] if spec.window else None
        await self._take_quota_place(spec, req.actor_id)
        verdicts = self._override(req) if req.data.get("rule") else None
        if spec.trigger == "decide":  # the decision applied, the machine's facts say where the application goes
            spec = self._resolve(req.trigger) or spec
        data = {**req.data, **self._receipt()} if spec.trigger in ("submit", "resubmit") else req.data
        data = {**data, **self._judged_by_recommender(spec.trigger, spec.source)} if self.rec_rules else data
        record, notices = self._fire(spec, req.actor_id, req.role, req.reason, data, deadline)
        if await self._record(record, notices, verdicts):
            raise self._not_made(record)
        if (checked := await self._check_recommendation(record.dest)) is not None:
            await self._record(None, [], checked)
        if spec.trigger == "uphold_objection" and self.call.review is not None and self._patched("vacancy"):
            await self._vacate(req)
        return record

    async def _vacate(self, req: ActRequest) -> None:
        """Tell the deciding stage that this funded place is free (one signal): it promotes the next reserve."""
        final = [p.id for p in self.call.phases if p.kind == "expert_review"][-1]
        objector = next((t.actor_id for t in reversed(self.s.transitions) if t.trigger == "object"), "")
        await workflow.get_external_workflow_handle(stage_workflow_id(self.call.id, final)).signal(
            "vacancy", Vacancy(self.inp.application_id, self.inp.category, req.actor_id, req.reason, objector))

    async def _take_quota_place(self, spec: TransitionSpec, actor_id: str) -> None:
        """An endorsement at a step with a quota (推荐名额) takes one of its places, or is refused. The records DB
        decides, in one transaction per call at a time: the instant is this update's, and concurrent endorsements
        of other applications are counted before or after it, never beside it (activities/quotas.py)."""
        step = next((s for s in self.call.chain if state_step(spec.source) == s.id), None)
        quota = next((q for q in self.call.quotas if step is not None and q.step == step.id), None)
        if spec.trigger != "approve" or step is None or quota is None:
            return
        if self._patched("quota-forms"):
            place = await workflow.execute_local_activity_method(
                QuotaActivities.take_quota_place,
                PlaceInput(self.call.id, list(self.call.quotas), planned_counts(self.call), self.inp.application_id,
                           step.id, step.role, actor_id, self.inp.category,
                           sorted(k for k, v in self.inp.flags.items() if v)),
                start_to_close_timeout=RECORD_TIMEOUT,
            )
            if place.refusal:
                raise Refused(place.refusal)
            return
        used = await workflow.execute_local_activity_method(
            RecordActivities.reserve_quota,
            QuotaInput(self.call.id, step.id, actor_id, self.inp.application_id, quota.max or 0),
            start_to_close_timeout=RECORD_TIMEOUT,
        )
        if used < 0:
            raise Refused(f"{actor_id} has used all {quota.max} places of its quota at {step.name}; "
                          f"application {self.inp.application_id} cannot be endorsed")

    def _receipt(self) -> dict[str, str]:
        """Freeze the online version: a receipt number and the content hash the paper summary form must carry."""
        form = self.inp.form
        content = (form.model_dump_json() if form is not None else
                   json.dumps({"title": self.inp.title, "category": self.inp.category,
                               "attachments": sorted(self.inp.attachments), "flags": self.inp.flags}, sort_keys=True))
        count = sum(t.trigger in ("submit", "resubmit") for t in self.s.transitions) + 1
        self.s.receipt = f"{self.inp.application_id}/{count}"
        self.s.content_sha256 = hashlib.sha256(content.encode()).hexdigest()
        return {"receipt": self.s.receipt, "content_sha256": self.s.content_sha256}

    @act.validator
    def _validate_act(self, req: ActRequest) -> None:
        refuse(self._refusal(req, workflow.now()))

    @workflow.update
    async def extend_deadline(self, req: ExtendRequest) -> TransitionRecord:
        now = workflow.now()
        refuse(self._extension_refusal(req, now, self._patched(patches.IDENTITY_PATCH)))
        previous = self.deadlines.close(Window.of(req.window))
        granted = dict(self.s.extensions)
        self.s.extensions[req.window] = req.closes
        record = TransitionRecord(seq=len(self.s.transitions), trigger="extend_deadline", source=self.model.state,
                                  dest=self.model.state, actor_id=req.actor_id, role=req.role, reason=req.reason,
                                  at=now, deadline=previous,
                                  data={"window": req.window, "previous": local(self.zone, previous),
                                        "new": local(self.zone, req.closes)})
        self.s.transitions.append(record)
        self.dirty = True
        if await self._record(record, [self._notice(f"{record.seq}:applicant", "applicant", "transition", {
                "trigger": "extend_deadline", "source": record.source, "dest": record.dest,
                "dest_label": f"deadline {req.window} extended to {local(self.zone, req.closes)}",
                "actor_id": req.actor_id, "role": req.role, "reason": req.reason})]):
            self.s.extensions = granted
            raise self._not_made(record)
        return record

    @extend_deadline.validator
    def _validate_extend(self, req: ExtendRequest) -> None:
        refuse(self._extension_refusal(req, workflow.now()))

    @workflow.update
    async def migrate(self, req: MigrateRequest) -> TransitionRecord:
        """Move a running application to a revised call definition, explicitly and with a reason."""
        refuse(self._migration_refusal(req, self._patched(patches.IDENTITY_PATCH)))
        previous, before = self.call.version(), self.call
        self._adopt(shared(req.definition), self.model.formal_ok)
        state = self.model.state
        record = TransitionRecord(seq=len(self.s.transitions), trigger="migrate", source=state, dest=state,
                                  actor_id=req.actor_id, role=req.role, reason=req.reason, at=workflow.now(),
                                  data={"from_version": previous, "to_version": self.call.version()})
        self.s.transitions.append(record)
        self.dirty = True
        if await self._record(record, []):
            self._adopt(before, self.model.formal_ok)
            raise self._not_made(record)
        return record

    @migrate.validator
    def _validate_migrate(self, req: MigrateRequest) -> None:
        refuse(self._migration_refusal(req))

    @workflow.signal
    def timetable_changed(self, timetable: Timetable) -> None:
        if timetable.seq > self.timetable.seq:
            self.timetable = timetable
            self.dirty = True

    @workflow.signal
    def window_closed(self, phase: str, closure: Recorded | None = None) -> None:
        """The call closed `phase` in bulk: catch up now, adopting the closure's record if the signal carries one."""
        self.closure = closure or self.closure
        self.dirty = True

    @workflow.query
    def status(self) -> ApplicationStatus:
        return ApplicationStatus(
            call_id=self.call.id, application_id=self.inp.application_id, state=self.model.state,
            closed=self._finished(workflow.now()), version=self.call.version(), deadlines=self.deadlines.all(),
            transitions=list(self.s.transitions), formal_findings=list(self.s.formal_findings),
            timetable_seq=self.timetable.seq, verdicts=list(self.s.verdicts), reminders=list(self.s.reminder_log),
            receipt=self.s.receipt, content_sha256=self.s.content_sha256, category=self.inp.category,
            cohort=self.inp.cohort, recommender=self.inp.people.get("recommender", ""),
            binding={key: b.rule for key, b in self.deadlines.bindings().items()}, timezone=self.call.timezone,
            people=dict(self.inp.people),
        )

    @workflow.query
    def online_version(self) -> OnlineVersion:
        i = self.inp
        return OnlineVersion(self.call, i.application_id, i.category, i.title, dict(i.people), dict(i.flags),
                             list(i.attachments), i.form, self.s.receipt, self.s.content_sha256)

    # ---- the run loop: timers for system transitions and reminders ---------------------------------

    async def _fire_due(self, at: datetime, spec: TransitionSpec, key: str) -> None:
        if key:
            await self._remind(spec, key)
            return
        verdicts = None
        covered = self._covered(at, spec)
        if "formal_ok" in spec.conditions + spec.unless:
            verdicts = await self._formal_review()
        due = spec.due
        spec = next((t for t in self.lifecycle.outgoing(self.model.state) if t.due == due and self._holds(t)), spec)
        reason = "; ".join(self.s.formal_findings) if spec.trigger == "fail_formal" else f"due {local(self.zone, at)}"
        if spec.trigger == "hold_formal":
            reason = "a person decides: " + ", ".join(waiting_for_person(self.s.verdicts))
        record, notices = self._fire(spec, "grantflow", "system", reason, {}, at, at if covered else None)
        await self._record(record, notices, verdicts)

    async def _remind(self, spec: TransitionSpec, key: str) -> None:
        """Remind whoever still has to act, tell them it is overdue, or escalate to the manager; once per key."""
        self.s.reminded.append(key)
        window = spec.window or spec.service
        deadline = local(self.zone, self._bounds(window)[1]) if window else ""
        kind = {"overdue": "overdue", "escalate": "escalation"}.get(key.split(":")[0], "reminder")
        roles = ("manager",) if kind == "escalation" else spec.roles
        self.s.reminder_log.append(ReminderRecord(key, kind, workflow.now(), self.model.state, list(roles)))
        notices = [self._notice(f"{key}:{role}", role, kind, {"action": spec.trigger, "deadline": deadline})
                   for role in roles]
        await self._record(None, notices)

    @workflow.run
    async def run(self, inp: ApplicationInput) -> ApplicationStatus:
        inp = self.inp  # holding the shared definition, so the decoded copy can go
        self.applied = patches.started_on()
        self.paper_receipts = self._patched("paper-receipts")
        self.bulk = self._patched("bulk-closure")
        self.extension_floor = self._patched(patches.EXTENSION_FLOOR_PATCH)
        self.rec_rules = self._patched(patches.RECOMMENDATION_PATCH)
        self.alarm = Alarm() if self._patched(patches.STEADY_WAKE_PATCH) else None
        if not self._patched(STAGED_PAPER_PATCH):
            self.staged_paper = False
            self._adopt(self.call, self.model.formal_ok)
        if inp.carried is None:
            self.s.created = workflow.info().workflow_start_time
            people = inp.people
            newer = await workflow.execute_local_activity_method(
                RecordActivities.register_application,
                RegisterInput(call_id=self.call.id, application_id=inp.application_id,
                              workflow_id=workflow.info().workflow_id, category=inp.category, title=inp.title,
                              applicant=people.get("applicant", ""), unit=people.get("unit_admin"),
                              version=self.call.version(), timetable_seq=self.timetable.seq,
                              people=dict(people) if self.bulk else {}, named=dict(people), cohort=inp.cohort,
                              created=self.s.created,
                              profile=profile_of(self.call, inp.application_id, inp.category, people, inp.form,
                                                 inp.flags) if self.call.review is not None else None),
                start_to_close_timeout=RECORD_TIMEOUT,
            )
            self.registered = True
            if newer is not None and newer.seq > self.timetable.seq:
                self.timetable = newer
        while True:
            now = workflow.now()
            items = self._due_items()
            if items and items[0][0] <= now:
                await self._fire_due(*items[0])
                continue
            if self._finished(now):
                break
            if workflow.info().is_continue_as_new_suggested():
                await workflow.wait_condition(workflow.all_handlers_finished)
                workflow.continue_as_new(ApplicationInput(**{**inp.__dict__, "call": self.call,
                                                             "timetable": self.timetable, "carried": self.s}))
            wakes = self._wakes(items, now)
            self.dirty = False
            if self.alarm is not None:
                self.alarm.set(min(wakes) if wakes else None)
                await workflow.wait_condition(lambda: self.dirty or self.alarm is not None and self.alarm.rang)
                continue
            try:
                await workflow.wait_condition(lambda: self.dirty,
                                              timeout=(min(wakes) - now) if wakes else None)
            except TimeoutError:
                pass
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self.status()
