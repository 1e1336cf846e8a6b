"""`grantflow calls ...`: call definition files (validate, diagram, show, clone) and calls on the server (load,
list, revise)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

import typer
from rich.table import Table

from client.preparation import prepare, translate
from commands.common import Failure, load, out, problems, records_db, run, settings
from models.calendar import CalendarNotCovered
from models.call import CallDefinition, CallFileError, StepDef, load_call, parse_call
from models.cloning import keep_working_days, move_rule_dates, weeks_to_year
from models.holidays import build_calendar
from models.lifecycle import build_lifecycle, mermaid
from models.timetable import Timetable

calls_app = typer.Typer(no_args_is_help=True, help="Call definition files: validate, diagram, show, load, clone.")


@calls_app.command("validate")
def calls_validate(files: list[Path]) -> None:
    """Check call files; every problem is printed with file, field path and reason."""
    bad = 0
    for f in files:
        try:
            call = load_call(f)
            prepare(call)
            out.print(f"[green]ok[/green] {f}: {call.id} ({len(call.phases)} phases, {len(call.chain)} steps)",
                      soft_wrap=True)
        except CallFileError as exc:
            bad += 1
            problems(exc.problems)
        except (CalendarNotCovered, ValueError) as exc:
            bad += 1
            problems([f"{f}: {exc}"])
    raise typer.Exit(1 if bad else 0)


@calls_app.command("diagram")
def calls_diagram(file: Path) -> None:
    """Print the application state machine of a call as Mermaid, drawn from the lifecycle declaration."""
    print(mermaid(build_lifecycle(load(file))))


@calls_app.command("show")
def calls_show(source: str = typer.Argument(..., metavar="FILE_OR_CALL")) -> None:
    """Timeline of a call file (planned instants in the call's timezone) and its approval chain; given the id of a
    loaded call instead, its timeline as it runs (a rehearsal's shift and every extension included)."""
    path = Path(source)
    if path.exists() or path.suffix in (".yaml", ".yml"):
        call = load(path)
        try:
            timetable = prepare(call).timetable
        except (CalendarNotCovered, ValueError) as exc:
            problems([f"{path}: {exc}"])
            raise typer.Exit(1) from None
        _show(call, timetable, "")
        return
    from commands.session import session  # a call file is shown without the service layer and Temporal

    async def go() -> None:
        async with session() as (service, identity):
            call, timetable = await service.call_timeline(identity, source)
        _show(call, timetable, " (as loaded)")
    run(go())


def _show(call: CallDefinition, timetable: Timetable, how: str) -> None:
    table = Table(title=f"{call.id} — {call.title}{how}", caption=f"instants in {call.timezone}")
    for col in ("phase", "kind", "opens", "closes"):
        table.add_column(col, overflow="fold")  # a narrow terminal wraps an instant, never cuts it off

    def local(instant: datetime) -> str:
        wall = instant.astimezone(call.zone).replace(tzinfo=None)
        return wall.isoformat(sep=" ", timespec="auto" if wall.second or wall.microsecond else "minutes")

    for p in timetable.phases:
        opens = local(p.opens) if p.opens else p.opens_rule
        closes = local(p.closes) if p.closes else (
            f"{p.closes_after} {p.closes_rule.replace('_', ' ')} after opening" if p.closes_after else p.closes_rule)
        table.add_row(p.id, p.kind, opens, closes)
    out.print(table)
    who = _who_table(call, local)
    if who.row_count:
        out.print(who)
    out.print("chain: " + " -> ".join(_step(s) for s in call.chain), soft_wrap=True)
    for r in call.recommenders:
        if r.level:
            up = f" -> {r.via}" if r.via else " -> straight on (no unit above it)"
            out.print(f"recommender {r.id} ({r.name}): {r.level}{up}", soft_wrap=True, highlight=False)
    for b in call.intake.batches:
        note = f" ({b.note})" if b.note else ""
        out.print(f"batch {b.id}: applications submitted before {local(b.cut)}{note}", soft_wrap=True, highlight=False)
    if call.forwarded_to:
        out.print(f"after its last phase, applications are forwarded to {call.forwarded_to}", soft_wrap=True,
                  highlight=False)


def _step(s: StepDef) -> str:
    own = f", due {s.deadline.at.isoformat()}" if s.deadline and s.deadline.at else ""
    condition = f", if {s.when}" if s.when else f", at the {s.level} level" if s.level else ""
    return f"{s.id} ({s.role}{condition}{own})"


@calls_app.command("gantt")
def calls_gantt(file: Path, output: Path | None = typer.Option(None, "--out", help="write the SVG here")) -> None:
    """Draw a call file's timeline as an SVG picture: a row per phase, and per category whose close differs."""
    from audit.gantt import gantt_svg

    call = load(file)
    try:
        prepared = prepare(call)
        svg = gantt_svg(call, prepared.timetable, prepared.input.calendar)
    except (CalendarNotCovered, ValueError) as exc:
        problems([f"{file}: {exc}"])
        raise typer.Exit(1) from None
    if output is not None:
        output.write_text(svg, encoding="utf-8")
    else:
        typer.echo(svg, nl=False)


def _who_table(call: CallDefinition, local: Callable[[datetime], str]) -> Table:
    """Every close that depends on who applies (category, cohort, recommending unit), as the file states it."""
    table = Table(title="closes that depend on who applies (the earliest that applies binds)")
    for col in ("for", "window", "closes"):
        table.add_column(col, overflow="fold")
    rows = [(f"category {c.id}", c.closes) for c in call.categories]
    rows += [(o.who.describe(), o.closes) for o in call.overrides]
    for who, closes in rows:
        for window, value in closes.items():
            table.add_row(who, window, local(value) if isinstance(value, datetime) else value.describe())
    return table


@calls_app.command("clone")
def calls_clone(file: Path, open_: str | None = typer.Option(None, "--open", help="new opening instant, aware"),
                year: int | None = typer.Option(None, help="the edition's year: moved by the whole weeks nearest it"),
                new_id: str = typer.Option(..., "--id"), output: Path | None = typer.Option(None, "--out")) -> None:
    """Write the next edition of a call: every date moved by the whole weeks that bring its first instant to --open,
    or nearest its own day in --year.

    Weekdays and hours stay; closes given in working days are recomputed from the new year's calendar. With --year,
    an instant that would fall on a day off (a holiday of that year) where the original fell on a working day moves
    to the next working day, and the rules' dates (birth cut-offs, "since" dates, years) move by the years; each
    such move is one line on stderr.
    """
    import yaml

    call = load(file)
    origin = str(output or f"{file} (clone {new_id})")
    notes: list[str] = []
    try:
        first = min(call.dated_instants(), default=None)
        if first is None:
            raise Failure(f"{file}: the call has no dates to shift")
        if (open_ is None) == (year is None):
            raise Failure("give one of --open INSTANT or --year YEAR")
        if year is not None:
            data, days, notes = _to_year(call, year)
        else:
            data, days = _to_open(call, _open_option(open_ or ""))
        data["id"] = new_id
        data["issued"] = (call.issued + timedelta(days=days)).isoformat() if call.issued else None
        data["calendar"] = [y.model_dump(mode="json") for y in call.calendar]
        clone = parse_call(yaml.safe_dump(data, allow_unicode=True), origin)
        prepare(clone)
    except CallFileError as exc:
        problems(exc.problems)
        raise typer.Exit(1) from None
    except (Failure, CalendarNotCovered) as exc:
        problems([f"error: {exc}"])
        raise typer.Exit(1) from None
    problems([f"{origin}: {n}" for n in notes])
    text = yaml.safe_dump(clone.model_dump(mode="json", exclude_defaults=True), allow_unicode=True, sort_keys=False)
    if output:
        output.write_text(text, encoding="utf-8")
    else:
        typer.echo(text, nl=False)


def _to_open(call: CallDefinition, opens: datetime) -> tuple[dict[str, object], int]:
    """The call moved by the whole weeks that bring its first instant to `opens`, as call file data, and the days."""
    first = min(call.dated_instants())
    weeks, rest = divmod(opens - first, timedelta(weeks=1))
    if rest:
        before, after = (first + timedelta(weeks=weeks + k) for k in (0, 1))
        local = first.astimezone(call.zone)
        raise Failure(
            f"--open {opens.isoformat()}: a clone moves the call by whole weeks, so it opens on a {local:%A} at "
            f"{local:%H:%M} as the original does ({local.isoformat()}): use "
            f"{before.astimezone(call.zone).isoformat()} or {after.astimezone(call.zone).isoformat()}"
        )
    days = weeks * 7
    return translate(call, days).model_dump(mode="json"), days


def _to_year(call: CallDefinition, year: int) -> tuple[dict[str, object], int, list[str]]:
    """The call moved to `year` as call file data, the days, and the lines saying what else moved."""
    days = weeks_to_year(call, year)
    moved = translate(call, days)
    data = moved.model_dump()
    notes = keep_working_days(call, data, days, build_calendar(call), build_calendar(moved))
    first = min(call.dated_instants()).astimezone(call.zone).year
    notes += move_rule_dates(data, year - first)
    return CallDefinition.model_validate(data).model_dump(mode="json"), days, notes


def _open_option(text: str) -> datetime:
    """The --open instant of `calls clone`: an ISO datetime with its offset."""
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise Failure(f"--open {text!r} is not an ISO datetime, e.g. 2026-03-04T09:30:00+08:00") from None
    if value.tzinfo is None:
        raise Failure(f"--open {text!r} is a naive datetime: give the offset, e.g. 2026-03-04T09:30:00+08:00")
    return value


@calls_app.command("load")
def callsload(files: list[Path], rehearse: bool = typer.Option(
        False, help="translate past calls by whole weeks into the future, to rehearse them")) -> None:
    """Start the call workflow of each file on the Temporal server."""
    from client.calls import start_call
    from infra.temporal import connect
    from records.payloads import payload_storage

    async def go() -> None:
        s = settings()
        client = await connect(s.temporal_address, s.namespace, s.temporal_access, payload_storage(records_db()))
        for f in files:
            call = load(f)
            prepared = prepare(call, not_before=datetime.now().astimezone() if rehearse else None)
            await start_call(client, prepared, s.task_queue)
            shifted = f" (rehearsal, {prepared.shift_days} days later)" if prepared.shift_days else ""
            out.print(f"loaded {call.id}{shifted}")
    run(go())


@calls_app.command("list")
def calls_list() -> None:
    """Calls in the records database with their current phase."""
    from sqlmodel import Session, select

    from records.tables import CallRow

    with Session(records_db()) as s:
        for row in s.exec(select(CallRow)).all():
            out.print(f"{row.id}\t{row.current_phase or '-'}\t{row.title}")


@calls_app.command("revise")
def calls_revise(call_id: str, file: Path, reason: str = typer.Option(...)) -> None:
    """Publish a corrected definition of a running call: new applications start under it; running ones keep the
    version they started with until migrated (managers)."""
    from commands.manage import change_call

    change_call(call_id, "revise", reason, definition=load(file))
