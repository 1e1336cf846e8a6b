"""The registry: import from CSV or JSON with row-level errors, write, and snapshot the facts one form needs."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from dataclasses import dataclass, field, fields
from datetime import date
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from sqlalchemy import ColumnElement, func, or_
from sqlalchemy import select as select_columns
from sqlmodel import Session, SQLModel, col, select

from models.duplicates import PriorWork
from models.facts import (
    AdminLevel,
    ClosingVerdict,
    Degree,
    IdType,
    PendingApplication,
    ProjectFacts,
    ProjectRole,
    ProjectStatus,
    Province,
    Sex,
    Snapshot,
    StudentStatus,
    TalentLevel,
    TitleLevel,
    UnitKind,
)
from models.forms import ApplicationForm
from models.lifecycle import TERMINAL
from records.registry_tables import PersonRow, ProjectRow, UnitRow
from records.tables import ApplicationRow, CallRow, TransitionRow

Email = Annotated[str, Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]
Mobile = Annotated[str, Field(pattern=r"^1\d{10}$")]  # a mainland mobile number, 11 digits
ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def id_check_digit(first17: str) -> str:
    """GB 11643 check character of a resident identity number."""
    return "10X98765432"[sum(int(d) * w for d, w in zip(first17, ID_WEIGHTS)) % 11]


class Row(BaseModel):
    model_config = ConfigDict(extra="forbid")

    def key(self) -> tuple[str, ...]:
        raise NotImplementedError


class UnitIn(Row):
    id: str = Field(min_length=1)
    name: str = Field(min_length=1)
    legal_entity: bool = True
    registered_on: date
    province: Province
    kind: UnitKind
    admin_level: AdminLevel = "provincial"
    high_tech: bool = False
    rd_institution: bool = False
    key_discipline: bool = False
    cto_id: str | None = None
    blacklisted_until: date | None = None
    restricted_until: date | None = None
    statuses: list[str] = Field(default_factory=list)
    rd_registered_years: list[int] = Field(default_factory=list)
    email: Email | None = None
    mobile: Mobile | None = None

    def key(self) -> tuple[str, ...]:
        return (self.id,)

    @field_validator("statuses", "rd_registered_years", mode="before")
    @classmethod
    def _listed(cls, value: object) -> object:
        """A CSV cell lists several values separated by spaces or commas ("gazelle sme:2024", "2023,2024")."""
        return value.replace(",", " ").split() if isinstance(value, str) else value


class PersonIn(Row):
    id: str = Field(min_length=1)
    id_type: IdType = "resident_id"
    name: str = Field(min_length=1)
    birth_date: date
    title: TitleLevel = "none"
    degree: Degree = "none"
    unit_id: str | None = None
    full_time: bool = True
    student_status: StudentStatus = "none"
    civil_servant: bool = False
    academician: bool = False
    talent_level: TalentLevel | None = None
    retirement_date: date | None = None
    blacklisted_until: date | None = None
    sex: Sex | None = None
    foreign_expert: bool = False
    identity_verified: bool = True
    restricted_until: date | None = None
    work_started_on: date | None = None
    email: Email | None = None
    mobile: Mobile | None = None

    def key(self) -> tuple[str, ...]:
        return (self.id,)

    @model_validator(mode="after")
    def _resident_id(self) -> PersonIn:
        if self.id_type != "resident_id":
            return self
        if len(self.id) != 18 or not self.id[:17].isdigit():
            raise ValueError("id: a resident identity number has 17 digits and a check character")
        if self.id[17].upper() != id_check_digit(self.id[:17]):
            raise ValueError(f"id: check character {self.id[17]} is wrong (expected {id_check_digit(self.id[:17])})")
        if self.id[6:14] != self.birth_date.strftime("%Y%m%d"):
            raise ValueError(f"birth_date: {self.birth_date} differs from the identity number's {self.id[6:14]}")
        return self


class ProjectIn(Row):
    project_id: str = Field(min_length=1)
    person_id: str = Field(min_length=1)
    unit_id: str = Field(min_length=1)
    programme: str = Field(min_length=1)
    province: Province
    call_id: str | None = None
    title: str = ""
    abstract: str = ""
    role: ProjectRole = "lead"
    rank: int = Field(default=1, ge=1)
    status: ProjectStatus
    verdict: ClosingVerdict | None = None
    started_on: date
    ends_on: date
    closed_on: date | None = None
    funds_owed: bool = False

    def key(self) -> tuple[str, ...]:
        return (self.project_id, self.person_id)

    @model_validator(mode="after")
    def _coherent(self) -> ProjectIn:
        if self.ends_on < self.started_on:
            raise ValueError(f"ends_on: {self.ends_on} is before started_on {self.started_on}")
        if self.status == "closed" and (self.verdict is None or self.closed_on is None):
            raise ValueError("verdict: a closed project has a verdict and a closed_on date")
        if self.status != "closed" and self.verdict is not None:
            raise ValueError(f"verdict: only a closed project has one (status {self.status})")
        if self.role == "lead" and self.rank != 1:
            raise ValueError("rank: the lead is ranked 1")
        return self


TABLES: dict[str, tuple[type[Row], type[SQLModel]]] = {
    "units": (UnitIn, UnitRow),
    "people": (PersonIn, PersonRow),
    "projects": (ProjectIn, ProjectRow),
}


@dataclass(frozen=True)
class RowError:
    table: str
    row: int
    column: str | None
    reason: str

    def __str__(self) -> str:
        return f"{self.table} row {self.row}: {self.column or '(row)'}: {self.reason}"


@dataclass
class ImportReport:
    """Rows written per table, or, when any row is wrong, every row error and nothing written."""

    counts: dict[str, int] = field(default_factory=dict)
    errors: list[RowError] = field(default_factory=list)


Rows = dict[str, list[tuple[int, Any]]]
Valid = dict[str, list[tuple[int, Row]]]


class RegistryFileError(Exception):
    """The file cannot be read as registry data at all (not a row problem)."""


def read_rows(path: Path, table: str | None = None) -> Rows:
    """Rows by table with their numbers: CSV line numbers (header is line 1), 1-based positions in JSON lists."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise RegistryFileError(f"{path}: cannot read: {exc.strerror}") from None
    if path.suffix.lower() == ".json":
        return json_rows(path, text, table)
    if path.suffix.lower() == ".csv":
        name = table or next((w for w in reversed(path.stem.replace("-", "_").split("_")) if w in TABLES), None)
        if name not in TABLES:
            raise RegistryFileError(f"{path}: say which table it holds ({', '.join(TABLES)}), e.g. --table people")
        reader = csv.DictReader(io.StringIO(text, newline=""))
        rows: list[tuple[int, Any]] = []
        for record in reader:
            rows.append((reader.line_num, {("(beyond the header)" if k is None else k): v
                                           for k, v in record.items() if v not in ("", None)}))
        return {name: rows}
    raise RegistryFileError(f"{path}: a registry file is .csv or .json")


