"""Closes that depend on who applies (category, cohort, recommending unit) or on another close: the binding one at its
boundary instants, the rule `deadline explain` names, and the contradictions `calls validate` refuses."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from client.calls import prepare
from models.call import CallDefinition, cohort_of, load_call, who_problem
from models.deadlines import Deadlines
from models.identity import in_process
from models.messages import ActRequest
from tests.conftest import CALLS
from tests.helpers import PEOPLE, application_input
from tests.test_call_files import assert_cli_reports, invoke, item, problems_of, seed_data, write
from workflows.application import ApplicationWorkflow

CALL_005 = next(CALLS.glob("005-*.yaml"))
CALL_009 = next(CALLS.glob("009-*.yaml"))
MS = timedelta(milliseconds=1)
CST = "+08:00"


def rule(call: CallDefinition, category: str, *, cohort: str = "", recommender: str = "",
         extensions: dict[str, datetime] | None = None) -> Deadlines:
    prepared = prepare(call)
    return Deadlines(call, category, prepared.timetable, prepared.input.calendar, extensions or {}, {}, cohort,
                     recommender)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text + CST)


def test_a_recommenders_close_binds_only_the_applications_it_recommends() -> None:
    call = load_call(CALL_005)
    city = rule(call, "y2025", recommender="lizhou")
    county = rule(call, "y2025", recommender="extended_counties")
    assert city.phase_close("recommendation") == at("2025-10-09T12:00:00")
    assert county.phase_close("recommendation") == at("2025-10-17T12:00:00")
    assert rule(call, "y2026", recommender="lizhou").phase_close("recommendation") == at("2025-10-17T12:00:00")
    binding = city.phase_binding("recommendation").rule
    assert binding == ("overrides.0 (category y2025, recommender lizhou/zhaohua/chaotian/jingkai/city_departments) "
                       "closes it at 2025-10-09T12:00:00+08:00")
    assert county.phase_binding("recommendation").rule == "phase recommendation's close"
    # the step that closes with the phase follows the binding close
    assert city.step_close("district_recommendation") == at("2025-10-09T12:00:00")


def test_the_recommenders_close_refuses_at_the_instant_and_accepts_a_millisecond_before() -> None:
    """The validator's own comparison, for the unit's approval at the city's 2025 recommendation close."""
    prepared = prepare(load_call(CALL_005))
    close = at("2025-10-09T12:00:00")
    for recommender, refused_at_close in (("zhaohua", True), ("extended_counties", False)):
        workflow = ApplicationWorkflow(application_input(
            prepared, "p", category="y2025", people={**PEOPLE, "recommender": recommender}))
        workflow.s.state = workflow.model.state = "awaiting_unit_review"
        approve = ActRequest("approve", PEOPLE["unit_admin"], "unit_admin",
                             identity=in_process(PEOPLE["unit_admin"], "unit_admin"))
        assert workflow._refusal(approve, close - MS) is None
        refusal = workflow._refusal(approve, close)
        assert (refusal is not None) is refused_at_close
        if refusal is not None:
            assert refusal.startswith("deadline passed") and "2025-10-09T12:00:00+08:00" in refusal


def test_a_cohort_close_binds_its_cohort_only() -> None:
    data = seed_data()
    data["cohorts"] = [{"id": "hmt", "name": "港澳台申请人"}]
    data["overrides"] = [{"who": {"cohort": ["hmt"]}, "closes": {"application": f"2025-04-03T17:00:00{CST}"}}]
    call = CallDefinition.model_validate(data)
    assert rule(call, "key", cohort="hmt").phase_close("application") == at("2025-04-03T17:00:00")
    assert rule(call, "key").phase_close("application") == at("2025-04-07T17:00:00")


