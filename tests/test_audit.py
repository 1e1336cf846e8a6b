"""Audit from the histories: trail, at, export, replay, verify and report; tampered exports, edited DB rows and
non-deterministic code changes are each caught and named."""

from __future__ import annotations

import asyncio
import base64
import concurrent.futures
import json
import re
import shutil
import sqlite3
import sys
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, fields, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select
from temporalio import workflow
from temporalio.client import Client, WorkflowExecutionStatus, WorkflowHandle
from temporalio.worker import Worker
from typer.testing import CliRunner

from activities.notices import MemoryChannel
from activities.records import RecordActivities, Recorded, RecordInput
from audit.at import application_at
from audit.export import code_version, export_call
from audit.findings import Finding
from audit.history import Execution, decode, fetch_execution, instant, kind
from audit.life import ApplicationLife, application_life, call_life
from audit.records import load_records
from audit.replay import replay_all
from audit.report import render_report
from audit.source import Bundle, application_from_server, from_server, read_export
from audit.trail import build_trail, trail_csv, trail_json
from audit.verify import chain_rules, lives, verify
from cli import app as cli_app
from client.calls import Prepared, Refusal, act_on, manage, prepare, start_application, start_call
from commands.running import export_to
from models import lifecycle
from models.call import load_call
from models.deadlines import Deadlines
from models.identity import in_process
from models.messages import (
    ActRequest,
    ApplicationInput,
    ApplicationStatus,
    ExtendRequest,
    NoticeDraft,
    TransitionRecord,
    application_workflow_id,
    call_workflow_id,
)
from records.chain import row_hash
from records.engine import make_engine
from records.tables import ApplicationRow, NoticeRow, TransitionRow
from simulation.launch import simulate
from tests.conftest import CALLS, ROOT, Servers, Stack
from tests.hang_guard import Hung, within
from tests.helpers import act, application_input, hours, sleep_until
from worker import build_worker, sandbox_runner
from workflows import application_patches
from workflows.application import ApplicationWorkflow
from workflows.application_patches import LINES
from workflows.call import CallWorkflow

CALL_000 = CALLS / "000-sx-2025-basic-research-geology.yaml"
GOLDEN = Path(__file__).resolve().parent / "golden"
GOLDEN_DIRS = sorted(p.parent for p in GOLDEN.glob("*/manifest.json"))
LEGACY_DIRS = sorted(p.parent for p in GOLDEN.glob("legacy/*/manifest.json"))
# Written by the code of 9b834c2, before record_transition said what it stored (the patch record-returns-recorded).
LEGACY = GOLDEN / "legacy" / "sx-2025-basic-geology"
# What the golden histories themselves record, found by `audit verify`: in 004 the sign_pi step's role is the
# applicant, and models/lifecycle.py `told()` then names the applicant twice, so one record asks for the same
# notice twice (the outbox delivers it once). Re-record 004 once that is fixed, and empty this.
KNOWN_IN_GOLDEN = {"gx-key-rd-heavy-metal": {"notice.duplicate"}}
CALL_REASON = "申报系统故障 <系统维护>"
A1_REASON = "推荐单位网络故障"
SET_UP_LIMIT_S = 240  # the set-up takes well under a minute; the per-test limit does not cover a fixture


# ---- code changed after the histories were written -----------------------------------------------------------


@workflow.defn(name="ApplicationWorkflow", sandboxed=False)
class Drifted(ApplicationWorkflow):
    """A non-deterministic change: a timer before every record, which the histories do not have."""

    @workflow.init
    def __init__(self, inp: ApplicationInput) -> None:
        super().__init__(inp)

    async def _record(self, record: TransitionRecord | None, notices: list[NoticeDraft], *rest: Any) -> None:
        await workflow.sleep(timedelta(seconds=1))
        await super()._record(record, notices, *rest)

    @workflow.run
    async def run(self, inp: ApplicationInput) -> ApplicationStatus:
        return await super().run(inp)


@workflow.defn(name="ApplicationWorkflow", sandboxed=False)
class Failing(ApplicationWorkflow):
    """A change that fails while replaying an approval; the SDK's message names no event."""

    @workflow.init
    def __init__(self, inp: ApplicationInput) -> None:
        super().__init__(inp)

    async def _record(self, record: TransitionRecord | None, notices: list[NoticeDraft], *rest: Any) -> None:
        if record is not None and record.trigger == "approve":
            raise RuntimeError("approvals are recorded differently now")
        await super()._record(record, notices, *rest)

    @workflow.run
    async def run(self, inp: ApplicationInput) -> ApplicationStatus:
        return await super().run(inp)


