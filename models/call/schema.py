"""The pydantic schema of a call file: phases, chain, categories, quotas, calendar years, and their coherence."""

from __future__ import annotations

import hashlib
import json
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AwareDatetime,
    Field,
    field_validator,
    model_validator,
)

from models.call.closes import CloseOverride, CloseValue, Level, Party, close_problems
from models.call.documents import PaperDocument
from models.call.quota import QuotaDef
from models.call.review import ReviewDef
from models.call.rule_places import rule_problems
from models.call.timeline import timeline_problems
from models.facts import Province
from models.rules import AttachmentDef, RuleDef
from models.strict import Slug, Strict

Role = Literal[
    "applicant",
    "cto",
    "unit_admin",
    "recommender",
    "agency",
    "manager",
    "expert",
    "committee",
    "public",
    "system",
]
ROLES: tuple[str, ...] = Role.__args__  # type: ignore[attr-defined]

PhaseKind = Literal[
    "application",
    "recommendation",
    "paper",
    "formal_review",
    "expert_review",
    "publicity",
    "contract",
]
# The stages an application passes through are the phases of these kinds that a call lists, in this relative order
# (expert_review may repeat: 003 has panels); a paper phase comes before formal review, or after publicity (paper
# only from funded projects). Windows may overlap in time: the order is of stages, not of dates.
PHASE_ORDER: tuple[str, ...] = PhaseKind.__args__  # type: ignore[attr-defined]
REQUIRED_KINDS = ("application",)


class WorkingHours(Strict):
    """Daily hours inside a window, e.g. the paper window of 000: working days 08:30-17:30."""

    start: time
    end: time
    working_days_only: bool = True

    @field_validator("start", "end", mode="before")
    @classmethod
    def _quoted(cls, value: object) -> object:
        if isinstance(value, int | float) and not isinstance(value, bool):
            # YAML 1.1 reads an unquoted 17:30 as 17 * 60 + 30 and 17:30:00 as 17 * 3600 + 30 * 60
            seconds = int(value) * 60 if value < 24 * 60 else int(value)
            raise ValueError(
                f"write the time in quotes, e.g. \"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}\" "
                f"(unquoted, YAML reads it as the number {value})"
            )
        return value

    @field_validator("start", "end")
    @classmethod
    def _wall_clock(cls, value: time) -> time:
        if value.tzinfo is not None:
            raise ValueError(f"{value.isoformat()} has an offset: daily hours are wall-clock times in the call's timezone")
        return value

    @model_validator(mode="after")
    def _ordered(self) -> WorkingHours:
        if self.end <= self.start:
            raise ValueError(f"end {self.end} is not after start {self.start}")
        return self


class AfterOpening(Strict):
    """A close relative to the moment the phase opened: N working days or N calendar days."""

    working_days: int | None = Field(default=None, ge=1)
    days: int | None = Field(default=None, ge=1)

    @model_validator(mode="after")
    def _one(self) -> AfterOpening:
        if (self.working_days is None) == (self.days is None):
            raise ValueError("give exactly one of working_days or days")
        return self

    def describe(self) -> str:
        return f"{self.working_days} working days after opening" if self.working_days else \
            f"{self.days} days after opening"


class PhaseDef(Strict):
    """One phase of the call. `opens`: a date, `previous` (when the phase before closes) or `manual`."""

    id: Slug
    kind: PhaseKind
    name: str
    opens: AwareDatetime | Literal["previous", "manual"] = "previous"
    closes: AwareDatetime | AfterOpening | Literal["manual"] = "manual"
    hours: WorkingHours | None = None
    role: Role | None = None
    categories: list[Slug] = Field(default_factory=list)  # a paper or review phase only these categories pass (答辩)
    note: str | None = None

    @model_validator(mode="after")
    def _window(self) -> PhaseDef:
        if isinstance(self.opens, datetime) and isinstance(self.closes, datetime) and self.closes <= self.opens:
            raise ValueError(f"closes {self.closes.isoformat()} is not after opens {self.opens.isoformat()}")
        if self.kind == "expert_review" and self.role is None:
            raise ValueError("an expert_review phase names the role that reviews in it (role: expert)")
        if self.kind != "expert_review" and self.role is not None:
            raise ValueError("only expert_review phases take a role")
        return self


class StepDeadline(Strict):
    """A step's deadline: the close of a phase, N working days after the application reached the step, or an instant
    of its own (a college's internal pre-review tier, due before the provincial close)."""

    phase: Slug | None = None
    working_days: int | None = Field(default=None, ge=1)
    at: AwareDatetime | None = None

    @model_validator(mode="after")
    def _one(self) -> StepDeadline:
        if [self.phase, self.working_days, self.at].count(None) != 2:
            raise ValueError("give exactly one of phase, working_days or at")
        return self


class StepDef(Strict):
    """One step of the approval chain an application passes after submission."""

    id: Slug
    name: str
    role: Role
    when: Slug | None = None
    deadline: StepDeadline | None = None
    can_return: bool = True
    level: Level | None = None  # a recommender step only applications passing a unit of this level take
    overdue: Literal["lapse", "escalate"] = "lapse"  # escalate: a service deadline (the agency's), late action allowed

    @field_validator("role")
    @classmethod
    def _actor_role(cls, role: str) -> str:
        if role in ("system", "public"):
            raise ValueError(f"role {role!r} cannot approve a step")
        return role


