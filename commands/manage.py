"""Programme managers move a call's phases (`phase ...`) and extend and explain deadlines (`deadline ...`), as the
signed-in account (or the operator)."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import typer

from client.errors import Invalid
from client.service import Service
from commands.common import aware, fail, out, run, safe
from commands.session import session
from models.extension_checks import unchanged_before
from models.identity import Identity
from models.inputs import later_by
from models.instants import local
from models.messages import CallEvent, ExtendForRequest

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
def phase_advance(call_id: str, reason: str = typer.Option(...),
                  until: str | None = typer.Option(None, help="the opened phase closes then (ISO 8601 with offset); "
                                                              "needed when its dated close has passed")) -> None:
    """Open the next manual phase (closing the current manual one)."""
    change_call(call_id, "advance", reason, until=aware(until, "--until") if until is not None else None)


@phase_app.command("close")
def phase_close(call_id: str, reason: str = typer.Option(...)) -> None:
    """Close the current phase now (early)."""
    change_call(call_id, "close", reason)


def _also(pairs: list[str]) -> dict[str, datetime]:
    out_: dict[str, datetime] = {}
    for pair in pairs:
        window, sep, closes = pair.partition("=")
        if not sep or not window:
            raise fail(f"--also {pair!r}: write WINDOW=INSTANT, e.g. step:unit_review=2026-04-10T17:00:00+08:00")
        out_[window] = aware(closes, f"--also {window}")
    return out_


@deadline_app.command("extend")
def deadline_extend(
    call_id: str, phase: str, closes: str, reason: str = typer.Option(...),
    application: str | None = typer.Option(None, help="extend for this application only"),
    created_before: str | None = typer.Option(None, help="only applications created before this instant"),
    category: list[str] = typer.Option([], help="only applications of this category (repeatable)"),
    cohort: list[str] = typer.Option([], help="only applicants of this cohort (repeatable)"),
    recommender: list[str] = typer.Option([], help="only applications this unit recommends (repeatable)"),
    unit: list[str] = typer.Option([], help="only applications of this unit (its admin's id; repeatable)"),
    also: list[str] = typer.Option([], help="in the same act, another deadline: WINDOW=INSTANT, e.g. "
                                            "step:unit_review=2026-04-10T17:00:00+08:00 (repeatable)"),
) -> None:
    """Extend a deadline (PHASE: a phase id or step:<id>) for the whole call, for one application (--application),
    or, in one act, for the applications a predicate selects (--created-before, --category, --cohort,
    --recommender, --unit; with --also for other deadlines). CLOSES is an ISO 8601 instant with its offset, or
    +Nd / +Nh (whole call or one application): that much after the close that binds now."""
    later = later_by(closes)
    instant = None if later is not None else aware(closes, "new deadline")
    conditional = bool(created_before or category or cohort or recommender or unit or also)
    if conditional and application is not None:
        raise fail("--application extends one application: leave out the predicate options, or --application")
    if conditional:
        if instant is None:
            raise fail(f"new deadline {closes!r}: an extension for some applications takes an instant with its "
                       f"offset, e.g. 2025-04-10T17:00:00+08:00")
        before = aware(created_before, "--created-before") if created_before is not None else None
        _extend_for(call_id, {phase: instant, **_also(also)}, reason, category, cohort, recommender, unit, before)
        return

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


def _extend_for(call_id: str, windows: dict[str, datetime], reason: str, category: list[str], cohort: list[str],
                recommender: list[str], unit: list[str], before: datetime | None) -> None:
    async def go() -> None:
        async with session() as (service, identity):
            event = await service.extend_for(identity, call_id, windows, reason, category, cohort, recommender, unit,
                                             before)
            current = await service.call_input(call_id)
        out.print(f"{call_id}: extended {safe(event.detail)}, at {local(current.call.zone, event.at)} by "
                  f"{safe(event.actor_id)}", highlight=False)
        request = ExtendForRequest(windows, event.actor_id, event.role, event.reason)
        for line in unchanged_before(current.call, current.timetable, request):
            out.print(f"  note: {safe(line)}", highlight=False)
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
