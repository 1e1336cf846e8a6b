"""System lockout: a closed window in the records DB refuses late changes on every write path, CLI included."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlmodel import Session
from typer.testing import CliRunner

from cli import app
from client.accounts import add
from client.lockouts import application_lockout
from client.tokens import TokenConfig, issue
from models.call import load_call
from models.identity import Grant
from records.tables import ApplicationRow, CallRow, ExtensionRow, LockoutRow, TransitionRow
from tests.conftest import CALLS

CALL_000 = load_call(CALLS / "000-sx-2025-basic-research-geology.yaml")
CLOSED = CALL_000.phase("application").closes
NOW = datetime(2025, 4, 8, tzinfo=UTC)


def _records(db: Engine, state: str) -> None:
    assert isinstance(CLOSED, datetime)
    with Session(db) as s:
        s.add(CallRow(id=CALL_000.id, title=CALL_000.title, version=CALL_000.version(),
                      definition_json=CALL_000.model_dump_json(), timetable_json="{}", timetable_seq=1, updated_at=NOW))
        s.add(ApplicationRow(id="a1", call_id=CALL_000.id, workflow_id="application-a1", category="key", title="t",
                             applicant="pi-1", unit="unit-1", version=CALL_000.version(), state=state, updated_at=NOW))
        s.add(LockoutRow(call_id=CALL_000.id, phase="application", closed_at=CLOSED))
        s.commit()


def test_a_draft_cannot_be_submitted_once_its_window_is_locked(db: Engine) -> None:
    _records(db, "draft")
    with Session(db) as s:
        why = application_lockout(s, "a1", "submit")
    assert why == (f"call {CALL_000.id} is locked: application closed at 2025-04-07T17:00:00+08:00; "
                   "application a1 cannot submit any more")


def test_an_extension_for_the_application_lifts_the_lockout_for_it_alone(db: Engine) -> None:
    _records(db, "draft")
    assert isinstance(CLOSED, datetime)
    with Session(db) as s:
        s.add(ExtensionRow(application_id="a1", window="application", call_id=CALL_000.id,
                           closes=CLOSED + timedelta(days=1)))
        s.commit()
        assert application_lockout(s, "a1", "submit") is None


def test_changes_governed_by_an_open_window_are_not_locked(db: Engine) -> None:
    _records(db, "awaiting_unit_review")
    with Session(db) as s:
        assert application_lockout(s, "a1", "approve") is None
        assert application_lockout(s, "unknown", "submit") is None


def _closed_by(db: Engine, trigger: str, role: str, deadline: datetime | None) -> None:
    with Session(db) as s:
        s.add(TransitionRow(call_id=CALL_000.id, application_id="a1", seq=0, trigger=trigger, source="draft",
                            dest="closed_unsubmitted", actor_id=role, role=role, reason="", at=NOW, deadline=deadline))
        s.commit()


def test_an_application_its_record_shows_closed_by_the_deadline_takes_no_change(db: Engine) -> None:
    _records(db, "closed_unsubmitted")
    assert isinstance(CLOSED, datetime)
    _closed_by(db, "close", "system", CLOSED)
    with Session(db) as s:
        assert application_lockout(s, "a1", "submit") == (
            "deadline passed: application a1 was closed at 2025-04-07T17:00:00+08:00 and its record is "
            "closed_unsubmitted; submit is no longer possible")
        assert application_lockout(s, "a1", "approve") is not None  # no trigger leaves a finished application


def test_a_finished_application_not_closed_by_a_deadline_says_so(db: Engine) -> None:
    _records(db, "withdrawn")
    _closed_by(db, "withdraw", "applicant", None)
    with Session(db) as s:
        assert application_lockout(s, "a1", "submit") == "application a1 is withdrawn and closed: nothing can submit it now"


def test_a_terminal_state_with_a_way_out_is_left_to_the_workflow(db: Engine) -> None:
    _records(db, "formal_failed")  # a manager may reinstate it
    with Session(db) as s:
        assert application_lockout(s, "a1", "reinstate") is None
        assert application_lockout(s, "a1", "submit") is None


def test_the_cli_refuses_before_it_reaches_temporal(db: Engine, tmp_path: Path) -> None:
    _records(db, "draft")
    add(db, "pi-1", None, [Grant("applicant", "self")])
    env = {"GRANTFLOW_DATABASE_URL": db.url.render_as_string(hide_password=False), "GRANTFLOW_TEMPORAL_ADDRESS": "127.0.0.1:9",
           "GRANTFLOW_VAR_DIR": str(tmp_path / "var"), "GRANTFLOW_CONFIG_DIR": str(tmp_path / "config")}
    config = TokenConfig.from_env(tmp_path / "var")
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "token.json").write_text(json.dumps({"token": issue(config, "pi-1", NOW.now(UTC))}))
    result = CliRunner().invoke(app, ["act", "a1", "submit"], env=env)
    assert result.exit_code == 1
    assert "is locked: application closed at" in result.output
    assert "Traceback" not in result.output
