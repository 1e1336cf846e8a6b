"""`grantflow quota ...`: a manager sets a quota the system shows (名额以系统显示为准); the places each quota holds."""

from __future__ import annotations

import typer
from rich.table import Table

from client.service.review import Places
from commands.common import out, run, safe
from commands.session import session

quota_app = typer.Typer(no_args_is_help=True, help="Quotas (推荐名额): set a limit the system shows; places used.")


@quota_app.command("set")
def quota_set(call_id: str, quota: str, limit: int, reason: str = typer.Option(..., "--reason")) -> None:
    """Set the limit of a quota the notice leaves to the system, recorded on the call with actor and reason (a
    manager of the call, signed in)."""
    async def go() -> None:
        async with session() as (service, identity):
            event = await service.set_quota(identity, call_id, quota, limit, reason)
        out.print(f"{safe(call_id)}: {safe(event.detail)} (set by {safe(event.actor_id)})", highlight=False)
    run(go())


@quota_app.command("show")
def quota_show(call_id: str) -> None:
    """Places taken per step, recommender and category, and the limits set in the system."""
    async def read() -> Places:
        async with session() as (service, identity):
            return service.places(identity, call_id)
    places = run(read())
    table = Table(title=f"places taken in {safe(call_id)}")
    for column in ("step", "recommender", "category", "places"):
        table.add_column(column)
    for step, who, category, n in places.used:
        table.add_row(safe(step), safe(who), safe(category), str(n))
    out.print(table)
    for row in places.limits:
        out.print(f"quota {safe(row.quota)}: limit {row.limit} set in the system at {row.set_at.isoformat()}",
                  highlight=False)