@workflow.defn(name="ApplicationWorkflow", sandboxed=False)
class Unpatched(ApplicationWorkflow):
    """The change to `Recorded` without `workflow.patched`: the activity's annotation decides the result type."""

    @workflow.init
    def __init__(self, inp: ApplicationInput) -> None:
        super().__init__(inp)

    async def _record(self, record: TransitionRecord | None, notices: list[NoticeDraft], *rest: Any) -> None:
        async with self.lock:
            await workflow.execute_local_activity_method(
                RecordActivities.record_transition,
                RecordInput(call_id=self.call.id, application_id=self.inp.application_id, state=self.s.state,
                            transition=record, notices=notices),
                start_to_close_timeout=timedelta(seconds=30))

    @workflow.run
    async def run(self, inp: ApplicationInput) -> ApplicationStatus:
        return await super().run(inp)


class DayLate(Deadlines):
    """A faulty deadline rule: every phase closes a day late."""

    def phase_close(self, phase_id: str) -> datetime | None:
        closes = super().phase_close(phase_id)
        return closes + timedelta(days=1) if closes else None


@workflow.defn(name="ApplicationWorkflow", sandboxed=False)
class Lenient(ApplicationWorkflow):
    """A faulty workflow: phase windows a day too long, and any role may act."""

    @workflow.init
    def __init__(self, inp: ApplicationInput) -> None:
        super().__init__(inp)

    @property
    def deadlines(self) -> Deadlines:
        d = super().deadlines
        return DayLate(**{f.name: getattr(d, f.name) for f in fields(d)})

    def _refusal(self, req: Any, now: datetime, identities: bool = True) -> str | None:
        why = super()._refusal(req, now, identities)
        return None if why and why.startswith("role ") else why

    @workflow.run
    async def run(self, inp: ApplicationInput) -> ApplicationStatus:
        return await super().run(inp)


# ---- one call lived through once for the module ----------------------------------------------------------------


@dataclass
class Lived:
    client: Client
    engine: Engine
    db_path: Path
    prepared: Prepared
    ids: dict[str, str]
    statuses: dict[str, ApplicationStatus]
    bundle: Bundle
    extended_to: datetime

    @property
    def call_id(self) -> str:
        return self.prepared.definition.id

    def instant(self, phase: str, edge: str) -> datetime:
        p = self.prepared.timetable.get(phase)
        at = p.opens if edge == "opens" else p.closes
        assert at is not None
        return at

    def life(self, name: str) -> ApplicationLife:
        return self.bundle.application(self.ids[name])

    def execution(self, name: str) -> Execution:
        return next(e for e in self.bundle.executions if e.workflow_id == application_workflow_id(self.ids[name]))

    def copy_db(self, target: Path) -> Engine:
        """A copy of the records DB to tamper with (SQLite's backup: the WAL is included)."""
        with sqlite3.connect(self.db_path) as src, sqlite3.connect(target) as dst:
            src.backup(dst)
        return make_engine(f"sqlite:///{target}")


async def _settled(client: Client, engine: Engine, call: WorkflowHandle[Any, Any],
                   apps: dict[str, WorkflowHandle[Any, Any]], expected: dict[str, str],
                   closures: int) -> dict[str, ApplicationStatus]:
    """Wait (real time, polling) until the workflows, the records DB and the histories all show the expected end."""
    for _ in range(600):
        statuses = {n: await h.query(ApplicationWorkflow.status) for n, h in apps.items()}
        with Session(engine) as s:
            stored = {r.id: r.state for r in s.exec(select(ApplicationRow)).all()}
        histories = {n: (await fetch_execution(client, h.id)) for n, h in apps.items()}
        folded = {n: len(application_life(e.workflow_id, e.runs).transitions) for n, e in histories.items()}
        call_status = await call.query(CallWorkflow.status)
        call_folded = call_life(call.id, (await fetch_execution(client, call.id)).runs)
        if ({n: st.state for n, st in statuses.items()} == expected
                and all(stored.get(st.application_id) == st.state for st in statuses.values())
                and all(folded[n] == len(st.transitions) for n, st in statuses.items())
                and call_status.published_seq == call_status.events[-1].seq
                and len(call_folded.closures) >= closures):
            return statuses
        await asyncio.sleep(0.05)
    raise AssertionError(f"the workflows did not settle: {expected}")


@pytest_asyncio.fixture(scope="module")
async def lived(servers: Servers, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Lived]:
    """Call 000 under its own id with three applications: a1 gets an extension of the recommendation deadline for
    itself alone and is approved at the call's deadline; a2 lapses there; a3 never submits and is closed. The call's
    application window is extended for everyone; two late requests are refused. A set-up stuck on the shared
    time-skipping server (seen in several full runs, its cause unknown) prints its tasks' stacks and runs again once on a
    fresh server."""
    try:
        made = await within(SET_UP_LIMIT_S, lambda: _live(servers, tmp_path_factory))
    except Hung as hung:
        print(f"the set-up did not finish within {SET_UP_LIMIT_S} s; where its tasks waited:\n{hung}", file=sys.stderr)
        await servers.replace()
        made = await within(SET_UP_LIMIT_S, lambda: _live(servers, tmp_path_factory))
    yield made
    made.engine.dispose()


