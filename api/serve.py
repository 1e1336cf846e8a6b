"""Serving the API with uvicorn at GRANTFLOW_HTTP_ADDRESS (127.0.0.1:8080 by default)."""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Iterator, Sequence

import uvicorn
from temporalio.client import Client

from api.app import create_app
from client.stack import Context
from client.supervisor import Component, StackError
from infra.settings import Settings

DEFAULT_ADDRESS = "127.0.0.1:8080"


def address() -> tuple[str, int]:
    """GRANTFLOW_HTTP_ADDRESS as (host, port)."""
    text = os.environ.get("GRANTFLOW_HTTP_ADDRESS", DEFAULT_ADDRESS)
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit():
        raise ValueError(f"GRANTFLOW_HTTP_ADDRESS must be HOST:PORT, not {text!r}")
    return host, int(port)


class QuietServer(uvicorn.Server):
    """uvicorn without its own signal handlers: inside `grantflow up` the stack's supervisor owns SIGINT and
    SIGTERM and stops the API in its order."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def server(settings: Settings, client: Client | None = None, quiet: bool = False) -> uvicorn.Server:
    host, port = address()
    config = uvicorn.Config(create_app(settings, client), host=host, port=port, log_level="warning",
                            access_log=False)
    return QuietServer(config) if quiet else uvicorn.Server(config)


class HttpApi(Component):
    """The HTTP API as a part of `grantflow up`: served beside the worker on the stack's Temporal client."""

    name = "HTTP API"

    def __init__(self, context: Context) -> None:
        self.context = context
        self.host, self.port = address()
        self.server: uvicorn.Server | None = None
        self.task: asyncio.Task[None] | None = None

    def ports(self) -> Sequence[int]:
        return (self.port,)

    async def start(self) -> None:
        self.server = server(self.context.settings, self.context.client, quiet=True)
        self.task = asyncio.create_task(self.server.serve())
        while not self.server.started:
            if self.task.done():
                await self.task
                raise StackError(f"the HTTP API did not start on {self.host}:{self.port}")
            await asyncio.sleep(0.05)
        print(f"HTTP API: http://{self.host}:{self.port}  (OpenAPI at /openapi.json)", flush=True)

    async def ended(self) -> None:
        if self.task is not None:
            await self.task

    async def stop(self) -> None:
        if self.server is not None:
            self.server.should_exit = True
        if self.task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.wait_for(self.task, timeout=10)
