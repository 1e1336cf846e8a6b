"""A review stage's notices and outcomes, and its defence (答辩): the scheduled hearings, each applicant's slot notice,
the materials deadline its validator holds, a declined seat filled, and absence recorded as withdrawal (逾期未参加视为弃权)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from temporalio import workflow

from workflows.refusal import Refused

with workflow.unsafe.imports_passed_through():
    from activities.records import RecordActivities, RecordInput
    from activities.review_defence import Declined, ReviewDefenceActivities, ScheduleInput, Seated, SeatInput
    from activities.review_settle import AnnounceInput, ReviewSettleActivities
    from models.call import CallDefinition, StageDef
    from models.identity import Target, refusal
    from models.instants import local
    from models.lifecycle import build_lifecycle
    from models.messages import NoticeDraft
    from models.review.messages import (
        ABSENT,
        DECLINED,
        OPEN,
        Absence,
        DefenceSlot,
        ManagerRequest,
        MaterialsRequest,
        Outcome,
        StageInput,
        StageState,
        Task,
    )

DEFENCE_PATCH = "defence"
SEAT_PATCH = "defence-seat"  # a panel member declines before the hearing only, and the seat is filled
TIMEOUT = timedelta(minutes=5)
BROADCAST_TIMEOUT = timedelta(minutes=30)
HEARTBEAT = timedelta(seconds=30)
SHA256 = re.compile(r"^[0-9a-f]{64}$")


class StageBase:
    """What every review stage does beside its tasks: its target for identity checks, notices, telling outcomes."""

    inp: StageInput
    call: CallDefinition
    stage: StageDef
    s: StageState
    dirty: bool
    tasks_of: dict[tuple[str, str], list[Task]]

    def _add_task(self, task: Task) -> None:
        self.s.tasks.append(task)
        self.tasks_of.setdefault((task.application_id, task.expert_id), []).append(task)

    def _target(self) -> Target:
        return Target(call=self.call.id, programme=self.call.programme)

    async def _announce(self, outcomes: list[Outcome], actor: str) -> int:
        told: int = await workflow.execute_activity_method(
            ReviewSettleActivities.announce, AnnounceInput(self.call.id, actor, outcomes),
            start_to_close_timeout=BROADCAST_TIMEOUT, heartbeat_timeout=HEARTBEAT)
        return told

    async def _notify(self, notices: list[NoticeDraft]) -> None:
        if notices:
            await workflow.execute_activity_method(
                RecordActivities.record_transition, RecordInput(self.call.id, "", "", None, notices),
                start_to_close_timeout=TIMEOUT)

    def _notice(self, key: str, recipient: str, kind: str, application_id: str, data: dict[str, str]) -> NoticeDraft:
        self.s.notices += 1
        return NoticeDraft(key=f"{workflow.info().workflow_id}:{key}", call_id=self.call.id,
                           application_id=application_id, recipient=recipient, kind=kind, data=data)


class DefenceStage(StageBase):
    """The defence's part of a stage: scheduling, materials and absence (only for a stage the file calls a defence)."""

    def _slot(self, application_id: str) -> DefenceSlot | None:
        slots = self.s.drawn.slots if self.s.drawn else []
        return next((x for x in slots if x.application_id == application_id), None)

    def _when(self, at: datetime) -> str:
        return local(self.call.zone, at)

    async def _schedule(self, states: list[str], previous_phase: str | None) -> None:
        """Hearings in order, a panel per slot; each expert gets a task from their slot to its day's end, each
        applicant a notice of the slot and the materials deadline (never the panel)."""
        into = f"in_{self.inp.phase_id}"  # and those whose own timer moves them in at this same instant
        waiting = sorted({t.source for t in build_lifecycle(self.call).transitions
                          if t.trigger == "start_review" and t.dest == into} - set(states))
        drawn = await workflow.execute_activity_method(
            ReviewDefenceActivities.schedule_defence,
            ScheduleInput(self.call, self.inp.calendar, self.inp.phase_id, self.inp.opened, self.inp.closes,
                          states + waiting, self.inp.previous, previous_phase),
            start_to_close_timeout=BROADCAST_TIMEOUT, heartbeat_timeout=HEARTBEAT)
        self.s.drawn = drawn
        slot = {x.application_id: x for x in drawn.slots}
        for p in drawn.pairs:  # indexed as they come: an expert may decline while the notices below are recorded
            self._add_task(Task(p.application_id, p.expert_id, p.category, slot[p.application_id].starts,
                                slot[p.application_id].scores_due))
        self.s.log += [f"{self._when(workflow.now())} system grantflow could not schedule {a}: no slot with a full "
                       f"panel free of conflict" for a in drawn.short]
        seated = {x.application_id: sum(t.application_id == x.application_id for t in self.s.tasks) for x in drawn.slots}
        size = self.stage.defence.panel if self.stage.defence else 0
        self.s.log += [f"{self._when(workflow.now())} system grantflow seated {k} of {size} for {a}: no other "
                       f"eligible expert free then has room" for a, k in seated.items() if k < size]
        phase = self.call.phase(self.inp.phase_id).name
        notices = [self._notice(f"defence:{x.application_id}", f"applicant:{x.applicant}", "defence_slot",
                                x.application_id, {"phase_name": phase, "starts": self._when(x.starts),
                                                   "ends": self._when(x.ends),
                                                   "materials_due": self._when(x.materials_due)})
                   for x in drawn.slots]
        notices += [self._notice(f"assigned:{t.application_id}:{t.expert_id}", f"expert:{t.expert_id}", "assigned",
                                 t.application_id, {"action": "defence", "deadline": self._when(t.due)})
                    for t in self.s.tasks]
        await self._notify(notices)

    def _materials_reminders(self, now: datetime) -> tuple[list[NoticeDraft], list[datetime]]:
        """Reminders before each materials deadline (the call's `reminders`) to applicants who have sent none, and
        when the next one is due."""
        notices: list[NoticeDraft] = []
        wakes: list[datetime] = []
        for x in self.s.drawn.slots if self.s.drawn else []:
            if x.application_id in self.s.materials or any(a.application_id == x.application_id for a in self.s.absent):
                continue
            for ahead in self.call.reminders:
                at, key = x.materials_due - ahead, f"materials{int(ahead.total_seconds())}"
                if at <= self.inp.opened or at >= x.materials_due or key in x.reminded:
                    continue
                if at > now:
                    wakes.append(at)
                    continue
                x.reminded.append(key)
                notices.append(self._notice(f"{key}:{x.application_id}", f"applicant:{x.applicant}", "reminder",
                                            x.application_id, {"action": "defence_materials",
                                                               "deadline": self._when(x.materials_due)}))
        return notices, wakes

    def _slot_refusal(self, task: Task, now: datetime) -> str | None:
        """A defence's panel scores an application only once its hearing has begun."""
        slot = self._slot(task.application_id)
        if slot is not None and now < slot.starts:
            return (f"the defence of {task.application_id} begins at {self._when(slot.starts)}; its panel scores "
                    f"from then (the request came at {self._when(now)})")
        return None

    # ---- a declined seat ------------------------------------------------------------------------------------

    def _decline_refusal(self, task: Task, now: datetime) -> str | None:
        """A panel member declines before the hearing begins, so that the seat can be filled; from then, no more."""
        slot = self._slot(task.application_id)
        if slot is not None and now >= slot.starts:
            return (f"the defence of {task.application_id} began at {self._when(slot.starts)}; a panel member "
                    f"declines before it begins (the request came at {self._when(now)})")
        return None

    async def _fill_seats(self, vacated: list[Task], now: datetime) -> None:
        """Each declined seat to an expert eligible and free for the whole slot, in one activity; with nobody, the
        seat stays empty, the call's managers are told and the hearing runs with the rest of its panel."""
        declined = [t for t in vacated if t.status == DECLINED]
        if not declined or not workflow.patched(SEAT_PATCH):
            return
        slots = {x.application_id: x for x in self.s.drawn.slots} if self.s.drawn else {}
        self.s.reassigned += len(declined)

        def seat(t: Task) -> Seated:
            return Seated(t.application_id, t.expert_id, slots[t.application_id].starts, slots[t.application_id].ends)
        items = [Declined(seat(t), t.reason, [x.expert_id for x in self.s.tasks if x.application_id == t.application_id],
                          slots[t.application_id].scores_due) for t in declined]
        added: list[str] = await workflow.execute_activity_method(
            ReviewDefenceActivities.fill_seats,
            SeatInput(self.call, self.inp.calendar, self.inp.phase_id, self.inp.opened, self.inp.closes,
                      len(slots) + len(self.s.drawn.short if self.s.drawn else []), items,
                      [seat(t) for t in self.s.tasks if t.status != DECLINED and t.application_id in slots]),
            start_to_close_timeout=BROADCAST_TIMEOUT)
        notices: list[NoticeDraft] = []
        for task, expert in zip(declined, added):
            slot, at = slots[task.application_id], self._when(now)
            if expert:
                self._add_task(Task(task.application_id, expert, task.category, now, slot.scores_due,
                                    reason=f"replaces {task.expert_id}"))
                self.s.log.append(f"{at} system grantflow seated {expert} on the panel of {task.application_id}: "
                                  f"replaces {task.expert_id} ({task.reason})")
                notices.append(self._notice(f"assigned:{task.application_id}:{expert}", f"expert:{expert}", "assigned",
                                            task.application_id, {"action": "defence",
                                                                  "deadline": self._when(slot.scores_due)}))
                continue
            left = sum(t.application_id == task.application_id and t.status == OPEN for t in self.s.tasks)
            self.s.log.append(f"{at} system grantflow left the seat of {task.expert_id} on the panel of "
                              f"{task.application_id} empty: no eligible expert is free for the whole slot; the hearing "
                              f"runs with the other {left} ({task.reason})")
            notices.append(self._notice(f"seat:{task.application_id}:{task.expert_id}", f"manager:{self.call.id}",
                                        "seat_empty", task.application_id,
                                        {"starts": self._when(slot.starts), "ends": self._when(slot.ends),
                                         "remaining": str(left), "reason": task.reason}))
        await self._notify(notices)

    # ---- materials ----------------------------------------------------------------------------------------

    def _materials_refusal(self, req: MaterialsRequest, now: datetime) -> str | None:
        slot = self._slot(req.application_id)
        if slot is None:
            return f"application {req.application_id} has no slot in the defence {self.inp.phase_id}"
        target = Target(call=self.call.id, programme=self.call.programme, application=req.application_id,
                        applicant=slot.applicant)
        who = refusal(req.identity, req.actor_id, "applicant", target)
        if who:
            return who
        if not SHA256.match(req.content_sha256):
            return "content_sha256: give the SHA-256 of the materials as 64 lowercase hex digits"
        if any(a.application_id == req.application_id for a in self.s.absent):
            return f"application {req.application_id} was recorded absent: it has withdrawn"
        if now >= slot.materials_due:
            return (f"deadline passed: the defence materials of {req.application_id} were due at "
                    f"{self._when(slot.materials_due)}; the request came at {self._when(now)}")
        return None

    @workflow.update
    def submit_materials(self, req: MaterialsRequest) -> datetime:
        """The applicant's defence materials (slides, liaison form), before their deadline; a later copy replaces
        an earlier one."""
        now = workflow.now()
        why = self._materials_refusal(req, now)
        if why:
            raise Refused(why)
        self.s.materials[req.application_id] = now
        self.s.log.append(f"{self._when(now)} applicant {req.actor_id} sent the defence materials of "
                          f"{req.application_id} (sha256 {req.content_sha256})")
        self.dirty = True
        return now

    @submit_materials.validator
    def _validate_materials(self, req: MaterialsRequest) -> None:
        why = self._materials_refusal(req, workflow.now())
        if why:
            raise Refused(why)

    # ---- absence --------------------------------------------------------------------------------------------

    def _absence_refusal(self, req: ManagerRequest, now: datetime) -> str | None:
        if req.role != "manager":
            return f"role {req.role} may not record an absence (allowed: manager)"
        who = refusal(req.identity, req.actor_id, req.role, self._target())
        if who:
            return who
        if not req.reason.strip():
            return "recording an absence needs a reason"
        slot = self._slot(req.application_id)
        if slot is None:
            return f"application {req.application_id} has no slot in the defence {self.inp.phase_id}"
        if self.s.settled is not None:
            return f"stage {self.inp.phase_id} is settled"
        if any(a.application_id == req.application_id for a in self.s.absent):
            return f"application {req.application_id} is already recorded absent"
        if now < slot.starts:
            return (f"the slot of {req.application_id} begins at {self._when(slot.starts)}; an absence is recorded "
                    f"from then (the request came at {self._when(now)})")
        return None

    @workflow.update
    async def record_absence(self, req: ManagerRequest) -> Absence:
        """A manager records an application absent at its slot: its panel's tasks close, it leaves the ranking as
        withdrawn (逾期未参加视为弃权) and its applicant is told."""
        now = workflow.now()
        why = self._absence_refusal(req, now)
        if why:
            raise Refused(why)
        absence = Absence(req.application_id, req.actor_id, req.role, now, req.reason)
        self.s.absent.append(absence)
        for t in self.s.tasks:
            if t.application_id == req.application_id and t.status == OPEN:
                t.status, t.reason = ABSENT, f"absent: {req.reason}"
        self.s.log.append(f"{self._when(now)} {req.role} {req.actor_id} recorded {req.application_id} absent at its "
                          f"defence slot: {req.reason}")
        self.dirty = True
        await self._announce([Outcome(req.application_id, "forfeit", f"逾期未参加答辩，视为弃权: {req.reason}")],
                             f"{req.role}:{req.actor_id}")
        return absence

    @record_absence.validator
    def _validate_absence(self, req: ManagerRequest) -> None:
        why = self._absence_refusal(req, workflow.now())
        if why:
            raise Refused(why)
