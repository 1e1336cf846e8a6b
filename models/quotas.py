"""Which quotas a recommendation falls under, the places each counts, its limit, and the one-line refusal."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from models.call import CallDefinition, QuotaDef

REFUSAL = re.compile(r"^quota (\S+) ")


@dataclass(frozen=True)
class Claim:
    """One recommendation asking for a place: the step, who recommends, and the application's category and flags."""

    step: str
    actor_id: str
    category: str
    flags: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Pool:
    """The places a quota counts for a claim: of these actors (None: every actor) in this category (None: all)."""

    actors: tuple[str, ...] | None
    category: str | None


def applicable(quotas: list[QuotaDef], claim: Claim) -> list[QuotaDef]:
    """The quotas a claim must fit. A dedicated quota (named actors) takes its actors out of the step's general
    per-actor quotas; call-wide caps apply to everyone."""
    dedicated = {a for q in quotas if q.step == claim.step for a in q.actors}
    out: list[QuotaDef] = []
    for q in quotas:
        if q.step != claim.step or (q.category is not None and q.category != claim.category):
            continue
        if q.actors and claim.actor_id not in q.actors:
            continue
        if not q.actors and q.scope == "actor" and claim.actor_id in dedicated:
            continue
        out.append(q)
    return out


def pool(q: QuotaDef, claim: Claim) -> Pool:
    actors = (claim.actor_id,) if q.scope == "actor" else (tuple(q.actors) if q.actors else None)
    return Pool(actors, claim.category if q.planned or q.category is not None else None)


def limit_of(q: QuotaDef, planned: dict[str, int], claim: Claim, received: int, system: int | None) -> int | None:
    """The quota's limit for this claim now; None for a limit the system shows but no manager has set yet."""
    if q.max is not None:
        return q.max
    if q.ratio is not None:
        return int(q.ratio * received + 1e-9)
    if q.planned:
        return planned.get(claim.category, 0)
    return system


def unflagged_limit(q: QuotaDef, limit: int) -> int | None:
    """With a minimum share for flagged applications, the places left to the others; None without one."""
    if q.min_share is None:
        return None
    return int(limit * (1 - q.min_share.share) + 1e-9)


def refusal(q: QuotaDef, limit: int | None, used: int, actor_id: str, application_id: str,
            unflagged: bool = False) -> str:
    """One line naming the quota, its limit and its use."""
    who = f"{actor_id} cannot recommend {application_id}"
    if limit is None:
        return f"quota {q.key} ({q.describe()}) has no limit set in the system yet; {who}"
    if unflagged and q.min_share is not None:
        return (f"quota {q.key} ({q.describe()}): places without {q.min_share.flag} limit {limit}, used {used}; "
                f"{who}")
    return f"quota {q.key} ({q.describe()}): limit {limit}, used {used}; {who}"


def planned_counts(call: CallDefinition) -> dict[str, int]:
    """Each category's planned count (计划支持项目数), for quotas that use them."""
    return {c.id: c.planned for c in call.categories if c.planned is not None}


def refused_quota(message: str) -> str | None:
    """The quota a refusal line names (the inverse of `refusal`), or None for another refusal."""
    m = REFUSAL.match(message)
    return m.group(1) if m else None


@dataclass(frozen=True)
class Held:
    """A place held from `taken` until `freed` (None: still held), by `actor_id` for an application of `category`."""

    step: str
    actor_id: str
    category: str
    taken: datetime
    freed: datetime | None


def overruns(call: CallDefinition, held: list[Held]) -> list[str]:
    """Quotas with a fixed limit (a count, planned counts) that held more places at some instant than allowed:
    each place counts from its recommendation until a return or withdrawal freed it."""
    out: list[str] = []
    planned = planned_counts(call)
    for q in call.quotas:
        if q.max is None and not q.planned:
            continue
        moves: list[tuple[datetime, int, tuple[str | None, str | None]]] = []
        for h in held:
            claim = Claim(h.step, h.actor_id, h.category)
            if q not in applicable(list(call.quotas), claim):
                continue
            where = pool(q, claim)
            key = (h.actor_id if q.scope == "actor" else None, where.category)
            moves.append((h.taken, 1, key))
            if h.freed is not None:
                moves.append((h.freed, -1, key))
        count: dict[tuple[str | None, str | None], int] = {}
        for at, delta, key in sorted(moves, key=lambda m: (m[0], m[1])):
            count[key] = count.get(key, 0) + delta
            limit = q.max if q.max is not None else planned.get(key[1] or "", 0)
            if count[key] > limit:
                out.append(f"quota {q.key}: {count[key]} places held at {at.isoformat()} (limit {limit})")
                break
    return out
