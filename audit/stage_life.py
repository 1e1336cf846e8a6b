"""What a review stage's history proves for the audit: the notices it queued (the inputs of its record_transition
activities) and which of them the completed activity delivered."""

from __future__ import annotations

from collections.abc import Sequence

from temporalio.client import WorkflowHistory

from activities.records import Recorded, RecordInput
from audit.history import decode, instant, kind
from audit.life import Notice


def stage_notices(runs: Sequence[WorkflowHistory]) -> list[Notice]:
    out: list[Notice] = []
    scheduled: dict[int, list[Notice]] = {}
    for run in runs:
        for e in run.events:
            if kind(e) == "ACTIVITY_TASK_SCHEDULED":
                s = e.activity_task_scheduled_event_attributes
                if s.activity_type.name == "record_transition":
                    inp = decode(s.input, RecordInput)
                    mine = [Notice(n.key, e.event_id, run.run_id, instant(e), False, n.kind, n.recipient)
                            for n in inp.notices]
                    scheduled[e.event_id] = mine
                    out += mine
            elif kind(e) == "ACTIVITY_TASK_COMPLETED":
                c = e.activity_task_completed_event_attributes
                done = set(decode(c.result, Recorded).delivered) if c.scheduled_event_id in scheduled else set()
                for n in scheduled.get(c.scheduled_event_id, []):
                    n.delivered = n.key in done
    return out
