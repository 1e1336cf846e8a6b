"""Records database tables (sqlmodel): the read model of the workflows, with the notice outbox and lockouts."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, Dialect, Index, TypeDecorator, UniqueConstraint
from sqlmodel import Field, SQLModel


class AwareDateTime(TypeDecorator[datetime]):
    """Stores aware datetimes as UTC and gives them back aware; a naive datetime is refused."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r} cannot be stored")
        return value.astimezone(UTC).replace(tzinfo=None)  # type: ignore[no-any-return]

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


class CallRow(SQLModel, table=True):
    __tablename__ = "calls"
    id: str = Field(primary_key=True)
    title: str
    version: str
    definition_json: str
    timetable_json: str
    timetable_seq: int = 0
    current_phase: str | None = None
    updated_at: datetime = Field(sa_type=AwareDateTime)


class LockoutRow(SQLModel, table=True):
    """A closed window of a call: every write path refuses changes governed by it."""

    __tablename__ = "lockouts"
    call_id: str = Field(primary_key=True)
    phase: str = Field(primary_key=True)
    closed_at: datetime = Field(sa_type=AwareDateTime)


class ApplicationRow(SQLModel, table=True):
    __tablename__ = "applications"
    __table_args__ = (Index("ix_applications_applicant", "applicant", "call_id"),  # a formal review reads the PI's
                      Index("ix_applications_unit", "unit", "call_id"))  # and the unit's applications in other calls
    id: str = Field(primary_key=True)
    call_id: str = Field(index=True)
    workflow_id: str
    category: str
    title: str
    applicant: str
    unit: str | None = None
    version: str
    state: str = Field(index=True)
    last_seq: int = -1
    updated_at: datetime = Field(sa_type=AwareDateTime)
    verdicts_json: str | None = None  # formal review: one verdict per rule id, overrides applied
    cohort: str = Field(default="", sa_column_kwargs={"server_default": ""})  # what a conditional extension selects
    created_at: datetime | None = Field(default=None, sa_type=AwareDateTime)  # the workflow's start; None: older


class ContactRow(SQLModel, table=True):
    """Who an application's notices go to, by role (its start input's people): the bulk closure addresses them."""

    __tablename__ = "application_contacts"
    application_id: str = Field(primary_key=True)
    call_id: str = Field(index=True)
    people_json: str


class QuotaUseRow(SQLModel, table=True):
    """One endorsement counted against an actor's quota at a step; released when the application is returned."""

    __tablename__ = "quota_uses"
    call_id: str = Field(primary_key=True)
    step: str = Field(primary_key=True)
    application_id: str = Field(primary_key=True)
    actor_id: str = Field(index=True)
    category: str = ""
    flags: str = ""  # the application's true flags as ",a,b,", for a quota's minimum share


class ExtensionRow(SQLModel, table=True):
    """A deadline a programme manager moved for one application: a phase id or `step:<id>`, and its new close."""

    __tablename__ = "extensions"
    application_id: str = Field(primary_key=True)
    window: str = Field(primary_key=True)
    call_id: str = Field(index=True)
    closes: datetime = Field(sa_type=AwareDateTime)


class TransitionRow(SQLModel, table=True):
    """One accepted change; `prev_hash`/`hash` chain the call's rows in insertion order (see records/chain). The
    chain index finds the row before a new one without reading the call's whole chain."""

    __tablename__ = "transitions"
    __table_args__ = (UniqueConstraint("application_id", "seq"), Index("ix_transitions_chain", "call_id", "id"))
    id: int | None = Field(default=None, primary_key=True)
    call_id: str = Field(index=True)
    application_id: str = Field(index=True)
    seq: int
    trigger: str
    source: str
    dest: str
    actor_id: str
    role: str
    reason: str
    at: datetime = Field(sa_type=AwareDateTime)
    deadline: datetime | None = Field(default=None, sa_type=AwareDateTime)
    prev_hash: str = ""
    hash: str = ""


class CallEventRow(SQLModel, table=True):
    __tablename__ = "call_events"
    __table_args__ = (UniqueConstraint("call_id", "seq"),)
    id: int | None = Field(default=None, primary_key=True)
    call_id: str = Field(index=True)
    seq: int
    kind: str
    phase: str
    at: datetime = Field(sa_type=AwareDateTime)
    actor_id: str
    role: str
    reason: str
    previous: datetime | None = Field(default=None, sa_type=AwareDateTime)
    new: datetime | None = Field(default=None, sa_type=AwareDateTime)


class NoticeRow(SQLModel, table=True):
    """Outbox: one row per notice, keyed so that a retried activity never produces a second one.

    `status` is queued until a channel accepted it (sent, `delivered_at` set), or it is failed (a permanent refusal,
    or retries given up) or undeliverable (no address for its recipient): `failure` says why. A queued row claimed by a
    postman carries its `claim` until `claimed_until`; `attempts` counts the hand-overs begun (notice_attempts).
    """

    __tablename__ = "notices"
    key: str = Field(primary_key=True)
    call_id: str = Field(index=True)
    application_id: str | None = Field(default=None, index=True)
    recipient: str
    kind: str
    subject: str
    body: str
    created_at: datetime = Field(sa_type=AwareDateTime)
    delivered_at: datetime | None = Field(default=None, sa_type=AwareDateTime)
    channel: str | None = None
    status: str = Field(default="queued", index=True)  # queued | sent | failed | undeliverable
    address: str | None = None
    message_id: str | None = None
    attempts: int = 0
    next_attempt_at: datetime | None = Field(default=None, sa_type=AwareDateTime)
    claim: str | None = None
    claimed_until: datetime | None = Field(default=None, sa_type=AwareDateTime)
    failure: str | None = None


class NoticeAttemptRow(SQLModel, table=True):
    """One hand-over of a notice to a channel and what came of it: accepted, deferred (retried later), rejected
    (permanent), or interrupted (the worker stopped before an answer was recorded; the notice was sent again)."""

    __tablename__ = "notice_attempts"
    __table_args__ = (UniqueConstraint("notice_key", "attempt"),)
    id: int | None = Field(default=None, primary_key=True)
    notice_key: str = Field(index=True)
    attempt: int
    channel: str
    address: str
    started_at: datetime = Field(sa_type=AwareDateTime)
    finished_at: datetime | None = Field(default=None, sa_type=AwareDateTime)
    outcome: str | None = None  # accepted | deferred | rejected | interrupted
    code: int | None = None
    reply: str = ""


class ClosureReportRow(SQLModel, table=True):
    __tablename__ = "closure_reports"
    __table_args__ = (UniqueConstraint("call_id", "phase"),)
    id: int | None = Field(default=None, primary_key=True)
    call_id: str
    phase: str
    instant: datetime = Field(sa_type=AwareDateTime)
    counts_json: str
    settled_at: datetime = Field(sa_type=AwareDateTime)
