"""Large payloads kept in the records database (Temporal's external storage): the history holds references, workers
and clients read them back, and the audit replays the history as the worker saw it."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import delete, func, select, update
from sqlalchemy.engine import Engine
from temporalio import activity, workflow
from temporalio.api.common.v1 import Payload
from temporalio.client import Client, WorkflowHistory
from temporalio.converter import DataConverter
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker
from typer.testing import CliRunner

from audit.history import decode, fetch_execution
from audit.replay import replayer
from cli import app
from client.payload_retention import prune_payloads
from infra.settings import binary
from infra.temporal import DATA_CONVERTER, data_converter
from records.payloads import (
    PAYLOADS,
    REFERENCE_TYPE,
    THRESHOLD,
    PayloadMissing,
    RecordsPayloadDriver,
    payload_storage,
    store_instants,
)
from tests.conftest import Servers

BODY = "评审意见" * (THRESHOLD // 4)  # one string of 3 × THRESHOLD bytes in UTF-8


@activity.defn
async def echo(body: str) -> str:
    return body


@workflow.defn(sandboxed=False)
class Bulky:
    """Takes a large input, hands it to an activity and returns what the activity returned."""

    @workflow.run
    async def run(self, body: str) -> str:
        back: str = await workflow.execute_activity(echo, body, start_to_close_timeout=timedelta(minutes=1))
        return back


def with_converter(client: Client, converter: DataConverter) -> Client:
    config = client.config()
    config["data_converter"] = converter
    return Client(**config)


def is_reference(p: Payload) -> bool:
    return p.metadata.get("messageType") == REFERENCE_TYPE and len(p.data) < 512


async def run_bulky(env: WorkflowEnvironment, client: Client | None = None, body: str = BODY) -> str:
    client = client or env.client
    queue = f"payloads-{uuid.uuid4()}"
    async with Worker(client, task_queue=queue, workflows=[Bulky], activities=[echo]):
        handle = await client.start_workflow(Bulky.run, body, id=f"bulky-{uuid.uuid4()}", task_queue=queue)
        assert await handle.result() == body
    return handle.id


async def test_a_large_input_travels_by_reference_once_and_the_audit_replays_it_as_the_worker_saw_it(
        env: WorkflowEnvironment, servers: Servers) -> None:
    workflow_id = await run_bulky(env)
    raw = await env.client.get_workflow_handle(workflow_id).fetch_history()
    started = raw.events[0].workflow_execution_started_event_attributes.input.payloads[0]
    scheduled = next(e.activity_task_scheduled_event_attributes.input.payloads[0] for e in raw.events
                     if e.HasField("activity_task_scheduled_event_attributes"))
    assert is_reference(started) and is_reference(scheduled)
    assert started.external_payloads[0].size_bytes > len(BODY.encode())
    with servers.payloads.connect() as c:  # input, activity input and result are one payload: one row
        sha = started.data.decode().split('"sha256":"')[1].split('"')[0]
        assert c.execute(select(func.count()).where(PAYLOADS.c.sha256 == sha)).scalar_one() == 1

    execution = await fetch_execution(env.client, workflow_id)
    events = execution.runs[0].events
    assert decode(events[0].workflow_execution_started_event_attributes.input, str) == BODY
    await replayer([Bulky]).replay_workflow(execution.runs[0])  # raises on any divergence


async def test_a_reader_without_the_records_database_is_refused_and_a_missing_payload_is_named(
        env: WorkflowEnvironment, servers: Servers) -> None:
    workflow_id = await run_bulky(env)
    bare = with_converter(env.client, DATA_CONVERTER)
    with pytest.raises(RuntimeError, match="TMPRL1105"):
        await bare.get_workflow_handle(workflow_id).result()

    raw = await env.client.get_workflow_handle(workflow_id).fetch_history()
    sha = raw.events[0].workflow_execution_started_event_attributes.input.payloads[0].data.decode().split(
        '"sha256":"')[1].split('"')[0]
    with servers.payloads.begin() as c:
        c.execute(delete(PAYLOADS).where(PAYLOADS.c.sha256 == sha))
    with pytest.raises(PayloadMissing, match=f"payload sha256 {sha} is not in the records database"):
        await fetch_execution(env.client, workflow_id)


async def test_the_dev_server_refuses_a_payload_over_its_limit_and_takes_it_by_reference(db: Engine) -> None:
    """The real server's blob limit (2 MiB by default), which the time-skipping server does not enforce."""
    over = "x" * (3 * 1024 * 1024)
    env = await WorkflowEnvironment.start_local(dev_server_existing_path=binary("temporal"), ui=False,
                                                data_converter=DATA_CONVERTER, dev_server_log_level="error")
    try:
        with pytest.raises(RPCError, match="Blob data size exceeds limit"):
            await env.client.start_workflow(Bulky.run, over, id=f"bulky-{uuid.uuid4()}", task_queue="nobody")
        client = with_converter(env.client, data_converter(payload_storage(db)))
        await run_bulky(env, client, over)
    finally:
        await env.shutdown()


