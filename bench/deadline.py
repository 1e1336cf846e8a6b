"""Figure 2, deadline: open applications (drafts and in the chain) all settled by one instant, against no-op
workflows that take the same updates and wake at the same kind of instant.

Times come from the data itself: the records DB's `updated_at` and `delivered_at`, and the executions'
close times in visibility; polling only says when to look. Late changes are fired at and after the instant, on
both sides: one workflow in ten gets a request then. Grantflow's come as people's do, through the service layer
the API and the CLI share (its lockout refuses from the records what it can; the rest reach the validator), and
must be refused; the no-op takes its update or is already closed.
"""

from __future__ import annotations

import contextlib
import re
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

from sqlmodel import Session, col, func, select
from temporalio.client import RPCTimeoutOrCancelledError
from temporalio.service import RPCError

from bench.baseline import NoopInput, NoopWorkflow
from bench.call import bench_call, chain_steps
from bench.harness import Bench, settle, sleep_until, utcnow
from bench.intake import baseline_chain, grantflow_chain
from client.calls import start_call
from client.errors import Conflict
from client.service import Service
from client.tokens import TokenConfig
from models.identity import in_process
from models.lifecycle import TERMINAL
from models.messages import ApplicationStatus
from records.tables import ApplicationRow, ClosureReportRow, NoticeRow, TransitionRow

MIX = (0, 0, 1, 2)  # changes made before the deadline, by application index: half drafts, half in the chain
LATE_EVERY = 10  # one application in ten tries a change at or after the instant
SAFETY = 2.5  # the set-up pace varies with load; an overrun would void the figure
MARGIN_S = 30.0
LOCKED = re.compile(r"call \S+ is locked: | and its record is ")  # client/lockouts.py's refusals


@dataclass
class Deadline:
    applications: int
    in_chain: int
    instant: datetime
    setup_s: float
    closed_s: float  # instant -> every application closed in the records DB and its notices delivered
    records_closed_s: float  # instant -> the last application row closed in the records DB
    notices_out_s: float  # instant -> the last closing notice handed to the channel
    workflows_closed_s: float  # instant -> every application workflow closed, i.e. caught up with its record
    inconsistent: int  # application workflows whose final state is not their record's
    closure_report_s: float  # instant -> the call's closure report stored
    baseline_setup_s: float
    baseline_closed_s: float  # instant -> every no-op workflow closed
    late_attempts: int
    late_refused: int
    late_refused_by_lockout: int  # of late_refused: by the interface's lockout, before any workflow was asked
    late_failed: int
    late_changes_accepted: int
    open_left: int
    notices_delivered: int
    application_ids: list[str]
    baseline_ids: list[str]


def changes(i: int) -> int:
    return MIX[i % len(MIX)]


def instant_after(operations: int, seconds_per_operation: float) -> datetime:
    """A deadline far enough ahead for `operations` requests at the measured pace, on a whole second."""
    ahead = operations * seconds_per_operation * SAFETY + MARGIN_S
    return (utcnow() + timedelta(seconds=ahead)).replace(microsecond=0) + timedelta(seconds=1)


def operations(n: int) -> int:
    return sum(1 + changes(i) for i in range(n))


async def closed_at(b: Bench, query: str, expected: int) -> datetime:
    """Wait until no execution matching `query` runs, then the latest close time among them."""
    async def none_running() -> bool:
        running = await b.client.count_workflows(f"{query} AND ExecutionStatus = 'Running'")
        return running.count == 0 and (await b.client.count_workflows(query)).count >= expected
    await settle(none_running, limit_s=600 + expected * 0.2, poll_s=0.5)
    latest = [w.close_time async for w in b.client.list_workflows(query) if w.close_time is not None]
    return max(latest)


