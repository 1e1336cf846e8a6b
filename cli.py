"""grantflow command line (typer + rich): call files, the embedded stack, programme managers' actions, simulate."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import sys
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import typer
from rich.console import Console
from rich.table import Table
from sqlmodel import Session, select
from temporalio.client import RPCTimeoutOrCancelledError, WorkflowUpdateFailedError
from temporalio.service import RPCError

from models.calendar import CalendarNotCovered
from models.call import CallDefinition, CallFileError, load_call, parse_call
from models.forms import ApplicationForm
from models.lifecycle import build_lifecycle, mermaid
from models.messages import (
    ActRequest,
    ApplicationInput,
    ExtendRequest,
    MigrateRequest,
    PhaseRequest,
    ReviseRequest,
    application_workflow_id,
    call_workflow_id,
)
from models.records import ApplicationRow
from services.audit.commands import audit_app
from services.calls import Refusal, act_on, manage, prepare, start_application, start_call, translate
from services.db import make_engine
from services.review import review_app
from services.lockouts import application_lockout, call_lockout
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
registry_app = typer.Typer(no_args_is_help=True, help="The registry of units, people and projects: import, sample.")
app.add_typer(registry_app, name="registry")
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
    except RPCTimeoutOrCancelledError:
        err.print("[red]error:[/red] no answer from Temporal in time; the request may still be applied "
                  "(see `grantflow status`)", highlight=False)
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
            out.print(f"[green]ok[/green] {f}: {call.id} ({len(call.phases)} phases, {len(call.chain)} steps)",
                      soft_wrap=True)
        except CallFileError as exc:
            bad += 1
            _problems(exc.problems)
        except (CalendarNotCovered, ValueError) as exc:
            bad += 1
            _problems([f"{f}: {exc}"])
    raise typer.Exit(1 if bad else 0)


def _problems(lines: list[str]) -> None:
    """Print problems to stderr as they are: one line each, never wrapped or read as markup."""
    for line in lines:
        typer.echo(line, err=True)


@calls_app.command("diagram")
def calls_diagram(file: Path) -> None:
    """Print the application state machine of a call as Mermaid, drawn from the lifecycle declaration."""
    print(mermaid(build_lifecycle(_load(file))))


@calls_app.command("show")
def calls_show(file: Path) -> None:
    """Timeline of a call file (planned instants in the call's timezone) and its approval chain."""
    call = _load(file)
    table = Table(title=f"{call.id} — {call.title}", caption=f"instants in {call.timezone}")
    for col in ("phase", "kind", "opens", "closes"):
        table.add_column(col, overflow="fold")  # a narrow terminal wraps an instant, never cuts it off
    try:
        timetable = prepare(call).timetable
    except (CalendarNotCovered, ValueError) as exc:
        _problems([f"{file}: {exc}"])
        raise typer.Exit(1) from None

    def local(instant: datetime) -> str:
        wall = instant.astimezone(call.zone).replace(tzinfo=None)
        return wall.isoformat(sep=" ", timespec="auto" if wall.second or wall.microsecond else "minutes")

    for p in timetable.phases:
        opens = local(p.opens) if p.opens else p.opens_rule
        closes = local(p.closes) if p.closes else (
            f"{p.closes_after} {p.closes_rule.replace('_', ' ')} after opening" if p.closes_after else p.closes_rule)
        table.add_row(p.id, p.kind, opens, closes)
    out.print(table)
    out.print("chain: " + " -> ".join(f"{s.id} ({s.role}{', if ' + s.when if s.when else ''})" for s in call.chain))


@calls_app.command("clone")
def calls_clone(file: Path, open_: str = typer.Option(..., "--open", help="new opening instant, aware"),
                new_id: str = typer.Option(..., "--id"), output: Path | None = typer.Option(None, "--out")) -> None:
    """Write the next edition of a call: every date moved by the whole weeks that bring its first instant to --open.

    Weekdays and hours stay; closes given in working days are recomputed from the new year's calendar.
    """
    import yaml

    call = _load(file)
    origin = str(output or f"{file} (clone {new_id})")
    try:
        first = min(call.dated_instants(), default=None)
        if first is None:
            raise Failure(f"{file}: the call has no dates to shift")
        weeks, rest = divmod(_open_option(open_) - first, timedelta(weeks=1))
        if rest:
            before, after = (first + timedelta(weeks=weeks + k) for k in (0, 1))
            local = first.astimezone(call.zone)
            raise Failure(
                f"--open {open_}: a clone moves the call by whole weeks, so it opens on a {local:%A} at "
                f"{local:%H:%M} as the original does ({local.isoformat()}): use "
                f"{before.astimezone(call.zone).isoformat()} or {after.astimezone(call.zone).isoformat()}"
            )
        days = weeks * 7
        data = translate(call, days).model_dump(mode="json")
        data["id"] = new_id
        data["issued"] = (call.issued + timedelta(days=days)).isoformat() if call.issued else None
        data["calendar"] = [y.model_dump(mode="json") for y in call.calendar]
        clone = parse_call(yaml.safe_dump(data, allow_unicode=True), origin)
        prepare(clone)
    except CallFileError as exc:
        _problems(exc.problems)
        raise typer.Exit(1) from None
    except (Failure, CalendarNotCovered) as exc:
        _problems([f"error: {exc}"])
        raise typer.Exit(1) from None
    text = yaml.safe_dump(clone.model_dump(mode="json", exclude_defaults=True), allow_unicode=True, sort_keys=False)
    if output:
        output.write_text(text, encoding="utf-8")
    else:
        typer.echo(text, nl=False)


def _open_option(text: str) -> datetime:
    """The --open instant of `calls clone`: an ISO datetime with its offset."""
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise Failure(f"--open {text!r} is not an ISO datetime, e.g. 2026-03-04T09:30:00+08:00") from None
    if value.tzinfo is None:
        raise Failure(f"--open {text!r} is a naive datetime: give the offset, e.g. 2026-03-04T09:30:00+08:00")
    return value


def _load(file: Path) -> CallDefinition:
    try:
        return load_call(file)
    except CallFileError as exc:
        _problems(exc.problems)
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
          cto: str | None = typer.Option(None), app_id: str | None = typer.Option(None, "--id"),
          form_file: Path | None = typer.Option(None, "--form", help="the application form (JSON, models/forms.py): "
                                                "formal review then judges the call's rules on it")) -> None:
    """Create an application (a draft) in a call."""
    async def go() -> None:
        try:
            form = ApplicationForm.model_validate_json(form_file.read_text(encoding="utf-8")) if form_file else None
        except OSError as exc:
            raise Failure(f"{form_file}: {exc.strerror}") from None
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
        new_id = form.application_id if form else app_id or f"{call_id}.{uuid.uuid4().hex[:8]}"
        await start_application(client, ApplicationInput(
            call=call, calendar=base.calendar, timetable=base.timetable,
            application_id=new_id, category=category, title=title, people=people, flags={f: True for f in flag},
            attachments=[a.kind for a in form.attachments] if form else attach, form=form), s.task_queue)
        out.print(new_id)
    run(go())