def test_a_later_pair_for_one_cohort_leaves_the_others_on_the_earlier_close() -> None:
    """港澳台申请人 close later: the phase closes at their instant, and the cohort that gathers the others (an
    application naming no cohort joins it) closes earlier; at each boundary the validator's own comparison."""
    data = seed_data()
    data["cohorts"] = [{"id": "hmt", "name": "港澳台申请人"}, {"id": "mainland", "name": "内地申请人", "others": True}]
    data["overrides"] = [{"who": {"cohort": ["mainland"]}, "closes": {"application": f"2025-04-03T17:00:00{CST}"}}]
    call = CallDefinition.model_validate(data)
    assert cohort_of(call, "") == "mainland" and cohort_of(call, "hmt") == "hmt"
    assert who_problem(call, cohort_of(call, ""), "") is None
    assert rule(call, "key", cohort=cohort_of(call, "")).phase_binding("application").rule == (
        "overrides.0 (cohort mainland) closes it at 2025-04-03T17:00:00+08:00")
    assert rule(call, "key", cohort="hmt").phase_close("application") == at("2025-04-07T17:00:00")
    prepared = prepare(call)
    for cohort, close in (("", at("2025-04-03T17:00:00")), ("hmt", at("2025-04-07T17:00:00"))):
        workflow = ApplicationWorkflow(application_input(prepared, "p", cohort=cohort_of(call, cohort)))
        submit = ActRequest("submit", PEOPLE["applicant"], "applicant",
                            identity=in_process(PEOPLE["applicant"], "applicant"))
        assert workflow._refusal(submit, close - MS) is None
        refusal = workflow._refusal(submit, close)
        assert refusal is not None and refusal.startswith("deadline passed") and close.isoformat() in refusal


def test_the_earliest_close_that_applies_binds() -> None:
    data = seed_data()
    data["recommenders"] = [{"id": "org-1", "name": "某市科技局"}]
    item(data["categories"], "key")["closes"] = {"application": f"2025-04-04T17:00:00{CST}"}
    data["overrides"] = [{"who": {"recommender": ["org-1"]}, "closes": {"application": f"2025-04-02T18:00:00{CST}"}}]
    call = CallDefinition.model_validate(data)
    assert rule(call, "key", recommender="org-1").phase_close("application") == at("2025-04-02T18:00:00")
    assert rule(call, "key", recommender="org-2").phase_close("application") == at("2025-04-04T17:00:00")
    assert rule(call, "general", recommender="org-2").phase_close("application") == at("2025-04-07T17:00:00")


def test_a_relative_close_counts_from_the_applications_own_close_and_follows_its_extension() -> None:
    call = load_call(CALL_009)
    plain = rule(call, "cooperation_other")
    assert plain.phase_close("application") == at("2025-12-15T00:00:00")
    assert plain.phase_close("recommendation") == at("2025-12-20T00:00:00")
    assert plain.phase_binding("recommendation").rule == ("category cooperation_other: 5 days after the close of "
                                                          "application (2025-12-15T00:00:00+08:00)")
    extended = rule(call, "cooperation_other", extensions={"application": at("2025-12-18T00:00:00")})
    assert extended.phase_close("recommendation") == at("2025-12-23T00:00:00")
    # a category without a close of its own: the phase's, five days after the phase it follows
    assert rule(call, "national_awards").phase_close("recommendation") == at("2026-02-07T00:00:00")


def test_a_relative_close_in_working_days_ends_with_the_nth_working_day() -> None:
    data = seed_data()
    item(data["categories"], "key")["closes"] = {"recommendation": {"after": "application", "working_days": 2}}
    call = CallDefinition.model_validate(data)
    # application closes Monday 2025-04-07 17:00: two working days after that day end at 24:00 on Wednesday 9 April
    assert rule(call, "key").phase_close("recommendation") == at("2025-04-10T00:00:00")


def _with(**changes: Any) -> dict[str, Any]:
    data = seed_data()
    data.update(changes)
    return data


