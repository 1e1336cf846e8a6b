"""Alembic's environment: runs the revisions on the connection `records.schema` hands it, never on a URL of its own."""

from __future__ import annotations

from typing import Any, Literal

from alembic import context
from alembic.autogenerate.api import AutogenContext
from sqlalchemy.engine import Connection
from sqlmodel.sql.sqltypes import AutoString

from records.schema import METADATA
from records.tables import AwareDateTime


def render_type(kind: str, obj: Any, _context: AutogenContext) -> str | Literal[False]:
    """Revisions name plain SQLAlchemy types: the column types of sqlmodel and records.tables may change or go."""
    if kind == "type" and isinstance(obj, AutoString):
        return "sa.String()"
    if kind == "type" and isinstance(obj, AwareDateTime):
        return "sa.DateTime()"
    return False


def run(connection: Connection) -> None:
    context.configure(connection=connection, target_metadata=METADATA, render_item=render_type,
                      render_as_batch=connection.dialect.name == "sqlite")  # SQLite alters a table by copying it
    with context.begin_transaction():
        context.run_migrations()


run(context.config.attributes["connection"])
