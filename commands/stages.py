"""`grantflow stage ...`: expert review stages as the signed-in account (an expert's tasks, reviews and declines, a
manager's reopening, the committee's approval of the ranked list, a defence's schedule, materials and absences) and the
publicity result, public. Objections and the contract are application events (`grantflow act APP object|...`)."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from commands.common import out, run, safe
from commands.session import local_service, session
from models.instants import local

stage_app = typer.Typer(no_args_is_help=True, help="Expert review stages: tasks, reviews, reopening, the ranked list, defences.")


@stage_app.command("tasks")
def tasks(call_id: str, phase: str) -> None:
    """A stage's review tasks: all of them for managers and the committee, an expert's own for an expert."""
    async def go() -> None:
        async with session() as (service, identity):
            status = await service.stage_status(identity, call_id, phase)
            zone = service.definition(call_id).zone
        table = Table("application", "expert", "category", "due", "status", "reason", title=f"{call_id} {phase}")
        for t in status.state.tasks:
            table.add_row(safe(t.application_id), safe(t.expert_id), t.category, local(zone, t.due), t.status,
                          safe(t.reason))
        out.print(table)
        s = status.state
        if s.settled is not None:
            out.print("ranking: " + ", ".join(f"{c} {f}/{q}" for c, (f, q) in s.settled.ranking.items())
                      + ("; approved" if s.decided else "; awaiting approval"), highlight=False)
    run(go())


@stage_app.command("review")
def review(call_id: str, phase: str, application_id: str,
           score: list[str] = typer.Option(..., help="CRITERION=N, one per criterion of the call's score sheet"),
           comment: list[str] = typer.Option([], help="CRITERION=text, where the score sheet asks for one")) -> None:
    """Submit the score sheet of an application assigned to the signed-in expert (final once submitted)."""
    async def go() -> None:
        async with session() as (service, identity):
            r = await service.submit_review(identity, call_id, phase, application_id, score, comment)
        out.print(f"{application_id}: reviewed by {safe(r.expert_id)} in {phase}, total {r.total:.2f}", highlight=False)
    run(go())


@stage_app.command("decline")
def decline(call_id: str, phase: str, application_id: str, reason: str = typer.Option(..., "--reason")) -> None:
    """Decline a review task, with a reason; the next eligible expert is assigned."""
    async def go() -> None:
        async with session() as (service, identity):
            t = await service.decline_review(identity, call_id, phase, application_id, reason)
        out.print(f"{application_id}: {safe(t.expert_id)} {t.status} ({safe(t.reason)})", highlight=False)
    run(go())


@stage_app.command("reopen")
def reopen(call_id: str, phase: str, application_id: str, expert_id: str,
           reason: str = typer.Option(..., "--reason")) -> None:
    """A manager reopens a submitted review, with a reason: the expert gets a new task with its own deadline."""
    async def go() -> None:
        async with session() as (service, identity):
            t = await service.reopen_review(identity, call_id, phase, application_id, expert_id, reason)
            zone = service.definition(call_id).zone
        out.print(f"{application_id}: review by {safe(t.expert_id)} reopened, due {local(zone, t.due)}",
                  highlight=False)
    run(go())


@stage_app.command("approve")
def approve(call_id: str, phase: str, reason: str = typer.Option(..., "--reason"),
            role: str | None = typer.Option(None, help="committee or manager, when the account holds both")) -> None:
    """Approve the deciding stage's ranked list: funded, reserve and not-funded notices go out."""
    async def go() -> None:
        async with session() as (service, identity):
            told = await service.approve_ranking(identity, call_id, phase, reason, role)
        out.print(f"{call_id}: ranked list of {phase} approved; {told} applications told", highlight=False)
    run(go())


@stage_app.command("schedule")
def schedule(call_id: str, phase: str) -> None:
    """A defence's hearings in time order: every slot and panel for managers, an expert's own, an applicant's own slot
    and materials deadline (never the panel)."""
    async def go() -> None:
        async with session() as (service, identity):
            hearings = await service.defence_schedule(identity, call_id, phase)
            zone = service.definition(call_id).zone
        table = Table("application", "category", "slot", "materials due", "materials", "panel", "absent",
                      title=f"{call_id} {phase}")
        for h in hearings:
            x = h.slot
            table.add_row(safe(x.application_id), x.category, f"{local(zone, x.starts)} - {local(zone, x.ends)}",
                          local(zone, x.materials_due), local(zone, h.materials_at) if h.materials_at else "-",
                          safe(", ".join(h.panel)), safe(h.absent.reason) if h.absent else "")
        out.print(table)
    run(go())


@stage_app.command("materials")
def materials(call_id: str, phase: str, application_id: str,
              file: Path = typer.Option(..., "--file", exists=True, dir_okay=False,
                                        help="the materials (slides, liaison form) as one file; its SHA-256 is recorded")) -> None:
    """Send an application's defence materials, before the deadline of its slot."""
    async def go() -> None:
        async with session() as (service, identity):
            at = await service.submit_materials(identity, call_id, phase, application_id, file.read_bytes())
            zone = service.definition(call_id).zone
        out.print(f"{application_id}: defence materials received at {local(zone, at)}", highlight=False)
    run(go())


@stage_app.command("absent")
def absent(call_id: str, phase: str, application_id: str, reason: str = typer.Option(..., "--reason")) -> None:
    """Record an application absent at its defence slot (a manager): it withdraws (逾期未参加视为弃权), its applicant is
    told."""
    async def go() -> None:
        async with session() as (service, identity):
            a = await service.record_absence(identity, call_id, phase, application_id, reason)
            zone = service.definition(call_id).zone
        out.print(f"{application_id}: recorded absent at {local(zone, a.at)} by {safe(a.actor_id)}; withdrawn",
                  highlight=False)
    run(go())


@stage_app.command("publicity")
def publicity(call_id: str) -> None:
    """The call's publicity result once published (public: no sign-in): objections, promotions, the final list."""
    async def go() -> None:
        service = local_service()
        r = service.publicity_result(call_id)
        names = {c.id: c.name for c in service.definition(call_id).categories}
        out.print(f"{call_id}: publicity result published {local(service.definition(call_id).zone, r.published_at)}; "
                  f"objections {r.objections} (upheld {r.upheld}, dismissed {r.dismissed}, pending {r.pending})",
                  highlight=False)
        table = Table("list", "category", "application", "title", "unit", title=f"{call_id} publicity result")
        for which, items in (("promoted", r.promoted), ("funded", r.funded)):
            for x in items:
                table.add_row(which, names.get(x.category, x.category), safe(x.application_id), safe(x.title),
                              safe(x.unit))
        out.print(table)
    run(go())
