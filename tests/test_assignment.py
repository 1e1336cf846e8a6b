"""Expert assignment (models.experts): conflicts, discipline levels, loads, pins and forbids, reproducible draws,
the reported objective and LP bound, infeasibility and reassignment."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

from models.experts import (
    AssignmentError,
    Collaboration,
    Expert,
    Overrides,
    Policy,
    Proposal,
    Window,
    assign,
    candidates,
    conflict_reasons,
    even_squares,
    pair_problems,
    reassign,
    sample,
    snapshot_hash,
    violations,
)
from models.experts.rounding import draw, halve

T0 = datetime(2025, 5, 1, tzinfo=timezone(timedelta(hours=8)))
T1 = T0 + timedelta(days=20)
FREE = (Window(T0 - timedelta(days=30), T1 + timedelta(days=30)),)
CODES = [f"{a}{b:02d}{c:02d}" for a in "DE" for b in (1, 2) for c in (1, 2, 3)]  # 4 level-2 groups of 3 leaves
UNITS = [f"U{i:03d}" for i in range(30)]


def expert(eid: str, codes: str = "D0201", unit: str = "U900", **kw: Any) -> Expert:
    base: dict[str, Any] = {"availability": FREE, "stages": frozenset({"expert"}), "max_load": 10}
    return Expert(eid, tuple(codes.split()), unit, **(base | kw))


def proposal(pid: str, codes: str = "D0201", unit: str = "U100", pi: str = "P1", **kw: Any) -> Proposal:
    return Proposal(pid, tuple(codes.split()), unit, pi, **kw)


def policy(**kw: Any) -> Policy:
    base: dict[str, Any] = {"reference": T0, "review_start": T0, "review_end": T1, "stage": "expert", "k": 2,
                            "probability_limit": 1.0}
    return Policy(**(base | kw))


def pool_sample(seed: int = 3, experts: int = 120, applications: int = 150) -> tuple[list[Expert], list[Proposal]]:
    s = sample(CODES, UNITS, experts=experts, applications=applications, seed=seed, period=(T0, T1), max_load=12)
    return list(s.experts), list(s.proposals)


# The best-fitting expert (same leaf code) carries the conflict; two clean ones match at level 2 only.
CONFLICTS: dict[str, tuple[dict[str, Any], dict[str, Any], dict[str, Any]]] = {
    "lead unit": ({"unit": "U100"}, {}, {}),
    "partner unit": ({"unit": "U777"}, {"partner_unit_ids": frozenset({"U777"})}, {}),
    "co-author of the PI": ({"collaborations": (Collaboration("P1", 2023),)}, {}, {}),
    "collaborator of a team member": ({"collaborations": (Collaboration("P9", 2022, "collaborator"),)},
                                      {"team_ids": frozenset({"P9"})}, {}),
    "declared (person)": ({"declared_conflicts": frozenset({"P1"})}, {}, {}),
    "declared (application)": ({"declared_conflicts": frozenset({"A1"})}, {}, {}),
    "excluded by the applicant": ({}, {"excluded_expert_ids": frozenset({"X0"})}, {}),
    "same recommender": ({"recommender_id": "R1"}, {"recommender_id": "R1"}, {"same_recommender_conflict": True}),
}


@pytest.mark.parametrize("kind", sorted(CONFLICTS))
def test_each_kind_of_conflict_is_excluded(kind: str) -> None:
    on_expert, on_proposal, on_policy = CONFLICTS[kind]
    best = expert("X0", "D0201", **({"unit": "U900"} | on_expert))
    experts = [best, expert("X1", "D0202"), expert("X2", "D0203"), expert("X3", "D0202")]
    props = [proposal("A1", **on_proposal)]
    pol = policy(**on_policy)
    assert conflict_reasons(best, props[0], pol), kind
    assert 0 not in candidates(experts, props, pol)[0]
    result = assign(experts, props, pol, seed=1)
    assert "X0" not in result.reviewers["A1"] and result.conflicts_violated == 0
    clean = assign([expert("X0", "D0201"), *experts[1:]], [proposal("A1")], policy(), seed=1)
    assert "X0" in clean.reviewers["A1"]  # without the conflict the best fit is drawn


def test_old_collaboration_and_other_recommender_policy_do_not_conflict() -> None:
    old = expert("X0", collaborations=(Collaboration("P1", 2018),))
    same_rec = expert("X1", recommender_id="R1")
    p = proposal("A1", recommender_id="R1")
    assert conflict_reasons(old, p, policy(conflict_years=3)) == []
    assert conflict_reasons(old, p, policy(conflict_years=7))
    assert conflict_reasons(same_rec, p, policy()) == []  # only when the call says so


def test_discipline_level_availability_stage_and_ban() -> None:
    p = proposal("A1", "D0201")
    assert pair_problems(expert("X0", "D0207"), p, policy(match_level=2)) == []
    assert pair_problems(expert("X0", "D0207"), p, policy(match_level=3))
    assert pair_problems(expert("X0", "D0501"), p, policy(match_level=2))
    assert pair_problems(expert("X0", "D0501"), p, policy(match_level=1)) == []
    assert pair_problems(expert("X0", "E0201"), p, policy(match_level=1))
    assert pair_problems(expert("X0", "E0101 D0201"), p, policy(match_level=3)) == []  # any of the expert's codes
    busy = expert("X1", availability=(Window(T0, T0 + timedelta(days=3)),))
    retired = expert("X2", stages=frozenset({"committee"}))
    banned = expert("X3", restricted_until=T1 + timedelta(days=1))
    for x in (busy, retired, banned):
        assert pair_problems(x, p, policy())
    experts = [expert("X0", "D0207"), busy, retired, banned, expert("X4", "D0501"), expert("X5", "D0201")]
    assert set(candidates(experts, [p], policy(match_level=2))[0]) == {0, 5}
    assert set(candidates(experts, [p], policy(match_level=3))[0]) == {5}


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 10_000), st.sampled_from([1, 2, 3]), st.booleans())
def test_indexed_candidates_agree_with_the_pairwise_check(seed: int, level: int, same_rec: bool) -> None:
    experts, props = pool_sample(seed, 60, 40)
    pol = policy(match_level=level, same_recommender_conflict=same_rec)
    got = candidates(experts, props, pol)
    for p, eligible in zip(props, got):
        assert set(eligible) == {j for j, x in enumerate(experts) if not pair_problems(x, p, pol)}


@pytest.mark.parametrize("limit", [1.0, 0.5, 0.25])
def test_sample_assignment_is_feasible_and_loads_within_bounds(limit: float) -> None:
    experts, props = pool_sample()
    pol = policy(k=3, probability_limit=limit, max_load=9, min_load=1)
    result = assign(experts, props, pol, seed=11)
    assert violations(result.reviewers, experts, props, pol) == []
    assert result.conflicts_violated == 0
    assert 1 <= result.load_min <= result.load_max <= 9
    assert result.ratio >= 1.0 - 1e-9 and result.lp_capped >= result.lp_bound - 1e-9
    if limit == 1.0:
        assert result.objective == result.lp_bound == result.lp_capped


def _fit(x: Expert, p: Proposal) -> int:
    """The fit cost restated: 0/40/80 for a common prefix of 5/3/1 characters, +10 through a secondary code."""
    best = 10 ** 9
    for rank, code in enumerate(p.disciplines):
        for n, cost in ((5, 0), (3, 40), (1, 80)):
            if any(c[:n] == code[:n] and len(c) >= n and len(code) >= n for c in x.disciplines):
                best = min(best, cost + (10 if rank else 0))
                break
    return best


def test_reported_objective_is_the_cost_of_the_returned_assignment() -> None:
    experts, props = pool_sample()
    pol = policy(k=3, probability_limit=0.5, load_weight=2)
    result = assign(experts, props, pol, seed=5)
    by_id = {x.id: x for x in experts}
    fit = sum(_fit(by_id[e], p) for p in props for e in result.reviewers[p.id])
    load = Counter(e for chosen in result.reviewers.values() for e in chosen)
    spread = len(result.eligible_experts)  # 450 reviews as evenly as can be over the eligible experts
    even = (spread - 450 % spread) * (450 // spread) ** 2 + 450 % spread * (450 // spread + 1) ** 2
    assert result.objective == fit + 2 * (sum(n * n for n in load.values()) - even)
    assert result.ratio == result.objective / result.lp_bound


def _lp_optimum(experts: list[Expert], props: list[Proposal], pol: Policy, overrides: Overrides) -> float:
    """The LP relaxation written out for SciPy (HiGHS): x[pair] in [0,1], y[expert, t] in [0,1] the t-th unit of
    load at cost load_weight*(2t-1); each application gets k, each expert's load is the sum of its y."""
    cands = candidates(experts, props, pol)
    pairs = [(i, j, c) for i, cs in enumerate(cands) for j, c in cs.items()
             if (props[i].id, experts[j].id) not in overrides.forbids]
    segs = [(j, t) for j, x in enumerate(experts) for t in range(1, pol.capacity(x) + 1)]
    cost = [c for _, _, c in pairs] + [pol.load_weight * (2 * t - 1) for _, t in segs]
    rows: list[list[float]] = []
    rhs: list[float] = []
    for i in range(len(props)):
        rows.append([1.0 if a == i else 0.0 for a, _, _ in pairs] + [0.0] * len(segs))
        rhs.append(pol.k)
    for j in range(len(experts)):
        rows.append([1.0 if b == j else 0.0 for _, b, _ in pairs] + [-1.0 if s == j else 0.0 for s, _ in segs])
        rhs.append(0.0)
    bounds = [(1.0, 1.0) if (props[i].id, experts[j].id) in overrides.pins else (0.0, 1.0) for i, j, _ in pairs]
    reachable = {j for cs in cands for j in cs}
    bounds += [(1.0, 1.0) if j in reachable and t <= pol.min_load else (0.0, 1.0) for j, t in segs]
    out = linprog(cost, A_eq=np.array(rows), b_eq=rhs, bounds=bounds, method="highs")
    assert out.status == 0
    return float(out.fun) - pol.load_weight * even_squares(pol.k * len(props), len(reachable))


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_lp_bound_is_the_lp_relaxation_optimum(seed: int) -> None:
    experts, props = pool_sample(seed, 30, 40)
    pol = policy(k=2, max_load=8, min_load=1 if seed == 3 else 0)
    first = assign(experts, props, pol, seed=seed)
    a, e = next((a, es[0]) for a, es in sorted(first.reviewers.items()))
    pin = next((p.id, experts[j].id) for p, cs in zip(props, candidates(experts, props, pol)) for j in cs
               if p.id != a and experts[j].id not in first.reviewers[p.id])
    overrides = Overrides(pins=frozenset({pin}), forbids=frozenset({(a, e)}))
    result = assign(experts, props, pol, seed=seed, overrides=overrides)
    assert result.lp_bound == pytest.approx(_lp_optimum(experts, props, pol, overrides), abs=1e-6)


