"""Programme managers move a call's phases (`phase ...`) and extend and explain deadlines (`deadline ...`)."""

from __future__ import annotations

import typer

from commands.common import Failure, actor, aware, call_update, out, run, settings
from infra.temporal import connect
from models.deadlines import explain
from models.messages import ExtendRequest, PhaseRequest, application_workflow_id, call_workflow_id
from workflows.application import ApplicationWorkflow
from workflows.call import CallWorkflow

phase_app = typer.Typer(no_args_is_help=True, help="Programme managers move a call's phases.")
deadline_app = typer.Typer(no_args_is_help=True, help="Programme managers extend deadlines.")


@phase_app.command("advance")
def phase_advance(call_id: str, as_: str = typer.Option(..., "--as"), reason: str = typer.Option(...)) -> None:
    """Open the next manual phase (closing the current manual one)."""
    role, who = actor(as_)
    call_update(call_id, CallWorkflow.advance_phase, PhaseRequest(who, role, reason))


@phase_app.command("close")
def phase_close(call_id: str, as_: str = typer.Option(..., "--as"), reason: str = typer.Option(...)) -> None:
    """Close the current phase now (early)."""
    role, who = actor(as_)
    call_update(call_id, CallWorkflow.close_phase, PhaseRequest(who, role, reason))


@deadline_app.command("extend")
def deadline_extend(call_id: str, phase: str, closes: str, as_: str = typer.Option(..., "--as"),
                    reason: str = typer.Option(...),
                    application: str | None = typer.Option(None, help="extend for this application only")) -> None:
    """Extend a phase deadline for the whole call, or for one application (--application)."""
    role, who = actor(as_)
    request = ExtendRequest(phase, aware(closes), who, role, reason)
    if application is None:
        call_update(call_id, CallWorkflow.extend_deadline, request)
        return

    async def go() -> None:
        s = settings()
        client = await connect(s.temporal_address, s.namespace, s.temporal_access)
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
    async def go() -> None:
        s = settings()
        client = await connect(s.temporal_address, s.namespace, s.temporal_access)
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
