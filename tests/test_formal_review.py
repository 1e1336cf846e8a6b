"""Formal review in the lifecycle: the call's rules judged on each form, verdicts recorded, overrides with reasons."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

from sqlmodel import Session
from typer.testing import CliRunner

from cli import app as cli_app
from client.calls import manage, prepare, start_application, start_call
from models.call import load_call
from models.rules import evaluate
from records.tables import ApplicationRow
from simulation.population import sample_population
from tests.conftest import CALLS, Stack
from tests.helpers import (
    MANAGER,
    act,
    application_input,
    closes,
    hours,
    opens,
    paper_form,
    refused,
    sleep_until,
    state,
)
from workflows.application import ApplicationWorkflow
from workflows.call import CallWorkflow

CALL_000 = CALLS / "000-sx-2025-basic-research-geology.yaml"


async def test_rules_decide_formal_review_and_a_manager_overrides_one_with_a_reason(stack: Stack,
                                                                                   tmp_path: Path) -> None:
    call = load_call(CALL_000)
    prepared = prepare(call, not_before=await stack.env.get_current_time())
    shift = timedelta(days=prepared.shift_days)
    submitted_at = opens(prepared, "application") + hours(1)
    assert call.issued is not None
    population = sample_population(call, 40, seed=7, as_of=call.issued)
    with Session(stack.engine) as s:
        population.registry.write(s)
    judged = [(f, evaluate(call, population.facts(call, f, submitted_at - shift))) for f in population.forms]
    clean = next(f for f, vs in judged if all(v.outcome == "pass" for v in vs))
    one_fail, verdicts = next((f, vs) for f, vs in judged if [v.outcome for v in vs].count("fail") == 1)
    failing = next(v for v in verdicts if v.outcome == "fail")

    async with stack.running():
        handle = await start_call(stack.client, prepared, stack.task_queue)
        apps = {}
        for form in (clean, one_fail):
            people = {"applicant": form.pi_id, "unit_admin": "unit-1", "recommender": "org-1"}
            apps[form.application_id] = await start_application(stack.client, application_input(
                prepared, form.application_id, form=form, shift_days=prepared.shift_days, people=people,
                flags=dict(form.flags), category=form.category), stack.task_queue)
        await sleep_until(stack.env, submitted_at)
        for form in (clean, one_fail):
            app = apps[form.application_id]
            await act(app, "submit", "applicant", form.pi_id)
            await act(app, "approve", "unit_admin")
            await act(app, "approve", "recommender")
        await sleep_until(stack.env, opens(prepared, "paper") + hours(1))
        for form in (clean, one_fail):
            app = apps[form.application_id]
            await act(app, "receive_paper", "agency", "agency-1", **await paper_form(app))
        await sleep_until(stack.env, closes(prepared, "paper") + hours(1))
        await manage(handle, CallWorkflow.advance_phase, MANAGER)  # formal review opens
        await stack.env.sleep(timedelta(minutes=1))
        assert await state(apps[clean.application_id]) == "formal_passed"
        failed = apps[one_fail.application_id]
        status = await failed.query(ApplicationWorkflow.status)
        assert status.state == "formal_failed"
        assert status.formal_findings == [f"{failing.rule_id}: {failing.reason}"]
        assert status.transitions[-1].reason == f"{failing.rule_id}: {failing.reason}"

        await refused(act(failed, "reinstate", "manager", "pm-1", "复核", rule="nonsense"),
                      "no verdict for rule 'nonsense'")
        await refused(act(failed, "reinstate", "manager", "pm-1", "", rule=failing.rule_id), "reinstate needs a reason")
        record = await act(failed, "reinstate", "manager", "pm-1", "复核后材料齐全", rule=failing.rule_id)
        assert (record.dest, record.data) == ("formal_passed", {"rule": failing.rule_id})
        overridden = next(v for v in (await failed.query(ApplicationWorkflow.status)).verdicts
                          if v.rule_id == failing.rule_id)
    assert overridden.outcome == "pass"
    assert overridden.evidence["overridden"] == f"fail: {failing.reason}"
    with Session(stack.engine) as s:
        row = s.get(ApplicationRow, one_fail.application_id)
        assert row is not None and row.state == "formal_passed" and row.verdicts_json
    env = {"GRANTFLOW_DATABASE_URL": str(stack.engine.url), "COLUMNS": "300", "GRANTFLOW_VAR_DIR": str(tmp_path),
           "GRANTFLOW_TEMPORAL_ADDRESS": "127.0.0.1:9"}  # verdicts are read from the records DB alone
    result = await asyncio.to_thread(CliRunner().invoke, cli_app, ["--operator", "review", "explain",
                                                                   one_fail.application_id], env=env)
    assert result.exit_code == 0, result.output
    assert failing.rule_id in result.output and "复核后材料齐全" in result.output
