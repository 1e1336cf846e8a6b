"""The manager's call page: the state machine with live counts drawn over it, the counts per recommender and per
unit, the next boundaries with a countdown, and forms for what the manager may do now; its POSTs go through the same
service layer and idempotency keys as the API's actions."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from api.idempotency import once
from api.pages.diagram import layout
from api.pages.session import PageRoute, Posted, Viewer, error_page, flash, render
from api.security import service
from client.errors import Problem
from client.service import checked
from client.service.overview import next_boundaries
from models.identity import Identity
from models.inputs import instant

router = APIRouter(prefix="/pages", route_class=PageRoute, include_in_schema=False)
NEEDS_RULE = ("reinstate", "disqualify")


@router.get("/calls/{call_id}")
async def call_page(request: Request, call_id: str, identity: Viewer) -> Response:
    view = await service(request).call_overview(identity, call_id)
    states = [s.name for s in view.lifecycle.states]
    return render(request, "call.html.j2", identity=identity, view=view, zone=view.call.zone,
                  diagram=layout(view.lifecycle, view.counts), boundaries=next_boundaries(view.status.timetable),
                  recommender_states=[s for s in states if any(s in c for c in view.by_recommender.values())],
                  unit_states=[s for s in states if any(s in c for c in view.by_unit.values())],
                  needs_rule=NEEDS_RULE)


@router.get("/calls/{call_id}/counts")
def live_counts(request: Request, call_id: str, identity: Viewer) -> JSONResponse:
    """Applications per state, read afresh: what the page's script redraws the counts with."""
    return JSONResponse(service(request).counts(identity, call_id), headers={"Cache-Control": "no-store"})


def _done(result: dict[str, Any]) -> str:
    if "trigger" in result:
        return f"{result['trigger']}: {result['source']} -> {result['dest']}"
    return f"{result.get('phase') or 'the call'} {result.get('kind', 'changed')}"


async def _acted(request: Request, identity: Identity, fields: dict[str, str], back: str,
                 action: Callable[[], Awaitable[Any]]) -> Response:
    """Run the action once per idempotency key; back to the page on success, its problem as a page otherwise."""
    try:
        answer = await once(request, service(request), identity, fields.get("key") or None, action)
    except Problem as exc:
        return error_page(request, exc.status, exc.title, exc.detail)
    body = json.loads(bytes(answer.body))
    if answer.status_code >= 400:
        return error_page(request, answer.status_code, str(body.get("title")), str(body.get("detail")))
    return flash(RedirectResponse(back, status_code=303), request, _done(body))


@router.post("/calls/{call_id}/phase")
async def change_phase(request: Request, call_id: str, identity: Viewer, fields: Posted) -> Response:
    kind = fields.get("kind", "")
    if kind not in ("advance", "close"):
        return error_page(request, 422, "Invalid input", f"kind {kind[:40]!r}: advance or close")
    return await _acted(request, identity, fields, f"/pages/calls/{call_id}", lambda: service(request).change_call(
        identity, call_id, kind, fields.get("reason", "")))


@router.post("/calls/{call_id}/deadlines")
async def extend(request: Request, call_id: str, identity: Viewer, fields: Posted) -> Response:
    closes = checked(instant, fields.get("closes", ""), "closes")
    return await _acted(request, identity, fields, f"/pages/calls/{call_id}", lambda: service(request).change_call(
        identity, call_id, "extend", fields.get("reason", ""), window=fields.get("window", ""), closes=closes))


@router.post("/applications/{application_id}/events")
async def act(request: Request, application_id: str, identity: Viewer, fields: Posted) -> Response:
    """A manager's event on one application (the call page lists those waiting for one)."""
    event = fields.get("event", "")
    data = [f"rule={fields.get('rule', '')}"] if event in NEEDS_RULE else []
    st, _ = await service(request).application(application_id)
    return await _acted(request, identity, fields, f"/pages/calls/{st.call_id}", lambda: service(request).act(
        identity, application_id, event, fields.get("reason", ""), data, "manager"))
