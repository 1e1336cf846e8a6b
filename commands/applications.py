"""Applications: create one (`apply`), act on it, read its status, migrate it, count a call's per state; always as
the signed-in account."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from zoneinfo import ZoneInfo

import typer
from pydantic import ValidationError
from rich.table import Table

from commands.common import Failure, out, run, safe
from commands.session import session
from models.forms import ApplicationForm
from models.instants import local
from models.rules import at_recommendation

applications_app = typer.Typer()
MAX_FORM = 1_000_000


@applications_app.command("apply")
def apply(call_id: str, category: str = typer.Option(...), title: str = typer.Option(...),
          flag: list[str] = typer.Option([], help="flags that hold, e.g. enterprise_led"),
          attach: list[str] = typer.Option([], help="attachment kinds uploaded"),
          cohort: str = typer.Option("", help="the applicant cohort, when the call names cohorts"),
          app_id: str | None = typer.Option(None, "--id"),
          form_file: Path | None = typer.Option(None, "--form", help="the application form (JSON, models/forms.py): "
                                                "formal review then judges the call's rules on it")) -> None:
    """Create an application (a draft) in a call, as the signed-in applicant: the unit comes from the registry,
    the recommender and CTO from the accounts and the registry."""
    async def go() -> None:
        form = _form(form_file) if form_file else None
        async with session() as (service, identity):
            out.print(await service.apply(identity, call_id, category, title, flag, attach, form, app_id, cohort))
    run(go())


def _form(path: Path) -> ApplicationForm:
    try:
        if path.stat().st_size > MAX_FORM:
            raise Failure(f"{path}: {path.stat().st_size} bytes; a form has at most {MAX_FORM}")
        return ApplicationForm.model_validate_json(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise Failure(f"{path}: {exc.strerror}") from None
    except ValidationError as exc:
        first = exc.errors()[0]
        raise Failure(f"{path}: {'.'.join(map(str, first['loc']))}: {first['msg']}") from None


@applications_app.command("act")
def act(application_id: str, event: str, reason: str = typer.Option("", "--reason"),
        data: list[str] = typer.Option([], help="KEY=VALUE"),
        role: str | None = typer.Option(None, help="the role to act in, when the account holds several")) -> None:
    """Send an event (submit, approve, return, ...) to an application as the signed-in account, with a reason."""
    async def go() -> None:
        async with session() as (service, identity):
            record = await service.act(identity, application_id, event, reason, data, role)
        out.print(f"{application_id}: {record.source} -> {record.dest} ({record.trigger} by {record.role}:"
                  f"{safe(record.actor_id)})", highlight=False)
        if record.data.get("judged_by_recommender"):
            out.print(f"recommended although these rules needed a person's judgement (the recommender's, recorded): "
                      f"{safe(record.data['judged_by_recommender'])}", highlight=False)
    run(go())


@applications_app.command("status")
def status(application_id: str, as_json: bool = typer.Option(False, "--json")) -> None:
    """State of an application and every transition: instant, actor, role, reason."""
    async def go() -> None:
        async with session() as (service, identity):
            st = await service.status(identity, application_id)
        if as_json:
            print(json.dumps(dataclasses.asdict(st), default=str, ensure_ascii=False, indent=2))
            return
        out.print(f"{st.application_id}: {st.state} (call {st.call_id}, rules version {st.version})")
        if st.receipt:
            out.print(f"summary form: receipt {st.receipt}, content sha256 {st.content_sha256} (the paper copy must "
                      f"carry both; print it with `grantflow form {st.application_id} --out FILE.pdf`)", highlight=False)
        for v in (v for v in st.verdicts if at_recommendation(v)):
            out.print(f"checked at the recommender's step: {v.rule_id} {v.outcome} ({safe(v.reason)})", highlight=False)
        zone = ZoneInfo(st.timezone)
        table = Table(caption=f"instants in {zone.key}")
        for col in ("#", "at", "event", "from", "to", "actor", "role", "reason"):
            table.add_column(col, overflow="fold")  # a narrow terminal wraps an instant, never cuts it off
        for t in st.transitions:
            table.add_row(str(t.seq), local(zone, t.at), t.trigger, t.source, t.dest, safe(t.actor_id), t.role,
                          safe(t.reason))
        out.print(table)
    run(go())



@applications_app.command("migrate")
def migrate(application_id: str, reason: str = typer.Option(...)) -> None:
    """Move a running application to its call's current (revised) definition, with a reason (managers)."""
    async def go() -> None:
        async with session() as (service, identity):
            record = await service.migrate(identity, application_id, reason)
        out.print(f"{application_id}: version {record.data['from_version']} -> {record.data['to_version']}")
    run(go())


@applications_app.command("counts")
def counts(call_id: str) -> None:
    """Applications of a call per state, from the records database (the call's managers, agency, auditors)."""
    async def go() -> None:
        async with session() as (service, identity):
            for state, n in service.counts(identity, call_id).items():
                out.print(f"{state}\t{n}")
    run(go())
