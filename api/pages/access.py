"""Signing in and out of the pages (the cookie holds the API's own access token), and the list of calls."""

from __future__ import annotations

import hmac

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from api.pages.session import (
    LOGIN,
    SESSION,
    PageRoute,
    Posted,
    Viewer,
    fields_of,
    render,
    safe_next,
    same_origin,
    sign_in_page,
)
from api.security import service
from client.errors import Forbidden, Unauthenticated

router = APIRouter(prefix="/pages", route_class=PageRoute, include_in_schema=False)


@router.get("/login")
def login_form(request: Request, following: str = "/pages/") -> Response:
    return sign_in_page(request, 200, "", following)


@router.post("/login")
async def login(request: Request) -> Response:
    same_origin(request)
    fields = await fields_of(request)
    expected = request.cookies.get(LOGIN, "")
    if not expected or not hmac.compare_digest(fields.get("csrf", ""), expected):
        raise Forbidden("the sign-in form has expired: reload it and try again")
    following = fields.get("following", "/pages/")
    username, password = fields.get("username", "")[:80], fields.get("password", "")[:1000]
    try:
        token = service(request).login(username, password)
    except Unauthenticated as exc:
        return sign_in_page(request, 401, exc.detail, following)
    response = RedirectResponse(safe_next(following), status_code=303)
    response.set_cookie(SESSION, token, max_age=int(service(request).tokens.ttl.total_seconds()), path="/pages",
                        httponly=True, samesite="strict", secure=request.url.scheme == "https")
    response.delete_cookie(LOGIN, path="/pages")
    return response


@router.post("/logout")
def logout(request: Request, identity: Viewer, fields: Posted) -> Response:
    response = RedirectResponse("/pages/login", status_code=303)
    response.delete_cookie(SESSION, path="/pages")
    return response


@router.get("/")
def index(request: Request, identity: Viewer) -> Response:
    return render(request, "index.html.j2", identity=identity, calls=service(request).calls(identity, 200))
