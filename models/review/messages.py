"""What crosses the review stage workflow's boundary: its input, tasks, reviews, requests, outcomes and status."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from models.calendar import WorkingCalendar
from models.call import CallDefinition
from models.identity import Identity

OPEN, SUBMITTED, DECLINED, LAPSED = "open", "submitted", "declined", "lapsed"
ABSENT = "absent"  # a defence task whose application did not attend its slot (逾期未参加视为弃权)


def stage_workflow_id(call_id: str, phase_id: str) -> str:
    return f"review-{call_id}-{phase_id}"


@dataclass
class Pair:
    application_id: str
    expert_id: str
    category: str


@dataclass
class DefenceSlot:
    """An application's hearing in a defence: its time and materials deadline, and the applicant its notices go to
    (the panel is in the stage's tasks, never shown to applicants)."""

    application_id: str
    category: str
    applicant: str
    starts: datetime
    ends: datetime
    materials_due: datetime
    scores_due: datetime  # the panel's score sheets: the end of the slot's day
    reminded: list[str] = field(default_factory=list)  # the materials reminders sent


@dataclass
class Absence:
    """An application recorded absent at its defence slot: who recorded it, in which role, when and why."""

    application_id: str
    actor_id: str
    role: str
    at: datetime
    reason: str


@dataclass
class MaterialsRequest:
    """An applicant's defence materials (slides, liaison form) for one application, by the content's SHA-256."""

    application_id: str
    actor_id: str
    content_sha256: str
    identity: Identity | None = None


@dataclass
class Drawn:
    """A stage's draw as recorded: the pairs, the seed, the pool and request hashes, and the audit figures."""

    pairs: list[Pair]
    seed: int
    pool_hash: str
    request_hash: str
    conflicts_violated: int
    load_min: int
    load_max: int
    short: list[str] = field(default_factory=list)  # applications that could not get k eligible experts
    slots: list[DefenceSlot] = field(default_factory=list)  # a defence's hearings, in time order


@dataclass
class Task:
    """One expert's review of one application, with its own deadline; experts are never shown to applicants."""

    application_id: str
    expert_id: str
    category: str
    assigned_at: datetime
    due: datetime
    status: str = OPEN
    reason: str = ""
    reminded: list[str] = field(default_factory=list)
    replaced: bool = False  # a declined or lapsed task whose replacement was sought


@dataclass
class Review:
    application_id: str
    expert_id: str
    scores: dict[str, int]
    comments: dict[str, str]
    total: float
    at: datetime
    version: int = 1
    final: bool = True  # False while a manager has reopened it


@dataclass
class ReviewRequest:
    """An expert's review (scores per criterion, comments) or decline of one assigned application."""

    application_id: str
    expert_id: str
    role: str
    scores: dict[str, int] = field(default_factory=dict)
    comments: dict[str, str] = field(default_factory=dict)
    reason: str = ""
    identity: Identity | None = None  # who sent it: must be the assigned expert, holding the stage's role


@dataclass
class ManagerRequest:
    """A manager's (or committee's) act on a stage: reopen a review, approve the ranked list."""

    actor_id: str
    role: str
    reason: str
    application_id: str = ""
    expert_id: str = ""
    identity: Identity | None = None  # who sent it: a manager (or committee member) of the call


@dataclass
class Vacancy:
    """A funded application dropped after an upheld objection: its place goes to the next reserve."""

    application_id: str
    category: str
    actor_id: str
    reason: str
    objector: str = ""


@dataclass
class Outcome:
    """What a stage decided for one application, told to its workflow as a system transition."""

    application_id: str
    trigger: str  # advance | eliminate | fund | reserve | promote
    reason: str
    data: dict[str, str] = field(default_factory=dict)


@dataclass
class Settled:
    """A stage's aggregation and ranking: each application's outcome, the ranked lists, outliers to look at."""

    outcomes: list[Outcome]
    ranking: dict[str, list[int]]  # category -> [funded, planned]
    funded: dict[str, list[str]] = field(default_factory=dict)
    reserves: dict[str, list[str]] = field(default_factory=dict)
    outliers: list[str] = field(default_factory=list)


@dataclass
class StageInput:
    call: CallDefinition
    calendar: WorkingCalendar
    phase_id: str
    opened: datetime
    closes: datetime | None
    final: bool
    previous: str | None = None  # the previous stage's workflow id: its outcomes come first
    carried: StageState | None = None


@dataclass
class StageState:
    drawn: Drawn | None = None
    tasks: list[Task] = field(default_factory=list)
    reviews: list[Review] = field(default_factory=list)
    settled: Settled | None = None
    decided: bool = False
    closed: bool = False
    reassigned: int = 0
    late: int = 0
    notices: int = 0
    promoted: list[str] = field(default_factory=list)
    vacancies: list[Vacancy] = field(default_factory=list)
    log: list[str] = field(default_factory=list)  # every manager act and reassignment: who, when, why
    absent: list[Absence] = field(default_factory=list)
    materials: dict[str, datetime] = field(default_factory=dict)  # application -> when its defence materials came


@dataclass
class StageProgress:
    """A stage at a glance, cheap to ask often: whether it is drawn, settled and decided, and its open tasks."""

    drawn: bool
    settled: bool
    decided: bool
    open: list[Task]


@dataclass
class StageStatus:
    call_id: str
    phase_id: str
    state: StageState
