"""Calendars and paper over HTTP on the real time-skipping server: the feeds parsed back instant by instant and
changed by an extension (SEQUENCE up, new DTSTART, same UID), the printable form of a submitted version, and the
reconciliation of its scanned code before and after a resubmission."""

from __future__ import annotations

import asyncio
import io
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import segno
from icalendar import Calendar
from pypdf import PdfReader
from typer.testing import CliRunner

from cli import app
from client.accounts import add
from client.tokens import TokenConfig, issue
from models.deadlines import Deadlines
from models.identity import Grant
from models.paper import PaperCode
from tests import test_api
from tests.helpers import hours, opens, sleep_until
from tests.test_api import Api
from tests.test_paper import _modules

ZONE = "Asia/Shanghai"
api = test_api.api  # the fixture: a call on the server, accounts, and the API over them


async def _feed(api: Api, path: str, who: str) -> dict[str, Any]:
    r = await api.http.get(path, headers=api.auth(who))
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "text/calendar; charset=utf-8"
    cal = Calendar.from_ical(r.content)
    assert [tz["TZID"] for tz in cal.walk("VTIMEZONE")] == [ZONE]
    return {str(e["UID"]): e for e in cal.walk("VEVENT")}


async def _apply(api: Api) -> str:
    r = await api.http.post(f"/calls/{api.call}/applications", headers=api.auth("pi-1"),
                            json={"category": "key", "title": "深部找矿预测方法研究"})
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


async def test_the_feeds_list_every_close_exactly_and_follow_an_extension(api: Api) -> None:
    app_id = await _apply(api)
    timetable, call = api.prepared.timetable, api.prepared.definition
    feed = await _feed(api, f"/calls/{api.call}/deadlines.ics", "citizen")
    planned = {f"deadline-call-{api.call}-{p.id}@grantflow": p.closes for p in timetable.phases if p.closes}
    assert set(feed) == set(planned) and len(planned) >= 3
    for uid, closes in planned.items():
        start = feed[uid]["DTSTART"]
        assert start.dt == closes and start.params["TZID"] == ZONE and start.dt.utcoffset() == timedelta(hours=8)
        assert feed[uid]["SEQUENCE"] == 0 and "DTEND" not in feed[uid]
        assert [a.decoded("TRIGGER") for a in feed[uid].walk("VALARM")] == [-r for r in call.reminders]

    mine = f"/applications/{app_id}/deadlines.ics"
    assert (await api.http.get(mine, headers=api.auth("pi-2"))).status_code == 403
    before = await _feed(api, mine, "pi-1")
    rule = Deadlines(call, "key", timetable, api.prepared.input.calendar, {}, {}, "", "org-1").all()
    assert {uid: e["DTSTART"].dt for uid, e in before.items()} == {
        f"deadline-application-{app_id}-{window}@grantflow": at for window, at in rule.items() if at is not None}

    closes = timetable.get("application").closes
    assert closes is not None
    later = closes + timedelta(days=1)
    r = await api.http.post(f"/applications/{app_id}/deadlines", headers=api.auth("pm-1"),
                            json={"window": "application", "closes": later.isoformat(), "reason": "系统故障，延期一天"})
    assert r.status_code == 200, r.text
    after = await _feed(api, mine, "ua-1")
    uid = f"deadline-application-{app_id}-application@grantflow"
    assert set(after) == set(before)
    assert (after[uid]["DTSTART"].dt, after[uid]["SEQUENCE"]) == (later, 1)
    assert after[uid].decoded("LAST-MODIFIED") > before[uid].decoded("LAST-MODIFIED")
    for other in set(after) - {uid}:
        assert (after[other]["DTSTART"].dt, after[other]["SEQUENCE"]) == (before[other]["DTSTART"].dt, 0), other
    unchanged = await _feed(api, f"/calls/{api.call}/deadlines.ics", "pi-1")
    assert unchanged[f"deadline-call-{api.call}-application@grantflow"]["DTSTART"].dt == closes  # one application only

    whole = closes + timedelta(days=2)
    r = await api.http.post(f"/calls/{api.call}/deadlines", headers=api.auth("pm-1"),
                            json={"window": "application", "closes": whole.isoformat(), "reason": "全省停电"})
    assert r.status_code == 200, r.text
    extended = (await _feed(api, f"/calls/{api.call}/deadlines.ics", "pi-1"))[f"deadline-call-{api.call}-application@grantflow"]
    assert (extended["DTSTART"].dt, extended["SEQUENCE"]) == (whole, 1)
    # its own extension (one day) never binds before the later call-wide one (two days)
    assert (await _feed(api, mine, "pi-1"))[uid]["DTSTART"].dt == whole


