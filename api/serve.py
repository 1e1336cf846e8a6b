"""Serving the API with uvicorn at GRANTFLOW_HTTP_ADDRESS (127.0.0.1:8080 by default)."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Sequence

import uvicorn
from temporalio.client import Client

from api.app import create_app
from client.stack import Context
from client.supervisor import Component, StackError
from infra.settings import Settings

DEFAULT_ADDRESS = "127.0.0.1:8080"


def server(settings: Settings, client: Client | None = None) -> uvicorn.Server:
    address = os.environ.get("GRANTFLOW_HTTP_ADDRESS", DEFAULT_ADDRESS)
    host, _, port = address.rpartition(":")
    if not host or not port.isdigit():
        raise ValueError(f"GRANTFLOW_HTTP_ADDRESS must be HOST:PORT, not {address!r}")
    config = uvicorn.Config(create_app(settings, client), host=host, port=int(port), log_level="warning",
                            access_log=False)
    return uvicorn.Server(config)


class HttpApi(Component):
    """The HTTP API as a part of `grantflow up`: served beside the worker on the stack's Temporal client."""

    name = "HTTP API"

    def __init__(self, context: Context) -> None:
        self.context = context
        self.server = server(context.settings)
        self.task: asyncio.Task[None] | None = None

    def ports(self) -> Sequence[int]:
        return (self.server.config.port,)

    async def start(self) -> None:
        self.server = server(self.context.settings, self.context.client)
        self.task = asyncio.create_task(self.server.serve())
        while not self.server.started:
            if self.task.done():
                await self.task
                raise StackError(f"the HTTP API did not start on {self.server.config.host}:{self.server.config.port}")
            await asyncio.sleep(0.05)
        print(f"HTTP API: http://{self.server.config.host}:{self.server.config.port}  (OpenAPI at /openapi.json)",
              flush=True)

    async def ended(self) -> None:
        if self.task is not None:
            await self.task

    async def stop(self) -> None:
        self.server.should_exit = True
        if self.task is not None:
            await asyncio.wait_for(self.task, timeout=10)