async def _live(servers: Servers, tmp_path_factory: pytest.TempPathFactory) -> Lived:
    env = await servers.current()
    db_path = tmp_path_factory.mktemp("audit") / "records.db"
    engine = make_engine(f"sqlite:///{db_path}")
    definition = load_call(CALL_000).model_copy(update={"id": f"audit-{uuid.uuid4().hex[:8]}"})
    prepared = prepare(definition, not_before=await env.get_current_time())
    t = prepared.timetable
    opens, closes = t.get("application").opens, t.get("application").closes
    recommendation_closes = t.get("recommendation").closes
    assert opens and closes and recommendation_closes
    ids = {name: f"{definition.id}.{name}" for name in ("a1", "a2", "a3")}
    task_queue = f"tq-{uuid.uuid4()}"
    extended_to = recommendation_closes + timedelta(days=2)
    async with build_worker(env.client, task_queue, engine, MemoryChannel()):
        call = await start_call(env.client, prepared, task_queue)
        apps = {n: await start_application(env.client, application_input(prepared, i), task_queue)
                for n, i in ids.items()}
        await sleep_until(env, opens + hours(1))
        for n in ("a1", "a2"):
            await act(apps[n], "submit", "applicant")
            await act(apps[n], "approve", "unit_admin")
        await manage(call, CallWorkflow.extend_deadline,
                     ExtendRequest("application", closes + timedelta(days=1), "pm-1", "manager", CALL_REASON,
                                   in_process("pm-1", "manager")))
        # Not at a reminder instant (T-1 day): the test server fails an update whose task also fires a timer
        # that runs a local activity ("invalid history builder state").
        await sleep_until(env, recommendation_closes - hours(25))
        await apps["a1"].execute_update(ApplicationWorkflow.extend_deadline,
                                        ExtendRequest("recommendation", extended_to, "pm-1", "manager", A1_REASON,
                                                      in_process("pm-1", "manager")))
        # Exactly to the call's deadline: its closure then waits for a1 while time stands still.
        await sleep_until(env, recommendation_closes)
        await act(apps["a1"], "approve", "recommender")
        for n, trigger, role, who in (("a2", "approve", "recommender", "org-1"), ("a3", "submit", "applicant", "pi-1")):
            with pytest.raises(Refusal):
                await act_on(env.client, ids[n], ActRequest(trigger, who, role, identity=in_process(who, role)))
        statuses = await _settled(env.client, engine, call, apps,
                                  {"a1": "accepted", "a2": "lapsed", "a3": "closed_unsubmitted"}, closures=2)
        handles: list[WorkflowHandle[Any, Any]] = [call, *apps.values()]
        for handle in handles:
            if (await handle.describe()).status == WorkflowExecutionStatus.RUNNING:
                await handle.terminate(reason="the audit tests need no more of it")
    bundle = await from_server(env.client, engine, definition.id)
    return Lived(env.client, engine, db_path, prepared, ids, statuses, bundle, extended_to)


# ---- trail ------------------------------------------------------------------------------------------------------


async def test_trail_rebuilds_every_change_and_each_agrees_with_the_records_db(lived: Lived) -> None:
    for name, status in lived.statuses.items():
        trail = build_trail(lived.life(name), lived.bundle.call(), lived.bundle.records)
        own = [r for r in trail.rows if r.workflow == trail.workflow_id and r.kind in ("transition", "extension")]
        assert [(r.at, r.actor_id, r.role, r.reason, r.deadline) for r in own] == [
            (t.at, t.actor_id, t.role, t.reason, t.deadline) for t in status.transitions]
        assert all((r.request_event is None) == (r.role == "system") for r in own)
        assert all(r.db == "agrees" for r in trail.rows if r.db), [r for r in trail.rows if r.db not in ("", "agrees")]
        with Session(lived.engine) as s:
            keys = s.exec(select(NoticeRow.key).where(NoticeRow.application_id == status.application_id)).all()
        assert len([r for r in trail.rows if r.kind == "notice"]) == len(keys) > 0
        assert trail.state == status.state
    a1 = build_trail(lived.life("a1"), lived.bundle.call(), lived.bundle.records)
    extension = next(r for r in a1.rows if r.kind == "extension")
    assert (extension.actor_id, extension.role, extension.reason) == ("pm-1", "manager", A1_REASON)
    late = next(r for r in a1.rows if r.kind == "transition" and r.role == "recommender")
    assert late.at >= lived.instant("recommendation", "closes") and late.deadline == lived.extended_to
    phases = [(r.what.split(" (")[0], r.actor_id, r.reason) for r in a1.rows if r.kind == "phase"]
    assert ("application extended", "pm-1", CALL_REASON) in phases
    assert {r.what.split(" closed")[0] for r in a1.rows if r.kind == "closure"} == {"application", "recommendation"}
    a2 = build_trail(lived.life("a2"), lived.bundle.call(), lived.bundle.records)
    lapse = next(r for r in a2.rows if "then lapse awaiting_organiser_review -> lapsed" in r.what)
    assert (lapse.kind, lapse.what.split(";")[0]) == ("signal", "recommendation closed by the call's bulk closure")
    a3 = build_trail(lived.life("a3"), lived.bundle.call(), lived.bundle.records)
    assert [r.what for r in a3.rows if r.kind == "transition"] == ["close: draft -> closed_unsubmitted"]