@workflow.defn(sandboxed=False)
class Holding:
    """Holds its large input until signalled, then returns it."""

    def __init__(self) -> None:
        self.released = False

    @workflow.run
    async def run(self, body: str) -> str:
        await workflow.wait_condition(lambda: self.released)
        return body

    @workflow.signal
    def release(self) -> None:
        self.released = True


def stored_shas(db: Engine) -> set[str]:
    with db.connect() as c:
        return set(c.execute(select(PAYLOADS.c.sha256)).scalars())


async def test_payloads_no_kept_history_can_refer_to_are_pruned_and_the_others_stay(db: Engine) -> None:
    """Kept: a running workflow's, and a closed one's within the namespace's retention. Pruned: one stored before any
    kept run started; then, a retention later, the closed workflow's (its history would be gone), not the running
    one's, which still completes. A payload stored again counts from its last store."""
    env = await WorkflowEnvironment.start_local(dev_server_existing_path=binary("temporal"), ui=False,
                                                data_converter=data_converter(payload_storage(db)),
                                                dev_server_log_level="error")
    try:
        with db.begin() as c:
            c.execute(PAYLOADS.insert(), {"sha256": "orphan", "size": 3, "content": b"old",
                                          "stored_at": datetime.now(UTC) - timedelta(days=3)})
        closed = await run_bulky(env, body=BODY + "closed")
        [closed_sha] = stored_shas(db) - {"orphan"}
        await asyncio.sleep(1.5)  # the running workflow starts after the closed one's payload was last stored
        queue = f"payloads-{uuid.uuid4()}"
        async with Worker(env.client, task_queue=queue, workflows=[Holding]):
            running = await env.client.start_workflow(Holding.run, BODY + "running", id=f"holding-{uuid.uuid4()}",
                                                      task_queue=queue)
            now = datetime.now(UTC)
            first = await prune_payloads(env.client, db, now, dry_run=True)
            assert (first.through is not None, first.payloads, first.size) == (True, 1, 3)
            assert stored_shas(db) >= {"orphan", closed_sha}
            told = await asyncio.to_thread(CliRunner().invoke, app, ["db", "prune-payloads", "--dry-run"], env={
                "GRANTFLOW_DATABASE_URL": db.url.render_as_string(hide_password=False),
                "GRANTFLOW_TEMPORAL_ADDRESS": env.client.service_client.config.target_host})
            assert told.exit_code == 0 and told.output.startswith("would delete 1 payloads (0.0 MiB)"), told.output
            assert (await prune_payloads(env.client, db, now)).payloads == 1
            assert "orphan" not in stored_shas(db) and closed_sha in stored_shas(db)
            assert (await prune_payloads(env.client, db, now)).through is None

            later = now + first.retention + timedelta(days=2)  # the closed workflow's history is past retention
            pruned = await prune_payloads(env.client, db, later, margin=timedelta(seconds=1))
            assert pruned.payloads == 1 and stored_shas(db) == {running_sha(await running.fetch_history())}
            await running.signal(Holding.release)
            assert await running.result() == BODY + "running"
        with pytest.raises(PayloadMissing):
            await fetch_execution(env.client, closed)
    finally:
        await env.shutdown()


def running_sha(history: WorkflowHistory) -> str:
    started = history.events[0].workflow_execution_started_event_attributes.input.payloads[0]
    return started.data.decode().split('"sha256":"')[1].split('"')[0]


def test_a_payload_stored_again_counts_from_its_last_store(db: Engine) -> None:
    driver = RecordsPayloadDriver(db)
    driver._insert([("same", b"content")])
    with db.begin() as c:
        c.execute(update(PAYLOADS).values(stored_at=datetime.now(UTC) - timedelta(days=30)))
    driver._insert([("same", b"content")])
    assert store_instants(db, datetime.now(UTC) - timedelta(days=1)) == []
    assert len(store_instants(db, datetime.now(UTC) + timedelta(seconds=1))) == 1
