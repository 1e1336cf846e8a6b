"""Deadlines: the one rule for which instant closes each window of an application (the workflows enforce it, the
audit re-establishes it from a history), and its explanation with every fact behind it (a defence's materials too)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from models.calendar import CalendarNotCovered, WorkingCalendar
from models.call import STEP_PREFIX, AfterClose, CallDefinition, CloseValue
from models.extensions import Applicant, binding_extension
from models.instants import local
from models.lifecycle import STEP_KEY, Due, Window, state_step
from models.messages import ApplicationStatus, CallInput, CallStatus
from models.review.hearings import Hearing
from models.timetable import Timetable


@dataclass(frozen=True)
class Binding:
    """The instant that closes a window for one application, and the rule that made it bind."""

    at: datetime | None
    rule: str


@dataclass(frozen=True)
class Deadlines:
    """The deadlines of one application as they stand: a window's close is, first, an extension granted to this
    application; then the latest close a manager's conditional extension selecting it set; then, for a phase not yet
    closed, the earliest of the closes that depend on who applies (its
    category's, its cohort's, its recommending unit's); then the call's timetable. A step closes with its phase, or
    a number of working days after the application entered it, or earlier where a close for who applies says so."""

    call: CallDefinition
    category: str
    timetable: Timetable
    calendar: WorkingCalendar
    extensions: Mapping[str, datetime]
    step_deadlines: Mapping[str, datetime]
    cohort: str = ""
    recommender: str = ""
    unit: str = ""
    created: datetime | None = None
    extension_floor: bool = False  # an extension for this application never binds before the call's own close

    @property
    def applicant(self) -> Applicant:
        return Applicant(self.category, self.cohort, self.recommender, self.unit, self.created)

    def _later(self, key: str, base: Binding) -> Binding:
        """`base`, or the later close a conditional extension selecting this application set for window `key` (an
        extension never shortens a deadline, nor sets one where none is)."""
        found = binding_extension(self.timetable.extensions, key, self.applicant)
        if found is None or base.at is None or found[0] <= base.at:
            return base
        return Binding(found[0], found[1].act(self.call.zone))

    def phase_close(self, phase_id: str) -> datetime | None:
        return self.phase_binding(phase_id).at

    def phase_binding(self, phase_id: str) -> Binding:
        planned = self._later(phase_id, self._planned_phase(phase_id))
        return self._granted(phase_id, planned) if phase_id in self.extensions else planned

    def _planned_phase(self, phase_id: str) -> Binding:
        p = self.timetable.get(phase_id)
        if p.closed:
            return Binding(p.closes, f"phase {phase_id} closed")
        own = self.own_closes(phase_id)
        if own:
            return min(own, key=lambda b: (b.at is None, b.at))
        return Binding(p.closes, f"phase {phase_id}'s close")

    def own_closes(self, key: str) -> list[Binding]:
        """The closes of window `key` that bind this application for who it is (category, cohort, recommender)."""
        out: list[Binding] = []
        category = self.call.category(self.category)
        if key in category.closes:
            out.append(self.resolve(category.closes[key], f"category {category.id}"))
        for i, o in enumerate(self.call.overrides):
            if key in o.closes and o.who.selects(self.category, self.cohort, self.recommender):
                out.append(self.resolve(o.closes[key], f"overrides.{i} ({o.who.describe()})"))
        return [b for b in out if b.at is not None]

    def resolve(self, value: CloseValue, source: str) -> Binding:
        if not isinstance(value, AfterClose):
            return Binding(value, f"{source} closes it at {local(self.call.zone, value)}")
        base = self.phase_close(value.after)
        if base is None:
            return Binding(None, f"{source}: {value.describe()}, which is not set")
        if value.days is not None:
            at = base + timedelta(days=value.days)
        else:
            at = self.calendar.end_after_working_days(base - timedelta(microseconds=1), value.working_days or 0,
                                                      self.call.zone)
        return Binding(at, f"{source}: {value.describe()} ({local(self.call.zone, base)})")

    def step_close(self, step_id: str) -> datetime | None:
        return self.step_binding(step_id).at

    def step_binding(self, step_id: str) -> Binding:
        planned = self._later(STEP_KEY + step_id, self._planned_step(step_id))
        return self._granted(STEP_KEY + step_id, planned) if STEP_KEY + step_id in self.extensions else planned

    def _granted(self, key: str, planned: Binding) -> Binding:
        """This application's own extension of window `key`; with the floor, a later close of the call (extended
        for everyone after it) binds instead: an extension never shortens."""
        own = self.extensions[key]
        granted = Binding(own, "an extension granted to this application")
        if self.extension_floor and planned.at is not None and planned.at > own:
            return Binding(planned.at, f"{planned.rule}, later than this application's own extension")
        return granted

    def _planned_step(self, step_id: str) -> Binding:
        step = self.call.step(step_id)
        if step.deadline and step.deadline.phase:
            base = Binding(self.phase_close(step.deadline.phase), self.phase_binding(step.deadline.phase).rule)
        elif step.deadline and step.deadline.at:
            base = Binding(step.deadline.at, f"{step.name}: its own close at {local(self.call.zone, step.deadline.at)} "
                                             f"(chain.{step.id}.deadline.at)")
        else:
            base = Binding(self.step_deadlines.get(step_id), f"{step.name}: its own deadline")
        own = self.own_closes(STEP_PREFIX + step_id)
        earlier = [b for b in own if base.at is None or (b.at is not None and b.at < base.at)]
        return min(earlier, key=lambda b: (b.at is None, b.at)) if earlier else base

    def close(self, w: Window) -> datetime | None:
        return self.phase_close(w.phase) if w.phase else self.step_close(w.step or "")

    def opens(self, w: Window) -> datetime | None:
        """A phase window opens with its phase; a step is open from the moment the application enters it (None)."""
        return self.timetable.get(w.phase).opens if w.phase else None

    def name(self, w: Window) -> str:
        return self.timetable.get(w.phase).name if w.phase else self.call.step(w.step or "").name

    def due_at(self, due: Due) -> datetime | None:
        if due.step:
            return self.step_close(due.step)
        assert due.phase is not None
        return self.timetable.get(due.phase).opens if due.edge == "opens" else self.phase_close(due.phase)

    def all(self) -> dict[str, datetime | None]:
        """Every window's close, by window key."""
        out: dict[str, datetime | None] = {p.id: self.phase_close(p.id) for p in self.timetable.phases}
        return out | {STEP_KEY + s.id: self.step_close(s.id) for s in self.call.chain}

    def bindings(self) -> dict[str, Binding]:
        """Every window's close and the rule that made it bind, by window key."""
        out = {p.id: self.phase_binding(p.id) for p in self.timetable.phases}
        return out | {STEP_KEY + s.id: self.step_binding(s.id) for s in self.call.chain}

    def entry_deadline(self, state: str, entered: datetime) -> tuple[str, datetime] | None:
        """The working-day deadline a chain step sets when the application enters its state at `entered`."""
        step_id = state_step(state)
        step = self.call.step(step_id) if step_id in {s.id for s in self.call.chain} else None
        if step is None or step.deadline is None or not step.deadline.working_days:
            return None
        return step.id, self.calendar.end_after_working_days(entered, step.deadline.working_days, self.call.zone)

    def escalation_at(self, closes: datetime) -> datetime:
        """The end of the N-th working day after a service deadline's day; at the deadline if the calendar lacks
        the year."""
        try:
            return self.calendar.end_after_working_days(closes - timedelta(microseconds=1),
                                                        self.call.escalate_after_working_days, self.call.zone)
        except CalendarNotCovered:
            return closes


