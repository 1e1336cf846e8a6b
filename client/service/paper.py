"""Calendars and paper through the service layer: a call's or an application's deadlines as an iCalendar feed, the
printable form with its QR code, and the reconciliation of a scanned paper copy with the online version."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from client.errors import Conflict, Invalid
from client.service.actions import Actions
from client.service.core import checked
from client.service.reads import Reads
from models.deadline_feed import application_feed, call_feed
from models.identity import Identity
from models.inputs import identifier
from models.messages import CallStatus, OnlineVersion, TransitionRecord, application_workflow_id, call_workflow_id
from models.paper import BadCode, Reconciliation, parse_code, reconcile, submissions
from records.registry_tables import PersonRow, UnitRow
from workflows.application import ApplicationWorkflow
from workflows.call import CallWorkflow


class Paper(Actions, Reads):
    async def call_status(self, call_id: str) -> CallStatus:
        self.call_row(call_id)
        return await self._ask(call_workflow_id(call_id), CallWorkflow.status, f"call {call_id}")  # type: ignore[no-any-return]

    async def call_ical(self, identity: Identity, call_id: str) -> bytes:
        """Every close of a call (a public fact: any signed-in account may read it)."""
        from documents.ical import ical  # the writers (icalendar; reportlab and segno below) load when a file is made

        return ical(call_feed(await self.call_input(call_id), await self.call_status(call_id)))

    async def application_ical(self, identity: Identity, application_id: str) -> bytes:
        """Every close that binds one application (its defence materials' too), to whoever may read the application."""
        from documents.ical import ical

        st = await self.status(identity, application_id)
        inp = await self.call_input(st.call_id)
        return ical(application_feed(inp, await self.call_status(st.call_id), st,
                                     await self._hearings(inp.call, application_id)))

    async def printable(self, identity: Identity, application_id: str) -> bytes:
        """The printable form and paper checklist of the submitted version, to whoever may read the application."""
        from documents.form_pdf import Printed, form_pdf

        st = await self.status(identity, application_id)
        versions = submissions(st.transitions, ZoneInfo(st.timezone))
        if not versions:
            raise Conflict(f"application {application_id} has not been submitted: the printed form carries the "
                           f"receipt of a submitted version")
        online: OnlineVersion = await self._ask(application_workflow_id(application_id),
                                                ApplicationWorkflow.online_version, f"application {application_id}")
        timetable = (await self.call_status(st.call_id)).timetable
        paper = next((p for p in timetable.phases if p.kind == "paper"), None)
        return form_pdf(Printed(online, versions[-1].code, versions[-1].at, paper, self._names(online)))

    def _names(self, v: OnlineVersion) -> dict[str, str]:
        """The registry's names of the people and units the form names, by id."""
        form = v.form
        ids = set(v.people.values()) | ({form.pi_id, form.unit_id, *(m.person_id for m in form.team),
                                         *form.applicant_units} if form else set())
        with Session(self.engine) as s:
            people = s.exec(select(PersonRow.id, PersonRow.name).where(col(PersonRow.id).in_(ids))).all()
            units = s.exec(select(UnitRow.id, UnitRow.name).where(col(UnitRow.id).in_(ids))).all()
        return {i: name for i, name in [*people, *units]}

    async def reconcile_paper(self, identity: Identity, application_id: str, code_text: str,
                              receive: bool = False) -> tuple[Reconciliation, TransitionRecord | None]:
        """What the scanned code of a paper copy says against the online version; with `receive`, a copy that
        matches is registered as received (receive_paper, with the code's receipt and hash)."""
        checked(identifier, application_id, "application id")
        try:
            code = parse_code(code_text)
        except BadCode as exc:
            raise Invalid(str(exc)) from None
        st = await self.status(identity, application_id)
        verdict = reconcile(application_id, code, submissions(st.transitions, ZoneInfo(st.timezone)))
        if not (receive and verdict.matches):
            return verdict, None
        data = [f"receipt={code.receipt}", f"content_sha256={code.content_sha256}"]
        return verdict, await self.act(identity, application_id, "receive_paper", "纸质材料扫码核对一致", data)
