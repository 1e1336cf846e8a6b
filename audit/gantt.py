"""A call's timeline as a picture (SVG): a row per phase, its planned or actual window, and a row per category
whose own close differs, with that close marked; windows without dates are drawn open-ended and say why."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from jinja2 import Environment, PackageLoader, select_autoescape

from models.calendar import CalendarNotCovered, WorkingCalendar
from models.call import CallDefinition
from models.deadlines import Deadlines
from models.timetable import Timetable

_ENV = Environment(loader=PackageLoader("audit", "templates"), autoescape=select_autoescape(["svg", "j2"]))
LABEL_W, PLOT_W, ROW_H = 260, 720, 24


@dataclass
class Mark:
    x: float
    title: str


@dataclass
class Row:
    label: str
    y: int
    bar: bool = False
    dated: bool = False
    x: float = LABEL_W
    w: float = 0
    title: str = ""
    note: str = ""
    closes: list[Mark] = field(default_factory=list)


def _local(call: CallDefinition, t: datetime) -> str:
    return t.astimezone(call.zone).strftime("%Y年%-m月%-d日%H:%M")


def _category_closes(call: CallDefinition, category: str, timetable: Timetable,
                     calendar: WorkingCalendar) -> dict[str, datetime]:
    """A category's own closes by phase, those relative to another close resolved by the deadline rule."""
    rule = Deadlines(call, category, timetable, calendar, {}, {})
    out: dict[str, datetime] = {}
    for phase_id in call.category(category).closes:
        try:
            at = rule.phase_close(phase_id)
        except CalendarNotCovered:
            continue
        if at is not None:
            out[phase_id] = at
    return out


def gantt_svg(call: CallDefinition, timetable: Timetable, calendar: WorkingCalendar) -> str:
    """The timeline of `timetable` (planned or as it ran) for `call`, in the call's timezone; `calendar` is the one
    the call runs with (relative closes in working days are counted with it)."""
    instants = [t for p in timetable.phases for t in (p.opens, p.closes) if t is not None]
    own_closes = {c.id: _category_closes(call, c.id, timetable, calendar) for c in call.categories}
    instants += [t for closes in own_closes.values() for t in closes.values()]
    start = min(instants, default=datetime.now(call.zone))
    end = max(instants, default=start + timedelta(days=30))
    end = end if end > start else start + timedelta(days=1)
    span = (end - start).total_seconds()

    def x(t: datetime) -> float:
        return LABEL_W + PLOT_W * (t - start).total_seconds() / span

    rows: list[Row] = []
    for p in timetable.phases:
        row = Row(f"{p.name} ({p.id})", 24 + ROW_H * len(rows))
        if p.opens is not None:
            row.bar, row.x = True, x(p.opens)
            row.dated = p.closes is not None
            closes = p.closes or end
            row.w = max(2.0, x(closes) - row.x)
            row.title = f"{p.name}: {_local(call, p.opens)} - " + (_local(call, p.closes) if p.closes else p.closes_rule)
            if p.closes is None:
                row.note = "closes by a manager" if p.closes_rule == "manual" else f"closes {p.closes_after} {p.closes_rule}"
        else:
            row.note = "opens by a manager" if p.opens_rule == "manual" else "opens when the phase before closes"
        rows.append(row)
        for c in call.categories:
            own = own_closes[c.id].get(p.id)
            if own is not None and own != p.closes:
                rows.append(Row(f"  {c.name} ({c.id})", 24 + ROW_H * len(rows),
                                closes=[Mark(x(own), f"{c.name}: {p.name} closes {_local(call, own)}")],
                                note=_local(call, own)))
    days = max(1, round(span / 86_400 / 8))
    ticks = [{"x": x(start + timedelta(days=d)), "label": (start + timedelta(days=d)).astimezone(call.zone).strftime("%-m/%-d")}
             for d in range(0, int(span / 86_400) + 1, days)]
    return _ENV.get_template("gantt.svg.j2").render(
        title=f"{call.title} ({call.id})", rows=rows, ticks=ticks, width=LABEL_W + PLOT_W + 160,
        height=24 + ROW_H * len(rows) + 20)
