"""Signing in and out (`login`, `logout`, `whoami`), local accounts (`users ...`, on the records DB of this
machine) and the refused attempts an auditor reads (`refusals`)."""

from __future__ import annotations

import sys
from zoneinfo import ZoneInfo

import typer
from rich.table import Table

from client.accounts import add, grant, grants_of, listing, reset, set_disabled
from client.errors import Problem
from commands.common import fail, out, run, safe
from commands.session import forget_token, local_service, save_token, session, who
from models.instants import local

SHOWN_ZONE = ZoneInfo("Asia/Shanghai")  # refusals may name no call: the default zone of calls

access_app = typer.Typer()
users_app = typer.Typer(no_args_is_help=True, help="Local accounts: add, disable, enable, reset, grant, list.")


def _password(stdin: bool, confirm: bool = False) -> str:
    if stdin:
        return sys.stdin.readline().rstrip("\n")
    return str(typer.prompt("password", hide_input=True, confirmation_prompt=confirm))


def _guard(action: object) -> None:
    try:
        action()  # type: ignore[operator]
    except Problem as exc:
        raise fail(exc.detail) from None


@access_app.command("login")
def login(account: str, password_stdin: bool = typer.Option(False, help="read the password from stdin"),
          token: str | None = typer.Option(None, help="an access token of the configured OIDC provider instead")) -> None:
    """Sign in: the access token is kept in your config directory until it expires or you log out."""
    def go() -> None:
        service = local_service()
        if token is not None:
            identity = service.identify(token)
            if identity.subject != account:
                raise fail(f"the token is for {identity.subject}, not {account}")
            issued = token
        else:
            issued = service.login(account, _password(password_stdin))
        out.print(f"signed in as {safe(account)} ({save_token(account, issued)})", highlight=False)
    _guard(go)


@access_app.command("logout")
def logout() -> None:
    """Forget the kept access token."""
    out.print("signed out" if forget_token() else "not signed in")


@access_app.command("whoami")
def whoami() -> None:
    """The signed-in account and its grants (ROLE@SCOPE), read afresh."""
    def go() -> None:
        identity = who(local_service())
        out.print(f"{safe(identity.subject)} ({identity.via}): "
                  + (", ".join(f"{g.role}@{g.scope}" for g in identity.grants) or "no grants"), highlight=False)
    _guard(go)


@users_app.command("add")
def users_add(account: str, grants: list[str] = typer.Option([], "--grant", help="ROLE@SCOPE, e.g. "
                                                             "manager@call:sx-2025-basic-geology, unit_admin@unit:U1"),
              person: str | None = typer.Option(None, help="the registry person an applicant is"),
              external: bool = typer.Option(False, help="signs in only through the OIDC provider"),
              password_stdin: bool = typer.Option(False, help="read the password from stdin")) -> None:
    """Add a local account with its grants."""
    def go() -> None:
        parsed = grants_of(grants)
        add(local_service().engine, account, None if external else _password(password_stdin, True), parsed, person)
        out.print(f"added {account}")
    _guard(go)


@users_app.command("disable")
def users_disable(account: str) -> None:
    """Disable an account: it loses access at once, tokens already issued included."""
    _guard(lambda: set_disabled(local_service().engine, account, True))
    out.print(f"disabled {account}")


@users_app.command("enable")
def users_enable(account: str) -> None:
    _guard(lambda: set_disabled(local_service().engine, account, False))
    out.print(f"enabled {account}")


@users_app.command("reset")
def users_reset(account: str, password_stdin: bool = typer.Option(False)) -> None:
    """Set a new password."""
    _guard(lambda: reset(local_service().engine, account, _password(password_stdin, True)))
    out.print(f"password of {account} reset")


@users_app.command("grant")
def users_grant(account: str, grants: list[str], revoke: bool = typer.Option(False)) -> None:
    """Add (or --revoke) grants ROLE@SCOPE."""
    _guard(lambda: grant(local_service().engine, account, grants_of(grants), revoke))
    out.print(f"{'revoked from' if revoke else 'granted to'} {account}: {', '.join(grants)}")


@users_app.command("list")
def users_list() -> None:
    table = Table()
    for col in ("account", "state", "sign-in", "grants"):
        table.add_column(col, overflow="fold")
    for row, grants in listing(local_service().engine):
        table.add_row(row.id, "disabled" if row.disabled else "active", "password" if row.password_hash else "oidc",
                      ", ".join(f"{g.role}@{g.scope}" for g in grants))
    out.print(table)


@access_app.command("refusals")
def refusals(limit: int = typer.Option(50, min=1, max=500), offset: int = typer.Option(0, min=0)) -> None:
    """Refused attempts, newest first: when, who (and how proven), role, what, on what, why (auditors)."""
    async def go() -> None:
        async with session() as (service, identity):
            rows = service.refusals(identity, limit, offset)
        table = Table(caption=f"instants in {SHOWN_ZONE.key}")
        for col in ("at", "who", "role", "action", "target", "reason"):
            table.add_column(col, overflow="fold")
        for r in rows:
            table.add_row(local(SHOWN_ZONE, r.at), f"{safe(r.subject)} ({r.via})", r.role, safe(r.action), safe(r.target),
                          safe(r.reason))
        out.print(table)
    run(go())
