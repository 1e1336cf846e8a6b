"""One score per application from its valid reviews: mean, trimmed mean, or the mean of per-reviewer z-scores
brought back to the scale of all reviews; reviews far from their application's mean are flagged for a person."""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from models.call import ReviewDef


@dataclass(frozen=True)
class Scored:
    """One valid review as aggregation sees it."""

    application_id: str
    expert_id: str
    total: float


@dataclass(frozen=True)
class Outlier:
    application_id: str
    expert_id: str
    total: float
    mean: float


def _trimmed(values: list[float], trim: int) -> float:
    ordered = sorted(values)
    kept = ordered[trim:len(ordered) - trim] if len(ordered) > 2 * trim else ordered
    return statistics.fmean(kept)


def normalised(reviews: Sequence[Scored]) -> dict[tuple[str, str], float]:
    """Each review's z-score within its reviewer's reviews (0 for a reviewer with one review or no spread), mapped
    back onto the scale of all reviews: a lenient and a severe reviewer then count alike."""
    by_expert: dict[str, list[float]] = defaultdict(list)
    for r in reviews:
        by_expert[r.expert_id].append(r.total)
    everything = [r.total for r in reviews]
    centre = statistics.fmean(everything) if everything else 0.0
    spread = statistics.pstdev(everything) if len(everything) > 1 else 0.0
    out: dict[tuple[str, str], float] = {}
    for r in reviews:
        mine = by_expert[r.expert_id]
        sd = statistics.pstdev(mine) if len(mine) > 1 else 0.0
        z = (r.total - statistics.fmean(mine)) / sd if sd > 0 else 0.0
        out[(r.application_id, r.expert_id)] = centre + spread * z
    return out


def aggregate(reviews: Sequence[Scored], rules: ReviewDef) -> dict[str, float]:
    """Application id -> its score under the call's method (`rules.aggregation`), rounded to 4 places."""
    values: dict[str, list[float]] = defaultdict(list)
    adjusted = normalised(reviews) if rules.aggregation == "zscore" else {}
    for r in reviews:
        values[r.application_id].append(adjusted.get((r.application_id, r.expert_id), r.total))
    if rules.aggregation == "trimmed_mean":
        return {a: round(_trimmed(v, rules.trim), 4) for a, v in values.items()}
    return {a: round(statistics.fmean(v), 4) for a, v in values.items()}


def outliers(reviews: Sequence[Scored], points: float) -> list[Outlier]:
    """Reviews more than `points` away from the plain mean of their application's reviews."""
    values: dict[str, list[float]] = defaultdict(list)
    for r in reviews:
        values[r.application_id].append(r.total)
    means = {a: statistics.fmean(v) for a, v in values.items()}
    return [Outlier(r.application_id, r.expert_id, r.total, round(means[r.application_id], 4))
            for r in reviews if abs(r.total - means[r.application_id]) > points]
