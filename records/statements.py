"""The record path's SQL, as SQLAlchemy Core statements built once: on the per-transition path the ORM's unit of
work and per-call statement building cost more than SQLite itself.

Where-clause parameters are named b_*, so that the other keys of an execution's parameters are the columns an
UPDATE sets.
"""

from __future__ import annotations

import functools
from typing import Any

from sqlalchemy import Column, Insert, Table, bindparam, delete, select, text, update
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel

import records.review_tables  # noqa: F401  (registers the review tables)
import records.tables  # noqa: F401  (registers the tables)

APPLICATIONS, CALLS, CLOSURE_REPORTS, CONTACTS, EXTENSIONS, NOTICES, QUOTA_USES, TRANSITIONS = (
    SQLModel.metadata.tables[name] for name in (
        "applications", "calls", "closure_reports", "application_contacts", "extensions", "notices", "quota_uses",
        "transitions"))
PROFILES = SQLModel.metadata.tables["review_profiles"]
APPLICATION_EXISTS = select(APPLICATIONS.c.id).where(APPLICATIONS.c.id == bindparam("b_id"))
CALL_TIMETABLE = select(CALLS.c.timetable_seq, CALLS.c.timetable_json).where(CALLS.c.id == bindparam("b_id"))
CALL_VERSION = select(CALLS.c.version).where(CALLS.c.id == bindparam("b_id"))
CALL_DEFINITION = select(CALLS.c.definition_json).where(CALLS.c.id == bindparam("b_id"))
STORED_TRANSITION = select(
    TRANSITIONS.c.trigger, TRANSITIONS.c.source, TRANSITIONS.c.dest, TRANSITIONS.c.actor_id, TRANSITIONS.c.role,
    TRANSITIONS.c.reason, TRANSITIONS.c.at, TRANSITIONS.c.deadline, TRANSITIONS.c.hash,
).where(TRANSITIONS.c.application_id == bindparam("b_app"), TRANSITIONS.c.seq == bindparam("b_seq"))
CHAIN_HEAD_BEFORE = select(TRANSITIONS.c.hash).where(
    TRANSITIONS.c.call_id == bindparam("b_call"), TRANSITIONS.c.id < bindparam("b_id"),
).order_by(TRANSITIONS.c.id.desc()).limit(1)
CHAIN_HEAD = select(TRANSITIONS.c.hash).where(TRANSITIONS.c.call_id == bindparam("b_call")).order_by(
    TRANSITIONS.c.id.desc()).limit(1)
SET_HASH = update(TRANSITIONS).where(TRANSITIONS.c.id == bindparam("b_id"))
ADVANCE_APPLICATION = update(APPLICATIONS).where(
    APPLICATIONS.c.id == bindparam("b_id"), APPLICATIONS.c.last_seq < bindparam("b_seq"))
APPLICATION_SEQ = select(APPLICATIONS.c.last_seq).where(APPLICATIONS.c.id == bindparam("b_id"))
NOTICE_DELIVERIES = select(NOTICES.c.key, NOTICES.c.delivered_at).where(
    NOTICES.c.key.in_(bindparam("b_keys", expanding=True)))
SET_VERDICTS = update(APPLICATIONS).where(APPLICATIONS.c.id == bindparam("b_id"))
RELEASE_QUOTA = delete(QUOTA_USES).where(QUOTA_USES.c.application_id == bindparam("b_app"))
MOVE_EXTENSION = update(EXTENSIONS).where(
    EXTENSIONS.c.application_id == bindparam("b_app"), EXTENSIONS.c.window == bindparam("b_window"))
KNOWN_NOTICES = select(NOTICES.c.key).where(NOTICES.c.key.in_(bindparam("b_keys", expanding=True)))
UNDELIVERED_NOTICES = select(NOTICES).where(  # claimed in key order, so two claimers never wait on each other in a ring
    NOTICES.c.key.in_(bindparam("b_keys", expanding=True)), NOTICES.c.delivered_at.is_(None),
).order_by(NOTICES.c.key).with_for_update()
MARK_DELIVERED = update(NOTICES).where(  # the claim: only one transaction finds the notice undelivered
    NOTICES.c.key == bindparam("b_key"), NOTICES.c.delivered_at.is_(None))
ADVISORY_LOCK = text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))")


def serialize(c: Connection, *key: str) -> None:
    """Queue the transactions that name the same `key` until the holder commits: a PostgreSQL advisory lock, which
    needs no row to exist. SQLite needs none: the caller's first write takes the file's single write lock."""
    if c.dialect.name == "postgresql":
        c.execute(ADVISORY_LOCK, {"key": "/".join(key)})


