"""`simulate` runs every seed call end to end with a seeded population and every invariant holding; with
GRANTFLOW_DATABASE_URL set, its records stay in that database."""

from __future__ import annotations

import io
import json
from collections import Counter
from datetime import date, datetime

import pytest
from rich.console import Console
from sqlmodel import Session, func, select
from typer.testing import CliRunner

from cli import app
from client.calls import unanswered
from models.call import load_call
from models.lifecycle import TERMINAL
from models.rules import FORMAL, RECOMMENDATION, rule_ids
from records.engine import connect
from records.schema import current, head
from records.tables import ApplicationRow, NoticeRow
from simulation.launch import simulate
from simulation.progress import TerminalBar
from tests.conftest import CALLS, Postgres
from tests.helpers import with_stand_in_years

FILES = [*sorted(CALLS.glob("*.yaml")), CALLS / "examples" / "other-notices.yaml"]


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
async def test_simulated_call_ends_with_every_invariant_held(path) -> None:  # type: ignore[no-untyped-def]
    call = load_call(path)
    if not call.dated_instants():
        call = with_stand_in_years(call, date.today().year + 1)
    report = await simulate(call, 30, seed=3)
    assert report.violations == []
    assert sum(report.final_states.values()) == 30
    assert set(report.final_states) <= set(TERMINAL)
    assert report.late_accepted == 0
    assert report.notices > 30
    if any(call.review and call.review.stage(p.id).defence for p in call.phases):  # 012, 019: a defence (答辩)
        assert set(report.defence) == {"scheduled", "absent", "materials_late"} and report.defence["scheduled"] > 0
    assert list(report.formal_failures) == rule_ids(call, FORMAL)
    assert list(report.recommendation_failures) == rule_ids(call, RECOMMENDATION)
    assert list(report.needs_person) == rule_ids(call)
    if rule_ids(call, RECOMMENDATION):  # 017: a city notice that forwards to the province checks at its bureaus' step
        assert report.recommendation_checks > 0
    # a notice whose stored text states no rule (several of calls/005-018) has nothing to fail
    if call.rules and call.phase_of_kind("formal_review") is not None:
        assert sum(report.formal_failures.values()) > 0
        assert report.final_states.get("formal_failed", 0) > 0
    for phase in call.phases:
        times = report.phases[phase.id]
        assert times["opened"] is not None and times["closed"] is not None
        if isinstance(phase.opens, datetime):
            assert datetime.fromisoformat(times["opened"]) == phase.opens
        if isinstance(phase.closes, datetime):
            assert datetime.fromisoformat(times["closed"]) == phase.closes


class Recorded(TerminalBar):
    """The terminal's bar, on a terminal of its own, keeping the phases it was shown."""

    def __init__(self, total: int) -> None:
        super().__init__(total, Console(file=io.StringIO(), force_terminal=True, width=120, color_system=None))
        self.phases: list[str] = []

    def phase(self, name: str) -> None:
        self.phases.append(name)
        super().phase(name)


async def test_same_seed_same_outcome_and_the_bar_follows_the_phases_to_every_application_final() -> None:
    """The second run keeps 3 workflows in the worker's cache: the others are replayed each time they are touched."""
    call = load_call(FILES[0])
    bar = Recorded(12)
    async with bar.shown():
        first = await simulate(call, 12, seed=5, shown=bar)
    second = await simulate(call, 12, seed=5, cache=3)
    assert first.final_states == second.final_states  # notices vary run to run (230-248), either cache
    assert first.violations == second.violations == []
    assert bar.phases == [f"{p.id} ({p.name})" for p in call.phases]
    drawn = bar.console.file.getvalue()  # type: ignore[attr-defined]
    assert "12/12 applications final" in drawn and "contract" in drawn


@pytest.mark.parametrize("message, again", [
    ("Timeout expired", True),
    ("Query deadline of 10s exceeded", True),
    ("[TMPRL1101] Potential deadlock detected: workflow didn't yield within 2 second(s).", True),
    ("h2 protocol error: http2 error", True),
    ("Query handler for 'status' expected but not found", False),
    ("workflow not found for ID: application-x", False),
])
def test_a_query_is_asked_again_only_when_no_worker_had_time_to_answer(message: str, again: bool) -> None:
    assert unanswered(message) is again


def test_simulate_keeps_its_records_in_the_configured_database_and_refuses_to_mix_two_runs(postgres: Postgres) -> None:
    url = postgres.fresh(empty=True)
    command = ["simulate", str(FILES[0]), "--applications", "6", "--seed", "3", "--json"]
    env = {"GRANTFLOW_DATABASE_URL": url}
    first = CliRunner().invoke(app, command, env=env)
    assert first.exit_code == 0, first.output
    report = json.loads(first.output)
    engine = connect(url)
    assert current(engine) == head()  # the empty database was upgraded first
    with Session(engine) as s:
        states = dict(Counter(s.exec(select(ApplicationRow.state).where(ApplicationRow.call_id == report["call"]))))
        notices = s.exec(select(func.count()).select_from(NoticeRow).where(NoticeRow.call_id == report["call"])).one()
    assert states == report["final_states"] and notices == report["notices"] > 0
    again = CliRunner().invoke(app, command, env=env)
    assert again.exit_code == 1
    assert again.output.strip() == (f"error: the records database already holds call {report['call']} (an earlier run?): "
                                    "simulate --replace deletes its rows first, or use another database")
    replaced = CliRunner().invoke(app, [*command, "--replace"], env=env)
    assert replaced.exit_code == 0, replaced.output
    assert json.loads(replaced.output)["final_states"] == report["final_states"]
    with Session(engine) as s:
        assert s.exec(select(func.count()).select_from(ApplicationRow)).one() == 6
    engine.dispose()
    postgres.drop(url)
