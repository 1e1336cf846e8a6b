"""The FastAPI application: routers, problem documents, the service it shares with the command line, the pages for
managers and auditors (api/pages/), and the process's Prometheus counters at /metrics."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Response
from temporalio.client import Client

from api import (
    pages,
    problems,
    routes_access,
    routes_applications,
    routes_calls,
    routes_defence,
    routes_paper,
    routes_publicity,
    routes_review,
    routes_stages,
)
from client.service import Service
from client.tokens import TokenConfig
from infra import metrics
from infra.settings import Settings
from records.engine import make_engine


def create_app(settings: Settings, client: Client | None = None) -> FastAPI:
    """The API over `client` (connected at start-up when None) and the records DB of `settings`."""
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await app.state.service.temporal()
        yield

    app = FastAPI(title="grantflow", version="0.1.0", lifespan=lifespan,
                  description="The review lifecycle of research-funding calls. Errors are RFC 9457 problem documents; "
                              "every POST takes an Idempotency-Key.")
    app.state.service = Service(client, make_engine(settings.database_url), settings.task_queue,
                                TokenConfig.from_env(settings.var_dir), settings.var_dir,
                                (settings.temporal_address, settings.namespace), settings.temporal_access)
    problems.install(app)
    for router in (routes_access.router, routes_calls.router, routes_applications.router, routes_paper.router,
                   routes_review.router, routes_stages.router, routes_defence.router,
                   routes_publicity.router):
        app.include_router(router)
    pages.install(app)

    @app.get("/metrics", include_in_schema=False)
    def prometheus() -> Response:
        """This process's counters (deadlines enforced, late changes refused, notices sent and failed, refusals by
        reason) in the Prometheus text format; not part of the API (no token: restrict it where the API is exposed)."""
        body, content_type = metrics.exposition()
        return Response(body, media_type=content_type)
    return app
