"""`simulate` runs every seed call end to end with a seeded population and every invariant holding."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from client.calls import unanswered
from models.call import load_call
from models.lifecycle import TERMINAL
from models.rules import rule_ids
from simulation.run import simulate
from tests.conftest import CALLS
from tests.helpers import with_stand_in_years

FILES = [*sorted(CALLS.glob("*.yaml")), CALLS / "examples" / "other-notices.yaml"]


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
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
    assert list(report.formal_failures) == rule_ids(call)
    assert list(report.needs_person) == rule_ids(call)
    if call.rules:  # a notice whose stored text states no rule (several of calls/005-018) has nothing to fail
        assert sum(report.formal_failures.values()) > 0
        assert report.final_states.get("formal_failed", 0) > 0
    for phase in call.phases:
        times = report.phases[phase.id]
        assert times["opened"] is not None and times["closed"] is not None
        if isinstance(phase.opens, datetime):
            assert datetime.fromisoformat(times["opened"]) == phase.opens
        if isinstance(phase.closes, datetime):
            assert datetime.fromisoformat(times["closed"]) == phase.closes


async def test_same_seed_same_outcome() -> None:
    call = load_call(FILES[0])
    first, second = await simulate(call, 12, seed=5), await simulate(call, 12, seed=5)
    assert first.final_states == second.final_states


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