async def test_a_workflow_adopts_the_closure_its_signal_carries_and_the_trail_proves_it_from_the_signal(
        lived: Lived) -> None:
    """a3's draft was closed in bulk: the catch-up signal carries what the closure stored (the row, its chain hash,
    its notices), the workflow adopts it without a record_transition of its own, and the trail anchors the closure
    at that signal."""
    events = [e for run in lived.execution("a3").runs for e in run.events]
    signal = next(e for e in events if kind(e) == "WORKFLOW_EXECUTION_SIGNALED"
                  and e.workflow_execution_signaled_event_attributes.signal_name == "window_closed")
    carried = decode(signal.workflow_execution_signaled_event_attributes.input, Recorded, 1)
    looked_up = [e.event_id for e in events if e.event_id > signal.event_id and kind(e) == "MARKER_RECORDED"
                 and "record_transition" in str(e.marker_recorded_event_attributes.details.get("data"))]
    assert looked_up == []
    closure = lived.statuses["a3"].transitions[-1]
    assert carried.transition == closure and closure.trigger == "close"
    with Session(lived.engine) as s:
        row = s.exec(select(TransitionRow).where(TransitionRow.application_id == lived.ids["a3"],
                                                 TransitionRow.seq == closure.seq)).one()
        keys = s.exec(select(NoticeRow.key).where(NoticeRow.application_id == lived.ids["a3"],
                                                  col(NoticeRow.key).contains(f":{closure.seq}:"))).all()
    assert (carried.chain_hash, closure.at, closure.actor_id) == (row.hash, row.at, row.actor_id)
    assert sorted(carried.notice_keys) == sorted(keys) != []
    proven = next(p for p in lived.life("a3").transitions if p.record.seq == closure.seq)
    assert (proven.event_id, proven.chain_hash) == (signal.event_id, row.hash)


async def test_trail_of_one_application_fetches_only_its_call_and_itself(lived: Lived) -> None:
    bundle = await application_from_server(lived.client, lived.engine, lived.ids["a2"])
    assert [e.workflow_id for e in bundle.executions] == [call_workflow_id(lived.call_id),
                                                          application_workflow_id(lived.ids["a2"])]
    alone = build_trail(bundle.application(lived.ids["a2"]), bundle.call(), bundle.records)
    assert alone == build_trail(lived.life("a2"), lived.bundle.call(), lived.bundle.records)


async def test_trail_formats_give_each_instant_in_the_calls_zone_and_in_utc(lived: Lived) -> None:
    trail = build_trail(lived.life("a1"), lived.bundle.call(), lived.bundle.records)
    rows = trail_csv(trail).splitlines()
    data = json.loads(trail_json(trail))
    assert len(rows) - 1 == len(data["rows"]) == len(trail.rows)
    assert rows[0].split(",")[:5] == ["event", "request_event", "workflow", "local", "utc"]
    for row in data["rows"]:
        assert row["local"].endswith("+08:00") and row["utc"].endswith("+00:00")
        assert datetime.fromisoformat(row["local"]) == datetime.fromisoformat(row["utc"])
    assert data["db"] == {"agrees": len([r for r in trail.rows if r.db])}


# ---- at ----------------------------------------------------------------------------------------------------------


async def test_at_rebuilds_the_state_by_replaying_the_history_to_the_instant(lived: Lived) -> None:
    recommendation_closes = lived.instant("recommendation", "closes")
    draft = await application_at(lived.execution("a1"), lived.instant("application", "opens"))
    assert (draft.life.state, draft.life.transitions, draft.replay_failure) == ("draft", [], None)
    before = await application_at(lived.execution("a1"), recommendation_closes - hours(1))
    assert before.life.state == "awaiting_organiser_review"
    assert before.life.deadlines()["step:organiser_review"] == lived.extended_to
    assert before.replayed is not None and before.replayed.state == "awaiting_organiser_review"
    assert before.replayed.extensions == {"recommendation": lived.extended_to}
    assert before.disagreements == [] and before.replay_failure is None
    after = await application_at(lived.execution("a2"), recommendation_closes + hours(1))
    assert after.life.state == after.replayed.state == "lapsed"  # type: ignore[union-attr]
    with pytest.raises(ValueError, match="did not exist yet"):
        await application_at(lived.execution("a2"), lived.instant("application", "opens") - timedelta(days=400))


