"""`grantflow db ...`: the records schema at GRANTFLOW_DATABASE_URL, upgraded by its Alembic migrations."""

from __future__ import annotations

import typer
from alembic.util import CommandError

from commands.common import err, out, settings
from records.engine import connect
from records.schema import current, head, new_revision, upgrade

db_app = typer.Typer(no_args_is_help=True, help="The records database: upgrade its schema, show its revision.")


@db_app.command("upgrade")
def db_upgrade(revision: str = typer.Argument("head", help="the revision to reach (default: the newest)")) -> None:
    """Apply the migrations the database lacks, in one transaction (several at once queue on a lock)."""
    engine = connect(settings().database_url)
    before = current(engine)
    try:
        upgrade(engine, revision)
    except CommandError as exc:  # an unknown revision, or one below the database's
        err.print(f"[red]error:[/red] {exc}", highlight=False)
        raise typer.Exit(1) from None
    after = current(engine)
    where = engine.url.render_as_string(hide_password=True)
    out.print(f"{where}: {before or 'empty'} -> {after}" if before != after else f"{where}: at {after} already",
              highlight=False)


@db_app.command("current")
def db_current() -> None:
    """The revision the database is at, and the newest; exit 1 when it is behind."""
    engine = connect(settings().database_url)
    at, newest = current(engine), head()
    where = engine.url.render_as_string(hide_password=True)
    out.print(f"{where}: at {at or 'none (empty)'}, newest {newest}", highlight=False)
    raise typer.Exit(0 if at == newest else 1)


@db_app.command("revision")
def db_revision(message: str) -> None:
    """For developers: write the next revision from what records/ tables declare and the revisions lack."""
    path = new_revision(message)
    out.print(f"{path}: review it, then `make test` (the models and the migrations must agree)", highlight=False)
