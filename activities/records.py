"""Record activities: keep the records database (read model, outbox, lockouts, closure reports) in step.

Every write is keyed (application and seq, call and seq, notice key), so a retried activity changes nothing
twice and delivers no notice twice.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from pydantic import TypeAdapter
from sqlalchemy import func
from sqlalchemy.engine import Connection, Engine
from sqlmodel import Session, select
from temporalio import activity

from activities.notices import CallNames, Channel, Postman, render
from infra.metrics import DEADLINE_CLOSURES, NOTICES_SENT
from models.messages import CallEvent, NoticeDraft, TransitionRecord
from models.review.profile import ReviewProfile, profile_json
from models.rules import Verdict
from models.timetable import Timetable
from records import statements as sql
from records.chain import GENESIS, row_hash
from records.engine import writing
from records.quota_tables import ApplicationPersonRow
from records.tables import (
    CallEventRow,
    CallRow,
    LockoutRow,
    NoticeRow,
    QuotaUseRow,
)

TIMETABLE = TypeAdapter(Timetable)
VERDICTS = TypeAdapter(list[Verdict])
PEOPLE = ApplicationPersonRow.__table__  # type: ignore[attr-defined]


@dataclass
class RegisterInput:
    call_id: str
    application_id: str
    workflow_id: str
    category: str
    title: str
    applicant: str
    unit: str | None
    version: str
    timetable_seq: int
    people: dict[str, str] = field(default_factory=dict)  # stored for the bulk closure's notices; none: old runs
    named: dict[str, str] = field(default_factory=dict)  # role -> person: whom a ratio quota counts as receiving
    cohort: str = ""  # these two select the application for a conditional extension (the bulk closure skips it)
    created: datetime | None = None
    profile: ReviewProfile | None = None  # calls with expert review: what assignment and ranking read


@dataclass
class RecordInput:
    call_id: str
    application_id: str
    state: str
    transition: TransitionRecord | None = None
    notices: list[NoticeDraft] = field(default_factory=list)
    verdicts: list[Verdict] | None = None


@dataclass
class Recorded:
    """What one record_transition left in the records DB; its local-activity marker carries this, so the history
    alone proves every transition and notice.

    `transition` is the row as stored: when an abandoned attempt of the same workflow task wrote it first (a local
    activity runs before its task completes), its instant is that attempt's. `delivered` lists the notices that
    an inline channel delivered, now or by such an attempt (none when the postman delivers them, after this returns);
    `chain_hash` is the row's hash in the call's chain.
    """

    transition: TransitionRecord | None
    notice_keys: list[str]
    delivered: list[str]
    chain_hash: str | None = None


@dataclass
class QuotaInput:
    call_id: str
    step: str
    actor_id: str
    application_id: str
    limit: int


@dataclass
class PublishInput:
    call_id: str
    title: str
    version: str
    definition_json: str
    timetable: Timetable
    event: CallEvent | None = None
    notices: list[NoticeDraft] = field(default_factory=list)


@dataclass
class CloseInput:
    call_id: str
    phase: str
    instant: datetime
    settling_states: list[str]
    max_wait_s: float = 600.0
    windows: list[str] = field(default_factory=list)  # deadlines this close ends; an application extended past it waits


@dataclass
class ClosureSummary:
    phase: str
    instant: datetime
    counts: dict[str, int]
    unsettled: int
    settle_s: float


def _now() -> datetime:
    return datetime.now(UTC)


class RecordActivities:
    """The record activities. With an inline `channel` (log, memory) a notice is delivered in the transaction that
    queues it; with a `Postman` it stays queued, and the postman, woken once the transaction committed, delivers it."""

    def __init__(self, engine: Engine, channel: Channel | Postman) -> None:
        self.engine = engine
        self.channel = channel
        self._names: dict[tuple[str, str], CallNames] = {}

    @activity.defn
    def register_application(self, inp: RegisterInput) -> Timetable | None:
        """Insert the application row; return the call's timetable if it is newer than the one started with."""
        with writing(self.engine), self.engine.begin() as c:
            if c.execute(sql.APPLICATION_EXISTS, {"b_id": inp.application_id}).first() is None:
                c.execute(sql.insert_new(c, sql.APPLICATIONS), {
                    "id": inp.application_id, "call_id": inp.call_id, "workflow_id": inp.workflow_id,
                    "category": inp.category, "title": inp.title, "applicant": inp.applicant, "unit": inp.unit,
                    "version": inp.version, "state": "draft", "last_seq": -1, "updated_at": _now(),
                    "cohort": inp.cohort, "created_at": inp.created,
                })
                if inp.people:
                    c.execute(sql.CONTACTS.insert(), {"application_id": inp.application_id, "call_id": inp.call_id,
                                                      "people_json": json.dumps(inp.people, sort_keys=True)})
                if inp.named:
                    c.execute(sql.insert_new(c, PEOPLE), [{"application_id": inp.application_id, "role": role,
                                                          "actor_id": who} for role, who in sorted(inp.named.items())])
                if inp.profile is not None:
                    c.execute(sql.PROFILES.insert(), {"application_id": inp.application_id, "call_id": inp.call_id,
                                                      "profile_json": profile_json(inp.profile)})
            call = c.execute(sql.CALL_TIMETABLE, {"b_id": inp.call_id}).first()
        if call is not None and call.timetable_seq > inp.timetable_seq:
            return TIMETABLE.validate_json(call.timetable_json)
        return None

    @activity.defn
    def record_transition(self, inp: RecordInput) -> Recorded:
        """Apply one transition to the read model (chained), queue its notices and deliver them, in one transaction;
        say what is stored. Every notice is delivered when this returns (now, or by an earlier attempt), or queued
        for the postman, woken once the transaction committed."""
        recorded = self._stored(inp) or self._record(inp)
        self._wake(inp.notices)
        return recorded

    def _stored(self, inp: RecordInput) -> Recorded | None:
        """What an attempt would find already written, read without the write lock (a workflow catching up with its
        window's bulk closure, a retry): the transition with the same trigger, the application past it, every
        notice queued and, by an inline channel, delivered. None when anything is left to write."""
        t = inp.transition
        if t is None or inp.verdicts is not None or t.trigger == "extend_deadline" or t.dest in ("returned", "withdrawn"):
            return None
        keys = [n.key for n in inp.notices]
        with self.engine.connect() as c:
            row = c.execute(sql.STORED_TRANSITION, {"b_app": inp.application_id, "b_seq": t.seq}).first()
            if row is None or row.trigger != t.trigger:
                return None
            last = c.execute(sql.APPLICATION_SEQ, {"b_id": inp.application_id}).scalar()
            queued = c.execute(sql.NOTICE_DELIVERIES, {"b_keys": keys}).all() if keys else []
        postman = isinstance(self.channel, Postman)
        if last is None or last < t.seq or len(queued) != len(set(keys)) or (
                not postman and any(q.delivered_at is None for q in queued)):
            return None
        stored = replace(t, actor_id=row.actor_id, role=row.role, reason=row.reason, at=row.at, deadline=row.deadline)
        return Recorded(stored, keys, [] if postman else keys, row.hash)

    def _record(self, inp: RecordInput) -> Recorded:
        chained: str | None = None
        stored = inp.transition
        enforced = False  # a deadline's system transition, stored by this attempt
        with writing(self.engine), self.engine.begin() as c:
            t = inp.transition
            if t is not None:
                sql.serialize(c, "chain", inp.call_id)  # before the look-up: a parallel attempt's row is then seen
                key = {"b_app": inp.application_id, "b_seq": t.seq}
                row = c.execute(sql.STORED_TRANSITION, key).first()
                if row is None:
                    chained = self._append(c, {
                        "call_id": inp.call_id, "application_id": inp.application_id, "seq": t.seq,
                        "trigger": t.trigger, "source": t.source, "dest": t.dest, "actor_id": t.actor_id,
                        "role": t.role, "reason": t.reason, "at": t.at, "deadline": t.deadline,
                    })
                    if chained is None:  # another process's attempt stored it first (SQLite: no lock before the insert)
                        row = c.execute(sql.STORED_TRANSITION, key).first()
                    enforced = chained is not None and t.role == "system" and t.deadline is not None
                if row is not None and row.trigger != t.trigger:
                    return self._pre_empted(c, inp.application_id, t.seq, row)
                if row is not None:
                    chained = row.hash
                    stored = replace(t, actor_id=row.actor_id, role=row.role, reason=row.reason, at=row.at,
                                     deadline=row.deadline)
                c.execute(sql.ADVANCE_APPLICATION, {"b_id": inp.application_id, "b_seq": t.seq, "state": inp.state,
                                                    "last_seq": t.seq, "updated_at": _now()})
                if t.dest in ("returned", "withdrawn"):  # approvals given are void: so are the places they took
                    c.execute(sql.RELEASE_QUOTA, {"b_app": inp.application_id})
                if t.trigger == "extend_deadline":
                    extension = {"b_app": inp.application_id, "b_window": t.data["window"], "call_id": inp.call_id,
                                 "closes": datetime.fromisoformat(t.data["new"])}
                    if c.execute(sql.MOVE_EXTENSION, extension).rowcount == 0:
                        c.execute(sql.EXTENSIONS.insert(), {"application_id": inp.application_id,
                                                            "window": t.data["window"], "call_id": inp.call_id,
                                                            "closes": extension["closes"]})
            if inp.verdicts is not None:  # with its transition, or alone (the rules of a recommender's step)
                c.execute(sql.SET_VERDICTS, {"b_id": inp.application_id,
                                             "verdicts_json": VERDICTS.dump_json(inp.verdicts).decode()})
            sent = self._send(c, inp.notices)
        if enforced:
            DEADLINE_CLOSURES.labels("workflow").inc()
        keys = [n.key for n in inp.notices]
        return Recorded(stored, keys, keys if sent >= 0 else [], chained)

    def _pre_empted(self, c: Connection, application_id: str, seq: int, row: Any) -> Recorded:
        """The window's bulk closure recorded this seq first (a change accepted just before the close, recorded
        after it): nothing of the change is written; the closure as stored, and its notices, are what is recorded."""
        workflow_id = c.execute(sql.WORKFLOW_ID, {"b_id": application_id}).scalar_one()
        keys = list(c.execute(sql.NOTICES_LIKE, {"b_app": application_id, "b_prefix": f"{workflow_id}:{seq}:%"})
                    .scalars())
        sent = self._deliver(c, keys)
        closure = TransitionRecord(seq=seq, trigger=row.trigger, source=row.source, dest=row.dest,
                                   actor_id=row.actor_id, role=row.role, reason=row.reason, at=row.at,
                                   deadline=row.deadline)
        return Recorded(closure, keys, keys if sent >= 0 else [], row.hash)

    def _append(self, c: Connection, values: dict[str, Any]) -> str | None:
        """Insert the transition `values` at the end of its call's chain, in the caller's transaction; its hash, or
        None when a row with its application and seq is there already.

        The caller holds the call's chain lock (an advisory lock on PostgreSQL), and the insert comes before the
        chain head is read, so on SQLite it holds the single write lock: no two rows share a parent.
        """
        row_id = c.execute(sql.insert_new(c, sql.TRANSITIONS, sql.TRANSITIONS.c.id), values).scalar()
        if row_id is None:
            return None
        prev = c.execute(sql.CHAIN_HEAD_BEFORE, {"b_call": values["call_id"], "b_id": row_id}).scalar()
        prev_hash = prev if prev is not None else GENESIS
        hashed = row_hash(prev_hash, values)
        c.execute(sql.SET_HASH, {"b_id": row_id, "prev_hash": prev_hash, "hash": hashed})
        return hashed

    @activity.defn
    def reserve_quota(self, inp: QuotaInput) -> int:
        """Count one endorsement against the actor's quota at the step: the number now used, or -1 when it would
        exceed the limit. The actor's count at the step is locked (PostgreSQL) and the row goes in before the count
        (SQLite's write lock), so concurrent endorsements cannot both take the last place; the same application is
        counted once however often this is retried."""
        with writing(self.engine), Session(self.engine) as s:
            sql.serialize(s.connection(), "quota", inp.call_id, inp.step, inp.actor_id)
            if s.get(QuotaUseRow, (inp.call_id, inp.step, inp.application_id)) is None:
                s.add(QuotaUseRow(call_id=inp.call_id, step=inp.step, application_id=inp.application_id,
                                  actor_id=inp.actor_id))
                s.flush()
            used = s.exec(select(func.count()).select_from(QuotaUseRow).where(
                QuotaUseRow.call_id == inp.call_id, QuotaUseRow.step == inp.step,
                QuotaUseRow.actor_id == inp.actor_id)).one()
            if used > inp.limit:
                s.rollback()
                return -1
            s.commit()
            return used

    @activity.defn
    def publish_call(self, inp: PublishInput) -> int:
        """Store the call's definition and current timetable, its event, and lockouts of closed windows."""
        timetable_json = TIMETABLE.dump_json(inp.timetable).decode()
        current = inp.timetable.current()
        with writing(self.engine), Session(self.engine) as s:
            row = s.get(CallRow, inp.call_id)
            if row is None:
                row = CallRow(id=inp.call_id, title=inp.title, version=inp.version,
                              definition_json=inp.definition_json, timetable_json=timetable_json,
                              timetable_seq=inp.timetable.seq, updated_at=_now())
                s.add(row)
            elif row.timetable_seq <= inp.timetable.seq:
                row.timetable_json, row.timetable_seq = timetable_json, inp.timetable.seq
                row.version, row.updated_at = inp.version, _now()
            row.current_phase = current.id if current else None
            e = inp.event
            if e is not None and s.exec(select(CallEventRow.id).where(
                    CallEventRow.call_id == inp.call_id, CallEventRow.seq == e.seq)).first() is None:
                s.add(CallEventRow(call_id=inp.call_id, seq=e.seq, kind=e.kind, phase=e.phase, at=e.at,
                                   actor_id=e.actor_id, role=e.role, reason=e.reason, previous=e.previous, new=e.new))
            for p in inp.timetable.phases:
                locked = s.get(LockoutRow, (inp.call_id, p.id))
                if p.closed and p.closes and locked is None:
                    s.add(LockoutRow(call_id=inp.call_id, phase=p.id, closed_at=p.closes))
                elif not p.closed and locked is not None:
                    s.delete(locked)
            sent = self._send(s.connection(), inp.notices)
            s.commit()
        self._wake(inp.notices)
        return max(sent, 0)

    def _names_of(self, c: Connection, call_id: str) -> CallNames:
        """The call's names for its notices, read once per call version."""
        version = c.execute(sql.CALL_VERSION, {"b_id": call_id}).scalar() or ""
        names = self._names.get((call_id, version))
        if names is None:
            names = CallNames.of(call_id, c.execute(sql.CALL_DEFINITION, {"b_id": call_id}).scalar())
            self._names[(call_id, version)] = names
        return names

    def _send(self, c: Connection, notices: list[NoticeDraft]) -> int:
        """Queue each notice once in the outbox, in the caller's transaction. An inline channel delivers the ones not
        yet delivered there too: the claim (setting `delivered_at`) and the delivery commit together, so a retry finds
        them delivered. Returns how many were delivered now, or -1 when the postman delivers them."""
        if not notices:
            return 0
        keys = [n.key for n in notices]
        known = set(c.execute(sql.KNOWN_NOTICES, {"b_keys": keys}).scalars())
        fresh: dict[str, dict[str, Any]] = {}
        for n in notices:
            if n.key in known or n.key in fresh:
                continue
            subject, body = render(n.kind, n.data, self._names_of(c, n.call_id), n.application_id, n.recipient)
            fresh[n.key] = {"key": n.key, "call_id": n.call_id, "application_id": n.application_id,
                            "recipient": n.recipient, "kind": n.kind, "subject": subject, "body": body,
                            "created_at": _now(), "delivered_at": None, "channel": None, "status": "queued"}
        if fresh:
            c.execute(sql.insert_new(c, sql.NOTICES), list(fresh.values()))
        return self._deliver(c, keys)

    def _deliver(self, c: Connection, keys: list[str]) -> int:
        """Claim and deliver the notices of `keys` not yet delivered, in the caller's transaction: how many, or -1
        when the postman delivers them (after the commit)."""
        if isinstance(self.channel, Postman):
            return -1
        if not keys:
            return 0
        claimed, sent = c.execute(sql.UNDELIVERED_NOTICES, {"b_keys": keys}).all(), 0
        for row in claimed:
            notice = NoticeRow(**{**row._asdict(), "delivered_at": _now(), "channel": self.channel.name,
                                  "status": "sent"})
            if c.execute(sql.MARK_DELIVERED, {"b_key": notice.key, "delivered_at": notice.delivered_at,
                                              "channel": notice.channel, "status": "sent"}).rowcount == 1:
                self.channel.deliver(notice)
                NOTICES_SENT.labels(self.channel.name).inc()
                sent += 1
        return sent

    def _wake(self, notices: list[NoticeDraft]) -> None:
        if notices and isinstance(self.channel, Postman):
            self.channel.wake()
