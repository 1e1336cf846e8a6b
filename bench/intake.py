"""Figure 1, intake: applications created, submitted and approved through the chain, against no-op workflows
that take the same start and the same number of updates."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial

from sqlmodel import Session, col, func, select

from bench.baseline import NoopInput, NoopWorkflow
from bench.call import bench_call, chain_steps, people
from bench.harness import Bench, utcnow
from client.calls import Prepared, start_application, start_call
from models.identity import in_process
from models.messages import ActRequest, ApplicationInput
from records.tables import ApplicationRow
from workflows.application import ApplicationWorkflow

WARM_UP = 20


@dataclass
class Intake:
    applications: int
    steps: int  # per application: the start and every update
    grantflow_s: float
    baseline_s: float
    accepted: int  # applications the records DB shows at the end of the chain
    started: datetime  # when grantflow's timed intake began (for profiles)


def application(prepared: Prepared, app_id: str, i: int) -> ApplicationInput:
    call = prepared.definition
    return ApplicationInput(
        call=call, calendar=prepared.input.calendar, timetable=prepared.timetable, application_id=app_id,
        category=call.categories[0].id, title=f"bench project {i}", people=people(i),
        attachments=[a.kind for a in call.attachments if a.required],
    )


async def grantflow_chain(b: Bench, prepared: Prepared, task_queue: str, i: int, steps: int) -> None:
    """Start application `i` and take it through the first `steps` changes of the chain.

    Each update carries its own id, so that one sent again after the server turned it away is applied once.
    """
    app_id = f"{prepared.definition.id}.{i:05d}"
    handle = await start_application(b.client, application(prepared, app_id, i), task_queue)
    for k, (trigger, role) in enumerate(chain_steps()[:steps]):
        request = ActRequest(trigger, f"{role}-{i}", role, identity=in_process(f"{role}-{i}", role))
        await b.patiently(lambda r=request, u=f"{k}-{trigger}": handle.execute_update(ApplicationWorkflow.act, r, id=u))


async def baseline_chain(b: Bench, prefix: str, task_queue: str, i: int, steps: int, inp: NoopInput) -> None:
    handle = await b.client.start_workflow(NoopWorkflow.run, inp, id=f"{prefix}.{i:05d}", task_queue=task_queue)
    for k, (trigger, _) in enumerate(chain_steps()[:steps]):
        await b.patiently(lambda t=trigger, u=f"{k}-{trigger}": handle.execute_update(NoopWorkflow.change, t, id=u))


async def timed(b: Bench, jobs: list[Callable[[], Awaitable[None]]]) -> float:
    started = time.perf_counter()
    await b.fan_out(jobs)
    return time.perf_counter() - started


async def intake(b: Bench, n: int) -> Intake:
    steps = len(chain_steps())
    now = utcnow().replace(microsecond=0)
    opens, closes = now - timedelta(minutes=1), now + timedelta(days=1)
    prepared = bench_call(f"bench-intake-{now:%H%M%S}", opens, closes)
    warm = bench_call(f"bench-warm-{now:%H%M%S}", opens, closes)
    call_id = prepared.definition.id
    grantflow_queue, baseline_queue = b.task_queue("intake"), b.task_queue("intake-baseline")
    async with b.baseline(baseline_queue):
        await timed(b, [partial(baseline_chain, b, f"warm-{call_id}", baseline_queue, i, steps, NoopInput())
                        for i in range(WARM_UP)])
        baseline_s = await timed(b, [partial(baseline_chain, b, f"noop-{call_id}", baseline_queue, i, steps,
                                             NoopInput()) for i in range(n)])
    async with b.grantflow(grantflow_queue):
        await start_call(b.client, prepared, grantflow_queue)
        await timed(b, [partial(grantflow_chain, b, warm, grantflow_queue, i, steps) for i in range(WARM_UP)])
        started = utcnow()
        with b.profiling("intake"):
            grantflow_s = await timed(b, [partial(grantflow_chain, b, prepared, grantflow_queue, i, steps)
                                          for i in range(n)])
    with Session(b.engine) as s:
        accepted = s.exec(select(func.count()).select_from(ApplicationRow).where(
            ApplicationRow.call_id == call_id, col(ApplicationRow.state) == "accepted")).one()
    return Intake(n, 1 + steps, grantflow_s, baseline_s, accepted, started)
