"""A workflow's life folded from its history alone: transitions, notices, timers, signals, phase changes, closures.

No workflow code runs here: every fact is read from an event (update requests and results, the markers of
`record_transition`, activity inputs and results, timers, signals), so the fold is a check on the code.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import WorkflowHistory

from activities.records import ClosureSummary, PublishInput, Recorded
from audit.history import Execution, decode, instant, kind
from models.call import CallDefinition
from models.deadlines import Deadlines
from models.identity import Identity
from models.lifecycle import STAGED_PAPER_PATCH, Lifecycle, TransitionSpec, Window, build_lifecycle
from models.messages import (
    ActRequest,
    ApplicationInput,
    CallEvent,
    CallInput,
    ExtendForRequest,
    ExtendRequest,
    PhaseRequest,
    TransitionRecord,
)
from models.timetable import Timetable
from workflows.application_patches import EXTENSION_FLOOR_PATCH, LINES

REQUESTS: dict[str, type] = {"act": ActRequest, "extend_deadline": ExtendRequest, "advance_phase": PhaseRequest,
                             "close_phase": PhaseRequest, "extend_for": ExtendForRequest}


@dataclass
class Proven:
    """One accepted transition of an application and the events that prove it."""

    record: TransitionRecord
    event_id: int  # the MarkerRecorded of record_transition, whose result carries the record
    run_id: str
    chain_hash: str | None = None
    request_event_id: int | None = None  # the WorkflowExecutionUpdateAccepted with the person's request
    identity: Identity | None = None  # the identity and grants that request carried (none before they did)
    spec: TransitionSpec | None = None
    opens: datetime | None = None  # the window the history establishes for the change, when it has one
    governing: datetime | None = None


@dataclass
class Notice:
    key: str
    event_id: int
    run_id: str
    at: datetime
    delivered: bool
    kind: str
    recipient: str


@dataclass
class Happening:
    """Something else the history shows: a timer that fired, a signal, a formal review, a refused update."""

    event_id: int
    at: datetime
    kind: str  # timer | signal | formal | refused
    what: str
    actor_id: str = ""
    role: str = ""
    reason: str = ""


@dataclass
class PhaseChange:
    event: CallEvent
    event_id: int  # the ActivityTaskScheduled of publish_call that carries it
    run_id: str
    request_event_id: int | None = None


@dataclass
class Closure:
    summary: ClosureSummary
    event_id: int  # the ActivityTaskCompleted of close_window
    at: datetime


@dataclass
class ApplicationLife:
    workflow_id: str
    inp: ApplicationInput
    state: str
    timetable: Timetable
    transitions: list[Proven] = field(default_factory=list)
    notices: list[Notice] = field(default_factory=list)
    happenings: list[Happening] = field(default_factory=list)
    extensions: dict[str, datetime] = field(default_factory=dict)
    step_deadlines: dict[str, datetime] = field(default_factory=dict)
    formal_findings: list[str] = field(default_factory=list)
    last_at: datetime | None = None
    created: datetime | None = None
    extension_floor: bool = False  # the run recorded the patch EXTENSION_FLOOR_PATCH

    @property
    def application_id(self) -> str:
        return self.inp.application_id

    @property
    def call(self) -> CallDefinition:
        return self.inp.call

    # ---- deadlines as the history establishes them (the workflow's own rule, over the history's facts) -------

    @property
    def rule(self) -> Deadlines:
        return Deadlines(self.call, self.inp.category, self.timetable, self.inp.calendar, self.extensions,
                         self.step_deadlines, self.inp.cohort,
                         self.inp.people.get("recommender", ""), self.inp.people.get("unit_admin", ""), self.created,
                         self.extension_floor)

    def bounds(self, w: Window) -> tuple[datetime | None, datetime | None]:
        return self.rule.opens(w), self.rule.close(w)

    def deadlines(self) -> dict[str, datetime | None]:
        """Every deadline in force: phases by id, chain steps as `step:<id>`."""
        return self.rule.all()


@dataclass
class CallLife:
    workflow_id: str
    inp: CallInput
    planned: Timetable
    changes: list[PhaseChange] = field(default_factory=list)
    notices: list[Notice] = field(default_factory=list)
    happenings: list[Happening] = field(default_factory=list)  # timers that made a planned change, refusals
    closures: list[Closure] = field(default_factory=list)

    @property
    def call(self) -> CallDefinition:
        return self.inp.call


class _Fold:
    """Shared event handling: update requests, scheduled activities."""

    def __init__(self) -> None:
        self.requests: dict[str, tuple[int, str, Any]] = {}
        self.scheduled: dict[int, tuple[str, Any]] = {}

    def accepted(self, e: HistoryEvent) -> None:
        a = e.workflow_execution_update_accepted_event_attributes
        name = a.accepted_request.input.name
        hint = REQUESTS.get(name)
        request = decode(a.accepted_request.input.args, hint) if hint else None
        self.requests[a.protocol_instance_id] = (e.event_id, name, request)

    def refused(self, e: HistoryEvent, name: str, request: Any) -> Happening:
        c = e.workflow_execution_update_completed_event_attributes
        return Happening(e.event_id, instant(e), "refused", f"{name} refused: {c.outcome.failure.message}",
                         getattr(request, "actor_id", ""), getattr(request, "role", ""), getattr(request, "reason", ""))


class _ApplicationFold(_Fold):
    def __init__(self, workflow_id: str) -> None:
        super().__init__()
        self.workflow_id = workflow_id
        self.life: ApplicationLife | None = None
        self.lifecycle: Lifecycle | None = None
        self.wake: Happening | None = None  # the last timer or signal, until what it caused is recorded

    @property
    def a(self) -> ApplicationLife:
        assert self.life is not None, f"{self.workflow_id}: the history has no start event"
        return self.life

    def on(self, e: HistoryEvent, run_id: str) -> None:
        k, at = kind(e), instant(e)
        if k == "WORKFLOW_EXECUTION_STARTED":
            self.started(decode(e.workflow_execution_started_event_attributes.input, ApplicationInput), instant(e))
        elif k == "WORKFLOW_EXECUTION_UPDATE_ACCEPTED":
            self.accepted(e)
            self.wake = None
        elif k == "WORKFLOW_EXECUTION_UPDATE_COMPLETED":
            self.completed_update(e, run_id)
        elif k == "MARKER_RECORDED":
            self.marker(e, run_id)
        elif k == "WORKFLOW_EXECUTION_SIGNALED":
            s = e.workflow_execution_signaled_event_attributes
            if s.signal_name == "timetable_changed":
                timetable = decode(s.input, Timetable)
                self.newer(timetable)
                self.woken(Happening(e.event_id, at, "signal", f"timetable changed (seq {timetable.seq})"))
            elif s.signal_name == "window_closed":
                phase = decode(s.input, str)
                self.woken(Happening(e.event_id, at, "signal", f"{phase} closed by the call's bulk closure"))
                if len(s.input.payloads) > 1:  # the closure's record, carried: the workflow adopts it, as a marker's
                    self.carried(decode(s.input, Recorded, 1), e, run_id)
        elif k == "TIMER_FIRED":
            t = e.timer_fired_event_attributes
            self.woken(Happening(e.event_id, at, "timer",
                                 f"timer {t.timer_id} fired (started at event {t.started_event_id})"))
        elif k == "ACTIVITY_TASK_SCHEDULED":
            s2 = e.activity_task_scheduled_event_attributes
            self.scheduled[e.event_id] = (s2.activity_type.name, None)
        elif k == "ACTIVITY_TASK_COMPLETED":
            c = e.activity_task_completed_event_attributes
            name, _ = self.scheduled.get(c.scheduled_event_id, ("", None))
            if name == "check_formal":
                findings: list[str] = decode(c.result, list)
                self.a.formal_findings = findings
                self.a.happenings.append(Happening(e.event_id, at, "formal", "formal review: " + (
                    "; ".join(findings) if findings else "complete")))
        self.a.last_at = at

    def woken(self, h: Happening) -> None:
        """A timer fired or a signal came: the next thing the workflow records (no update between) is its effect."""
        self.wake = h
        self.a.happenings.append(h)

    def started(self, inp: ApplicationInput, at: datetime) -> None:
        if self.life is None:
            state = inp.carried.state if inp.carried else build_lifecycle(inp.call).initial
            self.life = ApplicationLife(self.workflow_id, inp, state, copy.deepcopy(inp.timetable),
                                        created=inp.carried.created if inp.carried else at)
            self.lifecycle = build_lifecycle(inp.call, staged_paper=False)  # until the run's patch marker says so
        else:
            self.newer(inp.timetable)

    def newer(self, timetable: Timetable) -> None:
        if timetable.seq > self.a.timetable.seq:
            self.a.timetable = copy.deepcopy(timetable)

    def completed_update(self, e: HistoryEvent, run_id: str) -> None:
        c = e.workflow_execution_update_completed_event_attributes
        event_id, name, request = self.requests.pop(c.meta.update_id, (0, "", None))
        if c.outcome.HasField("failure"):
            self.a.happenings.append(self.refused(e, name, request))
            return
        record = decode(c.outcome.success, TransitionRecord)
        proven = next((p for p in self.a.transitions if p.record.seq == record.seq), None)
        if proven is None:  # a history from before record_transition returned what it recorded
            proven = self.apply(record, e.event_id, run_id, None)
        proven.request_event_id = event_id or None
        proven.identity = getattr(request, "identity", None)

    def marker(self, e: HistoryEvent, run_id: str) -> None:
        m = e.marker_recorded_event_attributes
        if m.marker_name == "core_patch" and "patch-data" in m.details:
            patch = decode(m.details["patch-data"], dict).get("id")
            applied = next((a for marker, a in LINES if marker == patch), frozenset({patch}))
            self.a.extension_floor |= EXTENSION_FLOOR_PATCH in applied
            if STAGED_PAPER_PATCH in applied and self.life is not None:
                self.lifecycle = build_lifecycle(self.life.inp.call)
            return
        if m.marker_name != "core_local_activity" or "result" not in m.details:
            return
        activity_type = decode(m.details["data"], dict).get("activity_type")
        result = m.details["result"]
        if activity_type == "register_application":
            newer: Timetable | None = decode(result, Timetable)  # None when the call had nothing newer
            if newer is not None:
                self.newer(newer)
        elif activity_type == "record_transition":
            if not result.payloads[0].data.startswith(b"{"):
                return  # a count: the run predates the patch record-returns-recorded, its marker proves nothing
            self.recorded(decode(result, Recorded), e, run_id)

    def carried(self, recorded: Recorded, e: HistoryEvent, run_id: str) -> None:
        """A closure's record carried by its signal: the workflow adopts it when it is its next transition."""
        t = recorded.transition
        assert self.lifecycle is not None
        if t is not None and t.seq == len(self.a.transitions) and self.lifecycle.candidates(self.a.state, t.trigger):
            self.recorded(recorded, e, run_id)

    def recorded(self, recorded: Recorded, e: HistoryEvent, run_id: str) -> None:
        """What record_transition left in the records DB, as the history proves it."""
        t = recorded.transition
        if t is not None and all(p.record.seq != t.seq for p in self.a.transitions):
            self.apply(t, e.event_id, run_id, recorded.chain_hash)
        if self.wake is not None:
            self.wake.what += f"; then {t.trigger} {t.source} -> {t.dest}" if t else "; then a reminder"
            self.wake = None
        at = instant(e)
        for key in recorded.notice_keys:
            role = key.rsplit(":", 1)[-1]
            self.a.notices.append(Notice(
                key, e.event_id, run_id, at, key in recorded.delivered, "reminder" if ":remind:" in key else "transition",
                f"{role}:{self.a.inp.people.get(role, self.a.call.id)}"))

    def apply(self, t: TransitionRecord, event_id: int, run_id: str, chain_hash: str | None) -> Proven:
        assert self.lifecycle is not None
        spec = next((s for s in self.lifecycle.candidates(t.source, t.trigger) if s.dest == t.dest), None)
        proven = Proven(t, event_id, run_id, chain_hash, spec=spec)
        if spec is not None and spec.window and t.role != "system":
            proven.opens, proven.governing = self.a.bounds(spec.window)
        self.a.transitions.append(proven)
        if t.trigger == "extend_deadline":
            self.a.extensions[t.data["window"]] = datetime.fromisoformat(t.data["new"])
            return proven
        self.a.state = t.dest
        entry = self.a.rule.entry_deadline(t.dest, t.at)
        if entry:
            self.a.step_deadlines[entry[0]] = entry[1]
        if t.dest == "returned":
            self.a.step_deadlines.clear()
        return proven


