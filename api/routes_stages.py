"""Expert review stages over HTTP: an expert's own tasks, score sheets and declines; a manager's view of a stage, the
reopening of a review and the approval of the ranked list. Applicants see none of it (experts stay unnamed to them)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from api.bodies import Approval, Reopening, ScoreSheet, WithReason
from api.idempotency import Key, once
from api.routes_calls import Limit, Offset, paged
from api.security import Caller, Services
from models.review.messages import Review, StageStatus, Task

router = APIRouter(tags=["review stages"])
STAGE = "/calls/{call_id}/stages/{phase}"
Status = Annotated[Literal["open", "submitted", "declined", "lapsed"] | None, Query()]


def task_json(t: Task) -> dict[str, Any]:
    return {"application": t.application_id, "expert": t.expert_id, "category": t.category,
            "assigned_at": t.assigned_at.isoformat(), "due": t.due.isoformat(), "status": t.status, "reason": t.reason}


def review_json(r: Review) -> dict[str, Any]:
    return {"application": r.application_id, "expert": r.expert_id, "scores": r.scores, "comments": r.comments,
            "total": round(r.total, 4), "at": r.at.isoformat(), "version": r.version, "final": r.final}


def stage_json(status: StageStatus) -> dict[str, Any]:
    """A stage as the service let the caller see it (an expert's view holds only their own tasks and reviews)."""
    s = status.state
    settled = s.settled
    return {"call": status.call_id, "phase": status.phase_id, "drawn": s.drawn is not None, "closed": s.closed,
            "settled": settled is not None, "decided": s.decided,
            "ranking": {c: {"funded": f, "planned": p} for c, (f, p) in settled.ranking.items()} if settled else {},
            "outliers": settled.outliers if settled else [], "reassigned": s.reassigned, "late": s.late,
            "promoted": s.promoted, "tasks": [task_json(t) for t in s.tasks],
            "reviews": [review_json(r) for r in s.reviews], "log": s.log}


@router.get(STAGE)
async def stage(call_id: str, phase: str, service: Services, caller: Caller) -> dict[str, Any]:
    """Managers, the committee and auditors see the whole stage; an expert only their own tasks and reviews."""
    return stage_json(await service.stage_status(caller, call_id, phase))


@router.get(STAGE + "/tasks")
async def tasks(request: Request, call_id: str, phase: str, service: Services, caller: Caller, status: Status = None,
                limit: Limit = 50, offset: Offset = 0) -> dict[str, Any]:
    """Review tasks: an expert's own (never another's); every task for managers, the committee and auditors."""
    found = [t for t in (await service.stage_status(caller, call_id, phase)).state.tasks
             if status is None or t.status == status]
    return paged(request, [task_json(t) for t in found[offset:offset + limit]], limit, offset)


@router.post(STAGE + "/applications/{application_id}/reviews")
async def review(request: Request, call_id: str, phase: str, application_id: str, body: ScoreSheet,
                 service: Services, caller: Caller, key: Key = None) -> JSONResponse:
    """The signed-in expert's score sheet for an application assigned to them: final once submitted."""
    async def go() -> dict[str, Any]:
        return review_json(await service.submit_review(
            caller, call_id, phase, application_id, [f"{k}={v}" for k, v in body.scores.items()],
            [f"{k}={v}" for k, v in body.comments.items()]))
    return await once(request, service, caller, key, go)


@router.post(STAGE + "/applications/{application_id}/declines")
async def decline(request: Request, call_id: str, phase: str, application_id: str, body: WithReason,
                  service: Services, caller: Caller, key: Key = None) -> JSONResponse:
    """The signed-in expert declines a task, with a reason; the next eligible expert gets it."""
    async def go() -> dict[str, Any]:
        return task_json(await service.decline_review(caller, call_id, phase, application_id, body.reason))
    return await once(request, service, caller, key, go)


@router.post(STAGE + "/applications/{application_id}/reopenings")
async def reopen(request: Request, call_id: str, phase: str, application_id: str, body: Reopening,
                 service: Services, caller: Caller, key: Key = None) -> JSONResponse:
    """A manager of the call reopens a submitted review, with a reason: the expert gets a new task."""
    async def go() -> dict[str, Any]:
        return task_json(await service.reopen_review(caller, call_id, phase, application_id, body.expert,
                                                     body.reason))
    return await once(request, service, caller, key, go)


@router.post(STAGE + "/approval")
async def approve(request: Request, call_id: str, phase: str, body: Approval, service: Services, caller: Caller,
                  key: Key = None) -> JSONResponse:
    """The committee or a manager approves the deciding stage's ranked list: the applications are told."""
    async def go() -> dict[str, Any]:
        return {"told": await service.approve_ranking(caller, call_id, phase, body.reason, body.role)}
    return await once(request, service, caller, key, go)
