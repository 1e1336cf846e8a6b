"""The system lockout as every write path sees it: a closed window in the records DB, or an application its record
shows finished, refuses late changes before any workflow is asked."""

from __future__ import annotations

import json
from zoneinfo import ZoneInfo

from pydantic import TypeAdapter
from sqlmodel import Session, col, select

from models.call import CallDefinition, definition_from_json
from models.extensions import Applicant, Extension, binding_extension
from models.lifecycle import lifecycle_from_json
from records.tables import ApplicationRow, CallRow, ContactRow, ExtensionRow, LockoutRow, TransitionRow

EXTENSIONS = TypeAdapter(list[Extension])
DEFAULT_ZONE = "Asia/Shanghai"


def call_lockout(s: Session, call_id: str, phase: str) -> str | None:
    """Why `phase` of `call_id` takes no change any more, or None while it does."""
    lock = s.get(LockoutRow, (call_id, phase))
    if lock is None:
        return None
    call = s.get(CallRow, call_id)
    zone = ZoneInfo(json.loads(call.definition_json).get("timezone", DEFAULT_ZONE) if call else DEFAULT_ZONE)
    return f"call {call_id} is locked: {phase} closed at {lock.closed_at.astimezone(zone).isoformat()}"


def application_lockout(s: Session, application_id: str, trigger: str) -> str | None:
    """Why `trigger` on `application_id` is refused from the records: the application is finished (no transition
    leaves its recorded state), or the change meets a locked window (an extension for this application, or a
    conditional one that selects it, lifts it). None leaves the decision to the workflow's validator."""
    app = s.get(ApplicationRow, application_id)
    call = s.get(CallRow, app.call_id) if app is not None else None
    if app is None or call is None:
        return None
    definition, lifecycle = definition_from_json(call.definition_json), lifecycle_from_json(call.definition_json)
    if lifecycle.is_terminal(app.state) and not lifecycle.outgoing(app.state):
        return _finished(s, app, definition, trigger)
    for spec in lifecycle.candidates(app.state, trigger):
        window = spec.window
        if window is None:
            continue
        step = definition.step(window.step) if window.step else None
        phase = window.phase or (step.deadline.phase if step and step.deadline else None)
        lock = s.get(LockoutRow, (app.call_id, phase)) if phase else None
        if lock is None:
            continue
        extension = s.get(ExtensionRow, (application_id, window.key))
        if extension is not None and extension.closes > lock.closed_at:
            continue
        conditional = binding_extension(_extensions(call), window.key, _applicant(s, app))
        if conditional is None or conditional[0] <= lock.closed_at:
            return f"{call_lockout(s, app.call_id, lock.phase)}; application {application_id} cannot {trigger} any more"
    return None


def _finished(s: Session, app: ApplicationRow, definition: CallDefinition, trigger: str) -> str:
    """The refusal for a finished application: by the deadline that closed it, when one did."""
    last = s.exec(select(TransitionRow).where(TransitionRow.application_id == app.id)
                  .order_by(col(TransitionRow.seq).desc()).limit(1)).first()
    if last is None or last.role != "system" or last.deadline is None:
        return f"application {app.id} is {app.state} and closed: nothing can {trigger} it now"
    return (f"deadline passed: application {app.id} was closed at "
            f"{last.deadline.astimezone(definition.zone).isoformat()} and its record is {app.state}; "
            f"{trigger} is no longer possible")


def _extensions(call: CallRow) -> list[Extension]:
    """The conditional extensions the call's published timetable carries (none in a timetable from before them)."""
    return EXTENSIONS.validate_python(json.loads(call.timetable_json).get("extensions", []))


def _applicant(s: Session, app: ApplicationRow) -> Applicant:
    contact = s.get(ContactRow, app.id)
    people = json.loads(contact.people_json) if contact is not None else {}
    return Applicant(app.category, app.cohort, people.get("recommender", ""), app.unit or "", app.created_at)
