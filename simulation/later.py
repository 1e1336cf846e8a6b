"""The simulation's later phases: experts score, the manager shortlists (each category's planned count, else three
in ten), the public objects during publicity and the manager rules on it, applicants sign their contracts; the office
closes a window it closes by hand before a dated phase listed after it."""

from __future__ import annotations

from collections.abc import Awaitable
from datetime import datetime, timedelta
from typing import Any, Protocol

from temporalio.client import Client

from client.calls import manage
from models.call import CallDefinition
from models.identity import in_process
from models.lifecycle import Lifecycle
from models.messages import PhaseRequest
from models.timetable import PhaseTime, Timetable
from simulation.late import LateActors
from simulation.population import Population
from simulation.report import Persona
from simulation.review import ReviewDriver
from workflows.call import CallWorkflow

MANAGER = PhaseRequest(actor_id="pm-sim", role="manager", reason="simulated programme office decision",
                       identity=in_process("pm-sim", "manager"))
MANUAL_LENGTH = {"application": timedelta(days=12), "recommendation": timedelta(days=3)}
DEFAULT_LENGTH = timedelta(days=10)


class Running(Protocol):
    client: Client
    call: CallDefinition
    lifecycle: Lifecycle
    ids: list[str]
    people: list[Persona]
    population: Population
    late: LateActors
    staged: ReviewDriver | None

    def states(self) -> dict[str, str]: ...

    def due_sources(self, phase: str, edge: str) -> set[str]: ...

    async def open_phase(self, p: PhaseTime) -> datetime: ...

    async def sleep_until(self, instant: datetime) -> None: ...

    async def quiesce(self, states: set[str], limit_s: float = 120.0) -> None: ...

    async def timetable(self) -> Timetable: ...

    async def now(self) -> datetime: ...

    async def act(self, i: int, trigger: str, role: str, reason: str = "", **data: str) -> bool: ...

    async def each(self, coros: list[Awaitable[Any]]) -> list[Any]: ...


async def review_phase(sim: Running, p: PhaseTime) -> None:
    opened = await sim.open_phase(p)
    await sim.sleep_until(opened + timedelta(days=1))
    states = sim.states()
    assert p.role is not None
    await sim.each([sim.act(i, "score", p.role, "评审意见", score=str(x.score))
                    for i, x in enumerate(sim.people) if states.get(sim.ids[i]) == f"in_{p.id}"
                    and not sim.late.holds(i, "score", p.role, f"in_{p.id}", "评审意见", score=str(x.score))])


def manual_lead(call: CallDefinition) -> timedelta:
    """Room before a call's first dated phase for the windows listed before it that the office opens and closes by
    hand (an undated application window before a dated contract stage): a day to open each, its usual length and a
    day to close it. Nothing when the first phase is dated (or none is)."""
    lead = timedelta()
    for p in call.phases:
        if isinstance(p.opens, datetime) or isinstance(p.closes, datetime):
            return lead
        lead += MANUAL_LENGTH.get(p.kind, DEFAULT_LENGTH) + timedelta(days=2)
    return timedelta()


async def close_by_hand(sim: Running, p: PhaseTime) -> None:
    """Before dated phase `p` opens, the office closes the windows listed before it that it closes by hand (a day
    after their work, and before `p` opens where there is still time); one still open would never close."""
    handle = sim.client.get_workflow_handle(f"call-{sim.call.id}")
    while True:
        table = await sim.timetable()
        current = table.current()
        if (p.opens_rule != "date" or current is None or current.closes_rule != "manual"
                or table.index(current.id) >= table.index(p.id)):
            return
        now, opens = await sim.now(), table.get(p.id).opens
        at = now + timedelta(days=1)
        if opens is not None and now < opens:
            at = min(at, now + (opens - now) / 2)
        await sim.sleep_until(at)
        await manage(handle, CallWorkflow.close_phase, MANAGER)
        await sim.quiesce(sim.due_sources(current.id, "closes"))


