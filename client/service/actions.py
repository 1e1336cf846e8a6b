"""People's changes through the service layer: an event on an application, a manager's change to a call or to one
application; each authorized here and again by the workflow's validator, refusals recorded."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from temporalio.client import WorkflowUpdateFailedError
from temporalio.service import RPCError, RPCStatusCode

from client.calls import Refusal, act_on, manage
from client.errors import Conflict, Invalid
from client.service.core import Core, checked
from models.call import CallDefinition
from models.extension_checks import advance_problem, extend_for_problem
from models.identity import Identity, Target
from models.inputs import MAX_REASON, identifier, pairs, reason, text
from models.lifecycle import build_lifecycle
from models.messages import (
    ActRequest,
    CallEvent,
    ExtendForRequest,
    ExtendRequest,
    MigrateRequest,
    PhaseRequest,
    ReviseRequest,
    TransitionRecord,
    application_workflow_id,
    call_workflow_id,
)
from workflows.application import ApplicationWorkflow
from workflows.call import CallWorkflow

CALL_UPDATES = {"advance": CallWorkflow.advance_phase, "close": CallWorkflow.close_phase,
                "extend": CallWorkflow.extend_deadline, "revise": CallWorkflow.revise_definition,
                "extend_for": CallWorkflow.extend_for}


def required_reason(value: str) -> str:
    return str(checked(text, value, "reason", MAX_REASON, True))


class Actions(Core):
    def _role(self, identity: Identity, target: Target, allowed: list[str], role: str | None, action: str) -> str:
        """The role `identity` acts in: the one given, or the only one of `allowed` it holds for `target`."""
        if role is not None:
            if role not in identity.roles():
                self.refuse(identity, role, action, target, f"{identity.subject} has no {role} role")
            return role
        usable = [r for r in allowed if identity.may(r, target)] or [r for r in identity.roles() if r in allowed]
        if len(usable) > 1:
            raise Invalid(f"{identity.subject} may {action} as {' or '.join(usable)}: say which (--role)")
        if not usable:
            held = ", ".join(identity.roles()) or "none"
            self.refuse(identity, allowed[0] if allowed else "-", action, target,
                        f"{identity.subject} may not {action} {target.describe()} "
                        f"(allowed: {', '.join(allowed) or 'nobody'}; roles held: {held})")
        return usable[0]

    async def act(self, identity: Identity, application_id: str, trigger: str, why: str = "",
                  data: list[str] | None = None, role: str | None = None) -> TransitionRecord:
        """Send one event (submit, approve, return, ...) to an application as `identity`."""
        checked(identifier, trigger, "event")
        why = checked(reason, why)
        values: dict[str, str] = checked(pairs, data or [])
        locked = self.app_locked(checked(identifier, application_id, "application id"), trigger)
        if locked:
            self.refuse(identity, role or "-", trigger, Target(application=application_id), locked, Conflict)
        st, target = await self.application(application_id)
        specs = build_lifecycle(self.definition(st.call_id)).candidates(st.state, trigger)
        allowed = list(dict.fromkeys(r for s in specs for r in s.roles if r != "system"))
        acting = self._role(identity, target, allowed or identity.roles(), role, trigger)
        request = ActRequest(trigger, identity.subject, acting, why, values, identity)
        try:
            return await act_on(await self.temporal(), application_id, request)
        except Refusal as exc:
            self.refuse(identity, acting, trigger, target, str(exc), Conflict)

    async def change_call(self, identity: Identity, call_id: str, kind: str, why: str, window: str = "",
                          closes: datetime | None = None, definition: CallDefinition | None = None,
                          until: datetime | None = None) -> CallEvent:
        """A manager's change to a call: advance (`until`: the opened phase then closes) or close a phase, extend a
        deadline, revise the definition."""
        why = required_reason(why)
        target = self.call_target(call_id)
        action = f"{kind} call"
        self.require(identity, "manager", action, target)
        request: Any
        if kind == "advance":
            current = await self.call_input(call_id)
            nxt = next((p for p in current.timetable.phases if not p.opened), None)
            problem = advance_problem(current.call, nxt, datetime.now(UTC), until) if nxt is not None else None
            if problem:
                self.refuse(identity, "manager", action, target, problem, Conflict)
            request = PhaseRequest(identity.subject, "manager", why, identity, until)
        elif kind == "extend" and closes is not None:
            request = ExtendRequest(checked(identifier, window, "phase"), closes, identity.subject, "manager", why,
                                    identity)
        elif kind == "revise" and definition is not None:
            request = ReviseRequest(definition, identity.subject, "manager", why, identity)
        else:
            request = PhaseRequest(identity.subject, "manager", why, identity)
        try:
            return await manage((await self.temporal()).get_workflow_handle(call_workflow_id(call_id)), CALL_UPDATES[kind],
                                request)
        except WorkflowUpdateFailedError as exc:
            self.refuse(identity, "manager", action, target, str(getattr(exc.cause, "message", exc.cause)), Conflict)

    async def extend_for(self, identity: Identity, call_id: str, closes: dict[str, datetime], why: str,
                         category: list[str], cohort: list[str], recommender: list[str], unit: list[str],
                         created_before: datetime | None) -> CallEvent:
        """In one act, extend deadlines (window -> new close) for the applications of `call_id` the predicate selects
        (created before an instant, categories, cohorts, recommenders, units; each list given must hold the
        application's value), those created later included."""
        why = required_reason(why)
        for w in closes:
            checked(identifier, w.removeprefix("step:"), "window")
        for kind, values in (("category", category), ("cohort", cohort), ("recommender", recommender),
                             ("unit", unit)):
            for v in values:
                checked(identifier, v, kind)
        target = self.call_target(call_id)
        action = "extend deadlines of"
        self.require(identity, "manager", action, target)
        request = ExtendForRequest(closes, identity.subject, "manager", why, category, cohort, recommender, unit,
                                   created_before, identity)
        current = await self.call_input(call_id)
        problem = extend_for_problem(current.call, current.timetable, datetime.now(UTC), request)
        if problem:
            self.refuse(identity, "manager", action, target, problem, Invalid)
        try:
            return await manage((await self.temporal()).get_workflow_handle(call_workflow_id(call_id)),
                                CallWorkflow.extend_for, request)
        except WorkflowUpdateFailedError as exc:
            self.refuse(identity, "manager", action, target, str(getattr(exc.cause, "message", exc.cause)), Conflict)

    async def _application_update(self, identity: Identity, application_id: str, action: str, update: Any,
                                  request: Any) -> TransitionRecord:
        _, target = await self.application(application_id)
        self.require(identity, "manager", action, target)
        try:
            record: TransitionRecord = await (await self.temporal()).get_workflow_handle(
                application_workflow_id(application_id)).execute_update(update, request)
            return record
        except WorkflowUpdateFailedError as exc:
            self.refuse(identity, "manager", action, target, str(getattr(exc.cause, "message", exc.cause)), Conflict)
        except RPCError as exc:
            if exc.status != RPCStatusCode.NOT_FOUND:
                raise
            raise Conflict(f"application {application_id} is closed") from None

    async def extend_application(self, identity: Identity, application_id: str, window: str, closes: datetime,
                                 why: str) -> TransitionRecord:
        """Extend one deadline (a phase id or `step:<id>`) for one application."""
        window = window if window.startswith("step:") and checked(identifier, window[5:], "step") else checked(
            identifier, window, "phase")
        request = ExtendRequest(window, closes, identity.subject, "manager", required_reason(why), identity)
        return await self._application_update(identity, application_id, "extend a deadline of",
                                               ApplicationWorkflow.extend_deadline, request)

    async def migrate(self, identity: Identity, application_id: str, why: str) -> TransitionRecord:
        """Move a running application to its call's current definition."""
        st, _ = await self.application(application_id)
        current = await self.call_input(st.call_id)
        request = MigrateRequest(current.call, identity.subject, "manager", required_reason(why), identity)
        return await self._application_update(identity, application_id, "migrate", ApplicationWorkflow.migrate,
                                              request)
