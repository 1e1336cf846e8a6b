"""A seeded sample reviewer pool and applications for any call, given its discipline codes and units: the data of
simulations and benchmarks (the same seed gives the same sample)."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from models.experts.pool import Collaboration, Expert, Proposal, Window


@dataclass(frozen=True)
class Sample:
    experts: tuple[Expert, ...]
    proposals: tuple[Proposal, ...]


def _codes(rng: random.Random, leaves: Sequence[str], siblings: dict[str, list[str]], most: int) -> tuple[str, ...]:
    """A primary code and up to most-1 more, mostly from the primary's level-2 group."""
    first = rng.choice(leaves)
    codes = [first]
    for _ in range(rng.randint(0, most - 1)):
        code = rng.choice(siblings[first[:3]]) if rng.random() < 0.7 else rng.choice(leaves)
        if code not in codes:
            codes.append(code)
    return tuple(codes)


def _people(rng: random.Random, population: int, count: int) -> list[str]:
    return [f"P{rng.randrange(population):06d}" for _ in range(count)]


def sample(disciplines: Sequence[str], units: Sequence[str], *, experts: int, applications: int, seed: int,
           period: tuple[datetime, datetime], stage: str = "expert", max_load: int = 30,
           recommenders: int = 12) -> Sample:
    """`experts` reviewers and `applications` applications over the given codes and units. Most experts serve
    `stage` and are free for the whole `period`; a few are not, a few are banned, a few declare conflicts; experts
    and applicants share one population of people, so co-authorship conflicts occur as they would."""
    if not disciplines or not units:
        raise ValueError("a sample needs discipline codes and units")
    rng = random.Random(seed)
    leaves = sorted(set(disciplines))
    siblings: dict[str, list[str]] = {}
    for code in leaves:
        siblings.setdefault(code[:3], []).append(code)
    recommender_of = {u: f"R{i % recommenders:02d}" for i, u in enumerate(units)}
    weights = [1.0 / (i + 1) for i in range(len(units))]  # a few large universities, many small units
    population = max(100, 3 * applications)
    start, end = period
    year = start.year
    pool: list[Expert] = []
    for i in range(experts):
        unit = rng.choices(units, weights)[0]
        free = rng.random() < 0.95
        window = Window(start - timedelta(days=rng.randint(1, 90)),
                        end + timedelta(days=rng.randint(1, 90)) if free else start + (end - start) / 2)
        declared = frozenset(_people(rng, population, 1) + [rng.choice(units)]) if rng.random() < 0.02 else frozenset()
        pool.append(Expert(
            id=f"X{i:05d}", disciplines=_codes(rng, leaves, siblings, 3), unit_id=unit,
            title=rng.choice(("associate_senior", "full_senior")), recommender_id=recommender_of[unit],
            collaborations=tuple(Collaboration(p, rng.randint(year - 8, year), rng.choice(("coauthor", "collaborator")))
                                 for p in _people(rng, population, rng.randint(0, 6))),
            declared_conflicts=declared, availability=(window,), max_load=max_load,
            stages=frozenset({stage}) if rng.random() < 0.95 else frozenset({"committee"}),
            restricted_until=end + timedelta(days=365) if rng.random() < 0.01 else None))
    proposals: list[Proposal] = []
    for i in range(applications):
        lead = rng.choices(units, weights)[0]
        partners = frozenset(rng.sample(list(units), min(len(units), rng.randint(0, 2)))) - {lead}
        pi, *team = _people(rng, population, rng.randint(1, 6))
        excluded = frozenset(rng.choice(pool).id for _ in range(rng.randint(1, 2))) if pool and rng.random() < 0.1 \
            else frozenset()
        proposals.append(Proposal(
            id=f"A{i:05d}", disciplines=_codes(rng, leaves, siblings, 2), lead_unit_id=lead, pi_id=pi,
            partner_unit_ids=partners, recommender_id=recommender_of[lead], team_ids=frozenset(team),
            excluded_expert_ids=excluded))
    return Sample(tuple(pool), tuple(proposals))
