"""A manager's conditional extension: in one recorded act, new closes for some windows of the applications a predicate
selects (created before an instant, category, cohort, recommender, unit), carried by the timetable as data."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from models.instants import local


@dataclass(frozen=True)
class Applicant:
    """What a conditional extension can select an application by."""

    category: str
    cohort: str = ""
    recommender: str = ""
    unit: str = ""
    created: datetime | None = None  # None: a run from before the instant was kept, selected by no created_before


@dataclass
class Extension:
    """One act: new closes by window key (a phase id or `step:<id>`) for the applications it selects (each list given
    must contain the application's value; `created_before`: created strictly before it). Windows it does not name are
    left as they were, even where they now close before the extended ones."""

    seq: int
    closes: dict[str, datetime]
    actor_id: str
    role: str
    at: datetime
    reason: str
    category: list[str] = field(default_factory=list)
    cohort: list[str] = field(default_factory=list)
    recommender: list[str] = field(default_factory=list)
    unit: list[str] = field(default_factory=list)
    created_before: datetime | None = None

    def selects(self, who: Applicant) -> bool:
        if self.created_before is not None and (who.created is None or who.created >= self.created_before):
            return False
        return all(not wanted or value in wanted for wanted, value in (
            (self.category, who.category), (self.cohort, who.cohort), (self.recommender, who.recommender),
            (self.unit, who.unit)))

    def describe(self, zone: ZoneInfo) -> str:
        """The predicate in words, e.g. `created before 2026-03-31T17:00:00+08:00, category key`."""
        parts = [f"{k} {'/'.join(v)}" for k, v in (("category", self.category), ("cohort", self.cohort),
                                                    ("recommender", self.recommender), ("unit", self.unit)) if v]
        if self.created_before is not None:
            parts.insert(0, f"created before {local(zone, self.created_before)}")
        return ", ".join(parts)

    def act(self, zone: ZoneInfo) -> str:
        """Who made it, when and why: the fact `deadline explain` shows."""
        return (f"extension #{self.seq} by {self.role} {self.actor_id} at {local(zone, self.at)} for applications "
                f"{self.describe(zone)}: {self.reason}")


def binding_extension(extensions: list[Extension], window: str, who: Applicant) -> tuple[datetime, Extension] | None:
    """The latest close of `window` an act selecting `who` set, with that act (a later act never shortens an earlier
    one's); None when no act selects it."""
    found = [(e.closes[window], e) for e in extensions if window in e.closes and e.selects(who)]
    return max(found, key=lambda f: (f[0], f[1].seq)) if found else None