class FlagDef(Strict):
    """A yes/no fact declared on an application (e.g. enterprise_led) that conditions steps."""

    id: Slug
    name: str


class CategoryDef(Strict):
    id: Slug
    name: str
    funding_cny: int | None = Field(default=None, ge=0)
    planned: int | None = Field(default=None, ge=0)
    term_months: int | None = Field(default=None, ge=1)
    closes: dict[str, CloseValue] = Field(default_factory=dict)

class CalendarYear(Strict):
    """An official holiday list for a year chinese-calendar does not cover yet, shipped with the call."""

    year: int
    source: str
    holidays: list[date]
    workdays: list[date] = Field(default_factory=list)

    @model_validator(mode="after")
    def _in_year(self) -> CalendarYear:
        for d in [*self.holidays, *self.workdays]:
            if d.year != self.year:
                raise ValueError(f"date {d} is not in year {self.year}")
        return self


class Batch(Strict):
    """A review batch of a rolling intake: the applications submitted before its cut (and at or after the cut before
    it) are reviewed together."""

    id: Slug
    cut: AwareDatetime
    note: str | None = None


class Intake(Strict):
    """Single call, or a rolling intake reviewed in batches (002): its batches and their cuts, or one batch of it."""

    mode: Literal["single", "rolling"] = "single"
    series: str | None = None
    batch: int | None = Field(default=None, ge=1)
    batches: list[Batch] = Field(default_factory=list)

    @model_validator(mode="after")
    def _rolling(self) -> Intake:
        if self.mode == "rolling" and not self.batches and (self.series is None or self.batch is None):
            raise ValueError("a rolling intake lists its batches (id and cut), or names its series and batch number")
        return self

    def batch_of(self, submitted: datetime) -> Batch | None:
        """The batch an application submitted at `submitted` joins: the first whose cut it meets (strictly before)."""
        return next((b for b in self.batches if submitted < b.cut), None)


class Unchecked(Strict):
    """A rule sentence of the notice that grantflow does not check, and why (a person judges it, or it is no rule)."""

    sentence: str = Field(min_length=1)
    why: str = Field(min_length=1)


