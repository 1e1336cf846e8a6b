"""The reviewer pool and the applications as expert assignment sees them: plain frozen data, with discipline
matching by national code prefix and a canonical hash of any snapshot of them."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from models.facts import TitleLevel

CollaborationKind = Literal["coauthor", "collaborator"]
LEVEL_PREFIX: dict[int, int] = {1: 1, 2: 3, 3: 5}  # discipline level -> code prefix length: "D", "D02", "D0201"


def shared_level(a: str, b: str) -> int:
    """The deepest level (0-3) at which two national discipline codes agree: "D0201" and "D0207" share level 2."""
    level = 0
    for lv, n in LEVEL_PREFIX.items():
        if len(a) >= n and len(b) >= n and a[:n] == b[:n]:
            level = lv
    return level


@dataclass(frozen=True)
class Collaboration:
    """A co-authored paper or a joint project with a person, in a given year."""

    person_id: str
    year: int
    kind: CollaborationKind = "coauthor"


@dataclass(frozen=True)
class Window:
    """An interval during which the expert can review; both ends timezone-aware."""

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise ValueError("availability windows take timezone-aware instants")
        if self.end <= self.start:
            raise ValueError(f"window ends ({self.end}) before it starts ({self.start})")

    def covers(self, start: datetime, end: datetime) -> bool:
        return self.start <= start and end <= self.end


@dataclass(frozen=True)
class Expert:
    """One reviewer of the pool. `declared_conflicts` holds ids (person, unit or application) the expert declared;
    `restricted_until` is the end of a ban for misconduct (限制期), during which the expert is not drawn."""

    id: str
    disciplines: tuple[str, ...]
    unit_id: str
    title: TitleLevel = "full_senior"
    recommender_id: str | None = None
    collaborations: tuple[Collaboration, ...] = ()
    declared_conflicts: frozenset[str] = frozenset()
    availability: tuple[Window, ...] = ()
    max_load: int = 20
    stages: frozenset[str] = frozenset()
    restricted_until: datetime | None = None

    def __post_init__(self) -> None:
        if not self.disciplines:
            raise ValueError(f"expert {self.id} has no discipline code")
        if self.max_load < 0:
            raise ValueError(f"expert {self.id}: max_load {self.max_load} < 0")

    def available(self, start: datetime, end: datetime) -> bool:
        return any(w.covers(start, end) for w in self.availability)

    def collaborators_since(self, year: int) -> frozenset[str]:
        """People the expert co-authored or worked with in `year` or later."""
        return frozenset(c.person_id for c in self.collaborations if c.year >= year)


@dataclass(frozen=True)
class Proposal:
    """An application as the assignment sees it: the first discipline code is the primary one."""

    id: str
    disciplines: tuple[str, ...]
    lead_unit_id: str
    pi_id: str
    partner_unit_ids: frozenset[str] = frozenset()
    recommender_id: str | None = None
    team_ids: frozenset[str] = frozenset()
    excluded_expert_ids: frozenset[str] = frozenset()  # experts the applicant asked not to review (回避专家)

    def __post_init__(self) -> None:
        if not self.disciplines:
            raise ValueError(f"application {self.id} has no discipline code")

    @property
    def unit_ids(self) -> frozenset[str]:
        return self.partner_unit_ids | {self.lead_unit_id}

    @property
    def people(self) -> frozenset[str]:
        return self.team_ids | {self.pi_id}


def _canonical(value: object) -> object:
    """A JSON-ready form that does not depend on set order or object identity."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _canonical(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, (set, frozenset)):
        return sorted((_canonical(v) for v in value), key=lambda v: json.dumps(v, sort_keys=True))
    if isinstance(value, (list, tuple)):
        return [_canonical(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _canonical(v) for k, v in value.items()}
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def snapshot_hash(items: Sequence[object]) -> str:
    """SHA-256 of a canonical JSON form of a sequence of dataclasses (the pool, the applications, a policy):
    an auditor recomputes it from the archived snapshot to show that a draw ran on exactly that data."""
    text = json.dumps(_canonical(list(items)), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()