async def test_the_printed_form_and_its_code_against_the_online_version(api: Api, tmp_path: Path) -> None:
    app_id = await _apply(api)
    form, paper = f"/applications/{app_id}/form.pdf", f"/applications/{app_id}/paper"
    r = await api.http.get(form, headers=api.auth("pi-1"))
    assert r.status_code == 409 and "has not been submitted" in r.json()["detail"]
    await sleep_until(api.stack.env, opens(api.prepared, "application") + hours(1))
    events = f"/applications/{app_id}/events"
    assert (await api.http.post(events, headers=api.auth("pi-1"), json={"event": "submit"})).status_code == 200
    status = (await api.http.get(f"/applications/{app_id}", headers=api.auth("pi-1"))).json()
    first = PaperCode(status["receipt"], status["content_sha256"])
    assert first.receipt == f"{app_id}/1"

    assert (await api.http.get(form, headers=api.auth("pi-2"))).status_code == 403
    r = await api.http.get(form, headers=api.auth("pi-1"))
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    page = PdfReader(io.BytesIO(r.content)).pages[0]
    text = page.extract_text()
    assert "项目申报书（纸质版）" in text and f"回执号：{first.receipt}" in text and "深部找矿预测方法研究" in text
    assert "pi 1（pi-1）" in text  # the applicant as the registry names it
    [image] = page.images
    assert _modules(image.image) == [[bool(m) for m in row] for row in segno.make(first.text(), error="m").matrix]

    r = await api.http.post(paper, headers=api.auth("ua-1"), json={"code": first.text()})
    assert r.status_code == 200 and r.json()["matches"] is True, r.text
    assert r.json()["line"].startswith("matches the online version: version 1")
    assert (await api.http.post(paper, headers=api.auth("pi-2"), json={"code": first.text()})).status_code == 403

    r = await api.http.post(events, headers=api.auth("ua-1"), json={"event": "return", "reason": "预算表不完整"})
    assert r.status_code == 200, r.text
    assert (await api.http.post(events, headers=api.auth("pi-1"), json={"event": "resubmit"})).status_code == 200
    r = await api.http.post(paper, headers=api.auth("ua-1"), json={"code": first.text(), "receive": True})
    verdict = r.json()
    assert r.status_code == 200 and verdict["matches"] is False and verdict["received"] is None
    assert verdict["line"].startswith(f"differs from version 2, the online version (receipt {app_id}/2")
    assert "the paper copy is version 1" in verdict["line"] and (verdict["online_version"], verdict["paper_version"]) == (2, 1)
    reprinted = PdfReader(io.BytesIO((await api.http.get(form, headers=api.auth("pi-1"))).content))
    assert f"回执号：{app_id}/2" in reprinted.pages[0].extract_text()

    r = await api.http.post(paper, headers=api.auth("ua-1"), json={"code": "https://example.org/not-ours"})
    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"
    assert r.json()["detail"].startswith("not a grantflow paper code")

    # the clerk receives the copy of the online version once the paper window is open
    for who in ("ua-1", "org-1"):
        assert (await api.http.post(events, headers=api.auth(who), json={"event": "approve"})).status_code == 200
    add(api.stack.engine, "ag-1", None, [Grant("agency", f"call:{api.call}")])
    clerk = {"Authorization": f"Bearer {issue(TokenConfig.from_env(tmp_path), 'ag-1', datetime.now(UTC))}"}
    await sleep_until(api.stack.env, opens(api.prepared, "paper") + hours(1))
    status = (await api.http.get(f"/applications/{app_id}", headers=api.auth("pi-1"))).json()
    assert status["state"] == "accepted"
    second = PaperCode(status["receipt"], status["content_sha256"])
    r = await api.http.post(paper, headers=clerk, json={"code": second.text(), "receive": True})
    assert r.status_code == 200 and r.json()["matches"] is True, r.text
    assert (r.json()["received"]["trigger"], r.json()["received"]["dest"]) == ("receive_paper", "paper_received")


