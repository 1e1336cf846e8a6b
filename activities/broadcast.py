"""Broadcast a changed call timetable to the call's open applications, with bounded concurrency.

Application workflows keep a copy of the timetable and run their own timers; only changes travel.
Signals carry the timetable's `seq`, so a repeated or late signal is ignored by the receiver.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select
from temporalio import activity
from temporalio.service import RPCError

from models.lifecycle import TERMINAL
from models.timetable import Timetable
from records.tables import ApplicationRow

SIGNAL = "timetable_changed"


@dataclass
class BroadcastInput:
    call_id: str
    timetable: Timetable
    concurrency: int = 50


class BroadcastActivities:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def _targets(self, call_id: str, after: str) -> list[str]:
        with Session(self.engine) as s:
            return list(s.exec(select(ApplicationRow.workflow_id).where(
                ApplicationRow.call_id == call_id, col(ApplicationRow.state).not_in(TERMINAL),
                col(ApplicationRow.workflow_id) > after).order_by(ApplicationRow.workflow_id)).all())

    @activity.defn
    async def broadcast_timetable(self, inp: BroadcastInput) -> int:
        """Signal every open application of the call; on retry resumes after the last workflow id heartbeated."""
        details = activity.info().heartbeat_details
        cursor = str(details[0]) if details else ""
        targets = await asyncio.to_thread(self._targets, inp.call_id, cursor)
        client = activity.client()
        gate = asyncio.Semaphore(inp.concurrency)
        sent = 0

        async def one(workflow_id: str) -> None:
            nonlocal sent
            async with gate:
                try:
                    await client.get_workflow_handle(workflow_id).signal(SIGNAL, inp.timetable)
                    sent += 1
                except RPCError:  # the application closed meanwhile: nothing left to tell it
                    pass

        batch = max(inp.concurrency * 4, 1)
        for start in range(0, len(targets), batch):
            chunk = targets[start:start + batch]
            await asyncio.gather(*(one(w) for w in chunk))
            activity.heartbeat(chunk[-1])
        return sent