def _refuse_if_locked(s: Settings, call_id: str, phase: str) -> None:
    with Session(make_engine(s.database_url)) as db:
        why = call_lockout(db, call_id, phase)
    if why:
        raise Failure(why)


@app.command("act")
def act(application_id: str, event: str, as_: str = typer.Option(..., "--as", help="ROLE:ID"),
        reason: str = typer.Option("", "--reason"), data: list[str] = typer.Option([], help="KEY=VALUE")) -> None:
    """Send an event (submit, approve, return, ...) to an application as ROLE:ID, with a reason."""
    role, who = actor(as_)
    values = dict(d.split("=", 1) for d in data if "=" in d)

    async def go() -> None:
        s = settings()
        with Session(make_engine(s.database_url)) as db:
            locked = application_lockout(db, application_id, event)
        if locked:
            raise Failure(locked)
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
        if st.receipt:
            out.print(f"summary form: receipt {st.receipt}, content sha256 {st.content_sha256} (the paper copy must "
                      f"carry both)", highlight=False)
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


@calls_app.command("revise")
def calls_revise(call_id: str, file: Path, as_: str = typer.Option(..., "--as"),
                 reason: str = typer.Option(...)) -> None:
    """Publish a corrected definition of a running call: new applications start under it; running ones keep the
    version they started with until migrated."""
    role, who = actor(as_)
    _call_update(call_id, CallWorkflow.revise_definition, ReviseRequest(_load(file), who, role, reason))