async def baseline_deadline(b: Bench, n: int, seconds_per_operation: float) -> tuple[float, float, list[str]]:
    queue = b.task_queue("deadline-baseline")
    instant = instant_after(operations(n), seconds_per_operation)
    prefix = f"noop-deadline-{instant:%H%M%S}"
    async with b.baseline(queue):
        started = time.perf_counter()
        await b.fan_out([partial(baseline_chain, b, prefix, queue, i, changes(i), NoopInput(instant))
                         for i in range(n)])
        setup_s = time.perf_counter() - started
        if utcnow() >= instant:
            raise RuntimeError(f"baseline set-up ran past its deadline ({setup_s:.0f} s)")
        await sleep_until(instant)
        with b.profiling("deadline-baseline"):
            await b.fan_out([partial(baseline_late_attempt, b, prefix, i) for i in range(0, n, LATE_EVERY)])
            last = await closed_at(b, f"TaskQueue = '{queue}'", n)
    return setup_s, (last - instant).total_seconds(), [f"{prefix}.{i:05d}" for i in range(n)]


async def baseline_late_attempt(b: Bench, prefix: str, i: int) -> None:
    """`late_attempt`'s counterpart: the same update request at the same moment, to a no-op workflow, which takes it
    or is already closed. Its outcome is no figure; the load it puts on the server while the baseline closes is."""
    trigger, _ = chain_steps()[changes(i)]
    with contextlib.suppress(RPCError, RPCTimeoutOrCancelledError):
        await b.client.get_workflow_handle(f"{prefix}.{i:05d}").execute_update(NoopWorkflow.change, trigger)


async def late_attempt(b: Bench, service: Service, call_id: str, i: int) -> str:
    """One change the deadline must refuse (a draft's submit, or the next approval in the chain), through the
    service layer: accepted, locked (refused from the records: the call's lockout, or the application's finished
    record), refused (by the workflow: its validator, or a closed workflow's answer) or failed (any other error,
    or no answer in time: the worker is busy closing; a late acceptance would still show in the records, which are
    checked)."""
    trigger, role = chain_steps()[changes(i)]
    try:
        await service.act(in_process(f"{role}-{i}", role), f"{call_id}.{i:05d}", trigger, role=role)
        return "accepted"
    except Conflict as refused:
        return "locked" if LOCKED.search(str(refused)) else "refused"
    except (RPCError, RPCTimeoutOrCancelledError):
        return "failed"


