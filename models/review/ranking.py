"""Ranking per category: who goes on to the next stage, and the final list funded within the planned count, the
budget and the per-unit quota, with reserves (候补) for promotion.

Tie rule: a higher score first; then a higher mean on the sheet's first criterion; then a smaller requested
amount; then the application id (a fixed, stated order, never chance).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

TIE_RULE = "score desc, first criterion desc, requested amount asc, application id asc"


@dataclass(frozen=True)
class Candidate:
    """An application as ranking sees it; `score` None when it has too few valid reviews to be ranked."""

    application_id: str
    category: str
    score: float | None
    first_criterion: float = 0.0
    requested_cny: int = 0
    unit: str = ""


@dataclass(frozen=True)
class Limits:
    """A category's limits: planned count, budget (CNY, None: no limit) and funded projects per unit."""

    planned: int
    budget_cny: int | None = None
    per_unit: int | None = None


@dataclass
class Ranked:
    """One category's decision: funded, reserves in order, and the rest, each list in rank order."""

    category: str
    funded: list[str] = field(default_factory=list)
    reserves: list[str] = field(default_factory=list)
    rest: list[str] = field(default_factory=list)
    unranked: list[str] = field(default_factory=list)
    order: list[str] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)  # application -> why a better-ranked one was passed over


def order(candidates: Sequence[Candidate]) -> list[Candidate]:
    """The ranked candidates (those with a score) under the tie rule."""
    return sorted((c for c in candidates if c.score is not None),
                  key=lambda c: (-(c.score or 0.0), -c.first_criterion, c.requested_cny, c.application_id))


def advancing(candidates: Sequence[Candidate], ratio: float, cutoff: float) -> list[str]:
    """Who goes on from a non-final stage: the top ceil(ratio * ranked) of the category scoring at least `cutoff`."""
    ranked = order(candidates)
    return [c.application_id for c in ranked[:math.ceil(ratio * len(ranked))] if (c.score or 0.0) >= cutoff]


def rank(category: str, candidates: Sequence[Candidate], limits: Limits, reserve: int) -> Ranked:
    """Fund down the ranked list while the planned count, the budget and the unit quota allow; a candidate the budget
    or quota stops is passed over (with the reason) and the next one considered; then `reserve` reserves."""
    out = Ranked(category, unranked=sorted(c.application_id for c in candidates if c.score is None))
    spent = 0
    per_unit: Counter[str] = Counter()
    for c in order(candidates):
        out.order.append(c.application_id)
        if len(out.funded) < limits.planned:
            if limits.budget_cny is not None and spent + c.requested_cny > limits.budget_cny:
                out.skipped[c.application_id] = f"budget: {spent} + {c.requested_cny} > {limits.budget_cny}"
            elif limits.per_unit is not None and per_unit[c.unit] >= limits.per_unit:
                out.skipped[c.application_id] = f"unit {c.unit} has its {limits.per_unit} funded"
            else:
                out.funded.append(c.application_id)
                spent += c.requested_cny
                per_unit[c.unit] += 1
                continue
        if len(out.reserves) < reserve and c.application_id not in out.skipped:
            out.reserves.append(c.application_id)
        else:
            out.rest.append(c.application_id)
    return out


def promote(ranked: Ranked, vacated: str) -> str | None:
    """Take `vacated` off the funded list and fund the first reserve, if any (the quota is not exceeded)."""
    if vacated not in ranked.funded:
        return None
    ranked.funded.remove(vacated)
    ranked.rest.append(vacated)
    if not ranked.reserves:
        return None
    nxt = ranked.reserves.pop(0)
    ranked.funded.append(nxt)
    return nxt
