"""Closes that depend on who applies (category, cohort, recommending unit) or on another close, as a call file
states them, and the checks that refuse the contradictory ones."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import AwareDatetime, Field, model_validator

from models.strict import Slug, Strict

if TYPE_CHECKING:
    from models.call.schema import CallDefinition

STEP_PREFIX = "step:"
Level = Literal["county", "city", "province"]
LEVELS: tuple[str, ...] = Level.__args__  # type: ignore[attr-defined]
PartyId = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")]  # as actors are named: org-1, lizhou


class AfterClose(Strict):
    """A close relative to the same application's close of an earlier phase (`after`): N calendar days later, or the
    end of the N-th working day after that close's day ("申报截止后五天内", "公示结束后5个工作日")."""

    after: Slug
    days: int | None = Field(default=None, ge=0)
    working_days: int | None = Field(default=None, ge=1)

    @model_validator(mode="after")
    def _one(self) -> AfterClose:
        if (self.days is None) == (self.working_days is None):
            raise ValueError("give exactly one of days or working_days (after: PHASE, days: N)")
        return self

    def describe(self) -> str:
        n, unit = (self.days, "days") if self.days is not None else (self.working_days, "working days")
        return f"{n} {unit} after the close of {self.after}"


CloseValue = AwareDatetime | AfterClose


class Party(Strict):
    """A cohort of applicants (港澳台申请人) or a recommending unit the file names, so that closes can select it; a
    recommending unit may name its level and the unit above it that its recommendations go through (`via`; none:
    straight to the issuer). One cohort may gather the others, so that a named cohort's later close leaves everyone
    else on an earlier one (the phase closes at the latest)."""

    id: PartyId
    name: str
    level: Level | None = None
    via: PartyId | None = None
    others: bool = False  # a cohort: the applications that name none belong to it (内地申请人 beside 港澳台申请人)


class Who(Strict):
    """Which applications a close binds: each list given must contain the application's value (empty: any)."""

    category: list[Slug] = Field(default_factory=list)
    cohort: list[PartyId] = Field(default_factory=list)
    recommender: list[PartyId] = Field(default_factory=list)

    @model_validator(mode="after")
    def _some(self) -> Who:
        if not (self.category or self.cohort or self.recommender):
            raise ValueError("name at least one of category, cohort or recommender (a close for everyone is the "
                             "phase's own)")
        return self

    def selects(self, category: str, cohort: str, recommender: str) -> bool:
        return all(not wanted or value in wanted for wanted, value in
                   ((self.category, category), (self.cohort, cohort), (self.recommender, recommender)))

    def describe(self) -> str:
        parts = [f"{k} {'/'.join(v)}" for k, v in
                 (("category", self.category), ("cohort", self.cohort), ("recommender", self.recommender)) if v]
        return ", ".join(parts)


class CloseOverride(Strict):
    """Closes (by window: a phase id or step:<id>) that bind the applications `who` selects, when earlier than the
    others that bind them (a city's own first-submission close for the applicants it recommends)."""

    who: Who
    closes: dict[str, CloseValue] = Field(min_length=1)
    note: str | None = None


