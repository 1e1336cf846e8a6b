"""A defence (答辩) through the service layer: its schedule as each may see it (applicants their own slot, never the
panel), an applicant's materials before their deadline, a manager's record of an absence (the application withdraws)."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from datetime import datetime

from client.errors import Invalid, TooLarge
from client.service.core import checked
from client.service.reviewing import SEE_ALL, Reviewing, _why
from client.service.uploads import MAX_UPLOAD
from models.identity import Identity, Target
from models.inputs import identifier
from models.review.hearings import Hearing, hearings
from models.review.messages import Absence, ManagerRequest, MaterialsRequest, stage_workflow_id
from workflows.review_stage import ReviewStageWorkflow


class Defending(Reviewing):
    def _defence_target(self, call_id: str, phase: str) -> Target:
        target = self._stage_target(call_id, phase)
        rules = self.definition(call_id).review
        if rules is None or rules.stage(phase).defence is None:
            raise Invalid(f"{phase} of {call_id} is not a defence (the call file gives it no review.stages.{phase}."
                          f"defence)")
        return target

    async def defence_schedule(self, identity: Identity, call_id: str, phase: str) -> list[Hearing]:
        """The hearings in time order: every slot and panel for managers, committee, auditors and agencies; an
        expert's own hearings; an applicant's own slot without its panel."""
        target = self._defence_target(call_id, phase)
        status = await self._ask(stage_workflow_id(call_id, phase), ReviewStageWorkflow.status,
                                 f"defence {phase} of {call_id} (not opened yet?)")
        scheduled = hearings(phase, status.state)
        everything = any(identity.may(r, target) for r in SEE_ALL)
        out: list[Hearing] = []
        for h in scheduled:
            own = h.slot.applicant == identity.subject and "applicant" in identity.roles()
            sits = identity.subject in h.panel and self._stage_role(call_id, phase) in identity.roles()
            if everything or sits or own:
                out.append(h if everything else replace(h, panel=[identity.subject] if sits else []))
        if not out and not everything and scheduled:
            self.refuse(identity, "-", "see the defence schedule", target,
                        f"{identity.subject} has no hearing in defence {phase} of {call_id}")
        return out

    async def submit_materials(self, identity: Identity, call_id: str, phase: str, application_id: str,
                               content: bytes, declared: int | None = None) -> datetime:
        """The applicant's defence materials (their SHA-256 is recorded), before the deadline of their slot; a file
        `declared` larger than any may be is refused before it is read."""
        target = self._defence_target(call_id, phase)
        checked(identifier, application_id, "application id")
        if max(declared or 0, len(content)) > MAX_UPLOAD:
            raise TooLarge(f"the materials file is more than {MAX_UPLOAD} bytes, the most any file may be")
        if not content:
            raise Invalid("the materials file is empty")
        if "applicant" not in identity.roles():
            self.refuse(identity, "applicant", "send defence materials", target,
                        f"{identity.subject} has no applicant role, which sending defence materials needs")
        request = MaterialsRequest(application_id, identity.subject, hashlib.sha256(content).hexdigest(), identity)
        at: datetime = await self._stage_update(identity, call_id, phase, "applicant", "send defence materials",
                                                ReviewStageWorkflow.submit_materials, request)
        return at

    async def record_absence(self, identity: Identity, call_id: str, phase: str, application_id: str,
                             why: str) -> Absence:
        """A manager records an application absent at its slot: it withdraws (逾期未参加视为弃权), its applicant is told."""
        target = self._defence_target(call_id, phase)
        self.require(identity, "manager", "record an absence", target)
        request = ManagerRequest(identity.subject, "manager", _why(why),
                                 checked(identifier, application_id, "application id"), identity=identity)
        absence: Absence = await self._stage_update(identity, call_id, phase, "manager", "record an absence",
                                                    ReviewStageWorkflow.record_absence, request)
        return absence
