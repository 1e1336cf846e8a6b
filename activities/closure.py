"""The bulk closure of a window: settled applications closed in the records batch by batch with their notices, the
notices delivered by a pool, the closure report, then a throttled pass that tells the workflows to catch up."""

from __future__ import annotations

import asyncio
import json
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic import TypeAdapter
from sqlalchemy import func
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import configure_mappers
from sqlmodel import Session, col, select
from temporalio import activity
from temporalio.service import RPCError

from activities.notices import CallNames, Channel, Postman, Texts
from activities.records import CloseInput, ClosureSummary, Recorded
from infra.metrics import DEADLINE_CLOSURES, NOTICES_SENT
from models.call import CallDefinition
from models.closure import SYSTEM_ACTOR, closed_by, reason
from models.extensions import Applicant, Extension, binding_extension
from models.lifecycle import TransitionSpec, build_lifecycle
from models.messages import TransitionRecord
from records import statements as sql
from records.chain import GENESIS, row_hash
from records.engine import writing
from records.tables import ApplicationRow, ContactRow, ExtensionRow, NoticeRow, TransitionRow

SIGNAL = "window_closed"
EXTENSIONS = TypeAdapter(list[Extension])
BATCH = 500  # applications closed per transaction
DELIVERY_CHUNK = 200  # notices delivered between two heartbeats
READ_AHEAD = 25  # notices a sender reads at once; each is then claimed, handed over and marked in its own transaction
SENDERS = 4  # the delivery pool on a server database: a chunk's READ_AHEAD-sized batches at once
CATCH_UP = 16  # application workflows told to catch up at once: the throttle of the background pass


@dataclass(frozen=True)
class Plan:
    """What this closure does: the transition from each settled state, for applications of this version and not of
    a category with its own close of the window."""

    call: CallDefinition
    names: CallNames
    version: str
    closing: dict[str, TransitionSpec]
    categories: list[str]
    extensions: list[Extension]
    texts: Texts  # the closing transitions' notice texts, each rendered once per closure and role


def extended_past(extensions: list[Extension], inp: CloseInput, row: Any, people: dict[str, str]) -> bool:
    """A conditional extension selects this application and moves one of the windows this close ends past it: the
    application is left to its own timer."""
    who = Applicant(row.category, row.cohort or "", people.get("recommender", ""), row.unit or "", row.created_at)
    return any(found is not None and found[0] > inp.instant
               for found in (binding_extension(extensions, w, who) for w in inp.windows or [inp.phase]))


def _now() -> datetime:
    return datetime.now(UTC)


class Moved(RuntimeError):
    """An application changed between the closure's read of a batch and its write (another process recorded a
    transition of it): nothing of the batch is written, and the activity's retry reads the batch again."""


