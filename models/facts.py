"""What a formal-review rule reads: the form, a registry snapshot (plain dataclasses), the submission instant."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Annotated, Literal
from zoneinfo import ZoneInfo

from pydantic import Field

from models.duplicates import PriorWork
from models.forms import ApplicationForm

Province = Annotated[str, Field(pattern=r"^CN(-[A-Z]{2})?$")]  # ISO 3166-2: CN-SX Shanxi, CN-GX Guangxi; CN national
TitleLevel = Literal["none", "junior", "intermediate", "associate_senior", "full_senior"]
TITLE_LEVELS: tuple[str, ...] = TitleLevel.__args__  # type: ignore[attr-defined]
Degree = Literal["none", "bachelor", "master", "phd"]
DEGREES: tuple[str, ...] = Degree.__args__  # type: ignore[attr-defined]
UnitKind = Literal["enterprise", "university", "research_institute", "state_organ", "social_organisation", "other"]
Sex = Literal["male", "female"]
AdminLevel = Literal["central", "provincial", "city", "county"]
StudentStatus = Literal["none", "full_time_master", "full_time_phd", "in_service_graduate"]
IdType = Literal["resident_id", "passport", "other"]
TalentLevel = Literal["A", "B", "C", "D", "E"]
ProjectRole = Literal["lead", "member"]
ProjectStatus = Literal["applied", "ongoing", "closed", "overdue", "withdrawn"]
ClosingVerdict = Literal["excellent", "good", "pass", "poor", "fail", "terminated"]


@dataclass(frozen=True)
class UnitFacts:
    id: str
    name: str
    legal_entity: bool
    registered_on: date
    province: str
    kind: UnitKind
    admin_level: AdminLevel
    high_tech: bool = False
    rd_institution: bool = False
    key_discipline: bool = False
    cto_id: str | None = None
    blacklisted_until: date | None = None
    restricted_until: date | None = None  # 限制申报: barred from applying through this day
    statuses: tuple[str, ...] = ()  # listed statuses: gazelle, sme:2024 (rated that year), top100:<list>, ...
    rd_registered_years: tuple[int, ...] = ()  # years of R&D activity registration filed (研发活动登记)


@dataclass(frozen=True)
class PersonFacts:
    id: str
    name: str
    birth_date: date
    title: TitleLevel
    degree: Degree
    unit_id: str | None
    full_time: bool = True
    student_status: StudentStatus = "none"
    civil_servant: bool = False
    academician: bool = False
    talent_level: TalentLevel | None = None
    retirement_date: date | None = None
    blacklisted_until: date | None = None
    sex: Sex | None = None
    foreign_expert: bool = False
    identity_verified: bool = True  # real-name authentication (实名认证) done
    restricted_until: date | None = None
    work_started_on: date | None = None


@dataclass(frozen=True)
class ProjectFacts:
    """One person's part in one project (or, with status `applied`, an application known to the registry)."""

    project_id: str
    person_id: str
    unit_id: str
    programme: str
    province: str
    role: ProjectRole
    rank: int
    status: ProjectStatus
    started_on: date
    ends_on: date
    call_id: str | None = None
    title: str = ""
    abstract: str = ""
    verdict: ClosingVerdict | None = None
    closed_on: date | None = None
    funds_owed: bool = False

    @property
    def ref(self) -> str:
        return self.project_id

    @property
    def closed_or_end(self) -> date:
        return self.closed_on or self.ends_on

    def in_progress(self, day: date) -> bool:
        """Ongoing or overdue (在研: 已下达立项、但未结题), as of `day`."""
        return self.status in ("ongoing", "overdue") and self.started_on <= day


@dataclass(frozen=True)
class PendingApplication:
    """Another application of the PI's still in flight in grantflow (not final, not funded)."""

    application_id: str
    call_id: str
    programme: str
    province: str | None
    submitted_on: date | None
    state: str
    pi_id: str
    unit_id: str | None

    @property
    def ref(self) -> str:
        return self.application_id


@dataclass(frozen=True)
class Snapshot:
    """The registry's cross-call facts about one form's people, units and projects."""

    pi: PersonFacts | None
    units: dict[str, UnitFacts] = field(default_factory=dict)
    people: dict[str, PersonFacts] = field(default_factory=dict)
    projects: tuple[ProjectFacts, ...] = ()
    unit_projects: tuple[ProjectFacts, ...] = ()
    pending: tuple[PendingApplication, ...] = ()
    prior_work: tuple[PriorWork, ...] = ()


@dataclass(frozen=True)
class Facts:
    """Everything a rule may read; `submitted_at` is aware and judged on its date in the call's zone."""

    form: ApplicationForm
    registry: Snapshot
    submitted_at: datetime
    zone: ZoneInfo = ZoneInfo("Asia/Shanghai")

    def __post_init__(self) -> None:
        if self.submitted_at.tzinfo is None or self.submitted_at.utcoffset() is None:
            raise ValueError(f"naive datetime {self.submitted_at.isoformat()}: the submission instant needs an offset")

    @property
    def day(self) -> date:
        """The submission day in the call's timezone."""
        return self.submitted_at.astimezone(self.zone).date()

    def unit(self, unit_id: str) -> UnitFacts | None:
        return self.registry.units.get(unit_id)

    @property
    def lead_unit(self) -> UnitFacts | None:
        return self.unit(self.form.unit_id)


def age_on(birth: date, day: date) -> int:
    """Completed years (周岁) on `day`; the age goes up on the birthday itself (29 Feb: on 1 Mar)."""
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def add_years(day: date, years: int) -> date:
    """The same calendar day `years` later (29 Feb becomes 1 Mar when the target year has none)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return date(day.year + years, 3, 1)
