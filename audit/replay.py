"""Replay histories with `temporalio.worker.Replayer` against the current code; name where each one diverges."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable, Sequence

from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import WorkflowHistory
from temporalio.worker import Interceptor, Replayer

from audit.findings import Finding, Result
from audit.history import Execution, kind
from infra.runtime import quiet_runtime
from infra.temporal import DATA_CONVERTER
from worker import WORKFLOWS, sandbox_runner

EVENT_IN_MESSAGE = re.compile(r"event_id: (\d+)|HistoryEvent\(id: (\d+)|event id (\d+)", re.IGNORECASE)
CORE_MESSAGE = re.compile(r'message: "((?:[^"\\]|\\.)*)"')
COMMAND_EVENTS = {
    "MARKER_RECORDED", "TIMER_STARTED", "TIMER_CANCELED", "ACTIVITY_TASK_SCHEDULED", "ACTIVITY_TASK_CANCEL_REQUESTED",
    "WORKFLOW_EXECUTION_UPDATE_ACCEPTED", "WORKFLOW_EXECUTION_UPDATE_COMPLETED", "WORKFLOW_EXECUTION_COMPLETED",
    "WORKFLOW_EXECUTION_FAILED", "WORKFLOW_EXECUTION_CONTINUED_AS_NEW", "UPSERT_WORKFLOW_SEARCH_ATTRIBUTES",
    "WORKFLOW_PROPERTIES_MODIFIED", "START_CHILD_WORKFLOW_EXECUTION_INITIATED",
    "SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED", "REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED",
}


def replayer(workflows: Sequence[type] = WORKFLOWS, interceptors: Sequence[Interceptor] = ()) -> Replayer:
    """A replayer configured as the worker is (workflows, sandbox, data converter)."""
    return Replayer(workflows=list(workflows), workflow_runner=sandbox_runner(), data_converter=DATA_CONVERTER,
                    interceptors=list(interceptors), runtime=quiet_runtime())


def task_ends(events: Sequence[HistoryEvent]) -> list[tuple[int, int]]:
    """For each completed workflow task: the index of its completion, and the index just past its commands
    (where a history can be cut)."""
    ends = []
    for i, e in enumerate(events):
        if kind(e) == "WORKFLOW_TASK_COMPLETED":
            j = i + 1
            while j < len(events) and kind(events[j]) in COMMAND_EVENTS:
                j += 1
            ends.append((i, j))
    return ends


def brief(failure: str) -> str:
    """The SDK core's own message out of a replay failure's debug dump, or the failure as it is."""
    found = CORE_MESSAGE.search(failure)
    return found.group(1) if found else failure


async def _fails(workflows: Sequence[type], history: WorkflowHistory) -> bool:
    result = await replayer(workflows).replay_workflow(history, raise_on_replay_failure=False)
    return result.replay_failure is not None


async def divergence(workflows: Sequence[type], history: WorkflowHistory, message: str) -> int | None:
    """The event at which the current code departs from `history`: named in the SDK's message, or else the
    completion of the first workflow task whose replay fails (found by bisection over task boundaries)."""
    named = EVENT_IN_MESSAGE.search(message)
    if named:
        return int(next(g for g in named.groups() if g))
    ends = task_ends(history.events)
    lo, hi = 0, len(ends)  # the first failing prefix is ends[k] for some k in [lo, hi)
    while lo < hi:
        mid = (lo + hi) // 2
        if await _fails(workflows, WorkflowHistory(history.workflow_id, history.events[:ends[mid][1]])):
            hi = mid
        else:
            lo = mid + 1
    return int(history.events[ends[lo][0]].event_id) if lo < len(ends) else None


async def replay_all(executions: Sequence[Execution], workflows: Sequence[type] = WORKFLOWS,
                     progress: Callable[[Execution], None] | None = None) -> Result:
    """Replay every run of every execution; each run that no longer replays is a `replay` finding."""
    owner = {id(run): ex for ex in executions for run in ex.runs}
    done: dict[str, int] = {}
    failed: list[tuple[Execution, WorkflowHistory, str]] = []

    async def histories() -> AsyncIterator[WorkflowHistory]:
        for ex in executions:
            for run in ex.runs:
                yield run

    async with replayer(workflows).workflow_replay_iterator(histories()) as results:
        async for r in results:
            ex = owner[id(r.history)]
            if r.replay_failure is not None:
                failed.append((ex, r.history, str(r.replay_failure)))
            done[ex.workflow_id] = done.get(ex.workflow_id, 0) + 1
            if progress is not None and done[ex.workflow_id] == len(ex.runs):
                progress(ex)
    findings = [Finding("replay", ex.workflow_id, await divergence(workflows, run, why),
                        f"run {run.run_id} no longer replays with the current code: {brief(why)}")
                for ex, run, why in failed]
    return Result(len(executions), sum(e.events for e in executions), findings)