# ---- verify: the histories, the records DB and its hash chain ---------------------------------------------------


def _named(findings: list[Finding]) -> set[tuple[str, str, int | None]]:
    return {(f.rule, f.workflow_id, f.event_id) for f in findings}


async def test_verify_passes_on_a_call_lived_by_the_rules(lived: Lived) -> None:
    result = verify(lived.bundle)
    assert result.findings == []
    assert result.workflows == 4 and result.events == lived.bundle.events > 100


async def test_verify_names_an_edited_transitions_row(lived: Lived, tmp_path: Path) -> None:
    a1 = lived.life("a1")
    approve = next(p for p in a1.transitions if p.record.role == "recommender")
    engine = lived.copy_db(tmp_path / "edited.db")
    with Session(engine) as s:
        row = s.exec(select(TransitionRow).where(TransitionRow.application_id == a1.application_id,
                                                 TransitionRow.seq == approve.record.seq)).one()
        row.reason = "同意推荐（事后补写）"
        s.add(row)
        s.commit()
    found = verify(replace(lived.bundle, records=load_records(engine, lived.call_id))).findings
    assert _named(found) == {("chain.hash", a1.workflow_id, approve.event_id),
                             ("db.transition.differs", a1.workflow_id, approve.event_id)}


async def test_verify_names_a_rewritten_and_rehashed_row_and_a_deleted_one(lived: Lived, tmp_path: Path) -> None:
    a1, a2 = lived.life("a1"), lived.life("a2")
    submit = a1.transitions[0]
    engine = lived.copy_db(tmp_path / "rehashed.db")
    with Session(engine) as s:
        rows = list(s.exec(select(TransitionRow).order_by(TransitionRow.id)).all())  # type: ignore[arg-type]
        edited = next(r for r in rows if r.application_id == a1.application_id and r.seq == submit.record.seq)
        follower = rows[rows.index(edited) + 1]
        edited.actor_id = "pi-99"
        edited.hash = row_hash(edited.prev_hash, edited.model_dump())
        s.add(edited)
        s.commit()
        follower_wf = application_workflow_id(follower.application_id)
        follower_seq = follower.seq
    follower_event = next(p.event_id for p in lived.bundle.application(follower.application_id).transitions
                          if p.record.seq == follower_seq)
    found = verify(replace(lived.bundle, records=load_records(engine, lived.call_id))).findings
    assert _named(found) == {("chain.anchor", a1.workflow_id, submit.event_id),
                             ("db.transition.differs", a1.workflow_id, submit.event_id),
                             ("chain.link", follower_wf, follower_event)}

    engine = lived.copy_db(tmp_path / "deleted.db")
    gone = a2.transitions[0]
    with Session(engine) as s:
        rows = list(s.exec(select(TransitionRow).order_by(TransitionRow.id)).all())  # type: ignore[arg-type]
        row = next(r for r in rows if r.application_id == a2.application_id and r.seq == gone.record.seq)
        follower = rows[rows.index(row) + 1]
        s.delete(row)
        s.commit()
        follower_key = (follower.application_id, follower.seq)
    follower_event = next(p.event_id for p in lived.bundle.application(follower_key[0]).transitions
                          if p.record.seq == follower_key[1])
    found = verify(replace(lived.bundle, records=load_records(engine, lived.call_id))).findings
    assert _named(found) == {("db.transition.missing", a2.workflow_id, gone.event_id),
                             ("chain.link", application_workflow_id(follower_key[0]), follower_event)}


def _record_input(call_id: str, i: int) -> RecordInput:
    t = TransitionRecord(seq=0, trigger="submit", source="draft", dest="awaiting_unit_review", actor_id=f"pi-{i}",
                         role="applicant", reason="", at=datetime.fromisoformat("2025-03-06T10:00:00+08:00"))
    return RecordInput(call_id=call_id, application_id=f"{call_id}.{i}", state=t.dest, transition=t)


def test_hash_chain_has_no_fork_when_many_records_are_written_at_once(db: Engine) -> None:
    engine = db
    records = RecordActivities(engine, MemoryChannel())
    with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
        done = list(pool.map(records.record_transition, [_record_input("c", i) for i in range(60)]))
    stored = load_records(engine, "c")
    assert len(stored.transitions) == 60
    assert len({r.prev_hash for r in stored.transitions}) == 60
    assert list(chain_rules(stored, [])) == []
    assert sorted(d.chain_hash or "" for d in done) == sorted(r.hash for r in stored.transitions)
    again = records.record_transition(_record_input("c", 7))
    assert again.chain_hash == next(r.hash for r in stored.transitions if r.application_id == "c.7")