@functools.cache
def _insert_new(dialect: str, table: Table, returning: tuple[Column[Any], ...]) -> Insert:
    from sqlalchemy.dialects import postgresql, sqlite  # the dialect in use; PostgreSQL's is large to load

    insert = postgresql.insert(table) if dialect == "postgresql" else sqlite.insert(table)
    statement = insert.on_conflict_do_nothing()
    return statement.returning(*returning) if returning else statement


def insert_new(c: Connection, table: Table, *returning: Column[Any]) -> Insert:
    """An INSERT that skips rows whose key is taken (ON CONFLICT DO NOTHING), returning `returning` of the rows it
    wrote: two writers of one keyed row, such as a retried activity beside the attempt it replaces, both succeed and
    the row is written once."""
    return _insert_new(c.dialect.name, table, returning)

NOTICES_LIKE = select(NOTICES.c.key).where(
    NOTICES.c.application_id == bindparam("b_app"), NOTICES.c.key.like(bindparam("b_prefix"))).order_by(NOTICES.c.key)
WORKFLOW_ID = select(APPLICATIONS.c.workflow_id).where(APPLICATIONS.c.id == bindparam("b_id"))

# The bulk closure of a window (activities/closure.py): candidates in batches, keyed on the application id.
CALL_DEFINITION_VERSION = select(CALLS.c.definition_json, CALLS.c.version).where(CALLS.c.id == bindparam("b_id"))
CLOSE_CANDIDATES = select(
    APPLICATIONS.c.id, APPLICATIONS.c.workflow_id, APPLICATIONS.c.state, APPLICATIONS.c.last_seq,
    CONTACTS.c.people_json, APPLICATIONS.c.category, APPLICATIONS.c.unit, APPLICATIONS.c.cohort,
    APPLICATIONS.c.created_at,
).join(CONTACTS, CONTACTS.c.application_id == APPLICATIONS.c.id).where(
    APPLICATIONS.c.call_id == bindparam("b_call"), APPLICATIONS.c.id > bindparam("b_after"),
    APPLICATIONS.c.state.in_(bindparam("b_states", expanding=True)),
    APPLICATIONS.c.version == bindparam("b_version"),
    APPLICATIONS.c.category.not_in(bindparam("b_categories", expanding=True)),
    APPLICATIONS.c.id.not_in(select(EXTENSIONS.c.application_id).where(
        EXTENSIONS.c.call_id == bindparam("b_call"), EXTENSIONS.c.window.in_(bindparam("b_windows", expanding=True)),
        EXTENSIONS.c.closes > bindparam("b_instant"))),
).order_by(APPLICATIONS.c.id).limit(bindparam("b_limit")).with_for_update()
CLOSE_APPLICATION = update(APPLICATIONS).where(
    APPLICATIONS.c.id == bindparam("b_id"), APPLICATIONS.c.last_seq == bindparam("b_last"))
NOTICES_TO_DELIVER = select(NOTICES).where(  # read ahead, no lock: each is claimed by MARK_DELIVERED on its own
    NOTICES.c.key.in_(bindparam("b_keys", expanding=True)), NOTICES.c.delivered_at.is_(None)).order_by(NOTICES.c.key)
UNDELIVERED_OF_CALL = select(NOTICES.c.key).where(
    NOTICES.c.call_id == bindparam("b_call"), NOTICES.c.application_id.is_not(None), NOTICES.c.delivered_at.is_(None),
    NOTICES.c.key > bindparam("b_after")).order_by(NOTICES.c.key).limit(bindparam("b_limit"))
CLOSED_AT = select(TRANSITIONS.c.application_id).where(
    TRANSITIONS.c.call_id == bindparam("b_call"), TRANSITIONS.c.deadline == bindparam("b_instant"),
    TRANSITIONS.c.role == "system")
CATCH_UP_TARGETS = select(  # with the closure's transition of each it closed (none for one still settling)
    APPLICATIONS.c.workflow_id, TRANSITIONS.c.seq, TRANSITIONS.c.trigger, TRANSITIONS.c.source, TRANSITIONS.c.dest,
    TRANSITIONS.c.actor_id, TRANSITIONS.c.role, TRANSITIONS.c.reason, TRANSITIONS.c.at, TRANSITIONS.c.deadline,
    TRANSITIONS.c.hash,
).select_from(APPLICATIONS.outerjoin(TRANSITIONS, (TRANSITIONS.c.application_id == APPLICATIONS.c.id)
                                     & (TRANSITIONS.c.deadline == bindparam("b_instant"))
                                     & (TRANSITIONS.c.role == "system"))).where(
    APPLICATIONS.c.call_id == bindparam("b_call"), APPLICATIONS.c.workflow_id > bindparam("b_after"),
    APPLICATIONS.c.id.in_(CLOSED_AT) | APPLICATIONS.c.state.in_(bindparam("b_states", expanding=True)),
).order_by(APPLICATIONS.c.workflow_id, TRANSITIONS.c.seq).limit(bindparam("b_limit"))