async def test_the_commands_write_the_feed_and_the_form_and_reconcile_a_code(api: Api, tmp_path: Path) -> None:
    """`calls ical`, `form` and `paper` as the operator, against the same server and records (run in a thread: the
    command line runs its own event loop)."""
    app_id = await _apply(api)
    env = {"GRANTFLOW_DATABASE_URL": str(api.stack.engine.url), "GRANTFLOW_VAR_DIR": str(tmp_path / "var"),
           "GRANTFLOW_TEMPORAL_ADDRESS": api.stack.client.service_client.config.target_host,
           "GRANTFLOW_NAMESPACE": api.stack.client.namespace, "GRANTFLOW_CONFIG_DIR": str(tmp_path / "config")}

    async def grantflow(*args: str) -> tuple[int, str]:
        result = await asyncio.to_thread(CliRunner().invoke, app, ["--operator", *args], env=env)
        assert "Traceback" not in result.output, result.output
        return result.exit_code, result.output

    feed = tmp_path / "mine.ics"
    code, output = await grantflow("calls", "ical", api.call, "--application", app_id, "--out", str(feed))
    assert code == 0 and output.startswith(f"wrote {feed} (iCalendar"), output
    events = Calendar.from_ical(feed.read_bytes()).walk("VEVENT")
    assert f"deadline-application-{app_id}-application@grantflow" in {str(e["UID"]) for e in events}
    code, output = await grantflow("calls", "ical", api.call)
    assert code == 0 and output.startswith("BEGIN:VCALENDAR") and f"UID:deadline-call-{api.call}-application" in output
    code, output = await grantflow("calls", "ical", "another-call", "--application", app_id)
    assert (code, output) == (1, f"error: application {app_id} is in call {api.call}, not another-call\n")
    code, output = await grantflow("form", app_id, "--out", str(tmp_path / "form.pdf"))
    assert (code, output) == (1, f"error: application {app_id} has not been submitted: the printed form carries the "
                                 f"receipt of a submitted version\n")

    await sleep_until(api.stack.env, opens(api.prepared, "application") + hours(1))
    events_path = f"/applications/{app_id}/events"
    assert (await api.http.post(events_path, headers=api.auth("pi-1"), json={"event": "submit"})).status_code == 200
    assert (await grantflow("form", app_id, "--out", str(tmp_path / "form.pdf")))[0] == 0
    assert f"回执号：{app_id}/1" in PdfReader(tmp_path / "form.pdf").pages[0].extract_text()
    status = (await api.http.get(f"/applications/{app_id}", headers=api.auth("pi-1"))).json()
    scanned = PaperCode(status["receipt"], status["content_sha256"]).text()
    code, output = await grantflow("paper", app_id, scanned)
    assert code == 0 and output.startswith("matches the online version: version 1"), output
    code, output = await grantflow("paper", app_id, PaperCode(f"{app_id}/1", "0" * 64).text())
    assert code == 1 and output.startswith("differs from version 1"), output