class CallDefinition(Strict):
    id: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]*$")]
    title: str
    issuer: str
    issued: date | None = None
    source: str
    programme: str
    province: Province | None = None
    timezone: str = "Asia/Shanghai"
    intake: Intake = Intake()
    forwarded_to: str | None = None  # a call without a contract phase: where its applications go (system of record)
    categories: list[CategoryDef] = Field(min_length=1)
    phases: list[PhaseDef] = Field(min_length=1)
    chain: list[StepDef] = Field(min_length=1)
    flags: list[FlagDef] = Field(default_factory=list)
    attachments: list[AttachmentDef] = Field(default_factory=list)
    rules: list[RuleDef] = Field(default_factory=list)
    reminders: list[timedelta] = Field(default_factory=lambda: [timedelta(days=d) for d in (7, 3, 1)]
                                       + [timedelta(hours=2)])
    escalate_after_working_days: int = Field(default=2, ge=0)  # overdue service steps go to the manager then
    quotas: list[QuotaDef] = Field(default_factory=list)
    calendar: list[CalendarYear] = Field(default_factory=list)
    # documentation of the file, not behaviour: left out of the dump, so of the version and the workflows' input
    unchecked: list[Unchecked] = Field(default_factory=list, exclude=True)
    documents: list[PaperDocument] = Field(default_factory=list, exclude=True)  # the paper checklist, client side
    cohorts: list[Party] = Field(default_factory=list)  # e.g. 港澳台申请人, with closes of their own (overrides)
    recommenders: list[Party] = Field(default_factory=list)  # recommending units whose closes differ (overrides)
    overrides: list[CloseOverride] = Field(default_factory=list)
    review: ReviewDef | None = None  # set (defaults filled in) when a file is loaded; absent in older histories

    @field_validator("timezone")
    @classmethod
    def _zone(cls, name: str) -> str:
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown timezone {name!r}") from None
        return name

    @model_validator(mode="after")
    def _coherent(self) -> CallDefinition:
        problems: list[str] = []
        ids = [p.id for p in self.phases]
        problems += [f"phases: duplicate phase id {i!r}" for i in sorted({i for i in ids if ids.count(i) > 1})]
        kinds = [p.kind for p in self.phases]
        problems += [f"phases: a {k} phase is required" for k in REQUIRED_KINDS if k not in kinds]
        steps = [s.id for s in self.chain]
        problems += [f"quotas: unknown step {q.step!r} (steps: {', '.join(steps)})" for q in self.quotas
                     if q.step not in steps]
        problems += timeline_problems(self)
        problems += quota_problems(self)
        if self.phases and self.phases[0].opens == "previous":
            problems.append(f"phases: the first phase {self.phases[0].id} cannot open 'previous'")
        flags = {f.id for f in self.flags}
        phase_ids = set(ids)
        steps = [s.id for s in self.chain]
        problems += [f"chain: duplicate step id {i!r}" for i in sorted({i for i in steps if steps.count(i) > 1})]
        for s in self.chain:
            if s.when and s.when not in flags:
                problems.append(f"chain.{s.id}.when: unknown flag {s.when!r} (declare it under flags)")
            if s.deadline and s.deadline.phase and s.deadline.phase not in phase_ids:
                problems.append(f"chain.{s.id}.deadline.phase: unknown phase {s.deadline.phase!r}")
        if self.chain and all(s.when for s in self.chain):
            problems.append("chain: at least one step must apply to every application (no 'when')")
        for att in self.attachments:
            if att.when and att.when not in flags:
                problems.append(f"attachments.{att.kind}.when: unknown flag {att.when!r}")
        problems += [f"attachments: kind {k!r} listed twice" for k in _repeated([a.kind for a in self.attachments])]
        problems += rule_problems(self)
        problems += close_problems(self)
        for kind, parties in (("cohorts", self.cohorts), ("recommenders", self.recommenders)):
            problems += [f"{kind}: duplicate id {i!r}" for i in _repeated([x.id for x in parties])]
        years = [y.year for y in self.calendar]
        problems += [f"calendar: year {y} listed twice" for y in sorted({y for y in years if years.count(y) > 1})]
        reviews = {p.id for p in self.phases if p.kind == "expert_review"}
        problems += [f"review.stages: {s!r} is not an expert_review phase" for s in (self.review.stages if self.review
                                                                                    else ()) if s not in reviews]
        if problems:
            raise ValueError("; ".join(problems))
        return self

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def phase(self, phase_id: str) -> PhaseDef:
        for p in self.phases:
            if p.id == phase_id:
                return p
        raise KeyError(f"call {self.id} has no phase {phase_id!r}")

    def phase_of_kind(self, kind: str) -> PhaseDef | None:
        return next((p for p in self.phases if p.kind == kind), None)

    def step(self, step_id: str) -> StepDef:
        for s in self.chain:
            if s.id == step_id:
                return s
        raise KeyError(f"call {self.id} has no step {step_id!r}")

    def category(self, category_id: str) -> CategoryDef:
        for c in self.categories:
            if c.id == category_id:
                return c
        known = ", ".join(c.id for c in self.categories)
        raise KeyError(f"call {self.id} has no category {category_id!r} (known: {known})")

    def version(self) -> str:
        """Content hash of the definition: the rule version an application starts under."""
        return _version_of(self.model_dump_json(exclude={"review"} if self.review is None else None))

    def quotes(self) -> list[str]:
        """Every notice sentence the file accounts for: those its rules and attachments check, those it leaves."""
        return ([r.seed for r in self.rules] + [a.seed for a in self.attachments if a.seed]
                + [u.sentence for u in self.unchecked])

    def dated_instants(self) -> list[datetime]:
        """Every absolute instant the file states (phase bounds, closes for who applies, step instants, batch cuts)."""
        out: list[datetime] = []
        for p in self.phases:
            out += [v for v in (p.opens, p.closes) if isinstance(v, datetime)]
        for closes in [*(c.closes for c in self.categories), *(o.closes for o in self.overrides)]:
            out += [v for v in closes.values() if isinstance(v, datetime)]
        out += [s.deadline.at for s in self.chain if s.deadline and s.deadline.at]
        return out + [b.cut for b in self.intake.batches]


def _repeated(items: list[str]) -> list[str]:
    return sorted({i for i in items if items.count(i) > 1})

def quota_problems(call: CallDefinition) -> list[str]:
    """Quota ids unique, categories known, planned counts present where a quota uses them."""
    keys = [q.key for q in call.quotas]
    out = [f"quotas: duplicate quota {k!r} (give each an id)" for k in sorted({k for k in keys if keys.count(k) > 1})]
    known = {c.id for c in call.categories}
    out += [f"quotas.{q.key}.category: unknown category {q.category!r}" for q in call.quotas
            if q.category is not None and q.category not in known]
    out += [f"quotas.{q.key}.planned: category {c.id!r} has no planned count" for q in call.quotas if q.planned
            for c in call.categories if c.planned is None]
    return out


def shared(call: CallDefinition) -> CallDefinition:
    """The process's one instance of `call`'s content. Every application workflow of a call decodes its own copy of
    the definition from its input (~60 KiB of objects); holding the shared one instead keeps one per call version.
    The definition is frozen, so sharing it across workflows changes nothing they can see."""
    return _shared(call.model_dump_json())


def definition_from_json(definition_json: str) -> CallDefinition:
    """The process's one instance of a definition stored as JSON (the records' call row holds `model_dump_json()`,
    so it is the instance the workflows share)."""
    return _shared(definition_json)


@lru_cache(maxsize=64)
def _shared(definition_json: str) -> CallDefinition:
    return CallDefinition.model_validate_json(definition_json)


@lru_cache(maxsize=256)
def _version_of(definition_json: str) -> str:
    canonical = json.dumps(json.loads(definition_json), sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]
