"""Calls over HTTP: list, a call's applications, counts and verdicts; apply; a manager's phase, deadline and
revision changes."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from api.bodies import Advance, Apply, ConditionalExtension, Extension, Revision, WithReason
from api.idempotency import Key, once
from api.security import Caller, Services
from client.service import checked
from models.call import parse_call
from models.inputs import instant

router = APIRouter(tags=["calls"])
Limit = Annotated[int, Query(ge=1, le=500)]
Offset = Annotated[int, Query(ge=0, le=10_000_000)]


def paged(request: Request, items: Any, limit: int, offset: int) -> dict[str, Any]:
    more = len(items) == limit
    nxt = str(request.url.include_query_params(limit=limit, offset=offset + limit)) if more else None
    return {"items": items, "limit": limit, "offset": offset, "next": nxt}


@router.get("/calls")
def calls(request: Request, service: Services, caller: Caller, limit: Limit = 50, offset: Offset = 0) -> dict[str, Any]:
    rows = service.calls(caller, limit, offset)
    return paged(request, [{"id": r.id, "title": r.title, "version": r.version, "current_phase": r.current_phase}
                           for r in rows], limit, offset)


@router.get("/calls/{call_id}/applications")
def applications(request: Request, call_id: str, service: Services, caller: Caller, limit: Limit = 50,
                 offset: Offset = 0) -> dict[str, Any]:
    rows = service.applications(caller, call_id, limit, offset)
    return paged(request, [{"id": r.id, "state": r.state, "category": r.category, "title": r.title,
                            "unit": r.unit} for r in rows], limit, offset)


@router.get("/calls/{call_id}/counts")
def counts(call_id: str, service: Services, caller: Caller) -> dict[str, int]:
    return service.counts(caller, call_id)


@router.get("/calls/{call_id}/verdicts")
def verdicts(call_id: str, service: Services, caller: Caller) -> list[dict[str, Any]]:
    return [{"application": r.id, "state": r.state, "verdicts_json": r.verdicts_json}
            for r in service.verdicts(caller, call_id)]


@router.post("/calls/{call_id}/applications", status_code=201)
async def apply(request: Request, call_id: str, body: Apply, service: Services, caller: Caller,
                key: Key = None) -> JSONResponse:
    async def go() -> dict[str, str]:
        return {"id": await service.apply(caller, call_id, body.category, body.title, body.flags, body.attachments,
                                          body.form, body.id)}
    return await once(request, service, caller, key, go, 201)


@router.post("/calls/{call_id}/phase/advance")
async def advance(request: Request, call_id: str, body: Advance, service: Services, caller: Caller,
                  key: Key = None) -> JSONResponse:
    until = checked(instant, body.until, "until") if body.until is not None else None
    return await once(request, service, caller, key, lambda: service.change_call(caller, call_id, "advance",
                                                                                 body.reason, until=until))


@router.post("/calls/{call_id}/phase/close")
async def close(request: Request, call_id: str, body: WithReason, service: Services, caller: Caller,
                key: Key = None) -> JSONResponse:
    return await once(request, service, caller, key, lambda: service.change_call(caller, call_id, "close",
                                                                                 body.reason))


@router.post("/calls/{call_id}/deadlines")
async def extend(request: Request, call_id: str, body: Extension, service: Services, caller: Caller,
                 key: Key = None) -> JSONResponse:
    closes = checked(instant, body.closes, "closes")
    return await once(request, service, caller, key, lambda: service.change_call(
        caller, call_id, "extend", body.reason, window=body.window, closes=closes))


@router.post("/calls/{call_id}/deadlines/conditional")
async def extend_for(request: Request, call_id: str, body: ConditionalExtension, service: Services, caller: Caller,
                     key: Key = None) -> JSONResponse:
    """In one act, new closes for the applications the predicate selects (those created later included)."""
    closes = {window: checked(instant, value, f"closes.{window}") for window, value in body.closes.items()}
    before = checked(instant, body.created_before, "created_before") if body.created_before is not None else None
    return await once(request, service, caller, key, lambda: service.extend_for(
        caller, call_id, closes, body.reason, body.category, body.cohort, body.recommender, body.unit, before))


@router.post("/calls/{call_id}/revisions")
async def revise(request: Request, call_id: str, body: Revision, service: Services, caller: Caller,
                 key: Key = None) -> JSONResponse:
    service.require(caller, "manager", "revise call", service.call_target(call_id))
    definition = parse_call(body.definition_yaml, "definition_yaml")
    return await once(request, service, caller, key, lambda: service.change_call(
        caller, call_id, "revise", body.reason, definition=definition))
