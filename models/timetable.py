"""A call's timetable at run time: each phase's planned and actual open/close instants, versioned by `seq`."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from models.calendar import WorkingCalendar
from models.call import AfterOpening, CallDefinition
from models.extensions import Extension


@dataclass
class Hours:
    start: time
    end: time
    working_days_only: bool


@dataclass
class PhaseTime:
    id: str
    kind: str
    name: str
    opens_rule: str  # date | previous | manual
    closes_rule: str  # date | manual | working_days | days
    closes_after: int = 0
    opens: datetime | None = None  # planned, or actual once opened
    closes: datetime | None = None  # planned, computed, extended, or actual once closed
    opened: bool = False
    closed: bool = False
    hours: Hours | None = None
    role: str | None = None


@dataclass(frozen=True)
class Boundary:
    at: datetime
    phase: str
    edge: str  # opens | closes


@dataclass
class Timetable:
    call_id: str
    timezone: str
    phases: list[PhaseTime] = field(default_factory=list)
    seq: int = 0
    extensions: list[Extension] = field(default_factory=list)  # conditional extensions, in the order made

    @classmethod
    def from_definition(cls, call: CallDefinition, calendar: WorkingCalendar) -> Timetable:
        phases = []
        for p in call.phases:
            closes_rule, after = "manual", 0
            if isinstance(p.closes, datetime):
                closes_rule = "date"
            elif isinstance(p.closes, AfterOpening):
                closes_rule = "working_days" if p.closes.working_days else "days"
                after = p.closes.working_days or p.closes.days or 0
            phases.append(
                PhaseTime(
                    id=p.id,
                    kind=p.kind,
                    name=p.name,
                    opens_rule="date" if isinstance(p.opens, datetime) else p.opens,
                    closes_rule=closes_rule,
                    closes_after=after,
                    opens=p.opens if isinstance(p.opens, datetime) else None,
                    closes=p.closes if isinstance(p.closes, datetime) else None,
                    hours=Hours(p.hours.start, p.hours.end, p.hours.working_days_only) if p.hours else None,
                    role=p.role,
                )
            )
        table = cls(call_id=call.id, timezone=call.timezone, phases=phases)
        table.propagate(calendar)
        return table

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def get(self, phase_id: str) -> PhaseTime:
        for p in self.phases:
            if p.id == phase_id:
                return p
        raise KeyError(f"unknown phase {phase_id!r} (phases: {', '.join(p.id for p in self.phases)})")

    def of_kind(self, kind: str) -> PhaseTime | None:
        return next((p for p in self.phases if p.kind == kind), None)

    def index(self, phase_id: str) -> int:
        return next(i for i, p in enumerate(self.phases) if p.id == phase_id)

    def is_open(self, phase_id: str, now: datetime) -> bool:
        p = self.get(phase_id)
        return p.opens is not None and p.opens <= now and (p.closes is None or now < p.closes)

    def current(self) -> PhaseTime | None:
        """The phase open now (opened, not closed), or None between phases."""
        return next((p for p in self.phases if p.opened and not p.closed), None)

    def next_boundary(self) -> Boundary | None:
        """The earliest planned boundary not yet applied whose instant is known."""
        for p in self.phases:
            if not p.opened:
                return Boundary(p.opens, p.id, "opens") if p.opens else None
            if not p.closed:
                return Boundary(p.closes, p.id, "closes") if p.closes else None
        return None

    def finished(self) -> bool:
        return all(p.closed for p in self.phases)

    def mark_opened(self, phase_id: str, at: datetime, calendar: WorkingCalendar) -> None:
        p = self.get(phase_id)
        p.opened, p.opens = True, at
        if p.closes_rule in ("working_days", "days"):
            p.closes = close_after(at, p.closes_rule, p.closes_after, calendar, self.zone)
        self.propagate(calendar)

    def mark_closed(self, phase_id: str, at: datetime, calendar: WorkingCalendar) -> None:
        p = self.get(phase_id)
        p.closed, p.closes = True, at
        self.propagate(calendar)

    def set_close(self, phase_id: str, closes: datetime, calendar: WorkingCalendar) -> None:
        self.get(phase_id).closes = closes
        self.propagate(calendar)

    def propagate(self, calendar: WorkingCalendar) -> None:
        """Recompute planned instants of phases not yet opened from the rules and their predecessors."""
        for prev, p in zip([None, *self.phases], self.phases):
            if p.opened:
                continue
            if p.opens_rule == "previous":
                p.opens = prev.closes if prev is not None else None
            if p.closes_rule in ("working_days", "days"):
                p.closes = (
                    close_after(p.opens, p.closes_rule, p.closes_after, calendar, self.zone) if p.opens else None
                )

    def shifted(self, days: int) -> Timetable:
        d = timedelta(days=days)
        return replace(
            self,
            phases=[
                replace(p, opens=p.opens + d if p.opens else None, closes=p.closes + d if p.closes else None)
                for p in self.phases
            ],
        )


def close_after(opened: datetime, rule: str, n: int, calendar: WorkingCalendar, zone: ZoneInfo) -> datetime:
    """Close of a phase that lasts n working days (end of the n-th working day after opening) or n days."""
    if rule == "working_days":
        return calendar.end_after_working_days(opened, n, zone)
    return opened + timedelta(days=n)


def within_hours(hours: Hours, now: datetime, calendar: WorkingCalendar, zone: ZoneInfo) -> str | None:
    """Why `now` is outside a window's daily hours, or None when inside."""
    local = now.astimezone(zone)
    if hours.working_days_only and not calendar.is_workday(local.date()):
        return f"{local.date()} is not a working day"
    if not (hours.start <= local.time() < hours.end):
        return f"{local:%H:%M:%S} is outside the hours {hours.start:%H:%M}-{hours.end:%H:%M}"
    return None
