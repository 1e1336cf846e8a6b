"""The manager's and the auditor's pages in a real headless browser (Playwright driving Debian's chromium) against
the app served by uvicorn on the real time-skipping server: live counts per state that match the records and change
after an action, per unit and recommender, a ticking countdown, the trail with actor, role and reason, refused
attempts and the replay verdict; 401 without a session, 403 out of role or scope, CSRF and escaping."""

from __future__ import annotations

import asyncio
import re
import shutil
import socket
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
import uvicorn
from sqlmodel import Session, select

from api.app import create_app
from api.pages.diagram import layout
from client.accounts import add
from client.calls import Prepared, prepare, start_call
from client.service.overview import call_actions, manager_transitions, next_boundaries
from client.tokens import issue
from infra.settings import Settings
from models.call import load_call
from models.identity import Grant
from models.lifecycle import build_lifecycle
from records.registry_tables import PersonRow, UnitRow
from records.tables import ApplicationRow, CallRow
from tests.conftest import CALLS, Stack
from tests.helpers import closes, hours, opens, sleep_until

CHROMIUM = shutil.which("chromium")
PASSWORD = "a long enough password"
SCRIPT = "<script>document.title='owned'</script>"
CALL_FILE = CALLS / "000-sx-2025-basic-research-geology.yaml"


def accounts(call_id: str) -> dict[str, list[Grant]]:
    return {"pi-1": [Grant("applicant", "self")], "pi-2": [Grant("applicant", "self")],
            "pi-3": [Grant("applicant", "self")], "ua-1": [Grant("unit_admin", "unit:u1")],
            "org-1": [Grant("recommender", f"call:{call_id},unit:u1")],
            "org-2": [Grant("recommender", f"call:{call_id},unit:u2")],
            "pm-1": [Grant("manager", f"call:{call_id}")], "pm-x": [Grant("manager", "call:another-call")],
            "au-1": [Grant("auditor", "*")]}


@dataclass
class Site:
    base: str
    stack: Stack
    prepared: Prepared
    tokens: dict[str, str]
    apps: dict[str, str]  # applicant -> application id

    @property
    def call(self) -> str:
        return self.prepared.definition.id

    def counts(self) -> dict[str, int]:
        with Session(self.stack.engine) as s:
            return dict(Counter(s.exec(select(ApplicationRow.state).where(ApplicationRow.call_id == self.call)).all()))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def until(check: object, what: str, tries: int = 600) -> None:
    """Wait (not a timed assertion) for the records DB to catch up with the workflows."""
    for _ in range(tries):
        if check():  # type: ignore[operator]
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"never: {what}")


