"""A simulation's progress on the terminal: the phase it is in and how many applications have reached a final
state, read from the records while it runs (shown only when standard error is a terminal)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Collection
from contextlib import asynccontextmanager
from typing import Protocol

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from sqlalchemy import Engine, func
from sqlmodel import Session, col, select

from records.tables import ApplicationRow

POLL_S = 0.5


class Shown(Protocol):
    def phase(self, name: str) -> None: ...

    def settled(self, done: int) -> None: ...


class TerminalBar:
    """One bar: applications in a final state out of all, with the phase the simulation is in as its label."""

    def __init__(self, total: int, console: Console | None = None) -> None:
        self.console = console or Console(stderr=True)
        self.bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                            TextColumn("applications final"), TimeElapsedColumn(), console=self.console,
                            transient=True, disable=not self.console.is_terminal)
        self.task = self.bar.add_task("starting", total=total)

    def phase(self, name: str) -> None:
        self.bar.update(self.task, description=name)

    def settled(self, done: int) -> None:
        self.bar.update(self.task, completed=done)

    @asynccontextmanager
    async def shown(self) -> AsyncIterator[TerminalBar]:
        with self.bar:
            yield self


def settled_count(engine: Engine, call_id: str, final: Collection[str]) -> int:
    with Session(engine) as s:
        return int(s.exec(select(func.count()).select_from(ApplicationRow).where(
            ApplicationRow.call_id == call_id, col(ApplicationRow.state).in_(list(final)))).one())


async def follow(shown: Shown, count: Callable[[], int]) -> None:
    """Update the count every POLL_S until cancelled (the records are read in a thread: the loop keeps running)."""
    while True:
        shown.settled(await asyncio.to_thread(count))
        await asyncio.sleep(POLL_S)
