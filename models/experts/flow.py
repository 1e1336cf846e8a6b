"""The assignment as a min-cost flow (OR-Tools): applications -> eligible experts -> sink, each expert's load priced
by unit segments of increasing cost (the sum of squared loads), pins and minimum loads as node balances."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeAlias

if TYPE_CHECKING:  # numpy loads with the solvers, when a stage is drawn or a defence scheduled
    import numpy as np
    import numpy.typing as npt

Ints: TypeAlias = "npt.NDArray[np.int64]"
NOISE_SPAN = 1024  # tie-breaking noise per pair arc is drawn from range(NOISE_SPAN)


class AssignmentError(ValueError):
    """The constraints cannot be met; `applications` names those that cannot get their k reviewers."""

    def __init__(self, message: str, applications: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.applications = tuple(applications)


@dataclass(frozen=True)
class Network:
    """Eligible pairs as flat arrays (pair p joins application `app[p]` and expert `expert[p]` at fit `cost[p]`),
    with the demand of each application, the free capacity of each expert and what pins already use."""

    app: Ints
    expert: Ints
    cost: Ints
    demand: Ints  # reviewers still to draw per application (k minus its pins)
    capacity: Ints  # per expert: the policy's cap minus the expert's pins
    pinned: Ints  # pins per expert
    min_load: Ints  # per expert (0 for experts that cannot be drawn at all)
    load_weight: int

    @property
    def sizes(self) -> tuple[int, int]:
        return len(self.demand), len(self.capacity)


def solve(net: Network, scale: int = 1, noise: Ints | None = None) -> tuple[Ints, int] | None:
    """Optimal flow on each pair arc when every reviewer slot is split into `scale` units (an arc carries at most
    one unit, so no pair gets more than 1/scale of a slot): (units per pair, cost of the flow) or None if
    infeasible. With `noise`, costs are made so much finer that all the noise of a flow weighs less than one cost
    unit: the noise only chooses among optimal flows. The cost returned, without the noise, is the LP optimum times
    scale**2, counting only the free part (not pins, not the loads that minimum loads force)."""
    import numpy as np
    from ortools.graph.python import min_cost_flow  # the solvers load when a stage is drawn, not with the models

    n, m = net.sizes
    fine = NOISE_SPAN * int(net.demand.sum() * scale + 1) if noise is not None else 1
    sink = n + m
    seg_expert, seg_rank = _segments(net, scale)
    tails = np.concatenate([net.app, n + seg_expert])
    heads = np.concatenate([n + net.expert, np.full(len(seg_expert), sink, dtype=np.int64)])
    pair_cost = net.cost * scale * fine + (noise if noise is not None else 0)
    seg_cost = net.load_weight * (2 * seg_rank - 1) * fine
    costs = np.concatenate([pair_cost, seg_cost])
    flow = min_cost_flow.SimpleMinCostFlow()
    arcs = flow.add_arcs_with_capacity_and_unit_cost(tails, heads, np.ones(len(tails), dtype=np.int64), costs)
    supplies = np.concatenate([net.demand * scale, (net.pinned - net.min_load) * scale, [0]])
    supplies[sink] = -int(supplies.sum())
    flow.set_nodes_supplies(np.arange(n + m + 1), supplies)
    if flow.solve() != flow.OPTIMAL:
        return None
    return np.asarray(flow.flows(arcs[: len(net.app)]), dtype=np.int64), int(flow.optimal_cost()) // fine


def _segments(net: Network, scale: int) -> tuple[Ints, Ints]:
    """(expert, rank) of every load segment beyond the forced minimum; rank t costs 2t-1 (squares add up)."""
    import numpy as np

    first = net.min_load * scale + 1
    last = (net.capacity + net.pinned) * scale
    count = np.maximum(last - first + 1, 0)
    expert = np.repeat(np.arange(len(count), dtype=np.int64), count)
    starts = np.repeat(first - np.concatenate([[0], np.cumsum(count)[:-1]]), count)
    rank = np.arange(len(expert), dtype=np.int64) + starts
    return expert, rank


def short_of(net: Network, scale: int) -> tuple[list[int], int]:
    """Why no flow meets the demand (loads and limits kept, costs ignored): the applications on the source side of a
    minimum cut, which together need more reviews than their eligible experts can still take, and the shortfall."""
    import numpy as np
    from ortools.graph.python import max_flow

    n, m = net.sizes
    source, sink = n + m, n + m + 1
    flow = max_flow.SimpleMaxFlow()
    tails = np.concatenate([np.full(n, source), net.app, n + np.arange(m)])
    heads = np.concatenate([np.arange(n), n + net.expert, np.full(m, sink)])
    caps = np.concatenate([net.demand * scale, np.ones(len(net.app), dtype=np.int64),
                           np.maximum(net.capacity, 0) * scale])
    flow.add_arcs_with_capacity(tails.astype(np.int64), heads.astype(np.int64), caps.astype(np.int64))
    flow.solve(source, sink)
    cut = [int(v) for v in flow.get_source_side_min_cut() if v < n]
    return sorted(cut), int(net.demand.sum() * scale - flow.optimal_flow())
