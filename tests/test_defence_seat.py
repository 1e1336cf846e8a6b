"""A defence panel member who declines before the hearing: the seat goes to an expert eligible and free for the whole
slot (lowest load, then id), or stays empty with the managers told; a decline from the slot's start is refused."""

from __future__ import annotations

import asyncio
import dataclasses
import functools
from datetime import timedelta
from pathlib import Path
from typing import Any

import yaml
from sqlmodel import Session, select
from temporalio.client import WorkflowHandle

from activities.review_draw import _expert_json
from audit.replay import replayer
from client.calls import prepare
from models.call import CallDefinition, load_call
from models.experts import Expert, Proposal, Window
from models.experts.defence import Seat, Slot, fill_seat
from models.identity import in_process
from models.review.messages import (
    DECLINED,
    OPEN,
    DefenceSlot,
    Drawn,
    ReviewRequest,
    StageInput,
    StageState,
    StageStatus,
    Task,
    stage_workflow_id,
)
from models.review.profile import ReviewProfile, profile_json
from records.review_tables import AssignmentRow, ExpertRow, ReviewProfileRow
from records.tables import ApplicationRow, NoticeRow
from tests.conftest import Stack
from tests.helpers import refused, sleep_until
from tests.test_defence import CALL_012, MS, POLICY, SCORES, T0, _slots, _stage
from workflows.review_stage import ReviewStageWorkflow

DAY = Window(T0 - timedelta(days=1), T0 + timedelta(days=1))


def _expert(name: str, unit: str = "", **kw: Any) -> Expert:
    return Expert(name, ("K0101",), unit or f"u-{name}", availability=kw.pop("availability", (DAY,)),
                  stages=frozenset({"expert"}), **kw)


def test_a_seat_goes_to_the_least_loaded_expert_free_for_the_whole_slot_and_without_a_conflict() -> None:
    slots = _slots(4)
    mine, later, overlapping = slots[1], slots[3], Slot(slots[1].starts + timedelta(minutes=10), slots[2].ends)
    pool = [_expert("E1"), _expert("E2", max_load=2), _expert("E3", unit="V1"), _expert("E4"),
            _expert("E5", availability=(Window(T0 - timedelta(days=1), mine.ends - MS),)), _expert("E6"), _expert("E7")]
    proposal = Proposal("A1", ("K0101",), "V1", "P1")
    seats = [Seat("E1", mine), Seat("E2", later), Seat("E4", overlapping)]
    pick = functools.partial(fill_seat, pool, proposal, slots, mine, POLICY, seats)
    # E1 holds the seat, E3 shares A1's unit, E4 sits in an overlapping hearing, E5 leaves before the slot ends;
    # E2 sits once elsewhere, so E6 (no seat) goes first, and E7 (no seat either) after it by id.
    assert pick({"E1"}) == "E6"
    assert pick({"E1", "E6"}) == "E7"
    assert pick({"E1", "E6", "E7"}) == "E2"
    full = [dataclasses.replace(e, max_load=1) if e.id == "E2" else e for e in pool]
    assert fill_seat(full, proposal, slots, mine, POLICY, seats, {"E1", "E6", "E7"}) is None  # E2 has no room left


def test_a_panel_member_declines_until_the_hearing_begins_and_not_at_that_instant() -> None:
    prepared = prepare(load_call(CALL_012))
    slot = DefenceSlot("a1", "major", "pi-a1", T0, T0 + timedelta(minutes=20), T0 - timedelta(days=1),
                       T0 + timedelta(hours=15))
    stage = _stage(prepared, StageState(drawn=Drawn([], 1, "p", "r", 0, 0, 0, slots=[slot]),
                                        tasks=[Task("a1", "x1", "major", T0 - timedelta(days=2), slot.scores_due)]))
    decline = ReviewRequest("a1", "x1", "expert", reason="出差", identity=in_process("x1", "expert"))
    assert stage._review_refusal(decline, T0 - MS, True) is None
    assert (stage._review_refusal(decline, T0, True) or "").startswith("the defence of a1 began at 2025-06-02T09:00:00+08:00;")
    assert "begins at" in (stage._review_refusal(decline, T0 - MS, True, seats=False) or "")  # histories before it
    assert "a decline needs a reason" in (stage._review_refusal(dataclasses.replace(decline, reason=" "), T0 - MS,
                                                                True) or "")


def _call(tmp_path: Path) -> CallDefinition:
    """Call 012 with panels of two."""
    data = yaml.safe_load(CALL_012.read_text(encoding="utf-8"))
    data["review"]["stages"]["defence"]["defence"]["panel"] = 2
    path = tmp_path / "012.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return load_call(path)


def _add(stack: Stack, experts: list[Expert]) -> None:
    with Session(stack.engine) as s:
        for e in experts:
            s.add(ExpertRow(id=e.id, expert_json=_expert_json(e)))
        s.commit()


async def _until(handle: WorkflowHandle[Any, Any], done: Any) -> StageStatus:
    for _ in range(200):
        status: StageStatus = await handle.query(ReviewStageWorkflow.status)
        if done(status.state):
            return status
        await asyncio.sleep(0.05)
    raise AssertionError(f"the stage did not get there: {status.state.log}")


