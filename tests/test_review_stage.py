"""The review stage workflow on the real test server: only the assigned expert reviews, a task's deadline is exact
to the millisecond, a task still open at its deadline (or declined) goes to the next eligible expert, and an upheld
objection promotes the first reserve."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from sqlmodel import Session, select

from client.calls import Prepared, prepare, start_application
from models.call import load_call
from models.identity import Grant, Identity, in_process
from models.messages import ApplicationState
from models.review.messages import (
    DECLINED,
    LAPSED,
    OPEN,
    Drawn,
    ManagerRequest,
    Outcome,
    ReviewRequest,
    Settled,
    StageInput,
    StageState,
    Task,
    stage_workflow_id,
)
from models.review.profile import ReviewProfile, profile_json
from records.review_tables import AssignmentRow, ReviewProfileRow
from records.tables import ApplicationRow
from tests.conftest import CALLS, Stack
from tests.helpers import act, application_input, refused, sleep_until, state
from workflows.application import ApplicationWorkflow
from workflows.review_stage import ReviewStageWorkflow

CALL_003 = CALLS / "003-sx-2017-key-rd-general.yaml"
MS = timedelta(milliseconds=1)
SCORES = {"innovation": 8, "feasibility": 7, "team": 9, "benefit": 6}
COMMENTS = {"feasibility": "技术路线可行"}


def _req(application_id: str, expert_id: str, role: str, scores: dict[str, int] | None = None,
         comments: dict[str, str] | None = None, reason: str = "", identity: Identity | None = None) -> ReviewRequest:
    """An expert's request carrying the expert's own identity unless the test gives another."""
    return ReviewRequest(application_id, expert_id, role, scores or {}, comments or {}, reason,
                         identity or in_process(expert_id, role))


def _stage_input(prepared: Prepared, opened: datetime, carried: StageState | None = None,
                 phase: str = "preliminary", final: bool = False) -> StageInput:
    return StageInput(prepared.definition, prepared.input.calendar, phase, opened, None, final, carried=carried)


def test_a_review_is_taken_only_from_the_assigned_expert_before_the_task_deadline() -> None:
    prepared = prepare(load_call(CALL_003))
    opened = datetime.fromisoformat("2017-03-01T09:00:00+08:00")
    due = datetime.fromisoformat("2017-03-08T00:00:00+08:00")
    stage = ReviewStageWorkflow(_stage_input(prepared, opened, StageState(
        tasks=[Task("a1", "x1", "tcm_clinical", opened, due)])))
    mine = _req("a1", "x1", "expert", SCORES, COMMENTS)
    assert stage._review_refusal(mine, due - MS, False) is None
    assert (stage._review_refusal(mine, due, False) or "").startswith("deadline passed")
    other = _req("a1", "x2", "expert", SCORES, COMMENTS)
    assert "has no open review task" in (stage._review_refusal(other, opened, False) or "")
    assert "may not review" in (stage._review_refusal(_req("a1", "x1", "applicant", SCORES), opened,
                                                      False) or "")
    assert "needs a comment" in (stage._review_refusal(_req("a1", "x1", "expert", SCORES), opened,
                                                       False) or "")
    assert "needs a reason" in (stage._review_refusal(mine, opened, True) or "")


def test_a_review_is_refused_unless_the_identity_is_the_assigned_expert_holding_the_role() -> None:
    prepared = prepare(load_call(CALL_003))
    opened = datetime.fromisoformat("2017-03-01T09:00:00+08:00")
    stage = ReviewStageWorkflow(_stage_input(prepared, opened, StageState(
        tasks=[Task("a1", "x1", "tcm_clinical", opened, opened + timedelta(days=7))])))
    impostor = _req("a1", "x1", "expert", SCORES, COMMENTS, identity=in_process("x2", "expert"))
    assert "its identity is x2" in (stage._review_refusal(impostor, opened, False) or "")
    unsent = ReviewRequest("a1", "x1", "expert", SCORES, COMMENTS)
    assert "carries no identity" in (stage._review_refusal(unsent, opened, False) or "")
    applicant = _req("a1", "x1", "expert", SCORES, COMMENTS, identity=Identity("x1", [Grant("applicant", "self")]))
    assert "has no expert role" in (stage._review_refusal(applicant, opened, False) or "")
    scoped = _req("a1", "x1", "expert", SCORES, COMMENTS, identity=Identity("x1", [Grant("expert", "application:a9")]))
    assert stage._review_refusal(scoped, opened, False) is None  # the draw is the scope


def test_only_a_manager_of_the_call_reopens_a_review_or_approves_the_list() -> None:
    prepared = prepare(load_call(CALL_003))
    call = prepared.definition
    opened = datetime.fromisoformat("2017-03-01T09:00:00+08:00")
    stage = ReviewStageWorkflow(_stage_input(prepared, opened, StageState(settled=Settled([], {})), "joint_meeting", True))
    other_call = Identity("pm-2", [Grant("manager", "call:another-call")])
    assert "has no manager role" in (stage._decide_refusal(ManagerRequest("pm-2", "manager", "审定", identity=other_call))
                                     or "")
    assert "its identity is pm-2" in (stage._decide_refusal(ManagerRequest(
        "pm-1", "manager", "审定", identity=in_process("pm-2", "manager"))) or "")
    own = Identity("pm-1", [Grant("manager", f"call:{call.id}")])
    assert stage._decide_refusal(ManagerRequest("pm-1", "manager", "审定", identity=own)) is None
    assert "has no manager role" in (stage._reopen_refusal(ManagerRequest(
        "pm-2", "manager", "复核", "a1", "x1", identity=other_call)) or "")


def _register(stack: Stack, prepared: Prepared, n: int, phase_state: str) -> list[str]:
    call = prepared.definition
    ids = [f"t{i:02d}" for i in range(n)]
    with Session(stack.engine) as s:
        for i, a in enumerate(ids):
            category = call.categories[i % 2].id
            s.add(ApplicationRow(id=a, call_id=call.id, workflow_id=f"application-{a}", category=category,
                                 title=a, applicant=f"pi-{a}", unit=f"unit-{i % 4}", version=call.version(),
                                 state=phase_state, updated_at=datetime.now().astimezone()))
            profile = ReviewProfile(a, category, (f"K{i % 2 + 1:02d}01",), f"unit-{i % 4}", f"pi-{a}")
            s.add(ReviewProfileRow(application_id=a, call_id=call.id, profile_json=profile_json(profile)))
        s.commit()
    return ids


async def test_a_task_open_at_its_deadline_and_a_declined_one_go_to_the_next_eligible_expert(stack: Stack) -> None:
    prepared = prepare(load_call(CALL_003), not_before=await stack.env.get_current_time())
    _register(stack, prepared, 6, "in_preliminary")
    opened = await stack.env.get_current_time() + timedelta(minutes=1)
    async with stack.running():
        handle = await stack.client.start_workflow(
            ReviewStageWorkflow.run, _stage_input(prepared, opened), id=stage_workflow_id(prepared.definition.id,
                                                                                           "preliminary"),
            task_queue=stack.task_queue)
        status = await handle.query(ReviewStageWorkflow.status)
        for _ in range(100):
            if status.state.drawn is not None:
                break
            await sleep_until(stack.env, await stack.env.get_current_time() + timedelta(seconds=1))
            status = await handle.query(ReviewStageWorkflow.status)
        tasks = status.state.tasks
        assert len(tasks) == 18 and {t.status for t in tasks} == {OPEN}
        due = tasks[0].due
        first, declined, *rest = tasks
        await refused(handle.execute_update(ReviewStageWorkflow.submit_review, _req(
            first.application_id, "not-assigned", "expert", SCORES, COMMENTS)), "has no open review task")
        await handle.execute_update(ReviewStageWorkflow.decline_review, _req(
            declined.application_id, declined.expert_id, "expert", reason="与本人研究方向不符"))
        await sleep_until(stack.env, due - timedelta(seconds=1))
        await handle.execute_update(ReviewStageWorkflow.submit_review, _req(
            first.application_id, first.expert_id, "expert", SCORES, COMMENTS))
        await sleep_until(stack.env, due + timedelta(seconds=1))
        for _ in range(100):  # the replacements are drawn one activity at a time
            status = await handle.query(ReviewStageWorkflow.status)
            if sum(t.status == OPEN for t in status.state.tasks) == 17:
                break
            await asyncio.sleep(0.1)
        late = rest[0]
        await refused(handle.execute_update(ReviewStageWorkflow.submit_review, _req(
            late.application_id, late.expert_id, "expert", SCORES, COMMENTS)), "has no open review task")
        by_pair = {(t.application_id, t.expert_id): t for t in status.state.tasks}
        assert by_pair[(declined.application_id, declined.expert_id)].status == DECLINED
        assert by_pair[(late.application_id, late.expert_id)].status == LAPSED
        lapsed = [t for t in status.state.tasks if t.status == LAPSED]
        assert len(lapsed) >= 16 and status.state.late == len(lapsed)  # the 16 left open, and any replacement due then
        assert status.state.reassigned == len(lapsed) + 1  # and the declined one
        fresh = [t for t in status.state.tasks if t.status == OPEN]
        assert len(fresh) == 16 + 1 and all(t.due > due for t in fresh)
        progress = await handle.query(ReviewStageWorkflow.progress)
        assert (progress.drawn, progress.settled, progress.open) == (True, False, fresh)
        for t in fresh:  # never an expert who held the application before
            held = {x.expert_id for x in status.state.tasks if x.application_id == t.application_id and x is not t}
            assert t.expert_id not in held
        assert any("reassigned" in line and "no review by the deadline" in line for line in status.state.log)
        with Session(stack.engine) as s:
            rows = s.exec(select(AssignmentRow).where(AssignmentRow.call_id == prepared.definition.id)).all()
        assert len(rows) == len(status.state.tasks) and len({r.seed for r in rows}) == 1 and all(r.pool_hash for r in rows)
        await handle.terminate("test finished")


async def test_an_upheld_objection_promotes_the_first_reserve(stack: Stack) -> None:
    prepared = prepare(load_call(CALLS / "000-sx-2025-basic-research-geology.yaml"),
                       not_before=await stack.env.get_current_time())
    call = prepared.definition
    final = [p.id for p in call.phases if p.kind == "expert_review"][-1]
    prepared.timetable.mark_opened("publicity", await stack.env.get_current_time() + timedelta(minutes=1),
                                   prepared.input.calendar)  # as the programme office opens it
    publicity = prepared.timetable.get("publicity")
    assert publicity.opens is not None
    category = call.categories[0].id
    ids = [f"p-{who}-{stack.task_queue}" for who in ("funded", "reserve", "next")]  # one server for both back ends
    settled = Settled([Outcome(ids[0], "fund", "rank 1")], {category: [1, 1]}, {category: [ids[0]]},
                      {category: ids[1:]})
    carried = StageState(drawn=Drawn([], 1, "h", "r", 0, 0, 0), settled=settled, decided=True)
    async with stack.running():
        stage = await stack.client.start_workflow(
            ReviewStageWorkflow.run, _stage_input(prepared, publicity.opens, carried, final, True),
            id=stage_workflow_id(call.id, final), task_queue=stack.task_queue)
        funded = await start_application(stack.client, application_input(
            prepared, ids[0], carried=ApplicationState(state="publicised")), stack.task_queue)
        reserve = await start_application(stack.client, application_input(
            prepared, ids[1], carried=ApplicationState(state="reserve")), stack.task_queue)
        await sleep_until(stack.env, publicity.opens + timedelta(hours=1))
        await act(funded, "object", "public", "citizen-7", "成果造假")
        await act(funded, "uphold_objection", "manager", "pm-1", "经核查异议成立")
        for _ in range(50):
            if await state(reserve) == "publicised":
                break
            await sleep_until(stack.env, await stack.env.get_current_time() + timedelta(seconds=1))
        assert await state(funded) == "not_funded"
        assert await state(reserve) == "publicised"
        status = await stage.query(ReviewStageWorkflow.status)
        assert status.state.promoted == [ids[1]]
        assert status.state.settled is not None and status.state.settled.funded[category] == [ids[1]]
        promoted = (await reserve.query(ApplicationWorkflow.status)).transitions[-1]
        assert (promoted.trigger, promoted.role) == ("promote", "system") and ids[0] in promoted.reason
        await refused(stage.execute_update(ReviewStageWorkflow.decide, ManagerRequest("pm-1", "manager", "再批", identity=in_process("pm-1", "manager"))),
                      "already approved")
        await stage.terminate("test finished")
        await reserve.terminate("test finished")  # carried runs have no records row: the fixture would not end it
