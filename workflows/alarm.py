"""The run loop's alarm: one timer for the next wake, started again only when that instant moves (waiting with a
timeout cancels its timer and starts another on every update and signal)."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from temporalio import workflow


class Alarm:
    """Rings at one instant at a time; the timer and its task live in the workflow's own event loop."""

    def __init__(self) -> None:
        self.at: datetime | None = None
        self.timer: asyncio.Task[None] | None = None

    def set(self, at: datetime | None) -> None:
        """Ring at `at` (None: never). A timer still running for the same instant is kept; one for another is
        cancelled. An instant already passed rings at once, with no timer."""
        if at == self.at and self.timer is not None and not self.timer.done():
            return
        if self.timer is not None:
            self.timer.cancel()
        self.at, self.timer = at, None
        if at is not None and at - workflow.now() > timedelta(0):
            self.timer = asyncio.create_task(workflow.sleep(at - workflow.now()))

    @property
    def rang(self) -> bool:
        """The instant has come: its timer fired, or it had passed when set."""
        return self.at is not None and (self.timer is None or self.timer.done())
