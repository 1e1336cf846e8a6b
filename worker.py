"""The grantflow worker: workflows, activities, sandbox pass-through and data converter in one place."""

from __future__ import annotations

import asyncio
import compileall
import concurrent.futures
from collections.abc import Sequence
from contextlib import nullcontext
from pathlib import Path

from sqlalchemy.engine import Engine
from temporalio.client import Client
from temporalio.worker import Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from activities.broadcast import BroadcastActivities
from activities.eligibility import EligibilityActivities
from activities.formal import attachment_verdicts, check_formal
from activities.notices import Channel, LogChannel, Postman, postman_for
from activities.quotas import QuotaActivities
from activities.records import RecordActivities
from infra.logs import configure
from infra.settings import WORKFLOW_CACHE, Settings
from infra.temporal import connect
from records.engine import make_engine
from workflows.application import ApplicationWorkflow
from workflows.call import CallWorkflow

WORKFLOWS: Sequence[type] = (CallWorkflow, ApplicationWorkflow)
PASSTHROUGH = ("transitions", "six", "models", "activities", "records", "infra", "pydantic", "pydantic_core", "annotated_types",
               "sqlalchemy", "sqlmodel", "structlog", "yaml")


def compile_workflows() -> None:
    """Write the workflow modules' bytecode cache. The sandbox imports a workflow's module afresh for every run
    (start or replay); without a cache (PYTHONDONTWRITEBYTECODE, an editable install) each import recompiles the
    source: 15.8 ms per application workflow run here, 5.0 ms with the cache."""
    compileall.compile_dir(Path(__file__).resolve().parent / "workflows", quiet=2)


def sandbox_runner() -> SandboxedWorkflowRunner:
    return SandboxedWorkflowRunner(restrictions=SandboxRestrictions.default.with_passthrough_modules(*PASSTHROUGH))


def build_worker(client: Client, task_queue: str, engine: Engine, channel: Channel | Postman | None = None,
                 max_concurrent: int = 16, workflow_tasks: int = 16, workflow_cache: int = WORKFLOW_CACHE) -> Worker:
    """The worker. Defaults are sized for the embedded stack on 2 cores: `workflow_tasks` in hand at once (the SDK's
    100 let a burst of starts hold tasks for seconds, past the server's 10 s task timeout, while the rest wait on the
    server, where no timeout runs), `max_concurrent` activity threads (SQLite takes one writer at a time).
    `workflow_cache` open workflows stay in memory (the SDK keeps 1,000): when a deadline wakes every application of a
    call at once, one that was evicted is first replayed from its history, 2.6 times the work of the no-op baseline's
    replay; 10,000 cached applications hold about 2.8 GB (275 MB per 1,000, BENCHMARKS.md). Notices go to `channel`
    (the log by default) as they are recorded, or stay queued for a `Postman`, which the caller runs."""
    compile_workflows()
    records = RecordActivities(engine, channel or LogChannel())
    broadcast = BroadcastActivities(engine)
    eligibility = EligibilityActivities(engine)
    quotas = QuotaActivities(engine)
    return Worker(
        client,
        task_queue=task_queue,
        workflows=list(WORKFLOWS),
        activities=[
            records.register_application,
            records.record_transition,
            records.reserve_quota,
            quotas.take_quota_place,
            quotas.set_quota_limit,
            records.publish_call,
            records.close_window,
            broadcast.broadcast_timetable,
            check_formal,
            attachment_verdicts,
            eligibility.evaluate_formal,
        ],
        activity_executor=concurrent.futures.ThreadPoolExecutor(max_workers=max_concurrent),
        workflow_runner=sandbox_runner(),
        max_concurrent_activities=max_concurrent,
        max_concurrent_local_activities=max_concurrent,
        max_concurrent_workflow_tasks=workflow_tasks,
        max_cached_workflows=workflow_cache,
    )


async def run_worker(settings: Settings) -> None:
    """The worker, and with GRANTFLOW_SMTP_URL set the postman that delivers its notices by e-mail beside it."""
    engine = make_engine(settings.database_url)
    postman = postman_for(engine, settings)
    client = await connect(settings.temporal_address, settings.namespace)
    worker = build_worker(client, settings.task_queue, engine, postman, workflow_cache=settings.workflow_cache)
    async with postman.running() if postman else nullcontext():
        await worker.run()


def main() -> None:
    settings = Settings.from_env()
    configure(settings.log_format)
    asyncio.run(run_worker(settings))


if __name__ == "__main__":
    main()
