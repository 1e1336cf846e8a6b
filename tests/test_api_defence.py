"""A defence (答辩) over HTTP on the real test server: each sees the hearings the CLI shows them (an applicant their
own slot, never the panel), materials are refused at their deadline with a 409 naming it (so is a panel member's
decline once the hearing began), an absence needs a reason; and the materials deadline is in `deadline explain` and in
the applicant's iCalendar feed, to the instant."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from icalendar import Calendar
from sqlmodel import Session
from temporalio.client import WorkflowHandle
from typer.testing import CliRunner

from cli import app as cli
from client.calls import Prepared, prepare, start_application
from client.service.uploads import MAX_UPLOAD
from models.call import load_call
from models.identity import Grant
from models.instants import local
from models.messages import ApplicationState
from models.review.messages import DefenceSlot, StageInput, StageStatus, stage_workflow_id
from records.tables import CallRow
from tests.conftest import Stack
from tests.helpers import PEOPLE, application_input, sleep_until, state
from tests.test_api_stages import Http, _started_call, http
from tests.test_defence import CALL_012, _register
from workflows.review_stage import ReviewStageWorkflow

__all__ = ["http"]  # the fixture
ZONE = "Asia/Shanghai"


async def _defence(stack: Stack, prepared: Prepared, ids: list[str]) -> tuple[WorkflowHandle[Any, Any], StageStatus,
                                                                               list[WorkflowHandle[Any, Any]]]:
    """The applications (in defence, applicant pi-N of the N-th) and their defence, once scheduled."""
    call = prepared.definition
    apps = [await start_application(stack.client, application_input(
        prepared, a, category=("major", "key")[i % 2], people={**PEOPLE, "applicant": f"pi-{i}"},
        carried=ApplicationState(state="in_defence")), stack.task_queue) for i, a in enumerate(ids)]
    handle = await stack.client.start_workflow(
        ReviewStageWorkflow.run, StageInput(call, prepared.input.calendar, "defence",
                                            await stack.env.get_current_time(), None, True),
        id=stage_workflow_id(call.id, "defence"), task_queue=stack.task_queue)
    for _ in range(100):
        status = await handle.query(ReviewStageWorkflow.status)
        if status.state.drawn is not None and len(status.state.drawn.slots) == len(ids):
            return handle, status, apps
        await asyncio.sleep(0.1)
    raise AssertionError(f"the defence did not schedule {ids}")


def _at(text: str) -> datetime:
    """An instant as the API gives it: ISO 8601 with the call's offset, never naive."""
    at = datetime.fromisoformat(text)
    assert at.utcoffset() == timedelta(hours=8), text
    return at


