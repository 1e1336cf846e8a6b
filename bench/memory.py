"""Figure 4, memory: worker RSS per 1,000 open workflows, grantflow applications against no-op workflows.

Both are held in their worker's cache (`infra.settings.WORKFLOW_CACHE`; beyond it workflows are evicted and
replayed when they wake), so `n` is at most the cache size.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from functools import partial

from bench.baseline import NoopInput, NoopWorkflow
from bench.call import bench_call
from bench.harness import Bench, rss_mb, utcnow
from bench.intake import application
from client.calls import start_application, start_call
from infra.settings import WORKFLOW_CACHE
from workflows.application import ApplicationWorkflow

WARM_UP = 20
METADATA_QUERY = "__temporal_workflow_metadata"  # answered by the worker from the cached workflow


@dataclass
class Memory:
    workflows: int
    grantflow_mb: float
    baseline_mb: float
    rss_after_mb: float


async def open_baseline(b: Bench, queue: str, prefix: str, count: int) -> None:
    async def one(i: int) -> None:
        handle = await b.client.start_workflow(NoopWorkflow.run, NoopInput(), id=f"{prefix}.{i:05d}",
                                               task_queue=queue)
        await handle.query(METADATA_QUERY)
    await b.fan_out([partial(one, i) for i in range(count)])


async def memory(b: Bench, n: int) -> Memory:
    n = min(n, WORKFLOW_CACHE - WARM_UP)
    now = utcnow().replace(microsecond=0)
    prepared = bench_call(f"bench-memory-{now:%H%M%S}", now - timedelta(minutes=1), now + timedelta(days=1))

    async def open_application(i: int) -> None:
        app_id = f"{prepared.definition.id}.{i:05d}"
        handle = await start_application(b.client, application(prepared, app_id, i), grantflow_queue)
        await handle.query(ApplicationWorkflow.status)

    baseline_queue, grantflow_queue = b.task_queue("memory-baseline"), b.task_queue("memory")
    async with b.baseline(baseline_queue), b.grantflow(grantflow_queue):
        await start_call(b.client, prepared, grantflow_queue)
        await open_baseline(b, baseline_queue, f"noop-warm-{now:%H%M%S}", WARM_UP)
        await b.fan_out([partial(open_application, i) for i in range(n, n + WARM_UP)])
        before = rss_mb()
        await open_baseline(b, baseline_queue, f"noop-memory-{now:%H%M%S}", n)
        after_baseline = rss_mb()
        await b.fan_out([partial(open_application, i) for i in range(n)])
        after = rss_mb()
    return Memory(n, (after - after_baseline) * 1000 / n, (after_baseline - before) * 1000 / n, after)
