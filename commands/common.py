"""What every command shares: the consoles, the one user-error type and how it is printed, actors and instants."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

import typer
from rich.console import Console
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from temporalio.client import RPCTimeoutOrCancelledError
from temporalio.service import RPCError

from client.calls import Refusal, manage
from infra.settings import Settings
from infra.temporal import connect
from models.calendar import CalendarNotCovered
from models.call import CallDefinition, CallFileError, load_call
from models.messages import call_workflow_id
from records.engine import make_engine
from records.schema import SchemaBehind

out = Console()
err = Console(stderr=True)
T = TypeVar("T")


class Failure(Exception):
    """An error for the user: printed as one line, exit code 1 (by `run`, or `fail` outside it)."""


def fail(message: str) -> typer.Exit:
    """Print one error line and give the exit to raise: `raise fail(...)`."""
    err.print(f"[red]error:[/red] {message}", highlight=False, soft_wrap=True)  # one line, however long
    return typer.Exit(1)


def run(coro: Awaitable[T]) -> T:
    """Run a command's coroutine; what the user must fix, or what Temporal refused, ends it with one line."""
    try:
        return asyncio.run(coro)  # type: ignore[arg-type]
    except (Failure, Refusal, CallFileError, CalendarNotCovered, ValueError, KeyError, FileNotFoundError,
            FileExistsError) as exc:
        raise fail(str(exc.args[0] if exc.args else exc)) from None
    except RPCError as exc:
        raise fail(f"Temporal: {exc.message}") from None
    except RPCTimeoutOrCancelledError:
        raise fail("no answer from Temporal in time; the request may still be applied (see `grantflow status`)"
                   ) from None


def actor(spec: str) -> tuple[str, str]:
    role, _, who = spec.partition(":")
    if not who:
        raise Failure(f"--as takes ROLE:ID, e.g. manager:pm-1 (got {spec!r})")
    return role, who


def aware(text: str) -> datetime:
    value = datetime.fromisoformat(text)
    if value.tzinfo is None:
        raise Failure(f"naive datetime {text!r}: give the offset, e.g. 2025-04-10T17:00:00+08:00")
    return value


def settings() -> Settings:
    """The settings from the environment (GRANTFLOW_*)."""
    return Settings.from_env()


def records_db(url: str | None = None) -> Engine:
    """The records database at `url` or GRANTFLOW_DATABASE_URL, at the newest revision; otherwise one line (behind:
    which command upgrades it; unreachable: why) and exit 1."""
    try:
        return make_engine(url or settings().database_url)
    except SchemaBehind as exc:
        message = str(exc)
    except OperationalError as exc:
        message = f"records database: {str(exc.orig).strip().splitlines()[0]}"
    raise fail(message)


def problems(lines: list[str]) -> None:
    """Print problems to stderr as they are: one line each, never wrapped or read as markup."""
    for line in lines:
        typer.echo(line, err=True)


def load(file: Path) -> CallDefinition:
    try:
        return load_call(file)
    except CallFileError as exc:
        problems(exc.problems)
        raise typer.Exit(1) from None


def call_update(call_id: str, update: Callable[..., Any], request: Any) -> None:
    async def go() -> None:
        s = settings()
        client = await connect(s.temporal_address, s.namespace, s.temporal_access)
        try:
            event = await manage(client.get_workflow_handle(call_workflow_id(call_id)), update, request)
        except Exception as exc:  # update failures carry the validator's message in their cause
            cause = getattr(exc, "cause", None)
            if cause is None:
                raise
            raise Failure(str(getattr(cause, "message", cause))) from None
        out.print(f"{call_id}: {event.phase} {event.kind} at {event.at.isoformat()}")
    run(go())

