"""Exactly once across a worker killed mid-delivery: real dev server, worker processes, an SMTP server in process.

The kill lands while messages are in the SMTP server's hands, unanswered (the server holds every DATA from then on):
claimed, attempt open, not accepted. What the guarantee leaves open, a kill between the server's acceptance and the
commit that records it, is a window this test does not aim at (see activities/notices/postman.py).
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest_asyncio
from sqlalchemy.engine import Engine
from sqlmodel import Session, select
from temporalio.testing import WorkflowEnvironment

from activities.notices import message_id, sender_domain
from client.calls import start_application, start_call
from infra.settings import SMTP_SENDER, binary
from infra.temporal import DATA_CONVERTER
from records.registry_tables import PersonRow, UnitRow
from records.tables import NoticeAttemptRow, NoticeRow
from tests.conftest import ROOT
from tests.helpers import PEOPLE, act, application_input
from tests.smtp_sink import Sink, smtp_sink
from tests.test_restarts import closing_at

APPLICATIONS = 30


@pytest_asyncio.fixture(scope="module")
async def dev() -> AsyncIterator[WorkflowEnvironment]:
    environment = await WorkflowEnvironment.start_local(
        dev_server_existing_path=binary("temporal"), data_converter=DATA_CONVERTER,
        dev_server_log_level="error", ui=False,
    )
    yield environment
    await environment.shutdown()


def worker_process(dev: WorkflowEnvironment, db: Engine, queue: str, sink: Sink, log: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "GRANTFLOW_TEMPORAL_ADDRESS": dev.client.service_client.config.target_host,
           "GRANTFLOW_DATABASE_URL": db.url.render_as_string(hide_password=False), "GRANTFLOW_TASK_QUEUE": queue, "GRANTFLOW_LOG_FORMAT": "json",
           "GRANTFLOW_SMTP_URL": sink.url(), "GRANTFLOW_NOTICE_LEASE": "4"}
    with log.open("wb") as out:
        return subprocess.Popen([sys.executable, "-c", "import cli; cli.main()", "worker"], cwd=ROOT, env=env,
                                stdout=out, stderr=subprocess.STDOUT)


def registry(db: Engine, issuer: str) -> None:
    with Session(db) as s:
        s.add(PersonRow(id=PEOPLE["applicant"], id_type="other", name="王伟", birth_date=date(1980, 1, 1),
                        email="wangwei@sxu.example.edu.cn"))
        s.add(UnitRow(id=PEOPLE["unit_admin"], name="山西示范大学", registered_on=date(1990, 1, 1), province="CN-SX",
                      kind="university", email="kyc@sxu.example.edu.cn"))
        s.add(UnitRow(id="office", name=issuer, registered_on=date(1990, 1, 1), province="CN-SX", kind="state_organ",
                      email="jcyj@kjt.example.gov.cn"))
        s.commit()


def notices(db: Engine) -> list[NoticeRow]:
    with Session(db) as s:
        return list(s.exec(select(NoticeRow)).all())


async def until(predicate: Callable[[], bool], limit_s: float = 90.0) -> None:
    started = time.monotonic()
    while not predicate():
        assert time.monotonic() - started < limit_s, "timed out"
        await asyncio.sleep(0.01)


async def test_a_worker_killed_mid_delivery_leaves_every_notice_arriving_exactly_once(
        dev: WorkflowEnvironment, db: Engine, tmp_path: Path) -> None:
    queue = f"tq-{uuid.uuid4()}"
    prepared = closing_at((datetime.now(UTC) + timedelta(hours=1)).replace(microsecond=0))
    registry(db, prepared.definition.issuer)
    with smtp_sink(delay_s=0.05) as sink:
        first = worker_process(dev, db, queue, sink, tmp_path / "first.log")
        try:
            await start_call(dev.client, prepared, queue)
            handles = [await start_application(dev.client, application_input(prepared, f"n{i}-{queue}"), queue)
                       for i in range(APPLICATIONS)]
            await asyncio.gather(*(act(h, "submit", "applicant") for h in handles))
            await until(lambda: len(sink.accepted) >= 10)
            sink.hold.set()  # from now on the server answers no DATA: those messages are in flight
            await until(lambda: sink.waiting >= 1)
            await asyncio.sleep(0.5)  # every message accepted before the hold has its acceptance committed
            first.send_signal(signal.SIGKILL)
            first.wait()
        finally:
            first.kill()
        arrived_before = len(sink.accepted)
        sink.hold.clear()
        second = worker_process(dev, db, queue, sink, tmp_path / "second.log")
        try:
            await until(lambda: len(notices(db)) >= 2 * APPLICATIONS and all(n.status == "sent" for n in notices(db)))
        finally:
            second.terminate()
            second.wait()
    rows = notices(db)
    domain = sender_domain(SMTP_SENDER)
    assert arrived_before < len(rows), "the kill should land before every notice arrived"
    assert len(sink.ids()) == len(set(sink.ids())) == len(rows)
    assert sorted(sink.ids()) == sorted(message_id(n.key, domain) for n in rows)
    with Session(db) as s:
        outcomes = s.exec(select(NoticeAttemptRow.notice_key, NoticeAttemptRow.outcome)).all()
    interrupted = {k for k, o in outcomes if o == "interrupted"}
    assert interrupted and all((k, "accepted") in outcomes for k in interrupted)
    assert sum(o == "accepted" for _, o in outcomes) == len(rows)