def close_problems(call: CallDefinition) -> list[str]:
    """Every contradiction among the closes that depend on who applies: unknown windows, parties and phases, a close
    later than the phase that contains it or not after its opening, a relative close on a later phase."""
    problems: list[str] = []
    phase_ids = [p.id for p in call.phases]
    steps = {s.id for s in call.chain}
    known = {"category": {c.id for c in call.categories}, "cohort": {c.id for c in call.cohorts},
             "recommender": {r.id for r in call.recommenders}}
    for i, o in enumerate(call.overrides):
        for kind, ids in (("category", o.who.category), ("cohort", o.who.cohort), ("recommender", o.who.recommender)):
            declare = "categories" if kind == "category" else f"{kind}s"
            problems += [f"overrides.{i}.who.{kind}: unknown {kind} {x!r} (declare it under {declare})"
                         for x in ids if x not in known[kind]]
    gathering = [c.id for c in call.cohorts if c.others]
    if len(gathering) > 1:
        problems.append(f"cohorts: {', '.join(gathering)} each say others: true (at most one cohort gathers the "
                        "applications that name none)")
    problems += [f"recommenders.{r.id}.others: only a cohort gathers the others (a recommending unit is named by "
                 "each application)" for r in call.recommenders if r.others]
    for where, closes in _all_closes(call):
        for key, value in closes.items():
            field = f"{where}.{key}"
            if key.startswith(STEP_PREFIX):
                if key.removeprefix(STEP_PREFIX) not in steps:
                    problems.append(f"{field}: unknown step {key.removeprefix(STEP_PREFIX)!r} "
                                    f"(steps: {', '.join(s.id for s in call.chain)})")
                    continue
            elif key not in phase_ids:
                problems.append(f"{field}: unknown phase {key!r} (phases: {', '.join(phase_ids)}, or step:<id> for a step)")
                continue
            if isinstance(value, AfterClose):
                problems += _relative_problems(field, key, value, phase_ids, closes, call)
            elif not key.startswith(STEP_PREFIX):
                problems += _within_phase(field, key, value, call)
    return problems


def _all_closes(call: CallDefinition) -> Iterator[tuple[str, Mapping[str, CloseValue]]]:
    for c in call.categories:
        yield f"categories.{c.id}.closes", c.closes
    for i, o in enumerate(call.overrides):
        yield f"overrides.{i}.closes", o.closes


def _within_phase(field: str, phase_id: str, value: datetime, call: CallDefinition) -> list[str]:
    """An absolute close must fall inside its phase: after the phase opens, not after the phase closes."""
    p = call.phase(phase_id)
    if isinstance(p.closes, datetime) and value > p.closes:
        return [f"{field}: {value.isoformat()} is after phase {phase_id} closes {p.closes.isoformat()} (a close that "
                f"depends on who applies is the phase's or earlier: move phases.{phase_id}.closes to the latest one)"]
    if isinstance(p.opens, datetime) and value <= p.opens:
        return [f"{field}: {value.isoformat()} is not after phase {phase_id} opens {p.opens.isoformat()} (a window "
                f"with no valid instant)"]
    return []


def _relative_problems(field: str, key: str, value: AfterClose, phase_ids: Sequence[str],
                       closes: Mapping[str, CloseValue], call: CallDefinition) -> list[str]:
    if value.after not in phase_ids:
        return [f"{field}.after: unknown phase {value.after!r} (phases: {', '.join(phase_ids)})"]
    if not key.startswith(STEP_PREFIX) and phase_ids.index(value.after) >= phase_ids.index(key):
        return [f"{field}.after: {value.after!r} is not a phase before {key} (a close counts from an earlier close)"]
    base = closes.get(value.after, call.phase(value.after).closes)
    p = call.phase(key) if not key.startswith(STEP_PREFIX) else None
    if value.days is not None and isinstance(base, datetime) and p is not None and isinstance(p.closes, datetime):
        resolved = base + timedelta(days=value.days)
        if resolved > p.closes:
            return [f"{field}: {value.describe()} is {resolved.isoformat()}, after phase {key} closes "
                    f"{p.closes.isoformat()} (move phases.{key}.closes to the latest one)"]
    return []


def cohort_of(call: CallDefinition, cohort: str) -> str:
    """The cohort an application belongs to: the one it names, else the call's cohort of the others (if any)."""
    return cohort or next((c.id for c in call.cohorts if c.others), "")


def who_problem(call: CallDefinition, cohort: str, recommender: str) -> str | None:
    """Why an application's cohort or recommending unit does not fit the call (one line), or None."""
    cohorts = [c.id for c in call.cohorts]
    if cohort and cohort not in cohorts:
        named = f"cohorts: {', '.join(cohorts)}" if cohorts else "the call names no cohorts: leave --cohort out"
        return f"--cohort: unknown cohort {cohort!r} ({named})"
    recommenders = [r.id for r in call.recommenders]
    if recommenders and recommender not in recommenders:
        return f"--recommender: {recommender!r} is not a recommending unit of this call (write one of: " \
               f"{', '.join(recommenders)})"
    return None
