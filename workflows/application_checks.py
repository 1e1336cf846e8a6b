"""What an application workflow refuses, and why: the window and its deadline, the role, the owner, the reason,
and what some transitions require of their data. Read by the update validators and again by the handlers."""

from __future__ import annotations

from datetime import datetime

from temporalio import workflow

from workflows.application_due import DueItems
from workflows.application_recommend import at_recommender_step

with workflow.unsafe.imports_passed_through():
    from models.calendar import CalendarNotCovered
    from models.call.levels import PERSON_PREFIX, level_people
    from models.identity import Target, refusal
    from models.instants import local
    from models.lifecycle import TransitionSpec, Window, build_lifecycle, state_step
    from models.messages import ActRequest, ExtendRequest, MigrateRequest
    from models.rules import recommendation_refusal, waiting_for_person
    from models.timetable import within_hours

from workflows.contract_checks import taskbook_refusal


class ApplicationChecks(DueItems):
    """The application workflow's refusals, over the state its workflow class keeps."""

    checking: bool  # the rules of a recommender's step are being evaluated (the handler waits for them)

    def _resolve(self, trigger: str) -> TransitionSpec | None:
        """The transition the machine would take for `trigger` now (conditions evaluated, nothing changed)."""
        return next((t for t in self.lifecycle.candidates(self.model.state, trigger) if self._holds(t)), None)

    def _holds(self, spec: TransitionSpec) -> bool:
        return all(getattr(self.model, c) for c in spec.conditions) and not any(
            getattr(self.model, c) for c in spec.unless)

    def _target(self) -> Target:
        """What this application is to a scope: its call, programme, unit and applicant."""
        people = self.inp.people
        return Target(call=self.call.id, programme=self.call.programme, unit=people.get("unit_admin", ""),
                      application=self.inp.application_id, applicant=people.get("applicant", ""))

    def _refusal(self, req: ActRequest, now: datetime, identities: bool = True) -> str | None:
        """Why `req` is refused now; `identities` (every validator, and handlers of runs with the patch
        `identity-checks`) checks the identity and grants the request carries instead of the actor's name."""
        state = self.model.state
        if req.trigger not in self.lifecycle.triggers():
            return f"unknown event {req.trigger!r} (events: {', '.join(self.lifecycle.triggers())})"
        spec = self._resolve(req.trigger)
        if spec is None:
            possible = sorted({t.trigger for t in self.lifecycle.outgoing(state)
                               if "system" not in t.roles and self._applies(t)})
            return (f"cannot {req.trigger} application {self.inp.application_id} in state {state} "
                    f"(possible: {', '.join(possible) or 'nothing'})")
        if req.role not in spec.roles:
            return f"role {req.role} may not {req.trigger} in state {state} (allowed: {', '.join(spec.roles)})"
        owner = self.inp.people.get(req.role)
        if identities:
            why = refusal(req.identity, req.actor_id, req.role, self._target())
            if why:
                return why
        elif owner is not None and req.actor_id != owner:
            return f"{req.role} {req.actor_id} does not act for application {self.inp.application_id} ({owner} does)"
        if (level := self._level_refusal(req, state)) is not None:
            return level
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
        if closed := self._closed_at(now):
            return closed
        recommends = req.trigger == "approve" and not self.checking and at_recommender_step(self.call, state)
        if recommends and (not_recommended := recommendation_refusal(self.s.verdicts, self.inp.application_id)):
            return not_recommended
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
        if req.trigger in ("submit_taskbook", "sign"):
            why = taskbook_refusal(req, self.s.transitions)
            if why:
                return why
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

    def _level_refusal(self, req: ActRequest, state: str) -> str | None:
        """A step by level is taken by the unit that recommends this application at that level, no other (a city's
        recommender may hold a grant over the same units as the county's)."""
        step_id = state_step(state)
        step = next((s for s in self.call.chain if s.id == step_id), None)
        if step is None or step.level is None or req.role != step.role:
            return None
        owner = level_people(self.call, self.inp.people.get("recommender", "")).get(f"{PERSON_PREFIX}{step.level}")
        if req.actor_id != owner:
            return (f"recommender {req.actor_id} does not recommend application {self.inp.application_id} at the "
                    f"{step.level} level ({owner or 'no unit'} does)")
        return None

    def _decision_refusal(self, req: ActRequest) -> str | None:
        """A manager's decision names a rule whose verdict waits for a person, and says pass or fail."""
        rule, outcome = req.data.get("rule", ""), req.data.get("outcome", "")
        waiting = waiting_for_person(self.s.verdicts)
        if rule not in waiting:
            return (f"rule {rule!r} of application {self.inp.application_id} waits for no decision "
                    f"(waiting: {', '.join(waiting) or 'none'})")
        if outcome not in ("pass", "fail"):
            return f"a decision's outcome is pass or fail, not {outcome!r}"
        return None

    def _extension_refusal(self, req: ExtendRequest, now: datetime, identities: bool = True) -> str | None:
        if req.role != "manager":
            return f"role {req.role} may not extend a deadline (allowed: manager)"
        why = refusal(req.identity, req.actor_id, req.role, self._target()) if identities else None
        if why:
            return why
        if not req.reason.strip():
            return "an extension needs a reason"
        if req.closes.tzinfo is None:
            return f"naive datetime {req.closes.isoformat()}: give the offset, e.g. +08:00"
        if self.lifecycle.is_terminal(self.model.state):
            return f"application {self.inp.application_id} is {self.model.state}; nothing to extend"
        if closed := self._closed_at(now):
            return closed
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

    def _closed_at(self, now: datetime) -> str | None:
        """A bulk closure is due that this workflow has not caught up with: it counts as made."""
        at = self._closure_due(now)
        if at is None:
            return None
        return (f"application {self.inp.application_id} was closed at {local(self.zone, at)} with its window; "
                f"the request came at {local(self.zone, now)}")

    def _migration_refusal(self, req: MigrateRequest, identities: bool = True) -> str | None:
        new = req.definition
        if closed := self._closed_at(workflow.now()):
            return closed
        if req.role != "manager":
            return f"role {req.role} may not migrate an application (allowed: manager)"
        why = refusal(req.identity, req.actor_id, req.role, self._target()) if identities else None
        if why:
            return why
        if not req.reason.strip():
            return "a migration needs a reason"
        if new.id != self.call.id:
            return f"the definition is of call {new.id}, not {self.call.id}"
        if new.version() == self.call.version():
            return f"application {self.inp.application_id} already runs under version {new.version()}"
        if self.model.state not in build_lifecycle(new, self.staged_paper).state_names():
            return f"the new definition has no state {self.model.state}; this application cannot move to it"
        if self.inp.category not in {c.id for c in new.categories}:
            return f"the new definition has no category {self.inp.category}"
        return None
