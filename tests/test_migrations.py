"""The records schema comes from its Alembic migrations alone: they agree with the tables, keep rows written at
the first revision, and `grantflow db upgrade` applies them, on SQLite and PostgreSQL alike."""

from __future__ import annotations

import concurrent.futures
from datetime import UTC, datetime

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session, select
from typer.testing import CliRunner

from cli import app
from records.engine import connect, make_engine
from records.quota_tables import ApplicationPersonRow, QuotaLimitRow
from records.schema import SchemaBehind, config, current, differences, head, upgrade
from records.tables import ApplicationRow, NoticeRow, QuotaUseRow, TransitionRow
from tests.conftest import Postgres

FIRST = "0001"


def _to_base(engine: Engine) -> None:
    with engine.begin() as c:
        command.downgrade(config(c), "base")


def test_the_revisions_form_one_line() -> None:
    """Two branches that each add a revision after the same one leave two heads: the later one must be renumbered."""
    script = ScriptDirectory.from_config(config())
    assert script.get_heads() == [head()]
    assert [r.revision for r in script.walk_revisions()][-1] == FIRST


def test_the_tables_and_the_migrations_agree(db: Engine) -> None:
    assert current(db) == head()
    assert differences(db) == []


def test_a_schema_that_drifts_from_the_tables_is_named(db: Engine) -> None:
    with db.begin() as c:
        c.execute(text("DROP INDEX ix_transitions_chain"))
        c.execute(text("ALTER TABLE notices ADD COLUMN stray VARCHAR"))
    found = {(d[0], getattr(d[-1], "name", None)) for d in differences(db)}
    assert ("add_index", "ix_transitions_chain") in found
    assert ("remove_column", "stray") in found


def test_rows_written_at_the_first_revision_are_kept_by_the_upgrade_to_head(db: Engine) -> None:
    _to_base(db)
    upgrade(db, FIRST)
    at = datetime(2025, 4, 7, 9, 0)  # the first revision's columns hold UTC instants without an offset
    with db.begin() as c:
        c.execute(text("INSERT INTO applications (id, call_id, workflow_id, category, title, applicant, unit, version, "
                       "state, last_seq, updated_at) VALUES ('a1', 'c1', 'application-a1', 'key', '深部找矿', 'pi-1', "
                       "'unit-1', 'v1', 'awaiting_unit_review', 0, :at)"), {"at": at})
        c.execute(text("INSERT INTO transitions (call_id, application_id, seq, trigger, source, dest, actor_id, role, "
                       "reason, at, prev_hash, hash) VALUES ('c1', 'a1', 0, 'submit', 'draft', 'awaiting_unit_review', "
                       "'pi-1', 'applicant', '', :at, 'p', 'h')"), {"at": at})
        c.execute(text("INSERT INTO notices (key, call_id, application_id, recipient, kind, subject, body, created_at) "
                       "VALUES ('a1:0:applicant', 'c1', 'a1', 'pi-1', 'transition', '已提交', '您的申请已提交', :at)"),
                  {"at": at})
    upgrade(db)
    assert current(db) == head() != FIRST
    assert differences(db) == []
    with Session(db) as s:
        application = s.exec(select(ApplicationRow)).one()
        transition = s.exec(select(TransitionRow)).one()
        notice = s.exec(select(NoticeRow)).one()
    assert (application.id, application.state, application.title) == ("a1", "awaiting_unit_review", "深部找矿")
    assert application.updated_at == transition.at == at.replace(tzinfo=UTC)
    assert (transition.actor_id, transition.role, transition.hash) == ("pi-1", "applicant", "h")
    assert (notice.body, notice.delivered_at, notice.status, notice.attempts) == ("您的申请已提交", None, "queued", 0)


def test_places_taken_before_revision_0007_keep_counting_under_their_category(db: Engine) -> None:
    """A place in quota_uses from before the quota forms gets its application's category (a planned count per
    category counts it) and no flags; application_people and quota_limits start empty."""
    _to_base(db)
    upgrade(db, "0006")
    at = datetime(2025, 4, 7, 9, 0)
    with db.begin() as c:
        for app_id, category in (("a1", "key"), ("a2", "general")):
            c.execute(text("INSERT INTO applications (id, call_id, workflow_id, category, title, applicant, unit, "
                           "version, state, last_seq, updated_at) VALUES (:id, 'c1', :wf, :cat, 't', 'pi-1', "
                           "'unit-1', 'v1', 'awaiting_organiser_review', 1, :at)"),
                      {"id": app_id, "wf": f"application-{app_id}", "cat": category, "at": at})
            c.execute(text("INSERT INTO quota_uses (call_id, step, application_id, actor_id) "
                           "VALUES ('c1', 'unit_review', :id, 'unit-1')"), {"id": app_id})
    upgrade(db)
    assert differences(db) == []
    with Session(db) as s:
        places = s.exec(select(QuotaUseRow).order_by(QuotaUseRow.application_id)).all()
        assert [(p.application_id, p.category, p.flags) for p in places] == [("a1", "key", ""), ("a2", "general", "")]
        assert s.exec(select(ApplicationPersonRow)).all() == [] and s.exec(select(QuotaLimitRow)).all() == []


def test_db_upgrade_brings_an_empty_database_to_head_once(database_url: str) -> None:
    engine = connect(database_url)
    _to_base(engine)
    env = {"GRANTFLOW_DATABASE_URL": database_url}
    behind = CliRunner().invoke(app, ["db", "current"], env=env)
    assert behind.exit_code == 1 and f"at none (empty), newest {head()}" in behind.output
    first = CliRunner().invoke(app, ["db", "upgrade"], env=env)
    assert first.exit_code == 0, first.output
    assert f": empty -> {head()}" in first.output
    again = CliRunner().invoke(app, ["db", "upgrade"], env=env)
    assert again.exit_code == 0 and f"at {head()} already" in again.output
    assert CliRunner().invoke(app, ["db", "current"], env=env).exit_code == 0
    assert differences(engine) == []
    engine.dispose()


def test_db_upgrade_to_an_unknown_revision_says_so_in_one_line(database_url: str) -> None:
    result = CliRunner().invoke(app, ["db", "upgrade", "nope"], env={"GRANTFLOW_DATABASE_URL": database_url})
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == ["error: Can't locate revision identified by 'nope'"]


def test_a_server_database_behind_head_is_refused_with_the_command_that_upgrades_it(postgres: Postgres) -> None:
    url = postgres.fresh()
    engine = connect(url)
    _to_base(engine)
    upgrade(engine, FIRST)
    with pytest.raises(SchemaBehind, match=f"is at revision {FIRST}, not {head()}: run `grantflow db upgrade`"):
        make_engine(url)
    result = CliRunner().invoke(app, ["review", "formal", "c1"], env={"GRANTFLOW_DATABASE_URL": url})
    assert result.exit_code == 1
    assert "run `grantflow db upgrade`" in result.output and "Traceback" not in result.output
    engine.dispose()
    postgres.drop(url)


def test_workers_that_upgrade_one_database_at_once_queue_on_its_lock(postgres: Postgres) -> None:
    url = postgres.fresh()
    engine = connect(url)
    _to_base(engine)
    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(lambda _: make_engine(url, migrate=True).dispose(), range(4)))
    assert current(engine) == head()
    assert differences(engine) == []
    engine.dispose()
    postgres.drop(url)
