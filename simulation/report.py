"""What a simulation reports, the simulated people's intentions, and the invariants checked over the result."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from models.lifecycle import TERMINAL, Lifecycle
from models.messages import ApplicationStatus


@dataclass
class Persona:
    """What one simulated applicant and the people around it will do."""

    submits: bool
    tries_late: bool
    returned_by_unit: bool
    resubmits: bool
    approver_sleeps: bool
    sends_paper: bool
    objection: bool
    objection_upheld: bool
    signs: bool
    score: int


def personas(n: int, seed: int) -> list[Persona]:
    rng = random.Random(seed)
    return [
        Persona(
            submits=rng.random() > 0.08, tries_late=rng.random() < 0.5,
            returned_by_unit=rng.random() < 0.08, resubmits=rng.random() < 0.75, approver_sleeps=rng.random() < 0.03,
            sends_paper=rng.random() < 0.95, objection=rng.random() < 0.08, objection_upheld=rng.random() < 0.3,
            signs=rng.random() < 0.9, score=rng.randint(50, 100),
        )
        for _ in range(n)
    ]


@dataclass
class Report:
    call: str
    applications: int
    seed: int
    shift_days: int
    final_states: dict[str, int]
    phases: dict[str, dict[str, str | None]]
    notices: int
    refused: dict[str, int]
    late_attempts: int
    late_accepted: int
    formal_failures: dict[str, int] = field(default_factory=dict)
    needs_person: dict[str, int] = field(default_factory=dict)  # "review" verdicts per rule id, zero included
    reminders: int = 0
    escalations: int = 0
    overdue: int = 0  # overdue notices at service deadlines
    lapses: int = 0  # applications lapsed at a step deadline, or their contract
    late_share: float = 0.0  # of units, recommenders, agencies and reviewers, acting late or never
    late_actors: dict[str, int] = field(default_factory=dict)  # late/never by role; late acts refused or accepted
    violations: list[str] = field(default_factory=list)
    expert_review: dict[str, int] = field(default_factory=dict)
    ranking: dict[str, list[int]] = field(default_factory=dict)  # category -> [funded, quota]
    publicity: dict[str, int] = field(default_factory=dict)


def check_invariants(lifecycle: Lifecycle, statuses: list[ApplicationStatus]) -> list[str]:
    """No change accepted at or after its deadline, every application terminal, every change by an allowed role."""
    out: list[str] = []
    for st in statuses:
        if st.state not in TERMINAL:
            out.append(f"{st.application_id} ended in non-terminal state {st.state}")
        for t in st.transitions:
            if t.role != "system" and t.deadline is not None and t.at >= t.deadline:
                out.append(f"{st.application_id} #{t.seq} {t.trigger} at {t.at.isoformat()} "
                           f"not before its deadline {t.deadline.isoformat()}")
            if t.trigger in ("extend_deadline", "migrate"):
                allowed: set[str] = {"manager"}
            else:
                allowed = {r for spec in lifecycle.transitions if spec.trigger == t.trigger and spec.source == t.source
                           and spec.dest == t.dest for r in spec.roles}
            if t.role not in allowed:
                out.append(f"{st.application_id} #{t.seq} {t.trigger} by role {t.role} (allowed: {sorted(allowed)})")
        out += reminder_violations(lifecycle, st)
    return out


def reminder_violations(lifecycle: Lifecycle, st: ApplicationStatus) -> list[str]:
    """No reminder after the task was done: each went out while the application waited in the state it names, to
    roles that could act there (escalations to the manager)."""
    out: list[str] = []
    for r in st.reminders:
        before = [t.dest for t in st.transitions if t.at < r.at]
        through = [t.dest for t in st.transitions if t.at <= r.at]
        states = {before[-1] if before else lifecycle.initial, through[-1] if through else lifecycle.initial}
        actors = {role for t in lifecycle.outgoing(r.state) if t.remind for role in t.roles} | {"manager"}
        if r.state not in states:
            out.append(f"{st.application_id}: {r.kind} {r.key} at {r.at.isoformat()} after leaving {r.state}")
        if not set(r.roles) <= actors:
            out.append(f"{st.application_id}: {r.kind} {r.key} to {r.roles}, who cannot act in {r.state}")
    return out