@pytest_asyncio.fixture
async def site(stack: Stack, tmp_path: Path) -> AsyncIterator[Site]:
    prepared = prepare(load_call(CALL_FILE), not_before=await stack.env.get_current_time())
    call_id = prepared.definition.id
    with Session(stack.engine) as s:
        for unit in ("u1", "u2"):
            s.add(UnitRow(id=unit, name=unit, registered_on=date(2000, 1, 1), province="CN-SX", kind="university"))
        for n, unit in ((1, "u1"), (2, "u1"), (3, "u2")):
            s.add(PersonRow(id=f"pi-{n}", name=f"pi {n}", birth_date=date(1980, 1, 1), unit_id=unit))
        s.commit()
    for account, grants in accounts(call_id).items():
        add(stack.engine, account, PASSWORD if account == "pm-1" else None, grants)
    app = create_app(Settings("unused", "default", str(stack.engine.url), stack.task_queue, tmp_path, "json"),
                     stack.client)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    async with stack.running():
        task = asyncio.create_task(server.serve())
        await until(lambda: server.started, "uvicorn started")
        await start_call(stack.client, prepared, stack.task_queue)
        await until(lambda: Session(stack.engine).get(CallRow, call_id) is not None, "the call's row")
        tokens = {a: issue(app.state.service.tokens, a, datetime.now(UTC)) for a in accounts(call_id)}
        base = f"http://127.0.0.1:{port}"
        async with httpx.AsyncClient(base_url=base, timeout=60) as http:
            def auth(who: str) -> dict[str, str]:
                return {"Authorization": f"Bearer {tokens[who]}"}
            apps = {}
            for who, title in (("pi-1", "深部找矿 <img src=x>"), ("pi-2", "草稿"), ("pi-3", "撤回的")):
                r = await http.post(f"/calls/{call_id}/applications", headers=auth(who),
                                    json={"category": "key", "title": title})
                assert r.status_code == 201, r.text
                apps[who] = r.json()["id"]
            await sleep_until(stack.env, opens(prepared, "application") + hours(1))
            for who, event, why in (("pi-1", "submit", f"按时提交 {SCRIPT}"), ("pi-3", "withdraw", "不再申请")):
                r = await http.post(f"/applications/{apps[who]}/events", headers=auth(who),
                                    json={"event": event, "reason": why})
                assert r.status_code == 200, r.text
            stranger = await http.post(f"/applications/{apps['pi-1']}/events", headers=auth("pi-2"),
                                       json={"event": "withdraw", "reason": "不是我的"})
            assert stranger.status_code in (403, 409), stranger.text  # refused here, or by the workflow's validator
        one = Site(base, stack, prepared, tokens, apps)
        await until(lambda: one.counts() == {"awaiting_unit_review": 1, "draft": 1, "withdrawn": 1}, "three states")
        yield one
        server.should_exit = True
        await task


def test_the_diagram_draws_every_state_once_and_an_arrow_per_pair_of_states() -> None:
    lifecycle = build_lifecycle(load_call(CALL_FILE))
    drawn = layout(lifecycle, {"draft": 3})
    assert [b.state for b in drawn.boxes] == lifecycle.state_names()
    assert next(b.count for b in drawn.boxes if b.state == "draft") == 3
    corners = {(b.x, b.y) for b in drawn.boxes}
    assert len(corners) == len(drawn.boxes)  # no two boxes on top of each other
    assert all(b.x + b.width <= drawn.width and b.y + b.height <= drawn.height for b in drawn.boxes)
    pairs = {(t.source, t.dest) for t in lifecycle.transitions if not t.internal and t.source != t.dest}
    assert {(a.source, a.dest) for a in drawn.arrows} == pairs


def test_what_a_manager_may_do_follows_the_timetable_and_the_lifecycle() -> None:
    call = load_call(CALL_FILE)
    timetable = prepare(call).timetable
    lifecycle = build_lifecycle(call)
    ahead = next_boundaries(timetable, limit=3)
    assert [(b.phase, b.edge) for b in ahead] == [("application", "opens"), ("application", "closes"),
                                                 ("recommendation", "opens")]
    assert call_actions(timetable) == ["extend"]  # the application phase opens by date: nothing to advance or close
    application = timetable.get("application")
    application.opened = True
    assert call_actions(timetable) == ["close", "extend"]
    assert next_boundaries(timetable)[0] == next_boundaries(timetable, 1)[0] != ahead[0]
    application.closed = True
    for p in timetable.phases[1:3]:
        p.opened = p.closed = True
    timetable.get("formal_review").opened = True  # formal review is open, and closes by hand
    assert call_actions(timetable) == ["advance", "close", "extend"]
    counts = {"formal_failed": 2, "objection_raised": 1}  # 000 is reviewed in stages: no manager scores by hand
    may = {(t.trigger, t.source) for t in manager_transitions(lifecycle, timetable, counts)}
    assert may == {("reinstate", "formal_failed"), ("dismiss_objection", "objection_raised"),
                   ("uphold_objection", "objection_raised")}
    timetable.get("formal_review").closed = True  # the overrides' window is shut; an objection's is not windowed
    may = {(t.trigger, t.source) for t in manager_transitions(lifecycle, timetable, counts)}
    assert may == {("dismiss_objection", "objection_raised"), ("uphold_objection", "objection_raised")}
    assert manager_transitions(lifecycle, timetable, {"draft": 5}) == []


