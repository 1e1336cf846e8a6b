"""The publicity result as published by its activity (once: a second publication returns the first) and its public
page in a real headless browser (Playwright driving Debian's chromium): no sign-in, the counts and the final list,
never the objector."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import uvicorn
from sqlmodel import Session
from typer.testing import CliRunner

from activities.publicity import PublicityActivities
from api.app import create_app
from cli import app
from infra.settings import Settings
from models.call import load_call
from models.review.publicity import PublishResultInput
from records.tables import ApplicationRow, CallRow, TransitionRow
from tests.conftest import CALLS, Stack
from tests.test_pages import CHROMIUM, free_port, until

CALL = load_call(CALLS / "000-sx-2025-basic-research-geology.yaml")


def _stored(stack: Stack) -> list[str]:
    """The call, three applications (one funded, one objected to and dropped, one promoted), the objection."""
    ids = ["pp-1", "pp-2", "pp-3"]
    now = datetime.now(UTC)
    category = CALL.categories[0].id
    with Session(stack.engine) as s:
        s.add(CallRow(id=CALL.id, title=CALL.title, version=CALL.version(), definition_json=CALL.model_dump_json(),
                      timetable_json="{}", updated_at=now))
        for a, title, state in zip(ids, ("深部找矿 <script>alert(1)</script>", "被异议的项目", "递补的项目"),
                                   ("approved", "not_funded", "approved")):
            s.add(ApplicationRow(id=a, call_id=CALL.id, workflow_id=f"application-{a}", category=category, title=title,
                                 applicant=f"pi-{a}", unit="u1", version=CALL.version(), state=state, updated_at=now))
        for seq, (trigger, dest, actor) in enumerate((("object", "objection_raised", "citizen-7"),
                                                       ("uphold_objection", "not_funded", "pm-1"))):
            s.add(TransitionRow(call_id=CALL.id, application_id=ids[1], seq=seq, trigger=trigger, source="publicised",
                                dest=dest, actor_id=actor, role="public", reason="成果造假", at=now))
        s.commit()
    return ids


def test_a_publicity_result_is_stored_once_and_shown_to_anyone(stack: Stack, tmp_path: Path) -> None:
    ids = _stored(stack)
    activities = PublicityActivities(stack.engine)
    at = datetime.now(UTC)
    first = activities.publish_result(PublishResultInput(CALL.id, "publicity", at, {"key": [ids[0], ids[2]]},
                                                         [ids[2]], [ids[0], ids[1]]))
    assert (first.result.objections, first.result.upheld, first.result.pending) == (1, 1, 0)
    assert [x.application_id for x in first.result.funded] == [ids[0], ids[2]]
    assert first.recipients == [f"manager:{CALL.id}"] + [f"applicant:pi-{a}" for a in ids]
    again = activities.publish_result(PublishResultInput(CALL.id, "publicity", at + timedelta(days=1), {}, [], []))
    assert again.result == first.result
    shown = CliRunner().invoke(app, ["stage", "publicity", CALL.id], env={  # public: nobody signed in
        "GRANTFLOW_DATABASE_URL": str(stack.engine.url), "GRANTFLOW_TEMPORAL_ADDRESS": "127.0.0.1:9",
        "GRANTFLOW_VAR_DIR": str(tmp_path / "var"), "GRANTFLOW_CONFIG_DIR": str(tmp_path / "config"),
        "COLUMNS": "200"})
    assert shown.exit_code == 0, shown.output
    assert "objections 1 (upheld 1, dismissed 0, pending 0)" in shown.output and ids[2] in shown.output
    assert "citizen-7" not in shown.output


@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is installed by .ci/run")
async def test_the_public_page_shows_the_result_without_signing_in(stack: Stack, tmp_path: Path) -> None:
    from playwright.async_api import async_playwright

    ids = _stored(stack)
    PublicityActivities(stack.engine).publish_result(PublishResultInput(
        CALL.id, "publicity", datetime.now(UTC), {"key": [ids[0], ids[2]]}, [ids[2]], [ids[0], ids[1]]))
    api = create_app(Settings("unused", "default", str(stack.engine.url), stack.task_queue, tmp_path, "json"),
                     stack.client)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(api, host="127.0.0.1", port=port, log_level="warning"))
    task = asyncio.create_task(server.serve())
    try:
        await until(lambda: server.started, "uvicorn started")
        async with async_playwright() as p:
            browser = await p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
            page = await (await browser.new_context(base_url=f"http://127.0.0.1:{port}")).new_page()
            dialogs: list[str] = []
            page.on("dialog", lambda d: dialogs.append(d.message))
            answer = await page.goto(f"/pages/calls/{CALL.id}/publicity")
            assert answer is not None and answer.status == 200
            assert await page.locator("#objections [data-count=filed]").text_content() == "1"
            assert await page.locator("#objections [data-count=upheld]").text_content() == "1"
            assert await page.locator("#funded tr[data-application]").evaluate_all(
                "rows => rows.map(r => r.dataset.application)") == [ids[0], ids[2]]
            assert await page.locator("#promoted tr[data-application]").count() == 1
            assert "<script>" in (await page.locator(f"#funded tr[data-application={ids[0]}]").text_content() or "")
            text = await page.content()
            assert "citizen-7" not in text and "pm-1" not in text and "pi-pp" not in text and dialogs == []
            missing = await page.goto("/pages/calls/no-such-call/publicity")
            assert missing is not None and missing.status == 404
            await browser.close()
    finally:
        server.should_exit = True
        await task
