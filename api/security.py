"""Who calls: the bearer token of every non-public request, verified and read afresh (a disabled account is refused
at once); no token is 401, a wrong role or scope is 403 (from the service layer)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from client.errors import Unauthenticated
from client.service import Service
from models.identity import Identity

bearer = HTTPBearer(auto_error=False, description="an access token from POST /token or the OIDC provider")


def service(request: Request) -> Service:
    return request.app.state.service  # type: ignore[no-any-return]


def identity(request: Request,
             credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]) -> Identity:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthenticated("sign in: send Authorization: Bearer <access token> (POST /token gives one)")
    return service(request).identify(credentials.credentials)


Caller = Annotated[Identity, Depends(identity)]
Services = Annotated[Service, Depends(service)]
