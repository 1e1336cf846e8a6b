"""Payload retention: which payloads kept outside the histories (records.payloads) no history on the server can still
refer to, decided from the server's visibility records and its namespace's retention."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.engine import Engine
from temporalio.api.workflowservice.v1 import DescribeNamespaceRequest
from temporalio.client import Client

from records.payloads import payloads_through, prune, store_instants

MARGIN = timedelta(days=1)  # a client stores a start's input just before the server stamps the start (and clocks skew)


@dataclass(frozen=True)
class Pruned:
    """What a pruning found: the payloads last stored at or before `through` (None: none may go), and their size."""

    through: datetime | None
    payloads: int
    size: int
    retention: timedelta


async def namespace_retention(client: Client) -> timedelta:
    """How long the server keeps a closed workflow's history (the namespace's retention)."""
    described = await client.workflow_service.describe_namespace(DescribeNamespaceRequest(namespace=client.namespace))
    return described.config.workflow_execution_retention_ttl.ToTimedelta()


def _instant(at: datetime) -> str:
    return at.astimezone(UTC).isoformat()


def kept(now: datetime, retention: timedelta) -> str:
    """The visibility query of the runs whose histories the server still keeps: running, or closed within retention."""
    return f"ExecutionStatus = 'Running' OR CloseTime > '{_instant(now - retention)}'"


async def referable(client: Client, stored: datetime, keeping: str, margin: timedelta) -> bool:
    """Whether a payload last stored at `stored` may be in a kept history: a run that refers to it was running when it
    was last stored (or started just after a client stored its input), so it started before `stored` + margin."""
    found = await client.count_workflows(f"StartTime < '{_instant(stored + margin)}' AND ({keeping})")
    return found.count > 0


async def prune_payloads(client: Client, engine: Engine, now: datetime, dry_run: bool = False,
                         margin: timedelta = MARGIN) -> Pruned:
    """Delete the payloads that no kept history can refer to: those last stored before the earliest start of a kept
    run, less `margin`. The instants are searched by halves, one visibility count each (about 20 for a million)."""
    if now.tzinfo is None:
        raise ValueError(f"naive datetime {now.isoformat()}: the pruning instant needs an offset")
    retention = await namespace_retention(client)
    keeping = kept(now, retention)
    instants = store_instants(engine, now - margin)
    low, high = 0, len(instants)  # instants[:low] may go; instants[high:] may not
    while low < high:
        middle = (low + high) // 2
        if await referable(client, instants[middle], keeping, margin):
            high = middle
        else:
            low = middle + 1
    if low == 0:
        return Pruned(None, 0, 0, retention)
    through = instants[low - 1]
    count, size = payloads_through(engine, through)
    if not dry_run:
        count = prune(engine, through)
    return Pruned(through, count, size, retention)
