"""Small helpers for driving calls and applications in tests."""

from __future__ import annotations

from collections.abc import Awaitable
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError
from temporalio.testing import WorkflowEnvironment

from client.calls import Prepared
from models.call import CalendarYear, CallDefinition
from models.holidays import official_year
from models.identity import Identity, in_process
from models.messages import ActRequest, ApplicationInput, PhaseRequest
from simulation.clock import skip_until
from workflows.application import ApplicationWorkflow

MANAGER = PhaseRequest(actor_id="pm-1", role="manager", reason="programme office decision",
                       identity=in_process("pm-1", "manager"))
PEOPLE = {"applicant": "pi-1", "unit_admin": "unit-1", "recommender": "org-1", "cto": "cto-1"}


def application_input(prepared: Prepared, app_id: str, **overrides: Any) -> ApplicationInput:
    call: CallDefinition = prepared.definition
    fields: dict[str, Any] = {
        "call": call, "calendar": prepared.input.calendar, "timetable": prepared.timetable,
        "application_id": app_id, "category": call.categories[0].id, "title": f"project {app_id}",
        "people": dict(PEOPLE), "flags": {}, "attachments": [a.kind for a in call.attachments if a.required],
    }
    fields.update(overrides)
    return ApplicationInput(**fields)


def with_stand_in_years(call: CallDefinition, through: int) -> CallDefinition:
    """`call` with a stand-in list (no holidays; weekends off) for each year up to `through` that chinese-calendar
    does not cover yet. Only for tests of an undated call, which runs at today's date and would otherwise fail once
    the date passes the package's last year (as it must, in production, until the official list is shipped)."""
    missing = [CalendarYear(year=year, source="test stand-in, not an official arrangement", holidays=[])
               for year in range(date.today().year, through + 1) if official_year(year) is None]
    return call.model_copy(update={"calendar": [*call.calendar, *missing]})


async def act(handle: WorkflowHandle[Any, Any], trigger: str, role: str, actor: str | None = None,
              reason: str = "", identity: Identity | None = None, **data: str) -> Any:
    """Send `trigger` as `role`; the identity is one over everything unless the test gives its own."""
    actor_id = actor or PEOPLE.get(role, f"{role}-1")
    request = ActRequest(trigger, actor_id, role, reason, dict(data), identity or in_process(actor_id, role))
    return await handle.execute_update(ApplicationWorkflow.act, request)


async def sleep_until(env: WorkflowEnvironment, instant: datetime) -> None:
    await skip_until(env, instant)


async def state(handle: WorkflowHandle[Any, Any]) -> str:
    return (await handle.query(ApplicationWorkflow.status)).state


def hours(n: float) -> timedelta:
    return timedelta(hours=n)


async def refused(update: Awaitable[Any], fragment: str) -> str:
    """Await an update that must be refused; returns the refusal, which must contain `fragment`."""
    with pytest.raises(WorkflowUpdateFailedError) as caught:
        await update
    message = str(getattr(caught.value.cause, "message", caught.value.cause))
    assert fragment in message, message
    return message


def opens(prepared: Prepared, phase: str) -> datetime:
    instant = prepared.timetable.get(phase).opens
    assert instant is not None, f"{phase} has no planned opening"
    return instant


def closes(prepared: Prepared, phase: str) -> datetime:
    instant = prepared.timetable.get(phase).closes
    assert instant is not None, f"{phase} has no planned close"
    return instant


async def paper_form(handle: WorkflowHandle[Any, Any]) -> dict[str, str]:
    """What the printed summary form carries: the receipt number and content hash of the online version."""
    status = await handle.query(ApplicationWorkflow.status)
    return {"receipt": status.receipt, "content_sha256": status.content_sha256}
