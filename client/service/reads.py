"""What people read through the service layer, each within its scope: an application's status and deadlines (its
defence materials' too), calls, a call's applications and counts, formal-review verdicts, and (auditors) the refused
attempts."""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Sequence

from sqlmodel import Session, col, select

from client.errors import NotFound
from client.service.core import Core, checked
from models.call import CallDefinition
from models.deadlines import DeadlineExplanation, explain
from models.identity import Identity, Target, read_refusal
from models.inputs import identifier
from models.messages import ApplicationStatus, CallStatus, call_workflow_id
from models.review.hearings import Hearing, hearings
from models.review.messages import StageStatus, stage_workflow_id
from models.timetable import Timetable
from records.accounts import RefusalRow
from records.tables import ApplicationRow, CallRow
from workflows.call import CallWorkflow
from workflows.review_stage import ReviewStageWorkflow

SEE_OBJECTORS = ("manager", "auditor")
MAX_PAGE = 500


def page(limit: int, offset: int) -> tuple[int, int]:
    return max(1, min(limit, MAX_PAGE)), max(0, offset)


class Reads(Core):
    async def status(self, identity: Identity, application_id: str) -> ApplicationStatus:
        """State and transitions of an application; who objected during publicity is shown to managers and
        auditors only."""
        st, target = await self.application(application_id)
        why = read_refusal(identity, target)
        if why:
            self.refuse(identity, "-", "read", target, why)
        if not any(identity.may(r, target) for r in SEE_OBJECTORS):
            st.transitions = [dataclasses.replace(t, actor_id="(withheld)") if t.role == "public" else t
                              for t in st.transitions]
        return st

    async def explain(self, identity: Identity, application_id: str) -> list[DeadlineExplanation]:
        st = await self.status(identity, application_id)
        call = (await self.temporal()).get_workflow_handle(call_workflow_id(st.call_id))
        inp = await call.query(CallWorkflow.definition)
        return explain(inp, await call.query(CallWorkflow.status), st, await self._hearings(inp.call, application_id))

    async def _hearings(self, call: CallDefinition, application_id: str) -> list[Hearing]:
        """The application's slots in the call's defence stages that have scheduled it (the caller may read it)."""
        rules = call.review
        out: list[Hearing] = []
        for p in call.phases:
            if p.kind != "expert_review" or rules is None or rules.stage(p.id).defence is None:
                continue
            try:
                status: StageStatus = await self._ask(stage_workflow_id(call.id, p.id), ReviewStageWorkflow.status,
                                                      f"defence {p.id} of {call.id}")
            except NotFound:  # not opened yet
                continue
            out += [h for h in hearings(p.id, status.state) if h.slot.application_id == application_id]
        return out

    def calls(self, identity: Identity, limit: int = 50, offset: int = 0) -> Sequence[CallRow]:
        """Calls, with their current phase: public facts, for every signed-in account."""
        limit, offset = page(limit, offset)
        with Session(self.engine) as s:
            return s.exec(select(CallRow).order_by(col(CallRow.id)).offset(offset).limit(limit)).all()

    async def call_timeline(self, identity: Identity, call_id: str) -> tuple[CallDefinition, Timetable]:
        """A loaded call's definition and its timeline as it runs now (rehearsal shift and extensions included):
        public facts, for every signed-in account."""
        call = await self.call_input(call_id)
        status: CallStatus = await self._ask(call_workflow_id(call_id), CallWorkflow.status, f"call {call_id}")
        return call.call, status.timetable

    def applications(self, identity: Identity, call_id: str, limit: int = 50,
                     offset: int = 0) -> Sequence[ApplicationRow]:
        """A call's applications that `identity` may see (all of them for its managers, agency and auditors)."""
        target = self.call_target(call_id)
        limit, offset = page(limit, offset)
        query = select(ApplicationRow).where(ApplicationRow.call_id == call_id).order_by(col(ApplicationRow.id))
        if not any(identity.may(r, target) for r in ("manager", "agency", "committee", "auditor")):
            units = [g.scope for g in identity.grants if g.role in ("unit_admin", "cto", "recommender")]
            mine = [u.split("unit:")[1].split(",")[0] for u in units if "unit:" in u]
            query = query.where(col(ApplicationRow.applicant).in_([identity.subject])
                                | col(ApplicationRow.unit).in_(mine))
        with Session(self.engine) as s:
            return s.exec(query.offset(offset).limit(limit)).all()

    def counts(self, identity: Identity, call_id: str) -> dict[str, int]:
        """Applications of a call per state (managers, agency, committee and auditors of the call)."""
        target = self.call_target(call_id)
        if not any(identity.may(r, target) for r in ("manager", "agency", "committee", "auditor")):
            self.refuse(identity, "manager", "count", target, f"{identity.subject} may not count {target.describe()}")
        with Session(self.engine) as s:
            states = s.exec(select(ApplicationRow.state).where(ApplicationRow.call_id == call_id)).all()
        return dict(sorted(Counter(states).items()))

    def verdicts(self, identity: Identity, call_id: str) -> Sequence[ApplicationRow]:
        """The formal-review verdicts of a call's applications (its managers and auditors)."""
        target = self.call_target(call_id)
        if not any(identity.may(r, target) for r in ("manager", "auditor")):
            self.refuse(identity, "manager", "read verdicts of", target,
                        f"{identity.subject} may not read the verdicts of {target.describe()}")
        with Session(self.engine) as s:
            return s.exec(select(ApplicationRow).where(ApplicationRow.call_id == call_id)
                          .where(col(ApplicationRow.verdicts_json).is_not(None)).order_by(col(ApplicationRow.id))).all()

    async def verdict(self, identity: Identity, application_id: str) -> ApplicationRow:
        """An application's formal-review verdicts, read from the records DB within the reader's scope."""
        checked(identifier, application_id, "application id")
        with Session(self.engine) as s:
            row = s.get(ApplicationRow, application_id)
        if row is None:
            raise NotFound(f"unknown application {application_id}")
        target = Target(call=row.call_id, programme=self.call_target(row.call_id).programme, unit=row.unit or "",
                        application=row.id, applicant=row.applicant)
        why = read_refusal(identity, target)
        if why:
            self.refuse(identity, "-", "read", target, why)
        return row

    def refusals(self, identity: Identity, limit: int = 50, offset: int = 0) -> Sequence[RefusalRow]:
        """Every refused attempt, newest first (auditors)."""
        if "auditor" not in identity.roles():
            self.refuse(identity, "auditor", "list refusals", Target(),
                        f"{identity.subject} may not list refused attempts (auditors do)")
        limit, offset = page(limit, offset)
        with Session(self.engine) as s:
            return s.exec(select(RefusalRow).order_by(col(RefusalRow.id).desc()).offset(offset).limit(limit)).all()
