"""Scheduling a defence (答辩): applications in their hearing order into time slots (an assignment problem), then a
panel per slot from the experts free at that slot and without a conflict with that application (an integer program)."""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from models.experts.eligibility import Policy, candidates, pair_problems
from models.experts.flow import AssignmentError
from models.experts.pool import Expert, Proposal, Window, snapshot_hash

if TYPE_CHECKING:  # numpy and SciPy load when a defence is scheduled
    import numpy as np

SCHEDULER = "defence: scipy linear_sum_assignment (slots) + milp/HiGHS (panels)"
BALANCE = 2.0  # a seat's load cost unit: above any difference of the random weights, so balance comes first


@dataclass(frozen=True)
class Slot:
    """One hearing's time: both ends timezone-aware."""

    starts: datetime
    ends: datetime


@dataclass(frozen=True)
class Hearing:
    application_id: str
    slot: int  # index into the slots
    panel: tuple[str, ...]  # expert ids, sorted


@dataclass(frozen=True)
class Schedule:
    """A defence as scheduled, with what an auditor needs to reproduce it: the seed and the hashes of its inputs."""

    hearings: tuple[Hearing, ...]
    unscheduled: tuple[str, ...]  # no slot with a full panel free of conflict, or too few slots
    seed: int
    pool_hash: str
    request_hash: str
    conflicts_violated: int
    load_min: int
    load_max: int


@dataclass(frozen=True)
class Seat:
    """A seat held on a defence panel: whose, and the slot of its hearing."""

    expert_id: str
    slot: Slot


def eligible_over(experts: Sequence[Expert], proposals: Sequence[Proposal], slots: Sequence[Slot],
                  policy: Policy) -> list[dict[int, int]]:
    """Each application's eligible experts with their fit cost: the eligibility of models/experts over the whole
    defence (stage, discipline, conflicts), whatever the slot."""
    span = Window(slots[0].starts, slots[-1].ends)
    anytime = [dataclasses.replace(e, availability=(span,)) for e in experts]
    whole = dataclasses.replace(policy, review_start=span.start, review_end=span.end)
    return candidates(anytime, proposals, whole)


def _eligible(experts: Sequence[Expert], proposals: Sequence[Proposal], slots: Sequence[Slot],
              policy: Policy) -> tuple[list[dict[int, int]], np.ndarray]:
    """Each application's eligible experts with their fit cost, and which experts are free for the whole of each slot
    (expert x slot)."""
    import numpy as np

    free = np.array([[e.available(x.starts, x.ends) for x in slots] for e in experts], dtype=bool)
    return eligible_over(experts, proposals, slots, policy), free.reshape(len(experts), len(slots))


def fill_seat(experts: Sequence[Expert], proposal: Proposal, slots: Sequence[Slot], slot: Slot, policy: Policy,
              seats: Sequence[Seat], held: Collection[str]) -> str | None:
    """Who takes a vacated seat on `proposal`'s panel at `slot`: an expert eligible as the scheduler judges it (over
    the defence's `slots`), free for the whole slot, sitting in no hearing that overlaps it, within capacity, and never
    one who holds or held a seat on this panel (`held`); the lowest load (seats held in the defence), then the lowest
    id. None when nobody is."""
    loads = Counter(s.expert_id for s in seats)
    busy = {s.expert_id for s in seats if s.slot.starts < slot.ends and slot.starts < s.slot.ends} | set(held)
    options = sorted((loads[experts[e].id], experts[e].id) for e in eligible_over(experts, [proposal], slots, policy)[0]
                     if experts[e].id not in busy and experts[e].available(slot.starts, slot.ends)
                     and loads[experts[e].id] < policy.capacity(experts[e]))
    return options[0][1] if options else None


def _slots_of(n: int, m: int, feasible: np.ndarray) -> dict[int, int]:
    """Application index -> slot index. Cost (n - i) * j puts the i-th application in the i-th free slot (an earlier
    place, an earlier slot); an application missing its slot costs more than any order, a higher place more."""
    import numpy as np
    from scipy.optimize import linear_sum_assignment  # SciPy loads when a defence is scheduled, not with the models

    miss = n * m + 1
    cost = np.full((n, m + n), float(miss * (n + 2)))
    order = np.outer(n - np.arange(n), np.arange(m)).astype(float)
    cost[:, :m] = np.where(feasible, order, cost[:, :m])
    cost[np.arange(n), m + np.arange(n)] = miss * (n - np.arange(n))
    rows, cols = linear_sum_assignment(cost)
    return {int(i): int(j) for i, j in zip(rows, cols) if j < m and feasible[i, j]}


