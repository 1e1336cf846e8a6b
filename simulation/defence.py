"""The simulated defence (答辩): a few panel members decline before the hearings (their seats are filled), applicants
send their materials (a few too late, refused), a few do not attend and the office records them absent at their slot,
the panel scores each hearing after it; and the report's defence section."""

from __future__ import annotations

import hashlib
from collections import defaultdict
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from temporalio.client import WorkflowUpdateFailedError

from models.identity import in_process
from models.review.messages import OPEN, DefenceSlot, ManagerRequest, MaterialsRequest, StageState
from workflows.review_stage import ReviewStageWorkflow

if TYPE_CHECKING:
    from simulation.review import ReviewDriver

LATE_MATERIALS, ABSENT = 0.1, 0.05  # shares of scheduled applications sending materials late, and not attending


def _chance(*parts: object) -> float:
    return int(hashlib.sha256(":".join(map(str, parts)).encode()).hexdigest()[:8], 16) / 16 ** 8


async def hear(driver: ReviewDriver, phase_id: str, role: str) -> set[tuple[str, str]]:
    """Run the defence's hearings in time order; the (application, expert) pairs whose tasks were worked."""
    sim, handle = driver.sim, driver.handle(phase_id)
    status = await driver.status(phase_id)
    state = status.state if status else StageState()
    slots = state.drawn.slots if state.drawn else []
    late = [x for x in slots if _chance(sim.seed, x.application_id, "materials") < LATE_MATERIALS]
    absent = [x for x in slots if _chance(sim.seed, x.application_id, "absent") < ABSENT]
    events: dict[datetime, list[tuple[str, DefenceSlot]]] = defaultdict(list)
    for x in late:
        events[x.materials_due + timedelta(minutes=1)].append(("materials", x))
    by_day: dict[str, list[DefenceSlot]] = defaultdict(list)
    for x in slots:
        by_day[x.starts.astimezone(sim.call.zone).date().isoformat()].append(x)
    for day in by_day.values():
        events[max(x.starts for x in day) + timedelta(minutes=1)] += [("absent", x) for x in day if x in absent]
        events[max(x.ends for x in day) + timedelta(minutes=1)] += [("score", x) for x in day if x not in absent]
    await sim.each([_materials(sim, handle, x) for x in slots if x not in late])
    done = {(t.application_id, t.expert_id) for t in state.tasks
            if driver.declining(phase_id, t.application_id, t.expert_id)}
    await sim.each([driver.review(phase_id, a, e, role) for a, e in sorted(done)])  # declined before the hearings
    for at in sorted(events):
        await sim.sleep_until(at)
        batch = events[at]
        await sim.each([_materials(sim, handle, x) for kind, x in batch if kind == "materials"])
        await sim.each([_absent(sim, handle, x) for kind, x in batch if kind == "absent"])
        heard = {x.application_id for kind, x in batch if kind == "score"}
        now = await driver.status(phase_id) if heard else None  # the panels as they sit, the filled seats too
        work = [(t.application_id, t.expert_id) for t in (now.state.tasks if now else [])
                if t.application_id in heard and t.status == OPEN and (t.application_id, t.expert_id) not in done]
        done.update(work)
        await sim.each([driver.review(phase_id, a, e, role) for a, e in work])
    return done


async def _materials(sim: Any, handle: Any, x: DefenceSlot) -> None:
    sha = hashlib.sha256(f"答辩材料 {x.application_id}".encode()).hexdigest()
    try:
        await handle.execute_update(ReviewStageWorkflow.submit_materials, MaterialsRequest(
            x.application_id, x.applicant, sha, in_process(x.applicant, "applicant")))
    except WorkflowUpdateFailedError:
        sim.refused["defence materials refused"] += 1


async def _absent(sim: Any, handle: Any, x: DefenceSlot) -> None:
    await handle.execute_update(ReviewStageWorkflow.record_absence, ManagerRequest(
        "pm-sim", "manager", "逾期未参加答辩", x.application_id, identity=in_process("pm-sim", "manager")))


def defence_report(states: list[StageState]) -> dict[str, int]:
    """scheduled hearings, applications recorded absent, and scheduled applications whose materials missed their
    deadline (none sent before it), over every defence stage of the call."""
    slots = [(s, x) for s in states for x in (s.drawn.slots if s.drawn else [])]
    return {"scheduled": len(slots), "absent": sum(len(s.absent) for s in states),
            "materials_late": sum(x.application_id not in s.materials for s, x in slots)}
