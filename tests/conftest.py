"""Shared fixtures: one real time-skipping Temporal test server per session, a fresh worker per test."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import pytest_asyncio
from sqlalchemy.engine import Engine
from sqlmodel import Session, select
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.notices import MemoryChannel
from infra.settings import binary
from infra.temporal import DATA_CONVERTER
from models.messages import call_workflow_id
from records.engine import make_engine
from records.tables import ApplicationRow, CallRow
from worker import build_worker

pytest_plugins = ["tests.coverage_plugin"]

ROOT = Path(__file__).resolve().parent.parent
CALLS = ROOT / "calls"


@pytest_asyncio.fixture(scope="session")
async def env() -> AsyncIterator[WorkflowEnvironment]:
    environment = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=binary("temporal-test-server"), data_converter=DATA_CONVERTER,
    )
    yield environment
    await environment.shutdown()


@dataclass
class Stack:
    env: WorkflowEnvironment
    client: Client
    engine: Engine
    channel: MemoryChannel
    task_queue: str

    def worker(self) -> Worker:
        return build_worker(self.client, self.task_queue, self.engine, self.channel)

    @asynccontextmanager
    async def running(self) -> AsyncIterator[Worker]:
        w = self.worker()
        async with w:
            yield w


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{tmp_path / 'records.db'}")
    yield engine
    engine.dispose()


@pytest_asyncio.fixture
async def stack(env: WorkflowEnvironment, db: Engine) -> AsyncIterator[Stack]:
    yield Stack(env, env.client, db, MemoryChannel(), f"tq-{uuid.uuid4()}")
    await terminate_open_workflows(env.client, db)


async def terminate_open_workflows(client: Client, db: Engine) -> None:
    """End what a test left running: on the shared server, its timers would fire with no worker and stop time skipping."""
    with Session(db) as s:
        ids = [call_workflow_id(c) for c in s.exec(select(CallRow.id)).all()]
        ids += list(s.exec(select(ApplicationRow.workflow_id)).all())
    for workflow_id in ids:
        try:
            await client.get_workflow_handle(workflow_id).terminate("test finished")
        except RPCError as exc:
            if exc.status != RPCStatusCode.NOT_FOUND:
                raise
