"""The simulation's approvers working through their queues: units and recommenders approve or return; a recommender
whose step's rules fail (不予推荐) returns the application instead of recommending it, and its applicant gives up."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from client.calls import ask
from models.messages import application_workflow_id
from models.rules import RECOMMENDATION, at_recommendation
from simulation.late_rounds import LateRounds
from simulation.report import Persona
from simulation.stages import step_actor
from workflows.application import ApplicationWorkflow


class ChainRounds(LateRounds):
    """Over the state the Simulation keeps; `withheld`: applications a recommender would not recommend."""

    people: list[Persona]
    beyond_quota: set[int]
    withheld: set[int]

    def person(self, i: int, role: str) -> str:
        raise NotImplementedError

    async def act(self, i: int, trigger: str, role: str, reason: str = "", actor: str | None = None,
                  **data: str) -> bool:
        raise NotImplementedError

    async def each(self, coros: list[Any]) -> list[Any]:
        raise NotImplementedError

    async def failing_rule(self, i: int) -> str | None:
        """The first rule of its recommender's step that application i fails, as its workflow evaluated it."""
        async with self.query_gate:
            status = await ask(self.client.get_workflow_handle(application_workflow_id(self.ids[i])),
                               ApplicationWorkflow.status, attempts=20)
        return next((v.rule_id for v in status.verdicts if at_recommendation(v) and v.outcome == "fail"), None)

    async def chain_rounds(self, start: datetime, end: datetime, tick: timedelta) -> None:
        """Approvers work through their queues every `tick`; some return, some never act (the step lapses)."""
        roles = {f"awaiting_{s.id}": s for s in self.call.chain}
        checked = any(r.at == RECOMMENDATION for r in self.call.rules)
        at = start
        while at < end:
            await self.sleep_until(at)
            states = self.states()
            work = []
            acting = [i for i, app_id in enumerate(self.ids) if states.get(app_id) in roles
                      and not (self.people[i].approver_sleeps or i in self.beyond_quota)]
            asking = [i for i in acting if checked and roles[states[self.ids[i]]].role == "recommender"]
            failing = dict(zip(asking, await self.each([self.failing_rule(i) for i in asking])))
            for i, app_id in enumerate(self.ids):
                state, x = states.get(app_id), self.people[i]
                if state in roles and i in acting:
                    step = roles[state]
                    if failing.get(i) is not None:  # never tried: not even late
                        self.withheld.add(i)
                        if step.can_return:
                            work.append(self.act(i, "return", step.role, f"不予推荐：不符合 {failing[i]}",
                                                 step_actor(self.call, step, self.person(i, "recommender"))))
                    elif self.late.holds(i, "approve", step.role, state, "同意推荐"):
                        continue
                    elif x.returned_by_unit and step.can_return and step.role == "unit_admin":
                        x.returned_by_unit = False
                        work.append(self.act(i, "return", step.role, "材料不全，请补充后重新提交"))
                    else:
                        work.append(self.act(i, "approve", step.role, "同意推荐",
                                             step_actor(self.call, step, self.person(i, "recommender"))))
                elif state == "returned" and x.resubmits and i not in self.withheld:
                    work.append(self.act(i, "resubmit", "applicant"))
            if not work and at > start:
                break
            await self.each(work)
            await self.late_acts()
            at += tick