async def test_verify_names_a_change_after_its_deadline_and_a_change_by_a_wrong_role(stack: Stack) -> None:
    definition = load_call(CALL_000).model_copy(update={"id": f"lenient-{uuid.uuid4().hex[:8]}"})
    prepared = prepare(definition, not_before=await stack.env.get_current_time())
    records = RecordActivities(stack.engine, stack.channel)
    worker = Worker(stack.client, task_queue=stack.task_queue, workflows=[Lenient],
                    activities=[records.register_application, records.record_transition],
                    activity_executor=concurrent.futures.ThreadPoolExecutor(4), workflow_runner=sandbox_runner())
    opens, closes = prepared.timetable.get("application").opens, prepared.timetable.get("application").closes
    assert opens and closes
    async with worker:
        wrong = await start_application(stack.client, application_input(prepared, f"{definition.id}.w"),
                                        stack.task_queue)
        late = await start_application(stack.client, application_input(prepared, f"{definition.id}.l"),
                                       stack.task_queue)
        await sleep_until(stack.env, opens + hours(1))
        await act(wrong, "submit", "applicant")
        await act(wrong, "approve", "applicant", "pi-1")
        await sleep_until(stack.env, closes + hours(1))
        await act(late, "submit", "applicant")
        for h in (wrong, late):
            await h.terminate(reason="done")
    executions = [await fetch_execution(stack.client, h.id) for h in (wrong, late)]
    bundle = Bundle(definition.id, executions, load_records(stack.engine, definition.id))
    wrong_life, late_life = bundle.application(f"{definition.id}.w"), bundle.application(f"{definition.id}.l")
    (submitted, approve), late_submit = wrong_life.transitions, late_life.transitions[0]
    # Every windowed change of the faulty workflow recorded a deadline a day later than the history establishes.
    assert _named(verify(bundle).findings) == {("role", wrong.id, approve.event_id),
                                               ("deadline.recorded", wrong.id, submitted.event_id),
                                               ("deadline.recorded", wrong.id, approve.event_id),
                                               ("deadline", late.id, late_submit.event_id),
                                               ("deadline.recorded", late.id, late_submit.event_id)}


# ---- export and the manifest ---------------------------------------------------------------------------------------


def _tamper_reason(path: Path, old: str, new: str) -> None:
    """Change a reason inside the payload of a marker: the file stays valid JSON, only the content differs."""
    data = json.loads(path.read_text(encoding="utf-8"))
    for e in data["events"]:
        for payload in e.get("markerRecordedEventAttributes", {}).get("details", {}).get("result", {}).get(
                "payloads", []):
            text = base64.b64decode(payload.get("data", "")).decode()
            if old in text:
                payload["data"] = base64.b64encode(text.replace(old, new).encode()).decode()
    path.write_text(json.dumps(data), encoding="utf-8")


async def test_export_then_a_tampered_file_a_missing_one_and_a_stray_one_are_named(lived: Lived,
                                                                                   tmp_path: Path) -> None:
    out = tmp_path / "export"
    manifest = await export_call(lived.client, lived.engine, lived.call_id, out)
    assert manifest["code_version"] == code_version()
    assert verify(read_export(out)).findings == []
    histories = {f["workflow_id"]: out / f["path"] for f in manifest["files"] if f["kind"] == "history"}
    apps = {application_workflow_id(i) for i in lived.ids.values()}
    assert set(histories) == {call_workflow_id(lived.call_id), *apps}

    a1 = lived.life("a1")
    extension = next(p for p in a1.transitions if p.record.trigger == "extend_deadline")
    _tamper_reason(histories[a1.workflow_id], A1_REASON, "例行延期")
    assert _named(verify(read_export(out)).findings) == {("manifest.hash", a1.workflow_id, None),
                                                         ("db.transition.differs", a1.workflow_id, extension.event_id)}
    a3 = application_workflow_id(lived.ids["a3"])
    histories[a3].unlink()
    (out / "histories" / "notes.txt").write_text("added later", encoding="utf-8")
    rules = {(f.rule, f.workflow_id) for f in verify(read_export(out)).findings}
    assert {("manifest.missing", a3), ("manifest.extra", "histories/notes.txt")} <= rules


