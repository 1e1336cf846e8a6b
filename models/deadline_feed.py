"""The deadlines a calendar feed lists: every close of a call (phases, and those that depend on who applies, relative
ones computed) or every close that binds one application (its defence materials too), each with a stable id and a
revision count."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from models.call import AfterClose, AfterOpening, CallDefinition, CloseValue, Who
from models.deadlines import MATERIALS_KEY, Deadlines
from models.instants import written
from models.lifecycle import Window, step_state
from models.messages import ApplicationStatus, CallInput, CallStatus
from models.review.hearings import Hearing

UID_DOMAIN = "grantflow"
MANAGED = ("extend_deadline", "migrate")  # a manager's records in the history, not moves of the lifecycle


@dataclass(frozen=True)
class Revisions:
    """How often a deadline was moved (a calendar's SEQUENCE) and when it last was, or when it was first known."""

    count: int
    last: datetime


@dataclass(frozen=True)
class FeedEvent:
    uid: str  # stable for the deadline, whatever its instant
    window: str  # a window key: a phase id, or step:<id>
    summary: str
    description: str
    at: datetime
    revisions: Revisions


@dataclass(frozen=True)
class Feed:
    name: str
    timezone: str
    reminders: list[timedelta]  # before each deadline
    events: list[FeedEvent]


def origin(call: CallDefinition, status: CallStatus) -> datetime:
    """Since when the call's deadlines are known: the day it was issued, or else its first planned opening (a fixed
    instant when it has neither, so that a feed stays the same from one fetch to the next)."""
    if call.issued is not None:
        return datetime.combine(call.issued, time(), call.zone)
    return min((p.opens for p in status.timetable.phases if p.opens), default=datetime(2000, 1, 1, tzinfo=UTC))


def phase_sources(call: CallDefinition, phase_id: str) -> set[str]:
    """The phases whose changes move `phase_id`'s close: itself, and the phase before it when it opens with that
    phase's close and closes a number of days after opening."""
    ids = [p.id for p in call.phases]
    if phase_id not in ids:
        return set()
    i = ids.index(phase_id)
    p = call.phases[i]
    chained = isinstance(p.closes, AfterOpening) and p.opens == "previous" and i > 0
    return {phase_id} | (phase_sources(call, ids[i - 1]) if chained else set())


def value_sources(call: CallDefinition, value: CloseValue) -> set[str]:
    return phase_sources(call, value.after) if isinstance(value, AfterClose) else set()


def call_changes(status: CallStatus, phases: set[str]) -> list[datetime]:
    """The instants of the call's changes that may have moved a close depending on `phases`: an extension, a
    person's opening or closing of one of them, and every revision of the definition."""
    return [e.at for e in status.events
            if e.kind == "revised" or (e.phase in phases and (e.kind == "extended" or e.role != "system"))]


def revisions(first: datetime, changes: list[datetime]) -> Revisions:
    return Revisions(len(changes), max([first, *changes]))


def window_name(call: CallDefinition, status: CallStatus, window: str) -> str:
    w = Window.of(window)
    return status.timetable.get(w.phase).name if w.phase else call.step(w.step or "").name


def who_names(call: CallDefinition, who: Who) -> str:
    names = {**{c.id: c.name for c in call.categories}, **{p.id: p.name for p in call.cohorts},
             **{p.id: p.name for p in call.recommenders}}
    return "、".join(names.get(x, x) for x in [*who.category, *who.cohort, *who.recommender])


def _uid(*parts: str) -> str:
    return "-".join(["deadline", *parts]) + f"@{UID_DOMAIN}"


def call_feed(inp: CallInput, status: CallStatus) -> Feed:
    """Every close of the call: each phase's, then each that depends on who applies (category, cohort, recommending
    unit), a close relative to another computed as the rule of `Deadlines` computes it."""
    call, first = inp.call, origin(inp.call, status)
    events: list[FeedEvent] = []
    for p in status.timetable.phases:
        if p.closes is not None:
            events.append(FeedEvent(_uid("call", call.id, p.id), p.id, f"{p.name}截止", f"{call.title}：{p.name}截止（全部申报）",
                                    p.closes, revisions(first, call_changes(status, phase_sources(call, p.id)))))
    rule = {c.id: Deadlines(call, c.id, status.timetable, inp.calendar, {}, {}) for c in call.categories}
    for c in call.categories:
        for window, value in c.closes.items():
            at = rule[c.id].resolve(value, f"category {c.id}").at
            if at is not None:
                name = window_name(call, status, window)
                events.append(FeedEvent(_uid("call", call.id, "category", c.id, window), window, f"{name}截止（{c.name}）",
                                        f"{call.title}：{name}截止，适用于{c.name}", at,
                                        revisions(first, call_changes(status, value_sources(call, value)))))
    for i, o in enumerate(call.overrides):
        selected = o.who.category or [c.id for c in call.categories]
        cohort, recommender = (o.who.cohort or [""])[0], (o.who.recommender or [""])[0]
        for window, value in o.closes.items():
            name, who = window_name(call, status, window), who_names(call, o.who)
            found = {cid: Deadlines(call, cid, status.timetable, inp.calendar, {}, {}, cohort, recommender)
                     .resolve(value, f"overrides.{i}").at for cid in selected}
            instants = {at for at in found.values() if at is not None}
            per_category = [(cid, at) for cid, at in found.items() if at is not None] if len(instants) > 1 else \
                [("", at) for at in instants]
            for cid, at in per_category:
                extra = f"（{call.category(cid).name}）" if cid else ""
                events.append(FeedEvent(_uid("call", call.id, "overrides", str(i), window, *([cid] if cid else [])), window,
                                        f"{name}截止（{who}）{extra}", f"{call.title}：{name}截止，适用于{who}{extra}", at,
                                        revisions(first, call_changes(status, value_sources(call, value)))))
    return Feed(f"{call.title}（截止时间）", call.timezone, list(call.reminders), events)


def application_feed(inp: CallInput, status: CallStatus, app: ApplicationStatus,
                     hearings: Sequence[Hearing] = ()) -> Feed:
    """Every close that binds one application, as its workflow computes them with `Deadlines` (extensions granted to
    it included), each counting the changes that may have moved it; then the materials deadline of each defence slot
    it has (`hearings`), known since its phase opened and never moved."""
    call, first = inp.call, origin(inp.call, status)
    events: list[FeedEvent] = []
    for window, at in app.deadlines.items():
        if at is None:
            continue
        changes = [t.at for t in app.transitions
                   if t.trigger == "migrate" or (t.trigger == "extend_deadline" and t.data.get("window") == window)]
        known = first
        w = Window.of(window)
        step = call.step(w.step) if w.step else None
        sources = phase_sources(call, w.phase or "")
        if step is not None and step.deadline is not None and step.deadline.phase:
            sources |= phase_sources(call, step.deadline.phase)
        elif step is not None:  # a number of working days after each entry into the step: known since the first
            entries = [t.at for t in app.transitions if t.dest == step_state(step) and t.trigger not in MANAGED]
            known, changes = (entries[0] if entries else first), changes + entries[1:]
        for value in own_values(call, app, window):
            sources |= value_sources(call, value)
        name = window_name(call, status, window)
        events.append(FeedEvent(_uid("application", app.application_id, window), window,
                                f"{name}截止（申请 {app.application_id}）",
                                f"{call.title}：申请 {app.application_id} 的{name}截止。{app.binding.get(window, '')}",
                                at, revisions(known, changes + call_changes(status, sources))))
    events += [materials_event(inp, status, app.application_id, h) for h in hearings]
    return Feed(f"{call.title}：申请 {app.application_id}（截止时间）", call.timezone, list(call.reminders), events)


def materials_event(inp: CallInput, status: CallStatus, application_id: str, hearing: Hearing) -> FeedEvent:
    """The materials deadline of an application's defence slot, the hearing's time in its description."""
    call, x, window = inp.call, hearing.slot, MATERIALS_KEY + hearing.phase
    name = window_name(call, status, hearing.phase)
    hears = f"{written(call.zone, x.starts)}至{x.ends.astimezone(call.zone):%H:%M}"
    opened = status.timetable.get(hearing.phase).opens
    return FeedEvent(_uid("application", application_id, window), window,
                     f"{name}材料截止（申请 {application_id}）",
                     f"{call.title}：申请 {application_id} 的{name}材料（汇报材料、联系表）提交截止；答辩时间{hears}",
                     x.materials_due, Revisions(0, opened or origin(call, status)))


def own_values(call: CallDefinition, app: ApplicationStatus, window: str) -> list[CloseValue]:
    """The closes of `window` the call file states for who the application is (its category's, and those of the
    overrides that select it)."""
    values = [c.closes[window] for c in call.categories if c.id == app.category and window in c.closes]
    return values + [o.closes[window] for o in call.overrides
                     if window in o.closes and o.who.selects(app.category, app.cohort, app.recommender)]