def test_pins_and_forbids_hold_on_a_rerun() -> None:
    experts, props = pool_sample()
    pol = policy(k=3, probability_limit=0.5)
    first = assign(experts, props, pol, seed=9)
    a = props[0].id
    dropped = first.reviewers[a][0]
    forced = next(experts[j].id for j in candidates(experts, props, pol)[0] if experts[j].id not in first.reviewers[a])
    overrides = Overrides(pins=frozenset({(a, forced)}), forbids=frozenset({(a, dropped)}))
    again = assign(experts, props, pol, seed=9, overrides=overrides)
    assert forced in again.reviewers[a] and dropped not in again.reviewers[a]
    assert violations(again.reviewers, experts, props, pol, overrides) == []
    assert again.request_hash != first.request_hash and again.pool_hash == first.pool_hash
    conflicted = next(x.id for x in experts if x.unit_id == props[0].lead_unit_id)
    with pytest.raises(AssignmentError, match="pinned pairs break a hard constraint"):
        assign(experts, props, pol, seed=9, overrides=Overrides(pins=frozenset({(a, conflicted)})))
    with pytest.raises(AssignmentError, match="both pin and forbid"):
        assign(experts, props, pol, seed=9, overrides=Overrides(pins=frozenset({(a, forced)}),
                                                                   forbids=frozenset({(a, forced)})))