class _CallFold(_Fold):
    def __init__(self, workflow_id: str) -> None:
        super().__init__()
        self.workflow_id = workflow_id
        self.life: CallLife | None = None
        self.request_of_seq: dict[int, int] = {}
        self.timer: Happening | None = None  # the last timer, kept if a planned change follows it

    @property
    def c(self) -> CallLife:
        assert self.life is not None, f"{self.workflow_id}: the history has no start event"
        return self.life

    def on(self, e: HistoryEvent, run_id: str) -> None:
        k = kind(e)
        if k == "WORKFLOW_EXECUTION_STARTED" and self.life is None:
            inp = decode(e.workflow_execution_started_event_attributes.input, CallInput)
            self.life = CallLife(self.workflow_id, inp, copy.deepcopy(inp.timetable))
        elif k == "WORKFLOW_EXECUTION_UPDATE_ACCEPTED":
            self.accepted(e)
        elif k == "WORKFLOW_EXECUTION_UPDATE_COMPLETED":
            c = e.workflow_execution_update_completed_event_attributes
            event_id, name, request = self.requests.pop(c.meta.update_id, (0, "", None))
            if c.outcome.HasField("failure"):
                self.c.happenings.append(self.refused(e, name, request))
            else:
                self.request_of_seq[decode(c.outcome.success, CallEvent).seq] = event_id
        elif k == "ACTIVITY_TASK_SCHEDULED":
            self.scheduled_activity(e, run_id)
        elif k == "ACTIVITY_TASK_COMPLETED":
            self.completed_activity(e)
        elif k == "TIMER_FIRED":
            t = e.timer_fired_event_attributes
            self.timer = Happening(e.event_id, instant(e), "timer",
                                   f"timer {t.timer_id} fired (started at event {t.started_event_id})")

    def scheduled_activity(self, e: HistoryEvent, run_id: str) -> None:
        s = e.activity_task_scheduled_event_attributes
        name = s.activity_type.name
        if name == "publish_call":
            inp = decode(s.input, PublishInput)
            if inp.event is not None:
                seq = inp.event.seq
                self.c.changes.append(PhaseChange(inp.event, e.event_id, run_id, self.request_of_seq.pop(seq, None)))
                if self.timer is not None and inp.event.role == "system":
                    self.timer.what += f"; then {inp.event.phase} {inp.event.kind}"
                    self.c.happenings.append(self.timer)
                    self.timer = None
            at = instant(e)
            self.c.notices += [Notice(n.key, e.event_id, run_id, at, False, n.kind, n.recipient) for n in inp.notices]
            self.scheduled[e.event_id] = (name, [n.key for n in inp.notices])
        else:
            self.scheduled[e.event_id] = (name, None)

    def completed_activity(self, e: HistoryEvent) -> None:
        c = e.activity_task_completed_event_attributes
        name, inp = self.scheduled.get(c.scheduled_event_id, ("", None))
        if name == "publish_call" and inp and decode(c.result, int) == len(inp):
            for n in self.c.notices:
                n.delivered = n.delivered or n.key in inp
        elif name == "close_window":
            self.c.closures.append(Closure(decode(c.result, ClosureSummary), e.event_id, instant(e)))


def application_life(workflow_id: str, runs: Sequence[WorkflowHistory]) -> ApplicationLife:
    fold = _ApplicationFold(workflow_id)
    for run in runs:
        for e in run.events:
            fold.on(e, run.run_id)
    return fold.a


def call_life(workflow_id: str, runs: Sequence[WorkflowHistory]) -> CallLife:
    fold = _CallFold(workflow_id)
    for run in runs:
        for e in run.events:
            fold.on(e, run.run_id)
    return fold.c


def life(execution: Execution) -> ApplicationLife | CallLife:
    if execution.workflow_type == "CallWorkflow":
        return call_life(execution.workflow_id, execution.runs)
    return application_life(execution.workflow_id, execution.runs)
