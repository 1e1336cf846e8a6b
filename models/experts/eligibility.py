"""Who may review what: the call's assignment policy, the conflicts of one expert-application pair, and the expertise
fit as a cost; `candidates` computes all eligible pairs at once through indexes, `pair_problems` checks one pair."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from models.experts.pool import LEVEL_PREFIX, Expert, Proposal, shared_level

LEVEL_COST: dict[int, int] = {3: 0, 2: 40, 1: 80}  # cost of a match at level 3 (same leaf code), 2 or 1
SECONDARY_COST = 10  # added when the match is through an application's secondary code, not its primary one


@dataclass(frozen=True)
class Policy:
    """What the call says about drawing experts for one review stage. `probability_limit` caps the probability that
    any one expert reviews any one application (1, 1/2, 1/4, 1/8 or 1/16); 1 draws only among equal-cost choices."""

    reference: datetime  # co-authorship years are counted back from this instant's year
    review_start: datetime
    review_end: datetime
    stage: str
    k: int = 3
    match_level: int = 2
    conflict_years: int = 3
    same_recommender_conflict: bool = False
    max_load: int | None = None  # a call-wide cap; each expert's own max_load applies too
    min_load: int = 0
    load_weight: int = 1  # weight of the sum of squared loads beside the fit costs
    probability_limit: float = 0.5

    def __post_init__(self) -> None:
        for name in ("reference", "review_start", "review_end"):
            if getattr(self, name).tzinfo is None:
                raise ValueError(f"policy.{name} must be timezone-aware")
        if self.k < 1 or self.match_level not in LEVEL_PREFIX or self.min_load < 0 or self.load_weight < 0:
            raise ValueError(f"policy out of range: k={self.k} match_level={self.match_level} "
                             f"min_load={self.min_load} load_weight={self.load_weight}")
        if self.halvings < 0 or self.halvings > 4 or 2.0 ** -self.halvings != self.probability_limit:
            raise ValueError(f"probability_limit {self.probability_limit} is not one of 1, 1/2, 1/4, 1/8, 1/16")

    @property
    def halvings(self) -> int:
        """How many times the fractional assignment is halved on the way to an integral one (log2 of 1/limit)."""
        return round(-math.log2(self.probability_limit)) if self.probability_limit > 0 else -1

    def capacity(self, expert: Expert) -> int:
        return expert.max_load if self.max_load is None else min(expert.max_load, self.max_load)


def conflict_reasons(expert: Expert, proposal: Proposal, policy: Policy) -> list[str]:
    """Every conflict of interest between an expert and an application, checked pair by pair (the audit's path)."""
    reasons: list[str] = []
    if expert.unit_id in proposal.unit_ids:
        reasons.append(f"same unit {expert.unit_id}")
    since = policy.reference.year - policy.conflict_years
    reasons += [f"{c.kind} of {c.person_id} in {c.year}" for c in expert.collaborations
                if c.year >= since and c.person_id in proposal.people]
    declared = expert.declared_conflicts & (proposal.people | proposal.unit_ids | {proposal.id})
    if declared:
        reasons.append(f"declared conflict with {', '.join(sorted(declared))}")
    if expert.id in proposal.excluded_expert_ids:
        reasons.append("excluded by the applicant")
    if policy.same_recommender_conflict and expert.recommender_id is not None \
            and expert.recommender_id == proposal.recommender_id:
        reasons.append(f"same recommender {expert.recommender_id}")
    return reasons


def serves(expert: Expert, policy: Policy) -> list[str]:
    """Why an expert cannot be drawn at all in this stage (empty: they can)."""
    reasons: list[str] = []
    if policy.stage not in expert.stages:
        reasons.append(f"does not serve stage {policy.stage}")
    if not expert.available(policy.review_start, policy.review_end):
        reasons.append("not available for the whole review period")
    if expert.restricted_until is not None and expert.restricted_until > policy.review_start:
        reasons.append(f"restricted until {expert.restricted_until.isoformat()}")
    if policy.capacity(expert) <= 0:
        reasons.append("no review capacity")
    return reasons


def fit_cost(expert: Expert, proposal: Proposal) -> tuple[int, int]:
    """(cost, level) of the best discipline match: the primary code at its level's cost, a secondary code with
    SECONDARY_COST more; level 0 means no match at any level."""
    options = [(LEVEL_COST[lv] + (SECONDARY_COST if i else 0), lv)
               for i, code in enumerate(proposal.disciplines)
               for lv in [max((shared_level(e, code) for e in expert.disciplines), default=0)] if lv]
    return min(options, default=(0, 0))


def pair_problems(expert: Expert, proposal: Proposal, policy: Policy) -> list[str]:
    """Every hard constraint a single pair breaks: conflicts, discipline level, stage, availability, ban."""
    level = fit_cost(expert, proposal)[1]
    low = [f"discipline match at level {level} < {policy.match_level}"] if level < policy.match_level else []
    return conflict_reasons(expert, proposal, policy) + low + serves(expert, policy)


def _index(pairs: Iterable[tuple[str, int]]) -> dict[str, set[int]]:
    index: dict[str, set[int]] = defaultdict(set)
    for key, i in pairs:
        index[key].add(i)
    return index


def candidates(experts: Sequence[Expert], proposals: Sequence[Proposal], policy: Policy) -> list[dict[int, int]]:
    """For each application, its eligible experts (by position in `experts`) with their fit cost; built through
    indexes by code prefix, unit, person, declared id and recommender, so 10,000 x 2,000 takes seconds."""
    able = [i for i, e in enumerate(experts) if not serves(e, policy)]
    by_prefix = {lv: _index((code[:n], i) for i in able for code in experts[i].disciplines if len(code) >= n)
                 for lv, n in LEVEL_PREFIX.items() if lv >= policy.match_level}
    by_unit = _index((experts[i].unit_id, i) for i in able)
    since = policy.reference.year - policy.conflict_years
    by_person = _index((p, i) for i in able for p in experts[i].collaborators_since(since))
    by_declared = _index((d, i) for i in able for d in experts[i].declared_conflicts)
    by_recommender = _index((experts[i].recommender_id or "", i) for i in able if experts[i].recommender_id)
    by_id = {experts[i].id: i for i in able}
    out: list[dict[int, int]] = []
    for p in proposals:
        cost: dict[int, int] = {}
        for rank, code in enumerate(p.disciplines):
            extra = SECONDARY_COST if rank else 0
            for lv in sorted(by_prefix):
                if len(code) < LEVEL_PREFIX[lv]:
                    continue
                for i in by_prefix[lv].get(code[:LEVEL_PREFIX[lv]], ()):
                    c = LEVEL_COST[lv] + extra
                    if c < cost.get(i, c + 1):
                        cost[i] = c
        banned: set[int] = set()
        for u in p.unit_ids:
            banned |= by_unit.get(u, set())
        for key in p.people:
            banned |= by_person.get(key, set())
        for key in p.people | p.unit_ids | {p.id}:
            banned |= by_declared.get(key, set())
        if policy.same_recommender_conflict and p.recommender_id:
            banned |= by_recommender.get(p.recommender_id, set())
        banned |= {by_id[x] for x in p.excluded_expert_ids if x in by_id}
        out.append({i: c for i, c in cost.items() if i not in banned})
    return out
