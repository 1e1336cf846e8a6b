"""Formal review and quotas over HTTP: a manager's decision on a verdict that waits for a person, a quota the system
shows, the places taken, the duplicate check at any time."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from api.bodies import Decision, QuotaLimit
from api.idempotency import Key, once
from api.security import Caller, Services
from models.duplicates import THRESHOLD

router = APIRouter(tags=["review"])


@router.post("/applications/{application_id}/decisions")
async def decide(request: Request, application_id: str, body: Decision, service: Services, caller: Caller,
                 key: Key = None) -> JSONResponse:
    return await once(request, service, caller, key, lambda: service.decide(
        caller, application_id, body.rule, body.outcome, body.reason, body.evidence))


@router.post("/calls/{call_id}/quotas/{quota}")
async def set_quota(request: Request, call_id: str, quota: str, body: QuotaLimit, service: Services, caller: Caller,
                    key: Key = None) -> JSONResponse:
    return await once(request, service, caller, key, lambda: service.set_quota(
        caller, call_id, quota, body.limit, body.reason))


@router.get("/calls/{call_id}/quotas")
def places(call_id: str, service: Services, caller: Caller) -> dict[str, Any]:
    taken = service.places(caller, call_id)
    return {"used": [{"step": s, "recommender": r, "category": c, "places": n} for s, r, c, n in taken.used],
            "limits": [{"quota": row.quota, "limit": row.limit, "set_at": row.set_at.isoformat()}
                       for row in taken.limits]}


@router.get("/calls/{call_id}/duplicates")
def duplicates(call_id: str, service: Services, caller: Caller,
               threshold: Annotated[float, Query(gt=0, le=1)] = THRESHOLD) -> dict[str, Any]:
    corpus, checked, found = service.duplicates(caller, call_id, threshold)
    return {"corpus": corpus, "applications": checked, "threshold": threshold,
            "suspected": [{"application": f.application.id, "duplicate": f.match.work.ref,
                           "duplicate_call": f.match.work.call_id, "score": round(f.match.score, 4),
                           "reasons": list(f.match.reasons)} for f in found]}
