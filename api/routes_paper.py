"""Calendars and paper over HTTP: deadlines as iCalendar feeds (a call's; an application's, to whoever may read it),
the printable form (PDF), and the reconciliation of a scanned paper copy's code."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse, Response

from api.bodies import PaperCopy
from api.idempotency import Key, once
from api.security import Caller, Services
from documents.form_pdf import MEDIA_TYPE as PDF
from documents.ical import MEDIA_TYPE as ICAL

router = APIRouter(tags=["calendars and paper"])
FORM: dict[int | str, dict[str, Any]] = {200: {"content": {PDF: {}}, "description": "the form and paper checklist"}}
ICS: dict[int | str, dict[str, Any]] = {200: {"content": {ICAL: {}}, "description": "an iCalendar (RFC 5545) feed"}}


@router.get("/calls/{call_id}/deadlines.ics", response_class=Response, responses=ICS)
async def call_ical(call_id: str, service: Services, caller: Caller) -> Response:
    """Every close of the call: its phases', and those that depend on who applies."""
    return Response(await service.call_ical(caller, call_id), media_type=ICAL)


@router.get("/applications/{application_id}/deadlines.ics", response_class=Response, responses=ICS)
async def application_ical(application_id: str, service: Services, caller: Caller) -> Response:
    """Every close that binds the application, its extensions included."""
    return Response(await service.application_ical(caller, application_id), media_type=ICAL)


@router.get("/applications/{application_id}/form.pdf", response_class=Response,
            responses=FORM)
async def printable(application_id: str, service: Services, caller: Caller) -> Response:
    content = await service.printable(caller, application_id)
    return Response(content, media_type=PDF,
                    headers={"Content-Disposition": f'inline; filename="{application_id}.pdf"'})


@router.post("/applications/{application_id}/paper")
async def reconcile(request: Request, application_id: str, body: PaperCopy, service: Services, caller: Caller,
                    key: Key = None) -> JSONResponse:
    """The scanned code against the online version; with `receive`, a matching copy is registered as received."""
    async def go() -> dict[str, Any]:
        verdict, record = await service.reconcile_paper(caller, application_id, body.code, body.receive)
        return {**jsonable_encoder(verdict), "received": jsonable_encoder(record)}
    return await once(request, service, caller, key, go)
