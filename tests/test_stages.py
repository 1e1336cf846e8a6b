"""Only the stages a call has, in its own order, on a timeline whose windows may overlap: what the call files may say,
the one-line refusals of real contradictions, the lifecycle built from them, and their boundary instants."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from client.calls import prepare
from models.call import CallDefinition, load_call
from models.call.levels import level_flags, level_people, own_level, path
from models.call.timeline import stage_flags
from models.deadlines import batch_explanation
from models.identity import in_process
from models.lifecycle import build_lifecycle
from models.messages import ActRequest, ApplicationStatus, TransitionRecord
from models.timetable import Timetable
from tests.conftest import CALLS
from tests.helpers import PEOPLE, application_input
from tests.test_call_files import invoke, item, problems_of, seed_data, write
from workflows.application import ApplicationWorkflow

CALL_002 = next(CALLS.glob("002-*.yaml"))
CALL_005 = next(CALLS.glob("005-*.yaml"))
CALL_011 = next(CALLS.glob("011-*.yaml"))
CALL_013 = next(CALLS.glob("013-*.yaml"))
CALL_015 = next(CALLS.glob("015-*.yaml"))
MS = timedelta(milliseconds=1)
CST = "+08:00"


def at(text: str) -> datetime:
    return datetime.fromisoformat(text + CST)


def phase(data: dict[str, Any], ident: str) -> dict[str, Any]:
    return item(data["phases"], ident)


def drop(data: dict[str, Any], *ids: str) -> None:
    data["phases"] = [p for p in data["phases"] if p["id"] not in ids]


def only_problem(tmp_path: Path, data: dict[str, Any]) -> str:
    path = write(tmp_path / "call.yaml", data)
    problems = problems_of(path)
    assert len(problems) == 1, problems
    prefix = f"{path}: "
    assert problems[0].startswith(prefix)
    return problems[0].removeprefix(prefix)


# ---- what a timeline may say ------------------------------------------------------------------------------------


def test_windows_may_overlap_and_recommender_letters_may_be_due_before_the_application_close() -> None:
    data = seed_data()
    phase(data, "paper")["opens"] = f"2025-04-10T08:30:00{CST}"  # inside the recommendation window
    rec = phase(data, "recommendation")
    rec["opens"], rec["closes"] = f"2025-03-20T08:30:00{CST}", f"2025-04-03T17:00:00{CST}"  # before 04-07 17:00
    call = CallDefinition.model_validate(data)
    assert call.phase("recommendation").closes < call.phase("application").closes  # type: ignore[operator]


def test_a_step_may_have_an_instant_of_its_own_before_the_phase_that_closes_the_chain() -> None:
    call = load_call(CALL_015)
    review = call.step("unit_review")
    assert review.deadline is not None and review.deadline.at == at("2022-06-21T12:00:00")
    rule = application_input(prepare(call), "a", people=dict(PEOPLE))
    workflow = ApplicationWorkflow(rule)
    assert workflow.deadlines.step_close("unit_review") == at("2022-06-21T12:00:00")
    assert workflow.deadlines.step_close("unit_submit") == at("2022-06-21T16:00:00")
    assert "its own close at 2022-06-21T12:00:00+08:00" in workflow.deadlines.step_binding("unit_review").rule


def test_the_units_own_review_refuses_at_its_instant_and_accepts_a_millisecond_before() -> None:
    workflow = ApplicationWorkflow(application_input(prepare(load_call(CALL_015)), "a"))
    workflow.s.state = workflow.model.state = "awaiting_unit_review"
    approve = ActRequest("approve", PEOPLE["unit_admin"], "unit_admin", "",
                         identity=in_process(PEOPLE["unit_admin"], "unit_admin"))
    close = at("2022-06-21T12:00:00")
    assert workflow._refusal(approve, close - MS) is None
    refusal = workflow._refusal(approve, close)
    assert refusal is not None and refusal.startswith("deadline passed") and "2022-06-21T12:00:00+08:00" in refusal


# ---- the real contradictions, one line each ---------------------------------------------------------------------


def test_a_window_with_no_valid_instant_is_refused(tmp_path: Path) -> None:
    data = seed_data()
    phase(data, "recommendation")["closes"] = f"2025-04-07T17:00:00{CST}"  # opens (previous) at that very instant
    assert only_problem(tmp_path, data) == (
        "phases.recommendation.closes: 2025-04-07T17:00:00+08:00 is not after application closes "
        "2025-04-07T17:00:00+08:00, when recommendation opens (opens: previous): a window with no valid instant "
        "(give recommendation an opening date of its own if it overlaps application)")


def test_a_deadline_before_its_own_opening_is_refused(tmp_path: Path) -> None:
    data = seed_data()
    item(data["chain"], "unit_review")["deadline"] = {"at": f"2025-03-05T09:30:00{CST}"}  # the application's opening
    assert only_problem(tmp_path, data) == (
        "chain.unit_review.deadline.at: 2025-03-05T09:30:00+08:00 is not after phases.application opens "
        "2025-03-05T09:30:00+08:00 (a deadline before its own opening)")


def test_a_category_close_later_than_its_phase_is_refused(tmp_path: Path) -> None:
    data = seed_data()
    data["categories"][0]["closes"] = {"application": f"2025-04-07T17:00:00.001{CST}"}
    assert only_problem(tmp_path, data).startswith(
        f"categories.{data['categories'][0]['id']}.closes.application: 2025-04-07T17:00:00.001000+08:00 is after "
        "phase application closes 2025-04-07T17:00:00+08:00")


def test_stages_out_of_their_order_are_refused(tmp_path: Path) -> None:
    data = seed_data()
    data["phases"] = [p for p in data["phases"] if p["id"] != "formal_review"] + [
        next(p for p in data["phases"] if p["id"] == "formal_review")]
    assert only_problem(tmp_path, data).startswith("phases: formal_review (formal_review) cannot follow contract")


def test_a_call_without_a_contract_says_where_its_applications_go(tmp_path: Path) -> None:
    data = seed_data()
    drop(data, "formal_review", "expert_review", "publicity", "contract")
    for rule in data["rules"]:  # with no formal review of its own, the call checks its rules where it recommends
        rule["at"] = "recommendation"
    assert only_problem(tmp_path, data).startswith("forwarded_to: the call has no contract phase")
    data["forwarded_to"] = "省科技厅"
    CallDefinition.model_validate(data)


@pytest.mark.parametrize(("batches", "problem"), [
    ([("b1", "2025-03-05T09:30:00"), ("b2", "2025-04-07T17:00:00")], "intake.batches.b1.cut: 2025-03-05T09:30:00+08:00 is not after "
                                      "phases.application opens 2025-03-05T09:30:00+08:00"),
    ([("b1", "2025-03-20T00:00:00")], "intake.batches.b1.cut: the last cut 2025-03-20T00:00:00+08:00 is before "
                                      "phases.application closes 2025-04-07T17:00:00+08:00"),
    ([("b1", "2025-03-20T00:00:00"), ("b2", "2025-03-20T00:00:00"), ("b3", "2025-04-07T17:00:00")],
     "intake.batches.b2.cut: 2025-03-20T00:00:00+08:00 is not after batch b1's cut"),
    ([("b1", "2025-04-07T17:00:00.001")], "intake.batches.b1.cut: 2025-04-07T17:00:00.001000+08:00 is after "
                                          "phases.application closes"),
])
def test_batch_cuts_outside_their_intake_are_refused(tmp_path: Path, batches: list[tuple[str, str]],
                                                     problem: str) -> None:
    data = seed_data()
    data["intake"] = {"mode": "rolling", "batches": [{"id": b, "cut": f"{cut}{CST}"} for b, cut in batches]}
    assert only_problem(tmp_path, data).startswith(problem)


@pytest.mark.parametrize(("edit", "problem"), [
    (lambda r: r[0].update(via="nowhere"), "recommenders.lizhou.via: unknown recommender 'nowhere'"),
    (lambda r: r[6].update(via="lizhou"), "recommenders.guangyuan.via: lizhou (level county) is not above guangyuan "
                                          "(level city)"),
    (lambda r: r[0].pop("level"), "recommenders.lizhou.level: the chain has steps by level"),
])
def test_recommending_levels_go_up(tmp_path: Path, edit: Any, problem: str) -> None:
    import yaml

    data = yaml.safe_load(CALL_005.read_text(encoding="utf-8"))
    edit(data["recommenders"])
    problems = problems_of(write(tmp_path / "call.yaml", data))
    assert any(p.split(": ", 1)[1].startswith(problem) for p in problems), problems


# ---- the lifecycle of the stages a call has ---------------------------------------------------------------------


def test_a_call_that_only_recommends_forwards_its_applications_at_its_last_close() -> None:
    call = load_call(CALL_013)
    life = build_lifecycle(call)
    assert "formal_passed" not in life.state_names() and "contract_signed" not in life.state_names()
    assert life.is_terminal("forwarded")
    forward = next(t for t in life.transitions if t.trigger == "forward")
    assert (forward.source, forward.due) == ("accepted", type(forward.due)(phase="recommendation"))


def test_paper_inside_the_review_window_is_due_at_its_own_close_and_forwarding_at_the_latest() -> None:
    life = build_lifecycle(load_call(CALL_011))
    receive = next(t for t in life.transitions if t.trigger == "receive_paper")
    assert receive.source == "accepted" and receive.window is not None and receive.window.phase == "paper"
    forward = next(t for t in life.transitions if t.trigger == "forward")
    assert forward.source == "paper_received" and forward.due is not None and forward.due.phase == "recommendation"


def test_paper_after_publicity_comes_only_from_funded_projects() -> None:
    data = seed_data()
    paper = phase(data, "paper")
    data["phases"].remove(paper)
    paper.update(opens="manual", closes="manual")
    data["phases"].insert(len(data["phases"]) - 1, paper)  # after publicity, before the contract
    life = build_lifecycle(CallDefinition.model_validate(data))
    receive = next(t for t in life.transitions if t.trigger == "receive_paper")
    sign = next(t for t in life.transitions if t.trigger == "sign_contract")
    passed = next(t for t in life.transitions if t.trigger == "pass_formal")
    assert (receive.source, receive.dest, sign.source, passed.source) == (
        "approved", "paper_received", "paper_received", "accepted")


# ---- overlapping windows on the call's clock --------------------------------------------------------------------


def test_boundaries_by_time_open_overlapping_windows_and_close_before_opening_at_one_instant() -> None:
    prepared = prepare(load_call(CALL_011))
    table: Timetable = prepared.timetable
    order = []
    while (b := table.next_boundary(by_time=True)) is not None:
        order.append((b.phase, b.edge))
        (table.mark_opened if b.edge == "opens" else table.mark_closed)(b.phase, b.at, prepared.input.calendar)
    assert order == [("application", "opens"), ("application", "closes"), ("recommendation", "opens"),
                     ("paper", "opens"), ("paper", "closes"), ("recommendation", "closes")]


def test_a_phase_opening_with_the_previous_close_waits_for_it() -> None:
    prepared = prepare(load_call(CALL_013))
    table = prepared.timetable
    first = table.next_boundary(by_time=True)
    assert first is not None and (first.phase, first.edge) == ("application", "opens")
    table.mark_opened("application", first.at, prepared.input.calendar)
    nxt = table.next_boundary(by_time=True)
    assert nxt is not None and (nxt.phase, nxt.edge) == ("application", "closes")


# ---- recommendation by level --------------------------------------------------------------------------------------


def test_the_levels_an_application_passes_follow_from_its_recommender() -> None:
    call = load_call(CALL_005)
    assert [p.id for p in path(call, "lizhou")] == ["lizhou", "guangyuan"]
    assert level_people(call, "lizhou") == {"recommender@county": "lizhou", "recommender@city": "guangyuan"}
    assert level_flags(call, "extended_counties") == {"level_county": True}  # straight to the province
    assert level_flags(call, "guangyuan") == {"level_city": True}
    assert own_level(call, ["guangyuan", "zhaohua"]) == ["zhaohua"]  # the city's grant covers the same unit
    life = build_lifecycle(call)
    after_county = [(t.dest, t.conditions) for t in life.transitions
                    if t.trigger == "approve" and t.source == "awaiting_district_recommendation"]
    assert after_county == [("awaiting_city_recommendation", ("when_level_city",)), ("accepted", ())]


@pytest.mark.parametrize(("recommender", "after_unit"), [
    ("lizhou", "awaiting_district_recommendation"),
    ("extended_counties", "awaiting_district_recommendation"),
    ("guangyuan", "awaiting_city_recommendation"),
])
def test_the_chain_of_an_application_follows_its_recommenders_level(recommender: str, after_unit: str) -> None:
    workflow = ApplicationWorkflow(application_input(
        prepare(load_call(CALL_005)), "a", category="y2026", people={**PEOPLE, "recommender": recommender}))
    workflow.s.state = workflow.model.state = "awaiting_unit_review"
    spec = workflow._resolve("approve")
    assert spec is not None and spec.dest == after_unit


def test_each_level_acts_within_its_own_scope_and_its_close() -> None:
    """The city's step is the city's: the county that recommended the application may not take it; the county's step
    closes with the recommendation phase (refused at 10月17日12时, accepted a millisecond before)."""
    prepared = prepare(load_call(CALL_005))
    workflow = ApplicationWorkflow(application_input(
        prepared, "a", category="y2026", people={**PEOPLE, "recommender": "lizhou"}))

    def approve(actor: str) -> ActRequest:
        return ActRequest("approve", actor, "recommender", "同意推荐", identity=in_process(actor, "recommender"))

    workflow.s.state = workflow.model.state = "awaiting_district_recommendation"
    close = at("2025-10-17T12:00:00")
    assert workflow._refusal(approve("guangyuan"), close - MS) == (
        "recommender guangyuan does not recommend application a at the county level (lizhou does)")
    assert workflow._refusal(approve("lizhou"), close - MS) is None
    refusal = workflow._refusal(approve("lizhou"), close)
    assert refusal is not None and refusal.startswith("deadline passed")
    workflow.s.state = workflow.model.state = "awaiting_city_recommendation"
    assert workflow._refusal(approve("lizhou"), close) == (
        "recommender lizhou does not recommend application a at the city level (guangyuan does)")
    assert workflow._refusal(approve("guangyuan"), close) is None  # its phase closes when the office closes it


# ---- rolling intake in batches -------------------------------------------------------------------------------------


def test_an_application_joins_the_batch_whose_cut_it_meets() -> None:
    intake = load_call(CALL_002).intake
    cut = at("2024-05-07T00:00:00")
    assert [b.cut for b in intake.batches] == [cut]
    joined = intake.batch_of(cut - MS)
    assert joined is not None and joined.id == "b1"
    assert intake.batch_of(cut) is None
    two = intake.model_copy(update={"batches": [*intake.batches, intake.batches[0].model_copy(
        update={"id": "b2", "cut": cut + timedelta(days=90)})]})
    assert [two.batch_of(t).id for t in (cut - MS, cut, cut + timedelta(days=90) - MS)] == ["b1", "b2", "b2"]  # type: ignore[union-attr]


# ---- a defence for some categories ----------------------------------------------------------------------------------

CALL_012 = next(CALLS.glob("012-*.yaml"))


def test_only_the_major_and_key_projects_defend_and_the_others_go_past() -> None:
    call = load_call(CALL_012)
    assert stage_flags(call, "major") == {"in_defence_materials": True, "in_defence": True}
    assert stage_flags(call, "other") == {}
    life = build_lifecycle(call)
    starts = {(t.source, t.conditions) for t in life.transitions if t.trigger == "start_review"}
    assert starts == {("paper_received", ("when_in_defence",)), ("accepted", ("when_in_defence",))}
    forwards = {t.source for t in life.transitions if t.trigger == "forward"}
    assert forwards == {"scored", "paper_received", "accepted"}  # heard, or of a category that does not defend
    unheard = [t for t in life.transitions if t.trigger == "not_fund"]
    assert [(t.source, t.due.phase if t.due else None) for t in unheard] == [("in_defence", "defence")]


@pytest.mark.parametrize(("category", "due"), [("major", True), ("other", False)])
def test_the_materials_deadline_binds_the_categories_that_defend_at_its_instant(category: str, due: bool) -> None:
    workflow = ApplicationWorkflow(application_input(prepare(load_call(CALL_012)), "a", category=category))
    workflow.s.state = workflow.model.state = "accepted"
    missing = [t for t in workflow.lifecycle.outgoing("accepted") if t.due and workflow._applies(t)
               and t.trigger == "mark_paper_missing"]
    assert bool(missing) is due
    receive = ActRequest("receive_paper", "agency-1", "agency", "", identity=in_process("agency-1", "agency"))
    close = at("2024-06-27T18:00:00")
    if due:
        assert workflow._refusal(receive, close - MS) is None
        refusal = workflow._refusal(receive, close)
        assert refusal is not None and refusal.startswith("deadline passed") and "2024-06-27T18:00:00+08:00" in refusal
    else:
        assert workflow._refusal(receive, close - MS) == (
            "cannot receive_paper application a in state accepted (possible: nothing)")


def test_a_stage_for_some_categories_names_known_ones_on_a_paper_or_review_phase(tmp_path: Path) -> None:
    import yaml

    data = yaml.safe_load(CALL_012.read_text(encoding="utf-8"))
    phase(data, "defence")["categories"] = ["major", "minor"]
    assert only_problem(tmp_path, data) == (
        "phases.defence.categories: unknown category 'minor' (categories: major, key, other)")
    phase(data, "defence")["categories"] = ["major"]
    phase(data, "recommendation")["categories"] = ["major"]
    assert only_problem(tmp_path, data) == ("phases.recommendation.categories: only a paper or expert_review phase is "
                                            "for some categories (this one is recommendation)")


def _status(submitted: datetime | None) -> ApplicationStatus:
    moves = [TransitionRecord(0, "submit", "draft", "awaiting_unit_review", "pi-1", "applicant", "", submitted)] \
        if submitted else []
    return ApplicationStatus("c", "a", "draft", False, "v", {}, moves, [], 0)


def test_deadline_explain_names_the_batch_and_its_cut() -> None:
    call = load_call(CALL_002)
    cut = at("2024-05-07T00:00:00")
    joined = batch_explanation(call, _status(cut - MS))
    assert joined is not None and joined.window == "batch" and joined.effective == cut
    assert joined.facts[0] == ("batch b1: submitted at 2024-05-06T23:59:59.999000+08:00, before its cut "
                               "2024-05-07T00:00:00+08:00 (intake.batches)")
    assert batch_explanation(call, _status(None)).facts[0].startswith("not submitted yet")  # type: ignore[union-attr]
    assert batch_explanation(load_call(CALL_013), _status(None)) is None


def test_calls_show_lists_levels_batches_and_where_applications_go() -> None:
    shown = invoke("calls", "show", str(CALL_005)).stdout
    assert "district_recommendation (recommender, at the county level)" in shown
    assert "recommender extended_counties" in shown and "county -> straight on (no unit above it)" in shown
    assert "recommender lizhou (利州区科技主管部门): county -> guangyuan" in shown
    assert "forwarded to 四川省科技厅" in shown
    batch = invoke("calls", "show", str(CALL_002)).stdout
    assert "batch b1: applications submitted before 2024-05-07 00:00" in batch