def _panels(chosen: dict[int, int], eligible: list[dict[int, int]], free: np.ndarray, experts: Sequence[Expert],
            policy: Policy, panel: int, seed: int) -> dict[int, tuple[int, ...]]:
    """Slot -> expert indexes: `panel` experts per slot, each within capacity, minimising the sum of squared loads
    (the l-th seat of an expert costs BALANCE * (2l - 1)) and then a seeded random weight and the fit per pair. A
    min-cost flow (its matrix is totally unimodular), solved by milp: balanced loads first, then chance within them.
    A seat no expert has room for stays empty (at a cost above any load), so the experts' loads never stop it."""
    import numpy as np
    from scipy.optimize import Bounds, LinearConstraint, milp
    from scipy.sparse import coo_matrix

    rng = np.random.default_rng(seed)
    pairs = [(j, e, c) for i, j in sorted(chosen.items(), key=lambda x: x[1])
             for e, c in sorted(eligible[i].items()) if free[e, j]]
    index = {e: r for r, e in enumerate(sorted({e for _, e, _ in pairs}))}
    rows = {j: r for r, j in enumerate(sorted(chosen.values()))}
    n, ns = len(pairs), len(rows)
    caps = [min(policy.capacity(experts[e]), ns) for e in index]
    seats = [(r, load) for r, cap in enumerate(caps) for load in range(1, cap + 1)]
    width = n + len(seats)
    objective = np.concatenate([rng.random(n) + np.array([c for _, _, c in pairs]) / 1000.0,
                                [BALANCE * (2 * load - 1) for _, load in seats], np.full(ns, BALANCE * (2 * ns + 2))])
    seat_row = np.array([ns + r for r, _ in seats], dtype=int)
    a = coo_matrix((np.concatenate([np.ones(2 * n), -np.ones(len(seats)), np.ones(ns)]),
                    (np.concatenate([[rows[j] for j, _, _ in pairs], [ns + index[e] for _, e, _ in pairs], seat_row,
                                     np.arange(ns)]),
                     np.concatenate([np.arange(n), np.arange(n), n + np.arange(len(seats)), width + np.arange(ns)]))),
                   shape=(ns + len(index), width + ns))
    bounds = [panel] * ns + [0] * len(index)
    result = milp(objective, constraints=LinearConstraint(a.tocsr(), bounds, bounds),
                  integrality=np.ones(width + ns), bounds=Bounds(0, np.concatenate([np.ones(width), np.full(ns, panel)])))
    if result.x is None:
        raise AssignmentError(f"no panels of {panel} within the experts' loads: {result.message}", ())
    out: dict[int, list[int]] = {j: [] for j in rows}
    for k, (j, e, _) in enumerate(pairs):
        if result.x[k] > 0.5:
            out[j].append(e)
    return {j: tuple(es) for j, es in out.items()}


def schedule(experts: Sequence[Expert], proposals: Sequence[Proposal], slots: Sequence[Slot], policy: Policy,
             panel: int, seed: int) -> Schedule:
    """Hear `proposals` in their order: each in a slot where `panel` eligible experts are free (earlier place,
    earlier slot), the panels drawn at random among balanced loads. The same inputs and seed give the same schedule."""
    import numpy as np

    n, m = len(proposals), len(slots)
    chosen: dict[int, int] = {}
    if n and m:
        eligible, free = _eligible(experts, proposals, slots, policy)
        able = np.zeros((n, len(experts)))
        for i, costs in enumerate(eligible):
            able[i, list(costs)] = 1
        chosen = _slots_of(n, m, able @ free >= panel)
    panels = _panels(chosen, eligible, free, experts, policy, panel, seed) if chosen else {}
    hearings = tuple(Hearing(proposals[i].id, j, tuple(sorted(experts[e].id for e in panels[j])))
                     for i, j in sorted(chosen.items(), key=lambda x: x[1]))
    by_id = {e.id: e for e in experts}
    by_app = {p.id: p for p in proposals}
    violated = sum(bool(pair_problems(by_id[x], by_app[h.application_id], dataclasses.replace(
        policy, review_start=slots[h.slot].starts, review_end=slots[h.slot].ends))) for h in hearings for x in h.panel)
    loads = [sum(x in h.panel for h in hearings) for x in sorted({x for h in hearings for x in h.panel})]
    request = [*proposals, *slots, dataclasses.replace(policy, k=panel)]
    return Schedule(hearings, tuple(p.id for i, p in enumerate(proposals) if i not in chosen), seed,
                    snapshot_hash(experts), snapshot_hash(request), violated, min(loads, default=0),
                    max(loads, default=0))
