"""Every error as an RFC 9457 problem document (application/problem+json) with one line of detail."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException
from temporalio.service import RPCError

from client.calls import Refusal
from client.errors import Problem
from models.call import CallFileError

MEDIA_TYPE = "application/problem+json"


def problem(request: Request, status: int, title: str, detail: str, headers: dict[str, str] | None = None
            ) -> JSONResponse:
    return JSONResponse({"type": "about:blank", "title": title, "status": status, "detail": detail,
                         "instance": request.url.path}, status_code=status, media_type=MEDIA_TYPE, headers=headers)


def _where(loc: tuple[int | str, ...]) -> str:
    return ".".join(str(p) for p in loc if p not in ("body", "query", "path", "header")) or "request"


def install(app: FastAPI) -> None:
    @app.exception_handler(Problem)
    async def _problem(request: Request, exc: Problem) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        return problem(request, exc.status, exc.title, exc.detail, headers)

    @app.exception_handler(Refusal)
    async def _refusal(request: Request, exc: Refusal) -> JSONResponse:
        return problem(request, 409, "Refused", str(exc))

    @app.exception_handler(CallFileError)
    async def _call_file(request: Request, exc: CallFileError) -> JSONResponse:
        return problem(request, 422, "Invalid call definition", "; ".join(exc.problems))

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0]
        message = str(first.get("msg", "invalid")).removeprefix("Value error, ")
        return problem(request, 422, "Invalid input", f"{_where(tuple(first.get('loc', ())))}: {message}")

    @app.exception_handler(HTTPException)
    async def _http(request: Request, exc: HTTPException) -> JSONResponse:
        return problem(request, exc.status_code, str(exc.detail), str(exc.detail), dict(exc.headers or {}))

    @app.exception_handler(RPCError)
    async def _temporal(request: Request, exc: RPCError) -> JSONResponse:
        return problem(request, 503, "Temporal unavailable", f"Temporal: {exc.message}")
