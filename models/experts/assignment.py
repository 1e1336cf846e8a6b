"""Draw k reviewers per application: hard constraints as the eligible pairs of a min-cost flow, a randomized draw
with capped marginals (Jecmen et al. 2020, as in openreview-matcher), pins and forbids, and reassignment."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, replace

from ortools import __version__ as ortools_version  # the package alone; its solvers load in models.experts.flow

from models.experts.audit import Overrides, Reviewers, conflicts, cost_of, even_squares, load_range, loads
from models.experts.eligibility import Policy, candidates, fit_cost, pair_problems
from models.experts.flow import NOISE_SPAN, AssignmentError, Ints, Network, short_of, solve
from models.experts.pool import Expert, Proposal, snapshot_hash
from models.experts.rounding import draw

SOLVER = f"ortools {ortools_version} SimpleMinCostFlow"
NAMED = 20  # applications named in an infeasibility message; all of them are in the error's `applications`


@dataclass(frozen=True)
class Replacement:
    """One reviewer replaced after a decline or a lapsed task, against the pool as it was then."""

    application_id: str
    dropped: str
    added: str
    reason: str
    pool_hash: str


@dataclass(frozen=True)
class Assignment:
    """A draw and what an auditor needs to reproduce it: the seed and the hashes of the pool and of the request
    (applications, policy, overrides). The objective is fit costs plus load_weight times the load imbalance (see
    audit.cost_of); `ratio` is objective / lp_bound, the optimum of the LP relaxation of the same constraints
    without the probability cap (1.0: optimal; above it: the price of the random draw)."""

    reviewers: Reviewers
    seed: int
    pool_hash: str
    request_hash: str
    solver: str
    overrides: Overrides
    eligible_experts: tuple[str, ...]  # experts eligible for some application: loads are reported over these
    objective: int
    lp_bound: int
    lp_capped: float  # the LP optimum under the probability cap; its fit part is the draw's expected fit cost
    ratio: float
    load_min: int
    load_max: int
    conflicts_violated: int
    replacements: tuple[Replacement, ...] = ()

    def report(self) -> dict[str, object]:
        return {"assignments": sum(len(v) for v in self.reviewers.values()), "objective": self.objective,
                "lp_bound": self.lp_bound, "lp_capped": round(self.lp_capped, 1), "ratio": round(self.ratio, 4), "load_min": self.load_min,
                "load_max": self.load_max, "conflicts_violated": self.conflicts_violated,
                "reassigned": len(self.replacements), "seed": self.seed, "pool_hash": self.pool_hash,
                "request_hash": self.request_hash, "solver": self.solver}


def _refuse(what: str, names: Sequence[str], applications: Sequence[str] = ()) -> AssignmentError:
    """The error naming what is wrong (the first NAMED of `names`) and carrying the ids of the applications that
    cannot get their reviewers (empty when the problem is not theirs: pins, experts)."""
    shown = ", ".join(names[:NAMED]) + (f" and {len(names) - NAMED} more" if len(names) > NAMED else "")
    return AssignmentError(f"{what}: {shown}", applications)


def _network(experts: Sequence[Expert], proposals: Sequence[Proposal], policy: Policy,
             overrides: Overrides) -> tuple[Network, int, list[int]]:
    """The flow network of the free choices, the fit cost of the pins and the experts anyone may get."""
    import numpy as np

    e_index = {e.id: i for i, e in enumerate(experts)}
    p_index = {p.id: i for i, p in enumerate(proposals)}
    if len(e_index) < len(experts) or len(p_index) < len(proposals):
        raise AssignmentError("expert and application ids must be unique")
    unknown = sorted(f"{a}<-{e}" for a, e in overrides.pins | overrides.forbids if a not in p_index or e not in e_index)
    clash = sorted(f"{a}<-{e}" for a, e in overrides.pins & overrides.forbids)
    if unknown or clash:
        raise _refuse("pins or forbids name unknown applications or experts, or both pin and forbid a pair",
                      unknown + clash)
    bad_pins = sorted(f"{a}<-{e} ({'; '.join(why)})" for a, e in overrides.pins
                      for why in [pair_problems(experts[e_index[e]], proposals[p_index[a]], policy)] if why)
    if bad_pins:
        raise _refuse("pinned pairs break a hard constraint", bad_pins)
    cands = candidates(experts, proposals, policy)
    pinned_app = np.zeros(len(proposals), dtype=np.int64)
    pinned_expert = np.zeros(len(experts), dtype=np.int64)
    pin_cost = 0
    for a, e in overrides.pins:
        i, j = p_index[a], e_index[e]
        pinned_app[i] += 1
        pinned_expert[j] += 1
        pin_cost += cands[i].pop(j)
    for a, e in overrides.forbids:
        cands[p_index[a]].pop(e_index[e], None)
    demand = policy.k - pinned_app
    if (demand < 0).any():
        over_k = [p.id for i, p in enumerate(proposals) if demand[i] < 0]
        raise _refuse(f"more than k={policy.k} pins", over_k, over_k)
    short = [i for i in range(len(proposals)) if len(cands[i]) < demand[i]]
    if short:
        raise _refuse(f"these applications cannot get k={policy.k} eligible reviewers",
                      [f"{proposals[i].id} ({len(cands[i]) + int(pinned_app[i])} eligible)" for i in short],
                      [proposals[i].id for i in short])
    reachable = sorted({j for c in cands for j in c} | set(np.flatnonzero(pinned_expert).tolist()))
    capacity = np.array([policy.capacity(e) for e in experts], dtype=np.int64)
    over = [f"{experts[j].id} (pinned {pinned_expert[j]}, cap {capacity[j]})"
            for j in np.flatnonzero(pinned_expert > capacity).tolist()]
    if over:
        raise _refuse("pins exceed these experts' load caps", over)
    minimum = np.zeros(len(experts), dtype=np.int64)
    minimum[reachable] = policy.min_load
    app = np.fromiter((i for i, c in enumerate(cands) for _ in c), dtype=np.int64)
    expert = np.fromiter((j for c in cands for j in c), dtype=np.int64, count=len(app))
    cost = np.fromiter((v for c in cands for v in c.values()), dtype=np.int64, count=len(app))
    net = Network(app, expert, cost, demand, capacity - pinned_expert, pinned_expert, minimum, policy.load_weight)
    return net, pin_cost, reachable


def _optimal(net: Network, scale: int, noise: Ints | None, proposals: Sequence[Proposal],
             what: str) -> tuple[Ints, int]:
    solved = solve(net, scale, noise)
    if solved is not None:
        return solved
    cut, missing = short_of(net, scale)
    if missing:
        names = [proposals[i].id for i in cut]
        raise _refuse(f"{what}{len(cut)} applications need {missing} more reviews than their eligible experts can "
                      f"take within their load caps", names, names)
    raise AssignmentError(f"{what}the minimum load of {int(net.min_load.max())} per expert cannot be met")


def assign(experts: Sequence[Expert], proposals: Sequence[Proposal], policy: Policy, seed: int,
           overrides: Overrides | None = None) -> Assignment:
    """Draw policy.k reviewers for every application. The LP over eligible pairs with each pair's probability
    capped at policy.probability_limit is solved exactly as a min-cost flow (seeded noise chooses among the optimal
    solutions), then rounded by random halvings that keep each pair's marginal. The same seed and the same
    snapshot (pool, applications, policy, overrides, in the same order) give the same assignment."""
    import numpy as np

    overrides = overrides or Overrides()
    net, pin_cost, reachable = _network(experts, proposals, policy, overrides)
    bound = _optimal(net, 1, None, proposals, "")
    squares = int((net.min_load ** 2).sum()) - even_squares(policy.k * len(proposals), len(reachable))
    lp_bound = bound[1] + pin_cost + policy.load_weight * squares
    rng = np.random.default_rng(seed)
    scale = 2 ** policy.halvings
    arcs = np.bincount(net.app, minlength=len(proposals))
    few = [i for i in range(len(proposals)) if arcs[i] < net.demand[i] * scale]
    if few:
        raise _refuse(f"with no pair above probability {policy.probability_limit}, an application needs "
                      f"{scale} times as many eligible experts as reviewers still to draw",
                      [f"{proposals[i].id} ({arcs[i]} eligible)" for i in few], [proposals[i].id for i in few])
    units, capped = _optimal(net, scale, rng.integers(0, NOISE_SPAN, size=len(net.app), dtype=np.int64), proposals,
                     f"with no pair above probability {policy.probability_limit}, ")
    live = np.flatnonzero(units > 0)
    chosen = live[draw(net.app[live], net.expert[live], policy.halvings, rng)]
    picked: dict[str, list[str]] = {p.id: [] for p in proposals}
    for a, e in sorted(overrides.pins):
        picked[a].append(e)
    for i, j in zip(net.app[chosen].tolist(), net.expert[chosen].tolist()):
        picked[proposals[i].id].append(experts[j].id)
    reviewers = {a: tuple(sorted(es)) for a, es in picked.items()}
    eligible = tuple(experts[j].id for j in reachable)
    request = snapshot_hash([*proposals, policy, overrides])
    return _finish(Assignment(reviewers, seed, snapshot_hash(experts), request, SOLVER, overrides, eligible, 0,
                              lp_bound, capped / scale ** 2 + lp_bound - bound[1], 1.0, 0, 0, 0), experts, proposals,
                   policy)


def _finish(draft: Assignment, experts: Sequence[Expert], proposals: Sequence[Proposal], policy: Policy) -> Assignment:
    """The draft with its figures recomputed from its reviewers alone."""
    objective = cost_of(draft.reviewers, experts, proposals, policy, len(draft.eligible_experts))
    by_id = {e.id: e for e in experts}
    low, high = load_range(draft.reviewers, [by_id[e] for e in draft.eligible_experts if e in by_id])
    ratio = objective / draft.lp_bound if draft.lp_bound else 1.0 if objective == 0 else float("inf")
    return replace(draft, objective=objective, ratio=ratio,
                   load_min=low, load_max=high,
                   conflicts_violated=conflicts(draft.reviewers, experts, proposals, policy))


def _tiebreak(seed: int, application_id: str, expert_id: str) -> float:
    digest = hashlib.sha256(f"{seed}\x00{application_id}\x00{expert_id}".encode()).digest()
    return int.from_bytes(digest[:8]) / 2 ** 64


def reassign(assignment: Assignment, application_id: str, expert_id: str, experts: Sequence[Expert],
             proposals: Sequence[Proposal], policy: Policy, reason: str = "declined") -> Assignment:
    """Replace `expert_id` on one application by the eligible expert of least marginal cost (fit plus the growth of
    their squared load; ties by a hash of the recorded seed), never one who holds or held that application. The
    pool given is the current one (a ban or a new conflict since the draw counts); its hash goes with the step."""
    current = assignment.reviewers.get(application_id, ())
    if expert_id not in current:
        raise AssignmentError(f"{expert_id} is not a reviewer of {application_id}", [application_id])
    proposal = next(p for p in proposals if p.id == application_id)
    held = set(current) | {r.dropped for r in assignment.replacements if r.application_id == application_id}
    counted = loads(assignment.reviewers)
    options = sorted((fit_cost(e, proposal)[0] + policy.load_weight * (2 * counted.get(e.id, 0) + 1),
                      _tiebreak(assignment.seed, application_id, e.id), e.id)
                     for e in experts if e.id not in held and counted.get(e.id, 0) < policy.capacity(e)
                     and (application_id, e.id) not in assignment.overrides.forbids
                     and not pair_problems(e, proposal, policy))
    if not options:
        raise AssignmentError(f"no eligible expert left to replace {expert_id} on {application_id}", [application_id])
    added = options[0][2]
    reviewers = dict(assignment.reviewers)
    reviewers[application_id] = tuple(sorted([e for e in current if e != expert_id] + [added]))
    pins = frozenset(pin for pin in assignment.overrides.pins if pin != (application_id, expert_id))
    step = Replacement(application_id, expert_id, added, reason, snapshot_hash(experts))
    return _finish(replace(assignment, reviewers=reviewers, overrides=replace(assignment.overrides, pins=pins),
                           replacements=assignment.replacements + (step,)), experts, proposals, policy)
