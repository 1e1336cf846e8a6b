"""The embedded stack behind `grantflow up`: Temporal dev server (SQLite file), Web UI, worker, loaded calls."""

from __future__ import annotations

import asyncio
import subprocess
from contextlib import nullcontext
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import structlog

from activities.notices import postman_for
from client.calls import prepare, start_call
from client.mailsink import MailSink
from infra.logs import configure
from infra.settings import Settings, binary
from infra.temporal import connect
from models.call import load_call
from records.engine import make_engine
from worker import build_worker

log = structlog.get_logger("grantflow.stack")


async def run_stack(settings: Settings, calls_dir: Path, port: int, ui_port: int) -> None:
    configure(settings.log_format)
    settings.var_dir.mkdir(parents=True, exist_ok=True)
    sink = None if settings.smtp_url else MailSink(settings.var_dir / "mail")  # notices by e-mail, read locally
    settings = replace(settings, smtp_url=sink.url) if sink else settings
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
        engine = make_engine(settings.database_url, migrate=True)
        postman = postman_for(engine, settings)
        worker = build_worker(client, settings.task_queue, engine, postman, workflow_cache=settings.workflow_cache)
        async with worker, postman.running() if postman else nullcontext():
            for path in sorted(calls_dir.glob("*.yaml")):
                call = load_call(path)
                prepared = prepare(call, not_before=datetime.now().astimezone())
                await start_call(client, prepared, settings.task_queue)
                log.info("call loaded", call_id=call.id, rehearsal_shift_days=prepared.shift_days)
            print(f"Temporal: {address}   Web UI: http://127.0.0.1:{ui_port}   records: {settings.database_url}")
            print(f"Notices: by e-mail to {settings.smtp_url}" + (f", read them in {sink.directory}/new" if sink else ""))
            print("Worker running; Ctrl-C stops the stack.")
            await asyncio.Event().wait()
    finally:
        server.terminate()
        server.wait(timeout=30)
        if sink is not None:
            sink.stop()
