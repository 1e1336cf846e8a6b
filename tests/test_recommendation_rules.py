"""Rules checked at the recommender's step (`at: recommendation`, 不予推荐): where a call file may put them, their
verdicts when an application reaches the step, the recommendation a failing one refuses, and the simulation."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import Session
from typer.testing import CliRunner

from audit.replay import replayer
from cli import app as cli_app
from client.calls import manage, prepare, start_application, start_call
from client.errors import Conflict
from client.service import Service
from client.tokens import TokenConfig
from models.call import CallFileError, load_call, parse_call
from models.identity import Grant, Identity
from models.rules import (
    FORMAL,
    RECOMMENDATION,
    Verdict,
    evaluate,
    failure_reasons,
    recommendation_refusal,
    rule_ids,
    waiting_for_person,
)
from records.tables import ApplicationRow
from simulation.launch import simulate
from simulation.population import sample_population
from tests.conftest import CALLS, Stack
from tests.helpers import MANAGER, act, application_input, refused, sleep_until, state
from workflows.application import ApplicationWorkflow
from workflows.call import CallWorkflow

CALL_017 = CALLS / "017-js-2024-suzhou-major-special.yaml"
CALL_018 = CALLS / "018-yn-2026-basic-research.yaml"
AS_OF = date(2024, 7, 1)  # the population's registry as of shortly before 017's close (a sanction runs 200 days on)


def test_a_rule_at_recommendation_needs_a_recommenders_step() -> None:
    """018's chain has no recommender's step (依托单位 review only): a rule placed there is one problem line."""
    text = CALL_018.read_text(encoding="utf-8")
    moved = text.replace("    kind: not_blacklisted\n", "    kind: not_blacklisted\n    at: recommendation\n", 1)
    with pytest.raises(CallFileError) as caught:
        parse_call(moved, "018.yaml")
    problems = [line for line in str(caught.value).splitlines() if "rules." in line]
    assert len(problems) == 1 and "at: recommendation, but the chain has no recommender's step" in problems[0]
    with pytest.raises(CallFileError, match="Input should be 'formal_review' or 'recommendation'"):
        parse_call(text.replace("    kind: not_blacklisted\n", "    kind: not_blacklisted\n    at: county\n", 1),
                   "018.yaml")


def test_rules_at_formal_review_need_a_formal_review_phase() -> None:
    """017 forwards to the province and has no formal review of its own: its rules must be placed at the step."""
    text = CALL_017.read_text(encoding="utf-8").replace("    at: recommendation\n", "")
    with pytest.raises(CallFileError, match="rules: unit_good_credit, no_duplicate would be checked at formal review, "
                                            "but the call has no formal_review phase"):
        parse_call(text, "017.yaml")


def test_the_place_of_a_rule_changes_no_existing_definition() -> None:
    """`at` is dumped only where it is not the default, so every earlier file keeps its version hash."""
    call, forwarded = load_call(CALLS / "000-sx-2025-basic-research-geology.yaml"), load_call(CALL_017)
    assert all("at" not in r.model_dump() for r in call.rules)
    assert [r.model_dump()["at"] for r in forwarded.rules] == [RECOMMENDATION, RECOMMENDATION]
    assert rule_ids(forwarded, FORMAL) == [] and rule_ids(forwarded, RECOMMENDATION) == ["unit_good_credit",
                                                                                          "no_duplicate"]
    assert rule_ids(call, RECOMMENDATION) == [] and rule_ids(call, FORMAL) == rule_ids(call)


def test_only_a_failing_rule_of_the_step_refuses_a_recommendation() -> None:
    call = load_call(CALL_017)
    population = sample_population(call, 45, seed=3, as_of=AS_OF)
    closes = call.phase("application").closes
    assert isinstance(closes, datetime)
    at = closes - timedelta(days=1)
    judged = {f.unit_id: evaluate(call, population.facts(call, f, at), RECOMMENDATION) for f in population.forms}
    failing = judged["js-blacklisted"]
    assert [(v.rule_id, v.outcome, v.evidence["checked_at"]) for v in failing][0] == (
        "unit_good_credit", "fail", RECOMMENDATION)
    why = recommendation_refusal(failing, "a1")
    assert why is not None and why.startswith("application a1 may not be recommended: rule unit_good_credit fails")
    assert why.endswith("因知识产权存在纠纷的或不良信用记录正在接受处罚的不予推荐。") and "\n" not in why
    assert recommendation_refusal([replace(failing[0], outcome="review"), *failing[1:]], "a1") is None
    assert evaluate(call, population.facts(call, population.forms[0], at), FORMAL) == []  # no attachments either


def test_formal_review_neither_fails_nor_waits_on_the_recommenders_verdicts() -> None:
    """A call checking rules at both places: the verdicts of the step stay in the table, and formal review's outcome
    (failures, verdicts waiting for a manager) is made of its own rules only."""
    step = [Verdict("credit", "not_blacklisted", "fail", "under sanction", {"checked_at": RECOMMENDATION}, "不予推荐"),
            Verdict("dup", "no_duplicate", "review", "1 suspected", {"checked_at": RECOMMENDATION}, "不得重复申报")]
    formal = [Verdict("age", "max_age", "review", "born on the cut-off"), Verdict("title", "min_title", "pass", "ok")]
    assert failure_reasons(step + formal) == [] and waiting_for_person(step + formal) == ["age"]
    assert failure_reasons([*formal, replace(formal[1], outcome="fail")]) == ["title: ok"]


async def _cli(stack: Stack, var: Path, *args: str) -> str:
    env = {"GRANTFLOW_DATABASE_URL": str(stack.engine.url), "COLUMNS": "300", "GRANTFLOW_VAR_DIR": str(var),
           "GRANTFLOW_TEMPORAL_ADDRESS": "127.0.0.1:9"}
    result = await asyncio.to_thread(CliRunner().invoke, cli_app, ["--operator", *args], env=env)
    assert result.exit_code == 0, result.output
    return str(result.output)


async def test_the_recommender_may_not_recommend_what_a_rule_of_its_step_fails(stack: Stack, tmp_path: Path) -> None:
    """Three applications of 017 reach the county bureau: one from a unit under a credit sanction (its recommendation
    is refused, naming the rule and its sentence; returning it still works), one eligible (recommended), one whose
    duplicate check needs a person (recommended, the transition saying the recommender judged it)."""
    call = load_call(CALL_017)
    prepared = prepare(call, not_before=await stack.env.get_current_time())
    shift = timedelta(days=prepared.shift_days)
    population = sample_population(call, 45, seed=3, as_of=AS_OF)
    with Session(stack.engine) as s:
        population.registry.write(s)
    closes = prepared.timetable.get("application").closes
    assert closes is not None
    submitted_at = closes - timedelta(hours=30)  # at no reminder instant: the test server fails an update whose task
    # also fires a timer that runs a local activity (tests/test_audit.py)
    outcomes = {f.application_id: [v.outcome for v in evaluate(call, population.facts(call, f, submitted_at - shift),
                                                                RECOMMENDATION)] for f in population.forms}
    bad = next(f for f in population.forms if outcomes[f.application_id][0] == "fail")
    good = next(f for f in population.forms if outcomes[f.application_id] == ["pass", "pass"])
    doubtful = next(f for f in population.forms if outcomes[f.application_id] == ["pass", "review"])
    recommender = Identity("org-1", [Grant("recommender", f"call:{call.id},unit:unit-1")])
    async with stack.running():
        handle = await start_call(stack.client, prepared, stack.task_queue)
        await manage(handle, CallWorkflow.advance_phase, MANAGER)  # the application window opens by hand
        apps = {}
        for f in (bad, good, doubtful):
            apps[f.application_id] = await start_application(stack.client, application_input(
                prepared, f.application_id, form=f, shift_days=prepared.shift_days, category=f.category,
                people={"applicant": f.pi_id, "unit_admin": "unit-1", "recommender": "org-1"}), stack.task_queue)
        await sleep_until(stack.env, submitted_at)
        for f in (bad, good, doubtful):
            await act(apps[f.application_id], "submit", "applicant", f.pi_id)
            await act(apps[f.application_id], "approve", "unit_admin")
        service = Service(stack.client, stack.engine, stack.task_queue, TokenConfig.from_env(tmp_path), tmp_path)
        with pytest.raises(Conflict) as caught:
            await service.act(recommender, bad.application_id, "approve", "同意推荐")
        assert str(caught.value).startswith(f"application {bad.application_id} may not be recommended: rule "
                                            "unit_good_credit fails (under sanction: js-blacklisted until ")
        assert "不良信用记录正在接受处罚的不予推荐" in str(caught.value)
        await refused(act(apps[bad.application_id], "approve", "recommender", "org-1", "同意推荐"),
                      "rule unit_good_credit fails")  # the validator refuses it whatever the caller
        returned = await service.act(recommender, bad.application_id, "return", "不予推荐：信用记录")
        assert (returned.source, returned.dest) == ("awaiting_county_recommendation", "returned")
        recommended = await service.act(recommender, good.application_id, "approve", "同意推荐")
        assert recommended.dest == "accepted" and "judged_by_recommender" not in recommended.data
        judged = await service.act(recommender, doubtful.application_id, "approve", "同意推荐")
        assert (judged.dest, judged.data["judged_by_recommender"]) == ("accepted", "no_duplicate")
        status = await apps[bad.application_id].query(ApplicationWorkflow.status)
        assert [(v.rule_id, v.outcome, v.evidence["checked_at"]) for v in status.verdicts] == [
            ("unit_good_credit", "fail", RECOMMENDATION), ("no_duplicate", "pass", RECOMMENDATION)]
        assert await state(apps[good.application_id]) == "accepted"
        for f in (bad, good, doubtful):
            await replayer().replay_workflow(await apps[f.application_id].fetch_history())
    with Session(stack.engine) as s:
        row = s.get(ApplicationRow, bad.application_id)
        assert row is not None and row.verdicts_json is not None and "unit_good_credit" in row.verdicts_json
    explained = await _cli(stack, tmp_path, "review", "explain", bad.application_id)
    assert "unit_good_credit" in explained and "checked_at=recommendation" in explained


async def test_the_simulated_recommender_returns_what_it_may_not_recommend() -> None:
    """017 with a unit under a credit sanction among 40 applicants: the rules run at the county bureau's step, the
    failing application is returned rather than recommended, and the run ends clean."""
    report = await simulate(load_call(CALL_017), 40, seed=3)
    assert report.violations == [] and sum(report.final_states.values()) == 40
    assert report.recommendation_checks > 30
    assert report.recommendation_failures == {"unit_good_credit": 1, "no_duplicate": 0}
    assert not [reason for reason in report.refused if "may not be recommended" in reason]
    assert report.formal_failures == {}
