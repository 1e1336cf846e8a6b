"""The grantflow worker: workflows, activities, sandbox pass-through and data converter in one place."""

from __future__ import annotations

import concurrent.futures
from collections.abc import Sequence
from datetime import timedelta

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
# Modules imported once per process, not afresh for every workflow run (start or replay). `workflows` is among them:
# re-importing the application workflow's module cost a third of each replay (24 ms against 17 ms, BENCHMARKS.md),
# and every replay of a deadline's catch-up and late refusals paid it. What makes that safe is that no module of
# `workflows` holds state at module or class level (tests/test_workflow_state.py): each run's state is its instance's.
PASSTHROUGH = ("transitions", "six", "models", "activities", "records", "infra", "workflows", "pydantic",
               "pydantic_core", "annotated_types", "sqlalchemy", "sqlmodel", "structlog", "yaml")


# Threads that run workflow tasks. A task is Python computing under the GIL: more threads add no speed on two cores,
# and each takes a share of the GIL from the activity threads that write and deliver (the closure's among them)
# while a deadline's late requests are replayed (BENCHMARKS.md, "Replays and the GIL").
WORKFLOW_THREADS = 2


def sandbox_runner() -> SandboxedWorkflowRunner:
    return SandboxedWorkflowRunner(restrictions=SandboxRestrictions.default.with_passthrough_modules(*PASSTHROUGH))


def build_worker(client: Client, task_queue: str, engine: Engine, channel: Channel | Postman | None = None,
                 max_concurrent: int = 16, workflow_tasks: int = 16, workflow_cache: int = WORKFLOW_CACHE,
                 graceful_shutdown: timedelta = timedelta(0), workflow_threads: int = WORKFLOW_THREADS) -> Worker:
    """The worker. Defaults are sized for the embedded stack on 2 cores: `workflow_tasks` in hand at once (the SDK's
    100 let a burst of starts hold tasks for seconds, past the server's 10 s task timeout, while the rest wait on the
    server, where no timeout runs), run by `workflow_threads` threads, and `max_concurrent` activity threads (SQLite
    takes one writer at a time).
    `workflow_cache` open workflows stay in memory (0.28 MB each, BENCHMARKS.md); the others are replayed from their
    short history when touched, and a deadline touches none at its instant (the call closes in bulk). Notices go to
    `channel` (the log by default) as they are recorded, or stay queued for a `Postman`, which the caller runs. On
    shutdown, running activities get `graceful_shutdown` to finish before they are cancelled and handed back."""
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
        workflow_task_executor=concurrent.futures.ThreadPoolExecutor(max_workers=workflow_threads),
        workflow_runner=sandbox_runner(),
        max_concurrent_activities=max_concurrent,
        max_concurrent_local_activities=max_concurrent,
        max_concurrent_workflow_tasks=workflow_tasks,
        max_cached_workflows=workflow_cache,
        graceful_shutdown_timeout=graceful_shutdown,
    )
