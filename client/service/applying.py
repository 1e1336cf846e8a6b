"""Applying: the applicant is the signed-in account; its unit comes from the registry, its recommender and CTO
from the accounts and the registry, never from what the applicant claims; one application per applicant and call."""

from __future__ import annotations

import uuid

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select
from temporalio.exceptions import WorkflowAlreadyStartedError

from client.accounts import person_of
from client.calls import start_application
from client.errors import Conflict, Invalid
from client.service.core import Core, checked
from models.call import CallDefinition, cohort_of, who_problem
from models.call.levels import own_level
from models.forms import ApplicationForm
from models.identity import Grant, Identity, Target
from models.inputs import identifier, title
from models.messages import ApplicationInput
from records.accounts import ApplicantClaimRow, GrantRow
from records.registry_tables import PersonRow, UnitRow

MAX_LIST = 50


class Applying(Core):
    def _people(self, identity: Identity, target: Target, call: CallDefinition) -> dict[str, str]:
        """Who acts for a new application: the applicant, its unit (registry), the unit's CTO (registry) and the
        recommender whose grant covers the unit in this call (accounts; where units recommend by level, the lowest
        level's: the levels above follow from its `via`)."""
        roles = {s.role for s in call.chain}
        person = person_of(self.engine, identity.subject)
        with Session(self.engine) as s:
            row = s.get(PersonRow, person)
            unit = s.get(UnitRow, row.unit_id) if row is not None and row.unit_id else None
            grants = s.exec(select(GrantRow).where(GrantRow.role == "recommender")).all()
        if unit is None:
            raise Invalid(f"{identity.subject} (person {person}) has no unit in the registry: import it first")
        people = {"applicant": identity.subject, "unit_admin": unit.id}
        where = Target(call=target.call, programme=target.programme, unit=unit.id)
        organisers = own_level(call, sorted({g.account_id for g in grants
                                             if Grant(g.role, g.scope).covers(g.account_id, where)}))
        if "recommender" in roles:
            if len(organisers) != 1:
                found = ", ".join(organisers) or "none"
                raise Invalid(f"call {target.call} needs one recommender organising unit {unit.id} (found: {found})")
            people["recommender"] = organisers[0]
        if "cto" in roles:
            if not unit.cto_id:
                raise Invalid(f"unit {unit.id} has no CTO in the registry")
            people["cto"] = unit.id
        return people

    async def apply(self, identity: Identity, call_id: str, category: str, project_title: str,
                    flags: list[str] | None = None, attachments: list[str] | None = None,
                    form: ApplicationForm | None = None, application_id: str | None = None, cohort: str = "") -> str:
        """Start a draft application in `call_id` for the signed-in applicant; returns its id."""
        flags, attachments = flags or [], attachments or []
        project_title = checked(title, project_title)
        checked(identifier, category, "category")
        if len(flags) > MAX_LIST or len(attachments) > MAX_LIST:
            raise Invalid(f"at most {MAX_LIST} flags and {MAX_LIST} attachments")
        target = self.call_target(call_id)
        target = Target(call=call_id, programme=target.programme, applicant=identity.subject)
        self.require(identity, "applicant", "apply to", target)
        locked = self.locked(call_id, "application")
        if locked:
            self.refuse(identity, "applicant", "apply to", target, locked, Conflict)
        base = await self.call_input(call_id)
        call = base.call
        if category not in {c.id for c in call.categories}:
            raise Invalid(f"unknown category {category!r} for call {call_id} "
                          f"(categories: {', '.join(c.id for c in call.categories)})")
        unknown = [f for f in flags if f not in {x.id for x in call.flags}]
        if unknown:
            raise Invalid(f"unknown flag(s) {', '.join(unknown)} for call {call_id}")
        kinds = [a.kind for a in form.attachments] if form else attachments
        bad = [k for k in kinds if k not in {a.kind for a in call.attachments}]
        if bad:
            raise Invalid(f"unknown attachment kind(s) {', '.join(map(repr, bad))} for call {call_id} "
                          f"(kinds: {', '.join(a.kind for a in call.attachments)})")
        new_id: str = checked(identifier, form.application_id if form else application_id or
                         f"{call_id}.{uuid.uuid4().hex[:8]}", "application id")
        people = self._people(identity, target, call)
        cohort = cohort_of(call, cohort)
        why = who_problem(call, cohort, people.get("recommender", ""))
        if why:
            raise Invalid(why)
        self._claim(call_id, identity.subject, new_id)
        try:
            await start_application(await self.temporal(), ApplicationInput(
                call=call, calendar=base.calendar, timetable=base.timetable, application_id=new_id, category=category,
                title=project_title, people=people, flags=dict.fromkeys(flags, True), attachments=kinds, form=form,
                cohort=cohort),
                self.task_queue)
        except WorkflowAlreadyStartedError:
            self._unclaim(call_id, identity.subject)
            raise Conflict(f"application id {new_id} is already used") from None
        return new_id

    def _claim(self, call_id: str, applicant: str, application_id: str) -> None:
        with Session(self.engine) as s:
            mine = s.get(ApplicantClaimRow, (call_id, applicant))
            if mine is not None:
                raise Conflict(f"{applicant} has already applied to call {call_id} ({mine.application_id})")
            if s.exec(select(ApplicantClaimRow).where(ApplicantClaimRow.application_id == application_id)).first():
                raise Conflict(f"application id {application_id} is already used")
            s.add(ApplicantClaimRow(call_id=call_id, applicant=applicant, application_id=application_id))
            try:
                s.commit()
            except IntegrityError:
                raise Conflict(f"{applicant} has already applied to call {call_id}, or the id is used") from None

    def _unclaim(self, call_id: str, applicant: str) -> None:
        with Session(self.engine) as s:
            row = s.get(ApplicantClaimRow, (call_id, applicant))
            if row is not None:
                s.delete(row)
                s.commit()