def json_rows(path: Path, text: str, table: str | None) -> Rows:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise RegistryFileError(f"{path}: not valid JSON: line {exc.lineno}: {exc.msg}") from None
    if isinstance(data, list) and table in TABLES:
        data = {table: data}
    if not isinstance(data, dict) or not all(isinstance(v, list) for v in data.values()):
        raise RegistryFileError(f"{path}: expected an object of lists: {', '.join(TABLES)}")
    unknown = [k for k in data if k not in TABLES]
    if unknown:
        raise RegistryFileError(f"{path}: unknown table {unknown[0]!r} (tables: {', '.join(TABLES)})")
    return {t: list(enumerate(rows, start=1)) for t, rows in data.items()}


def _known(session: Session, model: type[UnitRow] | type[PersonRow], ids: Iterable[str]) -> set[str]:
    wanted = sorted(set(ids))
    if not wanted:
        return set()
    return set(session.exec(select(model.id).where(col(model.id).in_(wanted))).all())


def validate_rows(session: Session, rows: Rows) -> tuple[Valid, list[RowError]]:
    """Each row checked on its own, then keys unique in the file and references known (file or database)."""
    good: Valid = {t: [] for t in rows}
    errors: list[RowError] = []
    for table, items in rows.items():
        seen: dict[tuple[str, ...], int] = {}
        for number, raw in items:
            try:
                row = TABLES[table][0].model_validate(raw)
            except ValidationError as exc:
                errors += [row_error(table, number, e) for e in exc.errors()]
                continue
            key = row.key()
            if key in seen:
                errors.append(RowError(table, number, "id", f"{'/'.join(key)} is also on row {seen[key]}"))
                continue
            seen[key] = number
            good[table].append((number, row))
    people = [(n, r) for n, r in good.get("people", []) if isinstance(r, PersonIn)]
    projects = [(n, r) for n, r in good.get("projects", []) if isinstance(r, ProjectIn)]
    units = {r.id for _, r in good.get("units", []) if isinstance(r, UnitIn)}
    units |= _known(session, UnitRow, [*(r.unit_id for _, r in people if r.unit_id), *(r.unit_id for _, r in projects)])
    known_people = {r.id for _, r in people} | _known(session, PersonRow, [r.person_id for _, r in projects])
    errors += [RowError("people", n, "unit_id", f"unknown unit {r.unit_id!r}")
               for n, r in people if r.unit_id and r.unit_id not in units]
    for n, r in projects:
        if r.person_id not in known_people:
            errors.append(RowError("projects", n, "person_id", f"unknown person {r.person_id!r}"))
        if r.unit_id not in units:
            errors.append(RowError("projects", n, "unit_id", f"unknown unit {r.unit_id!r}"))
    return good, sorted(errors, key=lambda e: (list(TABLES).index(e.table), e.row))


