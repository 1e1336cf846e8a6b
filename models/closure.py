"""Which system transitions a window's bulk closure makes in the records (and the workflows then adopt): one rule
read by the closure activity, the application workflow and the call workflow."""

from __future__ import annotations

from datetime import datetime

from models.call import CallDefinition
from models.instants import local
from models.lifecycle import Lifecycle, TransitionSpec

CLOSING_KINDS = ("application", "recommendation", "paper")  # phases whose close settles applications at once
SYSTEM_ACTOR = "grantflow"


def closed_by(call: CallDefinition, lifecycle: Lifecycle, phase_id: str) -> dict[str, TransitionSpec]:
    """Source state -> the system transition the close of `phase_id` makes from it: a phase close, or the deadline of
    a step that closes with the phase. A state with a conditional or ambiguous one is left to its workflow's timer."""
    if call.phase(phase_id).kind not in CLOSING_KINDS:
        return {}
    steps = {s.id for s in call.chain if s.deadline is not None and s.deadline.phase == phase_id}
    found: dict[str, list[TransitionSpec]] = {}
    for t in lifecycle.transitions:
        due = t.due
        if due is not None and ((due.phase == phase_id and due.edge == "closes") or due.step in steps):
            found.setdefault(t.source, []).append(t)
    return {source: ts[0] for source, ts in found.items() if len(ts) == 1 and not ts[0].conditions + ts[0].unless}


def reason(call: CallDefinition, at: datetime) -> str:
    """The reason a due system transition records, as the workflow writes it."""
    return f"due {local(call.zone, at)}"


def settling_states(lifecycle: Lifecycle, phase_id: str, step_phases: dict[str, str]) -> list[str]:
    """States that a close of `phase_id` ends (drafts at the application close, steps whose deadline it is); not
    those it ends only for some applications (a paper phase for some categories: the others wait there)."""
    out = set()
    for t in lifecycle.transitions:
        if any(c.startswith("when_") for c in t.conditions + t.unless):
            continue
        if t.due and ((t.due.phase == phase_id and t.due.edge == "closes")
                      or (t.due.step and step_phases.get(t.due.step) == phase_id)):
            out.add(t.source)
    return sorted(out)