async def select_before(sim: Running, p: PhaseTime, phases: list[PhaseTime]) -> None:
    """A call with no expert review whose lifecycle shortlists (a task-book notice for the funded projects): the
    office closes its windows and shortlists before the first publicity or contract phase opens."""
    first = next((q for q in phases if q.kind in ("publicity", "contract")), None)
    if p is not first or any(q.kind == "expert_review" for q in phases) or "shortlist" not in sim.lifecycle.triggers():
        return
    await close_by_hand(sim, p)
    await shortlist(sim)


async def shortlist(sim: Running) -> None:
    """The manager shortlists among the applications that can be (scored, or accepted where nothing is reviewed)."""
    states = sim.states()
    eligible = [i for i, app_id in enumerate(sim.ids) if sim.lifecycle.candidates(states.get(app_id, ""), "shortlist")]
    chosen: list[int] = []
    for c in sim.call.categories:
        mine = sorted((i for i in eligible if sim.population.forms[i].category == c.id),
                      key=lambda i: -sim.people[i].score)
        quota = c.planned if c.planned else max(1, len(mine) * 3 // 10)
        chosen += mine[:quota]
    await sim.each([sim.act(i, "shortlist", "manager", "联席会议研究确定") for i in chosen])


async def publicity_phase(sim: Running, p: PhaseTime) -> None:
    opened = await sim.open_phase(p)
    await sim.sleep_until(opened + timedelta(hours=2))
    states = sim.states()
    objected = [i for i, x in enumerate(sim.people) if x.objection and states.get(sim.ids[i]) == "publicised"]
    await sim.each([sim.act(i, "object", "public", "对申报材料真实性有异议") for i in objected])
    await sim.sleep_until(opened + timedelta(hours=26))
    await sim.each([
        sim.act(i, "uphold_objection" if sim.people[i].objection_upheld else "dismiss_objection", "manager",
                "经核查" + ("异议成立" if sim.people[i].objection_upheld else "异议不成立"))
        for i in objected])
    live = (await sim.timetable()).get(p.id)
    if live.closes is not None:
        await sim.sleep_until(live.closes + timedelta(minutes=1))
        await sim.quiesce(sim.due_sources(p.id, "closes"))


async def contract_phase(sim: Running, p: PhaseTime) -> None:
    opened = await sim.open_phase(p)
    if sim.staged is not None and "submit_taskbook" in sim.lifecycle.triggers():
        await sim.staged.contract(opened)
    else:  # one act signs the contract (a lifecycle without staged review: from approved, or shortlisted)
        await sim.sleep_until(opened + timedelta(days=3))
        states = sim.states()
        await sim.each([sim.act(i, "sign_contract", "applicant") for i, x in enumerate(sim.people)
                        if x.signs and sim.lifecycle.candidates(states.get(sim.ids[i], ""), "sign_contract")])
    handle = sim.client.get_workflow_handle(f"call-{sim.call.id}")
    live = (await sim.timetable()).get(p.id)
    if live.closes is None:
        await sim.sleep_until(opened + MANUAL_LENGTH.get("contract", DEFAULT_LENGTH))
        await manage(handle, CallWorkflow.close_phase, MANAGER)
    else:
        await sim.sleep_until(live.closes + timedelta(minutes=1))


async def close_last(sim: Running, handle: Any) -> None:
    """A call that forwards its applications does so at its last close: the office closes a manual one."""
    if not sim.call.forwarded_to:
        return
    while (current := (await sim.timetable()).current()) is not None and current.closes is None:
        await sim.sleep_until(await sim.now() + timedelta(days=1))
        await manage(handle, CallWorkflow.close_phase, MANAGER)
    latest = max((p.closes for p in (await sim.timetable()).phases if p.closes is not None), default=None)
    if latest is not None:
        await sim.sleep_until(max(latest + timedelta(minutes=1), await sim.now()))
