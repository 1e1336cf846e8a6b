"""The records schema under Alembic: upgrade a database to head, say where it stands, compare it with the tables."""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import create_engine, text
from sqlalchemy.engine import Connection, Engine
from sqlmodel import SQLModel

import records.payloads
import records.publicity_tables
import records.quota_tables
import records.registry_tables
import records.review_tables
import records.tables  # noqa: F401  (registers the tables)

if TYPE_CHECKING:  # Alembic is imported by the functions that use it: a process that opens no database never loads it
    from alembic.config import Config

METADATA = SQLModel.metadata
MIGRATIONS = Path(__file__).resolve().parent / "migrations"
LOCK_KEY = 0x6772616E74  # "grant": the PostgreSQL advisory lock that queues concurrent upgrades


class SchemaBehind(ValueError):
    """The database is not at the newest revision; the message names it and the command that upgrades it."""


def config(connection: Connection | None = None) -> Config:
    """Alembic's configuration, built in code so that it works from any directory; no alembic.ini."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = connection
    return cfg


def head() -> str:
    """The newest revision."""
    from alembic.script import ScriptDirectory

    found = ScriptDirectory.from_config(config()).get_current_head()
    if found is None:
        raise RuntimeError(f"no revision under {MIGRATIONS / 'versions'}")
    return found


def current(engine: Engine) -> str | None:
    """The revision the database is at (None: never upgraded)."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as c:
        return MigrationContext.configure(c).get_current_revision()


logging.getLogger("alembic").setLevel(logging.WARNING)  # its per-revision INFO lines are not the user's business


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Apply the revisions up to `revision` in one transaction. On PostgreSQL an advisory lock queues workers that
    start together: the second finds the schema at head and does nothing."""
    from alembic import command

    with engine.begin() as c:
        if c.dialect.name == "postgresql":
            c.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": LOCK_KEY})
        command.upgrade(config(c), revision)


def require_head(engine: Engine) -> None:
    """Raise SchemaBehind unless the database is at the newest revision."""
    at, newest = current(engine), head()
    if at != newest:
        url = engine.url.render_as_string(hide_password=True)
        raise SchemaBehind(f"the records database {url} is at revision {at or 'none (empty)'}, not {newest}: "
                           "run `grantflow db upgrade`")


def new_revision(message: str) -> Path:
    """Write the next revision (numbered after head) from what the tables declare and the revisions lack: alembic's
    autogenerate against a scratch SQLite database at head, so SQLite's table copies are rendered (batch operations,
    which PostgreSQL runs as plain ALTERs). Read it before committing: autogenerate misses renames and data moves."""
    from alembic import command
    from alembic.script import Script

    with tempfile.TemporaryDirectory() as scratch:
        engine = create_engine(f"sqlite:///{Path(scratch) / 'head.db'}")
        upgrade(engine)
        with engine.begin() as c:
            script = command.revision(config(c), message, autogenerate=True, rev_id=f"{int(head()) + 1:04d}")
        engine.dispose()
    if not isinstance(script, Script):
        raise RuntimeError("alembic wrote no revision")
    return Path(script.path)


def differences(engine: Engine) -> list[Any]:
    """What the tables declared in code and the database's schema disagree on (alembic's autogenerate diff)."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as c:
        return list(compare_metadata(MigrationContext.configure(c), METADATA))
