"""The HTTP API on the real time-skipping server: 401 without credentials on every non-public operation, the role
matrix through HTTP (403 out of scope), problem documents for bad input, idempotency keys, pagination, uploads,
refused attempts for the auditor, and a validator that refuses what a direct Temporal client sends."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import httpx
import pytest_asyncio
from sqlmodel import Session

from api.app import create_app
from client.accounts import add, set_disabled
from client.calls import Prepared, prepare, start_call
from client.tokens import issue
from infra.settings import Settings
from models.call import load_call
from models.identity import Grant, Identity
from models.messages import ActRequest, PhaseRequest
from records.registry_tables import PersonRow, UnitRow
from records.tables import ApplicationRow, CallRow
from tests.conftest import CALLS, Stack
from tests.helpers import hours, opens, refused, sleep_until
from workflows.application import ApplicationWorkflow
from workflows.call import CallWorkflow

PUBLIC = re.compile(r"health|token|openapi|docs|redoc|publicity")
PASSWORD = "a long enough password"


@dataclass
class Api:
    http: httpx.AsyncClient
    stack: Stack
    prepared: Prepared
    tokens: dict[str, str]

    @property
    def call(self) -> str:
        return self.prepared.definition.id

    def auth(self, who: str, key: str | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"} | ({"Idempotency-Key": key} if key else {})


def accounts(call_id: str) -> dict[str, list[Grant]]:
    return {
        "pi-1": [Grant("applicant", "self")], "pi-2": [Grant("applicant", "self")],
        "ua-1": [Grant("unit_admin", "unit:u1")], "ua-2": [Grant("unit_admin", "unit:u2")],
        "org-1": [Grant("recommender", f"call:{call_id},unit:u1")],
        "org-2": [Grant("recommender", f"call:{call_id},unit:u2")],
        "pm-1": [Grant("manager", f"call:{call_id}")], "pm-x": [Grant("manager", "call:another-call")],
        "au-1": [Grant("auditor", "*")], "citizen": [Grant("public", "*")],
    }


@pytest_asyncio.fixture
async def api(stack: Stack, tmp_path: Path) -> AsyncIterator[Api]:
    prepared = prepare(load_call(CALLS / "000-sx-2025-basic-research-geology.yaml"),
                       not_before=await stack.env.get_current_time())
    with Session(stack.engine) as s:
        for unit in ("u1", "u2"):
            s.add(UnitRow(id=unit, name=unit, registered_on=date(2000, 1, 1), province="CN-SX", kind="university"))
        for n in (1, 2):
            s.add(PersonRow(id=f"pi-{n}", name=f"pi {n}", birth_date=date(1980, 1, 1), unit_id=f"u{n}"))
        s.commit()
    for account, grants in accounts(prepared.definition.id).items():
        add(stack.engine, account, None, grants)  # signs in with tokens only: argon2 is slow on purpose
    settings = Settings("unused", "default", str(stack.engine.url), stack.task_queue, tmp_path, "json")
    app = create_app(settings, stack.client)
    started: list[str] = []

    async def note_applications(response: httpx.Response) -> None:
        """Applications a test creates: their records rows are awaited before the test's workflows are ended."""
        if response.request.method == "POST" and response.request.url.path.endswith("/applications") \
                and response.status_code == 201:
            await response.aread()
            started.append(response.json()["id"])

    async with stack.running(), httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://grantflow",
                                                  event_hooks={"response": [note_applications]}) as http:
        await start_call(stack.client, prepared, stack.task_queue)
        while True:  # the call's records row is written by its first activity
            with Session(stack.engine) as s:
                if s.get(CallRow, prepared.definition.id) is not None:
                    break
            await asyncio.sleep(0.05)
        config = app.state.service.tokens
        tokens = {a: issue(config, a, datetime.now(UTC)) for a in accounts(prepared.definition.id)}
        yield Api(http, stack, prepared, tokens)
        for _ in range(600):  # while the worker still runs: a workflow without its row would outlive the test
            with Session(stack.engine) as s:
                if all(s.get(ApplicationRow, a) is not None for a in started):
                    break
            await asyncio.sleep(0.05)


