"""The HTTP API beside a direct Temporal client doing the same: requests per second and p99 latency of a read
(an application's status) and of an action (the applicant's `edit`, recorded as a transition), on the embedded
stack. Run: .venv/bin/python bench/api.py [--requests 400] [--concurrency 8]"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import httpx
from sqlmodel import Session

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from api.serve import server  # noqa: E402
from bench.harness import bounded, embedded, free_port, settle  # noqa: E402
from client.accounts import add  # noqa: E402
from client.calls import prepare, start_call  # noqa: E402
from client.tokens import issue  # noqa: E402
from infra.settings import Settings  # noqa: E402
from models.call import load_call  # noqa: E402
from models.identity import Grant, in_process  # noqa: E402
from models.messages import ActRequest, application_workflow_id  # noqa: E402
from records.registry_tables import PersonRow, UnitRow  # noqa: E402
from records.tables import CallRow  # noqa: E402
from workflows.application import ApplicationWorkflow  # noqa: E402

CALL = Path(__file__).resolve().parent.parent / "calls" / "000-sx-2025-basic-research-geology.yaml"


async def measure(n: int, concurrency: int, request: Callable[[], Awaitable[object]]) -> tuple[float, float]:
    """(requests per second, p99 latency in ms) of `n` requests, `concurrency` in flight."""
    latencies: list[float] = []

    async def one() -> None:
        started = time.perf_counter()
        await request()
        latencies.append((time.perf_counter() - started) * 1000)

    started = time.perf_counter()
    await bounded(concurrency, [one] * n)
    elapsed = time.perf_counter() - started
    return n / elapsed, statistics.quantiles(latencies, n=100)[98]


async def main(n: int, concurrency: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        async with embedded(Path(tmp), concurrency) as b:
            queue = b.task_queue("api")
            prepared = prepare(load_call(CALL), not_before=datetime.now(UTC) - timedelta(days=7))
            with Session(b.engine) as s:
                s.add(UnitRow(id="u1", name="u1", registered_on=date(2000, 1, 1), province="CN-SX", kind="university"))
                s.add_all(PersonRow(id=f"pi-{i}", name="pi", birth_date=date(1980, 1, 1), unit_id="u1") for i in (1, 2))
                s.commit()
            add(b.engine, "pi-1", None, [Grant("applicant", "self")])
            add(b.engine, "org-1", None, [Grant("recommender", f"call:{prepared.definition.id},unit:u1")])
            port = free_port()
            settings = Settings("", "default", str(b.engine.url), queue, Path(tmp), "json")
            import os
            os.environ["GRANTFLOW_HTTP_ADDRESS"] = f"127.0.0.1:{port}"
            api = server(settings, b.client)
            async with b.grantflow(queue):
                serving = asyncio.create_task(api.serve())
                await start_call(b.client, prepared, queue)

                async def call_recorded() -> bool:
                    with Session(b.engine) as s:
                        return s.get(CallRow, prepared.definition.id) is not None
                await settle(call_recorded, 30)
                token = issue(api.config.app.state.service.tokens, "pi-1", datetime.now(UTC))  # type: ignore[attr-defined]
                async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}",
                                             headers={"Authorization": f"Bearer {token}"}, timeout=60) as http:
                    r = await http.post(f"/calls/{prepared.definition.id}/applications",
                                        json={"category": "key", "title": "bench"})
                    app_id = r.json()["id"]
                    handle = b.client.get_workflow_handle(application_workflow_id(app_id))
                    edit = ActRequest("edit", "pi-1", "applicant", identity=in_process("pi-1", "applicant"))
                    figures = {
                        "read, HTTP API": await measure(n, concurrency, lambda: http.get(f"/applications/{app_id}")),
                        "read, Temporal client": await measure(n, concurrency,
                                                               lambda: handle.query(ApplicationWorkflow.status)),
                        "action, HTTP API": await measure(n, concurrency, lambda: http.post(
                            f"/applications/{app_id}/events", json={"event": "edit"})),
                        "action, Temporal client": await measure(
                            n, concurrency, lambda: handle.execute_update(ApplicationWorkflow.act, edit)),
                    }
                api.should_exit = True
                await serving
    print(f"| operation ({n} requests, {concurrency} in flight) | requests/s | p99 ms |")
    print("|---|---|---|")
    for name, (rps, p99) in figures.items():
        print(f"| {name} | {rps:.0f} | {p99:.0f} |")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    asyncio.run(main(args.requests, args.concurrency))
