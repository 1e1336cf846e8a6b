"""A call's rows, found and deleted: what a simulation into a kept database clears before it runs again."""

from __future__ import annotations

from sqlalchemy import delete, exists, select
from sqlalchemy.engine import Engine

from records.schema import METADATA

CALLS, APPLICATIONS = METADATA.tables["calls"], METADATA.tables["applications"]


def holds_call(engine: Engine, call_id: str) -> bool:
    """Whether the database has the call's row or any of its applications."""
    with engine.connect() as c:
        return bool(c.execute(select(exists().where(CALLS.c.id == call_id))).scalar()
                    or c.execute(select(exists().where(APPLICATIONS.c.call_id == call_id))).scalar())


def forget_call(engine: Engine, call_id: str) -> int:
    """Delete every row that belongs to the call (each table with a `call_id` column, and the call's row), in one
    transaction; the number of rows deleted. Registry rows belong to no call and stay."""
    deleted = 0
    with engine.begin() as c:
        for table in reversed(METADATA.sorted_tables):
            column = table.c.id if table.name == "calls" else table.c.get("call_id")
            if column is not None:
                deleted += c.execute(delete(table).where(column == call_id)).rowcount
    return deleted
