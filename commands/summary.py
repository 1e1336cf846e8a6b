"""`grantflow review summary`: a recommender's summary table, letter and paper checklist from the records."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import typer

from client.service.review import Endorsed
from commands.common import fail, load, out, run, safe
from commands.review import review_app
from commands.session import session
from commands.workbook import summary_workbook, write


@review_app.command("summary")
def summary(call_file: Path, recommender: str = typer.Option(..., "--recommender", help="the recommending unit's id"),
            out_file: Path = typer.Option(..., "--out", help="the .xlsx to write")) -> None:
    """Write a recommender's summary table (汇总表), recommendation letter (推荐函) and the paper checklist with the
    copy counts the notice asks for, from the records, as one spreadsheet (the recommender itself, or a manager or
    auditor of the call)."""
    if out_file.suffix != ".xlsx":
        raise fail(f"--out {out_file}: the summary is written as .xlsx")
    call = load(call_file)

    async def read() -> list[Endorsed]:
        async with session() as (service, identity):
            return service.endorsed(identity, call.id, recommender)
    rows = run(read())
    if not rows:
        raise fail(f"{recommender} has endorsed no application of call {call.id} in the records")
    write(summary_workbook(call, recommender, rows, datetime.now(UTC)), out_file)
    out.print(f"{safe(out_file)}: {len(rows)} applications recommended by {safe(recommender)}, "
              f"{len(call.documents)} paper documents", highlight=False)