@app.command("migrate")
def migrate(application_id: str, as_: str = typer.Option(..., "--as"), reason: str = typer.Option(...)) -> None:
    """Move a running application to its call's current (revised) definition, with a reason."""
    role, who = actor(as_)

    async def go() -> None:
        s = settings()
        client = await connect(s.temporal_address, s.namespace)
        handle = client.get_workflow_handle(application_workflow_id(application_id))
        call_id = (await handle.query(ApplicationWorkflow.status)).call_id
        current = await client.get_workflow_handle(call_workflow_id(call_id)).query(CallWorkflow.definition)
        try:
            record = await handle.execute_update(ApplicationWorkflow.migrate,
                                                 MigrateRequest(current.call, who, role, reason))
        except WorkflowUpdateFailedError as exc:
            raise Refusal(str(getattr(exc.cause, "message", exc.cause))) from None
        out.print(f"{application_id}: version {record.data['from_version']} -> {record.data['to_version']}")
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


@deadline_app.command("explain")
def deadline_explain(application_id: str) -> None:
    """Every deadline of an application and the facts behind it: planned close, category override, extensions
    (who, when, why), working-day counts and the calendar they came from."""
    from services.deadlines import explain

    async def go() -> None:
        s = settings()
        client = await connect(s.temporal_address, s.namespace)
        app_status = await client.get_workflow_handle(application_workflow_id(application_id)).query(
            ApplicationWorkflow.status)
        call = client.get_workflow_handle(call_workflow_id(app_status.call_id))
        for item in explain(await call.query(CallWorkflow.definition), await call.query(CallWorkflow.status),
                            app_status):
            effective = item.effective.isoformat() if item.effective else "not set"
            out.print(f"[bold]{item.window}[/bold]: {effective}", highlight=False)
            for fact in item.facts:
                out.print(f"  - {fact}", highlight=False)
    run(go())


@app.command("counts")
def counts(call_id: str) -> None:
    """Applications of a call per state, from the records database."""
    with Session(make_engine(settings().database_url)) as s:
        rows = s.exec(select(ApplicationRow.state).where(ApplicationRow.call_id == call_id)).all()
    for state, n in sorted({r: rows.count(r) for r in rows}.items()):
        out.print(f"{state}\t{n}")


# ---- registry ----------------------------------------------------------------------------------------------


@registry_app.command("import")
def registry_import(file: Path, table: str | None = typer.Option(
        None, help="the table a CSV file holds: units, people or projects (default: from the file name)")) -> None:
    """Import units, people or projects (CSV or JSON): every bad row is reported by row and column, and then
    nothing is written."""
    from services.registry import RegistryFileError, import_file

    try:
        with Session(make_engine(settings().database_url)) as session:
            report = import_file(session, file, table)
    except RegistryFileError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from None
    for problem in report.errors:
        typer.echo(f"{file}: {problem}", err=True)
    if report.errors:
        raise typer.Exit(1)
    out.print(f"{file}: imported " + ", ".join(f"{n} {t}" for t, n in report.counts.items()))


@registry_app.command("sample")
def registry_sample(seed: int = typer.Option(1), out_file: Path = typer.Option(..., "--out"),
                    as_of: datetime = typer.Option("2025-01-01", "--as-of", formats=["%Y-%m-%d"],
                                                   help="the day ages and dates are relative to"),
                    people: int = typer.Option(200, min=1)) -> None:
    """Write a seeded sample registry as JSON (the import format): mostly eligible PIs, some of every ineligible
    kind."""
    from services.registry_sample import sample_registry

    data = sample_registry(seed, as_of.date(), people)
    out_file.write_text(json.dumps(data.rows(), ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    out.print(f"{out_file}: {len(data.units)} units, {len(data.people)} people, {len(data.projects)} projects")


# ---- running -----------------------------------------------------------------------------------------------


@app.command("simulate")
def simulate(file: Path, applications: int = typer.Option(500), seed: int = typer.Option(1),
             as_json: bool = typer.Option(False, "--json"),
             export: Path | None = typer.Option(None, "--export", help="write the audit export of the run here")) -> None:
    """Run a call's whole lifecycle on the time-skipping server with a seeded population; report invariants."""
    from services.logs import configure
    from services.simulation import simulate as run_simulation

    configure("json", level=40)
    call = _load(file)
    report = run(run_simulation(call, applications, seed, export=export))
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


# ---- formal review (the commands are in services/review.py) ------------------------------------------------

app.add_typer(review_app, name="review")


# ---- audit (the commands are in services/audit/commands.py) ------------------------------------------------

app.add_typer(audit_app, name="audit")


def main() -> None:
    try:
        app()
    except CallFileError as exc:
        err.print(str(exc), highlight=False)
        sys.exit(1)


if __name__ == "__main__":
    main()
