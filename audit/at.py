"""`audit at`: an application as it was at an instant, rebuilt by replaying its history up to that instant.

The history is cut after the last workflow task completed at or before the instant. The cut is replayed with the
current code (an interceptor keeps the workflow object, whose state is then read) and folded without any workflow
code (audit/life); the two must agree, and any difference is reported.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from temporalio import workflow
from temporalio.client import WorkflowHistory
from temporalio.worker import (
    ExecuteWorkflowInput,
    Interceptor,
    WorkflowInboundInterceptor,
    WorkflowInterceptorClassInput,
)

from audit.history import Execution, instant
from audit.life import ApplicationLife, application_life
from audit.replay import brief, divergence, replayer, task_ends
from worker import WORKFLOWS

KEPT: dict[str, Any] = {}  # run id -> the workflow object of the last replay of that run


class _Keep(WorkflowInboundInterceptor):
    async def execute_workflow(self, input: ExecuteWorkflowInput) -> Any:
        KEPT[workflow.info().run_id] = workflow.instance()
        return await super().execute_workflow(input)


class KeepInstances(Interceptor):
    """Keeps each replayed workflow object so that its state can be read once the replay has ended."""

    def workflow_interceptor_class(self, input: WorkflowInterceptorClassInput) -> type[WorkflowInboundInterceptor]:
        return _Keep


@dataclass
class Replayed:
    """The state the current code holds after replaying the cut history."""

    state: str
    transitions: list[tuple[int, str, str]]  # (seq, trigger, dest)
    extensions: dict[str, datetime]
    step_deadlines: dict[str, datetime]
    formal_findings: list[str]
    timetable_seq: int


@dataclass
class AtResult:
    instant: datetime
    run_id: str
    last_event_id: int
    life: ApplicationLife  # the fold of the cut history
    replayed: Replayed | None
    replay_failure: str | None = None
    divergence_event: int | None = None
    disagreements: list[str] = field(default_factory=list)


def cut(runs: Sequence[WorkflowHistory], at: datetime) -> list[WorkflowHistory]:
    """The runs as they stood at `at`: later runs dropped, the current one cut after the commands of the last
    workflow task completed at or before `at`."""
    started = [r for r in runs if instant(r.events[0]) <= at]
    if not started:
        raise ValueError(f"{runs[0].workflow_id} did not exist yet at {at.isoformat()}")
    current = started[-1]
    ends = task_ends(current.events)
    reached = [end for done, end in ends if instant(current.events[done]) <= at]
    end = reached[-1] if reached else (ends[0][0] if ends else len(current.events))
    return [*started[:-1], WorkflowHistory(current.workflow_id, current.events[:end])]


def _replayed(instance: Any) -> Replayed:
    s = instance.s
    return Replayed(instance.model.state, [(t.seq, t.trigger, t.dest) for t in s.transitions], dict(s.extensions),
                    dict(s.step_deadlines), list(s.formal_findings), instance.timetable.seq)


def _disagreements(life: ApplicationLife, replayed: Replayed) -> list[str]:
    folded = Replayed(life.state, [(p.record.seq, p.record.trigger, p.record.dest) for p in life.transitions],
                      life.extensions, life.step_deadlines, life.formal_findings, life.timetable.seq)
    return [f"{name}: the history says {getattr(folded, name)!r}, the replayed code holds {getattr(replayed, name)!r}"
            for name in Replayed.__dataclass_fields__ if getattr(folded, name) != getattr(replayed, name)]


async def application_at(execution: Execution, at: datetime, workflows: Sequence[type] = WORKFLOWS) -> AtResult:
    runs = cut(execution.runs, at)
    current = runs[-1]
    life = application_life(execution.workflow_id, runs)
    result = await replayer(workflows, [KeepInstances()]).replay_workflow(current, raise_on_replay_failure=False)
    instance = KEPT.pop(current.run_id, None)
    out = AtResult(at, current.run_id, int(current.events[-1].event_id), life,
                   _replayed(instance) if instance is not None else None)
    if result.replay_failure is not None:
        out.replay_failure = brief(str(result.replay_failure))
        out.divergence_event = await divergence(workflows, current, str(result.replay_failure))
    elif out.replayed is not None:
        out.disagreements = _disagreements(life, out.replayed)
    return out
