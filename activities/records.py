"""Record activities: keep the records database (read model, outbox, lockouts, closure reports) in step.

Every write is keyed (application and seq, call and seq, notice key), so a retried activity changes nothing
twice and delivers no notice twice.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone

from pydantic import TypeAdapter
from sqlalchemy import func, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select
from temporalio import activity

from activities.notices import Channel, render
from models.messages import CallEvent, NoticeDraft, TransitionRecord
from models.records import (
    ApplicationRow,
    CallEventRow,
    CallRow,
    ClosureReportRow,
    LockoutRow,
    NoticeRow,
    TransitionRow,
)
from models.timetable import Timetable

TIMETABLE = TypeAdapter(Timetable)


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


@dataclass
class RecordInput:
    call_id: str
    application_id: str
    state: str
    transition: TransitionRecord | None = None
    notices: list[NoticeDraft] = field(default_factory=list)


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


@dataclass
class ClosureSummary:
    phase: str
    instant: datetime
    counts: dict[str, int]
    unsettled: int
    settle_s: float


def _now() -> datetime:
    return datetime.now(timezone.utc)


class RecordActivities:
    def __init__(self, engine: Engine, channel: Channel) -> None:
        self.engine = engine
        self.channel = channel

    @activity.defn
    def register_application(self, inp: RegisterInput) -> Timetable | None:
        """Insert the application row; return the call's timetable if it is newer than the one started with."""
        with Session(self.engine) as s:
            if s.get(ApplicationRow, inp.application_id) is None:
                s.add(ApplicationRow(
                    id=inp.application_id, call_id=inp.call_id, workflow_id=inp.workflow_id, category=inp.category,
                    title=inp.title, applicant=inp.applicant, unit=inp.unit, version=inp.version, state="draft",
                    updated_at=_now(),
                ))
                s.commit()
            call = s.get(CallRow, inp.call_id)
            if call is not None and call.timetable_seq > inp.timetable_seq:
                return TIMETABLE.validate_json(call.timetable_json)
        return None

    @activity.defn
    def record_transition(self, inp: RecordInput) -> int:
        """Apply one transition to the read model, queue its notices, deliver them; returns notices delivered now."""
        with Session(self.engine) as s:
            t = inp.transition
            if t is not None:
                exists = s.exec(select(TransitionRow.id).where(
                    TransitionRow.application_id == inp.application_id, TransitionRow.seq == t.seq)).first()
                if exists is None:
                    s.add(TransitionRow(
                        call_id=inp.call_id, application_id=inp.application_id, seq=t.seq, trigger=t.trigger,
                        source=t.source, dest=t.dest, actor_id=t.actor_id, role=t.role, reason=t.reason, at=t.at,
                        deadline=t.deadline,
                    ))
                s.execute(
                    update(ApplicationRow)
                    .where(col(ApplicationRow.id) == inp.application_id, col(ApplicationRow.last_seq) < t.seq)
                    .values(state=inp.state, last_seq=t.seq, updated_at=_now())
                )
            self._queue(s, inp.notices)
            s.commit()
        return self._deliver([n.key for n in inp.notices])

    @activity.defn
    def publish_call(self, inp: PublishInput) -> int:
        """Store the call's definition and current timetable, its event, and lockouts of closed windows."""
        timetable_json = TIMETABLE.dump_json(inp.timetable).decode()
        current = inp.timetable.current()
        with Session(self.engine) as s:
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
            self._queue(s, inp.notices)
            s.commit()
        return self._deliver([n.key for n in inp.notices])

    @activity.defn
    def close_window(self, inp: CloseInput) -> ClosureSummary:
        """Wait until no application is left in a state this deadline ends, then store the closure report."""
        started = time.monotonic()
        waiting = -1
        while True:
            with Session(self.engine) as s:
                waiting = s.exec(select(func.count()).select_from(ApplicationRow).where(
                    ApplicationRow.call_id == inp.call_id,
                    col(ApplicationRow.state).in_(inp.settling_states))).one()
            if waiting == 0 or time.monotonic() - started > inp.max_wait_s:
                break
            activity.heartbeat(waiting)
            time.sleep(0.25)
        settle_s = time.monotonic() - started
        with Session(self.engine) as s:
            rows = s.exec(select(TransitionRow.dest, func.count()).where(
                TransitionRow.call_id == inp.call_id, TransitionRow.deadline == inp.instant,
                TransitionRow.role == "system").group_by(TransitionRow.dest)).all()
            counts = {dest: n for dest, n in rows}
            existing = s.exec(select(ClosureReportRow).where(
                ClosureReportRow.call_id == inp.call_id, ClosureReportRow.phase == inp.phase)).first()
            if existing is None:
                s.add(ClosureReportRow(call_id=inp.call_id, phase=inp.phase, instant=inp.instant,
                                       counts_json=json.dumps({**counts, "unsettled": waiting}), settled_at=_now()))
                s.commit()
        return ClosureSummary(inp.phase, inp.instant, counts, waiting, settle_s)

    def _queue(self, s: Session, notices: list[NoticeDraft]) -> None:
        if not notices:
            return
        keys = [n.key for n in notices]
        known = set(s.exec(select(NoticeRow.key).where(col(NoticeRow.key).in_(keys))).all())
        for n in notices:
            if n.key in known:
                continue
            subject, body = render(n.kind, {**n.data, "call_id": n.call_id, "application_id": n.application_id or ""})
            s.add(NoticeRow(key=n.key, call_id=n.call_id, application_id=n.application_id, recipient=n.recipient,
                            kind=n.kind, subject=subject, body=body, created_at=_now()))
            known.add(n.key)

    def _deliver(self, keys: list[str]) -> int:
        """Deliver each not-yet-delivered notice once: claim the row, hand it to the channel, then commit."""
        sent = 0
        for key in keys:
            with Session(self.engine) as s:
                claimed = s.execute(
                    update(NoticeRow).where(col(NoticeRow.key) == key, col(NoticeRow.delivered_at).is_(None))
                    .values(delivered_at=_now(), channel=self.channel.name)
                )
                if claimed.rowcount != 1:  # type: ignore[attr-defined]
                    continue
                row = s.get(NoticeRow, key)
                assert row is not None
                self.channel.deliver(row)
                s.commit()
                sent += 1
        return sent
