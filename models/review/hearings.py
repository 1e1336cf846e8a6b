"""An application's defence hearing as its stage holds it (slot, panel, materials, absence): one record for the
schedule people see, the deadline explanation and the calendar feeds."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from models.review.messages import Absence, DefenceSlot, StageState


@dataclass(frozen=True)
class Hearing:
    phase: str
    slot: DefenceSlot
    panel: list[str] = field(default_factory=list)
    materials_at: datetime | None = None
    absent: Absence | None = None


def hearings(phase: str, s: StageState) -> list[Hearing]:
    """Every scheduled hearing of the defence stage in state `s`, in slot order, with its whole panel."""
    absent = {a.application_id: a for a in s.absent}
    panels: dict[str, list[str]] = {}
    for t in s.tasks:
        panels.setdefault(t.application_id, []).append(t.expert_id)
    return [Hearing(phase, x, sorted(panels.get(x.application_id, [])), s.materials.get(x.application_id),
                    absent.get(x.application_id)) for x in (s.drawn.slots if s.drawn else [])]
