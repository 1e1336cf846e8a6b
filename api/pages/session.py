"""Who looks at a page: the same access token the API issues, kept in an HttpOnly SameSite=Strict cookie (or sent
as a bearer token); no session is 401 with the sign-in form, a wrong role or scope 403. POST forms carry a token
bound to the session (CSRF) and come from this origin; every page is rendered with Jinja2 autoescape."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any
from urllib.parse import parse_qsl, quote, unquote, urlsplit
from zoneinfo import ZoneInfo

from fastapi import Depends, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse
from fastapi.routing import APIRoute
from jinja2 import Environment, PackageLoader
from temporalio.service import RPCError

from api.pages.diagram import fitted
from api.security import service
from client.calls import Refusal
from client.errors import Forbidden, Invalid, Problem, TooLarge, Unauthenticated
from models.identity import Identity
from models.instants import local

SESSION = "grantflow_session"
LOGIN = "grantflow_login"  # the sign-in form's own CSRF value (double submit), before there is a session
FLASH = "grantflow_flash"  # what the last POST did, shown once by the page it leads back to
MAX_FORM = 64 * 1024
POLICY = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; " \
         "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

ENV = Environment(loader=PackageLoader("api.pages", "templates"), autoescape=True)


def countdown(remaining: timedelta) -> str:
    """`3 d 04:05:06` to an instant; `due` once it has passed."""
    seconds = int(remaining.total_seconds())
    if seconds <= 0:
        return "due"
    days, rest = divmod(seconds, 86400)
    return f"{days} d {rest // 3600:02d}:{rest % 3600 // 60:02d}:{rest % 60:02d}"


ENV.filters["local"] = lambda t, zone: local(ZoneInfo(zone) if isinstance(zone, str) else zone, t)
ENV.filters["countdown"] = countdown
ENV.filters["fitted"] = fitted


def render(request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    flash = request.cookies.get(FLASH)
    page = ENV.get_template(template).render(request=request, now=datetime.now(UTC),
                                             csrf=getattr(request.state, "csrf", ""), key=secrets.token_urlsafe(16),
                                             flash=unquote(flash) if flash else None, **context)
    response = HTMLResponse(page, status_code=status, headers={"Content-Security-Policy": POLICY,
                                                                "X-Content-Type-Options": "nosniff",
                                                                "Referrer-Policy": "same-origin",
                                                                "Cache-Control": "no-store"})
    if flash:
        response.delete_cookie(FLASH, path="/pages")
    return response


def sign_in_page(request: Request, status: int, message: str, following: str) -> HTMLResponse:
    """The sign-in form, with its double-submit CSRF value set as a cookie and carried in the form."""
    value = request.cookies.get(LOGIN) or secrets.token_urlsafe(24)
    request.state.csrf = value
    response = render(request, "login.html.j2", status, message=message, following=safe_next(following))
    response.set_cookie(LOGIN, value, max_age=3600, path="/pages", httponly=True, samesite="strict",
                        secure=request.url.scheme == "https")
    return response


def safe_next(path: str) -> str:
    """Where to go after signing in: a page of this app, never another site."""
    return path if path.startswith("/pages/") and not path.startswith("//") and "\\" not in path else "/pages/"


def error_page(request: Request, status: int, title: str, detail: str) -> HTMLResponse:
    if status == 401:
        return sign_in_page(request, 401, detail, request.url.path)
    return render(request, "error.html.j2", status, title=title, detail=detail)


class PageRoute(APIRoute):
    """A route whose refusals are pages: 401 with the sign-in form, 403, 404, 409, 422 with the one line of why."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def page(request: Request) -> Response:
            try:
                return await handler(request)
            except Problem as exc:
                return error_page(request, exc.status, exc.title, exc.detail)
            except Refusal as exc:
                return error_page(request, 409, "Refused", str(exc))
            except RequestValidationError as exc:
                first = exc.errors()[0]
                return error_page(request, 422, "Invalid input", str(first.get("msg", "invalid")))
            except RPCError as exc:
                return error_page(request, 503, "Temporal unavailable", f"Temporal: {exc.message}")
        return page


def csrf_of(request: Request, token: str) -> str:
    return hmac.new(service(request).tokens.key, b"csrf:" + token.encode(), hashlib.sha256).hexdigest()


def viewer(request: Request) -> Identity:
    """The identity behind the session cookie (or a bearer token), read afresh like every API request."""
    token = request.cookies.get(SESSION)
    header = request.headers.get("authorization", "")
    if not token and header.lower().startswith("bearer "):
        token = header[7:].strip()
    if not token:
        raise Unauthenticated("sign in to see this page")
    identity = service(request).identify(token)
    request.state.csrf = csrf_of(request, token)
    return identity


Viewer = Annotated[Identity, Depends(viewer)]


def same_origin(request: Request) -> None:
    origin = request.headers.get("origin")
    if origin and origin != "null" and urlsplit(origin).netloc != request.headers.get("host"):
        raise Forbidden(f"a form of another site ({origin}) may not act here")


async def fields_of(request: Request) -> dict[str, str]:
    """An urlencoded form body, bounded in size (read here, so that the idempotency key can fingerprint it)."""
    body = await request.body()
    if len(body) > MAX_FORM:
        raise TooLarge(f"a form of more than {MAX_FORM} bytes")
    try:
        return dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True, max_num_fields=20))
    except (UnicodeDecodeError, ValueError) as exc:
        raise Invalid(f"the form could not be read: {exc}") from None


async def posted(request: Request, identity: Viewer) -> dict[str, str]:
    """A page's POST form: from this origin, with the CSRF token of the session when a cookie signed it in."""
    same_origin(request)
    fields = await fields_of(request)
    if request.cookies.get(SESSION) and not hmac.compare_digest(fields.get("csrf", ""), request.state.csrf):
        raise Forbidden("the form's CSRF token does not match this session: reload the page and try again")
    return fields


Posted = Annotated[dict[str, str], Depends(posted)]


def flash(response: Response, request: Request, message: str) -> Response:
    response.set_cookie(FLASH, quote(message[:500]), max_age=120, path="/pages", httponly=True, samesite="strict",
                        secure=request.url.scheme == "https")
    return response