@dataclass
class DeadlineExplanation:
    window: str  # a window key: a phase id, step:<id>, or materials:<phase> (a defence's materials)
    effective: datetime | None
    facts: list[str] = field(default_factory=list)


MATERIALS_KEY = "materials:"


def materials_explanation(call: CallInput, hearing: Hearing) -> DeadlineExplanation:
    """The materials deadline of an application's defence slot, with the rule that set it and what came since."""
    definition, zone, x = call.call, call.call.zone, hearing.slot
    rules = definition.review.stage(hearing.phase).defence if definition.review else None
    item = DeadlineExplanation(MATERIALS_KEY + hearing.phase, x.materials_due, [
        f"defence materials (slides, liaison form) for the hearing in {definition.phase(hearing.phase).name}, "
        f"{local(zone, x.starts)} to {local(zone, x.ends)}"])
    setting = f"review.stages.{hearing.phase}.defence.materials_working_days"
    if rules is not None and rules.materials_working_days == 0:
        item.facts.append(f"due when the hearing starts ({setting}: 0)")
    elif rules is not None:
        item.facts.append(f"due at the end (24:00) of working day {rules.materials_working_days} before the "
                          f"hearing's day ({setting}; calendar: {call.calendar.source})")
    item.facts.append(f"received at {local(zone, hearing.materials_at)}" if hearing.materials_at else
                      "none received yet; refused from the deadline on")
    if hearing.absent is not None:
        a = hearing.absent
        item.facts.append(f"recorded absent at its slot by {a.role} {a.actor_id} at {local(zone, a.at)}: {a.reason}; "
                          f"the application withdrew")
    return item


