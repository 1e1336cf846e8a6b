"""Small helpers for driving calls and applications in tests."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from models.call import CallDefinition
from models.messages import ActRequest, ApplicationInput, PhaseRequest
from services.calls import Prepared
from workflows.application import ApplicationWorkflow

MANAGER = PhaseRequest(actor_id="pm-1", role="manager", reason="programme office decision")
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


async def act(handle: WorkflowHandle[Any, Any], trigger: str, role: str, actor: str | None = None,
              reason: str = "", **data: str) -> Any:
    actor_id = actor or PEOPLE.get(role, f"{role}-1")
    return await handle.execute_update(ApplicationWorkflow.act, ActRequest(trigger, actor_id, role, reason, dict(data)))


async def sleep_until(env: WorkflowEnvironment, instant: datetime) -> None:
    now = await env.get_current_time()
    if instant > now:
        await env.sleep(instant - now)


async def state(handle: WorkflowHandle[Any, Any]) -> str:
    return (await handle.query(ApplicationWorkflow.status)).state


def hours(n: float) -> timedelta:
    return timedelta(hours=n)
