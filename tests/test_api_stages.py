"""Review stages and the publicity result over HTTP on the real test server: an expert lists and reviews only their
own tasks, an applicant is refused (403) and an anonymous caller asked to sign in (401) on every stage route, a
reopening without a reason is a problem document, and the publicity result goes out once as a notice and stays on
a public endpoint that names no objector."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest_asyncio
from sqlmodel import Session, select

from api.app import create_app
from client.accounts import add
from client.calls import Prepared, prepare, start_application, start_call
from client.tokens import issue
from infra.settings import Settings
from models.call import load_call
from models.identity import Grant
from models.messages import ApplicationState
from models.review.messages import Drawn, Outcome, Settled, StageState, stage_workflow_id
from records.tables import ApplicationRow, CallRow, NoticeRow
from tests.conftest import CALLS, Stack
from tests.helpers import PEOPLE, act, application_input, sleep_until, state
from tests.test_review_stage import COMMENTS, SCORES, _register, _stage_input
from workflows.review_stage import ReviewStageWorkflow


@dataclass
class Http:
    client: httpx.AsyncClient
    tokens: dict[str, str]

    def auth(self, who: str, key: str | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"} | ({"Idempotency-Key": key} if key else {})

    async def sign_in(self, stack: Stack, app: Any, accounts: dict[str, list[Grant]]) -> None:
        for account, grants in accounts.items():
            add(stack.engine, account, None, grants)
            self.tokens[account] = issue(app.state.service.tokens, account, datetime.now(UTC))


@pytest_asyncio.fixture
async def http(stack: Stack, tmp_path: Path) -> AsyncIterator[tuple[Http, Any]]:
    app = create_app(Settings("unused", "default", str(stack.engine.url), stack.task_queue, tmp_path, "json"),
                     stack.client)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://grantflow") as client:
        yield Http(client, {}), app


async def _started_call(stack: Stack, prepared: Prepared) -> None:
    await start_call(stack.client, prepared, stack.task_queue)
    while True:  # the call's records row is written by its first activity
        with Session(stack.engine) as s:
            if s.get(CallRow, prepared.definition.id) is not None:
                return
        await asyncio.sleep(0.05)


async def test_experts_see_and_review_only_their_own_tasks_and_applicants_are_refused(
        stack: Stack, http: tuple[Http, Any]) -> None:
    api, app = http
    prepared = prepare(load_call(CALLS / "003-sx-2017-key-rd-general.yaml"),
                       not_before=await stack.env.get_current_time())
    call = prepared.definition
    _register(stack, prepared, 6, "in_preliminary")
    opened = await stack.env.get_current_time() + timedelta(minutes=1)
    async with stack.running():
        await _started_call(stack, prepared)
        handle = await stack.client.start_workflow(ReviewStageWorkflow.run, _stage_input(prepared, opened),
                                                   id=stage_workflow_id(call.id, "preliminary"),
                                                   task_queue=stack.task_queue)
        for _ in range(100):
            if (await handle.query(ReviewStageWorkflow.status)).state.drawn is not None:
                break
            await sleep_until(stack.env, await stack.env.get_current_time() + timedelta(seconds=1))
        everything = (await handle.query(ReviewStageWorkflow.status)).state.tasks
        mine = everything[0]
        other = next(t for t in everything if t.expert_id != mine.expert_id
                     and (mine.application_id, t.expert_id) not in {(x.application_id, x.expert_id) for x in everything})
        await api.sign_in(stack, app, {
            mine.expert_id: [Grant("expert", f"application:{mine.application_id}")],
            other.expert_id: [Grant("expert", f"application:{other.application_id}")],
            "pm-1": [Grant("manager", f"call:{call.id}")], "pi-1": [Grant("applicant", "self")]})
        stage = f"/calls/{call.id}/stages/preliminary"
        sheet = {"scores": SCORES, "comments": COMMENTS}
        review = f"{stage}/applications/{mine.application_id}/reviews"
        routes: list[tuple[str, str, dict[str, Any] | None]] = [
            ("GET", stage, None), ("GET", f"{stage}/tasks", None), ("POST", review, sheet),
            ("POST", f"{stage}/applications/{mine.application_id}/declines", {"reason": "回避"}),
            ("POST", f"{stage}/applications/{mine.application_id}/reopenings",
             {"expert": mine.expert_id, "reason": "复核"}),
            ("POST", f"{stage}/approval", {"reason": "同意"})]
        for method, path, body in routes:
            anonymous = await api.client.request(method, path, json=body)
            assert anonymous.status_code == 401 and anonymous.headers["www-authenticate"] == "Bearer", path
            applicant = await api.client.request(method, path, json=body, headers=api.auth("pi-1"))
            assert applicant.status_code == 403, (path, applicant.text)
            assert applicant.headers["content-type"] == "application/problem+json"

        own = (await api.client.get(f"{stage}/tasks?limit=500", headers=api.auth(mine.expert_id))).json()["items"]
        assert own and {t["expert"] for t in own} == {mine.expert_id}
        assert len(own) == sum(t.expert_id == mine.expert_id for t in everything)
        seen = (await api.client.get(stage, headers=api.auth(mine.expert_id))).json()
        assert {t["expert"] for t in seen["tasks"]} == {mine.expert_id} and seen["log"] == []
        page = (await api.client.get(f"{stage}/tasks?limit=5", headers=api.auth("pm-1"))).json()
        assert len(page["items"]) == 5 and "offset=5" in page["next"]
        assert len((await api.client.get(f"{stage}/tasks?limit=500", headers=api.auth("pm-1"))).json()["items"]) \
            == len(everything)

        stolen = await api.client.post(review, json=sheet, headers=api.auth(other.expert_id))
        assert stolen.status_code == 409 and "has no open review task" in stolen.json()["detail"]
        bad = await api.client.post(review, json={"scores": {"innovation": 8}}, headers=api.auth(mine.expert_id))
        assert bad.status_code == 409 and "feasibility" in bad.json()["detail"]
        first = await api.client.post(review, json=sheet, headers=api.auth(mine.expert_id, "r1"))
        assert first.status_code == 200 and first.json()["expert"] == mine.expert_id, first.text
        again = await api.client.post(review, json=sheet, headers=api.auth(mine.expert_id, "r1"))
        assert again.json() == first.json() and again.headers["idempotent-replayed"] == "true"

        reopen = f"{stage}/applications/{mine.application_id}/reopenings"
        for body in ({"expert": mine.expert_id}, {"expert": mine.expert_id, "reason": "  "}):
            refused = await api.client.post(reopen, json=body, headers=api.auth("pm-1"))
            assert refused.status_code == 422 and refused.headers["content-type"] == "application/problem+json"
            assert "reason" in refused.json()["detail"], refused.text
        reopened = await api.client.post(reopen, json={"expert": mine.expert_id, "reason": "评分与评语不一致"},
                                         headers=api.auth("pm-1", "o1"))
        assert reopened.status_code == 200 and reopened.json()["status"] == "open", reopened.text
        declined = await api.client.post(f"{stage}/applications/{other.application_id}/declines",
                                         json={"reason": "与本人研究方向不符"}, headers=api.auth(other.expert_id))
        assert declined.status_code == 200 and declined.json()["status"] == "declined", declined.text
        for _ in range(100):  # the next eligible expert takes the declined task (one activity)
            status = (await api.client.get(stage, headers=api.auth("pm-1"))).json()
            if any(t["reason"] == f"replaces {other.expert_id}" for t in status["tasks"]):
                break
            await asyncio.sleep(0.1)
        assert any(t["application"] == other.application_id and t["reason"] == f"replaces {other.expert_id}"
                   for t in status["tasks"])
        gone = (await api.client.get(f"{stage}/tasks?status=declined", headers=api.auth("pm-1"))).json()["items"]
        assert [(t["application"], t["expert"]) for t in gone] == [(other.application_id, other.expert_id)]
        approval = await api.client.post(f"{stage}/approval", json={"reason": "同意"}, headers=api.auth("pm-1"))
        assert approval.status_code == 409 and "not the deciding stage" in approval.json()["detail"]
        status = (await api.client.get(stage, headers=api.auth("pm-1"))).json()
        assert any("reopened" in line and "pm-1" in line for line in status["log"])
        await handle.terminate("test finished")


async def test_the_publicity_result_is_published_once_to_managers_and_applicants_and_publicly(
        stack: Stack, http: tuple[Http, Any]) -> None:
    api, _ = http
    prepared = prepare(load_call(CALLS / "000-sx-2025-basic-research-geology.yaml"),
                       not_before=await stack.env.get_current_time())
    call = prepared.definition
    final = [p.id for p in call.phases if p.kind == "expert_review"][-1]
    # Opened a minute ago, so nothing here skips the test server's clock: a skip to an hour after the opening waited
    # for ever in several full runs, with every workflow of the test idle and nothing pending (cause not found).
    prepared.timetable.mark_opened("publicity", await stack.env.get_current_time() - timedelta(minutes=1),
                                   prepared.input.calendar)
    publicity = prepared.timetable.get("publicity")
    assert publicity.opens is not None
    category = call.categories[0].id
    ids = [f"p-{who}-{stack.task_queue}" for who in ("funded", "reserve", "next")]
    settled = Settled([Outcome(ids[0], "fund", "rank 1")], {category: [1, 1]}, {category: [ids[0]]},
                      {category: ids[1:]})
    carried = StageState(drawn=Drawn([], 1, "h", "r", 0, 0, 0), settled=settled, decided=True)
    states = ("publicised", "reserve", "reserve")
    with Session(stack.engine) as s:
        s.add(CallRow(id=call.id, title=call.title, version=call.version(), definition_json=call.model_dump_json(),
                      timetable_json="{}", updated_at=datetime.now(UTC)))
        for n, (a, was) in enumerate(zip(ids, states)):  # registered before the carried runs below
            s.add(ApplicationRow(id=a, call_id=call.id, workflow_id=f"application-{a}", category=category,
                                 title=f"项目{n}", applicant=f"pi-{n}", unit=f"u{n}", version=call.version(),
                                 state=was, updated_at=datetime.now(UTC)))
        s.commit()
    result = f"/calls/{call.id}/publicity-result"
    async with stack.running():
        stage = await stack.client.start_workflow(
            ReviewStageWorkflow.run, _stage_input(prepared, publicity.opens, carried, final, True),
            id=stage_workflow_id(call.id, final), task_queue=stack.task_queue)
        handles = [await start_application(stack.client, application_input(
            prepared, a, people={**PEOPLE, "applicant": f"pi-{n}"}, carried=ApplicationState(state=was)),
            stack.task_queue) for n, (a, was) in enumerate(zip(ids, states))]
        await act(handles[0], "object", "public", "citizen-7", "成果造假")
        await act(handles[0], "uphold_objection", "manager", "pm-1", "经核查异议成立")
        for _ in range(300):  # the promotion needs no time to pass: wait for it without skipping the server's clock
            if await state(handles[1]) == "publicised":
                break
            await asyncio.sleep(0.1)
        early = await api.client.get(result)
        assert early.status_code == 404 and "not published yet" in early.json()["detail"]
        await stage.signal(ReviewStageWorkflow.publicity_closed)
        await stage.result()
        with Session(stack.engine) as s:
            notices = s.exec(select(NoticeRow).where(NoticeRow.kind == "publicity_result")).all()
        assert sorted(n.recipient for n in notices) == ["applicant:pi-0", "applicant:pi-1", f"manager:{call.id}"]
        assert all(n.application_id is None and "公示结果" in n.subject for n in notices)
        assert all("《项目1》（u1）" in n.body and "收到异议1件，经核查成立1件" in n.body for n in notices)
        delivered = [k for k in stack.channel.delivered if ":publicity_result:" in k]
        assert sorted(delivered) == sorted(n.key for n in notices)

        public = await api.client.get(result)  # no sign-in
        assert public.status_code == 200, public.text
        shown = public.json()
        assert shown["objections"] == {"filed": 1, "upheld": 1, "dismissed": 0, "pending": 0}
        assert [x["application_id"] for x in shown["promoted"]] == [ids[1]]
        assert [x["application_id"] for x in shown["funded"]] == [ids[1]]
        assert "citizen-7" not in public.text and "pm-1" not in public.text and "pi-" not in public.text

        stage_again = await stack.client.start_workflow(  # a second publication (a rerun) changes and sends nothing
            ReviewStageWorkflow.run, _stage_input(prepared, publicity.opens, carried, final, True),
            id=stage_workflow_id(call.id, final), task_queue=stack.task_queue)
        await stage_again.signal(ReviewStageWorkflow.publicity_closed)
        await stage_again.result()
        assert [k for k in stack.channel.delivered if ":publicity_result:" in k] == delivered
        assert (await api.client.get(result)).json() == shown