def explain(call: CallInput, call_status: CallStatus, app: ApplicationStatus,
            hearings: Sequence[Hearing] = ()) -> list[DeadlineExplanation]:
    """Every deadline of `app`, each with the facts behind it in the order they took effect; then the materials
    deadline of each defence slot it has (`hearings`, from the defence stages)."""
    definition = call.call
    out: list[DeadlineExplanation] = []
    for window, effective in app.deadlines.items():
        item = DeadlineExplanation(window, effective)
        w = Window.of(window)
        if w.step is not None:
            step = definition.step(w.step)
            deadline = step.deadline
            if deadline is None:
                item.facts.append(f"{step.name}: no deadline of its own; the step lapses when formal review opens")
            elif deadline.phase:
                item.facts.append(f"{step.name}: the close of phase {deadline.phase}")
            elif deadline.at:
                item.facts.append(f"{step.name}: its own close, {local(call.call.zone, deadline.at)}")
            else:
                entered = [t for t in app.transitions if state_step(t.dest) == step.id]
                since = f" after entering it at {local(call.call.zone, entered[-1].at)}" if entered else " after entering it"
                item.facts.append(f"{step.name}: {deadline.working_days} working days{since}, ending 24:00 of the "
                                  f"last one (calendar: {call.calendar.source})")
            if step.overdue == "escalate":
                item.facts.append(f"a service deadline: late action still counts; overdue notice at it, escalation "
                                  f"to the manager {definition.escalate_after_working_days} working days later")
        else:
            planned = definition.phase(window).closes
            shown = local(call.call.zone, planned) if isinstance(planned, datetime) else \
                planned if isinstance(planned, str) else planned.describe()
            item.facts.append(f"planned: {shown} (call definition version {app.version}, phases.{window}.closes)")
            who = f"category {app.category or '-'}, cohort {app.cohort or '-'}, recommender {app.recommender or '-'}"
            rule = Deadlines(definition, app.category, call_status.timetable, call.calendar, {}, {}, app.cohort,
                             app.recommender) if app.category else None
            for b in rule.own_closes(window) if rule is not None else []:
                item.facts.append(f"for {who}: {b.rule}")
            for e in call_status.events:
                if e.phase == window and e.kind == "extended":
                    item.facts.append(f"extended for the whole call by {e.role} {e.actor_id} at {local(call.call.zone, e.at)} "
                                      f"from {local(call.call.zone, e.previous)} to {local(call.call.zone, e.new)}: {e.reason}")
                elif e.phase == window and e.kind == "closed" and e.role != "system":
                    item.facts.append(f"closed early by {e.role} {e.actor_id} at {local(call.call.zone, e.at)}: {e.reason}")
        for t in app.transitions:
            if t.trigger == "extend_deadline" and t.data.get("window") == window:
                item.facts.append(f"extended for this application by {t.role} {t.actor_id} at {local(call.call.zone, t.at)} "
                                  f"from {t.data.get('previous')} to {t.data.get('new')}: {t.reason}")
        if window in app.binding:
            item.facts.append(f"binds: {app.binding[window]}")
        out.append(item)
    batch = batch_explanation(definition, app)
    return out + ([batch] if batch is not None else []) + [materials_explanation(call, h) for h in hearings]


def submitted_at(app: ApplicationStatus) -> datetime | None:
    """When the application was first submitted (the instant that decides its batch), or None."""
    return next((t.at for t in app.transitions if t.trigger == "submit"), None)


def batch_explanation(call: CallDefinition, app: ApplicationStatus) -> DeadlineExplanation | None:
    """The review batch of a rolling intake the application joined (or will join), with its cut."""
    batches = call.intake.batches
    if not batches:
        return None
    zone = call.zone
    cuts = "; ".join(f"{b.id} at {local(zone, b.cut)}" for b in batches)
    submitted = submitted_at(app)
    if submitted is None:
        return DeadlineExplanation("batch", None, [f"not submitted yet: it joins the first batch whose cut its "
                                                   f"submission meets (cuts: {cuts})"])
    joined = call.intake.batch_of(submitted)
    if joined is None:
        return DeadlineExplanation("batch", None, [f"submitted at {local(zone, submitted)}, after every cut ({cuts})"])
    earlier = [b for b in batches if b.cut <= submitted]
    after = f", at or after batch {earlier[-1].id}'s cut {local(zone, earlier[-1].cut)}" if earlier else ""
    return DeadlineExplanation("batch", joined.cut, [
        f"batch {joined.id}: submitted at {local(zone, submitted)}, before its cut {local(zone, joined.cut)}{after} "
        f"(intake.batches)"] + ([f"note: {joined.note}"] if joined.note else []))
