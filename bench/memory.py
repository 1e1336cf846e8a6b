"""Figure 4, memory: worker RSS per 1,000 open applications at the production cache (no-op workflows all cached
beside them), and what the next touch of an application costs in and out of the cache."""

from __future__ import annotations

import statistics
import time
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
TOUCHES = 20  # status queries timed on cached and on evicted applications
METADATA_QUERY = "__temporal_workflow_metadata"  # answered by the worker from the cached workflow


@dataclass
class Memory:
    workflows: int
    grantflow_mb: float
    baseline_mb: float
    rss_after_mb: float
    cache: int
    touch_cached_ms: float  # median status query to an application in the cache
    touch_evicted_ms: float  # median status query to one outside it (replayed from its history)


async def open_baseline(b: Bench, queue: str, prefix: str, count: int) -> None:
    async def one(i: int) -> None:
        handle = await b.client.start_workflow(NoopWorkflow.run, NoopInput(), id=f"{prefix}.{i:05d}",
                                               task_queue=queue)
        await handle.query(METADATA_QUERY)
    await b.fan_out([partial(one, i) for i in range(count)])


async def memory(b: Bench, n: int) -> Memory:
    now = utcnow().replace(microsecond=0)
    prepared = bench_call(f"bench-memory-{now:%H%M%S}", now - timedelta(minutes=1), now + timedelta(days=1))

    async def open_application(i: int) -> None:
        app_id = f"{prepared.definition.id}.{i:05d}"
        handle = await start_application(b.client, application(prepared, app_id, i), grantflow_queue)
        await handle.query(ApplicationWorkflow.status)

    async def touch(i: int) -> float:
        handle = b.client.get_workflow_handle(f"application-{prepared.definition.id}.{i:05d}")
        started = time.perf_counter()
        await handle.query(ApplicationWorkflow.status)
        return (time.perf_counter() - started) * 1000

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
        cached = [await touch(i) for i in range(n - 1, n - 1 - min(TOUCHES, WORKFLOW_CACHE // 2), -1)]
        evicted = [await touch(i) for i in range(min(TOUCHES, max(n - WORKFLOW_CACHE, 0)))]
    return Memory(n, (after - after_baseline) * 1000 / n, (after_baseline - before) * 1000 / n, after,
                  WORKFLOW_CACHE, statistics.median(cached), statistics.median(evicted) if evicted else 0.0)