def test_same_seed_and_snapshot_reproduce_the_draw_and_other_seeds_differ() -> None:
    experts, props = pool_sample()
    pol = policy(k=3, probability_limit=0.25)
    first = assign(experts, props, pol, seed=42)
    again = assign(list(experts), list(props), pol, seed=42)
    assert again == first
    assert first.pool_hash == snapshot_hash(experts) and first.seed == 42
    draws = {tuple(sorted(assign(experts, props, pol, seed=s).reviewers.items())) for s in range(6)}
    assert len(draws) == 6
    changed = [replace(experts[0], max_load=experts[0].max_load + 1), *experts[1:]]
    assert snapshot_hash(changed) != first.pool_hash


def test_marginals_stay_under_the_probability_limit() -> None:
    experts = [expert(f"X{j}", "D0201", max_load=6) for j in range(8)]
    props = [proposal(f"A{i}", "D0201", pi=f"P{i}") for i in range(6)]
    pol = policy(k=2, probability_limit=0.25)
    runs = 400
    counts = Counter(pair for s in range(runs) for a, es in assign(experts, props, pol, seed=s).reviewers.items()
                     for pair in [(a, e) for e in es])
    assert max(counts.values()) / runs <= 0.25 + 0.07
    assert sum(counts.values()) == runs * 12


