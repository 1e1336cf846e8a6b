"""Late actors in the simulation: a share of units, recommenders, agencies and reviewers act after their deadline or
never; their late acts are refused (accepted only at a service deadline), and lapses, overdue notices and escalations
are counted, with no violation."""

from __future__ import annotations

from models.call import CallDefinition, StepDef, load_call
from simulation.launch import simulate
from tests.conftest import CALLS

CALL_000 = CALLS / "000-sx-2025-basic-research-geology.yaml"


def _with_an_agency_service_step() -> CallDefinition:
    """000 with an agency's check (3 working days, a service deadline that escalates) after the organiser's."""
    call = load_call(CALL_000)
    agency = StepDef(id="agency_check", name="项目管理机构审核", role="agency",
                     deadline={"working_days": 3}, overdue="escalate")  # type: ignore[arg-type]
    return call.model_copy(update={"chain": [*call.chain, agency]})


async def test_late_actors_are_refused_counted_and_escalated_without_violations() -> None:
    report = await simulate(_with_an_agency_service_step(), 40, seed=7, late_share=0.4)
    assert report.violations == []
    assert report.late_share == 0.4
    late = report.late_actors
    assert late.get("late acts refused", 0) > 0
    assert {k.split(" (")[1].rstrip(")") for k in late if "(" in k and k.startswith(("late (", "never ("))} >= {
        "unit_admin", "recommender", "agency"}
    assert report.lapses > 0 and report.overdue > 0 and report.escalations > 0
    assert "late acts accepted" not in late  # accepted late only at a service deadline, where late action counts


async def test_without_late_actors_nobody_is_held_back() -> None:
    report = await simulate(load_call(CALL_000), 12, seed=5, late_share=0.0)
    assert report.violations == [] and report.late_actors == {}
