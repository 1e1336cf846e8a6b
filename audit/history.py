"""Workflow histories of a call: every run of each workflow (continue-as-new chains), fetched and decoded."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TypeVar

from sqlalchemy.engine import Engine
from sqlmodel import Session, select
from temporalio.api.common.v1 import Payloads
from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import Client, WorkflowHistory

from infra.temporal import DATA_CONVERTER
from models.messages import application_workflow_id, call_workflow_id
from models.review.messages import stage_workflow_id
from records.payloads import resolve_references
from records.review_tables import AssignmentRow
from records.tables import ApplicationRow, TransitionRow

T = TypeVar("T")
FETCH_CONCURRENCY = 16


@dataclass
class Execution:
    """Every run of one workflow id, oldest first."""

    workflow_id: str
    runs: list[WorkflowHistory]

    @property
    def workflow_type(self) -> str:
        return str(self.runs[0].events[0].workflow_execution_started_event_attributes.workflow_type.name)

    @property
    def events(self) -> int:
        return sum(len(r.events) for r in self.runs)


def decode(payloads: Payloads, hint: type[T], index: int = 0) -> T:
    """The value at `index` (the first by default) of `payloads`, as grantflow's data converter gives it to the
    workflow."""
    values = DATA_CONVERTER.payload_converter.from_payloads([payloads.payloads[index]], [hint])
    return values[0]  # type: ignore[no-any-return]


def instant(event: HistoryEvent) -> datetime:
    return event.event_time.ToDatetime(tzinfo=UTC)


def kind(event: HistoryEvent) -> str:
    """The event type without its prefix, e.g. TIMER_FIRED."""
    return EventType.Name(event.event_type).removeprefix("EVENT_TYPE_")


async def fetch_execution(client: Client, workflow_id: str) -> Execution:
    """The latest run and, through `continued_execution_run_id`, every run before it; each payload the history keeps
    in the records database (records.payloads) read back into it, so that replay, trail and export see what the worker
    saw."""
    runs: list[WorkflowHistory] = []
    run_id: str | None = None
    while True:
        history = await client.get_workflow_handle(workflow_id, run_id=run_id).fetch_history()
        for event in history.events:
            await resolve_references(client.data_converter.external_storage, event)
        runs.insert(0, history)
        run_id = history.events[0].workflow_execution_started_event_attributes.continued_execution_run_id
        if not run_id:
            return Execution(workflow_id, runs)


def application_workflow_ids(engine: Engine, call_id: str) -> list[str]:
    """The call's application workflows known to the records DB (applications and transitions rows)."""
    with Session(engine) as s:
        known = dict(s.exec(select(ApplicationRow.id, ApplicationRow.workflow_id).where(
            ApplicationRow.call_id == call_id)).all())
        for app_id in s.exec(select(TransitionRow.application_id).where(TransitionRow.call_id == call_id)).all():
            known.setdefault(app_id, application_workflow_id(app_id))
    return sorted(set(known.values()))


def stage_workflow_ids(engine: Engine, call_id: str) -> list[str]:
    """The call's review stage workflows: one per stage with a recorded assignment."""
    with Session(engine) as s:
        stages = set(s.exec(select(AssignmentRow.stage).where(AssignmentRow.call_id == call_id)).all())
    return sorted(stage_workflow_id(call_id, stage) for stage in stages)


async def fetch_call(client: Client, engine: Engine, call_id: str) -> list[Execution]:
    """The call workflow's execution first, then every application's."""
    gate = asyncio.Semaphore(FETCH_CONCURRENCY)

    async def one(workflow_id: str) -> Execution:
        async with gate:
            return await fetch_execution(client, workflow_id)

    ids = [call_workflow_id(call_id), *application_workflow_ids(engine, call_id), *stage_workflow_ids(engine, call_id)]
    return list(await asyncio.gather(*(one(w) for w in ids)))

