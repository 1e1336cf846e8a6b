"""Serving the API with uvicorn at GRANTFLOW_HTTP_ADDRESS (127.0.0.1:8080 by default)."""

from __future__ import annotations

import os

import uvicorn
from temporalio.client import Client

from api.app import create_app
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
