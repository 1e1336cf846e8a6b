"""Signing in over HTTP (POST /token, OAuth2 password form), who the caller is (GET /me), and health."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form

from api.security import Caller, Services

router = APIRouter(tags=["access"])


@router.post("/token")
def token(service: Services, username: Annotated[str, Form(max_length=80)],
          password: Annotated[str, Form(max_length=1000)]) -> dict[str, Any]:
    """An access token for a local account (short-lived; send it as Authorization: Bearer)."""
    return {"access_token": service.login(username, password), "token_type": "bearer",
            "expires_in": int(service.tokens.ttl.total_seconds())}


@router.get("/me")
def me(caller: Caller) -> dict[str, Any]:
    return {"subject": caller.subject, "via": caller.via,
            "grants": [{"role": g.role, "scope": g.scope} for g in caller.grants]}


@router.get("/health")
def health() -> dict[str, str]:
    return {"status": "ok"}