REFUSED = {
    "category-close-after-its-phase": (
        lambda d: item(d["categories"], "key").update(closes={"application": f"2025-04-08T17:00:00{CST}"}),
        "categories.key.closes.application: 2025-04-08T17:00:00+08:00 is after phase application closes "
        "2025-04-07T17:00:00+08:00 (a close that depends on who applies is the phase's or earlier: move "
        "phases.application.closes to the latest one)"),
    "cohort-close-after-its-phase": (
        lambda d: d.update(cohorts=[{"id": "hmt", "name": "港澳台"}], overrides=[
            {"who": {"cohort": ["hmt"]}, "closes": {"application": f"2025-04-10T17:00:00{CST}"}}]),
        "overrides.0.closes.application: 2025-04-10T17:00:00+08:00 is after phase application closes "
        "2025-04-07T17:00:00+08:00 (a close that depends on who applies is the phase's or earlier: move "
        "phases.application.closes to the latest one)"),
    "close-before-its-phase-opens": (
        lambda d: item(d["categories"], "key").update(closes={"application": f"2025-03-05T09:30:00{CST}"}),
        "categories.key.closes.application: 2025-03-05T09:30:00+08:00 is not after phase application opens "
        "2025-03-05T09:30:00+08:00 (a window with no valid instant)"),
    "two-cohorts-gather-the-others": (
        lambda d: d.update(cohorts=[{"id": "a", "name": "甲", "others": True}, {"id": "b", "name": "乙", "others": True}]),
        "cohorts: a, b each say others: true (at most one cohort gathers the applications that name none)"),
    "a-recommender-gathers-the-others": (
        lambda d: d.update(recommenders=[{"id": "city", "name": "市科技局", "others": True}]),
        "recommenders.city.others: only a cohort gathers the others (a recommending unit is named by each "
        "application)"),
    "unknown-cohort": (
        lambda d: d.update(overrides=[{"who": {"cohort": ["hmt"]}, "closes": {"application": f"2025-04-01T17:00:00{CST}"}}]),
        "overrides.0.who.cohort: unknown cohort 'hmt' (declare it under cohorts)"),
    "nobody": (
        lambda d: d.update(overrides=[{"who": {}, "closes": {"application": f"2025-04-01T17:00:00{CST}"}}]),
        "overrides.0.who: name at least one of category, cohort or recommender (a close for everyone is the "
        "phase's own)"),
    "unknown-window": (
        lambda d: item(d["categories"], "key").update(closes={"applicaton": f"2025-04-01T17:00:00{CST}"}),
        "categories.key.closes.applicaton: unknown phase 'applicaton' (phases: application, recommendation, paper, "
        "formal_review, expert_review, publicity, contract, or step:<id> for a step)"),
    "relative-to-a-later-phase": (
        lambda d: item(d["categories"], "key").update(closes={"application": {"after": "paper", "days": 1}}),
        "categories.key.closes.application.after: 'paper' is not a phase before application (a close counts from an "
        "earlier close)"),
    "relative-past-its-phase": (
        lambda d: item(d["categories"], "key").update(closes={"recommendation": {"after": "application", "days": 5}}),
        "categories.key.closes.recommendation: 5 days after the close of application is 2025-04-12T17:00:00+08:00, "
        "after phase recommendation closes 2025-04-11T17:00:00+08:00 (move phases.recommendation.closes to the "
        "latest one)"),
}


@pytest.mark.parametrize("case", REFUSED, ids=str)
def test_a_contradictory_close_is_refused_in_one_line(tmp_path: Path, case: str) -> None:
    edit, line = REFUSED[case]
    data = seed_data()
    edit(data)
    path = write(tmp_path / f"{case}.yaml", data)
    assert problems_of(path) == [f"{path}: {line}"]
    assert_cli_reports(["calls", "validate", str(path)], [f"{path}: {line}"])


def test_show_lists_every_close_that_depends_on_who_applies() -> None:
    result = invoke("calls", "show", str(CALL_005))
    assert result.exit_code == 0
    assert "category y2025" in result.output and "2025-09-28 18:00" in result.output
    assert "2025-10-09 12:00" in result.output
