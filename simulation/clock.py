"""The time-skipping server's clock, moved with patience: a burst of work can hold a skip for minutes."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment


async def skip_until(env: WorkflowEnvironment, instant: datetime, step: timedelta = timedelta(hours=6),
                     answer_within: timedelta = timedelta(seconds=60), attempts: int = 10,
                     settle_within: timedelta = timedelta(minutes=30)) -> None:
    """Skip the test server's clock to `instant` in steps of at most `step`.

    A skip returns once the server's clock has moved by its step, and the clock stands still while the worker has
    tasks in hand, so after a burst (10,000 starts) one skip can last minutes: it is never cut short. A skip that
    fails is not simply asked again: the server may still be in it, with time skipping unlocked, and a second
    unlock is refused ("Unbalanced lock and unlock calls", whose message lists every lock event and at 10,000
    workflows exceeds the client's 16 KiB header limit: "h2 protocol error"). The clock is watched until it passes
    the failed skip's end instead (for at most `settle_within`). A clock reading (which changes nothing) that fails
    or goes unanswered within `answer_within` is asked again. After `attempts` failures in a row the call fails,
    naming the instant."""
    failures = 0

    def failed(exc: BaseException) -> None:
        nonlocal failures
        failures += 1
        if failures >= attempts:
            raise RuntimeError(f"the time-skipping server failed {failures} clock requests in a row while "
                               f"skipping to {instant.isoformat()}: {exc!r}") from exc

    async def clock() -> datetime:
        while True:
            try:
                return await asyncio.wait_for(env.get_current_time(), answer_within.total_seconds())
            except (TimeoutError, RPCError) as exc:
                failed(exc)

    while (now := await clock()) < instant:
        target = min(instant, now + step)
        try:
            await env.sleep(target - now)
            failures = 0
        except RPCError as exc:
            failed(exc)
            try:
                async with asyncio.timeout(settle_within.total_seconds()):
                    while await clock() < target:
                        await asyncio.sleep(1)
            except TimeoutError:
                raise RuntimeError(f"a failed skip to {target.isoformat()} did not end within {settle_within}") from exc
