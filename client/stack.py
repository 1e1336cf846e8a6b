"""The embedded stack behind `grantflow up` (dev server, mail sink, connection, worker, calls) and `grantflow worker`,
as ordered lists of supervised components. A new part of the stack is a `Component` and one line in `up_components`."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from wsgiref.simple_server import WSGIServer

import structlog
from temporalio.client import Client
from temporalio.worker import Worker

from activities.notices import postman_for
from client.calls import prepare, start_call
from client.devserver import DevServer
from client.mailsink import MailSink
from client.supervisor import Component, StackError, supervise
from client.tokens import secret_file
from infra import metrics
from infra.logs import configure
from infra.reachability import watch
from infra.runtime import runtime, serve_sdk_metrics
from infra.settings import Settings, TemporalAccess
from infra.temporal import connect
from models.call import load_call
from records.engine import connect as connect_records
from records.engine import make_engine
from records.payloads import payload_storage
from worker import build_worker

log = structlog.get_logger("grantflow.stack")
GRACEFUL = timedelta(seconds=5)  # running activities finish within this on stop, or are handed back to the server


@dataclass
class Context:
    """What the components share: the settings, the server's address, and the client once connected."""

    settings: Settings
    address: str
    access: TemporalAccess = field(default_factory=TemporalAccess)  # TLS and API key of a cluster; none embedded
    connected: list[Client] = field(default_factory=list)

    @property
    def client(self) -> Client:
        if not self.connected:
            raise StackError("no Temporal client yet: list Connection before the components that use it")
        return self.connected[0]


class Connection(Component):
    """A client of the server, and one log line when the server stops answering and one when it is back."""

    name = "Temporal connection"

    def __init__(self, context: Context, within: timedelta = timedelta(seconds=30)) -> None:
        self.context, self.within = context, within
        self.watching: asyncio.Task[None] | None = None

    async def start(self) -> None:
        give_up = asyncio.get_running_loop().time() + self.within.total_seconds()
        storage = payload_storage(connect_records(self.context.settings.database_url))  # large payloads (README)
        while not self.context.connected:
            try:
                self.context.connected.append(await connect(self.context.address, self.context.settings.namespace,
                                                            self.context.access, storage))
            except RuntimeError as exc:
                if asyncio.get_running_loop().time() > give_up:
                    raise StackError(f"Temporal at {self.context.address} did not answer within "
                                     f"{self.within.total_seconds():.0f} s: {exc}") from None
                await asyncio.sleep(0.5)
        self.watching = asyncio.create_task(watch(self.context.client, self.context.address))

    async def stop(self) -> None:
        if self.watching is not None:
            self.watching.cancel()
        self.context.connected.clear()


class Metrics(Component):
    """Prometheus endpoints, each when its setting asks for it: grantflow's counters at GRANTFLOW_METRICS_ADDRESS,
    the Temporal SDK's metrics at GRANTFLOW_SDK_METRICS_ADDRESS (by the runtime the connection is made with, so this
    comes before the connection)."""

    name = "metrics"

    def __init__(self, context: Context) -> None:
        self.telemetry = context.settings.telemetry
        self.server: WSGIServer | None = None

    def ports(self) -> Sequence[int]:
        return [a[1] for a in (self.telemetry.metrics_address, self.telemetry.sdk_metrics_address) if a is not None]

    async def start(self) -> None:
        sdk, own = self.telemetry.sdk_metrics_address, self.telemetry.metrics_address
        if sdk is not None:
            serve_sdk_metrics(sdk)
            try:
                runtime()
            except ValueError as exc:  # the core's exporter could not bind
                raise StackError(f"GRANTFLOW_SDK_METRICS_ADDRESS {sdk[0]}:{sdk[1]}: {exc}") from None
            print(f"Temporal SDK metrics: http://{sdk[0]}:{sdk[1]}/metrics", flush=True)
        if own is not None:
            self.server = metrics.serve(own)
            print(f"grantflow metrics: http://{own[0]}:{own[1]}/metrics", flush=True)

    async def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None


