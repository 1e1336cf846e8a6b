"""The simulation's rounds for late actors: the acts they held back, made once late, and the service deadlines the
manager waits out before moving on (late agencies act after them, those that never act are escalated)."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from datetime import datetime, timedelta
from typing import Any

from temporalio.client import Client

from client.calls import Prepared, ask
from models.call import CallDefinition
from models.lifecycle import Lifecycle
from models.messages import ApplicationStatus, application_workflow_id
from simulation.late import LateAct, LateActors
from workflows.application import ApplicationWorkflow

SPARE_DAYS = timedelta(days=60)  # waiting out service deadlines only where the calendar covers what follows


class LateRounds:
    """Over the state the Simulation keeps."""

    client: Client
    call: CallDefinition
    prepared: Prepared
    lifecycle: Lifecycle
    ids: list[str]
    query_gate: asyncio.Semaphore
    late: LateActors
    late_violations: list[str]

    async def now(self) -> datetime:
        raise NotImplementedError

    async def sleep_until(self, instant: datetime) -> None:
        raise NotImplementedError

    def states(self) -> dict[str, str]:
        raise NotImplementedError

    def act(self, i: int, trigger: str, role: str, reason: str = "", **data: str) -> Coroutine[Any, Any, bool]:
        raise NotImplementedError

    async def service_deadlines(self) -> None:
        """Before the manager moves on, applications waiting at a service deadline (an agency's) are seen through it:
        late agencies act after it (overdue notices), those that never act are escalated to the manager."""
        waiting = {f"awaiting_{s.id}": s.id for s in self.call.chain if s.overdue == "escalate"}
        states = self.states()
        ids = [i for i, a in enumerate(self.ids) if states.get(a) in waiting]
        if not ids or not self.late.share:
            return
        async with self.query_gate:
            statuses = [await ask(self.client.get_workflow_handle(application_workflow_id(self.ids[i])),
                                  ApplicationWorkflow.status) for i in ids]
        closes = [c for st in statuses if st.state in waiting
                  for c in [st.deadlines.get(f"step:{waiting[st.state]}")] if c is not None]
        calendar, zone = self.prepared.input.calendar, self.call.zone
        if not closes or max(closes).date() + SPARE_DAYS > calendar.last:  # the rest of the call must stay covered
            return
        await self.sleep_until(max(await self.now(), max(closes) + timedelta(hours=1)))
        await self.late_acts()
        escalated = calendar.end_after_working_days(max(closes) - timedelta(microseconds=1),
                                                    self.call.escalate_after_working_days, zone)
        await self.sleep_until(max(await self.now(), escalated + timedelta(hours=1)))

    async def late_acts(self, final: bool = False) -> None:
        """The late actors make the acts they held back whose deadline has passed (every one, at the end)."""
        async def status_of(i: int) -> ApplicationStatus:
            async with self.query_gate:
                status: ApplicationStatus = await ask(
                    self.client.get_workflow_handle(application_workflow_id(self.ids[i])), ApplicationWorkflow.status)
                return status

        async def act(late: LateAct) -> bool:
            return await self.act(late.i, late.trigger, late.role, late.reason, **late.data)
        self.late_violations += await self.late.settle(status_of, act, self.lifecycle, await self.now(), final)

