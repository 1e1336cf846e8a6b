"""What `replay` and `verify` report: findings that name the workflow, the event and the rule."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field


@dataclass(frozen=True)
class Finding:
    rule: str
    workflow_id: str
    event_id: int | None  # None when the finding is about a whole file or a DB row no event proves
    message: str
    run_id: str | None = None  # the run whose history holds the event (continue-as-new starts new runs)

    def line(self) -> str:
        where = f"{self.workflow_id} event {self.event_id}" if self.event_id is not None else self.workflow_id
        return f"[{self.rule}] {where}: {self.message}"


@dataclass
class Result:
    workflows: int
    events: int
    findings: list[Finding] = field(default_factory=list)

    def to_json(self) -> str:
        return json.dumps({"workflows": self.workflows, "events": self.events,
                           "findings": [asdict(f) for f in self.findings]}, ensure_ascii=False, indent=2)
