"""`grantflow quota ...`: a manager sets a quota the system shows (名额以系统显示为准); the places each quota holds."""

from __future__ import annotations

import typer
from rich.table import Table
from sqlmodel import Session, func, select

from commands.common import actor, call_update, out
from infra.settings import Settings
from models.messages import QuotaRequest
from records.engine import make_engine
from records.quota_tables import QuotaLimitRow
from records.tables import QuotaUseRow
from workflows.call import CallWorkflow

quota_app = typer.Typer(no_args_is_help=True, help="Quotas (推荐名额): set a limit the system shows; places used.")


@quota_app.command("set")
def quota_set(call_id: str, quota: str, limit: int, as_: str = typer.Option(..., "--as"),
              reason: str = typer.Option(...)) -> None:
    """Set the limit of a quota the notice leaves to the system, recorded on the call with actor and reason."""
    role, who = actor(as_)
    call_update(call_id, CallWorkflow.set_quota, QuotaRequest(quota, limit, who, role, reason))


@quota_app.command("show")
def quota_show(call_id: str) -> None:
    """Places taken per step, recommender and category, and the limits set in the system."""
    with Session(make_engine(Settings.from_env().database_url)) as s:
        used = s.exec(select(QuotaUseRow.step, QuotaUseRow.actor_id, QuotaUseRow.category, func.count())
                      .where(QuotaUseRow.call_id == call_id)
                      .group_by(QuotaUseRow.step, QuotaUseRow.actor_id, QuotaUseRow.category)).all()
        limits = s.exec(select(QuotaLimitRow).where(QuotaLimitRow.call_id == call_id)).all()
    table = Table(title=f"places taken in {call_id}")
    for column in ("step", "recommender", "category", "places"):
        table.add_column(column)
    for step, who, category, n in used:
        table.add_row(step, who, category, str(n))
    out.print(table)
    for row in limits:
        out.print(f"quota {row.quota}: limit {row.limit} set in the system at {row.set_at.isoformat()}")
