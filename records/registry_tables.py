"""Registry tables (sqlmodel): units, people, their projects across calls, and uploaded files by content hash."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import TypeAdapter
from sqlalchemy import JSON, LargeBinary
from sqlmodel import Field, SQLModel

from models.facts import PersonFacts, ProjectFacts, UnitFacts
from records.tables import AwareDateTime

UNIT, PERSON, PROJECT = TypeAdapter(UnitFacts), TypeAdapter(PersonFacts), TypeAdapter(ProjectFacts)


class UnitRow(SQLModel, table=True):
    """A unit (id: unified social credit code); `blacklisted_until` is the last day of a sanction."""

    __tablename__ = "registry_units"
    id: str = Field(primary_key=True)
    name: str
    legal_entity: bool = True
    registered_on: date
    province: str = Field(index=True)
    kind: str
    admin_level: str = "provincial"
    high_tech: bool = False
    rd_institution: bool = False
    key_discipline: bool = False
    cto_id: str | None = None
    blacklisted_until: date | None = None
    restricted_until: date | None = None
    statuses: list[str] = Field(default_factory=list, sa_type=JSON)
    rd_registered_years: list[int] = Field(default_factory=list, sa_type=JSON)
    email: str | None = None  # the unit's research office: where notices to its administrator go
    mobile: str | None = None

    def facts(self) -> UnitFacts:
        return UNIT.validate_python(self.model_dump(exclude={"email", "mobile"}))


class PersonRow(SQLModel, table=True):
    """A person (id: the identity document number)."""

    __tablename__ = "registry_people"
    id: str = Field(primary_key=True)
    id_type: str = "resident_id"
    name: str
    birth_date: date
    title: str = "none"
    degree: str = "none"
    unit_id: str | None = Field(default=None, index=True)
    full_time: bool = True
    student_status: str = "none"
    civil_servant: bool = False
    academician: bool = False
    talent_level: str | None = None
    retirement_date: date | None = None
    blacklisted_until: date | None = None
    sex: str | None = None
    foreign_expert: bool = False
    identity_verified: bool = True
    restricted_until: date | None = None
    work_started_on: date | None = None
    email: str | None = None
    mobile: str | None = None

    def facts(self) -> PersonFacts:
        return PERSON.validate_python(self.model_dump(exclude={"id_type", "email", "mobile"}))


class ProjectRow(SQLModel, table=True):
    """One person's part in one project: role and rank, status, verdict and dates."""

    __tablename__ = "registry_projects"
    project_id: str = Field(primary_key=True)
    person_id: str = Field(primary_key=True, index=True)  # the key leads with project_id: a PI's projects by this
    unit_id: str = Field(index=True)
    programme: str
    province: str
    call_id: str | None = None
    title: str = ""
    abstract: str = ""
    role: str = "lead"
    rank: int = 1
    status: str = "ongoing"
    verdict: str | None = None
    started_on: date
    ends_on: date
    closed_on: date | None = None
    funds_owed: bool = False

    def facts(self) -> ProjectFacts:
        return PROJECT.validate_python(self.model_dump())


class FileBlobRow(SQLModel, table=True):
    """Stored content, once per SHA-256."""

    __tablename__ = "file_blobs"
    sha256: str = Field(primary_key=True)
    size: int
    content: bytes = Field(sa_type=LargeBinary)


class StoredFileRow(SQLModel, table=True):
    """One upload: its metadata, pointing at the content by hash."""

    __tablename__ = "stored_files"
    id: int | None = Field(default=None, primary_key=True)
    sha256: str = Field(index=True)
    application_id: str | None = Field(default=None, index=True)
    kind: str | None = None
    filename: str
    media_type: str
    size: int
    document_date: date | None = None
    valid_until: date | None = None
    uploaded_by: str
    uploaded_at: datetime = Field(sa_type=AwareDateTime)
