"""A submitted score sheet checked against the call's criteria, and its weighted total on a 0-100 scale."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from models.call import Criterion


def sheet_problems(sheet: Sequence[Criterion], scores: Mapping[str, int], comments: Mapping[str, str]) -> list[str]:
    """Every way a review breaks the sheet: a criterion missing or unknown, a score off its scale, a comment owed."""
    known = {c.id for c in sheet}
    out = [f"unknown criterion {k!r} (criteria: {', '.join(sorted(known))})" for k in sorted(scores) if k not in known]
    for c in sheet:
        if c.id not in scores:
            out.append(f"criterion {c.id} ({c.name}) has no score")
        elif not 0 <= scores[c.id] <= c.scale_max:
            out.append(f"criterion {c.id} score {scores[c.id]} is off its scale 0-{c.scale_max}")
        if c.comment_required and not comments.get(c.id, "").strip():
            out.append(f"criterion {c.id} ({c.name}) needs a comment")
    return out


def total(sheet: Sequence[Criterion], scores: Mapping[str, int]) -> float:
    """The weighted score on 0-100: each criterion as a share of its scale, weighted by its weight."""
    weights = sum(c.weight for c in sheet)
    return round(100 * sum(c.weight * scores.get(c.id, 0) / c.scale_max for c in sheet) / weights, 4)
