"""Expert assignment at scale: `python bench/assignment.py --applications 10000 --experts 2000 --k 5 --json`.

The randomized draw (models.experts.assign) and the deterministic optimum beside a greedy baseline run in the same
process on the same seeded sample pool: time, objective, ratio to the LP bound, loads, conflicts, violations.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import sys
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # `python bench/assignment.py` runs from the project

from models.experts import (  # noqa: E402
    Expert,
    Policy,
    Proposal,
    assign,
    candidates,
    conflicts,
    cost_of,
    even_squares,
    fit_cost,
    sample,
    violations,
)

START = datetime(2025, 6, 2, 9, tzinfo=timezone(timedelta(hours=8)))


def greedy(experts: Sequence[Expert], proposals: Sequence[Proposal], policy: Policy) -> dict[str, tuple[str, ...]]:
    """The baseline: applications in order, each taking its k cheapest eligible experts with room left, a pair
    priced as fit plus the growth of the expert's squared load (what a hand-written assigner does)."""
    load: Counter[int] = Counter()
    out: dict[str, tuple[str, ...]] = {}
    for p, eligible in zip(proposals, candidates(experts, proposals, policy)):
        ranked = sorted((c + policy.load_weight * (2 * load[j] + 1), j) for j, c in eligible.items()
                        if load[j] < policy.capacity(experts[j]))
        chosen = [j for _, j in ranked[: policy.k]]
        load.update(chosen)
        out[p.id] = tuple(sorted(experts[j].id for j in chosen))
    return out


def figures(reviewers: dict[str, tuple[str, ...]], clock: tuple[float, float], lp_bound: int,
            eligible: Sequence[str], experts: Sequence[Expert], proposals: Sequence[Proposal],
            policy: Policy) -> dict[str, Any]:
    """The same figures for any assignment, recomputed pair by pair from its reviewers; `clock` is the (wall, CPU)
    time at the start of the run measured."""
    wall, cpu = time.perf_counter() - clock[0], time.process_time() - clock[1]
    objective = cost_of(reviewers, experts, proposals, policy, len(eligible))
    load = Counter(e for chosen in reviewers.values() for e in chosen)
    loads = [load.get(e, 0) for e in eligible]
    squares = policy.load_weight * (sum(n * n for n in loads) - even_squares(sum(loads), len(loads)))
    by_id = {x.id: x for x in experts}
    levels = Counter(fit_cost(by_id[e], p)[1] for p in proposals for e in reviewers.get(p.id, ()))
    return {"seconds": round(wall, 2), "cpu_seconds": round(cpu, 2), "objective": objective,
            "fit_part": objective - squares, "imbalance_part": squares,
            "reviews_by_match_level": {str(lv): n for lv, n in sorted(levels.items(), reverse=True)},
            "ratio_to_lp_bound": round(objective / lp_bound, 4), "load_min": min(loads), "load_max": max(loads),
            "short_applications": sum(1 for p in proposals if len(reviewers.get(p.id, ())) < policy.k),
            "conflicts": conflicts(reviewers, experts, proposals, policy),
            "violations": len(violations(reviewers, experts, proposals, policy))}


def run(applications: int, experts: int, k: int, seed: int, limit: float, max_load: int) -> dict[str, Any]:
    disciplines = [f"{a}{b:02d}{c:02d}" for a in "ABCDEFGH" for b in range(1, 6) for c in range(1, 6)]
    units = [f"U{i:04d}" for i in range(400)]
    t = time.perf_counter()
    data = sample(disciplines, units, experts=experts, applications=applications, seed=seed,
                  period=(START, START + timedelta(days=21)), max_load=max_load)
    made = time.perf_counter() - t
    policy = Policy(reference=START, review_start=START, review_end=START + timedelta(days=21), stage="expert", k=k,
                    match_level=2, conflict_years=3, probability_limit=limit)
    out: dict[str, Any] = {"applications": applications, "experts": experts, "k": k, "seed": seed,
                           "max_load": max_load, "probability_limit": limit, "sample_seconds": round(made, 2)}
    t = time.perf_counter()
    eligible = candidates(data.experts, data.proposals, policy)
    out["eligible_pairs"] = sum(len(c) for c in eligible)
    out["eligibility_seconds"] = round(time.perf_counter() - t, 2)
    rows: dict[str, Any] = {}
    for name, pol in (("draw", policy), ("optimum", replace(policy, probability_limit=1.0))):
        clock = time.perf_counter(), time.process_time()
        result = assign(data.experts, data.proposals, pol, seed=seed)
        rows[name] = figures(dict(result.reviewers), clock, result.lp_bound, result.eligible_experts,
                             data.experts, data.proposals, pol)
        rows[name]["reported_conflicts_violated"] = result.conflicts_violated
        rows[name]["lp_capped"] = round(result.lp_capped, 1)
        out["lp_bound"], out["pool_hash"] = result.lp_bound, result.pool_hash
    clock = time.perf_counter(), time.process_time()
    baseline = greedy(data.experts, data.proposals, policy)
    rows["greedy"] = figures(baseline, clock, out["lp_bound"], result.eligible_experts, data.experts, data.proposals,
                             policy)
    out["runs"] = rows
    out["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    out["machine"] = {"cores": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()}
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--applications", type=int, default=10000)
    p.add_argument("--experts", type=int, default=2000)
    p.add_argument("--k", type=int, default=5)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--probability-limit", type=float, default=0.5, help="cap per pair: 1, 1/2, 1/4, 1/8 or 1/16")
    p.add_argument("--max-load", type=int, help="per expert (default: 1.6 x the mean load)")
    p.add_argument("--json", action="store_true", help="print the figures as JSON")
    a = p.parse_args(argv)
    max_load = a.max_load or max(1, round(1.6 * a.applications * a.k / a.experts))
    out = run(a.applications, a.experts, a.k, a.seed, a.probability_limit, max_load)
    if a.json:
        print(json.dumps(out, indent=2))
        return 0
    print(f"{a.applications} applications x {a.experts} experts, k={a.k}, {out['eligible_pairs']} eligible pairs, "
          f"LP bound {out['lp_bound']}")
    for name, row in out["runs"].items():
        print(f"{name:8} {row['seconds']:6.2f} s ({row['cpu_seconds']:.2f} CPU)  objective {row['objective']} "
              f"(fit {row['fit_part']}, by level {row['reviews_by_match_level']})  ratio {row['ratio_to_lp_bound']}  "
              f"load {row['load_min']}..{row['load_max']}  short {row['short_applications']}  "
              f"conflicts {row['conflicts']}  violations {row['violations']}"
              + (f"  capped LP {row['lp_capped']}" if "lp_capped" in row else ""))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
