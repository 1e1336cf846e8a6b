"""Seed call 000 end to end on the time-skipping server: phases at the stated instants, one application."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import Session, select

from client.calls import manage, prepare, start_application, start_call
from models.call import load_call
from records.tables import NoticeRow, TransitionRow
from tests.conftest import CALLS, Stack
from tests.helpers import MANAGER, act, application_input, closes, hours, opens, paper_form, refused, sleep_until, state
from workflows.call import CallWorkflow

CALL_000 = CALLS / "000-sx-2025-basic-research-geology.yaml"


async def test_one_application_from_draft_to_contract(stack: Stack) -> None:
    # the lifecycle of definitions without a review section (runs started before it), kept for their histories
    legacy = load_call(CALL_000).model_copy(update={"review": None})
    prepared = prepare(legacy, not_before=await stack.env.get_current_time())
    shift = timedelta(days=prepared.shift_days)
    async with stack.running():
        call = await start_call(stack.client, prepared, stack.task_queue)
        app = await start_application(stack.client, application_input(prepared, "a1"), stack.task_queue)
        await sleep_until(stack.env, opens(prepared, "application") + hours(1))
        await act(app, "submit", "applicant")
        await act(app, "approve", "unit_admin")
        await act(app, "approve", "recommender")
        assert await state(app) == "accepted"
        await sleep_until(stack.env, opens(prepared, "paper") + hours(1))
        await refused(act(app, "receive_paper", "agency", "agency-1"), "does not match the online version")
        form = await paper_form(app)
        assert form["receipt"] == "a1/1" and len(form["content_sha256"]) == 64
        await act(app, "receive_paper", "agency", "agency-1", **form)
        await sleep_until(stack.env, closes(prepared, "paper") + hours(1))
        await manage(call, CallWorkflow.advance_phase, MANAGER)  # formal review opens
        await stack.env.sleep(timedelta(minutes=1))
        assert await state(app) == "formal_passed"
        await manage(call, CallWorkflow.advance_phase, MANAGER)  # expert review opens
        await stack.env.sleep(timedelta(minutes=1))
        assert await state(app) == "in_expert_review"
        await act(app, "score", "expert", "exp-1", score="88")
        await act(app, "shortlist", "manager", "pm-1", reason="joint meeting 2025-06")
        await manage(call, CallWorkflow.advance_phase, MANAGER)  # publicity opens
        await stack.env.sleep(timedelta(minutes=1))
        assert await state(app) == "publicised"
        await stack.env.sleep(timedelta(days=10))
        assert await state(app) == "approved"
        await manage(call, CallWorkflow.advance_phase, MANAGER)  # contract opens
        await act(app, "sign_contract", "applicant")
        with stack.env.auto_time_skipping_disabled():
            assert (await app.result()).state == "contract_signed"
            await manage(call, CallWorkflow.close_phase, MANAGER)
            status = await call.result()
    opened = {e.phase: e.new - shift for e in status.events if e.kind == "opened"}
    closed = {e.phase: e.new - shift for e in status.events if e.kind == "closed"}
    definition = load_call(CALL_000)
    assert opened["application"] == definition.phase("application").opens
    assert closed["application"] == definition.phase("application").closes
    assert closed["recommendation"] == definition.phase("recommendation").closes
    assert opened["paper"] == definition.phase("paper").opens
    assert closed["paper"] == definition.phase("paper").closes
    with Session(stack.engine) as s:
        rows = s.exec(select(TransitionRow).where(TransitionRow.application_id == "a1")).all()
        assert [r.dest for r in rows][-1] == "contract_signed"
        assert all(r.actor_id and r.role and r.at for r in rows)
        keys = s.exec(select(NoticeRow.key)).all()
    assert len(keys) == len(set(stack.channel.delivered))
    assert sorted(keys) == sorted(stack.channel.delivered)
