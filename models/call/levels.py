"""Multi-level recommendation: a recommending unit's level (county, city, province) and the unit above it (`via`);
the levels an application passes follow from its recommender, and each level's unit acts for its own step."""

from __future__ import annotations

from typing import TYPE_CHECKING

from models.call.closes import LEVELS, Party

if TYPE_CHECKING:
    from models.call.schema import CallDefinition, StepDef

PERSON_PREFIX = "recommender@"  # people[recommender@county]: the unit that recommends at that level


def path(call: CallDefinition, recommender: str) -> list[Party]:
    """The recommending units an application passes, from its own up (via), each once."""
    parties = {r.id: r for r in call.recommenders}
    out: list[Party] = []
    at = parties.get(recommender)
    while at is not None and at not in out:
        out.append(at)
        at = parties.get(at.via or "")
    return out


def level_people(call: CallDefinition, recommender: str) -> dict[str, str]:
    """Who recommends at each level for an application whose recommending unit is `recommender`."""
    return {f"{PERSON_PREFIX}{p.level}": p.id for p in path(call, recommender) if p.level}


def level_flags(call: CallDefinition, recommender: str) -> dict[str, bool]:
    """The conditions `level_<level>` of the steps by level that an application of `recommender` passes."""
    return {f"level_{p.level}": True for p in path(call, recommender) if p.level}


def own_level(call: CallDefinition, organisers: list[str]) -> list[str]:
    """Of the recommending units whose grants cover an applicant's unit, those at the lowest level the call names (a
    county's, where the city's grant covers the same unit); all of them where the call names no levels."""
    levels = {r.id: LEVELS.index(r.level) for r in call.recommenders if r.level}
    ranked = [o for o in organisers if o in levels]
    if not ranked:
        return organisers
    lowest = min(levels[o] for o in ranked)
    return [o for o in ranked if levels[o] == lowest]


def step_condition(step: StepDef) -> str | None:
    """The fact a step's application depends on: its flag (`when`), or passing a unit of its level."""
    return step.when or (f"level_{step.level}" if step.level else None)


def level_problems(call: CallDefinition) -> list[str]:
    problems: list[str] = []
    parties = {r.id: r for r in call.recommenders}
    for r in call.recommenders:
        if r.via is None:
            continue
        above = parties.get(r.via)
        if above is None:
            problems.append(f"recommenders.{r.id}.via: unknown recommender {r.via!r} (declare it under recommenders)")
        elif r.level is None or above.level is None or LEVELS.index(above.level) <= LEVELS.index(r.level):
            problems.append(f"recommenders.{r.id}.via: {above.id} (level {above.level or 'none'}) is not above "
                            f"{r.id} (level {r.level or 'none'}): a unit recommends up, county -> city -> province")
    levels = {r.level for r in call.recommenders if r.level}
    seen: set[str] = set()
    for s in call.chain:
        if s.level is None:
            continue
        if s.role != "recommender":
            problems.append(f"chain.{s.id}.level: only a recommender step has a level (this one's role is {s.role})")
        if s.when:
            problems.append(f"chain.{s.id}: give when or level, not both")
        if s.level not in levels:
            problems.append(f"chain.{s.id}.level: no recommending unit is at level {s.level} (give recommenders "
                            f"their level)")
        if s.level in seen:
            problems.append(f"chain.{s.id}.level: a second step at level {s.level}")
        seen.add(s.level)
    if seen:
        problems += [f"recommenders.{r.id}.level: the chain has steps by level, so each recommending unit names its "
                     f"level ({', '.join(LEVELS)})" for r in call.recommenders if r.level is None]
    return problems
