"""Checks of a finished assignment, pair by pair and without the solver's indexes: its cost, its loads, and every
hard constraint it breaks, so that a report's conflicts_violated is recomputed from the result itself."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from models.experts.eligibility import Policy, conflict_reasons, fit_cost, pair_problems, serves
from models.experts.pool import Expert, Proposal

Reviewers = Mapping[str, tuple[str, ...]]  # application id -> expert ids


@dataclass(frozen=True)
class Overrides:
    """A manager's pins (pairs that must be drawn) and forbids (pairs that must not), as (application, expert)."""

    pins: frozenset[tuple[str, str]] = frozenset()
    forbids: frozenset[tuple[str, str]] = frozenset()


def loads(reviewers: Reviewers) -> Counter[str]:
    return Counter(e for chosen in reviewers.values() for e in chosen)


def even_squares(total: int, experts: int) -> int:
    """The least sum of squared loads that `total` reviews can have over `experts` experts (as even as can be)."""
    if experts <= 0:
        return 0
    q, r = divmod(total, experts)
    return (experts - r) * q * q + r * (q + 1) ** 2


def cost_of(reviewers: Reviewers, experts: Sequence[Expert], proposals: Sequence[Proposal], policy: Policy,
            eligible: int) -> int:
    """The objective: each pair's fit cost, plus load_weight times the imbalance of the loads, i.e. the sum of
    squared loads less its least possible value over the `eligible` experts (0 when spread as evenly as can be)."""
    by_id = {e.id: e for e in experts}
    fit = sum(fit_cost(by_id[e], p)[0] for p in proposals for e in reviewers.get(p.id, ()))
    counted = loads(reviewers)
    return fit + policy.load_weight * (sum(n * n for n in counted.values()) - even_squares(sum(counted.values()),
                                                                                             eligible))


def drawable(experts: Sequence[Expert], proposals: Sequence[Proposal], policy: Policy) -> list[Expert]:
    """Experts who could review at least one of the applications (the ones whose loads are reported)."""
    return [e for e in experts if not serves(e, policy)
            and any(fit_cost(e, p)[1] >= policy.match_level and not conflict_reasons(e, p, policy) for p in proposals)]


def load_range(reviewers: Reviewers, pool: Sequence[Expert]) -> tuple[int, int]:
    counted = loads(reviewers)
    values = [counted.get(e.id, 0) for e in pool]
    return (min(values), max(values)) if values else (0, 0)


def conflicts(reviewers: Reviewers, experts: Sequence[Expert], proposals: Sequence[Proposal], policy: Policy) -> int:
    """Assigned pairs with a conflict of interest of any kind."""
    by_id = {e.id: e for e in experts}
    return sum(1 for p in proposals for e in reviewers.get(p.id, ()) if conflict_reasons(by_id[e], p, policy))


def violations(reviewers: Reviewers, experts: Sequence[Expert], proposals: Sequence[Proposal], policy: Policy,
               overrides: Overrides | None = None) -> list[str]:
    """Every hard constraint the assignment breaks, one line each (empty: none)."""
    overrides = overrides or Overrides()
    by_id = {e.id: e for e in experts}
    out: list[str] = []
    for p in proposals:
        chosen = reviewers.get(p.id, ())
        if len(set(chosen)) != policy.k or len(chosen) != policy.k:
            out.append(f"{p.id}: {len(chosen)} reviewers ({len(set(chosen))} distinct), not {policy.k}")
        for e in chosen:
            if e not in by_id:
                out.append(f"{p.id}: unknown expert {e}")
                continue
            out += [f"{p.id} <- {e}: {why}" for why in pair_problems(by_id[e], p, policy)]
            if (p.id, e) in overrides.forbids:
                out.append(f"{p.id} <- {e}: forbidden by the manager")
        out += [f"{p.id}: pinned {e} missing" for a, e in sorted(overrides.pins) if a == p.id and e not in chosen]
    counted = loads(reviewers)
    for x in experts:
        if counted.get(x.id, 0) > policy.capacity(x):
            out.append(f"{x.id}: load {counted[x.id]} over {policy.capacity(x)}")
    for x in drawable(experts, proposals, policy) if policy.min_load else []:
        if counted.get(x.id, 0) < policy.min_load:
            out.append(f"{x.id}: load {counted.get(x.id, 0)} under {policy.min_load}")
    return out
