"""Preparing calls for Temporal: definition + calendar + timetable, translation in time, starting workflows."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from temporalio.client import Client, WorkflowHandle, WorkflowQueryFailedError, WorkflowUpdateFailedError
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.service import RPCError, RPCStatusCode

from models.call import CallDefinition
from models.holidays import build_calendar, whole_weeks
from models.instants import local
from models.messages import (
    ActRequest,
    ApplicationInput,
    ApplicationStatus,
    CallEvent,
    CallInput,
    CallStatus,
    TransitionRecord,
    application_workflow_id,
    call_workflow_id,
)
from models.timetable import Timetable
from workflows.application import ApplicationWorkflow
from workflows.call import CallWorkflow


def _shift(node: Any, delta: timedelta) -> Any:
    if isinstance(node, datetime):
        return node + delta
    if isinstance(node, dict):
        return {k: _shift(v, delta) for k, v in node.items()}
    if isinstance(node, list):
        return [_shift(v, delta) for v in node]
    return node


def translate(call: CallDefinition, days: int) -> CallDefinition:
    """The same call moved by whole weeks: wall-clock times and weekdays stay, as a rehearsal of it."""
    if days % 7:
        raise ValueError("a call can only be translated by whole weeks")
    data = _shift(call.model_dump(), timedelta(days=days))
    data["calendar"] = []  # the translated call carries its translated calendar (see prepare)
    return CallDefinition.model_validate(data)


@dataclass
class Prepared:
    definition: CallDefinition
    input: CallInput
    shift_days: int

    @property
    def timetable(self) -> Timetable:
        return self.input.timetable


def open_now_shift(call: CallDefinition, at: datetime) -> int | None:
    """Whole weeks that put `at` inside the call's first window, for a rehearsal that is open at once: 0 when the
    window has not closed yet, None when it has no dated opening and close or is too short for a whole week to land
    in it."""
    first = call.phases[0]
    if not (isinstance(first.opens, datetime) and isinstance(first.closes, datetime)):
        return None
    if at < first.closes:
        return 0
    days = (at - first.opens).days // 7 * 7
    return days if first.opens + timedelta(days=days) <= at < first.closes + timedelta(days=days) else None


def prepare(call: CallDefinition, not_before: datetime | None = None, open_at: datetime | None = None) -> Prepared:
    """Calendar and timetable for `call`; with `not_before`, translated so its first instant falls after it; with
    `open_at`, so that its first window is open at that instant (or, when no whole week lands there, after it)."""
    days = open_now_shift(call, open_at) if open_at is not None else None
    if open_at is not None and days is None:
        not_before = open_at
    anchor = open_at or not_before
    calendar = build_calendar(call, as_of=anchor.astimezone(call.zone).date() if anchor else None)
    if days is None:
        days = 0
        instants = call.dated_instants()
        if not_before is not None and instants and min(instants) <= not_before:
            days = whole_weeks(not_before - min(instants) + timedelta(days=1))
    if days:
        call, calendar = translate(call, days), calendar.shifted(days)
    return Prepared(call, CallInput(call, calendar, Timetable.from_definition(call, calendar)), days)


async def start_call(client: Client, prepared: Prepared, task_queue: str) -> WorkflowHandle[CallWorkflow, Any]:
    return await client.start_workflow(
        CallWorkflow.run, prepared.input, id=call_workflow_id(prepared.definition.id), task_queue=task_queue,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
    )


async def start_application(client: Client, inp: ApplicationInput,
                            task_queue: str) -> WorkflowHandle[ApplicationWorkflow, Any]:
    return await client.start_workflow(
        ApplicationWorkflow.run, inp, id=application_workflow_id(inp.application_id), task_queue=task_queue,
    )


async def manage(handle: WorkflowHandle[Any, Any], update: Any, request: Any, poll_s: float = 0.05) -> CallEvent:
    """Run a programme manager's update on a call, then wait until the change is published and broadcast."""
    try:
        event: CallEvent = await handle.execute_update(update, request)
    except RPCError as exc:
        # The time-skipping test server forgets an update's outcome once the workflow it finished has closed.
        if exc.status != RPCStatusCode.NOT_FOUND:
            raise
        status: CallStatus = await ask(handle, CallWorkflow.status)
        if status.timetable.finished():
            return status.events[-1]
        raise
    while (await ask(handle, CallWorkflow.status)).published_seq < event.seq:
        await asyncio.sleep(poll_s)
    return event


async def ask(handle: WorkflowHandle[Any, Any], query: Any, attempts: int = 5, pause_s: float = 1.0) -> Any:
    """Run `query` on a workflow. One a busy worker did not answer is asked again, after a pause that grows by
    `pause_s` each time (a workflow task that failed is retried by the server first); a query changes nothing."""
    for attempt in range(1, attempts):
        try:
            return await handle.query(query)
        except (RPCError, WorkflowQueryFailedError) as exc:
            if not unanswered(exc.message):
                raise
        await asyncio.sleep(pause_s * attempt)
    return await handle.query(query)


def unanswered(message: str) -> bool:
    """Whether a query failed for want of a worker's time, not for what it asked: it ran out of time ("Timeout
    expired", "Query deadline of … exceeded": a closed or evicted workflow is replayed to answer), or the replay
    was starved past the SDK's 2-s deadlock detection (TMPRL1101), as a 10,000-application worker on 2 cores was.
    Queries to workflows whose task had just failed so came back as "h2 protocol error" in the 10,000-application
    lifecycle on the time-skipping server: most likely the failure's stack trace in the gRPC status, over the
    client's 16 KiB header limit (as with the clock skip in `simulation.run.skip_until`)."""
    return ("Timeout expired" in message or ("deadline" in message and "exceeded" in message)
            or "TMPRL1101" in message or "h2 protocol error" in message)


class Refusal(Exception):
    """A change grantflow refused; the message says what was wrong."""


async def act_on(client: Client, application_id: str, request: ActRequest) -> TransitionRecord:
    """Send one event to an application; every refusal becomes a Refusal with a one-line reason."""
    handle = client.get_workflow_handle(application_workflow_id(application_id))
    try:
        record: TransitionRecord = await handle.execute_update(ApplicationWorkflow.act, request)
        return record
    except WorkflowUpdateFailedError as exc:
        cause = exc.cause
        raise Refusal(str(getattr(cause, "message", None) or cause or exc)) from None
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            raise Refusal(await _why_closed(handle, application_id, request)) from None
        raise


async def _why_closed(handle: WorkflowHandle[Any, Any], application_id: str, request: ActRequest) -> str:
    """Why a request reached no running application: unknown, or closed - by the deadline that passed, when a
    deadline closed it (the instant, and the rule that made it bind)."""
    try:
        status: ApplicationStatus = await handle.query(ApplicationWorkflow.status)
    except (RPCError, WorkflowQueryFailedError):
        return f"application {application_id} is unknown"
    last = status.transitions[-1] if status.transitions else None
    if last is None or last.role != "system" or last.deadline is None:
        return f"application {application_id} is {status.state} and closed: nothing can {request.trigger} it now"
    zone = ZoneInfo(status.timezone)
    window = next((k for k, v in status.deadlines.items() if v == last.deadline), None)
    rule = status.binding.get(window, "") if window else ""
    return (f"deadline passed: application {application_id} closed at {local(zone, last.deadline)} "
            f"({window or 'its window'}{': ' + rule if rule else ''}) and is {status.state}; "
            f"{request.trigger} is no longer possible")
