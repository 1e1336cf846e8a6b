"""`grantflow cluster search-attributes` registers the workflows' search attributes on a real dev server, once."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest, ListSearchAttributesRequest
from temporalio.testing import WorkflowEnvironment
from typer.testing import CliRunner

from cli import app
from infra.settings import binary
from infra.temporal import SEARCH_ATTRIBUTES, connect

OTHER = "clashing"


@pytest.fixture(scope="module")
def address() -> Iterator[str]:
    """A dev server with a second namespace, where CallId was registered by hand with another type."""
    async def start() -> WorkflowEnvironment:
        env = await WorkflowEnvironment.start_local(
            dev_server_existing_path=binary("temporal"), dev_server_log_level="error", ui=False,
            dev_server_extra_args=["--namespace", OTHER])
        await env.client.operator_service.add_search_attributes(AddSearchAttributesRequest(
            namespace=OTHER, search_attributes={"CallId": IndexedValueType.INDEXED_VALUE_TYPE_TEXT}))
        return env
    env = asyncio.run(start())
    yield env.client.service_client.config.target_host
    asyncio.run(env.shutdown())


async def _custom(address: str, namespace: str) -> dict[str, int]:
    client = await connect(address, namespace)
    found = await client.operator_service.list_search_attributes(ListSearchAttributesRequest(namespace=namespace))
    return dict(found.custom_attributes)


def test_registers_the_missing_attributes_then_finds_them_there(address: str) -> None:
    assert "CallId" not in asyncio.run(_custom(address, "default"))
    env = {"GRANTFLOW_TEMPORAL_ADDRESS": address, "GRANTFLOW_NAMESPACE": "default"}
    first = CliRunner().invoke(app, ["cluster", "search-attributes"], env=env)
    assert first.exit_code == 0, first.output
    assert first.output.splitlines() == ["CallId (Keyword): registered"]
    assert {n: t for n, t in asyncio.run(_custom(address, "default")).items() if n in SEARCH_ATTRIBUTES} == SEARCH_ATTRIBUTES
    again = CliRunner().invoke(app, ["cluster", "search-attributes"], env=env)
    assert again.exit_code == 0 and again.output.splitlines() == ["CallId (Keyword): already registered"]


def test_an_attribute_registered_with_another_type_is_named_and_left_alone(address: str) -> None:
    result = CliRunner().invoke(app, ["cluster", "search-attributes"],
                               env={"GRANTFLOW_TEMPORAL_ADDRESS": address, "GRANTFLOW_NAMESPACE": OTHER})
    assert result.exit_code == 1
    assert result.output.strip() == f"error: search attribute CallId exists in namespace {OTHER} as Text; grantflow needs Keyword"
    assert asyncio.run(_custom(address, OTHER))["CallId"] == IndexedValueType.INDEXED_VALUE_TYPE_TEXT
