"""A defence (答辩): the scheduler hears applications in order and seats only free experts without a conflict, the
materials deadline is refused at its exact instant, and an application recorded absent withdraws and leaves the
ranking."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import subprocess
import sys
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml
from sqlalchemy.engine import Engine
from sqlmodel import Session, select
from typer.testing import CliRunner

from activities.review_defence import ReviewDefenceActivities, ScheduleInput, hearing_order
from activities.review_draw import ReviewDrawActivities
from audit.replay import replayer
from cli import app
from client.calls import Prepared, prepare, start_application, start_call
from client.errors import Conflict, Forbidden, Invalid
from client.service import Service
from client.tokens import TokenConfig
from models.call import CallFileError, load_call
from models.experts import Expert, Policy, Proposal, Window
from models.experts.defence import Slot, schedule
from models.identity import Grant, Identity, in_process
from models.messages import ApplicationState
from models.review.defence import materials_due, working_day_before
from models.review.messages import (
    ABSENT,
    Absence,
    DefenceSlot,
    Drawn,
    ManagerRequest,
    MaterialsRequest,
    ReviewRequest,
    StageInput,
    StageState,
    Task,
    stage_workflow_id,
)
from models.review.profile import ReviewProfile, profile_json
from records.review_tables import ReviewProfileRow
from records.tables import ApplicationRow, CallRow, NoticeRow
from tests.conftest import CALLS, ROOT, Stack
from tests.helpers import PEOPLE, application_input, refused, sleep_until, state
from workflows.review_stage import ReviewStageWorkflow

CALL_012 = CALLS / "012-ha-2023-b2-joint-fund.yaml"
ZONE = ZoneInfo("Asia/Shanghai")
T0 = datetime(2025, 6, 2, 9, tzinfo=ZONE)  # a Monday
MS = timedelta(milliseconds=1)
SHA = "ab" * 32
SCORES = {"innovation": 8, "feasibility": 7, "team": 9, "benefit": 6}


def _slots(n: int) -> list[Slot]:
    return [Slot(T0 + timedelta(minutes=20 * i), T0 + timedelta(minutes=20 * (i + 1))) for i in range(n)]


def _pool() -> list[Expert]:
    """E0 is free only from the third slot on; the others all day."""
    day = Window(T0 - timedelta(days=1), T0 + timedelta(days=1))
    late = Window(T0 + timedelta(minutes=40), T0 + timedelta(days=1))
    return [Expert(f"E{i}", ("K0101",), f"U{i}", availability=(late if i == 0 else day,), stages=frozenset({"expert"}))
            for i in range(5)]


POLICY = Policy(reference=T0, review_start=T0, review_end=T0, stage="expert")


def test_hearings_go_in_order_to_panels_free_at_their_slot_and_without_conflict() -> None:
    proposals = [Proposal(f"A{i}", ("K0101",), "U1" if i == 0 else f"V{i}", f"P{i}") for i in range(4)]
    result = schedule(_pool(), proposals, _slots(6), POLICY, 3, seed=7)
    assert [(h.application_id, h.slot) for h in result.hearings] == [("A0", 0), ("A1", 1), ("A2", 2), ("A3", 3)]
    assert all(len(h.panel) == 3 for h in result.hearings) and result.conflicts_violated == 0
    assert "E1" not in result.hearings[0].panel  # same unit as A0's lead
    assert all("E0" not in h.panel for h in result.hearings[:2])  # not free before the third slot
    assert result.load_max == 3 and result.unscheduled == ()
    assert schedule(_pool(), proposals, _slots(6), POLICY, 3, seed=7) == result  # the recorded seed reproduces it
    assert schedule(_pool(), proposals[::-1], _slots(6), POLICY, 3, seed=7).request_hash != result.request_hash


def test_an_application_waits_for_a_slot_where_a_full_panel_is_free_or_is_left_unscheduled() -> None:
    # A0 conflicts with E2 and E3 (declared): only with E0 free (third slot on) does it get a panel of three.
    pool = [e if e.id not in ("E2", "E3") else Expert(e.id, e.disciplines, e.unit_id, availability=e.availability,
                                                      stages=e.stages, declared_conflicts=frozenset({"A0"}))
            for e in _pool()]
    proposals = [Proposal(f"A{i}", ("K0101",), f"V{i}", f"P{i}") for i in range(3)]
    result = schedule(pool, proposals, _slots(4), POLICY, 3, seed=1)
    assert [(h.application_id, h.slot) for h in result.hearings] == [("A1", 0), ("A2", 1), ("A0", 2)]
    assert set(result.hearings[2].panel) == {"E0", "E1", "E4"}
    short = schedule(pool, proposals, _slots(2), POLICY, 3, seed=1)
    assert short.unscheduled == ("A0",) and len(short.hearings) == 2


def test_when_the_experts_loads_run_out_a_seat_stays_empty_rather_than_the_schedule_failing() -> None:
    pool = [dataclasses.replace(e, max_load=1) for e in _pool()]  # 5 seats for 4 hearings of 3
    proposals = [Proposal(f"A{i}", ("K0101",), f"V{i}", f"P{i}") for i in range(4)]
    result = schedule(pool, proposals, _slots(6), POLICY, 3, seed=2)
    assert len(result.hearings) == 4 and sum(len(h.panel) for h in result.hearings) == 5
    assert result.load_max == 1 and result.conflicts_violated == 0


def test_the_materials_deadline_counts_working_days_back_over_a_holiday() -> None:
    calendar = prepare(load_call(CALLS / "000-sx-2025-basic-research-geology.yaml")).input.calendar
    assert working_day_before(calendar, date(2025, 10, 9), 2) == date(2025, 9, 29)  # National Day: Oct 1-8 off
    defence = load_call(CALL_012).review.stage("defence").defence  # type: ignore[union-attr]
    assert defence is not None
    slot = Slot(datetime(2025, 10, 9, 9, tzinfo=ZONE), datetime(2025, 10, 9, 9, 20, tzinfo=ZONE))
    assert materials_due(defence, calendar, slot, ZONE) == datetime(2025, 10, 1, tzinfo=ZONE)  # end of 30 Sep


def _problems(tmp_path: Path, defence: dict[str, object], window: tuple[str, str] | None = None) -> list[str]:
    data = yaml.safe_load(CALL_012.read_text(encoding="utf-8"))
    data["review"]["stages"]["defence"]["defence"] = defence
    if window:
        phase = next(p for p in data["phases"] if p["id"] == "defence")
        phase["opens"], phase["closes"] = window
    path = tmp_path / "a.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(CallFileError) as raised:
        load_call(path)
    return [line.removeprefix(f"{path}: ") for line in raised.value.problems]


def test_a_defence_the_call_file_cannot_hold_is_one_line_each(tmp_path: Path) -> None:
    assert _problems(tmp_path, {"slot_minutes": 240, "day_start": "09:00", "day_end": "12:00"}) == [
        "review.stages.defence.defence: no 240-minute slot fits between day_start 09:00 and day_end 12:00"]
    assert _problems(tmp_path, {"slot_minutes": 20, "days": ["2024-07-01", "2024-07-20"]},
                     ("2024-06-28T09:00:00+08:00", "2024-07-10T18:00:00+08:00")) == [
        "review.stages.defence.defence.days: 2024-07-20 is outside the phase's window (2024-06-28 to 2024-07-10)"]


def _stage(prepared: Prepared, carried: StageState) -> ReviewStageWorkflow:
    return ReviewStageWorkflow(StageInput(prepared.definition, prepared.input.calendar, "defence", T0 - timedelta(days=3),
                                          None, True, carried=carried))


def test_materials_are_refused_at_their_deadline_and_absence_only_from_the_slot() -> None:
    prepared = prepare(load_call(CALL_012))
    due = datetime(2025, 5, 31, tzinfo=ZONE)
    slot = DefenceSlot("a1", "major", "pi-a1", T0, T0 + timedelta(minutes=20), due, T0 + timedelta(hours=15))
    stage = _stage(prepared, StageState(drawn=Drawn([], 1, "p", "r", 0, 0, 0, slots=[slot]),
                                        tasks=[Task("a1", "x1", "major", T0, slot.scores_due)]))
    mine = MaterialsRequest("a1", "pi-a1", SHA, in_process("pi-a1", "applicant"))
    assert stage._materials_refusal(mine, due - MS) is None
    assert (stage._materials_refusal(mine, due) or "").startswith("deadline passed: the defence materials of a1")
    other = MaterialsRequest("a1", "pi-a2", SHA, in_process("pi-a2", "applicant"))
    assert "is not the applicant" in (stage._materials_refusal(other, due - MS) or "")
    absent = ManagerRequest("pm-1", "manager", "未按时进入线上答辩会议室", "a1", identity=in_process("pm-1", "manager"))
    assert "begins at" in (stage._absence_refusal(absent, T0 - MS) or "")
    assert stage._absence_refusal(absent, T0) is None
    expert = ManagerRequest("x1", "expert", "缺席", "a1", identity=in_process("x1", "expert"))
    assert "may not record an absence" in (stage._absence_refusal(expert, T0) or "")
    score = ReviewRequest("a1", "x1", "expert", SCORES, {"feasibility": "可行"}, identity=in_process("x1", "expert"))
    assert "begins at" in (stage._review_refusal(score, T0 - MS, False) or "")
    assert stage._review_refusal(score, T0, False) is None
    stage.s.absent.append(Absence("a1", "pm-1", "manager", T0, "缺席"))
    assert "already recorded absent" in (stage._absence_refusal(absent, T0) or "")


def _register(stack: Stack, prepared: Prepared, ids: list[str]) -> None:
    call = prepared.definition
    with Session(stack.engine) as s:
        for i, a in enumerate(ids):
            category = ("major", "key")[i % 2]
            s.add(ApplicationRow(id=a, call_id=call.id, workflow_id=f"application-{a}", category=category, title=a,
                                 applicant=f"pi-{i}", unit=f"unit-{i}", version=call.version(), state="in_defence",
                                 updated_at=datetime.now().astimezone()))
            profile = ReviewProfile(a, category, (f"K{i % 2 + 1:02d}01",), f"unit-{i}", f"pi-{i}")
            s.add(ReviewProfileRow(application_id=a, call_id=call.id, profile_json=profile_json(profile)))
        s.commit()


async def test_an_absent_application_withdraws_and_leaves_the_ranking(stack: Stack) -> None:
    prepared = prepare(load_call(CALL_012), not_before=await stack.env.get_current_time())
    call = prepared.definition
    ids = [f"d{i}-{stack.task_queue}" for i in range(3)]
    _register(stack, prepared, ids)
    opened = await stack.env.get_current_time() + timedelta(minutes=1)
    async with stack.running():
        apps = [await start_application(stack.client, application_input(
            prepared, a, category=("major", "key")[i % 2], people={**PEOPLE, "applicant": f"pi-{i}"},
            carried=ApplicationState(state="in_defence")), stack.task_queue) for i, a in enumerate(ids)]
        handle = await stack.client.start_workflow(
            ReviewStageWorkflow.run, StageInput(call, prepared.input.calendar, "defence", opened, None, True),
            id=stage_workflow_id(call.id, "defence"), task_queue=stack.task_queue)
        for _ in range(200):
            status = await handle.query(ReviewStageWorkflow.status)
            if status.state.drawn is not None:
                break
            await asyncio.sleep(0.05)
        drawn = status.state.drawn
        assert drawn is not None
        slots = drawn.slots
        assert [x.application_id for x in slots] == [ids[0], ids[2], ids[1]]  # major ones first, then key
        again = ReviewDefenceActivities(ReviewDrawActivities(stack.engine))._schedule(ScheduleInput(
            call, prepared.input.calendar, "defence", opened, None, ["in_defence"]))  # from the records and the seed
        assert (again.seed, again.pool_hash, again.request_hash, again.pairs, again.slots) == (
            drawn.seed, drawn.pool_hash, drawn.request_hash, drawn.pairs, drawn.slots)
        assert all(a.ends <= b.starts for a, b in zip(slots, slots[1:])) and slots[0].materials_due > opened
        for _ in range(200):  # the notices are recorded by an activity after the schedule
            with Session(stack.engine) as s:
                told = s.exec(select(NoticeRow).where(NoticeRow.kind == "defence_slot",
                                                      NoticeRow.recipient == "applicant:pi-0")).all()
            if told:
                break
            await asyncio.sleep(0.05)
        assert len(told) == 1 and not any(t.expert_id in told[0].body for t in status.state.tasks)
        first = slots[0]
        await sleep_until(stack.env, first.materials_due - timedelta(seconds=1))
        await handle.execute_update(ReviewStageWorkflow.submit_materials, MaterialsRequest(
            first.application_id, "pi-0", SHA, in_process("pi-0", "applicant")))
        with Session(stack.engine) as s:  # reminded the day before, having sent nothing
            reminded = s.exec(select(NoticeRow).where(NoticeRow.kind == "reminder",
                                                      NoticeRow.recipient == "applicant:pi-0")).all()
        keys = sorted(r.key.split(":")[-2] for r in reminded)  # the call's reminders after the opening (1 d, 2 h, ...)
        due = [a for a in call.reminders if opened < first.materials_due - a < first.materials_due - timedelta(seconds=1)]
        assert keys == sorted(f"materials{int(a.total_seconds())}" for a in due) and {"materials7200",
                                                                                  "materials86400"} <= set(keys)
        assert "提交答辩材料" in reminded[0].body
        await refused(handle.execute_update(ReviewStageWorkflow.record_absence, ManagerRequest(
            "pm-1", "manager", "缺席", ids[1], identity=in_process("pm-1", "manager"))), "an absence is recorded from then")
        await sleep_until(stack.env, slots[-1].starts + timedelta(minutes=1))
        await handle.execute_update(ReviewStageWorkflow.record_absence, ManagerRequest(
            "pm-1", "manager", "逾期未进入答辩会议室", ids[1], identity=in_process("pm-1", "manager")))
        assert await state(apps[1]) == "withdrawn"
        status = await handle.query(ReviewStageWorkflow.status)
        assert {t.status for t in status.state.tasks if t.application_id == ids[1]} == {ABSENT}
        for t in [t for t in status.state.tasks if t.application_id != ids[1]]:
            await handle.execute_update(ReviewStageWorkflow.submit_review, ReviewRequest(
                t.application_id, t.expert_id, "expert", SCORES, {"feasibility": "可行"},
                identity=in_process(t.expert_id, "expert")))
        for _ in range(200):
            status = await handle.query(ReviewStageWorkflow.status)
            if status.state.settled is not None:
                break
            await asyncio.sleep(0.05)
        settled = status.state.settled
        assert settled is not None and ids[1] not in {o.application_id for o in settled.outcomes}
        assert ids[1] not in [a for c in settled.funded.values() for a in c + settled.reserves.get("key", [])]
        assert any("recorded" in line and ids[1] in line for line in status.state.log)
        await handle.terminate("test finished")
    await replayer().replay_workflow(await handle.fetch_history())  # the schedule, materials and absence replay


async def test_the_schedule_materials_and_absence_through_the_service(stack: Stack, tmp_path: Path) -> None:
    prepared = prepare(load_call(CALL_012), not_before=await stack.env.get_current_time())
    call = prepared.definition
    ids = [f"s{i}-{stack.task_queue}" for i in range(2)]
    _register(stack, prepared, ids)
    service = Service(stack.client, stack.engine, stack.task_queue, TokenConfig(b"k" * 32, timedelta(hours=1)),
                      tmp_path)
    async with stack.running():
        await start_call(stack.client, prepared, stack.task_queue)
        for _ in range(200):  # the call's records row is written by its first activity
            with Session(stack.engine) as s:
                if s.get(CallRow, call.id) is not None:
                    break
            await asyncio.sleep(0.05)
        handle = await stack.client.start_workflow(
            ReviewStageWorkflow.run, StageInput(call, prepared.input.calendar, "defence",
                                                await stack.env.get_current_time(), None, True),
            id=stage_workflow_id(call.id, "defence"), task_queue=stack.task_queue)
        for _ in range(200):
            if (await handle.query(ReviewStageWorkflow.status)).state.drawn is not None:
                break
            await asyncio.sleep(0.05)
        manager = Identity("pm-1", [Grant("manager", f"call:{call.id}")])
        everything = await service.defence_schedule(manager, call.id, "defence")
        assert [len(h.panel) for h in everything] == [5, 5]
        pi0 = Identity("pi-0", [Grant("applicant", "self")])
        own = await service.defence_schedule(pi0, call.id, "defence")
        assert [(h.slot.application_id, h.panel) for h in own] == [(ids[0], [])]  # never the panel
        member = everything[1].panel[0]
        seen = await service.defence_schedule(Identity(member, [Grant("expert", "application:x")]), call.id, "defence")
        assert ids[1] in [h.slot.application_id for h in seen] and all(h.panel == [member] for h in seen)
        with pytest.raises(Forbidden, match="has no hearing"):
            await service.defence_schedule(Identity("pi-9", [Grant("applicant", "self")]), call.id, "defence")
        with pytest.raises(Invalid, match="not an expert review stage"):
            await service.defence_schedule(manager, call.id, "application")
        await service.submit_materials(pi0, call.id, "defence", ids[0], b"PPT")
        with pytest.raises(Conflict, match="is not the applicant"):
            await service.submit_materials(Identity("pi-1", [Grant("applicant", "self")]), call.id, "defence", ids[0],
                                           b"PPT")
        with pytest.raises(Forbidden, match="may not record an absence"):
            await service.record_absence(pi0, call.id, "defence", ids[1], "缺席")
        with pytest.raises(Conflict, match="an absence is recorded from then"):
            await service.record_absence(manager, call.id, "defence", ids[1], "缺席")
        assert (await service.defence_schedule(manager, call.id, "defence"))[0].materials_at is not None
        await handle.terminate("test finished")


def test_the_defence_commands_refuse_in_one_line(db: Engine, tmp_path: Path) -> None:
    env = {"GRANTFLOW_DATABASE_URL": str(db.url), "GRANTFLOW_TEMPORAL_ADDRESS": "127.0.0.1:9",
           "GRANTFLOW_VAR_DIR": str(tmp_path / "var"), "GRANTFLOW_CONFIG_DIR": str(tmp_path / "config")}
    result = CliRunner().invoke(app, ["stage", "schedule", "ha-2023-b2-joint-fund", "defence"], env=env)
    assert result.exit_code == 1 and result.output.count("\n") == 1 and "not signed in" in result.output
    result = CliRunner().invoke(app, ["--operator", "stage", "absent", "no-such-call", "defence", "a1", "--reason", "r"],
                                env=env)
    assert (result.exit_code, result.output) == (1, "error: unknown call no-such-call\n")


def test_hearings_are_grouped_by_category_best_first_or_ranked_across_categories() -> None:
    call = load_call(CALL_012)
    profiles = [ReviewProfile(a, c, ("K0101",), "u", "p") for a, c in
                (("k1", "key"), ("m1", "major"), ("k2", "key"), ("m2", "major"), ("m3", "major"))]
    scores: dict[str, float | None] = {"k1": 90.0, "m1": 70.0, "k2": 60.0, "m2": 80.0}  # m3: none (first stage)
    assert [p.application_id for p in hearing_order(call, profiles, scores, "category")] == ["m2", "m1", "m3", "k1",
                                                                                           "k2"]
    assert [p.application_id for p in hearing_order(call, profiles, scores, "rank")] == ["k1", "m2", "m1", "k2", "m3"]


def test_the_benchmark_compares_the_scheduler_with_greedy_on_the_same_figures() -> None:
    done = subprocess.run([sys.executable, "bench/defence.py", "--applications", "30", "--experts", "40", "--json"],
                          cwd=ROOT, capture_output=True, text=True, check=True)
    report = json.loads(done.stdout)
    for solver in ("scheduler", "greedy"):
        assert report[solver]["conflicts"] == 0 and report[solver]["order_inversions"] == 0
    assert report["scheduler"]["hearings"] == 30
