"""Expert review stages through the service layer: an expert's tasks, reviews and declines, a manager's reopening,
the committee's or manager's approval of the ranked list (each authorized here and again by the stage's validator);
the publicity result, public once published."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from sqlmodel import Session
from temporalio.client import WorkflowUpdateFailedError
from temporalio.service import RPCError, RPCStatusCode

from client.errors import Conflict, Invalid, NotFound
from client.service.core import Core, checked
from models.identity import Identity, Target
from models.inputs import identifier, pairs, reason, text
from models.review.messages import (
    ManagerRequest,
    Review,
    ReviewRequest,
    StageState,
    StageStatus,
    Task,
    stage_workflow_id,
)
from models.review.publicity import RESULT, PublicityResult
from records.publicity_tables import PublicityResultRow
from workflows.review_stage import ReviewStageWorkflow

SEE_ALL = ("manager", "committee", "auditor", "agency")  # who sees every task of a stage; an expert sees their own
DECIDERS = ("committee", "manager")


def _scores(items: list[str]) -> dict[str, int]:
    """CRITERION=N items as whole-number scores."""
    out: dict[str, int] = {}
    for key, value in checked(pairs, items, "score").items():
        if not value.strip().isdigit():
            raise Invalid(f"score {key}={value!r} is not a whole number")
        out[key] = int(value)
    return out


def _why(value: str) -> str:
    return str(checked(text, value, "reason", 2000, True))


class Reviewing(Core):
    def _stage_target(self, call_id: str, phase: str) -> Target:
        target = self.call_target(call_id)
        definition = self.definition(call_id)
        kinds = {p.id: p.kind for p in definition.phases}
        if kinds.get(checked(identifier, phase, "phase")) != "expert_review":
            stages = [p for p, kind in kinds.items() if kind == "expert_review"]
            raise Invalid(f"{phase} is not an expert review stage of {call_id} (stages: {', '.join(stages) or 'none'})")
        return target

    def _stage_role(self, call_id: str, phase: str) -> str:
        return self.definition(call_id).phase(phase).role or "expert"

    async def stage_status(self, identity: Identity, call_id: str, phase: str) -> StageStatus:
        """A stage as `identity` may see it: everything for managers, committee, auditors; an expert's own tasks and
        reviews only (experts never see each other, applicants never see experts)."""
        target = self._stage_target(call_id, phase)
        status: StageStatus = await self._ask(stage_workflow_id(call_id, phase), ReviewStageWorkflow.status,
                                              f"review stage {phase} of {call_id} (not opened yet?)")
        if any(identity.may(r, target) for r in SEE_ALL):
            return status
        if self._stage_role(call_id, phase) not in identity.roles():
            self.refuse(identity, "-", "see the review stage", target,
                        f"{identity.subject} may not see review stage {phase} of {call_id}")
        s = status.state
        own = StageState(tasks=[t for t in s.tasks if t.expert_id == identity.subject],
                         reviews=[r for r in s.reviews if r.expert_id == identity.subject], closed=s.closed)
        return replace(status, state=own)

    async def _stage_update(self, identity: Identity, call_id: str, phase: str, role: str, action: str, update: Any,
                            request: Any) -> Any:
        target = self._stage_target(call_id, phase)
        try:
            return await (await self.temporal()).get_workflow_handle(stage_workflow_id(call_id, phase)).execute_update(
                update, request)
        except WorkflowUpdateFailedError as exc:
            self.refuse(identity, role, action, target, str(getattr(exc.cause, "message", exc.cause)), Conflict)
        except RPCError as exc:
            if exc.status != RPCStatusCode.NOT_FOUND:
                raise
            raise NotFound(f"review stage {phase} of {call_id} is not running") from None

    def _reviewer(self, identity: Identity, call_id: str, phase: str, action: str) -> str:
        role = self._stage_role(call_id, phase)
        if role not in identity.roles():
            self.refuse(identity, role, action, self._stage_target(call_id, phase),
                        f"{identity.subject} has no {role} role, which reviewing in {phase} needs")
        return role

    async def submit_review(self, identity: Identity, call_id: str, phase: str, application_id: str,
                            scores: list[str], comments: list[str]) -> Review:
        """The assigned expert's score sheet for one application (CRITERION=N scores, CRITERION=text comments)."""
        checked(identifier, application_id, "application id")
        role = self._reviewer(identity, call_id, phase, "review")
        request = ReviewRequest(application_id, identity.subject, role, _scores(scores),
                                checked(pairs, comments, "comment"), "", identity)
        review: Review = await self._stage_update(identity, call_id, phase, role, "review",
                                                  ReviewStageWorkflow.submit_review, request)
        return review

    async def decline_review(self, identity: Identity, call_id: str, phase: str, application_id: str,
                             why: str) -> Task:
        """The assigned expert declines a task, with a reason; the next eligible expert gets it."""
        checked(identifier, application_id, "application id")
        role = self._reviewer(identity, call_id, phase, "decline a review")
        request = ReviewRequest(application_id, identity.subject, role, reason=_why(why), identity=identity)
        task: Task = await self._stage_update(identity, call_id, phase, role, "decline a review",
                                              ReviewStageWorkflow.decline_review, request)
        return task

    async def reopen_review(self, identity: Identity, call_id: str, phase: str, application_id: str,
                            expert_id: str, why: str) -> Task:
        """A manager reopens a submitted review, with a reason: the expert gets a new task."""
        target = self._stage_target(call_id, phase)
        self.require(identity, "manager", "reopen a review", target)
        request = ManagerRequest(identity.subject, "manager", _why(why), checked(identifier, application_id,
                                 "application id"), checked(identifier, expert_id, "expert id"), identity)
        task: Task = await self._stage_update(identity, call_id, phase, "manager", "reopen a review",
                                              ReviewStageWorkflow.reopen_review, request)
        return task

    async def approve_ranking(self, identity: Identity, call_id: str, phase: str, why: str,
                              role: str | None = None) -> int:
        """The committee or a manager approves the deciding stage's ranked list; notices go out. Returns how many
        applications were told."""
        target = self._stage_target(call_id, phase)
        usable = [r for r in DECIDERS if identity.may(r, target) and (role is None or r == role)]
        if not usable:
            self.refuse(identity, role or DECIDERS[0], "approve the ranked list", target,
                        f"{identity.subject} may not approve the ranked list of {call_id} (needs committee or manager)")
        request = ManagerRequest(identity.subject, usable[0], str(checked(reason, why)), identity=identity)
        told: int = await self._stage_update(identity, call_id, phase, usable[0], "approve the ranked list",
                                             ReviewStageWorkflow.decide, request)
        return told

    def publicity_result(self, call_id: str) -> PublicityResult:
        """The call's publicity result, for anyone (no sign-in) once published; it names no objector and no expert."""
        self.call_row(call_id)
        with Session(self.engine) as s:
            row = s.get(PublicityResultRow, call_id)
        if row is None:
            raise NotFound(f"the publicity result of {call_id} is not published yet (it is when publicity closes)")
        return RESULT.validate_json(row.result_json)