async def test_every_non_public_operation_answers_401_to_an_anonymous_caller(api: Api) -> None:
    add(api.stack.engine, "pw-1", PASSWORD, [Grant("auditor", "*")])
    login = await api.http.post("/token", data={"username": "pw-1", "password": PASSWORD})
    me = await api.http.get("/me", headers={"Authorization": f"Bearer {login.json()['access_token']}"})
    assert me.json() == {"subject": "pw-1", "via": "local", "grants": [{"role": "auditor", "scope": "*"}]}
    wrong = await api.http.post("/token", data={"username": "pw-1", "password": "not the password"})
    assert wrong.status_code == 401 and wrong.json()["detail"] == "wrong account or password"
    spec = (await api.http.get("/openapi.json")).json()
    operations = [(m, p) for p, ops in spec["paths"].items() for m in ops if not PUBLIC.search(p)]
    assert len(operations) >= 10
    for method, path in operations:
        r = await api.http.request(method.upper(), re.sub(r"\{[^}]+\}", "x", path), json={})
        assert r.status_code == 401, (method, path, r.text)
        assert r.headers["content-type"] == "application/problem+json"
        assert r.headers["www-authenticate"] == "Bearer"
    bad = await api.http.get("/me", headers={"Authorization": "Bearer not-a-token"})
    assert bad.status_code == 401 and "not valid" in bad.json()["detail"]


async def test_roles_and_scopes_through_http(api: Api) -> None:
    call = api.call
    r = await api.http.post(f"/calls/{call}/applications", headers=api.auth("pi-1", "k1"),
                            json={"category": "key", "title": "深部找矿"})
    assert r.status_code == 201, r.text
    app_id = r.json()["id"]
    again = await api.http.post(f"/calls/{call}/applications", headers=api.auth("pi-1", "k1"),
                                json={"category": "key", "title": "深部找矿"})
    assert (again.status_code, again.json(), again.headers["idempotent-replayed"]) == (201, {"id": app_id}, "true")
    twice = await api.http.post(f"/calls/{call}/applications", headers=api.auth("pi-1", "k2"),
                                json={"category": "key", "title": "另一个"})
    assert twice.status_code == 409 and "already applied" in twice.json()["detail"]
    reused = await api.http.post(f"/calls/{call}/applications", headers=api.auth("pi-1", "k1"),
                                 json={"category": "key", "title": "changed"})
    assert reused.status_code == 422 and "another request" in reused.json()["detail"]
    status = (await api.http.get(f"/applications/{app_id}", headers=api.auth("pi-1"))).json()
    assert status["people"] == {"applicant": "pi-1", "unit_admin": "u1", "recommender": "org-1"}

    # who may read it: the applicant, its unit, its recommender, the call's manager, the auditor
    readers = {"pi-1": 200, "pi-2": 403, "ua-1": 200, "ua-2": 403, "org-1": 200, "org-2": 403, "pm-1": 200,
               "pm-x": 403, "au-1": 200, "citizen": 403}
    for who, code in readers.items():
        assert (await api.http.get(f"/applications/{app_id}", headers=api.auth(who))).status_code == code, who

    await sleep_until(api.stack.env, opens(api.prepared, "application") + hours(1))
    events = f"/applications/{app_id}/events"
    for who in ("pi-2", "ua-1", "pm-1", "au-1", "citizen"):
        r = await api.http.post(events, headers=api.auth(who), json={"event": "submit"})
        assert r.status_code in (403, 409), (who, r.text)
    r = await api.http.post(events, headers=api.auth("pi-1", "s1"), json={"event": "submit"})
    assert r.status_code == 200 and r.json()["dest"] == "awaiting_unit_review", r.text
    retry = await api.http.post(events, headers=api.auth("pi-1", "s1"), json={"event": "submit"})
    assert retry.json() == r.json()  # the retry did not act twice (a second submit would be refused)
    for who in ("ua-2", "org-1", "pi-1"):
        r = await api.http.post(events, headers=api.auth(who), json={"event": "approve"})
        assert r.status_code in (403, 409), (who, r.text)
    assert (await api.http.post(events, headers=api.auth("ua-1"), json={"event": "approve"})).status_code == 200
    assert (await api.http.post(events, headers=api.auth("org-1"), json={"event": "approve"})).status_code == 200

    advance = f"/calls/{call}/phase/advance"
    assert (await api.http.post(advance, headers=api.auth("pm-x"), json={"reason": "x"})).status_code == 403
    assert (await api.http.post(advance, headers=api.auth("ua-1"), json={"reason": "x"})).status_code == 403

    refusals = await api.http.get("/refusals?limit=2", headers=api.auth("au-1"))
    page = refusals.json()
    assert refusals.status_code == 200 and len(page["items"]) == 2 and "offset=2" in page["next"]
    everything = (await api.http.get("/refusals?limit=500", headers=api.auth("au-1"))).json()["items"]
    assert any(x["subject"] == "pi-2" and x["action"] == "submit" for x in everything)
    assert any(x["subject"] == "pm-x" and x["action"] == "advance call" for x in everything)
    assert (await api.http.get("/refusals", headers=api.auth("pm-1"))).status_code == 403

    set_disabled(api.stack.engine, "ua-1", True)
    assert (await api.http.get("/me", headers=api.auth("ua-1"))).status_code == 401


