"""Deadlines across worker restarts, on the real Temporal dev server (real time, real sticky-queue fallback).

The time-skipping server cannot move a stopped worker's sticky tasks to another worker, so these two tests run
on `temporal server start-dev` with a call whose application window closes a few seconds from now. They run once
per records back end on one server, so every run's workflow ids carry its task queue.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import pytest_asyncio
from sqlalchemy.engine import Engine
from sqlmodel import Session, func, select
from temporalio.client import WorkflowUpdateFailedError
from temporalio.testing import WorkflowEnvironment

from activities.notices import MemoryChannel
from client.calls import Prepared, prepare, start_application, start_call
from infra.settings import binary
from infra.temporal import DATA_CONVERTER
from models.call import CallDefinition, load_call
from models.messages import CallInput
from models.timetable import Timetable
from records.tables import ApplicationRow, ClosureReportRow, NoticeRow, TransitionRow
from tests.conftest import CALLS, ROOT
from tests.helpers import act, application_input, state
from worker import build_worker

CALL_000 = CALLS / "000-sx-2025-basic-research-geology.yaml"


@pytest_asyncio.fixture(scope="module")
async def dev() -> AsyncIterator[WorkflowEnvironment]:
    environment = await WorkflowEnvironment.start_local(
        dev_server_existing_path=binary("temporal"), data_converter=DATA_CONVERTER,
        dev_server_log_level="error", ui=False,
    )
    yield environment
    await environment.shutdown()


def closing_at(closes: datetime) -> Prepared:
    """A copy of call 000 moved into the future, its application window then set to close at `closes` (real time)."""
    base = prepare(load_call(CALL_000), not_before=closes + timedelta(days=1))
    data = base.definition.model_dump()
    data["phases"][0] |= {"opens": closes - timedelta(hours=1), "closes": closes}
    data["id"] = f"{data['id']}-{uuid.uuid4().hex[:8]}"  # a call workflow of its own on the shared server
    call = CallDefinition.model_validate(data)
    calendar = base.input.calendar
    return Prepared(call, CallInput(call, calendar, Timetable.from_definition(call, calendar)), base.shift_days)


async def until(instant: datetime) -> None:
    await asyncio.sleep(max(0.0, (instant - datetime.now(UTC)).total_seconds()))


async def test_a_request_at_the_deadline_is_refused_although_no_worker_ran_its_timer(
        dev: WorkflowEnvironment, db: Engine) -> None:
    queue = f"tq-{uuid.uuid4()}"
    deadline = (datetime.now(UTC) + timedelta(seconds=8)).replace(microsecond=0)
    prepared = closing_at(deadline)
    async with build_worker(dev.client, queue, db, MemoryChannel()):
        await start_call(dev.client, prepared, queue)
        early = await start_application(dev.client, application_input(prepared, f"early-{queue}"), queue)
        late = await start_application(dev.client, application_input(prepared, f"late-{queue}"), queue)
        await until(deadline - timedelta(seconds=3))
        record = await act(early, "submit", "applicant")
    assert record.at < deadline
    # The worker is gone while the deadline passes: the close timer fires on the server, no code handles it.
    await until(deadline + timedelta(milliseconds=200))
    pending = asyncio.ensure_future(act(late, "submit", "applicant"))
    async with build_worker(dev.client, queue, db, MemoryChannel()):
        with pytest.raises(WorkflowUpdateFailedError) as refused:
            await pending
        message = str(getattr(refused.value.cause, "message", refused.value.cause))
        assert message.startswith(f"deadline passed: 网上填报受理期 closed at {deadline.astimezone(prepared.definition.zone).isoformat()}")
        while await state(late) != "closed_unsubmitted":
            await asyncio.sleep(0.2)
        assert await state(early) == "awaiting_unit_review"
    with Session(db) as s:
        late_rows = s.exec(select(TransitionRow).where(TransitionRow.application_id == f"late-{queue}")).all()
    assert [(r.trigger, r.role) for r in late_rows] == [("close", "system")]


def _worker_process(dev: WorkflowEnvironment, database: str, queue: str, log: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "GRANTFLOW_TEMPORAL_ADDRESS": dev.client.service_client.config.target_host,
           "GRANTFLOW_DATABASE_URL": database, "GRANTFLOW_TASK_QUEUE": queue, "GRANTFLOW_LOG_FORMAT": "json"}
    with log.open("wb") as sink:
        return subprocess.Popen([sys.executable, "-c", "import cli; cli.main()", "worker"], cwd=ROOT, env=env,
                                stdout=sink, stderr=subprocess.STDOUT)


def _entries(log: Path, event: str) -> list[dict[str, object]]:
    lines = [line for line in log.read_text(encoding="utf-8").splitlines() if line.startswith("{")]
    return [entry for entry in map(json.loads, lines) if entry.get("event") == event]


def _delivered(log: Path) -> list[str]:
    return [str(entry["key"]) for entry in _entries(log, "notice")]


def _undelivered(db: Engine) -> list[str]:
    with Session(db) as s:
        return list(s.exec(select(NoticeRow.key).where(NoticeRow.delivered_at.is_(None))).all())  # type: ignore[union-attr]


def _stored(db: Engine) -> set[str]:
    with Session(db) as s:
        return set(s.exec(select(NoticeRow.key)).all())


def _count(db: Engine, *where: object) -> int:
    with Session(db) as s:
        return s.exec(select(func.count()).select_from(TransitionRow).where(*where)).one()  # type: ignore[arg-type]


async def _wait(predicate: object, limit_s: float = 90.0) -> None:
    started = time.monotonic()
    while not predicate():  # type: ignore[operator]
        assert time.monotonic() - started < limit_s, "timed out waiting for the workers"
        await asyncio.sleep(0.01)


async def test_a_worker_killed_during_a_closure_closes_every_draft_once_and_sends_each_notice_once(
        dev: WorkflowEnvironment, db: Engine, tmp_path: Path) -> None:
    queue, drafts, submitted = f"tq-{uuid.uuid4()}", 80, 40
    database = db.url.render_as_string(hide_password=False)
    first = _worker_process(dev, database, queue, tmp_path / "first.log")
    await _wait(lambda: "Worker running" in (tmp_path / "first.log").read_text())  # the window starts once it polls
    deadline = (datetime.now(UTC) + timedelta(seconds=40)).replace(microsecond=0)
    prepared = closing_at(deadline)
    try:
        await start_call(dev.client, prepared, queue)
        handles = [await start_application(dev.client, application_input(prepared, f"k{i}-{queue}"), queue)
                   for i in range(drafts + submitted)]
        await asyncio.gather(*(act(h, "submit", "applicant") for h in handles[drafts:]))
        assert datetime.now(UTC) < deadline, "setting up took longer than the window"
        closes = (TransitionRow.trigger == "close",)
        await _wait(lambda: _count(db, *closes) > 0)
        first.send_signal(signal.SIGKILL)
        first.wait()
        closed_when_killed = _count(db, *closes)
    finally:
        first.kill()
    assert closed_when_killed == drafts, "the bulk closure closes a batch in one transaction, all or nothing"
    second = _worker_process(dev, database, queue, tmp_path / "second.log")
    try:
        def report_stored() -> bool:
            with Session(db) as s:
                return s.exec(select(ClosureReportRow).where(ClosureReportRow.phase == "application")).first() is not None
        await _wait(report_stored)
        await asyncio.wait_for(asyncio.gather(*(h.result() for h in handles[:drafts])), 300)  # caught up, closed (a liveness bound, generous for a loaded machine)
        # An activity the kill interrupted is retried once its start-to-close timeout (60 s) has passed.
        await _wait(lambda: not _undelivered(db), limit_s=180)
        # The call may still be publishing an event, whose notice is handed over before its transaction commits (by
        # this worker, or by the killed one, whose attempt is retried after its timeout): the worker is stopped once
        # every notice handed over is stored (stopped in between, the next worker's retry would store it).
        await _wait(lambda: {*_delivered(tmp_path / "first.log"), *_delivered(tmp_path / "second.log")}
                    <= _stored(db), limit_s=180)
    finally:
        second.terminate()
        second.wait()
    with Session(db) as s:
        per_application = s.exec(select(TransitionRow.application_id, func.count()).where(
            TransitionRow.trigger == "close").group_by(TransitionRow.application_id)).all()
        states = s.exec(select(ApplicationRow.state, func.count()).group_by(ApplicationRow.state)).all()
        notices = s.exec(select(NoticeRow)).all()
        report = s.exec(select(ClosureReportRow).where(ClosureReportRow.phase == "application")).one()
    assert sorted(a for a, _ in per_application) == sorted(f"k{i}-{queue}" for i in range(drafts))
    assert {n for _, n in per_application} == {1}
    assert dict(states) == {"closed_unsubmitted": drafts, "awaiting_unit_review": submitted}
    assert json.loads(report.counts_json) == {"closed_unsubmitted": drafts, "unsettled": 0}
    first_sent, second_sent = _delivered(tmp_path / "first.log"), _delivered(tmp_path / "second.log")
    assert len(first_sent) == len(set(first_sent)) and len(second_sent) == len(set(second_sent)), \
        "a worker delivered a notice twice"
    # Delivery is at least once: the killed worker may have handed over a notice and died before its commit, and
    # the retry hands it over again. Every other notice is delivered once.
    assert sorted(set(first_sent) | set(second_sent)) == sorted(n.key for n in notices)
    repeated = set(first_sent) & set(second_sent)
    assert len(repeated) <= 1, f"more than the one notice in flight at the kill was repeated: {sorted(repeated)}"
    closing_notices = {n.application_id for n in notices if n.key.split(":")[1] == "0"}
    assert {f"k{i}-{queue}" for i in range(drafts)} <= closing_notices
    logged = _entries(tmp_path / "first.log", "transition") + _entries(tmp_path / "second.log", "transition")
    assert logged and all({"call_id", "application_id", "workflow_id", "run_id", "trigger", "actor_id"} <= set(e)
                          for e in logged)
