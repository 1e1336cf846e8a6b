"""The rows of a sampled registry, and the snapshot records.registry.snapshot would read from them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session

from models.duplicates import PriorWork
from models.facts import Snapshot
from models.forms import ApplicationForm
from records.registry_tables import PersonRow, ProjectRow, UnitRow


@dataclass
class RegistryData:
    """Rows for the registry tables, and the profile each sampled PI was drawn with."""

    units: list[UnitRow] = field(default_factory=list)
    people: list[PersonRow] = field(default_factory=list)
    projects: list[ProjectRow] = field(default_factory=list)
    profiles: dict[str, str] = field(default_factory=dict)

    def rows(self) -> dict[str, list[dict[str, Any]]]:
        """JSON-ready rows, the format `grantflow registry import` reads."""
        return {"units": [u.model_dump(mode="json") for u in self.units],
                "people": [p.model_dump(mode="json") for p in self.people],
                "projects": [p.model_dump(mode="json") for p in self.projects]}

    def write(self, session: Session) -> None:
        for row in [*self.units, *self.people, *self.projects]:
            session.merge(row)
        session.commit()

    def prior_work(self) -> tuple[PriorWork, ...]:
        return tuple(PriorWork(p.project_id, p.call_id, p.started_on.year, p.person_id, p.unit_id, p.title, p.abstract)
                     for p in self.projects if p.role == "lead" and p.title)

    def snapshot(self, form: ApplicationForm, prior_work: tuple[PriorWork, ...] | None = None) -> Snapshot:
        """The snapshot records.registry.snapshot would read, from these rows only (no grantflow applications)."""
        members = {m.person_id for m in form.team}
        unit_ids = {*form.applicant_units, *(m.unit_id for m in form.team)}
        people = {p.id: p.facts() for p in self.people if p.id == form.pi_id or p.id in members}
        return Snapshot(
            pi=people.get(form.pi_id),
            units={u.id: u.facts() for u in self.units if u.id in unit_ids},
            people={k: v for k, v in people.items() if k != form.pi_id},
            projects=tuple(p.facts() for p in self.projects if p.person_id == form.pi_id),
            unit_projects=tuple(p.facts() for p in self.projects if p.unit_id == form.unit_id and p.role == "lead"),
            prior_work=self.prior_work() if prior_work is None else prior_work,
        )
