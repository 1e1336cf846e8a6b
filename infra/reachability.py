"""Whether the Temporal server answers, said once when it stops answering and once when it is back."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import structlog
from temporalio.client import Client
from temporalio.service import RPCError

log = structlog.get_logger("grantflow.temporal")


async def answers(client: Client, within: timedelta) -> bool:
    try:
        return await client.service_client.check_health(timeout=within)
    except (TimeoutError, RPCError):
        return False


async def watch(client: Client, address: str, every: timedelta = timedelta(seconds=1)) -> None:
    """Probe the server every `every` until cancelled. The SDK core's per-poll retry warnings are filtered out
    (`infra.logs.unreachable_retry`); this is what the log says instead."""
    since: datetime | None = None
    while True:
        up = await answers(client, every)
        if not up and since is None:
            since = datetime.now().astimezone()
            log.warning(f"Temporal at {address} unreachable since {since:%H:%M:%S}; retrying")
        elif up and since is not None:
            away = datetime.now().astimezone() - since
            log.info(f"Temporal at {address} reachable again after {away.total_seconds():.0f} s")
            since = None
        await asyncio.sleep(every.total_seconds())
