"""What an application workflow refuses, and why: the window and its deadline, the role, the owner, the reason,
and what some transitions require of their data. Read by the update validators and again by the handlers."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from models.calendar import CalendarNotCovered
    from models.call import CallDefinition
    from models.deadlines import Deadlines
    from models.instants import local
    from models.lifecycle import Lifecycle, TransitionSpec, Window, build_lifecycle
    from models.messages import ActRequest, ApplicationInput, ApplicationState, ExtendRequest, MigrateRequest
    from models.timetable import Timetable, within_hours


class Model:
    """What the machine drives: the state, and the facts its conditions read (`when_<flag>`, `formal_ok`,
    `formal_pending`)."""

    state: str
    trigger: Callable[[str], bool]  # added by the Machine

    def __init__(self, flags: dict[str, bool]) -> None:
        self.flags = flags
        self.formal_ok = False
        self.formal_pending = False  # no rule fails, some need a person's decision

    def __getattr__(self, name: str) -> bool:
        if name.startswith("when_"):
            return bool(self.__dict__["flags"].get(name.removeprefix("when_"), False))
        raise AttributeError(name)


class ApplicationChecks:
    """The application workflow's refusals, over the state its workflow class keeps."""

    inp: ApplicationInput
    call: CallDefinition
    zone: ZoneInfo
    s: ApplicationState
    timetable: Timetable
    lifecycle: Lifecycle
    model: Model
    paper_receipts: bool

    @property
    def deadlines(self) -> Deadlines:
        """The deadline rule over this application's current timetable, extensions and step deadlines."""
        return Deadlines(self.call, self.inp.category, self.timetable, self.inp.calendar, self.s.extensions,
                         self.s.step_deadlines)

    def _bounds(self, w: Window) -> tuple[datetime | None, datetime | None, str]:
        """(opens, closes, name) of a window; a step is open from the moment the application entered it."""
        d = self.deadlines
        opens = d.opens(w) if w.phase else datetime.min.replace(tzinfo=self.zone)
        return opens, d.close(w), d.name(w)

    def _resolve(self, trigger: str) -> TransitionSpec | None:
        """The transition the machine would take for `trigger` now (conditions evaluated, nothing changed)."""
        return next((t for t in self.lifecycle.candidates(self.model.state, trigger) if self._holds(t)), None)

    def _holds(self, spec: TransitionSpec) -> bool:
        return all(getattr(self.model, c) for c in spec.conditions) and not any(
            getattr(self.model, c) for c in spec.unless)

    def _refusal(self, req: ActRequest, now: datetime) -> str | None:
        state = self.model.state
        if req.trigger not in self.lifecycle.triggers():
            return f"unknown event {req.trigger!r} (events: {', '.join(self.lifecycle.triggers())})"
        spec = self._resolve(req.trigger)
        if spec is None:
            possible = sorted({t.trigger for t in self.lifecycle.outgoing(state) if "system" not in t.roles})
            return (f"cannot {req.trigger} application {self.inp.application_id} in state {state} "
                    f"(possible: {', '.join(possible) or 'nothing'})")
        if req.role not in spec.roles:
            return f"role {req.role} may not {req.trigger} in state {state} (allowed: {', '.join(spec.roles)})"
        owner = self.inp.people.get(req.role)
        if owner is not None and req.actor_id != owner:
            return f"{req.role} {req.actor_id} does not act for application {self.inp.application_id} ({owner} does)"
        if spec.needs_reason and not req.reason.strip():
            return f"{req.trigger} needs a reason"
        if spec.window:
            opens, closes, name = self._bounds(spec.window)
            if opens is None or now < opens:
                when = local(self.zone, opens) if opens else "when a programme manager opens it"
                return f"{name} is not open yet: it opens {when}"
            if closes is not None and now >= closes:
                return f"deadline passed: {name} closed at {local(self.zone, closes)}; the request came at {local(self.zone, now)}"
            if spec.window.phase:
                hours = self.timetable.get(spec.window.phase).hours
                outside = within_hours(hours, now, self.inp.calendar, self.zone) if hours else None
                if outside:
                    return f"{name} accepts this only in its hours: {outside}"
        rule = req.data.get("rule")
        if req.trigger == "decide":
            return self._decision_refusal(req)
        if rule is not None:
            if req.trigger not in ("reinstate", "disqualify"):
                return f"a rule can be named only to reinstate or disqualify, not to {req.trigger}"
            if rule not in {v.rule_id for v in self.s.verdicts}:
                known = ", ".join(v.rule_id for v in self.s.verdicts) or "none: this application has no verdicts"
                return f"no verdict for rule {rule!r} on application {self.inp.application_id} (rules: {known})"
            others = [v.rule_id for v in self.s.verdicts if v.outcome == "fail" and v.rule_id != rule]
            if req.trigger == "reinstate" and others:
                return (f"overriding {rule} does not reinstate application {self.inp.application_id}: "
                        f"{', '.join(others)} fail too (reinstate without naming a rule to override the whole verdict)")
        if req.trigger == "receive_paper" and self.paper_receipts:
            given = (req.data.get("receipt", ""), req.data.get("content_sha256", ""))
            if given != (self.s.receipt, self.s.content_sha256):
                return (f"the paper form (receipt {given[0] or 'missing'}, content {given[1][:12] or 'missing'}) does "
                        f"not match the online version: receipt {self.s.receipt}, content {self.s.content_sha256[:12]}")
        if req.trigger == "score":
            try:
                if not 0 <= float(req.data.get("score", "")) <= 100:
                    raise ValueError
            except ValueError:
                return "score needs data score=<number 0-100>"
        try:
            self.deadlines.entry_deadline(spec.dest, now)
        except CalendarNotCovered as exc:
            return f"cannot compute the deadline of {spec.dest}: {exc}"
        return None

    def _decision_refusal(self, req: ActRequest) -> str | None:
        """A manager's decision names a rule whose verdict waits for a person, and says pass or fail."""
        rule, outcome = req.data.get("rule", ""), req.data.get("outcome", "")
        waiting = [v.rule_id for v in self.s.verdicts if v.outcome == "review"]
        if rule not in waiting:
            return (f"rule {rule!r} of application {self.inp.application_id} waits for no decision "
                    f"(waiting: {', '.join(waiting) or 'none'})")
        if outcome not in ("pass", "fail"):
            return f"a decision's outcome is pass or fail, not {outcome!r}"
        return None

    def _extension_refusal(self, req: ExtendRequest, now: datetime) -> str | None:
        if req.role != "manager":
            return f"role {req.role} may not extend a deadline (allowed: manager)"
        if not req.reason.strip():
            return "an extension needs a reason"
        if req.closes.tzinfo is None:
            return f"naive datetime {req.closes.isoformat()}: give the offset, e.g. +08:00"
        if self.lifecycle.is_terminal(self.model.state):
            return f"application {self.inp.application_id} is {self.model.state}; nothing to extend"
        w = Window.of(req.window)
        if w.step is not None and w.step not in self.lifecycle.steps:
            return f"unknown step {req.window!r} (steps: {', '.join(self.lifecycle.steps)})"
        if w.phase is not None and w.phase not in [p.id for p in self.timetable.phases]:
            return f"unknown phase {req.window!r} (phases: {', '.join(p.id for p in self.timetable.phases)})"
        current = self.deadlines.close(w)
        if current is not None and req.closes <= current:
            return f"new deadline {local(self.zone, req.closes)} is not later than the current {local(self.zone, current)}"
        if req.closes <= now:
            return f"new deadline {local(self.zone, req.closes)} is in the past"
        return None

    def _migration_refusal(self, req: MigrateRequest) -> str | None:
        new = req.definition
        if req.role != "manager":
            return f"role {req.role} may not migrate an application (allowed: manager)"
        if not req.reason.strip():
            return "a migration needs a reason"
        if new.id != self.call.id:
            return f"the definition is of call {new.id}, not {self.call.id}"
        if new.version() == self.call.version():
            return f"application {self.inp.application_id} already runs under version {new.version()}"
        if self.model.state not in build_lifecycle(new).state_names():
            return f"the new definition has no state {self.model.state}; this application cannot move to it"
        if self.inp.category not in {c.id for c in new.categories}:
            return f"the new definition has no category {self.inp.category}"
        return None
