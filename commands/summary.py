"""`grantflow review summary`: a recommender's summary table, letter and paper checklist from the records."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import typer
from sqlmodel import Session, col, select

from commands.common import fail, load, out
from commands.review import review_app
from commands.workbook import Endorsed, summary_workbook, write
from infra.settings import Settings
from records.engine import make_engine
from records.tables import ApplicationRow, TransitionRow

VOID = ("returned", "withdrawn")


def endorsed(s: Session, call_id: str, recommender: str) -> list[Endorsed]:
    """Applications `recommender` approved at a recommender step, unless returned or withdrawn since."""
    rows = s.exec(select(TransitionRow).where(TransitionRow.call_id == call_id, TransitionRow.actor_id == recommender,
                                              TransitionRow.role == "recommender", TransitionRow.trigger == "approve")
                  .order_by(col(TransitionRow.seq))).all()
    last = {t.application_id: t for t in rows}
    out: list[Endorsed] = []
    for app_id, t in sorted(last.items()):
        voided = s.exec(select(TransitionRow.id).where(TransitionRow.application_id == app_id,
                                                       col(TransitionRow.seq) > t.seq,
                                                       col(TransitionRow.dest).in_(VOID))).first()
        app = s.get(ApplicationRow, app_id)
        if voided is None and app is not None:
            out.append(Endorsed(app_id, app.title, app.category, app.applicant, app.unit or "", t.at, app.state))
    return out


@review_app.command("summary")
def summary(call_file: Path, recommender: str = typer.Option(..., "--recommender", help="the recommending unit's id"),
            out_file: Path = typer.Option(..., "--out", help="the .xlsx to write")) -> None:
    """Write a recommender's summary table (汇总表), recommendation letter (推荐函) and the paper checklist with the
    copy counts the notice asks for, from the records, as one spreadsheet."""
    if out_file.suffix != ".xlsx":
        raise fail(f"--out {out_file}: the summary is written as .xlsx")
    call = load(call_file)
    with Session(make_engine(Settings.from_env().database_url)) as s:
        rows = endorsed(s, call.id, recommender)
    if not rows:
        raise fail(f"{recommender} has endorsed no application of call {call.id} in the records")
    write(summary_workbook(call, recommender, rows, datetime.now(UTC)), out_file)
    out.print(f"{out_file}: {len(rows)} applications recommended by {recommender}, {len(call.documents)} paper documents")
