"""Starting a simulation: the time-skipping server, the records database, the worker, then the run."""

from __future__ import annotations

import tempfile
import uuid
from collections.abc import Awaitable, Callable
from contextlib import nullcontext
from pathlib import Path

from sqlalchemy import Engine
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from activities.notices import MemoryChannel, postman_for
from client.calls import prepare
from infra.runtime import runtime
from infra.settings import SIMULATION_CACHE, Settings, binary
from infra.temporal import data_converter
from models.call import CallDefinition
from records.engine import make_engine
from records.forget import forget_call, holds_call
from records.payloads import payload_storage
from simulation.later import manual_lead
from simulation.progress import Shown
from simulation.report import Report
from simulation.run import Simulation
from simulation.stand_in import with_stand_in_years
from worker import build_worker

Finished = Callable[[Client, Engine, "Report"], Awaitable[None]]


async def simulate(call: CallDefinition, n: int, seed: int, database: str | None = None,
                   finished: Finished | None = None, replace: bool = False, late_share: float = 0.0,
                   shown: Shown | None = None, cache: int = SIMULATION_CACHE) -> Report:
    """Run the simulation; `finished` is given the server's client, the records DB and the report before the
    time-skipping server stops (the command line writes the audit export there).

    The records go to `database` (a URL, upgraded to the newest schema first), or to a temporary SQLite file. A
    database that already holds the call is refused (ValueError), unless `replace` deletes its rows first. The worker
    keeps `cache` workflows in memory (0.3 to 0.5 MB each); the others are replayed from their histories when touched,
    and every round of the simulation touches every application (BENCHMARKS.md: the lifecycle's cache)."""
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(database or f"sqlite:///{Path(tmp) / 'simulation.db'}", migrate=True)
        if replace:
            forget_call(engine, call.id)
        elif holds_call(engine, call.id):
            engine.dispose()
            raise ValueError(f"the records database already holds call {call.id} (an earlier run?): "
                             "simulate --replace deletes its rows first, or use another database")
        env = await WorkflowEnvironment.start_time_skipping(
            test_server_existing_path=binary("temporal-test-server"),
            data_converter=data_converter(payload_storage(engine)), runtime=runtime())
        try:
            postman = postman_for(engine, Settings.from_env())  # GRANTFLOW_SMTP_URL: by e-mail, else in memory
            channel = postman or MemoryChannel()
            task_queue = f"simulate-{uuid.uuid4()}"
            now = await env.get_current_time()
            prepared = prepare(with_stand_in_years(call, now.date()), not_before=now + manual_lead(call))
            async with build_worker(env.client, task_queue, engine, channel, workflow_cache=cache), \
                    postman.running() if postman else nullcontext():
                report = await Simulation(env, prepared, n, seed, task_queue, engine, channel, late_share,
                                          shown).run()
            if finished is not None:
                await finished(env.client, engine, report)
            return report
        finally:
            await env.shutdown()
            engine.dispose()

