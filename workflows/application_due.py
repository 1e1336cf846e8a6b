"""What is due to an application and when: its deadlines, the system transitions and reminders of its current state,
and which of them the call's bulk closure makes (the workflow takes no timer for those; it catches up when woken)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from temporalio import workflow

from workflows.application_patches import Patched

with workflow.unsafe.imports_passed_through():
    from activities.records import Recorded
    from models.call import CallDefinition
    from models.closure import closed_by
    from models.deadlines import Deadlines
    from models.lifecycle import Lifecycle, TransitionSpec, Window
    from models.messages import ApplicationInput, ApplicationState, TransitionRecord
    from models.timetable import Timetable

BACKSTOP = timedelta(hours=1)  # a bulk closure not caught up with by then is made by the workflow's own timer


class Model:
    """What the machine drives: the state, and the facts its conditions read (`when_<flag>`, `formal_ok`,
    `formal_pending`)."""

    state: str
    trigger: Callable[[str], bool]  # added by the Machine

    def __init__(self, flags: dict[str, bool]) -> None:
        self.flags = flags
        self.formal_ok = False
        self.formal_pending = False  # no rule fails, some need a person's decision

    def __getattr__(self, name: str) -> bool:
        if name.startswith("when_"):
            return bool(self.__dict__["flags"].get(name.removeprefix("when_"), False))
        raise AttributeError(name)


class DueItems(Patched):
    """Due items and deadlines over the state the workflow class keeps; `bulk` is the patch `bulk-closure`."""

    inp: ApplicationInput
    call: CallDefinition
    zone: ZoneInfo
    s: ApplicationState
    timetable: Timetable
    lifecycle: Lifecycle
    model: Model
    paper_receipts: bool
    bulk: bool
    extension_floor: bool  # the patch "extension-never-shortens"
    staged_paper: bool  # the patch STAGED_PAPER_PATCH: a paper phase after publicity in a staged review
    closure: Recorded | None  # what the bulk closure recorded, as the last `window_closed` signal carried it

    @property
    def deadlines(self) -> Deadlines:
        """The deadline rule over this application's current timetable, extensions and step deadlines."""
        return Deadlines(self.call, self.inp.category, self.timetable, self.inp.calendar, self.s.extensions,
                         self.s.step_deadlines, self.inp.cohort,
                         self.inp.people.get("recommender", ""), self.inp.people.get("unit_admin", ""), self.s.created,
                         self.extension_floor)

    def _bounds(self, w: Window) -> tuple[datetime | None, datetime | None, str]:
        """(opens, closes, name) of a window; a step is open from the moment the application entered it."""
        d = self.deadlines
        opens = d.opens(w) if w.phase else datetime.min.replace(tzinfo=self.zone)
        return opens, d.close(w), d.name(w)

    def _due_items(self) -> list[tuple[datetime, TransitionSpec, str]]:
        """(instant, transition, notice key) due in the current state: system transitions (no key), reminders before
        a deadline to whoever must act, and for a service deadline the overdue notice at it and the escalation to
        the programme manager after it. Leaving the state drops them all; a key is sent once."""
        items: list[tuple[datetime, TransitionSpec, str]] = []
        entered = self.s.transitions[-1].at if self.s.transitions else None
        for t in self.lifecycle.outgoing(self.model.state):
            if t.due:
                if not self._applies(t):
                    continue
                at = self.deadlines.due_at(t.due)
                if at is not None:
                    items.append((at, t, ""))
                continue
            w = t.window or t.service
            if not t.remind or w is None:
                continue
            opens, closes, _ = self._bounds(w)
            if closes is None:
                continue
            marks = [(closes - ahead, f"remind{int(ahead.total_seconds())}") for ahead in self.call.reminders]
            if t.service:
                marks += [(closes, "overdue"), (self.deadlines.escalation_at(closes), "escalate")]
            for at, what in marks:
                key = f"{what}:{t.trigger}:{w.key}:{closes.isoformat()}"
                if key not in self.s.reminded and (entered is None or entered < at) and (opens is None or opens < at):
                    if what.startswith("remind") and self._too_late(closes):
                        continue
                    items.append((at, t, key))
        items.sort(key=lambda i: i[0])
        now = workflow.now()
        closure = next((i for i in items if not i[2] and i[0] <= now and self._covered(i[0], i[1])), None)
        if closure is not None:  # made in bulk already: it comes first, and nothing is reminded after it
            return [closure]
        return items

    def _applies(self, t: TransitionSpec) -> bool:
        """A due transition of a stage this application does not pass (its category, its recommender's level) is
        not due to it; conditions decided when it fires (formal_ok) are left to then."""
        flags = [c for c in t.conditions if c.startswith("when_")]
        return all(getattr(self.model, c) for c in flags) and not any(
            getattr(self.model, c) for c in t.unless if c.startswith("when_"))

    def _too_late(self, closes: datetime) -> bool:
        """A reminder is never sent at or after the deadline it announces (a manual window closed now would otherwise
        fire every earlier reminder at its close). Runs before the patch sent them."""
        return workflow.now() >= closes and self._patched("no-reminder-after-its-deadline")

    def _finished(self, now: datetime) -> bool:
        """Closed: a terminal state from which no window that could still change it remains open."""
        if not self.lifecycle.is_terminal(self.model.state):
            return False
        for t in self.lifecycle.outgoing(self.model.state):
            closes = self._bounds(t.window)[1] if t.window else None
            if closes is None or now < closes:
                return False
        return True

    def _covered(self, at: datetime, spec: TransitionSpec) -> bool:
        """A system transition the call's bulk closure makes: due at the timetable's close of a closing phase."""
        if not self.bulk or spec.due is None:
            return False
        return any(p.closes == at and closed_by(self.call, self.lifecycle, p.id).get(spec.source) == spec
                   for p in self.timetable.phases)

    def _carried(self, record: TransitionRecord) -> TransitionRecord | None:
        """`record` as the bulk closure stored it, when the `window_closed` signal carried that closure (the same seq
        and trigger): who, when, why and under which deadline come from the records DB, the rest is the workflow's.
        The carried closure is taken either way: a record it does not match was made without it."""
        carried, self.closure = self.closure, None
        c = carried.transition if carried is not None else None
        if c is None or (c.seq, c.trigger) != (record.seq, record.trigger):
            return None
        return replace(record, actor_id=c.actor_id, role=c.role, reason=c.reason, at=c.at, deadline=c.deadline)

    def _closure_due(self, now: datetime) -> datetime | None:
        """The instant of a bulk closure due by `now` that this workflow has not caught up with yet."""
        return next((at for t in self.lifecycle.outgoing(self.model.state) if t.due is not None
                     for at in [self.deadlines.due_at(t.due)] if at is not None and at <= now and self._covered(at, t)),
                    None)

    def _wakes(self, items: list[tuple[datetime, TransitionSpec, str]], now: datetime) -> list[datetime]:
        """When to wake: each due item (a bulk closure only as a backstop) and each later close of a window."""
        covered = {at for at, spec, key in items if not key and self._covered(at, spec)}
        wakes = [at + BACKSTOP if not key and at in covered and self._covered(at, spec) else at
                 for at, spec, key in items]
        return wakes + [c for t in self.lifecycle.outgoing(self.model.state) if t.window
                        for c in [self._bounds(t.window)[1]] if c is not None and c > now and c not in covered]
