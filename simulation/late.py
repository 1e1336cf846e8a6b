"""Late actors in a simulation: a stated share of units, recommenders, agencies and reviewers act after their
deadline or never; each late act is made once its deadline passed and counted as refused, or as accepted where a
service deadline lets late action count."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime

from models.lifecycle import Lifecycle
from models.messages import ApplicationStatus

LATE_ROLES = ("unit_admin", "recommender", "agency", "expert", "committee")  # units, recommenders, agencies, reviewers


@dataclass
class LateAct:
    """An act held back: made once the application's deadline for it passed (or it left the state)."""

    i: int
    trigger: str
    role: str
    state: str
    reason: str = ""
    data: dict[str, str] = field(default_factory=dict)


@dataclass
class LateActors:
    """Who is late, decided per application and role from the seed; the acts they hold back; what became of them."""

    seed: int
    share: float
    pending: list[LateAct] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)
    _held: set[tuple[int, str, str]] = field(default_factory=set)

    def behaviour(self, i: int, role: str) -> str:
        """`on time`, `late` or `never` for the actor in `role` of application i."""
        if role not in LATE_ROLES or self.share <= 0:
            return "on time"
        rng = random.Random(f"{self.seed}:{i}:{role}")
        if rng.random() >= self.share:
            return "on time"
        return "never" if rng.random() < 0.5 else "late"

    def holds(self, i: int, trigger: str, role: str, state: str, reason: str = "", **data: str) -> bool:
        """True when this actor is not acting now (late: the act is kept for after the deadline; never: dropped)."""
        kind = self.behaviour(i, role)
        if kind == "on time":
            return False
        if (i, role, state) not in self._held:
            self._held.add((i, role, state))
            self.counts[f"{kind} ({role})"] += 1
            if kind == "late":
                self.pending.append(LateAct(i, trigger, role, state, reason, dict(data)))
        return True

    @staticmethod
    def closes(act: LateAct, status: ApplicationStatus, lifecycle: Lifecycle) -> datetime | None:
        """The application's deadline for the act in the state it was held in."""
        spec = next(iter(lifecycle.candidates(act.state, act.trigger)), None)
        window = (spec.window or spec.service) if spec is not None else None
        return status.deadlines.get(window.key) if window is not None else None

    async def settle(self, status_of: Callable[[int], Awaitable[ApplicationStatus]],
                     act: Callable[[LateAct], Awaitable[bool]], lifecycle: Lifecycle, now: datetime,
                     final: bool = False) -> list[str]:
        """Make every held act that is late by now (all of them when `final`); the violations: a late act accepted
        at a deadline that is a cutoff."""
        violations: list[str] = []
        kept: list[LateAct] = []
        for late in self.pending:
            status = await status_of(late.i)
            closes = self.closes(late, status, lifecycle)
            passed = closes is not None and now >= closes
            if not (final or passed or status.state != late.state):
                kept.append(late)
                continue
            spec = next(iter(lifecycle.candidates(late.state, late.trigger)), None)
            service = spec is not None and spec.service is not None
            accepted = await act(late)
            self.counts["late acts accepted (service deadline)" if accepted and service else
                        "late acts accepted" if accepted else "late acts refused"] += 1
            if accepted and not service and passed:
                violations.append(f"{status.application_id}: late {late.trigger} by {late.role} accepted at {now}")
        self.pending = kept
        return violations
