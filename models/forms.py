"""The application form as data: who applies with whom, the money, the claims and the attachments' metadata."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, SerializerFunctionWrapHandler, model_serializer, model_validator

Sha256 = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
Kind = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Attachment(Strict):
    """One uploaded file: its attachment kind and the metadata of the stored content."""

    kind: Kind
    filename: str
    media_type: str
    size: int = Field(ge=0)
    sha256: Sha256
    document_date: date | None = None
    valid_until: date | None = None


class PartnerUnit(Strict):
    """A partner (joint applicant, host) unit with its staff on the project and its share of the money."""

    unit_id: str
    staff: int = Field(ge=0)
    requested_cny: int = Field(default=0, ge=0)
    matching_cny: int = Field(default=0, ge=0)


class TeamMember(Strict):
    """A project member other than the PI, with the unit they work for."""

    person_id: str
    unit_id: str


class Claims(Strict):
    """What the applicant declares; rules check a claim against the registry where the registry knows."""

    academician: bool = False
    listed_talent: bool = False
    ethics_needed: bool = False
    international: bool = False
    foreign_degree: bool = False
    cross_field: bool = False
    platform: bool = False
    city_matching: bool = False
    rd_institution: bool = False
    key_discipline: bool = False


class CentreFigures(Strict):
    """An innovation centre's declared capacity (002)."""

    fixed_staff: int = Field(ge=0)
    floor_area_m2: int = Field(ge=0)
    equipment_cny: int = Field(ge=0)
    rd_spend_3y_cny: int = Field(ge=0)


class ApplicationForm(Strict):
    """One application as the applicant filled it in; cross-call facts come from the registry, not from here."""

    application_id: str
    call_id: str
    programme: str
    category: str
    title: str
    abstract: str = ""
    pi_id: str
    unit_id: str
    recommender_id: str | None = None
    cto_id: str | None = None
    partners: list[PartnerUnit] = Field(default_factory=list)
    team: list[TeamMember] = Field(default_factory=list)
    requested_cny: int = Field(default=0, ge=0)
    matching_cny: int = Field(default=0, ge=0)
    flags: dict[str, bool] = Field(default_factory=dict)
    starts_on: date | None = None
    ends_on: date | None = None
    related_experience_years: int | None = Field(default=None, ge=0)
    claims: Claims = Claims()
    centre: CentreFigures | None = None
    topic: str | None = None
    goals: list[Kind] = Field(default_factory=list)
    attachments: list[Attachment] = Field(default_factory=list)
    excluded_experts: list[str] = Field(default_factory=list)  # experts the applicant asks not to review (回避专家)

    @model_serializer(mode="wrap")
    def _dump(self, handler: SerializerFunctionWrapHandler) -> dict[str, object]:
        """Without exclusions the form dumps as it did before they existed: its content hash (the paper receipt's)
        stays the same in histories written earlier."""
        data: dict[str, object] = handler(self)
        if not self.excluded_experts:
            data.pop("excluded_experts", None)
        return data

    @model_validator(mode="after")
    def _coherent(self) -> ApplicationForm:
        problems: list[str] = []
        partner_ids = [p.unit_id for p in self.partners]
        twice = sorted({u for u in partner_ids if partner_ids.count(u) > 1})
        problems += [f"partners: unit {u} listed twice" for u in twice]
        if self.unit_id in partner_ids:
            problems.append(f"partners: {self.unit_id} is the applicant unit itself")
        members = [m.person_id for m in self.team]
        problems += [f"team: person {p} listed twice" for p in sorted({p for p in members if members.count(p) > 1})]
        if self.pi_id in members:
            problems.append(f"team: the PI {self.pi_id} is listed as a member")
        if self.starts_on and self.ends_on and self.ends_on <= self.starts_on:
            problems.append(f"ends_on {self.ends_on} is not after starts_on {self.starts_on}")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    @property
    def enterprise_led(self) -> bool:
        return self.flags.get("enterprise_led", False)

    @property
    def applicant_units(self) -> list[str]:
        """The applicant unit and its partners (申报单位: 牵头 and 联合)."""
        return [self.unit_id, *(p.unit_id for p in self.partners)]
