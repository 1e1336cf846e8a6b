"""The embedded stack behind `grantflow up`: Temporal dev server (SQLite file), Web UI, worker, loaded calls."""

from __future__ import annotations

import asyncio
import subprocess
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path

import structlog
from temporalio.client import Client

from client.calls import prepare, start_call
from client.tokens import secret_file
from infra.logs import configure
from infra.settings import Settings, binary
from infra.temporal import connect
from models.call import load_call
from records.engine import make_engine
from worker import build_worker

log = structlog.get_logger("grantflow.stack")


async def run_stack(settings: Settings, calls_dir: Path, port: int, ui_port: int,
                    serve: Callable[[Client], Awaitable[None]] | None = None) -> None:
    """Run the stack until stopped; `serve` (the HTTP API) runs beside the worker on the stack's client."""
    configure(settings.log_format)
    settings.var_dir.mkdir(parents=True, exist_ok=True)
    secret_file(settings.var_dir / "operator.secret")
    server = subprocess.Popen(
        [binary("temporal"), "server", "start-dev", "--db-filename", str(settings.var_dir / "temporal.db"),
         "--ip", "127.0.0.1", "--port", str(port), "--ui-port", str(ui_port), "--log-level", "warn"],
        stdout=subprocess.DEVNULL,
    )
    try:
        address = f"127.0.0.1:{port}"
        client = None
        for _ in range(120):
            try:
                client = await connect(address, settings.namespace)
                break
            except RuntimeError:
                await asyncio.sleep(0.5)
        if client is None:
            raise RuntimeError(f"the Temporal dev server did not answer on {address}")
        engine = make_engine(settings.database_url)
        worker = build_worker(client, settings.task_queue, engine, workflow_cache=settings.workflow_cache)
        async with worker:
            for path in sorted(calls_dir.glob("*.yaml")):
                call = load_call(path)
                prepared = prepare(call, not_before=datetime.now().astimezone())
                await start_call(client, prepared, settings.task_queue)
                log.info("call loaded", call_id=call.id, rehearsal_shift_days=prepared.shift_days)
            print(f"Temporal: {address}   Web UI: http://127.0.0.1:{ui_port}   records: {settings.database_url}")
            print("Worker running; Ctrl-C stops the stack.")
            await (serve(client) if serve else asyncio.Event().wait())
    finally:
        server.terminate()
        server.wait(timeout=30)
