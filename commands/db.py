"""`grantflow db ...`: the records schema at GRANTFLOW_DATABASE_URL, upgraded by its Alembic migrations."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer
from alembic.util import CommandError

from commands.common import err, out, records_db, run, settings
from records.engine import connect
from records.schema import current, head, new_revision, upgrade

if TYPE_CHECKING:
    from client.payload_retention import Pruned

db_app = typer.Typer(no_args_is_help=True, help="The records database: upgrade its schema, show its revision, prune payloads.")


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


@db_app.command("prune-payloads")
def db_prune_payloads(dry_run: bool = typer.Option(False, "--dry-run", help="say what would go; delete nothing"),
                      db: str | None = typer.Option(None, "--db", help="the records database (default: "
                                                    "GRANTFLOW_DATABASE_URL)")) -> None:
    """Delete the large payloads that no history on the Temporal server can still refer to: last stored before the
    earliest start of a run the server keeps (running, or closed within the namespace's retention), less a day."""
    from datetime import UTC, datetime

    from client.payload_retention import prune_payloads
    from infra.temporal import connect as temporal
    from records.payloads import payload_storage

    s = settings()
    engine = records_db(db)

    async def pruned() -> Pruned:
        client = await temporal(s.temporal_address, s.namespace, s.temporal_access, payload_storage(engine))
        return await prune_payloads(client, engine, datetime.now(UTC), dry_run)

    result = run(pruned())
    days = result.retention.total_seconds() / 86400
    if result.through is None:
        out.print(f"no payload may go: every one may be in a history the server keeps (retention {days:g} days)")
        return
    verb = "would delete" if dry_run else "deleted"
    out.print(f"{verb} {result.payloads} payloads ({result.size / 2**20:.1f} MiB) last stored by "
              f"{result.through.isoformat()} (retention {days:g} days)", highlight=False)
