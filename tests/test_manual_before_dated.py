"""An undated window the office opens and closes by hand, listed before a dated stage (the Sichuan task-book notice:
the application of an earlier notice, then the contract stage 2025-12-04 15:17:48 to 2026-01-13 18:00)."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from client.calls import manage, prepare, start_call
from models.call import load_call
from models.lifecycle import TERMINAL
from simulation.later import manual_lead
from simulation.launch import simulate
from tests.conftest import CALLS, Stack
from tests.helpers import MANAGER, sleep_until
from workflows.call import CallWorkflow

TASK_BOOK = CALLS / "examples" / "sc-2025-central-guided-task-book.yaml"


def at(text: str) -> datetime:
    return datetime.fromisoformat(text + "+08:00")


async def test_the_task_book_notice_simulates_to_the_end_with_its_application_closed_before_the_contract() -> None:
    report = await simulate(load_call(TASK_BOOK), 10, seed=11)
    assert report.violations == []
    assert sum(report.final_states.values()) == 10
    assert set(report.final_states) <= set(TERMINAL)
    assert report.final_states.get("contract_signed", 0) > 0  # shortlisted by the office, then signed
    application, contract = report.phases["application"], report.phases["contract"]
    assert (contract["opened"], contract["closed"]) == ("2025-12-04T15:17:48+08:00", "2026-01-13T18:00:00+08:00")
    assert application["opened"] is not None and application["closed"] is not None
    assert datetime.fromisoformat(application["closed"]) < at("2025-12-04T15:17:48")


def test_the_simulation_leaves_room_for_hand_run_windows_only_before_a_dated_stage() -> None:
    assert manual_lead(load_call(TASK_BOOK)) >= timedelta(days=12)  # the application's usual length, and more
    assert manual_lead(load_call(next(CALLS.glob("000-*.yaml")))) == timedelta()  # its first window is dated
    assert manual_lead(load_call(next(CALLS.glob("004-*.yaml")))) == timedelta()  # nothing dated to make room before


async def test_the_office_closes_its_undated_application_window_while_the_dated_contract_stage_is_open(
        stack: Stack) -> None:
    prepared = prepare(load_call(TASK_BOOK), not_before=await stack.env.get_current_time())
    contract = prepared.timetable.get("contract")
    assert contract.opens is not None and contract.closes is not None
    async with stack.running():
        call = await start_call(stack.client, prepared, stack.task_queue)
        opened = await manage(call, CallWorkflow.advance_phase, MANAGER)
        await sleep_until(stack.env, contract.opens + timedelta(hours=1))
        both = [p.id for p in (await call.query(CallWorkflow.status)).timetable.open_now()]
        closed = await manage(call, CallWorkflow.close_phase, MANAGER)
        await sleep_until(stack.env, contract.closes + timedelta(minutes=1))
        status = await asyncio.wait_for(call.result(), timeout=60)
    assert (opened.kind, opened.phase) == ("opened", "application")
    assert both == ["application", "contract"]  # the dated stage opened on its date, the window still open
    assert (closed.kind, closed.phase) == ("closed", "application")  # the hand-run window, not the dated stage
    assert status.timetable.finished()
    final = status.timetable.get("contract")
    assert (final.opens, final.closes) == (contract.opens, contract.closes)