def row_error(table: str, number: int, err: Any) -> RowError:
    loc = [str(x) for x in err["loc"]]
    msg: str = err["msg"].removeprefix("Value error, ")
    column, _, rest = msg.partition(": ")
    if not loc and rest and column.isidentifier():
        return RowError(table, number, column, rest)
    if err["type"] == "extra_forbidden":
        msg = "unknown column"
    elif err["type"] == "missing":
        msg = "required"
    return RowError(table, number, ".".join(loc) or None, msg)


def import_rows(session: Session, rows: Rows) -> ImportReport:
    """All rows or none: written (merged by key) only when every row is valid."""
    good, errors = validate_rows(session, rows)
    if errors:
        return ImportReport({}, errors)
    for table in TABLES:
        for _, row in good.get(table, []):
            session.merge(TABLES[table][1].model_validate(row.model_dump()))
    session.commit()
    return ImportReport({t: len(v) for t, v in good.items()}, [])


def import_file(session: Session, path: Path, table: str | None = None) -> ImportReport:
    return import_rows(session, read_rows(path, table))


def snapshot(session: Session, form: ApplicationForm, prior: tuple[PriorWork, ...] | None = None,
             year: int | None = None) -> Snapshot:
    """The cross-call facts of one form: its people, units and projects, and the PI's other applications; `prior`
    is the duplicate check's corpus when the caller has read it already (`prior_work`).

    Given the submission `year`, the unit's lead projects closed that started before it are left out: a unit's rules
    count what it has applied for, has in progress, or started that year (models/rules/projects.py), and the closed
    ones are most of a large unit's rows, read again for each of its applications."""
    member_ids = [m.person_id for m in form.team]
    unit_ids = sorted({*form.applicant_units, *(m.unit_id for m in form.team)})
    units = {u.id: u.facts() for u in session.exec(select(UnitRow).where(col(UnitRow.id).in_(unit_ids))).all()}
    people = {p.id: p.facts() for p in
              session.exec(select(PersonRow).where(col(PersonRow.id).in_([form.pi_id, *member_ids]))).all()}
    projects = project_facts(session, col(ProjectRow.person_id) == form.pi_id)
    countable = [] if year is None else [or_(col(ProjectRow.status) != "closed",
                                              col(ProjectRow.started_on) >= date(year, 1, 1))]
    unit_projects = project_facts(session, col(ProjectRow.unit_id) == form.unit_id, col(ProjectRow.role) == "lead",
                                  *countable)
    return Snapshot(
        pi=people.get(form.pi_id), units=units, people={k: v for k, v in people.items() if k != form.pi_id},
        projects=projects, unit_projects=unit_projects, pending=in_flight(session, form),
        prior_work=prior_work(session) if prior is None else prior,
    )


PROJECT_COLUMNS = tuple(col(getattr(ProjectRow, f.name)) for f in fields(ProjectFacts))