@settings(max_examples=50, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 5), st.integers(0, 7)), min_size=1, max_size=60), st.integers(0, 2 ** 32))
def test_halving_keeps_half_at_every_application_and_floor_or_ceiling_at_every_expert(
        arcs: list[tuple[int, int]], seed: int) -> None:
    arcs = arcs + arcs  # every application's degree even
    app = np.array([a for a, _ in arcs], dtype=np.int64)
    exp = np.array([e for _, e in arcs], dtype=np.int64)
    kept = halve(app, exp, np.random.default_rng(seed))
    for a, n in Counter(app.tolist()).items():
        assert int(kept[app == a].sum()) * 2 == n
    for e, n in Counter(exp.tolist()).items():
        assert int(kept[exp == e].sum()) in {n // 2, (n + 1) // 2}
    assert draw(app, exp, 0, np.random.default_rng(seed)).all()


def test_infeasible_names_the_applications() -> None:
    experts = [expert("X0"), expert("X1"), expert("X2", "E0101")]
    props = [proposal("A1"), proposal("A2", "E0101"), proposal("A3", "D0202", pi="P3")]
    with pytest.raises(AssignmentError) as caught:
        assign(experts, props, policy(k=2), seed=1)
    assert caught.value.applications == ("A2",) and "A2 (1 eligible)" in str(caught.value)
    assert "A2" in str(caught.value) and "k=2" in str(caught.value)
    tight = [expert("X0", max_load=2), expert("X1", max_load=2)]
    with pytest.raises(AssignmentError, match="3 applications need 2 more reviews .* load caps: A1, A2, A3"):
        others = [expert("X3", "E0101"), expert("X4", "E0101")]
        assign(tight + others, [proposal("A1"), proposal("A2"), proposal("A3"), proposal("B1", "E0101")], policy(),
               seed=1)
    with pytest.raises(AssignmentError, match="probability 0.5, an application needs 2 times as many"):
        assign([expert(f"X{j}") for j in range(3)], [proposal("A1")], policy(k=2, probability_limit=0.5), seed=1)


def test_reassignment_never_picks_a_conflicted_or_already_assigned_expert() -> None:
    experts, props = pool_sample()
    pol = policy(k=3, probability_limit=0.5)
    result = assign(experts, props, pol, seed=4)
    a = props[1].id
    held = set(result.reviewers[a])
    for step in range(4):
        leaving = result.reviewers[a][0]
        again = reassign(result, a, leaving, experts, props, pol, reason="lapsed" if step % 2 else "declined")
        assert again == reassign(result, a, leaving, experts, props, pol, reason="lapsed" if step % 2 else "declined")
        added = again.replacements[-1].added
        assert added not in held and leaving not in again.reviewers[a]
        held.add(added)
        result = again
    assert violations(result.reviewers, experts, props, pol) == []
    assert result.conflicts_violated == 0 and len(result.replacements) == 4
    assert {r.dropped for r in result.replacements}.isdisjoint(result.reviewers[a])
    with pytest.raises(AssignmentError, match="not a reviewer"):
        reassign(result, a, "nobody", experts, props, pol)


def test_sample_is_reproducible() -> None:
    one = sample(CODES, UNITS, experts=30, applications=20, seed=8, period=(T0, T1))
    two = sample(CODES, UNITS, experts=30, applications=20, seed=8, period=(T0, T1))
    assert one == two and snapshot_hash(one.experts) == snapshot_hash(two.experts)
    assert one != sample(CODES, UNITS, experts=30, applications=20, seed=9, period=(T0, T1))