class LocalMail(Component):
    """Without GRANTFLOW_SMTP_URL: an SMTP sink on 127.0.0.1 writing to `var/mail`, where notices are read."""

    name = "mail sink"

    def __init__(self, context: Context) -> None:
        self.context = context
        self.sink: MailSink | None = None

    async def start(self) -> None:
        if not self.context.settings.smtp_url:
            self.sink = MailSink(self.context.settings.var_dir / "mail")
            self.context.settings = replace(self.context.settings, smtp_url=self.sink.url)

    async def stop(self) -> None:
        if self.sink is not None:
            self.sink.stop()


class TemporalWorker(Component):
    """The worker, and with an SMTP URL the postman that delivers its notices. On stop the worker polls no more, lets
    running activities finish for `GRACEFUL`, then hands them back; then the postman stops."""

    name = "worker"

    def __init__(self, context: Context) -> None:
        self.context = context
        self.worker: Worker | None = None
        self.running: asyncio.Task[None] | None = None
        self.postman = AsyncExitStack()

    async def start(self) -> None:
        s = self.context.settings
        engine = make_engine(s.database_url, migrate=True)  # the worker brings the records database to head
        postman = postman_for(engine, s)
        if postman is not None:
            await self.postman.enter_async_context(postman.running())
        self.worker = build_worker(self.context.client, s.task_queue, engine, postman,
                                   workflow_cache=s.workflow_cache, graceful_shutdown=GRACEFUL)
        self.running = asyncio.create_task(self.worker.run())

    async def ended(self) -> None:
        assert self.running is not None
        await asyncio.shield(self.running)  # the supervisor cancels this wait, never the worker itself

    async def stop(self) -> None:
        if self.worker is not None and self.running is not None:
            if not self.running.done():
                await self.worker.shutdown()
            await asyncio.gather(self.running, return_exceptions=True)
        self.worker = self.running = None
        await self.postman.aclose()


class Calls(Component):
    """Starts a call workflow for every file in `directory`; a call whose first window has passed is a rehearsal,
    moved by whole weeks so that the window is open now."""

    name = "calls"

    def __init__(self, context: Context, directory: Path) -> None:
        self.context, self.directory = context, directory

    async def start(self) -> None:
        for path in sorted(self.directory.glob("*.yaml")):
            call = load_call(path)
            prepared = prepare(call, open_at=datetime.now().astimezone())
            await start_call(self.context.client, prepared, self.context.settings.task_queue)
            log.info("call loaded", call_id=call.id, rehearsal_shift_days=prepared.shift_days)


def up_components(context: Context, calls_dir: Path, port: int, ui_port: int) -> Sequence[Component]:
    return [
        DevServer(context.settings.var_dir, port, ui_port),
        Metrics(context),
        LocalMail(context),
        Connection(context),
        TemporalWorker(context),
        Calls(context, calls_dir),
    ]


async def run_stack(settings: Settings, calls_dir: Path, port: int, ui_port: int,
                    extra: Callable[[Context], Sequence[Component]] | None = None) -> None:
    """Run the stack until stopped; `extra` gives the components of the layers above (the HTTP API), started last
    and stopped first. The operator secret the command line's --operator proves is made here, on this machine."""
    configure(settings.log_format)
    settings.var_dir.mkdir(parents=True, exist_ok=True)
    secret_file(settings.var_dir / "operator.secret")
    context = Context(settings, f"127.0.0.1:{port}")

    def ready() -> None:
        print(f"Temporal: {context.address}   Web UI: http://127.0.0.1:{ui_port}   records: {settings.database_url}")
        print(f"Notices: by e-mail to {context.settings.smtp_url}"
              + (f", read them in {settings.var_dir / 'mail'}/new" if not settings.smtp_url else ""))
        print("Worker running; Ctrl-C stops the stack.", flush=True)
    await supervise([*up_components(context, calls_dir, port, ui_port), *(extra(context) if extra else ())], ready)


async def run_worker(settings: Settings) -> None:
    """A worker for an existing server (`grantflow worker`), stopped as the stack is."""
    configure(settings.log_format)
    context = Context(settings, settings.temporal_address, settings.temporal_access)

    def ready() -> None:
        print(f"Worker running on task queue {settings.task_queue} of {context.address}; Ctrl-C stops it.", flush=True)
    await supervise([Metrics(context), Connection(context), TemporalWorker(context)], ready)
