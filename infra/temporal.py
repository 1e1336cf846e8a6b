"""Temporal client connection with grantflow's data converter (pydantic, so call definitions travel as data)."""

from __future__ import annotations

import functools
from typing import Any

from pydantic import TypeAdapter
from temporalio.api.common.v1 import Payload
from temporalio.client import Client
from temporalio.contrib.pydantic import PydanticJSONPlainPayloadConverter
from temporalio.converter import (
    CompositePayloadConverter,
    DataConverter,
    DefaultPayloadConverter,
    JSONPlainPayloadConverter,
)

from infra.runtime import runtime

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


class PayloadConverter(CompositePayloadConverter):
    """The SDK's default encodings, with JSON through pydantic (shared adapters)."""

    def __init__(self) -> None:
        json = _SharedAdapterJSON()
        super().__init__(*(json if isinstance(c, JSONPlainPayloadConverter) else c
                           for c in DefaultPayloadConverter.default_encoding_payload_converters))


DATA_CONVERTER = DataConverter(payload_converter_class=PayloadConverter)


async def connect(address: str, namespace: str = "default") -> Client:
    return await Client.connect(address, namespace=namespace, data_converter=DATA_CONVERTER, runtime=runtime())
