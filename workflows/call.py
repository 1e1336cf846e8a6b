"""CallWorkflow: opens and closes a call's phases on durable timers; programme managers advance, close, extend.

Application workflows hold the timetable themselves; this workflow tells them only what they could not know
(a manual opening, an early close, an extension) through a broadcast activity.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from temporalio import workflow

from workflows.call_stages import tell_stages
from workflows.refusal import Refused

with workflow.unsafe.imports_passed_through():
    from activities.broadcast import BroadcastActivities, BroadcastInput
    from activities.closure import ClosureActivities
    from activities.quotas import LimitInput, QuotaActivities
    from activities.records import CloseInput, PublishInput, RecordActivities
    from models.calendar import CalendarNotCovered
    from models.closure import CLOSING_KINDS, settling_states
    from models.extension_checks import advance_problem, extend_for_problem, new_extension
    from models.identity import Target, refusal
    from models.instants import local
    from models.lifecycle import build_lifecycle
    from models.messages import (
        CallEvent,
        CallInput,
        CallStatus,
        ExtendForRequest,
        ExtendRequest,
        NoticeDraft,
        PhaseRequest,
        QuotaRequest,
        ReviseRequest,
    )
    from models.timetable import PhaseTime, close_after

ACTIVITY_TIMEOUT = timedelta(seconds=60)
CLOSURE_TIMEOUT = timedelta(minutes=15)
HEARTBEAT_TIMEOUT = timedelta(seconds=10)  # a closure or broadcast on a dead worker is retried this soon
IDENTITY_PATCH = "identity-checks"  # handlers check the request's identity and grants, as validators always do
DATED_PATCH = "dated-close-advance"  # handlers refuse opening a phase whose dated close passed, as validators do
OVERLAP_PATCH = "overlapping-windows"  # planned boundaries by time across phases, not phase after phase


def _shown(call: CallWorkflow, value: object) -> str:
    return local(call.zone, value) if isinstance(value, datetime) else str(value)


@workflow.defn
class CallWorkflow:
    @workflow.init
    def __init__(self, inp: CallInput) -> None:
        self.call = inp.call
        self.calendar = inp.calendar
        self.zone = inp.call.zone
        self.timetable = inp.timetable
        self.events = list(inp.events)
        self.lifecycle = build_lifecycle(inp.call)
        self.dirty = False
        self.unpublished: list[tuple[CallEvent, bool]] = []
        self.published = len(self.events) - 1
        self.closures: list[workflow.ActivityHandle[object]] = []

    # ---- applying a change --------------------------------------------------------------------------

    def _instants(self) -> list[tuple[datetime | None, datetime | None]]:
        return [(p.opens, p.closes) for p in self.timetable.phases]

    def _change(self, kind: str, phase: PhaseTime, at: datetime, actor_id: str, role: str, reason: str,
                previous: datetime | None = None,
                before: list[tuple[datetime | None, datetime | None]] | None = None) -> CallEvent:
        """Apply one timetable change now (`before`: the instants before a change already made to the timetable);
        publishing and telling the applications follow in `_flush`."""
        before = self._instants() if before is None else before
        if kind == "opened":
            self.timetable.mark_opened(phase.id, at, self.calendar)
        elif kind == "closed":
            self.timetable.mark_closed(phase.id, at, self.calendar)
        self.timetable.seq += 1
        event = CallEvent(seq=len(self.events), kind=kind, phase=phase.id, at=workflow.now(), actor_id=actor_id,
                          role=role, reason=reason, previous=previous, new=at if kind != "extended" else phase.closes)
        self.events.append(event)
        self.unpublished.append((event, before != self._instants()))
        self.dirty = True
        workflow.logger.info("phase change", extra={"call_id": self.call.id, "phase": phase.id, "kind": kind,
                                                     "actor_id": actor_id, "role": role})
        return event

    async def _flush(self) -> None:
        """Publish pending events (records, lockouts, notices), broadcast the timetable if it changed for the
        applications, and start the closure of every window that closed."""
        pending, self.unpublished = self.unpublished, []
        if not pending:
            return
        snapshot = replace(self.timetable, phases=[replace(p) for p in self.timetable.phases])
        for event, _ in pending:
            phase = self.timetable.get(event.phase) if event.phase else None
            notice = NoticeDraft(
                key=f"{workflow.info().workflow_id}:event:{event.seq}", call_id=self.call.id, application_id=None,
                recipient=f"public:{self.call.id}", kind=f"phase_{event.kind}" if phase else f"call_{event.kind}",
                data={"phase_name": phase.name if phase else "", "at": local(self.zone, event.new or event.at),
                      "closes": local(self.zone, phase.closes if phase else None), "previous": local(self.zone, event.previous),
                      "reason": event.reason, "detail": event.detail},
            )
            await workflow.execute_activity_method(
                RecordActivities.publish_call,
                PublishInput(call_id=self.call.id, title=self.call.title, version=self.call.version(),
                             definition_json=self.call.model_dump_json(), timetable=snapshot, event=event,
                             notices=[notice]),
                start_to_close_timeout=ACTIVITY_TIMEOUT,
            )
        if any(changed for _, changed in pending):
            await workflow.execute_activity_method(
                BroadcastActivities.broadcast_timetable, BroadcastInput(self.call.id, snapshot),
                start_to_close_timeout=CLOSURE_TIMEOUT, heartbeat_timeout=HEARTBEAT_TIMEOUT,
            )
        if self.call.review is not None and workflow.patched("review-stages"):
            await tell_stages(self.call, self.calendar, self.timetable, [event for event, _ in pending])
        steps = {s.id: s.deadline.phase for s in self.call.chain if s.deadline and s.deadline.phase}
        for event, _ in pending:
            if event.kind != "closed" or event.new is None:
                continue
            phase = self.timetable.get(event.phase)
            if phase.kind in CLOSING_KINDS:
                self.closures.append(workflow.start_activity_method(
                    ClosureActivities.close_window,
                    CloseInput(self.call.id, phase.id, event.new, settling_states(self.lifecycle, phase.id, steps),
                               windows=[phase.id, *(f"step:{s}" for s, p in steps.items() if p == phase.id)]),
                    start_to_close_timeout=CLOSURE_TIMEOUT, heartbeat_timeout=HEARTBEAT_TIMEOUT,
                ))
        self.published = pending[-1][0].seq

    # ---- programme managers' updates ------------------------------------------------------------------

    def _manager(self, req: PhaseRequest | ExtendRequest | ExtendForRequest | ReviseRequest | QuotaRequest,
                 identities: bool) -> None:
        """A manager of this call (or its programme) with a reason; `identities` (every validator, and handlers of
        runs with the patch `identity-checks`) checks the identity and grants the request carries."""
        if req.role != "manager":
            raise Refused(f"role {req.role} may not change the timetable (allowed: manager)")
        why = refusal(req.identity, req.actor_id, req.role, Target(call=self.call.id, programme=self.call.programme))
        if identities and why:
            raise Refused(why)
        if not req.reason.strip():
            raise Refused("a reason is required")

    def _next_to_open(self) -> PhaseTime | None:
        return next((p for p in self.timetable.phases if not p.opened), None)

    def _check_advance(self, req: PhaseRequest, identities: bool = True,
                       dated: bool = True) -> tuple[PhaseTime | None, PhaseTime]:
        """(phase to close now, phase to open now) for `phase advance`, or a refusal; `dated` (every validator, and
        handlers of runs with the patch `dated-close-advance`) refuses a phase whose dated close passed."""
        self._manager(req, identities)
        current = self.timetable.current()
        nxt = self._next_to_open()
        if current is not None and current.closes_rule != "manual":
            if nxt is not None and self.timetable.index(nxt.id) < self.timetable.index(current.id):
                raise Refused(f"{nxt.id} ({nxt.name}) was never opened and {current.id}, which comes after it, is "
                              f"already open until {local(self.zone, current.closes)}: phases open in order, so "
                              f"{nxt.id} can no longer be opened")
            raise Refused(f"{current.id} is open until {local(self.zone, current.closes)}; "
                          f"close it early with `phase close` first")
        if nxt is None:
            raise Refused(f"call {self.call.id} has no phase left to open")
        if nxt.opens_rule == "date":
            raise Refused(f"{nxt.id} opens by date, at {local(self.zone, nxt.opens)}")
        if nxt.closes_rule == "working_days":
            try:
                close_after(workflow.now(), nxt.closes_rule, nxt.closes_after, self.calendar, self.zone)
            except CalendarNotCovered as exc:
                raise Refused(f"cannot open {nxt.id}: {exc}") from None
        why = advance_problem(self.call, nxt, workflow.now(), req.until) if dated else None
        if why:
            raise Refused(why)
        return current, nxt

    @workflow.update
    def advance_phase(self, req: PhaseRequest) -> CallEvent:
        current, nxt = self._check_advance(req, workflow.patched(IDENTITY_PATCH), workflow.patched(DATED_PATCH))
        now = workflow.now()
        if current is not None:
            self._change("closed", current, now, req.actor_id, req.role, req.reason)
        opened = self._change("opened", nxt, now, req.actor_id, req.role, req.reason)
        if req.until is not None:
            previous, before = nxt.closes, self._instants()
            nxt.closes_rule = "date"
            self.timetable.set_close(nxt.id, req.until, self.calendar)
            self._change("extended", nxt, req.until, req.actor_id, req.role, req.reason, previous, before)
        return opened

    @advance_phase.validator
    def _validate_advance(self, req: PhaseRequest) -> None:
        self._check_advance(req)

    def _check_close(self, req: PhaseRequest, identities: bool = True) -> PhaseTime:
        self._manager(req, identities)
        current = self.timetable.current()
        if current is None:
            raise Refused(f"no phase of call {self.call.id} is open")
        return current

    @workflow.update
    def close_phase(self, req: PhaseRequest) -> CallEvent:
        current = self._check_close(req, workflow.patched(IDENTITY_PATCH))
        return self._change("closed", current, workflow.now(), req.actor_id, req.role, req.reason,
                            previous=current.closes)

    @close_phase.validator
    def _validate_close(self, req: PhaseRequest) -> None:
        self._check_close(req)

    def _check_extend(self, req: ExtendRequest, identities: bool = True) -> PhaseTime:
        self._manager(req, identities)
        if req.closes.tzinfo is None:
            raise Refused(f"naive datetime {req.closes.isoformat()}: give the offset, e.g. +08:00")
        try:
            phase = self.timetable.get(req.window)
        except KeyError as exc:
            raise Refused(str(exc.args[0])) from None
        if phase.closed:
            raise Refused(f"{phase.id} closed at {local(self.zone, phase.closes)}; a closed phase cannot be extended "
                          f"(extend single applications instead)")
        if phase.closes is not None and req.closes <= phase.closes:
            raise Refused(f"new deadline {local(self.zone, req.closes)} is not later than {local(self.zone, phase.closes)}")
        if req.closes <= workflow.now():
            raise Refused(f"new deadline {local(self.zone, req.closes)} is in the past")
        nxt = self.timetable.phases[self.timetable.index(phase.id) + 1:]
        if nxt and nxt[0].opens_rule == "date" and nxt[0].opens is not None and req.closes > nxt[0].opens:
            raise Refused(f"new deadline {local(self.zone, req.closes)} would overlap {nxt[0].id}, "
                          f"which opens {local(self.zone, nxt[0].opens)}")
        return phase

    @workflow.update
    def extend_deadline(self, req: ExtendRequest) -> CallEvent:
        phase = self._check_extend(req, workflow.patched(IDENTITY_PATCH))
        previous, before = phase.closes, self._instants()
        phase.closes_rule = "date"
        self.timetable.set_close(phase.id, req.closes, self.calendar)
        return self._change("extended", phase, req.closes, req.actor_id, req.role, req.reason, previous, before)

    @extend_deadline.validator
    def _validate_extend(self, req: ExtendRequest) -> None:
        self._check_extend(req)

    def _check_extend_for(self, req: ExtendForRequest, identities: bool = True) -> None:
        self._manager(req, identities)
        why = extend_for_problem(self.call, self.timetable, workflow.now(), req)
        if why:
            raise Refused(why)

    @workflow.update
    def extend_for(self, req: ExtendForRequest) -> CallEvent:
        """Extend some deadlines, in one act, for the applications a predicate selects (those created later too)."""
        self._check_extend_for(req)
        extension = new_extension(req, len(self.timetable.extensions) + 1, workflow.now())
        self.timetable.extensions.append(extension)
        self.timetable.seq += 1
        closes = ", ".join(f"{w} to {local(self.zone, c)}" for w, c in req.closes.items())
        event = CallEvent(seq=len(self.events), kind="extended_for", phase="", at=workflow.now(),
                          actor_id=req.actor_id, role=req.role, reason=req.reason,
                          detail=f"{closes}, for applications {extension.describe(self.zone)}")
        self.events.append(event)
        self.unpublished.append((event, True))
        self.dirty = True
        return event

    @extend_for.validator
    def _validate_extend_for(self, req: ExtendForRequest) -> None:
        self._check_extend_for(req)

    def _check_revise(self, req: ReviseRequest, identities: bool = True) -> None:
        self._manager(req, identities)
        new = req.definition
        if new.id != self.call.id:
            raise Refused(f"the revision is of call {new.id}, not {self.call.id}")
        if new.version() == self.call.version():
            raise Refused(f"the definition is unchanged (version {new.version()})")
        if [(p.id, p.kind) for p in new.phases] != [(p.id, p.kind) for p in self.call.phases]:
            raise Refused("a revision keeps the call's phases (ids and kinds); move dates with the deadline and "
                          "phase commands")
        for before, after in zip(self.call.phases, new.phases):
            for edge in ("opens", "closes"):
                if getattr(before, edge) != getattr(after, edge):
                    raise Refused(f"phases.{after.id}.{edge}: the revision moves it from {_shown(self, getattr(before, edge))} "
                                  f"to {_shown(self, getattr(after, edge))}, but a revision keeps the timetable: move it "
                                  f"with `grantflow deadline extend` or `phase advance`/`phase close`")

    @workflow.update
    def revise_definition(self, req: ReviseRequest) -> CallEvent:
        """Publish a corrected definition: new applications start under it, running ones keep theirs."""
        self._check_revise(req, workflow.patched(IDENTITY_PATCH))
        detail = f"version {self.call.version()} -> {req.definition.version()}"
        self.call = req.definition
        self.lifecycle = build_lifecycle(self.call)
        event = CallEvent(seq=len(self.events), kind="revised", phase="", at=workflow.now(), actor_id=req.actor_id,
                          role=req.role, reason=req.reason, detail=detail)
        self.events.append(event)
        self.unpublished.append((event, False))
        self.dirty = True
        return event

    @revise_definition.validator
    def _validate_revise(self, req: ReviseRequest) -> None:
        self._check_revise(req)

    def _check_quota(self, req: QuotaRequest) -> None:
        """A manager of this call (identity and grants checked, by the validator and the handler alike) sets a quota
        the call shows in the system to a count."""
        if req.role != "manager":
            raise Refused(f"role {req.role} may not set a quota (allowed: manager)")
        self._manager(req, True)
        shown = [q.key for q in self.call.quotas if q.in_system]
        if req.quota not in shown:
            raise Refused(f"quota {req.quota!r} is not one the system sets (those of call {self.call.id}: "
                          f"{', '.join(shown) or 'none'})")
        if req.limit < 0:
            raise Refused(f"a quota's limit is a count, not {req.limit}")

    @workflow.update
    async def set_quota(self, req: QuotaRequest) -> CallEvent:
        """Set a limit the notice leaves to the system; in force for every recommendation once this returns."""
        self._check_quota(req)
        previous = await workflow.execute_activity_method(
            QuotaActivities.set_quota_limit, LimitInput(self.call.id, req.quota, req.limit),
            start_to_close_timeout=ACTIVITY_TIMEOUT)
        event = CallEvent(seq=len(self.events), kind="quota_set", phase="", at=workflow.now(), actor_id=req.actor_id,
                          role=req.role, reason=req.reason,
                          detail=f"quota {req.quota}: {'unset' if previous is None else previous} -> {req.limit}")
        self.events.append(event)
        self.unpublished.append((event, False))
        self.dirty = True
        await workflow.wait_condition(lambda: self.published >= event.seq)
        return event

    @set_quota.validator
    def _validate_quota(self, req: QuotaRequest) -> None:
        self._check_quota(req)

    @workflow.query
    def definition(self) -> CallInput:
        """The call's definition and calendar with the current timetable: what a new application starts with."""
        return CallInput(self.call, self.calendar, self.timetable)

    @workflow.query
    def status(self) -> CallStatus:
        current = self.timetable.current()
        return CallStatus(call_id=self.call.id, version=self.call.version(),
                          current_phase=current.id if current else None, timetable=self.timetable,
                          events=list(self.events), published_seq=self.published)

    # ---- the run loop: planned boundaries on durable timers --------------------------------------------

    @workflow.run
    async def run(self, inp: CallInput) -> CallStatus:
        if not self.events:
            await workflow.execute_activity_method(
                RecordActivities.publish_call,
                PublishInput(call_id=self.call.id, title=self.call.title, version=self.call.version(),
                             definition_json=self.call.model_dump_json(), timetable=self.timetable),
                start_to_close_timeout=ACTIVITY_TIMEOUT,
            )
        by_time = workflow.patched(OVERLAP_PATCH)
        while not self.timetable.finished() or self.unpublished:
            await self._flush()
            boundary = self.timetable.next_boundary(by_time)
            now = workflow.now()
            if boundary is not None and boundary.at <= now:
                phase = self.timetable.get(boundary.phase)
                self._change("opened" if boundary.edge == "opens" else "closed", phase, boundary.at,
                             "grantflow", "system", "planned")
                continue
            if self.timetable.finished():
                continue
            if workflow.info().is_continue_as_new_suggested() and not self.closures:
                await workflow.wait_condition(workflow.all_handlers_finished)
                workflow.continue_as_new(CallInput(self.call, self.calendar, self.timetable, self.events))
            self.dirty = False
            try:
                await workflow.wait_condition(
                    lambda: self.dirty, timeout=(boundary.at - now) if boundary is not None else None)
            except TimeoutError:
                pass
        for handle in self.closures:
            await handle
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self.status()