async def test_the_defence_over_http_as_each_may_see_it_with_late_materials_and_absence_refused(
        stack: Stack, http: tuple[Http, Any]) -> None:
    api, app = http
    prepared = prepare(load_call(CALL_012), not_before=await stack.env.get_current_time())
    call = prepared.definition
    ids = [f"h{i}-{stack.task_queue}" for i in range(3)]
    _register(stack, prepared, ids)
    with Session(stack.engine) as s:  # the routes need the call's records row only; its workflow would move time
        s.add(CallRow(id=call.id, title=call.title, version=call.version(), definition_json=call.model_dump_json(),
                      timetable_json="{}", updated_at=datetime.now(UTC)))
        s.commit()
    defence = f"/calls/{call.id}/stages/defence/defence"  # phase "defence", then the defence of it
    async with stack.running():
        handle, status, apps = await _defence(stack, prepared, ids)
        slots: list[DefenceSlot] = status.state.drawn.slots  # type: ignore[union-attr]
        mine = next(x for x in slots if x.applicant == "pi-0")
        theirs = next(x for x in slots if x.applicant == "pi-1")
        panels = {x.application_id: sorted(t.expert_id for t in status.state.tasks if t.application_id == x.application_id)
                  for x in slots}
        member = panels[mine.application_id][0]
        await api.sign_in(stack, app, {"pm-1": [Grant("manager", f"call:{call.id}")], member: [
            Grant("expert", "application:x")], "pi-0": [Grant("applicant", "self")],
            "pi-1": [Grant("applicant", "self")], "pi-9": [Grant("applicant", "self")]})
        materials = f"{defence}/applications/{mine.application_id}/materials"
        absence = f"{defence}/applications/{slots[-1].application_id}/absence"
        for method, path, body in (("GET", defence, None), ("POST", materials, None),
                                   ("POST", absence, {"reason": "缺席"})):
            anonymous = await api.client.request(method, path, json=body)
            assert anonymous.status_code == 401 and anonymous.headers["www-authenticate"] == "Bearer", path
            assert anonymous.headers["content-type"] == "application/problem+json"
        for who, path, kwargs in ((member, materials, {"content": b"PPT"}), ("pi-0", absence, {"json": {"reason": "缺席"}}),
                                  ("pi-9", defence, {})):
            wrong = await api.client.request("GET" if path == defence else "POST", path, headers=api.auth(who),
                                             **kwargs)
            assert wrong.status_code == 403 and wrong.headers["content-type"] == "application/problem+json", wrong.text

        everything = (await api.client.get(defence, headers=api.auth("pm-1"))).json()["items"]
        assert [h["application"] for h in everything] == [x.application_id for x in slots]
        assert {h["application"]: h["panel"] for h in everything} == panels and all(len(p) == 5 for p in panels.values())
        page = (await api.client.get(f"{defence}?limit=2", headers=api.auth("pm-1"))).json()
        assert len(page["items"]) == 2 and "offset=2" in page["next"]
        rest = (await api.client.get(page["next"], headers=api.auth("pm-1"))).json()
        assert [h["application"] for h in rest["items"]] == [slots[2].application_id] and rest["next"] is None
        seat = (await api.client.get(defence, headers=api.auth(member))).json()["items"]
        assert mine.application_id in [h["application"] for h in seat] and all(h["panel"] == [member] for h in seat)
        own = await api.client.get(defence, headers=api.auth("pi-0"))
        [hearing] = own.json()["items"]
        assert hearing["application"] == mine.application_id and hearing["panel"] == []
        assert not any(e in own.text for p in panels.values() for e in p)  # never the panel
        assert (_at(hearing["starts"]), _at(hearing["materials_due"])) == (mine.starts, mine.materials_due)

        sent = await api.client.post(materials, content=b"PPT", headers=api.auth("pi-0", "m1"))
        assert sent.status_code == 200, sent.text
        again = await api.client.post(materials, content=b"PPT", headers=api.auth("pi-0", "m1"))
        assert again.json() == sent.json() and again.headers["idempotent-replayed"] == "true"
        assert _at(sent.json()["received_at"]) < mine.materials_due
        huge = await api.client.post(materials, content=b"PPT", headers=api.auth("pi-0") | {
            "Content-Length": str(MAX_UPLOAD + 1)})  # refused before the body is read
        assert huge.status_code == 413 and f"more than {MAX_UPLOAD} bytes" in huge.json()["detail"], huge.text
        stolen = await api.client.post(materials, content=b"PPT", headers=api.auth("pi-1"))
        assert stolen.status_code == 409 and "is not the applicant" in stolen.json()["detail"]
        for body in ({}, {"reason": "  "}):
            blank = await api.client.post(absence, json=body, headers=api.auth("pm-1"))
            assert blank.status_code == 422 and blank.headers["content-type"] == "application/problem+json"
            assert "reason" in blank.json()["detail"], blank.text
        early = await api.client.post(absence, json={"reason": "缺席"}, headers=api.auth("pm-1"))
        assert early.status_code == 409 and "an absence is recorded from then" in early.json()["detail"]

        await sleep_until(stack.env, theirs.materials_due)
        late = await api.client.post(f"{defence}/applications/{theirs.application_id}/materials", content=b"PPT",
                                     headers=api.auth("pi-1"))
        assert late.status_code == 409 and late.headers["content-type"] == "application/problem+json"
        assert f"were due at {local(call.zone, theirs.materials_due)}" in late.json()["detail"], late.text
        await sleep_until(stack.env, slots[-1].starts + timedelta(minutes=1))
        declined = await api.client.post(f"/calls/{call.id}/stages/defence/applications/{mine.application_id}/declines",
                                         json={"reason": "临时有事"}, headers=api.auth(member))
        assert declined.status_code == 409 and f"the defence of {mine.application_id} began at" in declined.json()[
            "detail"], declined.text
        recorded = await api.client.post(absence, json={"reason": "逾期未进入答辩会议室"}, headers=api.auth("pm-1", "a1"))
        assert recorded.status_code == 200, recorded.text
        assert {k: recorded.json()[k] for k in ("application", "actor", "role")} == {
            "application": slots[-1].application_id, "actor": "pm-1", "role": "manager"}
        gone = apps[ids.index(slots[-1].application_id)]
        for _ in range(100):
            if await state(gone) == "withdrawn":
                break
            await asyncio.sleep(0.1)
        assert await state(gone) == "withdrawn"
        shown = {h["application"]: h for h in (await api.client.get(defence, headers=api.auth("pm-1"))).json()["items"]}
        assert shown[slots[-1].application_id]["absent"]["reason"] == "逾期未进入答辩会议室"
        assert _at(shown[mine.application_id]["materials_at"]) == _at(sent.json()["received_at"])
        await handle.terminate("test finished")


