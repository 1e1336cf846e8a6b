"""The simulated programme manager's decisions on verdicts that need a person: most pass, about one in four fails
(seeded per application and rule, so a run decides the same whatever order the decisions go in)."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable
from typing import Any, Protocol

from temporalio.client import Client

from client.calls import ask
from models.messages import application_workflow_id
from workflows.application import ApplicationWorkflow


class Deciding(Protocol):
    seed: int
    ids: list[str]
    client: Client
    query_gate: asyncio.Semaphore

    def states(self) -> dict[str, str]: ...

    async def act(self, i: int, trigger: str, role: str, reason: str = "", **data: str) -> bool: ...

    async def each(self, coros: list[Awaitable[Any]]) -> list[Any]: ...


async def decide_waiting(sim: Deciding) -> None:
    """Decide every verdict of every application waiting in formal_pending."""
    states = sim.states()
    await sim.each([decide(sim, i) for i, app_id in enumerate(sim.ids) if states.get(app_id) == "formal_pending"])


async def decide(sim: Deciding, i: int) -> None:
    async with sim.query_gate:
        status = await ask(sim.client.get_workflow_handle(application_workflow_id(sim.ids[i])),
                           ApplicationWorkflow.status, attempts=20)
    for v in (v for v in status.verdicts if v.outcome == "review"):
        fails = random.Random(f"{sim.seed}:{i}:{v.rule_id}").random() < 0.25
        await sim.act(i, "decide", "manager", "复核：" + ("不符合" if fails else "符合") + "申报要求",
                      rule=v.rule_id, outcome="fail" if fails else "pass", evidence="复核申报材料原件")
        if fails:
            return