async def test_export_since_takes_only_workflows_with_later_events(lived: Lived, tmp_path: Path) -> None:
    last = max(instant(e.runs[-1].events[-1]) for e in lived.bundle.executions)
    everything = await export_call(lived.client, lived.engine, lived.call_id, tmp_path / "all",
                                   since=lived.instant("application", "opens"))
    nothing = await export_call(lived.client, lived.engine, lived.call_id, tmp_path / "none",
                                since=last + timedelta(seconds=1))
    assert len([f for f in everything["files"] if f["kind"] == "history"]) == 4
    assert [f["kind"] for f in nothing["files"]] == ["records"]
    with pytest.raises(FileExistsError):
        await export_call(lived.client, lived.engine, lived.call_id, tmp_path / "all")


# ---- replay --------------------------------------------------------------------------------------------------------


def _first_record_marker(execution: Execution) -> int:
    for e in execution.runs[0].events:
        m = e.marker_recorded_event_attributes
        if kind(e) == "MARKER_RECORDED" and m.marker_name == "core_local_activity" and decode(
                m.details["data"], dict)["activity_type"] == "record_transition":
            return int(e.event_id)
    raise AssertionError(f"{execution.workflow_id} recorded nothing")


async def test_replay_passes_with_the_code_that_wrote_the_histories(lived: Lived) -> None:
    seen: list[str] = []
    result = await replay_all(lived.bundle.executions, progress=lambda ex: seen.append(ex.workflow_id))
    assert result.findings == []
    assert sorted(seen) == sorted(e.workflow_id for e in lived.bundle.executions)


async def test_replay_names_each_workflow_a_non_deterministic_change_breaks_and_where(lived: Lived) -> None:
    result = await replay_all(lived.bundle.executions, workflows=[CallWorkflow, Drifted])
    apps = [e for e in lived.bundle.executions if e.workflow_type == "ApplicationWorkflow"]
    assert {f.workflow_id for f in result.findings} == {e.workflow_id for e in apps}
    for f in result.findings:
        execution = next(e for e in apps if e.workflow_id == f.workflow_id)
        assert f.rule == "replay" and f.event_id is not None
        assert 1 < f.event_id <= _first_record_marker(execution), f


async def test_replay_finds_the_diverging_task_when_the_sdk_names_no_event(lived: Lived) -> None:
    execution = lived.execution("a2")
    result = await replay_all([execution], workflows=[CallWorkflow, Failing])
    events = execution.runs[0].events
    approval = next(p for p in lived.life("a2").transitions if p.record.trigger == "approve")
    task = max(int(e.event_id) for e in events
               if kind(e) == "WORKFLOW_TASK_COMPLETED" and e.event_id < approval.event_id)
    assert _named(result.findings) == {("replay", execution.workflow_id, task)}
    assert "approvals are recorded differently now" in result.findings[0].message


# ---- golden histories: old histories must replay with the current code ------------------------------------------


def test_every_seed_call_has_golden_histories() -> None:
    assert {load_call(p).id for p in CALLS.glob("00[0-4]-*.yaml")} <= {d.name for d in GOLDEN_DIRS}


@pytest.mark.parametrize("directory", GOLDEN_DIRS + LEGACY_DIRS,
                         ids=[str(d.relative_to(GOLDEN)) for d in GOLDEN_DIRS + LEGACY_DIRS])
async def test_golden_histories_replay_with_the_current_code(directory: Path) -> None:
    bundle = read_export(directory)
    replayed = await replay_all(bundle.executions)
    assert replayed.findings == [] and replayed.workflows == len(bundle.executions) > 1


@pytest.mark.parametrize("directory", GOLDEN_DIRS, ids=[d.name for d in GOLDEN_DIRS])
def test_golden_histories_verify(directory: Path) -> None:
    assert {f.rule for f in verify(read_export(directory)).findings} == KNOWN_IN_GOLDEN.get(directory.name, set())


async def test_a_run_on_todays_code_records_one_patch_marker_for_all_its_patches(lived: Lived) -> None:
    """Each patch costs a history a marker and a search-attribute upsert: a run started on today's code records
    its line's marker alone and takes the path of every patch the line names (the trail's extension floor follows)."""
    for name in lived.ids:
        events = [e for run in lived.execution(name).runs for e in run.events]
        patches = [decode(e.marker_recorded_event_attributes.details["patch-data"], dict)["id"] for e in events
                   if kind(e) == "MARKER_RECORDED" and e.marker_recorded_event_attributes.marker_name == "core_patch"]
        assert patches == [LINES[0][0]], name
        assert [kind(e) for e in events].count("UPSERT_WORKFLOW_SEARCH_ATTRIBUTES") == 1, name
        assert lived.life(name).extension_floor


RELEASED_LINES = {  # as released: a run that recorded a line replays only if its set never changes
    "application-2026-12": {
        "bulk-closure", "extension-never-shortens", "formal-verdicts", "identity-checks", "no-reminder-after-its-deadline",
        "paper-receipts", "quota-forms", "recommendation-rules", "record-returns-recorded", "staged-paper",
        "steady-wake-timer", "vacancy"},
}