async def test_a_declined_seat_is_filled_or_left_empty_with_the_managers_told(stack: Stack, tmp_path: Path) -> None:
    prepared = prepare(_call(tmp_path), not_before=await stack.env.get_current_time())
    call = prepared.definition
    d0, d1 = (f"{a}-{stack.task_queue}" for a in ("d0", "d1"))
    now = await stack.env.get_current_time()
    ever = (Window(now - timedelta(days=1), now + timedelta(days=90)),)
    with Session(stack.engine) as s:
        for i, (a, category) in enumerate(((d0, "major"), (d1, "key"))):
            s.add(ApplicationRow(id=a, call_id=call.id, workflow_id=f"application-{a}", category=category, title=a,
                                 applicant=f"pi-{i}", unit=f"unit-{i}", version=call.version(), state="in_defence",
                                 updated_at=now))
            profile = ReviewProfile(a, category, ("K0101",), f"unit-{i}", f"pi-{i}")
            s.add(ReviewProfileRow(application_id=a, call_id=call.id, profile_json=profile_json(profile)))
        s.commit()
    # Only x-b and x-c may sit on d0's panel, only x-a and x-d on d1's: the draw has no choice.
    _add(stack, [_expert(x, availability=ever, declared_conflicts=frozenset({d1})) for x in ("x-b", "x-c")]
         + [_expert(x, availability=ever, declared_conflicts=frozenset({d0})) for x in ("x-a", "x-d")])
    async with stack.running():
        handle = await stack.client.start_workflow(
            ReviewStageWorkflow.run, StageInput(call, prepared.input.calendar, "defence", now, None, True),
            id=stage_workflow_id(call.id, "defence"), task_queue=stack.task_queue)
        status = await _until(handle, lambda s: s.drawn is not None)
        first, second = status.state.drawn.slots  # type: ignore[union-attr]
        assert (first.application_id, second.application_id) == (d0, d1)
        assert {(t.application_id, t.expert_id) for t in status.state.tasks} == {
            (d0, "x-b"), (d0, "x-c"), (d1, "x-a"), (d1, "x-d")}
        # Since the draw: x-e shares d0's lead unit, x-f leaves during d0's hearing, x-z is free (but not for d1).
        _add(stack, [_expert("x-e", unit="unit-0", availability=ever, declared_conflicts=frozenset({d1})),
                     _expert("x-f", availability=(Window(now - timedelta(days=1), first.starts + timedelta(minutes=10)),)),
                     _expert("x-z", availability=ever, declared_conflicts=frozenset({d1}))])

        task = await handle.execute_update(ReviewStageWorkflow.decline_review, ReviewRequest(
            d0, "x-b", "expert", reason="出差", identity=in_process("x-b", "expert")))
        assert (task.status, task.reason) == (DECLINED, "declined by x-b: 出差")
        status = await _until(handle, lambda s: any(t.expert_id == "x-z" for t in s.tasks))
        [seated] = [t for t in status.state.tasks if t.expert_id == "x-z"]
        assert (seated.application_id, seated.status, seated.reason, seated.due) == (
            d0, OPEN, "replaces x-b", first.scores_due)
        assert any(f"seated x-z on the panel of {d0}: replaces x-b (declined by x-b: 出差)" in line
                   for line in status.state.log)

        await handle.execute_update(ReviewStageWorkflow.decline_review, ReviewRequest(
            d1, "x-a", "expert", reason="回避", identity=in_process("x-a", "expert")))
        status = await _until(handle, lambda s: any("left the seat of x-a" in line for line in s.log))
        assert [(t.expert_id, t.status) for t in status.state.tasks if t.application_id == d1] == [
            ("x-a", DECLINED), ("x-d", OPEN)]  # the hearing keeps its other member
        for _ in range(200):  # the notices are recorded by an activity after the seats
            with Session(stack.engine) as s:
                told = s.exec(select(NoticeRow).where(NoticeRow.kind == "seat_empty")).all()
                assigned = s.exec(select(NoticeRow).where(NoticeRow.kind == "assigned",
                                                          NoticeRow.recipient == "expert:x-z")).all()
                rows = {(r.application_id, r.expert_id): r.status for r in s.exec(select(AssignmentRow))}
            if told:
                break
            await asyncio.sleep(0.05)
        assert [(n.recipient, n.application_id) for n in told] == [(f"manager:{call.id}", d1)]
        assert "其余 1 位专家" in told[0].body and [n.application_id for n in assigned] == [d0]
        assert rows == {(d0, "x-b"): "declined", (d0, "x-c"): "assigned", (d0, "x-z"): "assigned",
                        (d1, "x-a"): "declined", (d1, "x-d"): "assigned"}

        await sleep_until(stack.env, first.starts + timedelta(minutes=1))
        await refused(handle.execute_update(ReviewStageWorkflow.decline_review, ReviewRequest(
            d0, "x-c", "expert", reason="临时有事", identity=in_process("x-c", "expert"))), f"the defence of {d0} began at")
        for expert in ("x-c", "x-z"):
            await handle.execute_update(ReviewStageWorkflow.submit_review, ReviewRequest(
                d0, expert, "expert", SCORES, {"feasibility": "可行"}, identity=in_process(expert, "expert")))
        await sleep_until(stack.env, second.starts + timedelta(minutes=1))
        await handle.execute_update(ReviewStageWorkflow.submit_review, ReviewRequest(
            d1, "x-d", "expert", SCORES, {"feasibility": "可行"}, identity=in_process("x-d", "expert")))
        status = await _until(handle, lambda s: s.settled is not None)
        assert status.state.settled is not None and status.state.reassigned == 2
        assert {d0, d1} <= {o.application_id for o in status.state.settled.outcomes}
        await handle.terminate("test finished")
    await replayer().replay_workflow(await handle.fetch_history())  # the patch replays