async def shown_counts(page: object) -> dict[str, int]:
    cells = await page.locator("svg [data-count-of]").all()  # type: ignore[attr-defined]
    return {await c.get_attribute("data-count-of"): int(await c.text_content()) for c in cells}


@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is installed by .ci/run")
async def test_the_managers_and_the_auditors_pages_in_a_browser(site: Site) -> None:
    from playwright.async_api import async_playwright

    call_page, app_page = f"/pages/calls/{site.call}", f"/pages/applications/{site.apps['pi-1']}"
    async with httpx.AsyncClient(base_url=site.base, timeout=60) as http:
        for path in (call_page, app_page, f"{call_page}/counts", "/pages/"):
            r = await http.get(path)
            assert r.status_code == 401 and 'action="/pages/login"' in r.text, path
        for path in (f"{call_page}/phase", f"{call_page}/deadlines", f"/pages/applications/{site.apps['pi-1']}/events"):
            assert (await http.post(path, json={})).status_code == 401, path
    async with httpx.AsyncClient(base_url=site.base, timeout=60,
                                 cookies={"grantflow_session": site.tokens["pm-1"]}) as signed_in:
        forged = await signed_in.post(f"{call_page}/phase", data={"kind": "close", "reason": "x", "csrf": "0"})
        assert forged.status_code == 403 and "CSRF" in forged.text
        elsewhere = await signed_in.post(f"{call_page}/phase", headers={"Origin": "http://evil.example"},
                                         data={"kind": "close", "reason": "x"})
        assert elsewhere.status_code == 403
        # a form sent twice (a double click, a retried request) acts once: its idempotency key answers the retry
        csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', (await signed_in.get(call_page)).text)
        assert csrf is not None
        later = (closes(site.prepared, "application") + hours(1)).isoformat()
        form = {"csrf": csrf.group(1), "key": "extend-once", "window": "application", "closes": later, "reason": "停电"}
        for _ in range(2):
            answer = await signed_in.post(f"{call_page}/deadlines", data=form)
            assert answer.status_code == 303 and answer.headers["location"] == call_page, answer.text
        again = await signed_in.post(f"{call_page}/deadlines", data=form | {"key": "another"})
        assert again.status_code == 409 and "not later than" in again.text
    assert site.counts()["draft"] == 1  # neither closed the phase

    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        page = await (await browser.new_context(base_url=site.base)).new_page()
        dialogs: list[str] = []
        page.on("dialog", lambda d: dialogs.append(d.message))

        # the manager signs in through the form the 401 page carries, and lands on the page asked for
        answer = await page.goto(call_page)
        assert answer is not None and answer.status == 401
        await page.fill("input[name=username]", "pm-1")
        await page.fill("input[name=password]", PASSWORD)
        await page.click("#login button")
        await page.wait_for_url(re.compile(re.escape(call_page) + "$"))
        records = site.counts()
        assert {s: n for s, n in (await shown_counts(page)).items() if n} == records
        assert await page.locator("#total").text_content() == "3"
        unit = page.locator("#by-unit tr[data-who=u1]")
        assert await unit.locator("td[data-state=draft]").text_content() == "1"
        assert await unit.locator("td[data-state=awaiting_unit_review]").text_content() == "1"
        assert await page.locator("#by-unit tr[data-who=u2] td[data-state=withdrawn]").text_content() == "1"
        assert await page.locator("#by-recommender tr[data-who=org-1] td[data-state=draft]").text_content() == "1"
        assert await page.locator("#by-recommender tr[data-who=org-2] td[data-state=withdrawn]").text_content() == "1"

        # the next deadline counts down in the browser from the server's instants, shown whole in the call's zone
        first = page.locator("#deadlines .countdown").first
        assert re.fullmatch(r"\d+ d \d\d:\d\d:\d\d", await first.text_content() or "")
        before = await first.text_content()
        await page.wait_for_function("t => document.querySelector('#deadlines .countdown').textContent !== t", arg=before)
        assert (await page.locator("#deadlines time").first.text_content() or "").endswith("+08:00")

        # an action: the manager closes the application phase early; the drafts are closed unsubmitted
        close = page.locator("form[data-action=close]")
        await close.locator("input[name=reason]").fill("系统维护，提前截止")
        await close.locator("button").click()
        await page.wait_for_url(re.compile(re.escape(call_page) + "$"))
        assert "application closed" in (await page.locator("#flash").text_content() or "")
        await until(lambda: site.counts().get("closed_unsubmitted") == 1, "the draft closed")
        await page.reload()
        assert {s: n for s, n in (await shown_counts(page)).items() if n} == site.counts()
        assert (await shown_counts(page))["draft"] == 0
        assert await page.locator("#current-phase").text_content() != "application"

        # live: the unit approves through the API while the page is open, and the page redraws its counts by itself
        assert (await shown_counts(page))["awaiting_organiser_review"] == 0
        async with httpx.AsyncClient(base_url=site.base, timeout=60) as http:
            r = await http.post(f"/applications/{site.apps['pi-1']}/events", json={"event": "approve"},
                                headers={"Authorization": f"Bearer {site.tokens['ua-1']}"})
            assert r.status_code == 200, r.text
        await page.wait_for_function(
            "() => document.querySelector('svg [data-count-of=awaiting_organiser_review]').textContent === '1'",
            timeout=120_000)
        assert await page.locator("#counts [data-count-of=awaiting_unit_review]").text_content() == "0"

        # out of role or scope: 403
        for who, path in (("pi-1", call_page), ("pm-x", call_page), ("pm-1", app_page), ("org-1", call_page)):
            other = await browser.new_context(base_url=site.base)
            await other.add_cookies([{"name": "grantflow_session", "value": site.tokens[who], "url": site.base + "/pages/"}])
            answer = await (await other.new_page()).goto(path)
            assert answer is not None and answer.status == 403, (who, path)
            await other.close()

        auditor = await browser.new_context(base_url=site.base)
        await auditor.add_cookies([{"name": "grantflow_session", "value": site.tokens["au-1"], "url": site.base + "/pages/"}])
        page = await auditor.new_page()
        answer = await page.goto(call_page)  # an auditor reads the call page, and is offered nothing to do
        assert answer is not None and answer.status == 200
        assert {s: n for s, n in (await shown_counts(page)).items() if n} == site.counts()
        assert await page.locator("#actions").count() == 0

        # the auditor: the trail with who, role and why (escaped), the refused attempt, deadlines, the replay verdict
        page.on("dialog", lambda d: dialogs.append(d.message))
        answer = await page.goto(app_page)
        assert answer is not None and answer.status == 200
        submit = page.locator("#trail tr[data-kind=transition]", has_text="submit: draft -> awaiting_unit_review")
        assert await submit.locator(".actor").text_content() == "pi-1"
        assert await submit.locator(".role").text_content() == "applicant"
        assert await submit.locator(".reason").text_content() == f"按时提交 {SCRIPT}"
        assert await page.title() != "owned" and await page.locator("h1").text_content() == "深部找矿 <img src=x>"
        closed = page.locator("#trail tr[data-kind=phase]", has_text="application closed")
        assert [await closed.locator(c).text_content() for c in (".actor", ".role", ".reason")] == [
            "pm-1", "manager", "系统维护，提前截止"]
        refusal = page.locator("#refusals tr", has_text="pi-2")
        assert await refusal.locator(".role").text_content() == "applicant"
        assert (await refusal.locator(".reason").text_content() or "").strip()
        assert await page.locator("#replay").get_attribute("data-verdict") == "ok"
        assert await page.locator("#rules").get_attribute("data-verdict") == "ok"
        assert await page.locator("#effective tr[data-window=application]").count() == 1
        times = await page.locator("#trail time").all_text_contents()
        assert times and all(t.endswith("+08:00") for t in times)
        assert dialogs == []
        await browser.close()