async def test_the_materials_deadline_is_explained_and_in_the_applicants_feed(
        stack: Stack, http: tuple[Http, Any], tmp_path: Path) -> None:
    api, app = http
    prepared = prepare(load_call(CALL_012), not_before=await stack.env.get_current_time())
    call = prepared.definition
    ids = [f"f{i}-{stack.task_queue}" for i in range(2)]
    _register(stack, prepared, ids)
    env = {"GRANTFLOW_DATABASE_URL": str(stack.engine.url), "GRANTFLOW_VAR_DIR": str(tmp_path / "var"),
           "GRANTFLOW_TEMPORAL_ADDRESS": stack.client.service_client.config.target_host,
           "GRANTFLOW_NAMESPACE": stack.client.namespace, "GRANTFLOW_CONFIG_DIR": str(tmp_path / "config")}
    async with stack.running():
        await _started_call(stack, prepared)
        handle, status, _ = await _defence(stack, prepared, ids)
        slot = {x.applicant: x for x in status.state.drawn.slots}  # type: ignore[union-attr]
        await api.sign_in(stack, app, {"pi-0": [Grant("applicant", "self")], "pi-1": [Grant("applicant", "self")]})
        mine, theirs = slot["pi-0"].application_id, slot["pi-1"].application_id

        explained = (await api.client.get(f"/applications/{mine}/deadlines", headers=api.auth("pi-0"))).json()
        [item] = [i for i in explained if i["window"] == "materials:defence"]
        assert _at(item["effective"]) == slot["pi-0"].materials_due
        assert item["facts"][1].startswith("due at the end (24:00) of working day 1 before the hearing's day")
        assert item["facts"][2] == "none received yet; refused from the deadline on"

        r = await api.client.get(f"/applications/{mine}/deadlines.ics", headers=api.auth("pi-0"))
        assert r.status_code == 200, r.text
        events = {str(e["UID"]): e for e in Calendar.from_ical(r.content).walk("VEVENT")}
        event = events[f"deadline-application-{mine}-materials:defence@grantflow"]
        start = event["DTSTART"]
        assert start.dt == slot["pi-0"].materials_due and start.params["TZID"] == ZONE
        assert start.dt.utcoffset() == timedelta(hours=8) and event["SEQUENCE"] == 0
        assert not any(theirs in uid for uid in events)
        other = await api.client.get(f"/applications/{theirs}/deadlines.ics", headers=api.auth("pi-1"))
        theirs_due = {str(e["UID"]): e["DTSTART"].dt for e in Calendar.from_ical(other.content).walk("VEVENT")}
        assert theirs_due[f"deadline-application-{theirs}-materials:defence@grantflow"] == slot["pi-1"].materials_due
        assert (await api.client.get(f"/applications/{theirs}/deadlines.ics", headers=api.auth("pi-0"))).status_code \
            == 403
        whole = await api.client.get(f"/calls/{call.id}/deadlines.ics", headers=api.auth("pi-0"))
        uids = [str(e["UID"]) for e in Calendar.from_ical(whole.content).walk("VEVENT")]
        assert uids and not any("materials:" in uid for uid in uids)  # a slot is the applicant's own

        done = await asyncio.to_thread(CliRunner().invoke, cli, ["--operator", "deadline", "explain", mine], env=env)
        assert done.exit_code == 0, done.output
        due = slot["pi-0"].materials_due.astimezone(call.zone).isoformat()
        assert f"materials:defence: {due}" in done.output
        assert local(call.zone, slot["pi-0"].starts) in done.output  # the hearing, in the first fact
        await handle.terminate("test finished")
