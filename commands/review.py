"""`grantflow review ...`: formal-review verdicts per call and per application, pre-checks, manager overrides and
decisions, the duplicate check at any time."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

import typer
from pydantic import TypeAdapter, ValidationError
from rich.table import Table
from sqlmodel import Session

from client.service.review import Suspected
from commands.common import fail, out, records_db, run, safe
from commands.session import session
from models.call import CallDefinition, CallFileError, load_call
from models.duplicates import THRESHOLD
from models.facts import Facts
from models.forms import ApplicationForm
from models.rules import Verdict, evaluate, rule_ids
from records.registry import snapshot
from records.tables import ApplicationRow

VERDICTS = TypeAdapter(list[Verdict])
review_app = typer.Typer(no_args_is_help=True, help="Formal review: verdict table, explanations, pre-check, override, decide, duplicates, summary.")


def _verdicts(row: ApplicationRow) -> list[Verdict]:
    return VERDICTS.validate_json(row.verdicts_json) if row.verdicts_json else []


def _outcome_table(verdicts: list[Verdict], title: str) -> Table:
    table = Table(title=title, show_lines=True)
    for column in ("rule", "verdict", "reason", "evidence", "seed sentence"):
        table.add_column(column, overflow="fold")
    for v in verdicts:
        evidence = "; ".join(f"{k}={x}" for k, x in v.evidence.items())
        table.add_row(v.rule_id, v.outcome, safe(v.reason), safe(evidence), safe(v.seed))
    return table


@review_app.command("formal")
def formal(call_id: str) -> None:
    """The verdict table of a call: every reviewed application, its failing and doubtful rules; counts per rule."""
    async def read() -> Sequence[ApplicationRow]:
        async with session() as (service, identity):
            return service.verdicts(identity, call_id)
    reviewed = [(r, _verdicts(r)) for r in run(read())]
    if not reviewed:
        raise fail(f"call {call_id} has no formal-review verdicts yet")
    table = Table(title=f"formal review of {call_id}")
    for column in ("application", "state", "failed", "needs judgement"):
        table.add_column(column, overflow="fold")
    failed: Counter[str] = Counter()
    for row, verdicts in reviewed:
        fails = [v.rule_id for v in verdicts if v.outcome == "fail"]
        failed.update(fails)
        table.add_row(row.id, row.state, ", ".join(fails) or "-",
                      ", ".join(v.rule_id for v in verdicts if v.outcome == "review") or "-")
    out.print(table)
    out.print(", ".join(f"{rule}: {failed[rule]}" for rule in [v.rule_id for v in reviewed[0][1]]))
    waiting = [row.id for row, _ in reviewed if row.state == "formal_pending"]
    out.print(f"waiting for a decision (review decide APP RULE): {', '.join(waiting) or 'none'}")


@review_app.command("explain")
def explain(application_id: str) -> None:
    """Every rule of an application's formal review: its verdict, the reason, the evidence and the seed sentence."""
    async def read() -> ApplicationRow:
        async with session() as (service, identity):
            return await service.verdict(identity, application_id)
    row = run(read())
    if not row.verdicts_json:
        raise fail(f"application {application_id} ({row.state}) has not been through formal review yet")
    out.print(_outcome_table(_verdicts(row), f"{application_id}: {row.state}"))


@review_app.command("precheck")
def precheck(call_file: Path, form_file: Path,
             at: str = typer.Option("", "--at", help="instant to judge at (default: now), with its offset")) -> None:
    """Run the call's checks on a form before submitting: every failing rule with its reason (submission stays
    allowed; exit code 1 when a rule fails)."""
    try:
        call: CallDefinition = load_call(call_file)
        form = ApplicationForm.model_validate_json(form_file.read_text(encoding="utf-8"))
    except CallFileError as exc:
        raise fail(str(exc)) from None
    except (OSError, ValidationError) as exc:
        raise fail(f"{form_file}: {exc}") from None
    instant = datetime.fromisoformat(at) if at else datetime.now(call.zone)
    if instant.tzinfo is None:
        raise fail(f"naive datetime {at!r}: give the offset, e.g. 2025-04-01T10:00:00+08:00")
    with Session(records_db()) as s:
        verdicts = evaluate(call, Facts(form, snapshot(s, form), instant, call.zone))
    out.print(_outcome_table([v for v in verdicts if v.outcome != "pass"], f"pre-check of {form.application_id}"))
    failed = [v.rule_id for v in verdicts if v.outcome == "fail"]
    out.print(f"{len(verdicts) - len(failed)} of {len(rule_ids(call))} checks pass"
              + (f"; failing: {', '.join(failed)}" if failed else ""))
    raise typer.Exit(1 if failed else 0)


@review_app.command("override")
def override(application_id: str, rule: str, outcome: str = typer.Option(..., help="pass (reinstate) or fail"),
             reason: str = typer.Option(..., "--reason")) -> None:
    """A programme manager overrides one rule's verdict, with a reason; the application is reinstated or
    disqualified and the override is recorded on the verdict and as a transition."""
    if outcome not in ("pass", "fail"):
        raise fail(f"--outcome is pass or fail, not {outcome!r}")
    trigger = "reinstate" if outcome == "pass" else "disqualify"

    async def go() -> None:
        async with session() as (service, identity):
            record = await service.act(identity, application_id, trigger, reason, [f"rule={rule}"], "manager")
        out.print(f"{application_id}: {record.source} -> {record.dest} ({safe(rule)} overridden by "
                  f"{safe(record.actor_id)})", highlight=False)
    run(go())


@review_app.command("decide")
def decide(application_id: str, rule: str, outcome: str = typer.Option(..., help="pass or fail"),
           reason: str = typer.Option(..., "--reason"),
           evidence: str = typer.Option(..., "--evidence", help="what the decision rests on")) -> None:
    """A programme manager decides a verdict that waits for a person; the application moves on to formal_passed
    or formal_failed once none waits any more. Recorded as a transition and on the verdict."""
    async def go() -> None:
        async with session() as (service, identity):
            record = await service.decide(identity, application_id, rule, outcome, reason, evidence)
        out.print(f"{application_id}: {safe(rule)} decided {outcome} by {safe(record.actor_id)}; now {record.dest}",
                  highlight=False)
    run(go())


@review_app.command("duplicates")
def duplicates(call_id: str, threshold: float = typer.Option(THRESHOLD, help="score from which a pair is listed")
               ) -> None:
    """Run the duplicate check now, for every application of a call, against every application and project in the
    records (all calls, all years): each suspected duplicate with its score and reasons."""
    async def read() -> tuple[int, int, list[Suspected]]:
        async with session() as (service, identity):
            return service.duplicates(identity, call_id, threshold)
    corpus, checked_apps, found = run(read())
    if not checked_apps:
        raise fail(f"call {call_id} has no applications in the records")
    table = Table(title=f"suspected duplicates in {safe(call_id)} (against {corpus} applications and projects)")
    for column in ("application", "title", "suspected duplicate", "score", "reasons"):
        table.add_column(column, overflow="fold")
    for f in found:
        m = f.match
        table.add_row(f.application.id, safe(f.application.title),
                      safe(f"{m.work.ref} ({m.work.call_id or 'registry'}): {m.work.title}"), f"{m.score:.2f}",
                      safe("; ".join(m.reasons)))
    out.print(table)
    out.print(f"{len(found)} suspected pairs for {checked_apps} applications at threshold {threshold}")
