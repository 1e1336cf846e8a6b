"""Reminders, overdue notices and escalations on the time-skipping server; working-day deadlines over holidays."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from client.calls import manage, prepare, start_application, start_call
from models.call import CallDefinition, load_call
from records.tables import NoticeRow
from tests.conftest import CALLS, Stack
from tests.helpers import MANAGER, PEOPLE, act, application_input, closes, hours, sleep_until, state
from workflows.application import ApplicationWorkflow
from workflows.call import CallWorkflow

CALL_000 = CALLS / "000-sx-2025-basic-research-geology.yaml"
CALL_003 = CALLS / "003-sx-2017-key-rd-general.yaml"
CALL_004 = CALLS / "004-gx-key-rd-heavy-metal.yaml"
DAY = timedelta(days=1)


def _sent(stack: Stack, application_id: str) -> list[tuple[str, str]]:
    """(kind, recipient) of every reminder-like notice an application sent, in order."""
    with Session(stack.engine) as s:
        rows = s.exec(select(NoticeRow).where(NoticeRow.application_id == application_id,
                                              NoticeRow.kind != "transition").order_by(col(NoticeRow.created_at))).all()
    return [(r.kind, r.recipient) for r in rows]


def _near(actual: datetime, expected: datetime) -> bool:
    return timedelta(0) <= actual - expected < timedelta(minutes=1)


async def test_reminders_reach_whoever_must_act_and_stop_once_they_acted(stack: Stack) -> None:
    prepared = prepare(load_call(CALL_000), not_before=await stack.env.get_current_time())
    deadline, review = closes(prepared, "application"), closes(prepared, "recommendation")
    async with stack.running():
        await start_call(stack.client, prepared, stack.task_queue)
        app = await start_application(stack.client, application_input(prepared, "m1"), stack.task_queue)
        await sleep_until(stack.env, deadline - 2 * DAY)
        await act(app, "submit", "applicant")
        await sleep_until(stack.env, review - 2 * DAY)
        await act(app, "approve", "unit_admin", reason="同意")
        await sleep_until(stack.env, review - 1.5 * DAY)
        await act(app, "approve", "recommender", reason="推荐")
        await sleep_until(stack.env, review + DAY)
        status = await app.query(ApplicationWorkflow.status)
    sent = [(r.kind, r.roles, r.state) for r in status.reminders]
    assert sent == [("reminder", ["applicant"], "draft"), ("reminder", ["applicant"], "draft"),
                    ("reminder", ["unit_admin"], "awaiting_unit_review")]
    expected = [deadline - 7 * DAY, deadline - 3 * DAY, review - 3 * DAY]
    assert all(_near(r.at, at) for r, at in zip(status.reminders, expected)), [r.at for r in status.reminders]
    assert _sent(stack, "m1") == [("reminder", "applicant:pi-1"), ("reminder", "applicant:pi-1"),
                                  ("reminder", "unit_admin:unit-1")]
    assert status.state == "accepted"


def _with_service_step(call: CallDefinition) -> CallDefinition:
    """000 with its unit review turned into a 3-working-day service deadline that escalates when missed."""
    data = call.model_dump()
    data["chain"][0] |= {"deadline": {"working_days": 3}, "overdue": "escalate"}
    return CallDefinition.model_validate(data)


async def test_a_missed_service_deadline_is_overdue_then_escalated_and_late_action_still_counts(stack: Stack) -> None:
    call = _with_service_step(load_call(CALL_000))
    prepared = prepare(call, not_before=await stack.env.get_current_time())
    calendar, zone = prepared.input.calendar, call.zone
    async with stack.running():
        await start_call(stack.client, prepared, stack.task_queue)
        app = await start_application(stack.client, application_input(prepared, "e1"), stack.task_queue)
        await sleep_until(stack.env, closes(prepared, "application") - 10 * DAY)
        submitted = await act(app, "submit", "applicant")
        due = calendar.end_after_working_days(submitted.at, 3, zone)
        escalation = calendar.end_after_working_days(due - timedelta(microseconds=1), 2, zone)
        assert (await app.query(ApplicationWorkflow.status)).deadlines["step:unit_review"] == due
        await sleep_until(stack.env, escalation + hours(1))
        assert await state(app) == "awaiting_unit_review"
        late = await act(app, "approve", "unit_admin", reason="补办")
        await sleep_until(stack.env, escalation + 3 * DAY)
        status = await app.query(ApplicationWorkflow.status)
    assert late.deadline is None and late.dest == "awaiting_organiser_review"
    in_review = [r for r in status.reminders if r.state == "awaiting_unit_review"]
    assert [(r.kind, r.roles) for r in in_review][-2:] == [("overdue", ["unit_admin"]), ("escalation", ["manager"])]
    overdue, escalated = in_review[-2:]
    assert _near(overdue.at, due) and _near(escalated.at, escalation)
    assert ("escalation", f"manager:{call.id}") in _sent(stack, "e1")
    assert all(r.state != "awaiting_organiser_review" or r.kind == "reminder" for r in status.reminders)


def _workflow_for_004() -> ApplicationWorkflow:
    call = load_call(CALL_004)
    prepared = prepare(call, not_before=datetime(2026, 2, 1, tzinfo=call.zone))  # its calendar covers 2026
    inp = application_input(prepared, "g1", people=dict(PEOPLE))
    return ApplicationWorkflow(inp)


def test_the_agency_check_deadline_moves_over_the_spring_festival() -> None:
    """Entered Friday 2026-02-13: working days after it are Sat 02-14 (make-up), then 02-24..27 after the holiday
    of 02-15..23; the fifth ends at 24:00 on 02-27 (weekends-only counting would say 02-20)."""
    workflow = _workflow_for_004()
    entry = workflow.deadlines.entry_deadline("awaiting_agency_check", datetime(2026, 2, 13, 10, 0, tzinfo=workflow.zone))
    assert entry == ("agency_check", datetime(2026, 2, 28, 0, 0, tzinfo=workflow.zone))


def test_the_agency_check_deadline_counts_a_make_up_saturday() -> None:
    """Entered Wednesday 2026-09-30, before National Day (10-01..07): 10-08, 10-09, Sat 10-10 (make-up), 10-12,
    10-13; the fifth ends at 24:00 on 10-13 (without the make-up Saturday it would be 10-14)."""
    workflow = _workflow_for_004()
    entry = workflow.deadlines.entry_deadline("awaiting_agency_check", datetime(2026, 9, 30, 10, 0, tzinfo=workflow.zone))
    assert entry == ("agency_check", datetime(2026, 10, 14, 0, 0, tzinfo=workflow.zone))


async def test_closing_a_manual_window_sends_no_reminder_after_it(stack: Stack) -> None:
    """003's application window opens and closes by hand: its close is known only when it comes, so every reminder
    before it is past by then; none is sent at (or after) the deadline it would announce."""
    prepared = prepare(load_call(CALL_003), not_before=await stack.env.get_current_time())
    async with stack.running():
        call = await start_call(stack.client, prepared, stack.task_queue)
        await manage(call, CallWorkflow.advance_phase, MANAGER)
        app = await start_application(stack.client, application_input(prepared, "manual"), stack.task_queue)
        await stack.env.sleep(10 * DAY)
        closed = await manage(call, CallWorkflow.close_phase, MANAGER)
        await stack.env.sleep(hours(1))
        assert await state(app) == "closed_unsubmitted"
        status = await app.query(ApplicationWorkflow.status)
    assert closed.kind == "closed"
    assert status.reminders == []
    assert _sent(stack, "manual") == []
