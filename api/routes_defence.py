"""A defence (答辩) over HTTP: its hearings as each may see them (an applicant their own slot, never the panel), an
applicant's materials before the deadline of their slot, a manager's record of an absence (the application withdraws)."""

from __future__ import annotations

import hashlib
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Header, Request
from fastapi.responses import JSONResponse

from api.bodies import WithReason
from api.idempotency import Key, once
from api.routes_calls import Limit, Offset, paged
from api.routes_stages import STAGE
from api.security import Caller, Services
from client.service.uploads import MAX_UPLOAD
from models.instants import local
from models.review.hearings import Hearing
from models.review.messages import Absence

router = APIRouter(tags=["defences"])
DEFENCE = STAGE + "/defence"
FILE: dict[str, Any] = {"requestBody": {"content": {"application/octet-stream": {"schema": {
    "type": "string", "format": "binary"}}}, "required": True, "description": "the materials as one file"}}


def hearing_json(zone: ZoneInfo, h: Hearing) -> dict[str, Any]:
    """A hearing as the service let the caller see it (an applicant's holds no panel: an empty list), its instants in
    the call's timezone."""
    x = h.slot
    return {"application": x.application_id, "category": x.category, "starts": local(zone, x.starts),
            "ends": local(zone, x.ends), "materials_due": local(zone, x.materials_due),
            "materials_at": local(zone, h.materials_at) if h.materials_at else None, "panel": h.panel,
            "absent": {"at": local(zone, h.absent.at), "reason": h.absent.reason} if h.absent else None}


def absence_json(zone: ZoneInfo, a: Absence) -> dict[str, Any]:
    return {"application": a.application_id, "actor": a.actor_id, "role": a.role, "at": local(zone, a.at),
            "reason": a.reason}


@router.get(DEFENCE)
async def hearings(request: Request, call_id: str, phase: str, service: Services, caller: Caller, limit: Limit = 50,
                   offset: Offset = 0) -> dict[str, Any]:
    """The hearings in time order: every slot and panel for managers, the committee, auditors and agencies; an
    expert's own hearings (their own seat only); an applicant's own slot and materials deadline, never the panel."""
    found = await service.defence_schedule(caller, call_id, phase)
    zone = service.definition(call_id).zone
    return paged(request, [hearing_json(zone, h) for h in found[offset:offset + limit]], limit, offset)


async def _read(request: Request) -> bytes:
    """The request body, read no further than one byte past the most a file may be (the service refuses that)."""
    content = bytearray()
    async for chunk in request.stream():
        content += chunk
        if len(content) > MAX_UPLOAD:
            break
    return bytes(content)


@router.post(DEFENCE + "/applications/{application_id}/materials", openapi_extra=FILE)
async def materials(request: Request, call_id: str, phase: str, application_id: str, service: Services,
                    caller: Caller, content_length: Annotated[int | None, Header(ge=0)] = None,
                    key: Key = None) -> JSONResponse:
    """The signed-in applicant's defence materials (slides, liaison form) as the request body, its SHA-256 recorded;
    a later copy replaces an earlier one. From the deadline of the slot on: 409, naming the deadline."""
    async def go() -> dict[str, Any]:
        content = b"" if (content_length or 0) > MAX_UPLOAD else await _read(request)
        at = await service.submit_materials(caller, call_id, phase, application_id, content, content_length)
        return {"application": application_id, "received_at": local(service.definition(call_id).zone, at),
                "sha256": hashlib.sha256(content).hexdigest()}
    return await once(request, service, caller, key, go, streamed=True)


@router.post(DEFENCE + "/applications/{application_id}/absence")
async def absence(request: Request, call_id: str, phase: str, application_id: str, body: WithReason,
                  service: Services, caller: Caller, key: Key = None) -> JSONResponse:
    """A manager of the call records an application absent at its slot, with a reason: it withdraws
    (逾期未参加视为弃权) and its applicant is told."""
    async def go() -> dict[str, Any]:
        absent = await service.record_absence(caller, call_id, phase, application_id, body.reason)
        return absence_json(service.definition(call_id).zone, absent)
    return await once(request, service, caller, key, go)
