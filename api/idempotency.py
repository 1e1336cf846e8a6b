"""Idempotency keys on every POST: the first response to a key is kept, and a retry with the same key and request
gets it again without acting twice; the same key with another request is refused."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import Header, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from api.problems import MEDIA_TYPE
from client.errors import Conflict, Invalid, Problem
from client.service import Service
from models.identity import Identity
from records.accounts import IdempotencyRow

Key = Annotated[str | None, Header(alias="Idempotency-Key", max_length=200,
                                   description="a retried request with the same key never acts twice")]


async def once(request: Request, service: Service, identity: Identity, key: str | None,
               action: Callable[[], Awaitable[Any]], status: int = 200, streamed: bool = False) -> JSONResponse:
    """Run `action` once per (caller, key); its result (or problem) is kept for the retries. A `streamed` body
    (an upload) is not read here: the request is known by its method, path and query."""
    if key is None:
        return JSONResponse(jsonable_encoder(await action()), status_code=status)
    body = str(request.url.query).encode() if streamed else await request.body()
    fingerprint = f"{request.method} {request.url.path} {hashlib.sha256(body).hexdigest()}"
    with Session(service.engine) as s:
        s.add(IdempotencyRow(subject=identity.subject, key=key, fingerprint=fingerprint, created_at=datetime.now(UTC)))
        try:
            s.commit()
        except IntegrityError:
            s.rollback()
            return _replay(s.get(IdempotencyRow, (identity.subject, key)), fingerprint, key)
    try:
        content, code, media = jsonable_encoder(await action()), status, "application/json"
    except Problem as exc:
        content = {"type": "about:blank", "title": exc.title, "status": exc.status, "detail": exc.detail,
                   "instance": request.url.path}
        code, media = exc.status, MEDIA_TYPE
    except BaseException:
        _forget(service, identity.subject, key)
        raise
    with Session(service.engine) as s:
        row = s.get(IdempotencyRow, (identity.subject, key))
        if row is not None:
            row.status, row.body = code, json.dumps(content, ensure_ascii=False)
            s.commit()
    return JSONResponse(content, status_code=code, media_type=media)


def _replay(row: IdempotencyRow | None, fingerprint: str, key: str) -> JSONResponse:
    if row is None or row.fingerprint != fingerprint:
        raise Invalid(f"Idempotency-Key {key!r} was used for another request")
    if row.status == 0:
        raise Conflict(f"the request with Idempotency-Key {key!r} is still running; retry later")
    media = MEDIA_TYPE if row.status >= 400 else "application/json"
    return JSONResponse(json.loads(row.body), status_code=row.status, media_type=media,
                        headers={"Idempotent-Replayed": "true"})


def _forget(service: Service, subject: str, key: str) -> None:
    with Session(service.engine) as s:
        row = s.get(IdempotencyRow, (subject, key))
        if row is not None:
            s.delete(row)
            s.commit()
