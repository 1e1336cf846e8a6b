"""Scheduling a defence (答辩): applications in their hearing order into time slots (an assignment problem), then a
panel per slot from the experts free at that slot and without a conflict with that application (an integer program)."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, linear_sum_assignment, milp
from scipy.sparse import lil_matrix

from models.experts.eligibility import Policy, candidates, pair_problems
from models.experts.flow import AssignmentError
from models.experts.pool import Expert, Proposal, snapshot_hash

SCHEDULER = "defence: scipy linear_sum_assignment (slots) + milp/HiGHS (panels)"


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


def _eligible(experts: Sequence[Expert], proposals: Sequence[Proposal], slots: Sequence[Slot],
              policy: Policy) -> list[list[dict[int, int]]]:
    """[slot][application] -> {expert index: fit cost}: who serves the stage, is free for the whole slot, matches
    the discipline and has no conflict with the application (the eligibility of models/experts, slot by slot)."""
    return [candidates(experts, proposals, dataclasses.replace(policy, review_start=s.starts, review_end=s.ends))
            for s in slots]


def _slots_of(n: int, m: int, feasible: np.ndarray) -> dict[int, int]:
    """Application index -> slot index. Cost (n - i) * j puts the i-th application in the i-th free slot (an earlier
    place, an earlier slot); an application missing its slot costs more than any order, a higher place more."""
    miss = n * m + 1
    cost = np.full((n, m + n), float(miss * (n + 2)))
    for i in range(n):
        for j in range(m):
            if feasible[i, j]:
                cost[i, j] = (n - i) * j
        cost[i, m + i] = miss * (n - i)
    rows, cols = linear_sum_assignment(cost)
    return {int(i): int(j) for i, j in zip(rows, cols) if j < m and feasible[i, j]}


def _panels(chosen: dict[int, int], eligible: list[list[dict[int, int]]], experts: Sequence[Expert],
            policy: Policy, panel: int, seed: int) -> dict[int, tuple[int, ...]]:
    """Slot -> expert indexes. Minimise W * (the largest load) + a seeded random weight and the fit per pair, with
    `panel` experts per slot and each expert within capacity: balanced loads first, then chance within them."""
    rng = np.random.default_rng(seed)
    pairs = [(j, e, c) for i, j in sorted(chosen.items(), key=lambda x: x[1]) for e, c in sorted(eligible[j][i].items())]
    draws = rng.random(len(pairs))
    n = len(pairs)
    weight = float(panel * len(chosen) + 1)
    objective = np.append(draws + np.array([c for _, _, c in pairs]) / 1000.0, weight)
    index = sorted({e for _, e, _ in pairs})
    slots = sorted(chosen.values())
    a = lil_matrix((len(slots) + 2 * len(index), n + 1))
    for k, (j, e, _) in enumerate(pairs):
        a[slots.index(j), k] = 1
        a[len(slots) + index.index(e), k] = 1
        a[len(slots) + len(index) + index.index(e), k] = 1
    for r in range(len(index)):
        a[len(slots) + len(index) + r, n] = -1
    lower = [panel] * len(slots) + [0] * len(index) + [-np.inf] * len(index)
    upper = [panel] * len(slots) + [policy.capacity(experts[e]) for e in index] + [0] * len(index)
    result = milp(objective, constraints=LinearConstraint(a.tocsr(), lower, upper),
                  integrality=np.append(np.ones(n), 1), bounds=Bounds(0, np.append(np.ones(n), np.inf)))
    if result.x is None:
        raise AssignmentError(f"no panels of {panel} within the experts' loads: {result.message}", ())
    out: dict[int, list[int]] = {j: [] for j in slots}
    for k, (j, e, _) in enumerate(pairs):
        if result.x[k] > 0.5:
            out[j].append(e)
    return {j: tuple(es) for j, es in out.items()}


def schedule(experts: Sequence[Expert], proposals: Sequence[Proposal], slots: Sequence[Slot], policy: Policy,
             panel: int, seed: int) -> Schedule:
    """Hear `proposals` in their order: each in a slot where `panel` eligible experts are free (earlier place,
    earlier slot), the panels drawn at random among balanced loads. The same inputs and seed give the same schedule."""
    n, m = len(proposals), len(slots)
    eligible = _eligible(experts, proposals, slots, policy)
    feasible = np.array([[len(eligible[j][i]) >= panel for j in range(m)] for i in range(n)], dtype=bool)
    chosen = _slots_of(n, m, feasible) if n and m else {}
    panels = _panels(chosen, eligible, experts, policy, panel, seed) if chosen else {}
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
