"""What a simulation reports, the simulated people's intentions, and the invariants checked over the result."""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session, select

from activities.notices import MemoryChannel, Postman
from client.calls import Prepared
from models.call import CallDefinition
from models.lifecycle import TERMINAL, Lifecycle, step_state
from models.messages import ApplicationStatus, CallEvent
from models.quotas import Held
from models.rules import at_recommendation, formal_failures, needs_person, recommendation_failures
from records.tables import NoticeRow
from simulation.stages import batch_counts


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
    quota_refusals: dict[str, int] = field(default_factory=dict)  # recommendations refused per quota id, zero included
    recommendation_checks: int = 0  # applications whose rules were checked at a recommender's step (at: recommendation)
    recommendation_failures: dict[str, int] = field(default_factory=dict)  # 不予推荐 per rule id, zero included
    reminders: int = 0
    escalations: int = 0
    overdue: int = 0  # overdue notices at service deadlines
    lapses: int = 0  # applications lapsed at a step deadline, or their contract
    late_share: float = 0.0  # of units, recommenders, agencies and reviewers, acting late or never
    late_actors: dict[str, int] = field(default_factory=dict)  # late/never by role; late acts refused or accepted
    batches: dict[str, int] = field(default_factory=dict)  # a rolling intake: applications per review batch
    violations: list[str] = field(default_factory=list)
    expert_review: dict[str, int] = field(default_factory=dict)
    ranking: dict[str, list[int]] = field(default_factory=dict)  # category -> [funded, quota]
    publicity: dict[str, int] = field(default_factory=dict)
    defence: dict[str, int] = field(default_factory=dict)  # scheduled, absent, materials_late (calls with a defence)


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


def held_places(call: CallDefinition, statuses: list[ApplicationStatus]) -> list[Held]:
    """Every place a recommendation at a step with quotas took, from the workflows' own transitions."""
    steps = {step_state(q.step): q.step for q in call.quotas}
    out: list[Held] = []
    for st in statuses:
        for k, t in enumerate(st.transitions):
            if t.trigger == "approve" and t.source in steps:
                freed = next((u.at for u in st.transitions[k + 1:] if u.dest in ("returned", "withdrawn")), None)
                out.append(Held(steps[t.source], t.actor_id, st.category, t.at, freed))
    return out


def phase_instants(prepared: Prepared, events: list[CallEvent]) -> dict[str, dict[str, str | None]]:
    """When each phase opened and closed, in the call's own instants (the run is shifted by whole weeks)."""
    shift = timedelta(days=prepared.shift_days)
    phases: dict[str, dict[str, str | None]] = {p.id: {"opened": None, "closed": None}
                                                for p in prepared.timetable.phases}
    for e in events:
        if e.kind in ("opened", "closed") and e.new is not None:
            phases[e.phase][e.kind] = (e.new - shift).astimezone(prepared.definition.zone).isoformat()
    return phases


def notice_violations(engine: Engine, call_id: str, channel: MemoryChannel | Postman) -> tuple[list[str], list[str]]:
    """The call's notice keys, and what went wrong with them: delivered twice, queued but never delivered (in
    memory), failed or given up."""
    with Session(engine) as s:
        notices = s.exec(select(NoticeRow).where(NoticeRow.call_id == call_id)).all()
    keys = [n.key for n in notices]
    out: list[str] = []
    if isinstance(channel, MemoryChannel):
        delivered = Counter(channel.delivered)
        out += [f"notice {k} delivered {n} times" for k, n in delivered.items() if n > 1]
        out += [f"notice {k} queued but never delivered" for k in set(keys) - set(delivered)]
    out += [f"notice {n.key} {n.status}: {n.failure}" for n in notices if n.status not in ("sent", "queued")]
    return keys, out


def tally(call: CallDefinition, statuses: list[ApplicationStatus]) -> dict[str, Any]:
    """What the report counts from the applications' final statuses."""
    verdicts = [st.verdicts for st in statuses if st.verdicts]
    reminders = Counter(r.kind for st in statuses for r in st.reminders)
    return {"final_states": dict(sorted(Counter(s.state for s in statuses).items())),
            "formal_failures": formal_failures(call, verdicts), "needs_person": needs_person(call, verdicts),
            "recommendation_checks": sum(any(at_recommendation(v) for v in vs) for vs in verdicts),
            "recommendation_failures": recommendation_failures(call, verdicts),
            "reminders": reminders["reminder"], "escalations": reminders["escalation"], "overdue": reminders["overdue"],
            "lapses": sum(t.trigger.startswith("lapse") for st in statuses for t in st.transitions),
            "batches": batch_counts(call, statuses)}
