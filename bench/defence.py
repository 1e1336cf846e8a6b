"""Defence scheduling at scale: `python bench/defence.py --applications 250 --experts 200 --panel 5 --json`.

The scheduler (models.experts.defence: linear_sum_assignment for the slots, milp for the panels) beside a greedy
baseline run in the same process on the same seeded sample pool: time, hearings, order kept, loads, conflicts.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from collections import Counter
from collections.abc import Sequence
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # `python bench/defence.py` runs from the project

from models.experts import Expert, Policy, Proposal, candidates, pair_problems, sample  # noqa: E402
from models.experts.defence import Hearing, Slot, schedule  # noqa: E402

START = datetime(2025, 6, 2, 9, tzinfo=timezone(timedelta(hours=8)))


def slots_for(n: int, per_day: int, minutes: int) -> list[Slot]:
    """Enough days of `per_day` slots for `n` hearings, and one more day in reserve (as the activity gives)."""
    days = n // per_day + 2
    return [Slot(START + timedelta(days=d, minutes=minutes * i), START + timedelta(days=d, minutes=minutes * (i + 1)))
            for d in range(days) for i in range(per_day)]


def greedy(experts: Sequence[Expert], proposals: Sequence[Proposal], slots: Sequence[Slot], policy: Policy,
           panel: int) -> list[Hearing]:
    """The baseline: applications in order, each in the next slot where `panel` eligible experts are free, taking
    the least-loaded of them (what a hand-written scheduler does)."""
    load: Counter[int] = Counter()
    eligible = candidates(experts, proposals, dataclasses.replace(policy, review_start=slots[0].starts,
                                                                 review_end=slots[-1].ends))
    out: list[Hearing] = []
    j = 0
    for p, costs in zip(proposals, eligible):
        while j < len(slots):
            free = sorted((load[e], c, e) for e, c in costs.items() if experts[e].available(slots[j].starts, slots[j].ends)
                          and load[e] < policy.capacity(experts[e]))
            j += 1
            if len(free) >= panel:
                chosen = [e for _, _, e in free[:panel]]
                load.update(chosen)
                out.append(Hearing(p.id, j - 1, tuple(sorted(experts[e].id for e in chosen))))
                break
    return out


def figures(hearings: Sequence[Hearing], clock: tuple[float, float], experts: Sequence[Expert],
            proposals: Sequence[Proposal], slots: Sequence[Slot], policy: Policy, panel: int) -> dict[str, Any]:
    """The same figures for any schedule, recomputed from its hearings."""
    place = {p.id: i for i, p in enumerate(proposals)}
    by_id, by_app = {e.id: e for e in experts}, {p.id: p for p in proposals}
    ordered = sorted(hearings, key=lambda h: h.slot)
    inversions = sum(place[a.application_id] > place[b.application_id] for a, b in zip(ordered, ordered[1:]))
    loads = Counter(x for h in hearings for x in h.panel)
    conflicts = sum(bool(pair_problems(by_id[x], by_app[h.application_id], dataclasses.replace(
        policy, review_start=slots[h.slot].starts, review_end=slots[h.slot].ends))) for h in hearings for x in h.panel)
    return {"wall_s": round(clock[0], 2), "cpu_s": round(clock[1], 2), "hearings": len(hearings),
            "unscheduled": len(proposals) - len(hearings), "empty_seats": sum(panel - len(h.panel) for h in hearings),
            "order_inversions": inversions,
            "last_slot": max((h.slot for h in hearings), default=-1), "load_min": min(loads.values(), default=0),
            "load_max": max(loads.values(), default=0), "squared_loads": sum(v * v for v in loads.values()),
            "conflicts": conflicts}


def timed(fn: Any) -> tuple[Any, tuple[float, float]]:
    wall, cpu = time.perf_counter(), time.process_time()
    result = fn()
    return result, (time.perf_counter() - wall, time.process_time() - cpu)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--applications", type=int, default=250)
    parser.add_argument("--experts", type=int, default=200)
    parser.add_argument("--panel", type=int, default=5)
    parser.add_argument("--per-day", type=int, default=16)
    parser.add_argument("--minutes", type=int, default=30)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    slots = slots_for(args.applications, args.per_day, args.minutes)
    codes = [f"K{g:02d}{s:02d}" for g in range(1, 4) for s in range(1, 4)]
    pool = sample(codes, [f"U{i:03d}" for i in range(60)], experts=args.experts, applications=args.applications,
                  seed=args.seed, period=(START, slots[-1].ends))
    policy = Policy(reference=START, review_start=START, review_end=START, stage="expert")
    result, clock = timed(lambda: schedule(pool.experts, pool.proposals, slots, policy, args.panel, args.seed))
    baseline, base_clock = timed(lambda: greedy(pool.experts, pool.proposals, slots, policy, args.panel))
    report = {"applications": args.applications, "experts": args.experts, "panel": args.panel, "slots": len(slots),
              "scheduler": figures(result.hearings, clock, pool.experts, pool.proposals, slots, policy,
                                       args.panel),
              "greedy": figures(baseline, base_clock, pool.experts, pool.proposals, slots, policy, args.panel)}
    print(json.dumps(report, indent=2) if args.json else report)


if __name__ == "__main__":
    main()
