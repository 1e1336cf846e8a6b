"""The record path's SQL, as SQLAlchemy Core statements built once: on the per-transition path the ORM's unit of
work and per-call statement building cost more than SQLite itself.

Where-clause parameters are named b_*, so that the other keys of an execution's parameters are the columns an
UPDATE sets.
"""

from __future__ import annotations

from sqlalchemy import bindparam, delete, select, update
from sqlmodel import SQLModel

import records.tables  # noqa: F401  (registers the tables)

APPLICATIONS, CALLS, EXTENSIONS, NOTICES, QUOTA_USES, TRANSITIONS = (SQLModel.metadata.tables[name] for name in (
    "applications", "calls", "extensions", "notices", "quota_uses", "transitions"))
APPLICATION_EXISTS = select(APPLICATIONS.c.id).where(APPLICATIONS.c.id == bindparam("b_id"))
CALL_TIMETABLE = select(CALLS.c.timetable_seq, CALLS.c.timetable_json).where(CALLS.c.id == bindparam("b_id"))
CALL_VERSION = select(CALLS.c.version).where(CALLS.c.id == bindparam("b_id"))
CALL_DEFINITION = select(CALLS.c.definition_json).where(CALLS.c.id == bindparam("b_id"))
LOCK_CALL = select(CALLS.c.id).where(CALLS.c.id == bindparam("b_id")).with_for_update()
STORED_TRANSITION = select(
    TRANSITIONS.c.actor_id, TRANSITIONS.c.role, TRANSITIONS.c.reason, TRANSITIONS.c.at, TRANSITIONS.c.deadline,
    TRANSITIONS.c.hash,
).where(TRANSITIONS.c.application_id == bindparam("b_app"), TRANSITIONS.c.seq == bindparam("b_seq"))
INSERT_TRANSITION = TRANSITIONS.insert().returning(TRANSITIONS.c.id)
CHAIN_HEAD_BEFORE = select(TRANSITIONS.c.hash).where(
    TRANSITIONS.c.call_id == bindparam("b_call"), TRANSITIONS.c.id < bindparam("b_id"),
).order_by(TRANSITIONS.c.id.desc()).limit(1)
SET_HASH = update(TRANSITIONS).where(TRANSITIONS.c.id == bindparam("b_id"))
ADVANCE_APPLICATION = update(APPLICATIONS).where(
    APPLICATIONS.c.id == bindparam("b_id"), APPLICATIONS.c.last_seq < bindparam("b_seq"))
SET_VERDICTS = update(APPLICATIONS).where(APPLICATIONS.c.id == bindparam("b_id"))
RELEASE_QUOTA = delete(QUOTA_USES).where(QUOTA_USES.c.application_id == bindparam("b_app"))
MOVE_EXTENSION = update(EXTENSIONS).where(
    EXTENSIONS.c.application_id == bindparam("b_app"), EXTENSIONS.c.window == bindparam("b_window"))
KNOWN_NOTICES = select(NOTICES.c.key).where(NOTICES.c.key.in_(bindparam("b_keys", expanding=True)))
UNDELIVERED_NOTICES = select(NOTICES).where(
    NOTICES.c.key.in_(bindparam("b_keys", expanding=True)), NOTICES.c.delivered_at.is_(None)).with_for_update()
MARK_DELIVERED = update(NOTICES).where(NOTICES.c.key == bindparam("b_key"))
