"""Conditional, partial extensions: one recorded act extends some deadlines for the applications a predicate selects
(created before an instant, category, cohort, recommender, unit), at their boundary instants and on the real server."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from functools import partial

from sqlmodel import Session

from client.calls import Prepared, manage, prepare, start_application, start_call
from client.lockouts import application_lockout, call_lockout
from models.call import load_call
from models.deadlines import Deadlines, explain
from models.extension_checks import extend_for_problem, new_extension, unchanged_before
from models.extensions import Extension
from models.identity import in_process
from models.messages import ActRequest, ExtendForRequest, call_workflow_id
from records.tables import ApplicationRow
from tests.conftest import CALLS, Stack
from tests.helpers import act, application_input, closes, hours, refused, sleep_until, state
from workflows.application import ApplicationWorkflow
from workflows.call import CallWorkflow

CALL_000 = CALLS / "000-sx-2025-basic-research-geology.yaml"
MS = timedelta(milliseconds=1)
SUBMIT = ActRequest("submit", "pi-1", "applicant", identity=in_process("pi-1", "applicant"))


def _act(prepared: Prepared, later: datetime, unit_later: datetime, **who: object) -> Extension:
    """An outage act: the application close for some drafts, a later unit cut-off for them, recommenders unchanged."""
    original = closes(prepared, "application")
    request = ExtendForRequest({"application": later, "step:unit_review": unit_later}, "pm-1", "manager", "系统故障",
                               **{"created_before": original, **who})  # type: ignore[arg-type]
    return new_extension(request, 1, original - hours(1))


def _workflow(prepared: Prepared, app_id: str, created: datetime, extension: Extension,
              **overrides: object) -> ApplicationWorkflow:
    timetable = replace(prepared.timetable, extensions=[extension])
    workflow = ApplicationWorkflow(application_input(prepared, app_id, timetable=timetable, **overrides))
    workflow.s.created = created
    return workflow


def test_a_matching_draft_is_refused_at_its_extended_instant_and_accepted_a_millisecond_before() -> None:
    prepared = prepare(load_call(CALL_000))
    original = closes(prepared, "application")
    later, unit_later = original + timedelta(days=5), original + timedelta(days=30)  # after recommendation closes
    extension = _act(prepared, later, unit_later, category=["key"])
    matching = _workflow(prepared, "m1", original - timedelta(days=3), extension, category="key")
    other_category = _workflow(prepared, "n1", original - timedelta(days=3), extension, category="general")
    created_late = _workflow(prepared, "n2", original, extension, category="key")  # at the instant: not before it

    assert matching._refusal(SUBMIT, later - MS) is None
    refusal = matching._refusal(SUBMIT, later)
    assert refusal is not None and refusal.startswith("deadline passed") and later.isoformat() in refusal
    for workflow in (other_category, created_late):
        assert workflow._refusal(SUBMIT, original - MS) is None
        assert (workflow._refusal(SUBMIT, original) or "").startswith("deadline passed")
        assert workflow.deadlines.phase_close("application") == original

    binding = matching.deadlines.bindings()
    assert binding["application"].at == later
    assert binding["application"].rule.startswith("extension #1 by manager pm-1 at ")
    assert "for applications created before 2025-04-07T17:00:00+08:00, category key: 系统故障" in binding[
        "application"].rule
    assert binding["step:unit_review"].at == unit_later
    recommendation = matching.deadlines.step_binding("organiser_review")
    assert recommendation.at == closes(prepared, "recommendation") < later  # left as it was, now before the others


def test_each_field_of_the_predicate_selects_and_no_extension_shortens_a_deadline() -> None:
    prepared = prepare(load_call(CALL_000))
    original = closes(prepared, "application")
    later = original + timedelta(days=2)
    call, calendar = prepared.definition, prepared.input.calendar

    def close(extension: Extension, **who: object) -> datetime | None:
        timetable = replace(prepared.timetable, extensions=[extension])
        return Deadlines(call, str(who.get("category", "key")), timetable, calendar, {}, {}, str(who.get("cohort", "")),
                         str(who.get("recommender", "")), str(who.get("unit", "")),
                         original - hours(5)).phase_close("application")

    by_unit = replace(_act(prepared, later, later), unit=["unit-7"], created_before=None)
    assert close(by_unit, unit="unit-7") == later and close(by_unit, unit="unit-8") == original
    by_recommender = replace(by_unit, unit=[], recommender=["org-2"])
    assert close(by_recommender, recommender="org-2") == later and close(by_recommender, recommender="org-1") == original
    combined = replace(by_unit, category=["general"])
    assert close(combined, unit="unit-7", category="general") == later
    assert close(combined, unit="unit-7", category="key") == original
    shorter = replace(by_unit, closes={"application": original - hours(1)})
    assert close(shorter, unit="unit-7") == original


def test_an_act_is_refused_with_one_line_naming_what_is_wrong() -> None:
    prepared = prepare(load_call(CALL_000))
    original = closes(prepared, "application")
    now = original - hours(2)
    base = ExtendForRequest({"application": original + hours(24)}, "pm-1", "manager", "停电", category=["key"])
    request = partial(replace, base)
    for bad, fragment in ((request(closes={}), "name at least one deadline"),
                          (request(category=[]), "name whom the extension is for"),
                          (request(category=["nonsense"]), "category: unknown category 'nonsense'"),
                          (request(cohort=["hk"]), "cohort: unknown cohort 'hk'"),
                          (request(closes={"nope": original + hours(1)}), "nope: unknown phase"),
                          (request(closes={"step:nope": original + hours(1)}), "step:nope: unknown step"),
                          (request(closes={"application": original}), "not later than the phase's close"),
                          (request(closes={"step:unit_review": now}), "not later than now"),
                          (request(created_before=original.replace(tzinfo=None)), "naive datetime")):
        problem = extend_for_problem(prepared.definition, prepared.timetable, now, bad)
        assert problem is not None and fragment in problem and "\n" not in problem, (fragment, problem)
    assert extend_for_problem(prepared.definition, prepared.timetable, now, base) is None
    assert unchanged_before(prepared.definition, prepared.timetable, request(
        closes={"application": closes(prepared, "recommendation") + hours(1)})) == [
        f"step:unit_review (申请单位审核) still closes {closes(prepared, 'recommendation').isoformat()}, before the "
        f"extended {(closes(prepared, 'recommendation') + hours(1)).isoformat()}",
        f"step:organiser_review (组织单位（主管部门）网上审核) still closes "
        f"{closes(prepared, 'recommendation').isoformat()}, before the extended "
        f"{(closes(prepared, 'recommendation') + hours(1)).isoformat()}"]


async def test_one_act_extends_the_selected_drafts_through_the_bulk_closure_and_the_lockout(stack: Stack) -> None:
    prepared = prepare(load_call(CALL_000), not_before=await stack.env.get_current_time())
    original = closes(prepared, "application")
    later = original + timedelta(days=2)
    async with stack.running():
        call = await start_call(stack.client, prepared, stack.task_queue)
        start = partial(start_application, stack.client, task_queue=stack.task_queue)
        key = await start(application_input(prepared, "k1", category="key"))
        general = await start(application_input(prepared, "g1", category="general"))
        await sleep_until(stack.env, original - hours(3))
        request = ExtendForRequest({"application": later}, "pm-1", "manager", "系统故障，部分延期",
                                   category=["key"], created_before=original - hours(3),
                                   identity=in_process("pm-1", "manager"))
        await refused(call.execute_update(CallWorkflow.extend_for, replace(request, role="applicant")), "manager")
        event = await manage(call, CallWorkflow.extend_for, request)
        assert event.kind == "extended_for" and "for applications created before" in event.detail
        key_late = await start(application_input(prepared, "k2", category="key"))  # created after: not selected
        await sleep_until(stack.env, original + hours(1))
        assert await state(general) == "closed_unsubmitted"
        assert await state(key_late) == "closed_unsubmitted"
        assert await state(key) == "draft"
        with Session(stack.engine) as s:
            assert application_lockout(s, "k1", "submit") is None
            assert call_lockout(s, prepared.definition.id, "application") is not None  # closed for the others
            assert s.get(ApplicationRow, "k1").created_at is not None  # type: ignore[union-attr]
        await act(key, "submit", "applicant")
        assert await state(key) == "awaiting_unit_review"
        explained = {e.window: e for e in explain(
            await stack.client.get_workflow_handle(call_workflow_id(prepared.definition.id)).query(
                CallWorkflow.definition),
            await call.query(CallWorkflow.status), await key.query(ApplicationWorkflow.status))}
    application = explained["application"]
    assert application.effective == later
    assert application.facts[-1].startswith("binds: extension #1 by manager pm-1")
    assert application.facts[-1].endswith("category key: 系统故障，部分延期")
