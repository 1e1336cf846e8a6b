"""Supervised components: every port checked first, started in order, stopped in reverse on SIGINT or SIGTERM or
when one of them ends on its own."""

from __future__ import annotations

import asyncio
import errno
import signal
import socket
from collections.abc import Callable, Sequence

import structlog

log = structlog.get_logger("grantflow.stack")


class StackError(Exception):
    """Why the stack cannot start or had to stop, in one line for the user."""


class Component:
    """A part of the stack. `start` returns once it serves; `ended` returns (or raises) only if it stops on its own;
    `stop` is orderly, bounded, and safe after a `start` that was interrupted."""

    name = "component"

    def ports(self) -> Sequence[int]:
        """The ports it will listen on (127.0.0.1), checked before anything starts."""
        return ()

    async def start(self) -> None:
        return None

    async def ended(self) -> None:
        await asyncio.Event().wait()

    async def stop(self) -> None:
        return None


def in_use(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as servers bind: TIME_WAIT is no obstacle
        try:
            probe.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                return True
            raise
    return False


def check_ports(components: Sequence[Component]) -> None:
    taken = [f"{port} ({c.name})" for c in components for port in c.ports() if in_use(port)]
    if taken:
        raise StackError(f"port{'s' if len(taken) > 1 else ''} already in use: {', '.join(taken)}; "
                         "stop what holds them or choose others (--port, --ui-port)")


async def first(*aws: asyncio.Future[object] | asyncio.Task[object]) -> None:
    """Wait until one of them is done; cancel the others."""
    _, pending = await asyncio.wait(aws, return_when=asyncio.FIRST_COMPLETED)
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)


async def supervise(components: Sequence[Component], ready: Callable[[], None]) -> None:
    """Run the components until SIGINT or SIGTERM (then return) or until one ends on its own (then StackError)."""
    check_ports(components)
    loop = asyncio.get_running_loop()
    stopping = asyncio.Event()

    def stop(sig: signal.Signals) -> None:
        log.info(f"{sig.name} received; stopping the stack")
        stopping.set()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop, sig)
    started: list[Component] = []
    try:
        for component in components:
            started.append(component)
            starting = asyncio.ensure_future(component.start())
            await first(starting, asyncio.ensure_future(stopping.wait()))
            if stopping.is_set():
                return
            starting.result()
        ready()
        ending = {asyncio.ensure_future(c.ended()): c for c in started}
        await first(asyncio.ensure_future(stopping.wait()), *ending)
        for task, component in ending.items():
            if task.done() and not task.cancelled():
                failure = task.exception()
                if isinstance(failure, StackError):
                    raise failure
                raise StackError(f"{component.name} stopped on its own{f': {failure}' if failure else ''}")
    finally:
        for component in reversed(started):  # a second signal meanwhile changes nothing: every stop is bounded
            began = loop.time()
            try:
                await component.stop()
            except Exception as exc:  # the rest must still stop
                log.error(f"{component.name} did not stop cleanly: {exc}")
            else:
                log.info(f"{component.name} stopped in {loop.time() - began:.1f} s")
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
