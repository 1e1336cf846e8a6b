"""Programme managers move a call's phases (`phase ...`) and extend and explain deadlines (`deadline ...`), as the
signed-in account (or the operator)."""

from __future__ import annotations

import typer

from client.errors import Invalid
from commands.common import aware, out, run, safe
from commands.session import session
from models.messages import CallEvent

phase_app = typer.Typer(no_args_is_help=True, help="Programme managers move a call's phases.")
deadline_app = typer.Typer(no_args_is_help=True, help="Programme managers extend deadlines.")


def _event(call_id: str, event: CallEvent) -> None:
    out.print(f"{call_id}: {event.phase} {event.kind} at {event.at.isoformat()} by {safe(event.actor_id)}",
              highlight=False)


def change_call(call_id: str, kind: str, reason: str, **more: object) -> None:
    async def go() -> None:
        async with session() as (service, identity):
            _event(call_id, await service.change_call(identity, call_id, kind, reason, **more))  # type: ignore[arg-type]
    run(go())


@phase_app.command("advance")
def phase_advance(call_id: str, reason: str = typer.Option(...)) -> None:
    """Open the next manual phase (closing the current manual one)."""
    change_call(call_id, "advance", reason)


@phase_app.command("close")
def phase_close(call_id: str, reason: str = typer.Option(...)) -> None:
    """Close the current phase now (early)."""
    change_call(call_id, "close", reason)


@deadline_app.command("extend")
def deadline_extend(call_id: str, phase: str, closes: str, reason: str = typer.Option(...),
                    application: str | None = typer.Option(None, help="extend for this application only")) -> None:
    """Extend a phase deadline for the whole call, or for one application (--application); CLOSES is an ISO 8601
    instant with its offset."""
    instant = aware(closes, "new deadline")
    if application is None:
        change_call(call_id, "extend", reason, window=phase, closes=instant)
        return

    async def go() -> None:
        async with session() as (service, identity):
            st, _ = await service.application(application)
            if st.call_id != call_id:
                raise Invalid(f"application {application} is in call {st.call_id}, not {call_id}")
            record = await service.extend_application(identity, application, phase, instant, reason)
        out.print(f"{application}: {record.data.get('window')} now closes {record.data.get('new')}")
    run(go())


@deadline_app.command("explain")
def deadline_explain(application_id: str) -> None:
    """Every deadline of an application and the facts behind it: planned close, category override, extensions
    (who, when, why), working-day counts and the calendar they came from."""
    async def go() -> None:
        async with session() as (service, identity):
            items = await service.explain(identity, application_id)
        for item in items:
            effective = item.effective.isoformat() if item.effective else "not set"
            out.print(f"[bold]{safe(item.window)}[/bold]: {effective}", highlight=False)
            for fact in item.facts:
                out.print(f"  - {safe(fact)}", highlight=False)
    run(go())
