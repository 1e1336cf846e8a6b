"""What every command shares: the consoles, the one user-error type and how it is printed (escaped), instants."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import typer
from rich.console import Console
from rich.markup import escape

from client.errors import Problem
from infra.settings import Settings
from models.calendar import CalendarNotCovered
from models.call import CallDefinition, CallFileError, load_call
from models.inputs import BadInput, instant, shown

if TYPE_CHECKING:  # the Temporal client and the records database load with the commands that use them
    from sqlalchemy.engine import Engine

out = Console()
err = Console(stderr=True)
T = TypeVar("T")


class Failure(Exception):
    """An error for the user: printed as one line, exit code 1 (by `run`, or `fail` outside it)."""


def fail(message: str) -> typer.Exit:
    """Print one error line (escaped: nothing in it reaches the terminal as a control character or markup) and give
    the exit to raise: `raise fail(...)`."""
    err.print(f"[red]error:[/red] {safe(message)}", highlight=False, soft_wrap=True)  # one line, however long
    return typer.Exit(1)


def run(coro: Awaitable[T]) -> T:
    """Run a command's coroutine; what the user must fix, or what Temporal refused, ends it with one line."""
    from temporalio.client import RPCTimeoutOrCancelledError
    from temporalio.service import RPCError

    from client.calls import Refusal

    try:
        return asyncio.run(coro)  # type: ignore[arg-type]
    except (Failure, Refusal, Problem, CallFileError, CalendarNotCovered, ValueError, KeyError, FileNotFoundError,
            FileExistsError) as exc:
        raise fail(str(exc.args[0] if exc.args else exc)) from None
    except RPCError as exc:
        raise fail(f"Temporal: {exc.message}") from None
    except RPCTimeoutOrCancelledError:
        raise fail("no answer from Temporal in time; the request may still be applied (see `grantflow status`)"
                   ) from None


def safe(value: object) -> str:
    """Text as it may be shown on a terminal: control and formatting characters escaped, no rich markup."""
    return escape(shown(str(value)))


def aware(text: str, what: str = "time") -> datetime:
    try:
        return instant(text, what)
    except BadInput as exc:
        raise fail(str(exc)) from None


def settings() -> Settings:
    """The settings from the environment (GRANTFLOW_*)."""
    return Settings.from_env()


def records_db(url: str | None = None) -> Engine:
    """The records database at `url` or GRANTFLOW_DATABASE_URL, at the newest revision; otherwise one line (behind:
    which command upgrades it; unreachable: why) and exit 1."""
    from sqlalchemy.exc import OperationalError

    from records.engine import make_engine
    from records.schema import SchemaBehind

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