async def deadline(b: Bench, n: int, seconds_per_operation: float, baseline_seconds_per_operation: float) -> Deadline:
    """Both sides on their own instant, each far enough ahead for its set-up at its own measured pace."""
    baseline_setup_s, baseline_closed_s, baseline_ids = await baseline_deadline(b, n, baseline_seconds_per_operation)
    now = utcnow()
    instant = instant_after(operations(n), seconds_per_operation)
    prepared = bench_call(f"bench-deadline-{instant:%H%M%S}", now - timedelta(minutes=1), instant)
    call_id = prepared.definition.id
    queue = b.task_queue("deadline")
    async with b.grantflow(queue):
        await start_call(b.client, prepared, queue)
        started = time.perf_counter()
        await b.fan_out([partial(grantflow_chain, b, prepared, queue, i, changes(i)) for i in range(n)])
        setup_s = time.perf_counter() - started
        if utcnow() >= instant:
            raise RuntimeError(f"set-up ran past the deadline ({setup_s:.0f} s): lower --concurrency or N")
        await sleep_until(instant)
        service = Service(b.client, b.engine, queue, TokenConfig(secrets.token_bytes(32), timedelta(hours=1)),
                          Path("var"))
        with b.profiling("deadline"):
            late = await b.fan_out([partial(late_attempt, b, service, call_id, i) for i in range(0, n, LATE_EVERY)])
            await settle(lambda: records_settled(b, call_id, instant, n), limit_s=600 + n * 0.2)
        with b.profiling("deadline-catch-up"):
            workflows_last = await closed_at(b, f"TaskQueue = '{queue}' AND WorkflowType = 'ApplicationWorkflow'", n)
        report_at = await closure_report(b, call_id)
        finals = await b.fan_out([partial(final_state, b, call_id, i) for i in range(n)])
    with Session(b.engine) as s:
        rows_last = s.exec(select(func.max(ApplicationRow.updated_at)).where(ApplicationRow.call_id == call_id)).one()
        notices_last, delivered = s.exec(select(func.max(NoticeRow.delivered_at), func.count()).where(
            *closing_notices(call_id, instant))).one()
        open_left = s.exec(select(func.count()).select_from(ApplicationRow).where(
            ApplicationRow.call_id == call_id, col(ApplicationRow.state).not_in(TERMINAL))).one()
        late_rows = set(s.exec(select(TransitionRow.application_id).where(
            TransitionRow.call_id == call_id, TransitionRow.role != "system", TransitionRow.at >= instant)).all())
        recorded = dict(s.exec(select(ApplicationRow.id, ApplicationRow.state).where(
            ApplicationRow.call_id == call_id)).all())
    accepted = {f"{call_id}.{i:05d}" for i, outcome in zip(range(0, n, LATE_EVERY), late) if outcome == "accepted"}
    last = max(rows_last, notices_last or rows_last)
    return Deadline(
        applications=n, in_chain=sum(1 for i in range(n) if changes(i)), instant=instant, setup_s=setup_s,
        closed_s=(last - instant).total_seconds(), records_closed_s=(rows_last - instant).total_seconds(),
        notices_out_s=((notices_last or rows_last) - instant).total_seconds(),
        inconsistent=sum(recorded.get(f"{call_id}.{i:05d}") != state for i, state in enumerate(finals)),
        workflows_closed_s=(workflows_last - instant).total_seconds(),
        closure_report_s=(report_at - instant).total_seconds(),
        baseline_setup_s=baseline_setup_s, baseline_closed_s=baseline_closed_s,
        late_attempts=len(late), late_refused=late.count("refused") + late.count("locked"),
        late_refused_by_lockout=late.count("locked"), late_failed=late.count("failed"),
        late_changes_accepted=len(late_rows | accepted),
        open_left=open_left, notices_delivered=delivered,
        application_ids=[f"application-{call_id}.{i:05d}" for i in range(n)], baseline_ids=baseline_ids,
    )


async def final_state(b: Bench, call_id: str, i: int) -> str:
    """The state a closed application workflow returned (its result, from the history)."""
    handle = b.client.get_workflow_handle(f"application-{call_id}.{i:05d}", result_type=ApplicationStatus)
    return str((await b.patiently(handle.result)).state)


def closing_notices(call_id: str, instant: datetime) -> tuple[Any, ...]:
    return (NoticeRow.call_id == call_id, col(NoticeRow.application_id).is_not(None), NoticeRow.created_at >= instant)


async def records_settled(b: Bench, call_id: str, instant: datetime, n: int) -> bool:
    """Every application has its closing transition recorded and no notice of it waits for delivery."""
    with Session(b.engine) as s:
        closing = s.exec(select(func.count()).select_from(TransitionRow).where(
            TransitionRow.call_id == call_id, TransitionRow.role == "system", TransitionRow.deadline == instant)).one()
        waiting = s.exec(select(func.count()).select_from(NoticeRow).where(
            *closing_notices(call_id, instant), col(NoticeRow.delivered_at).is_(None))).one()
    return bool(closing >= n and waiting == 0)


async def closure_report(b: Bench, call_id: str) -> datetime:
    async def stored() -> bool:
        with Session(b.engine) as s:
            return s.exec(select(ClosureReportRow.id).where(ClosureReportRow.call_id == call_id)).first() is not None
    await settle(stored, limit_s=600)
    with Session(b.engine) as s:
        return s.exec(select(ClosureReportRow.settled_at).where(ClosureReportRow.call_id == call_id)).one()
