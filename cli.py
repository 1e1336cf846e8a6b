"""grantflow command line (typer + rich): call files, the embedded stack, programme managers' actions, simulate."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import sys
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

import typer
from rich.console import Console
from rich.table import Table
from sqlmodel import Session, select
from temporalio.service import RPCError

from models.calendar import CalendarNotCovered
from models.call import CallDefinition, CallFileError, load_call
from models.lifecycle import build_lifecycle, mermaid
from models.messages import (
    ActRequest,
    ApplicationInput,
    ExtendRequest,
    PhaseRequest,
    application_workflow_id,
    call_workflow_id,
)
from models.records import ApplicationRow, LockoutRow
from services.calls import Refusal, act_on, manage, prepare, start_application, start_call, translate
from services.db import make_engine
from services.settings import Settings
from services.temporal import connect
from workflows.application import ApplicationWorkflow
from workflows.call import CallWorkflow

app = typer.Typer(no_args_is_help=True, add_completion=False, help=__doc__)
calls_app = typer.Typer(no_args_is_help=True, help="Call definition files: validate, diagram, show, load, clone.")
phase_app = typer.Typer(no_args_is_help=True, help="Programme managers move a call's phases.")
deadline_app = typer.Typer(no_args_is_help=True, help="Programme managers extend deadlines.")
app.add_typer(calls_app, name="calls")
app.add_typer(phase_app, name="phase")
app.add_typer(deadline_app, name="deadline")
out = Console()
err = Console(stderr=True)
T = TypeVar("T")


class Failure(Exception):
    """An error for the user: printed as one line, exit code 1."""


def run(coro: Awaitable[T]) -> T:
    try:
        return asyncio.run(coro)  # type: ignore[arg-type]
    except (Failure, Refusal, CallFileError, CalendarNotCovered, ValueError, KeyError) as exc:
        err.print(f"[red]error:[/red] {exc.args[0] if exc.args else exc}", highlight=False)
        raise typer.Exit(1) from None
    except RPCError as exc:
        err.print(f"[red]error:[/red] Temporal: {exc.message}", highlight=False)
        raise typer.Exit(1) from None


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
    return Settings.from_env()


# ---- call files ------------------------------------------------------------------------------------------


@calls_app.command("validate")
def calls_validate(files: list[Path]) -> None:
    """Check call files; every problem is printed with file, field path and reason."""
    bad = 0
    for f in files:
        try:
            call = load_call(f)
            prepare(call)
            out.print(f"[green]ok[/green] {f}: {call.id} ({len(call.phases)} phases, {len(call.chain)} steps)")
        except CallFileError as exc:
            bad += 1
            for line in exc.problems:
                err.print(line, highlight=False)
        except (CalendarNotCovered, ValueError) as exc:
            bad += 1
            err.print(f"{f}: {exc}", highlight=False)
    raise typer.Exit(1 if bad else 0)


@calls_app.command("diagram")
def calls_diagram(file: Path) -> None:
    """Print the application state machine of a call as Mermaid, drawn from the lifecycle declaration."""
    print(mermaid(build_lifecycle(_load(file))))


@calls_app.command("show")
def calls_show(file: Path) -> None:
    """Timeline of a call file (planned instants in the call's timezone) and its approval chain."""
    call = _load(file)
    table = Table(title=f"{call.id} — {call.title}")
    for col in ("phase", "kind", "opens", "closes"):
        table.add_column(col)
    zone = call.zone
    for p in prepare(call).timetable.phases:
        opens = p.opens.astimezone(zone).isoformat() if p.opens else p.opens_rule
        closes = p.closes.astimezone(zone).isoformat() if p.closes else (
            f"{p.closes_after} {p.closes_rule.replace('_', ' ')} after opening" if p.closes_after else p.closes_rule)
        table.add_row(p.id, p.kind, opens, closes)
    out.print(table)
    out.print("chain: " + " -> ".join(f"{s.id} ({s.role}{', if ' + s.when if s.when else ''})" for s in call.chain))


@calls_app.command("clone")
def calls_clone(file: Path, open_: str = typer.Option(..., "--open", help="new opening instant, aware"),
                new_id: str = typer.Option(..., "--id"), output: Path | None = typer.Option(None, "--out")) -> None:
    """Write next edition of a call: every date shifted so the first opening is at --open (whole weeks)."""
    call = _load(file)
    first = min(call.dated_instants(), default=None)
    if first is None:
        raise typer.BadParameter("the call has no dates to shift")
    days = round((aware(open_) - first).total_seconds() / 86400 / 7) * 7
    data = translate(call, days).model_dump(mode="json")
    data["id"] = new_id
    data["calendar"] = [y.model_dump(mode="json") for y in call.calendar]
    try:
        clone = CallDefinition.model_validate(data)
        prepare(clone)
    except CalendarNotCovered as exc:
        err.print(f"error: {exc}", highlight=False)
        raise typer.Exit(1) from None
    import yaml

    text = yaml.safe_dump(clone.model_dump(mode="json", exclude_defaults=True), allow_unicode=True, sort_keys=False)
    (output.write_text(text, encoding="utf-8") if output else print(text))


def _load(file: Path) -> CallDefinition:
    try:
        return load_call(file)
    except CallFileError as exc:
        for line in exc.problems:
            err.print(line, highlight=False)
        raise typer.Exit(1) from None


@calls_app.command("load")
def calls_load(files: list[Path], rehearse: bool = typer.Option(
        False, help="translate past calls by whole weeks into the future, to rehearse them")) -> None:
    """Start the call workflow of each file on the Temporal server."""
    async def go() -> None:
        s = settings()
        client = await connect(s.temporal_address, s.namespace)
        for f in files:
            call = _load(f)
            prepared = prepare(call, not_before=datetime.now().astimezone() if rehearse else None)
            await start_call(client, prepared, s.task_queue)
            shifted = f" (rehearsal, {prepared.shift_days} days later)" if prepared.shift_days else ""
            out.print(f"loaded {call.id}{shifted}")
    run(go())


@calls_app.command("list")
def calls_list() -> None:
    """Calls in the records database with their current phase."""
    from models.records import CallRow

    with Session(make_engine(settings().database_url)) as s:
        for row in s.exec(select(CallRow)).all():
            out.print(f"{row.id}\t{row.current_phase or '-'}\t{row.title}")


# ---- applications ---------------------------------------------------------------------------------------


@app.command("apply")
def apply(call_id: str, applicant: str = typer.Option(...), unit: str = typer.Option(...),
          recommender: str = typer.Option(...), category: str = typer.Option(...), title: str = typer.Option(...),
          flag: list[str] = typer.Option([], help="flags that hold, e.g. enterprise_led"),
          attach: list[str] = typer.Option([], help="attachment kinds uploaded"),
          cto: str | None = typer.Option(None), app_id: str | None = typer.Option(None, "--id")) -> None:
    """Create an application (a draft) in a call."""
    async def go() -> None:
        s = settings()
        client = await connect(s.temporal_address, s.namespace)
        _refuse_if_locked(s, call_id, "application")
        base = await client.get_workflow_handle(call_workflow_id(call_id)).query(CallWorkflow.definition)
        call = base.call
        call.category(category)
        unknown = [f for f in flag if f not in {x.id for x in call.flags}]
        if unknown:
            raise Failure(f"unknown flag(s) {', '.join(unknown)} for call {call_id}")
        people = {"applicant": applicant, "unit_admin": unit, "recommender": recommender} | (
            {"cto": cto} if cto else {})
        new_id = app_id or f"{call_id}.{uuid.uuid4().hex[:8]}"
        await start_application(client, ApplicationInput(
            call=call, calendar=base.calendar, timetable=base.timetable,
            application_id=new_id, category=category, title=title, people=people, flags={f: True for f in flag},
            attachments=attach), s.task_queue)
        out.print(new_id)
    run(go())


def _refuse_if_locked(s: Settings, call_id: str, phase: str) -> None:
    with Session(make_engine(s.database_url)) as db:
        lock = db.get(LockoutRow, (call_id, phase))
    if lock is not None:
        raise Failure(f"call {call_id} is locked: {phase} closed at {lock.closed_at.isoformat()}")


@app.command("act")
def act(application_id: str, event: str, as_: str = typer.Option(..., "--as", help="ROLE:ID"),
        reason: str = typer.Option("", "--reason"), data: list[str] = typer.Option([], help="KEY=VALUE")) -> None:
    """Send an event (submit, approve, return, ...) to an application as ROLE:ID, with a reason."""
    role, who = actor(as_)
    values = dict(d.split("=", 1) for d in data if "=" in d)

    async def go() -> None:
        s = settings()
        client = await connect(s.temporal_address, s.namespace)
        record = await act_on(client, application_id, ActRequest(event, who, role, reason, values))
        out.print(f"{application_id}: {record.source} -> {record.dest} ({record.trigger} by {role}:{who})")
    run(go())


@app.command("status")
def status(application_id: str, as_json: bool = typer.Option(False, "--json")) -> None:
    """State of an application and every transition: instant, actor, role, reason."""
    async def go() -> None:
        s = settings()
        client = await connect(s.temporal_address, s.namespace)
        st = await client.get_workflow_handle(application_workflow_id(application_id)).query(ApplicationWorkflow.status)
        if as_json:
            print(json.dumps(dataclasses.asdict(st), default=str, ensure_ascii=False, indent=2))
            return
        out.print(f"{st.application_id}: {st.state} (call {st.call_id}, rules version {st.version})")
        table = Table()
        for col in ("#", "at", "event", "from", "to", "actor", "role", "reason"):
            table.add_column(col)
        for t in st.transitions:
            table.add_row(str(t.seq), t.at.isoformat(), t.trigger, t.source, t.dest, t.actor_id, t.role, t.reason)
        out.print(table)
    run(go())


# ---- programme managers ----------------------------------------------------------------------------------


def _call_update(call_id: str, update: Callable[..., Any], request: Any) -> None:
    async def go() -> None:
        s = settings()
        client = await connect(s.temporal_address, s.namespace)
        try:
            event = await manage(client.get_workflow_handle(call_workflow_id(call_id)), update, request)
        except Exception as exc:  # update failures carry the validator's message in their cause
            cause = getattr(exc, "cause", None)
            if cause is None:
                raise
            raise Failure(str(getattr(cause, "message", cause))) from None
        out.print(f"{call_id}: {event.phase} {event.kind} at {event.at.isoformat()}")
    run(go())


@phase_app.command("advance")
def phase_advance(call_id: str, as_: str = typer.Option(..., "--as"), reason: str = typer.Option(...)) -> None:
    """Open the next manual phase (closing the current manual one)."""
    role, who = actor(as_)
    _call_update(call_id, CallWorkflow.advance_phase, PhaseRequest(who, role, reason))


@phase_app.command("close")
def phase_close(call_id: str, as_: str = typer.Option(..., "--as"), reason: str = typer.Option(...)) -> None:
    """Close the current phase now (early)."""
    role, who = actor(as_)
    _call_update(call_id, CallWorkflow.close_phase, PhaseRequest(who, role, reason))


@deadline_app.command("extend")
def deadline_extend(call_id: str, phase: str, closes: str, as_: str = typer.Option(..., "--as"),
                    reason: str = typer.Option(...),
                    application: str | None = typer.Option(None, help="extend for this application only")) -> None:
    """Extend a phase deadline for the whole call, or for one application (--application)."""
    role, who = actor(as_)
    request = ExtendRequest(phase, aware(closes), who, role, reason)
    if application is None:
        _call_update(call_id, CallWorkflow.extend_deadline, request)
        return

    async def go() -> None:
        s = settings()
        client = await connect(s.temporal_address, s.namespace)
        handle = client.get_workflow_handle(application_workflow_id(application))
        try:
            record = await handle.execute_update(ApplicationWorkflow.extend_deadline, request)
        except Exception as exc:
            cause = getattr(exc, "cause", None)
            if cause is None:
                raise
            raise Failure(str(getattr(cause, "message", cause))) from None
        out.print(f"{application}: {record.data.get('window')} now closes {record.data.get('new')}")
    run(go())


@app.command("counts")
def counts(call_id: str) -> None:
    """Applications of a call per state, from the records database."""
    with Session(make_engine(settings().database_url)) as s:
        rows = s.exec(select(ApplicationRow.state).where(ApplicationRow.call_id == call_id)).all()
    for state, n in sorted({r: rows.count(r) for r in rows}.items()):
        out.print(f"{state}\t{n}")


# ---- running -----------------------------------------------------------------------------------------------


@app.command("simulate")
def simulate(file: Path, applications: int = typer.Option(500), seed: int = typer.Option(1),
             as_json: bool = typer.Option(False, "--json")) -> None:
    """Run a call's whole lifecycle on the time-skipping server with a seeded population; report invariants."""
    from services.logs import configure
    from services.simulation import simulate as run_simulation

    configure("json", level=40)
    call = _load(file)
    report = run(run_simulation(call, applications, seed))
    if as_json:
        print(json.dumps(dataclasses.asdict(report), ensure_ascii=False, indent=2))
    else:
        out.print(f"{report.call}: {report.applications} applications, seed {report.seed}")
        for state, n in report.final_states.items():
            out.print(f"  {state:<20} {n}")
        out.print(f"notices: {report.notices}; late attempts refused: {report.late_attempts - report.late_accepted}")
        for phase, times in report.phases.items():
            out.print(f"  {phase:<16} {times['opened']} -> {times['closed']}")
        out.print("violations: " + ("none" if not report.violations else str(len(report.violations))))
        for v in report.violations[:20]:
            err.print(f"  {v}", highlight=False)
    raise typer.Exit(1 if report.violations else 0)


@app.command("worker")
def worker_command() -> None:
    """Run a worker against GRANTFLOW_TEMPORAL_ADDRESS (an existing cluster or `grantflow up`)."""
    from worker import main as worker_main

    worker_main()


@app.command("up")
def up(calls_dir: Path = typer.Option(Path("calls"), "--calls"), port: int = 7233, ui_port: int = 8233) -> None:
    """Embedded stack: Temporal dev server (SQLite file under var/), Web UI, worker; loads calls/."""
    from services.stack import run_stack

    try:
        asyncio.run(run_stack(settings(), calls_dir, port, ui_port))
    except KeyboardInterrupt:
        out.print("stopped")


def main() -> None:
    try:
        app()
    except CallFileError as exc:
        err.print(str(exc), highlight=False)
        sys.exit(1)


if __name__ == "__main__":
    main()
