"""Temporal client connection with grantflow's data converter (pydantic, so call definitions travel as data), TLS
and API key from the settings, the tracing interceptor when traces are on, and the search attributes the workflows
use."""

from __future__ import annotations

import dataclasses
import functools
from typing import Any

from pydantic import TypeAdapter
from temporalio.api.common.v1 import Payload
from temporalio.api.enums.v1 import IndexedValueType
from temporalio.client import Client
from temporalio.contrib.pydantic import PydanticJSONPlainPayloadConverter
from temporalio.converter import (
    CompositePayloadConverter,
    DataConverter,
    DefaultPayloadConverter,
    ExternalStorage,
    JSONPlainPayloadConverter,
)
from temporalio.service import TLSConfig

from infra import tracing
from infra.runtime import runtime
from infra.settings import TemporalAccess

SEARCH_ATTRIBUTES: dict[str, IndexedValueType.ValueType] = {
    "CallId": IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,  # the call a workflow belongs to: its workflows by query
}


_ADAPTERS = functools.lru_cache(maxsize=1024)(TypeAdapter)


class _SharedAdapterJSON(PydanticJSONPlainPayloadConverter):
    """pydantic JSON whose type adapters are shared by every converter instance. The worker makes a converter per
    workflow run, and the library's cache is per instance, so every application start and every replay used to
    rebuild the adapter of its input (pydantic schema generation, ~15 % of a start's CPU)."""

    def from_payload(self, payload: Payload, type_hint: type | None = None) -> Any:
        try:
            adapter = _ADAPTERS(type_hint if type_hint is not None else Any)
        except TypeError:  # an unhashable hint, or one pydantic cannot adapt: the library's path says which
            return super().from_payload(payload, type_hint)
        return adapter.validate_json(payload.data)


_ENCODINGS = tuple(_SharedAdapterJSON() if isinstance(c, JSONPlainPayloadConverter) else c
                   for c in DefaultPayloadConverter.default_encoding_payload_converters)


class PayloadConverter(CompositePayloadConverter):
    """The SDK's default encodings, with JSON through pydantic (shared adapters). The encodings are shared too: the
    SDK builds a converter each time it binds a command's storage context, several times per workflow task."""

    def __init__(self) -> None:
        super().__init__(*_ENCODINGS)


DATA_CONVERTER = DataConverter(payload_converter_class=PayloadConverter)


def data_converter(storage: ExternalStorage | None) -> DataConverter:
    """grantflow's converter, with payloads over the storage's threshold kept outside the history (records.payloads)."""
    return dataclasses.replace(DATA_CONVERTER, external_storage=storage) if storage is not None else DATA_CONVERTER


def tls_config(access: TemporalAccess) -> bool | TLSConfig:
    """The SDK's TLS setting: off, the system's roots, or the configured CA and client certificate (files read now)."""
    if not access.tls:
        return False
    if access.client_cert is None and access.server_ca is None and access.server_name is None:
        return True
    return TLSConfig(
        server_root_ca_cert=access.server_ca.read_bytes() if access.server_ca else None,
        client_cert=access.client_cert.read_bytes() if access.client_cert else None,
        client_private_key=access.client_key.read_bytes() if access.client_key else None,
        domain=access.server_name,
    )


async def connect(address: str, namespace: str = "default", access: TemporalAccess | None = None,
                  storage: ExternalStorage | None = None) -> Client:
    """A client of the server at `address`; `storage` (records.payloads) keeps large payloads out of the histories:
    every worker and every reader of those histories needs it."""
    access = access or TemporalAccess()
    return await Client.connect(address, namespace=namespace, data_converter=data_converter(storage),
                                tls=tls_config(access), api_key=access.api_key, runtime=runtime(),
                                interceptors=tracing.interceptors())
