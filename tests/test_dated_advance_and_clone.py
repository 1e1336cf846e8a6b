"""Managers against dated deadlines: advancing into a phase whose dated close passed is refused unless the same act
extends it; `calls clone --year` keeps instants off the new year's holidays and moves the rules' dates."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

import yaml
from typer.testing import CliRunner

from cli import app
from client.calls import manage, prepare, start_call
from models.call import CallDefinition, load_call
from models.extension_checks import advance_problem
from tests.conftest import CALLS, Stack
from tests.helpers import MANAGER, closes, hours, refused, sleep_until
from workflows.call import CallWorkflow

CALL_000 = CALLS / "000-sx-2025-basic-research-geology.yaml"
MS = timedelta(milliseconds=1)


def _dated_formal_review() -> CallDefinition:
    """000 with a formal review that opens manually but closes on a date, three days after paper closes."""
    call = load_call(CALL_000)
    paper = call.phase("paper").closes
    assert isinstance(paper, datetime)
    phases = [p.model_copy(update={"closes": paper + timedelta(days=3)}) if p.id == "formal_review" else p
              for p in call.phases]
    return CallDefinition.model_validate({**call.model_dump(), "phases": [p.model_dump() for p in phases]})


def test_the_refusal_names_the_phase_its_close_and_now_and_the_boundary_is_exact() -> None:
    prepared = prepare(_dated_formal_review())
    phase = prepared.timetable.get("formal_review")
    close = closes(prepared, "formal_review")
    assert advance_problem(prepared.definition, phase, close - MS, None) is None
    why = advance_problem(prepared.definition, phase, close, None)
    assert why == (f"cannot open formal_review (形式审查): its close {close.isoformat()} has passed (now "
                   f"{close.isoformat()}); extend it in the same act: phase advance --until NEW")
    assert advance_problem(prepared.definition, phase, close, close + hours(1)) is None
    assert "is not later than now" in (advance_problem(prepared.definition, phase, close, close) or "")
    assert "naive" in (advance_problem(prepared.definition, phase, close, close.replace(tzinfo=None)) or "")


async def test_advancing_into_a_passed_dated_close_is_refused_unless_the_act_extends_it(stack: Stack) -> None:
    prepared = prepare(_dated_formal_review(), not_before=await stack.env.get_current_time())
    close = closes(prepared, "formal_review")
    async with stack.running():
        call = await start_call(stack.client, prepared, stack.task_queue)
        await sleep_until(stack.env, close + hours(2))
        await refused(call.execute_update(CallWorkflow.advance_phase, MANAGER), "its close")
        assert (await call.query(CallWorkflow.status)).current_phase is None
        until = close + timedelta(days=7)
        event = await manage(call, CallWorkflow.advance_phase, replace(MANAGER, until=until))
        status = await call.query(CallWorkflow.status)
    assert (event.kind, event.phase) == ("opened", "formal_review")
    assert status.current_phase == "formal_review"
    assert status.timetable.get("formal_review").closes == until
    assert [(e.kind, e.previous, e.new) for e in status.events[-1:]] == [("extended", close, until)]


def test_a_2026_clone_of_000_does_not_close_on_qingming_and_moves_the_rules_dates(tmp_path: Path) -> None:
    target = tmp_path / "next.yaml"
    result = CliRunner().invoke(app, ["calls", "clone", str(CALL_000), "--year", "2026", "--id", "sx-2026-geo",
                                      "--out", str(target)])
    assert result.exit_code == 0, result.output
    clone = load_call(target)
    assert clone.phase("application").closes == datetime.fromisoformat("2026-04-07T17:00:00+08:00")
    assert clone.phase("application").opens == datetime.fromisoformat("2026-03-04T09:30:00+08:00")
    assert result.stderr.splitlines() == [
        f"{target}: phases.application.closes: 2026-04-06 is not a working day in 2026 (a holiday or weekend); "
        "moved to 2026-04-07T17:00:00+08:00, the next working day, as 2025-04-07 was one",
        f"{target}: rules.no_joint_award_since_2023.params.since: 2023-01-01 moved to 2024-01-01 (check the new notice)",
        f"{target}: rules.term_fixed.params.starts_on: 2025-03-05 moved to 2026-03-05 (check the new notice)",
        f"{target}: attachments.employment_proof.date_after: 2024-07-01 moved to 2025-07-01 (check the new notice)"]
    rules = {r["id"]: r.get("params", {}) for r in yaml.safe_load(target.read_text(encoding="utf-8"))["rules"]}
    assert str(rules["no_joint_award_since_2023"]["since"]) == "2024-01-01"


def test_clone_takes_exactly_one_of_open_and_year(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["calls", "clone", str(CALL_000), "--id", "x", "--out", str(tmp_path / "x")])
    assert result.exit_code == 1 and result.stderr.splitlines() == ["error: give one of --open INSTANT or --year YEAR"]


async def test_a_hand_run_phase_passed_over_by_a_dated_one_is_refused_naming_both(stack: Stack) -> None:
    call = load_call(CALL_000)
    paper = call.phase("paper").closes
    assert isinstance(paper, datetime)
    dated = {"opens": paper + timedelta(days=5), "closes": paper + timedelta(days=10)}
    phases = [p.model_copy(update=dated) if p.id == "expert_review" else p for p in call.phases]
    prepared = prepare(CallDefinition.model_validate({**call.model_dump(), "phases": [p.model_dump() for p in phases]}),
                       not_before=await stack.env.get_current_time())
    review = prepared.timetable.get("expert_review")
    assert review.opens is not None
    async with stack.running():
        handle = await start_call(stack.client, prepared, stack.task_queue)
        await sleep_until(stack.env, review.opens + hours(1))
        assert (await handle.query(CallWorkflow.status)).current_phase == "expert_review"
        why = await refused(handle.execute_update(CallWorkflow.advance_phase, MANAGER), "can no longer be opened")
    assert why.startswith("formal_review (形式审查) was never opened and expert_review, which comes after it, is already "
                          f"open until {closes(prepared, 'expert_review').isoformat()}"), why
