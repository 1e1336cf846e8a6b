"""The raw-Temporal baseline: a no-op workflow that takes the same updates and wakes at the same deadline."""

from __future__ import annotations

import py_compile
from dataclasses import dataclass
from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.client import Client
from temporalio.worker import Worker


@dataclass
class NoopInput:
    wake_at: datetime | None = None  # None: stay open until the run ends


@workflow.defn
class NoopWorkflow:
    @workflow.run
    async def run(self, inp: NoopInput) -> None:
        if inp.wake_at is None:
            await workflow.wait_condition(lambda: False)
        else:
            await workflow.sleep(max(inp.wake_at - workflow.now(), timedelta(0)))
        await workflow.wait_condition(workflow.all_handlers_finished)

    @workflow.update
    def change(self, step: str) -> None:
        """Accept the change and do nothing: what an update costs on its own."""


def baseline_worker(client: Client, task_queue: str, cache: int) -> Worker:
    """A worker with the SDK's defaults (sandboxed), like a plain Temporal project, except for what grantflow's worker
    sets for the same machine and scale: `cache`, its workflow cache (so neither side replays at a deadline what the
    other serves from memory). Its module's bytecode is cached, so that its import per run does not recompile it
    (grantflow passes its workflow modules through instead: `worker.PASSTHROUGH`). This module imports nothing of
    grantflow's: the sandbox imports a workflow's module afresh for every run, and everything it imports that is not
    passed through."""
    py_compile.compile(__file__)
    return Worker(client, task_queue=task_queue, workflows=[NoopWorkflow], max_cached_workflows=cache)
