"""The grantflow worker: workflows, activities, sandbox pass-through and data converter in one place."""

from __future__ import annotations

import compileall
import concurrent.futures
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path

from sqlalchemy.engine import Engine
from temporalio.client import Client
from temporalio.worker import Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from activities.broadcast import BroadcastActivities
from activities.closure import ClosureActivities
from activities.eligibility import EligibilityActivities
from activities.formal import attachment_verdicts, check_formal
from activities.notices import Channel, LogChannel, Postman
from activities.publicity import PublicityActivities
from activities.quotas import QuotaActivities
from activities.records import RecordActivities
from activities.review_defence import ReviewDefenceActivities
from activities.review_draw import ReviewDrawActivities
from activities.review_settle import ReviewSettleActivities
from infra.settings import WORKFLOW_CACHE
from workflows.application import ApplicationWorkflow
from workflows.call import CallWorkflow
from workflows.review_stage import ReviewStageWorkflow

WORKFLOWS: Sequence[type] = (CallWorkflow, ApplicationWorkflow, ReviewStageWorkflow)
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
                 max_concurrent: int = 16, workflow_tasks: int = 16, workflow_cache: int = WORKFLOW_CACHE,
                 graceful_shutdown: timedelta = timedelta(0)) -> Worker:
    """The worker. Defaults are sized for the embedded stack on 2 cores: `workflow_tasks` in hand at once (the SDK's
    100 let a burst of starts hold tasks for seconds, past the server's 10 s task timeout, while the rest wait on the
    server, where no timeout runs), `max_concurrent` activity threads (SQLite takes one writer at a time).
    `workflow_cache` open workflows stay in memory (0.28 MB each, BENCHMARKS.md); the others are replayed from their
    short history when touched, and a deadline touches none at its instant (the call closes in bulk). Notices go to
    `channel` (the log by default) as they are recorded, or stay queued for a `Postman`, which the caller runs. On
    shutdown, running activities get `graceful_shutdown` to finish before they are cancelled and handed back."""
    compile_workflows()
    channel = channel or LogChannel()
    records = RecordActivities(engine, channel)
    closure = ClosureActivities(engine, channel)
    broadcast = BroadcastActivities(engine)
    eligibility = EligibilityActivities(engine)
    quotas = QuotaActivities(engine)
    draws, settles = ReviewDrawActivities(engine), ReviewSettleActivities(engine)
    defences = ReviewDefenceActivities(draws)
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
            closure.close_window,
            broadcast.broadcast_timetable,
            check_formal,
            attachment_verdicts,
            eligibility.evaluate_formal,
            draws.draw_stage,
            defences.schedule_defence,
            defences.fill_seats,
            draws.reassign_tasks,
            settles.settle_stage,
            settles.announce,
            PublicityActivities(engine).publish_result,
        ],
        activity_executor=concurrent.futures.ThreadPoolExecutor(max_workers=max_concurrent),
        workflow_runner=sandbox_runner(),
        max_concurrent_activities=max_concurrent,
        max_concurrent_local_activities=max_concurrent,
        max_concurrent_workflow_tasks=workflow_tasks,
        max_cached_workflows=workflow_cache,
        graceful_shutdown_timeout=graceful_shutdown,
    )
