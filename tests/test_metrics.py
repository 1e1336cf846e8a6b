"""grantflow's Prometheus counters, scraped over HTTP while the worker and the API run on the real time-skipping
server: a deadline's closures, a late change refused, notices sent (inline and by the postman on a real SMTP server)
and failed, refusals by reason."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, func, select

from api.app import create_app
from client.accounts import add
from client.calls import prepare, start_call
from client.errors import Conflict, Forbidden
from client.service.core import reason_of
from client.stack import Context, Metrics
from client.tokens import issue
from infra.settings import Settings, Telemetry
from models.call import load_call
from models.identity import Grant
from records.registry_tables import PersonRow, UnitRow
from records.tables import ApplicationRow, CallRow, ClosureReportRow, NoticeRow, TransitionRow
from tests.conftest import CALLS, Stack
from tests.helpers import closes, hours, sleep_until
from tests.smtp_sink import free_port, smtp_sink
from tests.test_postman import engine, postman, submit  # noqa: F401  (the postman's records DB fixture)

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]
APPLICANTS = ("pi-1", "pi-2", "pi-3")


def samples(text: str) -> Samples:
    """Every sample of a Prometheus text exposition by name and labels."""
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def moved(before: Samples, after: Samples, name: str, **labels: str) -> float:
    key = (name, tuple(sorted(labels.items())))
    return after.get(key, 0.0) - before.get(key, 0.0)


def refusal_moves(before: Samples, after: Samples) -> dict[str, float]:
    return {dict(k[1])["reason"]: v - before.get(k, 0.0) for k, v in after.items()
            if k[0] == "grantflow_refusals_total" and v != before.get(k, 0.0)}


async def test_a_deadline_closure_and_a_late_change_move_the_counters_on_both_endpoints(
        stack: Stack, tmp_path: Path) -> None:
    prepared = prepare(load_call(CALLS / "000-sx-2025-basic-research-geology.yaml"),
                       not_before=await stack.env.get_current_time())
    call_id = prepared.definition.id
    with Session(stack.engine) as s:
        s.add(UnitRow(id="u1", name="u1", registered_on=date(2000, 1, 1), province="CN-SX", kind="university"))
        for pi in APPLICANTS:
            s.add(PersonRow(id=pi, name=pi, birth_date=date(1980, 1, 1), unit_id="u1"))
        s.commit()
    for pi in APPLICANTS:
        add(stack.engine, pi, None, [Grant("applicant", "self")])
    add(stack.engine, "org-1", None, [Grant("recommender", f"call:{call_id},unit:u1")])
    add(stack.engine, "pm-1", None, [Grant("manager", f"call:{call_id}")])
    port = free_port()
    settings = replace(Settings("unused", "default", str(stack.engine.url), stack.task_queue, tmp_path, "json"),
                       telemetry=Telemetry(metrics_address=("127.0.0.1", port)))
    app = create_app(settings, stack.client)
    worker_endpoint = Metrics(Context(settings, "unused"))
    await worker_endpoint.start()
    try:
        async with stack.running(), httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                                      base_url="http://grantflow") as http:
            await start_call(stack.client, prepared, stack.task_queue)
            await _until(stack.engine, select(CallRow).where(CallRow.id == call_id))  # its first activity writes it
            tokens = {who: issue(app.state.service.tokens, who, datetime.now(UTC)) for who in (*APPLICANTS, "pm-1")}
            ids = []
            for pi in APPLICANTS:
                r = await http.post(f"/calls/{call_id}/applications", json={"category": "key", "title": f"{pi} 课题"},
                                    headers={"Authorization": f"Bearer {tokens[pi]}"})
                assert r.status_code == 201, r.text
                ids.append(r.json()["id"])
            extended = closes(prepared, "application") + timedelta(days=2)  # the third closes by its own timer
            r = await http.post(f"/applications/{ids[2]}/deadlines", headers={"Authorization": f"Bearer {tokens['pm-1']}"},
                                json={"window": "application", "closes": extended.isoformat(), "reason": "因病延期"})
            assert r.status_code == 200, r.text
            scraped = await http.get("/metrics")
            assert scraped.headers["content-type"].startswith("text/plain")
            before, sent_before = samples(scraped.text), _sent(stack.engine)

            await sleep_until(stack.env, closes(prepared, "application") + hours(1))
            await _until(stack.engine, select(ClosureReportRow).where(ClosureReportRow.call_id == call_id,
                                                                      ClosureReportRow.phase == "application"))
            late = await http.post(f"/applications/{ids[0]}/events", json={"event": "submit"},
                                   headers={"Authorization": f"Bearer {tokens['pi-1']}"})
            assert late.status_code == 409 and "deadline passed" in late.json()["detail"], late.text

            await sleep_until(stack.env, extended + hours(1))
            await _until(stack.engine, select(ApplicationRow).where(ApplicationRow.id == ids[2],
                                                                    ApplicationRow.state != "draft"))
            after, sent_after = samples((await http.get("/metrics")).text), _sent(stack.engine)
            worker_side = samples(httpx.get(f"http://127.0.0.1:{port}/metrics").text)
    finally:
        await worker_endpoint.stop()
    with Session(stack.engine) as s:
        closed = s.exec(select(func.count()).select_from(TransitionRow).where(
            TransitionRow.call_id == call_id, TransitionRow.role == "system",
            col(TransitionRow.deadline).is_not(None))).one()
    assert closed == len(APPLICANTS)
    assert moved(before, after, "grantflow_deadline_closures_total", path="bulk") == 2
    assert moved(before, after, "grantflow_deadline_closures_total", path="workflow") == 1  # the bulk-closed two
    # caught up with their closure without counting it again
    assert moved(before, after, "grantflow_late_changes_refused_total") == 1
    assert refusal_moves(before, after) == {"late": 1}
    assert moved(before, after, "grantflow_notices_sent_total", channel="memory") == sent_after - sent_before
    assert sent_after - sent_before >= len(APPLICANTS)  # at least each closed draft's applicant was told
    for name in ("grantflow_deadline_closures_total", "grantflow_late_changes_refused_total",
                 "grantflow_notices_sent_total", "grantflow_refusals_total"):
        assert {k: v for k, v in worker_side.items() if k[0] == name} == {
            k: v for k, v in after.items() if k[0] == name}  # the worker's port serves the same counters


def _sent(records: Engine) -> int:
    with Session(records) as s:
        return int(s.exec(select(func.count()).select_from(NoticeRow).where(NoticeRow.status == "sent")).one())


async def _until(records: Engine, query: Any) -> None:
    """Wait until `query` finds a row (60 s at most)."""
    for _ in range(1200):
        with Session(records) as s:
            if s.exec(query).first() is not None:
                return
        await asyncio.sleep(0.05)
    raise AssertionError(f"nothing found within 60 s: {query}")


async def test_the_postman_counts_what_smtp_accepted_refused_and_what_had_no_address(engine: Engine) -> None:  # noqa: F811
    port = free_port()
    endpoint = Metrics(Context(replace(Settings.from_env(), telemetry=Telemetry(metrics_address=("127.0.0.1", port))),
                               "unused"))
    await endpoint.start()
    try:
        before = samples(httpx.get(f"http://127.0.0.1:{port}/metrics").text)
        with smtp_sink(refuse=lambda m, _: "550 5.1.1 no such mailbox" if "pi1@" in str(m["To"]) else None) as sink:
            p = postman(engine, sink)
            keys = submit(engine, p, "pi-0", "a0") + submit(engine, p, "pi-1", "a1") + submit(engine, p, "nobody", "a2")
            await p.drain(30)
        after = samples(httpx.get(f"http://127.0.0.1:{port}/metrics").text)
    finally:
        await endpoint.stop()
    with Session(engine) as s:
        status = {n.key: n.status for n in s.exec(select(NoticeRow)).all()}
    assert [status[k] for k in keys] == ["sent", "sent", "failed", "sent", "undeliverable", "sent"]
    assert moved(before, after, "grantflow_notices_sent_total", channel="smtp") == len(sink.accepted) == 5  # + manager
    assert moved(before, after, "grantflow_notices_failed_total", channel="smtp", outcome="rejected") == 1
    assert moved(before, after, "grantflow_notices_failed_total", channel="none", outcome="undeliverable") == 1


def test_refusals_are_counted_under_the_reason_their_line_gives() -> None:
    lines = {
        "call c is locked: application closed at 2025-04-07T17:00:00+08:00; application a1 cannot submit any more":
            "late",
        "deadline passed: 申报 closed at 2025-04-07 17:00; the request came at 2025-04-07 17:01": "late",
        "deadline passed: application a1 closed at 2025-04-07T17:00:00+08:00 (application: phase application's close) "
        "and is closed_unsubmitted; submit is no longer possible": "late",
        "application a1 was closed at 2025-04-07 17:00 with its window; the request came at 2025-04-07 17:00": "late",
        "application closed at 2025-04-07 17:00; a closed phase cannot be extended (reopen it instead)": "late",
        "申报 is not open yet: it opens 2025-03-01 09:00": "not_open",
        "org-1 has used all 3 places of its quota at 推荐; withdraw one first": "quota",
        "cannot approve application a1 in state draft (possible: submit)": "state",
        "a reason is required": "other",
    }
    assert {line: reason_of(line, Conflict) for line in lines} == lines
    assert reason_of("pi-2 may not submit application a1 (needs the applicant role for it)", Forbidden) == "forbidden"
