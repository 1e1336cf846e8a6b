"""Applications over HTTP: status, deadlines, verdicts; events, a manager's extension, migration and override;
attachment uploads, limited while they stream; the refused attempts (auditors)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse

from api.bodies import Event, Extension, Override, WithReason
from api.idempotency import Key, once
from api.routes_calls import Limit, Offset, paged
from api.security import Caller, Services
from client.service import checked
from models.inputs import instant

router = APIRouter(tags=["applications"])


@router.get("/applications/{application_id}")
async def status(application_id: str, service: Services, caller: Caller) -> Any:
    return jsonable_encoder(await service.status(caller, application_id))


@router.get("/applications/{application_id}/deadlines")
async def deadlines(application_id: str, service: Services, caller: Caller) -> Any:
    return jsonable_encoder(await service.explain(caller, application_id))


@router.get("/applications/{application_id}/verdicts")
async def verdicts(application_id: str, service: Services, caller: Caller) -> dict[str, Any]:
    row = await service.verdict(caller, application_id)
    return {"application": row.id, "state": row.state, "verdicts_json": row.verdicts_json}


@router.post("/applications/{application_id}/events")
async def act(request: Request, application_id: str, body: Event, service: Services, caller: Caller,
              key: Key = None) -> JSONResponse:
    data = [f"{k}={v}" for k, v in body.data.items()]
    return await once(request, service, caller, key, lambda: service.act(
        caller, application_id, body.event, body.reason, data, body.role))


@router.post("/applications/{application_id}/deadlines")
async def extend(request: Request, application_id: str, body: Extension, service: Services, caller: Caller,
                 key: Key = None) -> JSONResponse:
    closes = checked(instant, body.closes, "closes")
    return await once(request, service, caller, key, lambda: service.extend_application(
        caller, application_id, body.window, closes, body.reason))


@router.post("/applications/{application_id}/migrations")
async def migrate(request: Request, application_id: str, body: WithReason, service: Services, caller: Caller,
                  key: Key = None) -> JSONResponse:
    return await once(request, service, caller, key, lambda: service.migrate(caller, application_id, body.reason))


@router.post("/applications/{application_id}/overrides")
async def override(request: Request, application_id: str, body: Override, service: Services, caller: Caller,
                   key: Key = None) -> JSONResponse:
    trigger = "reinstate" if body.outcome == "pass" else "disqualify"
    return await once(request, service, caller, key, lambda: service.act(
        caller, application_id, trigger, body.reason, [f"rule={body.rule}"], "manager"))


@router.post("/applications/{application_id}/attachments", status_code=201,
             openapi_extra={"requestBody": {"content": {"application/octet-stream": {"schema": {
                 "type": "string", "format": "binary"}}}, "required": True}})
async def upload(request: Request, application_id: str, service: Services, caller: Caller,
                 kind: Annotated[str, Query(max_length=80)], filename: Annotated[str, Query(max_length=200)],
                 content_type: Annotated[str, Header(max_length=200)] = "application/octet-stream",
                 content_length: Annotated[int | None, Header(ge=0)] = None, key: Key = None) -> JSONResponse:
    """The file is the request body, its media type the Content-Type; kind, type and size are checked before and
    while it streams."""
    async def go() -> dict[str, Any]:
        row = await service.upload(caller, application_id, kind, filename, content_type.split(";")[0].strip(),
                                   request.stream(), content_length)
        return {"id": row.id, "sha256": row.sha256, "size": row.size, "kind": row.kind}
    return await once(request, service, caller, key, go, 201, streamed=True)


@router.get("/refusals", tags=["audit"])
def refusals(request: Request, service: Services, caller: Caller, limit: Limit = 50, offset: Offset = 0
             ) -> dict[str, Any]:
    rows = service.refusals(caller, limit, offset)
    return paged(request, jsonable_encoder(rows), limit, offset)
