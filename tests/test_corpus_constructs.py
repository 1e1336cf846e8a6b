"""Constructs of the call format that real notices in calls/ exercise: a dated contract (task-book) stage across a year
boundary (calls/examples) and paper only after publicity, from funded projects (019), at their boundary instants."""

from __future__ import annotations

from datetime import datetime, timedelta

from client.calls import prepare
from models.call import load_call
from models.identity import in_process
from models.lifecycle import build_lifecycle
from models.messages import ActRequest
from tests.conftest import CALLS
from tests.helpers import PEOPLE, application_input
from workflows.application import ApplicationWorkflow

CALL_019 = CALLS / "examples" / "sc-2025-central-guided-task-book.yaml"  # simulated in test_manual_before_dated
CALL_020 = next(CALLS.glob("019-*.yaml"))
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