def project_facts(session: Session, *where: ColumnElement[bool]) -> tuple[ProjectFacts, ...]:
    """Projects as facts straight from their columns (`import_rows` validated each row on its way in): a formal review
    reads every lead project of the unit, ~900 for a unit of the 10,000-application simulation, where ORM rows made
    into facts through pydantic took 2.6 times as long."""
    rows = session.connection().execute(select_columns(*PROJECT_COLUMNS).where(*where))
    return tuple(ProjectFacts(*r) for r in rows)


def applied(row: ApplicationRow, listed: set[tuple[str | None, str | None]]) -> bool:
    """Submitted and not final; a signed contract counts until the registry lists its project."""
    if row.state == "contract_signed":
        return (row.applicant, row.call_id) not in listed and (row.unit, row.call_id) not in listed
    return row.state != "draft" and row.state not in TERMINAL


def listed(session: Session, signed: list[ApplicationRow]) -> set[tuple[str | None, str | None]]:
    """(person, call) and (unit, call) of the registry's projects from the calls of these signed contracts."""
    if not signed:
        return set()
    p = ProjectRow
    found = session.execute(select_columns(col(p.person_id), col(p.unit_id), col(p.call_id)).where(
        col(p.call_id).in_({r.call_id for r in signed}),
        or_(col(p.person_id).in_({r.applicant for r in signed}), col(p.unit_id).in_({r.unit for r in signed})))).all()
    return {(person, call) for person, _, call in found} | {(unit, call) for _, unit, call in found}


def in_flight(session: Session, form: ApplicationForm) -> tuple[PendingApplication, ...]:
    """The PI's and the unit's applications in other calls that count as applied (see `applied`)."""
    rows = session.exec(select(ApplicationRow).where(
        or_(col(ApplicationRow.applicant) == form.pi_id, col(ApplicationRow.unit) == form.unit_id),
        ApplicationRow.call_id != form.call_id, ApplicationRow.id != form.application_id)).all()
    known = listed(session, [r for r in rows if r.state == "contract_signed"])
    rows = [r for r in rows if applied(r, known)]
    calls = {c.id: json.loads(c.definition_json) for c in
             session.exec(select(CallRow).where(col(CallRow.id).in_(sorted({r.call_id for r in rows})))).all()}
    zones = {c: ZoneInfo(d.get("timezone", "Asia/Shanghai")) for c, d in calls.items()}
    submitted: dict[str, date] = {}
    for t in session.exec(select(TransitionRow).where(
            col(TransitionRow.application_id).in_([r.id for r in rows]), TransitionRow.trigger == "submit")).all():
        day = t.at.astimezone(zones.get(t.call_id, ZoneInfo("Asia/Shanghai"))).date()
        submitted[t.application_id] = min(day, submitted.get(t.application_id, day))
    return tuple(PendingApplication(r.id, r.call_id, calls.get(r.call_id, {}).get("programme", ""),
                                    calls.get(r.call_id, {}).get("province"), submitted.get(r.id), r.state,
                                    r.applicant, r.unit) for r in rows)


def prior_work(session: Session) -> tuple[PriorWork, ...]:
    """Titles of every application and of every registry project with a title: the duplicate check's corpus (the
    rule leaves out the application itself). Columns, not rows: every application's formal review reads them all."""
    a = ApplicationRow
    apps = [PriorWork(i, c, at.year, who, unit, title) for i, c, at, who, unit, title in session.execute(
        select_columns(col(a.id), col(a.call_id), col(a.updated_at), col(a.applicant), col(a.unit), col(a.title))
    ).all()]
    seen: set[str] = set()
    projects: list[PriorWork] = []
    p = ProjectRow
    for pid, call_id, started, person, unit, title, abstract in session.execute(
            select_columns(col(p.project_id), col(p.call_id), col(p.started_on), col(p.person_id), col(p.unit_id),
                           col(p.title), col(p.abstract)).where(col(p.title) != "", col(p.role) == "lead")).all():
        if pid not in seen:
            seen.add(pid)
            projects.append(PriorWork(pid, call_id, started.year, person, unit, title, abstract))
    return tuple(apps + projects)


def corpus_size(session: Session) -> tuple[int, int]:
    """How many applications and registry projects there are: a corpus read when these were the same is current."""
    apps = session.exec(select(func.count()).select_from(ApplicationRow)).one()
    projects = session.exec(select(func.count()).select_from(ProjectRow)).one()
    return apps, projects
