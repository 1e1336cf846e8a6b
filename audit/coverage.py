"""Coverage of a call's state machine: which declared states and transitions were visited (by the test suite, or in
exported histories), and which never were."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from audit.source import read_export
from audit.verify import lives
from models.call import CallDefinition
from models.lifecycle import build_lifecycle

# Transitions that change no state and are not declared in the machine: recorded beside it, never counted.
OUTSIDE_THE_MACHINE = frozenset({"extend_deadline", "migrate"})


@dataclass(frozen=True)
class Visit:
    """One transition as it happened: (call, source, trigger, destination)."""

    call_id: str
    source: str
    trigger: str
    dest: str


@dataclass
class MachineCoverage:
    call_id: str
    states: dict[str, int] = field(default_factory=dict)  # every declared state -> visits (0: never)
    transitions: dict[str, int] = field(default_factory=dict)  # "source --trigger--> dest" -> visits
    undeclared: list[str] = field(default_factory=list)  # visited transitions the declaration does not have

    def never(self) -> tuple[list[str], list[str]]:
        """(states, transitions) never visited."""
        return ([s for s, n in self.states.items() if not n], [t for t, n in self.transitions.items() if not n])

    def summary(self) -> str:
        states, transitions = self.never()
        return (f"{self.call_id}: states {len(self.states) - len(states)}/{len(self.states)}, "
                f"transitions {len(self.transitions) - len(transitions)}/{len(self.transitions)} visited")


def label(source: str, trigger: str, dest: str) -> str:
    return f"{source} --{trigger}--> {dest}"


def coverage(call: CallDefinition, visits: Iterable[Visit]) -> MachineCoverage:
    """The machine `call` declares, each state and transition counted over the visits to this call."""
    lifecycle = build_lifecycle(call)
    declared = {label(t.source, t.trigger, t.dest) for t in lifecycle.transitions}
    counted = Counter(label(v.source, v.trigger, v.dest) for v in visits
                      if v.call_id == call.id and v.trigger not in OUTSIDE_THE_MACHINE)
    entered = Counter[str]()
    for v in visits:
        if v.call_id == call.id and v.trigger not in OUTSIDE_THE_MACHINE:
            entered[v.source] += 0 if v.source != lifecycle.initial else 1
            entered[v.dest] += 1
    result = MachineCoverage(call.id)
    result.states = {s: entered[s] for s in lifecycle.state_names()}
    result.transitions = {t: counted[t] for t in sorted(declared)}
    result.undeclared = sorted(set(counted) - declared)
    return result


def read_visits(path: Path) -> list[Visit]:
    """Visits written one JSON object a line (what the test suite records in var/coverage/)."""
    lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
    return [Visit(**json.loads(line)) for line in lines if line.strip()]


def export_visits(directory: Path) -> list[Visit]:
    """Every transition the histories of an audit export prove."""
    bundle = read_export(directory)
    _, apps, _ = lives(bundle)
    return [Visit(bundle.call_id, p.record.source, p.record.trigger, p.record.dest) for a in apps for p in a.transitions]
