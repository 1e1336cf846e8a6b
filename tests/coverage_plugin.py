"""Collects every transition the suite's records databases hold when their fixtures end, into
var/coverage/suite.jsonl, which `grantflow coverage --visits` reads (`make test` prints it)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session, select

from records.tables import TransitionRow

OUT = Path(__file__).resolve().parent.parent / "var" / "coverage" / "suite.jsonl"
VISITS: set[tuple[str, str, str, str]] = set()


def pytest_fixture_post_finalizer(fixturedef: pytest.FixtureDef[Any], request: pytest.FixtureRequest) -> None:
    cached = fixturedef.cached_result
    engine = cached[0] if cached else None
    if not isinstance(engine, Engine):
        return
    try:
        with Session(engine) as s:
            rows = s.exec(select(TransitionRow.call_id, TransitionRow.source, TransitionRow.trigger,
                                 TransitionRow.dest)).all()
    except SQLAlchemyError:  # a database the test never gave tables, or one it removed
        return
    VISITS.update((r[0], r[1], r[2], r[3]) for r in rows)


def pytest_sessionfinish(session: pytest.Session) -> None:
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text("".join(json.dumps(dict(zip(("call_id", "source", "trigger", "dest"), v, strict=True))) + "\n"
                           for v in sorted(VISITS)), encoding="utf-8")