BAD_APPLICATIONS: list[tuple[dict[str, object], str]] = [
    ({"category": "key", "title": ""}, "title is empty"),
    ({"category": "key", "title": "x" * 100_000}, "title: String should have at most"),
    ({"category": "key", "title": "ok", "id": "a/b"}, "must be 1-80 letters"),
    ({"category": "key", "title": "ok", "id": "it's"}, "must be 1-80 letters"),
    ({"category": "key", "title": "ok", "attachments": ["photo"]}, "unknown attachment kind(s) 'photo'"),
    ({"category": "key", "title": "bell\a"}, "control or formatting character (U+0007)"),
    ({"category": "key", "title": "\u202eevil"}, "U+202E"),
    ({"category": "nope", "title": "ok"}, "unknown category 'nope'"),
]


async def test_bad_input_is_one_problem_line_and_nothing_is_stored(api: Api) -> None:
    for body, fragment in BAD_APPLICATIONS:
        r = await api.http.post(f"/calls/{api.call}/applications", headers=api.auth("pi-2"), json=body)
        assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json", r.text
        assert fragment in r.json()["detail"] and "\n" not in r.json()["detail"]
    reason = await api.http.post(f"/calls/{api.call}/phase/advance", headers=api.auth("pm-1"),
                                 json={"reason": "\x1b[31mred"})
    assert reason.status_code == 422 and "U+001B" in reason.json()["detail"]
    ok = await api.http.post(f"/calls/{api.call}/applications", headers=api.auth("pi-2"),
                             json={"category": "key", "title": "ok"})
    assert ok.status_code == 201, ok.text  # nothing was claimed by the refused attempt


async def test_deadlines_need_an_aware_instant_and_uploads_are_limited_while_streaming(api: Api) -> None:
    extend = f"/calls/{api.call}/deadlines"
    for closes, fragment in [("2025-04-10T17:00:00", "naive"), ("2025-04-10", "without a time"),
                             ("tomorrow", "not an ISO 8601")]:
        r = await api.http.post(extend, headers=api.auth("pm-1"),
                                json={"window": "application", "closes": closes, "reason": "停电"})
        assert r.status_code == 422 and fragment in r.json()["detail"], r.text
    r = await api.http.post(f"/calls/{api.call}/applications", headers=api.auth("pi-1"),
                            json={"category": "key", "title": "t"})
    app_id = r.json()["id"]
    kind = next(a for a in api.prepared.definition.attachments if a.media_types)
    url = f"/applications/{app_id}/attachments?kind={kind.kind}&filename=a.pdf"
    wrong = await api.http.post(url, headers=api.auth("pi-1") | {"Content-Type": "image/gif"}, content=b"GIF89a")
    assert wrong.status_code == 415, wrong.text

    def chunks() -> object:
        async def gen() -> AsyncIterator[bytes]:
            for _ in range(64):
                yield b"%PDF-" + b"0" * (1024 * 1024)
        return gen()
    big = await api.http.post(url, headers=api.auth("pi-1") | {"Content-Type": "application/pdf"},
                              content=chunks())  # type: ignore[arg-type]
    assert big.status_code == 413, big.text
    small = await api.http.post(url, headers=api.auth("pi-1") | {"Content-Type": "application/pdf"},
                                content=b"%PDF-1.7 tiny")
    assert small.status_code == 201, small.text
    other = await api.http.post(url, headers=api.auth("pi-2") | {"Content-Type": "application/pdf"},
                                content=b"%PDF-1.7 tiny")
    assert other.status_code == 403


