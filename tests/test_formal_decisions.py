"""Three-valued formal review: a verdict that needs a person holds the application in formal_pending until a
manager decides it; an application filed without a form gets the same verdict table as one with a form."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlmodel import Session
from typer.testing import CliRunner

from audit.replay import replayer
from cli import app as cli_app
from client.calls import Prepared, manage, prepare, start_application, start_call
from models.call import load_call
from models.identity import Grant, Identity
from models.rules import evaluate
from records.tables import ApplicationRow
from simulation.population import sample_population
from tests.conftest import CALLS, Stack
from tests.helpers import MANAGER, act, application_input, closes, hours, opens, paper_form, refused, sleep_until
from workflows.application import ApplicationWorkflow
from workflows.call import CallWorkflow

CALL_000 = CALLS / "000-sx-2025-basic-research-geology.yaml"


async def _through_to_formal_review(stack: Stack, prepared: Prepared, apps: list[tuple[Any, str]]) -> None:
    """Submit, approve and send paper for each (handle, applicant); then the manager opens formal review."""
    handle = stack.client.get_workflow_handle(f"call-{prepared.definition.id}")
    for app, pi in apps:
        await act(app, "submit", "applicant", pi)
        await act(app, "approve", "unit_admin")
        await act(app, "approve", "recommender")
    await sleep_until(stack.env, opens(prepared, "paper") + hours(1))
    for app, _ in apps:
        await act(app, "receive_paper", "agency", "agency-1", **await paper_form(app))
    await sleep_until(stack.env, closes(prepared, "paper") + hours(1))
    await manage(handle, CallWorkflow.advance_phase, MANAGER)
    await stack.env.sleep(timedelta(minutes=1))


async def _cli(stack: Stack, var: Path, *args: str) -> str:
    """A reading command as the operator, off the event loop (the command runs its own); verdicts come from the
    records DB alone."""
    env = {"GRANTFLOW_DATABASE_URL": str(stack.engine.url), "COLUMNS": "300", "GRANTFLOW_VAR_DIR": str(var),
           "GRANTFLOW_TEMPORAL_ADDRESS": "127.0.0.1:9"}
    result = await asyncio.to_thread(CliRunner().invoke, cli_app, ["--operator", *args], env=env)
    assert result.exit_code == 0, result.output
    return str(result.output)


async def test_a_verdict_for_a_person_waits_for_a_managers_decision(stack: Stack, tmp_path: Path) -> None:
    call = load_call(CALL_000)
    prepared = prepare(call, not_before=await stack.env.get_current_time())
    submitted_at = opens(prepared, "application") + hours(1)
    assert call.issued is not None
    population = sample_population(call, 80, seed=7, as_of=call.issued)
    with Session(stack.engine) as s:
        population.registry.write(s)
    shift = timedelta(days=prepared.shift_days)
    judged = [(f, evaluate(call, population.facts(call, f, submitted_at - shift))) for f in population.forms]
    form, verdicts = next((f, vs) for f, vs in judged
                          if "fail" not in [v.outcome for v in vs] and "review" in [v.outcome for v in vs])
    doubtful = [v.rule_id for v in verdicts if v.outcome == "review"]
    async with stack.running():
        await start_call(stack.client, prepared, stack.task_queue)
        people = {"applicant": form.pi_id, "unit_admin": "unit-1", "recommender": "org-1"}
        app = await start_application(stack.client, application_input(
            prepared, form.application_id, form=form, shift_days=prepared.shift_days, people=people,
            flags=dict(form.flags), category=form.category), stack.task_queue)
        await sleep_until(stack.env, submitted_at)
        await _through_to_formal_review(stack, prepared, [(app, form.pi_id)])
        status = await app.query(ApplicationWorkflow.status)
        assert status.state == "formal_pending"
        assert status.transitions[-1].reason == "a person decides: " + ", ".join(doubtful)
        listed = await _cli(stack, tmp_path, "review", "formal", call.id)
        assert form.application_id in listed.split("waiting for a decision")[1]

        await refused(act(app, "decide", "manager", "pm-1", "复核", rule="nonsense", outcome="pass"),
                      "rule 'nonsense' of application")
        await refused(act(app, "decide", "unit_admin", reason="复核", rule=doubtful[0], outcome="pass"),
                      "role unit_admin may not decide")
        elsewhere = Identity("pm-1", [Grant("manager", "call:another-call")])
        await refused(act(app, "decide", "manager", "pm-1", "复核", elsewhere, rule=doubtful[0], outcome="pass"),
                      "pm-1 has no manager role for application")
        for rule in doubtful[:-1]:
            record = await act(app, "decide", "manager", "pm-1", "复核符合", rule=rule, outcome="pass",
                               evidence="原件核对")
            assert record.dest == "formal_pending"
        record = await act(app, "decide", "manager", "pm-1", "职称证明不符", rule=doubtful[-1], outcome="fail",
                           evidence="职称证书复印件")
        assert (record.dest, record.actor_id, record.role, record.reason) == (
            "formal_failed", "pm-1", "manager", "职称证明不符")
        decided = {v.rule_id: v for v in (await app.query(ApplicationWorkflow.status)).verdicts}
        await replayer().replay_workflow(await app.fetch_history())  # the new path replays deterministically
    assert decided[doubtful[-1]].outcome == "fail"
    assert decided[doubtful[-1]].evidence["decision_evidence"] == "职称证书复印件"
    assert decided[doubtful[-1]].evidence["overridden"].startswith("review: ")
    explained = await _cli(stack, tmp_path, "review", "explain", form.application_id)
    assert "职称证书复印件" in explained and "formal_failed" in explained


async def test_an_application_without_a_form_gets_the_same_verdict_table(stack: Stack, tmp_path: Path) -> None:
    """Filed as the README tour files it: conditional attachments whose condition no flag sets are not required;
    a missing unconditional one fails, and `review formal` and `review explain` show the verdicts."""
    call = load_call(CALL_000)
    prepared = prepare(call, not_before=await stack.env.get_current_time())
    plain = [a.kind for a in call.attachments if a.required and a.when is None and a.condition is None]
    conditional = [a.kind for a in call.attachments if a.when or a.condition]
    assert plain and conditional
    async with stack.running():
        await start_call(stack.client, prepared, stack.task_queue)
        complete = await start_application(stack.client, application_input(prepared, "tour-1", attachments=plain),
                                           stack.task_queue)
        short = await start_application(stack.client, application_input(prepared, "tour-2", attachments=plain[1:]),
                                        stack.task_queue)
        await sleep_until(stack.env, opens(prepared, "application") + hours(1))
        await _through_to_formal_review(stack, prepared, [(complete, "pi-1"), (short, "pi-1")])
        done = await complete.query(ApplicationWorkflow.status)
        failed = await short.query(ApplicationWorkflow.status)
    assert done.state == "formal_passed"
    assert failed.state == "formal_failed"
    assert failed.formal_findings == [f"attachment.{plain[0]}: missing attachment {plain[0]} "
                                      f"({next(a.name for a in call.attachments if a.kind == plain[0])})"]
    assert all(f"attachment.{k}" in {v.rule_id for v in done.verdicts} for k in plain + conditional)
    with Session(stack.engine) as s:
        row = s.get(ApplicationRow, "tour-2")
        assert row is not None and row.verdicts_json
    table = await _cli(stack, tmp_path, "review", "formal", call.id)
    assert "tour-2" in table and f"attachment.{plain[0]}" in table
    assert "not required" in await _cli(stack, tmp_path, "review", "explain", "tour-1")
