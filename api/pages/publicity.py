"""The public page of a call's publicity result (公示结果): no sign-in, shown once the result is published; the
objections are counted, never named, and no expert appears."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from api.pages.session import PageRoute, render
from api.security import service

router = APIRouter(prefix="/pages", route_class=PageRoute, include_in_schema=False)


@router.get("/calls/{call_id}/publicity")
def publicity_page(request: Request, call_id: str) -> Response:
    svc = service(request)
    result = svc.publicity_result(call_id)
    definition = svc.definition(call_id)
    return render(request, "publicity.html.j2", result=result, title=definition.title, issuer=definition.issuer,
                  zone=definition.zone, categories={c.id: c.name for c in definition.categories})
