"""Dataclasses that cross the workflow boundary: inputs, update requests, signals, query results."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from models.calendar import WorkingCalendar
from models.call import CallDefinition
from models.forms import ApplicationForm
from models.identity import Identity
from models.rules import Verdict
from models.timetable import Timetable


def call_workflow_id(call_id: str) -> str:
    return f"call-{call_id}"


def application_workflow_id(application_id: str) -> str:
    return f"application-{application_id}"


@dataclass
class TransitionRecord:
    """One state change as the history proves it: what, when, by whom, why, under which deadline."""

    seq: int
    trigger: str
    source: str
    dest: str
    actor_id: str
    role: str
    reason: str
    at: datetime
    deadline: datetime | None = None
    data: dict[str, str] = field(default_factory=dict)


@dataclass
class ReminderRecord:
    """A reminder, overdue notice or escalation the workflow sent: when, in which state, to which roles."""

    key: str
    kind: str  # reminder | overdue | escalation
    at: datetime
    state: str
    roles: list[str]


@dataclass
class ActRequest:
    trigger: str
    actor_id: str
    role: str
    reason: str = ""
    data: dict[str, str] = field(default_factory=dict)
    identity: Identity | None = None  # who sent it, with a snapshot of its grants; histories before it have none


@dataclass
class ExtendRequest:
    """Move one deadline later: a phase id, or `step:<id>` for a chain step (per application only)."""

    window: str
    closes: datetime
    actor_id: str
    role: str
    reason: str
    identity: Identity | None = None


@dataclass
class ExtendForRequest:
    """In one act, move some deadlines (window key -> new close) for the applications the predicate selects."""

    closes: dict[str, datetime]
    actor_id: str
    role: str
    reason: str
    category: list[str] = field(default_factory=list)
    cohort: list[str] = field(default_factory=list)
    recommender: list[str] = field(default_factory=list)
    unit: list[str] = field(default_factory=list)
    created_before: datetime | None = None
    identity: Identity | None = None


@dataclass
class ReviseRequest:
    """A corrected call definition, published by a manager; running applications keep theirs unless migrated."""

    definition: CallDefinition
    actor_id: str
    role: str
    reason: str
    identity: Identity | None = None


@dataclass
class MigrateRequest:
    """Move one running application to the call's revised definition."""

    definition: CallDefinition
    actor_id: str
    role: str
    reason: str
    identity: Identity | None = None


@dataclass
class PhaseRequest:
    actor_id: str
    role: str
    reason: str
    identity: Identity | None = None
    until: datetime | None = None  # `phase advance --until`: the phase opened closes then (its dated close passed)


@dataclass
class QuotaRequest:
    """A programme manager sets a quota the notice leaves to the system (名额以系统显示为准)."""

    quota: str
    limit: int
    actor_id: str
    role: str
    reason: str
    identity: Identity | None = None


@dataclass
class NoticeDraft:
    key: str
    call_id: str
    application_id: str | None
    recipient: str
    kind: str
    data: dict[str, str] = field(default_factory=dict)


@dataclass
class ApplicationState:
    """Everything an application workflow carries across continue-as-new."""

    state: str
    transitions: list[TransitionRecord] = field(default_factory=list)
    step_deadlines: dict[str, datetime] = field(default_factory=dict)
    extensions: dict[str, datetime] = field(default_factory=dict)
    formal_findings: list[str] = field(default_factory=list)
    reminded: list[str] = field(default_factory=list)
    notices: int = 0
    verdicts: list[Verdict] = field(default_factory=list)
    reminder_log: list[ReminderRecord] = field(default_factory=list)
    receipt: str = ""  # receipt number of the latest submission, printed on the summary form
    content_sha256: str = ""  # hash of the online version that submission froze
    created: datetime | None = None  # when the application's first run started; None: runs from before it was kept


@dataclass
class ApplicationInput:
    call: CallDefinition
    calendar: WorkingCalendar
    timetable: Timetable
    application_id: str
    category: str
    title: str
    people: dict[str, str]
    flags: dict[str, bool] = field(default_factory=dict)
    attachments: list[str] = field(default_factory=list)
    carried: ApplicationState | None = None
    form: ApplicationForm | None = None  # with a form, formal review evaluates the call's rules on it
    shift_days: int = 0  # a rehearsal's translation: rules judge instants in the call's own dates
    cohort: str = ""  # the applicant cohort (港澳台申请人, say) whose closes the call file may state


@dataclass
class ApplicationStatus:
    call_id: str
    application_id: str
    state: str
    closed: bool
    version: str
    deadlines: dict[str, datetime | None]
    transitions: list[TransitionRecord]
    formal_findings: list[str]
    timetable_seq: int
    verdicts: list[Verdict] = field(default_factory=list)
    reminders: list[ReminderRecord] = field(default_factory=list)
    receipt: str = ""
    content_sha256: str = ""
    category: str = ""
    cohort: str = ""
    recommender: str = ""
    binding: dict[str, str] = field(default_factory=dict)  # window key -> the rule that made its close bind
    timezone: str = "Asia/Shanghai"  # the call's, in which its instants are shown
    people: dict[str, str] = field(default_factory=dict)  # who acts for it: applicant, unit, recommender, cto


@dataclass
class OnlineVersion:
    """What the applicant submitted, under the definition the application runs by: the printable form shows it, and
    the latest submission's receipt and content hash froze it."""

    call: CallDefinition
    application_id: str
    category: str
    title: str
    people: dict[str, str]
    flags: dict[str, bool]
    attachments: list[str]
    form: ApplicationForm | None
    receipt: str
    content_sha256: str


@dataclass
class CallEvent:
    """A change of the call's timetable and who made it (the system, at a planned instant, or a manager)."""

    seq: int
    kind: str  # opened | closed | extended | revised, quota_set (phase "" for these two)
    phase: str
    at: datetime
    actor_id: str
    role: str
    reason: str
    previous: datetime | None = None
    new: datetime | None = None
    detail: str = ""  # a revision: "version OLD -> NEW"; a quota set: "quota ID: OLD -> NEW"


@dataclass
class CallInput:
    call: CallDefinition
    calendar: WorkingCalendar
    timetable: Timetable
    events: list[CallEvent] = field(default_factory=list)


@dataclass
class CallStatus:
    call_id: str
    version: str
    current_phase: str | None
    timetable: Timetable
    events: list[CallEvent]
    published_seq: int = -1
