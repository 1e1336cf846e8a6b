"""Programme managers move a call's phases (`phase ...`) and extend and explain deadlines (`deadline ...`), as the
signed-in account (or the operator)."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import typer

from client.errors import Invalid
from client.service import Service
from commands.common import aware, out, run, safe
from commands.session import session
from models.identity import Identity
from models.inputs import later_by
from models.instants import local
from models.messages import CallEvent

phase_app = typer.Typer(no_args_is_help=True, help="Programme managers move a call's phases.")
deadline_app = typer.Typer(no_args_is_help=True, help="Programme managers extend deadlines.")


def _event(call_id: str, event: CallEvent, zone: ZoneInfo) -> None:
    """The act as the call's people read it: every instant in the call's timezone, an extension with its new close."""
    change = (f": now closes {local(zone, event.new)} (was {local(zone, event.previous)})" if event.kind == "extended"
              else f" (was to close {local(zone, event.previous)})" if event.kind == "closed" and event.previous else "")
    out.print(f"{call_id}: {event.phase} {event.kind}{change}, at {local(zone, event.at)} by {safe(event.actor_id)}",
              highlight=False)


def change_call(call_id: str, kind: str, reason: str, **more: object) -> None:
    async def go() -> None:
        async with session() as (service, identity):
            event = await service.change_call(identity, call_id, kind, reason, **more)  # type: ignore[arg-type]
            _event(call_id, event, service.definition(call_id).zone)
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
    """Extend a phase deadline for the whole call, or for one application (--application). CLOSES is an ISO 8601
    instant with its offset, or +Nd / +Nh: that much after the close that binds now."""
    later = later_by(closes)
    instant = None if later is not None else aware(closes, "new deadline")

    async def go() -> None:
        async with session() as (service, identity):
            if application is None:
                new = instant or await _current(service, identity, call_id, phase, None) + (later or timedelta())
                _event(call_id, await service.change_call(identity, call_id, "extend", reason, window=phase,
                                                          closes=new), service.definition(call_id).zone)
                return
            st, _ = await service.application(application)
            if st.call_id != call_id:
                raise Invalid(f"application {application} is in call {st.call_id}, not {call_id}")
            new = instant or await _current(service, identity, call_id, phase, application) + (later or timedelta())
            record = await service.extend_application(identity, application, phase, new, reason)
        out.print(f"{application}: {record.data.get('window')} now closes {record.data.get('new')}")
    run(go())


async def _current(service: Service, identity: Identity, call_id: str, phase: str, application: str | None) -> datetime:
    """The close of `phase` that binds now, for the call or for one application: what +Nd counts from."""
    if application is None:
        _, timetable = await service.call_timeline(identity, call_id)
        closes = next((p.closes for p in timetable.phases if p.id == phase), None)
    else:
        closes = next((i.effective for i in await service.explain(identity, application) if i.window == phase), None)
    if closes is None:
        raise Invalid(f"{phase} has no close to count from in {application or call_id}: give the new close as an "
                      f"instant, e.g. 2025-04-10T17:00:00+08:00")
    return closes


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
