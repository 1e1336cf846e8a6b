"""Applications: create one (`apply`), act on it, read its status, migrate it, count a call's per state."""

from __future__ import annotations

import dataclasses
import json
import uuid
from pathlib import Path

import typer
from rich.table import Table
from sqlmodel import Session, select
from temporalio.client import WorkflowUpdateFailedError

from client.calls import Refusal, act_on, start_application
from client.lockouts import application_lockout, call_lockout
from commands.common import Failure, actor, out, records_db, run, settings
from infra.settings import Settings
from infra.temporal import connect
from models.forms import ApplicationForm
from models.messages import ActRequest, ApplicationInput, MigrateRequest, application_workflow_id, call_workflow_id
from records.tables import ApplicationRow
from workflows.application import ApplicationWorkflow
from workflows.call import CallWorkflow

applications_app = typer.Typer()


@applications_app.command("apply")
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
        client = await connect(s.temporal_address, s.namespace, s.temporal_access)
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
    with Session(records_db()) as db:
        why = call_lockout(db, call_id, phase)
    if why:
        raise Failure(why)


@applications_app.command("act")
def act(application_id: str, event: str, as_: str = typer.Option(..., "--as", help="ROLE:ID"),
        reason: str = typer.Option("", "--reason"), data: list[str] = typer.Option([], help="KEY=VALUE")) -> None:
    """Send an event (submit, approve, return, ...) to an application as ROLE:ID, with a reason."""
    role, who = actor(as_)
    values = dict(d.split("=", 1) for d in data if "=" in d)

    async def go() -> None:
        s = settings()
        with Session(records_db()) as db:
            locked = application_lockout(db, application_id, event)
        if locked:
            raise Failure(locked)
        client = await connect(s.temporal_address, s.namespace, s.temporal_access)
        record = await act_on(client, application_id, ActRequest(event, who, role, reason, values))
        out.print(f"{application_id}: {record.source} -> {record.dest} ({record.trigger} by {role}:{who})")
    run(go())


@applications_app.command("status")
def status(application_id: str, as_json: bool = typer.Option(False, "--json")) -> None:
    """State of an application and every transition: instant, actor, role, reason."""
    async def go() -> None:
        s = settings()
        client = await connect(s.temporal_address, s.namespace, s.temporal_access)
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



@applications_app.command("migrate")
def migrate(application_id: str, as_: str = typer.Option(..., "--as"), reason: str = typer.Option(...)) -> None:
    """Move a running application to its call's current (revised) definition, with a reason."""
    role, who = actor(as_)

    async def go() -> None:
        s = settings()
        client = await connect(s.temporal_address, s.namespace, s.temporal_access)
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



@applications_app.command("counts")
def counts(call_id: str) -> None:
    """Applications of a call per state, from the records database."""
    with Session(records_db()) as s:
        rows = s.exec(select(ApplicationRow.state).where(ApplicationRow.call_id == call_id)).all()
    for state, n in sorted({r: rows.count(r) for r in rows}.items()):
        out.print(f"{state}\t{n}")
