"""`grantflow review ...`: formal-review verdicts per call and per application, pre-checks, manager overrides."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import datetime
from pathlib import Path

import typer
from pydantic import TypeAdapter, ValidationError
from rich.table import Table
from sqlmodel import Session, select

from client.calls import Refusal, act_on
from commands.common import fail, out
from infra.settings import Settings
from infra.temporal import connect
from models.call import CallDefinition, CallFileError, load_call
from models.duplicate_index import THRESHOLD, index_for
from models.duplicates import PriorWork
from models.facts import Facts
from models.forms import ApplicationForm
from models.messages import ActRequest
from models.rules import Verdict, evaluate, rule_ids
from records.engine import make_engine
from records.registry import prior_work, snapshot
from records.tables import ApplicationRow

VERDICTS = TypeAdapter(list[Verdict])
review_app = typer.Typer(no_args_is_help=True, help="Formal review: verdict table, explanations, pre-check, override.")


def _verdicts(row: ApplicationRow) -> list[Verdict]:
    return VERDICTS.validate_json(row.verdicts_json) if row.verdicts_json else []


def _outcome_table(verdicts: list[Verdict], title: str) -> Table:
    table = Table(title=title, show_lines=True)
    for column in ("rule", "verdict", "reason", "evidence", "seed sentence"):
        table.add_column(column, overflow="fold")
    for v in verdicts:
        evidence = "; ".join(f"{k}={x}" for k, x in v.evidence.items())
        table.add_row(v.rule_id, v.outcome, v.reason, evidence, v.seed)
    return table


@review_app.command("formal")
def formal(call_id: str) -> None:
    """The verdict table of a call: every reviewed application, its failing and doubtful rules; counts per rule."""
    with Session(make_engine(Settings.from_env().database_url)) as s:
        rows = s.exec(select(ApplicationRow).where(ApplicationRow.call_id == call_id)
                      .order_by(ApplicationRow.id)).all()
    reviewed = [(r, _verdicts(r)) for r in rows if r.verdicts_json]
    if not reviewed:
        raise fail(f"call {call_id} has no formal-review verdicts yet ({len(rows)} applications recorded)")
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
    with Session(make_engine(Settings.from_env().database_url)) as s:
        row = s.get(ApplicationRow, application_id)
    if row is None:
        raise fail(f"unknown application {application_id}")
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
    with Session(make_engine(Settings.from_env().database_url)) as s:
        verdicts = evaluate(call, Facts(form, snapshot(s, form), instant, call.zone))
    out.print(_outcome_table([v for v in verdicts if v.outcome != "pass"], f"pre-check of {form.application_id}"))
    failed = [v.rule_id for v in verdicts if v.outcome == "fail"]
    out.print(f"{len(verdicts) - len(failed)} of {len(rule_ids(call))} checks pass"
              + (f"; failing: {', '.join(failed)}" if failed else ""))
    raise typer.Exit(1 if failed else 0)


@review_app.command("override")
def override(application_id: str, rule: str, outcome: str = typer.Option(..., help="pass (reinstate) or fail"),
             as_: str = typer.Option(..., "--as", help="manager:ID"), reason: str = typer.Option(..., "--reason")) -> None:
    """A programme manager overrides one rule's verdict, with a reason; the application is reinstated or
    disqualified and the override is recorded on the verdict and as a transition."""
    if outcome not in ("pass", "fail"):
        raise fail(f"--outcome is pass or fail, not {outcome!r}")
    role, _, who = as_.partition(":")
    trigger = "reinstate" if outcome == "pass" else "disqualify"

    async def go() -> None:
        settings = Settings.from_env()
        client = await connect(settings.temporal_address, settings.namespace)
        record = await act_on(client, application_id, ActRequest(trigger, who, role, reason, {"rule": rule}))
        out.print(f"{application_id}: {record.source} -> {record.dest} ({rule} overridden by {role}:{who})")

    try:
        asyncio.run(go())
    except Refusal as exc:
        raise fail(str(exc)) from None



@review_app.command("decide")
def decide(application_id: str, rule: str, outcome: str = typer.Option(..., help="pass or fail"),
           as_: str = typer.Option(..., "--as", help="manager:ID"), reason: str = typer.Option(..., "--reason"),
           evidence: str = typer.Option(..., "--evidence", help="what the decision rests on")) -> None:
    """A programme manager decides a verdict that waits for a person; the application moves on to formal_passed
    or formal_failed once none waits any more. Recorded as a transition and on the verdict."""
    if outcome not in ("pass", "fail"):
        raise fail(f"--outcome is pass or fail, not {outcome!r}")
    role, _, who = as_.partition(":")

    async def go() -> None:
        settings = Settings.from_env()
        client = await connect(settings.temporal_address, settings.namespace)
        data = {"rule": rule, "outcome": outcome, "evidence": evidence}
        record = await act_on(client, application_id, ActRequest("decide", who, role, reason, data))
        out.print(f"{application_id}: {rule} decided {outcome} by {role}:{who}; now {record.dest}")

    try:
        asyncio.run(go())
    except Refusal as exc:
        raise fail(str(exc)) from None


@review_app.command("duplicates")
def duplicates(call_id: str, threshold: float = typer.Option(THRESHOLD, help="score from which a pair is listed")
               ) -> None:
    """Run the duplicate check now, for every application of a call, against every application and project in the
    records (all calls, all years): each suspected duplicate with its score and reasons."""
    with Session(make_engine(Settings.from_env().database_url)) as s:
        rows = s.exec(select(ApplicationRow).where(ApplicationRow.call_id == call_id)
                      .order_by(ApplicationRow.id)).all()
        corpus = prior_work(s)
    if not rows:
        raise fail(f"call {call_id} has no applications in the records")
    index = index_for(corpus)
    table = Table(title=f"suspected duplicates in {call_id} (against {len(corpus)} applications and projects)")
    for column in ("application", "title", "suspected duplicate", "score", "reasons"):
        table.add_column(column, overflow="fold")
    found = 0
    for row in rows:
        for m in index.check(PriorWork(row.id, row.call_id, None, row.applicant, row.unit, row.title), threshold):
            found += 1
            table.add_row(row.id, row.title, f"{m.work.ref} ({m.work.call_id or 'registry'}): {m.work.title}",
                          f"{m.score:.2f}", "; ".join(m.reasons))
    out.print(table)
    out.print(f"{found} suspected pairs for {len(rows)} applications at threshold {threshold}")