async def test_a_direct_temporal_client_cannot_bypass_the_checks(api: Api) -> None:
    r = await api.http.post(f"/calls/{api.call}/applications", headers=api.auth("pi-1"),
                            json={"category": "key", "title": "t"})
    handle = api.stack.client.get_workflow_handle(f"application-{r.json()['id']}")
    await sleep_until(api.stack.env, opens(api.prepared, "application") + hours(1))
    stranger = Identity("pi-2", [Grant("applicant", "self")])
    await refused(handle.execute_update(ApplicationWorkflow.act, ActRequest("submit", "pi-2", "applicant",
                                                                            identity=stranger)), "not the applicant")
    await refused(handle.execute_update(ApplicationWorkflow.act, ActRequest("submit", "pi-1", "applicant")),
                  "the request carries no identity")
    claimed = Identity("pi-2", [Grant("applicant", "self")])
    await refused(handle.execute_update(ApplicationWorkflow.act, ActRequest("submit", "pi-1", "applicant",
                                                                            identity=claimed)), "but its identity")
    call = api.stack.client.get_workflow_handle(f"call-{api.call}")
    other = Identity("pm-x", [Grant("manager", "call:another-call")])
    await refused(call.execute_update(CallWorkflow.advance_phase, PhaseRequest("pm-x", "manager", "x", other)),
                  "pm-x has no manager role")
    assert (await handle.query(ApplicationWorkflow.status)).state == "draft"




async def test_quotas_decisions_and_duplicates_through_http(api: Api) -> None:
    """Only the call's manager sets a quota or decides, the validator refuses what the call does not allow (409 with
    its line); the places and the duplicate check are read within scope."""
    call = api.call
    r = await api.http.post(f"/calls/{call}/applications", headers=api.auth("pi-1"),
                            json={"category": "key", "title": "深部找矿预测"})
    app_id = r.json()["id"]
    quota = f"/calls/{call}/quotas/shown"
    for who in ("pm-x", "org-1", "au-1"):
        r = await api.http.post(quota, headers=api.auth(who), json={"limit": 3, "reason": "系统名额"})
        assert r.status_code == 403, (who, r.text)
    r = await api.http.post(quota, headers=api.auth("pm-1"), json={"limit": 3, "reason": "系统名额"})
    assert r.status_code == 409 and "quota 'shown' is not one the system sets" in r.json()["detail"], r.text
    r = await api.http.post(quota, headers=api.auth("pm-1"), json={"limit": -1, "reason": "系统名额"})
    assert r.status_code == 422, r.text
    decision = f"/applications/{app_id}/decisions"
    body = {"rule": "age_limit", "outcome": "pass", "reason": "复核", "evidence": "原件"}
    assert (await api.http.post(decision, headers=api.auth("pm-x"), json=body)).status_code == 403
    r = await api.http.post(decision, headers=api.auth("pm-1"), json=body)
    assert r.status_code == 409 and "may not decide" not in r.text and "cannot decide" in r.json()["detail"], r.text
    places = await api.http.get(f"/calls/{call}/quotas", headers=api.auth("pm-1"))
    assert places.status_code == 200 and places.json() == {"used": [], "limits": []}
    assert (await api.http.get(f"/calls/{call}/quotas", headers=api.auth("pi-1"))).status_code == 403
    duplicates = await api.http.get(f"/calls/{call}/duplicates", headers=api.auth("pm-1"))
    assert duplicates.status_code == 200 and duplicates.json()["applications"] == 1, duplicates.text
    assert (await api.http.get(f"/calls/{call}/duplicates", headers=api.auth("org-1"))).status_code == 403
