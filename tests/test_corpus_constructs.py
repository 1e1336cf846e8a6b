"""Constructs of the call format that real notices in calls/ exercise: a dated contract (task-book) stage across a year
boundary (calls/examples), paper only after publicity, from funded projects (019), and a later pair of closes for one
project type (020, 港澳台项目), at their boundary instants."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from client.calls import prepare
from models.call import load_call
from models.deadlines import explain
from models.identity import in_process
from models.lifecycle import build_lifecycle
from models.messages import ActRequest, ApplicationStatus, CallStatus
from tests.conftest import CALLS
from tests.helpers import PEOPLE, application_input
from tests.test_call_files import invoke
from workflows.application import ApplicationWorkflow

CALL_019 = CALLS / "examples" / "sc-2025-central-guided-task-book.yaml"  # simulated in test_manual_before_dated
CALL_020 = next(CALLS.glob("019-*.yaml"))
CHONGQING = next(CALLS.glob("020-*.yaml"))
MS = timedelta(milliseconds=1)
CST = "+08:00"


def at(text: str) -> datetime:
    return datetime.fromisoformat(text + CST)


def workflow_in(path: object, state: str) -> ApplicationWorkflow:
    workflow = ApplicationWorkflow(application_input(prepare(load_call(path)), "a"))  # type: ignore[arg-type]
    workflow.s.state = workflow.model.state = state
    return workflow


def as_applicant(trigger: str) -> ActRequest:
    return ActRequest(trigger, PEOPLE["applicant"], "applicant", "", identity=in_process(PEOPLE["applicant"], "applicant"))


# ---- examples/sc-2025-central-guided-task-book: the task-book stage of the funded projects, 2025-12-04 15:17:48 to 2026-01-13 18:00 --------------------


def test_the_task_book_stage_crosses_the_year_and_follows_the_shortlist_with_no_review_or_publicity() -> None:
    call = load_call(CALL_019)
    contract = call.phase("contract")
    assert (contract.opens, contract.closes) == (at("2025-12-04T15:17:48"), at("2026-01-13T18:00:00"))
    assert [p.kind for p in call.phases] == ["application", "contract"]
    life = build_lifecycle(call)
    sign = next(t for t in life.transitions if t.trigger == "sign_contract")
    lapse = next(t for t in life.transitions if t.trigger == "lapse_contract")
    assert (sign.source, lapse.source) == ("shortlisted", "shortlisted")
    assert lapse.due is not None and lapse.due.phase == "contract"


def test_signing_the_task_book_refuses_at_the_close_in_the_new_year_and_accepts_a_millisecond_before() -> None:
    workflow = workflow_in(CALL_019, "shortlisted")
    close = at("2026-01-13T18:00:00")
    assert workflow._refusal(as_applicant("sign_contract"), close - MS) is None
    refusal = workflow._refusal(as_applicant("sign_contract"), close)
    assert refusal is not None and refusal.startswith("deadline passed") and "2026-01-13T18:00:00+08:00" in refusal


def test_signing_the_task_book_before_the_notice_was_published_is_refused() -> None:
    workflow = workflow_in(CALL_019, "shortlisted")
    opens = at("2025-12-04T15:17:48")
    assert workflow._refusal(as_applicant("sign_contract"), opens) is None
    assert workflow._refusal(as_applicant("sign_contract"), opens - MS) is not None


# ---- 019: paper only after publicity, from the funded projects ------------------------------------------------------


def test_paper_comes_after_publicity_only_from_funded_projects_and_the_contract_after_the_paper() -> None:
    life = build_lifecycle(load_call(CALL_020))
    receive = next(t for t in life.transitions if t.trigger == "receive_paper")
    missing = next(t for t in life.transitions if t.trigger == "mark_paper_missing")
    taskbook = [t.source for t in life.transitions if t.trigger == "submit_taskbook"]  # the contract's first act
    assert (receive.source, receive.dest, missing.source, taskbook) == (
        "approved", "paper_received", "approved", ["paper_received"])
    back = [t.dest for t in life.transitions if t.trigger == "return_taskbook"]
    assert back == ["paper_received"]  # a returned task book does not ask for the paper again
    assert not [t for t in life.transitions if t.trigger == "receive_paper" and t.source == "accepted"]


def test_paper_is_refused_from_an_application_not_yet_through_publicity() -> None:
    workflow = workflow_in(CALL_020, "accepted")
    receive = ActRequest("receive_paper", "agency-1", "agency", "", identity=in_process("agency-1", "agency"))
    refusal = workflow._refusal(receive, at("2021-11-19T12:00:00"))
    assert refusal is not None and refusal.startswith("cannot receive_paper application a in state accepted")


def test_the_online_close_at_24_00_refuses_at_midnight_and_accepts_a_millisecond_before() -> None:
    workflow = workflow_in(CALL_020, "draft")
    close = at("2021-11-20T00:00:00")
    assert workflow._refusal(as_applicant("submit"), close - MS) is None
    refusal = workflow._refusal(as_applicant("submit"), close)
    assert refusal is not None and "2021-11-20T00:00:00+08:00" in refusal


# ---- 020: Chongqing recommends the ministry's intergovernmental specials; 港澳台项目 close later ----------------------

def chongqing(state: str, category: str) -> ApplicationWorkflow:
    """An application of 020 in `state`; the programme office opened the application phase (manual) on the notice's
    day."""
    prepared = prepare(load_call(CHONGQING))
    prepared.timetable.mark_opened("application", at("2024-05-14T09:00:00"), prepared.input.calendar)
    workflow = ApplicationWorkflow(application_input(prepared, "a", category=category))
    workflow.s.state = workflow.model.state = state
    return workflow


# (category, window, the state acting in it, trigger, role, the close that binds it)
CHONGQING_CLOSES = [
    ("intergov", "application", "draft", "submit", "applicant", "2024-06-03T16:00:00"),
    ("intergov", "step:unit_review", "awaiting_unit_review", "approve", "unit_admin", "2024-06-03T16:00:00"),
    ("intergov", "step:city_recommendation", "awaiting_city_recommendation", "approve", "recommender",
     "2024-06-10T16:00:00"),
    ("hmt", "application", "draft", "submit", "applicant", "2024-06-26T16:00:00"),
    ("hmt", "step:unit_review", "awaiting_unit_review", "approve", "unit_admin", "2024-06-26T16:00:00"),
    ("hmt", "step:city_recommendation", "awaiting_city_recommendation", "approve", "recommender", "2024-07-03T16:00:00"),
]


@pytest.mark.parametrize(("category", "window", "state", "trigger", "role", "close"), CHONGQING_CLOSES,
                         ids=[f"{c[0]}-{c[1]}" for c in CHONGQING_CLOSES])
def test_each_close_of_020_refuses_at_its_instant_and_accepts_a_millisecond_before(
        category: str, window: str, state: str, trigger: str, role: str, close: str) -> None:
    workflow = chongqing(state, category)
    request = ActRequest(trigger, PEOPLE[role], role, "", identity=in_process(PEOPLE[role], role))
    assert workflow.deadlines.all()[window] == at(close)
    assert workflow._refusal(request, at(close) - MS) is None
    refusal = workflow._refusal(request, at(close))
    assert refusal is not None and refusal.startswith("deadline passed") and f"{close}+08:00" in refusal


def test_an_ordinary_project_is_bound_by_june_3_and_a_hong_kong_macao_taiwan_project_by_june_26() -> None:
    ordinary, hmt = chongqing("draft", "intergov"), chongqing("draft", "hmt")
    submit = as_applicant("submit")
    between = at("2024-06-10T09:00:00")  # after the ordinary close, before the 港澳台 one
    assert (ordinary._refusal(submit, between) or "").startswith("deadline passed")
    assert hmt._refusal(submit, between) is None
    assert ordinary.deadlines.phase_binding("application").rule == (
        "category intergov closes it at 2024-06-03T16:00:00+08:00")
    assert hmt.deadlines.phase_binding("application").rule == "phase application's close"


def test_deadline_explain_names_the_category_close_that_binds_an_ordinary_project() -> None:
    workflow = chongqing("draft", "intergov")
    call, timetable = workflow.call, workflow.timetable
    app = ApplicationStatus(call.id, "a", "draft", False, call.version(), workflow.deadlines.all(), [], [], 0,
                            category="intergov", binding={k: b.rule for k, b in workflow.deadlines.bindings().items()})
    explained = {e.window: e for e in explain(prepare(call).input, CallStatus(call.id, call.version(), None,
                                                                              timetable, []), app)}
    application, recommendation = explained["application"], explained["recommendation"]
    assert application.effective == at("2024-06-03T16:00:00")
    assert application.facts[0].startswith("planned: 2024-06-26T16:00:00+08:00")  # the phase's, the 港澳台 close
    assert application.facts[-1] == "binds: category intergov closes it at 2024-06-03T16:00:00+08:00"
    assert recommendation.effective == at("2024-06-10T16:00:00")
    assert recommendation.facts[-1] == "binds: category intergov closes it at 2024-06-10T16:00:00+08:00"
    assert explained["step:city_recommendation"].facts == [
        "重庆市科学技术局审核推荐: the close of phase recommendation",
        "binds: category intergov closes it at 2024-06-10T16:00:00+08:00"]


def test_calls_show_lists_both_pairs_of_closes_of_020() -> None:
    result = invoke("calls", "show", str(CHONGQING))
    assert result.exit_code == 0, result.output
    rows = [line.split() for line in result.output.splitlines()]
    expected = [("application", "application", "2024-06-26"), ("recommendation", "recommendation", "2024-07-03"),
                ("intergov", "application", "2024-06-03"), ("intergov", "recommendation", "2024-06-10")]
    for who, window, close in expected:  # the phases' closes (港澳台项目's), then category intergov's
        assert any(who in row and window in row and close in row and "16:00" in row for row in rows), (who, window)