def test_released_lines_of_patches_never_change_and_the_newest_names_every_patch_asked_for() -> None:
    lines = dict(LINES)
    assert {marker: set(lines.get(marker, ())) for marker in RELEASED_LINES} == RELEASED_LINES
    assert all(older <= newer for (_, newer), (_, older) in zip(LINES, LINES[1:], strict=False))
    constants = {name: value for module in (application_patches, lifecycle) for name, value in vars(module).items()
                 if name.endswith("_PATCH")}
    asked = {constants.get(m, m.strip('"')) for path in (ROOT / "workflows").glob("application*.py")
             for m in re.findall(r"_patched\((?:patches\.)?([\w\"-]+)\)", path.read_text(encoding="utf-8"))}
    assert len(asked) == 12 and asked == set(LINES[0][1])


async def test_histories_from_before_the_patch_replay_only_because_of_it() -> None:
    bundle = read_export(LEGACY)
    assert (await replay_all(bundle.executions)).findings == []
    unpatched = await replay_all(bundle.executions, workflows=[CallWorkflow, Unpatched])
    assert {f.workflow_id for f in unpatched.findings} == {
        e.workflow_id for e in bundle.executions if e.workflow_type == "ApplicationWorkflow"}


# ---- report and the command line ------------------------------------------------------------------------------


async def test_report_shows_timeline_states_exceptions_and_checks_to_non_engineers(lived: Lived) -> None:
    result = verify(lived.bundle)
    call, apps, _ = lives(lived.bundle)
    page = render_report(lived.bundle, result, call, apps)
    assert "All checks passed" in page
    for phase in lived.prepared.definition.phases:
        assert phase.name in page
    for label in ("accepted", "lapsed at a step deadline", "closed unsubmitted"):
        assert f"<td>{label}</td><td class=n>1</td>" in page
    assert page.count("deadline extended") == 2 and A1_REASON in page and "pm-1" in page
    assert "&lt;系统维护&gt;" in page and "<系统维护>" not in page
    assert not any(s in page for s in ("<script", "src=", "href=", "@import"))


def test_commands_exit_0_when_all_is_well_and_1_with_findings(tmp_path: Path) -> None:
    directory = tmp_path / "golden"
    shutil.copytree(GOLDEN / "sx-2025-basic-geology", directory)
    runner = CliRunner()
    for command in ("verify", "replay"):
        done = runner.invoke(cli_app, ["audit", command, str(directory), "--json"])
        assert done.exit_code == 0, done.output
        assert set(json.loads(done.output)) == {"workflows", "events", "findings"}
    report = tmp_path / "report.html"
    assert runner.invoke(cli_app, ["audit", "report", "--from", str(directory), "--out", str(report)]).exit_code == 0
    assert "All checks passed" in report.read_text(encoding="utf-8")
    app_id = "sx-2025-basic-geology.00000"
    for fmt in ("table", "json", "csv"):
        done = runner.invoke(cli_app, ["audit", "trail", app_id, "--from", str(directory), "--format", fmt])
        assert done.exit_code == 0 and "contract_sign" in done.output, done.output
    manifest = json.loads((directory / "manifest.json").read_text(encoding="utf-8"))
    started = next(f["first_event_at"] for f in manifest["files"] if f.get("workflow_id", "").endswith(app_id))
    when = (datetime.fromisoformat(started) + timedelta(days=30)).isoformat()
    at = runner.invoke(cli_app, ["audit", "at", app_id, when, "--from", str(directory), "--json"])
    assert at.exit_code == 0, at.output
    assert json.loads(at.output)["replay"] == {"failure": None, "divergence_event": None, "disagreements": []}
    next(directory.glob("histories/application-*.gz")).write_bytes(b"\x1f\x8b damaged")
    done = runner.invoke(cli_app, ["audit", "verify", str(directory), "--json"])
    assert done.exit_code == 1
    assert {f["rule"] for f in json.loads(done.output)["findings"]} >= {"manifest.hash", "history.unreadable"}


async def test_simulate_export_is_an_audit_that_needs_no_server(tmp_path: Path) -> None:
    call = load_call(CALL_000)
    report = await simulate(call, 3, seed=5, finished=export_to(call.id, tmp_path / "export"))
    bundle = read_export(tmp_path / "export")
    assert bundle.extras["simulation.json"]["final_states"] == report.final_states
    types = sorted(e.workflow_type for e in bundle.executions)
    assert types == ["ApplicationWorkflow"] * 3 + ["CallWorkflow", "ReviewStageWorkflow"] and bundle.records is not None
    assert verify(bundle).findings == []
    assert (await replay_all(bundle.executions)).findings == []
