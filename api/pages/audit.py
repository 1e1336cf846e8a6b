"""The auditor's application page: the trail rebuilt from the histories (who, role, when, why; the records DB
compared), the refused attempts on it, the effective deadlines with their facts, and whether the current code
replays its history and the history keeps the rules (what `grantflow audit replay`/`verify` check)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from api.pages.session import PageRoute, Viewer, render
from api.security import service
from audit.replay import replay_all
from audit.source import application_from_server
from audit.trail import build_trail
from audit.verify import application_rules

router = APIRouter(prefix="/pages", route_class=PageRoute, include_in_schema=False)


@router.get("/applications/{application_id}")
async def application_page(request: Request, application_id: str, identity: Viewer) -> Response:
    svc = service(request)
    target = await svc.audited(identity, application_id)
    refusals = svc.refusals_of(identity, target)
    deadlines = await svc.explain(identity, application_id)
    bundle = await application_from_server(await svc.temporal(), svc.engine, application_id)
    life = bundle.application(application_id)
    trail = build_trail(life, bundle.call(), bundle.records)
    replayed = await replay_all(bundle.executions)
    rules = list(application_rules(life))
    return render(request, "application.html.j2", identity=identity, life=life, trail=trail, zone=life.call.zone,
                  refusals=refusals, deadlines=deadlines, replayed=replayed, rules=rules)
