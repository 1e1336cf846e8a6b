"""Figure 3, audit: histories and events replayed per second by grantflow's audit replay
(`audit.replay.replay_all`, what `grantflow audit replay` runs), against `Replayer` on the baseline's
histories of the same changes."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from functools import partial

from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer

from audit.history import fetch_execution
from audit.replay import replay_all
from bench.baseline import NoopWorkflow
from bench.harness import Bench
from infra.runtime import quiet_runtime
from infra.temporal import DATA_CONVERTER


@dataclass
class Replay:
    histories: int
    grantflow_events: int
    grantflow_s: float
    baseline_events: int
    baseline_s: float
    failures: int


async def each(histories: Sequence[WorkflowHistory]) -> AsyncIterator[WorkflowHistory]:
    for h in histories:
        yield h


async def replay(b: Bench, grantflow_ids: Sequence[str], baseline_ids: Sequence[str]) -> Replay:
    executions = await b.fan_out([partial(fetch_execution, b.client, w) for w in grantflow_ids])
    baseline = [e.runs[-1] for e in await b.fan_out([partial(fetch_execution, b.client, w) for w in baseline_ids])]
    started = time.perf_counter()
    audited = await replay_all(executions)
    grantflow_s = time.perf_counter() - started
    started = time.perf_counter()
    replayed = await Replayer(workflows=[NoopWorkflow], data_converter=DATA_CONVERTER,
                              runtime=quiet_runtime()).replay_workflows(each(baseline), raise_on_replay_failure=False)
    baseline_s = time.perf_counter() - started
    return Replay(
        histories=len(executions), grantflow_events=audited.events, grantflow_s=grantflow_s,
        baseline_events=sum(len(h.events) for h in baseline), baseline_s=baseline_s,
        failures=len(audited.findings) + len(replayed.replay_failures),
    )
