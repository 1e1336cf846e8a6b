"""Server-rendered pages (Jinja2, a little JavaScript) for managers and auditors, and the public publicity result,
over the same service layer."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from api.pages import access, audit, calls, publicity


def install(app: FastAPI) -> None:
    """The pages' routers, and their script and style sheet under /pages/static."""
    for router in (access.router, calls.router, audit.router, publicity.router):
        app.include_router(router)
    app.mount("/pages/static", StaticFiles(directory=Path(__file__).parent / "static"), name="pages-static")
