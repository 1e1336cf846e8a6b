"""Deadlines on the real time-skipping server: the validator's own comparison, extensions, refusals, returns."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from functools import partial

import pytest
from sqlmodel import Session, select
from temporalio.api.enums.v1 import EventType

from audit.replay import replayer
from client.calls import Prepared, Refusal, act_on, manage, prepare, start_application, start_call
from models.call import CallDefinition, load_call
from models.deadlines import explain
from models.identity import Grant, Identity, in_process
from models.messages import ActRequest, ApplicationState, ExtendRequest, call_workflow_id
from records.tables import TransitionRow
from tests.conftest import CALLS, Stack
from tests.helpers import act, application_input, hours, opens, refused, sleep_until, state
from workflows.application import ApplicationWorkflow
from workflows.call import CallWorkflow

CALL_000 = CALLS / "000-sx-2025-basic-research-geology.yaml"
MS = timedelta(milliseconds=1)


async def _prepared(stack: Stack) -> Prepared:
    return prepare(load_call(CALL_000), not_before=await stack.env.get_current_time())


def _deadline(prepared: Prepared) -> datetime:
    closes = prepared.timetable.get("application").closes
    assert closes is not None
    return closes


def test_validator_comparison_is_exact_to_the_millisecond() -> None:
    """The comparison the validator makes: 16:59:59.999 is inside the window, 17:00:00.000 is not."""
    prepared = prepare(load_call(CALL_000))
    workflow = ApplicationWorkflow(application_input(prepared, "pure"))
    submit = ActRequest("submit", "pi-1", "applicant", identity=in_process("pi-1", "applicant"))
    deadline = _deadline(prepared)
    assert deadline.isoformat() == "2025-04-07T17:00:00+08:00"
    assert workflow._refusal(submit, deadline - MS) is None
    refusal = workflow._refusal(submit, deadline)
    assert refusal is not None and refusal.startswith("deadline passed")
    assert "2025-04-07T17:00:00+08:00" in refusal
    opens = prepared.timetable.get("application").opens
    assert opens is not None
    assert "not open yet" in (workflow._refusal(submit, opens - MS) or "")
    assert workflow._refusal(submit, opens) is None


async def test_extension_for_one_application_moves_only_its_deadline(stack: Stack) -> None:
    prepared = await _prepared(stack)
    deadline = _deadline(prepared)
    later = deadline + timedelta(days=1)
    async with stack.running():
        await start_call(stack.client, prepared, stack.task_queue)
        favoured = await start_application(stack.client, application_input(prepared, "x1"), stack.task_queue)
        other = await start_application(stack.client, application_input(prepared, "x2"), stack.task_queue)
        third = await start_application(stack.client, application_input(prepared, "x3"), stack.task_queue)
        await sleep_until(stack.env, deadline - hours(3))

        base = ExtendRequest("application", later, "pm-1", "manager", "系统故障，延期一天", in_process("pm-1", "manager"))
        request = partial(replace, base)

        extend = ApplicationWorkflow.extend_deadline
        await refused(favoured.execute_update(extend, request(role="applicant")), "may not extend")
        await refused(favoured.execute_update(extend, request(reason=" ")), "needs a reason")
        await refused(favoured.execute_update(extend, request(closes=deadline - hours(1))), "not later")
        await refused(favoured.execute_update(extend, request(window="nonsense")), "unknown phase")
        await refused(favoured.execute_update(extend, request(closes=later.replace(tzinfo=None))), "naive")
        record = await favoured.execute_update(extend, request())
        await third.execute_update(extend, request(reason="因病延期"))
        assert (record.actor_id, record.role, record.reason) == ("pm-1", "manager", "系统故障，延期一天")
        assert record.deadline == deadline

        await sleep_until(stack.env, deadline + hours(1))
        assert await state(other) == "closed_unsubmitted"
        assert await state(favoured) == "draft"
        await act(favoured, "submit", "applicant")
        assert await state(favoured) == "awaiting_unit_review"
        await sleep_until(stack.env, later)
        await refused(act(third, "submit", "applicant"), f"closed at {later.isoformat()}")
        await stack.env.sleep(timedelta(minutes=1))
        assert await state(third) == "closed_unsubmitted"
        with Session(stack.engine) as s:
            rows = s.exec(select(TransitionRow).where(TransitionRow.application_id == "x1")).all()
        call = stack.client.get_workflow_handle(call_workflow_id(prepared.definition.id))
        explained = {e.window: e for e in explain(await call.query(CallWorkflow.definition),
                                                  await call.query(CallWorkflow.status),
                                                  await favoured.query(ApplicationWorkflow.status))}
    assert [r.trigger for r in rows] == ["extend_deadline", "submit"]
    application = explained["application"]
    assert application.effective == later
    assert application.facts[0] == (f"planned: {deadline.isoformat()} (call definition version "
                                    f"{prepared.definition.version()}, phases.application.closes)")
    assert "extended for this application by manager pm-1" in application.facts[-2]
    assert application.facts[-2].endswith("系统故障，延期一天")
    assert application.facts[-1] == "binds: an extension granted to this application"
    step = prepared.definition.step("unit_review")
    assert explained["step:unit_review"].facts == [f"{step.name}: the close of phase recommendation",
                                                   "binds: phase recommendation's close"]


async def test_call_wide_extension_and_its_refusals(stack: Stack) -> None:
    prepared = await _prepared(stack)
    deadline = _deadline(prepared)
    later = deadline + timedelta(days=2)
    async with stack.running():
        call = await start_call(stack.client, prepared, stack.task_queue)
        app = await start_application(stack.client, application_input(prepared, "w1"), stack.task_queue)
        await sleep_until(stack.env, deadline - hours(3))

        base = ExtendRequest("application", later, "pm-1", "manager", "全省停电", in_process("pm-1", "manager"))
        request = partial(replace, base)

        for bad, fragment in ((request(role="unit_admin"), "manager"), (request(reason=""), "reason"),
                              (request(closes=deadline - hours(5)), "not later"),
                              (request(window="nonsense"), "nonsense")):
            await refused(call.execute_update(CallWorkflow.extend_deadline, bad), fragment)
        event = await manage(call, CallWorkflow.extend_deadline, request())
        assert (event.kind, event.previous, event.new) == ("extended", deadline, later)
        assert (await app.query(ApplicationWorkflow.status)).deadlines["application"] == later
        await sleep_until(stack.env, deadline + hours(1))
        await act(app, "submit", "applicant")
        assert await state(app) == "awaiting_unit_review"
        await sleep_until(stack.env, later + hours(1))
        await refused(call.execute_update(CallWorkflow.extend_deadline, request(closes=later + hours(48))), "closed")


async def test_illegal_transitions_wrong_roles_and_unknown_ids_change_nothing(stack: Stack) -> None:
    prepared = await _prepared(stack)
    async with stack.running():
        await start_call(stack.client, prepared, stack.task_queue)
        app = await start_application(stack.client, application_input(prepared, "i1"), stack.task_queue)
        await sleep_until(stack.env, opens(prepared, "application") + hours(1))
        await act(app, "submit", "applicant")
        before = await app.query(ApplicationWorkflow.status)
        await refused(act(app, "approve", "applicant"), "role applicant may not approve")
        other_unit = Identity("ua-999", [Grant("unit_admin", "unit:unit-999")])
        await refused(act(app, "approve", "unit_admin", actor="ua-999", identity=other_unit),
                      "ua-999 has no unit_admin role for application i1")
        await refused(act(app, "submit", "applicant"), "cannot submit application i1 in state awaiting_unit_review")
        await refused(act(app, "sign", "applicant", content_sha256="0" * 64), "cannot sign")
        await refused(act(app, "teleport", "applicant"), "unknown event 'teleport'")
        await refused(act(app, "return", "unit_admin"), "return needs a reason")
        after = await app.query(ApplicationWorkflow.status)
        with pytest.raises(Refusal, match="application nobody is unknown$"):
            await act_on(stack.client, "nobody", ActRequest("submit", "pi-1", "applicant", identity=in_process("pi-1", "applicant")))
    assert after.state == before.state == "awaiting_unit_review"
    assert after.transitions == before.transitions


async def test_return_for_revision_voids_approvals_already_given(stack: Stack) -> None:
    prepared = await _prepared(stack)
    async with stack.running():
        await start_call(stack.client, prepared, stack.task_queue)
        app = await start_application(stack.client, application_input(prepared, "r1"), stack.task_queue)
        await sleep_until(stack.env, opens(prepared, "application") + hours(1))
        await act(app, "submit", "applicant")
        await act(app, "approve", "unit_admin", reason="同意推荐")
        assert await state(app) == "awaiting_organiser_review"
        returned = await act(app, "return", "recommender", reason="预算说明不全")
        assert (returned.dest, returned.reason) == ("returned", "预算说明不全")
        await act(app, "resubmit", "applicant", reason="补充预算说明")
        assert await state(app) == "awaiting_unit_review"
        await refused(act(app, "approve", "recommender"), "awaiting_unit_review")
        await act(app, "approve", "unit_admin", reason="同意推荐")
        await act(app, "approve", "recommender")
        status = await app.query(ApplicationWorkflow.status)
    assert status.state == "accepted"
    assert [(t.trigger, t.role) for t in status.transitions] == [
        ("submit", "applicant"), ("approve", "unit_admin"), ("return", "recommender"),
        ("resubmit", "applicant"), ("approve", "unit_admin"), ("approve", "recommender")]


def test_paper_is_received_until_17_29_59_999_on_the_last_day_and_refused_at_17_30() -> None:
    prepared = prepare(load_call(CALL_000))
    carried = ApplicationState(state="accepted", receipt="p1/1", content_sha256="ab" * 32)
    workflow = ApplicationWorkflow(application_input(prepared, "p1", carried=carried))
    workflow.paper_receipts = True  # what run() sets for a new execution (the "paper-receipts" patch)
    paper = ActRequest("receive_paper", "agency-1", "agency", data={"receipt": "p1/1", "content_sha256": "ab" * 32},
                       identity=in_process("agency-1", "agency"))
    last = prepared.timetable.get("paper").closes
    assert last is not None and last.isoformat() == "2025-04-16T17:30:00+08:00"
    assert workflow._refusal(paper, last - MS) is None
    assert (workflow._refusal(paper, last) or "").startswith("deadline passed")
    assert "in its hours" in (workflow._refusal(paper, last - timedelta(days=1) + timedelta(hours=1)) or "")
    wrong = ActRequest("receive_paper", "agency-1", "agency", data={"receipt": "p1/0", "content_sha256": "ab" * 32},
                       identity=in_process("agency-1", "agency"))
    assert "does not match the online version" in (workflow._refusal(wrong, last - hours(2)) or "")


async def test_a_unit_over_its_recommendation_quota_is_refused_until_a_place_is_freed(stack: Stack) -> None:
    data = load_call(CALL_000).model_dump()
    data["quotas"] = [{"step": "unit_review", "max": 1}]
    prepared = prepare(CallDefinition.model_validate(data), not_before=await stack.env.get_current_time())
    async with stack.running():
        await start_call(stack.client, prepared, stack.task_queue)
        first = await start_application(stack.client, application_input(prepared, "q1"), stack.task_queue)
        second = await start_application(stack.client, application_input(prepared, "q2"), stack.task_queue)
        await sleep_until(stack.env, opens(prepared, "application") + hours(1))
        for app in (first, second):
            await act(app, "submit", "applicant")
        await act(first, "approve", "unit_admin", reason="推荐")
        await refused(act(second, "approve", "unit_admin", reason="推荐"), "quota unit_review (a count, each recommender): limit 1, used 1")
        assert await state(second) == "awaiting_unit_review"
        await act(first, "withdraw", "applicant", reason="不再申报")
        await act(second, "approve", "unit_admin", reason="推荐")
        assert await state(second) == "awaiting_organiser_review"


async def test_a_late_submission_to_a_closed_application_says_which_deadline_passed(stack: Stack) -> None:
    prepared = await _prepared(stack)
    deadline = _deadline(prepared)
    async with stack.running():
        await start_call(stack.client, prepared, stack.task_queue)
        app = await start_application(stack.client, application_input(prepared, "late1"), stack.task_queue)
        await sleep_until(stack.env, deadline + hours(1))
        with stack.env.auto_time_skipping_disabled():
            await app.result()
        with pytest.raises(Refusal) as raised:
            await act_on(stack.client, "late1", ActRequest("submit", "pi-1", "applicant"))
    assert str(raised.value) == (
        f"deadline passed: application late1 closed at {deadline.astimezone(prepared.definition.zone).isoformat()} "
        "(application: phase application's close) and is closed_unsubmitted; submit is no longer possible")


async def test_an_extension_for_one_application_never_binds_before_a_later_call_wide_one(stack: Stack) -> None:
    prepared = await _prepared(stack)
    deadline = _deadline(prepared)
    own, everyone = deadline + timedelta(days=1), deadline + timedelta(days=3)
    async with stack.running():
        call = await start_call(stack.client, prepared, stack.task_queue)
        app = await start_application(stack.client, application_input(prepared, "v1"), stack.task_queue)
        await sleep_until(stack.env, deadline - hours(3))
        who = in_process("pm-1", "manager")
        await app.execute_update(ApplicationWorkflow.extend_deadline,
                                 ExtendRequest("application", own, "pm-1", "manager", "材料补正", who))
        await manage(call, CallWorkflow.extend_deadline,
                     ExtendRequest("application", everyone, "pm-1", "manager", "全省停电", who))
        assert (await app.query(ApplicationWorkflow.status)).deadlines["application"] == everyone
        await sleep_until(stack.env, own + hours(1))  # past its own extension, before everyone's close
        assert await state(app) == "draft"
        await act(app, "submit", "applicant")
        assert await state(app) == "awaiting_unit_review"
        explained = {e.window: e for e in explain(await call.query(CallWorkflow.definition),
                                                  await call.query(CallWorkflow.status),
                                                  await app.query(ApplicationWorkflow.status))}
    assert explained["application"].effective == everyone
    assert "later than this application's own extension" in explained["application"].facts[-1]


async def test_a_wake_that_does_not_move_keeps_its_one_timer_and_the_close_still_comes(stack: Stack) -> None:
    """Signals that wake a draft without moving its next wake (its first reminder) start no timer and cancel none:
    the run loop keeps the one it has, where a wait with a timeout replaced it every time. Each later wake (the
    reminders, then the backstop after the window's bulk close) gets one timer; the closure still comes at the
    deadline, and the history replays."""
    prepared = await _prepared(stack)
    async with stack.running():
        await start_call(stack.client, prepared, stack.task_queue)
        app = await start_application(stack.client, application_input(prepared, "w1"), stack.task_queue)
        await sleep_until(stack.env, opens(prepared, "application") + hours(1))
        for _ in range(3):
            await app.signal(ApplicationWorkflow.window_closed, "paper")
        assert await state(app) == "draft"
        await sleep_until(stack.env, _deadline(prepared) + hours(1))
        with stack.env.auto_time_skipping_disabled():
            assert (await app.result()).state == "closed_unsubmitted"
        history = await app.fetch_history()
    kinds = [EventType.Name(e.event_type).removeprefix("EVENT_TYPE_") for e in history.events]
    woken = kinds.index("WORKFLOW_EXECUTION_SIGNALED")
    rang = kinds.index("TIMER_FIRED")  # the first reminder: the wake moves to the next
    assert kinds[woken:rang].count("WORKFLOW_EXECUTION_SIGNALED") == 3
    assert kinds[:woken].count("TIMER_STARTED") == 1 and "TIMER_STARTED" not in kinds[woken:rang]
    assert "TIMER_CANCELED" not in kinds
    assert kinds.count("TIMER_STARTED") == kinds.count("TIMER_FIRED") + 1  # one timer per instant, the last pending
    await replayer().replay_workflow(history)
