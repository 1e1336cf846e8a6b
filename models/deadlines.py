"""Effective deadlines explained: for each window of an application, the instant that governs it and every fact
that made it so (planned close, category override, call-wide and individual extensions, working-day counts)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from models.messages import ApplicationStatus, CallInput, CallStatus


@dataclass
class DeadlineExplanation:
    window: str  # a phase id, or step:<id>
    effective: datetime | None
    facts: list[str] = field(default_factory=list)


def _local(t: datetime | None, call: CallInput) -> str:
    return t.astimezone(call.call.zone).isoformat() if t else "not set"


def explain(call: CallInput, call_status: CallStatus, app: ApplicationStatus) -> list[DeadlineExplanation]:
    """Every deadline of `app`, each with the facts behind it in the order they took effect."""
    definition = call.call
    out: list[DeadlineExplanation] = []
    for window, effective in app.deadlines.items():
        item = DeadlineExplanation(window, effective)
        if window.startswith("step:"):
            step = definition.step(window.removeprefix("step:"))
            deadline = step.deadline
            if deadline is None:
                item.facts.append(f"{step.name}: no deadline of its own; the step lapses when formal review opens")
            elif deadline.phase:
                item.facts.append(f"{step.name}: the close of phase {deadline.phase}")
            else:
                entered = [t for t in app.transitions if t.dest == f"awaiting_{step.id}"]
                since = f" after entering it at {_local(entered[-1].at, call)}" if entered else " after entering it"
                item.facts.append(f"{step.name}: {deadline.working_days} working days{since}, ending 24:00 of the "
                                  f"last one (calendar: {call.calendar.source})")
            if step.overdue == "escalate":
                item.facts.append(f"a service deadline: late action still counts; overdue notice at it, escalation "
                                  f"to the manager {definition.escalate_after_working_days} working days later")
        else:
            planned = definition.phase(window).closes
            shown = _local(planned, call) if isinstance(planned, datetime) else str(planned)
            item.facts.append(f"planned: {shown} (call definition version {app.version}, phases.{window}.closes)")
            category = definition.category(app.category) if app.category else None
            if category is not None and window in category.closes:
                item.facts.append(f"category {category.id} closes it at {_local(category.closes[window], call)}")
            for e in call_status.events:
                if e.phase == window and e.kind == "extended":
                    item.facts.append(f"extended for the whole call by {e.role} {e.actor_id} at {_local(e.at, call)} "
                                      f"from {_local(e.previous, call)} to {_local(e.new, call)}: {e.reason}")
                elif e.phase == window and e.kind == "closed" and e.role != "system":
                    item.facts.append(f"closed early by {e.role} {e.actor_id} at {_local(e.at, call)}: {e.reason}")
        for t in app.transitions:
            if t.trigger == "extend_deadline" and t.data.get("window") == window:
                item.facts.append(f"extended for this application by {t.role} {t.actor_id} at {_local(t.at, call)} "
                                  f"from {t.data.get('previous')} to {t.data.get('new')}: {t.reason}")
        out.append(item)
    return out
