"""Records database: engine creation (SQLite file by default, PostgreSQL through psycopg, any SQLAlchemy URL)."""

from __future__ import annotations

import threading
import weakref
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import create_engine

import records.accounts
import records.payloads
import records.quota_tables
import records.registry_tables
import records.review_tables  # noqa: F401  (registers the review tables)
import records.tables  # noqa: F401  (registers the tables)
from records.schema import require_head, upgrade

POOL = 20  # server connections kept per engine: a worker's 16 activity threads and the commands beside them
_WRITERS: weakref.WeakKeyDictionary[Engine, threading.Lock] = weakref.WeakKeyDictionary()


def writing(engine: Engine) -> AbstractContextManager[object]:
    """Hold while writing through `engine`. SQLite has one write lock per file, and its busy handler waits by
    sleeping and retrying, so many threads contending for it waste most of their time asleep; queueing this
    process's writers on a lock hands the file to them in turn. Server databases lock rows, so nothing is held."""
    return _WRITERS[engine] if engine in _WRITERS else nullcontext()


def connect(url: str) -> Engine:
    """An engine on `url`, as it is: nothing created or checked."""
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _pragmas(conn: Any, _record: Any) -> None:
            cur = conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        _WRITERS[engine] = threading.Lock()
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=POOL, max_overflow=POOL)


def make_engine(url: str, migrate: bool | None = None) -> Engine:
    """An engine on the records database at the newest revision. `migrate` upgrades it first; by default only a
    SQLite file (the embedded store) is upgraded on open, and a server database behind head raises SchemaBehind
    (`grantflow db upgrade`, or a worker starting, upgrades it)."""
    engine = connect(url)
    if migrate if migrate is not None else engine.dialect.name == "sqlite":
        upgrade(engine)
    else:
        require_head(engine)
    return engine
