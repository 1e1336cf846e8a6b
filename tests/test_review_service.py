"""Review stages through the service layer on the real test server: an expert sees and reviews only their own tasks,
people without the stage's role or outside the call are refused (and the refusal recorded), bad score sheets are one
line, a manager of the call reopens a review, and a direct client without an identity is refused by the validator."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select
from typer.testing import CliRunner

from cli import app
from client.calls import prepare, start_call
from client.errors import Conflict, Forbidden, Invalid
from client.service import Service
from client.tokens import TokenConfig
from models.call import load_call
from models.identity import Grant, Identity
from models.review.messages import OPEN, SUBMITTED, ReviewRequest, StageInput, stage_workflow_id
from records.accounts import RefusalRow
from records.tables import CallRow
from tests.conftest import CALLS, Stack
from tests.helpers import refused, sleep_until
from tests.test_review_stage import COMMENTS, SCORES, _register
from workflows.review_stage import ReviewStageWorkflow

SHEET = [f"{k}={v}" for k, v in SCORES.items()]
NOTES = [f"{k}={v}" for k, v in COMMENTS.items()]


async def test_experts_managers_and_others_through_the_service(stack: Stack, tmp_path: Path) -> None:
    prepared = prepare(load_call(CALLS / "003-sx-2017-key-rd-general.yaml"),
                       not_before=await stack.env.get_current_time())
    call = prepared.definition
    _register(stack, prepared, 6, "in_preliminary")
    opened = await stack.env.get_current_time() + timedelta(minutes=1)
    service = Service(stack.client, stack.engine, stack.task_queue, TokenConfig(b"k" * 32, timedelta(hours=1)),
                      tmp_path)
    async with stack.running():
        await start_call(stack.client, prepared, stack.task_queue)
        while True:  # the call's records row is written by its first activity
            with Session(stack.engine) as s:
                if s.get(CallRow, call.id) is not None:
                    break
            await asyncio.sleep(0.05)
        handle = await stack.client.start_workflow(
            ReviewStageWorkflow.run, StageInput(call, prepared.input.calendar, "preliminary", opened, None, False),
            id=stage_workflow_id(call.id, "preliminary"), task_queue=stack.task_queue)
        manager = Identity("pm-1", [Grant("manager", f"call:{call.id}")])
        for _ in range(100):
            if (await handle.query(ReviewStageWorkflow.status)).state.drawn is not None:
                break
            await sleep_until(stack.env, await stack.env.get_current_time() + timedelta(seconds=1))
        everything = (await service.stage_status(manager, call.id, "preliminary")).state.tasks
        assert len(everything) == 18
        task = everything[0]
        expert = Identity(task.expert_id, [Grant("expert", f"application:{task.application_id}")])
        own = (await service.stage_status(expert, call.id, "preliminary")).state.tasks
        assert own and {t.expert_id for t in own} == {task.expert_id}
        outsider = Identity("pi-9", [Grant("applicant", "self")])
        with pytest.raises(Forbidden, match="may not see"):
            await service.stage_status(outsider, call.id, "preliminary")
        with pytest.raises(Invalid, match="not an expert review stage"):
            await service.stage_status(manager, call.id, "publicity")
        with pytest.raises(Invalid, match="not a whole number"):
            await service.submit_review(expert, call.id, "preliminary", task.application_id, ["innovation=high"], NOTES)
        with pytest.raises(Forbidden, match="has no expert role"):
            await service.submit_review(outsider, call.id, "preliminary", task.application_id, SHEET, NOTES)
        other = next(t for t in everything if t.application_id != task.application_id and t.expert_id != task.expert_id
                     and not any(x.expert_id == t.expert_id and x.application_id == task.application_id
                                 for x in everything))
        stranger = Identity(other.expert_id, [Grant("expert", f"application:{other.application_id}")])
        with pytest.raises(Conflict, match="has no open review task"):
            await service.submit_review(stranger, call.id, "preliminary", task.application_id, SHEET, NOTES)
        review = await service.submit_review(expert, call.id, "preliminary", task.application_id, SHEET, NOTES)
        assert review.expert_id == task.expert_id and review.total > 0
        with pytest.raises(Forbidden, match="may not reopen"):
            await service.reopen_review(Identity("pm-x", [Grant("manager", "call:another-call")]), call.id,
                                        "preliminary", task.application_id, task.expert_id, "复核")
        reopened = await service.reopen_review(manager, call.id, "preliminary", task.application_id, task.expert_id,
                                               "评分与评语不一致，请复核")
        assert reopened.status == OPEN and reopened.reason.startswith("reopened")
        await refused(handle.execute_update(ReviewStageWorkflow.submit_review, ReviewRequest(
            task.application_id, task.expert_id, "expert", SCORES, COMMENTS)), "carries no identity")
        with pytest.raises(Forbidden, match="may not approve the ranked list"):
            await service.approve_ranking(expert, call.id, "preliminary", "同意")
        state = (await handle.query(ReviewStageWorkflow.status)).state
        assert [t.status for t in state.tasks if (t.application_id, t.expert_id) == (
            task.application_id, task.expert_id)] == [SUBMITTED, OPEN]
        assert any("reopened" in line and "pm-1" in line for line in state.log)
        with Session(stack.engine) as s:
            refusals = s.exec(select(RefusalRow)).all()
        assert {r.subject for r in refusals} >= {"pi-9", other.expert_id, "pm-x", task.expert_id}
        await handle.terminate("test finished")


def test_the_stage_commands_sign_in_and_refuse_in_one_line(db: Engine, tmp_path: Path) -> None:
    env = {"GRANTFLOW_DATABASE_URL": str(db.url), "GRANTFLOW_TEMPORAL_ADDRESS": "127.0.0.1:9",
           "GRANTFLOW_VAR_DIR": str(tmp_path / "var"), "GRANTFLOW_CONFIG_DIR": str(tmp_path / "config")}

    def run(*args: str) -> tuple[int, str]:
        result = CliRunner().invoke(app, list(args), env=env)
        assert "Traceback" not in result.output
        return result.exit_code, result.output

    code, output = run("stage", "tasks", "sx-2017-key-rd-general", "preliminary")
    assert (code, output.count("\n")) == (1, 1) and "not signed in" in output
    code, output = run("--operator", "stage", "review", "no-such-call", "preliminary", "a1", "--score", "innovation=8")
    assert (code, output) == (1, "error: unknown call no-such-call\n")
    code, output = run("--operator", "stage", "decline", "sx-2017-key-rd-general", "preliminary", "a/b", "--reason", "r")
    assert code == 1 and "application id 'a/b' must be" in output
    code, output = run("stage", "publicity", "no-such-call")  # public: no sign-in needed, one line when unknown
    assert (code, output) == (1, "error: unknown call no-such-call\n")
