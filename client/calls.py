"""Calls and applications on Temporal: starting their workflows, managers' updates, queries, acting on an application.
A call is prepared (calendar, timetable, translation in time) in `client.preparation`."""

from __future__ import annotations

import asyncio
from typing import Any
from zoneinfo import ZoneInfo

from temporalio.client import Client, WorkflowHandle, WorkflowQueryFailedError, WorkflowUpdateFailedError
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.service import RPCError, RPCStatusCode

from client.preparation import Prepared as Prepared
from client.preparation import open_now_shift as open_now_shift
from client.preparation import prepare as prepare
from client.preparation import translate as translate
from models.instants import local
from models.messages import (
    ActRequest,
    ApplicationInput,
    ApplicationStatus,
    CallEvent,
    CallStatus,
    TransitionRecord,
    application_workflow_id,
    call_workflow_id,
)
from workflows.application import ApplicationWorkflow
from workflows.call import CallWorkflow


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