class ClosureActivities:
    """Every stage is idempotent and resumes from the cursor it heartbeats: a retry closes nothing twice and delivers
    no notice twice. Late changes never depend on it: the update validators compare with the timetable."""

    def __init__(self, engine: Engine, channel: Channel | Postman) -> None:
        self.engine = engine
        self.channel = channel
        configure_mappers()  # NoticeRow.model_construct (delivery) needs the table's mapper ready

    @activity.defn(name="close_window")
    async def close_window(self, inp: CloseInput) -> ClosureSummary:
        """Close, deliver, wait for what is left to the workflows' own timers, report, tell the workflows."""
        started = time.monotonic()
        details = activity.info().heartbeat_details
        stage, cursor = (str(details[0]), str(details[1])) if len(details) == 2 else ("close", "")
        plan = await asyncio.to_thread(self._plan, inp)
        if stage == "close":
            while plan is not None:
                cursor, closed = await asyncio.to_thread(self._close_batch, inp, plan, cursor)
                activity.heartbeat("close", cursor)
                if closed < BATCH:
                    break
            stage, cursor = "deliver", ""
        if stage == "deliver":
            while True:
                cursor, seen = await asyncio.to_thread(self._deliver_chunk, inp.call_id, cursor)
                activity.heartbeat("deliver", cursor)
                if seen < DELIVERY_CHUNK:
                    break
            stage, cursor = "signal", ""
        waiting = -1
        while True:
            waiting = await asyncio.to_thread(self._waiting, inp, plan.extensions if plan is not None else [])
            if waiting == 0 or time.monotonic() - started > inp.max_wait_s:
                break
            activity.heartbeat("signal", cursor)
            await asyncio.sleep(0.25)
        summary = await asyncio.to_thread(self._report, inp, waiting, time.monotonic() - started)
        states = sorted(plan.closing) if plan is not None else inp.settling_states
        await self._catch_up(inp, plan, states, cursor)
        return summary

    # ---- closing the records -------------------------------------------------------------------------------

    def _plan(self, inp: CloseInput) -> Plan | None:
        with self.engine.connect() as c:
            row = c.execute(sql.CALL_DEFINITION_VERSION, {"b_id": inp.call_id}).first()
            table = c.execute(sql.CALL_TIMETABLE, {"b_id": inp.call_id}).first()
        if row is None:
            return None
        extensions = EXTENSIONS.validate_python(json.loads(table.timetable_json).get("extensions", [])) if table else []
        call = CallDefinition.model_validate_json(row.definition_json)
        closing = closed_by(call, build_lifecycle(call), inp.phase)
        own = [c.id for c in call.categories if inp.phase in c.closes and c.closes[inp.phase] != inp.instant]
        names = CallNames.of(call.id, row.definition_json)
        return Plan(call, names, row.version, closing, own, extensions, Texts("transition", names)) if closing else None

    def _close_batch(self, inp: CloseInput, plan: Plan, after: str) -> tuple[str, int]:
        """Close the next batch of settled applications after `after`, in one transaction of four statements: their
        rows, their transitions (at the instant, chained after the call's head), their notices in the outbox. The
        last id, and how many were looked at."""
        with writing(self.engine), self.engine.begin() as c:
            sql.serialize(c, "chain", inp.call_id)  # before the look-up: a record path's row is then seen
            rows = c.execute(sql.CLOSE_CANDIDATES, {
                "b_call": inp.call_id, "b_after": after, "b_states": sorted(plan.closing), "b_version": plan.version,
                "b_categories": plan.categories, "b_windows": inp.windows, "b_instant": inp.instant,
                "b_limit": BATCH}).all()
            if not rows:
                return after, 0
            closing: list[dict[str, Any]] = []
            moves: list[dict[str, Any]] = []
            notices: list[dict[str, Any]] = []
            now, why = _now(), reason(plan.call, inp.instant)
            for r in rows:
                people = json.loads(r.people_json)
                if plan.extensions and extended_past(plan.extensions, inp, r, people):
                    continue
                spec = plan.closing[r.state]
                values = {"call_id": inp.call_id, "application_id": r.id, "seq": r.last_seq + 1,
                          "trigger": spec.trigger, "source": spec.source, "dest": spec.dest, "actor_id": SYSTEM_ACTOR,
                          "role": "system", "reason": why, "at": inp.instant, "deadline": inp.instant}
                closing.append(values)
                moves.append({"b_id": r.id, "b_last": r.last_seq, "state": spec.dest, "last_seq": r.last_seq + 1,
                              "updated_at": now})
                notices += self._notices(plan, spec, r.workflow_id, people, values, now)
            if closing:
                self._write(c, inp.call_id, closing, moves, notices)
        DEADLINE_CLOSURES.labels("bulk").inc(len(closing))  # committed: a retry's look-up no longer finds them
        if isinstance(self.channel, Postman):
            self.channel.wake()
        return str(rows[-1].id), len(rows)

    @staticmethod
    def _write(c: Connection, call_id: str, closing: list[dict[str, Any]], moves: list[dict[str, Any]],
               notices: list[dict[str, Any]]) -> None:
        """The batch's writes. The rows go first: on SQLite that write takes the file's single write lock (on
        PostgreSQL the caller holds the call's chain lock), so the head read next stays the head until the commit,
        and the transitions are chained after it in the order they are inserted (their ids). A row's hash covers its
        fields, not its id."""
        if c.execute(sql.CLOSE_APPLICATION, moves).rowcount != len(moves):
            raise Moved(f"an application of {call_id} changed after the closure read it; the retry reads it again")
        head = c.execute(sql.CHAIN_HEAD, {"b_call": call_id}).scalar()
        prev = head if head is not None else GENESIS
        for values in closing:
            values["prev_hash"] = prev
            prev = values["hash"] = row_hash(prev, values)
        c.execute(sql.TRANSITIONS.insert(), closing)  # a row already there fails the whole batch
        if notices:
            c.execute(sql.insert_new(c, sql.NOTICES), notices)

    @staticmethod
    def _notices(plan: Plan, spec: TransitionSpec, workflow_id: str, people: dict[str, str],
                 t: dict[str, Any], now: datetime) -> list[dict[str, Any]]:
        """The outbox rows of a closing transition, keyed, addressed and worded as its workflow drafts them."""
        call = plan.call
        data = {"trigger": t["trigger"], "source": t["source"], "dest": t["dest"],
                "dest_label": t["dest"].replace("_", " "), "actor_id": t["actor_id"], "role": t["role"],
                "reason": t["reason"]}
        out = []
        for role in spec.notify:
            recipient = f"{role}:{people.get(role, call.id)}"
            subject, body = plan.texts.render(data, t["application_id"], recipient)
            out.append({"key": f"{workflow_id}:{t['seq']}:{role}", "call_id": call.id,
                        "application_id": t["application_id"], "recipient": recipient, "kind": "transition",
                        "subject": subject, "body": body, "created_at": now, "delivered_at": None, "channel": None,
                        "status": "queued"})
        return out

    # ---- delivering -------------------------------------------------------------------------------------

    def _deliver_chunk(self, call_id: str, after: str) -> tuple[str, int]:
        """Deliver the call's next undelivered notices after key `after`, READ_AHEAD at a time (through the pool on
        a server database, in turn on SQLite); the last key, and how many were looked at. The postman (SMTP, SMS) is
        a pool of its own, woken as each batch committed."""
        if isinstance(self.channel, Postman):
            return after, 0
        with self.engine.connect() as c:
            keys = list(c.execute(sql.UNDELIVERED_OF_CALL, {"b_call": call_id, "b_after": after,
                                                             "b_limit": DELIVERY_CHUNK}).scalars())
        if not keys:
            return after, 0
        batches = [keys[i:i + READ_AHEAD] for i in range(0, len(keys), READ_AHEAD)]
        if self.engine.dialect.name == "sqlite":  # one writer per file: senders would only queue for it, and the GIL
            for batch in batches:
                self._deliver_batch(batch)
        else:
            with ThreadPoolExecutor(max_workers=SENDERS) as pool:
                list(pool.map(self._deliver_batch, batches))
        return keys[-1], len(keys)

    def _deliver_batch(self, keys: list[str]) -> None:
        """Read a batch of notices at once, then claim, hand over and mark each in a transaction of its own: a notice
        someone else delivered first is left alone, and a crash repeats at most the one notice between its hand-over
        and that commit (with the same key), never a batch."""
        channel = self.channel
        assert not isinstance(channel, Postman)
        sent = 0
        with self.engine.connect() as c:  # one connection for the batch, a transaction for each notice
            rows = c.execute(sql.NOTICES_TO_DELIVER, {"b_keys": keys}).all()
            c.rollback()
            for row in rows:
                now = _now()
                notice = NoticeRow.model_construct(**{**row._asdict(), "delivered_at": now, "channel": channel.name,
                                                      "status": "sent"})  # values as stored: no validation
                with writing(self.engine), c.begin():
                    if c.execute(sql.MARK_DELIVERED, {"b_key": notice.key, "delivered_at": now,
                                                      "channel": channel.name, "status": "sent"}).rowcount != 1:
                        continue
                    channel.deliver(notice)  # the last thing before the commit
                sent += 1
        NOTICES_SENT.labels(channel.name).inc(sent)

    # ---- the report -------------------------------------------------------------------------------------

    def _waiting(self, inp: CloseInput, extensions: list[Extension]) -> int:
        """Applications still in a state this deadline ends (those left to their own timers), extensions aside."""
        with Session(self.engine) as s:
            extended = select(ExtensionRow.application_id).where(
                ExtensionRow.call_id == inp.call_id, col(ExtensionRow.window).in_(inp.windows),
                col(ExtensionRow.closes) > inp.instant)
            waiting = (ApplicationRow.call_id == inp.call_id, col(ApplicationRow.state).in_(inp.settling_states),
                       col(ApplicationRow.id).not_in(extended))
            if not extensions:
                return int(s.exec(select(func.count()).select_from(ApplicationRow).where(*waiting)).one())
            rows = s.exec(select(ApplicationRow, ContactRow.people_json).outerjoin(
                ContactRow, col(ContactRow.application_id) == ApplicationRow.id).where(*waiting)).all()
            return sum(not extended_past(extensions, inp, a, json.loads(people or "{}")) for a, people in rows)

    def _report(self, inp: CloseInput, waiting: int, settle_s: float) -> ClosureSummary:
        with Session(self.engine) as s:
            rows = s.exec(select(TransitionRow.dest, func.count()).where(
                TransitionRow.call_id == inp.call_id, TransitionRow.deadline == inp.instant,
                TransitionRow.role == "system").group_by(TransitionRow.dest)).all()
        counts = {dest: n for dest, n in rows}
        with writing(self.engine), self.engine.begin() as c:  # the first report of a closure stays
            c.execute(sql.insert_new(c, sql.CLOSURE_REPORTS), {
                "call_id": inp.call_id, "phase": inp.phase, "instant": inp.instant,
                "counts_json": json.dumps({**counts, "unsettled": waiting}), "settled_at": _now()})
        return ClosureSummary(inp.phase, inp.instant, counts, waiting, settle_s)

    # ---- the workflows catch up ---------------------------------------------------------------------------

    async def _catch_up(self, inp: CloseInput, plan: Plan | None, states: list[str], after: str) -> None:
        """Tell every application this closure closed, or that is still settling, to catch up with it; at most
        CATCH_UP at once, resuming after the last workflow id heartbeated. A closed workflow is left alone."""
        gate = asyncio.Semaphore(CATCH_UP)

        async def one(workflow_id: str, closure: Recorded | None) -> None:
            async with gate:
                try:
                    args = [inp.phase] if closure is None else [inp.phase, closure]  # as a signal of before it read
                    await activity.client().get_workflow_handle(workflow_id).signal(SIGNAL, args=args)
                except RPCError:  # already closed: it caught up by itself
                    pass

        while True:
            targets = await asyncio.to_thread(self._targets, inp, plan, states, after)
            if not targets:
                return
            await asyncio.gather(*(one(w, closure) for w, closure in targets.items()))
            after = list(targets)[-1]
            activity.heartbeat("signal", after)

    def _targets(self, inp: CloseInput, plan: Plan | None, states: list[str],
                 after: str) -> dict[str, Recorded | None]:
        """The next workflows to tell, in id order, each with what this closure recorded of it (the first, should
        one instant close two windows of it), as record_transition's look-up would find it: the signal carries it,
        and the workflow adopts it without asking. None for one still settling, which its own timer closes."""
        with self.engine.connect() as c:
            rows = c.execute(sql.CATCH_UP_TARGETS, {"b_call": inp.call_id, "b_instant": inp.instant, "b_after": after,
                                                     "b_states": states, "b_limit": CATCH_UP * 8}).all()
        delivered = not isinstance(self.channel, Postman)  # an inline channel delivered every notice before this
        targets: dict[str, Recorded | None] = {}
        for r in rows:
            spec = plan.closing.get(r.source) if plan is not None and r.seq is not None else None
            if spec is None or spec.trigger != r.trigger:
                targets.setdefault(r.workflow_id, None)
                continue
            keys = [f"{r.workflow_id}:{r.seq}:{role}" for role in spec.notify]
            t = TransitionRecord(r.seq, r.trigger, r.source, r.dest, r.actor_id, r.role, r.reason, r.at, r.deadline)
            targets.setdefault(r.workflow_id, Recorded(t, keys, keys if delivered else [], r.hash))
        return targets
