"""Large payloads kept in the records database (Temporal's external storage): the history holds references, workers
and clients read them back, and the audit replays the history as the worker saw it."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import delete, func, select
from sqlalchemy.engine import Engine
from temporalio import activity, workflow
from temporalio.api.common.v1 import Payload
from temporalio.client import Client
from temporalio.converter import DataConverter
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from audit.history import decode, fetch_execution
from audit.replay import replayer
from infra.settings import binary
from infra.temporal import DATA_CONVERTER, data_converter
from records.payloads import PAYLOADS, REFERENCE_TYPE, THRESHOLD, PayloadMissing, payload_storage
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
