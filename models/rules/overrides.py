"""A programme manager's override of one verdict: only with a reason, kept beside the verdict it replaces."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from models.rules.base import Outcome, Verdict


@dataclass(frozen=True)
class Override:
    rule_id: str
    outcome: Outcome
    actor_id: str
    reason: str
    at: datetime

    def __post_init__(self) -> None:
        if not self.reason.strip():
            raise ValueError(f"overriding {self.rule_id} needs a reason")
        if self.at.tzinfo is None or self.at.utcoffset() is None:
            raise ValueError(f"naive datetime {self.at.isoformat()}: the override instant needs an offset")


def apply_overrides(verdicts: list[Verdict], overrides: list[Override]) -> list[Verdict]:
    """The verdicts with each rule's latest override applied; the evidence keeps what was overridden and by whom."""
    latest = {o.rule_id: o for o in sorted(overrides, key=lambda o: o.at)}
    unknown = sorted(set(latest) - {v.rule_id for v in verdicts})
    if unknown:
        raise KeyError(f"no verdict to override for {', '.join(unknown)}")
    out: list[Verdict] = []
    for v in verdicts:
        o = latest.get(v.rule_id)
        if o is None:
            out.append(v)
            continue
        evidence = {**v.evidence, "overridden": f"{v.outcome}: {v.reason}",
                    "override": f"{o.actor_id} at {o.at.isoformat()}: {o.reason}"}
        out.append(replace(v, outcome=o.outcome, reason=f"overridden by {o.actor_id}: {o.reason}", evidence=evidence))
    return out
