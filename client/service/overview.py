"""A call as its manager (or an auditor) sees it: applications per state, per recommender and per unit, the next
boundaries of its timetable, and what a manager may do now; the refused attempts on one application (auditors)."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel import Session, col, select

from client.service.core import Core
from models.call import CallDefinition
from models.identity import Identity, Target
from models.lifecycle import Lifecycle, TransitionSpec, build_lifecycle
from models.messages import CallStatus, call_workflow_id
from models.timetable import PhaseTime, Timetable
from records.accounts import RefusalRow
from records.tables import ApplicationRow, ContactRow
from workflows.call import CallWorkflow

OVERVIEW_READERS = ("manager", "auditor")
WAITING_SHOWN = 20  # applications listed per state a manager may act on
NO_ONE = "(none)"


@dataclass(frozen=True)
class Boundary:
    """A planned edge of a phase that has not happened yet: `phase` opens or closes `at`."""

    phase: str
    name: str
    edge: str  # opens | closes
    at: datetime


@dataclass
class CallOverview:
    call: CallDefinition
    status: CallStatus
    lifecycle: Lifecycle
    counts: dict[str, int]
    by_recommender: dict[str, dict[str, int]]
    by_unit: dict[str, dict[str, int]]
    manages: bool  # the reader may act as the call's manager
    call_actions: list[str] = field(default_factory=list)  # advance | close | extend
    extendable: list[PhaseTime] = field(default_factory=list)
    application_actions: list[TransitionSpec] = field(default_factory=list)
    waiting: dict[str, list[ApplicationRow]] = field(default_factory=dict)  # state -> applications (first few)

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def next_boundaries(timetable: Timetable, limit: int = 5) -> list[Boundary]:
    """The phase openings and closes still ahead, by the timetable's own account (not by this machine's clock);
    at one instant, a phase closes before the next one opens."""
    ahead = [Boundary(p.id, p.name, "opens", p.opens) for p in timetable.phases if not p.opened and p.opens]
    ahead += [Boundary(p.id, p.name, "closes", p.closes) for p in timetable.phases if not p.closed and p.closes]
    return sorted(ahead, key=lambda b: (b.at, b.edge == "opens"))[:limit]


def call_actions(timetable: Timetable) -> list[str]:
    """The changes to the call that its workflow would accept now (its validators decide in the end)."""
    current = timetable.current()
    nxt = next((p for p in timetable.phases if not p.opened), None)
    out = []
    if (current is None or current.closes_rule == "manual") and nxt is not None and nxt.opens_rule != "date":
        out.append("advance")
    if current is not None:
        out.append("close")
    if any(not p.closed for p in timetable.phases):
        out.append("extend")
    return out


def _window_open(spec: TransitionSpec, timetable: Timetable) -> bool:
    if spec.window is None or spec.window.phase is None:
        return True
    phase = timetable.get(spec.window.phase)
    return phase.opened and not phase.closed


def manager_transitions(lifecycle: Lifecycle, timetable: Timetable, counts: dict[str, int]) -> list[TransitionSpec]:
    """The transitions a manager may make now: theirs by the declaration, from a state some application is in,
    in a window that is open."""
    return [t for t in lifecycle.transitions if "manager" in t.roles and counts.get(t.source)
            and _window_open(t, timetable)]


def _tally(rows: Sequence[tuple[str, str]]) -> dict[str, dict[str, int]]:
    out: dict[str, Counter[str]] = {}
    for who, state in rows:
        out.setdefault(who, Counter())[state] += 1
    return {who: dict(sorted(c.items())) for who, c in sorted(out.items())}


class Overview(Core):
    async def call_overview(self, identity: Identity, call_id: str) -> CallOverview:
        """Everything the manager's call page shows (the call's managers and auditors)."""
        target = self.call_target(call_id)
        if not any(identity.may(r, target) for r in OVERVIEW_READERS):
            self.refuse(identity, "manager", "read the overview of", target,
                        f"{identity.subject} may not read the overview of {target.describe()} "
                        f"(needs the manager role for it, or auditor)")
        definition = self.definition(call_id)
        status: CallStatus = await (await self.temporal()).get_workflow_handle(call_workflow_id(call_id)).query(
            CallWorkflow.status)
        with Session(self.engine) as s:
            rows = s.exec(select(ApplicationRow.id, ApplicationRow.state, ApplicationRow.unit).where(
                ApplicationRow.call_id == call_id)).all()
            contacts = dict(s.exec(select(ContactRow.application_id, ContactRow.people_json).where(
                ContactRow.call_id == call_id)).all())
        recommender = {a: json.loads(p).get("recommender") or NO_ONE for a, p in contacts.items()}
        counts = dict(sorted(Counter(state for _, state, _ in rows).items()))
        lifecycle = build_lifecycle(definition)
        view = CallOverview(definition, status, lifecycle, counts,
                            _tally([(recommender.get(a, NO_ONE), state) for a, state, _ in rows]),
                            _tally([(unit or NO_ONE, state) for _, state, unit in rows]),
                            identity.may("manager", target))
        if view.manages:
            view.call_actions = call_actions(status.timetable)
            view.extendable = [p for p in status.timetable.phases if not p.closed]
            view.application_actions = manager_transitions(lifecycle, status.timetable, counts)
            view.waiting = self._waiting(call_id, sorted({t.source for t in view.application_actions}))
        return view

    def _waiting(self, call_id: str, states: list[str]) -> dict[str, list[ApplicationRow]]:
        out: dict[str, list[ApplicationRow]] = {}
        with Session(self.engine) as s:
            for state in states:
                out[state] = list(s.exec(select(ApplicationRow).where(ApplicationRow.call_id == call_id).where(
                    ApplicationRow.state == state).order_by(col(ApplicationRow.id)).limit(WAITING_SHOWN)).all())
        return out

    async def audited(self, identity: Identity, application_id: str) -> Target:
        """The application's scope, once `identity` is proven one of its auditors (for the audit page)."""
        _, target = await self.application(application_id)
        self.require(identity, "auditor", "audit", target)
        return target

    def refusals_of(self, identity: Identity, target: Target) -> Sequence[RefusalRow]:
        """The refused attempts on one application, oldest first (auditors)."""
        self.require(identity, "auditor", "list refusals of", target)
        about = f"application {target.application}"
        with Session(self.engine) as s:
            rows = s.exec(select(RefusalRow).where(
                (col(RefusalRow.target) == about) | col(RefusalRow.target).startswith(about + ", "))
                .order_by(col(RefusalRow.id))).all()
        return rows
